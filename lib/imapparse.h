/* imapparse.h -- the IMAP tokenizer (RFC 3501 / RFC 9051 section 9).
 *
 * Reads tokens from a protstream: atoms, quoted strings, literals
 * (synchronizing "{n}", non-synchronizing "{n+}" per LITERAL+, and the
 * 4096-byte limit of LITERAL-).  For a synchronizing literal the
 * tokenizer itself sends the "+ go ahead" continuation on the same stream
 * (flushed before it waits for the data).
 *
 * Every token function returns the character that followed the token
 * (usually ' ', ')', '\r' or '\n'; a '\r' is returned without reading the
 * '\n' after it), or one of the negative IMAPPARSE_* codes below; on
 * error a message suitable for a BAD response is in ctx->error and
 * nothing past the offending byte has been consumed, so
 * imapparse_skipline() resynchronises.  Tokens are bounded by
 * ctx->maxword (atoms and quoted strings) and ctx->maxliteral (literals),
 * so no input can make the server allocate without limit.
 *
 * A literal over the limit gives IMAPPARSE_TOOBIG ("BAD [TOOBIG]"): a
 * synchronizing one is refused without the continuation, so the client
 * sends no data and its command line has ended; a non-synchronizing one
 * is read and discarded to stay in step with the client.
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

/* The largest non-synchronizing literal allowed under LITERAL-. */
#define IMAPPARSE_LITERAL_MINUS_MAX 4096

struct imapparse_ctx {
    struct protstream *prot;
    size_t maxword;          /* maximum atom / quoted string, bytes */
    size_t maxliteral;       /* maximum literal accepted, bytes */
    int literal_minus;       /* LITERAL-: {n+} only up to 4096 bytes */
    int allow_utf8;          /* UTF-8 in quoted strings (IMAP4rev2,
                                UTF8=ACCEPT); else 8-bit is refused */
    int literal_seen;        /* set when the last token was a literal */
    int line_ended;          /* the last call consumed the end of line */
    char error[256];         /* why the last call failed */
};

/* Set up ctx for `prot`; every flag starts off. */
void imapparse_init(struct imapparse_ctx *ctx, struct protstream *prot,
                    size_t maxword, size_t maxliteral);

/* A tag: ASTRING-CHARs except '+', followed by SP, CR or LF.  On an empty
 * line it returns the CR/LF with `out` empty. */
int imapparse_tag(struct imapparse_ctx *ctx, struct buf *out);
/* 1*ATOM-CHAR; stops at (and returns) any atom-special. */
int imapparse_atom(struct imapparse_ctx *ctx, struct buf *out);
/* A command name or similar word: any CHAR but SP, CTL, '(', ')', '"'
 * and '{' (so "1:*", "\Seen" and "BODY[]" are words), case as read. */
int imapparse_word(struct imapparse_ctx *ctx, struct buf *out);
/* quoted / literal. */
int imapparse_string(struct imapparse_ctx *ctx, struct buf *out);
/* atom / quoted / literal (ASTRING-CHAR includes ']'). */
int imapparse_astring(struct imapparse_ctx *ctx, struct buf *out);
/* NIL / string.  *is_nil is set when NIL was read. */
int imapparse_nstring(struct imapparse_ctx *ctx, struct buf *out, int *is_nil);

/* Read the rest of a literal announcement whose first byte `c` ('{', or
 * '~' for a literal8 when allow_binary) the caller has read, check its
 * size against `limit`, and send the continuation for a synchronizing
 * one.  Returns 0 with *len and *binary set; the caller then reads the
 * *len bytes itself with prot_read (APPEND streams a message this way). */
int imapparse_literal_start(struct imapparse_ctx *ctx, int c,
                            unsigned long long limit, int allow_binary,
                            unsigned long long *len, int *binary);

/* Expect end of line: returns 0 at CRLF (or bare LF), IMAPPARSE_SYNTAX and
 * discards the rest of the line otherwise.  `c` is the last returned char. */
int imapparse_eol(struct imapparse_ctx *ctx, int c);
/* A syntax error found by a caller's own grammar after it read `c` (a
 * byte, or negative for none): puts `c` back so that imapparse_skipline()
 * still sees the line end, sets ctx->error from `fmt` (one %s, `arg`) and
 * returns IMAPPARSE_SYNTAX. */
int imapparse_syntax(struct imapparse_ctx *ctx, int c, const char *fmt,
                     const char *arg);
/* Discard input up to and including the end of the line, skipping any
 * non-synchronizing literals announced on it so that the session stays
 * in step (a synchronizing literal ends the line: its data will not come
 * without a continuation).  `c` is the last value returned. */
void imapparse_skipline(struct imapparse_ctx *ctx, int c);

#endif
