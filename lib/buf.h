/* buf.h -- growable byte buffers.
 *
 * A struct buf is a value type: BUF_INITIALIZER makes an empty one that
 * needs no allocation until written.  The bytes may contain NULs;
 * buf_cstring() guarantees a terminating NUL without counting it in len.
 */
#ifndef LIB_BUF_H
#define LIB_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct buf {
    char *s;
    size_t len;
    size_t alloc;
};

#define BUF_INITIALIZER { NULL, 0, 0 }

/* Make room for `more` bytes beyond len. */
void buf_ensure(struct buf *buf, size_t more);
void buf_putc(struct buf *buf, char c);
void buf_appendmap(struct buf *buf, const char *base, size_t len);
void buf_appendcstr(struct buf *buf, const char *s);
void buf_appendbuf(struct buf *buf, const struct buf *other);
void buf_printf(struct buf *buf, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void buf_vprintf(struct buf *buf, const char *fmt, va_list ap);
/* Replace the contents. */
void buf_setcstr(struct buf *buf, const char *s);
void buf_setmap(struct buf *buf, const char *base, size_t len);
/* NUL-terminate (not counted in len) and return the bytes; never NULL. */
const char *buf_cstring(struct buf *buf);
/* Like buf_cstring, but NULL when the buffer is empty. */
const char *buf_cstringnull(struct buf *buf);
/* Shorten to `len` bytes (no-op if already shorter). */
void buf_truncate(struct buf *buf, size_t len);
/* Empty the buffer, keeping its memory. */
void buf_reset(struct buf *buf);
/* Free the memory and leave an empty buffer. */
void buf_free(struct buf *buf);
/* Hand the NUL-terminated bytes to the caller, who must free() them. */
char *buf_release(struct buf *buf);
/* Remove leading and trailing whitespace. */
void buf_trim(struct buf *buf);
/* Compare to a C string: 0 if equal. */
int buf_cmp_cstr(const struct buf *buf, const char *s);

static inline size_t buf_len(const struct buf *buf) { return buf->len; }
static inline const char *buf_base(const struct buf *buf) { return buf->s; }

#endif
