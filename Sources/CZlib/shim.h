#ifndef RECON_CZLIB_SHIM_H
#define RECON_CZLIB_SHIM_H
#include <zlib.h>

// inflateInit2 and deflateInit2 are macros that pass ZLIB_VERSION and sizeof(z_stream),
// which Swift cannot call; these wrappers keep both on the C side where they are exact.
static inline int recon_zlib_inflate_init2(z_streamp strm, int windowBits) {
    return inflateInit2(strm, windowBits);
}
static inline int recon_zlib_deflate_init2(z_streamp strm, int level, int windowBits) {
    return deflateInit2(strm, level, Z_DEFLATED, windowBits, 8, Z_DEFAULT_STRATEGY);
}
#endif
