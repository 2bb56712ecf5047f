/* sort.h -- SORT orderings (RFC 5256, RFC 5957) and the keys they use.
 *
 * A sort program is the client's list of criteria.  Messages are added
 * one at a time with what the criteria need (index fields and, for the
 * string keys, the ENVELOPE text as FETCH writes it, which the cache
 * holds), then sorted: ascending per criterion, REVERSE turning one
 * criterion round, and the sequence number breaking every tie.  String
 * keys compare by the i;unicode-casemap collation (RFC 5051): the octets
 * of their charset_casemap() forms; an absent field is the empty string,
 * which sorts first.
 *
 * The key extraction is exported for THREAD and for tests:
 * sort_base_subject() is RFC 5256 section 2.1 to the letter, and the
 * envelope readers take one field of an ENVELOPE string.  Nothing here
 * touches the store.
 */
#ifndef IMAP_IMAPD_SORT_H
#define IMAP_IMAPD_SORT_H

#include <stddef.h>
#include <stdint.h>

#include "imap/store/message.h"
#include "lib/buf.h"
#include "lib/imapparse.h"

enum sort_key {
    SORT_ARRIVAL,
    SORT_CC,
    SORT_DATE,
    SORT_FROM,
    SORT_SIZE,
    SORT_SUBJECT,
    SORT_TO,
    SORT_DISPLAYFROM,   /* RFC 5957 */
    SORT_DISPLAYTO,
    SORT_MODSEQ,        /* SORT=MODSEQ and SORT=UID, as Cyrus offers */
    SORT_UID,
    SORT_NKEYS
};

#define SORT_MAX_CRITERIA 32

struct sort_criteria {
    struct {
        uint8_t key;        /* enum sort_key */
        uint8_t reverse;
    } c[SORT_MAX_CRITERIA];
    int n;
};

/* Read "(" sort-criterion *(SP sort-criterion) ")" (the "(" not yet
 * read).  Returns the character after ")", or an IMAPPARSE_* error with
 * the reason in ctx->error and the offending byte unread. */
int sort_parse_criteria(struct imapparse_ctx *ctx, struct sort_criteria *crit);
/* Non-zero if a criterion needs the envelope (a string key). */
int sort_needs_envelope(const struct sort_criteria *crit);

/* One message as added to a sort. */
struct sort_item {
    uint32_t num;       /* what is reported: UID or sequence number */
    uint32_t uid;
    uint32_t msgno;     /* mailbox order, the final tie-breaker */
    uint32_t size;
    uint64_t modseq;
    int64_t arrival;    /* internal date */
    int64_t date;       /* sent date in UTC, else the internal date */
    uint32_t key[SORT_NKEYS]; /* string keys: offsets into the set's pool */
};

struct sort_set;

struct sort_set *sort_set_new(const struct sort_criteria *crit);
void sort_set_free(struct sort_set **setp);
/* Add a message; `env`/`envlen` is its ENVELOPE text (NULL when the
 * criteria need no string key, or when it is unknown: empty keys). */
void sort_set_add(struct sort_set *set, const struct sort_item *item,
                  const char *env, size_t envlen);
/* Sort the messages added so far. */
void sort_set_sort(struct sort_set *set);
/* Keep the messages for which keep(item, rock) is non-zero, in their
 * order; `keep` may change an item's numeric fields (not its string
 * keys), which takes effect at the next sort. */
void sort_set_filter(struct sort_set *set,
                     int (*keep)(struct sort_item *item, void *rock),
                     void *rock);
size_t sort_set_count(const struct sort_set *set);
/* The i'th message (after sort_set_sort: in the requested order). */
const struct sort_item *sort_set_item(const struct sort_set *set, size_t i);

/* --- keys --- */

/* Append the base subject (RFC 5256 2.1) of a raw Subject: value (RFC
 * 2047 words allowed) as UTF-8 to `out`; *is_reply (may be NULL) says
 * whether extraction removed a reply/forward marker ("Re:", "Fwd:",
 * "(fwd)" or "[fwd: ...]"), as THREAD=REFERENCES needs. */
void sort_base_subject(const char *raw, size_t len, struct buf *out,
                       int *is_reply);

/* One string field (date, subject, in-reply-to, message-id) of an
 * ENVELOPE text: 1 with its value in `out` (replaced), 0 for NIL or a
 * malformed envelope. */
int sort_envelope_string(const char *env, size_t len,
                         enum message_env_field field, struct buf *out);
/* The first address of an address field (from, to, cc, ...), skipping
 * group markers: 1 with its parts in the three buffers (replaced; NIL
 * parts empty), 0 when there is none. */
int sort_envelope_address(const char *env, size_t len,
                          enum message_env_field field, struct buf *name,
                          struct buf *mailbox, struct buf *host);

#endif
