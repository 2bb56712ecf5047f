/* test_lmtp.c -- unit tests for lmtpd's address parsing and DATA reader. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "imap/lmtpd/lmtp_group.h"
#include "imap/lmtpd/lmtpd.h"
#include "imap/store/mailbox.h"
#include "imap/store/quota.h"
#include "lib/cyrusdb.h"
#include "lib/buf.h"
#include "lib/log.h"
#include "lib/prot.h"
#include "lib/test/unit.h"
#include "lib/xmalloc.h"

static struct lmtpd_settings st;

static void settings(int virtdomains, int downcase)
{
    struct mboxname_ns ns = MBOXNAME_NS_INITIALIZER;

    memset(&st, 0, sizeof(st));
    st.ns = ns;
    st.ns.virtdomains = virtdomains;
    st.ns.defaultdomain = "example.com";
    st.ns.isadmin = 1;
    st.postuser = "";
    st.downcase_rcpt = downcase;
    st.strict_rfc2821 = 1;
}

static void test_addr_clean(void)
{
    char *a;

    a = lmtp_addr_clean("fred@example.org");
    CHECK_STREQ(a, "fred@example.org");
    free(a);
    a = lmtp_addr_clean("@relay.a,@relay.b:fred@example.org");
    CHECK_STREQ(a, "fred@example.org");
    free(a);
    a = lmtp_addr_clean("\"fred\"@example.org");
    CHECK_STREQ(a, "fred@example.org");
    free(a);
    a = lmtp_addr_clean("\"f\\\"d\"");
    CHECK_STREQ(a, "f\"d");
    free(a);
    CHECK(lmtp_addr_clean("") == NULL);
    CHECK(lmtp_addr_clean("@relay.a") == NULL);
    CHECK(lmtp_addr_clean("\"open@x") == NULL);
    CHECK(lmtp_addr_clean("fr ed@x") == NULL);
}

static void split(const char *addr, int want_r, const char *want_user,
                  const char *want_detail, int want_shared)
{
    char *user = NULL, *detail = NULL;
    int shared = -1;
    int r = lmtp_addr_split(&st, addr, &user, &detail, &shared);

    CHECK_INTEQ(r, want_r);
    if (!r) {
        if (want_user)
            CHECK_STREQ(user, want_user);
        else
            CHECK(user == NULL);
        if (want_detail)
            CHECK_STREQ(detail, want_detail);
        else
            CHECK(detail == NULL);
        CHECK_INTEQ(shared, want_shared);
    }
    free(user);
    free(detail);
}

static void test_addr_split_plain(void)
{
    settings(0, 1);
    split("fred", 0, "fred", NULL, 0);
    split("Fred@Elsewhere.ORG", 0, "fred", NULL, 0);
    split("fred+work", 0, "fred", "work", 0);
    /* The detail keeps its case; '/' is the separator, '.' is stored
     * as '^' with unixhierarchysep. */
    split("FRED+Lists/Cyrus.Info@x", 0, "fred", "Lists.Cyrus^Info", 0);
    split("fred+", 0, "fred", NULL, 0);
    split("+shared/folder", 0, NULL, "shared.folder", 1);
    split("+", -2, NULL, NULL, 0);
    split("@x", -2, NULL, NULL, 0);
    split("fr\xe9" "d", -1, NULL, NULL, 0);
    settings(0, 0);
    split("Fred", 0, "Fred", NULL, 0);
    st.strict_rfc2821 = 0;
    split("fr\xe9" "d", 0, "frXd", NULL, 0);
}

static void test_addr_split_domains(void)
{
    settings(1, 1);
    split("fred@Example.ORG", 0, "fred@example.org", NULL, 0);
    split("fred@example.com", 0, "fred", NULL, 0);
    split("fred@[127.0.0.1]", 0, "fred", NULL, 0);
    split("fred+x@example.org", 0, "fred@example.org", "x", 0);
    split("+shared@example.org", 0, NULL, "example.org!shared", 1);
    st.postuser = "bb";
    split("bb+shared/folder", 0, NULL, "shared.folder", 1);
    split("+shared", -2, NULL, NULL, 0);
}

/* Run a DATA body through the reader; returns the stored message. */
static char *spool(const char *input, size_t len,
                   const struct lmtp_spool_opts *o, struct lmtp_msg *msg,
                   const char **rest, int *r)
{
    static char restbuf[256];
    FILE *f = tmpfile();
    int null = open("/dev/null", O_WRONLY);
    struct protstream *p;
    const char *base;
    size_t blen;
    char *out;

    fwrite(input, 1, len, f);
    fflush(f);
    rewind(f);
    p = prot_new(fileno(f), null);
    lmtp_msg_init(msg);
    buf_appendcstr(&msg->head, "Return-Path: <a@b>\r\n");
    *r = lmtp_spool_read(p, o, msg);
    size_t n = prot_getline(p, restbuf, sizeof(restbuf));
    restbuf[n] = '\0';
    *rest = restbuf;
    prot_free(&p);
    fclose(f);
    close(null);
    if (lmtp_msg_map(msg, &base, &blen) < 0)
        return NULL;
    out = xstrndup(base, blen);
    lmtp_msg_unmap(msg, base, blen);
    return out;
}

static void test_spool_basic(void)
{
    struct lmtp_spool_opts o = { 0, 0, 1, NULL };
    struct lmtp_msg msg;
    const char *rest;
    int r;
    static const char in[] =
        "Subject: hi\r\nDate: Mon, 1 Jan 2024 00:00:00 +0000\r\n"
        "Message-ID:\r\n <id@x>\r\n\r\n"
        "..dot\r\nbare lf\nbare\rcr\r\n.\r\nMAIL FROM:<next>\r\n";
    char *out = spool(in, sizeof(in) - 1, &o, &msg, &rest, &r);

    CHECK_INTEQ(r, 0);
    CHECK_INTEQ(msg.error, LMTP_OK);
    CHECK_STREQ(out, "Return-Path: <a@b>\r\nSubject: hi\r\n"
                     "Date: Mon, 1 Jan 2024 00:00:00 +0000\r\n"
                     "Message-ID:\r\n <id@x>\r\n\r\n"
                     ".dot\r\nbare lf\r\nbare\r\ncr\r\n");
    CHECK_STREQ(msg.msgid, "<id@x>");
    CHECK_INTEQ(msg.size, strlen(out));
    /* The pipelined command after the body is still in the stream. */
    CHECK_STREQ(rest, "MAIL FROM:<next>\r\n");
    free(out);
    lmtp_msg_fini(&msg);
}

static void test_spool_adds_date(void)
{
    struct lmtp_spool_opts o = { 0, 0, 1, NULL };
    struct lmtp_msg msg;
    const char *rest;
    int r;
    static const char in[] = "Subject: x\r\n\r\nbody\r\n.\r\n";
    char *out = spool(in, sizeof(in) - 1, &o, &msg, &rest, &r);

    CHECK_INTEQ(r, 0);
    CHECK(out && !strncmp(out, "Return-Path: <a@b>\r\nSubject: x\r\nDate: ", 37));
    CHECK(out && strstr(out, "\r\n\r\nbody\r\n") != NULL);
    CHECK(msg.msgid == NULL);
    free(out);
    lmtp_msg_fini(&msg);
}

/* No empty line ends the header: the Date goes after the last field,
 * and a Message-ID that is the last field is still noted. */
static void test_spool_headers_only(void)
{
    struct lmtp_spool_opts o = { 0, 0, 1, NULL };
    struct lmtp_msg msg;
    const char *rest;
    int r;
    static const char in[] = "Subject: x\r\nMessage-ID:\r\n <last@x>\r\n.\r\n";
    char *out = spool(in, sizeof(in) - 1, &o, &msg, &rest, &r);

    CHECK_INTEQ(r, 0);
    CHECK_INTEQ(msg.error, LMTP_OK);
    CHECK(out && !strncmp(out, "Return-Path: <a@b>\r\nSubject: x\r\n"
                               "Message-ID:\r\n <last@x>\r\nDate: ", 62));
    CHECK(out && strlen(out) > 2 && !strcmp(out + strlen(out) - 2, "\r\n"));
    CHECK_STREQ(msg.msgid, "<last@x>");
    free(out);
    lmtp_msg_fini(&msg);

    out = spool(".\r\n", 3, &o, &msg, &rest, &r);
    CHECK_INTEQ(r, 0);
    CHECK(out && !strncmp(out, "Return-Path: <a@b>\r\nDate: ", 26));
    CHECK(msg.msgid == NULL);
    free(out);
    lmtp_msg_fini(&msg);
}

static void test_spool_8bit_and_nul(void)
{
    struct lmtp_spool_opts o = { 0, 0, 1, NULL };
    struct lmtp_msg msg;
    const char *rest;
    int r;
    static const char in8[] =
        "Subject: caf\xc3\xa9\r\nDate: x\r\n\r\ncaf\xc3\xa9\r\n.\r\n";
    char *out = spool(in8, sizeof(in8) - 1, &o, &msg, &rest, &r);

    /* munge8bit: headers only. */
    CHECK(out && strstr(out, "Subject: cafXX\r\n") != NULL);
    CHECK(out && strstr(out, "\r\ncaf\xc3\xa9\r\n") != NULL);
    free(out);
    lmtp_msg_fini(&msg);

    o.reject8bit = 1;
    out = spool(in8, sizeof(in8) - 1, &o, &msg, &rest, &r);
    CHECK_INTEQ(r, 0);
    CHECK_INTEQ(msg.error, LMTP_8BIT);
    free(out);
    lmtp_msg_fini(&msg);

    static const char innul[] = "Subject: x\r\n\r\na\0b\r\n.\r\nNOOP\r\n";
    o.reject8bit = 0;
    out = spool(innul, sizeof(innul) - 1, &o, &msg, &rest, &r);
    CHECK_INTEQ(r, 0);
    CHECK_INTEQ(msg.error, LMTP_NUL);
    CHECK_STREQ(rest, "NOOP\r\n");
    free(out);
    lmtp_msg_fini(&msg);
}

static void test_spool_size_limit(void)
{
    struct lmtp_spool_opts o = { 100, 0, 1, NULL };
    struct lmtp_msg msg;
    struct buf in = BUF_INITIALIZER;
    const char *rest;
    int r;

    buf_appendcstr(&in, "Subject: x\r\nDate: x\r\n\r\n");
    for (int i = 0; i < 20; i++)
        buf_appendcstr(&in, "0123456789\r\n");
    buf_appendcstr(&in, ".\r\nQUIT\r\n");
    char *out = spool(in.s, in.len, &o, &msg, &rest, &r);
    CHECK_INTEQ(r, 0);
    CHECK_INTEQ(msg.error, LMTP_TOOBIG);
    CHECK_STREQ(rest, "QUIT\r\n");
    free(out);
    lmtp_msg_fini(&msg);
    buf_free(&in);
}

static void test_spool_big_spills(void)
{
    struct lmtp_spool_opts o = { 0, 0, 1, NULL };
    struct lmtp_msg msg;
    struct buf in = BUF_INITIALIZER, want = BUF_INITIALIZER;
    const char *rest;
    int r;

    buf_appendcstr(&in, "Subject: big\r\nDate: x\r\n\r\n");
    buf_appendcstr(&want, "Return-Path: <a@b>\r\nSubject: big\r\nDate: x\r\n\r\n");
    /* A 3 MB body with some very long lines. */
    for (int i = 0; i < 3000; i++) {
        for (int j = 0; j < (i % 7 == 0 ? 20 : 1); j++) {
            buf_appendcstr(&in, "abcdefghijklmnopqrstuvwxyz0123456789-----");
            buf_appendcstr(&want, "abcdefghijklmnopqrstuvwxyz0123456789-----");
        }
        buf_appendcstr(&in, ".x\n");
        buf_appendcstr(&want, ".x\r\n");
        buf_appendcstr(&in, ". leading dot\r\n");
        buf_appendcstr(&want, " leading dot\r\n");
    }
    while (in.len < 3 * 1024 * 1024) {
        buf_appendcstr(&in, "filler line of text for the big message\r\n");
        buf_appendcstr(&want, "filler line of text for the big message\r\n");
    }
    buf_appendcstr(&in, ".\r\n");
    char *out = spool(in.s, in.len, &o, &msg, &rest, &r);
    CHECK_INTEQ(r, 0);
    CHECK_INTEQ(msg.error, LMTP_OK);
    CHECK(msg.fd >= 0);
    CHECK_INTEQ(msg.size, want.len);
    CHECK(out && !strcmp(out, buf_cstring(&want)));
    free(out);
    lmtp_msg_fini(&msg);
    buf_free(&in);
    buf_free(&want);
}

static void test_spool_eof(void)
{
    struct lmtp_spool_opts o = { 0, 0, 1, NULL };
    struct lmtp_msg msg;
    const char *rest;
    int r;
    static const char in[] = "Subject: x\r\n\r\nno end\r\n";
    char *out = spool(in, sizeof(in) - 1, &o, &msg, &rest, &r);

    CHECK_INTEQ(r, -1);
    free(out);
    lmtp_msg_fini(&msg);
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
}

/* One process finds another's ticket queued and stores both in one
 * transaction, leaving the other its result. */
static void test_group_commit(void)
{
    char base[] = "/tmp/test_lmtp_group.XXXXXX";
    struct buf p = BUF_INITIALIZER, other = BUF_INITIALIZER;
    struct lmtp_group_args a;
    struct mailbox *mb = NULL;
    enum lmtp_status st;
    uint32_t uid = 0;

    log_set_stderr(1);
    CHECK(mkdtemp(base) != NULL);
    CHECK_INTEQ(cyrusdb_init(base, 0), CYRUSDB_OK);
    CHECK_INTEQ(quota_open(base), QUOTA_OK);
    buf_printf(&p, "%s/mbox", base);
    CHECK_INTEQ(mailbox_create(buf_cstring(&p), "00112233445566778899aabb",
                               "fred\tlrswipkxtecdan\t", "", 1), 0);
    buf_reset(&p);
    buf_printf(&p, "%s/stage.", base);
    mkdir(buf_cstring(&p), 0750);
    buf_printf(&p, "/q.00112233445566778899aabb");
    mkdir(buf_cstring(&p), 0750);
    /* Another process's ticket, older than ours. */
    buf_printf(&other, "%s/0000000001.7.0000abcd.3.q", buf_cstring(&p));
    write_file(buf_cstring(&other), "Subject: other\r\n\r\nfirst\r\n");
    buf_reset(&p);
    buf_printf(&p, "%s/stage./mine", base);
    write_file(buf_cstring(&p), "Subject: mine\r\n\r\nsecond\r\n");

    memset(&a, 0, sizeof(a));
    char *mbdir = strconcat(base, "/mbox", (char *)NULL);
    char *stagedir = strconcat(base, "/stage.", (char *)NULL);
    a.mbdir = mbdir;
    a.mailbox = "user.fred";
    a.uniqueid = "00112233445566778899aabb";
    a.stagedir = stagedir;
    a.stagepath = buf_cstring(&p);
    st = lmtp_group_append(&a, &uid);
    CHECK_INTEQ(st, LMTP_OK);
    CHECK_INTEQ(uid, 2);

    /* Both are in the mailbox, committed. */
    CHECK_INTEQ(mailbox_open(mbdir, &mb), 0);
    CHECK_INTEQ(mailbox_lock_shared(mb), 0);
    CHECK_INTEQ(mailbox_header(mb)->exists, 2);
    mailbox_unlock(mb);
    mailbox_close(&mb);
    /* The other ticket is gone and its result waits in its owner's slot
     * of the lock file (pid 7). */
    CHECK(access(buf_cstring(&other), F_OK) < 0);
    struct lmtp_group_result slot;
    char *lockpath = strconcat(base, "/stage./q.00112233445566778899aabb/"
                               ".lock", (char *)NULL);
    int lfd = open(lockpath, O_RDONLY);
    CHECK(lfd >= 0);
    memset(&slot, 0, sizeof(slot));
    CHECK_INTEQ(pread(lfd, &slot, sizeof(slot), 7 * (off_t)sizeof(slot)),
                (long)sizeof(slot));
    close(lfd);
    free(lockpath);
    CHECK_INTEQ(slot.nonce, 0xabcd);
    CHECK_INTEQ(slot.seq, 3);
    CHECK_INTEQ(slot.status, LMTP_OK);
    CHECK_INTEQ(slot.uid, 1);

    quota_close();
    cyrusdb_done();
    char *cmd = strconcat("rm -rf '", base, "'", (char *)NULL);
    if (system(cmd) != 0)
        printf("# cannot remove %s\n", base);
    free(cmd);
    free(mbdir);
    free(stagedir);
    buf_free(&p);
    buf_free(&other);
}

UNIT_TESTS(UNIT_T(test_addr_clean), UNIT_T(test_addr_split_plain),
           UNIT_T(test_addr_split_domains), UNIT_T(test_spool_basic),
           UNIT_T(test_spool_adds_date), UNIT_T(test_spool_headers_only),
           UNIT_T(test_spool_8bit_and_nul),
           UNIT_T(test_spool_size_limit), UNIT_T(test_spool_big_spills),
           UNIT_T(test_spool_eof), UNIT_T(test_group_commit))
