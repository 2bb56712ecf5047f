/* append.c -- staging messages and appending them to mailboxes.
 *
 * A staged message is an ordinary file in <partition>/stage./ that
 * mailbox_append_message() hard-links into each target mailbox, so one
 * delivery to many mailboxes of a partition stores the bytes once.  The
 * MIME parse is done once per staged message and kept with it.
 *
 * The cache payload built here (layout in doc/store-format.md):
 *   the message_cache_serialize() structure, then four items, each a
 *   4-byte little-endian length and the bytes: ENVELOPE, BODYSTRUCTURE,
 *   BODY (as sent in a FETCH response) and the cached header fields.
 * The structure comes first so that message_cache_parse() can be given
 * the payload's head directly.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "imap/store/append.h"
#include "imap/store/message.h"
#include "lib/log.h"
#include "lib/util.h"
#include "lib/xmalloc.h"

#define STAGE_CHUNK 65536

const char *append_strerror(int r)
{
    switch (r) {
    case APPEND_OK: return "OK";
    case APPEND_IOERROR: return "I/O error while storing the message";
    case APPEND_TOOBIG: return "Message too large";
    case APPEND_OVERQUOTA: return "Over quota";
    case APPEND_BADMESSAGE: return "Message contains invalid data";
    case APPEND_EOF: return "Unexpected end of input";
    default: return "Unknown append error";
    }
}

/* --- the cache payload --------------------------------------------------- */

/* Header fields clients commonly fetch or search; kept in the cache so
 * that those requests need not open the message file. */
static const char *const cached_fields[] = {
    "bcc", "cc", "content-type", "date", "from", "importance",
    "in-reply-to", "message-id", "newsgroups", "followup-to", "priority",
    "references", "reply-to", "sender", "subject", "to", "x-priority",
};

int append_field_is_cached(const char *name, size_t len)
{
    if (len > 5 && !strncasecmp(name, "list-", 5)) return 1;
    for (size_t i = 0; i < sizeof(cached_fields) / sizeof(cached_fields[0]);
         i++)
        if (strlen(cached_fields[i]) == len &&
            !strncasecmp(name, cached_fields[i], len))
            return 1;
    return 0;
}

/* Append the header lines (with their continuations) of cached fields. */
static void cache_headers(const char *hdr, size_t len, struct buf *out)
{
    const char *end = hdr + len;
    int keep = 0;

    while (hdr < end) {
        const char *nl = memchr(hdr, '\n', (size_t)(end - hdr));
        const char *next = nl ? nl + 1 : end;
        if (*hdr != ' ' && *hdr != '\t') {
            const char *colon = memchr(hdr, ':', (size_t)(next - hdr));
            size_t nlen = colon ? (size_t)(colon - hdr) : 0;
            while (nlen && (hdr[nlen - 1] == ' ' || hdr[nlen - 1] == '\t'))
                nlen--;
            keep = colon && append_field_is_cached(hdr, nlen);
        }
        if (keep) buf_appendmap(out, hdr, (size_t)(next - hdr));
        hdr = next;
    }
}

static void put_le32(struct buf *out, uint32_t v)
{
    unsigned char b[4] = { (unsigned char)v, (unsigned char)(v >> 8),
                           (unsigned char)(v >> 16), (unsigned char)(v >> 24) };
    buf_appendmap(out, (const char *)b, 4);
}

static uint32_t get_le32(const char *p)
{
    const unsigned char *b = (const unsigned char *)p;
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 |
           (uint32_t)b[3] << 24;
}

/* Append one item: its length, then the bytes rendered into `tmp`. */
static void put_item(struct buf *out, const struct buf *tmp)
{
    put_le32(out, (uint32_t)tmp->len);
    buf_appendmap(out, tmp->s ? tmp->s : "", tmp->len);
}

int append_build_cache(const char *base, size_t len, struct buf *cache,
                       int64_t *sentdate, uint32_t *header_size)
{
    struct message *msg = message_parse(base, len);
    struct buf tmp = BUF_INITIALIZER;
    time_t date;

    if (!msg) return APPEND_BADMESSAGE;
    message_cache_serialize(msg, cache);

    message_write_envelope(&tmp, msg, 0);
    put_item(cache, &tmp);
    buf_reset(&tmp);
    message_write_bodystructure(&tmp, msg, 0, 1);
    put_item(cache, &tmp);
    buf_reset(&tmp);
    message_write_bodystructure(&tmp, msg, 0, 0);
    put_item(cache, &tmp);
    buf_reset(&tmp);
    cache_headers(base + msg->parts[0].header_offset,
                  msg->parts[0].header_size, &tmp);
    put_item(cache, &tmp);

    date = message_sentdate(msg);
    if (sentdate) *sentdate = date < 0 ? 0 : (int64_t)date;
    if (header_size) *header_size = msg->parts[0].header_size;
    buf_free(&tmp);
    message_free(&msg);
    return APPEND_OK;
}

size_t append_cache_structure_len(const char *payload, size_t len)
{
    uint32_t h[5];
    uint64_t need;

    if (len < sizeof(h)) return 0;
    memcpy(h, payload, sizeof(h));
    need = sizeof(h) + (uint64_t)h[2] * h[1] +
           (uint64_t)h[3] * sizeof(struct message_param) + h[4];
    return need <= len ? (size_t)need : 0;
}

int append_cache_item(const char *payload, size_t len,
                      enum append_cache_item which, const char **item,
                      size_t *itemlen)
{
    size_t off = append_cache_structure_len(payload, len);

    if (!off || (int)which < 0 || (int)which >= APPEND_CACHE_NITEMS) return -1;
    for (int i = 0;; i++) {
        if (len - off < 4) return -1;
        uint32_t n = get_le32(payload + off);
        off += 4;
        if (n > len - off) return -1;
        if (i == (int)which) {
            *item = payload + off;
            *itemlen = n;
            return 0;
        }
        off += n;
    }
}

/* --- staging ------------------------------------------------------------- */

struct stagemsg {
    char *path;
    uint64_t size;
    int parsed;              /* cache/sentdate/header_size are valid */
    struct buf cache;
    int64_t sentdate;
    uint32_t header_size;
};

/* Create a new, empty stage file; fd or -1. */
static int stage_create(const char *stagedir, struct stagemsg *stage)
{
    static unsigned counter;
    struct buf path = BUF_INITIALIZER;
    int made_dir = 0;

    for (int attempt = 0; attempt < 100; attempt++) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        buf_reset(&path);
        buf_printf(&path, "%s/%d-%u-%ld", stagedir, (int)util_getpid(),
                   ++counter, (long)ts.tv_nsec);
        int fd = open(buf_cstring(&path),
                      O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd >= 0) {
            stage->path = buf_release(&path);
            return fd;
        }
        /* The directory is made on first use, not checked every time. */
        if (errno == ENOENT && !made_dir) {
            made_dir = 1;
            if (cyrus_mkdir_p(stagedir, 0750) < 0) {
                log_error("append: cannot create %s: %s", stagedir,
                          strerror(errno));
                buf_free(&path);
                return -1;
            }
            continue;
        }
        if (errno != EEXIST) break;
    }
    log_error("append: cannot create a stage file in %s: %s", stagedir,
              strerror(errno));
    buf_free(&path);
    return -1;
}

/* Line-end normalisation that survives chunk boundaries. */
struct normaliser {
    struct buf out;
    int pending_cr;
    int has_nul;
};

static void normalise(struct normaliser *n, const char *p, size_t len)
{
    buf_ensure(&n->out, len + len / 8 + 2);
    for (size_t i = 0; i < len; i++) {
        char c = p[i];
        if (n->pending_cr) {
            n->pending_cr = 0;
            buf_appendmap(&n->out, "\r\n", 2);
            if (c == '\n') continue;   /* the CRLF we just wrote */
        }
        if (c == '\r') {
            n->pending_cr = 1;
        } else if (c == '\n') {
            buf_appendmap(&n->out, "\r\n", 2);
        } else {
            if (c == '\0') n->has_nul = 1;
            buf_putc(&n->out, c);
        }
    }
}

static int flush_out(int fd, struct normaliser *n, struct stagemsg *stage)
{
    if (n->out.len && retry_write(fd, n->out.s, n->out.len) < 0) {
        log_error("append: write %s: %s", stage->path, strerror(errno));
        return -1;
    }
    stage->size += n->out.len;
    buf_reset(&n->out);
    return 0;
}

/* Stage `len` bytes from `in` (prot) or `base` (memory). */
static int stage_bytes(const char *stagedir, struct protstream *in,
                       const char *base, uint64_t len, struct stagemsg **stagep)
{
    struct stagemsg *stage = xzmalloc(sizeof(*stage));
    struct normaliser n = { BUF_INITIALIZER, 0, 0 };
    char *chunk = in ? xmalloc(STAGE_CHUNK) : NULL;
    int fd, r = APPEND_OK, write_failed = 0;
    uint64_t left = len;

    *stagep = NULL;
    fd = stage_create(stagedir, stage);
    if (fd < 0) r = APPEND_IOERROR;

    /* Even after a failure the input is consumed, so that the protocol
     * stays in step with the client. */
    while (left > 0) {
        size_t want = left < STAGE_CHUNK ? (size_t)left : STAGE_CHUNK;
        size_t got;
        const char *p;
        if (in) {
            got = prot_read(in, chunk, want);
            if (got == 0) {
                r = APPEND_EOF;
                break;
            }
            p = chunk;
        } else {
            got = want;
            p = base + (len - left);
        }
        left -= got;
        if (fd < 0 || write_failed) continue;
        normalise(&n, p, got);
        if (n.out.len >= STAGE_CHUNK && flush_out(fd, &n, stage) < 0)
            write_failed = 1;
    }
    if (fd >= 0 && !write_failed && r == APPEND_OK) {
        if (n.pending_cr) buf_appendmap(&n.out, "\r\n", 2);
        if (flush_out(fd, &n, stage) < 0) write_failed = 1;
    }
    if (write_failed && r == APPEND_OK) r = APPEND_IOERROR;
    if (r == APPEND_OK && n.has_nul) r = APPEND_BADMESSAGE;
    if (fd >= 0) close(fd);
    free(chunk);
    buf_free(&n.out);

    if (r) {
        append_stage_free(&stage);
        return r;
    }
    *stagep = stage;
    return APPEND_OK;
}

int append_stage_prot(const char *stagedir, struct protstream *in,
                      uint64_t len, struct stagemsg **stagep)
{
    return stage_bytes(stagedir, in, NULL, len, stagep);
}

int append_stage_buf(const char *stagedir, const char *base, size_t len,
                     struct stagemsg **stagep)
{
    return stage_bytes(stagedir, NULL, base, len, stagep);
}

uint64_t append_stage_size(const struct stagemsg *stage)
{
    return stage->size;
}

const char *append_stage_path(const struct stagemsg *stage)
{
    return stage->path;
}

void append_stage_free(struct stagemsg **stagep)
{
    struct stagemsg *stage = *stagep;

    if (!stage) return;
    if (stage->path && unlink(stage->path) < 0 && errno != ENOENT)
        log_warning("append: cannot remove %s: %s", stage->path,
                    strerror(errno));
    free(stage->path);
    buf_free(&stage->cache);
    free(stage);
    *stagep = NULL;
}

/* Parse the staged file once; later appends reuse the result. */
static int stage_parse(struct stagemsg *stage)
{
    int fd, r;
    void *map;

    if (stage->parsed) return APPEND_OK;
    if (stage->size == 0) {
        r = append_build_cache("", 0, &stage->cache, &stage->sentdate,
                               &stage->header_size);
        stage->parsed = !r;
        return r;
    }
    fd = open(stage->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        log_error("append: open %s: %s", stage->path, strerror(errno));
        return APPEND_IOERROR;
    }
    map = mmap(NULL, (size_t)stage->size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (map == MAP_FAILED) {
        log_error("append: mmap %s: %s", stage->path, strerror(errno));
        return APPEND_IOERROR;
    }
    r = append_build_cache(map, (size_t)stage->size, &stage->cache,
                           &stage->sentdate, &stage->header_size);
    munmap(map, (size_t)stage->size);
    stage->parsed = !r;
    return r;
}

/* --- transactions -------------------------------------------------------- */

struct appendstate {
    struct mailbox *mb;
    char *quotaroot;
    int strict_quota;
    int64_t delta[QUOTA_NUMRESOURCES];   /* usage the appends so far add */
};

static int map_mailbox(int r)
{
    switch (r) {
    case MAILBOX_OK: return APPEND_OK;
    case MAILBOX_BADFORMAT: return APPEND_BADMESSAGE;
    default: return APPEND_IOERROR;
    }
}

int append_setup(struct mailbox *mb, const char *quotaroot, int strict_quota,
                 struct appendstate **asp)
{
    struct appendstate *as;
    int r;

    *asp = NULL;
    r = mailbox_lock_exclusive(mb);
    if (r) {
        log_error("append: cannot lock %s: %s", mailbox_dir(mb),
                  mailbox_strerror(r));
        return APPEND_IOERROR;
    }
    as = xzmalloc(sizeof(*as));
    as->mb = mb;
    as->quotaroot = xstrdupnull(quotaroot);
    as->strict_quota = strict_quota;
    *asp = as;
    return APPEND_OK;
}

/* Would one more message of `size` bytes go over quota? */
static int append_quota_check(struct appendstate *as, uint64_t size)
{
    int64_t delta[QUOTA_NUMRESOURCES];
    int r;

    if (!as->quotaroot) return APPEND_OK;
    memcpy(delta, as->delta, sizeof(delta));
    delta[QUOTA_STORAGE] += (int64_t)size;
    delta[QUOTA_MESSAGE] += 1;
    r = quota_check(as->quotaroot, delta, as->strict_quota, NULL);
    if (r == QUOTA_EXCEEDED) return APPEND_OVERQUOTA;
    return r ? APPEND_IOERROR : APPEND_OK;
}

static void append_charge(struct appendstate *as, uint64_t size)
{
    as->delta[QUOTA_STORAGE] += (int64_t)size;
    as->delta[QUOTA_MESSAGE] += 1;
}

int append_message(struct appendstate *as, struct stagemsg *stage,
                   const struct append_info *info, struct index_record *out)
{
    struct append_info ai = *info;
    int r;

    if (stage->size > UINT32_MAX) return APPEND_TOOBIG;
    if ((r = append_quota_check(as, stage->size))) return r;
    if (!ai.cache) {
        if ((r = stage_parse(stage))) return r;
        ai.cache = &stage->cache;
        ai.sentdate = stage->sentdate;
        ai.header_size = stage->header_size;
    }
    if (!ai.internaldate) ai.internaldate = time(NULL);
    r = mailbox_append_message(as->mb, stage->path, &ai, out);
    if (r) {
        log_error("append: to %s: %s", mailbox_dir(as->mb),
                  mailbox_strerror(r));
        return map_mailbox(r);
    }
    append_charge(as, stage->size);
    return APPEND_OK;
}

int append_copy(struct appendstate *as, struct mailbox *from,
                const struct index_record *rec, const struct append_info *info,
                struct index_record *out)
{
    struct append_info ai = *info;
    struct buf path = BUF_INITIALIZER;
    struct buf cache = BUF_INITIALIZER;
    int r;

    if ((r = append_quota_check(as, rec->size))) return r;
    if (!ai.cache) {
        /* no cache entry to carry over: parse the source once more */
        const char *base;
        size_t len;
        r = mailbox_map_message(from, rec->uid, &base, &len);
        if (r) return map_mailbox(r);
        r = append_build_cache(base, len, &cache, &ai.sentdate,
                               &ai.header_size);
        mailbox_unmap_message(base, len);
        if (r) {
            buf_free(&cache);
            return r;
        }
        ai.cache = &cache;
    }
    if (!ai.internaldate) {
        ai.internaldate = rec->internaldate;
        ai.internaldate_zone_set = rec->internaldate_zone != INDEX_ZONE_UNKNOWN;
        ai.internaldate_zone = rec->internaldate_zone;
    }
    /* A committed message file was fsync'd when it was stored. */
    ai.stage_durable = 1;
    mailbox_message_path(from, rec->uid, &path);
    r = mailbox_append_message(as->mb, buf_cstring(&path), &ai, out);
    buf_free(&path);
    buf_free(&cache);
    if (r) {
        if (r != MAILBOX_ENOENT)
            log_error("append: copy of uid %u into %s: %s", rec->uid,
                      mailbox_dir(as->mb), mailbox_strerror(r));
        return map_mailbox(r);
    }
    append_charge(as, out ? out->size : rec->size);
    return APPEND_OK;
}

static void append_free(struct appendstate **asp)
{
    struct appendstate *as = *asp;
    free(as->quotaroot);
    free(as);
    *asp = NULL;
}

int append_commit(struct appendstate **asp)
{
    struct appendstate *as = *asp;
    int r;

    if (!as) return APPEND_IOERROR;
    r = mailbox_commit(as->mb);
    if (r) {
        log_error("append: commit to %s: %s", mailbox_dir(as->mb),
                  mailbox_strerror(r));
        mailbox_abort(as->mb);
        mailbox_unlock(as->mb);
        append_free(asp);
        return APPEND_IOERROR;
    }
    /* The messages are durable: now they count.  A failure here is
     * drift that `quota -f` repairs, not a reason to deny the append. */
    if (as->quotaroot) {
        int qr = quota_update_used(as->quotaroot, as->delta);
        if (qr && qr != QUOTA_NOTFOUND)
            log_error("append: quota usage of %s not updated", as->quotaroot);
    }
    mailbox_unlock(as->mb);
    append_free(asp);
    return APPEND_OK;
}

void append_abort(struct appendstate **asp)
{
    struct appendstate *as = *asp;

    if (!as) return;
    mailbox_abort(as->mb);
    mailbox_unlock(as->mb);
    append_free(asp);
}
