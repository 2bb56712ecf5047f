/* lmtpd.h -- the LMTP delivery daemon (RFC 2033), shared by its parts.
 *
 * lmtpd.c is the glue to the service skeleton and reads imapd.conf once
 * per process into struct lmtpd_settings; lmtp_session.c speaks the
 * protocol; lmtp_spool.c reads a DATA body into a struct lmtp_msg;
 * lmtp_deliver.c turns RCPT addresses into mailboxes (rights, quota,
 * autocreation) and stores a message in every recipient's mailbox.
 *
 * Promise: a recipient is answered 250 after DATA only once the message,
 * its cache entry and the index record that publishes it are on disk.
 */
#ifndef IMAP_LMTPD_LMTPD_H
#define IMAP_LMTPD_LMTPD_H

#include <stdint.h>

#include <openssl/ssl.h>

#include "imap/store/acl.h"
#include "imap/store/mboxname.h"
#include "lib/buf.h"
#include "lib/prot.h"
#include "lib/strarray.h"

/* What imapd.conf says, read once per process at start-up. */
struct lmtpd_settings {
    char *servername;            /* servername, or the host name */
    char *configdir;             /* configdirectory */
    char *defaultpartition;      /* defaultpartition, or "default" */
    char *defaultacl;            /* defaultacl */
    char *postuser;              /* postuser: "<postuser>+folder" is shared */
    char *catchall;              /* lmtp_catchall_mailbox user, or NULL */
    char *duplicate_db;          /* duplicate_db_path or configdir/deliver.db */
    acl_rights_t implicit_owner; /* implicit_owner_rights */
    int hashimapspool;
    struct mboxname_ns ns;       /* namespace, as an admin sees it */
    uint64_t maxmessagesize;     /* bytes, 0 = no limit */
    int downcase_rcpt;           /* lmtp_downcase_rcpt */
    int fuzzy_match;             /* lmtp_fuzzy_mailbox_match */
    int overquota_perm;          /* lmtp_over_quota_perm_failure */
    int strict_quota;            /* lmtp_strict_quota */
    int strict_rfc2821;          /* lmtp_strict_rfc2821 */
    int reject8bit, munge8bit;   /* 8-bit characters in headers */
    int dupelim;                 /* duplicatesuppression */
    int singleinstance;          /* singleinstancestore */
    int autocreate_post;         /* autocreate_post */
    int64_t autocreate_quota;    /* KiB; -1 = no autocreation at all */
    int64_t autocreate_quota_messages;
    strarray_t autocreate_folders, autocreate_subscribe;
    int soft_noauth;             /* 430 rather than 530 before AUTH */
    int preauth;                 /* -a: every connection is an admin's */
    int timeout;                 /* seconds of silence before giving up */
    SSL_CTX *tls_ctx;            /* NULL: no STARTTLS */
};

/* Read the settings from the loaded configuration; 0, or -1 with the
 * reason in *err. */
int lmtpd_settings_init(struct lmtpd_settings *st, struct buf *err);
void lmtpd_settings_fini(struct lmtpd_settings *st);

/* --- replies --------------------------------------------------------- */

/* The outcome of a recipient; each has one reply text (lmtp_reply). */
enum lmtp_status {
    LMTP_OK = 0,            /* 250 2.1.5 */
    LMTP_UNKNOWN,           /* 550 5.1.1 User unknown */
    LMTP_NOPERM,            /* 550 5.7.1 Permission denied */
    LMTP_OVERQUOTA,         /* 452 4.2.2 Over quota (552 5.2.2 if perm) */
    LMTP_TOOBIG,            /* 552 5.2.3 message too large */
    LMTP_NUL,               /* 554 5.6.0 NUL characters */
    LMTP_8BIT,              /* 554 5.6.0 8-bit header (reject8bit) */
    LMTP_BADADDR,           /* 501 5.5.4 syntax of the address */
    LMTP_IOERROR,           /* 451 4.3.0 System I/O error */
    LMTP_LOCKED,            /* 451 4.2.0 Mailbox is busy */
};

/* Write the full reply for `status` (multi-line for some, as Cyrus) to
 * `out`; `sessionid` is appended to the one-line ones when not NULL. */
void lmtp_reply(struct protstream *out, enum lmtp_status status,
                int overquota_perm, const char *sessionid);

/* --- reading a message ------------------------------------------------ */

struct lmtp_msg {
    struct buf head;        /* Return-Path, Received: what we prepend */
    struct buf data;        /* the message as received, when small */
    int fd;                 /* else a temporary file holding it, or -1 */
    uint64_t size;          /* bytes of head + body */
    char *msgid;            /* Message-ID (without folding), or NULL */
    enum lmtp_status error; /* LMTP_OK, or why the message is refused */
};

struct lmtp_spool_opts {
    uint64_t maxsize;       /* 0 = no limit */
    int reject8bit, munge8bit;
    const char *tmpdir;     /* where big messages spill; NULL: /tmp */
};

void lmtp_msg_init(struct lmtp_msg *msg);
void lmtp_msg_fini(struct lmtp_msg *msg);
/* Read a DATA body from `in` up to the line ".": undo dot-stuffing,
 * turn bare CR or LF into CRLF, munge or refuse 8-bit header bytes, add
 * a Date: header if there is none, note the Message-ID.  msg->head must
 * already hold the trace headers.  Returns 0 (msg->error says whether
 * the message is acceptable), or -1 when the stream ended first. */
int lmtp_spool_read(struct protstream *in, const struct lmtp_spool_opts *o,
                    struct lmtp_msg *msg);
/* The whole message (head and body) mapped or in memory; unmap with
 * lmtp_msg_unmap. */
int lmtp_msg_map(struct lmtp_msg *msg, const char **base, size_t *len);
void lmtp_msg_unmap(struct lmtp_msg *msg, const char *base, size_t len);

/* --- recipients and delivery ------------------------------------------ */

struct lmtp_rcpt {
    char *addr;             /* as given, without the angle brackets */
    char *mailbox;          /* internal name of the destination */
    int ignorequota;        /* RCPT ... IGNOREQUOTA from an admin */
    enum lmtp_status status;/* result of the delivery */
};

/* Who is posting: rights on shared and +detail folders are those of
 * `authuser` (MAIL FROM ... AUTH=), or of anonymous when NULL. */
struct lmtp_poster {
    const char *authuser;
};

/* Open the databases for this process; 0, or -1 after logging. */
int lmtp_deliver_init(const struct lmtpd_settings *st);
void lmtp_deliver_done(void);

/* Parse an RCPT address ("<...>" already removed) into `addr` form and
 * pick its mailbox, checking existence, posting rights and quota (for
 * `sizehint` bytes more).  Fills r->mailbox when LMTP_OK. */
enum lmtp_status lmtp_rcpt_resolve(const struct lmtpd_settings *st,
                                   const struct lmtp_poster *poster,
                                   uint64_t sizehint, struct lmtp_rcpt *r);
/* Store `msg` for each recipient (whose status is LMTP_OK) and set each
 * recipient's status to the outcome.  Recipients sharing a mailbox share
 * one copy; one copy per partition is linked into the others when
 * singleinstancestore is on. */
void lmtp_deliver(const struct lmtpd_settings *st, struct lmtp_msg *msg,
                  struct lmtp_rcpt *rcpts, int nrcpt);

/* Address helpers, exposed for the unit tests. */
/* Strip a source route and quotes from an RCPT/MAIL path (no brackets):
 * "@a,@b:x@y" -> "x@y", "\"x y\"@d" -> "x y@d".  NULL when malformed. */
char *lmtp_addr_clean(const char *path);
/* Split "local+detail@domain" per settings into the userid (with the
 * domain when virtdomains) and the internal detail folder (NULL if
 * none); *shared set when the local part is postuser, and then *detail
 * is the whole internal name.  -1 for a local part refused by
 * lmtp_strict_rfc2821, -2 when the address names nothing. */
int lmtp_addr_split(const struct lmtpd_settings *st, const char *addr,
                    char **userid, char **detail, int *shared);

/* --- the session --------------------------------------------------------- */

struct lmtp_conn {
    int in_fd, out_fd;
    const char *peer_addr;  /* "" for UNIX sockets */
    int peer_port;
    const char *local_addr;
    int local_port;
    int is_unix;
};

/* Serve one connection to its end. */
void lmtp_session_run(const struct lmtpd_settings *st,
                      const struct lmtp_conn *conn);

#endif
