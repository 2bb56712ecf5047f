/* hash.c -- string-keyed hash tables (FNV-1a, chained); see hash.h. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/hash.h"
#include "lib/xmalloc.h"

struct hash_entry {
    struct hash_entry *next;
    void *value;
    char key[];
};

static uint64_t hash_key(const char *key)
{
    uint64_t h = 1469598103934665603ULL;
    for (const unsigned char *p = (const unsigned char *)key; *p; p++) {
        h ^= *p;
        h *= 1099511628211ULL;
    }
    return h;
}

void hash_init(struct hash_table *table, size_t size_hint)
{
    size_t size = 16;
    while (size < size_hint) size *= 2;
    table->size = size;
    table->count = 0;
    table->buckets = xcalloc(size, sizeof(*table->buckets));
}

static void hash_grow(struct hash_table *table)
{
    size_t newsize = table->size * 2;
    struct hash_entry **nb = xcalloc(newsize, sizeof(*nb));
    for (size_t i = 0; i < table->size; i++) {
        struct hash_entry *e = table->buckets[i], *next;
        for (; e; e = next) {
            next = e->next;
            size_t b = hash_key(e->key) & (newsize - 1);
            e->next = nb[b];
            nb[b] = e;
        }
    }
    free(table->buckets);
    table->buckets = nb;
    table->size = newsize;
}

void *hash_insert(struct hash_table *table, const char *key, void *value)
{
    if (!table->buckets) hash_init(table, 16);
    size_t b = hash_key(key) & (table->size - 1);
    for (struct hash_entry *e = table->buckets[b]; e; e = e->next) {
        if (!strcmp(e->key, key)) {
            void *old = e->value;
            e->value = value;
            return old;
        }
    }
    size_t klen = strlen(key) + 1;
    struct hash_entry *e = xmalloc(sizeof(*e) + klen);
    memcpy(e->key, key, klen);
    e->value = value;
    e->next = table->buckets[b];
    table->buckets[b] = e;
    if (++table->count > table->size * 2) hash_grow(table);
    return NULL;
}

void *hash_lookup(const struct hash_table *table, const char *key)
{
    if (!table->buckets) return NULL;
    size_t b = hash_key(key) & (table->size - 1);
    for (struct hash_entry *e = table->buckets[b]; e; e = e->next)
        if (!strcmp(e->key, key)) return e->value;
    return NULL;
}

void *hash_del(struct hash_table *table, const char *key)
{
    if (!table->buckets) return NULL;
    size_t b = hash_key(key) & (table->size - 1);
    for (struct hash_entry **ep = &table->buckets[b]; *ep; ep = &(*ep)->next) {
        if (!strcmp((*ep)->key, key)) {
            struct hash_entry *e = *ep;
            void *value = e->value;
            *ep = e->next;
            free(e);
            table->count--;
            return value;
        }
    }
    return NULL;
}

void hash_enumerate(const struct hash_table *table,
                    void (*cb)(const char *key, void *value, void *rock),
                    void *rock)
{
    for (size_t i = 0; i < table->size; i++) {
        struct hash_entry *e = table->buckets[i], *next;
        for (; e; e = next) {
            next = e->next; /* cb may delete e */
            cb(e->key, e->value, rock);
        }
    }
}

void hash_free(struct hash_table *table, void (*free_value)(void *))
{
    for (size_t i = 0; i < table->size; i++) {
        struct hash_entry *e = table->buckets[i], *next;
        for (; e; e = next) {
            next = e->next;
            if (free_value) free_value(e->value);
            free(e);
        }
    }
    free(table->buckets);
    table->buckets = NULL;
    table->size = table->count = 0;
}
