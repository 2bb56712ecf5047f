/* preview.h -- the PREVIEW text of a message (RFC 8970).
 *
 * preview_build() derives the short text a client shows under a
 * message's subject: taken from the first text/plain or text/html part
 * that is not an attachment (encapsulated messages are not entered),
 * transfer- and charset-decoded to UTF-8 (lib/charset.h; an unknown
 * charset is read as UTF-8), HTML tags, comments and the contents of
 * <head>, <script> and <style> removed and the common entities decoded,
 * every run of white space and control characters made one space, and
 * cut at PREVIEW_MAX_CHARS characters (RFC 8970 3.3 asks for at most
 * 200).  A part that yields nothing passes the turn to the next text
 * part; a message without text gives "" (RFC 8970 3.2).
 *
 * Only the first PREVIEW_MAX_SOURCE octets of a part are decoded, so the
 * work per message is bounded whatever its size, and nothing is stored:
 * the same message always gives the same text.  The output is valid
 * UTF-8 without CR or LF.
 */
#ifndef IMAP_IMAPD_PREVIEW_H
#define IMAP_IMAPD_PREVIEW_H

#include <stddef.h>

#include "imap/store/message.h"
#include "lib/buf.h"

#define PREVIEW_MAX_CHARS 200
#define PREVIEW_MAX_SOURCE (64 * 1024)

/* Append the preview of `msg` (its bytes attached) to `out`. */
void preview_build(const struct message *msg, struct buf *out);

/* Append the preview of UTF-8 text (HTML when `html`) to `out`, at most
 * `max` characters; returns how many characters were appended.  The
 * building block of preview_build(), for tests. */
size_t preview_text(const char *text, size_t len, int html, size_t max,
                    struct buf *out);

#endif
