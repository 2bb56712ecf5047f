/* reconstruct.c -- rebuild cyrus.index and cyrus.cache from the message
 * files; see reconstruct.h. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "imap/store/mailbox.h"
#include "imap/store/mailbox_format.h"
#include "imap/store/reconstruct.h"
#include "lib/lock.h"
#include "lib/log.h"
#include "lib/util.h"
#include "lib/xmalloc.h"

/* What survives of the old files. */
struct old_state {
    int fd;                          /* old cyrus.index, locked */
    struct index_header hdr;
    int hdr_ok;
    struct index_record *recs;       /* readable records, by uid */
    uint32_t nrecs;
    unsigned char *cache;            /* old cyrus.cache image */
    size_t cachelen;
    uint32_t cache_gen;
    int cache_ok;
};

static int cmp_uid(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static int cmp_rec(const void *a, const void *b)
{
    return cmp_uid(&((const struct index_record *)a)->uid,
                   &((const struct index_record *)b)->uid);
}

static int read_whole(int fd, unsigned char **data, size_t *len)
{
    struct stat st;
    ssize_t n;

    *data = NULL;
    *len = 0;
    if (fstat(fd, &st) < 0)
        return -1;
    *data = xmalloc((size_t)st.st_size + 1);
    n = retry_read(fd, *data, (size_t)st.st_size);
    if (n < 0)
        return -1;
    *len = (size_t)n;
    return 0;
}

/* Open and lock the old index (if any) and salvage what can be read. */
static int load_old(const char *dir, struct old_state *old,
                    struct reconstruct_result *res)
{
    char *path = strconcat(dir, "/", FNAME_INDEX, (char *)NULL);
    char *cpath = strconcat(dir, "/", FNAME_CACHE, (char *)NULL);
    unsigned char *data = NULL;
    size_t len = 0, n;
    struct stat st, st2;
    struct index_marks marks = { 0, 0 };
    int fd, r = 0;

    /* Lock, then make sure what we locked is still the current file
     * (a repack may have replaced it meanwhile). */
    for (;;) {
        old->fd = open(path, O_RDWR | O_CLOEXEC);
        if (old->fd < 0)
            break;
        if (lock_exclusive(old->fd, 1) < 0 || fstat(old->fd, &st) < 0) {
            log_error("%s: cannot lock: %s", path, strerror(errno));
            r = MAILBOX_IOERROR;
            goto done;
        }
        if (stat(path, &st2) == 0 && st2.st_ino == st.st_ino)
            break;
        close(old->fd);
    }
    if (old->fd >= 0) {
        if (read_whole(old->fd, &data, &len) < 0) {
            log_error("%s: %s", path, strerror(errno));
            r = MAILBOX_IOERROR;
            goto done;
        }
        old->hdr_ok = !index_header_decode(data, len, &old->hdr, &marks);
        /* Files above last_uid are an interrupted append's, not messages
         * to add, when the header says an append was under way (all of
         * them).  Up to a reservation (which lmtpd keeps on a mailbox it
         * delivers to), only those that share their inode: a delivery's
         * leftover is also its queued ticket, or the message stored again
         * under another UID; a file with one link is an administrator's,
         * added -- at worst a duplicate of a message never
         * acknowledged. */
        int leftovers = 0, linked_only = 0;
        uint32_t limit = 0;     /* 0: every file above last_uid */
        if (old->hdr_ok && (marks.flags & INDEX_FLAG_APPENDING))
            leftovers = 1;
        else if (old->hdr_ok && marks.reserved_uid > old->hdr.last_uid)
            leftovers = linked_only = 1, limit = marks.reserved_uid;
        if (leftovers && store_remove_uncommitted(dir, old->hdr.last_uid,
                                                  limit, linked_only) < 0) {
            r = MAILBOX_IOERROR;
            goto done;
        }
    }
    if (!old->hdr_ok)
        res->index_rebuilt = 1;

    /* Records past num_records were never published; their files, if
     * any, are picked up as new messages. */
    n = len > INDEX_HEADER_SIZE ? (len - INDEX_HEADER_SIZE) / INDEX_RECORD_SIZE
                                : 0;
    if (old->hdr_ok && old->hdr.num_records < n)
        n = old->hdr.num_records;
    old->recs = xmalloc(sizeof(*old->recs) * (n + 1));
    for (size_t i = 0; i < n; i++) {
        struct index_record *rec = &old->recs[old->nrecs];
        if (index_record_decode(data + INDEX_HEADER_SIZE +
                                i * INDEX_RECORD_SIZE, rec) || !rec->uid)
            res->unreadable++;
        else
            old->nrecs++;
    }
    qsort(old->recs, old->nrecs, sizeof(*old->recs), cmp_rec);

    fd = open(cpath, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        if (read_whole(fd, &old->cache, &old->cachelen) == 0)
            old->cache_ok = !cache_header_decode(old->cache, old->cachelen,
                                                 &old->cache_gen);
        close(fd);
    }

done:
    free(data);
    free(path);
    free(cpath);
    return r;
}

/* UIDs of the <digits>. files, sorted. */
static int list_message_files(const char *dir, uint32_t **uids, uint32_t *n)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    uint32_t alloc = 64;

    *n = 0;
    *uids = xmalloc(sizeof(**uids) * alloc);
    if (!d) {
        log_error("%s: %s", dir, strerror(errno));
        return errno == ENOENT ? MAILBOX_ENOENT : MAILBOX_IOERROR;
    }
    while ((de = readdir(d))) {
        size_t l = strlen(de->d_name);
        char digits[16];
        unsigned long u;

        if (l < 2 || l > sizeof(digits) || de->d_name[l - 1] != '.')
            continue;
        memcpy(digits, de->d_name, l - 1);
        digits[l - 1] = '\0';
        if (parse_ulong(digits, &u) < 0 || u == 0 || u > UINT32_MAX)
            continue;
        if (*n == alloc) {
            alloc *= 2;
            *uids = xrealloc(*uids, sizeof(**uids) * alloc);
        }
        (*uids)[(*n)++] = (uint32_t)u;
    }
    closedir(d);
    qsort(*uids, *n, sizeof(**uids), cmp_uid);
    return 0;
}

/* Size of the header block: up to and including the first empty line. */
static uint32_t find_header_size(const char *base, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (base[i] != '\n')
            continue;
        if (i + 1 < len && base[i + 1] == '\n')
            return (uint32_t)(i + 2);
        if (i + 2 < len && base[i + 1] == '\r' && base[i + 2] == '\n')
            return (uint32_t)(i + 3);
    }
    return len > UINT32_MAX ? UINT32_MAX : (uint32_t)len;
}

/* Read a message file: GUID, size, mtime, and the parser's results. */
static int scan_message(const char *dir, uint32_t uid,
                        const struct reconstruct_parser *parser,
                        struct index_record *rec, int64_t *mtime,
                        struct buf *cache, int *parsed)
{
    struct buf path = BUF_INITIALIZER;
    struct stat st;
    uint64_t size;
    int fd, r = 0;

    buf_printf(&path, "%s/%u.", dir, uid);
    fd = open(buf_cstring(&path), O_RDONLY | O_CLOEXEC);
    buf_free(&path);
    if (fd < 0 || fstat(fd, &st) < 0 || st.st_size > UINT32_MAX) {
        if (fd >= 0)
            close(fd);
        return MAILBOX_BADFORMAT;
    }
    *mtime = st.st_mtim.tv_sec;
    if (store_hash_fd(fd, -1, rec->guid, &size)) {
        close(fd);
        return MAILBOX_IOERROR;
    }
    rec->size = (uint32_t)size;
    *parsed = 0;
    buf_reset(cache);
    if (size > 0) {
        void *p = mmap(NULL, (size_t)size, PROT_READ, MAP_SHARED, fd, 0);
        if (p == MAP_FAILED) {
            r = MAILBOX_IOERROR;
        } else {
            if (parser && parser->parse) {
                int64_t sentdate = 0;
                uint32_t hsize = 0;
                if (parser->parse(p, (size_t)size, cache, &sentdate, &hsize,
                                  parser->rock) == 0) {
                    rec->sentdate = sentdate;
                    rec->header_size = hsize;
                    *parsed = 1;
                } else {
                    buf_reset(cache);
                }
            }
            if (!*parsed)
                rec->header_size = find_header_size(p, (size_t)size);
            munmap(p, (size_t)size);
        }
    }
    close(fd);
    return r;
}

static char *make_uniqueid(void)
{
    unsigned char b[8] = { 0 };
    char out[17];
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);

    if (fd < 0 || retry_read(fd, b, sizeof(b)) != sizeof(b)) {
        uint64_t t = (uint64_t)time(NULL) << 20 ^ (uint64_t)getpid();
        memcpy(b, &t, sizeof(b));
    }
    if (fd >= 0)
        close(fd);
    for (int i = 0; i < 8; i++)
        snprintf(out + 2 * i, 3, "%02x", b[i]);
    return xstrdup(out);
}

static int fix_store_header(const char *dir, uint32_t uidvalidity,
                            struct reconstruct_result *res)
{
    struct store_header sh;
    int r = store_header_read(dir, 1, &sh);

    if (r == MAILBOX_IOERROR)
        return r;
    if (r) {
        res->header_rebuilt = 1;
        if (store_header_read(dir, 0, &sh))
            memset(&sh, 0, sizeof(sh));
        if (!sh.uniqueid || !*sh.uniqueid) {
            free(sh.uniqueid);
            sh.uniqueid = make_uniqueid();
        }
    }
    if (uidvalidity && sh.uidvalidity != uidvalidity) {
        sh.uidvalidity = uidvalidity;
        res->header_rebuilt = 1;
    }
    r = res->header_rebuilt ? store_header_write(dir, &sh) : 0;
    store_header_fini(&sh);
    return r;
}

int mailbox_reconstruct(const char *dir,
                        const struct reconstruct_parser *parser,
                        struct reconstruct_result *resp)
{
    struct reconstruct_result res;
    struct old_state old;
    struct index_header nh;
    struct buf idx = BUF_INITIALIZER, cache = BUF_INITIALIZER;
    struct buf payload = BUF_INITIALIZER;
    char *index_new = strconcat(dir, "/", FNAME_INDEX ".NEW", (char *)NULL);
    char *cache_new = strconcat(dir, "/", FNAME_CACHE ".NEW", (char *)NULL);
    unsigned char hbuf[INDEX_HEADER_SIZE];
    uint32_t *uids = NULL, nuids = 0, fi = 0, oi = 0;
    uint64_t modseq;
    int64_t now = time(NULL);
    int ifd = -1, cfd = -1, r;

    memset(&res, 0, sizeof(res));
    memset(&old, 0, sizeof(old));
    old.fd = -1;
    if (mailbox_is_open(dir)) {
        log_error("%s: reconstruct while the mailbox is open here", dir);
        r = MAILBOX_LOCKED;
        goto done;
    }
    if ((r = load_old(dir, &old, &res)) ||
        (r = list_message_files(dir, &uids, &nuids)))
        goto done;

    memset(&nh, 0, sizeof(nh));
    if (old.hdr_ok) {
        nh = old.hdr;
    } else {
        struct store_header sh;
        if (store_header_read(dir, 0, &sh) == 0) {
            nh.uidvalidity = sh.uidvalidity;
            store_header_fini(&sh);
        }
        if (!nh.uidvalidity)
            nh.uidvalidity = (uint32_t)now;
        if (old.cache_ok)
            nh.generation = old.cache_gen;
    }
    nh.generation++;
    nh.num_records = nh.exists = nh.deleted = nh.answered = 0;
    nh.flagged = nh.unseen = 0;
    nh.quota_used = 0;
    nh.first_expunged = 0;
    /* New modseqs go above every modseq ever handed out. */
    modseq = nh.highestmodseq;
    for (uint32_t i = 0; i < old.nrecs; i++)
        if (old.recs[i].modseq > modseq)
            modseq = old.recs[i].modseq;

    cache_header_encode(nh.generation, hbuf);
    buf_appendmap(&cache, (const char *)hbuf, CACHE_HEADER_SIZE);
    memset(hbuf, 0, sizeof(hbuf));
    buf_appendmap(&idx, (const char *)hbuf, INDEX_HEADER_SIZE);

    while (fi < nuids || oi < old.nrecs) {
        uint32_t fuid = fi < nuids ? uids[fi] : UINT32_MAX;
        uint32_t ouid = oi < old.nrecs ? old.recs[oi].uid : UINT32_MAX;
        struct index_record rec, *orec = NULL;
        unsigned char rbuf[INDEX_RECORD_SIZE];
        int64_t mtime = 0;
        int parsed = 0, have_file = 0;

        if (ouid <= fuid) {
            orec = &old.recs[oi++];
            /* Duplicate UIDs in a damaged index: the first one wins. */
            while (oi < old.nrecs && old.recs[oi].uid == ouid)
                oi++;
        }
        if (fuid <= ouid) {
            fi++;
            have_file = 1;
        }
        memset(&rec, 0, sizeof(rec));
        if (orec)
            rec = *orec;
        rec.uid = orec ? orec->uid : fuid;
        rec.cache_offset = 0;
        buf_reset(&payload);

        if (have_file) {
            struct index_record scan = rec;
            r = scan_message(dir, rec.uid, parser, &scan, &mtime, &payload,
                             &parsed);
            if (r == MAILBOX_IOERROR)
                goto done;
            if (r)
                have_file = 0;      /* unreadable: treat as missing */
            else
                r = 0;
            if (have_file && orec && (scan.size != orec->size ||
                memcmp(scan.guid, orec->guid, sizeof(scan.guid)))) {
                res.changed++;
                rec.modseq = ++modseq;
                rec.last_updated = now;
            }
            if (have_file) {
                rec.size = scan.size;
                memcpy(rec.guid, scan.guid, sizeof(rec.guid));
                rec.header_size = scan.header_size;
                if (parsed)
                    rec.sentdate = scan.sentdate;
            }
            r = 0;
        }

        if (have_file && orec) {
            res.kept++;
            rec.internal_flags &= ~(uint32_t)FLAG_INTERNAL_UNLINKED;
        } else if (have_file) {
            res.added++;
            rec.internaldate = mtime;
            rec.savedate = rec.last_updated = now;
            rec.modseq = ++modseq;
        } else if (orec) {
            if (!(rec.internal_flags & FLAG_INTERNAL_EXPUNGED)) {
                res.removed++;
                rec.modseq = ++modseq;
                rec.last_updated = now;
            }
            rec.internal_flags |= FLAG_INTERNAL_EXPUNGED |
                                  FLAG_INTERNAL_UNLINKED;
            rec.size = 0;
        } else {
            continue;               /* an unreadable file and no record */
        }

        /* Without a parser, keep the old cache payload when readable. */
        if (have_file && !parsed && orec && old.cache_ok &&
            orec->cache_offset) {
            const char *p;
            size_t plen;
            if (!cache_entry_decode(old.cache, old.cachelen,
                                    orec->cache_offset, orec->uid, &p, &plen))
                buf_setmap(&payload, p, plen);
        }
        if (have_file) {
            if (cache.len + cache_entry_size(payload.len) > UINT32_MAX) {
                log_error("%s: cache would exceed 4 GB", dir);
                r = MAILBOX_IOERROR;
                goto done;
            }
            rec.cache_offset = (uint32_t)cache.len;
            cache_entry_encode(rec.uid, payload.s, payload.len, &cache);
        }
        if (rec.uid > nh.last_uid)
            nh.last_uid = rec.uid;
        if (rec.internal_flags & FLAG_INTERNAL_EXPUNGED) {
            if (!nh.first_expunged || rec.last_updated < nh.first_expunged)
                nh.first_expunged = rec.last_updated;
        } else {
            nh.exists++;
            nh.quota_used += rec.size;
            nh.deleted += !!(rec.system_flags & FLAG_DELETED);
            nh.answered += !!(rec.system_flags & FLAG_ANSWERED);
            nh.flagged += !!(rec.system_flags & FLAG_FLAGGED);
            nh.unseen += !(rec.system_flags & FLAG_SEEN);
        }
        index_record_encode(&rec, rbuf);
        buf_appendmap(&idx, (const char *)rbuf, sizeof(rbuf));
        nh.num_records++;
    }
    nh.highestmodseq = modseq;
    nh.cache_used = cache.len - CACHE_HEADER_SIZE;
    index_header_encode(&nh, NULL, hbuf);
    memcpy(idx.s, hbuf, INDEX_HEADER_SIZE);

    if ((r = fix_store_header(dir, nh.uidvalidity, &res)))
        goto done;
    ifd = open(index_new, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    cfd = open(cache_new, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (ifd < 0 || cfd < 0 || retry_write(cfd, cache.s, cache.len) < 0 ||
        retry_write(ifd, idx.s, idx.len) < 0 || fdatasync(cfd) < 0 ||
        fdatasync(ifd) < 0 || lock_exclusive(ifd, 0) < 0) {
        log_error("%s: cannot write new index files: %s", dir,
                  strerror(errno));
        r = MAILBOX_IOERROR;
        goto done;
    }
    if ((r = store_swap_files(dir, cache_new, index_new)))
        goto done;
    res.records = nh.num_records;
    log_notice("%s: reconstructed: %u records, %u kept, %u added, "
               "%u removed, %u unreadable, %u changed", dir, res.records,
               res.kept, res.added, res.removed, res.unreadable, res.changed);

done:
    if (r) {
        unlink(index_new);
        unlink(cache_new);
    }
    if (ifd >= 0)
        close(ifd);         /* after the rename: held waiters back till now */
    if (cfd >= 0)
        close(cfd);
    if (old.fd >= 0)
        close(old.fd);
    if (resp)
        *resp = res;
    free(old.recs);
    free(old.cache);
    free(uids);
    buf_free(&idx);
    buf_free(&cache);
    buf_free(&payload);
    free(index_new);
    free(cache_new);
    return r;
}
