/* annotate.h -- mailbox and server annotations (RFC 5464 METADATA).
 *
 * Every annotation lives in one database (CONFIGDIR/annotations.db, or
 * annotation_db_path), keyed by the mailbox's unique id, the entry and
 * the user: "<uniqueid> NUL <entry> NUL <userid>".  The unique id is ""
 * for server annotations; the userid is "" for a shared value and the
 * owner's userid for a private one.  Entries are stored without their
 * "/shared" or "/private" scope, lower-cased ("/comment",
 * "/vendor/example.com/x"), as Cyrus keeps them; so a rename (which keeps
 * the unique id) carries annotations along, and a delete must call
 * annotate_delete_mailbox.  Values are arbitrary bytes.
 *
 * This module checks neither rights nor quota: callers do (cmd_metadata.c).
 * Functions return 0 or an ANNOTATE_* code.
 */
#ifndef IMAP_STORE_ANNOTATE_H
#define IMAP_STORE_ANNOTATE_H

#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"

enum annotate_error {
    ANNOTATE_OK = 0,
    ANNOTATE_NOTFOUND = -1,   /* no such annotation */
    ANNOTATE_IOERROR = -2,    /* database failure (logged), or not open */
    ANNOTATE_BADENTRY = -3,   /* an entry name RFC 5464 3.2 forbids */
};

/* Open the database file `path` (cyrusdb_init must have been called).
 * Opening twice is harmless; _close closes it. */
int annotate_open(const char *path);
void annotate_close(void);
int annotate_isopen(void);
/* A file (the database path + ".stamp") that every committed change
 * (annotate_store, _delete_mailbox, _copy_mailbox) touches, so that a
 * watcher learns with one stat() whether anything may have changed:
 * its size or mtime differ after each change.  NULL when not open. */
const char *annotate_stamp_path(void);

/* Split a client's entry name ("/private/comment") into its scope and
 * the stored path ("/comment", lower-cased, into `path`).  BADENTRY for
 * names RFC 5464 3.2 forbids: not "/shared" or "/private" first, fewer
 * than two components, "//", a trailing '/', '*', '%', 8-bit or control
 * characters.  Which entries a client may set is the caller's policy. */
int annotate_entry_parse(const char *name, int *shared, struct buf *path);

/* The value of `entry` (stored form) for `userid` ("" shared) into
 * `value` (may be NULL to test existence); NOTFOUND if not set. */
int annotate_get(const char *uniqueid, const char *entry, const char *userid,
                 struct buf *value);

typedef int annotate_cb(const char *entry, const char *userid,
                        const char *value, size_t len, void *rock);
/* Call cb, in entry order, for the values of `userid` (NULL: every user
 * and the shared ones) at `entry` and below it, at most `depth` levels
 * down (-1: any depth; entry "" or "/" with depth -1: everything of the
 * mailbox).  A nonzero return from cb stops the walk and is returned. */
int annotate_foreach(const char *uniqueid, const char *entry, int depth,
                     const char *userid, annotate_cb *cb, void *rock);

/* One change for annotate_store: value NULL removes the entry. */
struct annotate_change {
    const char *entry;        /* stored form, from annotate_entry_parse */
    const char *userid;       /* "" for shared */
    const char *value;
    size_t len;
};
/* Apply all changes in one transaction, so that either all or none are
 * made.  *delta (may be NULL) receives the change in stored value bytes
 * (new lengths minus old), for X-ANNOTATION-STORAGE. */
int annotate_store(const char *uniqueid, const struct annotate_change *changes,
                   int n, int64_t *delta);
/* Bytes stored (`userid` NULL: by everyone) and number of entries of
 * `userid` on a mailbox, for quota and the entry-count limit. */
int annotate_usage(const char *uniqueid, const char *userid, int64_t *bytes,
                   int *count);
/* Remove every annotation of a mailbox; *freed (may be NULL) receives
 * the bytes their values took. */
int annotate_delete_mailbox(const char *uniqueid, int64_t *freed);
/* Copy every annotation of mailbox `from` to mailbox `to` (RFC 5464 4.1:
 * a renamed INBOX keeps its annotations and the new mailbox gets them). */
int annotate_copy_mailbox(const char *from, const char *to);

#endif
