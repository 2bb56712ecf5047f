/* seen.h -- per-user \Seen state of mailboxes the user does not own.
 *
 * The owner's \Seen flag lives in each index record (as Cyrus 3 does);
 * every other user's is kept here, one cyrusdb per user
 * (CONFIGDIR/user/<h>/<userid>.seen), keyed by mailbox unique id, with
 * the seen UIDs as a sequence set.
 */
#ifndef IMAP_STORE_SEEN_H
#define IMAP_STORE_SEEN_H

#include <stdint.h>

#include "lib/seqset.h"

/* Every function returns SEEN_OK or SEEN_IOERROR (after logging why). */
enum seen_error {
    SEEN_OK = 0,
    SEEN_IOERROR = -1,
};

struct seen;

struct seendata {
    int64_t lastchange;     /* when this record was last written */
    uint32_t lastuid;       /* highest UID the user has seen as existing */
    struct seqset uids;     /* UIDs with \Seen */
};

int seen_open(const char *configdir, const char *userid, struct seen **seenp);
void seen_close(struct seen **seenp);
/* An empty record (not an error) when the mailbox has none, or when the
 * stored one is unreadable (logged).  sd->uids is replaced; start with
 * SEQSET_INITIALIZER and free with seendata_fini. */
int seen_read(struct seen *seen, const char *uniqueid, struct seendata *sd);
/* Store sd; a lastchange of 0 is stored as the current time. */
int seen_write(struct seen *seen, const char *uniqueid, const struct seendata *sd);
int seen_delete_mailbox(struct seen *seen, const char *uniqueid);
void seendata_fini(struct seendata *sd);
/* Remove a user's seen database (user deletion). */
int seen_delete_user(const char *configdir, const char *userid);

#endif
