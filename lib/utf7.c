/* utf7.c -- IMAP modified UTF-7; see utf7.h. */
#include <stdint.h>
#include <string.h>

#include "lib/utf7.h"

static const char b64chars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

static int b64value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == ',') return 63;
    return -1;
}

static int is_direct(uint32_t c)
{
    return c >= 0x20 && c <= 0x7e;
}

static void put_utf8(struct buf *out, uint32_t cp)
{
    if (cp < 0x80) {
        buf_putc(out, (char)cp);
    } else if (cp < 0x800) {
        buf_putc(out, (char)(0xc0 | (cp >> 6)));
        buf_putc(out, (char)(0x80 | (cp & 0x3f)));
    } else if (cp < 0x10000) {
        buf_putc(out, (char)(0xe0 | (cp >> 12)));
        buf_putc(out, (char)(0x80 | ((cp >> 6) & 0x3f)));
        buf_putc(out, (char)(0x80 | (cp & 0x3f)));
    } else {
        buf_putc(out, (char)(0xf0 | (cp >> 18)));
        buf_putc(out, (char)(0x80 | ((cp >> 12) & 0x3f)));
        buf_putc(out, (char)(0x80 | ((cp >> 6) & 0x3f)));
        buf_putc(out, (char)(0x80 | (cp & 0x3f)));
    }
}

/* Decode one base64 run starting just after '&'; *sp is left after the
 * closing '-'.  Returns 0 or -1. */
static int decode_run(const char **sp, struct buf *out)
{
    const char *s = *sp;
    uint32_t bits = 0, high = 0;
    int nbits = 0, nchars = 0;

    for (;; s++, nchars++) {
        if (*s == '-') break;
        int v = b64value((unsigned char)*s);
        if (v < 0) return -1; /* also catches an unterminated run */
        bits = (bits << 6) | (uint32_t)v;
        nbits += 6;
        if (nbits < 16) continue;
        nbits -= 16;
        uint32_t unit = (bits >> nbits) & 0xffff;
        bits &= (1u << nbits) - 1;
        if (high) {
            if (unit < 0xdc00 || unit > 0xdfff) return -1;
            if (out)
                put_utf8(out,
                         0x10000 + ((high - 0xd800) << 10) + (unit - 0xdc00));
            high = 0;
        } else if (unit >= 0xd800 && unit <= 0xdbff) {
            high = unit;
        } else if (unit >= 0xdc00 && unit <= 0xdfff) {
            return -1;
        } else if (unit == 0 || is_direct(unit)) {
            /* printable ASCII has exactly one spelling: itself */
            return -1;
        } else if (out) {
            put_utf8(out, unit);
        }
    }
    if (nchars == 0) {
        if (out) buf_putc(out, '&');
    } else if (high || nbits >= 6 || bits != 0) {
        /* half a character, or padding that is not zero */
        return -1;
    }
    *sp = s + 1;
    return 0;
}

static int decode(const char *s, struct buf *out)
{
    size_t start = out ? out->len : 0;
    int after_run = 0;

    while (*s) {
        unsigned char c = (unsigned char)*s;
        if (c == '&') {
            s++;
            int empty = (*s == '-');
            /* "-&" inside a name would be a null shift: two runs must be
             * one run */
            if (after_run && !empty) goto bad;
            if (decode_run(&s, out) < 0) goto bad;
            after_run = !empty;
        } else if (is_direct(c)) {
            if (out) buf_putc(out, (char)c);
            s++;
            after_run = 0;
        } else {
            goto bad;
        }
    }
    return 0;

bad:
    if (out) buf_truncate(out, start);
    return -1;
}

int utf7_valid(const char *s)
{
    return decode(s, NULL) == 0;
}

int utf7_decode(const char *s, struct buf *out)
{
    return decode(s, out);
}

/* Next code point of strict UTF-8 (no overlongs, surrogates or values
 * above U+10FFFF); -1 if malformed. */
static int32_t next_utf8(const unsigned char **sp)
{
    const unsigned char *s = *sp;
    uint32_t cp;
    int n;

    if (s[0] < 0x80) {
        *sp = s + 1;
        return s[0];
    } else if ((s[0] & 0xe0) == 0xc0) {
        cp = s[0] & 0x1f;
        n = 1;
    } else if ((s[0] & 0xf0) == 0xe0) {
        cp = s[0] & 0x0f;
        n = 2;
    } else if ((s[0] & 0xf8) == 0xf0) {
        cp = s[0] & 0x07;
        n = 3;
    } else {
        return -1;
    }
    for (int i = 1; i <= n; i++) {
        if ((s[i] & 0xc0) != 0x80) return -1;
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    static const uint32_t min[] = {0, 0x80, 0x800, 0x10000};
    if (cp < min[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return -1;
    *sp = s + n + 1;
    return (int32_t)cp;
}

struct b64state {
    uint32_t bits;
    int nbits;
};

static void put_unit(struct buf *out, struct b64state *st, uint32_t unit)
{
    st->bits = (st->bits << 16) | unit;
    st->nbits += 16;
    while (st->nbits >= 6) {
        st->nbits -= 6;
        buf_putc(out, b64chars[(st->bits >> st->nbits) & 0x3f]);
    }
    st->bits &= (1u << st->nbits) - 1;
}

static void close_run(struct buf *out, struct b64state *st)
{
    if (st->nbits)
        buf_putc(out, b64chars[(st->bits << (6 - st->nbits)) & 0x3f]);
    buf_putc(out, '-');
    st->bits = 0;
    st->nbits = 0;
}

int utf7_encode(const char *utf8, struct buf *out)
{
    const unsigned char *s = (const unsigned char *)utf8;
    size_t start = out->len;
    struct b64state st = {0, 0};
    int inrun = 0;

    while (*s) {
        int32_t cp = next_utf8(&s);
        if (cp < 0) {
            buf_truncate(out, start);
            return -1;
        }
        if (is_direct((uint32_t)cp)) {
            if (inrun) close_run(out, &st);
            inrun = 0;
            buf_putc(out, (char)cp);
            if (cp == '&') buf_putc(out, '-');
            continue;
        }
        if (!inrun) buf_putc(out, '&');
        inrun = 1;
        if (cp >= 0x10000) {
            cp -= 0x10000;
            put_unit(out, &st, 0xd800 + ((uint32_t)cp >> 10));
            put_unit(out, &st, 0xdc00 + ((uint32_t)cp & 0x3ff));
        } else {
            put_unit(out, &st, (uint32_t)cp);
        }
    }
    if (inrun) close_run(out, &st);
    return 0;
}
