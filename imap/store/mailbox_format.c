/* mailbox_format.c -- encoders and decoders of the store's binary files,
 * cyrus.header I/O and small file helpers; see mailbox_format.h. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <zlib.h>

#include "imap/store/mailbox_format.h"
#include "lib/log.h"
#include "lib/util.h"
#include "lib/xmalloc.h"

uint32_t store_crc32(const void *p, size_t len)
{
    uLong crc = crc32(0L, Z_NULL, 0);
    const Bytef *b = p;

    /* zlib takes uInt lengths; cache entries can exceed that in theory. */
    while (len > 0) {
        uInt n = len > (1u << 30) ? (1u << 30) : (uInt)len;
        crc = crc32(crc, b, n);
        b += n;
        len -= n;
    }
    return (uint32_t)crc;
}

void index_header_encode(const struct index_header *h,
                         const struct index_marks *marks,
                         unsigned char out[INDEX_HEADER_SIZE])
{
    memset(out, 0, INDEX_HEADER_SIZE);
    le_put32(out + 0, INDEX_MAGIC);
    le_put32(out + 4, INDEX_VERSION);
    le_put32(out + 8, h->generation);
    le_put32(out + 12, INDEX_HEADER_SIZE);
    le_put32(out + 16, INDEX_RECORD_SIZE);
    le_put32(out + 20, h->num_records);
    le_put32(out + 24, h->uidvalidity);
    le_put32(out + 28, h->last_uid);
    le_put64(out + 32, h->highestmodseq);
    le_put64(out + 40, h->deletedmodseq);
    le_put32(out + 48, h->exists);
    le_put32(out + 52, h->recent_uid);
    le_put64(out + 56, h->quota_used);
    le_put64(out + 64, (uint64_t)h->last_appenddate);
    le_put32(out + 72, h->deleted);
    le_put32(out + 76, h->answered);
    le_put32(out + 80, h->flagged);
    le_put32(out + 84, h->unseen);
    le_put64(out + 88, (uint64_t)h->first_expunged);
    le_put64(out + 96, h->cache_used);
    if (marks) {
        le_put32(out + 104, marks->flags);
        if (marks->flags & INDEX_FLAG_RESERVED)
            le_put32(out + 108, marks->reserved_uid);
    }
    le_put32(out + 124, store_crc32(out, 124));
}

int index_header_decode(const unsigned char *p, size_t len,
                        struct index_header *h, struct index_marks *marks)
{
    if (len < INDEX_HEADER_SIZE || le_get32(p) != INDEX_MAGIC ||
        le_get32(p + 4) != INDEX_VERSION ||
        le_get32(p + 12) != INDEX_HEADER_SIZE ||
        le_get32(p + 16) != INDEX_RECORD_SIZE ||
        le_get32(p + 124) != store_crc32(p, 124))
        return MAILBOX_CORRUPT;
    h->generation = le_get32(p + 8);
    h->num_records = le_get32(p + 20);
    h->uidvalidity = le_get32(p + 24);
    h->last_uid = le_get32(p + 28);
    h->highestmodseq = le_get64(p + 32);
    h->deletedmodseq = le_get64(p + 40);
    h->exists = le_get32(p + 48);
    h->recent_uid = le_get32(p + 52);
    h->quota_used = le_get64(p + 56);
    h->last_appenddate = (int64_t)le_get64(p + 64);
    h->deleted = le_get32(p + 72);
    h->answered = le_get32(p + 76);
    h->flagged = le_get32(p + 80);
    h->unseen = le_get32(p + 84);
    h->first_expunged = (int64_t)le_get64(p + 88);
    h->cache_used = le_get64(p + 96);
    if (marks) {
        marks->flags = le_get32(p + 104);
        marks->reserved_uid = (marks->flags & INDEX_FLAG_RESERVED)
                                  ? le_get32(p + 108) : 0;
    }
    return 0;
}

void index_record_encode(const struct index_record *rec,
                         unsigned char out[INDEX_RECORD_SIZE])
{
    le_put32(out + 0, rec->uid);
    /* Internal flags fit in 16 bits; the other 16 keep the zone, biased
     * so that 0 stays "not recorded" (records written before it was). */
    uint32_t zone = rec->internaldate_zone == INDEX_ZONE_UNKNOWN ? 0 :
                    (uint32_t)(rec->internaldate_zone + INDEX_ZONE_BIAS);
    le_put32(out + 4, (rec->internal_flags & 0xffffu) | (zone & 0xffffu) << 16);
    le_put64(out + 8, (uint64_t)rec->internaldate);
    le_put64(out + 16, (uint64_t)rec->sentdate);
    le_put64(out + 24, (uint64_t)rec->savedate);
    le_put64(out + 32, (uint64_t)rec->last_updated);
    le_put32(out + 40, rec->size);
    le_put32(out + 44, rec->header_size);
    le_put32(out + 48, rec->system_flags);
    for (int i = 0; i < MAILBOX_MAX_USER_FLAGS / 32; i++)
        le_put32(out + 52 + 4 * i, rec->user_flags[i]);
    le_put64(out + 68, rec->modseq);
    memcpy(out + 76, rec->guid, 20);
    le_put32(out + 96, rec->cache_offset);
    le_put32(out + 100, store_crc32(out, 100));
}

int index_record_decode(const unsigned char *p, struct index_record *rec)
{
    if (le_get32(p + 100) != store_crc32(p, 100))
        return MAILBOX_CORRUPT;
    rec->uid = le_get32(p + 0);
    rec->internal_flags = le_get32(p + 4) & 0xffffu;
    uint32_t zone = le_get32(p + 4) >> 16;
    rec->internaldate_zone = zone ? (int16_t)((int32_t)zone - INDEX_ZONE_BIAS)
                                  : INDEX_ZONE_UNKNOWN;
    rec->internaldate = (int64_t)le_get64(p + 8);
    rec->sentdate = (int64_t)le_get64(p + 16);
    rec->savedate = (int64_t)le_get64(p + 24);
    rec->last_updated = (int64_t)le_get64(p + 32);
    rec->size = le_get32(p + 40);
    rec->header_size = le_get32(p + 44);
    rec->system_flags = le_get32(p + 48);
    for (int i = 0; i < MAILBOX_MAX_USER_FLAGS / 32; i++)
        rec->user_flags[i] = le_get32(p + 52 + 4 * i);
    rec->modseq = le_get64(p + 68);
    memcpy(rec->guid, p + 76, 20);
    rec->cache_offset = le_get32(p + 96);
    return 0;
}

void cache_header_encode(uint32_t generation,
                         unsigned char out[CACHE_HEADER_SIZE])
{
    le_put32(out, CACHE_MAGIC);
    le_put32(out + 4, CACHE_VERSION);
    le_put32(out + 8, generation);
    le_put32(out + 12, store_crc32(out, 12));
}

int cache_header_decode(const unsigned char *p, size_t len,
                        uint32_t *generation)
{
    if (len < CACHE_HEADER_SIZE || le_get32(p) != CACHE_MAGIC ||
        le_get32(p + 4) != CACHE_VERSION ||
        le_get32(p + 12) != store_crc32(p, 12))
        return MAILBOX_CORRUPT;
    *generation = le_get32(p + 8);
    return 0;
}

size_t cache_entry_size(size_t len)
{
    return (CACHE_ENTRY_OVERHEAD + len + 3) & ~(size_t)3;
}

void cache_entry_encode(uint32_t uid, const char *payload, size_t len,
                        struct buf *out)
{
    size_t start = out->len, total = cache_entry_size(len);
    unsigned char *p;

    buf_ensure(out, total);
    p = (unsigned char *)out->s + start;
    memset(p, 0, total);
    le_put32(p, (uint32_t)len);
    le_put32(p + 4, uid);
    if (len)
        memcpy(p + 8, payload, len);
    le_put32(p + 8 + len, store_crc32(p, 8 + len));
    out->len += total;
}

int cache_entry_decode(const unsigned char *map, size_t maplen,
                       uint64_t offset, uint32_t uid,
                       const char **payload, size_t *len)
{
    uint64_t l;

    if (offset < CACHE_HEADER_SIZE || offset % 4 ||
        offset + 8 > maplen)
        return MAILBOX_CORRUPT;
    l = le_get32(map + offset);
    if (l > maplen - offset - CACHE_ENTRY_OVERHEAD ||
        le_get32(map + offset + 4) != uid ||
        le_get32(map + offset + 8 + l) != store_crc32(map + offset, 8 + l))
        return MAILBOX_CORRUPT;
    *payload = (const char *)map + offset + 8;
    *len = (size_t)l;
    return 0;
}

int store_hash_fd(int fd, int copy_to, uint8_t guid[20], uint64_t *size)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned char block[65536];
    unsigned int mdlen = 0;
    uint64_t total = 0;
    int r = 0;

    if (!ctx || !EVP_DigestInit_ex(ctx, EVP_sha1(), NULL))
        fatal(EX_SOFTWARE, "SHA-1 unavailable");
    for (;;) {
        ssize_t n = read(fd, block, sizeof(block));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            r = MAILBOX_IOERROR;
            break;
        }
        if (n == 0)
            break;
        EVP_DigestUpdate(ctx, block, (size_t)n);
        if (copy_to >= 0 && retry_write(copy_to, block, (size_t)n) < 0) {
            r = MAILBOX_IOERROR;
            break;
        }
        total += (uint64_t)n;
    }
    EVP_DigestFinal_ex(ctx, guid, &mdlen);
    EVP_MD_CTX_free(ctx);
    *size = total;
    return r;
}

int store_fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int r = 0;

    if (fd < 0)
        return -1;
    if (fsync(fd) < 0)
        r = -1;
    close(fd);
    return r;
}

/* The bounded case of store_remove_uncommitted: try each name. */
static int remove_uid_range(const char *dir, uint32_t last_uid,
                            uint32_t limit, int linked_only,
                            struct buf *path)
{
    int n = 0;

    for (uint32_t uid = last_uid + 1; uid > last_uid && uid <= limit; uid++) {
        struct stat st;

        buf_reset(path);
        buf_printf(path, "%s/%u.", dir, uid);
        if (linked_only &&
            (stat(buf_cstring(path), &st) < 0 || st.st_nlink < 2))
            continue;
        if (unlink(buf_cstring(path)) == 0)
            n++;
        else if (errno != ENOENT) {
            log_error("%s: %s", buf_cstring(path), strerror(errno));
            return -1;
        }
    }
    return n;
}

int store_remove_uncommitted(const char *dir, uint32_t last_uid,
                             uint32_t limit, int linked_only)
{
    struct buf path = BUF_INITIALIZER;
    struct dirent *de;
    DIR *d;
    int n = 0;

    if (limit) {
        n = remove_uid_range(dir, last_uid, limit, linked_only, &path);
        goto done;
    }
    d = opendir(dir);
    if (!d) {
        log_error("%s: %s", dir, strerror(errno));
        return -1;
    }
    while ((de = readdir(d))) {
        size_t l = strlen(de->d_name);
        char digits[16];
        unsigned long u;

        if (l < 2 || l > sizeof(digits) || de->d_name[l - 1] != '.')
            continue;
        memcpy(digits, de->d_name, l - 1);
        digits[l - 1] = '\0';
        if (parse_ulong(digits, &u) < 0 || u <= last_uid)
            continue;
        buf_reset(&path);
        buf_printf(&path, "%s/%s", dir, de->d_name);
        struct stat st;
        if (linked_only &&
            (stat(buf_cstring(&path), &st) < 0 || st.st_nlink < 2))
            continue;
        if (unlink(buf_cstring(&path)) < 0 && errno != ENOENT) {
            log_error("%s: %s", buf_cstring(&path), strerror(errno));
            n = -1;
            break;
        }
        n++;
    }
    closedir(d);
done:
    buf_free(&path);
    if (n > 0 && store_fsync_dir(dir) < 0) {
        log_error("%s: cannot fsync directory: %s", dir, strerror(errno));
        n = -1;
    }
    if (n > 0)
        log_notice("%s: removed %d message file(s) of an interrupted append",
                   dir, n);
    return n;
}

int store_swap_files(const char *dir, const char *cache_new,
                     const char *index_new)
{
    char *cache = strconcat(dir, "/", FNAME_CACHE, (char *)NULL);
    char *index = strconcat(dir, "/", FNAME_INDEX, (char *)NULL);
    int r = 0;

    /* Cache first: a crash between the renames leaves a cache one
     * generation ahead of the index and index.NEW beside it, which the
     * next lock completes (mailbox.c, finish_swap). */
    if (rename(cache_new, cache) < 0 || rename(index_new, index) < 0 ||
        store_fsync_dir(dir) < 0) {
        log_error("%s: cannot install new index files: %s", dir,
                  strerror(errno));
        r = MAILBOX_IOERROR;
    }
    free(cache);
    free(index);
    return r;
}

/* --- cyrus.header ------------------------------------------------------ */

#define HEADER_MAGIC_LINE "cyrus-store-header 1\n"

void store_header_fini(struct store_header *h)
{
    xfree(h->uniqueid);
    xfree(h->acl);
    xfree(h->quotaroot);
    strarray_fini(&h->flags);
    h->uidvalidity = 0;
}

static char *header_value(const char *line, const char *end, const char *key)
{
    size_t klen = strlen(key);

    if ((size_t)(end - line) < klen + 2 || memcmp(line, key, klen) ||
        line[klen] != ':' || line[klen + 1] != ' ')
        return NULL;
    return xstrndup(line + klen + 2, (size_t)(end - line) - klen - 2);
}

int store_header_parse(const char *base, size_t len, int strict,
                       struct store_header *h)
{
    const char *p = base, *end = base + len;
    int have_crc = 0;
    size_t mlen = strlen(HEADER_MAGIC_LINE);

    memset(h, 0, sizeof(*h));
    if (len < mlen || memcmp(base, HEADER_MAGIC_LINE, mlen)) {
        if (strict)
            return MAILBOX_CORRUPT;
    } else {
        p += mlen;
    }
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *lend = nl ? nl : end;
        char *v;

        if ((v = header_value(p, lend, "crc"))) {
            unsigned long crc = strtoul(v, NULL, 16);
            free(v);
            if (crc == store_crc32(base, (size_t)(p - base)))
                have_crc = 1;
            break;
        } else if ((v = header_value(p, lend, "uniqueid"))) {
            free(h->uniqueid);
            h->uniqueid = v;
        } else if ((v = header_value(p, lend, "acl"))) {
            free(h->acl);
            h->acl = v;
        } else if ((v = header_value(p, lend, "quotaroot"))) {
            free(h->quotaroot);
            h->quotaroot = v;
        } else if ((v = header_value(p, lend, "flags"))) {
            strarray_t *sa = strarray_split(v, " ");
            strarray_fini(&h->flags);
            h->flags = *sa;
            free(sa);
            free(v);
        } else if ((v = header_value(p, lend, "uidvalidity"))) {
            unsigned long u;
            if (parse_ulong(v, &u) == 0 && u <= UINT32_MAX)
                h->uidvalidity = (uint32_t)u;
            free(v);
        }
        p = nl ? nl + 1 : end;
    }
    if (strict && (!have_crc || !h->uniqueid ||
                   h->flags.count > MAILBOX_MAX_USER_FLAGS)) {
        store_header_fini(h);
        return MAILBOX_CORRUPT;
    }
    if (h->flags.count > MAILBOX_MAX_USER_FLAGS)
        strarray_truncate(&h->flags, MAILBOX_MAX_USER_FLAGS);
    return 0;
}

int store_header_read(const char *dir, int strict, struct store_header *h)
{
    char *path = strconcat(dir, "/", FNAME_HEADER, (char *)NULL);
    struct buf data = BUF_INITIALIZER;
    char block[4096];
    int fd, r = 0;
    ssize_t n;

    memset(h, 0, sizeof(*h));
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        r = errno == ENOENT ? MAILBOX_ENOENT : MAILBOX_IOERROR;
        if (r == MAILBOX_IOERROR)
            log_error("%s: %s", path, strerror(errno));
        free(path);
        return r;
    }
    while ((n = retry_read(fd, block, sizeof(block))) > 0)
        buf_appendmap(&data, block, (size_t)n);
    if (n < 0) {
        log_error("%s: %s", path, strerror(errno));
        r = MAILBOX_IOERROR;
    }
    close(fd);
    if (!r) {
        r = store_header_parse(data.s ? data.s : "", data.len, strict, h);
        if (r)
            log_error("%s: bad checksum or format", path);
    }
    buf_free(&data);
    free(path);
    return r;
}

int store_header_write(const char *dir, const struct store_header *h)
{
    char *path = strconcat(dir, "/", FNAME_HEADER, (char *)NULL);
    char *tmp = strconcat(path, ".NEW", (char *)NULL);
    struct buf data = BUF_INITIALIZER;
    int fd, r = 0;

    buf_appendcstr(&data, HEADER_MAGIC_LINE);
    buf_printf(&data, "uniqueid: %s\n", h->uniqueid ? h->uniqueid : "");
    buf_printf(&data, "quotaroot: %s\n", h->quotaroot ? h->quotaroot : "");
    buf_printf(&data, "acl: %s\n", h->acl ? h->acl : "");
    buf_appendcstr(&data, "flags: ");
    for (int i = 0; i < h->flags.count; i++)
        buf_printf(&data, "%s%s", i ? " " : "", h->flags.data[i]);
    buf_printf(&data, "\nuidvalidity: %u\n", h->uidvalidity);
    buf_printf(&data, "crc: %08x\n", store_crc32(data.s, data.len));

    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0 || retry_write(fd, data.s, data.len) < 0 || fsync(fd) < 0 ||
        rename(tmp, path) < 0 || store_fsync_dir(dir) < 0) {
        log_error("%s: cannot write: %s", path, strerror(errno));
        unlink(tmp);
        r = MAILBOX_IOERROR;
    }
    if (fd >= 0)
        close(fd);
    buf_free(&data);
    free(tmp);
    free(path);
    return r;
}

/* IMAP atom characters, less the ones a keyword may not start with. */
int store_valid_keyword(const char *name)
{
    if (!*name || *name == '\\')
        return 0;
    for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
        if (*p <= 0x20 || *p >= 0x7f || strchr("(){%*\"\\]", *p))
            return 0;
    }
    return 1;
}
