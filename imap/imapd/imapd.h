/* imapd.h -- the IMAP server's session.
 *
 * One struct imapd_session holds everything about one client connection:
 * the stream and tokenizer, the protocol state (RFC 9051 section 3),
 * who is logged in, TLS and SASL, extensions the client enabled and what
 * it told us with ID.  It is passed explicitly to every command handler;
 * nothing about a session lives in file-scope variables.
 *
 * struct imapd_settings is the part of imapd.conf the server uses, read
 * once per process at start-up so that handlers do not consult the
 * configuration (and tests can build one by hand).
 */
#ifndef IMAP_IMAPD_IMAPD_H
#define IMAP_IMAPD_IMAPD_H

#include <stddef.h>

#include <openssl/ssl.h>

#include "imap/imapd/imapd_mailbox.h"
#include "lib/buf.h"
#include "lib/imapparse.h"
#include "lib/prot.h"
#include "lib/saslserver.h"
#include "lib/strarray.h"

/* Protocol states, as bits so that a command can list where it is valid. */
enum imapd_state {
    IMAPD_NOTAUTH = 1 << 0,
    IMAPD_AUTH = 1 << 1,
    IMAPD_SELECTED = 1 << 2,
    IMAPD_LOGOUT = 1 << 3,
};
#define IMAPD_ANY_STATE (IMAPD_NOTAUTH | IMAPD_AUTH | IMAPD_SELECTED)
#define IMAPD_AUTHED (IMAPD_AUTH | IMAPD_SELECTED)

/* Extensions a client may turn on with ENABLE (RFC 5161). */
enum imapd_extension {
    IMAPD_EXT_CONDSTORE = 1 << 0,
    IMAPD_EXT_QRESYNC = 1 << 1,
    IMAPD_EXT_UTF8_ACCEPT = 1 << 2,
    IMAPD_EXT_IMAP4REV2 = 1 << 3,
};
/* The extensions this server can enable today; grows with the store. */
#define IMAPD_EXT_AVAILABLE                                                    \
    (IMAPD_EXT_CONDSTORE | IMAPD_EXT_QRESYNC | IMAPD_EXT_UTF8_ACCEPT |         \
     IMAPD_EXT_IMAP4REV2)

/* RFC 2971 limits on what a client may send with ID. */
#define IMAPD_ID_MAXPAIRS 30
#define IMAPD_ID_MAXFIELD 30
#define IMAPD_ID_MAXVALUE 1024

struct imapd_settings {
    char *servername;          /* servername, or the host name */
    int allowplaintext;        /* allowplaintext */
    int tls_required;          /* tls_required: no authentication before TLS */
    int literalminus;          /* literalminus: LITERAL- instead of LITERAL+ */
    size_t maxword;            /* maxword / maxquoted: longest atom or string */
    size_t maxliteral;         /* maxliteral (0 in imapd.conf: no limit) */
    int timeout;               /* seconds of inactivity before autologout */
    int failedloginpause;      /* seconds to wait after a failed login */
    int imapidresponse;        /* answer ID with name and version */
    int imapidlog;             /* log the client's ID parameters */
    int reverselookups;        /* log client host names, not only addresses */
    SSL_CTX *tls_ctx;          /* NULL when no certificate is configured */
    strarray_t submitservers;  /* submitservers: who may use submit+ URLs */
    struct imapd_mailbox_settings mbox; /* mailbox commands (imapd_mailbox.h) */
};

struct index_view;
struct imapd_notify;

struct imapd_session {
    const struct imapd_settings *settings;
    struct protstream *prot;
    struct imapparse_ctx parse;
    enum imapd_state state;

    char *userid;              /* canonical, once authenticated */
    int isadmin;               /* userid is one of `admins` */
    struct saslserver *sasl;
    int tls_active;            /* STARTTLS done or imaps */

    unsigned enabled;          /* enum imapd_extension bits (ENABLE) */
    strarray_t client_id;      /* ID parameters: field, value, field, ... */
    int did_id;                /* an ID was received before login */

    struct mboxname_ns ns;     /* names as this user sees them (at login) */
    strarray_t groups;         /* the user's "group:NAME" ids for ACLs */

    struct index_view *selected; /* the selected mailbox (index.h) or NULL */
    char *selected_name;       /* its internal name */
    struct imapd_notify *notify; /* NOTIFY SET in force (imapd_notify.h) */

    char clienthost[1100];     /* "name [1.2.3.4]" for the log */
    char local_ipport[80];     /* "1.2.3.4;143" for SASL, "" if none */
    char remote_ipport[80];
    char session_id[128];      /* as in Cyrus: servername-pid-time-count */

    struct buf tag;            /* the current command's tag */
    struct buf cmdname;        /* and its name as sent */
    struct buf arg1, arg2;     /* reused by handlers for their arguments */
};

/* Connection facts the session needs (a subset of master/service.h). */
struct imapd_peer {
    int in_fd, out_fd;
    const char *peer_addr;     /* "" for UNIX sockets and stdin */
    int peer_port;
    const char *local_addr;
    int local_port;
};

/* Read the settings from imapd.conf; fills *err and returns -1 when TLS
 * is configured but unusable. */
int imapd_settings_init(struct imapd_settings *settings, struct buf *err);
void imapd_settings_fini(struct imapd_settings *settings);

/* A new session over the peer's descriptors, in not-authenticated state. */
struct imapd_session *imapd_session_new(const struct imapd_settings *settings,
                                        const struct imapd_peer *peer);
/* Free the session (the descriptors are not closed); sets *sp to NULL. */
void imapd_session_free(struct imapd_session **sp);
/* Greet (after implicit TLS when `imaps`) and serve commands until the
 * client logs out, goes away or times out. */
void imapd_session_run(struct imapd_session *s, int imaps);

/* Append the capability list for the session's state (no leading
 * "CAPABILITY", words separated by spaces). */
void imapd_capabilities(struct imapd_session *s, struct buf *out);
/* Is LOGIN refused here (no TLS and plaintext not allowed)? */
int imapd_login_disabled(const struct imapd_session *s);
/* Record a successful authentication and enter authenticated state. */
void imapd_session_login(struct imapd_session *s, const char *userid);
/* Undo imapd_session_login (UNAUTHENTICATE): forget the user, the rights
 * cache and everything ENABLE turned on, back to not-authenticated state
 * (the caller has unselected).  State a login sets up is reset here.
 * 0, or -1 when no new authentication can be offered. */
int imapd_session_logout_user(struct imapd_session *s);
/* Perform TLS on the stream; 0, or -1 with the session ended. */
int imapd_session_starttls(struct imapd_session *s);
/* Wait failedloginpause after a failed login. */
void imapd_failed_login_pause(const struct imapd_session *s);

#endif
