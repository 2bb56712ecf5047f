/* quota.h -- quota roots and their usage (the quota database).
 *
 * A quota root is a mailbox name (which need not exist); it governs every
 * mailbox at or below it that is not below a deeper root.  Each root has
 * a limit and a usage per resource.  Usage is changed by the operations
 * that change mailboxes (append, expunge, create, delete, rename) in the
 * same order as the mailbox change, and `quota -f` recomputes it.
 * Limits are in the unit of the resource: STORAGE in KiB (as IMAP), but
 * usage of STORAGE is kept in bytes.  A limit of -1 means unlimited.
 */
#ifndef IMAP_STORE_QUOTA_H
#define IMAP_STORE_QUOTA_H

#include <stdint.h>

enum quota_resource {
    QUOTA_STORAGE = 0,        /* "STORAGE": KiB limit, bytes used */
    QUOTA_MESSAGE,            /* "MESSAGE": number of messages */
    QUOTA_NUMFOLDERS,         /* "X-NUM-FOLDERS": number of mailboxes */
    QUOTA_ANNOTSTORAGE,       /* "X-ANNOTATION-STORAGE": KiB / bytes */
    QUOTA_NUMRESOURCES
};
#define QUOTA_UNLIMITED (-1)

enum quota_error {
    QUOTA_OK = 0,
    QUOTA_NOTFOUND = -1,      /* no such quota root */
    QUOTA_IOERROR = -2,
    QUOTA_EXCEEDED = -3,      /* the change would go over a limit */
};

struct quota {
    char *root;
    int64_t limit[QUOTA_NUMRESOURCES];   /* QUOTA_UNLIMITED or a limit */
    int64_t used[QUOTA_NUMRESOURCES];
};

const char *quota_resource_name(enum quota_resource res);
/* -1 if `name` is not a resource name (case-insensitive). */
int quota_resource_byname(const char *name);

int quota_open(const char *configdir);
void quota_close(void);

/* Read a root; QUOTA_NOTFOUND if it has never been set. */
int quota_read(const char *root, struct quota *q);
void quota_fini(struct quota *q);
/* Set limits (creating the root); resources not given stay unchanged
 * unless `replace` is set, in which case they become unlimited. */
int quota_set_limits(const char *root, const int64_t limit[QUOTA_NUMRESOURCES],
                     const int have[QUOTA_NUMRESOURCES], int replace);
/* Remove a root entirely. */
int quota_delete(const char *root);
/* The root governing mailbox `name` (the deepest existing root that is
 * `name` or an ancestor; last, for "dom!x.y", the domain root "dom!"),
 * or NULL; new memory. */
char *quota_findroot(const char *name);

/* Would adding `delta` (per resource; zeros ignored) exceed a limit?
 * `strict`: usage + delta must stay <= limit; otherwise (lmtp's lenient
 * mode) only usage must be under the limit.  QUOTA_EXCEEDED names the
 * resource in *which. */
int quota_check(const char *root, const int64_t delta[QUOTA_NUMRESOURCES],
                int strict, enum quota_resource *which);
/* Add `delta` (may be negative) to a root's usage, atomically (one
 * transaction, retried on lock conflicts); usage never goes below 0.
 * QUOTA_NOTFOUND if the root does not exist. */
int quota_update_used(const char *root,
                      const int64_t delta[QUOTA_NUMRESOURCES]);
/* Replace a root's usage (`quota -f`, or a new root over existing
 * mailboxes); QUOTA_NOTFOUND if the root does not exist. */
int quota_set_used(const char *root, const int64_t used[QUOTA_NUMRESOURCES]);
/* Call cb for each root starting with `prefix`, in order. */
int quota_foreach(const char *prefix,
                  int (*cb)(const struct quota *q, void *rock), void *rock);

#endif
