/* quota.c -- quota roots in CONFIGDIR/quotas.db.
 *
 * One record per root, keyed by the root's internal name; the value is
 * text, one "<RESOURCE> <used> <limit>" triple per resource separated by
 * spaces (doc/store-format.md), so that resources added later read as
 * unlimited in old records.  Every read-modify-write runs in one cyrusdb
 * transaction, retried from the start when Berkeley DB reports a lock
 * conflict: concurrent appenders in many processes never lose an update.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "imap/store/quota.h"
#include "lib/buf.h"
#include "lib/cyrusdb.h"
#include "lib/log.h"
#include "lib/strarray.h"
#include "lib/util.h"
#include "lib/xmalloc.h"


static struct cyrusdb *qdb;
/* A handle opened before fork() belongs to the parent's environment:
 * closing it in the child would corrupt the shared regions. */
static pid_t qdb_pid;

static const char *const resource_names[QUOTA_NUMRESOURCES] = {
    "STORAGE", "MESSAGE", "X-NUM-FOLDERS", "X-ANNOTATION-STORAGE",
};

const char *quota_resource_name(enum quota_resource res)
{
    if ((int)res < 0 || res >= QUOTA_NUMRESOURCES) return NULL;
    return resource_names[res];
}

int quota_resource_byname(const char *name)
{
    for (int i = 0; i < QUOTA_NUMRESOURCES; i++)
        if (name && !strcasecmp(name, resource_names[i])) return i;
    return -1;
}

int quota_open(const char *configdir)
{
    struct buf fname = BUF_INITIALIZER;
    int r;

    if (qdb) quota_close();
    buf_printf(&fname, "%s/quotas.db", configdir);
    r = cyrusdb_open(buf_cstring(&fname), CYRUSDB_CREATE, &qdb);
    if (r) {
        log_error("quota: cannot open %s: %s", buf_cstring(&fname),
                  cyrusdb_strerror(r));
        qdb = NULL;
    }
    qdb_pid = getpid();
    buf_free(&fname);
    return r ? QUOTA_IOERROR : QUOTA_OK;
}

void quota_close(void)
{
    if (qdb && qdb_pid == getpid()) cyrusdb_close(&qdb);
    qdb = NULL;
}

void quota_fini(struct quota *q)
{
    free(q->root);
    q->root = NULL;
}

static void quota_blank(struct quota *q)
{
    q->root = NULL;
    for (int i = 0; i < QUOTA_NUMRESOURCES; i++) {
        q->limit[i] = QUOTA_UNLIMITED;
        q->used[i] = 0;
    }
}

static void quota_format(const struct quota *q, struct buf *out)
{
    buf_reset(out);
    for (int i = 0; i < QUOTA_NUMRESOURCES; i++)
        buf_printf(out, "%s%s %lld %lld", i ? " " : "", resource_names[i],
                   (long long)q->used[i], (long long)q->limit[i]);
}

/* Fill used/limit from a record; unknown resources are skipped. */
static int quota_parse(const char *val, size_t len, struct quota *q)
{
    char *copy = xstrndup(val, len);
    strarray_t *words = strarray_split(copy, " ");
    int r = 0;

    if (words->count % 3) r = -1;
    for (int i = 0; !r && i + 2 < words->count; i += 3) {
        long long used, limit;
        int res = quota_resource_byname(words->data[i]);
        if (parse_longlong(words->data[i + 1], &used) < 0 ||
            parse_longlong(words->data[i + 2], &limit) < 0 || limit < -1) {
            r = -1;
            break;
        }
        if (res < 0) continue;
        q->used[res] = used;
        q->limit[res] = limit;
    }
    strarray_free(&words);
    free(copy);
    return r;
}

static int valid_root(const char *root)
{
    return root && *root && !strpbrk(root, "\r\n");
}

/* Read `root` within `tid` (may be NULL); CYRUSDB_* code. */
static int quota_fetch(const char *root, struct quota *q,
                       struct cyrusdb_txn **tid)
{
    struct buf val = BUF_INITIALIZER;
    int r;

    quota_blank(q);
    r = cyrusdb_fetch(qdb, root, strlen(root), &val, tid);
    if (!r && quota_parse(val.s, val.len, q) < 0) {
        log_error("quota: corrupt record for root %s; treating as empty",
                  root);
        quota_blank(q);
    }
    buf_free(&val);
    return r;
}

static int map_db(int r)
{
    switch (r) {
    case CYRUSDB_OK: return QUOTA_OK;
    case CYRUSDB_NOTFOUND: return QUOTA_NOTFOUND;
    default: return QUOTA_IOERROR;
    }
}

int quota_read(const char *root, struct quota *q)
{
    int r;

    quota_blank(q);
    if (!qdb) return QUOTA_IOERROR;
    if (!valid_root(root)) return QUOTA_NOTFOUND;
    r = quota_fetch(root, q, NULL);
    if (r) {
        if (r != CYRUSDB_NOTFOUND)
            log_error("quota: read %s: %s", root, cyrusdb_strerror(r));
        return map_db(r);
    }
    q->root = xstrdup(root);
    return QUOTA_OK;
}

/* Store q under `root` within the transaction. */
static int quota_store(const char *root, const struct quota *q,
                       struct cyrusdb_txn **tid)
{
    struct buf val = BUF_INITIALIZER;
    int r;

    quota_format(q, &val);
    r = cyrusdb_store(qdb, root, strlen(root), val.s, val.len, tid);
    buf_free(&val);
    return r;
}

struct setlimits_rock {
    const char *root;
    const int64_t *limit;
    const int *have;
    int replace;
};

static int setlimits_op(struct cyrusdb_txn **tid, void *rock)
{
    struct setlimits_rock *sr = rock;
    struct quota q;
    int r = quota_fetch(sr->root, &q, tid);

    if (r && r != CYRUSDB_NOTFOUND) return r;
    for (int i = 0; i < QUOTA_NUMRESOURCES; i++) {
        if (sr->have[i])
            q.limit[i] = sr->limit[i] < 0 ? QUOTA_UNLIMITED : sr->limit[i];
        else if (sr->replace)
            q.limit[i] = QUOTA_UNLIMITED;
    }
    return quota_store(sr->root, &q, tid);
}

int quota_set_limits(const char *root, const int64_t limit[QUOTA_NUMRESOURCES],
                     const int have[QUOTA_NUMRESOURCES], int replace)
{
    struct setlimits_rock sr = { root, limit, have, replace };
    int r;

    if (!qdb) return QUOTA_IOERROR;
    if (!valid_root(root)) return QUOTA_NOTFOUND;
    r = cyrusdb_run_txn(qdb, setlimits_op, &sr);
    if (r) log_error("quota: set limits of %s: %s", root, cyrusdb_strerror(r));
    return map_db(r);
}

struct setused_rock {
    const char *root;
    const int64_t *used;
};

static int setused_op(struct cyrusdb_txn **tid, void *rock)
{
    struct setused_rock *sr = rock;
    struct quota q;
    int r = quota_fetch(sr->root, &q, tid);

    if (r) return r;
    for (int i = 0; i < QUOTA_NUMRESOURCES; i++)
        q.used[i] = sr->used[i] < 0 ? 0 : sr->used[i];
    return quota_store(sr->root, &q, tid);
}

int quota_set_used(const char *root, const int64_t used[QUOTA_NUMRESOURCES])
{
    struct setused_rock sr = { root, used };
    int r;

    if (!qdb) return QUOTA_IOERROR;
    if (!valid_root(root)) return QUOTA_NOTFOUND;
    r = cyrusdb_run_txn(qdb, setused_op, &sr);
    if (r && r != CYRUSDB_NOTFOUND)
        log_error("quota: set usage of %s: %s", root, cyrusdb_strerror(r));
    return map_db(r);
}

int quota_delete(const char *root)
{
    int r;

    if (!qdb) return QUOTA_IOERROR;
    if (!valid_root(root)) return QUOTA_NOTFOUND;
    r = cyrusdb_delete(qdb, root, strlen(root), NULL);
    if (r && r != CYRUSDB_NOTFOUND)
        log_error("quota: delete %s: %s", root, cyrusdb_strerror(r));
    return map_db(r);
}

static int root_exists(const char *root)
{
    return cyrusdb_fetch(qdb, root, strlen(root), NULL, NULL) == CYRUSDB_OK;
}

char *quota_findroot(const char *name)
{
    if (!qdb || !valid_root(name)) return NULL;

    char *cand = xstrdup(name);
    char *bang = strchr(cand, '!');
    char *local = bang ? bang + 1 : cand;

    while (*local) {
        if (root_exists(cand)) return cand;
        char *dot = strrchr(local, '.');
        if (!dot) break;
        *dot = '\0';
    }
    /* A domain's whole tree may have one root: "example.com!". */
    if (bang) {
        bang[1] = '\0';
        if (root_exists(cand)) return cand;
    }
    free(cand);
    return NULL;
}

/* The limit of `res` in the unit usage is counted in. */
static int64_t limit_in_used_units(const struct quota *q, int res)
{
    int64_t limit = q->limit[res];
    if (res == QUOTA_STORAGE || res == QUOTA_ANNOTSTORAGE) {
        if (limit > INT64_MAX / 1024) return INT64_MAX;
        return limit * 1024;
    }
    return limit;
}

int quota_check(const char *root, const int64_t delta[QUOTA_NUMRESOURCES],
                int strict, enum quota_resource *which)
{
    struct quota q;
    int r;

    if (!root) return QUOTA_OK;
    r = quota_read(root, &q);
    if (r == QUOTA_NOTFOUND) return QUOTA_OK;   /* a root removed meanwhile */
    if (r) return r;
    quota_fini(&q);

    for (int i = 0; i < QUOTA_NUMRESOURCES; i++) {
        if (delta[i] <= 0 || q.limit[i] < 0) continue;
        int64_t limit = limit_in_used_units(&q, i);
        int over = strict ? (q.used[i] > limit - delta[i])
                          : (q.used[i] >= limit);
        if (over) {
            if (which) *which = (enum quota_resource)i;
            return QUOTA_EXCEEDED;
        }
    }
    return QUOTA_OK;
}

struct update_rock {
    const char *root;
    const int64_t *delta;
};

static int update_op(struct cyrusdb_txn **tid, void *rock)
{
    struct update_rock *ur = rock;
    struct quota q;
    int r = quota_fetch(ur->root, &q, tid);

    if (r) return r;
    for (int i = 0; i < QUOTA_NUMRESOURCES; i++) {
        q.used[i] += ur->delta[i];
        if (q.used[i] < 0) {
            /* drift from a crash between a mailbox change and this
             * update; `quota -f` puts it right */
            log_warning("quota: usage of %s for %s would be negative, "
                        "set to 0", resource_names[i], ur->root);
            q.used[i] = 0;
        }
    }
    return quota_store(ur->root, &q, tid);
}

int quota_update_used(const char *root,
                      const int64_t delta[QUOTA_NUMRESOURCES])
{
    struct update_rock ur = { root, delta };
    int r;
    int any = 0;

    if (!qdb) return QUOTA_IOERROR;
    if (!valid_root(root)) return QUOTA_NOTFOUND;
    for (int i = 0; i < QUOTA_NUMRESOURCES; i++) any |= delta[i] != 0;
    if (!any) return QUOTA_OK;
    r = cyrusdb_run_txn(qdb, update_op, &ur);
    if (r && r != CYRUSDB_NOTFOUND)
        log_error("quota: update usage of %s: %s", root, cyrusdb_strerror(r));
    return map_db(r);
}

struct foreach_rock {
    int (*cb)(const struct quota *q, void *rock);
    void *rock;
};

static int foreach_cb(void *rock, const char *key, size_t keylen,
                      const char *data, size_t datalen)
{
    struct foreach_rock *fr = rock;
    struct quota q;
    int r;

    quota_blank(&q);
    if (quota_parse(data, datalen, &q) < 0) {
        log_error("quota: corrupt record for root %.*s, skipped", (int)keylen,
                  key);
        return 0;
    }
    q.root = xstrndup(key, keylen);
    r = fr->cb(&q, fr->rock);
    quota_fini(&q);
    return r;
}

int quota_foreach(const char *prefix,
                  int (*cb)(const struct quota *q, void *rock), void *rock)
{
    struct foreach_rock fr = { cb, rock };

    if (!qdb) return QUOTA_IOERROR;
    if (!prefix) prefix = "";
    return cyrusdb_foreach(qdb, prefix, strlen(prefix), NULL, foreach_cb, &fr,
                           NULL);
}
