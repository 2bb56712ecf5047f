/* imapd_session.c -- an IMAP session's life: settings, greeting, command
 * loop, login, TLS and the end of the connection. */
#include "config.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "imap/imapd/imapd.h"
#include "imap/imapd/imapd_commands.h"
#include "imap/imapd/imapd_notify.h"
#include "lib/config.h"
#include "lib/log.h"
#include "lib/prot_tls.h"
#include "lib/xmalloc.h"

/* RFC 9051 section 5.4: an autologout timer of at least 30 minutes. */
#define MIN_TIMEOUT (30 * 60)

int imapd_settings_init(struct imapd_settings *st, struct buf *err)
{
    const char *name = config_getstring(IMAPOPT_SERVERNAME);
    long long maxword = config_getint(IMAPOPT_MAXWORD);
    long long maxquoted = config_getint(IMAPOPT_MAXQUOTED);
    long long maxliteral = config_getint(IMAPOPT_MAXLITERAL);
    char host[256];

    memset(st, 0, sizeof(*st));
    if (!name || !*name) {
        if (gethostname(host, sizeof(host)) < 0)
            strcpy(host, "localhost");
        host[sizeof(host) - 1] = '\0';
        name = host;
    }
    st->servername = xstrdup(name);
    st->allowplaintext = config_getswitch(IMAPOPT_ALLOWPLAINTEXT);
    st->tls_required = config_getswitch(IMAPOPT_TLS_REQUIRED);
    st->literalminus = config_getswitch(IMAPOPT_LITERALMINUS);
    /* The tokenizer has one bound for atoms and quoted strings. */
    if (maxquoted > 0 && maxquoted < maxword)
        maxword = maxquoted;
    st->maxword = maxword > 0 ? (size_t)maxword : 131072;
    st->maxliteral = maxliteral > 0 ? (size_t)maxliteral : (size_t)-1;
    st->timeout = (int)config_getint(IMAPOPT_TIMEOUT);
    if (st->timeout < MIN_TIMEOUT)
        st->timeout = MIN_TIMEOUT;
    st->failedloginpause = (int)config_getint(IMAPOPT_FAILEDLOGINPAUSE);
    if (st->failedloginpause < 0)
        st->failedloginpause = 0;
    st->imapidresponse = config_getswitch(IMAPOPT_IMAPIDRESPONSE);
    st->imapidlog = config_getswitch(IMAPOPT_IMAPIDLOG);
    st->reverselookups = config_getswitch(IMAPOPT_REVERSELOOKUPS);
    {
        const char *subs = config_getstring(IMAPOPT_SUBMITSERVERS);
        strarray_t *list = strarray_split(subs ? subs : "", " ,");

        strarray_fini(&st->submitservers);
        for (int i = 0; i < list->count; i++)
            if (*list->data[i])
                strarray_append(&st->submitservers, list->data[i]);
        strarray_free(&list);
    }
    if (imapd_mailbox_settings_init(&st->mbox, err) < 0) {
        /* Sessions still work; the mailbox commands will not. */
        log_error("imapd: %s", buf_cstring(err));
        buf_reset(err);
    }

    if (config_getstring(IMAPOPT_TLS_SERVER_CERT)) {
        struct tls_settings tls;

        tls_settings_from_config(&tls);
        st->tls_ctx = tls_server_context(&tls, err);
        if (!st->tls_ctx)
            return -1;
    }
    return 0;
}

void imapd_settings_fini(struct imapd_settings *st)
{
    xfree(st->servername);
    imapd_mailbox_settings_fini(&st->mbox);
    strarray_fini(&st->submitservers);
    if (st->tls_ctx)
        SSL_CTX_free(st->tls_ctx);
    st->tls_ctx = NULL;
}

/* "name [1.2.3.4]" (or "[1.2.3.4]" without a name) for the log. */
static void set_clienthost(struct imapd_session *s, const char *addr,
                           int lookup)
{
    struct sockaddr_storage ss;
    socklen_t len = 0;
    char name[NI_MAXHOST];

    if (!addr || !*addr) {
        snprintf(s->clienthost, sizeof(s->clienthost), "[local]");
        return;
    }
    memset(&ss, 0, sizeof(ss));
    if (inet_pton(AF_INET, addr, &((struct sockaddr_in *)&ss)->sin_addr) == 1) {
        ss.ss_family = AF_INET;
        len = sizeof(struct sockaddr_in);
    }
    else if (inet_pton(AF_INET6, addr,
                       &((struct sockaddr_in6 *)&ss)->sin6_addr) == 1) {
        ss.ss_family = AF_INET6;
        len = sizeof(struct sockaddr_in6);
    }
    if (lookup && len &&
        !getnameinfo((struct sockaddr *)&ss, len, name, sizeof(name), NULL, 0,
                     NI_NAMEREQD))
        snprintf(s->clienthost, sizeof(s->clienthost), "%s [%s]", name, addr);
    else
        snprintf(s->clienthost, sizeof(s->clienthost), "[%s]", addr);
}

struct imapd_session *imapd_session_new(const struct imapd_settings *st,
                                        const struct imapd_peer *peer)
{
    static unsigned sessions_served;
    struct imapd_session *s = xzmalloc(sizeof(*s));

    s->settings = st;
    s->prot = prot_new(peer->in_fd, peer->out_fd);
    prot_settimeout(s->prot, st->timeout);
    imapparse_init(&s->parse, s->prot, st->maxword, st->maxliteral);
    s->parse.literal_minus = st->literalminus;
    s->state = IMAPD_NOTAUTH;

    set_clienthost(s, peer->peer_addr, st->reverselookups);
    if (peer->peer_addr && *peer->peer_addr) {
        snprintf(s->remote_ipport, sizeof(s->remote_ipport), "%s;%d",
                 peer->peer_addr, peer->peer_port);
    }
    if (peer->local_addr && *peer->local_addr) {
        snprintf(s->local_ipport, sizeof(s->local_ipport), "%s;%d",
                 peer->local_addr, peer->local_port);
    }
    snprintf(s->session_id, sizeof(s->session_id), "%s-%d-%lld-%u",
             st->servername, (int)getpid(), (long long)time(NULL),
             ++sessions_served);

    saslserver_new("imap", st->servername,
                   s->local_ipport[0] ? s->local_ipport : NULL,
                   s->remote_ipport[0] ? s->remote_ipport : NULL, &s->sasl);
    return s;
}

void imapd_session_free(struct imapd_session **sp)
{
    struct imapd_session *s = *sp;

    if (!s)
        return;
    imapd_unselect(s);
    imapd_notify_free(&s->notify);
    prot_free(&s->prot);
    saslserver_free(&s->sasl);
    free(s->userid);
    strarray_fini(&s->client_id);
    strarray_fini(&s->groups);
    buf_free(&s->tag);
    buf_free(&s->cmdname);
    buf_free(&s->arg1);
    buf_free(&s->arg2);
    free(s);
    *sp = NULL;
}

int imapd_login_disabled(const struct imapd_session *s)
{
    if (s->tls_active)
        return 0;
    return s->settings->tls_required || !s->settings->allowplaintext;
}

void imapd_session_login(struct imapd_session *s, const char *userid)
{
    free(s->userid);
    s->userid = xstrdup(userid);
    s->isadmin = saslserver_isadmin(userid);
    s->state = IMAPD_AUTH;
    imapd_mailbox_login(s);
    /* One ID before login, one after (RFC 2971 allows more; Cyrus asks
     * for no more than one per state). */
    s->did_id = 0;
}

int imapd_session_logout_user(struct imapd_session *s)
{
    imapd_notify_free(&s->notify);
    free(s->userid);
    s->userid = NULL;
    s->isadmin = 0;
    s->state = IMAPD_NOTAUTH;
    s->enabled = 0;
    s->parse.allow_utf8 = 0;
    memset(&s->ns, 0, sizeof(s->ns));
    strarray_fini(&s->groups);
    s->did_id = 0;
    /* A fresh SASL exchange, keeping what TLS told it. */
    return saslserver_reset(s->sasl) < 0 ? -1 : 0;
}

void imapd_failed_login_pause(const struct imapd_session *s)
{
    if (s->settings->failedloginpause > 0) {
        prot_flush(s->prot);
        sleep((unsigned)s->settings->failedloginpause);
    }
}

int imapd_session_starttls(struct imapd_session *s)
{
    struct buf err = BUF_INITIALIZER;
    const char *desc;
    const char *peer_cn = NULL;
    SSL *ssl;
    X509 *cert;
    char cn[256];

    if (prot_starttls(s->prot, s->settings->tls_ctx, &err) < 0) {
        log_notice("STARTTLS negotiation failed: %s: %s", s->clienthost,
                   buf_cstring(&err));
        buf_free(&err);
        s->state = IMAPD_LOGOUT;
        return -1;
    }
    buf_free(&err);
    s->tls_active = 1;

    /* A client certificate names the user for SASL EXTERNAL. */
    ssl = prot_tls_ssl(s->prot);
    cert = ssl ? SSL_get0_peer_certificate(ssl) : NULL;
    if (cert && SSL_get_verify_result(ssl) == X509_V_OK &&
        X509_NAME_get_text_by_NID(X509_get_subject_name(cert),
                                  NID_commonName, cn, sizeof(cn)) > 0)
        peer_cn = cn;
    saslserver_set_tls(s->sasl, (unsigned)prot_tls_ssf(s->prot), peer_cn);

    desc = prot_tls_description(s->prot);
    log_notice("starttls: %s %s SESSIONID=<%s>", s->clienthost,
               desc ? desc : "TLS", s->session_id);
    return 0;
}

/* Wait for the next command within the autologout time.  Waiting here,
 * rather than letting the read time out, keeps the stream usable for the
 * BYE.  Returns 0 when input (or EOF) is there, -1 on timeout. */
static int wait_for_command(struct imapd_session *s)
{
    time_t deadline = time(NULL) + s->settings->timeout;

    for (;;) {
        time_t now = time(NULL);
        int r;

        if (now >= deadline)
            return -1;
        /* Under NOTIFY the client hears of changes between commands
         * too (RFC 5465 3.1), so look for them while waiting. */
        if (s->notify) {
            imapd_notify_poll(s);
            prot_flush(s->prot);
        }
        r = prot_wait_input(s->prot, s->notify ? IMAPD_NOTIFY_POLL_MS :
                                     (int)(deadline - now) * 1000);
        if (r != 0)
            return 0;
        /* 0 is also a signal; only the clock says it was the timeout. */
    }
}

static void session_end(struct imapd_session *s)
{
    const char *err = prot_error(s->prot);

    if (s->state == IMAPD_LOGOUT || !err)
        return;
    if (!strcmp(err, "EOF")) {
        log_info("%s closed the connection", s->clienthost);
        return;
    }
    log_notice("%s, closing connection to %s", err, s->clienthost);
}

void imapd_session_run(struct imapd_session *s, int imaps)
{
    struct buf capa = BUF_INITIALIZER;

    log_notice("accepted connection: %s SESSIONID=<%s>", s->clienthost,
               s->session_id);
    if (!s->sasl) {
        prot_puts(s->prot, "* BYE Authentication is unavailable\r\n");
        prot_flush(s->prot);
        return;
    }
    if (imaps && imapd_session_starttls(s) < 0)
        return;

    imapd_capabilities(s, &capa);
    prot_printf(s->prot, "* OK [CAPABILITY %s] %s Cyrus-compatible IMAP server"
                " ready\r\n", buf_cstring(&capa), s->settings->servername);
    buf_free(&capa);

    for (;;) {
        if (prot_input_pending(s->prot) == 0 && wait_for_command(s) < 0) {
            log_notice("autologout: %s%s%s idle for too long", s->clienthost,
                       s->userid ? " " : "", s->userid ? s->userid : "");
            prot_puts(s->prot, "* BYE Autologout; idle for too long\r\n");
            s->state = IMAPD_LOGOUT;
            break;
        }
        if (imapd_dispatch(s) < 0)
            break;
    }
    session_end(s);
    prot_flush(s->prot);
}
