/* prot.c -- buffered, layered protocol streams; see prot.h. */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/prot.h"
#include "lib/xmalloc.h"

#define PROT_BUFSIZE 16384
#define PROT_MAXLAYERS 4

struct prot_layer {
    const struct prot_layer_ops *ops;
    void *ctx;
};

struct protstream {
    int rfd, wfd;
    int wsock;              /* wfd is a socket: send() with MSG_NOSIGNAL */
    int timeout;            /* seconds; 0 = wait forever */

    char *ibuf;
    size_t ipos, iend;
    int unget;              /* a pushed-back byte, or -1 */

    char *obuf;
    size_t olen;
    int dirty;              /* bytes went to the layers since the last flush */

    struct prot_layer layers[PROT_MAXLAYERS];
    int nlayers;

    int eof;
    const char *error;
    char errbuf[256];

    unsigned long long bytes_in, bytes_out;
};

struct protstream *prot_new(int rfd, int wfd)
{
    struct protstream *s = xzmalloc(sizeof(*s));
    struct stat st;

    s->rfd = rfd;
    s->wfd = wfd;
    s->wsock = fstat(wfd, &st) == 0 && S_ISSOCK(st.st_mode);
    s->ibuf = xmalloc(PROT_BUFSIZE);
    s->obuf = xmalloc(PROT_BUFSIZE);
    s->unget = -1;
    return s;
}

void prot_free(struct protstream **sp)
{
    struct protstream *s = *sp;
    if (!s) return;
    prot_flush(s);
    for (int i = s->nlayers - 1; i >= 0; i--)
        s->layers[i].ops->free(s->layers[i].ctx);
    free(s->ibuf);
    free(s->obuf);
    free(s);
    *sp = NULL;
}

void prot_seterror(struct protstream *s, const char *fmt, ...)
{
    va_list ap;
    if (s->error) return;
    va_start(ap, fmt);
    vsnprintf(s->errbuf, sizeof(s->errbuf), fmt, ap);
    va_end(ap);
    s->error = s->errbuf;
}

const char *prot_error(const struct protstream *s)
{
    if (s->error) return s->error;
    return s->eof ? "EOF" : NULL;
}

int prot_eof(const struct protstream *s) { return s->eof || s->error; }
int prot_rfd(const struct protstream *s) { return s->rfd; }
int prot_wfd(const struct protstream *s) { return s->wfd; }
unsigned long long prot_bytes_in(const struct protstream *s) { return s->bytes_in; }
unsigned long long prot_bytes_out(const struct protstream *s) { return s->bytes_out; }

void prot_settimeout(struct protstream *s, int seconds)
{
    s->timeout = seconds > 0 ? seconds : 0;
}

/* --- the bottom of the stack: the file descriptors --- */

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait for `events` on fd within the stream's timeout: 1 ready, -1 failed
 * (error recorded).  Signals restart the wait with the time left. */
static int fd_wait(struct protstream *s, int fd, short events)
{
    long long deadline = s->timeout ? now_ms() + s->timeout * 1000LL : 0;
    for (;;) {
        struct pollfd pfd = { .fd = fd, .events = events };
        int ms = -1;
        if (deadline) {
            long long left = deadline - now_ms();
            ms = left > 0 ? (int)left : 0;
        }
        int r = poll(&pfd, 1, ms);
        if (r > 0) return 1;
        if (r == 0) {
            prot_seterror(s, "timeout");
            return -1;
        }
        if (errno != EINTR) {
            prot_seterror(s, "poll: %s", strerror(errno));
            return -1;
        }
    }
}

static ssize_t fd_read(struct protstream *s, char *buf, size_t len)
{
    for (;;) {
        if (s->timeout && fd_wait(s, s->rfd, POLLIN) < 0) return -1;
        ssize_t n = read(s->rfd, buf, len);
        if (n >= 0) return n;
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            if (fd_wait(s, s->rfd, POLLIN) < 0) return -1;
            continue;
        }
        prot_seterror(s, "read: %s", strerror(errno));
        return -1;
    }
}

/* write() to a pipe or file without letting SIGPIPE kill the process: the
 * signal is blocked for the call and a SIGPIPE it raised is consumed. */
static ssize_t write_nosigpipe(int fd, const char *buf, size_t len)
{
    sigset_t pipeset, oldset, pending;
    int was_pending;

    sigemptyset(&pipeset);
    sigaddset(&pipeset, SIGPIPE);
    sigpending(&pending);
    was_pending = sigismember(&pending, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipeset, &oldset);

    ssize_t n = write(fd, buf, len);
    int saved = errno;

    if (n < 0 && errno == EPIPE && !was_pending) {
        static const struct timespec zero = { 0, 0 };
        while (sigtimedwait(&pipeset, NULL, &zero) < 0 && errno == EINTR)
            ;
    }
    pthread_sigmask(SIG_SETMASK, &oldset, NULL);
    errno = saved;
    return n;
}

static ssize_t fd_write(struct protstream *s, const char *buf, size_t len)
{
    size_t done = 0;
    while (done < len) {
        ssize_t n;
        if (s->wsock)
            n = send(s->wfd, buf + done, len - done, MSG_NOSIGNAL);
        else
            n = write_nosigpipe(s->wfd, buf + done, len - done);
        if (n > 0) {
            done += n;
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            if (fd_wait(s, s->wfd, POLLOUT) < 0) return -1;
            continue;
        }
        prot_seterror(s, "write: %s", n < 0 ? strerror(errno) : "no progress");
        return -1;
    }
    return (ssize_t)len;
}

/* --- the layer stack --- */

static ssize_t stack_read(struct protstream *s, int depth, char *buf, size_t len)
{
    if (depth < 0) return fd_read(s, buf, len);
    const struct prot_layer *l = &s->layers[depth];
    ssize_t n = l->ops->read(l->ctx, buf, len);
    if (n < 0) prot_seterror(s, "%s: read failed", l->ops->name);
    return n;
}

static ssize_t stack_write(struct protstream *s, int depth, const char *buf,
                           size_t len)
{
    if (depth < 0) return fd_write(s, buf, len);
    const struct prot_layer *l = &s->layers[depth];
    ssize_t n = l->ops->write(l->ctx, buf, len);
    if (n < 0 || (size_t)n != len) {
        prot_seterror(s, "%s: write failed", l->ops->name);
        return -1;
    }
    return n;
}

static size_t stack_pending(const struct protstream *s, int depth)
{
    size_t n = 0;
    for (int i = depth; i >= 0; i--) {
        const struct prot_layer *l = &s->layers[i];
        if (l->ops->pending) n += l->ops->pending(l->ctx);
    }
    return n;
}

struct prot_lower prot_lower_top(struct protstream *s)
{
    struct prot_lower lower = { s, s->nlayers - 1 };
    return lower;
}

ssize_t prot_lower_read(const struct prot_lower *lower, char *buf, size_t len)
{
    if (lower->s->error) return -1;
    return stack_read(lower->s, lower->depth, buf, len);
}

ssize_t prot_lower_write(const struct prot_lower *lower, const char *buf,
                         size_t len)
{
    if (lower->s->error) return -1;
    return stack_write(lower->s, lower->depth, buf, len);
}

static int stack_flush(struct protstream *s, int depth)
{
    for (int i = depth; i >= 0; i--) {
        const struct prot_layer *l = &s->layers[i];
        if (l->ops->flush && l->ops->flush(l->ctx) < 0) {
            prot_seterror(s, "%s: flush failed", l->ops->name);
            return -1;
        }
    }
    return 0;
}

int prot_lower_flush(const struct prot_lower *lower)
{
    if (lower->s->error) return -1;
    return stack_flush(lower->s, lower->depth);
}

size_t prot_lower_pending(const struct prot_lower *lower)
{
    return stack_pending(lower->s, lower->depth);
}

int prot_push_layer(struct protstream *s, const struct prot_layer_ops *ops,
                    void *ctx)
{
    if (prot_flush(s) < 0 || s->nlayers == PROT_MAXLAYERS) {
        if (!s->error) prot_seterror(s, "too many layers");
        ops->free(ctx);
        return -1;
    }
    size_t dropped = (s->iend - s->ipos) + (s->unget >= 0);
    if (dropped)
        log_warning("discarding %zu bytes of input sent before %s started",
                    dropped, ops->name);
    s->ipos = s->iend = 0;
    s->unget = -1;
    s->layers[s->nlayers].ops = ops;
    s->layers[s->nlayers].ctx = ctx;
    s->nlayers++;
    return 0;
}

int prot_has_layer(const struct protstream *s, const struct prot_layer_ops *ops)
{
    return prot_layer_ctx(s, ops) != NULL;
}

void *prot_layer_ctx(const struct protstream *s, const struct prot_layer_ops *ops)
{
    for (int i = s->nlayers - 1; i >= 0; i--)
        if (s->layers[i].ops == ops) return s->layers[i].ctx;
    return NULL;
}

/* --- output --- */

/* Hand the output buffer to the top of the stack (no layer flush). */
static int send_output(struct protstream *s)
{
    if (!s->olen) return 0;
    ssize_t n = stack_write(s, s->nlayers - 1, s->obuf, s->olen);
    s->olen = 0;
    s->dirty = 1;
    return n < 0 ? -1 : 0;
}

int prot_flush(struct protstream *s)
{
    if (s->error) return -1;
    if (send_output(s) < 0) return -1;
    if (!s->dirty) return 0;
    s->dirty = 0;
    return stack_flush(s, s->nlayers - 1);
}

int prot_write(struct protstream *s, const char *buf, size_t len)
{
    if (s->error) return -1;
    s->bytes_out += len;
    while (len) {
        if (!s->olen && len >= PROT_BUFSIZE) {
            s->dirty = 1;
            return stack_write(s, s->nlayers - 1, buf, len) < 0 ? -1 : 0;
        }
        size_t n = PROT_BUFSIZE - s->olen;
        if (n > len) n = len;
        memcpy(s->obuf + s->olen, buf, n);
        s->olen += n;
        buf += n;
        len -= n;
        if (s->olen == PROT_BUFSIZE && send_output(s) < 0) return -1;
    }
    return 0;
}

int prot_putc(int c, struct protstream *s)
{
    if (s->error) return -1;
    s->obuf[s->olen++] = (char)c;
    s->bytes_out++;
    if (s->olen == PROT_BUFSIZE) return send_output(s);
    return 0;
}

int prot_puts(struct protstream *s, const char *str)
{
    return prot_write(s, str, strlen(str));
}

int prot_vprintf(struct protstream *s, const char *fmt, va_list ap)
{
    va_list ap2;
    if (s->error) return -1;

    size_t room = PROT_BUFSIZE - s->olen;
    va_copy(ap2, ap);
    int n = vsnprintf(s->obuf + s->olen, room, fmt, ap);
    if (n < 0) {
        va_end(ap2);
        log_panic("prot_printf: bad format \"%s\"", fmt);
    }
    if ((size_t)n < room) {
        va_end(ap2);
        s->olen += n;
        s->bytes_out += n;
        return 0;
    }
    char *tmp = xmalloc((size_t)n + 1);
    vsnprintf(tmp, (size_t)n + 1, fmt, ap2);
    va_end(ap2);
    int r = prot_write(s, tmp, n);
    free(tmp);
    return r;
}

int prot_printf(struct protstream *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = prot_vprintf(s, fmt, ap);
    va_end(ap);
    return r;
}

/* --- input --- */

/* Read from the top of the stack into `buf`, flushing output first so the
 * peer is never left waiting for our answer.  0 at EOF or error. */
static size_t read_top(struct protstream *s, char *buf, size_t len)
{
    if (s->error || s->eof) return 0;
    if ((s->olen || s->dirty) && prot_flush(s) < 0) return 0;
    ssize_t n = stack_read(s, s->nlayers - 1, buf, len);
    if (n <= 0) {
        if (n == 0) s->eof = 1;
        return 0;
    }
    s->bytes_in += n;
    return (size_t)n;
}

static int fill(struct protstream *s)
{
    size_t n = read_top(s, s->ibuf, PROT_BUFSIZE);
    s->ipos = 0;
    s->iend = n;
    return n > 0;
}

int prot_getc(struct protstream *s)
{
    if (s->error) return EOF;
    if (s->unget >= 0) {
        int c = s->unget;
        s->unget = -1;
        return c;
    }
    if (s->ipos == s->iend && !fill(s)) return EOF;
    return (unsigned char)s->ibuf[s->ipos++];
}

void prot_ungetc(int c, struct protstream *s)
{
    if (c == EOF) return;
    if (s->ipos > 0) {
        s->ibuf[--s->ipos] = (char)c;
    } else {
        if (s->unget >= 0) log_panic("prot_ungetc: no room to push back");
        s->unget = (unsigned char)c;
    }
}

size_t prot_read(struct protstream *s, char *buf, size_t len)
{
    size_t got = 0;
    if (!len || s->error) return 0;
    if (s->unget >= 0) {
        buf[got++] = (char)s->unget;
        s->unget = -1;
    }
    if (s->ipos < s->iend) {
        size_t n = s->iend - s->ipos;
        if (n > len - got) n = len - got;
        memcpy(buf + got, s->ibuf + s->ipos, n);
        s->ipos += n;
        return got + n;
    }
    if (got) return got;
    if (len >= PROT_BUFSIZE) return read_top(s, buf, len);
    if (!fill(s)) return 0;
    return prot_read(s, buf, len);
}

size_t prot_getline(struct protstream *s, char *buf, size_t size)
{
    size_t n = 0;
    if (size < 2 || s->error) return 0;
    while (n < size - 1) {
        if (s->unget < 0 && s->ipos < s->iend) {
            /* copy a run straight from the buffer */
            size_t avail = s->iend - s->ipos;
            if (avail > size - 1 - n) avail = size - 1 - n;
            const char *start = s->ibuf + s->ipos;
            const char *lf = memchr(start, '\n', avail);
            size_t take = lf ? (size_t)(lf - start) + 1 : avail;
            memcpy(buf + n, start, take);
            s->ipos += take;
            n += take;
            if (lf) break;
            continue;
        }
        int c = prot_getc(s);
        if (c == EOF) break;
        buf[n++] = (char)c;
        if (c == '\n') break;
    }
    buf[n] = '\0';
    return n;
}

char *prot_fgets(char *buf, size_t size, struct protstream *s)
{
    return prot_getline(s, buf, size) ? buf : NULL;
}

size_t prot_input_pending(struct protstream *s)
{
    if (s->error) return 0;
    return (s->unget >= 0) + (s->iend - s->ipos)
           + stack_pending(s, s->nlayers - 1);
}

int prot_wait_input(struct protstream *s, int timeout_ms)
{
    if (s->error) return -1;
    if (prot_flush(s) < 0) return -1;
    if (s->eof || prot_input_pending(s)) return 1;

    struct pollfd pfd = { .fd = s->rfd, .events = POLLIN };
    int r = poll(&pfd, 1, timeout_ms);
    if (r > 0) return 1;
    if (r == 0 || errno == EINTR) return 0;
    prot_seterror(s, "poll: %s", strerror(errno));
    return -1;
}
