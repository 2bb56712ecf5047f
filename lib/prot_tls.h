/* prot_tls.h -- the TLS layer of prot streams (OpenSSL 3).
 *
 * tls_server_context() builds a server SSL_CTX from imapd.conf-style
 * settings and explains any failure in words an administrator can act on
 * ("cannot read certificate /x: No such file or directory").
 * prot_starttls() performs the server handshake on a stream, over whatever
 * is already on its stack (the fds, or a deflate layer), and then pushes
 * the TLS layer so that every later read and write is encrypted.
 * Implicit TLS (imaps) is prot_starttls() right after accept.
 */
#ifndef LIB_PROT_TLS_H
#define LIB_PROT_TLS_H

#include <openssl/ssl.h>

#include "lib/buf.h"
#include "lib/prot.h"

/* tls_client_certs; a zeroed tls_settings asks for optional ones. */
enum tls_client_certs {
    TLS_CLIENT_CERTS_OPTIONAL = 0,
    TLS_CLIENT_CERTS_OFF,
    TLS_CLIENT_CERTS_REQUIRE,
};

struct tls_settings {
    const char *cert_file;      /* tls_server_cert: PEM with its chain; two
                                   comma-separated files (e.g. RSA, EC) */
    const char *key_file;       /* tls_server_key, paired like cert_file;
                                   NULL = the key is in cert_file */
    const char *ca_file;        /* tls_client_ca_file (may be NULL) */
    const char *ca_dir;         /* tls_client_ca_dir (may be NULL) */
    const char *ciphers;        /* tls_ciphers (may be NULL) */
    const char *versions;       /* tls_versions, e.g. "tls1_2 tls1_3" */
    int prefer_server_ciphers;  /* tls_prefer_server_ciphers */
    enum tls_client_certs client_certs; /* tls_client_certs, used when a
                                           CA file or directory is set */
};

/* A server context, or NULL with the reason in *err.  With a CA file or
 * directory the server asks for client certificates (and with
 * TLS_CLIENT_CERTS_REQUIRE refuses clients without one). */
SSL_CTX *tls_server_context(const struct tls_settings *settings, struct buf *err);
/* Fill settings from imapd.conf options, honouring the deprecated
 * spellings (tls_cert_file, tls_key_file, tls_ca_file, tls_ca_path) when
 * the current ones are unset.  The strings stay owned by the config. */
void tls_settings_from_config(struct tls_settings *settings);

/* Handshake as server on `s` (pending output is flushed first) and push
 * the TLS layer.  Returns 0, or -1 with the reason in *err (the stream is
 * then unusable). */
int prot_starttls(struct protstream *s, SSL_CTX *ctx, struct buf *err);
/* The same as a client (sync_client, tests): `servername` (may be NULL) is
 * sent as SNI and, if ctx verifies peers, checked against the
 * certificate. */
int prot_starttls_client(struct protstream *s, SSL_CTX *ctx,
                         const char *servername, struct buf *err);
/* Negotiated protocol and cipher ("TLSv1.3 TLS_AES_256_GCM_SHA384"), or
 * NULL when TLS is not active. */
const char *prot_tls_description(struct protstream *s);
/* The session's SSL object (client certificate, channel binding), or NULL. */
SSL *prot_tls_ssl(struct protstream *s);
/* Secret bits of the negotiated cipher (SASL's external SSF), 0 if none. */
int prot_tls_ssf(struct protstream *s);

#endif
