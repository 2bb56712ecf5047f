/* utf7.h -- IMAP modified UTF-7 mailbox names (RFC 3501 section 5.1.3).
 *
 * Printable US-ASCII other than '&' stands for itself, "&-" is '&', and
 * everything else is UTF-16 in a "&...-" run of modified base64 (',' for
 * '/', no padding).  A name is canonical only in the one form an encoder
 * produces: the validator rejects encoded printable ASCII, empty or
 * unterminated runs, two adjacent runs, non-zero padding bits, unpaired
 * surrogates and encoded NUL, so that every name has exactly one
 * spelling.  utf7_encode() always produces canonical output.
 */
#ifndef LIB_UTF7_H
#define LIB_UTF7_H

#include "lib/buf.h"

/* 1 if `s` is canonical modified UTF-7, 0 if not. */
int utf7_valid(const char *s);
/* Append the modified UTF-7 form of UTF-8 `utf8` to `out`; 0, or -1 (out
 * unchanged) when `utf8` is not well-formed UTF-8. */
int utf7_encode(const char *utf8, struct buf *out);
/* Append the UTF-8 form of modified UTF-7 `s` to `out`; 0, or -1 (out
 * unchanged) when `s` is not canonical (see utf7_valid). */
int utf7_decode(const char *s, struct buf *out);

#endif
