/* lmtp_session.c -- one LMTP conversation (RFC 2033, with the RFC 5321
 * details it refers to): LHLO, MAIL, RCPT, DATA, RSET, NOOP, VRFY, QUIT,
 * STARTTLS (RFC 3207) and AUTH (RFC 4954).  The replies and their
 * enhanced status codes (RFC 3463) are Cyrus's.
 *
 * Commands are read one line at a time from a buffered stream, so a
 * PIPELINING client may send a whole transaction at once: replies are
 * queued and flushed only when the stream would wait for input.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <openssl/x509.h>

#include "imap/lmtpd/lmtpd.h"
#include "lib/log.h"
#include "lib/prot_tls.h"
#include "lib/saslserver.h"
#include "lib/util.h"
#include "lib/xmalloc.h"

/* RFC 5321 4.5.3.1.4 says 512; be generous with long AUTH responses. */
#define LINE_MAX_LEN 16384
/* Recipients per transaction (RFC 5321 asks for at least 100). */
#define MAX_RCPTS 1000

struct session {
    const struct lmtpd_settings *st;
    struct protstream *prot;
    struct saslserver *sasl;
    char clienthost[300];       /* "name [addr]" for the log and Received */
    char local_ipport[80], remote_ipport[80];
    char sessionid[128];
    char *helo;                 /* the LHLO argument */
    int is_unix;
    int tls;
    char *authuser;             /* who authenticated (or the preauth id) */
    int authenticated;          /* allowed to deliver */
    unsigned txn_count;

    /* the transaction */
    int in_mail;
    char *from;                 /* reverse path without brackets */
    char *mail_auth;            /* MAIL FROM ... AUTH= */
    uint64_t sizehint;          /* MAIL FROM ... SIZE= */
    struct lmtp_rcpt *rcpts;
    int nrcpt;
};

/* --- replies ------------------------------------------------------------- */

void lmtp_reply(struct protstream *out, enum lmtp_status status,
                int overquota_perm, const char *sessionid)
{
    const char *text;

    switch (status) {
    case LMTP_OK:
        text = "250 2.1.5 Success";
        break;
    case LMTP_UNKNOWN:
        prot_puts(out, "550-Mailbox unknown.  Either there is no mailbox "
                       "associated with this\r\n"
                       "550-name or you do not have authorization to see it."
                       "\r\n550 5.1.1 User unknown\r\n");
        return;
    case LMTP_NOPERM:
        prot_puts(out, "550-You do not have permission to post a message to "
                       "this mailbox.\r\n"
                       "550-Please contact the owner of this mailbox in order "
                       "to submit\r\n"
                       "550-your message, or postmaster if you believe you\r\n"
                       "550-received this message in error.\r\n"
                       "550 5.7.1 Permission denied\r\n");
        return;
    case LMTP_OVERQUOTA:
        text = overquota_perm ? "552 5.2.2 Over quota" : "452 4.2.2 Over quota";
        break;
    case LMTP_TOOBIG:
        text = "552 5.2.3 Message size exceeds fixed maximum message size";
        break;
    case LMTP_NUL:
        text = "554 5.6.0 Message contains NUL characters";
        break;
    case LMTP_8BIT:
        text = "554 5.6.0 Message contains non-ASCII characters in headers";
        break;
    case LMTP_BADADDR:
        text = "501 5.5.4 Syntax error in parameters";
        break;
    case LMTP_LOCKED:
        text = "451 4.2.0 Mailbox is locked";
        break;
    case LMTP_IOERROR:
    default:
        text = "451 4.3.0 System I/O error";
        break;
    }
    /* As Cyrus, only deliveries and quota refusals name the session. */
    if (sessionid && (status == LMTP_OK || status == LMTP_OVERQUOTA))
        prot_printf(out, "%s SESSIONID=<%s>\r\n", text, sessionid);
    else
        prot_printf(out, "%s\r\n", text);
}

/* --- the transaction ----------------------------------------------------- */

static void txn_reset(struct session *s)
{
    for (int i = 0; i < s->nrcpt; i++) {
        free(s->rcpts[i].addr);
        free(s->rcpts[i].mailbox);
    }
    free(s->rcpts);
    s->rcpts = NULL;
    s->nrcpt = 0;
    xfree(s->from);
    xfree(s->mail_auth);
    s->sizehint = 0;
    s->in_mail = 0;
}

static void new_sessionid(struct session *s)
{
    snprintf(s->sessionid, sizeof(s->sessionid), "%s-%d-%lld-%u",
             s->st->servername, (int)util_getpid(), (long long)time(NULL),
             ++s->txn_count);
}

/* A "<path>" at p; the path without brackets into *out, the rest after
 * it in *rest.  -1 if malformed. */
static int parse_path(const char *p, char **out, const char **rest)
{
    const char *end;

    if (*p != '<')
        return -1;
    p++;
    /* A quoted local part may hold '>'. */
    end = p;
    if (*end == '"' || (*end == '@' && strchr(end, ':'))) {
        int quoted = 0;
        for (; *end; end++) {
            if (*end == '\\' && end[1])
                end++;
            else if (*end == '"')
                quoted = !quoted;
            else if (*end == '>' && !quoted)
                break;
        }
    }
    else {
        end = strchr(p, '>');
    }
    if (!end || *end != '>')
        return -1;
    *out = xstrndup(p, (size_t)(end - p));
    *rest = end + 1;
    return 0;
}

/* RFC 3461 xtext: "+XX" hex escapes. */
static char *xtext_decode(const char *s)
{
    struct buf out = BUF_INITIALIZER;

    for (; *s; s++) {
        if (*s == '+' && s[1] && s[2]) {
            char hex[3] = { s[1], s[2], 0 };
            char *end;
            long v = strtol(hex, &end, 16);
            if (*end || v <= 0)
                break;
            buf_putc(&out, (char)v);
            s += 2;
        }
        else {
            buf_putc(&out, *s);
        }
    }
    return buf_release(&out);
}

static void cmd_mail(struct session *s, const char *args)
{
    const char *rest;
    char *path = NULL;

    if (!s->authenticated) {
        prot_printf(s->prot, "%s Authentication required\r\n",
                    s->st->soft_noauth ? "430" : "530");
        return;
    }
    if (s->in_mail) {
        prot_puts(s->prot, "503 5.5.1 Nested MAIL command\r\n");
        return;
    }
    /* RFC 5321 4.1.4: the client greets before a transaction; after
     * STARTTLS (RFC 3207 4.2) it must greet again. */
    if (!s->helo) {
        prot_puts(s->prot, "503 5.5.1 Send LHLO first\r\n");
        return;
    }
    if (strncasecmp(args, "FROM:", 5) || parse_path(args + 5, &path, &rest)) {
        prot_puts(s->prot, "501 5.5.4 Syntax error in parameters\r\n");
        return;
    }
    uint64_t size = 0;
    char *auth = NULL;
    while (*rest == ' ') {
        while (*rest == ' ')
            rest++;
        if (!*rest)
            break;
        const char *end = strchr(rest, ' ');
        size_t len = end ? (size_t)(end - rest) : strlen(rest);
        char *param = xstrndup(rest, len);
        rest += len;

        if (!strncasecmp(param, "SIZE=", 5)) {
            unsigned long v;
            if (parse_ulong(param + 5, &v) < 0) {
                prot_puts(s->prot, "501 5.5.2 SIZE requires a value\r\n");
                goto bad;
            }
            size = v;
            if (s->st->maxmessagesize && size > s->st->maxmessagesize) {
                prot_printf(s->prot, "552 5.2.3 Message SIZE exceeds fixed "
                            "maximum message size (%llu)\r\n",
                            (unsigned long long)s->st->maxmessagesize);
                goto bad;
            }
        }
        else if (!strncasecmp(param, "BODY=", 5)) {
            if (strcasecmp(param + 5, "7BIT") &&
                strcasecmp(param + 5, "8BITMIME")) {
                prot_puts(s->prot, "501 5.5.4 Unrecognized BODY type\r\n");
                goto bad;
            }
        }
        else if (!strncasecmp(param, "AUTH=", 5)) {
            free(auth);
            auth = xtext_decode(param + 5);
            /* RFC 4954 5: "<>" means no identity was given. */
            if (!strcmp(auth, "<>"))
                xfree(auth);
        }
        else {
            prot_puts(s->prot, "501 5.5.4 Unrecognized parameters\r\n");
            goto bad;
        }
        free(param);
        continue;
bad:
        free(param);
        free(path);
        free(auth);
        return;
    }
    if (*rest) {
        prot_puts(s->prot, "501 5.5.4 Syntax error in parameters\r\n");
        free(path);
        free(auth);
        return;
    }
    s->from = path;
    s->mail_auth = auth;
    s->sizehint = size;
    s->in_mail = 1;
    prot_puts(s->prot, "250 2.1.0 ok\r\n");
}

static void cmd_rcpt(struct session *s, const char *args)
{
    struct lmtp_rcpt r;
    struct lmtp_poster poster;
    const char *rest;
    enum lmtp_status status;

    if (!s->in_mail) {
        prot_puts(s->prot, "503 5.5.1 Need MAIL command\r\n");
        return;
    }
    memset(&r, 0, sizeof(r));
    if (strncasecmp(args, "TO:", 3) || parse_path(args + 3, &r.addr, &rest)) {
        prot_puts(s->prot, "501 5.5.4 Syntax error in parameters\r\n");
        return;
    }
    while (*rest == ' ') {
        while (*rest == ' ')
            rest++;
        if (!*rest)
            break;
        const char *end = strchr(rest, ' ');
        size_t len = end ? (size_t)(end - rest) : strlen(rest);
        if (len == 11 && !strncasecmp(rest, "IGNOREQUOTA", 11)) {
            r.ignorequota = 1;
        }
        else {
            prot_puts(s->prot, "501 5.5.4 Unrecognized parameters\r\n");
            free(r.addr);
            return;
        }
        rest += len;
    }
    if (*rest) {
        prot_puts(s->prot, "501 5.5.4 Syntax error in parameters\r\n");
        free(r.addr);
        return;
    }
    if (s->nrcpt >= MAX_RCPTS) {
        prot_puts(s->prot, "452 4.5.3 Too many recipients\r\n");
        free(r.addr);
        return;
    }
    poster.authuser = s->mail_auth;
    status = lmtp_rcpt_resolve(s->st, &poster, s->sizehint, &r);
    if (status) {
        log_info("lmtpd: RCPT %s refused (%d) SESSIONID=<%s>", r.addr,
                 (int)status, s->sessionid);
        lmtp_reply(s->prot, status, s->st->overquota_perm,
                   status == LMTP_OVERQUOTA ? s->sessionid : NULL);
        free(r.addr);
        free(r.mailbox);
        return;
    }
    s->rcpts = xrealloc(s->rcpts, sizeof(*s->rcpts) * (size_t)(s->nrcpt + 1));
    s->rcpts[s->nrcpt++] = r;
    prot_puts(s->prot, "250 2.1.5 ok\r\n");
}

/* Return-Path and Received (RFC 5321 4.4; "with" per RFC 3848). */
static void trace_headers(struct session *s, struct buf *head)
{
    char date[80];
    time_t now = time(NULL);
    struct tm tm;

    localtime_r(&now, &tm);
    strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S %z", &tm);
    buf_printf(head, "Return-Path: <%s>\r\n", s->from ? s->from : "");
    buf_printf(head, "Received: from %s (%s)\r\n\tby %s (%s %s) with LMTP%s%s;"
                     "\r\n\t%s\r\n",
               s->helo ? s->helo : "unknown", s->clienthost,
               s->st->servername, PACKAGE_NAME, PACKAGE_VERSION,
               s->tls ? "S" : "", s->authenticated ? "A" : "", date);
}

static void cmd_data(struct session *s)
{
    struct lmtp_msg msg;
    struct lmtp_spool_opts opts;

    if (!s->in_mail) {
        prot_puts(s->prot, "503 5.5.1 Need MAIL command\r\n");
        return;
    }
    if (!s->nrcpt) {
        prot_puts(s->prot, "503 5.5.1 No recipients\r\n");
        return;
    }
    prot_puts(s->prot, "354 go ahead\r\n");

    lmtp_msg_init(&msg);
    trace_headers(s, &msg.head);
    memset(&opts, 0, sizeof(opts));
    opts.maxsize = s->st->maxmessagesize;
    opts.reject8bit = s->st->reject8bit;
    opts.munge8bit = s->st->munge8bit;
    opts.tmpdir = getenv("TMPDIR");
    if (lmtp_spool_read(s->prot, &opts, &msg) < 0) {
        lmtp_msg_fini(&msg);
        txn_reset(s);
        return;
    }
    if (msg.error) {
        for (int i = 0; i < s->nrcpt; i++)
            s->rcpts[i].status = msg.error;
    }
    else {
        lmtp_deliver(s->st, &msg, s->rcpts, s->nrcpt);
    }
    for (int i = 0; i < s->nrcpt; i++) {
        enum lmtp_status st = s->rcpts[i].status;
        if (st == LMTP_TOOBIG && s->st->maxmessagesize)
            prot_printf(s->prot, "552 5.2.3 Message size (%llu) exceeds fixed "
                        "maximum message size (%llu)\r\n",
                        (unsigned long long)msg.size,
                        (unsigned long long)s->st->maxmessagesize);
        else
            lmtp_reply(s->prot, st, s->st->overquota_perm, s->sessionid);
    }
    lmtp_msg_fini(&msg);
    txn_reset(s);
    new_sessionid(s);
}

/* --- connection-level commands ------------------------------------------- */

static void cmd_lhlo(struct session *s, const char *args)
{
    strarray_t mechs = STRARRAY_INITIALIZER;

    if (!*args) {
        prot_puts(s->prot, "501 5.5.4 Syntax error in parameters\r\n");
        return;
    }
    /* RFC 5321 4.1.4: a new greeting resets the transaction. */
    txn_reset(s);
    free(s->helo);
    s->helo = xstrdup(args);
    prot_printf(s->prot, "250-%s\r\n", s->st->servername);
    prot_puts(s->prot, "250-8BITMIME\r\n250-ENHANCEDSTATUSCODES\r\n"
                       "250-PIPELINING\r\n");
    if (s->st->maxmessagesize)
        prot_printf(s->prot, "250-SIZE %llu\r\n",
                    (unsigned long long)s->st->maxmessagesize);
    else
        prot_puts(s->prot, "250-SIZE\r\n");
    if (!s->authenticated && s->sasl) {
        saslserver_mechanisms(s->sasl, &mechs);
        if (mechs.count) {
            char *list = strarray_join(&mechs, " ");
            prot_printf(s->prot, "250-AUTH %s\r\n", list);
            free(list);
        }
        strarray_fini(&mechs);
    }
    else if (s->is_unix) {
        prot_puts(s->prot, "250-AUTH EXTERNAL\r\n");
    }
    /* As Cyrus: not offered once the client is trusted (AUTH, or a
     * preauthenticated connection). */
    if (s->st->tls_ctx && !s->tls && !s->authenticated)
        prot_puts(s->prot, "250-STARTTLS\r\n");
    prot_puts(s->prot, "250-IGNOREQUOTA\r\n");
    prot_printf(s->prot, "250 Ok SESSIONID=<%s>\r\n", s->sessionid);
}

static void cmd_starttls(struct session *s, const char *args)
{
    struct buf err = BUF_INITIALIZER;
    const char *peer_cn = NULL;
    char cn[256];
    SSL *ssl;

    if (*args) {
        prot_puts(s->prot, "501 5.5.4 Syntax error in parameters\r\n");
        return;
    }
    if (s->tls) {
        /* Cyrus's reply, which MTAs already know. */
        prot_puts(s->prot, "454 4.3.3 Already successfully executed "
                           "STARTTLS\r\n");
        return;
    }
    if (!s->st->tls_ctx || s->in_mail) {
        prot_puts(s->prot, "503 5.5.0 STARTTLS not permitted now\r\n");
        return;
    }
    prot_puts(s->prot, "220 2.0.0 Ready to start TLS\r\n");
    if (prot_starttls(s->prot, s->st->tls_ctx, &err) < 0) {
        log_notice("lmtpd: STARTTLS failed: %s: %s", s->clienthost,
                   buf_cstring(&err));
        buf_free(&err);
        return;
    }
    buf_free(&err);
    s->tls = 1;
    /* RFC 3207 4.2: forget everything learnt before the handshake. */
    xfree(s->helo);
    txn_reset(s);
    ssl = prot_tls_ssl(s->prot);
    X509 *cert = ssl ? SSL_get1_peer_certificate(ssl) : NULL;
    if (cert) {
        if (X509_NAME_get_text_by_NID(X509_get_subject_name(cert),
                                      NID_commonName, cn, sizeof(cn)) > 0)
            peer_cn = cn;
        X509_free(cert);
    }
    if (s->sasl)
        saslserver_set_tls(s->sasl, (unsigned)prot_tls_ssf(s->prot), peer_cn);
}

/* Read one base64 line of an AUTH exchange; -1 on EOF, 1 for "*". */
static int auth_readline(struct session *s, struct buf *data)
{
    char line[LINE_MAX_LEN];
    size_t n = prot_getline(s->prot, line, sizeof(line));

    if (!n)
        return -1;
    while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        line[--n] = '\0';
    if (!strcmp(line, "*"))
        return 1;
    buf_reset(data);
    if (saslserver_decode64(line, n, data) < 0)
        return 2;
    return 0;
}

static void cmd_auth(struct session *s, const char *args)
{
    struct buf in = BUF_INITIALIZER, b64 = BUF_INITIALIZER;
    const char *out = NULL;
    size_t outlen = 0;
    char *mech, *sp;
    int r, have_initial = 0;

    if (s->authenticated) {
        prot_puts(s->prot, "503 5.5.0 already authenticated\r\n");
        return;
    }
    if (s->in_mail || !s->sasl) {
        prot_puts(s->prot, "503 5.5.0 AUTH not permitted now\r\n");
        return;
    }
    mech = xstrdup(args);
    sp = strchr(mech, ' ');
    if (sp) {
        *sp++ = '\0';
        if (!strcmp(sp, "=")) {
            have_initial = 1;
        }
        else if (saslserver_decode64(sp, strlen(sp), &in) < 0) {
            prot_puts(s->prot, "501 5.5.4 Syntax error in parameters\r\n");
            free(mech);
            return;
        }
        else {
            have_initial = 1;
        }
    }
    if (!*mech) {
        prot_puts(s->prot, "501 5.5.4 Syntax error in parameters\r\n");
        free(mech);
        return;
    }
    r = saslserver_start(s->sasl, mech, have_initial ? (in.s ? in.s : "") : NULL,
                         in.len, &out, &outlen);
    while (r == SASLSERVER_CONTINUE) {
        buf_reset(&b64);
        saslserver_encode64(out ? out : "", outlen, &b64);
        prot_printf(s->prot, "334 %s\r\n", buf_cstring(&b64));
        int lr = auth_readline(s, &in);
        if (lr < 0)
            goto done;
        if (lr == 1) {
            prot_puts(s->prot, "501 5.5.4 client canceled authentication\r\n");
            saslserver_reset(s->sasl);
            goto done;
        }
        if (lr == 2) {
            r = SASLSERVER_BADPROT;
            break;
        }
        r = saslserver_step(s->sasl, in.s ? in.s : "", in.len, &out, &outlen);
    }
    if (r == SASLSERVER_OK) {
        const char *user = saslserver_userid(s->sasl);
        if (!user || !saslserver_isadmin(user)) {
            /* Only the MTA's administrative identity may deliver. */
            log_notice("lmtpd: %s authenticated as %s, not an admin: refused",
                       s->clienthost, user ? user : "?");
            prot_puts(s->prot, "535 5.7.8 Authentication failed: only "
                               "administrators may deliver\r\n");
            saslserver_reset(s->sasl);
            goto done;
        }
        s->authuser = xstrdup(user);
        s->authenticated = 1;
        log_notice("lmtpd: login: %s %s %s SESSIONID=<%s>", s->clienthost,
                   user, mech, s->sessionid);
        prot_puts(s->prot, "235 2.0.0 Authenticated\r\n");
    }
    else {
        const char *detail = saslserver_errdetail(s->sasl);
        log_notice("lmtpd: badlogin: %s %s: %s", s->clienthost, mech,
                   detail ? detail : "failed");
        if (r == SASLSERVER_NOMECH)
            prot_puts(s->prot, "504 5.7.4 Unrecognized authentication "
                               "type\r\n");
        else if (r == SASLSERVER_BADPROT)
            prot_puts(s->prot, "501 5.5.4 SASL Error\r\n");
        else
            prot_puts(s->prot, "535 5.7.8 Authentication failed\r\n");
        saslserver_reset(s->sasl);
    }
done:
    free(mech);
    buf_free(&in);
    buf_free(&b64);
}

/* --- the loop ------------------------------------------------------------ */

static void set_clienthost(struct session *s, const struct lmtp_conn *conn)
{
    if (conn->is_unix || !conn->peer_addr || !*conn->peer_addr) {
        snprintf(s->clienthost, sizeof(s->clienthost), "[unix socket]");
        return;
    }
    snprintf(s->clienthost, sizeof(s->clienthost), "[%s]", conn->peer_addr);
    snprintf(s->remote_ipport, sizeof(s->remote_ipport), "%s;%d",
             conn->peer_addr, conn->peer_port);
    if (conn->local_addr && *conn->local_addr)
        snprintf(s->local_ipport, sizeof(s->local_ipport), "%s;%d",
                 conn->local_addr, conn->local_port);
}

/* Split "VERB args" in place; the verb is upper-cased. */
static char *split_verb(char *line)
{
    char *p = line;

    while (*p && *p != ' ') {
        if (*p >= 'a' && *p <= 'z')
            *p = (char)(*p - 'a' + 'A');
        p++;
    }
    if (*p)
        *p++ = '\0';
    return p;
}

void lmtp_session_run(const struct lmtpd_settings *st,
                      const struct lmtp_conn *conn)
{
    struct session s;
    char line[LINE_MAX_LEN];

    memset(&s, 0, sizeof(s));
    s.st = st;
    s.is_unix = conn->is_unix;
    s.prot = prot_new(conn->in_fd, conn->out_fd);
    prot_settimeout(s.prot, st->timeout);
    set_clienthost(&s, conn);
    new_sessionid(&s);
    if (conn->is_unix || st->preauth) {
        s.authenticated = 1;
        s.authuser = xstrdup("postman");
    }
    else {
        saslserver_new("lmtp", st->servername,
                       s.local_ipport[0] ? s.local_ipport : NULL,
                       s.remote_ipport[0] ? s.remote_ipport : NULL, &s.sasl);
    }
    log_notice("lmtpd: accepted connection from %s", s.clienthost);
    prot_printf(s.prot, "220 %s LMTP %s %s server ready\r\n", st->servername,
                PACKAGE_NAME, PACKAGE_VERSION);

    for (;;) {
        size_t n = prot_getline(s.prot, line, sizeof(line));
        char *args;

        if (!n)
            break;
        if (line[n - 1] != '\n') {
            /* Over-long line: swallow the rest of it. */
            while ((n = prot_getline(s.prot, line, sizeof(line))) &&
                   line[n - 1] != '\n')
                ;
            prot_puts(s.prot, "500 5.5.2 Line too long\r\n");
            continue;
        }
        while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            line[--n] = '\0';
        if (memchr(line, '\0', n)) {
            prot_puts(s.prot, "500 5.5.2 Syntax error\r\n");
            continue;
        }
        args = split_verb(line);

        if (!strcmp(line, "LHLO")) {
            cmd_lhlo(&s, args);
        }
        else if (!strcmp(line, "MAIL")) {
            cmd_mail(&s, args);
        }
        else if (!strcmp(line, "RCPT")) {
            cmd_rcpt(&s, args);
        }
        else if (!strcmp(line, "DATA") && !*args) {
            cmd_data(&s);
        }
        else if (!strcmp(line, "RSET") && !*args) {
            txn_reset(&s);
            new_sessionid(&s);
            prot_printf(s.prot, "250 2.0.0 Ok SESSIONID=<%s>\r\n",
                        s.sessionid);
        }
        else if (!strcmp(line, "NOOP")) {
            prot_puts(s.prot, "250 2.0.0 ok\r\n");
        }
        else if (!strcmp(line, "VRFY")) {
            prot_puts(s.prot, "252 2.3.3 try RCPT to attempt delivery\r\n");
        }
        else if (!strcmp(line, "QUIT")) {
            prot_puts(s.prot, "221 2.0.0 bye\r\n");
            break;
        }
        else if (!strcmp(line, "STARTTLS")) {
            cmd_starttls(&s, args);
        }
        else if (!strcmp(line, "AUTH")) {
            cmd_auth(&s, args);
        }
        else {
            prot_puts(s.prot, "500 5.5.2 Syntax error\r\n");
        }
        if (prot_error(s.prot))
            break;
    }
    prot_flush(s.prot);
    if (prot_error(s.prot) && strcmp(prot_error(s.prot), "EOF"))
        log_notice("lmtpd: %s: connection ended: %s", s.clienthost,
                   prot_error(s.prot));
    txn_reset(&s);
    free(s.helo);
    free(s.authuser);
    if (s.sasl)
        saslserver_free(&s.sasl);
    prot_free(&s.prot);
}
