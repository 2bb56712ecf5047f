/* context.h -- RFC 5267 update contexts of the selected mailbox.
 *
 * A SEARCH or SORT with RETURN (UPDATE) leaves a context behind: its
 * search program (sequence numbers and "$" fixed to the messages they
 * named when the command ran), its order (mailbox order, or the SORT
 * criteria) and its result as the client now knows it.  Contexts hang
 * off the index view (index_set_watcher), so they end with it (CLOSE,
 * UNSELECT, another SELECT, logout) or with CANCELUPDATE.
 *
 * Whenever index_report() tells the client of changes, each context
 * decides again the messages that changed since it last looked (new
 * UIDs, higher modseqs, expunges; all of them, at most once a second,
 * when OLDER or YOUNGER make the result age) and, when it changed, sends
 * one "* ESEARCH (TAG "t") [UID] REMOVEFROM (...) ADDTO (...)" after the
 * FETCH and EXISTS responses.  A context reporting sequence numbers
 * removes expunged messages in a response of its own just before the
 * EXPUNGE responses, while their numbers are still valid.  Mailbox
 * order contexts use context position 0; sorted contexts give real
 * positions, such that a client applying the pairs in turn ends with
 * the new order.
 *
 * The helpers at the end (sets in requested order, PARTIAL ranges, the
 * position diff) touch no store and are exported for the unit tests.
 */
#ifndef IMAP_IMAPD_CONTEXT_H
#define IMAP_IMAPD_CONTEXT_H

#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"

struct index_view;
struct search_program;
struct sort_criteria;
struct sort_set;

/* Update contexts one session may hold at a time; past it the server
 * answers NOUPDATE (RFC 5267 4.3.1). */
#define CONTEXT_MAX 16

/* Number of update contexts of the view. */
int context_count(struct index_view *v);
/* Non-zero if an update context was created by the command `tag`. */
int context_exists(struct index_view *v, const char *tag);
/* Start updates for the command `tag` (reporting UIDs when `uid`).
 * Takes *progp (already bound and run on the view) and, for SORT (`crit`
 * non-NULL), *setp (its matches, sorted); the pointers are set to NULL.
 * For SEARCH the result is `uids`, ascending. */
void context_add(struct index_view *v, const char *tag, int uid,
                 struct search_program **progp,
                 const struct sort_criteria *crit, struct sort_set **setp,
                 const uint32_t *uids, size_t n);
/* Stop the updates of `tag`: 0, or -1 when there is no such context. */
int context_cancel(struct index_view *v, const char *tag);

/* --- helpers --- */

/* Append `nums` in their order as a sequence set whose ranges only ever
 * ascend (RFC 5267 3.2): "5,3,4" stays so, "3,4,5" becomes "3:5". */
void context_write_ordered(struct buf *out, const uint32_t *nums, size_t n);
/* The results a PARTIAL range (as struct search_return holds it) picks
 * out of `count`: *first (0-based) and the number of them (0: none). */
size_t context_partial(int64_t lo, int64_t hi, size_t count, size_t *first);
/* Append " REMOVEFROM (pos set ...)" and/or " ADDTO (pos set ...)" that
 * turn the order `old` into `new` (both UIDs, no duplicates), reporting
 * num(rock, uid) for each; nothing when they are the same.  Messages
 * that keep their relative order stay put; the rest leave and come back
 * at their new position. */
void context_diff(const uint32_t *old, size_t nold, const uint32_t *new,
                  size_t nnew, uint32_t (*num)(void *rock, uint32_t uid),
                  void *rock, struct buf *out);

#endif
