/* prot_tls.h -- the TLS layer of prot streams (OpenSSL 3).
 *
 * tls_server_context() builds a server SSL_CTX from imapd.conf-style
 * settings; prot_starttls() performs the server handshake on a stream and
 * pushes the TLS layer, so that every later read and write is encrypted.
 */
#ifndef LIB_PROT_TLS_H
#define LIB_PROT_TLS_H

#include <openssl/ssl.h>

#include "lib/buf.h"
#include "lib/prot.h"

struct tls_settings {
    const char *cert_file;      /* tls_server_cert */
    const char *key_file;       /* tls_server_key */
    const char *ca_file;        /* tls_client_ca_file (may be NULL) */
    const char *ca_dir;         /* tls_client_ca_dir (may be NULL) */
    const char *ciphers;        /* tls_ciphers (may be NULL) */
    const char *versions;       /* tls_versions, e.g. "tls1_2 tls1_3" */
    int prefer_server_ciphers;  /* tls_prefer_server_ciphers */
};

/* A server context, or NULL with the reason in *err. */
SSL_CTX *tls_server_context(const struct tls_settings *settings, struct buf *err);
/* Fill settings from imapd.conf options. */
void tls_settings_from_config(struct tls_settings *settings);

/* Handshake as server on `s` and push the TLS layer.  Returns 0, or -1
 * with the reason in *err (the stream is then unusable). */
int prot_starttls(struct protstream *s, SSL_CTX *ctx, struct buf *err);
/* Negotiated protocol and cipher ("TLSv1.3 TLS_AES_256_GCM_SHA384"), or NULL. */
const char *prot_tls_description(struct protstream *s);

#endif
