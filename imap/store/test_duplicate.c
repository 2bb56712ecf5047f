/* test_duplicate.c -- unit tests for deliver.db (imap/store/duplicate). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "imap/store/duplicate.h"
#include "lib/buf.h"
#include "lib/cyrusdb.h"
#include "lib/log.h"
#include "lib/test/unit.h"
#include "lib/xmalloc.h"

static char configdir[64];
static char dbpath[128];

static void setup(void)
{
    log_set_stderr(1);
    strcpy(configdir, "/tmp/test_duplicate.XXXXXX");
    if (!mkdtemp(configdir)) {
        perror("mkdtemp");
        exit(1);
    }
    snprintf(dbpath, sizeof(dbpath), "%s/deliver.db", configdir);
    CHECK_INTEQ(cyrusdb_init(configdir, 0), CYRUSDB_OK);
    CHECK_INTEQ(duplicate_open(dbpath), DUPLICATE_OK);
}

static void teardown(void)
{
    char *cmd;

    duplicate_close();
    cyrusdb_done();
    cmd = strconcat("rm -rf '", configdir, "'", (char *)NULL);
    if (system(cmd) != 0)
        printf("# cannot remove %s\n", configdir);
    free(cmd);
}

static void test_mark_then_check(void)
{
    time_t mark = 0;

    setup();
    CHECK_INTEQ(duplicate_check("<a@x>", "user.fred", NULL), 0);
    CHECK_INTEQ(duplicate_mark("<a@x>", "user.fred", 1000, 7), DUPLICATE_OK);
    CHECK_INTEQ(duplicate_check("<a@x>", "user.fred", &mark), 1);
    CHECK_INTEQ(mark, 1000);
    teardown();
}

static void test_key_is_msgid_and_mailbox(void)
{
    setup();
    duplicate_mark("<a@x>", "user.fred", 1000, 1);
    /* Same id, other mailbox; other id, same mailbox: not duplicates. */
    CHECK_INTEQ(duplicate_check("<a@x>", "user.bob", NULL), 0);
    CHECK_INTEQ(duplicate_check("<b@x>", "user.fred", NULL), 0);
    /* The key parts cannot run into each other. */
    duplicate_mark("<a@x>user", "fred", 1000, 1);
    CHECK_INTEQ(duplicate_check("<a@x>", "userfred", NULL), 0);
    CHECK_INTEQ(duplicate_check("<a@x>user", "fred", NULL), 1);
    teardown();
}

static void test_empty_msgid_never_matches(void)
{
    setup();
    CHECK_INTEQ(duplicate_mark("", "user.fred", 1000, 1), DUPLICATE_OK);
    CHECK_INTEQ(duplicate_check("", "user.fred", NULL), 0);
    CHECK_INTEQ(duplicate_check(NULL, "user.fred", NULL), 0);
    teardown();
}

static int count_cb(const char *msgid, const char *mailbox, time_t mark,
                    uint32_t uid, void *rock)
{
    (void)mark;
    if (!strcmp(msgid, "<new@x>")) {
        CHECK_STREQ(mailbox, "user.bob");
        CHECK_INTEQ(uid, 9);
    }
    (*(int *)rock)++;
    return 0;
}

static void test_prune_keeps_recent(void)
{
    unsigned long deleted = 99, kept = 99;
    int n = 0;

    setup();
    duplicate_mark("<old1@x>", "user.fred", 100, 1);
    duplicate_mark("<old2@x>", "user.bob", 199, 2);
    duplicate_mark("<new@x>", "user.bob", 200, 9);
    duplicate_mark("<newer@x>", "user.fred", 5000, 3);
    CHECK_INTEQ(duplicate_prune(200, &deleted, &kept), DUPLICATE_OK);
    CHECK_INTEQ(deleted, 2);
    CHECK_INTEQ(kept, 2);
    CHECK_INTEQ(duplicate_check("<old1@x>", "user.fred", NULL), 0);
    CHECK_INTEQ(duplicate_check("<old2@x>", "user.bob", NULL), 0);
    CHECK_INTEQ(duplicate_check("<new@x>", "user.bob", NULL), 1);
    CHECK_INTEQ(duplicate_foreach(count_cb, &n), 0);
    CHECK_INTEQ(n, 2);
    teardown();
}

static void test_remark_updates_time(void)
{
    time_t mark = 0;

    setup();
    duplicate_mark("<a@x>", "user.fred", 100, 1);
    duplicate_mark("<a@x>", "user.fred", 300, 2);
    CHECK_INTEQ(duplicate_check("<a@x>", "user.fred", &mark), 1);
    CHECK_INTEQ(mark, 300);
    CHECK_INTEQ(duplicate_prune(200, NULL, NULL), DUPLICATE_OK);
    CHECK_INTEQ(duplicate_check("<a@x>", "user.fred", NULL), 1);
    teardown();
}

UNIT_TESTS(UNIT_T(test_mark_then_check), UNIT_T(test_key_is_msgid_and_mailbox),
           UNIT_T(test_empty_msgid_never_matches),
           UNIT_T(test_prune_keeps_recent), UNIT_T(test_remark_updates_time))
