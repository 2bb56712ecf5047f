/* mboxlist.c -- mailboxes.db: one text record per mailbox.
 *
 * Keys are internal names.  Keys starting with '$' are the module's own
 * bookkeeping (mboxname_policycheck refuses such mailbox names), today
 * only "$UIDVALIDITY", the last uidvalidity handed out, kept here so
 * that two mailboxes created in the same second, by any two processes,
 * never share one.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "imap/store/mboxlist.h"
#include "lib/cyrusdb.h"
#include "lib/log.h"
#include "lib/util.h"
#include "lib/xmalloc.h"

#define UIDVALIDITY_KEY "$UIDVALIDITY"
#define UNIQUEID_BYTES 12
/* Transactions that keep colliding are given up after this many tries. */

static struct cyrusdb *mbdb;
/* A handle opened before fork() belongs to the parent's environment:
 * closing it in the child would corrupt the shared regions. */
static pid_t mbdb_pid;
static struct {
    char *configdir;
    char *defaultpartition;
    int hashimapspool;
    const char *(*partition_dir)(const char *partition);
} mbset;

const char *mboxlist_strerror(int r)
{
    switch (r) {
    case MBOXLIST_OK: return "OK";
    case MBOXLIST_NOTFOUND: return "Mailbox does not exist";
    case MBOXLIST_EXISTS: return "Mailbox already exists";
    case MBOXLIST_IOERROR: return "I/O error in the mailbox list";
    case MBOXLIST_BADNAME: return "Invalid mailbox name or partition";
    case MBOXLIST_AGAIN: return "Mailbox list busy, try again";
    default: return "Unknown mailbox list error";
    }
}

static int map_db(int r)
{
    switch (r) {
    case CYRUSDB_OK: return MBOXLIST_OK;
    case CYRUSDB_NOTFOUND: return MBOXLIST_NOTFOUND;
    case CYRUSDB_EXISTS: return MBOXLIST_EXISTS;
    case CYRUSDB_AGAIN: return MBOXLIST_AGAIN;
    default: return MBOXLIST_IOERROR;
    }
}

int mboxlist_open(const struct mboxlist_settings *settings)
{
    struct buf fname = BUF_INITIALIZER;
    int r;

    if (mbdb) mboxlist_close();
    buf_printf(&fname, "%s/mailboxes.db", settings->configdir);
    r = cyrusdb_open(buf_cstring(&fname), CYRUSDB_CREATE, &mbdb);
    if (r) {
        log_error("mboxlist: cannot open %s: %s", buf_cstring(&fname),
                  cyrusdb_strerror(r));
        buf_free(&fname);
        mbdb = NULL;
        return MBOXLIST_IOERROR;
    }
    buf_free(&fname);
    mbdb_pid = getpid();
    mbset.configdir = xstrdup(settings->configdir);
    mbset.defaultpartition = xstrdupnull(settings->defaultpartition);
    mbset.hashimapspool = settings->hashimapspool;
    mbset.partition_dir = settings->partition_dir;
    return MBOXLIST_OK;
}

void mboxlist_close(void)
{
    if (mbdb && mbdb_pid == getpid()) cyrusdb_close(&mbdb);
    mbdb = NULL;
    free(mbset.configdir);
    free(mbset.defaultpartition);
    memset(&mbset, 0, sizeof(mbset));
}

void mboxlist_entry_fini(struct mboxlist_entry *entry)
{
    free(entry->name);
    free(entry->partition);
    free(entry->uniqueid);
    free(entry->acl);
    memset(entry, 0, sizeof(*entry));
}

/* A name the database may hold: not empty, not bookkeeping, one line. */
static int valid_key(const char *name)
{
    return name && *name && *name != '$' && !strpbrk(name, "\r\n");
}

/* A value field that must be one space-free token. */
static int valid_token(const char *s)
{
    return !s || !*s || !strpbrk(s, " \t\r\n");
}

static void entry_format(const struct mboxlist_entry *entry, struct buf *out)
{
    const char *part = entry->partition && *entry->partition
                           ? entry->partition : "-";
    const char *uid = entry->uniqueid && *entry->uniqueid
                          ? entry->uniqueid : "-";
    buf_reset(out);
    buf_printf(out, "%d %s %s %u %s", entry->type, part, uid,
               entry->uidvalidity, entry->acl ? entry->acl : "");
}

/* Parse a record value into `entry` (name set separately). */
static int entry_parse(const char *val, size_t len,
                       struct mboxlist_entry *entry)
{
    char *copy = xstrndup(val, len);
    char *fields[4];
    char *p = copy;
    unsigned long type, uidvalidity;

    for (int i = 0; i < 4; i++) {
        char *sp = strchr(p, ' ');
        if (!sp) goto bad;
        *sp = '\0';
        fields[i] = p;
        p = sp + 1;
    }
    if (parse_ulong(fields[0], &type) < 0 || type > MBTYPE_REMOTE) goto bad;
    if (parse_ulong(fields[3], &uidvalidity) < 0 || uidvalidity > UINT32_MAX)
        goto bad;
    entry->type = (int)type;
    entry->partition = strcmp(fields[1], "-") ? xstrdup(fields[1]) : NULL;
    entry->uniqueid = strcmp(fields[2], "-") ? xstrdup(fields[2]) : NULL;
    entry->uidvalidity = (uint32_t)uidvalidity;
    entry->acl = xstrdup(p);
    free(copy);
    return 0;

bad:
    free(copy);
    return -1;
}

int mboxlist_lookup(const char *name, struct mboxlist_entry *entry)
{
    struct buf val = BUF_INITIALIZER;
    int r;

    memset(entry, 0, sizeof(*entry));
    if (!mbdb) return MBOXLIST_IOERROR;
    if (!valid_key(name)) return MBOXLIST_NOTFOUND;
    r = cyrusdb_fetch(mbdb, name, strlen(name), &val, NULL);
    if (r) {
        buf_free(&val);
        if (r != CYRUSDB_NOTFOUND)
            log_error("mboxlist: lookup %s: %s", name, cyrusdb_strerror(r));
        return map_db(r);
    }
    if (entry_parse(val.s, val.len, entry) < 0) {
        log_error("mboxlist: corrupt record for %s", name);
        mboxlist_entry_fini(entry);
        buf_free(&val);
        return MBOXLIST_IOERROR;
    }
    entry->name = xstrdup(name);
    buf_free(&val);
    return MBOXLIST_OK;
}

/* The letter a directory is hashed under: the lower-case first letter,
 * or 'q' for anything else (as Cyrus's hashimapspool does). */
static char hash_letter(const char *s)
{
    char c = *s;
    if (c >= 'A' && c <= 'Z') c = (char)(c - 'A' + 'a');
    return c >= 'a' && c <= 'z' ? c : 'q';
}

/* A path component that cannot step out of its directory. */
static int safe_component(const char *s, size_t len)
{
    if (len == 0) return 0;
    if (memchr(s, '/', len) || memchr(s, '\0', len)) return 0;
    if (len <= 2 && s[0] == '.' && (len == 1 || s[1] == '.')) return 0;
    return 1;
}

int mboxlist_path(const char *name, const char *partition, struct buf *path)
{
    const char *dir;
    const char *local = name;
    const char *bang;

    buf_reset(path);
    if (!valid_key(name) || !partition || !mbset.partition_dir)
        return MBOXLIST_BADNAME;
    dir = mbset.partition_dir(partition);
    if (!dir || !*dir) return MBOXLIST_BADNAME;

    buf_appendcstr(path, dir);
    bang = strchr(name, '!');
    if (bang) {
        size_t dlen = (size_t)(bang - name);
        if (!safe_component(name, dlen) || name[0] == '.') goto bad;
        buf_appendcstr(path, "/domain/");
        if (mbset.hashimapspool) buf_printf(path, "%c/", hash_letter(name));
        buf_appendmap(path, name, dlen);
        local = bang + 1;
    }

    /* validate every component before the hash looks at the first */
    for (const char *p = local;;) {
        const char *dot = strchr(p, '.');
        size_t len = dot ? (size_t)(dot - p) : strlen(p);
        if (!safe_component(p, len)) goto bad;
        if (!dot) break;
        p = dot + 1;
    }

    if (mbset.hashimapspool) {
        const char *h = local;
        if (!strncmp(local, "user.", 5)) h = local + 5;
        buf_printf(path, "/%c", hash_letter(h));
    }
    buf_putc(path, '/');
    for (const char *p = local; *p; p++) buf_putc(path, *p == '.' ? '/' : *p);
    return MBOXLIST_OK;

bad:
    buf_reset(path);
    return MBOXLIST_BADNAME;
}

struct uidv_rock {
    uint32_t value;
};

static int uidvalidity_op(struct cyrusdb_txn **tid, void *rock)
{
    struct uidv_rock *ur = rock;
    struct buf val = BUF_INITIALIZER;
    unsigned long last = 0;
    uint32_t now = (uint32_t)time(NULL);
    char out[16];
    int r;

    r = cyrusdb_fetch(mbdb, UIDVALIDITY_KEY, strlen(UIDVALIDITY_KEY), &val,
                      tid);
    if (r && r != CYRUSDB_NOTFOUND) {
        buf_free(&val);
        return r;
    }
    if (!r && parse_ulong(buf_cstring(&val), &last) < 0) last = 0;
    buf_free(&val);

    ur->value = now;
    if (last >= now) ur->value = (uint32_t)last + 1;
    if (ur->value == 0) ur->value = 1;   /* wrapped after 2106 */
    snprintf(out, sizeof(out), "%u", ur->value);
    return cyrusdb_store(mbdb, UIDVALIDITY_KEY, strlen(UIDVALIDITY_KEY), out,
                         strlen(out), tid);
}

uint32_t mboxlist_new_uidvalidity(void)
{
    struct uidv_rock ur = { 0 };
    int r = mbdb ? cyrusdb_run_txn(mbdb, uidvalidity_op, &ur) : CYRUSDB_INTERNAL;
    if (r) {
        /* Still usable: time-based, just not guaranteed unique. */
        log_error("mboxlist: cannot record a new uidvalidity: %s",
                  cyrusdb_strerror(r));
        ur.value = (uint32_t)time(NULL);
    }
    return ur.value;
}

void mboxlist_new_uniqueid(struct buf *out)
{
    unsigned char bytes[UNIQUEID_BYTES];
    size_t got = 0;

    while (got < sizeof(bytes)) {
        ssize_t n = getrandom(bytes + got, sizeof(bytes) - got, 0);
        if (n < 0) {
            if (errno == EINTR) continue;
            fatal(EX_OSERR, "getrandom: %s", strerror(errno));
        }
        got += (size_t)n;
    }
    buf_reset(out);
    for (size_t i = 0; i < sizeof(bytes); i++) buf_printf(out, "%02x", bytes[i]);
}

/* Check and complete an entry about to be written. */
static int entry_prepare(struct mboxlist_entry *entry, int fill)
{
    if (!valid_key(entry->name)) return MBOXLIST_BADNAME;
    if (entry->type < MBTYPE_EMAIL || entry->type > MBTYPE_REMOTE)
        return MBOXLIST_BADNAME;
    if (!valid_token(entry->partition) || !valid_token(entry->uniqueid))
        return MBOXLIST_BADNAME;
    if (entry->acl && strpbrk(entry->acl, "\r\n")) return MBOXLIST_BADNAME;
    if (fill && (!entry->partition || !*entry->partition)) {
        if (!mbset.defaultpartition) return MBOXLIST_BADNAME;
        free(entry->partition);
        entry->partition = xstrdup(mbset.defaultpartition);
    }
    if (entry->type != MBTYPE_REMOTE && entry->partition &&
        (!mbset.partition_dir || !mbset.partition_dir(entry->partition)))
        return MBOXLIST_BADNAME;
    if (fill && (!entry->uniqueid || !*entry->uniqueid)) {
        struct buf id = BUF_INITIALIZER;
        mboxlist_new_uniqueid(&id);
        free(entry->uniqueid);
        entry->uniqueid = buf_release(&id);
    }
    if (fill && !entry->uidvalidity)
        entry->uidvalidity = mboxlist_new_uidvalidity();
    return MBOXLIST_OK;
}

int mboxlist_insert(struct mboxlist_entry *entry)
{
    struct buf val = BUF_INITIALIZER;
    int r;

    if (!mbdb) return MBOXLIST_IOERROR;
    if (valid_key(entry->name) &&
        cyrusdb_fetch(mbdb, entry->name, strlen(entry->name), NULL, NULL) ==
            CYRUSDB_OK)
        return MBOXLIST_EXISTS;   /* before spending a uidvalidity */
    r = entry_prepare(entry, 1);
    if (r) return r;
    entry_format(entry, &val);
    r = cyrusdb_create(mbdb, entry->name, strlen(entry->name), val.s, val.len,
                       NULL);
    buf_free(&val);
    if (r && r != CYRUSDB_EXISTS)
        log_error("mboxlist: insert %s: %s", entry->name, cyrusdb_strerror(r));
    return map_db(r);
}

struct update_rock {
    const char *name;
    const struct buf *val;
};

static int update_op(struct cyrusdb_txn **tid, void *rock)
{
    struct update_rock *ur = rock;
    int r = cyrusdb_fetch(mbdb, ur->name, strlen(ur->name), NULL, tid);
    if (r) return r;
    return cyrusdb_store(mbdb, ur->name, strlen(ur->name), ur->val->s,
                         ur->val->len, tid);
}

int mboxlist_update(const struct mboxlist_entry *entry)
{
    struct mboxlist_entry copy = *entry;
    struct buf val = BUF_INITIALIZER;
    int r;

    if (!mbdb) return MBOXLIST_IOERROR;
    /* validate only: an update never invents ids */
    r = entry_prepare(&copy, 0);
    if (r) return r;
    entry_format(entry, &val);
    struct update_rock ur = { entry->name, &val };
    r = cyrusdb_run_txn(mbdb, update_op, &ur);
    buf_free(&val);
    if (r && r != CYRUSDB_NOTFOUND)
        log_error("mboxlist: update %s: %s", entry->name, cyrusdb_strerror(r));
    return map_db(r);
}

int mboxlist_remove(const char *name)
{
    int r;

    if (!mbdb) return MBOXLIST_IOERROR;
    if (!valid_key(name)) return MBOXLIST_NOTFOUND;
    r = cyrusdb_delete(mbdb, name, strlen(name), NULL);
    if (r && r != CYRUSDB_NOTFOUND)
        log_error("mboxlist: remove %s: %s", name, cyrusdb_strerror(r));
    return map_db(r);
}

struct foreach_rock {
    int (*cb)(const struct mboxlist_entry *entry, void *rock);
    void *rock;
};

static int foreach_filter(void *rock, const char *key, size_t keylen,
                          const char *data, size_t datalen)
{
    (void)rock;
    (void)data;
    (void)datalen;
    return keylen > 0 && key[0] != '$';
}

static int foreach_cb(void *rock, const char *key, size_t keylen,
                      const char *data, size_t datalen)
{
    struct foreach_rock *fr = rock;
    struct mboxlist_entry entry;
    int r;

    memset(&entry, 0, sizeof(entry));
    if (entry_parse(data, datalen, &entry) < 0) {
        log_error("mboxlist: corrupt record for %.*s, skipped", (int)keylen,
                  key);
        return 0;
    }
    entry.name = xstrndup(key, keylen);
    r = fr->cb(&entry, fr->rock);
    mboxlist_entry_fini(&entry);
    return r;
}

int mboxlist_foreach(const char *prefix,
                     int (*cb)(const struct mboxlist_entry *entry, void *rock),
                     void *rock)
{
    struct foreach_rock fr = { cb, rock };
    int r;

    if (!mbdb) return MBOXLIST_IOERROR;
    if (!prefix) prefix = "";
    r = cyrusdb_foreach(mbdb, prefix, strlen(prefix), foreach_filter,
                        foreach_cb, &fr, NULL);
    /* a callback's own nonzero value is passed through untouched */
    return r;
}

static int haschildren_cb(void *rock, const char *key, size_t keylen,
                          const char *data, size_t datalen)
{
    (void)key;
    (void)keylen;
    (void)data;
    (void)datalen;
    *(int *)rock = 1;
    return -1;   /* one is enough */
}

int mboxlist_haschildren(const char *name)
{
    struct buf prefix = BUF_INITIALIZER;
    int found = 0;
    int r;

    if (!mbdb) return MBOXLIST_IOERROR;
    buf_setcstr(&prefix, name);
    if (prefix.len && prefix.s[prefix.len - 1] != '!') buf_putc(&prefix, '.');
    /* The child test is on the key alone, so no value is parsed. */
    r = cyrusdb_foreach(mbdb, buf_cstring(&prefix), prefix.len,
                        foreach_filter, haschildren_cb, &found, NULL);
    buf_free(&prefix);
    if (found) return 1;
    if (r) {
        log_error("mboxlist: haschildren %s: %s", name, cyrusdb_strerror(r));
        return MBOXLIST_IOERROR;
    }
    return 0;
}
