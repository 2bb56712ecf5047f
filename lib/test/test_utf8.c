/* test_utf8.c -- unit tests for lib/utf8 (validity, NFC, name rules). */
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/test/unit.h"
#include "lib/utf8.h"

static char *nfc(const char *s)
{
    struct buf b = BUF_INITIALIZER;

    if (utf8_nfc(s, strlen(s), &b) < 0) {
        buf_free(&b);
        return NULL;
    }
    return buf_release(&b);
}

#define CHECK_NFC(in, want)                                                    \
    do {                                                                       \
        char *r_ = nfc(in);                                                    \
        CHECK_STREQ(r_, want);                                                 \
        free(r_);                                                              \
    } while (0)

#define VALID(s) utf8_valid(s, strlen(s))

static void test_valid(void)
{
    CHECK(VALID(""));
    CHECK(VALID("INBOX"));
    CHECK(VALID("caf\xc3\xa9"));
    CHECK(VALID("\xe5\x8f\xb0\xe5\x8c\x97"));
    CHECK(VALID("\xf0\x9f\x98\x80"));
    CHECK(VALID("\xf4\x8f\xbf\xbf"));           /* U+10FFFF */
    CHECK(!VALID("\xc3"));                      /* truncated */
    CHECK(!VALID("a\xe5\x8f"));                 /* truncated at the end */
    CHECK(!VALID("\xc0\xaf"));                  /* overlong '/' */
    CHECK(!VALID("\xe0\x80\xaf"));              /* overlong, 3 bytes */
    CHECK(!VALID("\xf0\x80\x80\xaf"));          /* overlong, 4 bytes */
    CHECK(!VALID("\xed\xa0\x80"));              /* a surrogate */
    CHECK(!VALID("\xf4\x90\x80\x80"));          /* over U+10FFFF */
    CHECK(!VALID("\x80"));                      /* lone continuation */
    CHECK(!VALID("\xc3\x28"));                  /* bad continuation */
    CHECK(!VALID("ok\xff"));
    /* the length is honoured: the bytes after it are not looked at */
    CHECK(utf8_valid("ab\xff", 2));
}

static void test_has8bit(void)
{
    CHECK(!utf8_has8bit(""));
    CHECK(!utf8_has8bit("Tom & Jerry"));
    CHECK(utf8_has8bit("caf\xc3\xa9"));
}

static void test_nfc(void)
{
    CHECK_NFC("", "");
    CHECK_NFC("INBOX/Sent", "INBOX/Sent");
    /* e + COMBINING ACUTE ACCENT composes to U+00E9 */
    CHECK_NFC("cafe\xcc\x81", "caf\xc3\xa9");
    /* already composed text is unchanged */
    CHECK_NFC("caf\xc3\xa9", "caf\xc3\xa9");
    /* A + COMBINING RING ABOVE and the ANGSTROM SIGN singleton both give
     * U+00C5 */
    CHECK_NFC("A\xcc\x8a", "\xc3\x85");
    CHECK_NFC("\xe2\x84\xab", "\xc3\x85");
    /* Hangul jamo compose to a syllable: U+1100 U+1161 -> U+AC00 */
    CHECK_NFC("\xe1\x84\x80\xe1\x85\xa1", "\xea\xb0\x80");
    /* NFC is not NFKC: the "fi" ligature stays */
    CHECK_NFC("\xef\xac\x81", "\xef\xac\x81");
    /* canonical reordering of combining marks: dot below (ccc 220)
     * before dot above (ccc 230), then q has no precomposed form */
    CHECK_NFC("q\xcc\x87\xcc\xa3", "q\xcc\xa3\xcc\x87");
    /* non-BMP text passes through */
    CHECK_NFC("\xf0\x9f\x98\x80", "\xf0\x9f\x98\x80");
}

static void test_nfc_rejects_bad_utf8(void)
{
    struct buf b = BUF_INITIALIZER;

    buf_setcstr(&b, "keep");
    CHECK_INTEQ(utf8_nfc("\xc3", 1, &b), -1);
    CHECK_INTEQ(utf8_nfc("e\xcc", 2, &b), -1);
    CHECK_INTEQ(utf8_nfc("\xed\xa0\x80", 3, &b), -1);
    CHECK_STREQ(buf_cstring(&b), "keep");
    /* and appends, never replaces */
    CHECK_INTEQ(utf8_nfc("e\xcc\x81", 3, &b), 0);
    CHECK_STREQ(buf_cstring(&b), "keep\xc3\xa9");
    buf_free(&b);
}

static void test_name_chars(void)
{
    CHECK(utf8_name_chars_ok("INBOX"));
    CHECK(utf8_name_chars_ok("Tom & Jerry/caf\xc3\xa9"));
    CHECK(utf8_name_chars_ok("\xe2\x80\xa9x" + 3)); /* just "x" */
    CHECK(!utf8_name_chars_ok("a\tb"));            /* C0 */
    CHECK(!utf8_name_chars_ok("a\x7f"));           /* DEL */
    CHECK(!utf8_name_chars_ok("a\xc2\x85"));       /* C1: NEL */
    CHECK(!utf8_name_chars_ok("a\xc2\x9f"));       /* C1: last one */
    CHECK(utf8_name_chars_ok("a\xc2\xa0"));        /* NBSP is fine */
    CHECK(!utf8_name_chars_ok("a\xe2\x80\xa8"));   /* LINE SEPARATOR */
    CHECK(!utf8_name_chars_ok("a\xe2\x80\xa9"));   /* PARAGRAPH SEPARATOR */
    CHECK(!utf8_name_chars_ok("a\xff"));           /* not UTF-8 */
}

UNIT_TESTS(UNIT_T(test_valid), UNIT_T(test_has8bit), UNIT_T(test_nfc),
           UNIT_T(test_nfc_rejects_bad_utf8), UNIT_T(test_name_chars))
