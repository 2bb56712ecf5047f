/* test_hash.c -- unit tests for lib/hash. */
#include <stdio.h>
#include <stdint.h>

#include "lib/hash.h"
#include "lib/test/unit.h"

static void count_cb(const char *key, void *value, void *rock)
{
    (void)key;
    *(long *)rock += (long)(intptr_t)value;
}

static void test_insert_lookup_grow(void)
{
    struct hash_table t = HASH_TABLE_INITIALIZER;
    char key[32];
    for (long i = 1; i <= 5000; i++) {
        snprintf(key, sizeof(key), "key%ld", i);
        CHECK(hash_insert(&t, key, (void *)(intptr_t)i) == NULL);
    }
    CHECK_INTEQ(t.count, 5000);
    CHECK((intptr_t)hash_lookup(&t, "key4321") == 4321);
    CHECK(hash_lookup(&t, "nokey") == NULL);
    CHECK((intptr_t)hash_insert(&t, "key1", (void *)(intptr_t)7) == 1);
    CHECK((intptr_t)hash_del(&t, "key2") == 2);
    CHECK(hash_lookup(&t, "key2") == NULL);
    long sum = 0;
    hash_enumerate(&t, count_cb, &sum);
    CHECK_INTEQ(sum, 5000L * 5001 / 2 - 1 + 7 - 2);
    hash_free(&t, NULL);
    CHECK(t.buckets == NULL);
}

UNIT_TESTS(UNIT_T(test_insert_lookup_grow))
