/* test_cyrusdb.c -- unit tests for lib/cyrusdb over Berkeley DB.
 *
 * Each test gets a fresh configuration directory under /tmp.  Child
 * processes report failure through their exit status.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/cyrusdb.h"
#include "lib/log.h"
#include "lib/test/unit.h"
#include "lib/xmalloc.h"

static char tmpdir[64];
static char dbpath[128];

static void setup(void)
{
    log_set_stderr(1);
    strcpy(tmpdir, "/tmp/test_cyrusdb.XXXXXX");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        exit(1);
    }
    snprintf(dbpath, sizeof(dbpath), "%s/test.db", tmpdir);
}

static int rm_entry(const char *path, const struct stat *st, int flag,
                    struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void teardown(void)
{
    nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static int store_str(struct cyrusdb *db, const char *k, const char *v,
                     struct cyrusdb_txn **tid)
{
    return cyrusdb_store(db, k, strlen(k), v, strlen(v), tid);
}

/* The value of `k` as a C string, or "(none)"; valid until the next call. */
static const char *fetch_str(struct cyrusdb *db, const char *k,
                             struct cyrusdb_txn **tid)
{
    static struct buf val = BUF_INITIALIZER;
    int r = cyrusdb_fetch(db, k, strlen(k), &val, tid);
    if (r == CYRUSDB_NOTFOUND) return "(none)";
    if (r) return cyrusdb_strerror(r);
    return buf_cstring(&val);
}

static double now(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return tv.tv_sec + tv.tv_usec / 1e6;
}

static void test_store_fetch_delete(void)
{
    struct cyrusdb *db = NULL;
    struct buf val = BUF_INITIALIZER;

    setup();
    CHECK_INTEQ(cyrusdb_open(dbpath, 0, &db), CYRUSDB_INTERNAL);
    CHECK_INTEQ(cyrusdb_init(tmpdir, 0), CYRUSDB_OK);
    CHECK_INTEQ(cyrusdb_open(dbpath, 0, &db), CYRUSDB_NOTFOUND);
    CHECK(db == NULL);
    CHECK_INTEQ(cyrusdb_open(dbpath, CYRUSDB_CREATE, &db), CYRUSDB_OK);
    CHECK(db != NULL);

    CHECK_INTEQ(store_str(db, "alpha", "1", NULL), CYRUSDB_OK);
    CHECK_STREQ(fetch_str(db, "alpha", NULL), "1");
    CHECK_INTEQ(store_str(db, "alpha", "two", NULL), CYRUSDB_OK);
    CHECK_STREQ(fetch_str(db, "alpha", NULL), "two");
    CHECK_INTEQ(cyrusdb_create(db, "alpha", 5, "3", 1, NULL), CYRUSDB_EXISTS);
    CHECK_STREQ(fetch_str(db, "alpha", NULL), "two");
    CHECK_INTEQ(cyrusdb_create(db, "beta", 4, "b", 1, NULL), CYRUSDB_OK);
    CHECK_INTEQ(cyrusdb_fetch(db, "beta", 4, NULL, NULL), CYRUSDB_OK);
    CHECK_INTEQ(cyrusdb_fetch(db, "gamma", 5, NULL, NULL), CYRUSDB_NOTFOUND);

    /* An empty value is a value, not an absence. */
    CHECK_INTEQ(cyrusdb_store(db, "empty", 5, NULL, 0, NULL), CYRUSDB_OK);
    buf_setcstr(&val, "stale");
    CHECK_INTEQ(cyrusdb_fetch(db, "empty", 5, &val, NULL), CYRUSDB_OK);
    CHECK_INTEQ(val.len, 0);

    /* A miss leaves no stale bytes in the caller's buffer. */
    buf_setcstr(&val, "stale");
    CHECK_INTEQ(cyrusdb_fetch(db, "nope", 4, &val, NULL), CYRUSDB_NOTFOUND);
    CHECK_INTEQ(val.len, 0);

    CHECK_INTEQ(cyrusdb_delete(db, "alpha", 5, NULL), CYRUSDB_OK);
    CHECK_STREQ(fetch_str(db, "alpha", NULL), "(none)");
    CHECK_INTEQ(cyrusdb_delete(db, "alpha", 5, NULL), CYRUSDB_NOTFOUND);

    CHECK_INTEQ(cyrusdb_store(db, "", 0, "x", 1, NULL), CYRUSDB_INTERNAL);
    CHECK_INTEQ(cyrusdb_fetch(db, NULL, 0, &val, NULL), CYRUSDB_INTERNAL);

    /* Two opens of one file share a handle; both must be closed. */
    struct cyrusdb *again = NULL;
    CHECK_INTEQ(cyrusdb_open(dbpath, 0, &again), CYRUSDB_OK);
    CHECK(again == db);
    CHECK_INTEQ(cyrusdb_close(&again), CYRUSDB_OK);
    CHECK(again == NULL);
    CHECK_STREQ(fetch_str(db, "beta", NULL), "b");
    CHECK_INTEQ(cyrusdb_close(&db), CYRUSDB_OK);
    CHECK(db == NULL);
    cyrusdb_done();

    /* Everything survives a clean close, and no recovery is needed. */
    CHECK_INTEQ(cyrusdb_init(tmpdir, 0), CYRUSDB_OK);
    CHECK_INTEQ(cyrusdb_open(dbpath, 0, &db), CYRUSDB_OK);
    CHECK_STREQ(fetch_str(db, "beta", NULL), "b");
    CHECK_STREQ(fetch_str(db, "alpha", NULL), "(none)");
    cyrusdb_close(&db);
    cyrusdb_done();

    CHECK_STREQ(cyrusdb_strerror(CYRUSDB_AGAIN), "lock conflict, try again");
    CHECK_STREQ(cyrusdb_strerror(CYRUSDB_NOTFOUND), "not found");
    buf_free(&val);
    teardown();
}

static void test_binary_keys_and_values(void)
{
    struct cyrusdb *db = NULL;
    struct buf val = BUF_INITIALIZER;
    static const char k1[] = { 'a', '\0', 'b' };
    static const char k2[] = { 'a', '\0', 'c' };
    static const char k3[] = { 'a' };
    static const char v1[] = { '\0', '\xff', '\0', '\n' };

    setup();
    CHECK_INTEQ(cyrusdb_init(tmpdir, 0), CYRUSDB_OK);
    CHECK_INTEQ(cyrusdb_open(dbpath, CYRUSDB_CREATE, &db), CYRUSDB_OK);
    CHECK_INTEQ(cyrusdb_store(db, k1, 3, v1, 4, NULL), CYRUSDB_OK);
    CHECK_INTEQ(cyrusdb_store(db, k2, 3, "c", 1, NULL), CYRUSDB_OK);
    CHECK_INTEQ(cyrusdb_store(db, k3, 1, "short", 5, NULL), CYRUSDB_OK);

    CHECK_INTEQ(cyrusdb_fetch(db, k1, 3, &val, NULL), CYRUSDB_OK);
    CHECK_INTEQ(val.len, 4);
    CHECK(!memcmp(val.s, v1, 4));
    CHECK_INTEQ(cyrusdb_fetch(db, k3, 1, &val, NULL), CYRUSDB_OK);
    CHECK_STREQ(buf_cstring(&val), "short");
    /* "a\0" is a prefix of k1 and k2 but not itself a key. */
    CHECK_INTEQ(cyrusdb_fetch(db, "a", 2, &val, NULL), CYRUSDB_NOTFOUND);

    /* A value larger than any buffer we start with. */
    size_t biglen = 3 * 1024 * 1024 + 7;
    char *big = xmalloc(biglen);
    for (size_t i = 0; i < biglen; i++) big[i] = (char)(i * 31 + 7);
    CHECK_INTEQ(cyrusdb_store(db, "big", 3, big, biglen, NULL), CYRUSDB_OK);
    buf_reset(&val);
    CHECK_INTEQ(cyrusdb_fetch(db, "big", 3, &val, NULL), CYRUSDB_OK);
    CHECK_INTEQ(val.len, biglen);
    CHECK(val.len == biglen && !memcmp(val.s, big, biglen));
    free(big);

    cyrusdb_close(&db);
    cyrusdb_done();
    buf_free(&val);
    teardown();
}

struct walk {
    struct buf keys;    /* "key,key,..." */
    int count;
    int stop_at;        /* stop after this many callbacks; 0: never */
    struct cyrusdb *db; /* delete each record seen, if set */
    struct cyrusdb_txn **tid;
};

static int walk_cb(void *rock, const char *key, size_t keylen,
                   const char *data, size_t datalen)
{
    struct walk *w = rock;
    (void)data;
    (void)datalen;
    buf_appendmap(&w->keys, key, keylen);
    buf_putc(&w->keys, ',');
    w->count++;
    if (w->db && cyrusdb_delete(w->db, key, keylen, w->tid)) return -1;
    if (w->stop_at && w->count == w->stop_at) return 42;
    return 0;
}

static int odd_value_filter(void *rock, const char *key, size_t keylen,
                            const char *data, size_t datalen)
{
    (void)rock;
    (void)key;
    (void)keylen;
    return datalen > 0 && (data[datalen - 1] - '0') % 2 == 1;
}

static int order_cb(void *rock, const char *key, size_t keylen,
                    const char *data, size_t datalen)
{
    struct buf *prev = rock;
    (void)data;
    (void)datalen;
    size_t n = keylen < prev->len ? keylen : prev->len;
    int c = memcmp(prev->s ? prev->s : "", key, n);
    if (prev->len && (c > 0 || (c == 0 && prev->len >= keylen))) return -1;
    buf_setmap(prev, key, keylen);
    return 0;
}

static void test_foreach_prefix(void)
{
    struct cyrusdb *db = NULL;
    struct walk w = { BUF_INITIALIZER, 0, 0, NULL, NULL };
    static const char *keys[] = {
        "user.bob.sent", "user.alice", "user.bob", "user.bobby",
        "user.bob.drafts", "shared.news", "user.carol", "user.bob.Trash",
    };

    setup();
    CHECK_INTEQ(cyrusdb_init(tmpdir, 0), CYRUSDB_OK);
    CHECK_INTEQ(cyrusdb_open(dbpath, CYRUSDB_CREATE, &db), CYRUSDB_OK);
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        char v[8];
        snprintf(v, sizeof(v), "%zu", i);
        CHECK_INTEQ(store_str(db, keys[i], v, NULL), CYRUSDB_OK);
    }

    CHECK_INTEQ(cyrusdb_foreach(db, "user.bob", 8, NULL, walk_cb, &w, NULL),
                0);
    CHECK_STREQ(buf_cstring(&w.keys),
                "user.bob,user.bob.Trash,user.bob.drafts,user.bob.sent,"
                "user.bobby,");

    buf_reset(&w.keys);
    CHECK_INTEQ(cyrusdb_foreach(db, "user.bob.", 9, NULL, walk_cb, &w, NULL),
                0);
    CHECK_STREQ(buf_cstring(&w.keys),
                "user.bob.Trash,user.bob.drafts,user.bob.sent,");

    buf_reset(&w.keys);
    CHECK_INTEQ(cyrusdb_foreach(db, "zzz", 3, NULL, walk_cb, &w, NULL), 0);
    CHECK_STREQ(buf_cstring(&w.keys), "");

    /* All records, filtered to odd values (indexes 1, 3, 5, 7). */
    buf_reset(&w.keys);
    CHECK_INTEQ(cyrusdb_foreach(db, NULL, 0, odd_value_filter, walk_cb, &w,
                                NULL), 0);
    CHECK_STREQ(buf_cstring(&w.keys),
                "shared.news,user.alice,user.bob.Trash,user.bobby,");

    /* A callback's nonzero return stops the walk and is returned. */
    buf_reset(&w.keys);
    w.count = 0;
    w.stop_at = 2;
    CHECK_INTEQ(cyrusdb_foreach(db, "user.", 5, NULL, walk_cb, &w, NULL), 42);
    CHECK_STREQ(buf_cstring(&w.keys), "user.alice,user.bob,");
    CHECK_INTEQ(w.count, 2);

    /* Several batches, written in scrambled order, come back sorted. */
    for (int i = 0; i < 2000; i++) {
        char k[32];
        int n = (i * 7919) % 2000;
        snprintf(k, sizeof(k), "many.%05d", n);
        CHECK_INTEQ(store_str(db, k, "v", NULL), CYRUSDB_OK);
    }
    struct buf prev = BUF_INITIALIZER;
    CHECK_INTEQ(cyrusdb_foreach(db, "many.", 5, NULL, order_cb, &prev, NULL),
                0);
    CHECK_STREQ(buf_cstring(&prev), "many.01999");

    /* Callbacks may write: delete everything while walking it, first with
     * auto-commit, then inside a transaction that is then aborted. */
    struct cyrusdb_txn *tid = NULL;
    buf_reset(&w.keys);
    w.count = 0;
    w.stop_at = 0;
    w.db = db;
    w.tid = &tid;
    CHECK_INTEQ(cyrusdb_foreach(db, "many.", 5, NULL, walk_cb, &w, &tid), 0);
    CHECK_INTEQ(w.count, 2000);
    CHECK(tid != NULL);
    CHECK_STREQ(fetch_str(db, "many.00000", &tid), "(none)");
    CHECK_INTEQ(cyrusdb_abort(db, &tid), CYRUSDB_OK);
    CHECK(tid == NULL);
    CHECK_STREQ(fetch_str(db, "many.00000", NULL), "v");

    w.count = 0;
    w.tid = NULL;
    CHECK_INTEQ(cyrusdb_foreach(db, "many.", 5, NULL, walk_cb, &w, NULL), 0);
    CHECK_INTEQ(w.count, 2000);
    w.count = 0;
    w.db = NULL;
    CHECK_INTEQ(cyrusdb_foreach(db, "many.", 5, NULL, walk_cb, &w, NULL), 0);
    CHECK_INTEQ(w.count, 0);

    cyrusdb_close(&db);
    cyrusdb_done();
    buf_free(&prev);
    buf_free(&w.keys);
    teardown();
}

static void test_transactions(void)
{
    struct cyrusdb *db = NULL;
    struct cyrusdb_txn *tid = NULL;

    setup();
    CHECK_INTEQ(cyrusdb_init(tmpdir, 0), CYRUSDB_OK);
    CHECK_INTEQ(cyrusdb_open(dbpath, CYRUSDB_CREATE, &db), CYRUSDB_OK);
    CHECK_INTEQ(store_str(db, "keep", "old", NULL), CYRUSDB_OK);

    /* Aborted: nothing happened. */
    CHECK_INTEQ(store_str(db, "t1", "x", &tid), CYRUSDB_OK);
    CHECK(tid != NULL);
    struct cyrusdb_txn *first = tid;
    CHECK_INTEQ(store_str(db, "keep", "new", &tid), CYRUSDB_OK);
    CHECK(tid == first);
    CHECK_INTEQ(cyrusdb_delete(db, "keep", 4, &tid), CYRUSDB_OK);
    CHECK_STREQ(fetch_str(db, "keep", &tid), "(none)");
    /* NOTFOUND and EXISTS do not end the transaction. */
    CHECK_INTEQ(cyrusdb_delete(db, "keep", 4, &tid), CYRUSDB_NOTFOUND);
    CHECK_INTEQ(cyrusdb_create(db, "t1", 2, "y", 1, &tid), CYRUSDB_EXISTS);
    CHECK(tid == first);
    CHECK_INTEQ(cyrusdb_abort(db, &tid), CYRUSDB_OK);
    CHECK(tid == NULL);
    CHECK_STREQ(fetch_str(db, "keep", NULL), "old");
    CHECK_STREQ(fetch_str(db, "t1", NULL), "(none)");

    /* Committed: everything happened, and is seen inside too. */
    CHECK_INTEQ(store_str(db, "t1", "x", &tid), CYRUSDB_OK);
    CHECK_INTEQ(store_str(db, "t2", "y", &tid), CYRUSDB_OK);
    CHECK_INTEQ(store_str(db, "keep", "new", &tid), CYRUSDB_OK);
    struct walk w = { BUF_INITIALIZER, 0, 0, NULL, NULL };
    CHECK_INTEQ(cyrusdb_foreach(db, "t", 1, NULL, walk_cb, &w, &tid), 0);
    CHECK_STREQ(buf_cstring(&w.keys), "t1,t2,");
    CHECK_INTEQ(cyrusdb_commit(db, &tid), CYRUSDB_OK);
    CHECK(tid == NULL);
    CHECK_STREQ(fetch_str(db, "keep", NULL), "new");
    CHECK_STREQ(fetch_str(db, "t2", NULL), "y");

    /* A fetch can start a transaction too. */
    CHECK_STREQ(fetch_str(db, "t1", &tid), "x");
    CHECK(tid != NULL);
    CHECK_INTEQ(cyrusdb_commit(db, &tid), CYRUSDB_OK);

    CHECK_INTEQ(cyrusdb_commit(db, &tid), CYRUSDB_INTERNAL);
    CHECK_INTEQ(cyrusdb_abort(db, NULL), CYRUSDB_INTERNAL);

    /* A transaction left open is aborted by a clean shutdown. */
    CHECK_INTEQ(store_str(db, "dangling", "1", &tid), CYRUSDB_OK);
    cyrusdb_close(&db);
    cyrusdb_done();
    tid = NULL;
    CHECK_INTEQ(cyrusdb_init(tmpdir, 0), CYRUSDB_OK);
    CHECK_INTEQ(cyrusdb_open(dbpath, 0, &db), CYRUSDB_OK);
    CHECK_STREQ(fetch_str(db, "dangling", NULL), "(none)");
    CHECK_STREQ(fetch_str(db, "keep", NULL), "new");
    cyrusdb_close(&db);
    cyrusdb_done();
    buf_free(&w.keys);
    teardown();
}

#define NCHILDREN 4
#define NROUNDS 150

/* One writer: increments the shared counter in read-modify-write
 * transactions (retrying on CYRUSDB_AGAIN), and stores its own keys. */
static int child_writer(int n)
{
    struct cyrusdb *db = NULL;
    struct buf val = BUF_INITIALIZER;

    if (cyrusdb_init(tmpdir, 0)) return 10;
    if (cyrusdb_open(dbpath, CYRUSDB_CREATE, &db)) return 11;
    for (int i = 0; i < NROUNDS; i++) {
        int r;
        do {
            struct cyrusdb_txn *tid = NULL;
            r = cyrusdb_fetch(db, "counter", 7, &val, &tid);
            if (r == CYRUSDB_AGAIN) continue;
            if (r) return 12;
            char num[32];
            snprintf(num, sizeof(num), "%d", atoi(buf_cstring(&val)) + 1);
            r = store_str(db, "counter", num, &tid);
            if (r == CYRUSDB_AGAIN) continue;
            if (r) return 13;
            r = cyrusdb_commit(db, &tid);
            if (r && r != CYRUSDB_AGAIN) return 14;
        } while (r == CYRUSDB_AGAIN);

        char k[32], v[32];
        snprintf(k, sizeof(k), "child%d.%04d", n, i);
        snprintf(v, sizeof(v), "%d", i);
        if (store_str(db, k, v, NULL)) return 15;
        if (strcmp(fetch_str(db, k, NULL), v)) return 16;
        if (i % 25 == 0) {
            struct buf prev = BUF_INITIALIZER;
            r = cyrusdb_foreach(db, "child", 5, NULL, order_cb, &prev, NULL);
            buf_free(&prev);
            if (r) return 17;
        }
    }
    cyrusdb_close(&db);
    cyrusdb_done();
    buf_free(&val);
    return 0;
}

static void test_concurrent_processes(void)
{
    struct cyrusdb *db = NULL;
    pid_t pids[NCHILDREN];

    setup();
    /* The parent keeps its environment open across fork(); children
     * must open their own. */
    CHECK_INTEQ(cyrusdb_init(tmpdir, 0), CYRUSDB_OK);
    CHECK_INTEQ(cyrusdb_open(dbpath, CYRUSDB_CREATE, &db), CYRUSDB_OK);
    CHECK_INTEQ(store_str(db, "counter", "0", NULL), CYRUSDB_OK);

    for (int n = 0; n < NCHILDREN; n++) {
        pids[n] = fork();
        if (pids[n] == 0) _exit(child_writer(n));
    }
    /* The parent reads while they write. */
    int reads_ok = 1;
    for (int i = 0; i < 200; i++) {
        const char *v = fetch_str(db, "counter", NULL);
        if (atoi(v) < 0 || atoi(v) > NCHILDREN * NROUNDS) reads_ok = 0;
    }
    CHECK(reads_ok);
    for (int n = 0; n < NCHILDREN; n++) {
        int status = -1;
        waitpid(pids[n], &status, 0);
        CHECK(WIFEXITED(status));
        CHECK_INTEQ(WEXITSTATUS(status), 0);
    }

    char want[32];
    snprintf(want, sizeof(want), "%d", NCHILDREN * NROUNDS);
    CHECK_STREQ(fetch_str(db, "counter", NULL), want);
    struct walk w = { BUF_INITIALIZER, 0, 0, NULL, NULL };
    CHECK_INTEQ(cyrusdb_foreach(db, "child", 5, NULL, walk_cb, &w, NULL), 0);
    CHECK_INTEQ(w.count, NCHILDREN * NROUNDS);
    CHECK_STREQ(fetch_str(db, "child3.0149", NULL), "149");
    cyrusdb_close(&db);
    cyrusdb_done();
    buf_free(&w.keys);
    teardown();
}

/* Start a transaction that changes "victim", tell the parent, and wait
 * to be killed. */
static int child_hold_lock(int fd)
{
    struct cyrusdb *db = NULL;
    struct cyrusdb_txn *tid = NULL;

    if (cyrusdb_init(tmpdir, 0)) return 10;
    if (cyrusdb_open(dbpath, 0, &db)) return 11;
    if (store_str(db, "victim", "uncommitted", &tid)) return 12;
    if (store_str(db, "ghost", "uncommitted", &tid)) return 13;
    if (write(fd, "r", 1) != 1) return 14;
    for (;;) pause();
}

/* Never kill(-1): a failed spawn must not take the test's session down. */
static void kill_and_reap(pid_t pid)
{
    if (pid <= 0) return;
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
}

static pid_t spawn_lock_holder(void)
{
    int fds[2];
    char c;
    if (pipe(fds) < 0) return -1;
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        _exit(child_hold_lock(fds[1]));
    }
    close(fds[1]);
    if (read(fds[0], &c, 1) != 1) c = 0;
    close(fds[0]);
    if (c != 'r') {
        waitpid(pid, NULL, 0);
        return -1;
    }
    return pid;
}

/* Start a process that joins the environment after `msec`, as master's
 * replacement for a dead child would. */
static pid_t spawn_newcomer(int msec)
{
    pid_t pid = fork();
    if (pid == 0) {
        usleep(msec * 1000);
        if (cyrusdb_init(tmpdir, 0)) _exit(1);
        cyrusdb_done();
        _exit(0);
    }
    return pid;
}

/* A process killed -9 holding write locks does not block the others for
 * long: the next process to join the environment aborts the dead
 * transaction, which wakes the waiter. */
static void test_killed_lock_holder(void)
{
    struct cyrusdb *db = NULL;
    int status = -1;

    setup();
    CHECK_INTEQ(cyrusdb_init(tmpdir, 0), CYRUSDB_OK);
    CHECK_INTEQ(cyrusdb_open(dbpath, CYRUSDB_CREATE, &db), CYRUSDB_OK);
    CHECK_INTEQ(store_str(db, "victim", "committed", NULL), CYRUSDB_OK);

    pid_t pid = spawn_lock_holder();
    CHECK(pid > 0);
    kill_and_reap(pid);

    pid_t newcomer = spawn_newcomer(300);
    double t0 = now();
    CHECK_STREQ(fetch_str(db, "victim", NULL), "committed");
    CHECK(now() - t0 >= 0.2);
    CHECK(now() - t0 < 10);
    CHECK_STREQ(fetch_str(db, "ghost", NULL), "(none)");
    CHECK_INTEQ(store_str(db, "victim", "after", NULL), CYRUSDB_OK);
    waitpid(newcomer, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);

    /* The periodic checkpoint sweeps up too. */
    pid = spawn_lock_holder();
    CHECK(pid > 0);
    kill_and_reap(pid);
    CHECK_INTEQ(cyrusdb_checkpoint(), CYRUSDB_OK);
    t0 = now();
    CHECK_STREQ(fetch_str(db, "victim", NULL), "after");
    CHECK(now() - t0 < 2);

    /* A process starting up cleans up after the dead one at once. */
    pid = spawn_lock_holder();
    CHECK(pid > 0);
    kill_and_reap(pid);
    pid_t reader = fork();
    if (reader == 0) {
        struct cyrusdb *rdb = NULL;
        if (cyrusdb_init(tmpdir, 0) || cyrusdb_open(dbpath, 0, &rdb))
            _exit(1);
        double t1 = now();
        int ok = !strcmp(fetch_str(rdb, "victim", NULL), "after") &&
                 now() - t1 < 2;
        cyrusdb_close(&rdb);
        cyrusdb_done();
        _exit(ok ? 0 : 2);
    }
    waitpid(reader, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);

    cyrusdb_close(&db);
    cyrusdb_done();
    teardown();
}

/* Commit pairs of records as fast as possible, reporting each commit;
 * the parent kills us at some point. */
static int child_committer(int fd)
{
    struct cyrusdb *db = NULL;

    if (cyrusdb_init(tmpdir, 0)) return 10;
    if (cyrusdb_open(dbpath, CYRUSDB_CREATE, &db)) return 11;
    for (int i = 0;; i++) {
        struct cyrusdb_txn *tid = NULL;
        char k[32], v[32];
        snprintf(v, sizeof(v), "%d", i);
        snprintf(k, sizeof(k), "a.%06d", i);
        if (store_str(db, k, v, &tid)) return 12;
        snprintf(k, sizeof(k), "b.%06d", i);
        if (store_str(db, k, v, &tid)) return 13;
        if (cyrusdb_commit(db, &tid)) return 14;
        if (write(fd, &i, sizeof(i)) != sizeof(i)) return 15;
    }
}

static void test_kill_then_recover(void)
{
    struct cyrusdb *db = NULL;
    int fds[2];

    setup();
    CHECK_INTEQ(pipe(fds), 0);
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        _exit(child_committer(fds[1]));
    }
    close(fds[1]);
    int acked = -1, i;
    while (acked < 300 && read(fds[0], &i, sizeof(i)) == sizeof(i))
        acked = i;
    kill_and_reap(pid);
    /* Commits reported before the kill landed in the pipe too. */
    while (read(fds[0], &i, sizeof(i)) == sizeof(i)) acked = i;
    close(fds[0]);
    CHECK(acked >= 300);

    /* Killed inside the library (in a commit's fsync, say), it may have
     * left the shared regions needing recovery: that is what
     * `ctl_cyrusdb -r` at server start is for. */
    CHECK_INTEQ(cyrusdb_init(tmpdir, CYRUSDB_RECOVER), CYRUSDB_OK);
    cyrusdb_done();

    /* And one more that dies with a transaction open. */
    pid = spawn_lock_holder();
    CHECK(pid > 0);
    kill_and_reap(pid);

    CHECK_INTEQ(cyrusdb_init(tmpdir, CYRUSDB_RECOVER), CYRUSDB_OK);
    CHECK_INTEQ(cyrusdb_open(dbpath, 0, &db), CYRUSDB_OK);
    struct walk wa = { BUF_INITIALIZER, 0, 0, NULL, NULL };
    struct walk wb = { BUF_INITIALIZER, 0, 0, NULL, NULL };
    CHECK_INTEQ(cyrusdb_foreach(db, "a.", 2, NULL, walk_cb, &wa, NULL), 0);
    CHECK_INTEQ(cyrusdb_foreach(db, "b.", 2, NULL, walk_cb, &wb, NULL), 0);
    /* Every acknowledged commit survived; each transaction is all or
     * nothing (a.N exists exactly when b.N does). */
    CHECK(wa.count >= acked + 1);
    CHECK_INTEQ(wa.count, wb.count);
    char k[32], v[32];
    snprintf(k, sizeof(k), "b.%06d", acked);
    snprintf(v, sizeof(v), "%d", acked);
    CHECK_STREQ(fetch_str(db, k, NULL), v);
    snprintf(k, sizeof(k), "a.%06d", wa.count - 1);
    snprintf(v, sizeof(v), "%d", wa.count - 1);
    CHECK_STREQ(fetch_str(db, k, NULL), v);
    CHECK_STREQ(fetch_str(db, "victim", NULL), "(none)");
    CHECK_STREQ(fetch_str(db, "ghost", NULL), "(none)");
    CHECK_INTEQ(store_str(db, "post", "ok", NULL), CYRUSDB_OK);
    cyrusdb_close(&db);
    cyrusdb_done();

    /* After a clean close the next process needs no recovery. */
    CHECK_INTEQ(cyrusdb_init(tmpdir, 0), CYRUSDB_OK);
    CHECK_INTEQ(cyrusdb_open(dbpath, 0, &db), CYRUSDB_OK);
    CHECK_STREQ(fetch_str(db, "post", NULL), "ok");
    cyrusdb_close(&db);
    cyrusdb_done();
    buf_free(&wa.keys);
    buf_free(&wb.keys);
    teardown();
}

static int count_logs(const char *dir)
{
    int n = 0;
    DIR *d = opendir(dir);
    struct dirent *e;
    if (!d) return -1;
    while ((e = readdir(d)))
        if (!strncmp(e->d_name, "log.", 4)) n++;
    closedir(d);
    return n;
}

static void test_checkpoint_archive(void)
{
    struct cyrusdb *db = NULL;
    char path[160];

    setup();
    /* Small log files, so a few MB of writes spans several. */
    snprintf(path, sizeof(path), "%s/db", tmpdir);
    CHECK_INTEQ(mkdir(path, 0700), 0);
    snprintf(path, sizeof(path), "%s/db/DB_CONFIG", tmpdir);
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    if (f) {
        fputs("set_lg_max 1048576\n", f);
        fclose(f);
    }
    CHECK_INTEQ(cyrusdb_checkpoint(), CYRUSDB_INTERNAL);
    CHECK_INTEQ(cyrusdb_init(tmpdir, CYRUSDB_RECOVER), CYRUSDB_OK);
    CHECK_INTEQ(cyrusdb_open(dbpath, CYRUSDB_CREATE, &db), CYRUSDB_OK);
    char val[4096];
    memset(val, 'x', sizeof(val));
    for (int i = 0; i < 1500; i++) {
        char k[32];
        snprintf(k, sizeof(k), "k%d", i % 100);
        CHECK_INTEQ(cyrusdb_store(db, k, strlen(k), val, sizeof(val), NULL),
                    CYRUSDB_OK);
    }
    snprintf(path, sizeof(path), "%s/db", tmpdir);
    int before = count_logs(path);
    CHECK(before >= 4);
    CHECK_INTEQ(cyrusdb_checkpoint(), CYRUSDB_OK);
    CHECK_INTEQ(cyrusdb_archive(), CYRUSDB_OK);
    int after = count_logs(path);
    CHECK(after >= 1 && after < before);
    CHECK_INTEQ(cyrusdb_fetch(db, "k99", 3, NULL, NULL), CYRUSDB_OK);
    cyrusdb_close(&db);
    cyrusdb_done();

    /* Recovery still works from what is left. */
    CHECK_INTEQ(cyrusdb_init(tmpdir, CYRUSDB_RECOVER), CYRUSDB_OK);
    CHECK_INTEQ(cyrusdb_open(dbpath, 0, &db), CYRUSDB_OK);
    CHECK_INTEQ(cyrusdb_fetch(db, "k42", 3, NULL, NULL), CYRUSDB_OK);
    cyrusdb_close(&db);
    cyrusdb_done();
    teardown();
}

UNIT_TESTS(UNIT_T(test_store_fetch_delete),
           UNIT_T(test_binary_keys_and_values),
           UNIT_T(test_foreach_prefix),
           UNIT_T(test_transactions),
           UNIT_T(test_concurrent_processes),
           UNIT_T(test_killed_lock_holder),
           UNIT_T(test_kill_then_recover),
           UNIT_T(test_checkpoint_archive))
