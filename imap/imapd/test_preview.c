/* test_preview.c -- PREVIEW text (RFC 8970) from messages parsed in
 * memory. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "imap/imapd/preview.h"
#include "lib/test/unit.h"

/* The preview of a message given as a C string. */
static char *preview_of(const char *raw)
{
    struct message *msg = message_parse(raw, strlen(raw));
    struct buf out = BUF_INITIALIZER;

    preview_build(msg, &out);
    message_free(&msg);
    return buf_release(&out);
}

static char *text_of(const char *text, int html, size_t max)
{
    struct buf out = BUF_INITIALIZER;

    preview_text(text, strlen(text), html, max, &out);
    return buf_release(&out);
}

static void test_plain_whitespace_collapsed(void)
{
    char *p = preview_of("Subject: x\r\n\r\n  Hello,\r\n\r\n\tworld  \r\n");

    CHECK_STREQ(p, "Hello, world");
    free(p);
}

static void test_limit_in_characters(void)
{
    struct buf body = BUF_INITIALIZER;
    char *p;

    buf_appendcstr(&body, "Content-Type: text/plain; charset=utf-8\r\n\r\n");
    for (int i = 0; i < 300; i++)
        buf_appendcstr(&body, "\xc3\xa9");        /* U+00E9, 2 octets */
    p = preview_of(buf_cstring(&body));
    /* 200 characters, not 200 octets, and no character split. */
    CHECK_INTEQ(strlen(p), 400);
    CHECK(!memcmp(p + 398, "\xc3\xa9", 2));
    free(p);
    buf_free(&body);
}

static void test_no_trailing_space_at_limit(void)
{
    char *p = text_of("abc def", 0, 4);

    CHECK_STREQ(p, "abc");
    free(p);
    p = text_of("abc def", 0, 5);
    CHECK_STREQ(p, "abc d");
    free(p);
}

static void test_quoted_printable_latin1(void)
{
    char *p = preview_of("Content-Type: text/plain; charset=iso-8859-1\r\n"
                         "Content-Transfer-Encoding: quoted-printable\r\n"
                         "\r\n"
                         "Caf=E9 cr=E8me, long line =\r\n"
                         "continued\r\n");

    CHECK_STREQ(p, "Caf\xc3\xa9 cr\xc3\xa8me, long line continued");
    free(p);
}

static void test_base64(void)
{
    /* "Hello from base64\n" */
    char *p = preview_of("Content-Type: text/plain\r\n"
                         "Content-Transfer-Encoding: base64\r\n"
                         "\r\n"
                         "SGVsbG8gZnJvbSBiYXNlNjQK\r\n");

    CHECK_STREQ(p, "Hello from base64");
    free(p);
}

static void test_html_stripped(void)
{
    char *p = text_of("<!DOCTYPE html><html><head><title>T</title>"
                      "<style>p { color: red; }</style></head>"
                      "<body><!-- note --><p>One&nbsp;&amp; <b>two</b></p>"
                      "<p>three &lt;4&gt; &#233;&#x263A; &bogus; a < b</p>"
                      "<script>alert('x > y')</script></body></html>",
                      1, 200);

    CHECK_STREQ(p, "One & two three <4> \xc3\xa9\xe2\x98\xba &bogus; a < b");
    free(p);
}

static void test_multipart_alternative_first_text(void)
{
    char *p = preview_of(
        "Content-Type: multipart/mixed; boundary=\"b1\"\r\n"
        "\r\n"
        "--b1\r\n"
        "Content-Type: multipart/alternative; boundary=\"b2\"\r\n"
        "\r\n"
        "--b2\r\n"
        "Content-Type: text/plain\r\n"
        "\r\n"
        "   \r\n"
        "--b2\r\n"
        "Content-Type: text/html\r\n"
        "\r\n"
        "<div>From the <i>HTML</i> part</div>\r\n"
        "--b2--\r\n"
        "--b1\r\n"
        "Content-Type: text/plain\r\n"
        "Content-Disposition: attachment; filename=a.txt\r\n"
        "\r\n"
        "attached\r\n"
        "--b1--\r\n");

    /* The empty plain part gives its turn to the HTML one. */
    CHECK_STREQ(p, "From the HTML part");
    free(p);
}

static void test_no_text_is_empty(void)
{
    char *p = preview_of(
        "Content-Type: multipart/mixed; boundary=\"b\"\r\n"
        "\r\n"
        "--b\r\n"
        "Content-Type: image/png\r\n"
        "Content-Transfer-Encoding: base64\r\n"
        "\r\n"
        "iVBORw0KGgo=\r\n"
        "--b\r\n"
        "Content-Type: text/plain\r\n"
        "Content-Disposition: attachment\r\n"
        "\r\n"
        "not inline\r\n"
        "--b--\r\n");

    CHECK_STREQ(p, "");
    free(p);
}

static void test_encapsulated_message_not_entered(void)
{
    char *p = preview_of("Content-Type: message/rfc822\r\n"
                         "\r\n"
                         "Subject: inner\r\n"
                         "\r\n"
                         "inner text\r\n");

    CHECK_STREQ(p, "");
    free(p);
}

static void test_unknown_charset_read_as_utf8(void)
{
    char *p = preview_of("Content-Type: text/plain; charset=x-unheard-of\r\n"
                         "\r\n"
                         "na\xc3\xafve\r\n");

    CHECK_STREQ(p, "na\xc3\xafve");
    free(p);
}

UNIT_TESTS(UNIT_T(test_plain_whitespace_collapsed),
           UNIT_T(test_limit_in_characters),
           UNIT_T(test_no_trailing_space_at_limit),
           UNIT_T(test_quoted_printable_latin1),
           UNIT_T(test_base64),
           UNIT_T(test_html_stripped),
           UNIT_T(test_multipart_alternative_first_text),
           UNIT_T(test_no_text_is_empty),
           UNIT_T(test_encapsulated_message_not_entered),
           UNIT_T(test_unknown_charset_read_as_utf8))
