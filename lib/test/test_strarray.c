/* test_strarray.c -- unit tests for lib/strarray. */
#include <stdlib.h>

#include "lib/strarray.h"
#include "lib/test/unit.h"

static void test_split_join(void)
{
    strarray_t *sa = strarray_split("  alice bob\tcarol  ", " \t");
    CHECK_INTEQ(sa->count, 3);
    CHECK_STREQ(strarray_nth(sa, 0), "alice");
    CHECK_STREQ(strarray_nth(sa, -1), "carol");
    CHECK(strarray_nth(sa, 3) == NULL);
    char *j = strarray_join(sa, ",");
    CHECK_STREQ(j, "alice,bob,carol");
    free(j);
    strarray_free(&sa);
    CHECK(sa == NULL);
}

static void test_find_add_remove_sort(void)
{
    strarray_t sa = STRARRAY_INITIALIZER;
    strarray_append(&sa, "Zed");
    strarray_append(&sa, "amy");
    CHECK_INTEQ(strarray_add(&sa, "amy"), 1);
    CHECK_INTEQ(sa.count, 2);
    CHECK_INTEQ(strarray_find(&sa, "zed", 1), 0);
    CHECK_INTEQ(strarray_find(&sa, "zed", 0), -1);
    strarray_append(&sa, "bob");
    strarray_sort(&sa);
    CHECK_STREQ(strarray_nth(&sa, 0), "Zed");
    CHECK_STREQ(strarray_nth(&sa, 1), "amy");
    strarray_remove(&sa, 0);
    CHECK_STREQ(strarray_nth(&sa, 0), "amy");
    CHECK_INTEQ(sa.count, 2);
    CHECK(sa.data[sa.count] == NULL);
    strarray_truncate(&sa, 1);
    CHECK_INTEQ(sa.count, 1);
    strarray_fini(&sa);
}

UNIT_TESTS(UNIT_T(test_split_join), UNIT_T(test_find_add_remove_sort))
