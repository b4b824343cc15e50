// C shim: exposes OpenBLAS's cblas and LAPACKE to Swift. No logic here.
// cblas.h comes from libopenblas-dev (/usr/include/x86_64-linux-gnu/openblas-pthread/,
// found through pkg-config `openblas`); lapacke.h from liblapacke-dev (/usr/include).
// LAPACKE resolves into the same libopenblas.so, so openblas_set_num_threads governs both.
#ifndef STRATA_CBLAS_SHIM_H
#define STRATA_CBLAS_SHIM_H
#include <cblas.h>
#include <lapacke.h>
#endif
