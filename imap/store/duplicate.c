/* duplicate.c -- deliver.db; see duplicate.h. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "imap/store/duplicate.h"
#include "lib/buf.h"
#include "lib/cyrusdb.h"
#include "lib/log.h"

static struct cyrusdb *ddb;
/* Handles opened before fork() belong to the parent's environment. */
static pid_t ddb_pid;

int duplicate_open(const char *fname)
{
    int r;

    duplicate_close();
    r = cyrusdb_open(fname, CYRUSDB_CREATE | CYRUSDB_NOSYNC, &ddb);
    if (r) {
        log_error("duplicate: cannot open %s: %s", fname, cyrusdb_strerror(r));
        ddb = NULL;
        return DUPLICATE_IOERROR;
    }
    ddb_pid = getpid();
    return DUPLICATE_OK;
}

void duplicate_close(void)
{
    if (ddb && ddb_pid == getpid())
        cyrusdb_close(&ddb);
    ddb = NULL;
}

static void make_key(struct buf *key, const char *msgid, const char *mailbox)
{
    buf_reset(key);
    buf_appendcstr(key, msgid);
    buf_putc(key, '\0');
    buf_appendcstr(key, mailbox);
    buf_putc(key, '\0');
}

static int parse_value(const char *data, size_t len, time_t *mark,
                       uint32_t *uid)
{
    char tmp[64];
    long long t = 0;
    unsigned long u = 0;

    if (len >= sizeof(tmp))
        return -1;
    memcpy(tmp, data, len);
    tmp[len] = '\0';
    if (sscanf(tmp, "%lld %lu", &t, &u) < 1)
        return -1;
    if (mark)
        *mark = (time_t)t;
    if (uid)
        *uid = (uint32_t)u;
    return 0;
}

int duplicate_check(const char *msgid, const char *mailbox, time_t *mark)
{
    struct buf key = BUF_INITIALIZER, val = BUF_INITIALIZER;
    int r, found = 0;

    if (!ddb || !msgid || !*msgid || !mailbox)
        return ddb ? 0 : DUPLICATE_IOERROR;
    make_key(&key, msgid, mailbox);
    r = cyrusdb_fetch(ddb, key.s, key.len, &val, NULL);
    if (r == CYRUSDB_OK) {
        found = 1;
        if (parse_value(val.s, val.len, mark, NULL) < 0 && mark)
            *mark = 0;
    }
    else if (r != CYRUSDB_NOTFOUND) {
        log_error("duplicate: cannot read: %s", cyrusdb_strerror(r));
        found = DUPLICATE_IOERROR;
    }
    buf_free(&key);
    buf_free(&val);
    return found;
}

int duplicate_mark(const char *msgid, const char *mailbox, time_t mark,
                   uint32_t uid)
{
    struct buf key = BUF_INITIALIZER, val = BUF_INITIALIZER;
    int r;

    if (!ddb)
        return DUPLICATE_IOERROR;
    if (!msgid || !*msgid || !mailbox)
        return DUPLICATE_OK;
    make_key(&key, msgid, mailbox);
    buf_printf(&val, "%lld %u", (long long)mark, uid);
    r = cyrusdb_store(ddb, key.s, key.len, val.s, val.len, NULL);
    if (r)
        log_error("duplicate: cannot mark %s for %s: %s", msgid, mailbox,
                  cyrusdb_strerror(r));
    buf_free(&key);
    buf_free(&val);
    return r ? DUPLICATE_IOERROR : DUPLICATE_OK;
}

struct walk {
    int (*cb)(const char *msgid, const char *mailbox, time_t mark,
              uint32_t uid, void *rock);
    void *rock;
};

/* Split a key into its two NUL-terminated parts; -1 if malformed. */
static int split_key(const char *key, size_t keylen, const char **msgid,
                     const char **mailbox)
{
    const char *nul = memchr(key, '\0', keylen);

    if (!nul || keylen < 2 || key[keylen - 1] != '\0')
        return -1;
    *msgid = key;
    *mailbox = nul + 1;
    return 0;
}

static int foreach_cb(void *rock, const char *key, size_t keylen,
                      const char *data, size_t datalen)
{
    struct walk *w = rock;
    const char *msgid, *mailbox;
    time_t mark = 0;
    uint32_t uid = 0;

    if (split_key(key, keylen, &msgid, &mailbox) < 0)
        return 0;
    parse_value(data, datalen, &mark, &uid);
    return w->cb(msgid, mailbox, mark, uid, w->rock);
}

int duplicate_foreach(int (*cb)(const char *msgid, const char *mailbox,
                                time_t mark, uint32_t uid, void *rock),
                      void *rock)
{
    struct walk w = { cb, rock };

    if (!ddb)
        return DUPLICATE_IOERROR;
    return cyrusdb_foreach(ddb, "", 0, NULL, foreach_cb, &w, NULL);
}

struct prune {
    time_t cutoff;
    unsigned long kept;
    struct buf keys;     /* "<len>:<key>" for each record to remove */
};

/* Only collects: deleting happens afterwards, one auto-committed delete
 * per key, so no transaction grows with the size of the database. */
static int prune_cb(void *rock, const char *key, size_t keylen,
                    const char *data, size_t datalen)
{
    struct prune *pr = rock;
    time_t mark = 0;

    if (parse_value(data, datalen, &mark, NULL) < 0)
        mark = 0;
    if (mark >= pr->cutoff) {
        pr->kept++;
        return 0;
    }
    buf_printf(&pr->keys, "%zu:", keylen);
    buf_appendmap(&pr->keys, key, keylen);
    return 0;
}

int duplicate_prune(time_t cutoff, unsigned long *deleted,
                    unsigned long *kept)
{
    struct prune pr = { cutoff, 0, BUF_INITIALIZER };
    unsigned long ndel = 0;
    const char *p, *end;
    int r, failed = 0;

    if (!ddb)
        return DUPLICATE_IOERROR;
    r = cyrusdb_foreach(ddb, "", 0, NULL, prune_cb, &pr, NULL);
    if (r) {
        log_error("duplicate: cannot walk: %s", cyrusdb_strerror(r));
        buf_free(&pr.keys);
        return DUPLICATE_IOERROR;
    }
    p = pr.keys.s;
    end = p ? p + pr.keys.len : NULL;
    while (p && p < end) {
        char *colon;
        unsigned long klen = strtoul(p, &colon, 10);

        if (*colon != ':' || klen > (size_t)(end - colon - 1))
            break;
        r = cyrusdb_delete(ddb, colon + 1, klen, NULL);
        if (r == CYRUSDB_OK) {
            ndel++;
        }
        else if (r != CYRUSDB_NOTFOUND) {
            log_error("duplicate: cannot delete: %s", cyrusdb_strerror(r));
            failed = 1;
            break;
        }
        p = colon + 1 + klen;
    }
    buf_free(&pr.keys);
    if (deleted)
        *deleted = ndel;
    if (kept)
        *kept = pr.kept;
    return failed ? DUPLICATE_IOERROR : DUPLICATE_OK;
}
