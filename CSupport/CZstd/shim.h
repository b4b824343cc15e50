// C shim: exposes libzstd (zstd.h, Debian libzstd-dev) to Swift. No logic here.
#ifndef STRATA_CZSTD_SHIM_H
#define STRATA_CZSTD_SHIM_H
#include <zstd.h>
#endif
