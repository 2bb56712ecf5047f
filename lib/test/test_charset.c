/* test_charset.c -- unit tests for lib/charset. */
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/charset.h"
#include "lib/test/unit.h"

static const char *conv(struct buf *b, const char *s, size_t len, const char *cs,
                        int *r)
{
    buf_reset(b);
    *r = charset_to_utf8(b, s, len, cs);
    return buf_cstring(b);
}

static void test_to_utf8(void)
{
    struct buf b = BUF_INITIALIZER;
    int r;
    CHECK_STREQ(conv(&b, "caf\xe9", 4, "ISO-8859-1", &r), "caf\xc3\xa9");
    CHECK_INTEQ(r, 0);
    CHECK_STREQ(conv(&b, "\x80 5", 3, "windows-1252", &r), "\xe2\x82\xac 5");
    CHECK_STREQ(conv(&b, "\x1b$B$3$s$K$A$O\x1b(B", 16, "iso-2022-jp", &r),
                "\xe3\x81\x93\xe3\x82\x93\xe3\x81\xab\xe3\x81\xa1\xe3\x81\xaf");
    CHECK_STREQ(conv(&b, "\x93\xfa\x96{", 4, "Shift_JIS", &r), "\xe6\x97\xa5\xe6\x9c\xac");
    /* The converter cache must give the same answer the second time. */
    CHECK_STREQ(conv(&b, "caf\xe9", 4, "iso-8859-1", &r), "caf\xc3\xa9");
    /* UTF-8 and ASCII are copied, malformed bytes become U+FFFD. */
    CHECK_STREQ(conv(&b, "ok \xff \xc3\xa9", 7, "utf-8", &r), "ok \xef\xbf\xbd \xc3\xa9");
    CHECK_STREQ(conv(&b, "\xc0\xaf", 2, "UTF-8", &r), "\xef\xbf\xbd\xef\xbf\xbd");
    CHECK_STREQ(conv(&b, "\xed\xa0\x80", 3, NULL, &r),
                "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
    CHECK_STREQ(conv(&b, "plain", 5, "us-ascii", &r), "plain");
    /* Unknown charsets are reported and leave the buffer alone. */
    buf_setcstr(&b, "keep");
    CHECK_INTEQ(charset_to_utf8(&b, "x", 1, "x-no-such-charset"), CHARSET_ERR_UNKNOWN);
    CHECK_STREQ(buf_cstring(&b), "keep");
    CHECK_INTEQ(charset_to_utf8(&b, "x", 1, "bad name"), CHARSET_ERR_UNKNOWN);
    CHECK(!charset_is_known("x-no-such-charset"));
    CHECK(charset_is_known("koi8-r"));
    CHECK(charset_is_known(NULL));
    buf_free(&b);
}

static void test_encoding_names(void)
{
    CHECK_INTEQ(charset_encoding_from_name("Base64", 6), CHARSET_ENC_BASE64);
    CHECK_INTEQ(charset_encoding_from_name(" quoted-printable ", 18), CHARSET_ENC_QP);
    CHECK_INTEQ(charset_encoding_from_name("8BIT", 4), CHARSET_ENC_8BIT);
    CHECK_INTEQ(charset_encoding_from_name(NULL, 0), CHARSET_ENC_7BIT);
    CHECK_INTEQ(charset_encoding_from_name("x-uuencode", 10), CHARSET_ENC_UNKNOWN);
}

static const char *qp(struct buf *b, const char *s)
{
    buf_reset(b);
    charset_decode_qp(b, s, strlen(s));
    return buf_cstring(b);
}

static void test_qp(void)
{
    struct buf b = BUF_INITIALIZER;
    CHECK_STREQ(qp(&b, "a=3Db=\r\nc  \r\nd"), "a=bc\r\nd");
    CHECK_STREQ(qp(&b, "caf=e9=C3=A9"), "caf\xe9\xc3\xa9");
    /* Malformed escapes are kept literally. */
    CHECK_STREQ(qp(&b, "=XY 100% =4"), "=XY 100% =4");
    /* Soft break with transport padding after it, bare LF lines. */
    CHECK_STREQ(qp(&b, "long=  \nline\nnext\t\n"), "longline\nnext\n");
    CHECK_STREQ(qp(&b, "end="), "end");
    CHECK_STREQ(qp(&b, ""), "");
    buf_free(&b);
}

static const char *b64(struct buf *b, const char *s)
{
    buf_reset(b);
    charset_decode_base64(b, s, strlen(s));
    return buf_cstring(b);
}

static void test_base64(void)
{
    struct buf b = BUF_INITIALIZER;
    CHECK_STREQ(b64(&b, "aGVsbG8gd29ybGQ="), "hello world");
    CHECK_STREQ(b64(&b, "aGVs\r\nbG8g\r\nd29y bGQh"), "hello world!");
    CHECK_STREQ(b64(&b, "aGk"), "hi");        /* missing padding */
    CHECK_STREQ(b64(&b, "aGk=aGk="), "hihi"); /* concatenated */
    CHECK_STREQ(b64(&b, "a*G!k=="), "hi");    /* junk skipped */
    buf_reset(&b);
    charset_decode_transfer(&b, "AAEC", 4, CHARSET_ENC_BASE64);
    CHECK_INTEQ(b.len, 3);
    CHECK(b.s[0] == 0 && b.s[1] == 1 && b.s[2] == 2);
    buf_reset(&b);
    charset_decode_transfer(&b, "=41", 3, CHARSET_ENC_8BIT);
    CHECK_STREQ(buf_cstring(&b), "=41");
    buf_free(&b);
}

static const char *hdr(struct buf *b, const char *s)
{
    buf_reset(b);
    charset_decode_mimeheader(b, s, strlen(s));
    return buf_cstring(b);
}

static void test_mimeheader(void)
{
    struct buf b = BUF_INITIALIZER;
    CHECK_STREQ(hdr(&b, "=?utf-8?q?caf=C3=A9?="), "caf\xc3\xa9");
    CHECK_STREQ(hdr(&b, "Re: =?ISO-8859-1?B?Y2Fm6Q==?= noir"), "Re: caf\xc3\xa9 noir");
    CHECK_STREQ(hdr(&b, "=?utf-8?Q?a_b?="), "a b");
    /* Whitespace between adjacent encoded-words disappears ... */
    CHECK_STREQ(hdr(&b, "=?utf-8?q?a?= =?utf-8?q?b?="), "ab");
    CHECK_STREQ(hdr(&b, "=?utf-8?q?a?=\r\n\t=?iso-8859-1?q?=E9?="), "a\xc3\xa9");
    /* ... but not between a word and text. */
    CHECK_STREQ(hdr(&b, "=?utf-8?q?a?= b =?utf-8?q?c?="), "a b c");
    /* A character split across two words is reassembled. */
    CHECK_STREQ(hdr(&b, "=?utf-8?B?4oI=?= =?utf-8?B?rA==?="), "\xe2\x82\xac");
    /* RFC 2231 language suffix. */
    CHECK_STREQ(hdr(&b, "=?US-ASCII*EN?Q?Keith_Moore?="), "Keith Moore");
    /* Malformed or unknown words are left alone. */
    CHECK_STREQ(hdr(&b, "=?utf-8?x?abc?="), "=?utf-8?x?abc?=");
    CHECK_STREQ(hdr(&b, "=?utf-8?q?abc"), "=?utf-8?q?abc");
    CHECK_STREQ(hdr(&b, "=?x-bogus?q?abc?= x"), "=?x-bogus?q?abc?= x");
    CHECK_STREQ(hdr(&b, "=?utf-8?q?a?= =?x-bogus?q?b?="), "a =?x-bogus?q?b?=");
    CHECK_STREQ(hdr(&b, "=?" "?q?abc?="), "=?" "?q?abc?=");
    CHECK_STREQ(hdr(&b, "1+1=2 =?"), "1+1=2 =?");
    CHECK_STREQ(hdr(&b, "=?utf-8?q?" "?="), "");
    /* Unfolding, and raw 8-bit text is kept. */
    CHECK_STREQ(hdr(&b, "a long\r\n subject \xc3\xa9"), "a long subject \xc3\xa9");
    buf_free(&b);
}

static void test_rfc2231(void)
{
    struct buf b = BUF_INITIALIZER;
    const char *v = "utf-8'en'%E2%82%AC%20rates";
    CHECK_INTEQ(charset_decode_rfc2231(&b, v, strlen(v)), 0);
    CHECK_STREQ(buf_cstring(&b), "\xe2\x82\xac rates");
    buf_reset(&b);
    v = "iso-8859-1''caf%E9";
    CHECK_INTEQ(charset_decode_rfc2231(&b, v, strlen(v)), 0);
    CHECK_STREQ(buf_cstring(&b), "caf\xc3\xa9");
    buf_reset(&b);
    v = "a%20b%2";
    CHECK_INTEQ(charset_decode_rfc2231(&b, v, strlen(v)), 0);
    CHECK_STREQ(buf_cstring(&b), "a b%2");
    buf_reset(&b);
    v = "x-bogus''%41";
    CHECK_INTEQ(charset_decode_rfc2231(&b, v, strlen(v)), CHARSET_ERR_UNKNOWN);
    CHECK_STREQ(buf_cstring(&b), "A");
    buf_free(&b);
}

static const char *fold(struct buf *b, const char *s)
{
    buf_reset(b);
    charset_casemap(b, s, strlen(s));
    return buf_cstring(b);
}

static void test_casemap(void)
{
    struct buf b = BUF_INITIALIZER;
    CHECK_STREQ(fold(&b, "Hello, World 42"), "HELLO, WORLD 42");
    /* e-acute: titlecase E-acute, decomposed to E + combining acute. */
    CHECK_STREQ(fold(&b, "caf\xc3\xa9"), "CAFE\xcc\x81");
    CHECK_STREQ(fold(&b, "CAFE\xcc\x81"), "CAFE\xcc\x81");
    /* The RFC 5051 example: U+01C4 -> U+0044 U+007A U+030C. */
    CHECK_STREQ(fold(&b, "\xc7\x84"), "Dz\xcc\x8c");
    CHECK_STREQ(fold(&b, "\xc7\x86"), "Dz\xcc\x8c");
    /* Compatibility decomposition: full-width A, superscript two. */
    CHECK_STREQ(fold(&b, "\xef\xbd\x81\xc2\xb2"), "A2");
    /* Greek and Cyrillic fold too. */
    CHECK_STREQ(fold(&b, "\xce\xb1\xd0\xb4"), "\xce\x91\xd0\x94");
    /* Supplementary plane: Deseret small letter long i -> capital. */
    CHECK_STREQ(fold(&b, "\xf0\x90\x90\xa8"), "\xf0\x90\x90\x80");
    /* Invalid UTF-8 passes through unchanged. */
    CHECK_STREQ(fold(&b, "a\xffz"), "A\xffZ");
    /* A long ASCII run crosses the buffer growth path. */
    buf_reset(&b);
    char big[5000];
    memset(big, 'q', sizeof(big));
    big[4000] = '\xc3';
    big[4001] = '\xa9';
    charset_casemap(&b, big, sizeof(big));
    CHECK_INTEQ(b.len, sizeof(big) + 1);
    CHECK(b.s[0] == 'Q' && b.s[3999] == 'Q' && b.s[4000] == 'E' && b.s[4003] == 'Q');
    buf_free(&b);
}

static void test_search(void)
{
    struct charset_search *s = charset_search_new("caf\xc3\xa9 N", 7);
    const char *t = "un CAF\xc3\x89 noir";
    CHECK(charset_search_utf8(s, t, strlen(t)));
    t = "un cafe noir";
    CHECK(!charset_search_utf8(s, t, strlen(t)));
    /* Latin-1 body, quoted-printable. */
    t = "Un caf=E9 =\r\nnoir\r\n";
    CHECK(charset_search_body(s, t, strlen(t), "iso-8859-1", CHARSET_ENC_QP));
    CHECK(!charset_search_body(s, t, strlen(t), "iso-8859-1", CHARSET_ENC_7BIT));
    /* Base64 UTF-8 body: "Grüße aus Köln". */
    charset_search_free(&s);
    CHECK(s == NULL);
    s = charset_search_new("gr\xc3\x9c\xc3\x9f" "e", 7);
    t = "R3LDvMOfZSBhdXMgS8O2bG4=";
    CHECK(charset_search_body(s, t, strlen(t), "UTF-8", CHARSET_ENC_BASE64));
    CHECK(!charset_search_body(s, t, strlen(t), "UTF-8", CHARSET_ENC_7BIT));
    charset_search_free(&s);
    /* Header with an encoded-word. */
    s = charset_search_new("moore", 5);
    t = "=?US-ASCII?Q?Keith_Moore?= <moore@cs.utk.edu>";
    CHECK(charset_search_header(s, t, strlen(t)));
    t = "=?US-ASCII?Q?Keith_M?= =?US-ASCII?Q?oore?=";
    CHECK(charset_search_header(s, t, strlen(t)));
    t = "Keith Mo ore";
    CHECK(!charset_search_header(s, t, strlen(t)));
    /* Unknown charsets still match their ASCII. */
    t = "x Moore y";
    CHECK(charset_search_body(s, t, strlen(t), "x-bogus", CHARSET_ENC_8BIT));
    CHECK(!charset_search_casemapped(s, "moore", 5));
    CHECK(charset_search_casemapped(s, "MOORE", 5));
    CHECK(!charset_search_utf8(s, "", 0));
    CHECK(!charset_search_body(s, NULL, 0, NULL, CHARSET_ENC_7BIT));
    charset_search_free(&s);
    /* The empty pattern matches everything, even empty text. */
    s = charset_search_new("", 0);
    CHECK(charset_search_utf8(s, "", 0));
    charset_search_free(&s);
}

UNIT_TESTS(UNIT_T(test_to_utf8), UNIT_T(test_encoding_names), UNIT_T(test_qp),
           UNIT_T(test_base64), UNIT_T(test_mimeheader), UNIT_T(test_rfc2231),
           UNIT_T(test_casemap), UNIT_T(test_search))
