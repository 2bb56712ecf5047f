/* seqset.h -- IMAP sequence sets ("1:4,7,9:*") as sorted ranges.
 *
 * Used for message sequence numbers, UID sets, seen-state storage and
 * UIDPLUS responses.  "*" is resolved against a maximum given at parse
 * time; ranges are normalised (n:m with n > m is m:n), sorted and merged.
 */
#ifndef LIB_SEQSET_H
#define LIB_SEQSET_H

#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"

struct seqrange {
    uint32_t low, high;
};

struct seqset {
    struct seqrange *ranges;
    size_t count, alloc;
};

#define SEQSET_INITIALIZER { NULL, 0, 0 }

/* Parse `s` (IMAP sequence-set syntax) with "*" meaning `maxval`,
 * replacing the set's contents.  Numbers are nz-number (no 0, no
 * leading zeros, at most 4294967295).  With maxval 0 (an empty mailbox)
 * "*" names nothing: "*" adds nothing and "3:*" adds only 1:3.
 * Returns 0, or -1 for a syntax error (the set is then empty). */
int seqset_parse(struct seqset *set, const char *s, uint32_t maxval);
/* Add one number or a range (merged into place). */
void seqset_add(struct seqset *set, uint32_t num);
void seqset_add_range(struct seqset *set, uint32_t low, uint32_t high);
void seqset_remove(struct seqset *set, uint32_t num);
int seqset_contains(const struct seqset *set, uint32_t num);
/* Number of values in the set. */
uint64_t seqset_count(const struct seqset *set);
/* Lowest / highest value, or 0 when empty. */
uint32_t seqset_first(const struct seqset *set);
uint32_t seqset_last(const struct seqset *set);
/* The smallest value above `num` in the set, or 0 when there is none;
 * iterate with for (n = seqset_first(s); n; n = seqset_next(s, n)). */
uint32_t seqset_next(const struct seqset *set, uint32_t num);
/* Append the compact text form ("1:3,5") to out; nothing if empty. */
void seqset_format(const struct seqset *set, struct buf *out);
/* Empty the set, keeping its memory. */
void seqset_reset(struct seqset *set);
void seqset_fini(struct seqset *set);

#endif
