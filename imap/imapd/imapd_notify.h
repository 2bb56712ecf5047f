/* imapd_notify.h -- NOTIFY (RFC 5465): telling the client of changes
 * as they happen, outside commands too.
 *
 * NOTIFY SET (cmd_notify.c) stores in the session what the client wants
 * to hear of: message events on the selected mailbox (SELECTED or
 * SELECTED-DELAYED, optionally with FETCH attributes for new messages),
 * and for other mailboxes (PERSONAL, INBOXES, SUBSCRIBED, SUBTREE,
 * MAILBOXES) new and expunged messages and flag changes as untagged
 * STATUS, created, deleted and renamed mailboxes and subscription
 * changes as untagged LIST (with the parent of a created or deleted
 * mailbox), and mailbox and server metadata changes as untagged
 * METADATA with the entry names.  Changes are found by comparison, not
 * by messages between processes: each watched mailbox's cyrus.index is
 * stat'ed (its header read only when the file changed), the user's
 * mailbox list and subscriptions are compared with a snapshot, and the
 * metadata the user may see is re-read only when the annotations
 * stamp file (annotate_stamp_path) changed.  The
 * session calls imapd_notify_poll() while waiting for a command and
 * while idling; what this session did itself is taken in silently
 * after each command (RFC 5465 section 5: no events for the client's
 * own actions).
 */
#ifndef IMAP_IMAPD_IMAPD_NOTIFY_H
#define IMAP_IMAPD_IMAPD_NOTIFY_H

#include <stdint.h>

#include "imap/imapd/imapd_commands.h"

/* How often a session under NOTIFY looks for changes while waiting. */
#define IMAPD_NOTIFY_POLL_MS 250
/* More watched mailboxes than this end NOTIFY with NOTIFICATIONOVERFLOW. */
#define IMAPD_NOTIFY_MAX_MAILBOXES 2000

struct imapd_notify;

/* Forget the NOTIFY state (as NOTIFY NONE); sets *np to NULL. */
void imapd_notify_free(struct imapd_notify **np);
/* Send what changed since the last look (cheap when nothing did).  May
 * end NOTIFY (s->notify becomes NULL) after NOTIFICATIONOVERFLOW. */
void imapd_notify_poll(struct imapd_session *s);
/* After a command: take in this session's own changes without
 * reporting them. */
void imapd_notify_command_done(struct imapd_session *s,
                               const struct imapd_cmd *cmd);
/* After EXISTS was reported for the selected mailbox: FETCH the
 * MessageNew attributes for the messages above UID `lastuid` (nothing
 * unless NOTIFY asked for them; not for the client's own APPEND). */
void imapd_notify_new_messages(struct imapd_session *s,
                               const struct imapd_cmd *cmd, uint32_t lastuid);

#endif
