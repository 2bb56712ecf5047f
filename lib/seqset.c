/* seqset.c -- IMAP sequence sets as sorted, disjoint, non-adjacent ranges.
 *
 * The invariant every function keeps: ranges[i].low <= ranges[i].high and
 * ranges[i].high + 1 < ranges[i + 1].low.  Parsing collects the ranges as
 * written and sorts and merges once at the end, so a client's set of
 * thousands of comma-separated numbers costs O(n log n), not O(n^2).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "lib/seqset.h"
#include "lib/xmalloc.h"

static void seqset_grow(struct seqset *set, size_t need)
{
    if (need <= set->alloc) return;
    size_t alloc = set->alloc ? set->alloc * 2 : 8;
    while (alloc < need) alloc *= 2;
    set->ranges = xrealloc(set->ranges, alloc * sizeof(*set->ranges));
    set->alloc = alloc;
}

static int range_cmp(const void *a, const void *b)
{
    const struct seqrange *ra = a, *rb = b;
    if (ra->low != rb->low) return ra->low < rb->low ? -1 : 1;
    if (ra->high != rb->high) return ra->high < rb->high ? -1 : 1;
    return 0;
}

/* Sort and merge overlapping or adjacent ranges in place. */
static void seqset_normalise(struct seqset *set)
{
    if (set->count < 2) return;
    qsort(set->ranges, set->count, sizeof(*set->ranges), range_cmp);
    size_t out = 0;
    for (size_t i = 1; i < set->count; i++) {
        struct seqrange *cur = &set->ranges[out];
        const struct seqrange *next = &set->ranges[i];
        /* high may be UINT32_MAX: compare without overflowing high + 1 */
        if (next->low <= cur->high || next->low - cur->high == 1) {
            if (next->high > cur->high) cur->high = next->high;
        } else {
            set->ranges[++out] = *next;
        }
    }
    set->count = out + 1;
}

/* Parse one number or "*" at *sp; advance *sp.  0 on success. */
static int parse_number(const char **sp, uint32_t maxval, uint32_t *out)
{
    const char *s = *sp;

    if (*s == '*') {
        *out = maxval;
        *sp = s + 1;
        return 0;
    }
    /* nz-number: no zero, no leading zeros */
    if (*s < '1' || *s > '9') return -1;
    uint64_t v = 0;
    while (*s >= '0' && *s <= '9') {
        v = v * 10 + (uint64_t)(*s - '0');
        if (v > UINT32_MAX) return -1;
        s++;
    }
    *out = (uint32_t)v;
    *sp = s;
    return 0;
}

int seqset_parse(struct seqset *set, const char *s, uint32_t maxval)
{
    set->count = 0;
    if (!s || !*s) return -1;

    for (;;) {
        uint32_t low, high;
        if (parse_number(&s, maxval, &low) < 0) goto bad;
        high = low;
        if (*s == ':') {
            s++;
            if (parse_number(&s, maxval, &high) < 0) goto bad;
        }
        if (low > high) {
            uint32_t t = low;
            low = high;
            high = t;
        }
        /* Only "*" on an empty mailbox can produce 0; it names nothing. */
        if (low == 0) low = 1;
        if (high >= low) {
            seqset_grow(set, set->count + 1);
            set->ranges[set->count].low = low;
            set->ranges[set->count].high = high;
            set->count++;
        }
        if (*s == '\0') break;
        if (*s != ',') goto bad;
        s++;
    }
    seqset_normalise(set);
    return 0;

bad:
    set->count = 0;
    return -1;
}

/* Index of the first range whose high >= num (count if none). */
static size_t seqset_search(const struct seqset *set, uint32_t num)
{
    size_t lo = 0, hi = set->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (set->ranges[mid].high < num)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

void seqset_add(struct seqset *set, uint32_t num)
{
    seqset_add_range(set, num, num);
}

void seqset_add_range(struct seqset *set, uint32_t low, uint32_t high)
{
    if (low > high) {
        uint32_t t = low;
        low = high;
        high = t;
    }

    /* Fast path: ascending additions (building UID lists). */
    if (set->count) {
        struct seqrange *last = &set->ranges[set->count - 1];
        if (low > last->high) {
            if (low - last->high == 1) {
                last->high = high;
                return;
            }
            seqset_grow(set, set->count + 1);
            set->ranges[set->count].low = low;
            set->ranges[set->count].high = high;
            set->count++;
            return;
        }
    }

    /* First range that could touch [low, high]: high >= low - 1. */
    size_t first = seqset_search(set, low ? low - 1 : 0);
    size_t end = first;
    /* Ranges [first, end) overlap or are adjacent to [low, high]. */
    while (end < set->count &&
           (high == UINT32_MAX || set->ranges[end].low <= high + 1))
        end++;

    if (first == end) {
        seqset_grow(set, set->count + 1);
        memmove(&set->ranges[first + 1], &set->ranges[first],
                (set->count - first) * sizeof(*set->ranges));
        set->ranges[first].low = low;
        set->ranges[first].high = high;
        set->count++;
        return;
    }

    struct seqrange merged = { low, high };
    if (set->ranges[first].low < merged.low) merged.low = set->ranges[first].low;
    if (set->ranges[end - 1].high > merged.high)
        merged.high = set->ranges[end - 1].high;
    set->ranges[first] = merged;
    memmove(&set->ranges[first + 1], &set->ranges[end],
            (set->count - end) * sizeof(*set->ranges));
    set->count -= end - first - 1;
}

void seqset_remove(struct seqset *set, uint32_t num)
{
    size_t i = seqset_search(set, num);
    if (i == set->count || set->ranges[i].low > num) return;

    struct seqrange *r = &set->ranges[i];
    if (r->low == num && r->high == num) {
        memmove(r, r + 1, (set->count - i - 1) * sizeof(*r));
        set->count--;
    } else if (r->low == num) {
        r->low++;
    } else if (r->high == num) {
        r->high--;
    } else {
        /* split in two */
        seqset_grow(set, set->count + 1);
        r = &set->ranges[i];
        memmove(r + 1, r, (set->count - i) * sizeof(*r));
        set->count++;
        r[0].high = num - 1;
        r[1].low = num + 1;
    }
}

int seqset_contains(const struct seqset *set, uint32_t num)
{
    size_t i = seqset_search(set, num);
    return i < set->count && set->ranges[i].low <= num;
}

uint64_t seqset_count(const struct seqset *set)
{
    uint64_t n = 0;
    for (size_t i = 0; i < set->count; i++)
        n += (uint64_t)set->ranges[i].high - set->ranges[i].low + 1;
    return n;
}

uint32_t seqset_first(const struct seqset *set)
{
    return set->count ? set->ranges[0].low : 0;
}

uint32_t seqset_last(const struct seqset *set)
{
    return set->count ? set->ranges[set->count - 1].high : 0;
}

uint32_t seqset_next(const struct seqset *set, uint32_t num)
{
    if (num == UINT32_MAX) return 0;
    size_t i = seqset_search(set, num + 1);
    if (i == set->count) return 0;
    return set->ranges[i].low > num ? set->ranges[i].low : num + 1;
}

void seqset_format(const struct seqset *set, struct buf *out)
{
    for (size_t i = 0; i < set->count; i++) {
        const struct seqrange *r = &set->ranges[i];
        if (i) buf_putc(out, ',');
        if (r->low == r->high)
            buf_printf(out, "%u", r->low);
        else
            buf_printf(out, "%u:%u", r->low, r->high);
    }
}

void seqset_reset(struct seqset *set)
{
    set->count = 0;
}

void seqset_fini(struct seqset *set)
{
    free(set->ranges);
    set->ranges = NULL;
    set->count = set->alloc = 0;
}
