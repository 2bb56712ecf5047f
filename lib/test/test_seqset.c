/* test_seqset.c -- unit tests for lib/seqset. */
#include <stdlib.h>

#include "lib/buf.h"
#include "lib/seqset.h"
#include "lib/test/unit.h"

/* The canonical text of `s` parsed with `maxval`, or "ERR". */
static const char *roundtrip(const char *s, uint32_t maxval)
{
    static struct buf out = BUF_INITIALIZER;
    struct seqset set = SEQSET_INITIALIZER;

    buf_reset(&out);
    if (seqset_parse(&set, s, maxval) < 0)
        buf_setcstr(&out, "ERR");
    else
        seqset_format(&set, &out);
    seqset_fini(&set);
    return buf_cstring(&out);
}

static void test_parse_simple(void)
{
    CHECK_STREQ(roundtrip("1", 10), "1");
    CHECK_STREQ(roundtrip("1:4", 10), "1:4");
    CHECK_STREQ(roundtrip("1,2,3,4", 10), "1:4");
    CHECK_STREQ(roundtrip("7,1:3,5", 10), "1:3,5,7");
    CHECK_STREQ(roundtrip("2:4,3:8,10", 10), "2:8,10");
    CHECK_STREQ(roundtrip("1:3,4:6", 10), "1:6");
}

static void test_parse_reversed(void)
{
    CHECK_STREQ(roundtrip("5:2", 10), "2:5");
    CHECK_STREQ(roundtrip("9:9", 10), "9");
}

static void test_parse_star(void)
{
    CHECK_STREQ(roundtrip("*", 17), "17");
    CHECK_STREQ(roundtrip("1:*", 17), "1:17");
    CHECK_STREQ(roundtrip("*:3", 17), "3:17");
    /* n:* past the end is *:n (RFC 3501 6.4.8) */
    CHECK_STREQ(roundtrip("20:*", 17), "17:20");
    CHECK_STREQ(roundtrip("*:*", 4), "4");
    /* empty mailbox: "*" names nothing */
    CHECK_STREQ(roundtrip("*", 0), "");
    CHECK_STREQ(roundtrip("3:*", 0), "1:3");
    CHECK_STREQ(roundtrip("1:*,*", 0), "1");
}

static void test_parse_huge(void)
{
    struct seqset set = SEQSET_INITIALIZER;

    CHECK_STREQ(roundtrip("4294967295", 1), "4294967295");
    CHECK_STREQ(roundtrip("1:4294967295", 1), "1:4294967295");
    CHECK_STREQ(roundtrip("4294967296", 1), "ERR");
    CHECK_STREQ(roundtrip("99999999999999999999", 1), "ERR");

    CHECK_INTEQ(seqset_parse(&set, "1:4294967295", 0), 0);
    CHECK(seqset_count(&set) == 4294967295ULL);
    CHECK(seqset_contains(&set, 4294967295U));
    CHECK(seqset_contains(&set, 1));
    CHECK(!seqset_contains(&set, 0));
    CHECK_INTEQ(seqset_last(&set), 4294967295U);
    CHECK_INTEQ(seqset_next(&set, 4294967295U), 0);
    seqset_fini(&set);
}

static void test_parse_malformed(void)
{
    static const char *const bad[] = {
        "", "0", "0:5", "5:0", "01", "1,", ",1", "1,,2", "1:", ":1", "1::2",
        "1:2:3", " 1", "1 ", "1, 2", "a", "1a", "-1", "+1", "**", "1:**",
        "*1", "1.5", "1;2",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (strcmp(roundtrip(bad[i], 10), "ERR"))
            printf("# accepted \"%s\"\n", bad[i]);
        CHECK_STREQ(roundtrip(bad[i], 10), "ERR");
    }
    struct seqset set = SEQSET_INITIALIZER;
    CHECK_INTEQ(seqset_parse(&set, NULL, 1), -1);
    /* a failed parse leaves an empty set, not half of one */
    seqset_add(&set, 3);
    CHECK_INTEQ(seqset_parse(&set, "1,2,x", 5), -1);
    CHECK_INTEQ(seqset_count(&set), 0);
    seqset_fini(&set);
}

static void test_parse_replaces(void)
{
    struct seqset set = SEQSET_INITIALIZER;
    struct buf out = BUF_INITIALIZER;

    seqset_add(&set, 100);
    CHECK_INTEQ(seqset_parse(&set, "1:2", 5), 0);
    seqset_format(&set, &out);
    CHECK_STREQ(buf_cstring(&out), "1:2");
    buf_free(&out);
    seqset_fini(&set);
}

static void test_parse_many(void)
{
    struct buf in = BUF_INITIALIZER;
    struct seqset set = SEQSET_INITIALIZER;

    /* descending order, every odd number: a worst case for insertion */
    for (int i = 19999; i >= 1; i -= 2)
        buf_printf(&in, "%s%d", in.len ? "," : "", i);
    CHECK_INTEQ(seqset_parse(&set, buf_cstring(&in), 0), 0);
    CHECK_INTEQ(set.count, 10000);
    CHECK_INTEQ(seqset_count(&set), 10000);
    CHECK(seqset_contains(&set, 1));
    CHECK(!seqset_contains(&set, 2));
    CHECK(seqset_contains(&set, 19999));
    /* filling the gaps merges everything into one range */
    for (uint32_t i = 2; i < 20000; i += 2) seqset_add(&set, i);
    CHECK_INTEQ(set.count, 1);
    CHECK_INTEQ(seqset_count(&set), 19999);
    seqset_fini(&set);
    buf_free(&in);
}

static void test_add(void)
{
    struct seqset set = SEQSET_INITIALIZER;
    struct buf out = BUF_INITIALIZER;

    seqset_add(&set, 5);
    seqset_add(&set, 3);
    seqset_add(&set, 4);   /* joins 3 and 5 */
    seqset_add(&set, 10);
    seqset_add(&set, 10);  /* duplicate */
    seqset_add_range(&set, 20, 12);
    seqset_add(&set, 11);  /* joins 10 and 12:20 */
    seqset_add(&set, 1);
    seqset_format(&set, &out);
    CHECK_STREQ(buf_cstring(&out), "1,3:5,10:20");

    /* one range swallowing several */
    seqset_add_range(&set, 2, 15);
    buf_reset(&out);
    seqset_format(&set, &out);
    CHECK_STREQ(buf_cstring(&out), "1:20");

    seqset_add_range(&set, 4294967290U, 4294967295U);
    seqset_add_range(&set, 25, 4294967295U);
    buf_reset(&out);
    seqset_format(&set, &out);
    CHECK_STREQ(buf_cstring(&out), "1:20,25:4294967295");
    seqset_add_range(&set, 21, 24);
    CHECK_INTEQ(set.count, 1);

    seqset_fini(&set);
    CHECK(set.ranges == NULL);
    CHECK_INTEQ(set.count, 0);
    buf_free(&out);
}

static void test_remove(void)
{
    struct seqset set = SEQSET_INITIALIZER;
    struct buf out = BUF_INITIALIZER;

    CHECK_INTEQ(seqset_parse(&set, "1:10,20", 100), 0);
    seqset_remove(&set, 5);    /* split */
    seqset_remove(&set, 1);    /* low end */
    seqset_remove(&set, 10);   /* high end */
    seqset_remove(&set, 20);   /* whole range */
    seqset_remove(&set, 50);   /* absent */
    seqset_remove(&set, 15);   /* in a gap */
    seqset_format(&set, &out);
    CHECK_STREQ(buf_cstring(&out), "2:4,6:9");
    CHECK(!seqset_contains(&set, 5));
    CHECK(seqset_contains(&set, 6));
    CHECK_INTEQ(seqset_count(&set), 7);

    struct seqset empty = SEQSET_INITIALIZER;
    seqset_remove(&empty, 1);
    CHECK_INTEQ(empty.count, 0);
    seqset_fini(&set);
    buf_free(&out);
}

static void test_iterate(void)
{
    struct seqset set = SEQSET_INITIALIZER;
    struct buf out = BUF_INITIALIZER;

    CHECK_INTEQ(seqset_first(&set), 0);
    CHECK_INTEQ(seqset_last(&set), 0);
    CHECK_INTEQ(seqset_next(&set, 0), 0);

    CHECK_INTEQ(seqset_parse(&set, "3:5,9,12:13", 100), 0);
    for (uint32_t n = seqset_first(&set); n; n = seqset_next(&set, n))
        buf_printf(&out, "%u ", n);
    CHECK_STREQ(buf_cstring(&out), "3 4 5 9 12 13 ");
    CHECK_INTEQ(seqset_next(&set, 6), 9);
    CHECK_INTEQ(seqset_first(&set), 3);
    CHECK_INTEQ(seqset_last(&set), 13);
    seqset_reset(&set);
    CHECK_INTEQ(seqset_count(&set), 0);
    buf_reset(&out);
    seqset_format(&set, &out);
    CHECK_STREQ(buf_cstring(&out), "");
    seqset_fini(&set);
    buf_free(&out);
}

UNIT_TESTS(UNIT_T(test_parse_simple), UNIT_T(test_parse_reversed),
           UNIT_T(test_parse_star), UNIT_T(test_parse_huge),
           UNIT_T(test_parse_malformed), UNIT_T(test_parse_replaces),
           UNIT_T(test_parse_many), UNIT_T(test_add), UNIT_T(test_remove),
           UNIT_T(test_iterate))
