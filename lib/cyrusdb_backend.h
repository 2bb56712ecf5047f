/* cyrusdb_backend.h -- the table a cyrusdb storage engine fills in.
 *
 * Private to lib/cyrusdb*.c.  cyrusdb.c does the argument checks, the
 * reference counting of open files and the dispatch; a backend only
 * stores bytes.  Each backend defines its own struct cyrusdb_txn; its
 * database handles are the opaque `void *`.  A backend's txn-taking
 * operations follow the rules of cyrusdb.h (NULL: auto-commit; *tid NULL:
 * begin; failure other than NOTFOUND/EXISTS: abort and set *tid = NULL).
 */
#ifndef LIB_CYRUSDB_BACKEND_H
#define LIB_CYRUSDB_BACKEND_H

#include "lib/cyrusdb.h"

struct cyrusdb_backend {
    const char *name;
    /* `dbdir` is CONFIGDIR/db, already created. */
    int (*init)(const char *dbdir, int flags);
    void (*done)(void);
    int (*open)(const char *fname, int flags, void **handle);
    int (*close)(void *handle);
    int (*fetch)(void *handle, const char *key, size_t keylen,
                 struct buf *data, struct cyrusdb_txn **tid);
    /* overwrite == 0: fail with CYRUSDB_EXISTS if the key is present. */
    int (*store)(void *handle, const char *key, size_t keylen,
                 const char *data, size_t datalen, int overwrite,
                 struct cyrusdb_txn **tid);
    int (*delete)(void *handle, const char *key, size_t keylen,
                  struct cyrusdb_txn **tid);
    int (*foreach)(void *handle, const char *prefix, size_t prefixlen,
                   cyrusdb_proc_t *filter, cyrusdb_proc_t *cb, void *rock,
                   struct cyrusdb_txn **tid);
    int (*commit)(void *handle, struct cyrusdb_txn *tid);
    int (*abort)(void *handle, struct cyrusdb_txn *tid);
    int (*checkpoint)(void);
    int (*archive)(void);
};

extern const struct cyrusdb_backend cyrusdb_berkeley;

/* A backend found its environment in need of recovery. */
void cyrusdb_note_recovery_needed(void);

#endif
