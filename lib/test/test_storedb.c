/* test_storedb.c -- unit tests for the store databases:
 * mailboxes.db (imap/store/mboxlist), quotas (quota), subscriptions (subs)
 * and shared seen state (seen).  Each test has its own configdir. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "imap/store/mboxlist.h"
#include "imap/store/quota.h"
#include "imap/store/seen.h"
#include "imap/store/subs.h"
#include "lib/buf.h"
#include "lib/cyrusdb.h"
#include "lib/log.h"
#include "lib/test/unit.h"
#include "lib/xmalloc.h"

static char configdir[64];
static char partdir[96];

static const char *partition_dir(const char *partition)
{
    if (!strcmp(partition, "default")) return partdir;
    if (!strcmp(partition, "other")) return "/srv/other";
    return NULL;
}

static void setup(int hash)
{
    struct mboxlist_settings ms = {
        configdir, "default", hash, partition_dir,
    };

    log_set_stderr(1);
    strcpy(configdir, "/tmp/test_storedb.XXXXXX");
    if (!mkdtemp(configdir)) {
        perror("mkdtemp");
        exit(1);
    }
    snprintf(partdir, sizeof(partdir), "%s/spool", configdir);
    CHECK_INTEQ(cyrusdb_init(configdir, 0), CYRUSDB_OK);
    CHECK_INTEQ(mboxlist_open(&ms), MBOXLIST_OK);
    CHECK_INTEQ(quota_open(configdir), QUOTA_OK);
}

static void teardown(void)
{
    char *cmd;

    quota_close();
    mboxlist_close();
    cyrusdb_done();
    cmd = strconcat("rm -rf '", configdir, "'", (char *)NULL);
    if (system(cmd) != 0) printf("# cannot remove %s\n", configdir);
    free(cmd);
}

/* --- mboxlist ------------------------------------------------------------ */

static int insert(const char *name, const char *acl)
{
    struct mboxlist_entry e = { (char *)name, MBTYPE_EMAIL, NULL, NULL, 0,
                                (char *)acl };
    int r = mboxlist_insert(&e);
    if (!r) {
        free(e.partition);
        free(e.uniqueid);
    }
    return r;
}

static void test_mboxlist_insert_lookup(void)
{
    struct mboxlist_entry e;

    setup(0);
    CHECK_INTEQ(mboxlist_lookup("user.fred", &e), MBOXLIST_NOTFOUND);
    CHECK(e.name == NULL);
    CHECK_INTEQ(insert("user.fred", "fred\tlrswipkxtecdan\tanyone\tp\t"), 0);
    CHECK_INTEQ(insert("user.fred", "fred\tl\t"), MBOXLIST_EXISTS);

    CHECK_INTEQ(mboxlist_lookup("user.fred", &e), MBOXLIST_OK);
    CHECK_STREQ(e.name, "user.fred");
    CHECK_INTEQ(e.type, MBTYPE_EMAIL);
    CHECK_STREQ(e.partition, "default");
    CHECK(e.uniqueid && strlen(e.uniqueid) == 24);
    CHECK(e.uniqueid && strspn(e.uniqueid, "0123456789abcdef") == 24);
    CHECK(e.uidvalidity >= (uint32_t)time(NULL) - 5);
    CHECK_STREQ(e.acl, "fred\tlrswipkxtecdan\tanyone\tp\t");
    mboxlist_entry_fini(&e);
    CHECK(e.name == NULL && e.acl == NULL);

    /* given ids are kept; an empty ACL and an intermediate type too */
    struct mboxlist_entry n = { "shared", MBTYPE_INTERMEDIATE, "other",
                                "00aa", 42, "" };
    CHECK_INTEQ(mboxlist_insert(&n), MBOXLIST_OK);
    CHECK_INTEQ(mboxlist_lookup("shared", &e), MBOXLIST_OK);
    CHECK_INTEQ(e.type, MBTYPE_INTERMEDIATE);
    CHECK_STREQ(e.partition, "other");
    CHECK_STREQ(e.uniqueid, "00aa");
    CHECK_INTEQ(e.uidvalidity, 42);
    CHECK_STREQ(e.acl, "");
    mboxlist_entry_fini(&e);
    teardown();
}

static void test_mboxlist_badnames(void)
{
    setup(0);
    CHECK_INTEQ(insert("", ""), MBOXLIST_BADNAME);
    CHECK_INTEQ(insert("$UIDVALIDITY", ""), MBOXLIST_BADNAME);
    CHECK_INTEQ(insert("a\nb", ""), MBOXLIST_BADNAME);
    CHECK_INTEQ(insert("ok", "fred\tl\n"), MBOXLIST_BADNAME);
    struct mboxlist_entry e = { "nopart", MBTYPE_EMAIL, "nosuch", NULL, 0, "" };
    CHECK_INTEQ(mboxlist_insert(&e), MBOXLIST_BADNAME);
    struct mboxlist_entry sp = { "sp", MBTYPE_EMAIL, "de fault", NULL, 0, "" };
    CHECK_INTEQ(mboxlist_insert(&sp), MBOXLIST_BADNAME);
    /* the bookkeeping record is invisible */
    struct mboxlist_entry l;
    CHECK_INTEQ(mboxlist_lookup("$UIDVALIDITY", &l), MBOXLIST_NOTFOUND);
    CHECK_INTEQ(mboxlist_lookup("nopart", &l), MBOXLIST_NOTFOUND);
    CHECK_INTEQ(mboxlist_lookup("ok", &l), MBOXLIST_NOTFOUND);
    teardown();
}

static void test_mboxlist_update_remove(void)
{
    struct mboxlist_entry e;

    setup(0);
    CHECK_INTEQ(insert("user.bob", "bob\tlrs\t"), 0);
    CHECK_INTEQ(mboxlist_lookup("user.bob", &e), MBOXLIST_OK);
    uint32_t uidv = e.uidvalidity;
    char *uniqueid = xstrdup(e.uniqueid);
    free(e.acl);
    e.acl = xstrdup("bob\tlrswipkxtecdan\tfred\tlr\t");
    CHECK_INTEQ(mboxlist_update(&e), MBOXLIST_OK);
    mboxlist_entry_fini(&e);
    CHECK_INTEQ(mboxlist_lookup("user.bob", &e), MBOXLIST_OK);
    CHECK_STREQ(e.acl, "bob\tlrswipkxtecdan\tfred\tlr\t");
    CHECK_INTEQ(e.uidvalidity, uidv);
    CHECK_STREQ(e.uniqueid, uniqueid);
    free(uniqueid);

    /* update does not create */
    free(e.name);
    e.name = xstrdup("user.nobody");
    CHECK_INTEQ(mboxlist_update(&e), MBOXLIST_NOTFOUND);
    mboxlist_entry_fini(&e);
    CHECK_INTEQ(mboxlist_lookup("user.nobody", &e), MBOXLIST_NOTFOUND);

    CHECK_INTEQ(mboxlist_remove("user.bob"), MBOXLIST_OK);
    CHECK_INTEQ(mboxlist_remove("user.bob"), MBOXLIST_NOTFOUND);
    CHECK_INTEQ(mboxlist_lookup("user.bob", &e), MBOXLIST_NOTFOUND);
    teardown();
}

static int collect_cb(const struct mboxlist_entry *entry, void *rock)
{
    struct buf *out = rock;
    buf_printf(out, "%s,", entry->name);
    return 0;
}

static int stop_cb(const struct mboxlist_entry *entry, void *rock)
{
    (void)rock;
    return strcmp(entry->name, "user.fred.Sent") ? 0 : 77;
}

static void test_mboxlist_foreach(void)
{
    struct buf out = BUF_INITIALIZER;

    setup(0);
    mboxlist_new_uidvalidity();   /* creates the '$' record */
    CHECK_INTEQ(insert("user.fred.Sent", ""), 0);
    CHECK_INTEQ(insert("user.fred", ""), 0);
    CHECK_INTEQ(insert("user.fredrik", ""), 0);
    CHECK_INTEQ(insert("shared.x", ""), 0);
    CHECK_INTEQ(insert("user.fred.Trash", ""), 0);

    CHECK_INTEQ(mboxlist_foreach("", collect_cb, &out), 0);
    CHECK_STREQ(buf_cstring(&out),
                "shared.x,user.fred,user.fred.Sent,user.fred.Trash,"
                "user.fredrik,");
    buf_reset(&out);
    CHECK_INTEQ(mboxlist_foreach("user.fred.", collect_cb, &out), 0);
    CHECK_STREQ(buf_cstring(&out), "user.fred.Sent,user.fred.Trash,");
    buf_reset(&out);
    CHECK_INTEQ(mboxlist_foreach("nothing", collect_cb, &out), 0);
    CHECK_STREQ(buf_cstring(&out), "");
    CHECK_INTEQ(mboxlist_foreach(NULL, stop_cb, NULL), 77);

    CHECK_INTEQ(mboxlist_haschildren("user.fred"), 1);
    CHECK_INTEQ(mboxlist_haschildren("user.fredrik"), 0);
    CHECK_INTEQ(mboxlist_haschildren("user.fred.Sent"), 0);
    CHECK_INTEQ(mboxlist_haschildren("shared"), 1);
    CHECK_INTEQ(mboxlist_haschildren("user"), 1);
    CHECK_INTEQ(mboxlist_haschildren("nosuch"), 0);
    buf_free(&out);
    teardown();
}

static void test_mboxlist_uidvalidity(void)
{
    setup(0);
    uint32_t now = (uint32_t)time(NULL);
    uint32_t prev = mboxlist_new_uidvalidity();
    CHECK(prev >= now);
    for (int i = 0; i < 100; i++) {
        uint32_t v = mboxlist_new_uidvalidity();
        if (v <= prev) {
            CHECK(v > prev);
            break;
        }
        prev = v;
    }

    /* other processes at the same time: all values distinct */
    int fds[2];
    CHECK_INTEQ(pipe(fds), 0);
    for (int c = 0; c < 4; c++) {
        pid_t pid = fork();
        if (pid == 0) {
            struct mboxlist_settings ms = { configdir, "default", 0,
                                            partition_dir };
            close(fds[0]);
            if (cyrusdb_init(configdir, 0) || mboxlist_open(&ms)) _exit(2);
            for (int i = 0; i < 25; i++) {
                uint32_t v = mboxlist_new_uidvalidity();
                if (write(fds[1], &v, sizeof(v)) != sizeof(v)) _exit(3);
            }
            mboxlist_close();
            cyrusdb_done();
            _exit(0);
        }
    }
    close(fds[1]);
    uint32_t vals[100];
    size_t n = 0;
    while (n < 100 && read(fds[0], &vals[n], sizeof(vals[n])) == sizeof(vals[n]))
        n++;
    close(fds[0]);
    for (int c = 0; c < 4; c++) {
        int status;
        wait(&status);
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    CHECK_INTEQ(n, 100);
    int dups = 0;
    for (size_t i = 0; i < n; i++) {
        if (vals[i] <= prev) dups++;
        for (size_t j = i + 1; j < n; j++) dups += vals[i] == vals[j];
    }
    CHECK_INTEQ(dups, 0);
    teardown();
}

static void test_mboxlist_uniqueid(void)
{
    struct buf a = BUF_INITIALIZER, b = BUF_INITIALIZER;

    mboxlist_new_uniqueid(&a);
    mboxlist_new_uniqueid(&b);
    CHECK_INTEQ(a.len, 24);
    CHECK(strcmp(buf_cstring(&a), buf_cstring(&b)) != 0);
    mboxlist_new_uniqueid(&a);   /* replaces */
    CHECK_INTEQ(a.len, 24);
    buf_free(&a);
    buf_free(&b);
}

static const char *path_of(const char *name, const char *part)
{
    static struct buf path = BUF_INITIALIZER;
    if (mboxlist_path(name, part, &path)) return "ERR";
    /* relative to the spool for readability */
    if (!strncmp(path.s, partdir, strlen(partdir)))
        return buf_cstring(&path) + strlen(partdir);
    return buf_cstring(&path);
}

static void test_mboxlist_path(void)
{
    setup(0);
    CHECK_STREQ(path_of("user.fred", "default"), "/user/fred");
    CHECK_STREQ(path_of("user.fred.Sent.2024", "default"),
                "/user/fred/Sent/2024");
    CHECK_STREQ(path_of("user.fred^smith.v1^2", "default"),
                "/user/fred^smith/v1^2");
    CHECK_STREQ(path_of("shared.x", "other"), "/srv/other/shared/x");
    CHECK_STREQ(path_of("example.com!user.fred", "default"),
                "/domain/example.com/user/fred");
    CHECK_STREQ(path_of("user.fred", "nosuch"), "ERR");
    CHECK_STREQ(path_of("user.fred", NULL), "ERR");
    /* nothing can climb out of the partition */
    CHECK_STREQ(path_of("user..x", "default"), "ERR");
    CHECK_STREQ(path_of(".user", "default"), "ERR");
    CHECK_STREQ(path_of("user.", "default"), "ERR");
    CHECK_STREQ(path_of("a/../../etc", "default"), "ERR");
    CHECK_STREQ(path_of("../x!user.fred", "default"), "ERR");
    CHECK_STREQ(path_of("..!user.fred", "default"), "ERR");
    CHECK_STREQ(path_of("!user.fred", "default"), "ERR");
    teardown();

    setup(1);
    CHECK_STREQ(path_of("user.fred.Sent", "default"), "/f/user/fred/Sent");
    CHECK_STREQ(path_of("user.Fred", "default"), "/f/user/Fred");
    CHECK_STREQ(path_of("user.9lives", "default"), "/q/user/9lives");
    CHECK_STREQ(path_of("news.misc", "default"), "/n/news/misc");
    CHECK_STREQ(path_of("example.com!user.bob", "default"),
                "/domain/e/example.com/b/user/bob");
    teardown();
}

/* --- quota --------------------------------------------------------------- */

static void set_limits(const char *root, int64_t storage_kb, int64_t messages)
{
    int64_t limit[QUOTA_NUMRESOURCES] = { storage_kb, messages, 0, 0 };
    int have[QUOTA_NUMRESOURCES] = { storage_kb != -2, messages != -2, 0, 0 };
    CHECK_INTEQ(quota_set_limits(root, limit, have, 0), QUOTA_OK);
}

static void test_quota_names(void)
{
    CHECK_STREQ(quota_resource_name(QUOTA_STORAGE), "STORAGE");
    CHECK_STREQ(quota_resource_name(QUOTA_NUMFOLDERS), "X-NUM-FOLDERS");
    CHECK(quota_resource_name(QUOTA_NUMRESOURCES) == NULL);
    CHECK_INTEQ(quota_resource_byname("message"), QUOTA_MESSAGE);
    CHECK_INTEQ(quota_resource_byname("X-Annotation-Storage"),
                QUOTA_ANNOTSTORAGE);
    CHECK_INTEQ(quota_resource_byname("FOO"), -1);
    CHECK_INTEQ(quota_resource_byname(NULL), -1);
}

static void test_quota_limits(void)
{
    struct quota q;

    setup(0);
    CHECK_INTEQ(quota_read("user.fred", &q), QUOTA_NOTFOUND);
    set_limits("user.fred", 100, -2);
    CHECK_INTEQ(quota_read("user.fred", &q), QUOTA_OK);
    CHECK_STREQ(q.root, "user.fred");
    CHECK_INTEQ(q.limit[QUOTA_STORAGE], 100);
    CHECK_INTEQ(q.limit[QUOTA_MESSAGE], QUOTA_UNLIMITED);
    CHECK_INTEQ(q.used[QUOTA_STORAGE], 0);
    quota_fini(&q);

    /* adding a resource keeps the others... */
    set_limits("user.fred", -2, 10);
    CHECK_INTEQ(quota_read("user.fred", &q), QUOTA_OK);
    CHECK_INTEQ(q.limit[QUOTA_STORAGE], 100);
    CHECK_INTEQ(q.limit[QUOTA_MESSAGE], 10);
    quota_fini(&q);

    /* ...unless replacing; usage survives a change of limits */
    int64_t d[QUOTA_NUMRESOURCES] = { 5000, 2, 0, 0 };
    CHECK_INTEQ(quota_update_used("user.fred", d), QUOTA_OK);
    int64_t limit[QUOTA_NUMRESOURCES] = { 0, 7, 0, 0 };
    int have[QUOTA_NUMRESOURCES] = { 0, 1, 0, 0 };
    CHECK_INTEQ(quota_set_limits("user.fred", limit, have, 1), QUOTA_OK);
    CHECK_INTEQ(quota_read("user.fred", &q), QUOTA_OK);
    CHECK_INTEQ(q.limit[QUOTA_STORAGE], QUOTA_UNLIMITED);
    CHECK_INTEQ(q.limit[QUOTA_MESSAGE], 7);
    CHECK_INTEQ(q.used[QUOTA_STORAGE], 5000);
    CHECK_INTEQ(q.used[QUOTA_MESSAGE], 2);
    quota_fini(&q);

    CHECK_INTEQ(quota_delete("user.fred"), QUOTA_OK);
    CHECK_INTEQ(quota_delete("user.fred"), QUOTA_NOTFOUND);
    CHECK_INTEQ(quota_read("user.fred", &q), QUOTA_NOTFOUND);
    CHECK_INTEQ(quota_update_used("user.fred", d), QUOTA_NOTFOUND);
    teardown();
}

static void test_quota_findroot(void)
{
    char *r;

    setup(0);
    CHECK(quota_findroot("user.fred.Sent") == NULL);
    set_limits("user.fred", 10, -2);
    set_limits("user.fred.Archive", 20, -2);
    set_limits("example.com!", 5, -2);

    r = quota_findroot("user.fred.Sent.2024");
    CHECK_STREQ(r, "user.fred");
    free(r);
    r = quota_findroot("user.fred");
    CHECK_STREQ(r, "user.fred");
    free(r);
    r = quota_findroot("user.fred.Archive.x");
    CHECK_STREQ(r, "user.fred.Archive");
    free(r);
    CHECK(quota_findroot("user.fredrik") == NULL);
    CHECK(quota_findroot("user") == NULL);
    CHECK(quota_findroot("") == NULL);
    r = quota_findroot("example.com!user.bob.x");
    CHECK_STREQ(r, "example.com!");
    free(r);
    CHECK(quota_findroot("other.org!user.bob") == NULL);
    teardown();
}

static void test_quota_check(void)
{
    enum quota_resource which = QUOTA_NUMRESOURCES;

    setup(0);
    int64_t none[QUOTA_NUMRESOURCES] = { 0 };
    int64_t msg[QUOTA_NUMRESOURCES] = { 1000, 1, 0, 0 };
    /* no root, no limit */
    CHECK_INTEQ(quota_check("user.nobody", msg, 1, &which), QUOTA_OK);
    CHECK_INTEQ(quota_check(NULL, msg, 1, &which), QUOTA_OK);

    set_limits("user.fred", 2, 3);   /* 2 KiB, 3 messages */
    CHECK_INTEQ(quota_check("user.fred", msg, 1, &which), QUOTA_OK);
    int64_t used[QUOTA_NUMRESOURCES] = { 1048, 1, 0, 0 };
    CHECK_INTEQ(quota_update_used("user.fred", used), QUOTA_OK);
    /* 1048 + 1000 = 2048: exactly the limit is allowed */
    CHECK_INTEQ(quota_check("user.fred", msg, 1, &which), QUOTA_OK);
    int64_t more[QUOTA_NUMRESOURCES] = { 1001, 1, 0, 0 };
    CHECK_INTEQ(quota_check("user.fred", more, 1, &which), QUOTA_EXCEEDED);
    CHECK_INTEQ(which, QUOTA_STORAGE);
    /* lenient: usage is under the limit, so anything goes */
    CHECK_INTEQ(quota_check("user.fred", more, 0, &which), QUOTA_OK);
    /* a change that only frees is always allowed */
    int64_t less[QUOTA_NUMRESOURCES] = { -500, -1, 0, 0 };
    CHECK_INTEQ(quota_check("user.fred", less, 1, &which), QUOTA_OK);
    CHECK_INTEQ(quota_check("user.fred", none, 1, &which), QUOTA_OK);

    int64_t two[QUOTA_NUMRESOURCES] = { 0, 2, 0, 0 };
    CHECK_INTEQ(quota_update_used("user.fred", two), QUOTA_OK);   /* 3 msgs */
    int64_t one[QUOTA_NUMRESOURCES] = { 1, 1, 0, 0 };
    which = QUOTA_NUMRESOURCES;
    CHECK_INTEQ(quota_check("user.fred", one, 1, &which), QUOTA_EXCEEDED);
    CHECK_INTEQ(which, QUOTA_MESSAGE);
    CHECK_INTEQ(quota_check("user.fred", one, 0, &which), QUOTA_EXCEEDED);

    /* limit 0 refuses everything */
    set_limits("user.zero", 0, -2);
    CHECK_INTEQ(quota_check("user.zero", one, 1, &which), QUOTA_EXCEEDED);
    CHECK_INTEQ(quota_check("user.zero", one, 0, &which), QUOTA_EXCEEDED);
    teardown();
}

static void test_quota_usage_floor(void)
{
    struct quota q;

    setup(0);
    set_limits("user.fred", 10, -2);
    int64_t d[QUOTA_NUMRESOURCES] = { 100, 1, 0, 0 };
    CHECK_INTEQ(quota_update_used("user.fred", d), QUOTA_OK);
    int64_t neg[QUOTA_NUMRESOURCES] = { -300, -1, 0, 0 };
    CHECK_INTEQ(quota_update_used("user.fred", neg), QUOTA_OK);
    CHECK_INTEQ(quota_read("user.fred", &q), QUOTA_OK);
    CHECK_INTEQ(q.used[QUOTA_STORAGE], 0);
    CHECK_INTEQ(q.used[QUOTA_MESSAGE], 0);
    quota_fini(&q);

    int64_t set[QUOTA_NUMRESOURCES] = { 12345, 6, 2, 0 };
    CHECK_INTEQ(quota_set_used("user.fred", set), QUOTA_OK);
    CHECK_INTEQ(quota_read("user.fred", &q), QUOTA_OK);
    CHECK_INTEQ(q.used[QUOTA_STORAGE], 12345);
    CHECK_INTEQ(q.used[QUOTA_NUMFOLDERS], 2);
    CHECK_INTEQ(q.limit[QUOTA_STORAGE], 10);
    quota_fini(&q);
    CHECK_INTEQ(quota_set_used("user.none", set), QUOTA_NOTFOUND);
    teardown();
}

static void test_quota_concurrent(void)
{
    struct quota q;
    enum { CHILDREN = 6, UPDATES = 150 };

    setup(0);
    set_limits("user.fred", -1, -1);
    for (int c = 0; c < CHILDREN; c++) {
        pid_t pid = fork();
        if (pid == 0) {
            if (cyrusdb_init(configdir, 0) || quota_open(configdir)) _exit(2);
            for (int i = 0; i < UPDATES; i++) {
                /* children alternate signs so ordering matters nowhere */
                int64_t d[QUOTA_NUMRESOURCES] = { 3 + c, 1, 0, 0 };
                if (quota_update_used("user.fred", d)) _exit(3);
            }
            quota_close();
            cyrusdb_done();
            _exit(0);
        }
    }
    /* the parent changes the limits meanwhile: usage must survive */
    for (int i = 0; i < 50; i++) set_limits("user.fred", 1000 + i, -2);
    for (int c = 0; c < CHILDREN; c++) {
        int status;
        wait(&status);
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    CHECK_INTEQ(quota_read("user.fred", &q), QUOTA_OK);
    int64_t expect = 0;
    for (int c = 0; c < CHILDREN; c++) expect += (int64_t)(3 + c) * UPDATES;
    CHECK_INTEQ(q.used[QUOTA_STORAGE], expect);
    CHECK_INTEQ(q.used[QUOTA_MESSAGE], CHILDREN * UPDATES);
    CHECK_INTEQ(q.limit[QUOTA_STORAGE], 1049);
    quota_fini(&q);
    teardown();
}

static int quota_collect(const struct quota *q, void *rock)
{
    buf_printf(rock, "%s=%lld,", q->root, (long long)q->limit[QUOTA_STORAGE]);
    return 0;
}

static void test_quota_foreach(void)
{
    struct buf out = BUF_INITIALIZER;

    setup(0);
    set_limits("user.fred", 1, -2);
    set_limits("user.bob", 2, -2);
    set_limits("shared", 3, -2);
    CHECK_INTEQ(quota_foreach("", quota_collect, &out), 0);
    CHECK_STREQ(buf_cstring(&out), "shared=3,user.bob=2,user.fred=1,");
    buf_reset(&out);
    CHECK_INTEQ(quota_foreach("user.", quota_collect, &out), 0);
    CHECK_STREQ(buf_cstring(&out), "user.bob=2,user.fred=1,");
    buf_free(&out);
    teardown();
}

/* --- subs ---------------------------------------------------------------- */

static const char *subs_list(const char *userid)
{
    static struct buf out = BUF_INITIALIZER;
    strarray_t names = STRARRAY_INITIALIZER;

    buf_reset(&out);
    if (subs_read(configdir, userid, &names) < 0) {
        buf_setcstr(&out, "ERR");
    } else {
        char *j = strarray_join(&names, ",");
        buf_setcstr(&out, j ? j : "");
        free(j);
    }
    strarray_fini(&names);
    return buf_cstring(&out);
}

static void test_subs_basic(void)
{
    struct buf path = BUF_INITIALIZER;

    setup(0);
    CHECK_STREQ(subs_list("fred"), "");
    CHECK_INTEQ(subs_add(configdir, "fred", "user.fred.Sent"), 0);
    CHECK_INTEQ(subs_add(configdir, "fred", "user.fred"), 0);
    CHECK_INTEQ(subs_add(configdir, "fred", "shared.news"), 0);
    CHECK_INTEQ(subs_add(configdir, "fred", "user.fred"), 0);   /* twice */
    CHECK_INTEQ(subs_add(configdir, "fred", "does.not.exist"), 0);
    CHECK_STREQ(subs_list("fred"),
                "does.not.exist,shared.news,user.fred,user.fred.Sent");
    CHECK_STREQ(subs_list("bob"), "");

    CHECK_INTEQ(subs_remove(configdir, "fred", "shared.news"), 0);
    CHECK_INTEQ(subs_remove(configdir, "fred", "not.there"), 0);
    CHECK_STREQ(subs_list("fred"), "does.not.exist,user.fred,user.fred.Sent");

    /* bad names are refused and change nothing */
    CHECK_INTEQ(subs_add(configdir, "fred", ""), -1);
    CHECK_INTEQ(subs_add(configdir, "fred", "a\nb"), -1);
    CHECK_STREQ(subs_list("fred"), "does.not.exist,user.fred,user.fred.Sent");

    /* the file is where the layout says, one sorted name per line */
    subs_user_path(configdir, "fred", "sub", &path);
    FILE *f = fopen(buf_cstring(&path), "r");
    CHECK(f != NULL);
    if (f) {
        char line[128];
        CHECK(fgets(line, sizeof(line), f) != NULL);
        CHECK_STREQ(line, "does.not.exist\n");
        fclose(f);
    }

    CHECK_INTEQ(subs_delete_user(configdir, "fred"), 0);
    CHECK_STREQ(subs_list("fred"), "");
    CHECK_INTEQ(subs_delete_user(configdir, "fred"), 0);
    buf_free(&path);
    teardown();
}

static void test_subs_rename(void)
{
    setup(0);
    subs_add(configdir, "fred", "user.fred.a");
    subs_add(configdir, "fred", "user.fred.a.b");
    subs_add(configdir, "fred", "user.fred.ab");
    subs_add(configdir, "fred", "user.fred.z");
    CHECK_INTEQ(subs_rename(configdir, "fred", "user.fred.a", "user.fred.z"),
                0);
    /* "ab" is not below "a"; the renamed "a" merges with the existing z */
    CHECK_STREQ(subs_list("fred"), "user.fred.ab,user.fred.z,user.fred.z.b");
    CHECK_INTEQ(subs_rename(configdir, "fred", "nothing", "else"), 0);
    CHECK_STREQ(subs_list("fred"), "user.fred.ab,user.fred.z,user.fred.z.b");
    teardown();
}

static void test_subs_path(void)
{
    struct buf p = BUF_INITIALIZER;

    subs_user_path("/c", "fred", "sub", &p);
    CHECK_STREQ(buf_cstring(&p), "/c/user/f/fred.sub");
    subs_user_path("/c", "Bob@example.com", "seen", &p);
    CHECK_STREQ(buf_cstring(&p), "/c/user/b/Bob@example.com.seen");
    subs_user_path("/c", "../../etc/passwd", "sub", &p);
    CHECK_STREQ(buf_cstring(&p), "/c/user/q/%2E.%2F..%2Fetc%2Fpasswd.sub");
    subs_user_path("/c", "7%", "sub", &p);
    CHECK_STREQ(buf_cstring(&p), "/c/user/q/7%25.sub");
    buf_free(&p);
}

static void test_subs_concurrent(void)
{
    enum { CHILDREN = 4, EACH = 25 };

    setup(0);
    for (int c = 0; c < CHILDREN; c++) {
        if (fork() == 0) {
            char name[32];
            for (int i = 0; i < EACH; i++) {
                snprintf(name, sizeof(name), "box.%d.%02d", c, i);
                if (subs_add(configdir, "fred", name)) _exit(1);
            }
            _exit(0);
        }
    }
    for (int c = 0; c < CHILDREN; c++) {
        int status;
        wait(&status);
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    strarray_t names = STRARRAY_INITIALIZER;
    CHECK_INTEQ(subs_read(configdir, "fred", &names), 0);
    CHECK_INTEQ(names.count, CHILDREN * EACH);
    strarray_fini(&names);
    teardown();
}

/* --- seen ---------------------------------------------------------------- */

static void test_seen_basic(void)
{
    struct seen *seen = NULL;
    struct seendata sd = { 0, 0, SEQSET_INITIALIZER };
    struct buf out = BUF_INITIALIZER;

    setup(0);
    CHECK_INTEQ(seen_open(configdir, "bob", &seen), SEEN_OK);
    CHECK(seen != NULL);
    CHECK_INTEQ(seen_read(seen, "abc123", &sd), SEEN_OK);
    CHECK_INTEQ(sd.lastuid, 0);
    CHECK_INTEQ(seqset_count(&sd.uids), 0);

    seqset_add_range(&sd.uids, 1, 5);
    seqset_add(&sd.uids, 9);
    sd.lastuid = 12;
    CHECK_INTEQ(seen_write(seen, "abc123", &sd), SEEN_OK);
    seendata_fini(&sd);

    CHECK_INTEQ(seen_read(seen, "abc123", &sd), SEEN_OK);
    seqset_format(&sd.uids, &out);
    CHECK_STREQ(buf_cstring(&out), "1:5,9");
    CHECK_INTEQ(sd.lastuid, 12);
    CHECK(sd.lastchange >= time(NULL) - 5 && sd.lastchange <= time(NULL));
    seen_close(&seen);
    CHECK(seen == NULL);

    /* durable across handles; empty sets and given times round-trip */
    CHECK_INTEQ(seen_open(configdir, "bob", &seen), SEEN_OK);
    CHECK_INTEQ(seen_read(seen, "abc123", &sd), SEEN_OK);
    CHECK_INTEQ(seqset_count(&sd.uids), 6);
    seqset_reset(&sd.uids);
    sd.lastchange = 1234567;
    CHECK_INTEQ(seen_write(seen, "other", &sd), SEEN_OK);
    CHECK_INTEQ(seen_read(seen, "other", &sd), SEEN_OK);
    CHECK_INTEQ(sd.lastchange, 1234567);
    CHECK_INTEQ(seqset_count(&sd.uids), 0);
    CHECK_INTEQ(sd.lastuid, 12);

    CHECK_INTEQ(seen_delete_mailbox(seen, "abc123"), SEEN_OK);
    CHECK_INTEQ(seen_delete_mailbox(seen, "abc123"), SEEN_OK);
    CHECK_INTEQ(seen_read(seen, "abc123", &sd), SEEN_OK);
    CHECK_INTEQ(sd.lastuid, 0);
    CHECK_INTEQ(seqset_count(&sd.uids), 0);
    seen_close(&seen);

    /* another user's state is separate */
    CHECK_INTEQ(seen_open(configdir, "carol", &seen), SEEN_OK);
    CHECK_INTEQ(seen_read(seen, "other", &sd), SEEN_OK);
    CHECK_INTEQ(sd.lastuid, 0);
    seen_close(&seen);

    struct buf path = BUF_INITIALIZER;
    subs_user_path(configdir, "bob", "seen", &path);
    CHECK_INTEQ(access(buf_cstring(&path), F_OK), 0);
    CHECK_INTEQ(seen_delete_user(configdir, "bob"), SEEN_OK);
    CHECK(access(buf_cstring(&path), F_OK) < 0);
    CHECK_INTEQ(seen_delete_user(configdir, "nobody"), SEEN_OK);
    CHECK_INTEQ(seen_open(configdir, "bob", &seen), SEEN_OK);
    CHECK_INTEQ(seen_read(seen, "other", &sd), SEEN_OK);
    CHECK_INTEQ(sd.lastuid, 0);
    seen_close(&seen);

    buf_free(&path);
    seendata_fini(&sd);
    buf_free(&out);
    teardown();
}

UNIT_TESTS(UNIT_T(test_mboxlist_insert_lookup), UNIT_T(test_mboxlist_badnames),
           UNIT_T(test_mboxlist_update_remove), UNIT_T(test_mboxlist_foreach),
           UNIT_T(test_mboxlist_uidvalidity), UNIT_T(test_mboxlist_uniqueid),
           UNIT_T(test_mboxlist_path), UNIT_T(test_quota_names),
           UNIT_T(test_quota_limits), UNIT_T(test_quota_findroot),
           UNIT_T(test_quota_check), UNIT_T(test_quota_usage_floor),
           UNIT_T(test_quota_concurrent), UNIT_T(test_quota_foreach),
           UNIT_T(test_subs_basic), UNIT_T(test_subs_rename),
           UNIT_T(test_subs_path), UNIT_T(test_subs_concurrent),
           UNIT_T(test_seen_basic))
