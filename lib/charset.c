/* charset.c -- charset conversion, MIME decoding and search normalisation. */
#define _GNU_SOURCE 1 /* memmem */
#include "config.h"

#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <unicode/uchar.h>
#include <unicode/ucnv.h>
#include <unicode/unorm2.h>
#include <unicode/utf16.h>

#include "lib/charset.h"
#include "lib/xmalloc.h"

#define INVALID_CP 0xFFFFFFFFu
#define REPLACEMENT_CP 0xFFFDu

/* ---- UTF-8 helpers ---------------------------------------------------- */

static void put_utf8(struct buf *dst, uint32_t cp)
{
    char b[4];
    size_t n;
    if (cp < 0x80) {
        b[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        b[0] = (char)(0xC0 | (cp >> 6));
        b[1] = (char)(0x80 | (cp & 0x3F));
        n = 2;
    } else if (cp < 0x10000) {
        b[0] = (char)(0xE0 | (cp >> 12));
        b[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        b[2] = (char)(0x80 | (cp & 0x3F));
        n = 3;
    } else {
        b[0] = (char)(0xF0 | (cp >> 18));
        b[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        b[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
        b[3] = (char)(0x80 | (cp & 0x3F));
        n = 4;
    }
    buf_appendmap(dst, b, n);
}

/* Decode one code point strictly (RFC 3629: no overlongs, no surrogates).
 * Returns the bytes consumed (at least 1); *cp is INVALID_CP when the
 * sequence at p is malformed, in which case exactly one byte is consumed. */
static size_t get_utf8(const unsigned char *p, size_t n, uint32_t *cp)
{
    unsigned char c = p[0];
    uint32_t v, min;
    size_t need;

    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if (c >= 0xC2 && c <= 0xDF) {
        need = 1; v = c & 0x1F; min = 0x80;
    } else if (c >= 0xE0 && c <= 0xEF) {
        need = 2; v = c & 0x0F; min = 0x800;
    } else if (c >= 0xF0 && c <= 0xF4) {
        need = 3; v = c & 0x07; min = 0x10000;
    } else {
        *cp = INVALID_CP;
        return 1;
    }
    if (n < need + 1) {
        *cp = INVALID_CP;
        return 1;
    }
    for (size_t i = 1; i <= need; i++) {
        if ((p[i] & 0xC0) != 0x80) {
            *cp = INVALID_CP;
            return 1;
        }
        v = (v << 6) | (p[i] & 0x3F);
    }
    if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) {
        *cp = INVALID_CP;
        return 1;
    }
    *cp = v;
    return need + 1;
}

/* Copy UTF-8, replacing malformed sequences with U+FFFD. */
static void copy_utf8(struct buf *dst, const char *src, size_t len)
{
    const unsigned char *p = (const unsigned char *)src;
    const unsigned char *end = p + len;
    buf_ensure(dst, len);
    while (p < end) {
        const unsigned char *run = p;
        while (p < end && *p < 0x80) p++;
        if (p > run) buf_appendmap(dst, (const char *)run, (size_t)(p - run));
        if (p == end) break;
        uint32_t cp;
        size_t n = get_utf8(p, (size_t)(end - p), &cp);
        if (cp == INVALID_CP) put_utf8(dst, REPLACEMENT_CP);
        else buf_appendmap(dst, (const char *)p, n);
        p += n;
    }
}

/* ---- transfer encodings ---------------------------------------------- */

static int hexval(int c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

int charset_encoding_from_name(const char *name, size_t len)
{
    static const struct { const char *name; int enc; } names[] = {
        { "7bit", CHARSET_ENC_7BIT },
        { "8bit", CHARSET_ENC_8BIT },
        { "binary", CHARSET_ENC_BINARY },
        { "quoted-printable", CHARSET_ENC_QP },
        { "base64", CHARSET_ENC_BASE64 },
    };
    if (!name) return CHARSET_ENC_7BIT;
    while (len && isspace((unsigned char)*name)) { name++; len--; }
    while (len && isspace((unsigned char)name[len - 1])) len--;
    if (!len) return CHARSET_ENC_7BIT;
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (strlen(names[i].name) == len && !strncasecmp(names[i].name, name, len))
            return names[i].enc;
    }
    return CHARSET_ENC_UNKNOWN;
}

void charset_decode_qp(struct buf *dst, const char *src, size_t len)
{
    const char *p = src, *end = src + len;
    buf_ensure(dst, len);
    while (p < end) {
        /* One line at a time: trailing blanks may have been added in
         * transport and must be dropped (RFC 2045 6.7 rule 3). */
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        const char *lend = eol ? eol : end;
        int crlf = lend > p && lend[-1] == '\r';
        const char *tend = crlf ? lend - 1 : lend;
        while (tend > p && (tend[-1] == ' ' || tend[-1] == '\t')) tend--;
        int soft = 0;
        while (p < tend) {
            const char *eq = memchr(p, '=', (size_t)(tend - p));
            if (!eq) {
                buf_appendmap(dst, p, (size_t)(tend - p));
                p = tend;
                break;
            }
            buf_appendmap(dst, p, (size_t)(eq - p));
            int h, l;
            if (eq + 1 == tend) {
                soft = 1;
                p = tend;
            } else if (tend - eq >= 3 &&
                       (h = hexval((unsigned char)eq[1])) >= 0 &&
                       (l = hexval((unsigned char)eq[2])) >= 0) {
                buf_putc(dst, (char)(h * 16 + l));
                p = eq + 3;
            } else {
                buf_putc(dst, '=');
                p = eq + 1;
            }
        }
        if (!eol) break;
        if (!soft) {
            if (crlf) buf_appendmap(dst, "\r\n", 2);
            else buf_putc(dst, '\n');
        }
        p = eol + 1;
    }
}

static const signed char b64val[256] = {
    ['A'] = 0,  ['B'] = 1,  ['C'] = 2,  ['D'] = 3,  ['E'] = 4,  ['F'] = 5,
    ['G'] = 6,  ['H'] = 7,  ['I'] = 8,  ['J'] = 9,  ['K'] = 10, ['L'] = 11,
    ['M'] = 12, ['N'] = 13, ['O'] = 14, ['P'] = 15, ['Q'] = 16, ['R'] = 17,
    ['S'] = 18, ['T'] = 19, ['U'] = 20, ['V'] = 21, ['W'] = 22, ['X'] = 23,
    ['Y'] = 24, ['Z'] = 25, ['a'] = 26, ['b'] = 27, ['c'] = 28, ['d'] = 29,
    ['e'] = 30, ['f'] = 31, ['g'] = 32, ['h'] = 33, ['i'] = 34, ['j'] = 35,
    ['k'] = 36, ['l'] = 37, ['m'] = 38, ['n'] = 39, ['o'] = 40, ['p'] = 41,
    ['q'] = 42, ['r'] = 43, ['s'] = 44, ['t'] = 45, ['u'] = 46, ['v'] = 47,
    ['w'] = 48, ['x'] = 49, ['y'] = 50, ['z'] = 51, ['0'] = 52, ['1'] = 53,
    ['2'] = 54, ['3'] = 55, ['4'] = 56, ['5'] = 57, ['6'] = 58, ['7'] = 59,
    ['8'] = 60, ['9'] = 61, ['+'] = 62, ['/'] = 63,
};

static int is_b64(unsigned char c)
{
    return b64val[c] || c == 'A';
}

void charset_decode_base64(struct buf *dst, const char *src, size_t len)
{
    uint32_t acc = 0;
    int n = 0;
    buf_ensure(dst, len / 4 * 3 + 3);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)src[i];
        if (c == '=') {
            /* Padding ends this quantum; concatenated encodings go on. */
            if (n == 2) buf_putc(dst, (char)(acc >> 4));
            else if (n == 3) {
                buf_putc(dst, (char)(acc >> 10));
                buf_putc(dst, (char)(acc >> 2));
            }
            acc = 0;
            n = 0;
            continue;
        }
        if (!is_b64(c)) continue;
        acc = (acc << 6) | (uint32_t)b64val[c];
        if (++n == 4) {
            char out[3] = { (char)(acc >> 16), (char)(acc >> 8), (char)acc };
            buf_appendmap(dst, out, 3);
            acc = 0;
            n = 0;
        }
    }
    /* Missing padding at the end: keep the whole octets we have. */
    if (n == 2) buf_putc(dst, (char)(acc >> 4));
    else if (n == 3) {
        buf_putc(dst, (char)(acc >> 10));
        buf_putc(dst, (char)(acc >> 2));
    }
}

void charset_decode_transfer(struct buf *dst, const char *src, size_t len,
                             int encoding)
{
    switch (encoding) {
    case CHARSET_ENC_QP:
        charset_decode_qp(dst, src, len);
        break;
    case CHARSET_ENC_BASE64:
        charset_decode_base64(dst, src, len);
        break;
    default:
        buf_appendmap(dst, src, len);
        break;
    }
}

void charset_decode_percent(struct buf *dst, const char *src, size_t len)
{
    buf_ensure(dst, len);
    for (size_t i = 0; i < len; i++) {
        int h, l;
        if (src[i] == '%' && i + 2 < len &&
            (h = hexval((unsigned char)src[i + 1])) >= 0 &&
            (l = hexval((unsigned char)src[i + 2])) >= 0) {
            buf_putc(dst, (char)(h * 16 + l));
            i += 2;
        } else {
            buf_putc(dst, src[i]);
        }
    }
}

/* ---- charset conversion ---------------------------------------------- */

static int is_utf8_name(const char *cs)
{
    return !strcasecmp(cs, "utf-8") || !strcasecmp(cs, "utf8");
}

static int is_ascii_name(const char *cs)
{
    return !strcasecmp(cs, "us-ascii") || !strcasecmp(cs, "ascii") ||
           !strcasecmp(cs, "ansi_x3.4-1968");
}

/* Opening an ICU converter costs a name lookup and an allocation; a
 * mailbox's messages use a handful of charsets, so keep a few open. */
#define CNV_CACHE_SIZE 8
#define CNV_NAME_MAX 64

static struct cnv_slot {
    char name[CNV_NAME_MAX];
    UConverter *cnv;
} cnv_cache[CNV_CACHE_SIZE];
static unsigned cnv_next;

static UConverter *cnv_get(const char *charset)
{
    size_t n = strlen(charset);
    if (n >= CNV_NAME_MAX) return NULL;
    for (int i = 0; i < CNV_CACHE_SIZE; i++) {
        if (cnv_cache[i].cnv && !strcasecmp(cnv_cache[i].name, charset)) {
            ucnv_reset(cnv_cache[i].cnv);
            return cnv_cache[i].cnv;
        }
    }
    UErrorCode err = U_ZERO_ERROR;
    UConverter *cnv = ucnv_open(charset, &err);
    if (U_FAILURE(err) || !cnv) return NULL;
    struct cnv_slot *slot = &cnv_cache[cnv_next++ % CNV_CACHE_SIZE];
    if (slot->cnv) ucnv_close(slot->cnv);
    memcpy(slot->name, charset, n + 1);
    slot->cnv = cnv;
    return cnv;
}

/* Valid charset names are short tokens; this keeps ICU from being asked
 * to open its default converter ("") or names with odd bytes. */
static int charset_name_ok(const char *cs)
{
    if (!*cs) return 0;
    for (const char *p = cs; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c <= ' ' || c >= 0x7F) return 0;
    }
    return 1;
}

int charset_is_known(const char *charset)
{
    if (!charset || !*charset || is_utf8_name(charset) || is_ascii_name(charset))
        return 1;
    return charset_name_ok(charset) && cnv_get(charset) != NULL;
}

/* Append UTF-16 units as UTF-8; *pending carries a high surrogate that
 * ended the previous chunk. */
static void put_utf16(struct buf *dst, const UChar *u, size_t n, UChar *pending)
{
    for (size_t i = 0; i < n; i++) {
        UChar c = u[i];
        if (*pending) {
            UChar hi = *pending;
            *pending = 0;
            if (U16_IS_TRAIL(c)) {
                put_utf8(dst, U16_GET_SUPPLEMENTARY(hi, c));
                continue;
            }
            put_utf8(dst, REPLACEMENT_CP);
        }
        if (U16_IS_LEAD(c)) *pending = c;
        else if (U16_IS_TRAIL(c)) put_utf8(dst, REPLACEMENT_CP);
        else put_utf8(dst, c);
    }
}

static int is_latin1_name(const char *cs)
{
    return !strcasecmp(cs, "iso-8859-1") || !strcasecmp(cs, "latin1") ||
           !strcasecmp(cs, "iso_8859-1") || !strcasecmp(cs, "l1");
}

/* Charsets whose bytes below 0x80 are always ASCII, so text without 8-bit
 * bytes needs no conversion at all (the common case when searching). */
static int is_ascii_superset(const char *cs)
{
    static const char *const prefixes[] = {
        "iso-8859-", "iso8859-", "iso_8859-", "windows-125", "cp125",
        "koi8-", "euc-", "gb", "big5", "tis-620",
    };
    for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
        if (!strncasecmp(cs, prefixes[i], strlen(prefixes[i]))) return 1;
    }
    return is_latin1_name(cs);
}

static int has_8bit(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (s[i] & 0x80) return 1;
    }
    return 0;
}

int charset_to_utf8(struct buf *dst, const char *src, size_t len,
                    const char *charset)
{
    if (!charset || !*charset || is_utf8_name(charset) || is_ascii_name(charset)) {
        copy_utf8(dst, src, len);
        return 0;
    }
    if (is_ascii_superset(charset) && !has_8bit(src, len)) {
        buf_appendmap(dst, src, len);
        return 0;
    }
    if (is_latin1_name(charset)) {
        /* ISO-8859-1 is the first 256 code points: no table needed. */
        buf_ensure(dst, len * 2);
        char *o = dst->s + dst->len;
        for (size_t i = 0; i < len; i++) {
            unsigned char c = (unsigned char)src[i];
            if (c < 0x80) {
                *o++ = (char)c;
            } else {
                *o++ = (char)(0xC0 | (c >> 6));
                *o++ = (char)(0x80 | (c & 0x3F));
            }
        }
        dst->len = (size_t)(o - dst->s);
        return 0;
    }
    UConverter *cnv = charset_name_ok(charset) ? cnv_get(charset) : NULL;
    if (!cnv) return CHARSET_ERR_UNKNOWN;

    UChar ubuf[1024];
    UChar pending = 0;
    const char *s = src, *end = src + len;
    buf_ensure(dst, len);
    for (;;) {
        UErrorCode err = U_ZERO_ERROR;
        UChar *t = ubuf;
        ucnv_toUnicode(cnv, &t, ubuf + 1024, &s, end, NULL, 1, &err);
        put_utf16(dst, ubuf, (size_t)(t - ubuf), &pending);
        if (err != U_BUFFER_OVERFLOW_ERROR) break;
    }
    if (pending) put_utf8(dst, REPLACEMENT_CP);
    return 0;
}

/* ---- RFC 2047 encoded-words ------------------------------------------ */

static int is_lwsp(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

struct encoded_word {
    const char *charset;   /* within the word; not NUL-terminated */
    size_t charset_len;
    char enc;              /* 'B' or 'Q' */
    const char *text;
    size_t text_len;
    size_t total;          /* length of the whole word */
};

/* Recognise "=?charset[*lang]?B|Q?text?=" at p. */
static int parse_encoded_word(const char *p, const char *end,
                              struct encoded_word *w)
{
    if (end - p < 8 || p[0] != '=' || p[1] != '?') return 0;
    const char *cs = p + 2, *q = cs;
    while (q < end && *q != '?' && !is_lwsp(*q)) q++;
    if (q == end || *q != '?' || q == cs) return 0;
    const char *star = memchr(cs, '*', (size_t)(q - cs));
    w->charset = cs;
    w->charset_len = (size_t)((star ? star : q) - cs);
    if (!w->charset_len) return 0;
    if (end - q < 3) return 0;
    char e = (char)toupper((unsigned char)q[1]);
    if ((e != 'B' && e != 'Q') || q[2] != '?') return 0;
    w->enc = e;
    const char *t = q + 3, *r = t;
    while (r < end && *r != '?' && !is_lwsp(*r)) r++;
    if (end - r < 2 || r[0] != '?' || r[1] != '=') return 0;
    w->text = t;
    w->text_len = (size_t)(r - t);
    w->total = (size_t)(r + 2 - p);
    return 1;
}

static void decode_q(struct buf *dst, const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        int h, l;
        if (s[i] == '_') {
            buf_putc(dst, ' ');
        } else if (s[i] == '=' && i + 2 < len &&
                   (h = hexval((unsigned char)s[i + 1])) >= 0 &&
                   (l = hexval((unsigned char)s[i + 2])) >= 0) {
            buf_putc(dst, (char)(h * 16 + l));
            i += 2;
        } else {
            buf_putc(dst, s[i]);
        }
    }
}

/* Whether an encoded-word at p would be decoded (not left as is). */
static int word_decodable(const char *p, const char *end)
{
    struct encoded_word w;
    char cs[CNV_NAME_MAX];
    if (!parse_encoded_word(p, end, &w) || w.charset_len >= sizeof(cs)) return 0;
    memcpy(cs, w.charset, w.charset_len);
    cs[w.charset_len] = '\0';
    return charset_is_known(cs);
}

/* Decoded octets of consecutive words in one charset are converted
 * together, so a multi-byte character split across words survives. */
struct pending_words {
    char charset[CNV_NAME_MAX];
    struct buf octets;
};

static void pending_flush(struct buf *dst, struct pending_words *pw)
{
    if (!pw->charset[0]) return;
    /* Known at queue time, so conversion cannot fail here. */
    charset_to_utf8(dst, pw->octets.s, pw->octets.len, pw->charset);
    buf_reset(&pw->octets);
    pw->charset[0] = '\0';
}

void charset_decode_mimeheader(struct buf *dst, const char *src, size_t len)
{
    struct pending_words pw = { "", BUF_INITIALIZER };
    const char *p = src, *end = src + len;
    int after_word = 0;

    while (p < end) {
        if (after_word) {
            /* Whitespace between two encoded-words is not displayed. */
            const char *q = p;
            while (q < end && is_lwsp(*q)) q++;
            if (q > p && q < end && word_decodable(q, end)) p = q;
        }
        struct encoded_word w;
        if (*p == '=' && parse_encoded_word(p, end, &w)) {
            char cs[CNV_NAME_MAX];
            if (w.charset_len < sizeof(cs)) {
                memcpy(cs, w.charset, w.charset_len);
                cs[w.charset_len] = '\0';
                if (charset_is_known(cs)) {
                    if (strcasecmp(cs, pw.charset)) {
                        pending_flush(dst, &pw);
                        memcpy(pw.charset, cs, w.charset_len + 1);
                    }
                    if (w.enc == 'B')
                        charset_decode_base64(&pw.octets, w.text, w.text_len);
                    else
                        decode_q(&pw.octets, w.text, w.text_len);
                    p += w.total;
                    after_word = 1;
                    continue;
                }
            }
        }
        pending_flush(dst, &pw);
        after_word = 0;
        /* Copy plain text up to the next possible word, unfolding. */
        const char *q = p + 1;
        while (q < end && *q != '=') q++;
        for (const char *c = p; c < q; c++) {
            if (*c != '\r' && *c != '\n') buf_putc(dst, *c);
        }
        p = q;
    }
    pending_flush(dst, &pw);
    buf_free(&pw.octets);
}

int charset_decode_rfc2231(struct buf *dst, const char *src, size_t len)
{
    const char *q1 = memchr(src, '\'', len);
    const char *q2 = q1 ? memchr(q1 + 1, '\'', (size_t)(src + len - q1 - 1)) : NULL;
    if (!q2) {
        struct buf raw = BUF_INITIALIZER;
        charset_decode_percent(&raw, src, len);
        copy_utf8(dst, raw.s, raw.len);
        buf_free(&raw);
        return 0;
    }
    char *cs = xstrndup(src, (size_t)(q1 - src));
    struct buf raw = BUF_INITIALIZER;
    charset_decode_percent(&raw, q2 + 1, (size_t)(src + len - q2 - 1));
    int r = charset_to_utf8(dst, raw.s, raw.len, cs);
    if (r) buf_appendbuf(dst, &raw);
    buf_free(&raw);
    free(cs);
    return r;
}

/* ---- i;unicode-casemap (RFC 5051) ------------------------------------ */

static const UNormalizer2 *nfkd(void)
{
    static const UNormalizer2 *n;
    if (!n) {
        UErrorCode err = U_ZERO_ERROR;
        n = unorm2_getNFKDInstance(&err);
        if (U_FAILURE(err)) n = NULL;
    }
    return n;
}

static void casemap_cp(struct buf *dst, uint32_t cp)
{
    UChar32 t = u_totitle((UChar32)cp);
    const UNormalizer2 *norm = nfkd();
    if (norm) {
        UChar d[64];
        UErrorCode err = U_ZERO_ERROR;
        int32_t n = unorm2_getDecomposition(norm, t, d, 64, &err);
        if (U_SUCCESS(err) && n > 0) {
            UChar pending = 0;
            put_utf16(dst, d, (size_t)n, &pending);
            return;
        }
    }
    put_utf8(dst, (uint32_t)t);
}

static unsigned char ascii_title[128];

static void ascii_title_init(void)
{
    if (ascii_title['a']) return;
    for (int c = 0; c < 128; c++) ascii_title[c] = (unsigned char)toupper(c);
}

void charset_casemap(struct buf *dst, const char *src, size_t len)
{
    const unsigned char *p = (const unsigned char *)src;
    const unsigned char *end = p + len;
    ascii_title_init();
    buf_ensure(dst, len);
    while (p < end) {
        /* ASCII has no decompositions; fold it in place without ICU. */
        size_t room = dst->alloc - dst->len;
        unsigned char *o = (unsigned char *)dst->s + dst->len;
        unsigned char *ostart = o;
        while (p < end && *p < 0x80 && room) {
            *o++ = ascii_title[*p++];
            room--;
        }
        dst->len += (size_t)(o - ostart);
        if (p == end) break;
        if (*p < 0x80) {
            buf_ensure(dst, (size_t)(end - p));
            continue;
        }
        uint32_t cp;
        size_t n = get_utf8(p, (size_t)(end - p), &cp);
        if (cp == INVALID_CP) buf_putc(dst, (char)*p);
        else casemap_cp(dst, cp);
        p += n;
        if (dst->alloc - dst->len < 16) buf_ensure(dst, (size_t)(end - p) + 16);
    }
}

/* ---- substring search ------------------------------------------------ */

struct charset_search {
    struct buf pattern;   /* casemapped */
    struct buf decoded;   /* scratch: transfer-decoded octets */
    struct buf utf8;      /* scratch: converted text */
    struct buf folded;    /* scratch: casemapped text */
};

struct charset_search *charset_search_new(const char *pattern, size_t len)
{
    struct charset_search *s = xzmalloc(sizeof(*s));
    charset_casemap(&s->pattern, pattern, len);
    return s;
}

void charset_search_free(struct charset_search **sp)
{
    struct charset_search *s = *sp;
    if (!s) return;
    buf_free(&s->pattern);
    buf_free(&s->decoded);
    buf_free(&s->utf8);
    buf_free(&s->folded);
    free(s);
    *sp = NULL;
}

int charset_search_casemapped(const struct charset_search *s,
                              const char *text, size_t len)
{
    if (!s->pattern.len) return 1;
    if (len < s->pattern.len) return 0;
    return memmem(text, len, s->pattern.s, s->pattern.len) != NULL;
}

int charset_search_utf8(struct charset_search *s, const char *text, size_t len)
{
    if (!s->pattern.len) return 1;
    buf_reset(&s->folded);
    charset_casemap(&s->folded, text, len);
    return charset_search_casemapped(s, s->folded.s, s->folded.len);
}

int charset_search_header(struct charset_search *s, const char *value,
                          size_t len)
{
    if (!s->pattern.len) return 1;
    buf_reset(&s->utf8);
    charset_decode_mimeheader(&s->utf8, value, len);
    return charset_search_utf8(s, s->utf8.s, s->utf8.len);
}

int charset_search_body(struct charset_search *s, const char *src,
                        size_t len, const char *charset, int encoding)
{
    if (!s->pattern.len) return 1;
    if (encoding == CHARSET_ENC_QP || encoding == CHARSET_ENC_BASE64) {
        buf_reset(&s->decoded);
        charset_decode_transfer(&s->decoded, src, len, encoding);
        src = s->decoded.s;
        len = s->decoded.len;
    }
    if (charset && *charset && !is_utf8_name(charset) && !is_ascii_name(charset)) {
        buf_reset(&s->utf8);
        if (charset_to_utf8(&s->utf8, src, len, charset) == 0) {
            src = s->utf8.s;
            len = s->utf8.len;
        }
    }
    return charset_search_utf8(s, src ? src : "", len);
}
