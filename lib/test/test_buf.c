/* test_buf.c -- unit tests for lib/buf. */
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/test/unit.h"

static void test_append_and_cstring(void)
{
    struct buf b = BUF_INITIALIZER;
    CHECK_STREQ(buf_cstring(&b), "");
    CHECK(buf_cstringnull(&b) == NULL);
    buf_appendcstr(&b, "hello");
    buf_putc(&b, ' ');
    buf_appendmap(&b, "world!!", 5);
    CHECK_INTEQ(b.len, 11);
    CHECK_STREQ(buf_cstring(&b), "hello world");
    buf_free(&b);
    CHECK(b.s == NULL && b.len == 0);
}

static void test_printf_grows(void)
{
    struct buf b = BUF_INITIALIZER;
    for (int i = 0; i < 1000; i++) buf_printf(&b, "%d,", i);
    CHECK(b.len > 3000);
    CHECK(!strncmp(buf_cstring(&b), "0,1,2,", 6));
    CHECK(!strcmp(buf_cstring(&b) + b.len - 4, "999,"));
    buf_reset(&b);
    buf_printf(&b, "%s-%05d", "x", 42);
    CHECK_STREQ(buf_cstring(&b), "x-00042");
    buf_free(&b);
}

static void test_binary_and_truncate(void)
{
    struct buf b = BUF_INITIALIZER;
    buf_appendmap(&b, "a\0b", 3);
    CHECK_INTEQ(b.len, 3);
    CHECK(b.s[1] == '\0' && b.s[2] == 'b');
    buf_truncate(&b, 1);
    CHECK_STREQ(buf_cstring(&b), "a");
    buf_truncate(&b, 10);
    CHECK_INTEQ(b.len, 1);
    buf_free(&b);
}

static void test_trim_release_cmp(void)
{
    struct buf b = BUF_INITIALIZER;
    buf_setcstr(&b, "  \t value here \r\n");
    buf_trim(&b);
    CHECK_STREQ(buf_cstring(&b), "value here");
    CHECK(buf_cmp_cstr(&b, "value here") == 0);
    CHECK(buf_cmp_cstr(&b, "value") != 0);
    char *s = buf_release(&b);
    CHECK_STREQ(s, "value here");
    CHECK(b.s == NULL);
    free(s);
    buf_setcstr(&b, "   ");
    buf_trim(&b);
    CHECK_INTEQ(b.len, 0);
    buf_free(&b);
}

UNIT_TESTS(UNIT_T(test_append_and_cstring), UNIT_T(test_printf_grows),
           UNIT_T(test_binary_and_truncate), UNIT_T(test_trim_release_cmp))
