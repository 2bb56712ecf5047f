/* search.c -- IMAP SEARCH programs: parse the criteria, match messages. */
#include "config.h"

#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "imap/imapd/search.h"
#include "imap/store/message.h"
#include "lib/charset.h"
#include "lib/seqset.h"
#include "lib/util.h"
#include "lib/xmalloc.h"

/* Deeper nesting than any client sends; bounds the parser's recursion. */
#define SEARCH_MAX_DEPTH 64

enum search_op {
    OP_ALL,
    OP_AND,
    OP_OR,
    OP_NOT,
    OP_SEQ,         /* message sequence numbers */
    OP_UID,
    OP_FLAG,        /* all system flags in `num` set */
    OP_RECENT,
    OP_KEYWORD,
    OP_LARGER,
    OP_SMALLER,
    OP_BEFORE,      /* internal date, against `t0` (and `t1` for ON) */
    OP_ON,
    OP_SINCE,
    OP_SENTBEFORE,  /* Date: header day, against `ymd` */
    OP_SENTON,
    OP_SENTSINCE,
    OP_HEADER,      /* field `str` contains `pat` */
    OP_ADDRESS,     /* OP_HEADER, or one of the field's parsed addresses */
    OP_BODY,
    OP_TEXT,
    OP_MODSEQ,      /* RFC 7162 3.1.5: modseq >= `modseq` */
    OP_OLDER,       /* RFC 5032: internal date <= `t0` */
    OP_YOUNGER,     /* RFC 5032: internal date >= `t0` */
    OP_SAVED,       /* RFC 5182 "$": UID in the bound saved result */
    OP_SAVEDBEFORE, /* RFC 8514: save date, against `t0` (`t1` for ON) */
    OP_SAVEDON,
    OP_SAVEDSINCE,
};

/* Relative cost of deciding a node: AND lists run cheapest first. */
enum {
    COST_RECORD = 0,   /* struct search_msg alone */
    COST_HEADER = 1,   /* a header block, usually from the cache */
    COST_BODY = 2,     /* the message file */
};

struct search_node {
    enum search_op op;
    int cost;
    struct search_node *child, *next;   /* AND, OR, NOT operands */
    uint32_t num;                       /* flag mask, size, seconds */
    uint64_t modseq;
    int bit;                            /* keyword bit, -1: no such keyword */
    int ymd;
    int64_t t0, t1;
    int64_t u0, u1;                     /* the date's bounds read as UTC */
    char *str;                          /* set text, keyword, field name */
    struct seqset set;
    struct charset_search *pat;
    const struct seqset *saved;         /* OP_SAVED, from search_bind_saved */
};

struct search_program {
    struct search_node *root;
    int needs_source;
    int uses_modseq;
    int uses_within;    /* OLDER or YOUNGER: the result ages */
};

struct parser {
    struct imapparse_ctx *ctx;
    char *charset;          /* NULL for US-ASCII and UTF-8 */
    struct buf word;
    struct buf str;
    struct buf conv;
    struct search_program *prog;
};

/* --- nodes --- */

static struct search_node *node_new(enum search_op op)
{
    struct search_node *n = xzmalloc(sizeof(*n));
    n->op = op;
    n->bit = -1;
    return n;
}

static void node_free(struct search_node *n)
{
    while (n) {
        struct search_node *next = n->next;
        node_free(n->child);
        free(n->str);
        seqset_fini(&n->set);
        charset_search_free(&n->pat);
        free(n);
        n = next;
    }
}

static void node_add_child(struct search_node *parent, struct search_node *c)
{
    struct search_node **pp = &parent->child;
    while (*pp)
        pp = &(*pp)->next;
    *pp = c;
}

/* Order an AND list cheapest first (stable) and set the node's cost. */
static void node_finish(struct search_node *n)
{
    int cost = COST_RECORD;

    if (n->op == OP_AND) {
        struct search_node *sorted = NULL, **tail;
        for (int k = COST_RECORD; k <= COST_BODY; k++) {
            struct search_node **pp = &n->child;
            tail = &sorted;
            while (*tail)
                tail = &(*tail)->next;
            while (*pp) {
                struct search_node *c = *pp;
                if (c->cost == k) {
                    *pp = c->next;
                    c->next = NULL;
                    *tail = c;
                    tail = &c->next;
                } else {
                    pp = &c->next;
                }
            }
        }
        n->child = sorted;
    }
    for (struct search_node *c = n->child; c; c = c->next)
        if (c->cost > cost)
            cost = c->cost;
    switch (n->op) {
    case OP_HEADER:
    case OP_ADDRESS:
    case OP_SENTBEFORE:
    case OP_SENTON:
    case OP_SENTSINCE:
        cost = COST_HEADER;
        break;
    case OP_BODY:
    case OP_TEXT:
        cost = COST_BODY;
        break;
    default:
        break;
    }
    n->cost = cost;
}

/* --- dates --- */

static const char *const month_names[12] = {
    "jan", "feb", "mar", "apr", "may", "jun",
    "jul", "aug", "sep", "oct", "nov", "dec"
};

static int month_index(const char *s)
{
    for (int i = 0; i < 12; i++)
        if (!strncasecmp(s, month_names[i], 3))
            return i + 1;
    return 0;
}

int search_parse_date(const char *s, int *ymd)
{
    int day = 0, month, year = 0, n;

    for (n = 0; n < 2 && isdigit((unsigned char)s[n]); n++)
        day = day * 10 + (s[n] - '0');
    if (!n || s[n] != '-' || day < 1 || day > 31)
        return -1;
    s += n + 1;
    if (strlen(s) < 4 || s[3] != '-' || !(month = month_index(s)))
        return -1;
    s += 4;
    for (n = 0; n < 4; n++) {
        if (!isdigit((unsigned char)s[n]))
            return -1;
        year = year * 10 + (s[n] - '0');
    }
    if (s[4])
        return -1;
    *ymd = year * 10000 + month * 100 + day;
    return 0;
}

/* Skip blanks and RFC 5322 comments (nested) in [*p, end). */
static void skip_cfws(const char **p, const char *end)
{
    int depth = 0;

    while (*p < end) {
        char c = **p;
        if (c == '(')
            depth++;
        else if (c == ')' && depth)
            depth--;
        else if (c == '\\' && depth && *p + 1 < end)
            (*p)++;
        else if (!depth && c != ' ' && c != '\t' && c != '\r' && c != '\n')
            return;
        (*p)++;
    }
}

static int read_number(const char **p, const char *end, int maxdigits,
                       int *out, int *digits)
{
    int v = 0, n = 0;

    while (*p < end && n < maxdigits && isdigit((unsigned char)**p)) {
        v = v * 10 + (**p - '0');
        (*p)++;
        n++;
    }
    *out = v;
    *digits = n;
    return n ? 0 : -1;
}

int search_header_date(const char *value, size_t len, int *ymd)
{
    const char *p = value, *end = value + len;
    int day, month, year, digits;

    skip_cfws(&p, end);
    if (p < end && isalpha((unsigned char)*p)) {
        /* day-of-week, with or without its comma */
        while (p < end && isalpha((unsigned char)*p))
            p++;
        skip_cfws(&p, end);
        if (p < end && *p == ',')
            p++;
        skip_cfws(&p, end);
    }
    if (read_number(&p, end, 2, &day, &digits) < 0 || day < 1 || day > 31)
        return -1;
    skip_cfws(&p, end);
    if (p < end && *p == '-')
        p++;
    if (end - p < 3 || !(month = month_index(p)))
        return -1;
    p += 3;
    while (p < end && isalpha((unsigned char)*p))
        p++;        /* a spelled-out month name */
    skip_cfws(&p, end);
    if (p < end && *p == '-')
        p++;
    if (read_number(&p, end, 4, &year, &digits) < 0)
        return -1;
    /* RFC 5322 4.3: obsolete two- and three-digit years */
    if (digits == 2)
        year += year < 50 ? 2000 : 1900;
    else if (digits == 3)
        year += 1900;
    *ymd = year * 10000 + month * 100 + day;
    return 0;
}

/* Midnight starting the day `ymd` plus `days`: local, or as if the clock
 * were at UTC. */
static int64_t day_start(int ymd, int days, int utc)
{
    struct tm tm;

    memset(&tm, 0, sizeof(tm));
    tm.tm_year = ymd / 10000 - 1900;
    tm.tm_mon = ymd / 100 % 100 - 1;
    tm.tm_mday = ymd % 100 + days;
    tm.tm_isdst = -1;
    return (int64_t)(utc ? timegm(&tm) : mktime(&tm));
}

/* The INTERNALDATE on the wall clock of the zone it was given in: RFC
 * 3501's BEFORE/ON/SINCE compare its date "disregarding time and
 * timezone", i.e. the date as written in that zone. */
static int64_t internal_wallclock(const struct index_record *rec)
{
    int zone = rec->internaldate_zone != INDEX_ZONE_UNKNOWN ?
               rec->internaldate_zone : util_local_zone(rec->internaldate);

    return rec->internaldate + (int64_t)zone * 60;
}

/* --- parsing --- */

/* A syntax error found after `c` was read: put `c` back so that
 * imapparse_skipline() sees it, and describe the problem. */
static int syntax(struct parser *p, int c, const char *fmt, const char *arg)
{
    return imapparse_syntax(p->ctx, c, fmt, arg);
}

/* A string argument after "KEY ": converted to UTF-8 in p->str. */
static int parse_string(struct parser *p, const char *key)
{
    int c = imapparse_astring(p->ctx, &p->str);

    if (c < 0)
        return c;
    if (p->charset) {
        buf_reset(&p->conv);
        if (charset_to_utf8(&p->conv, p->str.s, p->str.len, p->charset) < 0)
            return syntax(p, c, "Cannot convert %s string", key);
        buf_setmap(&p->str, p->conv.s, p->conv.len);
    }
    return c;
}

static int parse_key(struct parser *p, struct search_node **out, int depth);

/* "(" search-key *(SP search-key) ")", the "(" already read. */
static int parse_list(struct parser *p, struct search_node **out, int depth)
{
    struct search_node *and = node_new(OP_AND), *child;
    int c;

    *out = and;
    for (;;) {
        c = parse_key(p, &child, depth + 1);
        if (child)
            node_add_child(and, child);
        if (c < 0)
            return c;
        if (c == ')')
            break;
        if (c != ' ')
            return syntax(p, c, "Missing %s in search criteria", "')'");
    }
    node_finish(and);
    c = prot_getc(p->ctx->prot);
    if (c == EOF)
        return IMAPPARSE_EOF;
    return c;
}

static int parse_date_arg(struct parser *p, const char *key, int *ymd)
{
    int c = imapparse_astring(p->ctx, &p->str);

    if (c < 0)
        return c;
    if (search_parse_date(buf_cstring(&p->str), ymd) < 0)
        return syntax(p, c, "Invalid date in %s", key);
    return c;
}

static int parse_number_arg(struct parser *p, const char *key, uint32_t *num)
{
    int c = imapparse_word(p->ctx, &p->word);
    uint64_t v = 0;
    const char *s;

    if (c < 0)
        return c;
    s = buf_cstring(&p->word);
    for (; *s; s++) {
        if (!isdigit((unsigned char)*s) ||
            (v = v * 10 + (uint64_t)(*s - '0')) > UINT32_MAX)
            return syntax(p, c, "Invalid number in %s", key);
    }
    *num = (uint32_t)v;
    return c;
}

static int parse_set(struct parser *p, struct search_node *n, int c,
                     const char *text)
{
    /* Checked now for syntax; "*" is resolved by search_bind(). */
    if (seqset_parse(&n->set, text, UINT32_MAX) < 0)
        return syntax(p, c, "Invalid sequence set %s", text);
    n->str = xstrdup(text);
    return c;
}

/* MODSEQ [SP entry-name SP entry-type-req] SP mod-sequence-valzer (RFC
 * 7162 3.1.5), after "MODSEQ SP".  One modseq per message is kept, so
 * the entry name and type are checked and then ignored, as the RFC
 * says. */
static int parse_modseq_arg(struct parser *p, uint64_t *modseq)
{
    const char *s;
    uint64_t v = 0;
    int c = prot_getc(p->ctx->prot);

    prot_ungetc(c, p->ctx->prot);
    if (c == '"') {
        c = imapparse_string(p->ctx, &p->str);
        if (c < 0)
            return c;
        if (strncasecmp(buf_cstring(&p->str), "/flags/", 7) ||
            !p->str.s[7] || c != ' ')
            return syntax(p, c, "Invalid entry name in %s", "MODSEQ");
        c = imapparse_atom(p->ctx, &p->word);
        if (c < 0)
            return c;
        s = buf_cstring(&p->word);
        if ((strcasecmp(s, "priv") && strcasecmp(s, "shared") &&
             strcasecmp(s, "all")) || c != ' ')
            return syntax(p, c, "Invalid entry type in %s", "MODSEQ");
    }
    c = imapparse_word(p->ctx, &p->word);
    if (c < 0)
        return c;
    s = buf_cstring(&p->word);
    for (; *s; s++) {
        if (!isdigit((unsigned char)*s) || v > (UINT64_MAX >> 1) / 10 ||
            (v = v * 10 + (uint64_t)(*s - '0')) > (UINT64_MAX >> 1))
            return syntax(p, c, "Invalid mod-sequence in %s", "MODSEQ");
    }
    *modseq = v;
    return c;
}

/* How a key's arguments are read. */
enum key_kind {
    K_SIMPLE,       /* no argument */
    K_NEW,
    K_STRING,       /* astring */
    K_DATE,
    K_HEADER,       /* field-name and string */
    K_KEYWORD,      /* flag-keyword */
    K_NUMBER,
    K_UID,          /* sequence set */
    K_NOT,
    K_OR,
    K_MODSEQ,
    K_WITHIN,       /* nz-number of seconds */
};

static const struct key_def {
    const char *name;
    enum key_kind kind;
    enum search_op op;
    uint32_t flag;
    int negate;
    const char *field;
} keys[] = {
    { "ALL", K_SIMPLE, OP_ALL, 0, 0, NULL },
    { "ANSWERED", K_SIMPLE, OP_FLAG, FLAG_ANSWERED, 0, NULL },
    { "BCC", K_STRING, OP_ADDRESS, 0, 0, "Bcc" },
    { "BEFORE", K_DATE, OP_BEFORE, 0, 0, NULL },
    { "BODY", K_STRING, OP_BODY, 0, 0, NULL },
    { "CC", K_STRING, OP_ADDRESS, 0, 0, "Cc" },
    { "DELETED", K_SIMPLE, OP_FLAG, FLAG_DELETED, 0, NULL },
    { "DRAFT", K_SIMPLE, OP_FLAG, FLAG_DRAFT, 0, NULL },
    { "FLAGGED", K_SIMPLE, OP_FLAG, FLAG_FLAGGED, 0, NULL },
    { "FROM", K_STRING, OP_ADDRESS, 0, 0, "From" },
    { "HEADER", K_HEADER, OP_HEADER, 0, 0, NULL },
    { "KEYWORD", K_KEYWORD, OP_KEYWORD, 0, 0, NULL },
    { "LARGER", K_NUMBER, OP_LARGER, 0, 0, NULL },
    { "MODSEQ", K_MODSEQ, OP_MODSEQ, 0, 0, NULL },
    { "NEW", K_NEW, OP_AND, 0, 0, NULL },
    { "NOT", K_NOT, OP_NOT, 0, 0, NULL },
    { "OLD", K_SIMPLE, OP_RECENT, 0, 1, NULL },
    { "OLDER", K_WITHIN, OP_OLDER, 0, 0, NULL },
    { "ON", K_DATE, OP_ON, 0, 0, NULL },
    { "OR", K_OR, OP_OR, 0, 0, NULL },
    { "RECENT", K_SIMPLE, OP_RECENT, 0, 0, NULL },
    /* RFC 8514: every mailbox here keeps save dates. */
    { "SAVEDATESUPPORTED", K_SIMPLE, OP_ALL, 0, 0, NULL },
    { "SAVEDBEFORE", K_DATE, OP_SAVEDBEFORE, 0, 0, NULL },
    { "SAVEDON", K_DATE, OP_SAVEDON, 0, 0, NULL },
    { "SAVEDSINCE", K_DATE, OP_SAVEDSINCE, 0, 0, NULL },
    { "SEEN", K_SIMPLE, OP_FLAG, FLAG_SEEN, 0, NULL },
    { "SENTBEFORE", K_DATE, OP_SENTBEFORE, 0, 0, NULL },
    { "SENTON", K_DATE, OP_SENTON, 0, 0, NULL },
    { "SENTSINCE", K_DATE, OP_SENTSINCE, 0, 0, NULL },
    { "SINCE", K_DATE, OP_SINCE, 0, 0, NULL },
    { "SMALLER", K_NUMBER, OP_SMALLER, 0, 0, NULL },
    { "SUBJECT", K_STRING, OP_HEADER, 0, 0, "Subject" },
    { "TEXT", K_STRING, OP_TEXT, 0, 0, NULL },
    { "TO", K_STRING, OP_ADDRESS, 0, 0, "To" },
    { "UID", K_UID, OP_UID, 0, 0, NULL },
    { "UNANSWERED", K_SIMPLE, OP_FLAG, FLAG_ANSWERED, 1, NULL },
    { "UNDELETED", K_SIMPLE, OP_FLAG, FLAG_DELETED, 1, NULL },
    { "UNDRAFT", K_SIMPLE, OP_FLAG, FLAG_DRAFT, 1, NULL },
    { "UNFLAGGED", K_SIMPLE, OP_FLAG, FLAG_FLAGGED, 1, NULL },
    { "UNKEYWORD", K_KEYWORD, OP_KEYWORD, 0, 1, NULL },
    { "UNSEEN", K_SIMPLE, OP_FLAG, FLAG_SEEN, 1, NULL },
    { "YOUNGER", K_WITHIN, OP_YOUNGER, 0, 0, NULL },
};

static int compare_key(const void *name, const void *elem)
{
    return strcasecmp(name, ((const struct key_def *)elem)->name);
}

static struct search_node *negate(struct search_node *n)
{
    struct search_node *not = node_new(OP_NOT);
    not->child = n;
    node_finish(not);
    return not;
}

static struct search_node *pattern_node(struct parser *p, enum search_op op,
                                        const char *field)
{
    struct search_node *n = node_new(op);
    n->str = field ? xstrdup(field) : NULL;
    n->pat = charset_search_new(buf_cstring(&p->str), p->str.len);
    p->prog->needs_source = 1;
    return n;
}

/* The arguments of a named key whose word is in p->word, `c` after it.
 * *out is set as soon as a node exists, so the caller frees it on error. */
static int parse_named_key(struct parser *p, struct search_node **out,
                           int depth, int c)
{
    const char *word = buf_cstring(&p->word);
    const struct key_def *def;
    struct search_node *n, *child;
    uint32_t num;
    int ymd;

    if (!strcmp(word, "$")) {
        n = *out = node_new(OP_SAVED);
        node_finish(n);
        return c;
    }
    if (isdigit((unsigned char)word[0]) || word[0] == '*') {
        n = *out = node_new(OP_SEQ);
        c = parse_set(p, n, c, word);
        node_finish(n);
        return c;
    }
    def = bsearch(word, keys, sizeof(keys) / sizeof(keys[0]), sizeof(keys[0]),
                  compare_key);
    if (!def)
        return syntax(p, c, "Invalid search key %s", word);

    switch (def->kind) {
    case K_SIMPLE:
        n = node_new(def->op);
        n->num = def->flag;
        node_finish(n);
        *out = def->negate ? negate(n) : n;
        return c;
    case K_NEW:
        n = *out = node_new(OP_AND);
        node_add_child(n, node_new(OP_RECENT));
        child = node_new(OP_FLAG);
        child->num = FLAG_SEEN;
        node_add_child(n, negate(child));
        node_finish(n);
        return c;
    default:
        break;
    }

    if (c != ' ')
        return syntax(p, c, "Missing argument to %s", def->name);

    switch (def->kind) {
    case K_STRING:
        if ((c = parse_string(p, def->name)) < 0)
            return c;
        n = *out = pattern_node(p, def->op, def->field);
        node_finish(n);
        return c;
    case K_HEADER:
        c = imapparse_astring(p->ctx, &p->word);
        if (c < 0)
            return c;
        if (c != ' ')
            return syntax(p, c, "Missing argument to %s", def->name);
        if ((c = parse_string(p, def->name)) < 0)
            return c;
        n = *out = pattern_node(p, OP_HEADER, buf_cstring(&p->word));
        node_finish(n);
        return c;
    case K_DATE:
        if ((c = parse_date_arg(p, def->name, &ymd)) < 0)
            return c;
        n = *out = node_new(def->op);
        n->ymd = ymd;
        n->t0 = day_start(ymd, 0, 0);
        n->t1 = day_start(ymd, 1, 0);
        n->u0 = day_start(ymd, 0, 1);
        n->u1 = day_start(ymd, 1, 1);
        if (n->op == OP_SENTBEFORE || n->op == OP_SENTON ||
            n->op == OP_SENTSINCE)
            p->prog->needs_source = 1;
        node_finish(n);
        return c;
    case K_KEYWORD:
        c = imapparse_atom(p->ctx, &p->word);
        if (c < 0)
            return c;
        n = node_new(OP_KEYWORD);
        n->str = xstrdup(buf_cstring(&p->word));
        node_finish(n);
        *out = def->negate ? negate(n) : n;
        return c;
    case K_NUMBER:
        if ((c = parse_number_arg(p, def->name, &num)) < 0)
            return c;
        n = *out = node_new(def->op);
        n->num = num;
        node_finish(n);
        return c;
    case K_WITHIN:
        if ((c = parse_number_arg(p, def->name, &num)) < 0)
            return c;
        if (!num)
            return syntax(p, c, "Invalid number in %s", def->name);
        n = *out = node_new(def->op);
        n->num = num;
        n->t0 = (int64_t)time(NULL) - num;
        p->prog->uses_within = 1;
        node_finish(n);
        return c;
    case K_UID:
        c = imapparse_word(p->ctx, &p->word);
        if (c < 0)
            return c;
        if (!strcmp(buf_cstring(&p->word), "$")) {
            n = *out = node_new(OP_SAVED);
            node_finish(n);
            return c;
        }
        n = *out = node_new(OP_UID);
        c = parse_set(p, n, c, buf_cstring(&p->word));
        node_finish(n);
        return c;
    case K_MODSEQ:
        n = *out = node_new(OP_MODSEQ);
        c = parse_modseq_arg(p, &n->modseq);
        p->prog->uses_modseq = 1;
        node_finish(n);
        return c;
    case K_NOT:
        n = *out = node_new(OP_NOT);
        c = parse_key(p, &n->child, depth + 1);
        if (c >= 0)
            node_finish(n);
        return c;
    case K_OR:
        n = *out = node_new(OP_OR);
        c = parse_key(p, &child, depth + 1);
        if (child)
            node_add_child(n, child);
        if (c < 0)
            return c;
        if (c != ' ')
            return syntax(p, c, "Missing argument to %s", def->name);
        c = parse_key(p, &child, depth + 1);
        if (child)
            node_add_child(n, child);
        if (c >= 0)
            node_finish(n);
        return c;
    default:
        return syntax(p, c, "Invalid search key %s", def->name);
    }
}

/* Read a key's word (a search-key not starting with "(") into p->word. */
static int read_key_word(struct parser *p)
{
    int c = imapparse_word(p->ctx, &p->word);

    if (c == IMAPPARSE_SYNTAX)
        snprintf(p->ctx->error, sizeof(p->ctx->error), "Missing search key");
    return c;
}

/* One search-key.  Returns the character after it or an error. */
static int parse_key(struct parser *p, struct search_node **out, int depth)
{
    int c;

    *out = NULL;
    if (depth > SEARCH_MAX_DEPTH)
        return syntax(p, -1, "Search criteria nested too deeply%s", "");
    c = prot_getc(p->ctx->prot);
    if (c == EOF)
        return IMAPPARSE_EOF;
    if (c == '(')
        return parse_list(p, out, depth);
    prot_ungetc(c, p->ctx->prot);
    if ((c = read_key_word(p)) < 0)
        return c;
    return parse_named_key(p, out, depth, c);
}

/* "CHARSET name" has been read up to the name: check and remember it. */
static int parse_charset(struct parser *p)
{
    int c = imapparse_astring(p->ctx, &p->str);
    const char *cs;

    if (c < 0)
        return c;
    cs = buf_cstring(&p->str);
    if (strcasecmp(cs, "US-ASCII") && strcasecmp(cs, "UTF-8")) {
        if (!charset_is_known(cs)) {
            /* the rest of the line is left for the caller to skip */
            prot_ungetc(c, p->ctx->prot);
            p->ctx->line_ended = 0;
            return SEARCH_BADCHARSET;
        }
        p->charset = xstrdup(cs);
    }
    if (c != ' ')
        return syntax(p, c, "Missing search criteria after %s", "CHARSET");
    return c;
}

static const struct {
    const char *name;
    unsigned bit;
} return_opts[] = {
    { "MIN", SEARCH_RETURN_MIN },
    { "MAX", SEARCH_RETURN_MAX },
    { "ALL", SEARCH_RETURN_ALL },
    { "COUNT", SEARCH_RETURN_COUNT },
    { "SAVE", SEARCH_RETURN_SAVE },
    { "PARTIAL", SEARCH_RETURN_PARTIAL },
    { "UPDATE", SEARCH_RETURN_UPDATE },
    { "CONTEXT", SEARCH_RETURN_CONTEXT },
};

/* One end of a partial-range: ["-"] nz-number; 0 or -1. */
static int partial_number(const char **pp, int64_t *out)
{
    const char *p = *pp;
    int neg = 0;
    uint64_t v = 0;

    if (*p == '-') {
        neg = 1;
        p++;
    }
    if (*p < '1' || *p > '9')
        return -1;
    for (; *p >= '0' && *p <= '9'; p++) {
        v = v * 10 + (uint64_t)(*p - '0');
        if (v > UINT32_MAX)
            return -1;
    }
    *out = neg ? -(int64_t)v : (int64_t)v;
    *pp = p;
    return 0;
}

/* RFC 5267 partial-range "a:b", or RFC 9394's "-a:-b": both ends of the
 * same sign, no "*".  Ordered as struct search_return says. */
static int parse_partial_range(const char *s, int64_t *lo, int64_t *hi)
{
    int64_t a, b;

    if (partial_number(&s, &a) < 0 || *s++ != ':' ||
        partial_number(&s, &b) < 0 || *s || (a < 0) != (b < 0))
        return -1;
    if ((a > 0 && a > b) || (a < 0 && a < b)) {
        int64_t t = a;
        a = b;
        b = t;
    }
    *lo = a;
    *hi = b;
    return 0;
}

/* A return option list that cannot be: the byte after it is unread. */
static int return_error(struct imapparse_ctx *ctx, int c, const char *fmt,
                        const char *arg)
{
    return imapparse_syntax(ctx, c, fmt, arg);
}

int search_parse_return(struct imapparse_ctx *ctx, struct search_return *ret)
{
    struct buf word = BUF_INITIALIZER;
    int c = prot_getc(ctx->prot);
    size_t i;

    memset(ret, 0, sizeof(*ret));
    ret->present = 1;
    if (c != '(') {
        if (c == EOF)
            return IMAPPARSE_EOF;
        return return_error(ctx, c, "Missing '(' after RETURN%s", "");
    }
    c = prot_getc(ctx->prot);
    if (c == ')')
        goto end;
    prot_ungetc(c, ctx->prot);
    for (;;) {
        c = imapparse_atom(ctx, &word);
        if (c < 0)
            goto out;
        for (i = 0; i < sizeof(return_opts) / sizeof(return_opts[0]); i++)
            if (!strcasecmp(buf_cstring(&word), return_opts[i].name))
                break;
        if (i == sizeof(return_opts) / sizeof(return_opts[0]) ||
            (c != ' ' && c != ')')) {
            c = return_error(ctx, c, "Invalid search return option %.100s",
                             buf_cstring(&word));
            goto out;
        }
        if (return_opts[i].bit == SEARCH_RETURN_PARTIAL) {
            if (ret->opts & SEARCH_RETURN_PARTIAL) {
                c = return_error(ctx, c, "%s can be used only once",
                                 "PARTIAL");
                goto out;
            }
            if (c != ' ') {
                c = return_error(ctx, c, "Missing range after %s",
                                 "PARTIAL");
                goto out;
            }
            c = imapparse_atom(ctx, &word);
            if (c < 0)
                goto out;
            if ((c != ' ' && c != ')') ||
                parse_partial_range(buf_cstring(&word), &ret->partial_lo,
                                    &ret->partial_hi) < 0) {
                c = return_error(ctx, c, "Invalid PARTIAL range %.100s",
                                 buf_cstring(&word));
                goto out;
            }
        }
        ret->opts |= return_opts[i].bit;
        if (c == ')')
            break;
    }
    /* RFC 5267 4.4: either one PARTIAL, one ALL, or neither. */
    if ((ret->opts & SEARCH_RETURN_PARTIAL) &&
        (ret->opts & SEARCH_RETURN_ALL)) {
        c = return_error(ctx, -1, "%s", "PARTIAL and ALL cannot be combined");
        goto out;
    }
end:
    /* RFC 4731 3.1: an empty list asks for ALL; CONTEXT, being only a
     * hint, leaves a list as empty as it was. */
    if (!(ret->opts & ~SEARCH_RETURN_CONTEXT))
        ret->opts |= SEARCH_RETURN_ALL;
    c = prot_getc(ctx->prot);
    if (c == EOF)
        c = IMAPPARSE_EOF;
out:
    buf_free(&word);
    return c;
}

/* A charset named before the keys (SORT, THREAD): NULL in *out for the
 * ones strings are already in, SEARCH_BADCHARSET when unknown. */
static int preset_charset(struct parser *p, const char *cs, int c)
{
    if (!strcasecmp(cs, "US-ASCII") || !strcasecmp(cs, "UTF-8"))
        return c;
    if (!charset_is_known(cs)) {
        prot_ungetc(c, p->ctx->prot);
        p->ctx->line_ended = 0;
        return SEARCH_BADCHARSET;
    }
    p->charset = xstrdup(cs);
    return c;
}

int search_parse(struct imapparse_ctx *ctx, int c,
                 struct search_program **progp)
{
    return search_parse_ext(ctx, c, NULL, NULL, progp);
}

int search_parse_ext(struct imapparse_ctx *ctx, int c,
                     struct search_return *ret, const char *charset,
                     struct search_program **progp)
{
    struct parser p;
    struct search_node *and, *child = NULL;
    int first = !charset, may_return = ret && !ret->present;

    memset(&p, 0, sizeof(p));
    p.ctx = ctx;
    p.prog = xzmalloc(sizeof(*p.prog));
    and = p.prog->root = node_new(OP_AND);
    *progp = NULL;

    if (c != ' ') {
        c = syntax(&p, c, "Missing search criteria%s", "");
        goto done;
    }
    if (charset && (c = preset_charset(&p, charset, c)) < 0)
        goto done;
    for (;;) {
        c = prot_getc(ctx->prot);
        if (c == EOF) {
            c = IMAPPARSE_EOF;
            goto done;
        }
        prot_ungetc(c, ctx->prot);
        if (c == '(') {
            may_return = 0;
            c = parse_key(&p, &child, 0);
        } else {
            if ((c = read_key_word(&p)) < 0)
                goto done;
            if (may_return && !strcasecmp(buf_cstring(&p.word), "RETURN")) {
                may_return = 0;
                if (c != ' ') {
                    c = syntax(&p, c, "Missing argument to %s", "RETURN");
                    goto done;
                }
                if ((c = search_parse_return(ctx, ret)) < 0)
                    goto done;
                if (c != ' ') {
                    c = syntax(&p, c, "Missing search criteria%s", "");
                    goto done;
                }
                continue;
            }
            may_return = 0;
            if (first && !strcasecmp(buf_cstring(&p.word), "CHARSET")) {
                first = 0;
                if (c != ' ') {
                    c = syntax(&p, c, "Missing argument to %s", "CHARSET");
                    goto done;
                }
                if ((c = parse_charset(&p)) < 0)
                    goto done;
                continue;
            }
            c = parse_named_key(&p, &child, 0, c);
        }
        first = 0;
        if (child)
            node_add_child(and, child);
        child = NULL;
        if (c < 0)
            goto done;
        if (c != ' ')
            break;
    }
    if (c == ')') {
        c = syntax(&p, c, "Unexpected %s in search criteria", "')'");
        goto done;
    }
    node_finish(and);

done:
    free(p.charset);
    buf_free(&p.word);
    buf_free(&p.str);
    buf_free(&p.conv);
    if (c < 0) {
        search_free(&p.prog);
        return c;
    }
    *progp = p.prog;
    return c;
}

/* --- binding --- */

static void bind_node(struct search_node *n, uint32_t maxmsgno,
                      uint32_t maxuid, const strarray_t *user_flags)
{
    for (; n; n = n->next) {
        switch (n->op) {
        case OP_SEQ:
        case OP_UID:
            if (!n->str)
                break;      /* frozen by search_freeze() */
            seqset_fini(&n->set);
            /* "*" in an empty mailbox matches nothing that exists */
            if (seqset_parse(&n->set, n->str,
                             n->op == OP_SEQ ? maxmsgno : maxuid) < 0)
                seqset_fini(&n->set);
            break;
        case OP_KEYWORD:
            n->bit = user_flags ? strarray_find(user_flags, n->str, 1) : -1;
            if (n->bit >= MAILBOX_MAX_USER_FLAGS)
                n->bit = -1;
            break;
        default:
            break;
        }
        bind_node(n->child, maxmsgno, maxuid, user_flags);
    }
}

void search_bind(struct search_program *prog, uint32_t maxmsgno,
                 uint32_t maxuid, const strarray_t *user_flags)
{
    bind_node(prog->root, maxmsgno, maxuid, user_flags);
}

static void bind_saved(struct search_node *n, const struct seqset *uids)
{
    for (; n; n = n->next) {
        if (n->op == OP_SAVED)
            n->saved = uids;
        bind_saved(n->child, uids);
    }
}

void search_bind_saved(struct search_program *prog, const struct seqset *uids)
{
    bind_saved(prog->root, uids);
}

static void freeze_node(struct search_node *n, uint32_t count,
                        uint32_t (*uid_of)(void *rock, uint32_t msgno),
                        void *rock)
{
    for (; n; n = n->next) {
        if (n->op == OP_SEQ) {
            struct seqset uids = SEQSET_INITIALIZER;

            for (size_t i = 0; i < n->set.count; i++) {
                uint32_t hi = n->set.ranges[i].high;
                for (uint32_t m = n->set.ranges[i].low; m && m <= hi &&
                     m <= count; m++)
                    seqset_add(&uids, uid_of(rock, m));
            }
            seqset_fini(&n->set);
            n->set = uids;
            n->op = OP_UID;
        }
        else if (n->op == OP_SAVED) {
            seqset_fini(&n->set);
            for (size_t i = 0; n->saved && i < n->saved->count; i++)
                seqset_add_range(&n->set, n->saved->ranges[i].low,
                                 n->saved->ranges[i].high);
            n->saved = NULL;
            n->op = OP_UID;
        }
        if (n->op == OP_UID) {
            free(n->str);
            n->str = NULL;
        }
        freeze_node(n->child, count, uid_of, rock);
    }
}

void search_freeze(struct search_program *prog, uint32_t count,
                   uint32_t (*uid_of)(void *rock, uint32_t msgno),
                   void *rock)
{
    freeze_node(prog->root, count, uid_of, rock);
}

/* --- matching --- */

/* Call `fn` on each field of a header block whose name is `field` (any
 * case; NULL for every field) with the field's value (or, for NULL, the
 * whole field), until fn returns non-zero. */
static int header_any(const char *base, size_t len, const char *field,
                      struct charset_search *pat)
{
    const char *p = base, *end = base + len;
    size_t flen = field ? strlen(field) : 0;

    while (p < end) {
        const char *line = p, *colon = NULL, *vend;
        if (*p == '\r' || *p == '\n')
            break;      /* the blank line ending the header */
        /* the field runs to a line that does not start with a blank */
        for (;;) {
            const char *nl = memchr(p, '\n', (size_t)(end - p));
            if (!colon) {
                colon = memchr(line, ':', (size_t)((nl ? nl : end) - line));
                if (!colon)
                    colon = end;    /* not a field: skipped below */
            }
            p = nl ? nl + 1 : end;
            if (p >= end || (*p != ' ' && *p != '\t'))
                break;
        }
        if (colon >= p)
            continue;
        vend = p;
        while (vend > colon && (vend[-1] == '\n' || vend[-1] == '\r'))
            vend--;
        if (!field) {
            if (charset_search_header(pat, line, (size_t)(vend - line)))
                return 1;
            continue;
        }
        const char *nend = colon;
        while (nend > line && (nend[-1] == ' ' || nend[-1] == '\t'))
            nend--;
        if ((size_t)(nend - line) != flen || strncasecmp(line, field, flen))
            continue;
        const char *v = colon + 1;
        while (v < vend && (*v == ' ' || *v == '\t'))
            v++;
        if (charset_search_header(pat, v, (size_t)(vend - v)))
            return 1;
    }
    return 0;
}

/* The first value of `field` in a header block, unfolding not needed
 * for a date. */
static int header_first(const char *base, size_t len, const char *field,
                        const char **value, size_t *vlen)
{
    const char *p = base, *end = base + len;
    size_t flen = strlen(field);

    while (p < end && *p != '\r' && *p != '\n') {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *lend = nl ? nl : end;
        if ((size_t)(lend - p) > flen && !strncasecmp(p, field, flen)) {
            const char *q = p + flen;
            while (q < lend && (*q == ' ' || *q == '\t'))
                q++;
            if (q < lend && *q == ':') {
                *value = q + 1;
                *vlen = (size_t)(lend - q - 1);
                return 1;
            }
        }
        p = nl ? nl + 1 : end;
    }
    return 0;
}

static int match_header(struct search_node *n, const struct search_source *src)
{
    const char *base;
    size_t len;

    if (!src || !src->header || src->header(src->rock, n->str, &base, &len))
        return 0;
    return header_any(base, len, n->str, n->pat);
}

/* FROM/TO/CC/BCC search the envelope's addresses (RFC 3501 6.4.4): an
 * address written with comments or folding inside it, which the raw field
 * does not show as one string, still matches as "mailbox@host". */
static int match_addresses(struct search_node *n,
                           const struct search_source *src)
{
    const char *base, *value;
    size_t len, vlen;
    struct buf lines = BUF_INITIALIZER;
    int found = 0;

    if (!src || !src->header || src->header(src->rock, n->str, &base, &len))
        return 0;
    /* Every occurrence of the field, as the envelope would take them. */
    while (!found && header_first(base, len, n->str, &value, &vlen)) {
        buf_reset(&lines);
        message_address_lines(&lines, value, vlen);
        if (lines.len)
            found = charset_search_header(n->pat, lines.s, lines.len);
        len -= (size_t)(value + vlen - base);
        base = value + vlen;
    }
    buf_free(&lines);
    return found;
}

static int sent_ymd(const struct search_msg *m, const struct search_source *src)
{
    const char *base, *value;
    size_t len, vlen;
    int ymd;

    if (src && src->header && !src->header(src->rock, "Date", &base, &len) &&
        header_first(base, len, "Date", &value, &vlen) &&
        search_header_date(value, vlen, &ymd) == 0)
        return ymd;
    /* Without a usable Date: the internal date stands in for it, as
     * RFC 5256 has SORT do and as Cyrus searches.  Either way the zone is
     * lost: the UTC day is the best guess left. */
    time_t t = (time_t)(m->rec->sentdate > 0 ? m->rec->sentdate
                                             : m->rec->internaldate);
    struct tm tm;
    gmtime_r(&t, &tm);
    return (tm.tm_year + 1900) * 10000 + (tm.tm_mon + 1) * 100 + tm.tm_mday;
}

static const char *part_charset(const struct message *msg,
                                const struct message_part *part)
{
    for (uint32_t i = 0; i < part->nparams; i++) {
        const struct message_param *pr = &msg->params[part->params + i];
        const char *name = message_string(msg, pr->name);
        if (name && !strcmp(name, "CHARSET"))
            return message_string(msg, pr->value);
    }
    return NULL;
}

static int searchable_type(const struct message *msg,
                           const struct message_part *part)
{
    const char *type = message_string(msg, part->type);
    return !type || !strcmp(type, "TEXT") || !strcmp(type, "MESSAGE");
}

static int match_body(struct search_node *n, const struct search_source *src,
                      int with_header)
{
    const struct message *msg;

    if (!src || !src->message || !(msg = src->message(src->rock)))
        return 0;
    for (uint32_t i = 0; i < msg->nparts; i++) {
        const struct message_part *part = &msg->parts[i];
        if ((part->flags & MESSAGE_PART_ISMESSAGE) && (i || with_header) &&
            (uint64_t)part->header_offset + part->header_size <= msg->len &&
            header_any(msg->base + part->header_offset, part->header_size,
                       NULL, n->pat))
            return 1;
        if (part->flags & (MESSAGE_PART_MULTIPART | MESSAGE_PART_RFC822))
            continue;
        if (!searchable_type(msg, part))
            continue;
        if ((uint64_t)part->body_offset + part->body_size > msg->len)
            continue;
        if (charset_search_body(n->pat, msg->base + part->body_offset,
                                part->body_size, part_charset(msg, part),
                                part->enc))
            return 1;
    }
    return 0;
}

/* A record without a save date (none is written so today) is taken to
 * have been saved when it arrived, RFC 8514's fallback. */
static int64_t save_date(const struct index_record *rec)
{
    return rec->savedate ? rec->savedate : rec->internaldate;
}

static int eval(struct search_node *n, const struct search_msg *m,
                const struct search_source *src)
{
    const struct index_record *rec = m->rec;
    struct search_node *c;

    switch (n->op) {
    case OP_ALL:
        return 1;
    case OP_AND:
        for (c = n->child; c; c = c->next)
            if (!eval(c, m, src))
                return 0;
        return 1;
    case OP_OR:
        for (c = n->child; c; c = c->next)
            if (eval(c, m, src))
                return 1;
        return 0;
    case OP_NOT:
        return !eval(n->child, m, src);
    case OP_SEQ:
        return seqset_contains(&n->set, m->msgno);
    case OP_UID:
        return seqset_contains(&n->set, rec->uid);
    case OP_FLAG:
        return (m->system_flags & n->num) == n->num;
    case OP_RECENT:
        return m->recent;
    case OP_KEYWORD:
        return n->bit >= 0 &&
               (rec->user_flags[n->bit / 32] >> (n->bit % 32)) & 1;
    case OP_LARGER:
        return rec->size > n->num;
    case OP_SMALLER:
        return rec->size < n->num;
    case OP_BEFORE:
        return internal_wallclock(rec) < n->u0;
    case OP_ON: {
        int64_t t = internal_wallclock(rec);
        return t >= n->u0 && t < n->u1;
    }
    case OP_SINCE:
        return internal_wallclock(rec) >= n->u0;
    case OP_SENTBEFORE:
        return sent_ymd(m, src) < n->ymd;
    case OP_SENTON:
        return sent_ymd(m, src) == n->ymd;
    case OP_SENTSINCE:
        return sent_ymd(m, src) >= n->ymd;
    case OP_HEADER:
        return match_header(n, src);
    case OP_ADDRESS:
        return match_header(n, src) || match_addresses(n, src);
    case OP_BODY:
        return charset_search_casemapped(n->pat, "", 0) ||
               match_body(n, src, 0);
    case OP_TEXT:
        if (charset_search_casemapped(n->pat, "", 0))
            return 1;
        return match_body(n, src, 1);
    case OP_MODSEQ:
        return rec->modseq >= n->modseq;
    case OP_OLDER:
        return rec->internaldate <= n->t0;
    case OP_YOUNGER:
        return rec->internaldate >= n->t0;
    case OP_SAVED:
        return n->saved && seqset_contains(n->saved, rec->uid);
    case OP_SAVEDBEFORE:
        return save_date(rec) < n->t0;
    case OP_SAVEDON:
        return save_date(rec) >= n->t0 && save_date(rec) < n->t1;
    case OP_SAVEDSINCE:
        return save_date(rec) >= n->t0;
    }
    return 0;
}

int search_match(struct search_program *prog, const struct search_msg *m,
                 const struct search_source *src)
{
    return eval(prog->root, m, src);
}

int search_needs_source(const struct search_program *prog)
{
    return prog->needs_source;
}

int search_uses_modseq(const struct search_program *prog)
{
    return prog->uses_modseq;
}

static void rebase_node(struct search_node *n, int64_t now)
{
    for (; n; n = n->next) {
        if (n->op == OP_OLDER || n->op == OP_YOUNGER)
            n->t0 = now - n->num;
        rebase_node(n->child, now);
    }
}

int search_rebase_time(struct search_program *prog, int64_t now)
{
    if (!prog->uses_within)
        return 0;
    rebase_node(prog->root, now);
    return 1;
}

void search_free(struct search_program **progp)
{
    struct search_program *prog = *progp;

    if (!prog)
        return;
    node_free(prog->root);
    free(prog);
    *progp = NULL;
}
