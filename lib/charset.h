/* charset.h -- charset conversion, MIME decoding and search normalisation.
 *
 * Everything here turns message bytes into UTF-8 a server can compare:
 * charset conversion (ICU), the content transfer encodings (tolerant of
 * real-world damage), RFC 2047 encoded-words, RFC 2231 extended parameter
 * values, and the RFC 5051 "i;unicode-casemap" form used by SEARCH.
 *
 * Promises: no function fails on malformed input; broken sequences are
 * passed through or replaced by U+FFFD as documented per function.  Output
 * is always appended to the caller's buffer, never replaces it.  Unknown
 * charsets are reported with CHARSET_ERR_UNKNOWN so the caller can decide.
 * Converters are cached per process; the module is not thread-safe.
 */
#ifndef LIB_CHARSET_H
#define LIB_CHARSET_H

#include <stddef.h>

#include "lib/buf.h"

#define CHARSET_ERR_UNKNOWN (-1)

/* Content-Transfer-Encoding values (RFC 2045 section 6). */
enum charset_encoding {
    CHARSET_ENC_7BIT = 0,
    CHARSET_ENC_8BIT,
    CHARSET_ENC_BINARY,
    CHARSET_ENC_QP,
    CHARSET_ENC_BASE64,
    CHARSET_ENC_UNKNOWN
};

/* Map a Content-Transfer-Encoding token (any case) to its code; NULL or
 * empty gives 7BIT, anything unrecognised gives CHARSET_ENC_UNKNOWN. */
int charset_encoding_from_name(const char *name, size_t len);

/* Non-zero if `charset` names a charset this module can convert. */
int charset_is_known(const char *charset);

/* Append `src` converted from `charset` to UTF-8.  NULL or "" means
 * us-ascii; us-ascii and utf-8 input is copied with invalid sequences
 * replaced by U+FFFD.  Returns 0, or CHARSET_ERR_UNKNOWN (dst untouched). */
int charset_to_utf8(struct buf *dst, const char *src, size_t len,
                    const char *charset);

/* Append the quoted-printable decoding of `src` (RFC 2045 6.7): soft line
 * breaks removed, trailing blanks dropped, malformed "=" kept literally. */
void charset_decode_qp(struct buf *dst, const char *src, size_t len);

/* Append the base64 decoding of `src`: characters outside the alphabet are
 * skipped; padding ends a quantum but decoding continues after it. */
void charset_decode_base64(struct buf *dst, const char *src, size_t len);

/* Append `src` decoded per `encoding` (an enum charset_encoding); identity
 * encodings and unknown ones are copied unchanged. */
void charset_decode_transfer(struct buf *dst, const char *src, size_t len,
                             int encoding);

/* Append %XX-decoding of `src` (RFC 2231 extended values). */
void charset_decode_percent(struct buf *dst, const char *src, size_t len);

/* Append the UTF-8 form of a header value: RFC 2047 encoded-words (B and Q,
 * "charset*lang" accepted) are decoded, whitespace between adjacent
 * encoded-words dropped, line breaks unfolded.  Malformed words and words
 * in unknown charsets are kept as they are; other bytes are copied. */
void charset_decode_mimeheader(struct buf *dst, const char *src, size_t len);

/* Append the UTF-8 form of an RFC 2231 extended value "charset'lang'%xx..".
 * Without the two quotes the value is only %-decoded.  Returns 0, or
 * CHARSET_ERR_UNKNOWN after appending the undecoded octets. */
int charset_decode_rfc2231(struct buf *dst, const char *src, size_t len);

/* Append the RFC 5051 "titlecased canonicalized UTF-8" form of UTF-8 text:
 * each code point is titlecased then fully (NFKD) decomposed.  ASCII is
 * folded inline; bytes that are not valid UTF-8 are copied unchanged. */
void charset_casemap(struct buf *dst, const char *src, size_t len);

/* A compiled case-insensitive substring pattern, with scratch buffers
 * reused across calls so that searching many messages does not allocate
 * per message. */
struct charset_search;

/* Compile a UTF-8 pattern. */
struct charset_search *charset_search_new(const char *pattern, size_t len);
/* Free the pattern and set *sp to NULL. */
void charset_search_free(struct charset_search **sp);
/* Non-zero if the pattern occurs in already casemapped text. */
int charset_search_casemapped(const struct charset_search *s,
                              const char *text, size_t len);
/* Non-zero if the pattern occurs in UTF-8 text (casemapped here). */
int charset_search_utf8(struct charset_search *s, const char *text,
                        size_t len);
/* Non-zero if the pattern occurs in a raw header value (RFC 2047 decoded
 * and unfolded first). */
int charset_search_header(struct charset_search *s, const char *value,
                          size_t len);
/* Non-zero if the pattern occurs in a body part given its raw octets, its
 * transfer encoding and charset.  Unknown charsets are searched as if
 * us-ascii/UTF-8, so ASCII text in them still matches. */
int charset_search_body(struct charset_search *s, const char *src,
                        size_t len, const char *charset, int encoding);

#endif
