/* prot_deflate.h -- the deflate layer of prot streams (RFC 4978).
 *
 * COMPRESS=DEFLATE: raw deflate (no zlib header, windowBits -15) in both
 * directions.  Every prot_flush ends with a Z_SYNC_FLUSH, so the peer can
 * decode all that was sent so far; between flushes output is compressed
 * across writes.  The layer can go above or below TLS.
 */
#ifndef LIB_PROT_DEFLATE_H
#define LIB_PROT_DEFLATE_H

#include "lib/buf.h"
#include "lib/prot.h"

/* Flush pending output, then compress everything after it at `level`
 * (0-9, or -1 for zlib's default).  Returns 0, or -1 with the reason in
 * *err (e.g. compression already active). */
int prot_compress_start(struct protstream *s, int level, struct buf *err);
/* Is the deflate layer active on the stream? */
int prot_compress_active(const struct protstream *s);

#endif
