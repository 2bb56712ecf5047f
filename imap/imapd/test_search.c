/* test_search.c -- SEARCH criteria parsing and matching, without a store.
 *
 * Criteria are fed over a socketpair exactly as a client sends them after
 * "SEARCH"; messages are parsed in memory and offered through a
 * search_source that counts how often the evaluator asks for them.
 */
#include "config.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "imap/imapd/search.h"
#include "lib/test/unit.h"

struct fixture {
    int sv[2];
    struct protstream *p;
    struct imapparse_ctx ctx;
};

static void fx_open(struct fixture *f, const char *input, size_t len)
{
    memset(f, 0, sizeof(*f));
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, f->sv) < 0)
        abort();
    fcntl(f->sv[1], F_SETFL, O_NONBLOCK);
    if (write(f->sv[1], input, len) != (ssize_t)len)
        abort();
    f->p = prot_new(f->sv[0], f->sv[0]);
    prot_settimeout(f->p, 2);
    imapparse_init(&f->ctx, f->p, 1000, 10000);
}

static void fx_close(struct fixture *f)
{
    prot_free(&f->p);
    close(f->sv[0]);
    close(f->sv[1]);
}

/* Parse `criteria` (what follows "SEARCH ") and check the line ended. */
static struct search_program *parse_rc(const char *criteria, int *rc)
{
    struct fixture f;
    struct search_program *prog = NULL;
    char line[2048];

    snprintf(line, sizeof(line), "%s\r\n", criteria);
    fx_open(&f, line, strlen(line));
    *rc = search_parse(&f.ctx, ' ', &prog);
    if (*rc >= 0 && imapparse_eol(&f.ctx, *rc) < 0) {
        *rc = IMAPPARSE_SYNTAX;
        search_free(&prog);
    }
    fx_close(&f);
    return prog;
}

static struct search_program *parse(const char *criteria)
{
    int rc;
    struct search_program *prog = parse_rc(criteria, &rc);
    if (!prog)
        printf("# parse failed (%d): %s\n", rc, criteria);
    return prog;
}

/* --- a message offered through the source --- */

struct testmsg {
    const char *text;
    struct message *msg;
    struct index_record rec;
    struct search_msg sm;
    int header_calls, message_calls;
};

static int tm_header(void *rock, const char *field, const char **base,
                     size_t *len)
{
    struct testmsg *t = rock;
    (void)field;
    t->header_calls++;
    *base = t->msg->base;
    *len = t->msg->parts[0].header_size;
    return 0;
}

static const struct message *tm_message(void *rock)
{
    struct testmsg *t = rock;
    t->message_calls++;
    return t->msg;
}

static void tm_init(struct testmsg *t, const char *text, uint32_t msgno,
                    uint32_t uid)
{
    memset(t, 0, sizeof(*t));
    t->text = text;
    t->msg = message_parse(text, strlen(text));
    t->rec.uid = uid;
    t->rec.size = (uint32_t)strlen(text);
    t->rec.internaldate = 1700000000;
    t->sm.msgno = msgno;
    t->sm.rec = &t->rec;
}

static void tm_fini(struct testmsg *t)
{
    message_free(&t->msg);
}

static int matches(struct search_program *prog, struct testmsg *t)
{
    struct search_source src = { tm_header, tm_message, t };
    return search_match(prog, &t->sm, &src);
}

/* Parse, bind against one message (uid, msgno as maxima) and match. */
static int check(const char *criteria, struct testmsg *t)
{
    struct search_program *prog = parse(criteria);
    int r;

    if (!prog)
        return -1;
    search_bind(prog, t->sm.msgno, t->rec.uid, NULL);
    r = matches(prog, t);
    search_free(&prog);
    return r;
}

static const char plain_msg[] =
    "From: Fred Foobar <foobar@Blurdybloop.example>\r\n"
    "To: mooch@owatagu.example\r\n"
    "Cc: =?ISO-8859-1?Q?Andr=E9?= Pirard <PIRARD@vm1.ulg.ac.be>\r\n"
    "Subject: afternoon\r\n"
    "  meeting plans\r\n"
    "Date: Mon, 1 Jan 2024 23:30:00 -1000\r\n"
    "X-Empty:\r\n"
    "\r\n"
    "Hello Joe, do you think we can meet at 3:30 tomorrow?\r\n";

static void test_flags_and_recent(void)
{
    struct testmsg t;
    tm_init(&t, plain_msg, 1, 10);
    t.sm.system_flags = FLAG_ANSWERED | FLAG_SEEN;
    CHECK_INTEQ(check("ALL", &t), 1);
    CHECK_INTEQ(check("ANSWERED", &t), 1);
    CHECK_INTEQ(check("UNANSWERED", &t), 0);
    CHECK_INTEQ(check("SEEN", &t), 1);
    CHECK_INTEQ(check("UNSEEN", &t), 0);
    CHECK_INTEQ(check("DELETED", &t), 0);
    CHECK_INTEQ(check("UNDELETED", &t), 1);
    CHECK_INTEQ(check("FLAGGED", &t), 0);
    CHECK_INTEQ(check("unflagged", &t), 1);
    CHECK_INTEQ(check("DRAFT", &t), 0);
    CHECK_INTEQ(check("UNDRAFT", &t), 1);
    CHECK_INTEQ(check("RECENT", &t), 0);
    CHECK_INTEQ(check("OLD", &t), 1);
    CHECK_INTEQ(check("NEW", &t), 0);
    t.sm.recent = 1;
    CHECK_INTEQ(check("RECENT", &t), 1);
    CHECK_INTEQ(check("OLD", &t), 0);
    CHECK_INTEQ(check("NEW", &t), 0);     /* recent but seen */
    t.sm.system_flags = FLAG_DRAFT | FLAG_DELETED | FLAG_FLAGGED;
    CHECK_INTEQ(check("NEW", &t), 1);
    CHECK_INTEQ(check("DRAFT DELETED FLAGGED", &t), 1);
    CHECK_INTEQ(check("DRAFT DELETED ANSWERED", &t), 0);
    /* no key looked at the message text */
    CHECK_INTEQ(t.header_calls + t.message_calls, 0);
    tm_fini(&t);
}

static void test_sets(void)
{
    struct testmsg t;
    struct search_program *prog;
    tm_init(&t, plain_msg, 3, 42);
    CHECK_INTEQ(check("3", &t), 1);
    CHECK_INTEQ(check("1:2", &t), 0);
    CHECK_INTEQ(check("1,3:4", &t), 1);
    CHECK_INTEQ(check("*", &t), 1);     /* msgno 3 is the last */
    CHECK_INTEQ(check("UID 42", &t), 1);
    CHECK_INTEQ(check("UID 1:41,43", &t), 0);
    CHECK_INTEQ(check("UID 100:*", &t), 1); /* 100:* is 42:100 */
    CHECK_INTEQ(check("uid 1:*", &t), 1);

    /* "*" follows the bind: with 5 messages, message 3 is not "*" */
    prog = parse("*");
    search_bind(prog, 5, 50, NULL);
    CHECK_INTEQ(matches(prog, &t), 0);
    search_bind(prog, 3, 42, NULL);
    CHECK_INTEQ(matches(prog, &t), 1);
    search_free(&prog);
    tm_fini(&t);
}

static void test_boolean(void)
{
    struct testmsg t;
    tm_init(&t, plain_msg, 1, 7);
    t.sm.system_flags = FLAG_FLAGGED;
    CHECK_INTEQ(check("OR SEEN FLAGGED", &t), 1);
    CHECK_INTEQ(check("OR SEEN DELETED", &t), 0);
    CHECK_INTEQ(check("NOT SEEN", &t), 1);
    CHECK_INTEQ(check("NOT NOT SEEN", &t), 0);
    CHECK_INTEQ(check("(FLAGGED UNSEEN) (UID 7)", &t), 1);
    CHECK_INTEQ(check("(FLAGGED (SEEN))", &t), 0);
    CHECK_INTEQ(check("OR (SEEN DELETED) (NOT ANSWERED UID 7)", &t), 1);
    CHECK_INTEQ(check("NOT (FLAGGED UID 7)", &t), 0);
    CHECK_INTEQ(check("OR OR SEEN DELETED OR DRAFT FLAGGED", &t), 1);
    tm_fini(&t);
}

static void test_size(void)
{
    struct testmsg t;
    tm_init(&t, plain_msg, 1, 1);
    char buf[64];
    snprintf(buf, sizeof(buf), "LARGER %u", t.rec.size - 1);
    CHECK_INTEQ(check(buf, &t), 1);
    snprintf(buf, sizeof(buf), "LARGER %u", t.rec.size);
    CHECK_INTEQ(check(buf, &t), 0);
    snprintf(buf, sizeof(buf), "SMALLER %u", t.rec.size + 1);
    CHECK_INTEQ(check(buf, &t), 1);
    snprintf(buf, sizeof(buf), "SMALLER %u", t.rec.size);
    CHECK_INTEQ(check(buf, &t), 0);
    CHECK_INTEQ(check("SMALLER 4294967295", &t), 1);
    tm_fini(&t);
}

/* Local time of y-m-d h:00. */
static int64_t local_time(int y, int m, int d, int h)
{
    struct tm tm;
    memset(&tm, 0, sizeof(tm));
    tm.tm_year = y - 1900;
    tm.tm_mon = m - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_isdst = -1;
    return (int64_t)mktime(&tm);
}

static void test_internal_dates(void)
{
    struct testmsg t;
    tm_init(&t, plain_msg, 1, 1);
    t.rec.internaldate = local_time(2024, 3, 15, 23);
    CHECK_INTEQ(check("ON 15-Mar-2024", &t), 1);
    CHECK_INTEQ(check("ON \"15-mar-2024\"", &t), 1);
    CHECK_INTEQ(check("ON 16-Mar-2024", &t), 0);
    CHECK_INTEQ(check("BEFORE 15-Mar-2024", &t), 0);
    CHECK_INTEQ(check("BEFORE 16-Mar-2024", &t), 1);
    CHECK_INTEQ(check("SINCE 15-Mar-2024", &t), 1);
    CHECK_INTEQ(check("SINCE 16-Mar-2024", &t), 0);
    t.rec.internaldate = local_time(2024, 3, 15, 0);
    CHECK_INTEQ(check("ON 15-Mar-2024", &t), 1);
    CHECK_INTEQ(check("BEFORE 15-Mar-2024", &t), 0);
    CHECK_INTEQ(check("ON 14-Mar-2024", &t), 0);
    tm_fini(&t);
}

static void test_sent_dates(void)
{
    struct testmsg t;
    /* 23:30 -1000 on 1 Jan is 2 Jan in UTC: the written day counts */
    tm_init(&t, plain_msg, 1, 1);
    t.rec.sentdate = 1704187800;
    CHECK_INTEQ(check("SENTON 1-Jan-2024", &t), 1);
    CHECK_INTEQ(check("SENTON 2-Jan-2024", &t), 0);
    CHECK_INTEQ(check("SENTBEFORE 2-Jan-2024", &t), 1);
    CHECK_INTEQ(check("SENTBEFORE 1-Jan-2024", &t), 0);
    CHECK_INTEQ(check("SENTSINCE 1-Jan-2024", &t), 1);
    CHECK_INTEQ(check("SENTSINCE 2-Jan-2024", &t), 0);
    tm_fini(&t);

    /* no Date: header at all: the internal date stands in (as RFC 5256
     * has SORT do, and as Cyrus searches) */
    tm_init(&t, "Subject: x\r\n\r\nbody\r\n", 1, 1);
    t.rec.internaldate = 1012651200;            /* 2 Feb 2002 12:00 UTC */
    CHECK_INTEQ(check("SENTBEFORE 1-Jan-1990", &t), 0);
    CHECK_INTEQ(check("SENTSINCE 1-Jan-1990", &t), 1);
    CHECK_INTEQ(check("SENTON 2-Feb-2002", &t), 1);
    CHECK_INTEQ(check("SENTBEFORE 2-Feb-2002", &t), 0);
    tm_fini(&t);

    int ymd = 0;
    CHECK_INTEQ(search_header_date(" 5 Feb 99 10:00 GMT", 19, &ymd), 0);
    CHECK_INTEQ(ymd, 19990205);
    CHECK_INTEQ(search_header_date("Tue (comment), 07 Dec 2021 1:2:3 +0100",
                                   38, &ymd), 0);
    CHECK_INTEQ(ymd, 20211207);
    CHECK_INTEQ(search_header_date("garbage", 7, &ymd), -1);
}

static void test_headers(void)
{
    struct testmsg t;
    tm_init(&t, plain_msg, 1, 1);
    CHECK_INTEQ(check("FROM foobar", &t), 1);
    CHECK_INTEQ(check("FROM BLURDYBLOOP", &t), 1);   /* any case */
    CHECK_INTEQ(check("FROM mooch", &t), 0);
    CHECK_INTEQ(check("TO mooch", &t), 1);
    CHECK_INTEQ(check("TO \"Fred Foobar\"", &t), 0);
    int rc;
    /* 8-bit text must come as a literal */
    CHECK(parse_rc("CC \"andr\xc3\xa9 pirard\"", &rc) == NULL);
    CHECK_INTEQ(rc, IMAPPARSE_SYNTAX);
    CHECK_INTEQ(check("CHARSET UTF-8 CC {13}\r\nandr\xc3\xa9 pirard", &t), 1);
    CHECK_INTEQ(check("CHARSET ISO-8859-1 CC {12}\r\nANDR\xc9 PIRARD", &t), 1);
    CHECK_INTEQ(check("CC andre", &t), 1);  /* NFKD: e + accent */
    CHECK_INTEQ(check("CC andrew", &t), 0);
    CHECK_INTEQ(check("BCC foobar", &t), 0);
    CHECK_INTEQ(check("SUBJECT \"afternoon meeting\"", &t), 0); /* 2 blanks */
    CHECK_INTEQ(check("SUBJECT \"meeting PLANS\"", &t), 1);  /* folded */
    CHECK_INTEQ(check("SUBJECT {9}\r\nafternoon", &t), 1);
    CHECK_INTEQ(check("HEADER x-empty \"\"", &t), 1);   /* has the field */
    CHECK_INTEQ(check("HEADER X-Missing \"\"", &t), 0);
    CHECK_INTEQ(check("HEADER Subject plans", &t), 1);
    CHECK_INTEQ(check("HEADER date 2024", &t), 1);
    CHECK_INTEQ(check("SUBJECT hello", &t), 0);   /* body text */
    CHECK_INTEQ(check("FROM \"\"", &t), 1);
    CHECK_INTEQ(check("BCC \"\"", &t), 0);   /* no Bcc: field */
    tm_fini(&t);
}

static const char multipart_msg[] =
    "From: a@example.com\r\n"
    "Subject: parts\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: multipart/mixed; boundary=\"XX\"\r\n"
    "\r\n"
    "preamble words\r\n"
    "--XX\r\n"
    "Content-Type: text/plain; charset=iso-8859-1\r\n"
    "Content-Transfer-Encoding: quoted-printable\r\n"
    "\r\n"
    "Caf=E9 cr=E8me, soft=\r\n"
    "break\r\n"
    "--XX\r\n"
    "Content-Type: text/html; charset=utf-8\r\n"
    "Content-Transfer-Encoding: base64\r\n"
    "\r\n"
    "PGI+U2Vjb25kIHBhcnQ8L2I+\r\n"
    "--XX\r\n"
    "Content-Type: application/octet-stream\r\n"
    "\r\n"
    "binaryneedle\r\n"
    "--XX\r\n"
    "Content-Type: message/rfc822\r\n"
    "\r\n"
    "Subject: inner subject\r\n"
    "\r\n"
    "inner body\r\n"
    "--XX--\r\n"
    "epilogue\r\n";

static void test_body_and_text(void)
{
    struct testmsg t;
    tm_init(&t, multipart_msg, 1, 1);
    CHECK_INTEQ(check("BODY \"softbreak\"", &t), 1);     /* QP decoded */
    CHECK_INTEQ(check("CHARSET UTF-8 BODY {12}\r\nCAF\xc3\x89 CR\xc3\x88ME",
                      &t), 1);
    CHECK_INTEQ(check("BODY \"second part\"", &t), 1);   /* base64 */
    CHECK_INTEQ(check("BODY UGI", &t), 0);               /* not raw */
    CHECK_INTEQ(check("BODY binaryneedle", &t), 0);      /* not text */
    CHECK_INTEQ(check("BODY \"inner body\"", &t), 1);
    CHECK_INTEQ(check("BODY \"inner subject\"", &t), 1); /* attached header */
    CHECK_INTEQ(check("BODY parts", &t), 0);             /* top header */
    CHECK_INTEQ(check("BODY preamble", &t), 0);
    CHECK_INTEQ(check("TEXT parts", &t), 1);
    CHECK_INTEQ(check("TEXT \"subject: PARTS\"", &t), 1);
    CHECK_INTEQ(check("TEXT crEMe", &t), 0);  /* needs the accent */
    CHECK_INTEQ(check("TEXT \"second part\"", &t), 1);
    CHECK_INTEQ(check("TEXT nowhere", &t), 0);
    CHECK_INTEQ(check("BODY \"\"", &t), 1);
    tm_fini(&t);
}

static void test_cheap_keys_first(void)
{
    struct testmsg t;
    tm_init(&t, plain_msg, 1, 1);
    /* the body and header keys come first, but the flag decides */
    CHECK_INTEQ(check("BODY hello SUBJECT plans DELETED", &t), 0);
    CHECK_INTEQ(t.message_calls, 0);
    CHECK_INTEQ(t.header_calls, 0);
    CHECK_INTEQ(check("BODY hello SUBJECT plans UNDELETED", &t), 1);
    CHECK_INTEQ(t.message_calls, 1);
    CHECK_INTEQ(t.header_calls, 1);
    tm_fini(&t);
}

static void test_keywords(void)
{
    struct testmsg t;
    struct search_program *prog;
    strarray_t kw = STRARRAY_INITIALIZER;
    strarray_append(&kw, "$Forwarded");
    strarray_append(&kw, "Junk");
    tm_init(&t, plain_msg, 1, 1);
    t.rec.user_flags[0] = 1u << 1;     /* Junk */

    prog = parse("KEYWORD junk");
    search_bind(prog, 1, 1, &kw);
    CHECK_INTEQ(matches(prog, &t), 1);
    search_free(&prog);
    prog = parse("KEYWORD $Forwarded");
    search_bind(prog, 1, 1, &kw);
    CHECK_INTEQ(matches(prog, &t), 0);
    search_free(&prog);
    prog = parse("UNKEYWORD $Forwarded UNKEYWORD NoSuchFlag");
    search_bind(prog, 1, 1, &kw);
    CHECK_INTEQ(matches(prog, &t), 1);
    search_free(&prog);
    prog = parse("KEYWORD NoSuchFlag");
    search_bind(prog, 1, 1, &kw);
    CHECK_INTEQ(matches(prog, &t), 0);
    search_free(&prog);
    strarray_fini(&kw);
    tm_fini(&t);
}

static void test_syntax_errors(void)
{
    static const char *const bad[] = {
        "", "FOO", "ALL)", "(ALL", "()", "OR ALL", "NOT", "BEFORE",
        "BEFORE 32-Jan-2020", "BEFORE 1-Jan-20", "BEFORE 1-Foo-2020",
        "BEFORE 1-Jan-2020x", "ON 2020-01-01", "LARGER x", "LARGER -1",
        "SMALLER 4294967296", "UID", "UID abc", "UID 0", "0", "1:x",
        "HEADER subject", "KEYWORD \\Seen", "SUBJECT", "ALL  SEEN",
        "CHARSET", "CHARSET UTF-8", "SUBJECT \"unterminated",
        "SEEN ALL CHARSET UTF-8 ALL",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int rc;
        struct search_program *prog = parse_rc(bad[i], &rc);
        if (prog || rc >= 0)
            printf("# accepted: \"%s\"\n", bad[i]);
        CHECK(prog == NULL);
        CHECK(rc == IMAPPARSE_SYNTAX);
        search_free(&prog);
    }
}

/* After a failure the rest of the line is skipped and the next command
 * reads cleanly, whatever the error. */
static void test_resync(void)
{
    static const char *const lines[] = {
        "FOO BAR\r\nnext\r\n",
        "BEFORE 99-Jan-2020 SEEN\r\nnext\r\n",
        "CHARSET KLINGON SUBJECT x\r\nnext\r\n",
        "SUBJECT x)\r\nnext\r\n",
        "(SEEN\r\nnext\r\n",
    };
    for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
        struct fixture f;
        struct search_program *prog = NULL;
        struct buf w = BUF_INITIALIZER;
        fx_open(&f, lines[i], strlen(lines[i]));
        int rc = search_parse(&f.ctx, ' ', &prog);
        CHECK(rc < 0);
        CHECK(prog == NULL);
        imapparse_skipline(&f.ctx, rc);
        CHECK_INTEQ(imapparse_word(&f.ctx, &w), '\r');
        CHECK_STREQ(buf_cstring(&w), "next");
        buf_free(&w);
        fx_close(&f);
    }
}

static void test_charset(void)
{
    int rc;
    struct search_program *prog;
    prog = parse_rc("CHARSET KLINGON ALL", &rc);
    CHECK(prog == NULL);
    CHECK_INTEQ(rc, SEARCH_BADCHARSET);
    prog = parse_rc("charset us-ascii ALL", &rc);
    CHECK(prog != NULL);
    search_free(&prog);
    prog = parse_rc("CHARSET \"UTF-8\" ALL", &rc);
    CHECK(prog != NULL);
    search_free(&prog);
    prog = parse_rc("CHARSET windows-1252 SUBJECT x", &rc);
    CHECK(prog != NULL);
    search_free(&prog);
}

static void test_literal_continuation(void)
{
    struct fixture f;
    struct search_program *prog = NULL;
    const char *line = "SUBJECT {5}\r\nhello\r\n";
    char out[64];
    fx_open(&f, line, strlen(line));
    int rc = search_parse(&f.ctx, ' ', &prog);
    CHECK(prog != NULL);
    CHECK_INTEQ(imapparse_eol(&f.ctx, rc), 0);
    prot_flush(f.p);
    ssize_t n = read(f.sv[1], out, sizeof(out) - 1);
    out[n > 0 ? n : 0] = '\0';
    CHECK_STREQ(out, "+ go ahead\r\n");
    search_free(&prog);
    fx_close(&f);
}

static void test_deep_nesting_refused(void)
{
    char line[1024] = "";
    int rc;
    for (int i = 0; i < 200; i++)
        strcat(line, "NOT ");
    strcat(line, "ALL");
    struct search_program *prog = parse_rc(line, &rc);
    CHECK(prog == NULL);
    CHECK_INTEQ(rc, IMAPPARSE_SYNTAX);
}

static void test_parse_date(void)
{
    int ymd = 0;
    CHECK_INTEQ(search_parse_date("1-Feb-1994", &ymd), 0);
    CHECK_INTEQ(ymd, 19940201);
    CHECK_INTEQ(search_parse_date("31-dec-2023", &ymd), 0);
    CHECK_INTEQ(ymd, 20231231);
    CHECK_INTEQ(search_parse_date("001-Feb-1994", &ymd), -1);
    CHECK_INTEQ(search_parse_date("1-Feb-94", &ymd), -1);
    CHECK_INTEQ(search_parse_date("0-Feb-1994", &ymd), -1);
    CHECK_INTEQ(search_parse_date("1 Feb 1994", &ymd), -1);
}

static void test_modseq(void)
{
    static const char *const bad[] = {
        "MODSEQ", "MODSEQ x", "MODSEQ 9223372036854775808",
        "MODSEQ \"/flags/\\\\seen\" 5", "MODSEQ \"/flags/\\\\seen\" any 5",
        "MODSEQ \"/other/x\" all 5",
    };
    struct search_program *prog;
    struct testmsg t;

    tm_init(&t, plain_msg, 1, 1);
    t.rec.modseq = 10;
    CHECK_INTEQ(check("MODSEQ 10", &t), 1);
    CHECK_INTEQ(check("MODSEQ 11", &t), 0);
    CHECK_INTEQ(check("MODSEQ 0", &t), 1);
    CHECK_INTEQ(check("MODSEQ 9223372036854775807", &t), 0);
    /* Entry name and type are accepted and, with one modseq per
     * message, ignored (RFC 7162 3.1.5). */
    CHECK_INTEQ(check("MODSEQ \"/flags/\\\\draft\" all 7", &t), 1);
    CHECK_INTEQ(check("NOT MODSEQ \"/flags/$mdnsent\" priv 7", &t), 0);
    prog = parse("SEEN MODSEQ 3");
    CHECK(prog && search_uses_modseq(prog));
    search_free(&prog);
    prog = parse("SEEN LARGER 3");
    CHECK(prog && !search_uses_modseq(prog));
    search_free(&prog);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int rc;

        prog = parse_rc(bad[i], &rc);
        if (prog)
            printf("# accepted: \"%s\"\n", bad[i]);
        CHECK(prog == NULL);
        search_free(&prog);
    }
    tm_fini(&t);
}

/* RFC 5032 OLDER / YOUNGER against the time of parsing. */
static void test_within(void)
{
    struct testmsg t;
    time_t now = time(NULL);

    tm_init(&t, plain_msg, 1, 1);
    t.rec.internaldate = (int64_t)now - 7200;
    CHECK_INTEQ(check("OLDER 3600", &t), 1);
    CHECK_INTEQ(check("OLDER 86400", &t), 0);
    CHECK_INTEQ(check("YOUNGER 86400", &t), 1);
    CHECK_INTEQ(check("YOUNGER 3600", &t), 0);
    CHECK_INTEQ(check("NOT YOUNGER 3600 OLDER 60", &t), 1);
    CHECK(parse_rc("OLDER 0", &(int){0}) == NULL);
    CHECK(parse_rc("YOUNGER", &(int){0}) == NULL);
    CHECK(parse_rc("YOUNGER 1x", &(int){0}) == NULL);
    tm_fini(&t);
}

/* RFC 5182 "$": the UIDs bound with search_bind_saved. */
static void test_saved_result(void)
{
    struct seqset saved = SEQSET_INITIALIZER;
    struct search_program *prog;
    struct testmsg t;
    int rc;

    tm_init(&t, plain_msg, 3, 7);
    seqset_add(&saved, 7);
    static const char *const yes[] = { "$", "UID $", "OR $ 1", "($ 3) $" };
    for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
        prog = parse(yes[i]);
        search_bind(prog, 3, 7, NULL);
        search_bind_saved(prog, &saved);
        CHECK_INTEQ(matches(prog, &t), 1);
        /* unbound, "$" names nothing */
        search_bind_saved(prog, NULL);
        CHECK_INTEQ(matches(prog, &t), 0);
        search_free(&prog);
    }
    prog = parse("NOT $");
    search_bind_saved(prog, &saved);
    CHECK_INTEQ(matches(prog, &t), 0);
    seqset_remove(&saved, 7);
    CHECK_INTEQ(matches(prog, &t), 1);
    search_free(&prog);
    CHECK(parse_rc("$1", &rc) == NULL);
    CHECK(parse_rc("$:3", &rc) == NULL);
    seqset_fini(&saved);
    tm_fini(&t);
}

/* Parse with RETURN allowed; *ret as the parser left it. */
static struct search_program *parse_ret(const char *criteria,
                                        struct search_return *ret,
                                        const char *charset, int *rc)
{
    struct fixture f;
    struct search_program *prog = NULL;
    char line[2048];

    snprintf(line, sizeof(line), "%s\r\n", criteria);
    fx_open(&f, line, strlen(line));
    memset(ret, 0, sizeof(*ret));
    *rc = search_parse_ext(&f.ctx, ' ', ret, charset, &prog);
    if (*rc >= 0 && imapparse_eol(&f.ctx, *rc) < 0) {
        *rc = IMAPPARSE_SYNTAX;
        search_free(&prog);
    }
    fx_close(&f);
    return prog;
}

/* Every one of `bad` is refused; with `want_rc`, with that code. */
static void check_refused(const char *const *bad, size_t n, int want_rc)
{
    struct search_return ret;
    struct search_program *prog;
    int rc;

    for (size_t i = 0; i < n; i++) {
        prog = parse_ret(bad[i], &ret, NULL, &rc);
        if (prog)
            printf("# accepted: \"%s\"\n", bad[i]);
        CHECK(prog == NULL);
        if (want_rc)
            CHECK_INTEQ(rc, want_rc);
        search_free(&prog);
    }
}

static void test_return_options(void)
{
    static const char *const bad[] = {
        "RETURN (MIN", "RETURN MIN ALL", "RETURN (BOGUS) ALL",
        "RETURN (MIN)", "RETURN (MIN) RETURN (MAX) ALL", "ALL RETURN (MIN)",
        "RETURN(MIN) ALL", "RETURN (MIN)ALL",
    };
    struct search_return ret;
    struct search_program *prog;
    int rc;

    prog = parse_ret("RETURN (min Max ALL count SAVE) CHARSET UTF-8 ALL", &ret,
                     NULL, &rc);
    CHECK(prog != NULL);
    CHECK_INTEQ(ret.present, 1);
    CHECK_INTEQ(ret.opts, SEARCH_RETURN_MIN | SEARCH_RETURN_MAX |
                          SEARCH_RETURN_ALL | SEARCH_RETURN_COUNT |
                          SEARCH_RETURN_SAVE);
    search_free(&prog);
    prog = parse_ret("RETURN () SEEN", &ret, NULL, &rc);
    CHECK(prog != NULL);
    CHECK_INTEQ(ret.opts, SEARCH_RETURN_ALL);
    search_free(&prog);
    prog = parse_ret("SEEN", &ret, NULL, &rc);
    CHECK(prog != NULL);
    CHECK_INTEQ(ret.present, 0);
    search_free(&prog);
    check_refused(bad, sizeof(bad) / sizeof(bad[0]), 0);
    /* a charset given before the keys (SORT, THREAD) */
    prog = parse_ret("ALL", &ret, "us-ascii", &rc);
    CHECK(prog != NULL);
    search_free(&prog);
    prog = parse_ret("CHARSET UTF-8 ALL", &ret, "UTF-8", &rc);
    CHECK(prog == NULL);
    prog = parse_ret("ALL", &ret, "X-NO-SUCH-CHARSET", &rc);
    CHECK(prog == NULL);
    CHECK_INTEQ(rc, SEARCH_BADCHARSET);
}

/* RFC 5267 options: PARTIAL ranges (and RFC 9394's negative ones),
 * UPDATE, CONTEXT as a hint. */
static void test_context_options(void)
{
    static const char *const bad[] = {
        "RETURN (PARTIAL) ALL", "RETURN (PARTIAL 1) ALL",
        "RETURN (PARTIAL 1:*) ALL", "RETURN (PARTIAL *:1) ALL",
        "RETURN (PARTIAL 0:5) ALL", "RETURN (PARTIAL 1:-5) ALL",
        "RETURN (PARTIAL -1:5) ALL", "RETURN (PARTIAL 1:4294967296) ALL",
        "RETURN (PARTIAL 1:2 PARTIAL 3:4) ALL",
        "RETURN (ALL PARTIAL 1:2) ALL", "RETURN (PARTIAL 1:2 ALL) ALL",
        "RETURN (PARTIAL 01:2) ALL", "RETURN (PARTIAL 1:2,4) ALL",
        "RETURN (UPDATE (UID)) ALL",
    };
    struct search_return ret;
    struct search_program *prog;
    int rc;

    prog = parse_ret("RETURN (PARTIAL 4:2 COUNT) ALL", &ret, NULL, &rc);
    CHECK(prog != NULL);
    CHECK_INTEQ(ret.opts, SEARCH_RETURN_PARTIAL | SEARCH_RETURN_COUNT);
    CHECK_INTEQ(ret.partial_lo, 2);
    CHECK_INTEQ(ret.partial_hi, 4);
    search_free(&prog);
    prog = parse_ret("RETURN (partial -5:-1) ALL", &ret, NULL, &rc);
    CHECK(prog != NULL);
    CHECK_INTEQ(ret.partial_lo, -1);
    CHECK_INTEQ(ret.partial_hi, -5);
    search_free(&prog);
    prog = parse_ret("RETURN (PARTIAL 1:4294967295) ALL", &ret, NULL, &rc);
    CHECK(prog != NULL);
    CHECK_INTEQ(ret.partial_hi, 4294967295LL);
    search_free(&prog);
    /* UPDATE alone asks for no result; CONTEXT alone is "()" */
    prog = parse_ret("RETURN (UPDATE) ALL", &ret, NULL, &rc);
    CHECK(prog != NULL);
    CHECK_INTEQ(ret.opts, SEARCH_RETURN_UPDATE);
    search_free(&prog);
    prog = parse_ret("RETURN (CONTEXT) ALL", &ret, NULL, &rc);
    CHECK(prog != NULL);
    CHECK_INTEQ(ret.opts, SEARCH_RETURN_CONTEXT | SEARCH_RETURN_ALL);
    search_free(&prog);
    prog = parse_ret("RETURN (CONTEXT UPDATE COUNT) ALL", &ret, NULL, &rc);
    CHECK(prog != NULL);
    CHECK_INTEQ(ret.opts, SEARCH_RETURN_CONTEXT | SEARCH_RETURN_UPDATE |
                          SEARCH_RETURN_COUNT);
    search_free(&prog);
    check_refused(bad, sizeof(bad) / sizeof(bad[0]), IMAPPARSE_SYNTAX);
}

static uint32_t odd_uid(void *rock, uint32_t msgno)
{
    (void)rock;
    return 2 * msgno + 1;      /* 1 -> 3, 2 -> 5, 3 -> 7 */
}

/* search_freeze(): sequence numbers and "$" keep naming the messages
 * they named, however the numbers and the saved result change. */
static void test_freeze(void)
{
    struct seqset saved = SEQSET_INITIALIZER;
    struct search_program *prog;
    struct testmsg t;

    tm_init(&t, plain_msg, 1, 7);   /* was message 3, now message 1 */
    prog = parse("2:*");
    search_bind(prog, 3, 7, NULL);
    search_freeze(prog, 3, odd_uid, NULL);
    search_bind(prog, 1, 7, NULL);
    CHECK_INTEQ(matches(prog, &t), 1);
    t.rec.uid = 3;                  /* message 1 then: not in 2:* */
    CHECK_INTEQ(matches(prog, &t), 0);
    search_free(&prog);

    /* "UID 5:*" stays 5:7 when larger UIDs come */
    prog = parse("UID 5:*");
    search_bind(prog, 3, 7, NULL);
    search_freeze(prog, 3, odd_uid, NULL);
    search_bind(prog, 4, 9, NULL);
    t.rec.uid = 9;
    CHECK_INTEQ(matches(prog, &t), 0);
    t.rec.uid = 7;
    CHECK_INTEQ(matches(prog, &t), 1);
    search_free(&prog);

    seqset_add(&saved, 7);
    prog = parse("$");
    search_bind_saved(prog, &saved);
    search_freeze(prog, 3, odd_uid, NULL);
    seqset_remove(&saved, 7);
    seqset_add(&saved, 9);
    search_bind_saved(prog, &saved);
    CHECK_INTEQ(matches(prog, &t), 1);
    t.rec.uid = 9;
    CHECK_INTEQ(matches(prog, &t), 0);
    search_free(&prog);
    seqset_fini(&saved);
    tm_fini(&t);
}

/* search_rebase_time(): OLDER and YOUNGER count from the new time. */
static void test_rebase_time(void)
{
    struct search_program *prog;
    struct testmsg t;

    tm_init(&t, plain_msg, 1, 1);
    t.rec.internaldate = (int64_t)time(NULL) - 100;
    prog = parse("YOUNGER 150");
    CHECK_INTEQ(matches(prog, &t), 1);
    CHECK_INTEQ(search_rebase_time(prog, (int64_t)time(NULL) + 60), 1);
    CHECK_INTEQ(matches(prog, &t), 0);
    search_free(&prog);
    prog = parse("NOT OLDER 150");
    search_rebase_time(prog, (int64_t)time(NULL) + 60);
    CHECK_INTEQ(matches(prog, &t), 0);
    search_free(&prog);
    prog = parse("SEEN");
    CHECK_INTEQ(search_rebase_time(prog, 0), 0);
    search_free(&prog);
    tm_fini(&t);
}

UNIT_TESTS(UNIT_T(test_flags_and_recent), UNIT_T(test_sets),
           UNIT_T(test_boolean), UNIT_T(test_size),
           UNIT_T(test_internal_dates), UNIT_T(test_sent_dates),
           UNIT_T(test_headers), UNIT_T(test_body_and_text),
           UNIT_T(test_cheap_keys_first), UNIT_T(test_keywords),
           UNIT_T(test_syntax_errors), UNIT_T(test_resync),
           UNIT_T(test_charset), UNIT_T(test_literal_continuation),
           UNIT_T(test_deep_nesting_refused), UNIT_T(test_parse_date),
           UNIT_T(test_modseq), UNIT_T(test_within),
           UNIT_T(test_saved_result), UNIT_T(test_return_options),
           UNIT_T(test_context_options), UNIT_T(test_freeze),
           UNIT_T(test_rebase_time))
