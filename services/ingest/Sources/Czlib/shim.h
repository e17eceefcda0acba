// zlib (Debian's zlib1g-dev), for bodies sent with Content-Encoding: gzip or deflate.
#ifndef ALERTRON_CZLIB_SHIM_H
#define ALERTRON_CZLIB_SHIM_H

#include <zlib.h>

/// inflateInit2 is a macro (it passes zlib's version and the stream's size), which Swift does not import.
static inline int alertron_inflate_init(z_streamp stream, int window_bits) {
    return inflateInit2(stream, window_bits);
}

#endif
