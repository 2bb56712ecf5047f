/* saslserver.h -- the server side of SASL, shared by every protocol.
 *
 * imapd, pop3d, lmtpd, timsieved and sync_server authenticate through the
 * Cyrus SASL library via this module.  saslserver_init() is called once
 * per process: the library then reads its settings from imapd.conf keys
 * "sasl_<option>" (sasl_pwcheck_method, sasl_mech_list,
 * sasl_auxprop_plugin, sasl_sasldb_path, ...), logs through lib/log.h,
 * canonicalises user names the way Cyrus does (trimmed, lowercased when
 * `username_tolower`, the default realm stripped) and lets a client act
 * as another user (an authorization identity) only when it authenticated
 * as an administrator (`admins`, `proxyservers`).
 *
 * One struct saslserver per client connection.  No SASL security layer is
 * ever negotiated (max_ssf 0): confidentiality comes from TLS.  Plaintext
 * mechanisms (PLAIN, LOGIN) are offered only when the connection is
 * protected by TLS or `allowplaintext` is set; anonymous ones only with
 * `allowanonymouslogin`.
 *
 * The protocol framing (IMAP "+ " continuations, POP3 "+ ", ManageSieve
 * strings) is the caller's business; this module deals in raw bytes and
 * offers base64 helpers for the framing.
 */
#ifndef LIB_SASLSERVER_H
#define LIB_SASLSERVER_H

#include <stddef.h>

#include "lib/buf.h"
#include "lib/strarray.h"

struct saslserver;

/* Results of an authentication exchange. */
enum saslserver_result {
    SASLSERVER_OK = 0,          /* authenticated */
    SASLSERVER_CONTINUE = 1,    /* send the challenge, feed the answer to _step */
    SASLSERVER_BADAUTH = -1,    /* wrong credentials or unknown user */
    SASLSERVER_NOAUTHZ = -2,    /* authorization identity refused */
    SASLSERVER_NOMECH = -3,     /* mechanism unknown or not allowed here */
    SASLSERVER_BADPROT = -4,    /* the client's data made no sense */
    SASLSERVER_FAIL = -5,       /* anything else: backend unavailable, ... */
};

/* Initialise the SASL library for this process (`appname` names the
 * library's own fallback configuration file).  Reads `admins`,
 * `proxyservers`, `username_tolower`, `allowplaintext` and
 * `allowanonymouslogin` once.  Returns 0, or -1 after logging why. */
int saslserver_init(const char *appname);
/* Release the library at process exit. */
void saslserver_done(void);

/* A connection context.  `service` is the registered service name
 * ("imap", "pop", "lmtp", "sieve", "csync"); `localip`/`remoteip` are
 * "a.b.c.d;port" strings or NULL (stdin, UNIX sockets).  Returns 0, or -1
 * after logging why. */
int saslserver_new(const char *service, const char *serverfqdn,
                   const char *localip, const char *remoteip,
                   struct saslserver **connp);
/* Free the context; sets *connp to NULL. */
void saslserver_free(struct saslserver **connp);
/* Start afresh after a failed exchange, keeping addresses and TLS state. */
int saslserver_reset(struct saslserver *conn);

/* The connection is now protected by TLS of strength `ssf` bits, with the
 * client certificate's identity `authid` (NULL if none): EXTERNAL and the
 * plaintext mechanisms become available. */
int saslserver_set_tls(struct saslserver *conn, unsigned ssf, const char *authid);
/* Is plaintext authentication (LOGIN, PLAIN) allowed right now? */
int saslserver_plaintext_ok(const struct saslserver *conn);

/* Append the names of the mechanisms usable on this connection. */
void saslserver_mechanisms(struct saslserver *conn, strarray_t *out);

/* Begin an exchange.  `in` is the client's initial response (NULL when
 * none was sent; inlen 0 with non-NULL in means an empty one).  On
 * SASLSERVER_CONTINUE, out and outlen hold the challenge; on SASLSERVER_OK it
 * may hold final server data that must still reach the client. */
int saslserver_start(struct saslserver *conn, const char *mech,
                     const char *in, size_t inlen,
                     const char **out, size_t *outlen);
/* Continue an exchange with the client's answer. */
int saslserver_step(struct saslserver *conn, const char *in, size_t inlen,
                    const char **out, size_t *outlen);
/* Verify a plaintext password (LOGIN, USER/PASS) with the configured
 * sasl_pwcheck_method. */
int saslserver_checkpass(struct saslserver *conn, const char *user,
                         const char *pass);

/* The authenticated (authorization) identity, canonical; NULL before. */
const char *saslserver_userid(struct saslserver *conn);
/* The identity whose credentials were checked; NULL before. */
const char *saslserver_authid(struct saslserver *conn);
/* The library's detailed reason for the last failure, for the log. */
const char *saslserver_errdetail(struct saslserver *conn);

/* Is `userid` one of the `admins`? */
int saslserver_isadmin(const char *userid);
/* Canonical form of a user name (trim, lowercase, strip `realm` when it
 * is the default); writes into `out`.  Returns 0, or -1 if unusable. */
int saslserver_canon_user(const char *in, size_t inlen, const char *realm,
                          struct buf *out);

/* Base64 (RFC 4648, with padding) for protocol framing.  decode returns
 * 0, or -1 for malformed input. */
void saslserver_encode64(const char *in, size_t len, struct buf *out);
int saslserver_decode64(const char *in, size_t len, struct buf *out);

#endif
