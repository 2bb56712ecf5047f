/* utf8.c -- checking and normalising UTF-8 text; see utf8.h. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <unicode/unorm2.h>
#include <unicode/ustring.h>

#include "lib/utf8.h"
#include "lib/xmalloc.h"

/* Decode the code point at s[*i] and advance *i; -1 when malformed. */
static int32_t next_cp(const unsigned char *s, size_t len, size_t *i)
{
    unsigned char c = s[*i];
    uint32_t cp, min;
    size_t n, k;

    if (c < 0x80) {
        (*i)++;
        return c;
    }
    if (c >= 0xc2 && c <= 0xdf) {
        n = 1;
        cp = c & 0x1f;
        min = 0x80;
    }
    else if (c >= 0xe0 && c <= 0xef) {
        n = 2;
        cp = c & 0x0f;
        min = 0x800;
    }
    else if (c >= 0xf0 && c <= 0xf4) {
        n = 3;
        cp = c & 0x07;
        min = 0x10000;
    }
    else {
        return -1;
    }
    if (len - *i <= n)
        return -1;
    for (k = 1; k <= n; k++) {
        if ((s[*i + k] & 0xc0) != 0x80)
            return -1;
        cp = (cp << 6) | (s[*i + k] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return -1;
    *i += n + 1;
    return (int32_t)cp;
}

int utf8_valid(const char *s, size_t len)
{
    size_t i = 0;

    while (i < len)
        if (next_cp((const unsigned char *)s, len, &i) < 0)
            return 0;
    return 1;
}

int utf8_has8bit(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s >= 0x80)
            return 1;
    return 0;
}

int utf8_nfc(const char *s, size_t len, struct buf *out)
{
    const UNormalizer2 *nfc;
    UErrorCode err = U_ZERO_ERROR;
    UChar *src, *dst;
    int32_t srclen, dstlen, outlen;
    size_t i;
    int r = -1;

    if (!utf8_valid(s, len) || len > INT32_MAX / 2)
        return -1;
    /* ASCII is its own normal form: the common case costs nothing. */
    for (i = 0; i < len && (unsigned char)s[i] < 0x80; i++)
        ;
    if (i == len) {
        buf_appendmap(out, s, len);
        return 0;
    }
    nfc = unorm2_getNFCInstance(&err);
    if (U_FAILURE(err))
        return -1;

    /* UTF-16 never has more units than UTF-8 has bytes. */
    src = xmalloc(((size_t)len + 1) * sizeof(UChar));
    u_strFromUTF8(src, (int32_t)len + 1, &srclen, s, (int32_t)len, &err);
    if (U_FAILURE(err)) {
        free(src);
        return -1;
    }
    /* Composition only shrinks text, but a singleton decomposition can
     * grow it; ask ICU for the size when the first guess is short. */
    dstlen = srclen * 3 + 16;
    dst = xmalloc((size_t)dstlen * sizeof(UChar));
    outlen = unorm2_normalize(nfc, src, srclen, dst, dstlen, &err);
    if (err == U_BUFFER_OVERFLOW_ERROR) {
        err = U_ZERO_ERROR;
        dstlen = outlen + 1;
        dst = xrealloc(dst, (size_t)dstlen * sizeof(UChar));
        outlen = unorm2_normalize(nfc, src, srclen, dst, dstlen, &err);
    }
    if (U_SUCCESS(err)) {
        int32_t need = 0;
        char *bytes;

        u_strToUTF8(NULL, 0, &need, dst, outlen, &err);
        err = U_ZERO_ERROR;
        bytes = xmalloc((size_t)need + 1);
        u_strToUTF8(bytes, need + 1, &need, dst, outlen, &err);
        if (U_SUCCESS(err)) {
            buf_appendmap(out, bytes, (size_t)need);
            r = 0;
        }
        free(bytes);
    }
    free(src);
    free(dst);
    return r;
}

int utf8_name_chars_ok(const char *s)
{
    size_t len = strlen(s), i = 0;

    while (i < len) {
        int32_t cp = next_cp((const unsigned char *)s, len, &i);

        if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || cp == 0x2028 ||
            cp == 0x2029)
            return 0;
    }
    return 1;
}
