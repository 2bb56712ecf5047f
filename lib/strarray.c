/* strarray.c -- arrays of owned strings; see strarray.h. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/buf.h"
#include "lib/strarray.h"
#include "lib/xmalloc.h"

strarray_t *strarray_new(void)
{
    return xzmalloc(sizeof(strarray_t));
}

int strarray_appendm(strarray_t *sa, char *s)
{
    if (sa->count + 2 > sa->alloc) {
        sa->alloc = sa->alloc ? sa->alloc * 2 : 8;
        sa->data = xrealloc(sa->data, sizeof(char *) * (size_t)sa->alloc);
    }
    sa->data[sa->count++] = s;
    sa->data[sa->count] = NULL;
    return sa->count - 1;
}

int strarray_append(strarray_t *sa, const char *s)
{
    return strarray_appendm(sa, xstrdup(s));
}

int strarray_add(strarray_t *sa, const char *s)
{
    int idx = strarray_find(sa, s, 0);
    return idx >= 0 ? idx : strarray_append(sa, s);
}

const char *strarray_nth(const strarray_t *sa, int idx)
{
    if (idx < 0) idx += sa->count;
    if (idx < 0 || idx >= sa->count) return NULL;
    return sa->data[idx];
}

int strarray_find(const strarray_t *sa, const char *s, int nocase)
{
    for (int i = 0; i < sa->count; i++)
        if (nocase ? !strcasecmp(sa->data[i], s) : !strcmp(sa->data[i], s))
            return i;
    return -1;
}

void strarray_remove(strarray_t *sa, int idx)
{
    if (idx < 0 || idx >= sa->count) return;
    free(sa->data[idx]);
    memmove(sa->data + idx, sa->data + idx + 1,
            sizeof(char *) * (size_t)(sa->count - idx));
    sa->count--;
}

strarray_t *strarray_split(const char *s, const char *sep)
{
    strarray_t *sa = strarray_new();
    if (!s) return sa;
    while (*s) {
        size_t skip = strspn(s, sep);
        s += skip;
        if (!*s) break;
        size_t n = strcspn(s, sep);
        strarray_appendm(sa, xstrndup(s, n));
        s += n;
    }
    return sa;
}

char *strarray_join(const strarray_t *sa, const char *sep)
{
    struct buf out = BUF_INITIALIZER;
    for (int i = 0; i < sa->count; i++) {
        if (i) buf_appendcstr(&out, sep);
        buf_appendcstr(&out, sa->data[i]);
    }
    return buf_release(&out);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

void strarray_sort(strarray_t *sa)
{
    if (sa->count > 1)
        qsort(sa->data, (size_t)sa->count, sizeof(char *), cmp_str);
}

void strarray_truncate(strarray_t *sa, int count)
{
    while (sa->count > count) {
        free(sa->data[--sa->count]);
        sa->data[sa->count] = NULL;
    }
}

void strarray_fini(strarray_t *sa)
{
    for (int i = 0; i < sa->count; i++) free(sa->data[i]);
    free(sa->data);
    sa->data = NULL;
    sa->count = sa->alloc = 0;
}

void strarray_free(strarray_t **sap)
{
    if (!*sap) return;
    strarray_fini(*sap);
    free(*sap);
    *sap = NULL;
}
