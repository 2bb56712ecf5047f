/* prot_tls.c -- the TLS layer of prot streams; see prot_tls.h.
 *
 * OpenSSL talks to the rest of the stack through a small BIO whose reads
 * and writes go to the layer below (prot_lower_*), so TLS works the same
 * over a socket, a pair of pipes, or a deflate layer, and inherits the
 * stream's timeout and SIGPIPE safety.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "lib/config.h"
#include "lib/prot_tls.h"
#include "lib/xmalloc.h"

struct tls_layer {
    struct prot_lower lower;
    SSL *ssl;
    char description[128];
};

/* The most specific reason OpenSSL queued, and clear the queue. */
static const char *tls_reason(void)
{
    unsigned long e = ERR_peek_last_error();
    const char *reason = e ? ERR_reason_error_string(e) : NULL;
    ERR_clear_error();
    return reason ? reason : "unknown error";
}

/* --- the BIO over the layer below --- */

static int bio_create(BIO *b)
{
    BIO_set_init(b, 1);
    return 1;
}

static int bio_read_ex(BIO *b, char *buf, size_t len, size_t *done)
{
    struct tls_layer *t = BIO_get_data(b);
    BIO_clear_retry_flags(b);
    /* The layer below blocks, so 0 (EOF) or -1 (its error is recorded on
     * the stream) is final: OpenSSL sees end of input either way. */
    ssize_t n = prot_lower_read(&t->lower, buf, len);
    *done = n > 0 ? (size_t)n : 0;
    return n > 0;
}

static int bio_write_ex(BIO *b, const char *buf, size_t len, size_t *done)
{
    struct tls_layer *t = BIO_get_data(b);
    BIO_clear_retry_flags(b);
    ssize_t n = prot_lower_write(&t->lower, buf, len);
    *done = n > 0 ? (size_t)n : 0;
    return n >= 0;
}

static long bio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
    (void)num, (void)ptr;
    /* A handshake flight must reach the peer even through a layer that
     * holds output back (deflate below TLS). */
    if (cmd == BIO_CTRL_FLUSH) {
        struct tls_layer *t = BIO_get_data(b);
        return prot_lower_flush(&t->lower) == 0;
    }
    return 0;
}

static BIO_METHOD *bio_method(void)
{
    static BIO_METHOD *method;
    if (!method) {
        method = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK,
                              "prot stream");
        BIO_meth_set_create(method, bio_create);
        BIO_meth_set_read_ex(method, bio_read_ex);
        BIO_meth_set_write_ex(method, bio_write_ex);
        BIO_meth_set_ctrl(method, bio_ctrl);
    }
    return method;
}

/* --- the layer --- */

/* After a failed SSL call: 0 for a clean or abrupt end of input, -1 (with
 * the stream's error set) otherwise. */
static ssize_t tls_failed(struct tls_layer *t, int ret, const char *what)
{
    int code = SSL_get_error(t->ssl, ret);
    struct protstream *s = t->lower.s;

    if (prot_error(s)) {
        ERR_clear_error();
        return -1;
    }
    if (code == SSL_ERROR_ZERO_RETURN
        || (code == SSL_ERROR_SYSCALL && ERR_peek_error() == 0)) {
        return 0;
    }
    prot_seterror(s, "TLS %s failed: %s", what, tls_reason());
    return -1;
}

static ssize_t tls_read(void *ctx, char *buf, size_t len)
{
    struct tls_layer *t = ctx;
    size_t n;
    ERR_clear_error();
    int r = SSL_read_ex(t->ssl, buf, len, &n);
    if (r == 1) return (ssize_t)n;
    return tls_failed(t, r, "read");
}

static ssize_t tls_write(void *ctx, const char *buf, size_t len)
{
    struct tls_layer *t = ctx;
    size_t n;
    ERR_clear_error();
    int r = SSL_write_ex(t->ssl, buf, len, &n);
    if (r == 1 && n == len) return (ssize_t)n;
    if (tls_failed(t, r, "write") == 0)
        prot_seterror(t->lower.s, "TLS write failed: connection closed");
    return -1;
}

static size_t tls_pending(void *ctx)
{
    struct tls_layer *t = ctx;
    int n = SSL_pending(t->ssl);
    if (n > 0) return (size_t)n;
    /* Read-ahead may hold whole records not yet decrypted. */
    return SSL_has_pending(t->ssl) ? 1 : 0;
}

static void tls_free(void *ctx)
{
    struct tls_layer *t = ctx;
    if (!prot_error(t->lower.s) && SSL_is_init_finished(t->ssl)) {
        ERR_clear_error();
        SSL_shutdown(t->ssl);   /* send our close_notify; do not wait */
        ERR_clear_error();
        prot_lower_flush(&t->lower);
    }
    SSL_free(t->ssl);
    free(t);
}

static const struct prot_layer_ops tls_ops = {
    .name = "TLS",
    .read = tls_read,
    .write = tls_write,
    .flush = NULL,
    .pending = tls_pending,
    .free = tls_free,
};

/* The handshake in either role, then the layer goes on the stack. */
static int starttls(struct protstream *s, SSL_CTX *ctx, const char *servername,
                    int server, struct buf *err)
{
    if (prot_flush(s) < 0) {
        buf_printf(err, "cannot start TLS: %s", prot_error(s));
        return -1;
    }
    if (prot_has_layer(s, &tls_ops)) {
        buf_printf(err, "TLS is already active");
        return -1;
    }

    struct tls_layer *t = xzmalloc(sizeof(*t));
    t->lower = prot_lower_top(s);
    t->ssl = SSL_new(ctx);
    BIO *bio = t->ssl ? BIO_new(bio_method()) : NULL;
    if (!bio) {
        buf_printf(err, "cannot start TLS: %s", tls_reason());
        prot_seterror(s, "TLS set-up failed");
        SSL_free(t->ssl);
        free(t);
        return -1;
    }
    BIO_set_data(bio, t);
    SSL_set_bio(t->ssl, bio, bio);
    if (!server && servername) {
        SSL_set_tlsext_host_name(t->ssl, servername);
        SSL_set1_host(t->ssl, servername);
    }

    ERR_clear_error();
    int r = server ? SSL_accept(t->ssl) : SSL_connect(t->ssl);
    if (r != 1) {
        const char *why = prot_error(s);
        if (!why) {
            int code = SSL_get_error(t->ssl, r);
            why = code == SSL_ERROR_SYSCALL && !ERR_peek_error()
                ? "connection closed" : tls_reason();
        }
        buf_printf(err, "TLS handshake failed: %s", why);
        ERR_clear_error();
        prot_seterror(s, "TLS handshake failed");
        SSL_free(t->ssl);
        free(t);
        return -1;
    }
    snprintf(t->description, sizeof(t->description), "%s %s",
             SSL_get_version(t->ssl), SSL_get_cipher_name(t->ssl));

    if (prot_push_layer(s, &tls_ops, t) < 0) {
        buf_printf(err, "cannot start TLS: %s", prot_error(s));
        return -1;
    }
    return 0;
}

int prot_starttls(struct protstream *s, SSL_CTX *ctx, struct buf *err)
{
    return starttls(s, ctx, NULL, 1, err);
}

int prot_starttls_client(struct protstream *s, SSL_CTX *ctx,
                         const char *servername, struct buf *err)
{
    return starttls(s, ctx, servername, 0, err);
}

const char *prot_tls_description(struct protstream *s)
{
    struct tls_layer *t = prot_layer_ctx(s, &tls_ops);
    return t ? t->description : NULL;
}

SSL *prot_tls_ssl(struct protstream *s)
{
    struct tls_layer *t = prot_layer_ctx(s, &tls_ops);
    return t ? t->ssl : NULL;
}

int prot_tls_ssf(struct protstream *s)
{
    SSL *ssl = prot_tls_ssl(s);
    return ssl ? SSL_get_cipher_bits(ssl, NULL) : 0;
}

/* --- server context --- */

/* Apply a Cyrus-style tls_versions list ("tls1_2 tls1_3"): the range from
 * the lowest to the highest named version, minus any gaps. */
static int set_versions(SSL_CTX *ctx, const char *versions, struct buf *err)
{
    static const struct {
        const char *word;
        int version;
        unsigned long no_option;
    } table[] = {
        { "tls1_0", TLS1_VERSION, SSL_OP_NO_TLSv1 },
        { "tls1_1", TLS1_1_VERSION, SSL_OP_NO_TLSv1_1 },
        { "tls1_2", TLS1_2_VERSION, SSL_OP_NO_TLSv1_2 },
        { "tls1_3", TLS1_3_VERSION, SSL_OP_NO_TLSv1_3 },
    };
    const int n = (int)(sizeof(table) / sizeof(table[0]));
    int enabled[4] = { 0 };
    const char *p = versions;

    while (*p) {
        size_t len;
        int i;
        p += strspn(p, " \t,");
        len = strcspn(p, " \t,");
        if (!len) break;
        for (i = 0; i < n; i++)
            if (strlen(table[i].word) == len && !strncmp(p, table[i].word, len))
                break;
        if (i == n) {
            buf_printf(err, "unknown TLS version \"%.*s\" in tls_versions "
                       "(expected tls1_0, tls1_1, tls1_2 or tls1_3)", (int)len, p);
            return -1;
        }
        enabled[i] = 1;
        p += len;
    }

    int lo = -1, hi = -1;
    for (int i = 0; i < n; i++) {
        if (!enabled[i]) continue;
        if (lo < 0) lo = i;
        hi = i;
    }
    if (lo < 0) {
        buf_printf(err, "tls_versions \"%s\" enables no TLS version", versions);
        return -1;
    }
    SSL_CTX_set_min_proto_version(ctx, table[lo].version);
    SSL_CTX_set_max_proto_version(ctx, table[hi].version);
    for (int i = lo; i <= hi; i++)
        if (!enabled[i]) SSL_CTX_set_options(ctx, table[i].no_option);
    return 0;
}

static int check_readable(const char *what, const char *path, struct buf *err)
{
    if (access(path, R_OK) == 0) return 0;
    buf_printf(err, "cannot read %s %s: %s", what, path, strerror(errno));
    return -1;
}

static int set_client_ca(SSL_CTX *ctx, const struct tls_settings *st,
                         struct buf *err)
{
    const char *file = st->ca_file && *st->ca_file ? st->ca_file : NULL;
    const char *dir = st->ca_dir && *st->ca_dir ? st->ca_dir : NULL;

    if ((!file && !dir) || st->client_certs == TLS_CLIENT_CERTS_OFF) return 0;
    if (file && check_readable("client CA file", file, err) < 0) return -1;
    if (dir && check_readable("client CA directory", dir, err) < 0) return -1;
    if (!SSL_CTX_load_verify_locations(ctx, file, dir)) {
        buf_printf(err, "cannot load client CAs from %s: %s",
                   file ? file : dir, tls_reason());
        return -1;
    }
    if (file) {
        STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(file);
        if (names) SSL_CTX_set_client_CA_list(ctx, names);
        ERR_clear_error();
    }
    int mode = SSL_VERIFY_PEER | SSL_VERIFY_CLIENT_ONCE;
    if (st->client_certs == TLS_CLIENT_CERTS_REQUIRE)
        mode |= SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
    SSL_CTX_set_verify(ctx, mode, NULL);
    return 0;
}

/* Load one certificate (with its chain) and its key. */
static int load_pair(SSL_CTX *ctx, const char *cert, const char *key,
                     struct buf *err)
{
    if (check_readable("certificate", cert, err) < 0) return -1;
    if (check_readable("private key", key, err) < 0) return -1;
    ERR_clear_error();
    if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
        buf_printf(err, "cannot load certificate %s: %s", cert, tls_reason());
        return -1;
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) {
        if (ERR_GET_REASON(ERR_peek_last_error()) == X509_R_KEY_VALUES_MISMATCH) {
            ERR_clear_error();
            buf_printf(err, "private key %s does not match certificate %s",
                       key, cert);
        } else {
            buf_printf(err, "cannot load private key %s: %s", key,
                       tls_reason());
        }
        return -1;
    }
    if (SSL_CTX_check_private_key(ctx) != 1) {
        ERR_clear_error();
        buf_printf(err, "private key %s does not match certificate %s",
                   key, cert);
        return -1;
    }
    return 0;
}

/* Load the comma-separated certificate and key lists pairwise. */
static int load_certificates(SSL_CTX *ctx, const char *certs, const char *keys,
                             struct buf *err)
{
    char *certlist = xstrdup(certs);
    char *keylist = xstrdup(keys && *keys ? keys : certs);
    char *csave = NULL, *ksave = NULL;
    int r = 0, n = 0;

    char *cert = strtok_r(certlist, ", \t", &csave);
    char *key = strtok_r(keylist, ", \t", &ksave);
    for (; cert; cert = strtok_r(NULL, ", \t", &csave)) {
        if (!key) {
            buf_printf(err, "no private key given for certificate %s "
                       "(tls_server_key)", cert);
            r = -1;
            break;
        }
        if ((r = load_pair(ctx, cert, key, err)) < 0) break;
        n++;
        key = strtok_r(NULL, ", \t", &ksave);
    }
    if (!r && !n) {
        buf_printf(err, "no server certificate configured (tls_server_cert)");
        r = -1;
    }
    free(certlist);
    free(keylist);
    return r;
}

SSL_CTX *tls_server_context(const struct tls_settings *st, struct buf *err)
{
    static const unsigned char sid_ctx[] = "imapd";

    if (!st->cert_file || !*st->cert_file) {
        buf_printf(err, "no server certificate configured (tls_server_cert)");
        return NULL;
    }
    ERR_clear_error();
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx) {
        buf_printf(err, "cannot create TLS context: %s", tls_reason());
        return NULL;
    }
    if (load_certificates(ctx, st->cert_file, st->key_file, err) < 0)
        goto fail;
    if (set_versions(ctx, st->versions ? st->versions
                          : "tls1_0 tls1_1 tls1_2 tls1_3", err) < 0)
        goto fail;
    if (st->ciphers && *st->ciphers
        && SSL_CTX_set_cipher_list(ctx, st->ciphers) != 1) {
        buf_printf(err, "invalid tls_ciphers \"%s\": %s", st->ciphers,
                   tls_reason());
        goto fail;
    }
    if (set_client_ca(ctx, st, err) < 0) goto fail;

    SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION
                             | SSL_OP_IGNORE_UNEXPECTED_EOF);
    if (st->prefer_server_ciphers)
        SSL_CTX_set_options(ctx, SSL_OP_CIPHER_SERVER_PREFERENCE);
    SSL_CTX_set_read_ahead(ctx, 1);
    SSL_CTX_set_session_id_context(ctx, sid_ctx, sizeof(sid_ctx) - 1);
    return ctx;

fail:
    SSL_CTX_free(ctx);
    return NULL;
}

/* The option, or its deprecated spelling when the option is unset. */
static const char *config_either(enum imapopt opt, enum imapopt old)
{
    const char *v = config_getstring(opt);
    return v && *v ? v : config_getstring(old);
}

void tls_settings_from_config(struct tls_settings *st)
{
    memset(st, 0, sizeof(*st));
    st->cert_file = config_either(IMAPOPT_TLS_SERVER_CERT,
                                  IMAPOPT_TLS_CERT_FILE);
    st->key_file = config_either(IMAPOPT_TLS_SERVER_KEY, IMAPOPT_TLS_KEY_FILE);
    st->ca_file = config_either(IMAPOPT_TLS_CLIENT_CA_FILE, IMAPOPT_TLS_CA_FILE);
    st->ca_dir = config_either(IMAPOPT_TLS_CLIENT_CA_DIR, IMAPOPT_TLS_CA_PATH);
    st->ciphers = config_getstring(IMAPOPT_TLS_CIPHERS);
    st->versions = config_getstring(IMAPOPT_TLS_VERSIONS);
    st->prefer_server_ciphers = config_getswitch(IMAPOPT_TLS_PREFER_SERVER_CIPHERS);
    const char *certs = config_getenum(IMAPOPT_TLS_CLIENT_CERTS);
    if (certs && !strcmp(certs, "off"))
        st->client_certs = TLS_CLIENT_CERTS_OFF;
    else if (certs && !strcmp(certs, "require"))
        st->client_certs = TLS_CLIENT_CERTS_REQUIRE;
    else
        st->client_certs = TLS_CLIENT_CERTS_OPTIONAL;
}
