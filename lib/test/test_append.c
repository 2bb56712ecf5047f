/* test_append.c -- unit tests for imap/store/append: staging, the cache
 * payload, quota checks and charges, COPY and single-instance links. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "imap/store/append.h"
#include "imap/store/mailbox.h"
#include "imap/store/message.h"
#include "imap/store/quota.h"
#include "lib/buf.h"
#include "lib/cyrusdb.h"
#include "lib/log.h"
#include "lib/prot.h"
#include "lib/test/unit.h"
#include "lib/xmalloc.h"

static char tmpdir[64];
static char stagedir[96];

static const char msg1[] =
    "From: Fred Foobar <foobar@Blurdybloop.example>\r\n"
    "Subject: afternoon meeting\r\n"
    "To: mooch@owatagu.siam.edu.example\r\n"
    "Date: Mon, 7 Feb 1994 21:52:25 -0800\r\n"
    "Message-Id: <B27397-0100000@Blurdybloop.example>\r\n"
    "X-Unrelated: not cached\r\n"
    "List-Id: meetings\r\n"
    "  <meetings.example>\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: TEXT/PLAIN; CHARSET=US-ASCII\r\n"
    "\r\n"
    "Hello Joe, do you think we can meet at 3:30 tomorrow?\r\n";

static void setup(void)
{
    log_set_stderr(1);
    strcpy(tmpdir, "/tmp/test_append.XXXXXX");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        exit(1);
    }
    snprintf(stagedir, sizeof(stagedir), "%s/spool/stage.", tmpdir);
    CHECK_INTEQ(cyrusdb_init(tmpdir, 0), CYRUSDB_OK);
    CHECK_INTEQ(quota_open(tmpdir), QUOTA_OK);
}

static void teardown(void)
{
    quota_close();
    cyrusdb_done();
    char *cmd = strconcat("rm -rf '", tmpdir, "'", (char *)NULL);
    if (system(cmd) != 0) printf("# cannot remove %s\n", tmpdir);
    free(cmd);
}

static struct mailbox *new_mailbox(const char *name, const char *root)
{
    struct mailbox *mb = NULL;
    char *dir = strconcat(tmpdir, "/spool/", name, (char *)NULL);
    CHECK_INTEQ(mailbox_create(dir, "0123456789abcdef", "fred\tlrswipkxtecdan\t",
                               root, 1700000000),
                MAILBOX_OK);
    CHECK_INTEQ(mailbox_open(dir, &mb), MAILBOX_OK);
    free(dir);
    return mb;
}

/* Number of files in the stage directory (0 if it does not exist). */
static int stage_files(void)
{
    char *cmd = strconcat("ls -A '", stagedir, "' 2>/dev/null | wc -l",
                          (char *)NULL);
    FILE *p = popen(cmd, "r");
    int n = -1;
    if (p) {
        if (fscanf(p, "%d", &n) != 1) n = -1;
        pclose(p);
    }
    free(cmd);
    return n;
}

static void read_file(const char *path, struct buf *out)
{
    char chunk[4096];
    ssize_t n;
    int fd = open(path, O_RDONLY);

    buf_reset(out);
    if (fd < 0) return;
    while ((n = read(fd, chunk, sizeof(chunk))) > 0)
        buf_appendmap(out, chunk, (size_t)n);
    close(fd);
}

/* --- staging ------------------------------------------------------------- */

static void test_stage_crlf(void)
{
    struct stagemsg *st = NULL;
    struct buf data = BUF_INITIALIZER;
    static const char in[] = "A: b\nC: d\r\n\nline\rlast\r";

    setup();
    CHECK_INTEQ(append_stage_buf(stagedir, in, strlen(in), &st), APPEND_OK);
    CHECK(st != NULL);
    if (!st) goto out;
    read_file(append_stage_path(st), &data);
    CHECK_STREQ(buf_cstring(&data), "A: b\r\nC: d\r\n\r\nline\r\nlast\r\n");
    CHECK_INTEQ(append_stage_size(st), data.len);
    CHECK_INTEQ(stage_files(), 1);
    append_stage_free(&st);
    CHECK(st == NULL);
    CHECK_INTEQ(stage_files(), 0);
out:
    buf_free(&data);
    teardown();
}

/* A protstream reading `len` bytes of `s` from a temporary file. */
static struct protstream *stream_of(const char *s, size_t len, int *fdp)
{
    char path[128];
    snprintf(path, sizeof(path), "%s/input", tmpdir);
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    if (fd < 0 || write(fd, s, len) != (ssize_t)len) return NULL;
    lseek(fd, 0, SEEK_SET);
    unlink(path);
    *fdp = fd;
    return prot_new(fd, -1);
}

static void test_stage_prot(void)
{
    struct stagemsg *st = NULL;
    struct buf data = BUF_INITIALIZER;
    struct buf big = BUF_INITIALIZER;
    int fd;

    setup();
    /* a message bigger than one chunk, LF line ends, CR at a boundary */
    buf_appendcstr(&big, "Subject: big\n\n");
    while (big.len < 200000) buf_appendcstr(&big, "0123456789abcdefghi\n");
    big.s[65535] = '\r';
    big.s[65536] = '\n';
    buf_appendcstr(&big, ")trailing command bytes");
    size_t msglen = big.len - strlen(")trailing command bytes");

    struct protstream *in = stream_of(big.s, big.len, &fd);
    CHECK(in != NULL);
    if (!in) goto out;
    CHECK_INTEQ(append_stage_prot(stagedir, in, msglen, &st), APPEND_OK);
    /* exactly the literal was consumed */
    CHECK_INTEQ(prot_getc(in), ')');
    read_file(append_stage_path(st), &data);
    /* every LF now has its CR; nothing else changed */
    size_t lfs = 0, bare = 0;
    for (size_t i = 0; i < data.len; i++) {
        if (data.s[i] == '\n') {
            lfs++;
            if (!i || data.s[i - 1] != '\r') bare++;
        }
    }
    CHECK_INTEQ(bare, 0);
    CHECK_INTEQ(data.len, msglen + lfs - 1);   /* one LF already had a CR */
    CHECK_INTEQ(append_stage_size(st), data.len);
    append_stage_free(&st);
    prot_free(&in);
    close(fd);

    /* the stream ends early */
    in = stream_of("Subject: x\r\n", 12, &fd);
    CHECK_INTEQ(append_stage_prot(stagedir, in, 100, &st), APPEND_EOF);
    CHECK(st == NULL);
    CHECK_INTEQ(stage_files(), 0);
    prot_free(&in);
    close(fd);

    /* NUL: refused, but every byte of the literal is consumed */
    static const char nul[] = "Subject: x\r\n\r\na\0b\r\nNEXT";
    in = stream_of(nul, sizeof(nul) - 1, &fd);
    CHECK_INTEQ(append_stage_prot(stagedir, in, sizeof(nul) - 1 - 4, &st),
                APPEND_BADMESSAGE);
    CHECK(st == NULL);
    CHECK_INTEQ(prot_getc(in), 'N');
    CHECK_INTEQ(stage_files(), 0);
    prot_free(&in);
    close(fd);
out:
    buf_free(&data);
    buf_free(&big);
    teardown();
}

/* --- the cache payload --------------------------------------------------- */

static void test_build_cache(void)
{
    struct buf cache = BUF_INITIALIZER;
    int64_t sentdate = -5;
    uint32_t hsize = 0;
    const char *item;
    size_t len;

    CHECK_INTEQ(append_build_cache(msg1, strlen(msg1), &cache, &sentdate,
                                   &hsize),
                APPEND_OK);
    CHECK_INTEQ(sentdate, 760686745);   /* 1994-02-08 05:52:25 UTC */
    CHECK_INTEQ(hsize, strstr(msg1, "\r\n\r\n") + 4 - msg1);

    /* the head is the structure message_cache_parse() reads */
    size_t slen = append_cache_structure_len(cache.s, cache.len);
    CHECK(slen > 0 && slen < cache.len);
    struct message *m = message_cache_parse(cache.s, slen, msg1, strlen(msg1));
    CHECK(m != NULL);
    if (m) {
        struct buf env = BUF_INITIALIZER;
        message_write_envelope(&env, m, 0);
        CHECK_INTEQ(append_cache_item(cache.s, cache.len,
                                      APPEND_CACHE_ENVELOPE, &item, &len), 0);
        CHECK_INTEQ(len, env.len);
        CHECK(len == env.len && !memcmp(item, env.s, len));
        buf_free(&env);
        message_free(&m);
    }
    CHECK_INTEQ(append_cache_item(cache.s, cache.len, APPEND_CACHE_ENVELOPE,
                                  &item, &len), 0);
    static const char env_head[] =
        "(\"Mon, 7 Feb 1994 21:52:25 -0800\" \"afternoon meeting\"";
    CHECK(len > sizeof(env_head) &&
          !strncmp(item, env_head, sizeof(env_head) - 1));
    CHECK_INTEQ(append_cache_item(cache.s, cache.len, APPEND_CACHE_BODY, &item,
                                  &len), 0);
    CHECK(len > 0 && !strncmp(item, "(\"TEXT\" \"PLAIN\" (\"CHARSET\" "
                                     "\"US-ASCII\")", 36));
    CHECK_INTEQ(append_cache_item(cache.s, cache.len,
                                  APPEND_CACHE_BODYSTRUCTURE, &item, &len), 0);
    CHECK(len > 0 && item[0] == '(');
    CHECK_INTEQ(append_cache_item(cache.s, cache.len, APPEND_CACHE_HEADERS,
                                  &item, &len), 0);
    struct buf hdrs = BUF_INITIALIZER;
    buf_setmap(&hdrs, item, len);
    CHECK(strstr(buf_cstring(&hdrs), "Subject: afternoon meeting\r\n") != NULL);
    CHECK(strstr(hdrs.s, "List-Id: meetings\r\n  <meetings.example>\r\n"));
    CHECK(strstr(hdrs.s, "Content-Type: TEXT/PLAIN") != NULL);
    CHECK(strstr(hdrs.s, "X-Unrelated") == NULL);
    CHECK(strstr(hdrs.s, "MIME-Version") == NULL);
    buf_free(&hdrs);

    /* damaged payloads are refused, not read past their end */
    CHECK_INTEQ(append_cache_item(cache.s, cache.len - 1, APPEND_CACHE_HEADERS,
                                  &item, &len), -1);
    CHECK_INTEQ(append_cache_item(cache.s, 3, APPEND_CACHE_ENVELOPE, &item,
                                  &len), -1);
    CHECK_INTEQ(append_cache_item("", 0, APPEND_CACHE_ENVELOPE, &item, &len),
                -1);
    CHECK_INTEQ(append_cache_item(cache.s, cache.len, APPEND_CACHE_NITEMS,
                                  &item, &len), -1);

    /* no Date: gives 0; an empty message still has a payload */
    buf_reset(&cache);
    CHECK_INTEQ(append_build_cache("Subject: x\r\n\r\n", 14, &cache, &sentdate,
                                   &hsize), APPEND_OK);
    CHECK_INTEQ(sentdate, 0);
    CHECK_INTEQ(hsize, 14);
    buf_reset(&cache);
    CHECK_INTEQ(append_build_cache("", 0, &cache, &sentdate, &hsize),
                APPEND_OK);
    CHECK(append_cache_structure_len(cache.s, cache.len) > 0);
    buf_free(&cache);
}

/* --- appending ----------------------------------------------------------- */

static void test_append_read_back(void)
{
    struct stagemsg *st = NULL;
    struct appendstate *as = NULL;
    struct index_record rec, out[2];
    struct append_info info;
    const char *base, *item;
    size_t len, ilen;

    setup();
    struct mailbox *mb = new_mailbox("user/fred", NULL);
    CHECK_INTEQ(append_stage_buf(stagedir, msg1, strlen(msg1), &st), 0);

    memset(&info, 0, sizeof(info));
    info.internaldate = 1600000000;
    info.system_flags = FLAG_SEEN | FLAG_FLAGGED;
    CHECK_INTEQ(append_setup(mb, NULL, 1, &as), APPEND_OK);
    CHECK_INTEQ(append_message(as, st, &info, &out[0]), APPEND_OK);
    info.system_flags = 0;
    info.internaldate = 0;   /* now */
    CHECK_INTEQ(append_message(as, st, &info, &out[1]), APPEND_OK);
    CHECK_INTEQ(append_commit(&as), APPEND_OK);
    CHECK(as == NULL);
    CHECK_INTEQ(out[0].uid, 1);
    CHECK_INTEQ(out[1].uid, 2);

    CHECK_INTEQ(mailbox_lock_shared(mb), MAILBOX_OK);
    CHECK_INTEQ(mailbox_header(mb)->exists, 2);
    CHECK_INTEQ(mailbox_read_record(mb, 0, &rec), MAILBOX_OK);
    CHECK_INTEQ(rec.uid, 1);
    CHECK_INTEQ(rec.size, strlen(msg1));
    CHECK_INTEQ(rec.internaldate, 1600000000);
    CHECK_INTEQ(rec.sentdate, 760686745);
    CHECK_INTEQ(rec.header_size, strstr(msg1, "\r\n\r\n") + 4 - msg1);
    CHECK_INTEQ(rec.system_flags, FLAG_SEEN | FLAG_FLAGGED);
    CHECK_INTEQ(mailbox_cache_payload(mb, &rec, &base, &len), MAILBOX_OK);
    CHECK_INTEQ(append_cache_item(base, len, APPEND_CACHE_ENVELOPE, &item,
                                  &ilen), 0);
    CHECK(ilen > 0 && strstr(item, "afternoon meeting") != NULL);
    CHECK_INTEQ(mailbox_read_record(mb, 1, &rec), MAILBOX_OK);
    CHECK(rec.internaldate >= time(NULL) - 5);
    CHECK_INTEQ(rec.system_flags, 0);
    CHECK(!memcmp(rec.guid, out[0].guid, 20));
    mailbox_unlock(mb);

    /* the message file holds the bytes; single-instance: one inode for
     * both messages and the stage */
    struct buf path = BUF_INITIALIZER, data = BUF_INITIALIZER;
    struct stat s1, s2;
    mailbox_message_path(mb, 1, &path);
    read_file(buf_cstring(&path), &data);
    CHECK_STREQ(buf_cstring(&data), msg1);
    CHECK_INTEQ(stat(path.s, &s1), 0);
    mailbox_message_path(mb, 2, &path);
    CHECK_INTEQ(stat(buf_cstring(&path), &s2), 0);
    CHECK(s1.st_ino == s2.st_ino);
    CHECK_INTEQ(s1.st_nlink, 3);

    append_stage_free(&st);
    CHECK_INTEQ(stage_files(), 0);
    CHECK_INTEQ(stat(path.s, &s2), 0);   /* the message stays */
    buf_free(&path);
    buf_free(&data);
    mailbox_close(&mb);
    teardown();
}

static void test_append_abort(void)
{
    struct stagemsg *st = NULL;
    struct appendstate *as = NULL;
    struct append_info info;
    struct index_record out;
    struct quota q;

    setup();
    int64_t limit[QUOTA_NUMRESOURCES] = { 100, 10, 0, 0 };
    int have[QUOTA_NUMRESOURCES] = { 1, 1, 0, 0 };
    CHECK_INTEQ(quota_set_limits("user.fred", limit, have, 0), QUOTA_OK);
    struct mailbox *mb = new_mailbox("user/fred", "user.fred");
    CHECK_INTEQ(append_stage_buf(stagedir, msg1, strlen(msg1), &st), 0);
    memset(&info, 0, sizeof(info));

    CHECK_INTEQ(append_setup(mb, "user.fred", 1, &as), APPEND_OK);
    CHECK_INTEQ(append_message(as, st, &info, &out), APPEND_OK);
    append_abort(&as);
    CHECK(as == NULL);

    CHECK_INTEQ(mailbox_lock_shared(mb), MAILBOX_OK);
    CHECK_INTEQ(mailbox_header(mb)->exists, 0);
    CHECK_INTEQ(mailbox_header(mb)->num_records, 0);
    mailbox_unlock(mb);
    CHECK_INTEQ(quota_read("user.fred", &q), QUOTA_OK);
    CHECK_INTEQ(q.used[QUOTA_STORAGE], 0);
    CHECK_INTEQ(q.used[QUOTA_MESSAGE], 0);
    quota_fini(&q);

    /* the mailbox is unlocked and usable again */
    CHECK_INTEQ(append_setup(mb, "user.fred", 1, &as), APPEND_OK);
    CHECK_INTEQ(append_message(as, st, &info, &out), APPEND_OK);
    CHECK_INTEQ(append_commit(&as), APPEND_OK);
    CHECK_INTEQ(out.uid, 1);
    CHECK_INTEQ(quota_read("user.fred", &q), QUOTA_OK);
    CHECK_INTEQ(q.used[QUOTA_STORAGE], strlen(msg1));
    CHECK_INTEQ(q.used[QUOTA_MESSAGE], 1);
    quota_fini(&q);

    append_stage_free(&st);
    mailbox_close(&mb);
    teardown();
}

static void test_append_quota(void)
{
    struct stagemsg *st = NULL;
    struct appendstate *as = NULL;
    struct append_info info;
    struct index_record out;
    struct quota q;
    size_t sz = strlen(msg1);

    setup();
    /* room for exactly two messages by storage (1 KiB), 3 by count */
    int64_t limit[QUOTA_NUMRESOURCES] = { 1, 3, 0, 0 };
    int have[QUOTA_NUMRESOURCES] = { 1, 1, 0, 0 };
    CHECK(sz * 2 <= 1024 && sz * 3 > 1024);
    CHECK_INTEQ(quota_set_limits("user.fred", limit, have, 0), QUOTA_OK);
    struct mailbox *mb = new_mailbox("user/fred", "user.fred");
    CHECK_INTEQ(append_stage_buf(stagedir, msg1, sz, &st), 0);
    memset(&info, 0, sizeof(info));

    /* one transaction: the third message counts the two before it */
    CHECK_INTEQ(append_setup(mb, "user.fred", 1, &as), APPEND_OK);
    CHECK_INTEQ(append_message(as, st, &info, &out), APPEND_OK);
    CHECK_INTEQ(append_message(as, st, &info, &out), APPEND_OK);
    CHECK_INTEQ(append_message(as, st, &info, &out), APPEND_OVERQUOTA);
    CHECK_INTEQ(append_commit(&as), APPEND_OK);
    CHECK_INTEQ(quota_read("user.fred", &q), QUOTA_OK);
    CHECK_INTEQ(q.used[QUOTA_STORAGE], 2 * sz);
    CHECK_INTEQ(q.used[QUOTA_MESSAGE], 2);
    quota_fini(&q);

    /* strict refuses, lenient (LMTP) still lets one in below the limit */
    CHECK_INTEQ(append_setup(mb, "user.fred", 1, &as), APPEND_OK);
    CHECK_INTEQ(append_message(as, st, &info, &out), APPEND_OVERQUOTA);
    append_abort(&as);
    CHECK_INTEQ(append_setup(mb, "user.fred", 0, &as), APPEND_OK);
    CHECK_INTEQ(append_message(as, st, &info, &out), APPEND_OK);
    CHECK_INTEQ(append_commit(&as), APPEND_OK);
    CHECK_INTEQ(append_setup(mb, "user.fred", 0, &as), APPEND_OK);
    CHECK_INTEQ(append_message(as, st, &info, &out), APPEND_OVERQUOTA);
    append_abort(&as);

    CHECK_INTEQ(mailbox_lock_shared(mb), MAILBOX_OK);
    CHECK_INTEQ(mailbox_header(mb)->exists, 3);
    mailbox_unlock(mb);
    CHECK_INTEQ(quota_read("user.fred", &q), QUOTA_OK);
    CHECK_INTEQ(q.used[QUOTA_MESSAGE], 3);
    CHECK_INTEQ(q.used[QUOTA_STORAGE], 3 * sz);
    quota_fini(&q);

    /* no root: no limit */
    struct mailbox *other = new_mailbox("shared", NULL);
    CHECK_INTEQ(append_setup(other, NULL, 1, &as), APPEND_OK);
    CHECK_INTEQ(append_message(as, st, &info, &out), APPEND_OK);
    CHECK_INTEQ(append_commit(&as), APPEND_OK);
    mailbox_close(&other);

    append_stage_free(&st);
    mailbox_close(&mb);
    teardown();
}

static void test_append_copy(void)
{
    struct stagemsg *st = NULL;
    struct appendstate *as = NULL;
    struct append_info info;
    struct index_record src, out;
    struct quota q;
    const char *base, *item;
    size_t len, ilen;

    setup();
    int64_t limit[QUOTA_NUMRESOURCES] = { 100, 100, 0, 0 };
    int have[QUOTA_NUMRESOURCES] = { 1, 1, 0, 0 };
    CHECK_INTEQ(quota_set_limits("user.bob", limit, have, 0), QUOTA_OK);
    struct mailbox *from = new_mailbox("user/fred", NULL);
    struct mailbox *to = new_mailbox("user/bob", "user.bob");

    CHECK_INTEQ(append_stage_buf(stagedir, msg1, strlen(msg1), &st), 0);
    memset(&info, 0, sizeof(info));
    info.internaldate = 1500000000;
    CHECK_INTEQ(append_setup(from, NULL, 1, &as), APPEND_OK);
    CHECK_INTEQ(append_message(as, st, &info, &out), APPEND_OK);
    CHECK_INTEQ(append_commit(&as), APPEND_OK);
    append_stage_free(&st);

    CHECK_INTEQ(mailbox_lock_shared(from), MAILBOX_OK);
    CHECK_INTEQ(mailbox_read_record(from, 0, &src), MAILBOX_OK);

    /* without a cache payload: parsed again from the source */
    memset(&info, 0, sizeof(info));
    info.system_flags = FLAG_ANSWERED;
    CHECK_INTEQ(append_setup(to, "user.bob", 1, &as), APPEND_OK);
    CHECK_INTEQ(append_copy(as, from, &src, &info, &out), APPEND_OK);
    /* with the source's payload carried over */
    struct buf cache = BUF_INITIALIZER;
    CHECK_INTEQ(mailbox_cache_payload(from, &src, &base, &len), MAILBOX_OK);
    buf_setmap(&cache, base, len);
    info.cache = &cache;
    info.sentdate = src.sentdate;
    info.header_size = src.header_size;
    info.internaldate = 1;
    CHECK_INTEQ(append_copy(as, from, &src, &info, &out), APPEND_OK);
    CHECK_INTEQ(append_commit(&as), APPEND_OK);
    buf_free(&cache);

    /* a message that is gone cannot be copied */
    struct index_record ghost = src;
    ghost.uid = 99;
    memset(&info, 0, sizeof(info));
    CHECK_INTEQ(append_setup(to, "user.bob", 1, &as), APPEND_OK);
    CHECK(append_copy(as, from, &ghost, &info, &out) != APPEND_OK);
    append_abort(&as);
    mailbox_unlock(from);

    CHECK_INTEQ(mailbox_lock_shared(to), MAILBOX_OK);
    CHECK_INTEQ(mailbox_header(to)->exists, 2);
    for (uint32_t i = 0; i < 2; i++) {
        struct index_record rec;
        CHECK_INTEQ(mailbox_read_record(to, i, &rec), MAILBOX_OK);
        CHECK_INTEQ(rec.uid, i + 1);
        CHECK_INTEQ(rec.size, src.size);
        CHECK(!memcmp(rec.guid, src.guid, 20));
        CHECK_INTEQ(rec.sentdate, src.sentdate);
        CHECK_INTEQ(rec.header_size, src.header_size);
        CHECK_INTEQ(rec.internaldate, i == 0 ? 1500000000 : 1);
        CHECK_INTEQ(mailbox_cache_payload(to, &rec, &base, &len), MAILBOX_OK);
        CHECK_INTEQ(append_cache_item(base, len, APPEND_CACHE_ENVELOPE, &item,
                                      &ilen), 0);
        CHECK(ilen > 0 && strstr(item, "afternoon meeting") != NULL);
    }
    mailbox_unlock(to);

    /* same file system: the copy is a link to the source */
    struct buf p1 = BUF_INITIALIZER, p2 = BUF_INITIALIZER;
    struct stat s1, s2;
    mailbox_message_path(from, 1, &p1);
    mailbox_message_path(to, 1, &p2);
    CHECK_INTEQ(stat(buf_cstring(&p1), &s1), 0);
    CHECK_INTEQ(stat(buf_cstring(&p2), &s2), 0);
    CHECK(s1.st_ino == s2.st_ino);
    buf_free(&p1);
    buf_free(&p2);

    CHECK_INTEQ(quota_read("user.bob", &q), QUOTA_OK);
    CHECK_INTEQ(q.used[QUOTA_MESSAGE], 2);
    CHECK_INTEQ(q.used[QUOTA_STORAGE], 2 * src.size);
    quota_fini(&q);

    mailbox_close(&from);
    mailbox_close(&to);
    teardown();
}

static void test_strerror(void)
{
    CHECK_STREQ(append_strerror(APPEND_OVERQUOTA), "Over quota");
    CHECK_STREQ(append_strerror(APPEND_OK), "OK");
    CHECK(append_strerror(12345) != NULL);
}

UNIT_TESTS(UNIT_T(test_stage_crlf), UNIT_T(test_stage_prot),
           UNIT_T(test_build_cache), UNIT_T(test_append_read_back),
           UNIT_T(test_append_abort), UNIT_T(test_append_quota),
           UNIT_T(test_append_copy), UNIT_T(test_strerror))
