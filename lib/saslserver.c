/* saslserver.c -- the server side of SASL, shared by every protocol. */
#include "config.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sasl/sasl.h>

#include "lib/config.h"
#include "lib/log.h"
#include "lib/saslserver.h"
#include "lib/strarray.h"
#include "lib/xmalloc.h"

struct saslserver {
    sasl_conn_t *conn;
    char *service;
    char *serverfqdn;
    char *localip;
    char *remoteip;
    unsigned ext_ssf;       /* TLS strength; 0 without TLS */
    char *ext_authid;       /* TLS client certificate identity */
    int last;               /* last SASL result, for errdetail */
};

/* Process-wide settings, read once by saslserver_init.  The defaults are
 * those of imapd.conf so that tests may use the module without init. */
static struct {
    int initialised;
    int tolower;
    int allowplaintext;
    int allowanonymous;
    strarray_t admins;
    strarray_t proxyservers;
} settings = { 0, 1, 0, 0, STRARRAY_INITIALIZER, STRARRAY_INITIALIZER };

/* The library asks for "pwcheck_method"; imapd.conf spells it
 * "sasl_pwcheck_method", as Cyrus does. */
static int cb_getopt(void *context, const char *plugin_name,
                     const char *option, const char **result, unsigned *len)
{
    struct buf key = BUF_INITIALIZER;
    const char *val = NULL;

    (void)context;
    if (plugin_name) {
        /* Plugin-specific keys first: sasl_<plugin>_<option>. */
        buf_printf(&key, "sasl_%s_%s", plugin_name, option);
        val = config_getoverflowstring(buf_cstring(&key), NULL);
    }
    if (!val) {
        buf_reset(&key);
        buf_printf(&key, "sasl_%s", option);
        val = config_getoverflowstring(buf_cstring(&key), NULL);
    }
    buf_free(&key);
    if (!val)
        return SASL_FAIL;
    *result = val;
    if (len)
        *len = (unsigned)strlen(val);
    return SASL_OK;
}

/* Cyrus configurations for tests and demos use "sasl_pwcheck_method:
 * alwaystrue", but distributions (Debian among them) build libsasl2
 * without that verifier.  The library asks this callback first and falls
 * back to its own verifiers when it does not answer SASL_OK, so every
 * other method keeps working unchanged. */
static int cb_checkpass(sasl_conn_t *conn, void *context, const char *user,
                        const char *pass, unsigned passlen,
                        struct propctx *propctx)
{
    (void)conn; (void)context; (void)pass; (void)passlen; (void)propctx;
    const char *methods = config_getoverflowstring("sasl_pwcheck_method", NULL);
    if (!methods) return SASL_NOUSER;
    strarray_t *sa = strarray_split(methods, " \t,");
    int always = strarray_find(sa, "alwaystrue", 1) >= 0;
    strarray_free(&sa);
    if (!always) return SASL_NOUSER;
    log_notice("alwaystrue: accepting password of %s", user);
    return SASL_OK;
}

static int cb_log(void *context, int level, const char *message)
{
    int priority;

    (void)context;
    switch (level) {
    case SASL_LOG_ERR:
        priority = LOG_ERR;
        break;
    case SASL_LOG_WARN:
        priority = LOG_WARNING;
        break;
    case SASL_LOG_FAIL:
    case SASL_LOG_NOTE:
        priority = LOG_NOTICE;
        break;
    default:
        priority = LOG_DEBUG;
        break;
    }
    log_msg(priority, "SASL: %s", message ? message : "");
    return SASL_OK;
}

int saslserver_isadmin(const char *userid)
{
    return userid && strarray_find(&settings.admins, userid, 0) >= 0;
}

/* An authorization identity different from the authenticated one is a
 * request to act as another user: only administrators and the trusted
 * proxy servers may do that. */
static int cb_proxy_policy(sasl_conn_t *conn, void *context,
                           const char *requested_user, unsigned rlen,
                           const char *auth_identity, unsigned alen,
                           const char *def_realm, unsigned urlen,
                           struct propctx *propctx)
{
    char *authid;
    int allowed;

    (void)context;
    (void)def_realm;
    (void)urlen;
    (void)propctx;
    if (rlen == alen && !memcmp(requested_user, auth_identity, alen))
        return SASL_OK;

    authid = xstrndup(auth_identity, alen);
    allowed = saslserver_isadmin(authid) ||
              strarray_find(&settings.proxyservers, authid, 0) >= 0;
    if (!allowed) {
        sasl_seterror(conn, SASL_NOLOG, "%s is not allowed to proxy", authid);
        log_notice("SASL: %s may not act as %.*s", authid, (int)rlen,
                   requested_user);
    }
    free(authid);
    return allowed ? SASL_OK : SASL_BADAUTH;
}

int saslserver_canon_user(const char *in, size_t inlen, const char *realm,
                          struct buf *out)
{
    const char *at;
    size_t i;

    while (inlen && isspace((unsigned char)in[0])) {
        in++;
        inlen--;
    }
    while (inlen && isspace((unsigned char)in[inlen - 1]))
        inlen--;
    if (!inlen || memchr(in, '\0', inlen))
        return -1;

    buf_setmap(out, in, inlen);
    if (settings.tolower) {
        for (i = 0; i < out->len; i++)
            out->s[i] = (char)tolower((unsigned char)out->s[i]);
    }
    /* "user@realm" with the server's own realm is just "user", as sasldb
     * stores users of the default realm without it. */
    at = memchr(buf_cstring(out), '@', out->len);
    if (at && realm && *realm && !strcasecmp(at + 1, realm))
        buf_truncate(out, (size_t)(at - out->s));
    return out->len ? 0 : -1;
}

static int cb_canon_user(sasl_conn_t *conn, void *context, const char *in,
                         unsigned inlen, unsigned flags,
                         const char *user_realm, char *out, unsigned out_max,
                         unsigned *out_len)
{
    struct buf canon = BUF_INITIALIZER;
    int r = SASL_OK;

    (void)context;
    (void)flags;
    if (saslserver_canon_user(in, inlen, user_realm, &canon) < 0) {
        sasl_seterror(conn, 0, "invalid user name");
        r = SASL_BADPROT;
    }
    else if (canon.len >= out_max) {
        sasl_seterror(conn, 0, "user name too long");
        r = SASL_BUFOVER;
    }
    else {
        memcpy(out, canon.s, canon.len);
        out[canon.len] = '\0';
        *out_len = (unsigned)canon.len;
    }
    buf_free(&canon);
    return r;
}

typedef int (*sasl_cb_fn)(void);

static const sasl_callback_t callbacks[] = {
    { SASL_CB_GETOPT, (sasl_cb_fn)(void (*)(void))cb_getopt, NULL },
    { SASL_CB_LOG, (sasl_cb_fn)(void (*)(void))cb_log, NULL },
    { SASL_CB_PROXY_POLICY, (sasl_cb_fn)(void (*)(void))cb_proxy_policy, NULL },
    { SASL_CB_CANON_USER, (sasl_cb_fn)(void (*)(void))cb_canon_user, NULL },
    { SASL_CB_SERVER_USERDB_CHECKPASS,
      (sasl_cb_fn)(void (*)(void))cb_checkpass, NULL },
    { SASL_CB_LIST_END, NULL, NULL },
};

static void split_users(strarray_t *sa, const char *list)
{
    strarray_t *words;
    struct buf canon = BUF_INITIALIZER;
    int i;

    strarray_truncate(sa, 0);
    if (!list)
        return;
    words = strarray_split(list, " \t,");
    for (i = 0; i < words->count; i++) {
        if (!saslserver_canon_user(words->data[i], strlen(words->data[i]),
                                   NULL, &canon))
            strarray_append(sa, buf_cstring(&canon));
    }
    strarray_free(&words);
    buf_free(&canon);
}

int saslserver_init(const char *appname)
{
    int r;

    settings.tolower = config_getswitch(IMAPOPT_USERNAME_TOLOWER);
    settings.allowplaintext = config_getswitch(IMAPOPT_ALLOWPLAINTEXT);
    settings.allowanonymous = config_getswitch(IMAPOPT_ALLOWANONYMOUSLOGIN);
    split_users(&settings.admins, config_getstring(IMAPOPT_ADMINS));
    split_users(&settings.proxyservers, config_getstring(IMAPOPT_PROXYSERVERS));

    if (settings.initialised)
        return 0;
    r = sasl_server_init(callbacks, appname);
    if (r != SASL_OK) {
        log_error("SASL: initialisation failed: %s",
                  sasl_errstring(r, NULL, NULL));
        return -1;
    }
    settings.initialised = 1;
    return 0;
}

void saslserver_done(void)
{
    if (settings.initialised) {
        sasl_server_done();
        settings.initialised = 0;
    }
    strarray_fini(&settings.admins);
    strarray_fini(&settings.proxyservers);
}

int saslserver_plaintext_ok(const struct saslserver *conn)
{
    return settings.allowplaintext || conn->ext_ssf > 1;
}

/* Security properties follow the connection: no layers of our own, and
 * plaintext mechanisms only where a password cannot be sniffed. */
static int apply_props(struct saslserver *conn)
{
    sasl_security_properties_t props;
    sasl_ssf_t ssf = conn->ext_ssf;
    int r;

    memset(&props, 0, sizeof(props));
    props.min_ssf = 0;
    props.max_ssf = 0;
    props.maxbufsize = 0;
    if (!saslserver_plaintext_ok(conn))
        props.security_flags |= SASL_SEC_NOPLAINTEXT;
    if (!settings.allowanonymous)
        props.security_flags |= SASL_SEC_NOANONYMOUS;

    r = sasl_setprop(conn->conn, SASL_SEC_PROPS, &props);
    if (r == SASL_OK)
        r = sasl_setprop(conn->conn, SASL_SSF_EXTERNAL, &ssf);
    if (r == SASL_OK && conn->ext_authid)
        r = sasl_setprop(conn->conn, SASL_AUTH_EXTERNAL, conn->ext_authid);
    if (r != SASL_OK) {
        log_error("SASL: cannot set connection properties: %s",
                  sasl_errstring(r, NULL, NULL));
        return -1;
    }
    return 0;
}

static int open_conn(struct saslserver *conn)
{
    int r;

    r = sasl_server_new(conn->service, conn->serverfqdn, NULL,
                        conn->localip, conn->remoteip, NULL, 0, &conn->conn);
    if (r != SASL_OK) {
        log_error("SASL: sasl_server_new failed: %s",
                  sasl_errstring(r, NULL, NULL));
        conn->conn = NULL;
        return -1;
    }
    return apply_props(conn);
}

int saslserver_new(const char *service, const char *serverfqdn,
                   const char *localip, const char *remoteip,
                   struct saslserver **connp)
{
    struct saslserver *conn = xzmalloc(sizeof(*conn));

    conn->service = xstrdup(service);
    conn->serverfqdn = xstrdupnull(serverfqdn);
    conn->localip = xstrdupnull(localip);
    conn->remoteip = xstrdupnull(remoteip);
    if (open_conn(conn) < 0) {
        saslserver_free(&conn);
        *connp = NULL;
        return -1;
    }
    *connp = conn;
    return 0;
}

void saslserver_free(struct saslserver **connp)
{
    struct saslserver *conn = *connp;

    if (!conn)
        return;
    if (conn->conn)
        sasl_dispose(&conn->conn);
    free(conn->service);
    free(conn->serverfqdn);
    free(conn->localip);
    free(conn->remoteip);
    free(conn->ext_authid);
    free(conn);
    *connp = NULL;
}

int saslserver_reset(struct saslserver *conn)
{
    if (conn->conn)
        sasl_dispose(&conn->conn);
    return open_conn(conn);
}

int saslserver_set_tls(struct saslserver *conn, unsigned ssf, const char *authid)
{
    conn->ext_ssf = ssf;
    free(conn->ext_authid);
    conn->ext_authid = xstrdupnull(authid);
    return apply_props(conn);
}

void saslserver_mechanisms(struct saslserver *conn, strarray_t *out)
{
    const char *list = NULL;
    unsigned len = 0;
    int count = 0;
    strarray_t *mechs;
    int i;

    if (sasl_listmech(conn->conn, NULL, "", " ", "", &list, &len, &count)
            != SASL_OK || !list)
        return;
    mechs = strarray_split(list, " ");
    for (i = 0; i < mechs->count; i++)
        strarray_add(out, mechs->data[i]);
    strarray_free(&mechs);
}

static int map_result(int r)
{
    switch (r) {
    case SASL_OK:
        return SASLSERVER_OK;
    case SASL_CONTINUE:
        return SASLSERVER_CONTINUE;
    case SASL_BADAUTH:
    case SASL_NOUSER:
    case SASL_NOVERIFY:
    case SASL_EXPIRED:
    case SASL_DISABLED:
        return SASLSERVER_BADAUTH;
    case SASL_NOAUTHZ:
        return SASLSERVER_NOAUTHZ;
    case SASL_NOMECH:
    case SASL_TOOWEAK:
    case SASL_ENCRYPT:
        return SASLSERVER_NOMECH;
    case SASL_BADPROT:
    case SASL_BADPARAM:
        return SASLSERVER_BADPROT;
    default:
        return SASLSERVER_FAIL;
    }
}

int saslserver_start(struct saslserver *conn, const char *mech,
                     const char *in, size_t inlen,
                     const char **out, size_t *outlen)
{
    unsigned olen = 0;

    *out = NULL;
    conn->last = sasl_server_start(conn->conn, mech, in, (unsigned)inlen,
                                   out, &olen);
    *outlen = olen;
    return map_result(conn->last);
}

int saslserver_step(struct saslserver *conn, const char *in, size_t inlen,
                    const char **out, size_t *outlen)
{
    unsigned olen = 0;

    *out = NULL;
    conn->last = sasl_server_step(conn->conn, in, (unsigned)inlen, out, &olen);
    *outlen = olen;
    return map_result(conn->last);
}

int saslserver_checkpass(struct saslserver *conn, const char *user,
                         const char *pass)
{
    conn->last = sasl_checkpass(conn->conn, user, (unsigned)strlen(user),
                                pass, (unsigned)strlen(pass));
    return map_result(conn->last);
}

static const char *get_string_prop(struct saslserver *conn, int prop)
{
    const void *val = NULL;

    if (sasl_getprop(conn->conn, prop, &val) != SASL_OK)
        return NULL;
    return val;
}

const char *saslserver_userid(struct saslserver *conn)
{
    return get_string_prop(conn, SASL_USERNAME);
}

const char *saslserver_authid(struct saslserver *conn)
{
    return get_string_prop(conn, SASL_AUTHUSER);
}

const char *saslserver_errdetail(struct saslserver *conn)
{
    return sasl_errdetail(conn->conn);
}

static const char b64chars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

void saslserver_encode64(const char *in, size_t len, struct buf *out)
{
    const unsigned char *p = (const unsigned char *)in;
    size_t i;

    buf_ensure(out, (len + 2) / 3 * 4 + 1);
    for (i = 0; i + 2 < len; i += 3) {
        buf_putc(out, b64chars[p[i] >> 2]);
        buf_putc(out, b64chars[((p[i] & 3) << 4) | (p[i + 1] >> 4)]);
        buf_putc(out, b64chars[((p[i + 1] & 15) << 2) | (p[i + 2] >> 6)]);
        buf_putc(out, b64chars[p[i + 2] & 63]);
    }
    if (len - i == 1) {
        buf_putc(out, b64chars[p[i] >> 2]);
        buf_putc(out, b64chars[(p[i] & 3) << 4]);
        buf_appendcstr(out, "==");
    }
    else if (len - i == 2) {
        buf_putc(out, b64chars[p[i] >> 2]);
        buf_putc(out, b64chars[((p[i] & 3) << 4) | (p[i + 1] >> 4)]);
        buf_putc(out, b64chars[(p[i + 1] & 15) << 2]);
        buf_putc(out, '=');
    }
}

static int b64value(char c)
{
    const char *p = c ? strchr(b64chars, c) : NULL;

    return p ? (int)(p - b64chars) : -1;
}

int saslserver_decode64(const char *in, size_t len, struct buf *out)
{
    size_t i;

    if (len % 4)
        return -1;
    for (i = 0; i < len; i += 4) {
        int v[4], k, pad = 0;

        for (k = 0; k < 4; k++) {
            if (in[i + k] == '=' && i + 4 == len && k >= 2) {
                v[k] = 0;
                pad++;
                continue;
            }
            /* Data after padding is malformed. */
            if (pad)
                return -1;
            v[k] = b64value(in[i + k]);
            if (v[k] < 0)
                return -1;
        }
        buf_putc(out, (char)((v[0] << 2) | (v[1] >> 4)));
        if (pad < 2)
            buf_putc(out, (char)(((v[1] & 15) << 4) | (v[2] >> 2)));
        if (pad < 1)
            buf_putc(out, (char)(((v[2] & 3) << 6) | v[3]));
    }
    return 0;
}
