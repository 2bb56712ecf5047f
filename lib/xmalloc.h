/* xmalloc.h -- allocation that never returns NULL.
 *
 * Every allocation in the project goes through these wrappers.  On
 * exhaustion they log and exit with EX_TEMPFAIL (the master restarts the
 * service), so callers never test for NULL.
 */
#ifndef LIB_XMALLOC_H
#define LIB_XMALLOC_H

#include <stddef.h>

void *xmalloc(size_t size);
/* Allocate zero-filled memory. */
void *xzmalloc(size_t size);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *ptr, size_t size);
char *xstrdup(const char *s);
/* Like xstrdup, but NULL in gives NULL out. */
char *xstrdupnull(const char *s);
char *xstrndup(const char *s, size_t len);
void *xmemdup(const void *p, size_t len);
/* Concatenate a NULL-terminated list of strings into new memory. */
char *strconcat(const char *s1, ...);

/* Free *ptr and set it to NULL. */
#define xfree(ptr) do { free(ptr); (ptr) = NULL; } while (0)

#endif
