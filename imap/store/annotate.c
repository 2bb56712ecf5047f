/* annotate.c -- the annotations database; see annotate.h. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "imap/store/annotate.h"
#include "lib/cyrusdb.h"
#include "lib/log.h"
#include "lib/xmalloc.h"

static struct cyrusdb *annotdb;
static char *stamp_path;

/* The stamp grows by a byte per change (and starts again when large),
 * so a watcher sees a new size even within one timestamp tick. */
#define ANNOTATE_STAMP_MAX 4096

/* How often a transaction lost to a deadlock is tried again. */
#define ANNOTATE_RETRIES 5

int annotate_open(const char *path)
{
    int r;

    if (annotdb)
        return ANNOTATE_OK;
    r = cyrusdb_open(path, CYRUSDB_CREATE, &annotdb);
    if (r) {
        log_error("annotate: cannot open %s: %s", path, cyrusdb_strerror(r));
        annotdb = NULL;
        return ANNOTATE_IOERROR;
    }
    free(stamp_path);
    stamp_path = strconcat(path, ".stamp", (char *)NULL);
    return ANNOTATE_OK;
}

const char *annotate_stamp_path(void)
{
    return stamp_path;
}

static void stamp_touch(void)
{
    struct stat st;
    int fd;

    if (!stamp_path)
        return;
    fd = open(stamp_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0) {
        log_warning("annotate: cannot open %s: %s", stamp_path,
                    strerror(errno));
        return;
    }
    if (write(fd, "+", 1) != 1)
        log_warning("annotate: cannot write %s: %s", stamp_path,
                    strerror(errno));
    else if (fstat(fd, &st) == 0 && st.st_size >= ANNOTATE_STAMP_MAX &&
             ftruncate(fd, 0) < 0)
        log_warning("annotate: cannot truncate %s: %s", stamp_path,
                    strerror(errno));
    close(fd);
}

void annotate_close(void)
{
    if (annotdb)
        cyrusdb_close(&annotdb);
    free(stamp_path);
    stamp_path = NULL;
}

int annotate_isopen(void)
{
    return annotdb != NULL;
}

int annotate_entry_parse(const char *name, int *shared, struct buf *path)
{
    const char *rest;
    int components = 0;

    if (!strncasecmp(name, "/shared", 7)) {
        *shared = 1;
        rest = name + 7;
    }
    else if (!strncasecmp(name, "/private", 8)) {
        *shared = 0;
        rest = name + 8;
    }
    else {
        return ANNOTATE_BADENTRY;
    }
    if (*rest != '/')
        return ANNOTATE_BADENTRY;
    buf_reset(path);
    for (const char *p = rest; *p; p++) {
        unsigned char c = (unsigned char)*p;

        if (c < 0x20 || c >= 0x7f || c == '*' || c == '%')
            return ANNOTATE_BADENTRY;
        if (c == '/') {
            if (p[1] == '/' || p[1] == '\0')
                return ANNOTATE_BADENTRY;
            components++;
        }
        buf_putc(path, (char)tolower(c));
    }
    return components >= 1 ? ANNOTATE_OK : ANNOTATE_BADENTRY;
}

static void make_key(struct buf *key, const char *uniqueid, const char *entry,
                     const char *userid)
{
    buf_reset(key);
    buf_appendcstr(key, uniqueid);
    buf_putc(key, '\0');
    buf_appendcstr(key, entry);
    buf_putc(key, '\0');
    if (userid)
        buf_appendcstr(key, userid);
}

/* Split a key into its parts; 0, or -1 for a malformed key. */
static int split_key(const char *key, size_t keylen, const char **entry,
                     const char **userid, size_t *userlen)
{
    const char *end = key + keylen;
    const char *p = memchr(key, '\0', keylen);

    if (!p)
        return -1;
    *entry = p + 1;
    p = memchr(*entry, '\0', (size_t)(end - *entry));
    if (!p)
        return -1;
    *userid = p + 1;
    *userlen = (size_t)(end - *userid);
    return 0;
}

static int from_cyrusdb(int r)
{
    if (r == CYRUSDB_OK)
        return ANNOTATE_OK;
    if (r == CYRUSDB_NOTFOUND)
        return ANNOTATE_NOTFOUND;
    log_error("annotate: database error: %s", cyrusdb_strerror(r));
    return ANNOTATE_IOERROR;
}

int annotate_get(const char *uniqueid, const char *entry, const char *userid,
                 struct buf *value)
{
    struct buf key = BUF_INITIALIZER;
    int r;

    if (!annotdb)
        return ANNOTATE_IOERROR;
    make_key(&key, uniqueid, entry, userid);
    r = cyrusdb_fetch(annotdb, key.s, key.len, value, NULL);
    buf_free(&key);
    return r == CYRUSDB_NOTFOUND ? ANNOTATE_NOTFOUND : from_cyrusdb(r);
}

struct walk_rock {
    size_t prefixlen;        /* uniqueid NUL entry */
    int depth;
    const char *userid;
    annotate_cb *cb;
    void *rock;
    struct buf entry, user;
    int stopped;             /* what cb returned to stop the walk */
};

static int walk_cb(void *rock, const char *key, size_t keylen,
                   const char *data, size_t datalen)
{
    struct walk_rock *wr = rock;
    const char *entry, *userid, *below;
    size_t userlen;
    int levels = 0;

    if (split_key(key, keylen, &entry, &userid, &userlen))
        return 0;
    /* The prefix matched "/comment" for "/commentary" too. */
    below = key + wr->prefixlen;
    if (*below != '\0' && *below != '/' && wr->prefixlen > 0 &&
        key[wr->prefixlen - 1] != '/')
        return 0;
    for (const char *p = below; *p; p++)
        if (*p == '/')
            levels++;
    if (wr->depth >= 0 && levels > wr->depth)
        return 0;
    if (wr->userid && (strlen(wr->userid) != userlen ||
                       memcmp(wr->userid, userid, userlen)))
        return 0;
    buf_setcstr(&wr->entry, entry);
    buf_setmap(&wr->user, userid, userlen);
    wr->stopped = wr->cb(buf_cstring(&wr->entry), buf_cstring(&wr->user),
                         data, datalen, wr->rock);
    return wr->stopped;
}

int annotate_foreach(const char *uniqueid, const char *entry, int depth,
                     const char *userid, annotate_cb *cb, void *rock)
{
    struct walk_rock wr = { 0, depth, userid, cb, rock, BUF_INITIALIZER,
                            BUF_INITIALIZER, 0 };
    struct buf prefix = BUF_INITIALIZER;
    int r;

    if (!annotdb)
        return ANNOTATE_IOERROR;
    if (!strcmp(entry, "/"))
        entry = "";
    buf_appendcstr(&prefix, uniqueid);
    buf_putc(&prefix, '\0');
    buf_appendcstr(&prefix, entry);
    wr.prefixlen = prefix.len;
    r = cyrusdb_foreach(annotdb, prefix.s, prefix.len, NULL, walk_cb, &wr,
                        NULL);
    buf_free(&prefix);
    buf_free(&wr.entry);
    buf_free(&wr.user);
    if (wr.stopped)
        return wr.stopped;
    return r ? from_cyrusdb(r) : ANNOTATE_OK;
}

static int store_once(const char *uniqueid,
                      const struct annotate_change *changes, int n,
                      int64_t *delta)
{
    struct cyrusdb_txn *tid = NULL;
    struct buf key = BUF_INITIALIZER, old = BUF_INITIALIZER;
    int r = CYRUSDB_OK;

    *delta = 0;
    for (int i = 0; i < n && !r; i++) {
        const struct annotate_change *c = &changes[i];

        make_key(&key, uniqueid, c->entry, c->userid);
        r = cyrusdb_fetch(annotdb, key.s, key.len, &old, &tid);
        if (r == CYRUSDB_OK)
            *delta -= (int64_t)old.len;
        else if (r != CYRUSDB_NOTFOUND)
            break;
        if (c->value) {
            r = cyrusdb_store(annotdb, key.s, key.len, c->value, c->len, &tid);
            *delta += (int64_t)c->len;
        }
        else if (r == CYRUSDB_OK) {
            r = cyrusdb_delete(annotdb, key.s, key.len, &tid);
        }
        else {
            r = CYRUSDB_OK;
        }
    }
    if (r && tid)
        cyrusdb_abort(annotdb, &tid);
    else if (tid)
        r = cyrusdb_commit(annotdb, &tid);
    buf_free(&key);
    buf_free(&old);
    return r;
}

int annotate_store(const char *uniqueid, const struct annotate_change *changes,
                   int n, int64_t *delta)
{
    int64_t d = 0;
    int r = CYRUSDB_AGAIN;

    if (!annotdb)
        return ANNOTATE_IOERROR;
    for (int i = 0; i < n; i++)
        if (!changes[i].entry || !changes[i].userid)
            return ANNOTATE_BADENTRY;
    for (int tries = 0; tries < ANNOTATE_RETRIES && r == CYRUSDB_AGAIN;
         tries++)
        r = store_once(uniqueid, changes, n, &d);
    if (delta)
        *delta = r ? 0 : d;
    if (!r && n)
        stamp_touch();
    return from_cyrusdb(r);
}

struct usage_rock {
    const char *userid;
    int64_t bytes;
    int count;
};

static int usage_cb(const char *entry, const char *userid, const char *value,
                    size_t len, void *rock)
{
    struct usage_rock *ur = rock;

    (void)entry;
    (void)value;
    if (!ur->userid || !strcmp(ur->userid, userid)) {
        ur->bytes += (int64_t)len;
        ur->count++;
    }
    return 0;
}

int annotate_usage(const char *uniqueid, const char *userid, int64_t *bytes,
                   int *count)
{
    struct usage_rock ur = { userid, 0, 0 };
    int r = annotate_foreach(uniqueid, "", -1, NULL, usage_cb, &ur);

    if (bytes)
        *bytes = r ? 0 : ur.bytes;
    if (count)
        *count = r ? 0 : ur.count;
    return r;
}

/* Keys of a mailbox, collected first: the walk must not race its own
 * deletions. */
struct keys_rock {
    struct buf keys;         /* each key preceded by its length */
    int n;
    int64_t bytes;
};

static int keys_cb(void *rock, const char *key, size_t keylen,
                   const char *data, size_t datalen)
{
    struct keys_rock *kr = rock;
    uint32_t len = (uint32_t)keylen;

    (void)data;
    buf_appendmap(&kr->keys, (const char *)&len, sizeof(len));
    buf_appendmap(&kr->keys, key, keylen);
    kr->n++;
    kr->bytes += (int64_t)datalen;
    return 0;
}

static int collect_keys(const char *uniqueid, struct keys_rock *kr)
{
    struct buf prefix = BUF_INITIALIZER;
    int r;

    buf_appendcstr(&prefix, uniqueid);
    buf_putc(&prefix, '\0');
    r = cyrusdb_foreach(annotdb, prefix.s, prefix.len, NULL, keys_cb, kr,
                        NULL);
    buf_free(&prefix);
    return r;
}

int annotate_delete_mailbox(const char *uniqueid, int64_t *freed)
{
    struct keys_rock kr = { BUF_INITIALIZER, 0, 0 };
    struct cyrusdb_txn *tid = NULL;
    int r;

    if (freed)
        *freed = 0;
    if (!annotdb)
        return ANNOTATE_IOERROR;
    /* An empty unique id would name the server's annotations. */
    if (!uniqueid || !*uniqueid)
        return ANNOTATE_OK;
    r = collect_keys(uniqueid, &kr);
    for (size_t off = 0; !r && off < kr.keys.len;) {
        uint32_t len;

        memcpy(&len, kr.keys.s + off, sizeof(len));
        off += sizeof(len);
        r = cyrusdb_delete(annotdb, kr.keys.s + off, len, &tid);
        if (r == CYRUSDB_NOTFOUND)
            r = CYRUSDB_OK;
        off += len;
    }
    if (r && tid)
        cyrusdb_abort(annotdb, &tid);
    else if (tid)
        r = cyrusdb_commit(annotdb, &tid);
    if (!r && freed)
        *freed = kr.bytes;
    if (!r && kr.keys.len)
        stamp_touch();
    buf_free(&kr.keys);
    return from_cyrusdb(r);
}

struct copy_rock {
    const char *to;
    struct cyrusdb_txn *tid;
    struct buf key;
};

static int copy_cb(void *rock, const char *key, size_t keylen,
                   const char *data, size_t datalen)
{
    struct copy_rock *cr = rock;
    const char *p = memchr(key, '\0', keylen);

    if (!p)
        return 0;
    buf_setcstr(&cr->key, cr->to);
    buf_appendmap(&cr->key, p, keylen - (size_t)(p - key));
    return cyrusdb_store(annotdb, cr->key.s, cr->key.len, data, datalen,
                         &cr->tid);
}

int annotate_copy_mailbox(const char *from, const char *to)
{
    struct copy_rock cr = { to, NULL, BUF_INITIALIZER };
    struct buf prefix = BUF_INITIALIZER;
    int r;

    if (!annotdb)
        return ANNOTATE_IOERROR;
    if (!from || !*from || !to || !*to || !strcmp(from, to))
        return ANNOTATE_OK;
    buf_appendcstr(&prefix, from);
    buf_putc(&prefix, '\0');
    r = cyrusdb_foreach(annotdb, prefix.s, prefix.len, NULL, copy_cb, &cr,
                        &cr.tid);
    if (r && cr.tid)
        cyrusdb_abort(annotdb, &cr.tid);
    else if (cr.tid)
        r = cyrusdb_commit(annotdb, &cr.tid);
    if (!r)
        stamp_touch();
    buf_free(&prefix);
    buf_free(&cr.key);
    return from_cyrusdb(r);
}
