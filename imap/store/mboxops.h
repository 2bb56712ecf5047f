/* mboxops.h -- creating, deleting and renaming mailboxes, with everything
 * that goes with them.
 *
 * One call does the whole operation in an order that a crash can only
 * leave half-done in a way reconstruct repairs: the mailboxes.db record,
 * the store files, the ACL a new mailbox inherits, quota (X-NUM-FOLDERS
 * and usage moved between roots), subscriptions and seen state.  The
 * permission rules of RFC 4314 for these operations are checked here, for
 * whoever `who` is (IMAP user, admin tool, LMTP autocreate), so every
 * caller gets the same answers:
 *   create  k on the closest existing ancestor; admins anything; nobody
 *           but an admin creates top-level or other users' INBOXes, except
 *           a user his own INBOX (autocreate).
 *   delete  x on the mailbox (admins always).  An admin deleting a user's
 *           INBOX deletes the whole user: mailboxes, subscriptions, seen
 *           state, quota root.  A mailbox with children becomes an
 *           intermediate (\Noselect) name, as Cyrus 3 does.
 *   rename  x on the source, k on the new parent; the whole subtree moves,
 *           keeping unique ids, uidvalidity, ACLs and subscriptions.
 *           Renaming a user's INBOX moves its messages to the new mailbox
 *           and leaves the INBOX empty (RFC 3501 6.3.5).
 * Missing ancestors of a new mailbox are recorded as MBTYPE_INTERMEDIATE
 * and removed again when nothing is left below them.
 * Options come in through struct mboxops_settings; nothing here reads the
 * configuration.
 */
#ifndef IMAP_STORE_MBOXOPS_H
#define IMAP_STORE_MBOXOPS_H

#include <stdint.h>

#include "imap/store/acl.h"
#include "imap/store/mboxlist.h"
#include "imap/store/mboxname.h"

enum mboxops_error {
    MBOXOPS_OK = 0,
    MBOXOPS_NOTFOUND = -1,    /* no such mailbox (or not visible to who) */
    MBOXOPS_EXISTS = -2,      /* the new name is taken */
    MBOXOPS_BADNAME = -3,     /* fails mboxname_policycheck */
    MBOXOPS_NOPERM = -4,      /* visible, but the rights are missing */
    MBOXOPS_OVERQUOTA = -5,
    MBOXOPS_IOERROR = -6,
    MBOXOPS_INUSE = -7,       /* a lock could not be had */
    MBOXOPS_HASCHILDREN = -8, /* delete of an intermediate with children */
    MBOXOPS_SAMENAME = -9,    /* rename to the same name */
    MBOXOPS_INTOSELF = -10,   /* rename below itself */
    MBOXOPS_INBOX = -11,      /* rename to a user INBOX / across users */
    MBOXOPS_PARTITION = -12,  /* unknown partition, or a move across them */
};
const char *mboxops_strerror(int r);

struct mboxops_settings {
    const char *configdir;        /* subscriptions and seen live here */
    const char *defaultpartition; /* for mailboxes without a parent */
    const char *defaultacl;       /* defaultacl (config form) */
    acl_rights_t implicit_owner;  /* implicit_owner_rights */
    const struct mboxname_ns *ns; /* for mboxname_policycheck */
};

/* The effective rights of `who` on a mailbox record's ACL. */
acl_rights_t mboxops_rights(const struct mboxops_settings *st,
                            const struct acl_subject *who, const char *name,
                            const char *acl);

/* Create mailbox `name` (internal) on `partition` (NULL: the parent's or
 * the default one).  With `checkacl` 0 the permission rules are skipped
 * (autocreate, admin tools).  The new record is copied to *out when out
 * is not NULL (caller finishes it). */
int mboxops_create(const struct mboxops_settings *st,
                   const struct acl_subject *who, const char *name,
                   const char *partition, int checkacl,
                   struct mboxlist_entry *out);
/* Create `userid`'s INBOX (quota root with these limits when >= 0, as
 * autocreate_quota and autocreate_quota_messages; storage in KiB) and
 * the `folders` below it (internal sub-names), subscribing the user to
 * those in `subscribe`.  MBOXOPS_EXISTS when the INBOX is there. */
int mboxops_create_user(const struct mboxops_settings *st,
                        const char *userid, int64_t storage_kb,
                        int64_t messages, const strarray_t *folders,
                        const strarray_t *subscribe);
/* Delete mailbox `name` (see the rules above). */
int mboxops_delete(const struct mboxops_settings *st,
                   const struct acl_subject *who, const char *name,
                   int checkacl);
/* Rename `oldname` and its subtree to `newname` (see the rules above). */
int mboxops_rename(const struct mboxops_settings *st,
                   const struct acl_subject *who, const char *oldname,
                   const char *newname, int checkacl);

/* Set the ACL entry `id` of mailbox `name` (mode as acl_set) and store
 * it in mailboxes.db and cyrus.header; the caller checked the rights. */
int mboxops_setacl(const char *name, const char *id, enum acl_mode mode,
                   acl_rights_t rights);
/* Remove entry `id`; MBOXOPS_OK even if there was none. */
int mboxops_deleteacl(const char *name, const char *id);

/* Make `root` a quota root with these limits (per resource: `have` set
 * means given; QUOTA_UNLIMITED removes the limit).  A new root takes over
 * the usage of the mailboxes it now governs from the root that governed
 * them before. */
int mboxops_setquota(const char *root, const int64_t *limit, const int *have);

#endif
