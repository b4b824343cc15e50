// C shim: exposes libpq (libpq-fe.h, Debian libpq-dev), PostgreSQL's own client library, to Swift. No logic here.
#ifndef STRATA_CLIBPQ_SHIM_H
#define STRATA_CLIBPQ_SHIM_H
#include <libpq-fe.h>
#endif
