/* test_index.c -- unit tests for the selected-mailbox view
 * (imap/imapd/index.c) on mailboxes built with the store engine. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "imap/imapd/index.h"
#include "imap/store/mailbox.h"
#include "imap/store/message.h"
#include "lib/buf.h"
#include "lib/prot.h"
#include "lib/test/unit.h"
#include "lib/xmalloc.h"

static char *make_dir(void)
{
    char tmpl[] = "/tmp/test_index.XXXXXX";
    char *d = mkdtemp(tmpl);

    return d ? strconcat(d, "/mbox", (char *)NULL) : NULL;
}

static void remove_dir(const char *dir)
{
    char cmd[512];
    const char *slash = strrchr(dir, '/');

    /* The mailbox and the stage file live in one temporary directory. */
    snprintf(cmd, sizeof(cmd), "rm -rf '%.*s'", (int)(slash - dir), dir);
    if (system(cmd) != 0)
        printf("# could not remove %s\n", dir);
}

/* Append one message with `sysflags`; returns its UID. */
static uint32_t append(const char *dir, const char *text, uint32_t sysflags)
{
    struct mailbox *mb = NULL;
    struct index_record rec;
    struct append_info info;
    struct buf cache = BUF_INITIALIZER;
    struct message *msg;
    char stage[4096];
    FILE *f;

    snprintf(stage, sizeof(stage), "%s/../stage", dir);
    f = fopen(stage, "w");
    fputs(text, f);
    fclose(f);
    msg = message_parse(text, strlen(text));
    message_cache_serialize(msg, &cache);
    memset(&info, 0, sizeof(info));
    info.internaldate = 1700000000;
    info.header_size = msg->parts[0].header_size;
    info.system_flags = sysflags;
    info.cache = &cache;
    message_free(&msg);
    memset(&rec, 0, sizeof(rec));
    if (mailbox_open(dir, &mb) || mailbox_lock_exclusive(mb) ||
        mailbox_append_message(mb, stage, &info, &rec) ||
        mailbox_commit(mb))
        rec.uid = 0;
    mailbox_close(&mb);
    unlink(stage);
    buf_free(&cache);
    return rec.uid;
}

/* Flags of `uid` as another session would change them. */
static int set_flags(const char *dir, uint32_t uid, uint32_t sysflags,
                     int expunge)
{
    struct mailbox *mb = NULL;
    struct index_record rec;
    int64_t recno;
    int r;

    if ((r = mailbox_open(dir, &mb)))
        return r;
    if (!(r = mailbox_lock_exclusive(mb))) {
        recno = mailbox_find_uid(mb, uid);
        if (recno < 0)
            r = -1;
        else if (expunge)
            r = mailbox_expunge_record(mb, (uint32_t)recno);
        else if (!(r = mailbox_read_record(mb, (uint32_t)recno, &rec))) {
            rec.system_flags = sysflags;
            r = mailbox_rewrite_record(mb, (uint32_t)recno, &rec);
        }
        if (!r)
            r = mailbox_commit(mb);
    }
    mailbox_close(&mb);
    return r;
}

static const char msg1[] =
    "From: Fred <fred@example.com>\r\nSubject: one\r\n"
    "Date: Mon, 6 Nov 2023 10:00:00 +0000\r\n\r\nbody one\r\n";
static const char msg2[] =
    "From: Ann <ann@example.com>\r\nSubject: two\r\n\r\nbody two\r\n";

static struct index_view *open_view(const char *dir, int examine,
                                    acl_rights_t rights)
{
    struct index_open_args a;
    struct index_view *v = NULL;

    memset(&a, 0, sizeof(a));
    a.dir = dir;
    a.intname = "user.fred";
    a.userid = "fred";
    a.isowner = 1;
    a.rights = rights;
    a.examine = examine;
    if (index_open(&a, &v))
        return NULL;
    return v;
}

/* Run index_report into a string. */
static char *report(struct index_view *v, int allow_expunge, int uid)
{
    int fds[2];
    char buf[4096];
    ssize_t n;
    struct protstream *p;

    if (pipe(fds) < 0)
        return xstrdup("");
    p = prot_new(fds[0], fds[1]);
    index_refresh(v);
    index_report(v, p, allow_expunge, uid);
    prot_flush(p);
    prot_free(&p);
    close(fds[1]);
    n = read(fds[0], buf, sizeof(buf) - 1);
    close(fds[0]);
    buf[n > 0 ? n : 0] = '\0';
    return xstrdup(buf);
}

static char *setup(int n)
{
    char *dir = make_dir();
    int i;

    CHECK(dir != NULL);
    CHECK_INTEQ(mailbox_create(dir, "abc123", "fred\tlrswipkxtecdan\t",
                               "user.fred", 42), 0);
    for (i = 0; i < n; i++)
        CHECK(append(dir, i % 2 ? msg2 : msg1, i == 0 ? FLAG_SEEN : 0) != 0);
    return dir;
}

static void test_open_counts(void)
{
    char *dir = setup(3);
    struct index_view *v = open_view(dir, 0, ACL_ALL);

    CHECK(v != NULL);
    CHECK_INTEQ(index_count(v), 3);
    CHECK_INTEQ(index_recent(v), 3);
    CHECK_INTEQ(index_first_unseen(v), 2);
    CHECK_INTEQ(index_uidvalidity(v), 42);
    CHECK_INTEQ(index_uidnext(v), 4);
    CHECK_INTEQ(index_uid(v, 2), 2);
    CHECK_INTEQ(index_msgno(v, 3), 3);
    CHECK_INTEQ(index_msgno(v, 9), 0);
    CHECK(!index_readonly(v));
    index_close(&v);
    CHECK(v == NULL);

    /* The first SELECT took \Recent; a second one sees none. */
    v = open_view(dir, 0, ACL_ALL);
    CHECK_INTEQ(index_recent(v), 0);
    index_close(&v);
    remove_dir(dir);
    free(dir);
}

static void test_examine_keeps_recent(void)
{
    char *dir = setup(2);
    struct index_view *v = open_view(dir, 1, ACL_ALL);

    CHECK_INTEQ(index_recent(v), 2);
    CHECK(index_readonly(v));
    index_close(&v);
    v = open_view(dir, 0, ACL_ALL);
    CHECK_INTEQ(index_recent(v), 2);
    index_close(&v);
    /* Without s, w, t, e, i, n the mailbox is read-only. */
    v = open_view(dir, 0, ACL_LOOKUP | ACL_READ);
    CHECK(index_readonly(v));
    index_close(&v);
    remove_dir(dir);
    free(dir);
}

static void test_parse_set(void)
{
    char *dir = setup(4);
    struct index_view *v = open_view(dir, 1, ACL_ALL);
    struct seqset set = SEQSET_INITIALIZER;
    struct buf out = BUF_INITIALIZER;

    CHECK_INTEQ(index_parse_set(v, "2:*", 0, &set), 0);
    seqset_format(&set, &out);
    CHECK_STREQ(buf_cstring(&out), "2:4");
    seqset_fini(&set);
    CHECK_INTEQ(index_parse_set(v, "5", 0, &set), -2);
    seqset_fini(&set);
    CHECK_INTEQ(index_parse_set(v, "x", 0, &set), -1);
    seqset_fini(&set);
    /* UIDs not in the view are ignored; a huge range costs nothing. */
    buf_reset(&out);
    CHECK_INTEQ(index_parse_set(v, "3:4294967295", 1, &set), 0);
    seqset_format(&set, &out);
    CHECK_STREQ(buf_cstring(&out), "3:4");
    seqset_fini(&set);
    buf_reset(&out);
    CHECK_INTEQ(index_parse_set(v, "10:20", 1, &set), 0);
    CHECK_INTEQ(seqset_count(&set), 0);
    seqset_fini(&set);
    /* SEARCHRES "$": empty until saved; the same messages as sequence
     * numbers or UIDs; UIDs no longer in the view dropped. */
    CHECK_INTEQ(index_parse_set(v, "$", 0, &set), 0);
    CHECK_INTEQ(seqset_count(&set), 0);
    seqset_fini(&set);
    seqset_add(&set, 2);
    seqset_add(&set, 4);
    seqset_add(&set, 99);
    index_set_searchres(v, &set);
    seqset_fini(&set);
    for (int uid = 0; uid < 2; uid++) {
        buf_reset(&out);
        CHECK_INTEQ(index_parse_set(v, "$", uid, &set), 0);
        seqset_format(&set, &out);
        CHECK_STREQ(buf_cstring(&out), "2,4");
        seqset_fini(&set);
    }
    CHECK_INTEQ(index_parse_set(v, "$,1", 0, &set), -1);
    seqset_fini(&set);
    index_set_searchres(v, NULL);
    CHECK_INTEQ(index_parse_set(v, "$", 1, &set), 0);
    CHECK_INTEQ(seqset_count(&set), 0);
    seqset_fini(&set);
    buf_free(&out);
    index_close(&v);
    remove_dir(dir);
    free(dir);
}

static void test_updates(void)
{
    char *dir = setup(3);
    struct index_view *v = open_view(dir, 0, ACL_ALL);
    char *r;

    /* Nothing changed: nothing to say. */
    r = report(v, 1, 0);
    CHECK_STREQ(r, "");
    free(r);

    /* Another session's flag change and a delivery. */
    CHECK_INTEQ(set_flags(dir, 2, FLAG_FLAGGED, 0), 0);
    CHECK(append(dir, msg2, 0) == 4);
    r = report(v, 1, 1);
    CHECK_STREQ(r, "* 4 EXISTS\r\n* 4 RECENT\r\n"
                   "* 2 FETCH (UID 2 FLAGS (\\Flagged \\Recent))\r\n");
    free(r);
    CHECK_INTEQ(index_count(v), 4);

    /* Expunges wait until they may be told, then go in descending
     * order, and only then do numbers shift. */
    CHECK_INTEQ(set_flags(dir, 1, 0, 1), 0);
    CHECK_INTEQ(set_flags(dir, 3, 0, 1), 0);
    r = report(v, 0, 0);
    CHECK_STREQ(r, "");
    free(r);
    CHECK_INTEQ(index_count(v), 4);
    CHECK_INTEQ(index_uid(v, 3), 3);
    CHECK(index_msg(v, 3)->expunged);
    r = report(v, 1, 0);
    CHECK_STREQ(r, "* 3 EXPUNGE\r\n* 1 EXPUNGE\r\n* 2 RECENT\r\n");
    free(r);
    CHECK_INTEQ(index_count(v), 2);
    CHECK_INTEQ(index_uid(v, 1), 2);
    CHECK_INTEQ(index_uid(v, 2), 4);
    index_close(&v);
    remove_dir(dir);
    free(dir);
}

static void test_store_and_expunge(void)
{
    char *dir = setup(3);
    struct index_view *v = open_view(dir, 0, ACL_ALL);
    struct index_view *other = open_view(dir, 1, ACL_ALL);
    uint32_t none[MAILBOX_MAX_USER_FLAGS / 32] = { 0 };
    uint32_t kw[MAILBOX_MAX_USER_FLAGS / 32] = { 0 };
    struct buf flags = BUF_INITIALIZER;
    uint32_t n = 0;
    int changed = 0, bit;
    char *r;

    bit = index_keyword_bit(v, "$Label1", 1);
    CHECK_INTEQ(bit, 0);
    kw[0] = 1;
    CHECK_INTEQ(index_store_flags(v, 2, INDEX_STORE_ADD, FLAG_DELETED, kw,
                                  &changed), 0);
    CHECK(changed);
    index_write_flags(v, 2, &flags);
    CHECK_STREQ(buf_cstring(&flags), "(\\Deleted \\Recent $Label1)");
    /* Storing the same again changes nothing. */
    CHECK_INTEQ(index_store_flags(v, 2, INDEX_STORE_ADD, FLAG_DELETED, kw,
                                  &changed), 0);
    CHECK(!changed);
    /* Our own change is not reported back to us as another's. */
    r = report(v, 1, 0);
    CHECK_STREQ(r, "");
    free(r);
    /* The other session hears of it. */
    r = report(other, 1, 0);
    CHECK_STREQ(r, "* 2 FETCH (FLAGS (\\Deleted $Label1))\r\n");
    free(r);

    CHECK_INTEQ(index_expunge(v, NULL, &n), 0);
    CHECK_INTEQ(n, 1);
    r = report(v, 1, 0);
    CHECK_STREQ(r, "* 2 EXPUNGE\r\n* 2 RECENT\r\n");
    free(r);
    r = report(other, 0, 0);
    CHECK_STREQ(r, "");
    free(r);
    r = report(other, 1, 0);
    CHECK_STREQ(r, "* 2 EXPUNGE\r\n");
    free(r);

    /* UID EXPUNGE: only the named UIDs, and only when \Deleted. */
    struct seqset uids = SEQSET_INITIALIZER;
    seqset_add(&uids, 3);
    CHECK_INTEQ(index_store_flags(v, 1, INDEX_STORE_SET, FLAG_DELETED, none,
                                  &changed), 0);
    CHECK_INTEQ(index_expunge(v, &uids, &n), 0);
    CHECK_INTEQ(n, 0);
    CHECK_INTEQ(index_expunge_uids(v, &uids, &n), 0);
    CHECK_INTEQ(n, 1);
    seqset_fini(&uids);
    r = report(v, 1, 1);
    CHECK_STREQ(r, "* 2 EXPUNGE\r\n* 1 RECENT\r\n");
    free(r);
    CHECK_INTEQ(index_count(v), 1);
    CHECK_INTEQ(index_uid(v, 1), 1);

    buf_free(&flags);
    index_close(&other);
    index_close(&v);
    remove_dir(dir);
    free(dir);
}

static void test_structure(void)
{
    char *dir = setup(1);
    struct index_view *v = open_view(dir, 1, ACL_ALL);
    struct message *msg = NULL;
    struct index_record rec;
    struct buf out = BUF_INITIALIZER;
    const char *base;
    size_t len;

    CHECK_INTEQ(index_lock(v), 0);
    CHECK_INTEQ(index_record(v, 1, &rec), 0);
    CHECK_INTEQ(rec.size, strlen(msg1));
    CHECK_INTEQ(index_structure(v, 1, &msg), 0);
    index_unlock(v);
    CHECK(msg != NULL);
    if (msg) {
        message_write_envelope(&out, msg, 0);
        CHECK(strstr(buf_cstring(&out), "\"one\"") != NULL);
        CHECK(strstr(buf_cstring(&out), "\"fred\" \"example.com\"") != NULL);
        message_free(&msg);
    }
    CHECK_INTEQ(index_map(v, 1, &base, &len), 0);
    CHECK_INTEQ(len, strlen(msg1));
    CHECK(!memcmp(base, msg1, len));
    mailbox_unmap_message(base, len);
    CHECK(index_changed_on_disk(v) == 0);
    CHECK(append(dir, msg2, 0) == 2);
    CHECK(index_changed_on_disk(v) == 1);
    buf_free(&out);
    index_close(&v);
    remove_dir(dir);
    free(dir);
}

static char *fmt_modseq(const char *fmt, uint64_t a, uint64_t b)
{
    struct buf out = BUF_INITIALIZER;

    buf_printf(&out, fmt, (unsigned long long)a, (unsigned long long)b);
    return buf_release(&out);
}

static void test_condstore_report(void)
{
    char *dir = setup(3);
    struct index_view *v = open_view(dir, 0, ACL_ALL);
    uint64_t hm = index_highestmodseq(v);
    char *r, *want;

    index_set_condstore(v, 1, 1);
    /* Another session's change: UID and MODSEQ in the FETCH. */
    CHECK_INTEQ(set_flags(dir, 2, FLAG_FLAGGED, 0), 0);
    r = report(v, 1, 0);
    want = fmt_modseq("* 2 FETCH (UID 2 FLAGS (\\Flagged \\Recent) "
                      "MODSEQ (%llu))\r\n", hm + 1, 0);
    CHECK_STREQ(r, want);
    free(r);
    free(want);
    CHECK_INTEQ(index_highestmodseq(v), hm + 1);

    /* Expunges held back while a flag change goes out: a HIGHESTMODSEQ
     * below the first expunge follows, so no client skips them. */
    CHECK_INTEQ(set_flags(dir, 1, 0, 1), 0);
    CHECK_INTEQ(set_flags(dir, 3, 0, 1), 0);
    CHECK_INTEQ(set_flags(dir, 2, FLAG_SEEN, 0), 0);
    r = report(v, 0, 0);
    want = fmt_modseq("* 2 FETCH (UID 2 FLAGS (\\Seen \\Recent) "
                      "MODSEQ (%llu))\r\n* OK [HIGHESTMODSEQ %llu] Ok\r\n",
                      hm + 4, hm + 1);
    CHECK_STREQ(r, want);
    free(r);
    free(want);

    /* Under QRESYNC they go as one VANISHED, by UID. */
    /* ... followed by the HIGHESTMODSEQ those expunges brought, since
     * VANISHED carries no MODSEQ a synchroniser could resume from. */
    r = report(v, 1, 0);
    want = fmt_modseq("* VANISHED 1,3\r\n* 1 RECENT\r\n"
                      "* OK [HIGHESTMODSEQ %llu] Ok\r\n", hm + 4, 0);
    CHECK_STREQ(r, want);
    free(r);
    free(want);
    CHECK_INTEQ(index_count(v), 1);
    CHECK_INTEQ(index_uid(v, 1), 2);
    index_close(&v);
    remove_dir(dir);
    free(dir);
}

static void test_untold_expunge(void)
{
    char *dir = setup(2);
    struct index_view *v = open_view(dir, 0, ACL_ALL);
    char *r;

    /* A message the view picked up but never announced, then expunged:
     * the client hears nothing of it, neither EXPUNGE nor EXISTS. */
    CHECK(append(dir, msg2, 0) == 3);
    CHECK_INTEQ(index_refresh(v), 0);
    CHECK_INTEQ(index_count(v), 3);
    CHECK_INTEQ(set_flags(dir, 3, 0, 1), 0);
    r = report(v, 1, 0);
    CHECK_STREQ(r, "");
    free(r);
    CHECK_INTEQ(index_count(v), 2);
    index_close(&v);
    remove_dir(dir);
    free(dir);
}

static char *vanished(struct index_view *v, const char *set, uint64_t since,
                      uint32_t floor)
{
    struct seqset uids = SEQSET_INITIALIZER, out = SEQSET_INITIALIZER;
    struct buf b = BUF_INITIALIZER;

    CHECK_INTEQ(seqset_parse(&uids, set, 0), 0);
    CHECK_INTEQ(index_vanished(v, &uids, since, floor, &out), 0);
    seqset_format(&out, &b);
    seqset_fini(&uids);
    seqset_fini(&out);
    char *res = buf_release(&b);
    return res ? res : xstrdup("");
}

static void test_vanished(void)
{
    char *dir = setup(5);
    struct index_view *v = open_view(dir, 1, ACL_ALL);
    uint64_t hm = index_highestmodseq(v);
    struct mailbox *mb = NULL;
    char *r;

    CHECK_INTEQ(set_flags(dir, 2, 0, 1), 0);   /* modseq hm+1 */
    CHECK_INTEQ(set_flags(dir, 4, 0, 1), 0);   /* modseq hm+2 */
    /* Not yet reported: still the client's, not VANISHED (EARLIER). */
    CHECK_INTEQ(index_refresh(v), 0);
    r = vanished(v, "1:5", hm, 0);
    CHECK_STREQ(r, "");
    free(r);
    free(report(v, 1, 0));

    r = vanished(v, "1:5", hm, 0);
    CHECK_STREQ(r, "2,4");
    free(r);
    r = vanished(v, "1:5", hm + 1, 0);
    CHECK_STREQ(r, "4");
    free(r);
    r = vanished(v, "1:5", hm + 2, 0);
    CHECK_STREQ(r, "");
    free(r);
    r = vanished(v, "3:5", hm, 0);
    CHECK_STREQ(r, "4");
    free(r);

    /* A repack forgets the expunges (deletedmodseq = hm+2): asked from
     * before that, every absent UID is listed, up to UIDNEXT-1 and above
     * the floor the client proved. */
    CHECK_INTEQ(mailbox_open(dir, &mb), 0);
    CHECK_INTEQ(mailbox_lock_exclusive(mb), 0);
    CHECK_INTEQ(mailbox_repack(mb, 0), 0);
    mailbox_unlock(mb);
    mailbox_close(&mb);
    r = vanished(v, "1:100", hm + 1, 0);
    CHECK_STREQ(r, "2,4");
    free(r);
    r = vanished(v, "1:100", hm, 3);
    CHECK_STREQ(r, "4");
    free(r);
    r = vanished(v, "1:100", hm + 2, 0);
    CHECK_STREQ(r, "");
    free(r);
    index_close(&v);
    remove_dir(dir);
    free(dir);
}

UNIT_TESTS(UNIT_T(test_open_counts), UNIT_T(test_examine_keeps_recent),
           UNIT_T(test_parse_set), UNIT_T(test_updates),
           UNIT_T(test_store_and_expunge), UNIT_T(test_structure),
           UNIT_T(test_condstore_report), UNIT_T(test_untold_expunge),
           UNIT_T(test_vanished))
