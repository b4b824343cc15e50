// C shim: exposes zlib (zlib.h, Debian zlib1g-dev) to Swift: GZIP pages and CRC-32. No logic here.
#ifndef STRATA_CZLIB_SHIM_H
#define STRATA_CZLIB_SHIM_H
#include <zlib.h>
#endif
