/* duplicate.h -- duplicate delivery suppression (deliver.db).
 *
 * A delivery is a duplicate when a message with the same Message-ID has
 * already been delivered to the same mailbox.  lmtpd asks
 * duplicate_check() before storing a copy and calls duplicate_mark()
 * once the copy is durable; cyr_expire -E removes marks older than a
 * number of days.  The database lives at duplicate_db_path or
 * CONFIGDIR/deliver.db in the shared cyrusdb environment.
 *
 * Marks are written without fsync: after an operating-system crash the
 * latest marks may be gone, and a message redelivered by the MTA is then
 * stored twice rather than lost.  That is the safe direction to fail in.
 *
 * Key: "<message-id>\0<mailbox>\0"; value: "<mark time> <uid>" in
 * decimal (doc/store-format.md).
 */
#ifndef IMAP_STORE_DUPLICATE_H
#define IMAP_STORE_DUPLICATE_H

#include <stdint.h>
#include <time.h>

enum duplicate_error {
    DUPLICATE_OK = 0,
    DUPLICATE_IOERROR = -1,
};

/* Open the database at `fname` (created if missing); cyrusdb_init must
 * have been called.  0 or DUPLICATE_IOERROR. */
int duplicate_open(const char *fname);
void duplicate_close(void);

/* 1 if (msgid, mailbox) was marked, filling *mark (may be NULL) with the
 * time of the mark; 0 if not; DUPLICATE_IOERROR.  An empty `msgid`
 * never matches. */
int duplicate_check(const char *msgid, const char *mailbox, time_t *mark);
/* Record that the message `msgid` reached `mailbox` as `uid` at `mark`. */
int duplicate_mark(const char *msgid, const char *mailbox, time_t mark,
                   uint32_t uid);
/* Remove every mark made before `cutoff`; counts into *deleted and
 * *kept (either may be NULL). */
int duplicate_prune(time_t cutoff, unsigned long *deleted,
                    unsigned long *kept);
/* Call cb for each mark, in key order; nonzero from cb stops the walk
 * and is returned. */
int duplicate_foreach(int (*cb)(const char *msgid, const char *mailbox,
                                time_t mark, uint32_t uid, void *rock),
                      void *rock);

#endif
