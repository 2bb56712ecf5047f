/* deliver.c -- hand a message from stdin to lmtpd, as Cyrus's deliver.
 *
 *   deliver [-C imapd.conf] [-a authuser] [-m mailbox] [-f|-r from] [-q]
 *           [-e] [-D] [user...]
 *
 * The message goes over the lmtpsocket UNIX socket (preauthenticated) to
 * each user's INBOX, or to user+mailbox with -m; with -m and no users, to
 * the shared mailbox (postuser+mailbox).  -a sets the identity whose
 * rights count for posting (MAIL FROM ... AUTH=), -q asks lmtpd to ignore
 * quota (IGNOREQUOTA).  The exit status follows sendmail's conventions
 * so an MTA's pipe transport can act on it: 0 when every recipient got
 * the message, EX_TEMPFAIL when any failure was temporary (or lmtpd could
 * not be reached), else EX_NOUSER, EX_NOPERM, EX_DATAERR or
 * EX_UNAVAILABLE for the permanent failure seen.  See doc/deliver.8.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sysexits.h>
#include <unistd.h>

#include "imap/tools/tool_common.h"
#include "lib/buf.h"
#include "lib/config.h"
#include "lib/log.h"
#include "lib/prot.h"
#include "lib/strarray.h"
#include "lib/xmalloc.h"

static void usage(void)
{
    fprintf(stderr, "usage: deliver [-C imapd.conf] [-a authuser] "
                    "[-m mailbox] [-f from] [-q] [user...]\n");
    exit(EX_USAGE);
}

/* The exit status a final reply stands for; 0 for success. */
static int reply_status(const char *reply)
{
    if (reply[0] == '2')
        return 0;
    if (reply[0] == '4')
        return EX_TEMPFAIL;
    if (reply[0] != '5' || strlen(reply) < 9)
        return EX_TEMPFAIL;
    if (!strncmp(reply + 4, "5.1.1", 5))
        return EX_NOUSER;
    if (!strncmp(reply + 4, "5.7.", 4))
        return EX_NOPERM;
    if (!strncmp(reply + 4, "5.6.", 4) || !strncmp(reply + 4, "5.2.3", 5))
        return EX_DATAERR;
    return EX_UNAVAILABLE;
}

/* Temporary failures win (the MTA retries); then the first permanent. */
static void merge_status(int *acc, int st)
{
    if (!st || *acc == EX_TEMPFAIL)
        return;
    if (st == EX_TEMPFAIL || !*acc)
        *acc = st;
}

/* Read a (possibly multi-line) reply; its last line into `last`.
 * -1 when the connection ended. */
static int read_reply(struct protstream *p, struct buf *last)
{
    char line[4096];

    for (;;) {
        size_t n = prot_getline(p, line, sizeof(line));
        if (!n)
            return -1;
        while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            line[--n] = '\0';
        if (n < 4 || line[3] != '-') {
            buf_setcstr(last, line);
            return 0;
        }
    }
}

/* RFC 3461 xtext for AUTH=. */
static void xtext(struct buf *out, const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c < 33 || c > 126 || c == '+' || c == '=')
            buf_printf(out, "+%02X", c);
        else
            buf_putc(out, (char)c);
    }
}

/* Copy stdin to the stream as a DATA body: CRLF line ends, dot-stuffed.
 * A leading mbox "From " line is dropped. */
static int send_body(struct protstream *p)
{
    char chunk[65536];
    int bol = 1, first = 1, skipping = 0, last_cr = 0;
    ssize_t n;

    while ((n = read(0, chunk, sizeof(chunk))) != 0) {
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        for (ssize_t i = 0; i < n; i++) {
            char c = chunk[i];
            if (first) {
                first = 0;
                if (n - i >= 5 && !memcmp(chunk + i, "From ", 5))
                    skipping = 1;
            }
            if (skipping) {
                if (c == '\n')
                    skipping = 0;
                continue;
            }
            if (bol && c == '.')
                prot_putc('.', p);
            if (c == '\n' && !last_cr)
                prot_putc('\r', p);
            prot_putc(c, p);
            last_cr = c == '\r';
            bol = c == '\n';
        }
    }
    if (!bol)
        prot_puts(p, "\r\n");
    prot_puts(p, ".\r\n");
    return prot_flush(p);
}

int main(int argc, char **argv)
{
    const char *conffile = NULL, *authuser = NULL, *mailbox = NULL;
    const char *from = NULL;
    int ignorequota = 0, opt, status = 0;
    strarray_t rcpts = STRARRAY_INITIALIZER;
    struct buf reply = BUF_INITIALIZER, cmd = BUF_INITIALIZER;
    struct sockaddr_un sun;
    struct protstream *p;
    char host[256];
    int fd, accepted = 0;

    tool_log_open("deliver");
    while ((opt = getopt(argc, argv, "C:a:m:f:r:qelD")) != -1) {
        switch (opt) {
        case 'C': conffile = optarg; break;
        case 'a': authuser = optarg; break;
        case 'm': mailbox = optarg; break;
        case 'f':
        case 'r': from = optarg; break;
        case 'q': ignorequota = 1; break;
        case 'e': case 'D': break;      /* accepted for compatibility */
        case 'l':
            fprintf(stderr, "deliver: -l (LMTP on stdin) is not supported; "
                            "run lmtpd\n");
            return EX_USAGE;
        default: usage();
        }
    }
    tool_init("deliver", conffile);

    for (int i = optind; i < argc; i++) {
        buf_reset(&cmd);
        buf_appendcstr(&cmd, argv[i]);
        if (mailbox)
            buf_printf(&cmd, "+%s", mailbox);
        strarray_append(&rcpts, buf_cstring(&cmd));
    }
    if (!rcpts.count) {
        const char *postuser = config_getstring(IMAPOPT_POSTUSER);
        if (!mailbox)
            usage();
        buf_reset(&cmd);
        buf_printf(&cmd, "%s+%s", postuser ? postuser : "", mailbox);
        strarray_append(&rcpts, buf_cstring(&cmd));
    }

    const char *sockpath = config_getstring(IMAPOPT_LMTPSOCKET);
    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    if (!sockpath || strlen(sockpath) >= sizeof(sun.sun_path)) {
        fprintf(stderr, "deliver: lmtpsocket is not usable\n");
        status = EX_CONFIG;
        goto done;
    }
    strcpy(sun.sun_path, sockpath);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
        fprintf(stderr, "deliver: cannot connect to lmtpd at %s: %s\n",
                sockpath, strerror(errno));
        if (fd >= 0)
            close(fd);
        status = EX_TEMPFAIL;
        goto done;
    }
    p = prot_new(fd, fd);
    prot_settimeout(p, 300);
    if (gethostname(host, sizeof(host)) < 0)
        strcpy(host, "localhost");
    host[sizeof(host) - 1] = '\0';

    if (read_reply(p, &reply) < 0 || reply.s[0] != '2')
        goto tempfail;
    prot_printf(p, "LHLO %s\r\n", host);
    if (read_reply(p, &reply) < 0 || reply.s[0] != '2')
        goto tempfail;
    buf_reset(&cmd);
    buf_printf(&cmd, "MAIL FROM:<%s>", from ? from : "");
    if (authuser) {
        buf_appendcstr(&cmd, " AUTH=");
        xtext(&cmd, authuser);
    }
    prot_printf(p, "%s\r\n", buf_cstring(&cmd));
    if (read_reply(p, &reply) < 0)
        goto tempfail;
    if (reply.s[0] != '2') {
        fprintf(stderr, "deliver: MAIL refused: %s\n", buf_cstring(&reply));
        status = reply_status(buf_cstring(&reply));
        goto quit;
    }
    /* One at a time: the replies say which recipients to wait for. */
    int *ok = xcalloc((size_t)rcpts.count, sizeof(int));
    for (int i = 0; i < rcpts.count; i++) {
        prot_printf(p, "RCPT TO:<%s>%s\r\n", strarray_nth(&rcpts, i),
                    ignorequota ? " IGNOREQUOTA" : "");
        if (read_reply(p, &reply) < 0) {
            free(ok);
            goto tempfail;
        }
        if (reply.s[0] == '2') {
            ok[i] = 1;
            accepted++;
        }
        else {
            fprintf(stderr, "deliver: %s: %s\n", strarray_nth(&rcpts, i),
                    buf_cstring(&reply));
            merge_status(&status, reply_status(buf_cstring(&reply)));
        }
    }
    if (accepted) {
        prot_puts(p, "DATA\r\n");
        if (read_reply(p, &reply) < 0 || reply.s[0] != '3') {
            free(ok);
            goto tempfail;
        }
        if (send_body(p) < 0) {
            free(ok);
            goto tempfail;
        }
        for (int i = 0; i < rcpts.count; i++) {
            if (!ok[i])
                continue;
            if (read_reply(p, &reply) < 0) {
                free(ok);
                goto tempfail;
            }
            if (reply.s[0] != '2')
                fprintf(stderr, "deliver: %s: %s\n", strarray_nth(&rcpts, i),
                        buf_cstring(&reply));
            merge_status(&status, reply_status(buf_cstring(&reply)));
        }
    }
    free(ok);
quit:
    prot_puts(p, "QUIT\r\n");
    prot_flush(p);
    read_reply(p, &reply);
    goto out;
tempfail:
    fprintf(stderr, "deliver: lmtpd failed: %s\n",
            reply.len ? buf_cstring(&reply) :
            (prot_error(p) ? prot_error(p) : "connection closed"));
    status = EX_TEMPFAIL;
out:
    prot_free(&p);
    close(fd);
done:
    buf_free(&reply);
    buf_free(&cmd);
    strarray_fini(&rcpts);
    return status;
}
