/* test_imapparse.c -- the IMAP tokenizer, fed over a socketpair. */
#include "config.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/imapparse.h"
#include "lib/test/unit.h"

/* A server stream on one end; the test plays the client on the other. */
struct fixture {
    int sv[2];
    struct protstream *p;
    struct imapparse_ctx ctx;
    struct buf b;
};

static void fx_open_len(struct fixture *f, const char *input, size_t len)
{
    memset(f, 0, sizeof(*f));
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, f->sv) < 0) abort();
    fcntl(f->sv[1], F_SETFL, O_NONBLOCK);
    if (len && write(f->sv[1], input, len) != (ssize_t)len) abort();
    f->p = prot_new(f->sv[0], f->sv[0]);
    prot_settimeout(f->p, 2);   /* a bug must not hang the test */
    imapparse_init(&f->ctx, f->p, 16, 100);
}

static void fx_open(struct fixture *f, const char *input)
{
    fx_open_len(f, input, strlen(input));
}

/* What the server has sent so far (continuations), as a string. */
static const char *fx_output(struct fixture *f)
{
    static char out[256];
    prot_flush(f->p);
    ssize_t n = read(f->sv[1], out, sizeof(out) - 1);
    out[n > 0 ? n : 0] = '\0';
    return out;
}

static void fx_close(struct fixture *f)
{
    prot_free(&f->p);
    close(f->sv[0]);
    close(f->sv[1]);
    buf_free(&f->b);
}

static void test_command_line(void)
{
    struct fixture f;
    fx_open(&f, "a001 LOGIN user pass\r\n");
    CHECK_INTEQ(imapparse_tag(&f.ctx, &f.b), ' ');
    CHECK_STREQ(buf_cstring(&f.b), "a001");
    CHECK_INTEQ(imapparse_word(&f.ctx, &f.b), ' ');
    CHECK_STREQ(buf_cstring(&f.b), "LOGIN");
    CHECK_INTEQ(imapparse_atom(&f.ctx, &f.b), ' ');
    CHECK_STREQ(buf_cstring(&f.b), "user");
    CHECK_INTEQ(imapparse_astring(&f.ctx, &f.b), '\r');
    CHECK_STREQ(buf_cstring(&f.b), "pass");
    CHECK(!f.ctx.literal_seen);
    CHECK_INTEQ(imapparse_eol(&f.ctx, '\r'), 0);
    CHECK(f.ctx.line_ended);
    CHECK_STREQ(fx_output(&f), "");
    fx_close(&f);
}

static void test_empty_lines(void)
{
    struct fixture f;
    fx_open(&f, "\r\n\nA1 NOOP\n");
    CHECK_INTEQ(imapparse_tag(&f.ctx, &f.b), '\r');
    CHECK_INTEQ(buf_len(&f.b), 0);
    CHECK_INTEQ(imapparse_eol(&f.ctx, '\r'), 0);
    CHECK_INTEQ(imapparse_tag(&f.ctx, &f.b), '\n');
    CHECK_INTEQ(buf_len(&f.b), 0);
    CHECK_INTEQ(imapparse_eol(&f.ctx, '\n'), 0);
    CHECK_INTEQ(imapparse_tag(&f.ctx, &f.b), ' ');
    CHECK_STREQ(buf_cstring(&f.b), "A1");
    /* bare LF ends a line */
    CHECK_INTEQ(imapparse_word(&f.ctx, &f.b), '\n');
    CHECK_STREQ(buf_cstring(&f.b), "NOOP");
    CHECK_INTEQ(imapparse_eol(&f.ctx, '\n'), 0);
    fx_close(&f);
}

static void test_bad_tags(void)
{
    struct fixture f;
    fx_open(&f, "a+b NOOP\r\n(x\r\n*\r\nc\x01 X\r\nok NOOP\r\n");
    CHECK_INTEQ(imapparse_tag(&f.ctx, &f.b), IMAPPARSE_SYNTAX);
    CHECK(strstr(f.ctx.error, "tag") != NULL);
    imapparse_skipline(&f.ctx, IMAPPARSE_SYNTAX);
    CHECK_INTEQ(imapparse_tag(&f.ctx, &f.b), IMAPPARSE_SYNTAX);
    CHECK(strstr(f.ctx.error, "missing tag") != NULL);
    imapparse_skipline(&f.ctx, IMAPPARSE_SYNTAX);
    CHECK_INTEQ(imapparse_tag(&f.ctx, &f.b), IMAPPARSE_SYNTAX);
    imapparse_skipline(&f.ctx, IMAPPARSE_SYNTAX);
    CHECK_INTEQ(imapparse_tag(&f.ctx, &f.b), IMAPPARSE_SYNTAX);
    CHECK(strstr(f.ctx.error, "0x01") != NULL);
    imapparse_skipline(&f.ctx, IMAPPARSE_SYNTAX);
    CHECK_INTEQ(imapparse_tag(&f.ctx, &f.b), ' ');
    CHECK_STREQ(buf_cstring(&f.b), "ok");
    fx_close(&f);
}

static void test_atoms_and_words(void)
{
    struct fixture f;
    fx_open(&f, "abc(def ab]c ab]c 1:*,5 \\Seen) BODY.PEEK[]<0.10> x%y "
                "\"q ");
    f.ctx.maxword = 64;
    CHECK_INTEQ(imapparse_atom(&f.ctx, &f.b), '(');
    CHECK_STREQ(buf_cstring(&f.b), "abc");
    CHECK_INTEQ(imapparse_atom(&f.ctx, &f.b), ' ');
    CHECK_STREQ(buf_cstring(&f.b), "def");
    /* ']' ends an atom but belongs to an astring */
    CHECK_INTEQ(imapparse_atom(&f.ctx, &f.b), ']');
    CHECK_STREQ(buf_cstring(&f.b), "ab");
    CHECK_INTEQ(imapparse_atom(&f.ctx, &f.b), ' ');
    CHECK_INTEQ(imapparse_astring(&f.ctx, &f.b), ' ');
    CHECK_STREQ(buf_cstring(&f.b), "ab]c");
    CHECK_INTEQ(imapparse_word(&f.ctx, &f.b), ' ');
    CHECK_STREQ(buf_cstring(&f.b), "1:*,5");
    CHECK_INTEQ(imapparse_word(&f.ctx, &f.b), ')');
    CHECK_STREQ(buf_cstring(&f.b), "\\Seen");
    CHECK_INTEQ(prot_getc(f.p), ' ');
    CHECK_INTEQ(imapparse_word(&f.ctx, &f.b), ' ');
    CHECK_STREQ(buf_cstring(&f.b), "BODY.PEEK[]<0.10>");
    CHECK_INTEQ(imapparse_atom(&f.ctx, &f.b), '%');
    CHECK_STREQ(buf_cstring(&f.b), "x");
    CHECK_INTEQ(imapparse_atom(&f.ctx, &f.b), ' ');
    CHECK_STREQ(buf_cstring(&f.b), "y");
    /* an atom cannot start with a special */
    CHECK_INTEQ(imapparse_atom(&f.ctx, &f.b), IMAPPARSE_SYNTAX);
    CHECK(strstr(f.ctx.error, "missing atom") != NULL);
    CHECK_INTEQ(prot_getc(f.p), '"');   /* the offending byte is kept */
    fx_close(&f);

    fx_open(&f, "ab\x7f" "c caf\xc3\xa9 \r\n");
    CHECK_INTEQ(imapparse_atom(&f.ctx, &f.b), IMAPPARSE_SYNTAX);
    CHECK(strstr(f.ctx.error, "0x7f") != NULL);
    imapparse_skipline(&f.ctx, IMAPPARSE_SYNTAX);
    fx_close(&f);

    fx_open(&f, "caf\xc3\xa9 ");
    CHECK_INTEQ(imapparse_word(&f.ctx, &f.b), IMAPPARSE_SYNTAX);
    CHECK(strstr(f.ctx.error, "0xc3") != NULL);
    fx_close(&f);
}

static void test_quoted(void)
{
    struct fixture f;
    fx_open(&f, "\"a\\\\b\\\"c\" \"\")\"tab\there\"\r\n");
    CHECK_INTEQ(imapparse_string(&f.ctx, &f.b), ' ');
    CHECK_STREQ(buf_cstring(&f.b), "a\\b\"c");
    CHECK_INTEQ(imapparse_astring(&f.ctx, &f.b), ')');
    CHECK_INTEQ(buf_len(&f.b), 0);
    CHECK_INTEQ(imapparse_astring(&f.ctx, &f.b), '\r');
    CHECK_STREQ(buf_cstring(&f.b), "tab\there");
    CHECK(!f.ctx.literal_seen);
    fx_close(&f);

    /* only \\ and \" are escapes */
    fx_open(&f, "\"a\\nb\"\r\nNEXT\r\n");
    CHECK_INTEQ(imapparse_string(&f.ctx, &f.b), IMAPPARSE_SYNTAX);
    CHECK(strstr(f.ctx.error, "escape") != NULL);
    imapparse_skipline(&f.ctx, IMAPPARSE_SYNTAX);
    CHECK_INTEQ(imapparse_tag(&f.ctx, &f.b), '\r');
    CHECK_STREQ(buf_cstring(&f.b), "NEXT");
    fx_close(&f);

    /* CR ends the command: the line end survives the error */
    fx_open(&f, "\"abc\r\nNEXT\r\n");
    CHECK_INTEQ(imapparse_string(&f.ctx, &f.b), IMAPPARSE_SYNTAX);
    imapparse_skipline(&f.ctx, IMAPPARSE_SYNTAX);
    CHECK_INTEQ(imapparse_tag(&f.ctx, &f.b), '\r');
    CHECK_STREQ(buf_cstring(&f.b), "NEXT");
    fx_close(&f);

    fx_open_len(&f, "\"a\0b\"\r\n", 7);
    CHECK_INTEQ(imapparse_string(&f.ctx, &f.b), IMAPPARSE_SYNTAX);
    CHECK(strstr(f.ctx.error, "0x00") != NULL);
    fx_close(&f);
}

static void test_quoted_8bit(void)
{
    struct fixture f;
    const char *in = "\"caf\xc3\xa9\" \"\xc3\x28\" \"\xc0\xaf\" \"\xed\xa0\x80\" "
                     "\"\xf0\x9f\x98\x80\" \"\xe2\x82\"\r\n";
    fx_open(&f, in);
    CHECK_INTEQ(imapparse_string(&f.ctx, &f.b), IMAPPARSE_SYNTAX);
    CHECK(strstr(f.ctx.error, "8-bit") != NULL);
    fx_close(&f);

    fx_open(&f, in);
    f.ctx.allow_utf8 = 1;
    CHECK_INTEQ(imapparse_string(&f.ctx, &f.b), ' ');
    CHECK_STREQ(buf_cstring(&f.b), "caf\xc3\xa9");
    /* bad continuation, overlong, surrogate */
    CHECK_INTEQ(imapparse_string(&f.ctx, &f.b), IMAPPARSE_SYNTAX);
    CHECK(strstr(f.ctx.error, "UTF-8") != NULL);
    CHECK_INTEQ(prot_getc(f.p), ' ');
    CHECK_INTEQ(imapparse_string(&f.ctx, &f.b), IMAPPARSE_SYNTAX);
    CHECK_INTEQ(prot_getc(f.p), ' ');
    CHECK_INTEQ(imapparse_string(&f.ctx, &f.b), IMAPPARSE_SYNTAX);
    CHECK_INTEQ(prot_getc(f.p), ' ');
    CHECK_INTEQ(imapparse_string(&f.ctx, &f.b), ' ');
    CHECK_STREQ(buf_cstring(&f.b), "\xf0\x9f\x98\x80");
    /* truncated sequence */
    CHECK_INTEQ(imapparse_string(&f.ctx, &f.b), IMAPPARSE_SYNTAX);
    fx_close(&f);
}

static void test_sync_literal(void)
{
    struct fixture f;
    fx_open(&f, "{5}\r\nhello {3}\nabc\r\n");
    CHECK_INTEQ(imapparse_string(&f.ctx, &f.b), ' ');
    CHECK_STREQ(buf_cstring(&f.b), "hello");
    CHECK(f.ctx.literal_seen);
    CHECK_STREQ(fx_output(&f), "+ go ahead\r\n");
    CHECK_INTEQ(imapparse_astring(&f.ctx, &f.b), '\r');
    CHECK_STREQ(buf_cstring(&f.b), "abc");
    CHECK_STREQ(fx_output(&f), "+ go ahead\r\n");
    CHECK_INTEQ(imapparse_eol(&f.ctx, '\r'), 0);
    fx_close(&f);

    /* an empty literal still needs its continuation; CRLF in data is data */
    fx_open(&f, "{0}\r\n) {4}\r\n\r\n\r\n ");
    CHECK_INTEQ(imapparse_string(&f.ctx, &f.b), ')');
    CHECK_INTEQ(buf_len(&f.b), 0);
    CHECK_STREQ(fx_output(&f), "+ go ahead\r\n");
    CHECK_INTEQ(prot_getc(f.p), ' ');
    CHECK_INTEQ(imapparse_string(&f.ctx, &f.b), ' ');
    CHECK_STREQ(buf_cstring(&f.b), "\r\n\r\n");
    fx_close(&f);
}

static void test_nonsync_literal(void)
{
    struct fixture f;
    fx_open(&f, "{5+}\r\nhello {2+}\r\nab\r\n");
    CHECK_INTEQ(imapparse_astring(&f.ctx, &f.b), ' ');
    CHECK_STREQ(buf_cstring(&f.b), "hello");
    CHECK_INTEQ(imapparse_nstring(&f.ctx, &f.b, &(int){0}), '\r');
    CHECK_STREQ(buf_cstring(&f.b), "ab");
    CHECK_STREQ(fx_output(&f), "");
    fx_close(&f);
}

static void test_literal_minus(void)
{
    struct fixture f;
    struct buf in = BUF_INITIALIZER;
    buf_appendcstr(&in, "{4096+}\r\n");
    for (int i = 0; i < 4096; i++) buf_putc(&in, 'x');
    buf_appendcstr(&in, " {4097+}\r\n");
    for (int i = 0; i < 4097; i++) buf_putc(&in, 'y');
    buf_appendcstr(&in, " rest {1}\r\nb NOOP\r\n");

    fx_open_len(&f, in.s, in.len);
    f.ctx.literal_minus = 1;
    f.ctx.maxliteral = 10000;
    CHECK_INTEQ(imapparse_string(&f.ctx, &f.b), ' ');
    CHECK_INTEQ(buf_len(&f.b), 4096);
    /* over 4096: TOOBIG, and the data is read so we stay in step */
    CHECK_INTEQ(imapparse_string(&f.ctx, &f.b), IMAPPARSE_TOOBIG);
    CHECK(strstr(f.ctx.error, "LITERAL-") != NULL);
    CHECK(!f.ctx.line_ended);
    imapparse_skipline(&f.ctx, IMAPPARSE_TOOBIG);
    CHECK_INTEQ(imapparse_tag(&f.ctx, &f.b), ' ');
    CHECK_STREQ(buf_cstring(&f.b), "b");
    CHECK_STREQ(fx_output(&f), "");
    fx_close(&f);

    /* without LITERAL- the same literal is fine */
    fx_open_len(&f, in.s, in.len);
    f.ctx.maxliteral = 10000;
    CHECK_INTEQ(imapparse_string(&f.ctx, &f.b), ' ');
    CHECK_INTEQ(imapparse_string(&f.ctx, &f.b), ' ');
    CHECK_INTEQ(buf_len(&f.b), 4097);
    fx_close(&f);
    buf_free(&in);
}

static void test_literal_too_big(void)
{
    struct fixture f;
    /* synchronizing: refused without a continuation; the line is over */
    fx_open(&f, "A1 APPEND box {1000}\r\nB1 NOOP\r\n");
    CHECK_INTEQ(imapparse_tag(&f.ctx, &f.b), ' ');
    CHECK_INTEQ(imapparse_word(&f.ctx, &f.b), ' ');
    CHECK_INTEQ(imapparse_astring(&f.ctx, &f.b), ' ');
    CHECK_INTEQ(imapparse_string(&f.ctx, &f.b), IMAPPARSE_TOOBIG);
    CHECK_STREQ(f.ctx.error,
                "Literal of 1000 bytes is over the limit of 100 bytes");
    CHECK(f.ctx.line_ended);
    CHECK_STREQ(fx_output(&f), "");
    imapparse_skipline(&f.ctx, IMAPPARSE_TOOBIG);
    CHECK_INTEQ(imapparse_tag(&f.ctx, &f.b), ' ');
    CHECK_STREQ(buf_cstring(&f.b), "B1");
    fx_close(&f);

    /* non-synchronizing: read and thrown away */
    struct buf in = BUF_INITIALIZER;
    buf_appendcstr(&in, "A1 X {150+}\r\n");
    for (int i = 0; i < 150; i++) buf_putc(&in, i % 3 ? 'z' : '\n');
    buf_appendcstr(&in, " more\r\nB2 NOOP\r\n");
    fx_open_len(&f, in.s, in.len);
    CHECK_INTEQ(imapparse_tag(&f.ctx, &f.b), ' ');
    CHECK_INTEQ(imapparse_word(&f.ctx, &f.b), ' ');
    CHECK_INTEQ(imapparse_astring(&f.ctx, &f.b), IMAPPARSE_TOOBIG);
    CHECK(strstr(f.ctx.error, "150 bytes") != NULL);
    imapparse_skipline(&f.ctx, IMAPPARSE_TOOBIG);
    CHECK_INTEQ(imapparse_tag(&f.ctx, &f.b), ' ');
    CHECK_STREQ(buf_cstring(&f.b), "B2");
    CHECK_STREQ(fx_output(&f), "");
    fx_close(&f);
    buf_free(&in);
}

static void test_literal_nul_and_binary(void)
{
    struct fixture f;
    unsigned long long len;
    int binary;
    char data[8];

    static const char nul_input[] = "{3}\r\na\0b ~{3}\r\na\0b ~{1}\r\n";
    fx_open_len(&f, nul_input, sizeof(nul_input) - 1);
    CHECK_INTEQ(imapparse_string(&f.ctx, &f.b), IMAPPARSE_SYNTAX);
    CHECK(strstr(f.ctx.error, "NUL") != NULL);
    /* the literal was consumed; what follows it is next */
    CHECK_INTEQ(prot_getc(f.p), ' ');
    CHECK_INTEQ(imapparse_literal_start(&f.ctx, prot_getc(f.p), 10, 1,
                                        &len, &binary), 0);
    CHECK_INTEQ(len, 3);
    CHECK_INTEQ(binary, 1);
    CHECK_INTEQ(prot_read(f.p, data, 3), 3);
    CHECK(!memcmp(data, "a\0b", 3));
    CHECK_INTEQ(prot_getc(f.p), ' ');
    /* literal8 only where the caller allows it */
    CHECK_INTEQ(imapparse_literal_start(&f.ctx, prot_getc(f.p), 10, 0,
                                        &len, &binary), IMAPPARSE_SYNTAX);
    CHECK_INTEQ(prot_getc(f.p), '~');
    fx_close(&f);

    /* streaming: the caller reads the data, checked against its limit */
    fx_open(&f, "{10}\r\n0123456789 {10+}\r\n0123456789 {6}\r\n");
    CHECK_INTEQ(imapparse_literal_start(&f.ctx, prot_getc(f.p), 20, 0,
                                        &len, &binary), 0);
    CHECK_INTEQ(len, 10);
    CHECK_INTEQ(binary, 0);
    CHECK_STREQ(fx_output(&f), "+ go ahead\r\n");
    CHECK_INTEQ(prot_read(f.p, data, 8), 8);
    CHECK_INTEQ(prot_read(f.p, data, 3), 3);
    CHECK_INTEQ(imapparse_literal_start(&f.ctx, prot_getc(f.p), 5, 0,
                                        &len, &binary), IMAPPARSE_TOOBIG);
    CHECK_INTEQ(prot_getc(f.p), ' ');
    CHECK_INTEQ(imapparse_literal_start(&f.ctx, prot_getc(f.p), 5, 0,
                                        &len, &binary), IMAPPARSE_TOOBIG);
    CHECK(f.ctx.line_ended);
    CHECK_STREQ(fx_output(&f), "");
    fx_close(&f);
}

static void test_malformed_literals(void)
{
    static const char *bad[] = {
        "{abc}\r\n", "{5}x\r\n", "{5\r\n", "{}\r\n", "{5++}\r\n",
        "{99999999999999999999999}\r\n", "~{3}\r\n",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct fixture f;
        struct buf in = BUF_INITIALIZER;
        buf_appendcstr(&in, bad[i]);
        buf_appendcstr(&in, "n NOOP\r\n");
        fx_open(&f, buf_cstring(&in));
        int r = imapparse_string(&f.ctx, &f.b);
        if (r != IMAPPARSE_SYNTAX) printf("# input %zu\n", i);
        CHECK_INTEQ(r, IMAPPARSE_SYNTAX);
        CHECK(f.ctx.error[0] != '\0');
        imapparse_skipline(&f.ctx, r);
        CHECK_INTEQ(imapparse_tag(&f.ctx, &f.b), ' ');
        CHECK_STREQ(buf_cstring(&f.b), "n");
        CHECK_STREQ(fx_output(&f), "");
        fx_close(&f);
        buf_free(&in);
    }
}

static void test_skipline(void)
{
    struct fixture f;
    /* literals on a skipped line carry CRLFs that must not end it */
    fx_open(&f, "a FOO {5+}\r\nab\r\nc {3+}\r\nx\ny\r\nb NOOP\r\n");
    CHECK_INTEQ(imapparse_tag(&f.ctx, &f.b), ' ');
    CHECK_INTEQ(imapparse_word(&f.ctx, &f.b), ' ');
    imapparse_skipline(&f.ctx, ' ');
    CHECK_INTEQ(imapparse_tag(&f.ctx, &f.b), ' ');
    CHECK_STREQ(buf_cstring(&f.b), "b");
    CHECK_STREQ(fx_output(&f), "");
    fx_close(&f);

    /* a synchronizing literal ends the line: its data never comes */
    fx_open(&f, "a FOO {5}\r\nb NOOP\r\n");
    CHECK_INTEQ(imapparse_tag(&f.ctx, &f.b), ' ');
    imapparse_skipline(&f.ctx, ' ');
    CHECK_INTEQ(imapparse_tag(&f.ctx, &f.b), ' ');
    CHECK_STREQ(buf_cstring(&f.b), "b");
    CHECK_STREQ(fx_output(&f), "");
    fx_close(&f);

    /* the caller already holds the '{' */
    fx_open(&f, "abc{5+}\r\nhe\r\no\r\nb NOOP\r\n");
    CHECK_INTEQ(imapparse_atom(&f.ctx, &f.b), '{');
    imapparse_skipline(&f.ctx, '{');
    CHECK_INTEQ(imapparse_tag(&f.ctx, &f.b), ' ');
    CHECK_STREQ(buf_cstring(&f.b), "b");
    fx_close(&f);

    /* braces that are not a literal announcement are plain text */
    fx_open(&f, "x {5+} y {z}\r\nb NOOP\r\n");
    imapparse_skipline(&f.ctx, IMAPPARSE_SYNTAX);
    CHECK_INTEQ(imapparse_tag(&f.ctx, &f.b), ' ');
    CHECK_STREQ(buf_cstring(&f.b), "b");
    fx_close(&f);

    /* nothing to skip after the LF was returned */
    fx_open(&f, "a\nb NOOP\r\n");
    CHECK_INTEQ(imapparse_tag(&f.ctx, &f.b), '\n');
    imapparse_skipline(&f.ctx, '\n');
    CHECK_INTEQ(imapparse_tag(&f.ctx, &f.b), ' ');
    CHECK_STREQ(buf_cstring(&f.b), "b");
    fx_close(&f);
}

static void test_limits(void)
{
    struct fixture f;
    /* maxword is 16 in the fixture */
    fx_open(&f, "0123456789abcdef 0123456789abcdefg \"0123456789abcdef\" "
                "\"0123456789abcdefg\"\r\nb NOOP\r\n");
    CHECK_INTEQ(imapparse_atom(&f.ctx, &f.b), ' ');
    CHECK_INTEQ(buf_len(&f.b), 16);
    CHECK_INTEQ(imapparse_atom(&f.ctx, &f.b), IMAPPARSE_TOOBIG);
    CHECK_STREQ(f.ctx.error, "atom too long");
    CHECK_INTEQ(prot_getc(f.p), 'g');
    CHECK_INTEQ(prot_getc(f.p), ' ');
    CHECK_INTEQ(imapparse_string(&f.ctx, &f.b), ' ');
    CHECK_INTEQ(buf_len(&f.b), 16);
    CHECK_INTEQ(imapparse_string(&f.ctx, &f.b), IMAPPARSE_TOOBIG);
    CHECK_STREQ(f.ctx.error, "quoted string too long");
    imapparse_skipline(&f.ctx, IMAPPARSE_TOOBIG);
    CHECK_INTEQ(imapparse_tag(&f.ctx, &f.b), ' ');
    CHECK_STREQ(buf_cstring(&f.b), "b");
    fx_close(&f);

    /* a literal of exactly maxliteral is fine */
    struct buf in = BUF_INITIALIZER;
    buf_appendcstr(&in, "{100+}\r\n");
    for (int i = 0; i < 100; i++) buf_putc(&in, 'q');
    buf_appendcstr(&in, "\r\n");
    fx_open_len(&f, in.s, in.len);
    CHECK_INTEQ(imapparse_string(&f.ctx, &f.b), '\r');
    CHECK_INTEQ(buf_len(&f.b), 100);
    fx_close(&f);
    buf_free(&in);
}

static void test_nstring(void)
{
    struct fixture f;
    int is_nil;
    fx_open(&f, "NIL nil)\"NIL\" {2+}\r\nab NILS\r\n");
    CHECK_INTEQ(imapparse_nstring(&f.ctx, &f.b, &is_nil), ' ');
    CHECK(is_nil);
    CHECK_INTEQ(imapparse_nstring(&f.ctx, &f.b, &is_nil), ')');
    CHECK(is_nil);
    CHECK_INTEQ(imapparse_nstring(&f.ctx, &f.b, &is_nil), ' ');
    CHECK(!is_nil);
    CHECK_STREQ(buf_cstring(&f.b), "NIL");
    CHECK_INTEQ(imapparse_nstring(&f.ctx, &f.b, &is_nil), ' ');
    CHECK(!is_nil);
    CHECK_STREQ(buf_cstring(&f.b), "ab");
    CHECK_INTEQ(imapparse_nstring(&f.ctx, &f.b, &is_nil), IMAPPARSE_SYNTAX);
    CHECK(!is_nil);
    CHECK_STREQ(f.ctx.error, "expected NIL or a string");
    /* the line end is still there for skipline */
    CHECK_INTEQ(prot_getc(f.p), '\r');
    fx_close(&f);

    /* a string is quoted or a literal, never an atom */
    fx_open(&f, "abc\r\n");
    CHECK_INTEQ(imapparse_string(&f.ctx, &f.b), IMAPPARSE_SYNTAX);
    CHECK_INTEQ(prot_getc(f.p), 'a');
    fx_close(&f);
}

static void test_eol_and_eof(void)
{
    struct fixture f;
    fx_open(&f, "a NOOP extra {3+}\r\nx\r\n\r\nb NOOP\rX\r\nc\r\n");
    CHECK_INTEQ(imapparse_tag(&f.ctx, &f.b), ' ');
    CHECK_INTEQ(imapparse_word(&f.ctx, &f.b), ' ');
    CHECK_INTEQ(imapparse_eol(&f.ctx, ' '), IMAPPARSE_SYNTAX);
    CHECK_INTEQ(imapparse_tag(&f.ctx, &f.b), ' ');
    CHECK_STREQ(buf_cstring(&f.b), "b");
    CHECK_INTEQ(imapparse_word(&f.ctx, &f.b), '\r');
    CHECK_INTEQ(imapparse_eol(&f.ctx, '\r'), IMAPPARSE_SYNTAX);
    CHECK_STREQ(f.ctx.error, "CR not followed by LF");
    CHECK_INTEQ(imapparse_tag(&f.ctx, &f.b), '\r');
    CHECK_STREQ(buf_cstring(&f.b), "c");
    CHECK_INTEQ(imapparse_eol(&f.ctx, '\r'), 0);

    /* the client goes away mid-token and mid-literal */
    CHECK_INTEQ(write(f.sv[1], "d {10}\r\nabc", 11), 11);
    shutdown(f.sv[1], SHUT_WR);
    CHECK_INTEQ(imapparse_tag(&f.ctx, &f.b), ' ');
    CHECK_INTEQ(imapparse_string(&f.ctx, &f.b), IMAPPARSE_EOF);
    CHECK_STREQ(f.ctx.error, "connection closed");
    CHECK_INTEQ(imapparse_tag(&f.ctx, &f.b), IMAPPARSE_EOF);
    CHECK_INTEQ(imapparse_eol(&f.ctx, IMAPPARSE_EOF), IMAPPARSE_EOF);
    imapparse_skipline(&f.ctx, IMAPPARSE_EOF);
    fx_close(&f);

    /* a silent client: the stream's timeout is the error */
    fx_open(&f, "e \"unterminated");
    prot_settimeout(f.p, 1);
    CHECK_INTEQ(imapparse_tag(&f.ctx, &f.b), ' ');
    CHECK_INTEQ(imapparse_string(&f.ctx, &f.b), IMAPPARSE_EOF);
    CHECK_STREQ(f.ctx.error, "connection timeout");
    fx_close(&f);
}

UNIT_TESTS(UNIT_T(test_command_line), UNIT_T(test_empty_lines),
           UNIT_T(test_bad_tags), UNIT_T(test_atoms_and_words),
           UNIT_T(test_quoted), UNIT_T(test_quoted_8bit),
           UNIT_T(test_sync_literal), UNIT_T(test_nonsync_literal),
           UNIT_T(test_literal_minus), UNIT_T(test_literal_too_big),
           UNIT_T(test_literal_nul_and_binary), UNIT_T(test_malformed_literals),
           UNIT_T(test_skipline), UNIT_T(test_limits), UNIT_T(test_nstring),
           UNIT_T(test_eol_and_eof))
