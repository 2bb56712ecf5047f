/* imapparse.c -- the IMAP tokenizer; see imapparse.h.
 *
 * Convention: when a token is refused, the byte that showed the problem
 * is pushed back (unless it was the whole token, e.g. a literal's data),
 * so a CR or LF is never swallowed by an error path and
 * imapparse_skipline() finds the real end of the line.
 */
#include "config.h"

#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "lib/imapparse.h"

void imapparse_init(struct imapparse_ctx *ctx, struct protstream *prot,
                    size_t maxword, size_t maxliteral)
{
    memset(ctx, 0, sizeof(*ctx));
    ctx->prot = prot;
    ctx->maxword = maxword;
    ctx->maxliteral = maxliteral;
}

static int fail(struct imapparse_ctx *ctx, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(struct imapparse_ctx *ctx, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ctx->error, sizeof(ctx->error), fmt, ap);
    va_end(ap);
    return code;
}

static int eof(struct imapparse_ctx *ctx)
{
    const char *why = prot_error(ctx->prot);
    return fail(ctx, IMAPPARSE_EOF, "connection %s",
                why && strcmp(why, "EOF") ? why : "closed");
}

int imapparse_syntax(struct imapparse_ctx *ctx, int c, const char *fmt,
                     const char *arg)
{
    if (c >= 0)
        prot_ungetc(c, ctx->prot);
    ctx->line_ended = 0;
    snprintf(ctx->error, sizeof(ctx->error), fmt, arg);
    return IMAPPARSE_SYNTAX;
}

/* Refuse the byte just read: push it back so the line end stays visible. */
static int refuse(struct imapparse_ctx *ctx, int c, int code,
                  const char *fmt, const char *what)
{
    prot_ungetc(c, ctx->prot);
    return fail(ctx, code, fmt, what, c);
}

/* Hand back the byte after a token, noting an end of line. */
static int follow(struct imapparse_ctx *ctx, int c)
{
    if (c == EOF) return eof(ctx);
    if (c == '\n') ctx->line_ended = 1;
    return c;
}

static void start(struct imapparse_ctx *ctx, struct buf *out)
{
    ctx->error[0] = '\0';
    ctx->literal_seen = 0;
    ctx->line_ended = 0;
    if (out) buf_reset(out);
}

/* --- character classes (RFC 9051 section 9) --- */

static int is_ctl(int c) { return c < 0x20 || c == 0x7f; }

static int is_atom_char(int c)
{
    return c < 0x80 && !is_ctl(c) && !strchr("(){ %*\"\\]", c);
}

static int is_astring_char(int c) { return is_atom_char(c) || c == ']'; }
static int is_tag_char(int c) { return is_astring_char(c) && c != '+'; }

static int is_word_char(int c)
{
    return c < 0x80 && !is_ctl(c) && !strchr(" ()\"{", c);
}

/* Read a run of `ok` bytes into out (which may end up empty) and return
 * the byte that ended it. */
static int read_run(struct imapparse_ctx *ctx, struct buf *out,
                    int (*ok)(int), const char *what)
{
    for (;;) {
        int c = prot_getc(ctx->prot);
        if (c == EOF) return eof(ctx);
        if (ok(c)) {
            if (out->len >= ctx->maxword)
                return refuse(ctx, c, IMAPPARSE_TOOBIG,
                              "%s too long", what);
            buf_putc(out, (char)c);
            continue;
        }
        buf_cstring(out);
        if (c >= 0x80 || (is_ctl(c) && c != '\r' && c != '\n'))
            return refuse(ctx, c, IMAPPARSE_SYNTAX,
                          "invalid character in %s (byte 0x%02x)", what);
        return follow(ctx, c);
    }
}

/* --- UTF-8 (RFC 3629) --- */

static int utf8_valid(const unsigned char *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        unsigned char c = s[i];
        size_t n;
        uint32_t cp;
        if (c < 0x80) { i++; continue; }
        if (c >= 0xc2 && c <= 0xdf) { n = 1; cp = c & 0x1f; }
        else if (c >= 0xe0 && c <= 0xef) { n = 2; cp = c & 0x0f; }
        else if (c >= 0xf0 && c <= 0xf4) { n = 3; cp = c & 0x07; }
        else return 0;
        if (i + n >= len) return 0;
        for (size_t k = 1; k <= n; k++) {
            if ((s[i + k] & 0xc0) != 0x80) return 0;
            cp = (cp << 6) | (s[i + k] & 0x3f);
        }
        if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000)
            || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return 0;
        i += n + 1;
    }
    return 1;
}

/* --- quoted strings and literals --- */

/* After the opening DQUOTE. */
static int read_quoted(struct imapparse_ctx *ctx, struct buf *out)
{
    int has8bit = 0;
    for (;;) {
        int c = prot_getc(ctx->prot);
        if (c == EOF) return eof(ctx);
        if (c == '"') break;
        if (c == '\\') {
            c = prot_getc(ctx->prot);
            if (c == EOF) return eof(ctx);
            if (c != '"' && c != '\\')
                return refuse(ctx, c, IMAPPARSE_SYNTAX,
                              "invalid escape in %s (byte 0x%02x after \\)",
                              "quoted string");
        } else if (c == '\r' || c == '\n' || c == '\0') {
            return refuse(ctx, c, IMAPPARSE_SYNTAX,
                          "%s may not contain byte 0x%02x", "quoted string");
        } else if (c >= 0x80) {
            if (!ctx->allow_utf8)
                return refuse(ctx, c, IMAPPARSE_SYNTAX,
                              "8-bit byte in %s (0x%02x); use a literal",
                              "quoted string");
            has8bit = 1;
        }
        if (out->len >= ctx->maxword)
            return refuse(ctx, c, IMAPPARSE_TOOBIG, "%s too long",
                          "quoted string");
        buf_putc(out, (char)c);
    }
    buf_cstring(out);
    if (has8bit && !utf8_valid((const unsigned char *)out->s, out->len))
        return fail(ctx, IMAPPARSE_SYNTAX, "invalid UTF-8 in quoted string");
    return follow(ctx, prot_getc(ctx->prot));
}

/* Read and drop `n` bytes; 0, or IMAPPARSE_EOF. */
static int discard(struct imapparse_ctx *ctx, unsigned long long n)
{
    char junk[4096];
    while (n) {
        size_t want = n > sizeof(junk) ? sizeof(junk) : (size_t)n;
        size_t got = prot_read(ctx->prot, junk, want);
        if (!got) return eof(ctx);
        n -= got;
    }
    return 0;
}

int imapparse_literal_start(struct imapparse_ctx *ctx, int c,
                            unsigned long long limit, int allow_binary,
                            unsigned long long *len, int *binary)
{
    unsigned long long n = 0;
    int digits = 0, nonsync = 0, is_binary = 0;

    start(ctx, NULL);
    if (c == '~' && allow_binary) {
        is_binary = 1;
        c = prot_getc(ctx->prot);
    }
    if (c == EOF) return eof(ctx);
    if (c != '{')
        return refuse(ctx, c, IMAPPARSE_SYNTAX,
                      "expected a %s, got byte 0x%02x", "literal");
    while ((c = prot_getc(ctx->prot)) >= '0' && c <= '9') {
        if (n > (ULLONG_MAX - 9) / 10)
            return refuse(ctx, c, IMAPPARSE_SYNTAX,
                          "%s size out of range (at byte 0x%02x)", "literal");
        n = n * 10 + (unsigned)(c - '0');
        digits++;
    }
    if (c == EOF) return eof(ctx);
    if (!digits)
        return refuse(ctx, c, IMAPPARSE_SYNTAX,
                      "%s size missing (byte 0x%02x)", "literal");
    if (c == '+') {
        nonsync = 1;
        c = prot_getc(ctx->prot);
    }
    if (c == '}') {
        c = prot_getc(ctx->prot);
        if (c == '\r') c = prot_getc(ctx->prot);
        if (c == '\n') goto announced;
        if (c == EOF) return eof(ctx);
        return refuse(ctx, c, IMAPPARSE_SYNTAX,
                      "%s size must end the line (byte 0x%02x)", "literal");
    }
    if (c == EOF) return eof(ctx);
    return refuse(ctx, c, IMAPPARSE_SYNTAX,
                  "malformed %s size (byte 0x%02x)", "literal");

announced:
    if ((nonsync && ctx->literal_minus && n > IMAPPARSE_LITERAL_MINUS_MAX)
        || n > limit) {
        if (nonsync && ctx->literal_minus && n > IMAPPARSE_LITERAL_MINUS_MAX)
            fail(ctx, 0, "Non-synchronizing literal of %llu bytes is over "
                 "the LITERAL- limit of %d bytes", n,
                 IMAPPARSE_LITERAL_MINUS_MAX);
        else
            fail(ctx, 0, "Literal of %llu bytes is over the limit of %llu "
                 "bytes", n, limit);
        if (!nonsync) {
            /* no continuation: the client sends no data, its line is over */
            ctx->line_ended = 1;
        } else if (discard(ctx, n) < 0) {
            return IMAPPARSE_EOF;
        }
        return IMAPPARSE_TOOBIG;
    }
    if (!nonsync) {
        prot_puts(ctx->prot, "+ go ahead\r\n");
        prot_flush(ctx->prot);
    }
    *len = n;
    *binary = is_binary;
    return 0;
}

/* After the opening '{': the literal into out, then the byte after it. */
static int read_literal(struct imapparse_ctx *ctx, struct buf *out)
{
    unsigned long long n;
    int binary;
    int r = imapparse_literal_start(ctx, '{', ctx->maxliteral, 0, &n, &binary);
    if (r < 0) return r;

    /* Grow with the data received, not with the size announced, so a
     * client cannot make us reserve memory it never fills. */
    buf_reset(out);
    while (out->len < n) {
        size_t want = n - out->len > 65536 ? 65536 : (size_t)(n - out->len);
        buf_ensure(out, want);
        size_t got = prot_read(ctx->prot, out->s + out->len, want);
        if (!got) return eof(ctx);
        out->len += got;
    }
    buf_cstring(out);
    if (memchr(out->s, '\0', out->len))
        return fail(ctx, IMAPPARSE_SYNTAX, "NUL byte in literal "
                    "(allowed only in a literal8)");
    ctx->literal_seen = 1;
    return follow(ctx, prot_getc(ctx->prot));
}

/* Dispatch on the first byte of a string: quoted, literal, or 0. */
static int read_string_if(struct imapparse_ctx *ctx, struct buf *out, int c,
                          int *handled)
{
    *handled = 1;
    if (c == '"') return read_quoted(ctx, out);
    if (c == '{') return read_literal(ctx, out);
    *handled = 0;
    return 0;
}

/* --- public token readers --- */

int imapparse_tag(struct imapparse_ctx *ctx, struct buf *out)
{
    start(ctx, out);
    int c = read_run(ctx, out, is_tag_char, "tag");
    if (c < 0) return c;
    if (!out->len) {
        if (c == '\r' || c == '\n') return c;   /* an empty line */
        ctx->line_ended = 0;
        return refuse(ctx, c, IMAPPARSE_SYNTAX,
                      "missing %s (byte 0x%02x)", "tag");
    }
    if (c == ' ' || c == '\r' || c == '\n') return c;
    return refuse(ctx, c, IMAPPARSE_SYNTAX,
                  "invalid character in %s (byte 0x%02x)", "tag");
}

static int read_nonempty(struct imapparse_ctx *ctx, struct buf *out,
                         int (*ok)(int), const char *what)
{
    int c = read_run(ctx, out, ok, what);
    if (c < 0 || out->len) return c;
    ctx->line_ended = 0;
    return refuse(ctx, c, IMAPPARSE_SYNTAX,
                  "missing %s (byte 0x%02x)", what);
}

int imapparse_atom(struct imapparse_ctx *ctx, struct buf *out)
{
    start(ctx, out);
    return read_nonempty(ctx, out, is_atom_char, "atom");
}

int imapparse_word(struct imapparse_ctx *ctx, struct buf *out)
{
    start(ctx, out);
    return read_nonempty(ctx, out, is_word_char, "word");
}

int imapparse_string(struct imapparse_ctx *ctx, struct buf *out)
{
    int handled;
    start(ctx, out);
    int c = prot_getc(ctx->prot);
    if (c == EOF) return eof(ctx);
    int r = read_string_if(ctx, out, c, &handled);
    if (handled) return r;
    return refuse(ctx, c, IMAPPARSE_SYNTAX,
                  "expected a %s (byte 0x%02x)", "quoted string or literal");
}

int imapparse_astring(struct imapparse_ctx *ctx, struct buf *out)
{
    int handled;
    start(ctx, out);
    int c = prot_getc(ctx->prot);
    if (c == EOF) return eof(ctx);
    int r = read_string_if(ctx, out, c, &handled);
    if (handled) return r;
    prot_ungetc(c, ctx->prot);
    return read_nonempty(ctx, out, is_astring_char, "string");
}

int imapparse_nstring(struct imapparse_ctx *ctx, struct buf *out, int *is_nil)
{
    int handled;
    start(ctx, out);
    *is_nil = 0;
    int c = prot_getc(ctx->prot);
    if (c == EOF) return eof(ctx);
    int r = read_string_if(ctx, out, c, &handled);
    if (handled) return r;
    prot_ungetc(c, ctx->prot);
    c = read_run(ctx, out, is_atom_char, "string");
    if (c < 0) return c;
    if (out->len == 3 && !strncasecmp(out->s, "NIL", 3)) {
        buf_reset(out);
        *is_nil = 1;
        return c;
    }
    ctx->line_ended = 0;
    prot_ungetc(c, ctx->prot);
    return fail(ctx, IMAPPARSE_SYNTAX, "expected NIL or a string");
}

/* --- ends of lines --- */

int imapparse_eol(struct imapparse_ctx *ctx, int c)
{
    if (c == IMAPPARSE_EOF) return IMAPPARSE_EOF;
    if (c < 0) {
        imapparse_skipline(ctx, c);
        return c;
    }
    ctx->line_ended = 0;
    if (c == '\n') {
        ctx->line_ended = 1;
        return 0;
    }
    if (c == '\r') {
        c = prot_getc(ctx->prot);
        if (c == '\n') {
            ctx->line_ended = 1;
            return 0;
        }
        if (c == EOF) return eof(ctx);
        prot_ungetc(c, ctx->prot);
        fail(ctx, 0, "CR not followed by LF");
        imapparse_skipline(ctx, IMAPPARSE_SYNTAX);
        return IMAPPARSE_SYNTAX;
    }
    fail(ctx, 0, "unexpected extra arguments");
    imapparse_skipline(ctx, c);
    return IMAPPARSE_SYNTAX;
}

void imapparse_skipline(struct imapparse_ctx *ctx, int c)
{
    if (c == IMAPPARSE_EOF || c == '\n') return;
    if (c < 0 && ctx->line_ended) return;
    if (c < 0) c = prot_getc(ctx->prot);

    /* Each pass looks at c; paths that `continue` have already read the
     * byte to look at next. */
    while (c != EOF && c != '\n') {
        if (c != '{') {
            c = prot_getc(ctx->prot);
            continue;
        }
        unsigned long long n = 0;
        int digits = 0, nonsync = 0;
        while ((c = prot_getc(ctx->prot)) >= '0' && c <= '9'
               && n <= (ULLONG_MAX - 9) / 10) {
            n = n * 10 + (unsigned)(c - '0');
            digits++;
        }
        if (!digits) continue;
        if (c == '+') {
            nonsync = 1;
            c = prot_getc(ctx->prot);
        }
        if (c != '}') continue;
        c = prot_getc(ctx->prot);
        if (c == '\r') c = prot_getc(ctx->prot);
        if (c != '\n') continue;
        /* A synchronizing literal's data never comes: the client waits
         * for a continuation we will not send. */
        if (!nonsync || discard(ctx, n) < 0) break;
        c = prot_getc(ctx->prot);
    }
    ctx->line_ended = 1;
}
