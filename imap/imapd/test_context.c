/* test_context.c -- RFC 5267 context helpers: sets in requested order,
 * PARTIAL ranges and the ADDTO / REMOVEFROM positions of sorted
 * contexts, checked by replaying them as a client would. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "imap/imapd/context.h"
#include "lib/test/unit.h"

static uint32_t same(void *rock, uint32_t uid)
{
    (void)rock;
    return uid;
}

static const char *ordered(const uint32_t *nums, size_t n)
{
    static struct buf out;

    buf_reset(&out);
    context_write_ordered(&out, nums, n);
    return buf_cstring(&out);
}

static void test_write_ordered(void)
{
    uint32_t a[] = { 3, 4, 5 }, b[] = { 5, 3, 4 }, c[] = { 5, 4, 3 },
             d[] = { 1, 2, 7, 9, 10, 2 };

    CHECK_STREQ(ordered(a, 3), "3:5");
    /* RFC 5267 3.2: ranges only ever ascend */
    CHECK_STREQ(ordered(b, 3), "5,3:4");
    CHECK_STREQ(ordered(c, 3), "5,4,3");
    CHECK_STREQ(ordered(d, 6), "1:2,7,9:10,2");
    CHECK_STREQ(ordered(a, 0), "");
}

static void check_partial(int64_t lo, int64_t hi, size_t count,
                          size_t want_first, size_t want_n)
{
    size_t first = 99, n = context_partial(lo, hi, count, &first);

    CHECK_INTEQ(n, want_n);
    if (want_n)
        CHECK_INTEQ(first, want_first);
}

static void test_partial(void)
{
    check_partial(1, 1, 5, 0, 1);
    check_partial(2, 4, 5, 1, 3);
    check_partial(1, 6, 5, 0, 5);       /* spans the end */
    check_partial(6, 9, 5, 0, 0);       /* beyond it: NIL */
    check_partial(1, 500, 0, 0, 0);
    /* RFC 9394: -1 is the last, -1:-3 the last three */
    check_partial(-1, -1, 5, 4, 1);
    check_partial(-1, -3, 5, 2, 3);
    check_partial(-2, -9, 5, 0, 4);
    check_partial(-6, -9, 5, 0, 0);
    check_partial(-1, -1, 0, 0, 0);
}

/* Apply an ADDTO/REMOVEFROM text to `list` as RFC 5267 4.3.3-4 says a
 * client does (sets expanded in order, positions 1-based, applied in
 * turn).  Returns the new length, or -1 when the text is malformed or a
 * removal does not match what is at its position. */
static long replay(uint32_t *list, size_t n, const char *text)
{
    const char *p = text;

    while (*p == ' ') {
        int add;
        p++;
        if (!strncmp(p, "REMOVEFROM (", 12)) {
            add = 0;
            p += 12;
        } else if (!strncmp(p, "ADDTO (", 7)) {
            add = 1;
            p += 7;
        } else {
            return -1;
        }
        while (*p != ')') {
            char *end;
            size_t pos = strtoul(p, &end, 10);
            uint32_t nums[64];
            size_t k = 0;

            if (end == p || *end != ' ' || pos < 1)
                return -1;
            p = end + 1;
            for (;;) {
                uint32_t a = strtoul(p, &end, 10), b = a;
                p = end;
                if (*p == ':') {
                    b = strtoul(p + 1, &end, 10);
                    p = end;
                }
                if (b < a)
                    return -1;
                for (uint32_t x = a; x <= b && k < 64; x++)
                    nums[k++] = x;
                if (*p != ',')
                    break;
                p++;
            }
            if (add) {
                if (pos > n + 1)
                    return -1;
                memmove(list + pos - 1 + k, list + pos - 1,
                        (n - (pos - 1)) * sizeof(*list));
                memcpy(list + pos - 1, nums, k * sizeof(*list));
                n += k;
            } else {
                if (pos - 1 + k > n ||
                    memcmp(list + pos - 1, nums, k * sizeof(*list)))
                    return -1;
                memmove(list + pos - 1, list + pos - 1 + k,
                        (n - (pos - 1 + k)) * sizeof(*list));
                n -= k;
            }
            if (*p == ' ')
                p++;
        }
        p++;
    }
    return *p ? -1 : (long)n;
}

/* The diff of old -> new, replayed, must give new. */
static const char *check_diff(const uint32_t *old, size_t nold,
                              const uint32_t *new, size_t nnew)
{
    static struct buf out;
    uint32_t list[128];
    long n;

    buf_reset(&out);
    context_diff(old, nold, new, nnew, same, NULL, &out);
    if (nold)
        memcpy(list, old, nold * sizeof(*old));
    n = replay(list, nold, buf_cstring(&out));
    int same_order = n == (long)nnew &&
                     (!nnew || !memcmp(list, new, nnew * sizeof(*new)));

    if (!same_order)
        printf("# diff \"%s\" does not give the new order\n",
               buf_cstring(&out));
    CHECK_INTEQ(n, nnew);
    CHECK(same_order);
    return buf_cstring(&out);
}

static void test_diff_positions(void)
{
    uint32_t o1[] = { 30, 10, 20 }, n1[] = { 30, 10, 20 };
    uint32_t o2[] = { 2734, 2735 }, n2[] = { 2731, 2732, 2733, 2734, 2735 };
    uint32_t o3[] = { 9, 7, 5, 3 }, n3[] = { 9, 5 };
    uint32_t o4[] = { 9, 7, 5, 3 }, n4[] = { 9, 8, 7, 5, 4, 3, 1 };
    uint32_t o5[] = { 1, 2, 3, 4 }, n5[] = { 2, 3, 4, 1 };
    uint32_t o6[] = { 5, 6 }, n6[] = { 7, 6, 8 };

    /* nothing changed: nothing said */
    CHECK_STREQ(check_diff(o1, 3, n1, 3), "");
    /* RFC 5267 4.3.3's preferred form */
    CHECK_STREQ(check_diff(o2, 2, n2, 5), " ADDTO (1 2731:2733)");
    /* the second removal counts the first: 7 at 2, then 3 at 3 */
    CHECK_STREQ(check_diff(o3, 4, n3, 2), " REMOVEFROM (2 7 3 3)");
    CHECK_STREQ(check_diff(o4, 4, n4, 7), " ADDTO (2 8 5 4 7 1)");
    /* a message whose key changed moves: out, then in at its place */
    CHECK_STREQ(check_diff(o5, 4, n5, 4), " REMOVEFROM (1 1) ADDTO (4 1)");
    CHECK_STREQ(check_diff(o6, 2, n6, 3), " REMOVEFROM (1 5) ADDTO (1 7 3 8)");
    /* from and to nothing */
    CHECK_STREQ(check_diff(NULL, 0, n3, 2), " ADDTO (1 9,5)");
    CHECK_STREQ(check_diff(o3, 4, NULL, 0), " REMOVEFROM (1 9,7,5,3)");
}

static void test_diff_shuffles(void)
{
    /* Random reorderings with removals and additions replay exactly. */
    srand(5267);
    for (int round = 0; round < 300; round++) {
        uint32_t old[40], new[40];
        size_t nold = 0, nnew = 0;

        for (uint32_t u = 1; u <= 40; u++)
            if (rand() % 3)
                old[nold++] = u;
        for (size_t i = nold; i > 1; i--) {
            size_t j = (size_t)rand() % i;
            uint32_t t = old[i - 1];
            old[i - 1] = old[j];
            old[j] = t;
        }
        /* keep most of old in place, drop some, move some, add some */
        for (size_t i = 0; i < nold && nnew < 40; i++) {
            int r = rand() % 10;
            if (r == 0)
                continue;
            if (r == 1 && nnew) {
                size_t at = (size_t)rand() % nnew;
                memmove(new + at + 1, new + at, (nnew - at) * sizeof(*new));
                new[at] = old[i];
            } else {
                new[nnew] = old[i];
            }
            nnew++;
        }
        for (uint32_t u = 41; u <= 80 && nnew < 40; u++) {
            if (rand() % 8)
                continue;
            size_t at = (size_t)rand() % (nnew + 1);
            memmove(new + at + 1, new + at, (nnew - at) * sizeof(*new));
            new[at] = u;
            nnew++;
        }
        check_diff(old, nold, new, nnew);
    }
}

UNIT_TESTS(UNIT_T(test_write_ordered), UNIT_T(test_partial),
           UNIT_T(test_diff_positions), UNIT_T(test_diff_shuffles))
