/* test_sort.c -- base subjects, envelope keys, criteria and orderings. */
#include "config.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "imap/imapd/sort.h"
#include "lib/test/unit.h"

static const char *base(const char *subject, int *reply)
{
    static struct buf out;

    buf_reset(&out);
    sort_base_subject(subject, subject ? strlen(subject) : 0, &out, reply);
    return buf_cstring(&out);
}

static void check_base(const char *subject, const char *want, int want_reply)
{
    int reply = -1;
    const char *got = base(subject, &reply);

    if (strcmp(got, want) || reply != want_reply)
        printf("# subject \"%s\"\n", subject);
    CHECK_STREQ(got, want);
    CHECK_INTEQ(reply, want_reply);
}

static void test_base_subject(void)
{
    check_base("hello", "hello", 0);
    check_base("", "", 0);
    check_base(NULL, "", 0);
    /* (1) blanks and continuations */
    check_base("  a\t\tb \r\n  c  ", "a b c", 0);
    /* (2) trailers, repeatedly */
    check_base("hello (fwd)", "hello", 1);
    check_base("hello (FWD) (fwd)  ", "hello", 1);
    check_base("hello(fwd)", "hello", 1);
    /* (3) leaders: re, fw, fwd with blobs around them */
    check_base("Re: hello", "hello", 1);
    check_base("RE:hello", "hello", 1);
    check_base("re : hello", "hello", 1);
    check_base("Fw: hello", "hello", 1);
    check_base("FWD: hello", "hello", 1);
    check_base("Re[2]: hello", "hello", 1);
    check_base("Re [2]: hello", "hello", 1);
    check_base("[list] Re: hello", "hello", 1);
    check_base("Re: Re: Fwd: re: hello", "hello", 1);
    check_base("Re: [list] Fwd: hello", "hello", 1);
    /* (4) a blob goes only when something is left */
    check_base("[list] hello", "hello", 0);
    check_base("[a] [b] hello", "hello", 0);
    check_base("[list]", "[list]", 0);
    check_base("[a] [b]", "[b]", 0);
    check_base("[list]   ", "[list]", 0);
    /* not leaders */
    check_base("Reply: hello", "Reply: hello", 0);
    check_base("Ref: hello", "Ref: hello", 0);
    check_base("Fwx: hello", "Fwx: hello", 0);
    check_base("hello re:", "hello re:", 0);
    check_base("[unclosed hello", "[unclosed hello", 0);
    /* (6) [fwd: ...] and starting over */
    check_base("[fwd: hello]", "hello", 1);
    check_base("[Fwd: Re: hello (fwd)]", "hello", 1);
    check_base("[fwd: [fwd: hello]]", "hello", 1);
    check_base("Re: [fwd: hello]", "hello", 1);
    check_base("[fwd: hello] extra", "extra", 0);   /* a blob, step (4) */
    /* RFC 2047 words are decoded first */
    check_base("=?UTF-8?Q?Re=3A_caf=C3=A9?=", "caf\xc3\xa9", 1);
    check_base("=?ISO-8859-1?B?UmU6IGhhbGxv?=", "hallo", 1);
    check_base("Re: =?UTF-8?Q?=5Blist=5D?= x", "x", 1);
}

static const char env_sample[] =
    "(\"Mon, 1 Jan 2024 12:00:00 +0000\" \"Re: \\\"quoted\\\" subj\" "
    "((NIL NIL \"undisclosed\" NIL)(NIL NIL NIL NIL)(\"=?UTF-8?Q?J=C3=B6?=\""
    " NIL \"jo\" \"example.com\")) "
    "((\"Jo\" NIL \"jo\" \"example.com\")) NIL "
    "((NIL NIL \"To\" \"x.org\")(\"B\" NIL \"b\" \"y.org\")) NIL NIL "
    "\"<parent@x>\" {8}\r\n<id@x.y>)";

static void test_envelope_readers(void)
{
    struct buf v = BUF_INITIALIZER, n = BUF_INITIALIZER, m = BUF_INITIALIZER,
               h = BUF_INITIALIZER;
    size_t len = strlen(env_sample);

    CHECK_INTEQ(sort_envelope_string(env_sample, len, MESSAGE_ENV_SUBJECT,
                                     &v), 1);
    CHECK_STREQ(buf_cstring(&v), "Re: \"quoted\" subj");
    CHECK_INTEQ(sort_envelope_string(env_sample, len, MESSAGE_ENV_DATE, &v),
                1);
    CHECK_STREQ(buf_cstring(&v), "Mon, 1 Jan 2024 12:00:00 +0000");
    CHECK_INTEQ(sort_envelope_string(env_sample, len,
                                     MESSAGE_ENV_IN_REPLY_TO, &v), 1);
    CHECK_STREQ(buf_cstring(&v), "<parent@x>");
    /* a literal */
    CHECK_INTEQ(sort_envelope_string(env_sample, len,
                                     MESSAGE_ENV_MESSAGE_ID, &v), 1);
    CHECK_STREQ(buf_cstring(&v), "<id@x.y>");
    /* NIL */
    CHECK_INTEQ(sort_envelope_string(env_sample, len, MESSAGE_ENV_BCC, &v), 0);

    /* group markers are skipped */
    CHECK_INTEQ(sort_envelope_address(env_sample, len, MESSAGE_ENV_FROM, &n,
                                      &m, &h), 1);
    CHECK_STREQ(buf_cstring(&n), "=?UTF-8?Q?J=C3=B6?=");
    CHECK_STREQ(buf_cstring(&m), "jo");
    CHECK_STREQ(buf_cstring(&h), "example.com");
    CHECK_INTEQ(sort_envelope_address(env_sample, len, MESSAGE_ENV_TO, &n,
                                      &m, &h), 1);
    CHECK_STREQ(buf_cstring(&n), "");
    CHECK_STREQ(buf_cstring(&m), "To");
    CHECK_INTEQ(sort_envelope_address(env_sample, len, MESSAGE_ENV_CC, &n,
                                      &m, &h), 0);
    CHECK_INTEQ(sort_envelope_address(env_sample, len, MESSAGE_ENV_REPLY_TO,
                                      &n, &m, &h), 0);

    /* damaged text never reads out of bounds */
    for (size_t cut = 0; cut < len; cut++) {
        sort_envelope_string(env_sample, cut, MESSAGE_ENV_MESSAGE_ID, &v);
        sort_envelope_address(env_sample, cut, MESSAGE_ENV_TO, &n, &m, &h);
    }
    CHECK_INTEQ(sort_envelope_string("garbage", 7, MESSAGE_ENV_SUBJECT, &v),
                0);
    CHECK_INTEQ(sort_envelope_string("(\"a\" {99}\r\nx)",
                                     strlen("(\"a\" {99}\r\nx)"),
                                     MESSAGE_ENV_SUBJECT, &v), 0);
    buf_free(&v);
    buf_free(&n);
    buf_free(&m);
    buf_free(&h);
}

static int parse_criteria(const char *text, struct sort_criteria *crit,
                          int *next)
{
    int sv[2], rc;
    struct protstream *p;
    struct imapparse_ctx ctx;

    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
        abort();
    if (write(sv[1], text, strlen(text)) != (ssize_t)strlen(text))
        abort();
    p = prot_new(sv[0], sv[0]);
    prot_settimeout(p, 2);
    imapparse_init(&ctx, p, 1000, 10000);
    rc = sort_parse_criteria(&ctx, crit);
    *next = rc;
    prot_free(&p);
    close(sv[0]);
    close(sv[1]);
    return rc < 0 ? rc : 0;
}

static void test_parse_criteria(void)
{
    struct sort_criteria crit;
    int next;

    CHECK_INTEQ(parse_criteria("(subject REVERSE date DisplayFrom) x", &crit,
                               &next), 0);
    CHECK_INTEQ(next, ' ');
    CHECK_INTEQ(crit.n, 3);
    CHECK_INTEQ(crit.c[0].key, SORT_SUBJECT);
    CHECK_INTEQ(crit.c[0].reverse, 0);
    CHECK_INTEQ(crit.c[1].key, SORT_DATE);
    CHECK_INTEQ(crit.c[1].reverse, 1);
    CHECK_INTEQ(crit.c[2].key, SORT_DISPLAYFROM);
    CHECK(sort_needs_envelope(&crit));
    CHECK_INTEQ(parse_criteria("(ARRIVAL SIZE DATE uid MODSEQ)\r\n", &crit,
                               &next), 0);
    CHECK_INTEQ(crit.n, 5);
    CHECK_INTEQ(crit.c[3].key, SORT_UID);
    CHECK(!sort_needs_envelope(&crit));

    static const char *const bad[] = {
        "() x", "(REVERSE) x", "(REVERSE REVERSE DATE) x", "(BOGUS) x",
        "SUBJECT x", "(SUBJECT x", "(SUBJECT  DATE) x", "(SUBJECT)x",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int r = parse_criteria(bad[i], &crit, &next);
        if (r == 0 && next == ' ')
            printf("# accepted: %s\n", bad[i]);
        CHECK(r < 0 || next != ' ');
    }
}

static void add(struct sort_set *set, uint32_t msgno, int64_t date,
                uint32_t size, const char *env)
{
    struct sort_item it;

    memset(&it, 0, sizeof(it));
    it.num = it.uid = it.msgno = msgno;
    it.size = size;
    it.date = date;
    it.arrival = 1000 - msgno;
    sort_set_add(set, &it, env, env ? strlen(env) : 0);
}

static void order(struct sort_set *set, char *out)
{
    sort_set_sort(set);
    for (size_t i = 0; i < sort_set_count(set); i++)
        out[i] = (char)('0' + sort_set_item(set, i)->msgno);
    out[sort_set_count(set)] = '\0';
}

#define ENV(subject, from) \
    "(NIL " subject " ((NIL NIL " from " \"h\")) NIL NIL NIL NIL NIL NIL NIL)"

static void test_orderings(void)
{
    struct sort_criteria crit = { .n = 0 };
    struct sort_set *set;
    char got[16];

    /* SUBJECT then implicit sequence; REVERSE only turns one criterion */
    crit.n = 2;
    crit.c[0].key = SORT_SUBJECT;
    crit.c[0].reverse = 0;
    crit.c[1].key = SORT_DATE;
    crit.c[1].reverse = 1;
    set = sort_set_new(&crit);
    add(set, 1, 10, 0, ENV("\"b\"", "\"x\""));
    add(set, 2, 10, 0, ENV("\"Re: A\"", "\"x\""));
    add(set, 3, 20, 0, ENV("\"a\"", "\"x\""));
    add(set, 4, 30, 0, ENV("NIL", "\"x\""));
    add(set, 5, 10, 0, ENV("\"B\"", "\"x\""));
    add(set, 6, 10, 0, NULL);
    order(set, got);
    CHECK_STREQ(got, "463215");
    sort_set_free(&set);
    CHECK(set == NULL);

    crit.n = 1;
    crit.c[0].key = SORT_SIZE;
    crit.c[0].reverse = 1;
    set = sort_set_new(&crit);
    add(set, 1, 0, 5, NULL);
    add(set, 2, 0, 9, NULL);
    add(set, 3, 0, 5, NULL);
    add(set, 4, 0, 1, NULL);
    order(set, got);
    CHECK_STREQ(got, "2134");
    sort_set_free(&set);

    crit.c[0].key = SORT_ARRIVAL;
    crit.c[0].reverse = 0;
    set = sort_set_new(&crit);
    add(set, 1, 0, 0, NULL);
    add(set, 2, 0, 0, NULL);
    add(set, 3, 0, 0, NULL);
    order(set, got);
    CHECK_STREQ(got, "321");
    sort_set_free(&set);

    /* Cyrus's SORT=MODSEQ and SORT=UID keys */
    crit.c[0].key = SORT_MODSEQ;
    crit.c[0].reverse = 1;
    set = sort_set_new(&crit);
    for (uint32_t i = 1; i <= 3; i++) {
        struct sort_item it;
        memset(&it, 0, sizeof(it));
        it.msgno = i;
        it.uid = 10 - i;
        it.modseq = i == 2 ? 50 : i;
        sort_set_add(set, &it, NULL, 0);
    }
    order(set, got);
    CHECK_STREQ(got, "231");
    sort_set_free(&set);
    crit.c[0].reverse = 0;

    /* FROM is the mailbox, case-insensitively; DISPLAYFROM the name */
    crit.c[0].key = SORT_FROM;
    set = sort_set_new(&crit);
    add(set, 1, 0, 0, "(NIL NIL ((\"Aa\" NIL \"zed\" \"h\")) NIL NIL NIL NIL "
                      "NIL NIL NIL)");
    add(set, 2, 0, 0, "(NIL NIL ((\"Zz\" NIL \"Bob\" \"h\")) NIL NIL NIL NIL "
                      "NIL NIL NIL)");
    add(set, 3, 0, 0, "(NIL NIL ((NIL NIL \"alice\" \"h\")) NIL NIL NIL NIL "
                      "NIL NIL NIL)");
    order(set, got);
    CHECK_STREQ(got, "321");
    sort_set_free(&set);
    crit.c[0].key = SORT_DISPLAYFROM;
    set = sort_set_new(&crit);
    add(set, 1, 0, 0, "(NIL NIL ((\"Aa\" NIL \"zed\" \"h\")) NIL NIL NIL NIL "
                      "NIL NIL NIL)");
    add(set, 2, 0, 0, "(NIL NIL ((\"Zz\" NIL \"Bob\" \"h\")) NIL NIL NIL NIL "
                      "NIL NIL NIL)");
    add(set, 3, 0, 0, "(NIL NIL ((NIL NIL \"alice\" \"h\")) NIL NIL NIL NIL "
                      "NIL NIL NIL)");
    add(set, 4, 0, 0, "(NIL NIL ((\"=?UTF-8?Q?=C3=A1b?=\" NIL \"q\" \"h\")) "
                      "NIL NIL NIL NIL NIL NIL NIL)");
    order(set, got);
    /* "Aa" < "alice@h" < "áb" (A + combining accent) < "Zz" */
    CHECK_STREQ(got, "1342");
    sort_set_free(&set);
}

UNIT_TESTS(UNIT_T(test_base_subject), UNIT_T(test_envelope_readers),
           UNIT_T(test_parse_criteria), UNIT_T(test_orderings))
