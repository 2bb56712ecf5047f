/* utf8.h -- checking and normalising UTF-8 text (RFC 3629, RFC 5198).
 *
 * What IMAP needs to accept UTF-8 from a client (RFC 6855, RFC 9051
 * section 5.1): a strict validity check (no overlong forms, surrogates or
 * code points past U+10FFFF), Unicode Normalization Form C so that a
 * decomposed and a composed spelling name the same mailbox, and the
 * Net-Unicode rule against control and separator characters in names.
 * Normalisation uses ICU; nothing here fails on bad input other than by
 * returning -1 with the output buffer untouched.
 */
#ifndef LIB_UTF8_H
#define LIB_UTF8_H

#include <stddef.h>

#include "lib/buf.h"

/* 1 if the `len` bytes at `s` are well-formed UTF-8, else 0. */
int utf8_valid(const char *s, size_t len);
/* 1 if `s` (well-formed UTF-8) has any byte over 0x7f. */
int utf8_has8bit(const char *s);
/* Append the NFC form of UTF-8 `s` (`len` bytes) to `out`; 0, or -1
 * (out unchanged) when `s` is not well-formed UTF-8. */
int utf8_nfc(const char *s, size_t len, struct buf *out);
/* 1 if NUL-terminated UTF-8 `s` holds none of the characters a mailbox
 * name may not (RFC 6855 section 3): C0 and C1 controls, DEL, U+2028
 * and U+2029.  0 also for malformed UTF-8. */
int utf8_name_chars_ok(const char *s);

#endif
