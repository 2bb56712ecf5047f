/* cyrusdb.c -- argument checks, shared handles and dispatch; see cyrusdb.h.
 *
 * The storage itself is a backend (cyrusdb_backend.h).  Several modules of
 * one process often open the same file (mailboxes.db from mboxlist and from
 * the ACL code, say), so handles are shared and reference counted by name.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/cyrusdb.h"
#include "lib/cyrusdb_backend.h"
#include "lib/log.h"
#include "lib/util.h"
#include "lib/xmalloc.h"

struct cyrusdb {
    const struct cyrusdb_backend *backend;
    void *handle;
    char *fname;
    int refcount;
    struct cyrusdb *next;
};

static const struct cyrusdb_backend *cyrusdb_backend = &cyrusdb_berkeley;
static struct cyrusdb *open_dbs;
static int init_count;
static int recovery_needed;
static pid_t init_pid;

/* Handles inherited across fork() belong to the parent's environment and
 * must not be used or closed here; they stay reachable so they are not
 * reported as leaks. */
static struct cyrusdb *inherited_dbs;

static void cyrusdb_forget_parent(void)
{
    if (init_count && init_pid != util_getpid()) {
        struct cyrusdb **tail = &inherited_dbs;
        while (*tail) tail = &(*tail)->next;
        *tail = open_dbs;
        open_dbs = NULL;
        init_count = 0;
    }
}

int cyrusdb_init(const char *configdir, int flags)
{
    cyrusdb_forget_parent();
    if (init_count) {
        if (flags & CYRUSDB_RECOVER) {
            log_error("cyrusdb: recovery requested with the environment open");
            return CYRUSDB_INTERNAL;
        }
        init_count++;
        return CYRUSDB_OK;
    }

    char *dbdir = strconcat(configdir, "/db", (char *)NULL);
    if (mkdir(dbdir, 0750) < 0 && errno != EEXIST) {
        log_error("cyrusdb: cannot create %s: %s", dbdir, strerror(errno));
        free(dbdir);
        return CYRUSDB_IOERROR;
    }
    int r = cyrusdb_backend->init(dbdir, flags);
    free(dbdir);
    if (r) return r;
    init_count = 1;
    init_pid = util_getpid();
    return CYRUSDB_OK;
}

void cyrusdb_done(void)
{
    cyrusdb_forget_parent();
    if (!init_count || --init_count > 0) return;

    while (open_dbs) {
        struct cyrusdb *db = open_dbs;
        log_warning("cyrusdb: %s still open at shutdown; closing it",
                    db->fname);
        db->refcount = 1;
        cyrusdb_close(&db);
    }
    cyrusdb_backend->done();
}

int cyrusdb_open(const char *fname, int flags, struct cyrusdb **ret)
{
    *ret = NULL;
    cyrusdb_forget_parent();
    if (!init_count) {
        log_error("cyrusdb: open of %s before cyrusdb_init", fname);
        return CYRUSDB_INTERNAL;
    }
    for (struct cyrusdb *db = open_dbs; db; db = db->next) {
        if (!strcmp(db->fname, fname)) {
            db->refcount++;
            *ret = db;
            return CYRUSDB_OK;
        }
    }

    void *handle = NULL;
    int r = cyrusdb_backend->open(fname, flags, &handle);
    if (r) return r;

    struct cyrusdb *db = xzmalloc(sizeof(*db));
    db->backend = cyrusdb_backend;
    db->handle = handle;
    db->fname = xstrdup(fname);
    db->refcount = 1;
    db->next = open_dbs;
    open_dbs = db;
    *ret = db;
    return CYRUSDB_OK;
}

int cyrusdb_close(struct cyrusdb **dbp)
{
    struct cyrusdb *db = *dbp;
    if (!db) return CYRUSDB_OK;
    *dbp = NULL;
    if (--db->refcount > 0) return CYRUSDB_OK;

    for (struct cyrusdb **p = &open_dbs; *p; p = &(*p)->next) {
        if (*p == db) {
            *p = db->next;
            break;
        }
    }
    /* A handle inherited across fork() belongs to the parent's
     * environment: closing it here would corrupt the shared region. */
    int r = init_pid == util_getpid() ? db->backend->close(db->handle) : CYRUSDB_OK;
    free(db->fname);
    free(db);
    return r;
}

static int check_key(const char *what, const char *key, size_t keylen)
{
    if (!key || !keylen) {
        log_error("cyrusdb: %s with an empty key", what);
        return CYRUSDB_INTERNAL;
    }
    return CYRUSDB_OK;
}

int cyrusdb_fetch(struct cyrusdb *db, const char *key, size_t keylen,
                  struct buf *data, struct cyrusdb_txn **tid)
{
    int r = check_key("fetch", key, keylen);
    if (r) return r;
    return db->backend->fetch(db->handle, key, keylen, data, tid);
}

static int store(struct cyrusdb *db, const char *key, size_t keylen,
                 const char *data, size_t datalen, int overwrite,
                 struct cyrusdb_txn **tid)
{
    int r = check_key("store", key, keylen);
    if (r) return r;
    if (!data && datalen) {
        log_error("cyrusdb: store of %zu bytes from NULL", datalen);
        return CYRUSDB_INTERNAL;
    }
    if (!data) data = "";
    return db->backend->store(db->handle, key, keylen, data, datalen,
                              overwrite, tid);
}

int cyrusdb_store(struct cyrusdb *db, const char *key, size_t keylen,
                  const char *data, size_t datalen, struct cyrusdb_txn **tid)
{
    return store(db, key, keylen, data, datalen, 1, tid);
}

int cyrusdb_create(struct cyrusdb *db, const char *key, size_t keylen,
                   const char *data, size_t datalen, struct cyrusdb_txn **tid)
{
    return store(db, key, keylen, data, datalen, 0, tid);
}

int cyrusdb_delete(struct cyrusdb *db, const char *key, size_t keylen,
                   struct cyrusdb_txn **tid)
{
    int r = check_key("delete", key, keylen);
    if (r) return r;
    return db->backend->delete(db->handle, key, keylen, tid);
}

int cyrusdb_foreach(struct cyrusdb *db, const char *prefix, size_t prefixlen,
                    cyrusdb_proc_t *filter, cyrusdb_proc_t *cb, void *rock,
                    struct cyrusdb_txn **tid)
{
    if ((!prefix && prefixlen) || !cb) {
        log_error("cyrusdb: foreach without a prefix or a callback");
        return CYRUSDB_INTERNAL;
    }
    if (!prefix) prefix = "";
    return db->backend->foreach(db->handle, prefix, prefixlen, filter, cb,
                                rock, tid);
}

int cyrusdb_commit(struct cyrusdb *db, struct cyrusdb_txn **tid)
{
    if (!tid || !*tid) {
        log_error("cyrusdb: commit without a transaction");
        return CYRUSDB_INTERNAL;
    }
    struct cyrusdb_txn *t = *tid;
    *tid = NULL;
    return db->backend->commit(db->handle, t);
}

int cyrusdb_abort(struct cyrusdb *db, struct cyrusdb_txn **tid)
{
    if (!tid || !*tid) {
        log_error("cyrusdb: abort without a transaction");
        return CYRUSDB_INTERNAL;
    }
    struct cyrusdb_txn *t = *tid;
    *tid = NULL;
    return db->backend->abort(db->handle, t);
}

int cyrusdb_checkpoint(void)
{
    cyrusdb_forget_parent();
    if (!init_count) return CYRUSDB_INTERNAL;
    return cyrusdb_backend->checkpoint();
}

int cyrusdb_archive(void)
{
    cyrusdb_forget_parent();
    if (!init_count) return CYRUSDB_INTERNAL;
    return cyrusdb_backend->archive();
}

const char *cyrusdb_strerror(int r)
{
    switch (r) {
    case CYRUSDB_OK:       return "success";
    case CYRUSDB_NOTFOUND: return "not found";
    case CYRUSDB_EXISTS:   return "already exists";
    case CYRUSDB_AGAIN:    return "lock conflict, try again";
    case CYRUSDB_IOERROR:  return "database I/O error";
    case CYRUSDB_INTERNAL: return "internal database error";
    default:               return "unknown database error";
    }
}

int cyrusdb_run_txn(struct cyrusdb *db,
                    int (*op)(struct cyrusdb_txn **tid, void *rock),
                    void *rock)
{
    enum { TXN_RETRIES = 50 };

    for (int attempt = 0; attempt < TXN_RETRIES; attempt++) {
        struct cyrusdb_txn *tid = NULL;
        int r = op(&tid, rock);
        if (r == CYRUSDB_AGAIN) continue;   /* already aborted */
        if (r) {
            if (tid) cyrusdb_abort(db, &tid);
            return r;
        }
        if (!tid) return CYRUSDB_OK;
        r = cyrusdb_commit(db, &tid);
        if (r == CYRUSDB_AGAIN) continue;
        return r;
    }
    return CYRUSDB_AGAIN;
}

void cyrusdb_note_recovery_needed(void)
{
    recovery_needed = 1;
}

int cyrusdb_needs_recovery(void)
{
    return recovery_needed;
}
