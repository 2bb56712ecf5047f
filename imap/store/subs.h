/* subs.h -- a user's subscriptions (CONFIGDIR/user/<h>/<userid>.sub).
 *
 * A sorted text file of internal mailbox names, one per line, rewritten
 * whole (write .NEW, fsync, rename) on every change.  Subscriptions may
 * name mailboxes that do not exist (RFC 3501 6.3.6).  Changes by several
 * sessions of one user are serialised by an fcntl lock on the file, so
 * none is lost.  Functions return 0, or -1 after logging the reason
 * (also for an empty or multi-line name).
 */
#ifndef IMAP_STORE_SUBS_H
#define IMAP_STORE_SUBS_H

#include "lib/buf.h"
#include "lib/strarray.h"

/* Sorted internal names; an empty list when the user has none. */
int subs_read(const char *configdir, const char *userid, strarray_t *names);
int subs_add(const char *configdir, const char *userid, const char *name);
int subs_remove(const char *configdir, const char *userid, const char *name);
/* Rename `oldname` and everything below it (carried by RENAME). */
int subs_rename(const char *configdir, const char *userid,
                const char *oldname, const char *newname);
int subs_delete_user(const char *configdir, const char *userid);
/* CONFIGDIR/user/<h>/<userid>.<suffix> into `path` (replaced): the
 * per-user file layout.  <h> is the lower-case first letter of the
 * userid ('q' if not a letter); '/', '%', control characters and a
 * leading '.' of the userid are written as %XX so that no userid leaves
 * the directory. */
void subs_user_path(const char *configdir, const char *userid,
                    const char *suffix, struct buf *path);

#endif
