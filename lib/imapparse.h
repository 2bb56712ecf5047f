/* imapparse.h -- the IMAP tokenizer (RFC 3501 / RFC 9051 section 9).
 *
 * Reads tokens from a protstream: atoms, quoted strings, literals
 * (synchronizing "{n}", non-synchronizing "{n+}" per LITERAL+, and the
 * 4096-byte limit of LITERAL-).  For a synchronizing literal the
 * tokenizer itself sends the "+ go ahead" continuation on the same stream.
 *
 * Every function returns the character that followed the token (usually
 * ' ', '\r' or '\n'), or one of the negative IMAPPARSE_* codes below; on
 * error a message suitable for a BAD response is available in
 * ctx->error.  Tokens are bounded by ctx->maxword (atoms and quoted
 * strings) and ctx->maxliteral (literals), so no input can make the
 * server allocate without limit.
 */
#ifndef LIB_IMAPPARSE_H
#define LIB_IMAPPARSE_H

#include <stddef.h>

#include "lib/buf.h"
#include "lib/prot.h"

enum {
    IMAPPARSE_EOF = -1,      /* connection closed or failed */
    IMAPPARSE_SYNTAX = -2,   /* not what the grammar allows here */
    IMAPPARSE_TOOBIG = -3,   /* over maxword / maxliteral */
};

struct imapparse_ctx {
    struct protstream *prot;
    size_t maxword;          /* maximum atom / quoted string, bytes */
    size_t maxliteral;       /* maximum literal accepted, bytes */
    int literal_minus;       /* LITERAL-: {n+} only up to 4096 bytes */
    int literal_seen;        /* set when the last token was a literal */
    char error[256];         /* why the last call failed */
};

void imapparse_init(struct imapparse_ctx *ctx, struct protstream *prot,
                    size_t maxword, size_t maxliteral);

/* A tag or atom: ATOM-CHARs (tags exclude '+'). */
int imapparse_tag(struct imapparse_ctx *ctx, struct buf *out);
int imapparse_atom(struct imapparse_ctx *ctx, struct buf *out);
/* A command name or similar word: atom chars, returned as read. */
int imapparse_word(struct imapparse_ctx *ctx, struct buf *out);
/* quoted / literal. */
int imapparse_string(struct imapparse_ctx *ctx, struct buf *out);
/* atom / quoted / literal (ASTRING-CHAR includes ']'). */
int imapparse_astring(struct imapparse_ctx *ctx, struct buf *out);
/* NIL / string.  *is_nil is set when NIL was read. */
int imapparse_nstring(struct imapparse_ctx *ctx, struct buf *out, int *is_nil);
/* Expect end of line: returns 0 at CRLF (or bare LF), IMAPPARSE_SYNTAX and
 * discards the rest of the line otherwise.  `c` is the last returned char. */
int imapparse_eol(struct imapparse_ctx *ctx, int c);
/* Discard input up to and including the end of the line, skipping any
 * literals announced on it so that the session stays in step. */
void imapparse_skipline(struct imapparse_ctx *ctx, int c);

#endif
