/* lmtp_spool.c -- reading an LMTP DATA body; see lmtpd.h.
 *
 * The body is read line by line (never past the final ".", so pipelined
 * commands after it stay in the stream) and written out already in the
 * form it will be stored in: trace headers first, CRLF line ends, no
 * dot-stuffing.  Small messages stay in memory; a big one spills to an
 * unlinked temporary file, so a 50 MB message costs no 50 MB of heap.
 * A refused message is still read to its end so the protocol stays in
 * step.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "imap/lmtpd/lmtpd.h"
#include "lib/log.h"
#include "lib/util.h"
#include "lib/xmalloc.h"

/* Above this many bytes a message goes to a temporary file. */
#define SPILL_SIZE (1024 * 1024)
/* Longest piece read at once; longer lines arrive in several pieces. */
#define PIECE_SIZE 8192
/* A Message-ID longer than this is not one we would match on. */
#define MSGID_MAX 998

struct spool {
    const struct lmtp_spool_opts *o;
    struct lmtp_msg *msg;
    int storing;            /* 0 once the message is refused */
    int failed;             /* the temporary file could not be written */
};

void lmtp_msg_init(struct lmtp_msg *msg)
{
    memset(msg, 0, sizeof(*msg));
    msg->fd = -1;
}

void lmtp_msg_fini(struct lmtp_msg *msg)
{
    buf_free(&msg->head);
    buf_free(&msg->data);
    if (msg->fd >= 0)
        close(msg->fd);
    free(msg->msgid);
    lmtp_msg_init(msg);
}

static int spill(struct spool *sp)
{
    struct lmtp_msg *msg = sp->msg;
    char *path = strconcat(sp->o->tmpdir ? sp->o->tmpdir : "/tmp",
                           "/lmtpXXXXXX", (char *)NULL);
    int fd = mkstemp(path);

    if (fd < 0) {
        log_error("lmtpd: cannot create a temporary file %s: %s", path,
                  strerror(errno));
        free(path);
        return -1;
    }
    unlink(path);
    free(path);
    if (retry_write(fd, msg->data.s, msg->data.len) < 0) {
        log_error("lmtpd: cannot write a temporary file: %s", strerror(errno));
        close(fd);
        return -1;
    }
    buf_reset(&msg->data);
    msg->fd = fd;
    return 0;
}

/* Append bytes to the stored message, spilling to a file when it grows
 * big; msg->data then serves as the file's write buffer. */
static void emit(struct spool *sp, const char *p, size_t n)
{
    struct lmtp_msg *msg = sp->msg;

    if (!sp->storing || !n)
        return;
    msg->size += n;
    if (sp->o->maxsize && msg->size > sp->o->maxsize) {
        msg->error = LMTP_TOOBIG;
        sp->storing = 0;
        return;
    }
    buf_appendmap(&msg->data, p, n);
    if (msg->fd < 0 && msg->data.len > SPILL_SIZE && spill(sp) < 0) {
        sp->failed = 1;
        sp->storing = 0;
        return;
    }
    if (msg->fd >= 0 && msg->data.len >= 65536) {
        if (retry_write(msg->fd, msg->data.s, msg->data.len) < 0) {
            log_error("lmtpd: cannot write a temporary file: %s",
                      strerror(errno));
            sp->failed = 1;
            sp->storing = 0;
        }
        buf_reset(&msg->data);
    }
}

static void refuse(struct spool *sp, enum lmtp_status why)
{
    if (!sp->msg->error)
        sp->msg->error = why;
    sp->storing = 0;
}

static void emit_date(struct spool *sp)
{
    char date[80];
    time_t now = time(NULL);
    struct tm tm;

    localtime_r(&now, &tm);
    strftime(date, sizeof(date), "Date: %a, %d %b %Y %H:%M:%S %z\r\n", &tm);
    emit(sp, date, strlen(date));
}

/* Keep the Message-ID: the value of the header, unfolded and trimmed. */
static void note_msgid(struct lmtp_msg *msg, struct buf *val)
{
    buf_trim(val);
    if (val->len && val->len <= MSGID_MAX && !msg->msgid)
        msg->msgid = xstrdup(buf_cstring(val));
}

int lmtp_spool_read(struct protstream *in, const struct lmtp_spool_opts *o,
                    struct lmtp_msg *msg)
{
    struct spool sp = { o, msg, 1, 0 };
    char line[PIECE_SIZE];
    struct buf msgid = BUF_INITIALIZER;
    int bol = 1, in_header = 1, saw_date = 0, in_msgid = 0, pending_cr = 0;
    int ended = 0;

    emit(&sp, msg->head.s, msg->head.len);
    for (;;) {
        size_t n = prot_getline(in, line, sizeof(line));
        char *p = line;
        int has_lf;

        if (!n)
            break;
        has_lf = line[n - 1] == '\n';
        if (pending_cr) {
            /* The previous piece ended in CR: a CRLF split in two, or a
             * bare CR. */
            emit(&sp, "\r\n", 2);
            pending_cr = 0;
            if (line[0] == '\n') {
                bol = 1;
                if (n == 1)
                    continue;
                p++;
                n--;
            }
        }
        if (bol && p[0] == '.') {
            if ((n == 3 && p[1] == '\r' && p[2] == '\n') ||
                (n == 2 && p[1] == '\n')) {
                ended = 1;
                break;
            }
            p++;
            n--;
        }
        if (memchr(p, '\0', n))
            refuse(&sp, LMTP_NUL);

        /* The line without its end. */
        size_t body = n;
        if (has_lf) {
            body--;
            if (body && p[body - 1] == '\r')
                body--;
        }
        else if (body && p[body - 1] == '\r') {
            body--;
            pending_cr = 1;
        }

        if (in_header) {
            if (bol && body == 0 && has_lf) {
                if (in_msgid)
                    note_msgid(msg, &msgid);
                in_msgid = 0;
                if (!saw_date)
                    emit_date(&sp);
                in_header = 0;
            }
            else {
                if (bol && p[0] != ' ' && p[0] != '\t') {
                    if (in_msgid)
                        note_msgid(msg, &msgid);
                    in_msgid = 0;
                    if (body >= 5 && !strncasecmp(p, "Date:", 5))
                        saw_date = 1;
                    if (body >= 11 && !strncasecmp(p, "Message-ID:", 11)) {
                        in_msgid = 1;
                        buf_reset(&msgid);
                        buf_appendmap(&msgid, p + 11, body - 11);
                    }
                }
                else if (in_msgid) {
                    buf_appendmap(&msgid, p, body);
                }
                for (size_t i = 0; i < body; i++) {
                    if (!(p[i] & 0x80))
                        continue;
                    if (o->reject8bit)
                        refuse(&sp, LMTP_8BIT);
                    else if (o->munge8bit)
                        p[i] = 'X';
                }
            }
        }

        /* Bare CRs inside the line become line ends too. */
        size_t start = 0;
        for (size_t i = 0; i < body; i++) {
            if (p[i] == '\r') {
                emit(&sp, p + start, i - start);
                emit(&sp, "\r\n", 2);
                start = i + 1;
            }
        }
        emit(&sp, p + start, body - start);
        if (has_lf)
            emit(&sp, "\r\n", 2);
        bol = has_lf;
    }
    if (!ended) {
        buf_free(&msgid);
        return -1;
    }
    if (pending_cr)
        emit(&sp, "\r\n", 2);
    if (in_header && in_msgid)
        note_msgid(msg, &msgid);
    buf_free(&msgid);
    /* Headers only (or nothing at all): the Date still goes after them. */
    if (in_header && !saw_date)
        emit_date(&sp);
    if (msg->fd >= 0 && sp.storing && msg->data.len) {
        if (retry_write(msg->fd, msg->data.s, msg->data.len) < 0) {
            log_error("lmtpd: cannot write a temporary file: %s",
                      strerror(errno));
            sp.failed = 1;
        }
        buf_reset(&msg->data);
    }
    if (sp.failed && !msg->error)
        msg->error = LMTP_IOERROR;
    return 0;
}

int lmtp_msg_map(struct lmtp_msg *msg, const char **base, size_t *len)
{
    void *p;

    if (msg->fd < 0) {
        *base = msg->data.s ? msg->data.s : "";
        *len = msg->data.len;
        return 0;
    }
    *len = (size_t)msg->size;
    if (!*len) {
        *base = "";
        return 0;
    }
    p = mmap(NULL, *len, PROT_READ, MAP_SHARED, msg->fd, 0);
    if (p == MAP_FAILED) {
        log_error("lmtpd: cannot map the message: %s", strerror(errno));
        return -1;
    }
    *base = p;
    return 0;
}

void lmtp_msg_unmap(struct lmtp_msg *msg, const char *base, size_t len)
{
    if (msg->fd >= 0 && len)
        munmap((void *)base, len);
}
