/* cyrusdb.h -- the server's key/value databases.
 *
 * One small API over a transactional store shared by every process:
 * mailboxes.db, quota, annotations, seen state, deliver.db, TLS sessions.
 * Keys and values are arbitrary bytes; keys sort bytewise, so foreach walks
 * in key order.  All databases of a server live in one environment under
 * CONFIGDIR/db, opened once per process by cyrusdb_init() and recovered at
 * server start by `ctl_cyrusdb -r` (the only caller passing CYRUSDB_RECOVER).
 *
 * Transactions follow the Cyrus convention: every operation takes
 * `struct cyrusdb_txn **tid`.
 *   tid == NULL        the operation commits on its own (retried internally
 *                      on lock conflicts);
 *   *tid == NULL       a transaction is started and left in *tid;
 *   *tid != NULL       the operation joins that transaction.
 * End it with cyrusdb_commit() or cyrusdb_abort().  When an operation inside
 * a transaction fails with anything but CYRUSDB_NOTFOUND or CYRUSDB_EXISTS
 * (most often CYRUSDB_AGAIN, a deadlock), the transaction has already been
 * aborted and *tid is NULL: start again from the beginning.
 *
 * A fetch inside a transaction locks the record for writing, so the usual
 * read-modify-write does not deadlock on a lock upgrade.  While a process
 * holds a transaction, it must not touch the same records with auto-commit
 * operations: the two would wait on each other.
 *
 * Committed data is on disk when the commit returns (unless the database was
 * opened with CYRUSDB_NOSYNC).  The environment handle must not cross fork():
 * a child calls cyrusdb_init() itself.
 */
#ifndef LIB_CYRUSDB_H
#define LIB_CYRUSDB_H

#include <stddef.h>

#include "lib/buf.h"

enum cyrusdb_error {
    CYRUSDB_OK = 0,
    CYRUSDB_NOTFOUND,   /* no such key */
    CYRUSDB_EXISTS,     /* cyrusdb_create: the key is already there */
    CYRUSDB_AGAIN,      /* deadlock or lock timeout: retry the transaction */
    CYRUSDB_IOERROR,    /* the files or the environment failed */
    CYRUSDB_INTERNAL,   /* misuse of the API or an unexpected backend state */
};

/* 1 once the environment has reported that it needs recovery (a process
 * died inside the library): nothing can use it until `ctl_cyrusdb -r` has
 * run with every other process gone. */
int cyrusdb_needs_recovery(void);

/* cyrusdb_init flags */
#define CYRUSDB_RECOVER  0x01   /* run recovery first (server start only) */

/* cyrusdb_open flags */
#define CYRUSDB_CREATE   0x01   /* create the file if it does not exist */
#define CYRUSDB_NOSYNC   0x02   /* commits are not fsync'd: for caches that
                                 * may lose recent writes in an OS crash */

struct cyrusdb;
struct cyrusdb_txn;

/* A foreach filter or callback, given one record (see cyrusdb_foreach). */
typedef int cyrusdb_proc_t(void *rock, const char *key, size_t keylen,
                           const char *data, size_t datalen);

/* Open the shared environment in CONFIGDIR/db (created if missing). */
int cyrusdb_init(const char *configdir, int flags);
/* Close every open database and the environment; pending transactions are
 * aborted with a warning. */
void cyrusdb_done(void);

/* Open the database file `fname` (a path, e.g. CONFIGDIR/mailboxes.db). */
int cyrusdb_open(const char *fname, int flags, struct cyrusdb **ret);
/* Close *dbp and set it to NULL. */
int cyrusdb_close(struct cyrusdb **dbp);

/* Look `key` up; its value replaces the contents of `data` (may be NULL to
 * test existence only). */
int cyrusdb_fetch(struct cyrusdb *db, const char *key, size_t keylen,
                  struct buf *data, struct cyrusdb_txn **tid);
/* Set `key` to `data`, replacing any value it had. */
int cyrusdb_store(struct cyrusdb *db, const char *key, size_t keylen,
                  const char *data, size_t datalen, struct cyrusdb_txn **tid);
/* Like cyrusdb_store, but CYRUSDB_EXISTS if `key` is already present. */
int cyrusdb_create(struct cyrusdb *db, const char *key, size_t keylen,
                   const char *data, size_t datalen, struct cyrusdb_txn **tid);
/* Remove `key`: CYRUSDB_NOTFOUND if it was not there. */
int cyrusdb_delete(struct cyrusdb *db, const char *key, size_t keylen,
                   struct cyrusdb_txn **tid);

/* Walk the records whose key starts with `prefix` (prefixlen 0: all) in key
 * order.  For each, `filter` (may be NULL) is asked first: zero skips the
 * record.  Then `cb` is called; a nonzero return stops the walk and becomes
 * the return value.  Returns 0 after a full walk, or a CYRUSDB_* error.
 * Records are read in batches and no lock is held while callbacks run, so
 * callbacks may write to the database (with the same tid, if any); a change
 * to a key later in the current batch may not be seen by the walk. */
int cyrusdb_foreach(struct cyrusdb *db, const char *prefix, size_t prefixlen,
                    cyrusdb_proc_t *filter, cyrusdb_proc_t *cb, void *rock,
                    struct cyrusdb_txn **tid);

/* Make the transaction's changes durable; *tid is set to NULL either way. */
int cyrusdb_commit(struct cyrusdb *db, struct cyrusdb_txn **tid);
/* Undo the transaction's changes; *tid is set to NULL. */
int cyrusdb_abort(struct cyrusdb *db, struct cyrusdb_txn **tid);

/* Run `op` in a transaction of its own on `db`, retrying it from the start
 * while it or the commit meets a lock conflict (CYRUSDB_AGAIN), up to a
 * bound.  `op` returns a CYRUSDB_* code or a negative verdict of its own;
 * any nonzero return aborts the transaction and is passed through. */
int cyrusdb_run_txn(struct cyrusdb *db,
                    int (*op)(struct cyrusdb_txn **tid, void *rock),
                    void *rock);
/* Write dirty pages and a checkpoint record, shortening future recovery. */
int cyrusdb_checkpoint(void);
/* Remove log files no checkpoint or active transaction needs any more. */
int cyrusdb_archive(void);

/* A short English text for a CYRUSDB_* code. */
const char *cyrusdb_strerror(int r);

#endif
