/* test_mailbox.c -- unit tests for the mailbox store engine
 * (imap/store/mailbox.c) and reconstruct (imap/store/reconstruct.c). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/sha.h>

#include "imap/store/mailbox.h"
#include "imap/store/mailbox_format.h"
#include "imap/store/reconstruct.h"
#include "lib/buf.h"
#include "lib/lock.h"
#include "lib/log.h"
#include "lib/test/unit.h"
#include "lib/util.h"
#include "lib/xmalloc.h"

/* --- counting fsyncs: the engine's calls land here ----------------------- */

static int count_syncs, sync_calls, index_syncs;

static void note_sync(int fd)
{
    char link[64], target[4096];
    ssize_t n;

    if (!count_syncs)
        return;
    sync_calls++;
    snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
    n = readlink(link, target, sizeof(target) - 1);
    if (n > 12) {
        target[n] = '\0';
        if (!strcmp(target + n - 12, "/cyrus.index"))
            index_syncs++;
    }
}

int fdatasync(int fd)
{
    note_sync(fd);
    return (int)syscall(SYS_fdatasync, fd);
}

int fsync(int fd)
{
    note_sync(fd);
    return (int)syscall(SYS_fsync, fd);
}

/* --- helpers ------------------------------------------------------------- */

static char *make_tmpdir(void)
{
    char tmpl[] = "/tmp/test_mailbox.XXXXXX";
    char *d = mkdtemp(tmpl);
    return d ? xstrdup(d) : NULL;
}

static void rm_rf(const char *path)
{
    char *cmd = strconcat("rm -rf '", path, "'", (char *)NULL);
    if (system(cmd) != 0)
        printf("# cannot remove %s\n", path);
    free(cmd);
}

static char *new_mailbox(const char *tmp)
{
    char *dir = strconcat(tmp, "/user/fred", (char *)NULL);
    int r = mailbox_create(dir, "0123456789abcdef", "fred\tlrswipkxtecdan\t",
                           "user.fred", 1700000000);
    CHECK_INTEQ(r, MAILBOX_OK);
    return dir;
}

/* Write a message to a stage file; returns its path. */
static char *stage(const char *tmp, const char *name, const char *text)
{
    char *path = strconcat(tmp, "/", name, (char *)NULL);
    FILE *f = fopen(path, "w");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
    return path;
}

static const char *msg_text(unsigned n, struct buf *b)
{
    buf_reset(b);
    buf_printf(b, "From: a@example.com\r\nSubject: test %u\r\n\r\n", n);
    for (unsigned i = 0; i < n % 7; i++)
        buf_appendcstr(b, "body line of some length\r\n");
    return buf_cstring(b);
}

static int append_text(struct mailbox *mb, const char *tmp, const char *text,
                       uint32_t flags, struct index_record *out)
{
    struct append_info info;
    struct buf cache = BUF_INITIALIZER;
    char *path = stage(tmp, "stage", text);
    int r;

    memset(&info, 0, sizeof(info));
    info.internaldate = 1600000000;
    info.sentdate = 1500000000;
    info.header_size = 10;
    info.system_flags = flags;
    buf_printf(&cache, "CACHE:%s", text);
    info.cache = &cache;
    r = mailbox_append_message(mb, path, &info, out);
    unlink(path);
    free(path);
    buf_free(&cache);
    return r;
}

/* Check a mailbox the way reconstruct would: every record readable,
 * ascending UIDs not above last_uid, every live record's file present
 * with matching size and SHA-1, header counters equal to a recount.
 * Returns the number of problems found. */
static int verify_mailbox(const char *dir, uint32_t *nrecords)
{
    struct mailbox *mb = NULL;
    struct index_header h;
    struct index_record rec;
    uint32_t exists = 0, unseen = 0, deleted = 0, flagged = 0, prev = 0;
    uint64_t quota = 0;
    int bad = 0, r;

    r = mailbox_open(dir, &mb);
    if (r) {
        printf("# open: %s\n", mailbox_strerror(r));
        return 1;
    }
    if ((r = mailbox_lock_exclusive(mb))) {
        printf("# lock: %s\n", mailbox_strerror(r));
        mailbox_close(&mb);
        return 1;
    }
    h = *mailbox_header(mb);
    for (uint32_t i = 0; i < h.num_records; i++) {
        const char *base;
        size_t len;
        unsigned char sha[20];

        if ((r = mailbox_read_record(mb, i, &rec))) {
            printf("# record %u: %s\n", i, mailbox_strerror(r));
            bad++;
            continue;
        }
        if (rec.uid <= prev || rec.uid > h.last_uid) {
            printf("# record %u: uid %u out of order\n", i, rec.uid);
            bad++;
        }
        prev = rec.uid;
        if (rec.modseq > h.highestmodseq) {
            printf("# record %u: modseq above highestmodseq\n", i);
            bad++;
        }
        if (rec.internal_flags & FLAG_INTERNAL_EXPUNGED)
            continue;
        exists++;
        quota += rec.size;
        unseen += !(rec.system_flags & FLAG_SEEN);
        deleted += !!(rec.system_flags & FLAG_DELETED);
        flagged += !!(rec.system_flags & FLAG_FLAGGED);
        if (mailbox_map_message(mb, rec.uid, &base, &len)) {
            printf("# uid %u: no message file\n", rec.uid);
            bad++;
            continue;
        }
        SHA1((const unsigned char *)base, len, sha);
        if (len != rec.size || memcmp(sha, rec.guid, 20)) {
            printf("# uid %u: size or GUID mismatch\n", rec.uid);
            bad++;
        }
        mailbox_unmap_message(base, len);
        if (mailbox_cache_payload(mb, &rec, &base, &len) ||
            len < 6 || memcmp(base, "CACHE:", 6)) {
            printf("# uid %u: bad cache entry\n", rec.uid);
            bad++;
        }
    }
    if (exists != h.exists || quota != h.quota_used || unseen != h.unseen ||
        deleted != h.deleted || flagged != h.flagged) {
        printf("# counters: exists %u/%u quota %llu/%llu unseen %u/%u "
               "deleted %u/%u flagged %u/%u\n", exists, h.exists,
               (unsigned long long)quota, (unsigned long long)h.quota_used,
               unseen, h.unseen, deleted, h.deleted, flagged, h.flagged);
        bad++;
    }
    if (nrecords)
        *nrecords = h.num_records;
    mailbox_unlock(mb);
    mailbox_close(&mb);
    return bad;
}

static void flip_byte(const char *path, off_t off)
{
    int fd = open(path, O_RDWR);
    unsigned char c;

    if (fd < 0 || pread(fd, &c, 1, off) != 1) {
        printf("# cannot read %s\n", path);
        unit_failures++;
    } else {
        c ^= 0x55;
        if (pwrite(fd, &c, 1, off) != 1)
            unit_failures++;
    }
    if (fd >= 0)
        close(fd);
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

/* --- tests --------------------------------------------------------------- */

static void test_create_open(void)
{
    char *tmp = make_tmpdir();
    char *dir = new_mailbox(tmp);
    struct mailbox *mb = NULL, *mb2 = NULL;
    const struct index_header *h;

    CHECK_INTEQ(mailbox_create(dir, "x", "", "", 1), MAILBOX_EXISTS);
    CHECK_INTEQ(mailbox_create("/tmp/nonexistent-mb/a", "bad id", "", "", 1),
                MAILBOX_BADFORMAT);
    CHECK_INTEQ(mailbox_open("/nonexistent/dir", &mb), MAILBOX_ENOENT);
    CHECK_INTEQ(mailbox_open(dir, &mb), MAILBOX_OK);
    CHECK_INTEQ(mailbox_lock_shared(mb), MAILBOX_OK);
    h = mailbox_header(mb);
    CHECK_INTEQ(h->uidvalidity, 1700000000);
    CHECK_INTEQ(h->num_records, 0);
    CHECK_INTEQ(h->last_uid, 0);
    CHECK_STREQ(mailbox_uniqueid(mb), "0123456789abcdef");
    CHECK_STREQ(mailbox_acl(mb), "fred\tlrswipkxtecdan\t");
    CHECK_STREQ(mailbox_quotaroot(mb), "user.fred");
    CHECK_STREQ(mailbox_dir(mb), dir);
    /* A second handle shares the open mailbox; it cannot upgrade. */
    CHECK_INTEQ(mailbox_open(dir, &mb2), MAILBOX_OK);
    CHECK_INTEQ(mailbox_lock_exclusive(mb2), MAILBOX_LOCKED);
    CHECK_INTEQ(mailbox_lock_shared(mb2), MAILBOX_OK);
    mailbox_unlock(mb2);
    mailbox_unlock(mb);
    /* Writes need the exclusive lock. */
    CHECK_INTEQ(mailbox_set_acl(mb, "anyone\tlr\t"), MAILBOX_LOCKED);
    CHECK_INTEQ(mailbox_lock_exclusive(mb), MAILBOX_OK);
    CHECK_INTEQ(mailbox_set_acl(mb, "anyone\tlr\t"), MAILBOX_OK);
    CHECK_INTEQ(mailbox_set_acl(mb, "bad\nacl"), MAILBOX_BADFORMAT);
    CHECK_INTEQ(mailbox_set_quotaroot(mb, "user.other"), MAILBOX_OK);
    mailbox_unlock(mb);
    mailbox_close(&mb);
    CHECK(mb == NULL);
    mailbox_close(&mb2);

    CHECK_INTEQ(mailbox_open(dir, &mb), MAILBOX_OK);
    CHECK_STREQ(mailbox_acl(mb), "anyone\tlr\t");
    CHECK_STREQ(mailbox_quotaroot(mb), "user.other");
    mailbox_close(&mb);

    CHECK_INTEQ(mailbox_delete_files(dir), MAILBOX_OK);
    CHECK(access(dir, F_OK) < 0);
    CHECK_INTEQ(mailbox_open(dir, &mb), MAILBOX_ENOENT);
    rm_rf(tmp);
    free(dir);
    free(tmp);
}

static void test_append_read(void)
{
    char *tmp = make_tmpdir();
    char *dir = new_mailbox(tmp);
    struct mailbox *mb = NULL;
    struct index_record rec, rec2;
    const char *text = "Subject: hi\r\n\r\nabc\r\n";
    unsigned char sha[20];
    const char *base;
    size_t len;

    CHECK_INTEQ(mailbox_open(dir, &mb), MAILBOX_OK);
    CHECK_INTEQ(append_text(mb, tmp, text, 0, &rec), MAILBOX_LOCKED);
    CHECK_INTEQ(mailbox_lock_exclusive(mb), MAILBOX_OK);
    CHECK_INTEQ(append_text(mb, tmp, text, FLAG_SEEN, &rec), MAILBOX_OK);
    CHECK_INTEQ(rec.uid, 1);
    CHECK_INTEQ(rec.size, strlen(text));
    SHA1((const unsigned char *)text, strlen(text), sha);
    CHECK(!memcmp(sha, rec.guid, 20));
    CHECK(rec.modseq > 1);
    CHECK_INTEQ(append_text(mb, tmp, "second\r\n", FLAG_FLAGGED, &rec2),
                MAILBOX_OK);
    CHECK_INTEQ(rec2.uid, 2);
    CHECK(rec2.modseq > rec.modseq);
    CHECK_INTEQ(mailbox_commit(mb), MAILBOX_OK);
    mailbox_unlock(mb);
    mailbox_close(&mb);

    CHECK_INTEQ(mailbox_open(dir, &mb), MAILBOX_OK);
    CHECK_INTEQ(mailbox_lock_shared(mb), MAILBOX_OK);
    const struct index_header *h = mailbox_header(mb);
    CHECK_INTEQ(h->num_records, 2);
    CHECK_INTEQ(h->exists, 2);
    CHECK_INTEQ(h->last_uid, 2);
    CHECK_INTEQ(h->unseen, 1);
    CHECK_INTEQ(h->flagged, 1);
    CHECK_INTEQ(h->quota_used, strlen(text) + 8);
    CHECK_INTEQ(h->highestmodseq, rec2.modseq);
    CHECK_INTEQ(mailbox_read_record(mb, 0, &rec), MAILBOX_OK);
    CHECK_INTEQ(rec.uid, 1);
    CHECK_INTEQ(rec.internaldate, 1600000000);
    CHECK_INTEQ(rec.sentdate, 1500000000);
    CHECK_INTEQ(rec.header_size, 10);
    CHECK_INTEQ(rec.system_flags, FLAG_SEEN);
    CHECK_INTEQ(mailbox_read_record(mb, 2, &rec2), MAILBOX_ENOENT);
    CHECK_INTEQ(mailbox_find_uid(mb, 2), 1);
    CHECK_INTEQ(mailbox_find_uid(mb, 3), -1);
    CHECK_INTEQ(mailbox_map_message(mb, 1, &base, &len), MAILBOX_OK);
    CHECK_INTEQ(len, strlen(text));
    CHECK(len == strlen(text) && !memcmp(base, text, len));
    mailbox_unmap_message(base, len);
    CHECK_INTEQ(mailbox_map_message(mb, 9, &base, &len), MAILBOX_ENOENT);
    /* Read instead of mapped: the same bytes; bigger than the limit
     * asks the caller to map it; a missing file is ENOENT. */
    struct buf readbuf = BUF_INITIALIZER;
    buf_setcstr(&readbuf, "old contents, replaced");
    CHECK_INTEQ(mailbox_read_message(mb, 1, strlen(text), &readbuf),
                MAILBOX_OK);
    CHECK_STREQ(buf_cstring(&readbuf), text);
    CHECK_INTEQ(mailbox_read_message(mb, 1, strlen(text) - 1, &readbuf),
                MAILBOX_BADFORMAT);
    CHECK_INTEQ(mailbox_read_message(mb, 9, 1024, &readbuf), MAILBOX_ENOENT);
    buf_free(&readbuf);
    CHECK_INTEQ(mailbox_cache_payload(mb, &rec, &base, &len), MAILBOX_OK);
    CHECK_INTEQ(len, 6 + strlen(text));
    CHECK(len >= 6 && !memcmp(base + 6, text, len - 6));
    mailbox_unlock(mb);
    mailbox_close(&mb);
    CHECK_INTEQ(verify_mailbox(dir, NULL), 0);
    rm_rf(tmp);
    free(dir);
    free(tmp);
}

/* The INTERNALDATE's zone survives the record; a record written before
 * zones were kept (0 in the zone half-word) reads back as unknown, and
 * the internal flags beside it are untouched either way. */
static void test_internaldate_zone(void)
{
    unsigned char raw[INDEX_RECORD_SIZE];
    struct index_record rec, back;
    const int16_t zones[] = { 0, 120, -300, 1439, -1439, INDEX_ZONE_UNKNOWN };

    for (size_t i = 0; i < sizeof(zones) / sizeof(zones[0]); i++) {
        memset(&rec, 0, sizeof(rec));
        rec.uid = 7;
        rec.internal_flags = FLAG_INTERNAL_EXPUNGED;
        rec.internaldate = 1174770000;
        rec.internaldate_zone = zones[i];
        index_record_encode(&rec, raw);
        CHECK_INTEQ(index_record_decode(raw, &back), 0);
        CHECK_INTEQ(back.internaldate_zone, zones[i]);
        CHECK_INTEQ(back.internal_flags, FLAG_INTERNAL_EXPUNGED);
        CHECK_INTEQ(back.internaldate, 1174770000);
    }

    /* The mailbox fills in the local zone when the caller gives none. */
    char *tmp = make_tmpdir();
    char *dir = new_mailbox(tmp);
    struct mailbox *mb = NULL;
    CHECK_INTEQ(mailbox_open(dir, &mb), MAILBOX_OK);
    CHECK_INTEQ(mailbox_lock_exclusive(mb), MAILBOX_OK);
    CHECK_INTEQ(append_text(mb, tmp, "a\r\n", 0, &rec), MAILBOX_OK);
    CHECK_INTEQ(rec.internaldate_zone, util_local_zone(1600000000));
    CHECK_INTEQ(mailbox_commit(mb), MAILBOX_OK);
    mailbox_unlock(mb);
    mailbox_close(&mb);
    rm_rf(tmp);
    free(dir);
    free(tmp);
}

static void test_abort(void)
{
    char *tmp = make_tmpdir();
    char *dir = new_mailbox(tmp);
    struct mailbox *mb = NULL;
    struct index_record rec;
    struct buf path = BUF_INITIALIZER;

    CHECK_INTEQ(mailbox_open(dir, &mb), MAILBOX_OK);
    CHECK_INTEQ(mailbox_lock_exclusive(mb), MAILBOX_OK);
    CHECK_INTEQ(append_text(mb, tmp, "one\r\n", 0, &rec), MAILBOX_OK);
    CHECK_INTEQ(mailbox_commit(mb), MAILBOX_OK);
    CHECK_INTEQ(append_text(mb, tmp, "two\r\n", 0, &rec), MAILBOX_OK);
    CHECK_INTEQ(rec.uid, 2);
    mailbox_message_path(mb, 2, &path);
    CHECK(access(buf_cstring(&path), F_OK) == 0);
    mailbox_unlock(mb);   /* without commit: abandoned */
    CHECK(access(buf_cstring(&path), F_OK) < 0);
    CHECK_INTEQ(mailbox_lock_exclusive(mb), MAILBOX_OK);
    CHECK_INTEQ(mailbox_header(mb)->num_records, 1);
    CHECK_INTEQ(mailbox_header(mb)->last_uid, 1);
    /* The next append reuses the UID and the record slot. */
    CHECK_INTEQ(append_text(mb, tmp, "three\r\n", 0, &rec), MAILBOX_OK);
    CHECK_INTEQ(rec.uid, 2);
    CHECK_INTEQ(mailbox_commit(mb), MAILBOX_OK);
    mailbox_unlock(mb);
    mailbox_close(&mb);
    CHECK_INTEQ(verify_mailbox(dir, NULL), 0);
    buf_free(&path);
    rm_rf(tmp);
    free(dir);
    free(tmp);
}

static void test_flags_modseq(void)
{
    char *tmp = make_tmpdir();
    char *dir = new_mailbox(tmp);
    struct mailbox *mb = NULL;
    struct index_record rec;
    uint64_t m1, m2;

    CHECK_INTEQ(mailbox_open(dir, &mb), MAILBOX_OK);
    CHECK_INTEQ(mailbox_lock_exclusive(mb), MAILBOX_OK);
    for (int i = 0; i < 3; i++)
        CHECK_INTEQ(append_text(mb, tmp, "m\r\n", 0, &rec), MAILBOX_OK);
    CHECK_INTEQ(mailbox_commit(mb), MAILBOX_OK);
    CHECK_INTEQ(mailbox_header(mb)->unseen, 3);

    CHECK_INTEQ(mailbox_read_record(mb, 1, &rec), MAILBOX_OK);
    m1 = mailbox_header(mb)->highestmodseq;
    rec.system_flags = FLAG_SEEN | FLAG_ANSWERED | FLAG_DELETED;
    int bit = mailbox_user_flag(mb, "$Forwarded", 1);
    CHECK_INTEQ(bit, 0);
    rec.user_flags[0] = 1u << bit;
    CHECK_INTEQ(mailbox_rewrite_record(mb, 1, &rec), MAILBOX_OK);
    CHECK_INTEQ(rec.modseq, m1 + 1);
    CHECK_INTEQ(mailbox_header(mb)->highestmodseq, m1 + 1);
    rec.system_flags = FLAG_SEEN;
    CHECK_INTEQ(mailbox_rewrite_record(mb, 1, &rec), MAILBOX_OK);
    m2 = rec.modseq;
    CHECK_INTEQ(m2, m1 + 2);
    CHECK_INTEQ(mailbox_commit(mb), MAILBOX_OK);
    mailbox_unlock(mb);
    mailbox_close(&mb);

    CHECK_INTEQ(mailbox_open(dir, &mb), MAILBOX_OK);
    CHECK_INTEQ(mailbox_lock_shared(mb), MAILBOX_OK);
    const struct index_header *h = mailbox_header(mb);
    CHECK_INTEQ(h->highestmodseq, m2);
    CHECK_INTEQ(h->unseen, 2);
    CHECK_INTEQ(h->answered, 0);
    CHECK_INTEQ(h->deleted, 0);
    CHECK_INTEQ(mailbox_read_record(mb, 1, &rec), MAILBOX_OK);
    CHECK_INTEQ(rec.modseq, m2);
    CHECK_INTEQ(rec.system_flags, FLAG_SEEN);
    CHECK_INTEQ(rec.user_flags[0], 1);
    CHECK_INTEQ(mailbox_read_record(mb, 0, &rec), MAILBOX_OK);
    CHECK(rec.modseq < m1 + 1);
    CHECK_INTEQ(mailbox_user_flag(mb, "$forwarded", 0), 0);
    mailbox_unlock(mb);
    mailbox_close(&mb);
    CHECK_INTEQ(verify_mailbox(dir, NULL), 0);
    rm_rf(tmp);
    free(dir);
    free(tmp);
}

static void test_keywords(void)
{
    char *tmp = make_tmpdir();
    char *dir = new_mailbox(tmp);
    struct mailbox *mb = NULL;
    char name[32];

    CHECK_INTEQ(mailbox_open(dir, &mb), MAILBOX_OK);
    CHECK_INTEQ(mailbox_user_flag(mb, "Junk", 0), MAILBOX_ENOENT);
    CHECK_INTEQ(mailbox_user_flag(mb, "Junk", 1), MAILBOX_LOCKED);
    CHECK_INTEQ(mailbox_lock_exclusive(mb), MAILBOX_OK);
    CHECK_INTEQ(mailbox_user_flag(mb, "bad name", 1), MAILBOX_BADFORMAT);
    CHECK_INTEQ(mailbox_user_flag(mb, "\\Seen", 1), MAILBOX_BADFORMAT);
    for (int i = 0; i < MAILBOX_MAX_USER_FLAGS; i++) {
        snprintf(name, sizeof(name), "kw%d", i);
        CHECK_INTEQ(mailbox_user_flag(mb, name, 1), i);
    }
    CHECK_INTEQ(mailbox_user_flag(mb, "one-too-many", 1),
                MAILBOX_TOOMANYFLAGS);
    CHECK_INTEQ(mailbox_user_flag(mb, "KW77", 1), 77);
    mailbox_unlock(mb);
    mailbox_close(&mb);
    CHECK_INTEQ(mailbox_open(dir, &mb), MAILBOX_OK);
    CHECK_INTEQ(mailbox_user_flags(mb)->count, MAILBOX_MAX_USER_FLAGS);
    CHECK_STREQ(strarray_nth(mailbox_user_flags(mb), 127), "kw127");
    CHECK_INTEQ(mailbox_user_flag(mb, "kw5", 0), 5);
    mailbox_close(&mb);
    rm_rf(tmp);
    free(dir);
    free(tmp);
}

static void test_expunge_repack(void)
{
    char *tmp = make_tmpdir();
    char *dir = new_mailbox(tmp);
    struct mailbox *mb = NULL;
    struct index_record rec;
    struct buf path = BUF_INITIALIZER, text = BUF_INITIALIZER;
    uint64_t quota, expunge_modseq;
    uint32_t gen;

    CHECK_INTEQ(mailbox_open(dir, &mb), MAILBOX_OK);
    CHECK_INTEQ(mailbox_lock_exclusive(mb), MAILBOX_OK);
    for (unsigned i = 1; i <= 5; i++)
        CHECK_INTEQ(append_text(mb, tmp, msg_text(i, &text), 0, &rec),
                    MAILBOX_OK);
    CHECK_INTEQ(mailbox_commit(mb), MAILBOX_OK);
    quota = mailbox_header(mb)->quota_used;
    gen = mailbox_header(mb)->generation;
    CHECK_INTEQ(mailbox_read_record(mb, 1, &rec), MAILBOX_OK);
    CHECK_INTEQ(mailbox_expunge_record(mb, 1), MAILBOX_OK);
    CHECK_INTEQ(mailbox_expunge_record(mb, 3), MAILBOX_OK);
    CHECK_INTEQ(mailbox_commit(mb), MAILBOX_OK);
    const struct index_header *h = mailbox_header(mb);
    CHECK_INTEQ(h->exists, 3);
    CHECK_INTEQ(h->num_records, 5);
    CHECK_INTEQ(h->quota_used, quota - rec.size - strlen(msg_text(4, &text)));
    CHECK(h->first_expunged > 0);
    expunge_modseq = h->highestmodseq;
    CHECK_INTEQ(mailbox_read_record(mb, 3, &rec), MAILBOX_OK);
    CHECK(rec.internal_flags & FLAG_INTERNAL_EXPUNGED);
    CHECK_INTEQ(rec.modseq, expunge_modseq);
    /* Un-expunging is refused. */
    rec.internal_flags = 0;
    CHECK_INTEQ(mailbox_rewrite_record(mb, 3, &rec), MAILBOX_BADFORMAT);
    /* A cutoff in the past keeps them. */
    CHECK_INTEQ(mailbox_repack(mb, 1000), MAILBOX_OK);
    CHECK_INTEQ(mailbox_header(mb)->num_records, 5);
    CHECK_INTEQ(mailbox_header(mb)->generation, gen + 1);
    CHECK_INTEQ(mailbox_repack(mb, 0), MAILBOX_OK);
    h = mailbox_header(mb);
    CHECK_INTEQ(h->num_records, 3);
    CHECK_INTEQ(h->exists, 3);
    CHECK_INTEQ(h->generation, gen + 2);
    CHECK_INTEQ(h->deletedmodseq, expunge_modseq);
    CHECK_INTEQ(h->first_expunged, 0);
    CHECK_INTEQ(h->last_uid, 5);
    mailbox_message_path(mb, 2, &path);
    CHECK(access(buf_cstring(&path), F_OK) < 0);
    mailbox_message_path(mb, 3, &path);
    CHECK(access(buf_cstring(&path), F_OK) == 0);
    CHECK_INTEQ(mailbox_find_uid(mb, 4), -1);
    CHECK_INTEQ(mailbox_find_uid(mb, 5), 2);
    /* Appends carry on after the repack. */
    CHECK_INTEQ(append_text(mb, tmp, msg_text(6, &text), 0, &rec), 0);
    CHECK_INTEQ(rec.uid, 6);
    CHECK_INTEQ(mailbox_commit(mb), MAILBOX_OK);
    mailbox_unlock(mb);
    mailbox_close(&mb);
    CHECK_INTEQ(verify_mailbox(dir, NULL), 0);
    buf_free(&path);
    buf_free(&text);
    rm_rf(tmp);
    free(dir);
    free(tmp);
}

/* A repack killed between renaming the cache and the index: the next
 * lock finishes the job. */
static void test_interrupted_repack(void)
{
    char *tmp = make_tmpdir();
    char *dir = new_mailbox(tmp);
    char *cmd;
    struct mailbox *mb = NULL;
    struct index_record rec;
    uint32_t gen;

    CHECK_INTEQ(mailbox_open(dir, &mb), MAILBOX_OK);
    CHECK_INTEQ(mailbox_lock_exclusive(mb), MAILBOX_OK);
    for (int i = 0; i < 3; i++)
        CHECK_INTEQ(append_text(mb, tmp, "msg\r\n", 0, &rec), MAILBOX_OK);
    CHECK_INTEQ(mailbox_expunge_record(mb, 0), MAILBOX_OK);
    CHECK_INTEQ(mailbox_commit(mb), MAILBOX_OK);
    gen = mailbox_header(mb)->generation;
    mailbox_unlock(mb);
    mailbox_close(&mb);

    cmd = strconcat("cp '", dir, "/cyrus.index' '", tmp, "/old-index'",
                    (char *)NULL);
    CHECK_INTEQ(system(cmd), 0);
    free(cmd);
    CHECK_INTEQ(mailbox_open(dir, &mb), MAILBOX_OK);
    CHECK_INTEQ(mailbox_lock_exclusive(mb), MAILBOX_OK);
    CHECK_INTEQ(mailbox_repack(mb, 0), MAILBOX_OK);
    mailbox_unlock(mb);
    mailbox_close(&mb);
    /* New cache in place, new index still beside the old one. */
    cmd = strconcat("cd '", dir, "' && mv cyrus.index cyrus.index.NEW && "
                    "cp '", tmp, "/old-index' cyrus.index", (char *)NULL);
    CHECK_INTEQ(system(cmd), 0);
    free(cmd);

    CHECK_INTEQ(mailbox_open(dir, &mb), MAILBOX_OK);
    CHECK_INTEQ(mailbox_lock_shared(mb), MAILBOX_OK);
    CHECK_INTEQ(mailbox_header(mb)->generation, gen + 1);
    CHECK_INTEQ(mailbox_header(mb)->num_records, 2);
    CHECK_INTEQ(mailbox_read_record(mb, 0, &rec), MAILBOX_OK);
    CHECK_INTEQ(rec.uid, 2);
    mailbox_unlock(mb);
    mailbox_close(&mb);
    CHECK_INTEQ(verify_mailbox(dir, NULL), 0);

    /* The same mismatch without the new index cannot be repaired. */
    cmd = strconcat("cp '", tmp, "/old-index' '", dir, "/cyrus.index'",
                    (char *)NULL);
    CHECK_INTEQ(system(cmd), 0);
    free(cmd);
    CHECK_INTEQ(mailbox_open(dir, &mb), MAILBOX_CORRUPT);
    rm_rf(tmp);
    free(dir);
    free(tmp);
}

static void test_corrupt(void)
{
    char *tmp = make_tmpdir();
    char *dir = new_mailbox(tmp);
    char *index = strconcat(dir, "/cyrus.index", (char *)NULL);
    char *cache = strconcat(dir, "/cyrus.cache", (char *)NULL);
    char *header = strconcat(dir, "/cyrus.header", (char *)NULL);
    struct mailbox *mb = NULL;
    struct index_record rec;
    const char *base;
    size_t len;

    CHECK_INTEQ(mailbox_open(dir, &mb), MAILBOX_OK);
    CHECK_INTEQ(mailbox_lock_exclusive(mb), MAILBOX_OK);
    CHECK_INTEQ(append_text(mb, tmp, "hello\r\n", 0, &rec), MAILBOX_OK);
    CHECK_INTEQ(append_text(mb, tmp, "world\r\n", 0, &rec), MAILBOX_OK);
    CHECK_INTEQ(mailbox_commit(mb), MAILBOX_OK);
    mailbox_unlock(mb);
    mailbox_close(&mb);

    /* A damaged record: the open works, reading it does not. */
    flip_byte(index, 128 + 104 + 40);
    CHECK_INTEQ(mailbox_open(dir, &mb), MAILBOX_OK);
    CHECK_INTEQ(mailbox_lock_shared(mb), MAILBOX_OK);
    CHECK_INTEQ(mailbox_read_record(mb, 0, &rec), MAILBOX_OK);
    CHECK_INTEQ(mailbox_read_record(mb, 1, &rec), MAILBOX_CORRUPT);
    /* A damaged cache entry. */
    CHECK_INTEQ(mailbox_read_record(mb, 0, &rec), MAILBOX_OK);
    flip_byte(cache, rec.cache_offset + 9);
    CHECK_INTEQ(mailbox_cache_payload(mb, &rec, &base, &len),
                MAILBOX_CORRUPT);
    rec.cache_offset = 1u << 30;
    CHECK_INTEQ(mailbox_cache_payload(mb, &rec, &base, &len),
                MAILBOX_CORRUPT);
    mailbox_unlock(mb);
    mailbox_close(&mb);

    /* The index header. */
    flip_byte(index, 28);
    CHECK_INTEQ(mailbox_open(dir, &mb), MAILBOX_CORRUPT);
    CHECK(mb == NULL);
    flip_byte(index, 28);
    CHECK_INTEQ(mailbox_open(dir, &mb), MAILBOX_OK);
    mailbox_close(&mb);
    /* The magic. */
    flip_byte(index, 0);
    CHECK_INTEQ(mailbox_open(dir, &mb), MAILBOX_CORRUPT);
    flip_byte(index, 0);
    /* A truncated index. */
    CHECK_INTEQ(truncate(index, 128 + 104 + 50), 0);
    CHECK_INTEQ(mailbox_open(dir, &mb), MAILBOX_CORRUPT);
    CHECK_INTEQ(truncate(index, 60), 0);
    CHECK_INTEQ(mailbox_open(dir, &mb), MAILBOX_CORRUPT);
    /* cyrus.header. */
    CHECK_INTEQ(mailbox_delete_files(dir), 0);
    free(dir);
    dir = new_mailbox(tmp);
    flip_byte(header, 30);
    CHECK_INTEQ(mailbox_open(dir, &mb), MAILBOX_CORRUPT);
    unlink(header);
    CHECK_INTEQ(mailbox_open(dir, &mb), MAILBOX_CORRUPT);
    /* An empty cache file. */
    CHECK_INTEQ(mailbox_delete_files(dir), 0);
    free(dir);
    dir = new_mailbox(tmp);
    CHECK_INTEQ(truncate(cache, 0), 0);
    CHECK_INTEQ(mailbox_open(dir, &mb), MAILBOX_CORRUPT);

    free(index);
    free(cache);
    free(header);
    rm_rf(tmp);
    free(dir);
    free(tmp);
}

/* Two processes appending at once: no UID lost or given twice. */
static void test_concurrent_append(void)
{
    char *tmp = make_tmpdir();
    char *dir = new_mailbox(tmp);
    enum { PER_CHILD = 60 };
    pid_t pids[2];
    uint32_t n = 0;
    int status;

    for (int c = 0; c < 2; c++) {
        pids[c] = fork();
        if (pids[c] == 0) {
            struct mailbox *mb = NULL;
            struct index_record rec;
            struct buf text = BUF_INITIALIZER;
            char name[32];
            int bad = 0;

            snprintf(name, sizeof(name), "stage%d", c);
            if (mailbox_open(dir, &mb))
                _exit(2);
            for (int i = 0; i < PER_CHILD; i++) {
                struct append_info info;
                struct buf cache = BUF_INITIALIZER;
                char *path = stage(tmp, name, msg_text(c * 1000 + i, &text));
                memset(&info, 0, sizeof(info));
                buf_setcstr(&cache, "CACHE:x");
                info.cache = &cache;
                if (mailbox_lock_exclusive(mb) ||
                    mailbox_append_message(mb, path, &info, &rec) ||
                    mailbox_commit(mb))
                    bad++;
                mailbox_unlock(mb);
                buf_free(&cache);
                unlink(path);
                free(path);
            }
            mailbox_close(&mb);
            buf_free(&text);
            _exit(bad ? 1 : 0);
        }
    }
    for (int c = 0; c < 2; c++) {
        CHECK(waitpid(pids[c], &status, 0) == pids[c]);
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    CHECK_INTEQ(verify_mailbox(dir, &n), 0);
    CHECK_INTEQ(n, 2 * PER_CHILD);

    struct mailbox *mb = NULL;
    struct index_record rec;
    CHECK_INTEQ(mailbox_open(dir, &mb), MAILBOX_OK);
    CHECK_INTEQ(mailbox_lock_shared(mb), MAILBOX_OK);
    CHECK_INTEQ(mailbox_header(mb)->last_uid, 2 * PER_CHILD);
    for (uint32_t i = 0; i < n; i++) {
        CHECK_INTEQ(mailbox_read_record(mb, i, &rec), MAILBOX_OK);
        CHECK_INTEQ(rec.uid, i + 1);
    }
    mailbox_unlock(mb);
    mailbox_close(&mb);
    rm_rf(tmp);
    free(dir);
    free(tmp);
}

static pid_t run_child(const char *dir, const char *tmp,
                       void (*fn)(const char *dir, const char *tmp))
{
    pid_t pid = fork();
    if (pid == 0) {
        fn(dir, tmp);
        _exit(0);
    }
    return pid;
}

static void child_append_and_flag(const char *dir, const char *tmp)
{
    struct mailbox *mb = NULL;
    struct index_record rec;

    if (mailbox_open(dir, &mb) || mailbox_lock_exclusive(mb))
        _exit(2);
    if (append_text(mb, tmp, "from the child\r\n", 0, &rec) ||
        mailbox_read_record(mb, 0, &rec))
        _exit(3);
    rec.system_flags |= FLAG_FLAGGED;
    if (mailbox_rewrite_record(mb, 0, &rec) || mailbox_commit(mb))
        _exit(4);
    mailbox_unlock(mb);
    mailbox_close(&mb);
}

static void child_repack(const char *dir, const char *tmp)
{
    struct mailbox *mb = NULL;

    (void)tmp;
    if (mailbox_open(dir, &mb) || mailbox_lock_exclusive(mb) ||
        mailbox_expunge_record(mb, 0) || mailbox_repack(mb, 0))
        _exit(2);
    mailbox_unlock(mb);
    mailbox_close(&mb);
}

/* Holds a shared lock while the parent checks a second handle's close
 * did not drop it. */
static void child_try_lock(const char *dir, const char *tmp)
{
    char *path = strconcat(dir, "/cyrus.index", (char *)NULL);
    int fd = open(path, O_RDWR);

    (void)tmp;
    _exit(fd >= 0 && lock_exclusive(fd, 0) < 0 && errno == EWOULDBLOCK
              ? 0 : 1);
}

static void test_reader_sees_writer(void)
{
    char *tmp = make_tmpdir();
    char *dir = new_mailbox(tmp);
    struct mailbox *mb = NULL, *mb2 = NULL;
    struct index_record rec;
    int status;
    pid_t pid;

    CHECK_INTEQ(mailbox_open(dir, &mb), MAILBOX_OK);
    CHECK_INTEQ(mailbox_lock_exclusive(mb), MAILBOX_OK);
    CHECK_INTEQ(append_text(mb, tmp, "first\r\n", 0, &rec), MAILBOX_OK);
    CHECK_INTEQ(mailbox_commit(mb), MAILBOX_OK);
    mailbox_unlock(mb);

    pid = run_child(dir, tmp, child_append_and_flag);
    CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
          WEXITSTATUS(status) == 0);
    CHECK_INTEQ(mailbox_header(mb)->num_records, 1);   /* not yet locked */
    CHECK_INTEQ(mailbox_lock_shared(mb), MAILBOX_OK);
    CHECK_INTEQ(mailbox_header(mb)->num_records, 2);
    CHECK_INTEQ(mailbox_header(mb)->flagged, 1);
    CHECK_INTEQ(mailbox_read_record(mb, 1, &rec), MAILBOX_OK);
    CHECK_INTEQ(rec.uid, 2);
    CHECK_INTEQ(mailbox_read_record(mb, 0, &rec), MAILBOX_OK);
    CHECK(rec.system_flags & FLAG_FLAGGED);
    CHECK_INTEQ(rec.modseq, mailbox_header(mb)->highestmodseq);
    mailbox_unlock(mb);

    /* Another process repacks: the new generation appears here. */
    uint32_t gen = mailbox_header(mb)->generation;
    pid = run_child(dir, tmp, child_repack);
    CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
          WEXITSTATUS(status) == 0);
    CHECK_INTEQ(mailbox_lock_shared(mb), MAILBOX_OK);
    CHECK_INTEQ(mailbox_header(mb)->generation, gen + 1);
    CHECK_INTEQ(mailbox_header(mb)->num_records, 1);
    CHECK_INTEQ(mailbox_read_record(mb, 0, &rec), MAILBOX_OK);
    CHECK_INTEQ(rec.uid, 2);
    const char *base;
    size_t len;
    CHECK_INTEQ(mailbox_cache_payload(mb, &rec, &base, &len), MAILBOX_OK);
    CHECK(len > 6 && !memcmp(base, "CACHE:from the child", 20));

    /* Closing a second handle keeps the first one's lock. */
    CHECK_INTEQ(mailbox_open(dir, &mb2), MAILBOX_OK);
    mailbox_close(&mb2);
    pid = run_child(dir, tmp, child_try_lock);
    CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
          WEXITSTATUS(status) == 0);
    mailbox_unlock(mb);
    mailbox_close(&mb);
    CHECK_INTEQ(verify_mailbox(dir, NULL), 0);
    rm_rf(tmp);
    free(dir);
    free(tmp);
}

/* A child changing the mailbox in a loop until killed. */
static void crash_worker(const char *dir, const char *tmp)
{
    struct mailbox *mb = NULL;
    struct index_record rec;
    struct buf text = BUF_INITIALIZER;
    char name[32];
    unsigned seed = (unsigned)getpid();

    snprintf(name, sizeof(name), "stage%d", (int)getpid());
    if (mailbox_open(dir, &mb))
        _exit(2);
    for (unsigned i = 0;; i++) {
        unsigned op = rand_r(&seed) % 10;
        uint32_t n;

        if (mailbox_lock_exclusive(mb))
            _exit(3);
        n = mailbox_header(mb)->num_records;
        if (op < 6 || n == 0) {
            for (unsigned k = 0; k <= op % 3; k++) {
                if (append_text(mb, tmp, msg_text(i + k, &text),
                                k ? FLAG_SEEN : 0, &rec))
                    _exit(4);
            }
        } else if (op < 9) {
            uint32_t recno = rand_r(&seed) % n;
            if (mailbox_read_record(mb, recno, &rec))
                _exit(5);
            if (!(rec.internal_flags & FLAG_INTERNAL_EXPUNGED)) {
                rec.system_flags ^= FLAG_SEEN | FLAG_FLAGGED | FLAG_DELETED;
                if (op == 8)
                    rec.internal_flags |= FLAG_INTERNAL_EXPUNGED;
                if (mailbox_rewrite_record(mb, recno, &rec))
                    _exit(6);
            }
        } else if (mailbox_repack(mb, 0)) {
            _exit(7);
        }
        if (mailbox_commit(mb))
            _exit(8);
        mailbox_unlock(mb);
    }
}

/* A child that links two message files and dies before its commit, the
 * way an imapd killed in the middle of an APPEND does. */
static void child_append_and_die(const char *dir, const char *tmp)
{
    struct mailbox *mb = NULL;
    struct index_record rec;

    if (mailbox_open(dir, &mb) || mailbox_lock_exclusive(mb))
        _exit(2);
    if (append_text(mb, tmp, "never acknowledged 1\r\n", 0, &rec) ||
        append_text(mb, tmp, "never acknowledged 2\r\n", 0, &rec))
        _exit(3);
    _exit(0);
}

static int file_exists(const char *dir, uint32_t uid)
{
    struct buf path = BUF_INITIALIZER;
    struct stat st;
    int r;

    buf_printf(&path, "%s/%u.", dir, uid);
    r = stat(buf_cstring(&path), &st) == 0;
    buf_free(&path);
    return r;
}

static void crash_during_append(const char *dir, const char *tmp)
{
    int status;
    pid_t pid = run_child(dir, tmp, child_append_and_die);

    CHECK(waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* Files of an append that died before its commit are removed by the next
 * locker and by reconstruct, never added as messages; files an
 * administrator put above last_uid (no append under way) still are. */
static void test_interrupted_append(void)
{
    char *tmp = make_tmpdir();
    char *dir = new_mailbox(tmp);
    struct mailbox *mb = NULL;
    struct index_record rec;
    struct reconstruct_result res;
    struct buf text = BUF_INITIALIZER;
    FILE *f;

    CHECK_INTEQ(mailbox_open(dir, &mb), MAILBOX_OK);
    CHECK_INTEQ(mailbox_lock_exclusive(mb), MAILBOX_OK);
    CHECK_INTEQ(append_text(mb, tmp, msg_text(1, &text), 0, &rec), 0);
    CHECK_INTEQ(mailbox_commit(mb), MAILBOX_OK);
    mailbox_unlock(mb);
    mailbox_close(&mb);

    /* Reconstruct finds the leftovers first. */
    crash_during_append(dir, tmp);
    CHECK(file_exists(dir, 2) && file_exists(dir, 3));
    memset(&res, 0, sizeof(res));
    CHECK_INTEQ(mailbox_reconstruct(dir, NULL, &res), MAILBOX_OK);
    CHECK_INTEQ(res.added, 0);
    CHECK_INTEQ(res.kept, 1);
    CHECK_INTEQ(res.records, 1);
    CHECK(!file_exists(dir, 2) && !file_exists(dir, 3));

    /* A reader finds them first: it cleans up, and the next append
     * reuses the UID with its own content. */
    crash_during_append(dir, tmp);
    CHECK(file_exists(dir, 2) && file_exists(dir, 3));
    CHECK_INTEQ(mailbox_open(dir, &mb), MAILBOX_OK);
    CHECK(!file_exists(dir, 2) && !file_exists(dir, 3));
    CHECK_INTEQ(mailbox_lock_shared(mb), MAILBOX_OK);
    CHECK_INTEQ(mailbox_header(mb)->last_uid, 1);
    CHECK_INTEQ(mailbox_header(mb)->exists, 1);
    mailbox_unlock(mb);
    CHECK_INTEQ(mailbox_lock_exclusive(mb), MAILBOX_OK);
    CHECK_INTEQ(append_text(mb, tmp, msg_text(5, &text), 0, &rec), 0);
    CHECK_INTEQ(rec.uid, 2);
    CHECK_INTEQ(mailbox_commit(mb), MAILBOX_OK);
    mailbox_unlock(mb);
    mailbox_close(&mb);
    CHECK_INTEQ(verify_mailbox(dir, NULL), 0);

    /* Nothing was appending: a file above last_uid is a message. */
    buf_reset(&text);
    buf_printf(&text, "%s/7.", dir);
    f = fopen(buf_cstring(&text), "w");
    CHECK(f != NULL);
    if (f) {
        fputs("Subject: dropped in\r\n\r\nhello\r\n", f);
        fclose(f);
    }
    memset(&res, 0, sizeof(res));
    CHECK_INTEQ(mailbox_reconstruct(dir, NULL, &res), MAILBOX_OK);
    CHECK_INTEQ(res.added, 1);
    CHECK_INTEQ(res.records, 3);
    CHECK(file_exists(dir, 7));

    buf_free(&text);
    rm_rf(tmp);
    free(dir);
    free(tmp);
}

/* The marks cyrus.index's header carries on disk. */
static struct index_marks disk_marks_of(const char *dir)
{
    struct index_marks m = { 0, 0 };
    struct index_header h;
    unsigned char buf[INDEX_HEADER_SIZE];
    char *path = strconcat(dir, "/" FNAME_INDEX, (char *)NULL);
    int fd = open(path, O_RDONLY);

    CHECK(fd >= 0);
    if (fd >= 0) {
        CHECK(read(fd, buf, sizeof(buf)) == (ssize_t)sizeof(buf));
        CHECK_INTEQ(index_header_decode(buf, sizeof(buf), &h, &m), 0);
        close(fd);
    }
    free(path);
    return m;
}

/* As lmtpd's leader dies: its messages are still queued tickets, hard
 * links of the files it put in the mailbox. */
static void child_append_tickets_and_die(const char *dir, const char *tmp)
{
    struct mailbox *mb = NULL;
    struct index_record rec;
    struct append_info info;

    if (mailbox_open(dir, &mb) || mailbox_lock_exclusive(mb))
        _exit(2);
    for (int i = 1; i <= 2; i++) {
        struct buf name = BUF_INITIALIZER;
        buf_printf(&name, "ticket%d", i);
        char *path = stage(tmp, buf_cstring(&name), "never acknowledged\r\n");
        memset(&info, 0, sizeof(info));
        info.internaldate = 1600000000;
        if (mailbox_append_message(mb, path, &info, &rec))
            _exit(3);
        free(path);
        buf_free(&name);
    }
    _exit(0);
}

static void drop_in(const char *dir, uint32_t uid)
{
    struct buf path = BUF_INITIALIZER;
    FILE *f;

    buf_printf(&path, "%s/%u.", dir, uid);
    f = fopen(buf_cstring(&path), "w");
    CHECK(f != NULL);
    if (f) {
        fputs("Subject: dropped in\r\n\r\nhello\r\n", f);
        fclose(f);
    }
    buf_free(&path);
}

/* lmtpd's deliveries: a commit that expects more appends leaves the next
 * UIDs reserved, an append within the reservation syncs no mark of its
 * own, a flag change keeps the reservation, and what an appender that
 * died inside one left is removed by the next append that ends it and by
 * reconstruct (if linked to a ticket) -- while readers leave it alone,
 * and a file with one link, or above the reservation, is still an
 * administrator's to add. */
static void test_append_reservation(void)
{
    char *tmp = make_tmpdir();
    char *dir = new_mailbox(tmp);
    struct mailbox *mb = NULL;
    struct index_record rec;
    struct index_marks m;
    struct reconstruct_result res;
    struct buf text = BUF_INITIALIZER;
    int status;

    CHECK_INTEQ(mailbox_open(dir, &mb), MAILBOX_OK);
    CHECK_INTEQ(mailbox_lock_exclusive(mb), MAILBOX_OK);
    CHECK_INTEQ(append_text(mb, tmp, msg_text(1, &text), 0, &rec), 0);
    mailbox_expect_appends(mb, 4);
    CHECK_INTEQ(mailbox_commit(mb), MAILBOX_OK);
    mailbox_unlock(mb);
    m = disk_marks_of(dir);
    CHECK_INTEQ(m.flags, INDEX_FLAG_RESERVED);
    CHECK_INTEQ(m.reserved_uid, 5);

    /* Two appends inside it: the header's sync only (the round goes out
     * as AIO where the kernel has it, else one fsync per file). */
    CHECK_INTEQ(mailbox_lock_exclusive(mb), MAILBOX_OK);
    sync_calls = index_syncs = 0;
    count_syncs = 1;
    CHECK_INTEQ(append_text(mb, tmp, msg_text(2, &text), 0, &rec), 0);
    CHECK_INTEQ(append_text(mb, tmp, msg_text(3, &text), 0, &rec), 0);
    mailbox_expect_appends(mb, 4);
    CHECK_INTEQ(mailbox_commit(mb), MAILBOX_OK);
    count_syncs = 0;
    CHECK_INTEQ(index_syncs, sync_calls <= 1 ? 1 : 2);
    mailbox_unlock(mb);
    m = disk_marks_of(dir);
    CHECK_INTEQ(m.flags, INDEX_FLAG_RESERVED);
    CHECK_INTEQ(m.reserved_uid, 7);
    mailbox_close(&mb);

    /* An appender dies inside the reservation (UIDs 4 and 5), having
     * synced no mark of its own. */
    pid_t pid = run_child(dir, tmp, child_append_and_die);
    CHECK(waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    CHECK(file_exists(dir, 4) && file_exists(dir, 5));
    CHECK_INTEQ(disk_marks_of(dir).flags, INDEX_FLAG_RESERVED);

    /* A reader takes no notice. */
    CHECK_INTEQ(mailbox_open(dir, &mb), MAILBOX_OK);
    CHECK_INTEQ(mailbox_lock_shared(mb), MAILBOX_OK);
    CHECK_INTEQ(mailbox_header(mb)->exists, 3);
    mailbox_unlock(mb);
    CHECK(file_exists(dir, 4) && file_exists(dir, 5));

    /* The next append reuses UID 4 with its own content; its commit ends
     * the reservation and removes UID 5's leftover. */
    CHECK_INTEQ(mailbox_lock_exclusive(mb), MAILBOX_OK);
    CHECK_INTEQ(append_text(mb, tmp, msg_text(4, &text), 0, &rec), 0);
    CHECK_INTEQ(rec.uid, 4);
    CHECK_INTEQ(mailbox_commit(mb), MAILBOX_OK);
    mailbox_unlock(mb);
    CHECK(file_exists(dir, 4) && !file_exists(dir, 5));
    m = disk_marks_of(dir);
    CHECK_INTEQ(m.flags, 0);
    CHECK_INTEQ(m.reserved_uid, 0);
    CHECK_INTEQ(verify_mailbox(dir, NULL), 0);

    /* A flag change leaves a reservation alone; so do an expunge and a
     * repack (cyr_expire), which writes a new index. */
    CHECK_INTEQ(mailbox_lock_exclusive(mb), MAILBOX_OK);
    CHECK_INTEQ(append_text(mb, tmp, msg_text(5, &text), 0, &rec), 0);
    mailbox_expect_appends(mb, 4);
    CHECK_INTEQ(mailbox_commit(mb), MAILBOX_OK);
    CHECK_INTEQ(mailbox_read_record(mb, 1, &rec), MAILBOX_OK);
    rec.system_flags |= FLAG_FLAGGED;
    CHECK_INTEQ(mailbox_rewrite_record(mb, 1, &rec), MAILBOX_OK);
    CHECK_INTEQ(mailbox_commit(mb), MAILBOX_OK);
    CHECK_INTEQ(disk_marks_of(dir).reserved_uid, 9);
    CHECK_INTEQ(mailbox_expunge_record(mb, 0), MAILBOX_OK);
    CHECK_INTEQ(mailbox_commit(mb), MAILBOX_OK);
    CHECK_INTEQ(mailbox_repack(mb, 0), MAILBOX_OK);
    CHECK(!file_exists(dir, 1));
    mailbox_unlock(mb);
    mailbox_close(&mb);
    m = disk_marks_of(dir);
    CHECK_INTEQ(m.flags, INDEX_FLAG_RESERVED);
    CHECK_INTEQ(m.reserved_uid, 9);

    /* Reconstruct: inside a reservation, a dead delivery's files (linked
     * to its tickets) go, and a file with one link is added, as is one
     * above the reservation. */
    pid = run_child(dir, tmp, child_append_tickets_and_die);
    CHECK(waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    CHECK(file_exists(dir, 6) && file_exists(dir, 7));
    drop_in(dir, 8);
    drop_in(dir, 12);
    memset(&res, 0, sizeof(res));
    CHECK_INTEQ(mailbox_reconstruct(dir, NULL, &res), MAILBOX_OK);
    CHECK_INTEQ(res.added, 2);
    CHECK_INTEQ(res.records, 6);
    CHECK(!file_exists(dir, 6) && !file_exists(dir, 7));
    CHECK(file_exists(dir, 8) && file_exists(dir, 12));
    CHECK_INTEQ(disk_marks_of(dir).flags, 0);
    CHECK_INTEQ(mailbox_open(dir, &mb), MAILBOX_OK);
    CHECK_INTEQ(mailbox_lock_shared(mb), MAILBOX_OK);
    CHECK_INTEQ(mailbox_header(mb)->exists, 6);
    CHECK_INTEQ(mailbox_header(mb)->last_uid, 12);
    mailbox_unlock(mb);
    mailbox_close(&mb);

    buf_free(&text);
    rm_rf(tmp);
    free(dir);
    free(tmp);
}

static void test_crash_safety(void)
{
    char *tmp = make_tmpdir();
    char *dir = new_mailbox(tmp);
    unsigned seed = 12345;
    uint32_t n = 0, prev = 0;

    if (getenv("TEST_MAILBOX_VERBOSE"))
        log_set_stderr(1);
    for (int round = 0; round < 25; round++) {
        int status;
        pid_t pid = run_child(dir, tmp, crash_worker);

        usleep(5000 + rand_r(&seed) % 80000);
        kill(pid, SIGKILL);
        CHECK(waitpid(pid, &status, 0) == pid);
        if (WIFEXITED(status))
            printf("# worker exited early with %d\n", WEXITSTATUS(status));
        CHECK(WIFSIGNALED(status));
        int bad = verify_mailbox(dir, &n);
        if (bad)
            printf("# round %d: %d problems\n", round, bad);
        CHECK_INTEQ(bad, 0);
        prev = n > prev ? n : prev;
    }
    /* The workers made progress, so kills landed mid-work. */
    printf("# %u records after the crashes\n", prev);
    CHECK(prev > 0);
    rm_rf(tmp);
    free(dir);
    free(tmp);
}

/* Many appends, one commit: the header's appending mark before the first
 * message file, one round for the message files, cache, directory and
 * records, then the header.  The round goes to the kernel as AIO fsyncs,
 * which the fsync counters here do not see; where AIO is missing it runs
 * as plain fsyncs, one per file. */
static void test_group_commit(void)
{
    char *tmp = make_tmpdir();
    char *dir = new_mailbox(tmp);
    struct mailbox *mb = NULL;
    struct index_record rec;
    struct buf text = BUF_INITIALIZER;
    enum { N = 1000 };
    double t;

    CHECK_INTEQ(mailbox_open(dir, &mb), MAILBOX_OK);
    CHECK_INTEQ(mailbox_lock_exclusive(mb), MAILBOX_OK);
    sync_calls = index_syncs = 0;
    count_syncs = 1;
    t = now_ms();
    for (unsigned i = 0; i < N; i++)
        CHECK_INTEQ(append_text(mb, tmp, msg_text(i, &text), 0, &rec), 0);
    CHECK_INTEQ(mailbox_commit(mb), MAILBOX_OK);
    count_syncs = 0;
    printf("# %d appends + commit: %.0f ms, %d fsyncs (%d of the index)\n",
           N, now_ms() - t, sync_calls, index_syncs);
    if (sync_calls <= 2) {
        /* The round went out as AIO: only mark and header are left. */
        CHECK_INTEQ(index_syncs, 2);
        CHECK_INTEQ(sync_calls, 2);
    } else {
        CHECK_INTEQ(index_syncs, 3);
        CHECK_INTEQ(sync_calls, N + 5);
    }
    mailbox_unlock(mb);
    mailbox_close(&mb);
    CHECK_INTEQ(verify_mailbox(dir, NULL), 0);
    buf_free(&text);
    rm_rf(tmp);
    free(dir);
    free(tmp);
}

static int test_parse(const char *base, size_t len, struct buf *cache,
                      int64_t *sentdate, uint32_t *header_size, void *rock)
{
    (*(int *)rock)++;
    buf_appendcstr(cache, "CACHE:");
    buf_appendmap(cache, base, len);
    *sentdate = 42;
    *header_size = 7;
    return 0;
}

static void test_reconstruct(void)
{
    char *tmp = make_tmpdir();
    char *dir = new_mailbox(tmp);
    struct mailbox *mb = NULL;
    struct index_record rec;
    struct reconstruct_result res;
    struct buf text = BUF_INITIALIZER, path = BUF_INITIALIZER;
    char *index = strconcat(dir, "/cyrus.index", (char *)NULL);
    int calls = 0;
    struct reconstruct_parser parser = { test_parse, &calls };
    uint64_t hms;
    FILE *f;

    CHECK_INTEQ(mailbox_open(dir, &mb), MAILBOX_OK);
    CHECK_INTEQ(mailbox_lock_exclusive(mb), MAILBOX_OK);
    for (unsigned i = 1; i <= 6; i++)
        CHECK_INTEQ(append_text(mb, tmp, msg_text(i, &text), 0, &rec), 0);
    CHECK_INTEQ(mailbox_read_record(mb, 0, &rec), MAILBOX_OK);
    rec.system_flags = FLAG_SEEN | FLAG_FLAGGED;
    CHECK_INTEQ(mailbox_rewrite_record(mb, 0, &rec), MAILBOX_OK);
    CHECK_INTEQ(mailbox_expunge_record(mb, 5), MAILBOX_OK);
    CHECK_INTEQ(mailbox_commit(mb), MAILBOX_OK);
    hms = mailbox_header(mb)->highestmodseq;
    /* Open here: reconstruct must refuse. */
    CHECK_INTEQ(mailbox_reconstruct(dir, &parser, NULL), MAILBOX_LOCKED);
    mailbox_message_path(mb, 3, &path);
    mailbox_unlock(mb);
    mailbox_close(&mb);

    unlink(buf_cstring(&path));                 /* uid 3's file lost */
    flip_byte(index, 128 + 104 * 1 + 20);       /* uid 2's record damaged */
    buf_reset(&path);
    buf_printf(&path, "%s/9.", dir);            /* a file with no record */
    f = fopen(buf_cstring(&path), "w");
    if (f) {
        fputs("Subject: stray\r\n\r\nbody\r\n", f);
        fclose(f);
    }

    CHECK_INTEQ(mailbox_reconstruct(dir, &parser, &res), MAILBOX_OK);
    CHECK_INTEQ(res.unreadable, 1);
    CHECK_INTEQ(res.removed, 1);      /* uid 3 */
    CHECK_INTEQ(res.added, 2);        /* uid 2 (record lost), uid 9 */
    CHECK_INTEQ(res.kept, 4);         /* 1, 4, 5, 6 (expunged, file kept) */
    CHECK_INTEQ(res.records, 7);
    CHECK_INTEQ(res.header_rebuilt, 0);
    CHECK_INTEQ(res.index_rebuilt, 0);
    CHECK_INTEQ(calls, 6);

    CHECK_INTEQ(mailbox_open(dir, &mb), MAILBOX_OK);
    CHECK_INTEQ(mailbox_lock_shared(mb), MAILBOX_OK);
    const struct index_header *h = mailbox_header(mb);
    CHECK_INTEQ(h->num_records, 7);
    CHECK_INTEQ(h->exists, 5);        /* 1, 2, 4, 5, 9 */
    CHECK_INTEQ(h->last_uid, 9);
    CHECK_INTEQ(h->uidvalidity, 1700000000);
    CHECK(h->highestmodseq > hms);
    CHECK_INTEQ(mailbox_read_record(mb, 0, &rec), MAILBOX_OK);
    CHECK_INTEQ(rec.uid, 1);
    CHECK_INTEQ(rec.system_flags, FLAG_SEEN | FLAG_FLAGGED);
    CHECK_INTEQ(rec.sentdate, 42);
    CHECK_INTEQ(mailbox_read_record(mb, 2, &rec), MAILBOX_OK);
    CHECK_INTEQ(rec.uid, 3);
    CHECK(rec.internal_flags & FLAG_INTERNAL_EXPUNGED);
    CHECK(rec.internal_flags & FLAG_INTERNAL_UNLINKED);
    CHECK(rec.modseq > hms);
    CHECK_INTEQ(mailbox_read_record(mb, 5, &rec), MAILBOX_OK);
    CHECK_INTEQ(rec.uid, 6);
    CHECK(rec.internal_flags & FLAG_INTERNAL_EXPUNGED);
    mailbox_unlock(mb);
    mailbox_close(&mb);
    CHECK_INTEQ(verify_mailbox(dir, NULL), 0);

    /* No index at all: everything comes back from the files. */
    unlink(index);
    CHECK_INTEQ(mailbox_reconstruct(dir, NULL, &res), MAILBOX_OK);
    CHECK_INTEQ(res.index_rebuilt, 1);
    CHECK_INTEQ(res.added, 6);
    CHECK_INTEQ(res.records, 6);
    CHECK_INTEQ(mailbox_open(dir, &mb), MAILBOX_OK);
    CHECK_INTEQ(mailbox_lock_shared(mb), MAILBOX_OK);
    CHECK_INTEQ(mailbox_header(mb)->exists, 6);
    CHECK_INTEQ(mailbox_header(mb)->uidvalidity, 1700000000);
    CHECK_INTEQ(mailbox_read_record(mb, 0, &rec), MAILBOX_OK);
    CHECK_INTEQ(rec.header_size, strlen("From: a@example.com\r\n"
                                        "Subject: test 1\r\n\r\n"));
    mailbox_unlock(mb);
    mailbox_close(&mb);
    buf_free(&text);
    buf_free(&path);
    free(index);
    rm_rf(tmp);
    free(dir);
    free(tmp);
}

/* 20,000 messages: reading every record must be cheap. */
static void test_large_mailbox(void)
{
    char *tmp = make_tmpdir();
    char *dir = new_mailbox(tmp);
    struct mailbox *mb = NULL;
    struct index_record rec;
    struct buf path = BUF_INITIALIZER, text = BUF_INITIALIZER;
    enum { N = 20000 };
    double t;
    uint64_t sum = 0;

    /* Files written directly and indexed by reconstruct: 20,000 fsyncs
     * of message files would only measure the disk. */
    for (unsigned i = 1; i <= N; i++) {
        FILE *f;
        buf_reset(&path);
        buf_printf(&path, "%s/%u.", dir, i);
        f = fopen(buf_cstring(&path), "w");
        if (!f)
            break;
        fputs(msg_text(i, &text), f);
        fclose(f);
    }
    CHECK_INTEQ(mailbox_reconstruct(dir, NULL, NULL), MAILBOX_OK);
    CHECK_INTEQ(mailbox_open(dir, &mb), MAILBOX_OK);
    t = now_ms();
    CHECK_INTEQ(mailbox_lock_shared(mb), MAILBOX_OK);
    CHECK_INTEQ(mailbox_header(mb)->num_records, N);
    for (uint32_t i = 0; i < N; i++) {
        if (mailbox_read_record(mb, i, &rec)) {
            CHECK(0);
            break;
        }
        sum += rec.uid;
    }
    CHECK_INTEQ(sum, (uint64_t)N * (N + 1) / 2);
    for (uint32_t u = 1; u <= N; u += 97)
        CHECK_INTEQ(mailbox_find_uid(mb, u), u - 1);
    mailbox_unlock(mb);
    t = now_ms() - t;
    printf("# lock + read %d records: %.2f ms\n", N, t);
    /* Generous for sanitizer builds; about 2 ms without them. */
    CHECK(t < 200);
    mailbox_close(&mb);
    buf_free(&path);
    buf_free(&text);
    rm_rf(tmp);
    free(dir);
    free(tmp);
}

UNIT_TESTS(UNIT_T(test_create_open), UNIT_T(test_append_read),
           UNIT_T(test_internaldate_zone),
           UNIT_T(test_abort), UNIT_T(test_flags_modseq),
           UNIT_T(test_keywords), UNIT_T(test_expunge_repack),
           UNIT_T(test_interrupted_repack),
           UNIT_T(test_corrupt), UNIT_T(test_concurrent_append),
           UNIT_T(test_reader_sees_writer), UNIT_T(test_crash_safety),
           UNIT_T(test_interrupted_append),
           UNIT_T(test_append_reservation),
           UNIT_T(test_group_commit), UNIT_T(test_reconstruct),
           UNIT_T(test_large_mailbox))
