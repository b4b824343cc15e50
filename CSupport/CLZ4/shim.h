// C shim: exposes liblz4's block API (lz4.h, Debian liblz4-dev) to Swift: LZ4_RAW pages. No logic here.
#ifndef STRATA_CLZ4_SHIM_H
#define STRATA_CLZ4_SHIM_H
#include <lz4.h>
#endif
