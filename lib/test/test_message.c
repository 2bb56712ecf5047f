/* test_message.c -- unit tests for imap/store/message.
 *
 * Expected ENVELOPE and BODYSTRUCTURE strings were worked out by hand from
 * RFC 3501 7.4.2; octet sizes and line counts are those of the bodies as
 * delimited by RFC 2046 5.1.1 (the CRLF before a delimiter is not part of
 * the body part).
 */
#include <stdlib.h>
#include <string.h>

#include "imap/store/message.h"
#include "lib/test/unit.h"

static struct buf out = BUF_INITIALIZER;

static const char *bodystructure(const struct message *msg, uint32_t part, int ext)
{
    buf_reset(&out);
    message_write_bodystructure(&out, msg, part, ext);
    return buf_cstring(&out);
}

static const char *envelope(const struct message *msg, uint32_t part)
{
    buf_reset(&out);
    message_write_envelope(&out, msg, part);
    return buf_cstring(&out);
}

static const char *addresses(const char *s)
{
    buf_reset(&out);
    message_write_addresses(&out, s, strlen(s));
    return buf_cstring(&out);
}

/* The bytes a section spec resolves to, "<EMPTY>" or "<BAD>". */
static char *section(const struct message *msg, const char *spec)
{
    struct buf synth = BUF_INITIALIZER;
    size_t off = 0, len = 0;
    int r = message_section(msg, spec, &synth, &off, &len);
    char *s;
    if (r == MESSAGE_SECTION_RANGE) s = strndup(msg->base + off, len);
    else if (r == MESSAGE_SECTION_SYNTH) s = strdup(buf_cstring(&synth));
    else if (r == MESSAGE_SECTION_EMPTY) s = strdup("<EMPTY>");
    else s = strdup("<BAD>");
    buf_free(&synth);
    return s;
}

#define CHECK_SECTION(msg, spec, expect) do { \
    char *got_ = section(msg, spec); \
    CHECK_STREQ(got_, expect); \
    free(got_); \
} while (0)

/* Parentheses balance outside quoted strings (literals here hold none). */
static int balanced(const char *s)
{
    int depth = 0, q = 0;
    for (; *s; s++) {
        if (q) {
            if (*s == '\\') s++;
            else if (*s == '"') q = 0;
        } else if (*s == '"') {
            q = 1;
        } else if (*s == '(') {
            depth++;
        } else if (*s == ')' && --depth < 0) {
            return 0;
        }
    }
    return depth == 0 && !q;
}

static const char simple[] =
    "From: \"Joe Q. Public\" <john.q.public@example.com>\r\n"
    "To: Mary Smith <mary@x.test>, jdoe@example.org, Who? <one@y.test>\r\n"
    "Cc: <boss@nil.test>, \"Giant; \\\"Big\\\" Box\" <sysservices@example.net>\r\n"
    "Date: Tue, 1 Jul 2003 10:52:37\r\n +0200\r\n"
    "Message-ID: <5678.21-Nov-1997@example.com>\r\n"
    "Subject: Saying\r\n Hello\r\n"
    "\r\n"
    "Hi everyone.\r\n";

static void test_simple(void)
{
    struct message *msg = message_parse(simple, strlen(simple));
    CHECK_INTEQ(msg->nparts, 1);
    CHECK_STREQ(envelope(msg, 0),
        "(\"Tue, 1 Jul 2003 10:52:37 +0200\" \"Saying Hello\" "
        "((\"Joe Q. Public\" NIL \"john.q.public\" \"example.com\")) "
        "((\"Joe Q. Public\" NIL \"john.q.public\" \"example.com\")) "
        "((\"Joe Q. Public\" NIL \"john.q.public\" \"example.com\")) "
        "((\"Mary Smith\" NIL \"mary\" \"x.test\")(NIL NIL \"jdoe\" \"example.org\")"
        "(\"Who?\" NIL \"one\" \"y.test\")) "
        "((NIL NIL \"boss\" \"nil.test\")"
        "(\"Giant; \\\"Big\\\" Box\" NIL \"sysservices\" \"example.net\")) "
        "NIL NIL \"<5678.21-Nov-1997@example.com>\")");
    CHECK_STREQ(bodystructure(msg, 0, 1),
        "(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"us-ascii\") NIL NIL \"7BIT\" 14 1 "
        "NIL NIL NIL NIL)");
    CHECK_STREQ(bodystructure(msg, 0, 0),
        "(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"us-ascii\") NIL NIL \"7BIT\" 14 1)");
    CHECK_INTEQ(message_sentdate(msg), 1057049557);
    CHECK_SECTION(msg, "TEXT", "Hi everyone.\r\n");
    CHECK_SECTION(msg, "1", "Hi everyone.\r\n");
    CHECK_SECTION(msg, "", simple);
    CHECK_SECTION(msg, "2", "<EMPTY>");
    CHECK_SECTION(msg, "1.1", "<EMPTY>");
    CHECK_SECTION(msg, "1.HEADER", "<EMPTY>");
    CHECK_SECTION(msg, "header.fields (subject DATE)",
                  "Date: Tue, 1 Jul 2003 10:52:37\r\n +0200\r\n"
                  "Subject: Saying\r\n Hello\r\n\r\n");
    CHECK_SECTION(msg, "HEADER.FIELDS.NOT (From To Cc Date Message-ID)",
                  "Subject: Saying\r\n Hello\r\n\r\n");
    CHECK_SECTION(msg, "HEADER.FIELDS (X-None)", "\r\n");
    CHECK_SECTION(msg, "HEADER", "From: \"Joe Q. Public\" <john.q.public@example.com>\r\n"
                  "To: Mary Smith <mary@x.test>, jdoe@example.org, Who? <one@y.test>\r\n"
                  "Cc: <boss@nil.test>, \"Giant; \\\"Big\\\" Box\" <sysservices@example.net>\r\n"
                  "Date: Tue, 1 Jul 2003 10:52:37\r\n +0200\r\n"
                  "Message-ID: <5678.21-Nov-1997@example.com>\r\n"
                  "Subject: Saying\r\n Hello\r\n\r\n");
    /* Syntax errors. */
    CHECK_SECTION(msg, "MIME", "<BAD>");
    CHECK_SECTION(msg, "1.", "<BAD>");
    CHECK_SECTION(msg, "1TEXT", "<BAD>");
    CHECK_SECTION(msg, "BOGUS", "<BAD>");
    CHECK_SECTION(msg, "HEADER.FIELDS ()", "<BAD>");
    CHECK_SECTION(msg, "HEADER.FIELDS (A", "<BAD>");
    message_free(&msg);
    CHECK(msg == NULL);
}

static const char alternative[] =
    "From: a@b.test\r\n"
    "Subject: alt\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: multipart/alternative; boundary=\"XX\"\r\n"
    "\r\n"
    "preamble\r\n"
    "--XX\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n"
    "Content-Transfer-Encoding: quoted-printable\r\n"
    "\r\n"
    "caf=C3=A9\r\n"
    "--XX\r\n"
    "Content-Type: text/html; charset=\"utf-8\" (a comment)\r\n"
    "Content-ID: <html@x>\r\n"
    "Content-Description: the HTML\r\n"
    "Content-Language: en, fr\r\n"
    "Content-Location: http://x.test/a\r\n"
    "Content-MD5: Q2hlY2sgSW50ZWdyaXR5IQ==\r\n"
    "\r\n"
    "<p>caf\xc3\xa9</p>\r\n"
    "--XX--\r\n"
    "epilogue\r\n";

static void test_alternative(void)
{
    struct message *msg = message_parse(alternative, strlen(alternative));
    CHECK_INTEQ(msg->nparts, 3);
    CHECK_STREQ(bodystructure(msg, 0, 1),
        "((\"TEXT\" \"PLAIN\" (\"CHARSET\" \"utf-8\") NIL NIL \"QUOTED-PRINTABLE\" 9 1 "
        "NIL NIL NIL NIL)"
        "(\"TEXT\" \"HTML\" (\"CHARSET\" \"utf-8\") \"<html@x>\" \"the HTML\" \"7BIT\" 12 1 "
        "\"Q2hlY2sgSW50ZWdyaXR5IQ==\" NIL (\"en\" \"fr\") \"http://x.test/a\") "
        "\"ALTERNATIVE\" (\"BOUNDARY\" \"XX\") NIL NIL NIL)");
    CHECK_STREQ(bodystructure(msg, 0, 0),
        "((\"TEXT\" \"PLAIN\" (\"CHARSET\" \"utf-8\") NIL NIL \"QUOTED-PRINTABLE\" 9 1)"
        "(\"TEXT\" \"HTML\" (\"CHARSET\" \"utf-8\") \"<html@x>\" \"the HTML\" \"7BIT\" 12 1) "
        "\"ALTERNATIVE\")");
    CHECK_SECTION(msg, "1", "caf=C3=A9");
    CHECK_SECTION(msg, "2", "<p>caf\xc3\xa9</p>");
    CHECK_SECTION(msg, "1.MIME", "Content-Type: text/plain; charset=utf-8\r\n"
                  "Content-Transfer-Encoding: quoted-printable\r\n\r\n");
    CHECK_SECTION(msg, "2.HEADER.FIELDS (Content-ID)", "<EMPTY>");
    CHECK_SECTION(msg, "3", "<EMPTY>");
    CHECK_SECTION(msg, "0", "<EMPTY>");
    CHECK_SECTION(msg, "99999999999999999999", "<EMPTY>");
    CHECK_SECTION(msg, "HEADER.FIELDS.NOT (subject FROM mime-version)",
                  "Content-Type: multipart/alternative; boundary=\"XX\"\r\n\r\n");
    CHECK_INTEQ(message_part_lookup(msg, "2"), 2);
    CHECK_INTEQ(message_part_lookup(msg, ""), 0);
    CHECK_INTEQ(message_part_lookup(msg, "4"), MESSAGE_NONE);
    struct buf v = BUF_INITIALIZER;
    CHECK(message_part_param(msg, 1, "charset", 0, &v));
    CHECK_STREQ(buf_cstring(&v), "utf-8");
    CHECK(!message_part_param(msg, 1, "name", 0, &v));
    buf_free(&v);
    CHECK_INTEQ(message_sentdate(msg), -1);
    message_free(&msg);
}

static const char inner_msg[] =
    "From: Inner <inner@example.org>\r\n"
    "Subject: inner\r\n"
    "Content-Type: multipart/alternative; boundary=\"outer-inner\"\r\n"
    "\r\n"
    "--outer-inner\r\n"
    "\r\n"
    "plain text\r\n"
    "--outer-inner\r\n"
    "Content-Type: text/html\r\n"
    "\r\n"
    "<b>x</b>\r\n"
    "--outer-inner--";

static const char mixed[] =
    "From: Outer <outer@example.com>\r\n"
    "To: undisclosed-recipients:;\r\n"
    "Subject: fwd\r\n"
    "Content-Type: multipart/mixed; boundary=outer\r\n"
    "\r\n"
    "--outer\r\n"
    "Content-Type: text/plain\r\n"
    "\r\n"
    "see attached\r\n"
    "--outer\r\n"
    "Content-Type: message/rfc822\r\n"
    "Content-Disposition: attachment; filename=\"inner.eml\"\r\n"
    "\r\n"
    "From: Inner <inner@example.org>\r\n"
    "Subject: inner\r\n"
    "Content-Type: multipart/alternative; boundary=\"outer-inner\"\r\n"
    "\r\n"
    "--outer-inner\r\n"
    "\r\n"
    "plain text\r\n"
    "--outer-inner\r\n"
    "Content-Type: text/html\r\n"
    "\r\n"
    "<b>x</b>\r\n"
    "--outer-inner--\r\n"
    "--outer--\r\n";

static void test_nested_rfc822(void)
{
    struct message *msg = message_parse(mixed, strlen(mixed));
    CHECK_INTEQ(msg->nparts, 6);
    const char *inner_env =
        "(NIL \"inner\" ((\"Inner\" NIL \"inner\" \"example.org\")) "
        "((\"Inner\" NIL \"inner\" \"example.org\")) "
        "((\"Inner\" NIL \"inner\" \"example.org\")) NIL NIL NIL NIL NIL)";
    struct buf expect = BUF_INITIALIZER;
    buf_printf(&expect,
        "((\"TEXT\" \"PLAIN\" (\"CHARSET\" \"us-ascii\") NIL NIL \"7BIT\" 12 1 NIL NIL NIL NIL)"
        "(\"MESSAGE\" \"RFC822\" NIL NIL NIL \"7BIT\" 208 %s "
        "((\"TEXT\" \"PLAIN\" (\"CHARSET\" \"us-ascii\") NIL NIL \"7BIT\" 10 1 NIL NIL NIL NIL)"
        "(\"TEXT\" \"HTML\" (\"CHARSET\" \"us-ascii\") NIL NIL \"7BIT\" 8 1 NIL NIL NIL NIL) "
        "\"ALTERNATIVE\" (\"BOUNDARY\" \"outer-inner\") NIL NIL NIL) 12 "
        "NIL (\"ATTACHMENT\" (\"FILENAME\" \"inner.eml\")) NIL NIL) "
        "\"MIXED\" (\"BOUNDARY\" \"outer\") NIL NIL NIL)", inner_env);
    CHECK_STREQ(bodystructure(msg, 0, 1), buf_cstring(&expect));
    buf_reset(&expect);
    buf_printf(&expect,
        "((\"TEXT\" \"PLAIN\" (\"CHARSET\" \"us-ascii\") NIL NIL \"7BIT\" 12 1)"
        "(\"MESSAGE\" \"RFC822\" NIL NIL NIL \"7BIT\" 208 %s "
        "((\"TEXT\" \"PLAIN\" (\"CHARSET\" \"us-ascii\") NIL NIL \"7BIT\" 10 1)"
        "(\"TEXT\" \"HTML\" (\"CHARSET\" \"us-ascii\") NIL NIL \"7BIT\" 8 1) "
        "\"ALTERNATIVE\") 12) \"MIXED\")", inner_env);
    CHECK_STREQ(bodystructure(msg, 0, 0), buf_cstring(&expect));
    buf_free(&expect);
    CHECK_STREQ(envelope(msg, 0),
        "(NIL \"fwd\" ((\"Outer\" NIL \"outer\" \"example.com\")) "
        "((\"Outer\" NIL \"outer\" \"example.com\")) "
        "((\"Outer\" NIL \"outer\" \"example.com\")) "
        "((NIL NIL \"undisclosed-recipients\" NIL)(NIL NIL NIL NIL)) NIL NIL NIL NIL)");

    CHECK_SECTION(msg, "1", "see attached");
    CHECK_SECTION(msg, "2", inner_msg);
    CHECK_SECTION(msg, "2.MIME", "Content-Type: message/rfc822\r\n"
                  "Content-Disposition: attachment; filename=\"inner.eml\"\r\n\r\n");
    CHECK_SECTION(msg, "2.HEADER", "From: Inner <inner@example.org>\r\n"
                  "Subject: inner\r\n"
                  "Content-Type: multipart/alternative; boundary=\"outer-inner\"\r\n\r\n");
    CHECK_SECTION(msg, "2.HEADER.FIELDS (SUBJECT)", "Subject: inner\r\n\r\n");
    CHECK_SECTION(msg, "2.TEXT", strstr(inner_msg, "\r\n\r\n") + 4);
    CHECK_SECTION(msg, "2.1", "plain text");
    CHECK_SECTION(msg, "2.1.MIME", "\r\n");
    CHECK_SECTION(msg, "2.2", "<b>x</b>");
    CHECK_SECTION(msg, "2.2.MIME", "Content-Type: text/html\r\n\r\n");
    CHECK_SECTION(msg, "2.3", "<EMPTY>");
    CHECK_SECTION(msg, "1.TEXT", "<EMPTY>");
    CHECK_SECTION(msg, "2.1.1", "<EMPTY>");
    struct buf v = BUF_INITIALIZER;
    CHECK(message_part_param(msg, 2, "FileName", 1, &v));
    CHECK_STREQ(buf_cstring(&v), "inner.eml");
    buf_free(&v);
    message_free(&msg);
}

static const char digest[] =
    "Content-Type: multipart/digest; boundary=\"d\"\r\n"
    "\r\n"
    "--d\r\n"
    "\r\n"
    "From: one@x.test\r\n"
    "Subject: one\r\n"
    "\r\n"
    "body one\r\n"
    "--d\r\n"
    "Content-Type: text/plain\r\n"
    "\r\n"
    "not a message\r\n"
    "--d--\r\n";

static void test_digest(void)
{
    struct message *msg = message_parse(digest, strlen(digest));
    CHECK_STREQ(bodystructure(msg, 0, 1),
        "((\"MESSAGE\" \"RFC822\" NIL NIL NIL \"7BIT\" 42 "
        "(NIL \"one\" ((NIL NIL \"one\" \"x.test\")) ((NIL NIL \"one\" \"x.test\")) "
        "((NIL NIL \"one\" \"x.test\")) NIL NIL NIL NIL NIL) "
        "(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"us-ascii\") NIL NIL \"7BIT\" 8 1 NIL NIL NIL NIL) "
        "4 NIL NIL NIL NIL)"
        "(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"us-ascii\") NIL NIL \"7BIT\" 13 1 NIL NIL NIL NIL) "
        "\"DIGEST\" (\"BOUNDARY\" \"d\") NIL NIL NIL)");
    CHECK_STREQ(envelope(msg, 0), "(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)");
    CHECK_SECTION(msg, "1.1", "body one");
    CHECK_SECTION(msg, "1.TEXT", "body one");
    CHECK_SECTION(msg, "1.HEADER", "From: one@x.test\r\nSubject: one\r\n\r\n");
    CHECK_SECTION(msg, "1.2", "<EMPTY>");
    CHECK_SECTION(msg, "2", "not a message");
    message_free(&msg);
}

static void test_8bit_and_encoded_words(void)
{
    const char *m =
        "From: =?ISO-8859-1?Q?Keld_J=F8rn_Simonsen?= <keld@dkuug.dk>\r\n"
        "To: \"J\xc3\xb6rg\" <j@x.test>\r\n"
        "Subject: caf\xc3\xa9 =?utf-8?q?cr=C3=A8me?=\r\n"
        "In-Reply-To: <a@b> <c@d>\r\n"
        "\r\n"
        "x";
    struct message *msg = message_parse(m, strlen(m));
    CHECK_STREQ(envelope(msg, 0),
        "(NIL {28}\r\ncaf\xc3\xa9 =?utf-8?q?cr=C3=A8me?= "
        "((\"=?ISO-8859-1?Q?Keld_J=F8rn_Simonsen?=\" NIL \"keld\" \"dkuug.dk\")) "
        "((\"=?ISO-8859-1?Q?Keld_J=F8rn_Simonsen?=\" NIL \"keld\" \"dkuug.dk\")) "
        "((\"=?ISO-8859-1?Q?Keld_J=F8rn_Simonsen?=\" NIL \"keld\" \"dkuug.dk\")) "
        "(({5}\r\nJ\xc3\xb6rg NIL \"j\" \"x.test\")) NIL NIL \"<a@b> <c@d>\" NIL)");
    /* No trailing newline: the last partial line still counts. */
    CHECK_STREQ(bodystructure(msg, 0, 0),
        "(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"us-ascii\") NIL NIL \"7BIT\" 1 1)");
    message_free(&msg);
}

static void test_rfc2231_params(void)
{
    const char *m =
        "Content-Type: application/octet-stream;\r\n"
        " name*1=\" rates.txt\";\r\n"
        " name*0*=utf-8''%E2%82%AC\r\n"
        "Content-Disposition: attachment;\r\n"
        " filename*=iso-8859-1'fr'caf%E9.txt; size=3\r\n"
        "Content-Transfer-Encoding: Base64\r\n"
        "\r\n"
        "aGk=\r\n";
    struct message *msg = message_parse(m, strlen(m));
    CHECK_STREQ(bodystructure(msg, 0, 1),
        "(\"APPLICATION\" \"OCTET-STREAM\" (\"NAME*1\" \" rates.txt\" "
        "\"NAME*0*\" \"utf-8''%E2%82%AC\") NIL NIL \"BASE64\" 6 NIL "
        "(\"ATTACHMENT\" (\"FILENAME*\" \"iso-8859-1'fr'caf%E9.txt\" \"SIZE\" \"3\")) "
        "NIL NIL)");
    CHECK_INTEQ(msg->parts[0].enc, 4 /* CHARSET_ENC_BASE64 */);
    struct buf v = BUF_INITIALIZER;
    CHECK(message_part_param(msg, 0, "name", 0, &v));
    CHECK_STREQ(buf_cstring(&v), "\xe2\x82\xac rates.txt");
    CHECK(message_part_param(msg, 0, "filename", 1, &v));
    CHECK_STREQ(buf_cstring(&v), "caf\xc3\xa9.txt");
    CHECK(message_part_param(msg, 0, "size", 1, &v));
    CHECK_STREQ(buf_cstring(&v), "3");
    CHECK(!message_part_param(msg, 0, "charset", 0, &v));
    message_free(&msg);

    m = "Content-Type: image/png; name=\"=?utf-8?q?a=C3=A9.png?=\"\r\n\r\n";
    msg = message_parse(m, strlen(m));
    CHECK(message_part_param(msg, 0, "name", 0, &v));
    CHECK_STREQ(buf_cstring(&v), "a\xc3\xa9.png");
    buf_free(&v);
    message_free(&msg);
}

static void test_addresses(void)
{
    CHECK_STREQ(addresses("A Group:Ed Jones <c@a.test>,joe@where.test,"
                          "John <jdoe@one.test>;, Mary <mary@x.test>"),
        "((NIL NIL \"A Group\" NIL)(\"Ed Jones\" NIL \"c\" \"a.test\")"
        "(NIL NIL \"joe\" \"where.test\")(\"John\" NIL \"jdoe\" \"one.test\")"
        "(NIL NIL NIL NIL)(\"Mary\" NIL \"mary\" \"x.test\"))");
    CHECK_STREQ(addresses("Undisclosed recipients:;"),
        "((NIL NIL \"Undisclosed recipients\" NIL)(NIL NIL NIL NIL))");
    CHECK_STREQ(addresses("pete(his account)@silly.test(his host)"),
        "((\"his host\" NIL \"pete\" \"silly.test\"))");
    CHECK_STREQ(addresses("\"quoted local\"@x.test"),
        "((NIL NIL \"quoted local\" \"x.test\"))");
    CHECK_STREQ(addresses("nodomain"),
        "((NIL NIL \"nodomain\" \"unspecified-domain\"))");
    CHECK_STREQ(addresses("<@route1,@route2:user@final.test>"),
        "((NIL \"@route1,@route2\" \"user\" \"final.test\"))");
    CHECK_STREQ(addresses("x@y.test, (Comment Name) <c@d.test>"),
        "((NIL NIL \"x\" \"y.test\")(\"Comment Name\" NIL \"c\" \"d.test\"))");
    CHECK_STREQ(addresses("<>"), "NIL");
    CHECK_STREQ(addresses(""), "NIL");
    CHECK_STREQ(addresses(" , ,"), "NIL");
    CHECK_STREQ(addresses("broken <a@"),
        "((\"broken\" NIL \"a\" \"unspecified-domain\"))");
    CHECK_STREQ(addresses("a@[192.0.2.1], John Q. Public <jqp@x.test>"),
        "((NIL NIL \"a\" \"[192.0.2.1]\")(\"John Q. Public\" NIL \"jqp\" \"x.test\"))");
    CHECK_STREQ(addresses("a@b.test junk junk, c@d.test"),
        "((NIL NIL \"a\" \"b.test\")(NIL NIL \"c\" \"d.test\"))");
    CHECK_STREQ(addresses("<<>>;;\\@@,"), "NIL");
    CHECK(balanced(addresses("<<>>;;\\@@,::")));
    CHECK(balanced(addresses("g: a@b, ((x) \"y <z@q.test>;(")));
    CHECK_STREQ(addresses("Joe (x\r\n y) <j@x.test> (trailing)"),
        "((\"Joe\" NIL \"j\" \"x.test\"))");
}

static void test_envelope_defaults(void)
{
    const char *m =
        "From: a@b.test\r\n"
        "Sender: \r\n"
        "Reply-To: r@b.test\r\n"
        "Subject:\r\n"
        "Bcc: hidden@b.test\r\n"
        "Subject: second subject is ignored\r\n"
        "Message-Id: <id@b.test>\r\n"
        "\r\n";
    struct message *msg = message_parse(m, strlen(m));
    CHECK_STREQ(envelope(msg, 0),
        "(NIL \"\" ((NIL NIL \"a\" \"b.test\")) ((NIL NIL \"a\" \"b.test\")) "
        "((NIL NIL \"r\" \"b.test\")) NIL NIL ((NIL NIL \"hidden\" \"b.test\")) "
        "NIL \"<id@b.test>\")");
    message_free(&msg);
}

static void test_missing_headers_and_body(void)
{
    struct message *msg = message_parse("\r\nbody only\r\n", 13);
    CHECK_INTEQ(msg->parts[0].header_size, 2);
    CHECK_STREQ(envelope(msg, 0), "(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)");
    CHECK_STREQ(bodystructure(msg, 0, 0),
        "(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"us-ascii\") NIL NIL \"7BIT\" 11 1)");
    CHECK_SECTION(msg, "HEADER", "\r\n");
    message_free(&msg);

    /* Only a header, no blank line: the body is empty. */
    msg = message_parse("Subject: x\r\n", 12);
    CHECK_INTEQ(msg->parts[0].header_size, 12);
    CHECK_STREQ(bodystructure(msg, 0, 0),
        "(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"us-ascii\") NIL NIL \"7BIT\" 0 0)");
    CHECK_SECTION(msg, "TEXT", "");
    CHECK_SECTION(msg, "HEADER.FIELDS (SUBJECT)", "Subject: x\r\n\r\n");
    message_free(&msg);

    /* A header line without its line break still gets one. */
    msg = message_parse("Subject: x", 10);
    CHECK_SECTION(msg, "HEADER.FIELDS (SUBJECT)", "Subject: x\r\n\r\n");
    message_free(&msg);

    msg = message_parse("", 0);
    CHECK_INTEQ(msg->nparts, 1);
    CHECK_STREQ(bodystructure(msg, 0, 1),
        "(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"us-ascii\") NIL NIL \"7BIT\" 0 0 NIL NIL NIL NIL)");
    CHECK_SECTION(msg, "", "");
    message_free(&msg);

    /* Bad Content-Type: the defaults apply; garbage header lines ignored. */
    const char *m = "Garbage line\r\nContent-Type: text\r\n\r\nx\r\n";
    msg = message_parse(m, strlen(m));
    CHECK_STREQ(bodystructure(msg, 0, 0),
        "(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"us-ascii\") NIL NIL \"7BIT\" 3 1)");
    message_free(&msg);
}

static void test_malformed_multipart(void)
{
    /* No boundary parameter: one text/plain part with the whole body. */
    const char *m = "Content-Type: multipart/mixed\r\n\r\nhello\r\nworld\r\n";
    struct message *msg = message_parse(m, strlen(m));
    CHECK_STREQ(bodystructure(msg, 0, 1),
        "((\"TEXT\" \"PLAIN\" (\"CHARSET\" \"us-ascii\") NIL NIL \"7BIT\" 14 2 "
        "NIL NIL NIL NIL) \"MIXED\" NIL NIL NIL NIL)");
    CHECK_SECTION(msg, "1", "hello\r\nworld\r\n");
    message_free(&msg);

    /* The boundary never occurs. */
    m = "Content-Type: multipart/mixed; boundary=zz\r\n\r\n--z\r\nx\r\n";
    msg = message_parse(m, strlen(m));
    CHECK_INTEQ(msg->nparts, 2);
    CHECK_SECTION(msg, "1", "--z\r\nx\r\n");
    message_free(&msg);

    /* No close delimiter, bare LF line ends, blanks after a delimiter,
     * and a boundary that is a prefix of a body line. */
    m = "Content-Type: multipart/mixed; boundary=b\n\n"
        "--b \t\n"
        "Content-Type: text/plain\n\n"
        "one\n--bb\n"
        "--b\n"
        "\n"
        "two\n";
    msg = message_parse(m, strlen(m));
    CHECK_STREQ(bodystructure(msg, 0, 0),
        "((\"TEXT\" \"PLAIN\" (\"CHARSET\" \"us-ascii\") NIL NIL \"7BIT\" 8 2)"
        "(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"us-ascii\") NIL NIL \"7BIT\" 4 1) \"MIXED\")");
    CHECK_SECTION(msg, "1", "one\n--bb");
    CHECK_SECTION(msg, "2", "two\n");
    CHECK_SECTION(msg, "2.MIME", "\n");
    message_free(&msg);

    /* Empty parts, and message/rfc822 in base64 stays opaque. */
    m = "Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n"
        "--b\r\n--b\r\nContent-Type: message/rfc822\r\n"
        "Content-Transfer-Encoding: base64\r\n\r\nAAAA\r\n--b--";
    msg = message_parse(m, strlen(m));
    CHECK_STREQ(bodystructure(msg, 0, 0),
        "((\"TEXT\" \"PLAIN\" (\"CHARSET\" \"us-ascii\") NIL NIL \"7BIT\" 0 0)"
        "(\"MESSAGE\" \"RFC822\" NIL NIL NIL \"BASE64\" 4) \"MIXED\")");
    message_free(&msg);
}

static void build_deep(struct buf *b, int levels, int rfc822)
{
    for (int i = 0; i < levels; i++) {
        if (rfc822) buf_printf(b, "Subject: level %d\r\nContent-Type: message/rfc822\r\n\r\n", i);
        else buf_printf(b, "Content-Type: multipart/mixed; boundary=\"b%d\"\r\n\r\n--b%d\r\n", i, i);
    }
    buf_appendcstr(b, "Subject: bottom\r\n\r\nthe end\r\n");
    for (int i = levels - 1; i >= 0 && !rfc822; i--) buf_printf(b, "\r\n--b%d--", i);
}

static void test_deep_nesting(void)
{
    for (int rfc822 = 0; rfc822 <= 1; rfc822++) {
        struct buf m = BUF_INITIALIZER;
        build_deep(&m, 1000, rfc822);
        struct message *msg = message_parse(m.s, m.len);
        CHECK(msg->nparts <= MESSAGE_MAX_DEPTH + 3);
        uint32_t maxdepth = 0;
        for (uint32_t i = 0; i < msg->nparts; i++) {
            if (msg->parts[i].depth > maxdepth) maxdepth = msg->parts[i].depth;
        }
        CHECK(maxdepth <= MESSAGE_MAX_DEPTH + 1);
        CHECK(maxdepth >= MESSAGE_MAX_DEPTH);
        const char *bs = bodystructure(msg, 0, 1);
        CHECK(balanced(bs));
        CHECK(strlen(bs) > 1000);
        char *s = section(msg, "1.1.1.1.1.1.1.1.1.1");
        CHECK(strcmp(s, "<EMPTY>") && strcmp(s, "<BAD>"));
        free(s);
        message_free(&msg);
        buf_free(&m);
    }
}

static void test_many_parts(void)
{
    struct buf m = BUF_INITIALIZER;
    buf_appendcstr(&m, "Content-Type: multipart/mixed; boundary=x\r\n\r\n");
    for (int i = 0; i < 20000; i++) buf_appendcstr(&m, "--x\r\n");
    struct message *msg = message_parse(m.s, m.len);
    CHECK_INTEQ(msg->nparts, MESSAGE_MAX_PARTS);
    CHECK_INTEQ(msg->parts[0].nchildren, MESSAGE_MAX_PARTS - 1);
    CHECK(balanced(bodystructure(msg, 0, 1)));
    message_free(&msg);
    buf_free(&m);
}

static void test_header_access(void)
{
    const char *h = "Received: one\r\n"
                    "X-Folded: a\r\n\tb\r\n  c\r\n"
                    "received : two\r\n"
                    "Empty:\r\n"
                    "\r\n"
                    "Received: body, not a header\r\n";
    struct buf v = BUF_INITIALIZER;
    CHECK(message_header_get(h, strlen(h), "x-folded", &v));
    CHECK_STREQ(buf_cstring(&v), "a\tb  c");
    CHECK(message_header_get(h, strlen(h), "EMPTY", &v));
    CHECK_STREQ(buf_cstring(&v), "");
    CHECK(!message_header_get(h, strlen(h), "Missing", &v));
    strarray_t all = STRARRAY_INITIALIZER;
    CHECK_INTEQ(message_header_getall(h, strlen(h), "Received", &all), 2);
    CHECK_STREQ(strarray_nth(&all, 0), "one");
    CHECK_STREQ(strarray_nth(&all, 1), "two");
    strarray_fini(&all);
    buf_free(&v);
}

static void test_dates(void)
{
    struct { const char *s; long long t; } cases[] = {
        { "Tue, 1 Jul 2003 10:52:37 +0200", 1057049557 },
        { "Fri, 21 Nov 1997 09:55:06 -0600", 880127706 },
        { "21 Nov 97 09:55:06 GMT", 880106106 },          /* 2-digit year */
        { "Fri, 21 Nov 1997 09:55 CST", 880127700 },      /* no seconds */
        { "Thu,\r\n 13\r\n Feb\r\n 1969\r\n 23:32\r\n -0330 (Newfoundland)", -1 },
        { "Sat, 1 Jan 2000 00:00:00 (comment) +0000", 946684800 },
        { "1 jan 100 00:00:00 +0000", 946684800 },        /* 3-digit year */
        { "Mon, 31 Dec 2035 23:59:60 Z", 2082758399 },    /* leap second */
        { "Mon, 1 Feb 2021 12:00:00 A", 1612180800 },     /* military: -0000 */
        { "1 Feb 2021 12:00:00", 1612180800 },            /* no zone */
        { "Mon, 29 Feb 2016 01:02:03 +0000", 1456707723 },
        { "garbage", -1 },
        { "32 Jan 2000 00:00 +0000", -1 },
        { "1 Foo 2000 00:00 +0000", -1 },
        { "1 Jan 2000 24:00 +0000", -1 },
        { "", -1 },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        time_t t = message_parse_date(cases[i].s, strlen(cases[i].s));
        if ((long long)t != cases[i].t)
            printf("# date case %zu: %s\n", i, cases[i].s);
        CHECK_INTEQ(t, cases[i].t);
    }
}

static void test_write_string(void)
{
    buf_reset(&out);
    message_write_string(&out, "plain", 5);
    CHECK_STREQ(buf_cstring(&out), "\"plain\"");
    buf_reset(&out);
    message_write_string(&out, "a \"q\" \\", 7);
    CHECK_STREQ(buf_cstring(&out), "\"a \\\"q\\\" \\\\\"");
    buf_reset(&out);
    message_write_string(&out, "two\r\nlines", 10);
    CHECK_STREQ(buf_cstring(&out), "{10}\r\ntwo\r\nlines");
    buf_reset(&out);
    message_write_string(&out, "", 0);
    CHECK_STREQ(buf_cstring(&out), "\"\"");
    buf_reset(&out);
    message_write_nstring(&out, NULL);
    CHECK_STREQ(buf_cstring(&out), "NIL");
}

static void test_cache_roundtrip(void)
{
    struct message *msg = message_parse(mixed, strlen(mixed));
    struct buf rec = BUF_INITIALIZER, want = BUF_INITIALIZER;
    message_cache_serialize(msg, &rec);
    message_write_bodystructure(&want, msg, 0, 1);
    message_free(&msg);

    msg = message_cache_parse(rec.s, rec.len, mixed, strlen(mixed));
    CHECK(msg != NULL);
    if (msg) {
        CHECK_STREQ(bodystructure(msg, 0, 1), buf_cstring(&want));
        CHECK_SECTION(msg, "2.2.MIME", "Content-Type: text/html\r\n\r\n");
        message_free(&msg);
    }
    /* Truncated, or attached to a shorter message: refused. */
    CHECK(message_cache_parse(rec.s, rec.len - 1, mixed, strlen(mixed)) == NULL);
    CHECK(message_cache_parse(rec.s, rec.len, mixed, 100) == NULL);
    CHECK(message_cache_parse("", 0, mixed, strlen(mixed)) == NULL);
    /* A loop in the part links is refused. */
    struct message_part *parts = (struct message_part *)(rec.s + 20);
    parts[1].next_sibling = 0;
    CHECK(message_cache_parse(rec.s, rec.len, mixed, strlen(mixed)) == NULL);
    buf_free(&rec);
    buf_free(&want);
}

static void test_done(void)
{
    buf_free(&out);
    CHECK(out.s == NULL);
}

UNIT_TESTS(UNIT_T(test_simple), UNIT_T(test_alternative),
           UNIT_T(test_nested_rfc822), UNIT_T(test_digest),
           UNIT_T(test_8bit_and_encoded_words), UNIT_T(test_rfc2231_params),
           UNIT_T(test_addresses), UNIT_T(test_envelope_defaults),
           UNIT_T(test_missing_headers_and_body), UNIT_T(test_malformed_multipart),
           UNIT_T(test_deep_nesting), UNIT_T(test_many_parts),
           UNIT_T(test_header_access), UNIT_T(test_dates),
           UNIT_T(test_write_string), UNIT_T(test_cache_roundtrip),
           UNIT_T(test_done))
