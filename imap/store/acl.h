/* acl.h -- RFC 4314 access control lists, stored and evaluated as Cyrus.
 *
 * Rights are a bitmask over the RFC 4314 letters.  An ACL is a list of
 * (identifier, rights) entries; an identifier is a userid, "group:NAME",
 * "anyone" (every session, anonymous included) or "anonymous" (only the
 * unauthenticated one), and a leading '-' makes the entry negative: its
 * rights are taken away from whoever it matches.  The stored form is
 * Cyrus's: "id\trights\tid\trights\t".  Effective rights are the union of
 * the matching positive entries minus the union of the matching negative
 * ones, plus what no ACL can take away: the owner's implicit rights
 * (implicit_owner_rights), 'p' on a user's INBOX, and "la" for admins.
 *
 * The rights:
 *   l  lookup       the mailbox is visible to LIST/LSUB, may SUBSCRIBE
 *   r  read         SELECT, EXAMINE, FETCH, SEARCH, COPY from, STATUS
 *   s  seen         keep \Seen across sessions (STORE/APPEND/COPY)
 *   w  write        store flags other than \Seen and \Deleted
 *   i  insert       APPEND and COPY/MOVE into the mailbox
 *   p  post         send mail to the mailbox's submission address (LMTP)
 *   k  create       CREATE children, RENAME to a child of this mailbox
 *   x  deletembox   DELETE the mailbox, RENAME it away
 *   t  deletemsg    store \Deleted (APPEND/COPY with it too)
 *   e  expunge      EXPUNGE, CLOSE expunging, MOVE away
 *   a  admin        SETACL/DELETEACL/GETACL/LISTRIGHTS; quota-free ops
 *   n  annotatemsg  store per-message annotations
 *   c  (obsolete, RFC 2086) read as "kx", shown whenever k or x is held
 *   d  (obsolete, RFC 2086) read as "te", shown whenever t or e is held
 * "c" and "d" in an input only add their members when none of those
 * members is also given ("ck" is just k), as Cyrus does.
 */
#ifndef IMAP_STORE_ACL_H
#define IMAP_STORE_ACL_H

#include "lib/buf.h"
#include "lib/strarray.h"

typedef unsigned int acl_rights_t;

#define ACL_LOOKUP (1u << 0)       /* l */
#define ACL_READ (1u << 1)         /* r */
#define ACL_SETSEEN (1u << 2)      /* s */
#define ACL_WRITE (1u << 3)        /* w */
#define ACL_INSERT (1u << 4)       /* i */
#define ACL_POST (1u << 5)         /* p */
#define ACL_CREATE (1u << 6)       /* k */
#define ACL_DELETEMBOX (1u << 7)   /* x */
#define ACL_DELETEMSG (1u << 8)    /* t */
#define ACL_EXPUNGE (1u << 9)      /* e */
#define ACL_ADMIN (1u << 10)       /* a */
#define ACL_ANNOTATEMSG (1u << 11) /* n */

#define ACL_NONE 0u
#define ACL_ALL                                                                \
    (ACL_LOOKUP | ACL_READ | ACL_SETSEEN | ACL_WRITE | ACL_INSERT | ACL_POST | \
     ACL_CREATE | ACL_DELETEMBOX | ACL_DELETEMSG | ACL_EXPUNGE | ACL_ADMIN |   \
     ACL_ANNOTATEMSG)
/* The members of the obsolete "c" and "d" rights. */
#define ACL_LEGACY_CREATE (ACL_CREATE | ACL_DELETEMBOX)
#define ACL_LEGACY_DELETE (ACL_DELETEMSG | ACL_EXPUNGE)
/* What an admin holds on every mailbox whatever its ACL, as Cyrus. */
#define ACL_ADMIN_IMPLICIT (ACL_LOOKUP | ACL_ADMIN)
/* Room for any formatted rights string and its NUL. */
#define ACL_RIGHTS_MAX 32

/* How acl_set() combines new rights with an entry's current ones. */
enum acl_mode {
    ACL_MODE_SET,    /* replace */
    ACL_MODE_ADD,    /* "+rights" */
    ACL_MODE_REMOVE, /* "-rights" */
};

struct acl_entry {
    char *id;     /* identifier without the '-' */
    int negative; /* a "-id" entry */
    acl_rights_t rights;
};

/* An ACL in memory; ACL_INITIALIZER is empty.  Entries keep their order. */
struct acl {
    struct acl_entry *entries;
    int count;
    int alloc;
};

#define ACL_INITIALIZER                                                        \
    {                                                                          \
        NULL, 0, 0                                                             \
    }

/* Who is asking. */
struct acl_subject {
    const char *userid;       /* NULL or "anonymous" when unauthenticated */
    const strarray_t *groups; /* "group:NAME" identifiers it belongs to */
    int isadmin;              /* listed in admins */
};

/* What is asked about: the mailbox's owner and whether it is the INBOX. */
struct acl_mailbox {
    const char *owner; /* mboxname_to_userid() of the mailbox, or NULL */
    int isinbox;       /* the owner's INBOX itself */
};

/* Parse rights letters (and c/d) as IMAP carries them; 0, or the first
 * unknown character. */
int acl_rights_parse(const char *s, acl_rights_t *out);
/* Like acl_rights_parse, but a whole word of cyradm's stands for its
 * rights: "none", "read" (lrs), "post" (lrsp), "append" (lrsip), "write"
 * (lrswipkxte), "delete" (lrxte), "all" (every right).  For admin tools
 * only: over IMAP "read" is the letters r, e, a and d. */
int acl_rights_parse_name(const char *s, acl_rights_t *out);
/* Parse a SETACL rights argument with its optional '+' or '-' (RFC 4314
 * 3.1) into mode and rights; 0, or the first unknown character. */
int acl_rights_parse_mod(const char *s, enum acl_mode *mode, acl_rights_t *out);
/* Format rights in the order "lrswipkxtecdan" (c and d virtual) into dst,
 * which needs ACL_RIGHTS_MAX bytes; returns dst. */
char *acl_rights_format(acl_rights_t rights, char *dst);

/* Parse Cyrus's stored "id\trights\t..." form, appending to acl; -1 (acl
 * as it was) on an odd field count, an empty identifier or bad rights. */
int acl_parse(struct acl *acl, const char *str);
/* Parse imapd.conf's defaultacl form "id rights id rights", appending. */
int acl_parse_config(struct acl *acl, const char *str);
/* The stored form (new memory); "" for an empty ACL. */
char *acl_format(const struct acl *acl);
/* Rights of entry `id` ("-fred" for the negative entry); 0 if none. */
acl_rights_t acl_get(const struct acl *acl, const char *id);
/* Change the entry for `id` ("-fred" for negative rights); an entry left
 * with no rights is removed, a new one is appended. */
void acl_set(struct acl *acl, const char *id, enum acl_mode mode,
             acl_rights_t rights);
/* Remove the entry for `id`; 1 if there was one. */
int acl_remove(struct acl *acl, const char *id);
/* Free the entries, leaving an empty ACL. */
void acl_fini(struct acl *acl);

/* 1 if identifier `id` (without '-') applies to `who`. */
int acl_subject_matches(const struct acl_subject *who, const char *id);
/* Effective rights of `who` on a mailbox with this ACL; `implicit_owner`
 * is implicit_owner_rights, given to the owner come what may. */
acl_rights_t acl_myrights(const struct acl *acl, const struct acl_subject *who,
                          const struct acl_mailbox *mbox,
                          acl_rights_t implicit_owner);
/* Same, from the stored form (an unparsable ACL grants nothing). */
acl_rights_t acl_myrights_str(const char *aclstr, const struct acl_subject *who,
                              const struct acl_mailbox *mbox,
                              acl_rights_t implicit_owner);

/* The stored ACL a new mailbox starts with: a copy of its closest
 * existing parent's; else, for a user's mailbox (owner non-NULL), the
 * owner with every right; else `defaultacl` (config form, "anyone lrs").
 * New memory. */
char *acl_for_new_mailbox(const char *parent_acl, const char *owner,
                          const char *defaultacl);

/* LISTRIGHTS data for identifier `id` on a mailbox (RFC 4314 3.7): the
 * rights it always holds into `required` (formatted) and the rights that
 * may be granted separately, one group each, appended to `optional`. */
void acl_listrights(const char *id, const struct acl_mailbox *mbox,
                    acl_rights_t implicit_owner, char required[ACL_RIGHTS_MAX],
                    strarray_t *optional);

/* Append "group:NAME" for each Unix group `userid` belongs to (via
 * getgrouplist, or a scan of the group file for users without a passwd
 * entry); returns the number appended. */
int acl_unix_groups(const char *userid, strarray_t *groups);

#endif
