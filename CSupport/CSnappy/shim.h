// C shim: exposes libsnappy's C API (snappy-c.h, Debian libsnappy-dev) to Swift. No logic here.
#ifndef STRATA_CSNAPPY_SHIM_H
#define STRATA_CSNAPPY_SHIM_H
#include <snappy-c.h>
#endif
