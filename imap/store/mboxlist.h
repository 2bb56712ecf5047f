/* mboxlist.h -- the list of mailboxes (mailboxes.db).
 *
 * Every mailbox has one record, keyed by its internal name (see
 * mboxname.h): unique id, type, partition, ACL and uidvalidity.
 * mailboxes.db is authoritative for existence and ACLs; cyrus.header
 * keeps a copy so reconstruct can rebuild this list.  This module also
 * knows where a mailbox lives on disk (partition directory, optional
 * hashing, domain prefix) so no one else computes paths.
 *
 * Record value format (text, one line): "<type> <partition> <uniqueid>
 * <uidvalidity> <acl>" with the ACL in Cyrus's "id\trights\t" form;
 * see doc/store-format.md.  Functions return 0 or a MBOXLIST_* error.
 */
#ifndef IMAP_STORE_MBOXLIST_H
#define IMAP_STORE_MBOXLIST_H

#include <stdint.h>

#include "lib/buf.h"
#include "lib/strarray.h"

enum mboxlist_error {
    MBOXLIST_OK = 0,
    MBOXLIST_NOTFOUND = -1,   /* no such mailbox */
    MBOXLIST_EXISTS = -2,     /* a mailbox of that name exists */
    MBOXLIST_IOERROR = -3,    /* database or file system failure (logged) */
    MBOXLIST_BADNAME = -4,    /* invalid name, or partition unknown */
    MBOXLIST_AGAIN = -5,      /* lock conflict that retries did not clear */
};
const char *mboxlist_strerror(int r);

enum mboxlist_type {
    MBTYPE_EMAIL = 0,         /* an ordinary mailbox */
    MBTYPE_INTERMEDIATE = 1,  /* placeholder parent (\Noselect) */
    MBTYPE_REMOTE = 2,        /* reserved */
};

struct mboxlist_entry {
    char *name;          /* internal name */
    int type;            /* enum mboxlist_type */
    char *partition;
    char *uniqueid;
    uint32_t uidvalidity;
    char *acl;
};

/* Settings read at the edge from imapd.conf. */
struct mboxlist_settings {
    const char *configdir;      /* mailboxes.db lives here */
    const char *defaultpartition;
    int hashimapspool;
    /* partition name -> directory; NULL if unknown */
    const char *(*partition_dir)(const char *partition);
};

/* Open mailboxes.db (cyrusdb_init must have been called). */
int mboxlist_open(const struct mboxlist_settings *settings);
void mboxlist_close(void);

/* Look a mailbox up; the entry is filled with new memory. */
int mboxlist_lookup(const char *name, struct mboxlist_entry *entry);
void mboxlist_entry_fini(struct mboxlist_entry *entry);

/* The directory of mailbox `name` on `partition` (replaces `path`);
 * MBOXLIST_BADNAME for an unknown partition or a name with an empty,
 * "." or ".." component or a '/' (it could leave the partition). */
int mboxlist_path(const char *name, const char *partition, struct buf *path);

/* Add a record (the caller creates the store files with mailbox_create).
 * MBOXLIST_EXISTS if present.  Fills partition (defaultpartition),
 * uniqueid and uidvalidity when unset (NULL/""/0). */
int mboxlist_insert(struct mboxlist_entry *entry);
/* Replace a record (e.g. a new ACL). */
int mboxlist_update(const struct mboxlist_entry *entry);
int mboxlist_remove(const char *name);

/* Call cb for every mailbox whose internal name starts with `prefix`
 * (""= all), in name order; a nonzero return stops and is returned. */
int mboxlist_foreach(const char *prefix,
                     int (*cb)(const struct mboxlist_entry *entry, void *rock),
                     void *rock);
/* Does any mailbox exist below `name` (name + separator ...)?
 * 1, 0, or MBOXLIST_IOERROR. */
int mboxlist_haschildren(const char *name);

/* A new unique id (24 hex digits from getrandom) into `out` (replaced)
 * and a new uidvalidity: the time, but always above the last one this
 * server issued (kept in mailboxes.db). */
void mboxlist_new_uniqueid(struct buf *out);
uint32_t mboxlist_new_uidvalidity(void);

#endif
