/* buf.c -- growable byte buffers; see buf.h. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/xmalloc.h"

void buf_ensure(struct buf *buf, size_t more)
{
    size_t need = buf->len + more + 1; /* room for a NUL */
    if (need <= buf->alloc) return;
    size_t alloc = buf->alloc ? buf->alloc : 64;
    while (alloc < need) alloc *= 2;
    buf->s = xrealloc(buf->s, alloc);
    buf->alloc = alloc;
}

void buf_putc(struct buf *buf, char c)
{
    buf_ensure(buf, 1);
    buf->s[buf->len++] = c;
}

void buf_appendmap(struct buf *buf, const char *base, size_t len)
{
    if (!len) return;
    buf_ensure(buf, len);
    memcpy(buf->s + buf->len, base, len);
    buf->len += len;
}

void buf_appendcstr(struct buf *buf, const char *s)
{
    buf_appendmap(buf, s, strlen(s));
}

void buf_appendbuf(struct buf *buf, const struct buf *other)
{
    buf_appendmap(buf, other->s, other->len);
}

void buf_vprintf(struct buf *buf, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    buf_ensure(buf, 64);
    int n = vsnprintf(buf->s + buf->len, buf->alloc - buf->len, fmt, ap);
    if (n >= 0 && (size_t)n >= buf->alloc - buf->len) {
        buf_ensure(buf, (size_t)n);
        vsnprintf(buf->s + buf->len, buf->alloc - buf->len, fmt, ap2);
    }
    va_end(ap2);
    if (n > 0) buf->len += (size_t)n;
}

void buf_printf(struct buf *buf, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    buf_vprintf(buf, fmt, ap);
    va_end(ap);
}

void buf_setcstr(struct buf *buf, const char *s)
{
    buf->len = 0;
    buf_appendcstr(buf, s);
}

void buf_setmap(struct buf *buf, const char *base, size_t len)
{
    buf->len = 0;
    buf_appendmap(buf, base, len);
}

const char *buf_cstring(struct buf *buf)
{
    buf_ensure(buf, 0);
    buf->s[buf->len] = '\0';
    return buf->s;
}

const char *buf_cstringnull(struct buf *buf)
{
    return buf->len ? buf_cstring(buf) : NULL;
}

void buf_truncate(struct buf *buf, size_t len)
{
    if (len < buf->len) buf->len = len;
}

void buf_reset(struct buf *buf)
{
    buf->len = 0;
}

void buf_free(struct buf *buf)
{
    free(buf->s);
    buf->s = NULL;
    buf->len = buf->alloc = 0;
}

char *buf_release(struct buf *buf)
{
    buf_cstring(buf);
    char *s = buf->s;
    buf->s = NULL;
    buf->len = buf->alloc = 0;
    return s;
}

void buf_trim(struct buf *buf)
{
    size_t start = 0, end = buf->len;
    while (start < end && isspace((unsigned char)buf->s[start])) start++;
    while (end > start && isspace((unsigned char)buf->s[end - 1])) end--;
    if (start) memmove(buf->s, buf->s + start, end - start);
    buf->len = end - start;
}

int buf_cmp_cstr(const struct buf *buf, const char *s)
{
    size_t n = strlen(s);
    if (buf->len != n) return buf->len < n ? -1 : 1;
    return n ? memcmp(buf->s, s, n) : 0;
}
