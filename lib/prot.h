/* prot.h -- buffered, layered protocol streams.
 *
 * A protstream is one duplex connection (a socket, or a pair of fds such
 * as stdin/stdout) with an input buffer and an output buffer.  Beneath the
 * buffers sits a stack of transport layers: the bottom layer reads and
 * writes the file descriptors; TLS (prot_tls.c) and deflate
 * (prot_deflate.c) are layers pushed on top at run time (STARTTLS,
 * COMPRESS), in either order.
 *
 * Reads are bounded by a timeout (prot_settimeout); any pending output is
 * flushed before the stream blocks waiting for input, so a server never
 * waits on a client that is waiting on it.  After an error or EOF every
 * read returns EOF and prot_error() says why ("timeout", "EOF", ...).
 */
#ifndef LIB_PROT_H
#define LIB_PROT_H

#include <stdarg.h>
#include <stddef.h>
#include <sys/types.h>

#include "lib/buf.h"

struct protstream;

/* A transport layer.  read/write return bytes moved, 0 on EOF (read only),
 * or -1 on error; they may block.  `pending` says how many input bytes the
 * layer holds already decoded (so poll() on the fd would not see them). */
struct prot_layer_ops {
    const char *name;
    ssize_t (*read)(void *ctx, char *buf, size_t len);
    ssize_t (*write)(void *ctx, const char *buf, size_t len);
    int (*flush)(void *ctx);                 /* may be NULL */
    size_t (*pending)(void *ctx);            /* may be NULL */
    void (*free)(void *ctx);
};

/* The layer below, for a layer's own read/write calls. */
struct prot_lower {
    struct protstream *s;
    int depth;  /* index of the layer below in the stack; -1 = the fds */
};
ssize_t prot_lower_read(const struct prot_lower *lower, char *buf, size_t len);
ssize_t prot_lower_write(const struct prot_lower *lower, const char *buf, size_t len);
int prot_lower_flush(const struct prot_lower *lower);

/* A new stream over `rfd` (input) and `wfd` (output); they may be equal. */
struct protstream *prot_new(int rfd, int wfd);
/* Flush and free the stream (the fds are not closed); sets *sp to NULL. */
void prot_free(struct protstream **sp);

/* Push a layer on top of the stack.  `ctx_for` is called with the handle of
 * the layer below and returns the new layer's context (or NULL on failure,
 * making prot_push_layer return -1).  Buffered unread input is discarded
 * unless keep_input is set: after STARTTLS, plaintext pipelined after the
 * command must not be read as if it had been encrypted. */
int prot_push_layer(struct protstream *s, const struct prot_layer_ops *ops,
                    void *(*ctx_for)(const struct prot_lower *lower, void *arg),
                    void *arg);
/* Is a layer of this name on the stack? */
int prot_has_layer(const struct protstream *s, const char *name);

/* Seconds to wait for input before failing with "timeout"; 0 = forever. */
void prot_settimeout(struct protstream *s, int seconds);

/* --- input --- */
int prot_getc(struct protstream *s);                 /* byte or EOF */
void prot_ungetc(int c, struct protstream *s);       /* one byte back */
/* Read up to len bytes (at least 1 unless EOF); returns 0 on EOF/error. */
size_t prot_read(struct protstream *s, char *buf, size_t len);
/* Read a line (including LF) of at most size-1 bytes; NULL on EOF. */
char *prot_fgets(char *buf, size_t size, struct protstream *s);
/* Bytes of input available without blocking (buffered or in a layer). */
size_t prot_input_pending(struct protstream *s);
/* Wait up to `timeout_ms` for input (-1 forever): 1 ready, 0 timed out,
 * -1 error.  Used by IDLE to wake up on client input. */
int prot_wait_input(struct protstream *s, int timeout_ms);

/* --- output (buffered; prot_flush sends) --- */
int prot_write(struct protstream *s, const char *buf, size_t len);
int prot_putc(int c, struct protstream *s);
int prot_puts(struct protstream *s, const char *str);
int prot_printf(struct protstream *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int prot_vprintf(struct protstream *s, const char *fmt, va_list ap);
/* Send buffered output through the layers and the fd; -1 on error. */
int prot_flush(struct protstream *s);

/* --- state --- */
/* NULL while the stream is healthy, else why it failed. */
const char *prot_error(const struct protstream *s);
int prot_eof(const struct protstream *s);
int prot_rfd(const struct protstream *s);
/* Count of bytes read from / written to the application side. */
unsigned long long prot_bytes_in(const struct protstream *s);
unsigned long long prot_bytes_out(const struct protstream *s);

#endif
