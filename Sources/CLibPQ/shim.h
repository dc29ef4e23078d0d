#ifndef RECON_CLIBPQ_SHIM_H
#define RECON_CLIBPQ_SHIM_H
// Debian keeps libpq-fe.h in /usr/include/postgresql; pkg-config supplies that path.
#include <libpq-fe.h>
#include <poll.h>
#endif
