/* hash.h -- string-keyed hash tables.
 *
 * Keys are copied; values are opaque pointers owned by the caller (pass a
 * free function to hash_free to release them).  The table grows as needed.
 */
#ifndef LIB_HASH_H
#define LIB_HASH_H

#include <stddef.h>

struct hash_entry;

struct hash_table {
    size_t size;     /* number of buckets */
    size_t count;    /* number of entries */
    struct hash_entry **buckets;
};

#define HASH_TABLE_INITIALIZER { 0, 0, NULL }

void hash_init(struct hash_table *table, size_t size_hint);
/* Insert or replace; returns the previous value or NULL. */
void *hash_insert(struct hash_table *table, const char *key, void *value);
void *hash_lookup(const struct hash_table *table, const char *key);
/* Remove `key`; returns its value or NULL. */
void *hash_del(struct hash_table *table, const char *key);
/* Call cb for every entry, in no particular order. */
void hash_enumerate(const struct hash_table *table,
                    void (*cb)(const char *key, void *value, void *rock),
                    void *rock);
/* Free the table, calling free_value (if not NULL) on every value. */
void hash_free(struct hash_table *table, void (*free_value)(void *));

#endif
