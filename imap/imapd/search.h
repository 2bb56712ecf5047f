/* search.h -- IMAP SEARCH programs: parse the criteria, match messages.
 *
 * search_parse() reads "[CHARSET name] search-key *(SP search-key)" (RFC
 * 3501 6.4.4 / RFC 9051 6.4.4) from the command line into a program: a
 * tree whose AND lists are ordered cheapest first, so that flag, size,
 * date and set tests decide before any header or body is looked at.
 * Strings are converted to UTF-8 from the given charset at parse time.
 *
 * search_bind() resolves what depends on the mailbox as it is when the
 * command runs ("*" in sets, keyword names to user-flag bits), then
 * search_match() decides one message at a time.  The evaluator sees a
 * message only through struct search_msg (index fields, flags as this
 * session sees them) and struct search_source (header block, parsed
 * message), both filled by the caller, so that it can be tested without
 * a mail store and so that the message file is opened only when a key
 * needs it.  Matching allocates nothing per message: the compiled
 * patterns keep their scratch buffers.
 *
 * String keys match case-insensitively (RFC 5051 i;unicode-casemap) as
 * substrings of RFC 2047-decoded header values and of the transfer- and
 * charset-decoded text parts; an empty string matches every message that
 * has the field (HEADER, FROM, ...) or every message (BODY, TEXT).
 * BEFORE/ON/SINCE compare the internal date's calendar day in the
 * server's time zone, as Cyrus does; SENTBEFORE/SENTON/SENTSINCE compare
 * the day written in the Date: header, disregarding time and zone.
 * OLDER and YOUNGER (RFC 5032) compare the internal date with the time
 * the criteria were parsed, to the second.  "$" and "UID $" (RFC 5182)
 * stand for the saved search result, bound with search_bind_saved().
 */
#ifndef IMAP_IMAPD_SEARCH_H
#define IMAP_IMAPD_SEARCH_H

#include <stdint.h>

#include "imap/store/mailbox.h"
#include "imap/store/message.h"
#include "lib/buf.h"
#include "lib/imapparse.h"
#include "lib/seqset.h"
#include "lib/strarray.h"

/* search_parse() result beyond the tokenizer's IMAPPARSE_* codes. */
#define SEARCH_BADCHARSET (-10)   /* "NO [BADCHARSET (US-ASCII UTF-8)]" */

struct search_program;

/* One message as the evaluator sees it. */
struct search_msg {
    uint32_t msgno;
    const struct index_record *rec;  /* uid, dates, size, user flags */
    uint32_t system_flags;           /* FLAG_*, \Seen as this user sees it */
    int recent;                      /* \Recent in this session */
};

/* Lazy access to a message's text, provided by the caller. */
struct search_source {
    /* A header block ("Name: value" lines) holding every `field` line
     * of the message: the cached headers when they include `field`, else
     * the message's own header.  `field` NULL asks for the whole header.
     * 0, or -1 when the message cannot be read. */
    int (*header)(void *rock, const char *field, const char **base,
                  size_t *len);
    /* The message's parts over its mapped bytes; NULL if unreadable.
     * Valid until the caller moves to the next message. */
    const struct message *(*message)(void *rock);
    void *rock;
};

/* Parse the criteria that follow `c` (the character after "SEARCH",
 * which must be ' ').  Returns the character after the last key (the
 * caller checks for end of line), or IMAPPARSE_EOF/IMAPPARSE_TOOBIG from
 * the tokenizer, IMAPPARSE_SYNTAX with the reason in ctx->error (the
 * offending byte left unread, so imapparse_skipline() resynchronises),
 * or SEARCH_BADCHARSET (the line not yet skipped either).  *progp is set
 * only on success. */
int search_parse(struct imapparse_ctx *ctx, int c,
                 struct search_program **progp);

/* ESEARCH result options (RFC 4731; SAVE from RFC 5182 SEARCHRES;
 * CONTEXT, UPDATE and PARTIAL from RFC 5267, PARTIAL's negative ranges
 * from RFC 9394). */
enum search_return_opt {
    SEARCH_RETURN_MIN = 1 << 0,
    SEARCH_RETURN_MAX = 1 << 1,
    SEARCH_RETURN_ALL = 1 << 2,
    SEARCH_RETURN_COUNT = 1 << 3,
    SEARCH_RETURN_SAVE = 1 << 4,
    SEARCH_RETURN_PARTIAL = 1 << 5,
    SEARCH_RETURN_UPDATE = 1 << 6,
    SEARCH_RETURN_CONTEXT = 1 << 7,   /* a hint only (RFC 5267 4.2) */
};
struct search_return {
    int present;        /* "RETURN (...)" was given */
    unsigned opts;      /* enum search_return_opt bits; "()" (or a list
                         * of CONTEXT alone) gives ALL */
    /* PARTIAL's range of result positions, 1-based, as written but
     * ordered: lo <= hi ("4:2" gives 2:4), or both negative counting
     * from the last result with lo nearer the end ("-5:-1" gives
     * -1:-5). */
    int64_t partial_lo, partial_hi;
};
/* Read "(" [opt *(SP opt)] ")" after "RETURN SP" into *ret; returns the
 * character after ")" or an IMAPPARSE_* error as search_parse() does.
 * Two PARTIALs, or PARTIAL with ALL, are a syntax error (RFC 5267 4.4). */
int search_parse_return(struct imapparse_ctx *ctx, struct search_return *ret);
/* search_parse() with two additions: when `ret` is non-NULL and not yet
 * `present`, "RETURN (...)" may come first and fills *ret; when
 * `charset` is non-NULL it is the charset SORT and THREAD name before
 * the keys (no "CHARSET" word then), SEARCH_BADCHARSET if unknown. */
int search_parse_ext(struct imapparse_ctx *ctx, int c,
                     struct search_return *ret, const char *charset,
                     struct search_program **progp);
/* Resolve "*" in sequence sets against `maxmsgno` and in UID sets
 * against `maxuid`, and keywords against the mailbox's `user_flags`. */
void search_bind(struct search_program *prog, uint32_t maxmsgno,
                 uint32_t maxuid, const strarray_t *user_flags);
/* Resolve "$" (RFC 5182) to the saved result, a set of UIDs that must
 * outlive the matching; without it "$" matches nothing. */
void search_bind_saved(struct search_program *prog, const struct seqset *uids);
/* Non-zero if the message matches (bind first). */
int search_match(struct search_program *prog, const struct search_msg *m,
                 const struct search_source *src);
/* Non-zero if matching may need the source (not only struct search_msg). */
int search_needs_source(const struct search_program *prog);
/* Non-zero if the criteria include MODSEQ (RFC 7162 3.1.5): a CONDSTORE
 * enabling command, whose SEARCH response ends "(MODSEQ n)". */
int search_uses_modseq(const struct search_program *prog);
void search_free(struct search_program **progp);
/* OLDER and YOUNGER (RFC 5032) count from `now` from here on, for a
 * program matched again later; non-zero if the program has either. */
int search_rebase_time(struct search_program *prog, int64_t now);
/* Fix what the program's sequence numbers, UID "*" and "$" name to the
 * messages they name now (RFC 5267 4.3: they are evaluated when the
 * command is received), for a program that will be matched again as
 * the mailbox changes.  `uid_of` gives the UID of sequence number
 * 1..`count`.  Call after search_bind() and search_bind_saved(); later
 * search_bind() calls then only resolve keywords. */
void search_freeze(struct search_program *prog, uint32_t count,
                   uint32_t (*uid_of)(void *rock, uint32_t msgno),
                   void *rock);

/* Parse an IMAP date ("1-Feb-1994", optionally quoted by the caller):
 * sets *ymd to year*10000+month*100+day; 0 or -1. */
int search_parse_date(const char *s, int *ymd);
/* The calendar day written in an RFC 5322 Date: value, as above;
 * 0 or -1 when it cannot be read. */
int search_header_date(const char *value, size_t len, int *ymd);

#endif
