/* prot_deflate.c -- the deflate layer of prot streams; see prot_deflate.h. */
#include "config.h"

#include <stdlib.h>
#include <zlib.h>

#include "lib/prot_deflate.h"
#include "lib/xmalloc.h"

#define DEFLATE_BUFSIZE 16384

struct deflate_layer {
    struct prot_lower lower;
    z_stream zin, zout;
    int in_ended;       /* the peer ended its deflate stream */
    int in_full;        /* the last inflate filled its output: more may wait */
    unsigned char ibuf[DEFLATE_BUFSIZE];
    unsigned char obuf[DEFLATE_BUFSIZE];
};

static ssize_t deflate_read(void *ctx, char *buf, size_t len)
{
    struct deflate_layer *d = ctx;
    if (d->in_ended) return 0;

    d->zin.next_out = (unsigned char *)buf;
    d->zin.avail_out = len > UINT_MAX ? UINT_MAX : (unsigned)len;
    size_t want = d->zin.avail_out;
    for (;;) {
        if (!d->zin.avail_in && !d->in_full) {
            ssize_t n = prot_lower_read(&d->lower, (char *)d->ibuf,
                                        sizeof(d->ibuf));
            if (n <= 0) return n;
            d->zin.next_in = d->ibuf;
            d->zin.avail_in = (unsigned)n;
        }
        int r = inflate(&d->zin, Z_SYNC_FLUSH);
        size_t produced = want - d->zin.avail_out;
        d->in_full = d->zin.avail_out == 0;
        if (r == Z_STREAM_END) {
            d->in_ended = 1;
            d->in_full = 0;
            return (ssize_t)produced;
        }
        if (r == Z_BUF_ERROR && !produced && d->zin.avail_in) r = Z_DATA_ERROR;
        if (r != Z_OK && r != Z_BUF_ERROR) {
            prot_seterror(d->lower.s, "decompression failed: %s",
                          d->zin.msg ? d->zin.msg : "bad data");
            return -1;
        }
        if (produced) return (ssize_t)produced;
        d->in_full = 0;
    }
}

/* Run the compressor with `flush` and pass what it produces below. */
static int deflate_run(struct deflate_layer *d, int flush)
{
    do {
        d->zout.next_out = d->obuf;
        d->zout.avail_out = sizeof(d->obuf);
        int r = deflate(&d->zout, flush);
        if (r != Z_OK && r != Z_BUF_ERROR) {
            prot_seterror(d->lower.s, "compression failed: %s",
                          d->zout.msg ? d->zout.msg : "internal error");
            return -1;
        }
        size_t have = sizeof(d->obuf) - d->zout.avail_out;
        if (have && prot_lower_write(&d->lower, (char *)d->obuf, have) < 0)
            return -1;
    } while (d->zout.avail_in || (flush != Z_NO_FLUSH && !d->zout.avail_out));
    return 0;
}

static ssize_t deflate_write(void *ctx, const char *buf, size_t len)
{
    struct deflate_layer *d = ctx;
    size_t done = 0;
    while (done < len) {
        size_t chunk = len - done > UINT_MAX ? UINT_MAX : len - done;
        d->zout.next_in = (unsigned char *)buf + done;
        d->zout.avail_in = (unsigned)chunk;
        if (deflate_run(d, Z_NO_FLUSH) < 0) return -1;
        done += chunk;
    }
    return (ssize_t)len;
}

static int deflate_flush(void *ctx)
{
    return deflate_run(ctx, Z_SYNC_FLUSH);
}

static size_t deflate_pending(void *ctx)
{
    struct deflate_layer *d = ctx;
    if (d->in_ended) return 0;
    return d->zin.avail_in + (size_t)d->in_full;
}

static void deflate_free(void *ctx)
{
    struct deflate_layer *d = ctx;
    deflateEnd(&d->zout);
    inflateEnd(&d->zin);
    free(d);
}

static const struct prot_layer_ops deflate_ops = {
    .name = "COMPRESS",
    .read = deflate_read,
    .write = deflate_write,
    .flush = deflate_flush,
    .pending = deflate_pending,
    .free = deflate_free,
};

int prot_compress_start(struct protstream *s, int level, struct buf *err)
{
    if (prot_has_layer(s, &deflate_ops)) {
        buf_printf(err, "compression is already active");
        return -1;
    }
    if (level < -1 || level > 9) level = Z_DEFAULT_COMPRESSION;

    struct deflate_layer *d = xzmalloc(sizeof(*d));
    if (deflateInit2(&d->zout, level, Z_DEFLATED, -15, 8,
                     Z_DEFAULT_STRATEGY) != Z_OK) {
        buf_printf(err, "cannot start compression: %s",
                   d->zout.msg ? d->zout.msg : "zlib initialisation failed");
        free(d);
        return -1;
    }
    if (inflateInit2(&d->zin, -15) != Z_OK) {
        buf_printf(err, "cannot start decompression: %s",
                   d->zin.msg ? d->zin.msg : "zlib initialisation failed");
        deflateEnd(&d->zout);
        free(d);
        return -1;
    }
    d->lower = prot_lower_top(s);
    if (prot_push_layer(s, &deflate_ops, d) < 0) {
        buf_printf(err, "cannot start compression: %s", prot_error(s));
        return -1;
    }
    return 0;
}

int prot_compress_active(const struct protstream *s)
{
    return prot_has_layer(s, &deflate_ops);
}
