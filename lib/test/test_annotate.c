/* test_annotate.c -- unit tests for the annotations database
 * (imap/store/annotate).  Each test has its own configdir. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "imap/store/annotate.h"
#include "lib/buf.h"
#include "lib/cyrusdb.h"
#include "lib/log.h"
#include "lib/test/unit.h"
#include "lib/xmalloc.h"

static char configdir[64];

static void setup(void)
{
    char *path;

    log_set_stderr(1);
    strcpy(configdir, "/tmp/test_annotate.XXXXXX");
    if (!mkdtemp(configdir)) {
        perror("mkdtemp");
        exit(1);
    }
    CHECK_INTEQ(cyrusdb_init(configdir, 0), CYRUSDB_OK);
    path = strconcat(configdir, "/annotations.db", (char *)NULL);
    CHECK_INTEQ(annotate_open(path), ANNOTATE_OK);
    free(path);
}

static void teardown(void)
{
    char *cmd;

    annotate_close();
    cyrusdb_done();
    cmd = strconcat("rm -rf '", configdir, "'", (char *)NULL);
    if (system(cmd) != 0)
        printf("# cannot remove %s\n", configdir);
    free(cmd);
}

static int set1(const char *uid, const char *entry, const char *user,
                const char *value)
{
    struct annotate_change c = { entry, user, value,
                                 value ? strlen(value) : 0 };
    return annotate_store(uid, &c, 1, NULL);
}

static void test_entry_parse(void)
{
    struct buf path = BUF_INITIALIZER;
    int shared = -1;

    CHECK_INTEQ(annotate_entry_parse("/private/Comment", &shared, &path), 0);
    CHECK_INTEQ(shared, 0);
    CHECK_STREQ(buf_cstring(&path), "/comment");
    CHECK_INTEQ(annotate_entry_parse("/SHARED/vendor/example.com/x",
                                     &shared, &path), 0);
    CHECK_INTEQ(shared, 1);
    CHECK_STREQ(buf_cstring(&path), "/vendor/example.com/x");
    CHECK_INTEQ(annotate_entry_parse("/shared", &shared, &path),
                ANNOTATE_BADENTRY);
    CHECK_INTEQ(annotate_entry_parse("/comment", &shared, &path),
                ANNOTATE_BADENTRY);
    CHECK_INTEQ(annotate_entry_parse("/shared/a//b", &shared, &path),
                ANNOTATE_BADENTRY);
    CHECK_INTEQ(annotate_entry_parse("/shared/a/", &shared, &path),
                ANNOTATE_BADENTRY);
    CHECK_INTEQ(annotate_entry_parse("/shared/a*", &shared, &path),
                ANNOTATE_BADENTRY);
    CHECK_INTEQ(annotate_entry_parse("/shared/a%b", &shared, &path),
                ANNOTATE_BADENTRY);
    CHECK_INTEQ(annotate_entry_parse("/shared/caf\xc3\xa9", &shared, &path),
                ANNOTATE_BADENTRY);
    CHECK_INTEQ(annotate_entry_parse("/sharedx/comment", &shared, &path),
                ANNOTATE_BADENTRY);
    buf_free(&path);
}

static void test_get_set_delete(void)
{
    struct buf v = BUF_INITIALIZER;

    setup();
    CHECK_INTEQ(annotate_get("u1", "/comment", "", &v), ANNOTATE_NOTFOUND);
    CHECK_INTEQ(set1("u1", "/comment", "", "shared one"), 0);
    CHECK_INTEQ(set1("u1", "/comment", "fred", "fred's"), 0);
    CHECK_INTEQ(annotate_get("u1", "/comment", "", &v), 0);
    CHECK_STREQ(buf_cstring(&v), "shared one");
    CHECK_INTEQ(annotate_get("u1", "/comment", "fred", &v), 0);
    CHECK_STREQ(buf_cstring(&v), "fred's");
    CHECK_INTEQ(annotate_get("u1", "/comment", "barney", &v),
                ANNOTATE_NOTFOUND);
    CHECK_INTEQ(annotate_get("u2", "/comment", "", &v), ANNOTATE_NOTFOUND);
    /* Server annotations (empty unique id) are apart from mailboxes'. */
    CHECK_INTEQ(annotate_get("", "/comment", "", &v), ANNOTATE_NOTFOUND);
    CHECK_INTEQ(set1("u1", "/comment", "", NULL), 0);
    CHECK_INTEQ(annotate_get("u1", "/comment", "", &v), ANNOTATE_NOTFOUND);
    CHECK_INTEQ(annotate_get("u1", "/comment", "fred", &v), 0);
    /* Removing what is not there is no error. */
    CHECK_INTEQ(set1("u1", "/nothing", "", NULL), 0);
    buf_free(&v);
    teardown();
}

static void test_binary_value(void)
{
    struct annotate_change c = { "/vendor/x/bin", "", "a\0b\r\n", 5 };
    struct buf v = BUF_INITIALIZER;

    setup();
    CHECK_INTEQ(annotate_store("u1", &c, 1, NULL), 0);
    CHECK_INTEQ(annotate_get("u1", "/vendor/x/bin", "", &v), 0);
    CHECK_INTEQ(v.len, 5);
    CHECK(v.len == 5 && !memcmp(v.s, "a\0b\r\n", 5));
    buf_free(&v);
    teardown();
}

static int list_cb(const char *entry, const char *userid, const char *value,
                   size_t len, void *rock)
{
    struct buf *out = rock;

    buf_printf(out, "%s|%s|%.*s;", entry, userid, (int)len, value);
    return 0;
}

static void test_foreach_depth(void)
{
    struct buf out = BUF_INITIALIZER;

    setup();
    set1("u1", "/a", "", "1");
    set1("u1", "/a/b", "", "2");
    set1("u1", "/a/b/c", "", "3");
    set1("u1", "/ab", "", "4");
    set1("u1", "/a/x", "fred", "5");
    set1("u2", "/a", "", "other");

    CHECK_INTEQ(annotate_foreach("u1", "/a", 0, "", list_cb, &out), 0);
    CHECK_STREQ(buf_cstring(&out), "/a||1;");
    buf_reset(&out);
    CHECK_INTEQ(annotate_foreach("u1", "/a", 1, "", list_cb, &out), 0);
    CHECK_STREQ(buf_cstring(&out), "/a||1;/a/b||2;");
    buf_reset(&out);
    CHECK_INTEQ(annotate_foreach("u1", "/a", -1, "", list_cb, &out), 0);
    CHECK_STREQ(buf_cstring(&out), "/a||1;/a/b||2;/a/b/c||3;");
    buf_reset(&out);
    CHECK_INTEQ(annotate_foreach("u1", "/a", -1, "fred", list_cb, &out), 0);
    CHECK_STREQ(buf_cstring(&out), "/a/x|fred|5;");
    buf_reset(&out);
    CHECK_INTEQ(annotate_foreach("u1", "", -1, NULL, list_cb, &out), 0);
    CHECK_STREQ(buf_cstring(&out),
                "/a||1;/a/b||2;/a/b/c||3;/a/x|fred|5;/ab||4;");
    buf_free(&out);
    teardown();
}

static void test_store_atomic_delta(void)
{
    struct annotate_change c[3] = {
        { "/comment", "", "12345", 5 },
        { "/comment", "fred", "123", 3 },
        { "/vendor/x/y", "", "1", 1 },
    };
    struct buf v = BUF_INITIALIZER;
    int64_t delta = -1, bytes = 0;
    int count = 0;

    setup();
    CHECK_INTEQ(annotate_store("u1", c, 3, &delta), 0);
    CHECK_INTEQ(delta, 9);
    CHECK_INTEQ(annotate_usage("u1", NULL, &bytes, &count), 0);
    CHECK_INTEQ(bytes, 9);
    CHECK_INTEQ(count, 3);
    CHECK_INTEQ(annotate_usage("u1", "fred", &bytes, &count), 0);
    CHECK_INTEQ(bytes, 3);
    CHECK_INTEQ(count, 1);
    c[0].value = "1";
    c[0].len = 1;
    c[1].value = NULL;
    CHECK_INTEQ(annotate_store("u1", c, 2, &delta), 0);
    CHECK_INTEQ(delta, -7);
    /* A bad change refuses the whole set: nothing is applied. */
    c[0].value = "changed";
    c[0].len = 7;
    c[1].userid = NULL;
    CHECK_INTEQ(annotate_store("u1", c, 2, &delta), ANNOTATE_BADENTRY);
    CHECK_INTEQ(annotate_get("u1", "/comment", "", &v), 0);
    CHECK_STREQ(buf_cstring(&v), "1");
    buf_free(&v);
    teardown();
}

static void test_delete_and_copy_mailbox(void)
{
    struct buf v = BUF_INITIALIZER;
    int64_t freed = 0;

    setup();
    set1("u1", "/comment", "", "abc");
    set1("u1", "/comment", "fred", "de");
    set1("", "/comment", "", "server");
    set1("u10", "/comment", "", "keep");
    CHECK_INTEQ(annotate_copy_mailbox("u1", "u3"), 0);
    CHECK_INTEQ(annotate_get("u3", "/comment", "fred", &v), 0);
    CHECK_STREQ(buf_cstring(&v), "de");
    CHECK_INTEQ(annotate_delete_mailbox("u1", &freed), 0);
    CHECK_INTEQ(freed, 5);
    CHECK_INTEQ(annotate_get("u1", "/comment", "", &v), ANNOTATE_NOTFOUND);
    CHECK_INTEQ(annotate_get("u1", "/comment", "fred", &v),
                ANNOTATE_NOTFOUND);
    /* Neither a mailbox whose id starts alike nor the server's. */
    CHECK_INTEQ(annotate_get("u10", "/comment", "", &v), 0);
    CHECK_INTEQ(annotate_get("", "/comment", "", &v), 0);
    CHECK_STREQ(buf_cstring(&v), "server");
    CHECK_INTEQ(annotate_get("u3", "/comment", "", &v), 0);
    CHECK_STREQ(buf_cstring(&v), "abc");
    /* The empty id (server) is never wiped by a mailbox delete. */
    CHECK_INTEQ(annotate_delete_mailbox("", &freed), 0);
    CHECK_INTEQ(annotate_get("", "/comment", "", &v), 0);
    buf_free(&v);
    teardown();
}

static void test_closed(void)
{
    struct buf v = BUF_INITIALIZER;

    CHECK(!annotate_isopen());
    CHECK_INTEQ(annotate_get("u1", "/comment", "", &v), ANNOTATE_IOERROR);
    buf_free(&v);
}

UNIT_TESTS(UNIT_T(test_entry_parse), UNIT_T(test_get_set_delete),
           UNIT_T(test_binary_value), UNIT_T(test_foreach_depth),
           UNIT_T(test_store_atomic_delta),
           UNIT_T(test_delete_and_copy_mailbox), UNIT_T(test_closed))
