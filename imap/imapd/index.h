/* index.h -- the selected mailbox as one IMAP session sees it.
 *
 * A view is opened by SELECT or EXAMINE and lives until CLOSE, UNSELECT,
 * another SELECT or the end of the session.  It holds, per message, a
 * copy of what the session has been told: UID, flags (with the user's
 * own \Seen: the record's for the mailbox owner, seen.h for everyone
 * else), modseq and \Recent.  Message sequence number n is entry n-1.
 *
 * Sequence numbers never get out of step with the client: a message
 * expunged by anyone stays in the view (marked `expunged`, its record
 * still in cyrus.index until a repack) until index_report() tells the
 * client with "* n EXPUNGE"; only then do the numbers shift.  New
 * messages are appended to the view only when reported as EXISTS.
 *
 * index_refresh() re-reads the mailbox under its shared lock and notes
 * what changed; index_report() writes the untagged EXISTS / RECENT /
 * FETCH FLAGS / EXPUNGE responses (EXPUNGE only when the caller says the
 * command allows it, RFC 3501 7.4.1).  Per-message work is done from the
 * mapped index; nothing here opens a message file except the functions
 * that are asked for message bytes.
 *
 * Message-level helpers for FETCH, SEARCH, COPY/MOVE and STORE take a
 * sequence number (1 .. index_count()).  Calls that read records need
 * the mailbox locked: between index_lock() and index_unlock() (or they
 * lock for themselves where noted).
 */
#ifndef IMAP_IMAPD_INDEX_H
#define IMAP_IMAPD_INDEX_H

#include <stdint.h>

#include "imap/store/acl.h"
#include "imap/store/mailbox.h"
#include "imap/store/message.h"
#include "lib/buf.h"
#include "lib/prot.h"
#include "lib/seqset.h"
#include "lib/strarray.h"

/* One message of the view. */
struct index_msg {
    uint32_t uid;
    uint32_t system_flags;   /* FLAG_*, \Seen as this user sees it */
    uint32_t user_flags[MAILBOX_MAX_USER_FLAGS / 32];
    uint64_t modseq;
    uint32_t recno;          /* record number hint (checked against uid) */
    unsigned recent : 1;     /* \Recent for this session */
    unsigned expunged : 1;   /* expunged, not yet reported */
    unsigned changed : 1;    /* flags changed, not yet reported */
};

/* Who opens the view and how. */
struct index_open_args {
    const char *dir;           /* the mailbox directory */
    const char *intname;       /* internal name, for logs and quota */
    const char *userid;        /* the session's user */
    int isowner;               /* \Seen lives in the records */
    const char *seendir;       /* configdirectory for seen.h (non-owner) */
    acl_rights_t rights;       /* the user's effective rights */
    int examine;               /* EXAMINE: read-only, \Recent not taken */
};

struct index_view;

/* Open and lock the mailbox, copy its records, take \Recent (SELECT
 * only).  0, or a MAILBOX_* error (nothing allocated). */
int index_open(const struct index_open_args *args, struct index_view **vp);
/* Close the view (no expunge; CLOSE calls index_expunge first); sets
 * *vp to NULL. */
void index_close(struct index_view **vp);

/* --- what SELECT reports --- */
uint32_t index_count(const struct index_view *v);   /* messages = EXISTS */
uint32_t index_recent(const struct index_view *v);  /* with \Recent */
uint32_t index_first_unseen(const struct index_view *v); /* seq or 0 */
uint32_t index_uidvalidity(const struct index_view *v);
uint32_t index_uidnext(const struct index_view *v);
uint64_t index_highestmodseq(const struct index_view *v);
/* Read-only: EXAMINE, or none of the rights s, w, t, e, i is held. */
int index_readonly(const struct index_view *v);
acl_rights_t index_rights(const struct index_view *v);
/* The rights as they apply to this view (none of s/w/t/e/i/n when
 * read-only). */
acl_rights_t index_write_rights(const struct index_view *v);
const char *index_intname(const struct index_view *v);
/* Keyword names; index = user-flag bit. */
const strarray_t *index_keywords(const struct index_view *v);
/* Bit of keyword `name`, or -1; creates it when `create` (and the user
 * may: w right), then MAILBOX_TOOMANYFLAGS past 128 (-6). */
int index_keyword_bit(struct index_view *v, const char *name, int create);

/* --- sequence numbers and UIDs --- */
/* Message `msgno` (1-based), or NULL when out of range. */
const struct index_msg *index_msg(const struct index_view *v, uint32_t msgno);
uint32_t index_uid(const struct index_view *v, uint32_t msgno);
/* The sequence number of `uid`, or 0 (binary search). */
uint32_t index_msgno(const struct index_view *v, uint32_t uid);
/* Turn a sequence set as the client wrote it (or "$", see below) into
 * the set of sequence numbers it names.  `usinguid`: a UID set ("*" is the highest UID in
 * the view; UIDs not in the view are ignored).  Otherwise "*" is
 * index_count(), and a number over it fails.  0, -1 syntax, -2 a
 * message number out of range. */
int index_parse_set(const struct index_view *v, const char *s, int usinguid,
                    struct seqset *msgnos);
/* SEARCHRES (RFC 5182): the saved search result "$", kept as UIDs for
 * the life of the view (so SELECT resets it and expunged messages drop
 * out).  index_parse_set() resolves "$" to the sequence numbers of the
 * saved messages still in the view, whether `usinguid` or not. */
void index_set_searchres(struct index_view *v, const struct seqset *uids);
const struct seqset *index_searchres(const struct index_view *v);

/* --- records, cache, message bytes --- */
/* Shared lock for a batch of reads below; nests. */
int index_lock(struct index_view *v);
void index_unlock(struct index_view *v);
/* The open mailbox (for mailbox_* calls under index_lock). */
struct mailbox *index_mailbox(struct index_view *v);
/* The record of `msgno`; MAILBOX_ENOENT when it was repacked away.
 * Locked. */
int index_record(struct index_view *v, uint32_t msgno,
                 struct index_record *rec);
/* The parsed structure of `msgno` from the cache (message file bytes not
 * attached: ENVELOPE and BODYSTRUCTURE only), else parsed from the file.
 * Free with message_free.  Locked. */
int index_structure(struct index_view *v, uint32_t msgno,
                    struct message **msgp);
/* Map the message file of `msgno`; unmap with mailbox_unmap_message. */
int index_map(struct index_view *v, uint32_t msgno, const char **base,
              size_t *len);

/* Append "(\Flag ...)" for message `msgno` as the client sees it. */
void index_write_flags(const struct index_view *v, uint32_t msgno,
                       struct buf *out);

/* --- changes --- */
/* Set, add or remove flags on one message (already checked for rights by
 * the caller).  `sysflags` FLAG_*; `user` keyword bits.  Writes the
 * record (or the seen db for \Seen of a non-owner) and updates the view;
 * *changed says whether anything changed.  Exclusive lock taken inside
 * unless already held via index_lock_exclusive. */
enum index_store_op { INDEX_STORE_SET, INDEX_STORE_ADD, INDEX_STORE_REMOVE };
int index_store_flags(struct index_view *v, uint32_t msgno,
                      enum index_store_op op, uint32_t sysflags,
                      const uint32_t user[MAILBOX_MAX_USER_FLAGS / 32],
                      int *changed);
/* Bracket a batch of index_store_flags / index_mark_seen calls with one
 * exclusive lock and one commit. */
int index_lock_exclusive(struct index_view *v);
int index_commit(struct index_view *v);  /* commits and unlocks */
/* Set \Seen on `msgno` (FETCH BODY[]); *changed as above.  Does nothing
 * when read-only or without the s right. */
int index_mark_seen(struct index_view *v, uint32_t msgno, int *changed);

/* Expunge the messages with \Deleted (and, when `uids` is non-NULL, a UID
 * in it), update quota usage.  Needs e (checked by the caller).  The
 * view keeps them as `expunged` until index_report().  *count gets the
 * number expunged when non-NULL. */
int index_expunge(struct index_view *v, const struct seqset *uids,
                  uint32_t *count);
/* Expunge exactly these UIDs whether \Deleted or not (MOVE). */
int index_expunge_uids(struct index_view *v, const struct seqset *uids,
                       uint32_t *count);

/* --- CONDSTORE and QRESYNC (RFC 7162) --- */
/* From now on index_report() adds UID and MODSEQ to every FETCH it
 * sends (`condstore`) and reports expunges as "* VANISHED uids" rather
 * than "* n EXPUNGE" (`qresync`). */
void index_set_condstore(struct index_view *v, int condstore, int qresync);
/* IMAP4rev2 (RFC 9051 appendix E, items 12 and 21): no \Recent in flag
 * lists and no "* n RECENT", and UID in every FETCH index_report()
 * sends. */
void index_set_imap4rev2(struct index_view *v, int rev2);
/* The UIDs for "* VANISHED (EARLIER)": those in `uids` (at most
 * UIDNEXT-1) that are not in the view and were expunged with a modseq
 * above `since`.  When the store has pruned expunges newer than `since`
 * (deletedmodseq), every such UID not in the view is listed, except
 * those at or below `floor` (what the client proved it knows from its
 * sequence match data; 0 for none).  Added to *out.  Locks for itself. */
int index_vanished(struct index_view *v, const struct seqset *uids,
                   uint64_t since, uint32_t floor, struct seqset *out);

/* Re-read the mailbox, noting new messages, other sessions' flag
 * changes and expunges (locks for itself).  0 or MAILBOX_*. */
int index_refresh(struct index_view *v);
/* Write what index_refresh found: "* n EXPUNGE" (descending, only when
 * `allow_expunge`; "* VANISHED" under QRESYNC), "* n EXISTS",
 * "* n RECENT", "* n FETCH (FLAGS ...)" (with UID when `uid`, UID and
 * MODSEQ under CONDSTORE) for changes not yet reported.  Under CONDSTORE,
 * while expunges wait for a command that may report them, an
 * "* OK [HIGHESTMODSEQ n]" below their modseqs keeps a client that
 * tracks MODSEQ values from skipping them (RFC 7162 3.2). */
void index_report(struct index_view *v, struct protstream *out,
                  int allow_expunge, int uid);
/* Something that follows the changes as they are reported: the RFC 5267
 * update contexts (context.h).  index_report() calls `report` with
 * INDEX_REPORT_EXPUNGES just before it writes EXPUNGE or VANISHED
 * responses (the expunged messages still in the view, marked), and with
 * INDEX_REPORT_DONE once EXISTS, RECENT and FETCH are written.  `free`
 * runs when the view closes or another watcher replaces this one. */
enum index_report_phase { INDEX_REPORT_EXPUNGES, INDEX_REPORT_DONE };
struct index_watcher {
    void (*report)(struct index_view *v, struct protstream *out,
                   enum index_report_phase phase, void *rock);
    void (*free)(void *rock);
};
void index_set_watcher(struct index_view *v, const struct index_watcher *w,
                       void *rock);
/* The watcher's rock, or NULL when there is none. */
void *index_watcher_rock(const struct index_view *v);
/* Does the mailbox hold changes not yet reported (cheap: compares the
 * index file's size and mtime and the header)?  For IDLE polling. */
int index_changed_on_disk(struct index_view *v);
/* The path of cyrus.index, for inotify. */
const char *index_file_path(const struct index_view *v);

#endif
