/* thread.h -- THREAD=ORDEREDSUBJECT and THREAD=REFERENCES (RFC 5256 3),
 * and THREAD=REFS (draft-ietf-morg-inthread, as Cyrus threads it: the
 * REFERENCES tree without subject grouping, threads ordered by the
 * arrival of their newest message).
 *
 * The caller describes each message found (in mailbox order) with the
 * keys threading needs: sent date, base subject (casemapped, so equal
 * subjects compare equal octet for octet), whether it is a reply or
 * forward, its normalised Message-ID and references.  thread_build()
 * then follows the RFC's algorithm step by step and writes the THREAD
 * response data.  Nothing here touches the store; per message the work
 * is a hash lookup per reference plus the sorts, so large mailboxes
 * thread in n log n.
 */
#ifndef IMAP_IMAPD_THREAD_H
#define IMAP_IMAPD_THREAD_H

#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"
#include "lib/strarray.h"

enum thread_alg {
    THREAD_ORDEREDSUBJECT,
    THREAD_REFERENCES,
    THREAD_REFS,
};

/* Look up an algorithm by name (any case); 0, or -1 if unknown. */
int thread_alg_lookup(const char *name, enum thread_alg *alg);

struct thread_msg {
    uint32_t num;           /* what is reported: UID or sequence number */
    uint32_t msgno;         /* mailbox order: the tie-breaker */
    int64_t date;           /* sent date (RFC 5256 2.2) */
    int64_t internaldate;   /* arrival: REFS orders threads by it */
    const char *subject;    /* casemapped base subject, "" if none */
    int is_reply;           /* sort_base_subject()'s *is_reply */
    const char *msgid;      /* normalised Message-ID, or NULL */
    const strarray_t *refs; /* normalised references, oldest first; may
                               be NULL */
};

/* Thread `n` messages (given in mailbox order) and append the response
 * data after "THREAD" (" (1)(2 3)", or nothing when n is 0). */
void thread_build(enum thread_alg alg, const struct thread_msg *msgs,
                  size_t n, struct buf *out);

/* Append the message ids of `value` (a References: or In-Reply-To:
 * value) to `ids`, normalised: the text between "<" and ">" without
 * quoting, blanks or comments.  An id without "@" is not valid and is
 * skipped.  `max` > 0 stops after that many.  Returns how many. */
int thread_parse_msgids(const char *value, size_t len, strarray_t *ids,
                        int max);

#endif
