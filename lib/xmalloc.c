/* xmalloc.c -- allocation wrappers; see xmalloc.h. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "lib/log.h"
#include "lib/xmalloc.h"

static void out_of_memory(size_t size)
{
    fatal(EX_TEMPFAIL, "out of memory allocating %zu bytes", size);
}

void *xmalloc(size_t size)
{
    void *p = malloc(size ? size : 1);
    if (!p) out_of_memory(size);
    return p;
}

void *xzmalloc(size_t size)
{
    void *p = calloc(1, size ? size : 1);
    if (!p) out_of_memory(size);
    return p;
}

void *xcalloc(size_t nmemb, size_t size)
{
    if (size && nmemb > (size_t)-1 / size) out_of_memory((size_t)-1);
    return xzmalloc(nmemb * size);
}

void *xrealloc(void *ptr, size_t size)
{
    void *p = realloc(ptr, size ? size : 1);
    if (!p) out_of_memory(size);
    return p;
}

char *xstrdup(const char *s)
{
    return xmemdup(s, strlen(s) + 1);
}

char *xstrdupnull(const char *s)
{
    return s ? xstrdup(s) : NULL;
}

char *xstrndup(const char *s, size_t len)
{
    size_t n = strnlen(s, len);
    char *p = xmalloc(n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

void *xmemdup(const void *p, size_t len)
{
    void *q = xmalloc(len);
    if (len) memcpy(q, p, len);
    return q;
}

char *strconcat(const char *s1, ...)
{
    va_list ap;
    size_t len = 0;
    const char *s;

    va_start(ap, s1);
    for (s = s1; s; s = va_arg(ap, const char *))
        len += strlen(s);
    va_end(ap);

    char *out = xmalloc(len + 1), *p = out;
    va_start(ap, s1);
    for (s = s1; s; s = va_arg(ap, const char *)) {
        size_t n = strlen(s);
        memcpy(p, s, n);
        p += n;
    }
    va_end(ap);
    *p = '\0';
    return out;
}
