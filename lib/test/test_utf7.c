/* test_utf7.c -- unit tests for lib/utf7 (IMAP modified UTF-7). */
#include <stdlib.h>

#include "lib/buf.h"
#include "lib/test/unit.h"
#include "lib/utf7.h"

static char *enc(const char *utf8)
{
    struct buf b = BUF_INITIALIZER;
    if (utf7_encode(utf8, &b) < 0) {
        buf_free(&b);
        return NULL;
    }
    return buf_release(&b);
}

static char *dec(const char *mutf7)
{
    struct buf b = BUF_INITIALIZER;
    if (utf7_decode(mutf7, &b) < 0) {
        buf_free(&b);
        return NULL;
    }
    return buf_release(&b);
}

#define CHECK_ENC(in, want)                                                    \
    do {                                                                       \
        char *r_ = enc(in);                                                    \
        CHECK_STREQ(r_, want);                                                 \
        free(r_);                                                              \
    } while (0)
#define CHECK_DEC(in, want)                                                    \
    do {                                                                       \
        char *r_ = dec(in);                                                    \
        CHECK_STREQ(r_, want);                                                 \
        free(r_);                                                              \
    } while (0)

static void test_encode(void)
{
    CHECK_ENC("", "");
    CHECK_ENC("INBOX", "INBOX");
    CHECK_ENC("Tom & Jerry", "Tom &- Jerry");
    CHECK_ENC("&&", "&-&-");
    /* RFC 3501 5.1.3's example: "~peter/mail/台北/日本語" */
    CHECK_ENC("~peter/mail/\xe5\x8f\xb0\xe5\x8c\x97/"
              "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e",
              "~peter/mail/&U,BTFw-/&ZeVnLIqe-");
    CHECK_ENC("Entw\xc3\xbc"
              "rfe",
              "Entw&APw-rfe");
    CHECK_ENC("caf\xc3\xa9", "caf&AOk-");
    /* one run for adjacent non-ASCII, '&' directly after a run */
    CHECK_ENC("\xc3\xa9\xc3\xa9&", "&AOkA6Q-&-");
    /* outside the BMP: a surrogate pair (U+1F600) */
    CHECK_ENC("\xf0\x9f\x98\x80", "&2D3eAA-");
    /* controls are encoded, not passed through */
    CHECK_ENC("a\tb", "a&AAk-b");
}

static void test_encode_rejects_bad_utf8(void)
{
    struct buf b = BUF_INITIALIZER;
    buf_setcstr(&b, "keep");
    CHECK_INTEQ(utf7_encode("\xc3", &b), -1);             /* truncated */
    CHECK_INTEQ(utf7_encode("\xc0\xaf", &b), -1);         /* overlong '/' */
    CHECK_INTEQ(utf7_encode("\xed\xa0\x80", &b), -1);     /* a surrogate */
    CHECK_INTEQ(utf7_encode("\xf4\x90\x80\x80", &b), -1); /* > U+10FFFF */
    CHECK_INTEQ(utf7_encode("ok\xff", &b), -1);
    CHECK_STREQ(buf_cstring(&b), "keep");
    buf_free(&b);
}

static void test_decode(void)
{
    CHECK_DEC("", "");
    CHECK_DEC("&-", "&");
    CHECK_DEC("a&-b&-", "a&b&");
    CHECK_DEC("~peter/mail/&U,BTFw-/&ZeVnLIqe-",
              "~peter/mail/\xe5\x8f\xb0\xe5\x8c\x97/"
              "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e");
    CHECK_DEC("&AOkA6Q-&-", "\xc3\xa9\xc3\xa9&");
    CHECK_DEC("&2D3eAA-", "\xf0\x9f\x98\x80");
    CHECK_DEC("a&AAk-b", "a\tb");
}

static void test_roundtrip(void)
{
    static const char *samples[] = {
        "Gel\xc3\xb6schte Objekte",
        "\xd0\x92\xd1\x85\xd0\xbe\xd0\xb4",
        "x\xe2\x82\xac&y\xe2\x82\xac",
        "\xf0\x9f\x93\xa7 mail",
        "\xc3\xa9",
        "\xc3\xa9\xc3\xa9",
        "\xc3\xa9\xc3\xa9\xc3\xa9",
        "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9",
    };
    for (size_t i = 0; i < sizeof(samples) / sizeof(samples[0]); i++) {
        char *e = enc(samples[i]);
        CHECK(e != NULL);
        CHECK(utf7_valid(e));
        char *d = dec(e);
        CHECK_STREQ(d, samples[i]);
        free(e);
        free(d);
    }
}

static void test_invalid(void)
{
    CHECK(utf7_valid("plain name"));
    CHECK(utf7_valid("&AOk-"));
    CHECK(utf7_valid("&AOk-&-"));      /* a run, then a literal & */
    CHECK(!utf7_valid("&"));           /* bare & */
    CHECK(!utf7_valid("a&b"));         /* & must be &- */
    CHECK(!utf7_valid("&AOk"));        /* unterminated shift */
    CHECK(!utf7_valid("&AOk-&AOk-"));  /* null shift "-&" */
    CHECK(!utf7_valid("&AGE-"));       /* 'a' encoded */
    CHECK(!utf7_valid("&ACY-"));       /* '&' encoded */
    CHECK(!utf7_valid("&AAA-"));       /* NUL encoded */
    CHECK(!utf7_valid("&AOl-"));       /* non-zero padding bits */
    CHECK(!utf7_valid("&AOkA-"));      /* leftover 6+ bits */
    CHECK(!utf7_valid("&AO-"));        /* half a character */
    CHECK(!utf7_valid("&2D0-"));       /* high surrogate alone */
    CHECK(!utf7_valid("&3gA-"));       /* low surrogate alone */
    CHECK(!utf7_valid("&2D0A6Q-"));    /* high + non-low */
    CHECK(!utf7_valid("&AOk=-"));      /* base64 padding */
    CHECK(!utf7_valid("&AO/-"));       /* '/' is ',' here */
    CHECK(!utf7_valid("caf\xc3\xa9")); /* raw 8-bit */
    CHECK(!utf7_valid("tab\there"));   /* raw control */

    struct buf b = BUF_INITIALIZER;
    buf_setcstr(&b, "pre");
    CHECK_INTEQ(utf7_decode("ok&AOk-then&", &b), -1);
    CHECK_STREQ(buf_cstring(&b), "pre");
    buf_free(&b);
}

UNIT_TESTS(UNIT_T(test_encode), UNIT_T(test_encode_rejects_bad_utf8),
           UNIT_T(test_decode), UNIT_T(test_roundtrip), UNIT_T(test_invalid))
