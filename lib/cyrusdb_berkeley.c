/* cyrusdb_berkeley.c -- the Berkeley DB 5.3 backend of cyrusdb.
 *
 * One transactional environment per server, shared by every process
 * through its region files in CONFIGDIR/db.  Databases are btrees (bytewise
 * key order).  What keeps many processes safe together:
 *   - the deadlock detector runs on every lock conflict, so a deadlock
 *     costs one transaction a CYRUSDB_AGAIN instead of hanging both;
 *   - every process records itself in the environment's thread table, so
 *     the locks and open transactions of a process killed with -9 can be
 *     released by failchk without stopping the server.  Berkeley DB does
 *     not wake a lock waiter by itself, so failchk runs where it is cheap
 *     and frequent: at every cyrusdb_init (master replaces a dead child
 *     with a new process at once), at `ctl_cyrusdb -c`, and in a process
 *     whose own lock request timed out;
 *   - lock waits time out (checked whenever the detector runs), and
 *     auto-commit operations retry deadlocks and timeouts themselves;
 *   - foreach never holds a cursor while the caller's callback runs.
 * A process that dies inside the library itself can leave the shared
 * regions inconsistent; then failchk reports that recovery is needed,
 * cyrusdb_needs_recovery() says so, the service process exits with
 * SERVICE_EX_RECOVER and master reruns its START (`ctl_cyrusdb -r`) with
 * every other process stopped (see master(8)).
 */
#include "config.h"

#include <db.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "lib/cyrusdb_backend.h"
#include "lib/log.h"
#include "lib/util.h"
#include "lib/xmalloc.h"

#if DB_VERSION_MAJOR < 5
#error "Berkeley DB 5 or later is required"
#endif

/* Shared by all processes, so generous: the cache is one mapping. */
#define BDB_CACHE_BYTES     (16U * 1024 * 1024)
#define BDB_LOG_BUFFER      (256U * 1024)
#define BDB_MAX_LOCKS       20000
#define BDB_MAX_LOCKERS     10000
#define BDB_MAX_TXNS        1000
#define BDB_THREAD_COUNT    1000
/* Long enough for an honest long transaction, short enough that a dead
 * lock holder is noticed soon. */
#define BDB_LOCK_TIMEOUT_US (5U * 1000 * 1000)
/* Retries of an auto-commit operation: deadlocks, then lock timeouts. */
#define BDB_DEADLOCK_RETRIES 20
#define BDB_TIMEOUT_RETRIES  2
/* Checkpoint at cyrusdb_done once this much log has accumulated (KB). */
#define BDB_DONE_CHECKPOINT_KB 4096
/* A foreach reads this much before running callbacks. */
#define BDB_BATCH_RECORDS   256
#define BDB_BATCH_BYTES     (1U << 20)

struct bdb_handle {
    DB *db;
    char *fname;
    u_int32_t txn_flags;
};

struct cyrusdb_txn {
    DB_TXN *txn;
    struct cyrusdb_txn *prev, *next;
};

static DB_ENV *dbenv;
static pid_t env_pid;
static struct cyrusdb_txn *live_txns;

/* What a parent process left us across fork(): unusable here, but kept
 * reachable (see cyrusdb.c). */
static DB_ENV *inherited_env;
static struct cyrusdb_txn *inherited_txns;

static void bdb_errcall(const DB_ENV *env, const char *pfx, const char *msg)
{
    (void)env;
    (void)pfx;
    log_error("DBERROR: %s", msg);
}

static void bdb_msgcall(const DB_ENV *env, const char *msg)
{
    (void)env;
    log_notice("DBMSG: %s", msg);
}

static int bdb_isalive(DB_ENV *env, pid_t pid, db_threadid_t tid,
                       u_int32_t flags)
{
    (void)env;
    (void)tid;
    (void)flags;
    if (pid == util_getpid()) return 1;
    return kill(pid, 0) == 0 || errno == EPERM;
}

/* Map a Berkeley DB return code, without logging. */
static int bdb_map(int r)
{
    switch (r) {
    case 0:
        return CYRUSDB_OK;
    case DB_NOTFOUND:
    case DB_KEYEMPTY:
        return CYRUSDB_NOTFOUND;
    case DB_KEYEXIST:
        return CYRUSDB_EXISTS;
    case DB_LOCK_DEADLOCK:
    case DB_LOCK_NOTGRANTED:
        return CYRUSDB_AGAIN;
    case EINVAL:
        return CYRUSDB_INTERNAL;
    default:
        return CYRUSDB_IOERROR;
    }
}

/* Map and log a failure of `op` on `fname` (may be NULL). */
static int bdb_fail(int r, const char *op, const char *fname)
{
    int cr = bdb_map(r);
    const char *sep = fname ? " " : "";

    if (!fname) fname = "";
    switch (cr) {
    case CYRUSDB_OK:
    case CYRUSDB_NOTFOUND:
    case CYRUSDB_EXISTS:
        break;
    case CYRUSDB_AGAIN:
        log_notice("cyrusdb: %s%s%s: %s", op, sep, fname, db_strerror(r));
        break;
    default:
        if (r == DB_RUNRECOVERY) {
            cyrusdb_note_recovery_needed();
            log_error("cyrusdb: %s%s%s: %s (run ctl_cyrusdb -r)", op, sep,
                      fname, db_strerror(r));
        }
        else
            log_error("cyrusdb: %s%s%s: %s", op, sep, fname, db_strerror(r));
        break;
    }
    return cr;
}

static int bdb_retryable(int r)
{
    return r == DB_LOCK_DEADLOCK || r == DB_LOCK_NOTGRANTED;
}

/* Release what dead processes hold, and fail lock requests that have
 * waited past their timeout. */
static int bdb_failchk(void)
{
    int r = dbenv->failchk(dbenv, 0);
    if (r) return bdb_fail(r, "failchk", NULL);
    r = dbenv->lock_detect(dbenv, 0, DB_LOCK_EXPIRE, NULL);
    if (r) return bdb_fail(r, "expiring lock requests", NULL);
    return CYRUSDB_OK;
}

/* A short randomised pause so that two deadlock victims do not collide
 * again in lockstep. */
static void bdb_backoff(int attempt)
{
    static unsigned seed;
    if (!seed) seed = (unsigned)util_getpid() ^ (unsigned)time(NULL);
    long usec = 200L * (attempt + 1) + (long)(rand_r(&seed) % 1000);
    struct timespec ts = { 0, usec * 1000 };
    nanosleep(&ts, NULL);
}

/* Who is calling, for failchk: the library's own version asks the
 * kernel for the pid on every operation. */
static void bdb_thread_id(DB_ENV *env, pid_t *pid, db_threadid_t *tid)
{
    (void)env;
    if (pid)
        *pid = util_getpid();
    if (tid)
        *tid = pthread_self();
}

static void bdb_forget_parent(void)
{
    if (dbenv && env_pid != util_getpid()) {
        inherited_env = dbenv;
        inherited_txns = live_txns;
        dbenv = NULL;
        live_txns = NULL;
    }
}

static int bdb_init(const char *dbdir, int flags)
{
    DB_ENV *env = NULL;
    int r;

    bdb_forget_parent();
    if (dbenv) return CYRUSDB_INTERNAL;

    r = db_env_create(&env, 0);
    if (r) return bdb_fail(r, "db_env_create", dbdir);

    env->set_errcall(env, bdb_errcall);
    env->set_msgcall(env, bdb_msgcall);
    /* Settings that size shared regions only count when the environment
     * is created (at recovery); a DB_CONFIG file in dbdir overrides them. */
    if ((r = env->set_cachesize(env, 0, BDB_CACHE_BYTES, 1)) ||
        (r = env->set_lg_bsize(env, BDB_LOG_BUFFER)) ||
        (r = env->set_lk_max_locks(env, BDB_MAX_LOCKS)) ||
        (r = env->set_lk_max_objects(env, BDB_MAX_LOCKS)) ||
        (r = env->set_lk_max_lockers(env, BDB_MAX_LOCKERS)) ||
        (r = env->set_tx_max(env, BDB_MAX_TXNS)) ||
        (r = env->set_thread_count(env, BDB_THREAD_COUNT)) ||
        (r = env->set_isalive(env, bdb_isalive)) ||
        (r = env->set_thread_id(env, bdb_thread_id)) ||
        (r = env->set_lk_detect(env, DB_LOCK_DEFAULT)) ||
        (r = env->set_timeout(env, BDB_LOCK_TIMEOUT_US,
                              DB_SET_LOCK_TIMEOUT)) ||
        (r = env->set_flags(env, DB_TIME_NOTGRANTED, 1))) {
        env->close(env, 0);
        return bdb_fail(r, "configuring environment", dbdir);
    }

    u_int32_t oflags = DB_CREATE | DB_INIT_TXN | DB_INIT_LOCK |
                       DB_INIT_LOG | DB_INIT_MPOOL;
    if (flags & CYRUSDB_RECOVER) oflags |= DB_RECOVER;
    r = env->open(env, dbdir, oflags, 0600);
    if (r) {
        int cr = bdb_fail(r, "opening environment", dbdir);
        if (r == DB_VERSION_MISMATCH || r == DB_RUNRECOVERY)
            log_error("cyrusdb: the environment in %s needs recovery "
                      "(ctl_cyrusdb -r)", dbdir);
        /* Closing may wait for a mutex the dead process held: a process
         * that must exit for recovery leaves the handle to exit(). */
        if (!cyrusdb_needs_recovery())
            env->close(env, 0);
        return cr == CYRUSDB_INTERNAL ? CYRUSDB_IOERROR : cr;
    }
    dbenv = env;
    env_pid = util_getpid();

    if (!(flags & CYRUSDB_RECOVER)) {
        r = bdb_failchk();
        if (r) {
            dbenv = NULL;
            /* As above: do not wait on the dead process's mutexes. */
            if (!cyrusdb_needs_recovery())
                env->close(env, 0);
            return CYRUSDB_IOERROR;
        }
    }
    return CYRUSDB_OK;
}

static void bdb_txn_unlink(struct cyrusdb_txn *t)
{
    if (t->prev) t->prev->next = t->next;
    else live_txns = t->next;
    if (t->next) t->next->prev = t->prev;
    free(t);
}

static void bdb_done(void)
{
    int r;

    bdb_forget_parent();
    if (!dbenv) return;
    while (live_txns) {
        log_warning("cyrusdb: aborting a transaction left open at shutdown");
        r = live_txns->txn->abort(live_txns->txn);
        if (r) bdb_fail(r, "abort", NULL);
        bdb_txn_unlink(live_txns);
    }
    r = dbenv->txn_checkpoint(dbenv, BDB_DONE_CHECKPOINT_KB, 0, 0);
    if (r) bdb_fail(r, "checkpoint", NULL);
    r = dbenv->close(dbenv, 0);
    if (r) bdb_fail(r, "closing environment", NULL);
    dbenv = NULL;
}

static int bdb_open(const char *fname, int flags, void **handle)
{
    DB *db = NULL;
    int r;

    bdb_forget_parent();
    if (!dbenv) return CYRUSDB_INTERNAL;

    u_int32_t oflags = DB_AUTO_COMMIT;
    if (flags & CYRUSDB_CREATE) oflags |= DB_CREATE;
    for (int attempt = 0;; attempt++) {
        r = db_create(&db, dbenv, 0);
        if (r) return bdb_fail(r, "db_create", fname);
        r = db->open(db, NULL, fname, NULL, DB_BTREE, oflags, 0600);
        if (!r) break;
        db->close(db, DB_NOSYNC);
        db = NULL;
        if (r == ENOENT && !(flags & CYRUSDB_CREATE))
            return CYRUSDB_NOTFOUND;
        if (!bdb_retryable(r) || attempt >= BDB_DEADLOCK_RETRIES)
            return bdb_fail(r, "opening", fname);
        if (r == DB_LOCK_NOTGRANTED) bdb_failchk();
        bdb_backoff(attempt);
    }

    struct bdb_handle *h = xzmalloc(sizeof(*h));
    h->db = db;
    h->fname = xstrdup(fname);
    h->txn_flags = (flags & CYRUSDB_NOSYNC) ? DB_TXN_WRITE_NOSYNC : 0;
    *handle = h;
    return CYRUSDB_OK;
}

static int bdb_close(void *handle)
{
    struct bdb_handle *h = handle;
    int r = 0;

    /* Pages are made durable by the log and by checkpoints; flushing the
     * whole file at every close would be wasted writes. */
    if (dbenv && env_pid == util_getpid()) {
        r = h->db->close(h->db, DB_NOSYNC);
        if (r) bdb_fail(r, "closing", h->fname);
    }
    free(h->fname);
    free(h);
    return bdb_map(r);
}

static int bdb_txn_begin(struct bdb_handle *h, struct cyrusdb_txn **tid)
{
    DB_TXN *txn = NULL;
    int r = dbenv->txn_begin(dbenv, NULL, &txn, h->txn_flags);
    if (r) return bdb_fail(r, "txn_begin", h->fname);

    struct cyrusdb_txn *t = xzmalloc(sizeof(*t));
    t->txn = txn;
    t->next = live_txns;
    if (live_txns) live_txns->prev = t;
    live_txns = t;
    *tid = t;
    return CYRUSDB_OK;
}

/* An operation on one database inside `txn` (NULL for a read on its own);
 * returns a Berkeley DB code. */
typedef int bdb_op_t(struct bdb_handle *h, DB_TXN *txn, int in_txn,
                     void *arg);

/* Run `op` under the transaction rules of cyrusdb.h. */
static int bdb_run(struct bdb_handle *h, struct cyrusdb_txn **tid,
                   int writes, bdb_op_t *op, void *arg, const char *what)
{
    int r;

    if (!dbenv || env_pid != util_getpid()) return CYRUSDB_INTERNAL;

    if (tid) {
        if (!*tid && (r = bdb_txn_begin(h, tid))) return r;
        r = op(h, (*tid)->txn, 1, arg);
        if (r == 0 || r == DB_NOTFOUND || r == DB_KEYEMPTY ||
            r == DB_KEYEXIST)
            return bdb_map(r);
        int cr = bdb_fail(r, what, h->fname);
        int ar = (*tid)->txn->abort((*tid)->txn);
        if (ar) bdb_fail(ar, "abort", h->fname);
        bdb_txn_unlink(*tid);
        *tid = NULL;
        return cr;
    }

    int timeouts = 0;
    for (int attempt = 0;; attempt++) {
        DB_TXN *txn = NULL;
        if (writes) {
            r = dbenv->txn_begin(dbenv, NULL, &txn, h->txn_flags);
            if (r) return bdb_fail(r, "txn_begin", h->fname);
        }
        r = op(h, txn, 0, arg);
        if (txn) {
            if (r == 0) {
                r = txn->commit(txn, 0);
            } else {
                int ar = txn->abort(txn);
                if (ar) bdb_fail(ar, "abort", h->fname);
            }
        }
        if (!bdb_retryable(r)) break;
        if (r == DB_LOCK_NOTGRANTED) {
            if (timeouts++ >= BDB_TIMEOUT_RETRIES) break;
            bdb_failchk();
        } else if (attempt >= BDB_DEADLOCK_RETRIES) {
            break;
        }
        bdb_backoff(attempt);
    }
    return bdb_fail(r, what, h->fname);
}

static void bdb_dbt(DBT *dbt, const char *p, size_t len)
{
    memset(dbt, 0, sizeof(*dbt));
    dbt->data = (void *)p;
    dbt->size = (u_int32_t)len;
}

struct bdb_fetch_arg {
    const char *key;
    size_t keylen;
    struct buf *data;
};

static int bdb_do_fetch(struct bdb_handle *h, DB_TXN *txn, int in_txn,
                        void *arg)
{
    struct bdb_fetch_arg *a = arg;
    /* Inside a transaction a fetch is usually the read of a
     * read-modify-write: take the write lock now rather than deadlock on
     * the upgrade later. */
    u_int32_t flags = in_txn ? DB_RMW : 0;
    DBT k, d;

    bdb_dbt(&k, a->key, a->keylen);
    if (!a->data) return h->db->exists(h->db, txn, &k, flags);

    buf_reset(a->data);
    buf_ensure(a->data, 64);
    memset(&d, 0, sizeof(d));
    d.flags = DB_DBT_USERMEM;
    d.data = a->data->s;
    d.ulen = (u_int32_t)a->data->alloc;
    int r = h->db->get(h->db, txn, &k, &d, flags);
    if (r == DB_BUFFER_SMALL) {
        buf_ensure(a->data, d.size);
        d.data = a->data->s;
        d.ulen = (u_int32_t)a->data->alloc;
        r = h->db->get(h->db, txn, &k, &d, flags);
    }
    if (!r) a->data->len = d.size;
    return r;
}

static int bdb_fetch(void *handle, const char *key, size_t keylen,
                     struct buf *data, struct cyrusdb_txn **tid)
{
    struct bdb_fetch_arg a = { key, keylen, data };
    int r = bdb_run(handle, tid, 0, bdb_do_fetch, &a, "fetch");
    if (r && data) buf_reset(data);
    return r;
}

struct bdb_store_arg {
    const char *key;
    size_t keylen;
    const char *data;
    size_t datalen;
    int overwrite;
};

static int bdb_do_store(struct bdb_handle *h, DB_TXN *txn, int in_txn,
                        void *arg)
{
    struct bdb_store_arg *a = arg;
    DBT k, d;

    (void)in_txn;
    bdb_dbt(&k, a->key, a->keylen);
    bdb_dbt(&d, a->data, a->datalen);
    return h->db->put(h->db, txn, &k, &d, a->overwrite ? 0 : DB_NOOVERWRITE);
}

static int bdb_store(void *handle, const char *key, size_t keylen,
                     const char *data, size_t datalen, int overwrite,
                     struct cyrusdb_txn **tid)
{
    if (keylen > UINT32_MAX || datalen > UINT32_MAX) return CYRUSDB_INTERNAL;
    struct bdb_store_arg a = { key, keylen, data, datalen, overwrite };
    return bdb_run(handle, tid, 1, bdb_do_store, &a, "store");
}

static int bdb_do_delete(struct bdb_handle *h, DB_TXN *txn, int in_txn,
                         void *arg)
{
    struct bdb_fetch_arg *a = arg;
    DBT k;

    (void)in_txn;
    bdb_dbt(&k, a->key, a->keylen);
    return h->db->del(h->db, txn, &k, 0);
}

static int bdb_delete(void *handle, const char *key, size_t keylen,
                      struct cyrusdb_txn **tid)
{
    struct bdb_fetch_arg a = { key, keylen, NULL };
    return bdb_run(handle, tid, 1, bdb_do_delete, &a, "delete");
}

/* One batch of a foreach: records live in `bytes`, located by offsets
 * because the buffer moves as it grows. */
struct bdb_batch {
    const char *prefix;
    size_t prefixlen;
    struct buf last;        /* key of the last record read */
    int started;            /* `last` is valid */
    int finished;           /* no records after this batch */
    struct buf bytes;
    struct bdb_rec {
        size_t koff, klen, doff, dlen;
    } *recs;
    size_t nrecs, allocrecs;
};

static void bdb_batch_add(struct bdb_batch *b, const DBT *k, const DBT *d)
{
    if (b->nrecs == b->allocrecs) {
        b->allocrecs = b->allocrecs ? 2 * b->allocrecs : 64;
        b->recs = xrealloc(b->recs, b->allocrecs * sizeof(*b->recs));
    }
    struct bdb_rec *rec = &b->recs[b->nrecs++];
    rec->koff = b->bytes.len;
    rec->klen = k->size;
    buf_appendmap(&b->bytes, k->data, k->size);
    rec->doff = b->bytes.len;
    rec->dlen = d->size;
    buf_appendmap(&b->bytes, d->data, d->size);
}

static int bdb_do_batch(struct bdb_handle *h, DB_TXN *txn, int in_txn,
                        void *arg)
{
    struct bdb_batch *b = arg;
    DBC *cursor = NULL;
    DBT k, d;
    u_int32_t how;
    int r;

    (void)in_txn;
    b->nrecs = 0;
    buf_reset(&b->bytes);
    r = h->db->cursor(h->db, txn, &cursor, 0);
    if (r) return r;

    memset(&k, 0, sizeof(k));
    memset(&d, 0, sizeof(d));
    k.flags = d.flags = DB_DBT_REALLOC;
    if (b->started) {
        k.data = xmemdup(b->last.s, b->last.len);
        k.size = (u_int32_t)b->last.len;
        how = DB_SET_RANGE;
    } else if (b->prefixlen) {
        k.data = xmemdup(b->prefix, b->prefixlen);
        k.size = (u_int32_t)b->prefixlen;
        how = DB_SET_RANGE;
    } else {
        how = DB_FIRST;
    }

    for (;;) {
        r = cursor->get(cursor, &k, &d, how);
        how = DB_NEXT;
        if (r == DB_NOTFOUND) {
            b->finished = 1;
            r = 0;
            break;
        }
        if (r) break;
        if (k.size < b->prefixlen || memcmp(k.data, b->prefix, b->prefixlen)) {
            b->finished = 1;
            break;
        }
        /* Resuming lands on the last key of the previous batch, if it
         * is still there. */
        if (b->started && b->nrecs == 0 && k.size == b->last.len &&
            !memcmp(k.data, b->last.s, k.size))
            continue;
        bdb_batch_add(b, &k, &d);
        if (b->nrecs >= BDB_BATCH_RECORDS || b->bytes.len >= BDB_BATCH_BYTES)
            break;
    }

    int cr = cursor->close(cursor);
    if (!r) r = cr;
    free(k.data);
    free(d.data);
    return r;
}

static int bdb_foreach(void *handle, const char *prefix, size_t prefixlen,
                       cyrusdb_proc_t *filter, cyrusdb_proc_t *cb, void *rock,
                       struct cyrusdb_txn **tid)
{
    struct bdb_batch b;
    int r = 0;

    memset(&b, 0, sizeof(b));
    b.prefix = prefix;
    b.prefixlen = prefixlen;

    while (!b.finished) {
        r = bdb_run(handle, tid, 0, bdb_do_batch, &b, "foreach");
        if (r) break;
        struct cyrusdb_txn *mine = tid ? *tid : NULL;

        for (size_t i = 0; i < b.nrecs && !r; i++) {
            const struct bdb_rec *rec = &b.recs[i];
            const char *key = b.bytes.s + rec->koff;
            const char *data = b.bytes.s + rec->doff;
            if (filter && !filter(rock, key, rec->klen, data, rec->dlen))
                continue;
            r = cb(rock, key, rec->klen, data, rec->dlen);
        }
        /* A callback whose write failed has lost the caller's
         * transaction: going on would start a new one unnoticed. */
        if (!r && tid && *tid != mine) r = CYRUSDB_AGAIN;
        if (r) break;
        if (b.nrecs) {
            const struct bdb_rec *rec = &b.recs[b.nrecs - 1];
            buf_setmap(&b.last, b.bytes.s + rec->koff, rec->klen);
            b.started = 1;
        }
    }

    buf_free(&b.last);
    buf_free(&b.bytes);
    free(b.recs);
    return r;
}

static int bdb_commit(void *handle, struct cyrusdb_txn *tid)
{
    struct bdb_handle *h = handle;
    int r = tid->txn->commit(tid->txn, 0);
    bdb_txn_unlink(tid);
    return bdb_fail(r, "commit", h->fname);
}

static int bdb_abort(void *handle, struct cyrusdb_txn *tid)
{
    struct bdb_handle *h = handle;
    int r = tid->txn->abort(tid->txn);
    bdb_txn_unlink(tid);
    return bdb_fail(r, "abort", h->fname);
}

static int bdb_checkpoint(void)
{
    if (!dbenv) return CYRUSDB_INTERNAL;
    /* Run periodically from EVENTS: a good moment to sweep up after
     * processes that died. */
    if (bdb_failchk()) return CYRUSDB_IOERROR;
    int r = dbenv->txn_checkpoint(dbenv, 0, 0, 0);
    return bdb_fail(r, "checkpoint", NULL);
}

static int bdb_archive(void)
{
    if (!dbenv) return CYRUSDB_INTERNAL;
    int r = dbenv->log_archive(dbenv, NULL, DB_ARCH_REMOVE);
    return bdb_fail(r, "removing old log files", NULL);
}

const struct cyrusdb_backend cyrusdb_berkeley = {
    .name = "berkeley",
    .init = bdb_init,
    .done = bdb_done,
    .open = bdb_open,
    .close = bdb_close,
    .fetch = bdb_fetch,
    .store = bdb_store,
    .delete = bdb_delete,
    .foreach = bdb_foreach,
    .commit = bdb_commit,
    .abort = bdb_abort,
    .checkpoint = bdb_checkpoint,
    .archive = bdb_archive,
};
