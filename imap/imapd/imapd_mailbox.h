/* imapd_mailbox.h -- from a name a client typed to a mailbox and rights.
 *
 * Every command that names a mailbox goes through here: the external
 * name is converted with the session's namespace (mboxname.h), looked up
 * in mailboxes.db and the session's effective rights computed
 * (acl_myrights with the owner's implicit rights, admins, the user's
 * Unix groups and "anyone").  The one privacy rule of RFC 4314 lives
 * here too: a mailbox the user may not see (no 'l' right, not an admin)
 * is answered exactly as one that does not exist; with 'l' but without
 * the right a command needs, the answer is [NOPERM].
 *
 * struct imapd_mailbox_settings is the part of imapd.conf the mailbox
 * commands use, read once per process (imapd_settings_init calls
 * imapd_mailbox_settings_init).  imapd_mailbox_process_init opens the
 * databases; imapd_mailbox_login sets up a session after authentication
 * (namespace, groups, INBOX autocreation).
 */
#ifndef IMAP_IMAPD_IMAPD_MAILBOX_H
#define IMAP_IMAPD_IMAPD_MAILBOX_H

#include <stdint.h>

#include "imap/imapd/imapd_errors.h"
#include "imap/store/acl.h"
#include "imap/store/mboxlist.h"
#include "imap/store/mboxname.h"
#include "lib/buf.h"
#include "lib/prot.h"

struct imapd_session;

struct imapd_mailbox_settings {
    char *configdir;               /* configdirectory */
    char *defaultpartition;        /* defaultpartition, or "default" */
    char *defaultacl;              /* defaultacl, config form */
    acl_rights_t implicit_owner;   /* implicit_owner_rights */
    int hashimapspool;             /* hashimapspool */
    struct mboxname_ns ns;         /* namespace options (isadmin 0);
                                      strings owned by the struct */
    int autocreate_quota;          /* autocreate_quota: -1 = off, 0 = no
                                      limit, else KiB */
    int autocreate_quota_messages; /* autocreate_quota_messages */
    strarray_t autocreate_folders; /* autocreate_inbox_folders (internal
                                      sub-names, '.'-separated) */
    strarray_t autocreate_subscribe; /* autocreate_subscribe_folders */
    uint64_t maxmessagesize;       /* maxmessagesize in bytes, 0 = none */
    int quotawarn;                 /* quotawarn, percent */
    int64_t quotawarnkb;           /* quotawarnkb */
    int64_t quotawarnmsg;          /* quotawarnmsg */
    int strict_quota;              /* IMAP APPEND: usage + size <= limit */
    int delete_immediate;          /* delete_mode: immediate */
    /* METADATA and special use (cmd_metadata.c, cmd_list.c) */
    char *annotation_db;           /* annotation_db_path, or
                                      CONFIGDIR/annotations.db */
    int annotation_allow_undefined; /* any /vendor-less entry may be set */
    strarray_t specialuse_allowed; /* RFC 6154 uses accepted, with
                                      specialuse_extra */
    int specialusealways;          /* special use in every LIST */
    strarray_t autocreate_uses;    /* xlist-<use>: folder pairs, as
                                      "folder", "\\Use", ... */
};

/* Read the options above from the loaded imapd.conf; 0, or -1 with a
 * reason in *err (e.g. no configdirectory). */
int imapd_mailbox_settings_init(struct imapd_mailbox_settings *ms,
                                struct buf *err);
void imapd_mailbox_settings_fini(struct imapd_mailbox_settings *ms);

/* Open mailboxes.db and the quota database for this process (after
 * cyrusdb_init); 0, or -1 after logging why.  _done closes them. */
int imapd_mailbox_process_init(const struct imapd_mailbox_settings *ms);
void imapd_mailbox_process_done(void);

/* After authentication: fill the session's namespace and groups, and
 * create the user's INBOX when autocreate_quota >= 0 and it is missing. */
void imapd_mailbox_login(struct imapd_session *s);

/* One resolved mailbox name.  IMAPD_MBOX_INITIALIZER is empty. */
struct imapd_mbox {
    char *intname;               /* internal name (NULL if unrepresentable) */
    struct mboxlist_entry entry; /* the record, when `exists` */
    int exists;                  /* a record of any type was found (and
                                    the session may see it) */
    int selectable;              /* exists and is not an intermediate */
    acl_rights_t rights;         /* the session's effective rights; for an
                                    absent name, none */
};
#define IMAPD_MBOX_INITIALIZER                                                 \
    {                                                                          \
        NULL, { NULL, 0, NULL, NULL, 0, NULL }, 0, 0, 0                        \
    }

/* Resolve `extname` (a wire name, see below) for the session.
 * IMAPD_ERR_OK with mb filled
 * (exists set or not: CREATE wants an absent name); IMAPD_ERR_BADNAME
 * when the name cannot be represented; IMAPD_ERR_IOERROR.  A mailbox the
 * session may not see is reported as absent (exists 0, entry empty). */
enum imapd_error imapd_mailbox_resolve(struct imapd_session *s,
                                       const char *extname,
                                       struct imapd_mbox *mb);
/* Resolve and require an existing, selectable mailbox on which the
 * session holds every right in `need`:
 *   absent or invisible       IMAPD_ERR_NONEXISTENT (or TRYCREATE when
 *                             `trycreate`: APPEND and COPY/MOVE targets)
 *   intermediate (\Noselect)  IMAPD_ERR_NONEXISTENT as Cyrus (likewise)
 *   visible, rights missing   IMAPD_ERR_NOPERM
 * On error mb is finished (safe to fini again). */
enum imapd_error imapd_mailbox_need(struct imapd_session *s,
                                    const char *extname, acl_rights_t need,
                                    int trycreate, struct imapd_mbox *mb);
/* RFC 4314 section 4 asks for 'l' only to list a mailbox: one that
 * resolved as absent because the session lacks 'l' is shown to a command
 * when the session holds one of the rights `any` that it needs (as
 * Cyrus does; SELECT with "r" alone works).  Fills `mb` then; returns
 * whether the mailbox now exists for the caller.  imapd_mailbox_need()
 * does this itself. */
int imapd_mailbox_reveal(struct imapd_session *s, struct imapd_mbox *mb,
                         acl_rights_t any);
/* Check `need` on an already resolved mailbox, with the rules above. */
enum imapd_error imapd_mailbox_check(const struct imapd_mbox *mb,
                                     acl_rights_t need, int trycreate);
void imapd_mbox_fini(struct imapd_mbox *mb);

/* The session's effective rights on mailbox `intname` with stored ACL
 * `acl` (owner, admin, groups, implicit owner rights applied). */
acl_rights_t imapd_mailbox_rights(const struct imapd_session *s,
                                  const char *intname, const char *acl);
struct mboxops_settings;
/* The store operations' settings for this session (valid while the
 * session lives). */
void imapd_mailbox_ops(const struct imapd_session *s,
                       struct mboxops_settings *st);
/* The acl_subject of the session (valid while the session lives). */
void imapd_mailbox_subject(const struct imapd_session *s,
                           struct acl_subject *who);
/* External name of `intname` for this session as its client sees it
 * (UTF-8 for a UTF-8 session, see below), or NULL (new memory). */
char *imapd_mailbox_extname(const struct imapd_session *s,
                            const char *intname);
/* Internal name of the session user's INBOX (new memory). */
char *imapd_mailbox_inbox(const struct imapd_session *s);
/* Directory of a mailbox record into `path`; 0 or a MBOXLIST_* code. */
int imapd_mailbox_path(const struct mboxlist_entry *entry, struct buf *path);

/* --- names on the wire (RFC 6855 section 3, RFC 9051 section 5.1) ---
 * Names are kept, and handled by mboxname.h, in modified UTF-7.  Once a
 * session has enabled UTF8=ACCEPT or IMAP4rev2 its client sends and
 * receives them in UTF-8 instead; imapd_mailbox_resolve() and
 * imapd_mailbox_extname() convert, so that commands only ever hold
 * names in the session's own form ("wire names"). */

/* Does the session speak UTF-8 mailbox names? */
int imapd_utf8_names(const struct imapd_session *s);
/* A wire name (or LIST pattern) in modified UTF-7 (new memory): for a
 * UTF-8 session NFC-normalised and encoded, NULL when it is not UTF-8 or
 * holds a character names may not (controls, U+2028, U+2029); else a
 * copy. */
char *imapd_name_from_wire(const struct imapd_session *s, const char *name);
/* A modified UTF-7 name as the session's client sees it (new memory):
 * UTF-8 for a UTF-8 session (a name that is not canonical modified
 * UTF-7 is left as it is), else a copy. */
char *imapd_name_to_wire(const struct imapd_session *s, const char *name);
/* The internal name of a wire name (NFC-normalised for a UTF-8
 * session), or NULL when it cannot be represented (new memory).  For
 * names that are not mailboxes, such as quota roots. */
char *imapd_mailbox_intname(const struct imapd_session *s,
                            const char *extname);
/* The NFC form of a UTF-8 session's wire name when it differs from
 * `name` (RFC 9051 6.3.4 OLDNAME), else NULL (new memory). */
char *imapd_name_normalized(const struct imapd_session *s, const char *name);
/* Write a mailbox name (or other client text) for the session: as
 * imapd_print_astring(), but UTF-8 goes in a quoted string, not a
 * literal, when the session accepts it (RFC 6855 section 3). */
void imapd_print_mailbox(struct imapd_session *s, const char *name);

/* Write `name` as an IMAP astring/mailbox: an atom when it is one,
 * else a quoted string, else (CR, LF, 8-bit, over 1000 bytes) a
 * synchronising-free literal {n}\r\n as RFC 3501 allows servers. */
void imapd_print_astring(struct protstream *p, const char *name);
/* Write a nstring-like string: always quoted or literal, never an atom
 * (for GETACL/LISTRIGHTS/ACL responses Cyrus quotes nothing special). */
void imapd_print_string(struct protstream *p, const char *str);

/* For SELECT/EXAMINE (B): write "* NO [ALERT] ..." lines (as Cyrus) when the quota
 * root governing `intname` is at or over quotawarn percent (or within
 * quotawarnkb / quotawarnmsg of its limits); nothing otherwise. */
void imapd_mailbox_quotawarn(struct imapd_session *s, const char *intname);

#endif
