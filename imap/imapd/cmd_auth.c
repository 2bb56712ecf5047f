/* cmd_auth.c -- the not-authenticated state: STARTTLS, AUTHENTICATE
 * (with SASL-IR, RFC 4959) and LOGIN. */
#include "config.h"

#include <string.h>

#include "imap/imapd/imapd.h"
#include "imap/imapd/imapd_commands.h"
#include "lib/log.h"

/* Client responses during AUTHENTICATE are bounded like any word. */
static int read_response_line(struct imapd_session *s, struct buf *out)
{
    size_t max = s->settings->maxword;
    int toolong = 0;
    int c;

    buf_reset(out);
    while ((c = prot_getc(s->prot)) != EOF && c != '\n') {
        if (out->len >= max)
            toolong = 1;
        else
            buf_putc(out, (char)c);
    }
    if (c == EOF)
        return -1;
    if (out->len && out->s[out->len - 1] == '\r')
        buf_truncate(out, out->len - 1);
    return toolong ? 1 : 0;
}

static void send_capability_ok(struct imapd_session *s, const char *tag,
                               const char *text)
{
    struct buf capa = BUF_INITIALIZER;

    imapd_capabilities(s, &capa);
    prot_printf(s->prot, "%s OK [CAPABILITY %s] %s\r\n", tag,
                buf_cstring(&capa), text);
    buf_free(&capa);
}

void cmd_starttls(struct imapd_session *s, struct imapd_cmd *cmd)
{
    if (!s->settings->tls_ctx) {
        /* As Cyrus: without a certificate the command does not exist. */
        imapparse_skipline(&s->parse, cmd->c);
        prot_printf(s->prot, "%s BAD Unrecognized command\r\n", cmd->tag);
        return;
    }
    if (imapd_args_end(s, cmd, cmd->c) < 0)
        return;
    if (s->tls_active) {
        prot_printf(s->prot, "%s BAD Already did a successful Starttls\r\n",
                    cmd->tag);
        return;
    }
    prot_printf(s->prot, "%s OK Begin TLS negotiation now\r\n", cmd->tag);
    /* The handshake discards anything pipelined in plaintext after the
     * command; the client must ask for capabilities again. */
    imapd_session_starttls(s);
}

/* Report a failed exchange and make the SASL context usable again. */
static void authenticate_failed(struct imapd_session *s, struct imapd_cmd *cmd,
                                const char *mech, int r)
{
    const char *authid = saslserver_authid(s->sasl);

    switch (r) {
    case SASLSERVER_NOMECH:
        prot_printf(s->prot, "%s NO no mechanism available\r\n", cmd->tag);
        break;
    case SASLSERVER_FAIL:
        log_error("badlogin: %s %s (%s) [%s]", s->clienthost, mech,
                  authid ? authid : "-notset-",
                  saslserver_errdetail(s->sasl));
        prot_printf(s->prot, "%s NO [UNAVAILABLE] Authentication is "
                    "unavailable\r\n", cmd->tag);
        break;
    default:
        log_notice("badlogin: %s %s (%s) [%s]", s->clienthost, mech,
                   authid ? authid : "-notset-",
                   saslserver_errdetail(s->sasl));
        imapd_failed_login_pause(s);
        if (r == SASLSERVER_NOAUTHZ)
            prot_printf(s->prot, "%s NO [AUTHORIZATIONFAILED] authorization "
                        "failure\r\n", cmd->tag);
        else
            prot_printf(s->prot, "%s NO [AUTHENTICATIONFAILED] authentication "
                        "failure\r\n", cmd->tag);
        break;
    }
    saslserver_reset(s->sasl);
}

/* Outcomes of an exchange besides the SASL results. */
enum {
    EXCHANGE_ABORTED = 100,     /* cancelled or garbage, already answered */
    EXCHANGE_EOF = 101,         /* the client went away */
};

/* Send challenges and read answers until the exchange ends.  Returns the
 * SASL result or one of the EXCHANGE_ codes. */
static int authenticate_exchange(struct imapd_session *s, struct imapd_cmd *cmd,
                                 int r, const char *out, size_t outlen)
{
    struct buf line = BUF_INITIALIZER;
    struct buf data = BUF_INITIALIZER;
    struct buf b64 = BUF_INITIALIZER;

    /* Data the mechanism sends on success (e.g. SCRAM's server proof)
     * goes out as one more challenge, answered by an empty line. */
    while (r == SASLSERVER_CONTINUE || (r == SASLSERVER_OK && outlen)) {
        int toolong;

        buf_reset(&b64);
        saslserver_encode64(out, outlen, &b64);
        prot_printf(s->prot, "+ %s\r\n", buf_cstring(&b64));

        toolong = read_response_line(s, &line);
        if (toolong < 0) {
            r = EXCHANGE_EOF;
            break;
        }
        if (!toolong && !buf_cmp_cstr(&line, "*")) {
            prot_printf(s->prot, "%s BAD Client canceled authentication\r\n",
                        cmd->tag);
            r = EXCHANGE_ABORTED;
            break;
        }
        buf_reset(&data);
        if (toolong || saslserver_decode64(line.s, line.len, &data) < 0) {
            prot_printf(s->prot, "%s BAD Invalid base64 data\r\n", cmd->tag);
            r = EXCHANGE_ABORTED;
            break;
        }
        if (r == SASLSERVER_OK)
            break;
        r = saslserver_step(s->sasl, data.len ? data.s : "", data.len, &out,
                            &outlen);
    }
    buf_free(&line);
    buf_free(&data);
    buf_free(&b64);
    return r;
}

void cmd_authenticate(struct imapd_session *s, struct imapd_cmd *cmd)
{
    struct buf initial = BUF_INITIALIZER;
    const char *in = NULL;
    const char *out = NULL;
    size_t outlen = 0;
    char *mech;
    const char *userid;
    int have_ir = 0;
    int c = cmd->c;
    int r;

    if (c != ' ') {
        imapd_args_missing(s, cmd, c);
        return;
    }
    c = imapparse_atom(&s->parse, &s->arg1);
    if (c < 0 || !s->arg1.len) {
        imapd_args_error(s, cmd, c, "Invalid authenticate mechanism");
        return;
    }
    if (c == ' ') {
        c = imapparse_atom(&s->parse, &s->arg2);
        if (c < 0 || !s->arg2.len) {
            imapd_args_error(s, cmd, c, "Invalid initial response");
            return;
        }
        have_ir = 1;
    }
    if (imapd_args_end(s, cmd, c) < 0)
        return;

    if (s->settings->tls_required && !s->tls_active) {
        prot_printf(s->prot, "%s NO [PRIVACYREQUIRED] Authenticate only "
                    "available under a layer\r\n", cmd->tag);
        return;
    }
    if (have_ir) {
        /* RFC 4959: "=" is an empty initial response. */
        if (buf_cmp_cstr(&s->arg2, "=") &&
            saslserver_decode64(s->arg2.s, s->arg2.len, &initial) < 0) {
            prot_printf(s->prot, "%s BAD Invalid base64 data\r\n", cmd->tag);
            buf_free(&initial);
            return;
        }
        in = initial.len ? initial.s : "";
    }

    mech = buf_release(&s->arg1);
    r = saslserver_start(s->sasl, mech, in, initial.len, &out, &outlen);
    buf_free(&initial);
    r = authenticate_exchange(s, cmd, r, out, outlen);
    if (r == EXCHANGE_EOF || r == EXCHANGE_ABORTED) {
        if (r == EXCHANGE_ABORTED)
            saslserver_reset(s->sasl);
        free(mech);
        return;
    }
    if (r != SASLSERVER_OK || !(userid = saslserver_userid(s->sasl))) {
        authenticate_failed(s, cmd, mech, r == SASLSERVER_OK ? SASLSERVER_FAIL : r);
        free(mech);
        return;
    }

    imapd_session_login(s, userid);
    log_notice("login: %s %s %s%s User logged in SESSIONID=<%s>",
               s->clienthost, s->userid, mech, s->tls_active ? "+TLS" : "",
               s->session_id);
    free(mech);

    {
        struct buf text = BUF_INITIALIZER;

        /* No SASL security layer is ever negotiated (max_ssf 0). */
        buf_printf(&text, "Success (%s) SESSIONID=<%s>",
                   s->tls_active ? "tls protection" : "no protection",
                   s->session_id);
        send_capability_ok(s, cmd->tag, buf_cstring(&text));
        buf_free(&text);
    }
}

/* Passwords do not linger in reused buffers. */
static void wipe(struct buf *buf)
{
    if (buf->s)
        memset(buf->s, 0, buf->alloc);
    buf_reset(buf);
}

void cmd_login(struct imapd_session *s, struct imapd_cmd *cmd)
{
    struct buf text = BUF_INITIALIZER;
    const char *userid;
    int c = cmd->c;
    int r;

    c = imapd_arg_astring(s, cmd, c, &s->arg1, 1);
    if (c < 0)
        return;
    c = imapparse_astring(&s->parse, &s->arg2);
    if (imapd_args_end(s, cmd, c) < 0) {
        wipe(&s->arg2);
        return;
    }

    if (imapd_login_disabled(s)) {
        wipe(&s->arg2);
        log_notice("badlogin: %s plaintext (%s) refused without TLS",
                   s->clienthost, buf_cstring(&s->arg1));
        prot_printf(s->prot, "%s NO [PRIVACYREQUIRED] Login only available "
                    "under a layer\r\n", cmd->tag);
        return;
    }

    r = saslserver_checkpass(s->sasl, buf_cstring(&s->arg1),
                             buf_cstring(&s->arg2));
    wipe(&s->arg2);
    if (r != SASLSERVER_OK || !(userid = saslserver_userid(s->sasl))) {
        if (r == SASLSERVER_FAIL || r == SASLSERVER_OK) {
            log_error("badlogin: %s plaintext (%s) [%s]", s->clienthost,
                      buf_cstring(&s->arg1), saslserver_errdetail(s->sasl));
            prot_printf(s->prot, "%s NO [UNAVAILABLE] Login failed: "
                        "authentication is unavailable\r\n", cmd->tag);
            return;
        }
        log_notice("badlogin: %s plaintext (%s) [%s]", s->clienthost,
                   buf_cstring(&s->arg1), saslserver_errdetail(s->sasl));
        imapd_failed_login_pause(s);
        prot_printf(s->prot, "%s NO [AUTHENTICATIONFAILED] Login failed: "
                    "authentication failure\r\n", cmd->tag);
        return;
    }

    imapd_session_login(s, userid);
    log_notice("login: %s %s plaintext%s User logged in SESSIONID=<%s>",
               s->clienthost, s->userid, s->tls_active ? "+TLS" : "",
               s->session_id);
    buf_printf(&text, "User logged in SESSIONID=<%s>", s->session_id);
    send_capability_ok(s, cmd->tag, buf_cstring(&text));
    buf_free(&text);
}
