/* mailbox.h -- one mailbox on disk: cyrus.header, cyrus.index,
 * cyrus.cache and the <uid>. message files (formats: doc/store-format.md).
 *
 * Any number of processes may open one mailbox at once.  Changes are made
 * under the exclusive lock on cyrus.index and are durable when the call
 * that commits them returns: message files and cache entries are fsync'd
 * before the index records that point at them, and the index header that
 * publishes new records is written last.  Readers hold the shared lock
 * while they read records, and notice other processes' changes (new
 * records, flag changes, expunges, a repack) when they lock again.
 *
 * fcntl locks belong to the process, so opening one directory twice in a
 * process gives two handles on one shared open mailbox (same descriptors,
 * same lock, same in-memory header).  Handles may nest locks of the same
 * kind, and a shared lock under another handle's exclusive one; asking
 * for the exclusive lock while another handle holds the shared one fails
 * with MAILBOX_LOCKED rather than upgrading behind that reader's back.
 * After fork() the child opens mailboxes afresh; handles inherited from
 * the parent must not be used there (their locks are the parent's).
 *
 * This module knows nothing of mailbox names, ACLs or quotas: callers
 * (mboxlist, append, the IMAP index view) check those and pass a
 * directory.
 */
#ifndef IMAP_STORE_MAILBOX_H
#define IMAP_STORE_MAILBOX_H

#include <stdint.h>
#include <time.h>

#include "lib/buf.h"
#include "lib/strarray.h"

#define MAILBOX_MAX_USER_FLAGS 128

/* System flags (index record system_flags). */
enum {
    FLAG_ANSWERED = 1 << 0,
    FLAG_FLAGGED = 1 << 1,
    FLAG_DELETED = 1 << 2,
    FLAG_DRAFT = 1 << 3,
    FLAG_SEEN = 1 << 4,
};

/* Internal flags (index record internal_flags). */
enum {
    FLAG_INTERNAL_EXPUNGED = 1 << 0,
    FLAG_INTERNAL_UNLINKED = 1 << 1,
};

/* Return codes beyond 0 (OK).  mailbox_strerror() describes them. */
enum mailbox_error {
    MAILBOX_OK = 0,
    MAILBOX_ENOENT = -1,      /* no such mailbox directory / message */
    MAILBOX_EXISTS = -2,      /* mailbox_create on an existing mailbox */
    MAILBOX_IOERROR = -3,     /* a system call failed (errno logged) */
    MAILBOX_CORRUPT = -4,     /* CRC or magic mismatch: run reconstruct */
    MAILBOX_LOCKED = -5,      /* lock not available (see above) */
    MAILBOX_TOOMANYFLAGS = -6,/* more than 128 keywords */
    MAILBOX_BADFORMAT = -7,   /* a message or value that cannot be stored */
};
const char *mailbox_strerror(int r);

struct index_header {
    uint32_t generation;
    uint32_t num_records;
    uint32_t uidvalidity;
    uint32_t last_uid;
    uint64_t highestmodseq;
    uint64_t deletedmodseq;
    uint32_t exists;
    uint32_t recent_uid;
    uint64_t quota_used;
    int64_t last_appenddate;
    uint32_t deleted, answered, flagged, unseen;
    int64_t first_expunged;
    uint64_t cache_used;
};

/* index_record.internaldate_zone of a record written without one. */
#define INDEX_ZONE_UNKNOWN INT16_MIN
/* Zones are stored biased by this, so that a stored 0 means unknown. */
#define INDEX_ZONE_BIAS 2048

struct index_record {
    uint32_t uid;
    uint32_t internal_flags;
    int64_t internaldate;
    int16_t internaldate_zone;   /* minutes east of UTC in which the
                                    INTERNALDATE was given (APPEND) or
                                    taken (local time at delivery);
                                    INDEX_ZONE_UNKNOWN: not recorded, show
                                    it in the server's local zone */
    int64_t sentdate;
    int64_t savedate;            /* when the message was stored here */
    int64_t last_updated;        /* time of the last change (expunge age) */
    uint32_t size;
    uint32_t header_size;
    uint32_t system_flags;
    uint32_t user_flags[MAILBOX_MAX_USER_FLAGS / 32];
    uint64_t modseq;
    uint8_t guid[20];
    uint32_t cache_offset;
};

struct mailbox;

/* Create the directory (and parents) and empty store files for a new
 * mailbox.  `acl` is in Cyrus's "id\trights\t" form; no value may hold a
 * newline (MAILBOX_BADFORMAT). */
int mailbox_create(const char *dir, const char *uniqueid, const char *acl,
                   const char *quotaroot, uint32_t uidvalidity);
/* Open the mailbox in `dir`, unlocked.  *mbp is set on success. */
int mailbox_open(const char *dir, struct mailbox **mbp);
/* Unlock if locked (discarding uncommitted appends), close; *mbp = NULL. */
void mailbox_close(struct mailbox **mbp);
/* Remove every store file and the directory (not sub-mailboxes). */
int mailbox_delete_files(const char *dir);

/* Take the shared (readers) or exclusive (writers) lock, blocking, and
 * re-read the header; re-map or re-open after another process's changes. */
int mailbox_lock_shared(struct mailbox *mb);
int mailbox_lock_exclusive(struct mailbox *mb);
/* Release the lock.  Uncommitted changes are abandoned as by
 * mailbox_abort() (and a warning logged): commit first. */
void mailbox_unlock(struct mailbox *mb);

/* Accessors; valid while open, current as of the last lock. */
const struct index_header *mailbox_header(const struct mailbox *mb);
const char *mailbox_dir(const struct mailbox *mb);
const char *mailbox_uniqueid(const struct mailbox *mb);
const char *mailbox_acl(const struct mailbox *mb);
const char *mailbox_quotaroot(const struct mailbox *mb);

/* Rewrite cyrus.header with a new ACL / quota root.  Exclusive lock. */
int mailbox_set_acl(struct mailbox *mb, const char *acl);
int mailbox_set_quotaroot(struct mailbox *mb, const char *quotaroot);
/* Rewrite cyrus.header with another uniqueid (reconstruct restoring a
 * damaged header from mailboxes.db).  Exclusive lock. */
int mailbox_set_uniqueid(struct mailbox *mb, const char *uniqueid);
/* Raise recent_uid (the \Recent high-water mark); durable on commit. */
int mailbox_set_recent_uid(struct mailbox *mb, uint32_t uid);

/* Record number `recno` (0-based, expunged ones included).  Locked. */
int mailbox_read_record(struct mailbox *mb, uint32_t recno,
                        struct index_record *rec);
/* Record number of `uid`, or -1 (binary search).  Locked. */
int64_t mailbox_find_uid(struct mailbox *mb, uint32_t uid);

/* Keyword names: index is the user-flag bit. */
const strarray_t *mailbox_user_flags(const struct mailbox *mb);
/* Bit of keyword `name` (case-insensitive), optionally creating it
 * (exclusive lock required to create; the name must be an IMAP atom).
 * MAILBOX_ENOENT (-1) if absent, MAILBOX_TOOMANYFLAGS past 128. */
int mailbox_user_flag(struct mailbox *mb, const char *name, int create);

/* Update the flags of an existing record from rec's system_flags,
 * user_flags and internal_flags (setting FLAG_INTERNAL_EXPUNGED expunges;
 * clearing it is refused with MAILBOX_BADFORMAT).  Assigns a new modseq
 * and last_updated, updates the header counts and *rec.  Exclusive lock.
 * The change is durable on mailbox_commit(). */
int mailbox_rewrite_record(struct mailbox *mb, uint32_t recno,
                           struct index_record *rec);
/* Mark a record expunged with a new modseq; exclusive lock. */
int mailbox_expunge_record(struct mailbox *mb, uint32_t recno);
/* fsync what the last calls wrote and publish the header: the message
 * files, the cache, the directory and the records in one round of
 * parallel syncs, then the header, however many appends and rewrites
 * preceded it. */
int mailbox_commit(struct mailbox *mb);
/* mailbox_commit, calling `during(rock)` while the header's own fsync is
 * in flight (once the files, cache and records are durable), so that a
 * caller's follow-up work with a sync of its own -- lmtpd's quota update
 * -- waits on the device at the same time.  The commit can still fail
 * after `during` ran (an I/O error on the header). */
int mailbox_commit_during(struct mailbox *mb, void (*during)(void *rock),
                          void *rock);
/* A caller that will append to this mailbox again soon -- lmtpd, with
 * more deliveries queued for it -- asks the next commit to reserve the
 * next `n` UIDs on disk.  Appends within the reservation (in any process)
 * skip the sync of the appending mark, so a run of back-to-back append
 * transactions waits for two syncs each instead of three.  The next
 * commit without this call ends the reservation. */
void mailbox_expect_appends(struct mailbox *mb, uint32_t n);
/* Abandon uncommitted appends (their files are removed); flag rewrites
 * already written stay, and the header is recomputed from the records. */
int mailbox_abort(struct mailbox *mb);

/* Path of a message file, into `path`. */
void mailbox_message_path(const struct mailbox *mb, uint32_t uid,
                          struct buf *path);
/* Map a message file read-only; unmap with mailbox_unmap_message. */
int mailbox_map_message(struct mailbox *mb, uint32_t uid, const char **base,
                        size_t *len);
void mailbox_unmap_message(const char *base, size_t len);
/* Read a message file of at most `max` bytes into `out` (replacing its
 * contents): 0, MAILBOX_BADFORMAT when the file is bigger (map it
 * instead), MAILBOX_ENOENT or MAILBOX_IOERROR.  For a scan of many small
 * messages this is cheaper than mapping: every unmapping flushes the TLB,
 * which a virtual machine pays dearly for. */
int mailbox_read_message(struct mailbox *mb, uint32_t uid, size_t max,
                         struct buf *out);

/* The cache payload of a record (see doc/store-format.md), pointing into
 * the mapped cache; valid until the lock is released.  Locked. */
int mailbox_cache_payload(struct mailbox *mb, const struct index_record *rec,
                          const char **base, size_t *len);

/* Appending (exclusive lock held by the caller throughout):
 *   mailbox_append_message for each message, then mailbox_commit.
 * The message is taken from `stagefile`, a fully written file: it is
 * hard-linked to <uid>. when on the same filesystem (so the caller must
 * not modify it afterwards, only unlink it) or else copied.  The file is
 * fsync'd, its SHA-1 becomes the GUID.  On failure before commit nothing
 * becomes visible. */
struct append_info {
    int64_t internaldate;
    int internaldate_zone_set;   /* else: the local zone at internaldate */
    int16_t internaldate_zone;   /* minutes east of UTC; see index_record */
    int64_t sentdate;            /* from the parsed Date: header, or 0 */
    uint32_t header_size;        /* from the parse */
    uint32_t system_flags;
    uint32_t user_flags[MAILBOX_MAX_USER_FLAGS / 32];
    const struct buf *cache;     /* the cache payload, built by the caller
                                    from the MIME parse (store/message.h);
                                    NULL for none */
    const uint8_t *guid;         /* when the caller has them: the stage's */
    uint64_t size;               /* SHA-1, size and an open descriptor; */
    int stage_fd;                /* the linked file is then not read again
                                    (a dup of stage_fd waits for the
                                    commit's sync) */
    int stage_durable;           /* the stage is a committed message file
                                    (or fdatasync'd by the caller): linking
                                    it needs no fsync of the file */
};
int mailbox_append_message(struct mailbox *mb, const char *stagefile,
                           const struct append_info *info,
                           struct index_record *out);

/* Rewrite cyrus.index and cyrus.cache without expunged records last
 * changed before `cutoff` (0 = all), unlinking their message files,
 * bumping the generation and raising deletedmodseq.  Commits pending
 * changes first.  Exclusive lock. */
int mailbox_repack(struct mailbox *mb, int64_t cutoff);

#endif
