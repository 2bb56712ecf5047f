/* lmtp_group.h -- group commit of concurrent deliveries to one mailbox
 * (see lmtp_group.c for the protocol between processes).
 *
 * Promise: LMTP_OK only once the message is in a committed (durable)
 * mailbox transaction, whichever process committed it.
 */
#ifndef IMAP_LMTPD_LMTP_GROUP_H
#define IMAP_LMTPD_LMTP_GROUP_H

#include <stdint.h>

#include "imap/lmtpd/lmtpd.h"

struct lmtp_group_args {
    const char *mbdir;         /* the mailbox's directory */
    const char *mailbox;       /* internal name (quota root lookup, log) */
    const char *uniqueid;      /* names the mailbox's queue */
    const char *stagedir;      /* <partition>/stage. of the mailbox */
    const char *stagepath;     /* the staged message, same fs, not yet
                                  fsync'd: the commit makes it durable */
    int ignorequota;           /* charge quota but do not check it */
    int strict_quota;          /* lmtp_strict_quota */
};

/* A result, as the leader leaves it for a waiting process: the queue's
 * lock file <queue>/.lock holds one slot per pid, at offset pid * 16 (a
 * sparse file), native byte order.  nonce and seq name the ticket
 * "<time>.<pid>.<nonce>.<seq>.<q|i>" the result is for; a nonce is never
 * 0, so the holes of the file match no ticket. */
struct lmtp_group_result {
    uint32_t nonce;
    uint32_t seq;
    int32_t status;            /* enum lmtp_status */
    uint32_t uid;
};

/* Store the staged message in the mailbox, together with whatever other
 * processes have queued for it; *uid is its UID when LMTP_OK. */
enum lmtp_status lmtp_group_append(const struct lmtp_group_args *a,
                                   uint32_t *uid);

#endif
