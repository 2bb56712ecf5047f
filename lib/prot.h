/* prot.h -- buffered, layered protocol streams.
 *
 * A protstream is one duplex connection (a socket, or a pair of fds such
 * as stdin/stdout) with an input buffer and an output buffer.  Beneath the
 * buffers sits a stack of transport layers: the bottom of the stack reads
 * and writes the file descriptors; TLS (prot_tls.c) and deflate
 * (prot_deflate.c) are layers pushed on top at run time (STARTTLS,
 * COMPRESS), in either order.
 *
 * Promises:
 *   - reads are bounded by a timeout (prot_settimeout, error "timeout");
 *   - buffered output is flushed before the stream blocks waiting for
 *     input, so a server never waits on a client that is waiting on it;
 *   - writing to a peer that has gone away never raises SIGPIPE;
 *   - after an error every call is a cheap no-op: reads return EOF (0,
 *     NULL), writes return -1, and prot_error() says why ("timeout",
 *     "EOF", "write: Broken pipe", ...).  EOF on input alone does not
 *     stop output.
 */
#ifndef LIB_PROT_H
#define LIB_PROT_H

#include <stdarg.h>
#include <stddef.h>
#include <sys/types.h>

#include "lib/buf.h"

struct protstream;

/* A transport layer.  read returns bytes moved (at least 1), 0 on EOF or
 * -1 on error; write moves all `len` bytes or returns -1.  Both may block.
 * flush pushes out anything the layer holds back (the stream flushes the
 * layers from the top down, so a layer need not flush the one below).
 * pending says how many input bytes the layer holds already, which poll()
 * on the fd would not see.  On error a layer should call prot_seterror(). */
struct prot_layer_ops {
    const char *name;
    ssize_t (*read)(void *ctx, char *buf, size_t len);
    ssize_t (*write)(void *ctx, const char *buf, size_t len);
    int (*flush)(void *ctx);                 /* may be NULL */
    size_t (*pending)(void *ctx);            /* may be NULL */
    void (*free)(void *ctx);
};

/* A handle on the part of the stack below a layer. */
struct prot_lower {
    struct protstream *s;
    int depth;  /* index of the layer below in the stack; -1 = the fds */
};

/* The handle a layer about to be pushed uses to reach the current top. */
struct prot_lower prot_lower_top(struct protstream *s);
/* Read from / write all of `len` to the part of the stack below a layer;
 * same return conventions as prot_layer_ops. */
ssize_t prot_lower_read(const struct prot_lower *lower, char *buf, size_t len);
ssize_t prot_lower_write(const struct prot_lower *lower, const char *buf, size_t len);
/* Flush the layers below (a handshake inside a layer needs its flight to
 * reach the peer); 0 or -1. */
int prot_lower_flush(const struct prot_lower *lower);
/* Input the part of the stack below holds (0 when it is the fds). */
size_t prot_lower_pending(const struct prot_lower *lower);

/* A new stream over `rfd` (input) and `wfd` (output); they may be equal. */
struct protstream *prot_new(int rfd, int wfd);
/* Flush and free the stream and its layers (the fds are not closed);
 * sets *sp to NULL. */
void prot_free(struct protstream **sp);

/* Flush pending output, then push a layer owning `ctx` (freed with
 * ops->free, also when this fails).  Buffered unread input is discarded:
 * after STARTTLS or COMPRESS, bytes pipelined after the command must not
 * be read as if they had come through the new layer.  0, or -1 when the
 * stream has failed or the stack is full. */
int prot_push_layer(struct protstream *s, const struct prot_layer_ops *ops,
                    void *ctx);
/* Is a layer of these ops on the stack? */
int prot_has_layer(const struct protstream *s, const struct prot_layer_ops *ops);
/* The context of the topmost layer of these ops, or NULL. */
void *prot_layer_ctx(const struct protstream *s, const struct prot_layer_ops *ops);

/* Seconds to wait for input before failing with "timeout"; 0 = forever. */
void prot_settimeout(struct protstream *s, int seconds);

/* --- input --- */
int prot_getc(struct protstream *s);                 /* byte or EOF */
/* Push one byte back (only the byte just read; EOF is ignored). */
void prot_ungetc(int c, struct protstream *s);
/* Read up to len bytes (at least 1 unless EOF); returns 0 on EOF/error. */
size_t prot_read(struct protstream *s, char *buf, size_t len);
/* Read a line (including LF) of at most size-1 bytes; NULL on EOF. */
char *prot_fgets(char *buf, size_t size, struct protstream *s);
/* Like prot_fgets, but returns the number of bytes stored (a line may
 * hold NUL bytes); 0 on EOF. */
size_t prot_getline(struct protstream *s, char *buf, size_t size);
/* Bytes of input available without blocking (buffered or in a layer);
 * does not look at the fd. */
size_t prot_input_pending(struct protstream *s);
/* Flush output, then wait up to `timeout_ms` for input (-1 forever):
 * 1 ready (or EOF/error to be read), 0 timed out or interrupted by a
 * signal, -1 the stream has failed.  Used by IDLE. */
int prot_wait_input(struct protstream *s, int timeout_ms);

/* --- output (buffered; prot_flush sends) ---
 * Each returns 0, or -1 once the stream has failed.  A write at least as
 * large as the buffer, made while the buffer is empty, goes straight
 * through without being copied. */
int prot_write(struct protstream *s, const char *buf, size_t len);
int prot_putc(int c, struct protstream *s);
int prot_puts(struct protstream *s, const char *str);
int prot_printf(struct protstream *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int prot_vprintf(struct protstream *s, const char *fmt, va_list ap);
/* Send buffered output through the layers and the fd; -1 on error. */
int prot_flush(struct protstream *s);

/* --- state --- */
/* NULL while the stream is healthy, else why it failed ("EOF" after a
 * clean end of input). */
const char *prot_error(const struct protstream *s);
/* Record a failure (the first one wins); later calls become no-ops. */
void prot_seterror(struct protstream *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* True after end of input or an error. */
int prot_eof(const struct protstream *s);
int prot_rfd(const struct protstream *s);
int prot_wfd(const struct protstream *s);
/* Count of bytes read from / written to the application side. */
unsigned long long prot_bytes_in(const struct protstream *s);
unsigned long long prot_bytes_out(const struct protstream *s);

#endif
