/* imapd_errors.h -- every error text an IMAP client sees, in one table.
 *
 * Handlers never spell out a failure themselves: they turn whatever the
 * engines returned (mboxlist, mailbox, quota, append codes) into an
 * enum imapd_error and answer with imapd_no().  Each code has one text,
 * with its RFC 5530 response code in front where one applies, e.g.
 * IMAPD_ERR_NONEXISTENT is "[NONEXISTENT] Mailbox does not exist".  The
 * texts follow Cyrus's wording so that scripts matching on them keep
 * working.
 */
#ifndef IMAP_IMAPD_IMAPD_ERRORS_H
#define IMAP_IMAPD_IMAPD_ERRORS_H

struct imapd_session;
struct imapd_cmd;

enum imapd_error {
    IMAPD_ERR_OK = 0,
    IMAPD_ERR_NONEXISTENT,    /* [NONEXISTENT] Mailbox does not exist */
    IMAPD_ERR_TRYCREATE,      /* [TRYCREATE] Mailbox does not exist */
    IMAPD_ERR_NOPERM,         /* [NOPERM] Permission denied */
    IMAPD_ERR_ALREADYEXISTS,  /* [ALREADYEXISTS] Mailbox already exists */
    IMAPD_ERR_BADNAME,        /* [CANNOT] Invalid mailbox name */
    IMAPD_ERR_NOTSELECTABLE,  /* an intermediate (\Noselect) name:
                                 [NONEXISTENT] as Cyrus */
    IMAPD_ERR_HASCHILDREN,    /* [HASCHILDREN] DELETE of a \Noselect name
                                 with children (RFC 3501 6.3.4) */
    IMAPD_ERR_INBOXRENAME,    /* [CANNOT] ... renaming to/over INBOX */
    IMAPD_ERR_SAMENAME,       /* [CANNOT] Can't rename a mailbox to itself */
    IMAPD_ERR_INTOSELF,       /* [CANNOT] Can't move a mailbox into itself */
    IMAPD_ERR_CROSSPARTITION, /* [CANNOT] ... between partitions */
    IMAPD_ERR_OVERQUOTA,      /* [OVERQUOTA] Over quota */
    IMAPD_ERR_TOOBIG,         /* [TOOBIG] Message too large */
    IMAPD_ERR_BADMESSAGE,     /* [PARSE] Message contains invalid data */
    IMAPD_ERR_INUSE,          /* [INUSE] Mailbox is locked, try again */
    IMAPD_ERR_IOERROR,        /* [SERVERBUG] System I/O error */
    IMAPD_ERR_CORRUPT,        /* [CORRUPTION] Mailbox is damaged */
    IMAPD_ERR_TOOMANYFLAGS,   /* [LIMIT] Too many user flags in mailbox */
    IMAPD_ERR_NOQUOTAROOT,    /* [NONEXISTENT] Quota root does not exist */
    IMAPD_ERR_BADQUOTA,       /* [CANNOT] Invalid quota resource or limit
                                 (the caller answers BAD for syntax) */
    IMAPD_ERR_BADRIGHTS,      /* [CANNOT] Invalid rights (unknown letter) */
    IMAPD_ERR_BADIDENTIFIER,  /* [CANNOT] Invalid identifier */
    IMAPD_ERR_EXPUNGEISSUED,  /* [EXPUNGEISSUED] Some messages were expunged */
    IMAPD_ERR_NOTFOUND,       /* No matching messages */
    IMAPD_ERR_INTERNAL,       /* [SERVERBUG] Internal error */
    IMAPD_ERR_USEATTR,        /* [USEATTR] special use unsupported or taken
                                 (RFC 6154) */
    IMAPD_ERR_METADATA_TOOMANY, /* [METADATA TOOMANY] (RFC 5464) */
    IMAPD_ERR_BADENTRY,       /* an entry this server does not let clients
                                 set: [NOPERM] Permission denied */
    IMAPD_ERR_UNKNOWNCTE,     /* [UNKNOWN-CTE] (RFC 3516, BINARY) */
    IMAPD_ERR_BADURL,         /* the text after "[BADURL <url>] " (RFC
                                 4469), which the caller writes */
    IMAPD_ERR_COUNT
};

/* The text of `e`, response code included ("" for IMAPD_ERR_OK; an
 * unknown value gives the IMAPD_ERR_INTERNAL text).  Static memory. */
const char *imapd_error_text(enum imapd_error e);
/* Answer "TAG NO <text>\r\n" for `e`. */
void imapd_no(struct imapd_session *s, struct imapd_cmd *cmd,
              enum imapd_error e);

/* Map engine return codes (0 maps to IMAPD_ERR_OK). */
enum imapd_error imapd_error_mboxlist(int r);   /* enum mboxlist_error */
enum imapd_error imapd_error_mailbox(int r);    /* enum mailbox_error */
enum imapd_error imapd_error_quota(int r);      /* enum quota_error */
enum imapd_error imapd_error_append(int r);     /* enum append_error */
enum imapd_error imapd_error_mboxops(int r);    /* enum mboxops_error */

#endif
