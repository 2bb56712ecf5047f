/* seen.c -- per-user seen databases.
 *
 * Record value (text): "<lastchange> <lastuid> <seen-uids>", the UIDs in
 * sequence-set form ("1:5,9"; empty when none), keyed by the mailbox's
 * unique id so that a rename keeps the state and a re-created mailbox of
 * the same name starts fresh.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "imap/store/seen.h"
#include "imap/store/subs.h"
#include "lib/cyrusdb.h"
#include "lib/log.h"
#include "lib/util.h"
#include "lib/xmalloc.h"

struct seen {
    struct cyrusdb *db;
    char *path;
};

static int seen_mkparent(const char *path)
{
    struct buf dir = BUF_INITIALIZER;
    int r;

    buf_setmap(&dir, path, (size_t)(strrchr(path, '/') - path));
    r = cyrus_mkdir_p(buf_cstring(&dir), 0750);
    if (r < 0) log_error("seen: mkdir %s: %s", dir.s, strerror(errno));
    buf_free(&dir);
    return r;
}

int seen_open(const char *configdir, const char *userid, struct seen **seenp)
{
    struct buf path = BUF_INITIALIZER;
    struct seen *seen;
    int r;

    *seenp = NULL;
    if (!userid || !*userid) return SEEN_IOERROR;
    subs_user_path(configdir, userid, "seen", &path);
    if (seen_mkparent(buf_cstring(&path)) < 0) {
        buf_free(&path);
        return SEEN_IOERROR;
    }
    seen = xzmalloc(sizeof(*seen));
    seen->path = buf_release(&path);
    r = cyrusdb_open(seen->path, CYRUSDB_CREATE, &seen->db);
    if (r) {
        log_error("seen: open %s: %s", seen->path, cyrusdb_strerror(r));
        free(seen->path);
        free(seen);
        return SEEN_IOERROR;
    }
    *seenp = seen;
    return SEEN_OK;
}

void seen_close(struct seen **seenp)
{
    struct seen *seen = *seenp;

    if (!seen) return;
    cyrusdb_close(&seen->db);
    free(seen->path);
    free(seen);
    *seenp = NULL;
}

void seendata_fini(struct seendata *sd)
{
    seqset_fini(&sd->uids);
    sd->lastchange = 0;
    sd->lastuid = 0;
}

static int seen_parse(const char *val, size_t len, struct seendata *sd)
{
    char *copy = xstrndup(val, len);
    char *sp1 = strchr(copy, ' ');
    char *sp2 = sp1 ? strchr(sp1 + 1, ' ') : NULL;
    long long lastchange;
    unsigned long lastuid;
    int r = -1;

    if (!sp2) goto done;
    *sp1 = *sp2 = '\0';
    if (parse_longlong(copy, &lastchange) < 0) goto done;
    if (parse_ulong(sp1 + 1, &lastuid) < 0 || lastuid > UINT32_MAX) goto done;
    if (sp2[1] && seqset_parse(&sd->uids, sp2 + 1, 0) < 0) goto done;
    sd->lastchange = lastchange;
    sd->lastuid = (uint32_t)lastuid;
    r = 0;

done:
    free(copy);
    return r;
}

int seen_read(struct seen *seen, const char *uniqueid, struct seendata *sd)
{
    struct buf val = BUF_INITIALIZER;
    int r;

    sd->lastchange = 0;
    sd->lastuid = 0;
    sd->uids.count = 0;
    if (!uniqueid || !*uniqueid) return SEEN_IOERROR;
    r = cyrusdb_fetch(seen->db, uniqueid, strlen(uniqueid), &val, NULL);
    if (r == CYRUSDB_NOTFOUND) {
        buf_free(&val);
        return SEEN_OK;
    }
    if (r) {
        log_error("seen: read %s in %s: %s", uniqueid, seen->path,
                  cyrusdb_strerror(r));
        buf_free(&val);
        return SEEN_IOERROR;
    }
    if (seen_parse(val.s, val.len, sd) < 0) {
        /* unreadable state is lost state, not a reason to refuse SELECT */
        log_error("seen: corrupt record %s in %s, treated as empty", uniqueid,
                  seen->path);
        sd->lastchange = 0;
        sd->lastuid = 0;
        sd->uids.count = 0;
    }
    buf_free(&val);
    return SEEN_OK;
}

int seen_write(struct seen *seen, const char *uniqueid,
               const struct seendata *sd)
{
    struct buf val = BUF_INITIALIZER;
    int r;

    if (!uniqueid || !*uniqueid) return SEEN_IOERROR;
    buf_printf(&val, "%lld %u ",
               (long long)(sd->lastchange ? sd->lastchange : time(NULL)),
               sd->lastuid);
    seqset_format(&sd->uids, &val);
    r = cyrusdb_store(seen->db, uniqueid, strlen(uniqueid), val.s, val.len,
                      NULL);
    buf_free(&val);
    if (r) {
        log_error("seen: write %s in %s: %s", uniqueid, seen->path,
                  cyrusdb_strerror(r));
        return SEEN_IOERROR;
    }
    return SEEN_OK;
}

int seen_delete_mailbox(struct seen *seen, const char *uniqueid)
{
    int r;

    if (!uniqueid || !*uniqueid) return SEEN_OK;
    r = cyrusdb_delete(seen->db, uniqueid, strlen(uniqueid), NULL);
    if (r && r != CYRUSDB_NOTFOUND) {
        log_error("seen: delete %s in %s: %s", uniqueid, seen->path,
                  cyrusdb_strerror(r));
        return SEEN_IOERROR;
    }
    return SEEN_OK;
}

static int delete_cb(void *rock, const char *key, size_t keylen,
                     const char *data, size_t datalen)
{
    struct seen *seen = rock;
    (void)data;
    (void)datalen;
    int r = cyrusdb_delete(seen->db, key, keylen, NULL);
    return r == CYRUSDB_NOTFOUND ? 0 : r;
}

int seen_delete_user(const char *configdir, const char *userid)
{
    struct buf path = BUF_INITIALIZER;
    struct seen *seen = NULL;
    int r = SEEN_OK;

    if (!userid || !*userid) return SEEN_IOERROR;
    subs_user_path(configdir, userid, "seen", &path);
    if (access(buf_cstring(&path), F_OK) < 0) {
        buf_free(&path);
        return SEEN_OK;   /* the user never had shared seen state */
    }
    /* Empty it through the database first, so that a process still
     * holding it open sees no stale records, then drop the file. */
    if (seen_open(configdir, userid, &seen) == SEEN_OK) {
        if (cyrusdb_foreach(seen->db, "", 0, NULL, delete_cb, seen, NULL))
            r = SEEN_IOERROR;
        seen_close(&seen);
    }
    if (!r && unlink(path.s) < 0 && errno != ENOENT) {
        log_error("seen: unlink %s: %s", path.s, strerror(errno));
        r = SEEN_IOERROR;
    }
    buf_free(&path);
    return r;
}
