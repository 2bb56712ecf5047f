/* cmd_fetch.c -- FETCH and UID FETCH (RFC 3501 6.4.5, 7.4.2), with the
 * MODSEQ item and the CHANGEDSINCE and VANISHED modifiers (RFC 7162),
 * BINARY[], BINARY.PEEK[] and BINARY.SIZE[] (RFC 3516), SAVEDATE (RFC
 * 8514) and PREVIEW (RFC 8970, text from preview.h).
 *
 * The whole request is parsed before anything is sent.  Flags come from
 * the view; dates, sizes, ENVELOPE and BODYSTRUCTURE from the index
 * record and the cache; only body sections map the message file, and
 * their bytes go from the mapping straight to the stream.
 */
#include "config.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "imap/imapd/imapd.h"
#include "imap/imapd/imapd_commands.h"
#include "imap/imapd/imapd_errors.h"
#include "imap/imapd/index.h"
#include "imap/imapd/preview.h"
#include "imap/store/append.h"
#include "imap/store/mailbox.h"
#include "imap/store/message.h"
#include "lib/charset.h"
#include "lib/log.h"
#include "lib/util.h"
#include "lib/xmalloc.h"

enum {
    F_UID = 1 << 0,
    F_FLAGS = 1 << 1,
    F_INTERNALDATE = 1 << 2,
    F_SIZE = 1 << 3,
    F_ENVELOPE = 1 << 4,
    F_BODYSTRUCTURE = 1 << 5,
    F_BODY = 1 << 6,
    F_MODSEQ = 1 << 7,
    F_EMAILID = 1 << 8,       /* RFC 8474 */
    F_THREADID = 1 << 9,
    F_SAVEDATE = 1 << 10,     /* RFC 8514 */
    F_PREVIEW = 1 << 11,      /* RFC 8970 */
};
/* Items answered from the view alone. */
#define F_VIEWONLY (F_UID | F_FLAGS | F_MODSEQ)

/* How many messages are read under one shared lock before it is let go
 * for writers waiting on it. */
#define LOCK_BATCH 256

/* What a section item sends. */
enum section_kind {
    SEC_BODY = 0,      /* BODY[...], RFC822.*: the bytes as stored */
    SEC_BINARY,        /* BINARY[...]: content transfer encoding undone */
    SEC_BINARY_SIZE,   /* BINARY.SIZE[...]: the length BINARY would send */
};

struct fetch_section {
    char *label;       /* as sent back: "BODY[1.TEXT]<0>", "RFC822" */
    char *spec;        /* for message_section(): "1.TEXT" */
    enum section_kind kind;
    int partial;
    uint32_t start, count;
};

struct fetch_req {
    unsigned items;
    struct fetch_section *secs;
    int nsecs, asecs;
    int setseen;       /* a non-PEEK body item is asked for */
    int changedsince;  /* CHANGEDSINCE given: only modseqs above `since` */
    uint64_t since;
    int vanished;      /* VANISHED modifier */
    int last_preview;  /* the item just parsed was PREVIEW */
};

static void req_fini(struct fetch_req *req)
{
    int i;

    for (i = 0; i < req->nsecs; i++) {
        free(req->secs[i].label);
        free(req->secs[i].spec);
    }
    free(req->secs);
}

static struct fetch_section *add_section(struct fetch_req *req)
{
    if (req->nsecs == req->asecs) {
        req->asecs = req->asecs ? req->asecs * 2 : 4;
        req->secs = xrealloc(req->secs, req->asecs * sizeof(*req->secs));
    }
    memset(&req->secs[req->nsecs], 0, sizeof(req->secs[0]));
    return &req->secs[req->nsecs++];
}

/* Is `spec` a section the grammar allows?  Checked once against an
 * empty message, so each message's answer only depends on its parts. */
static int section_valid(const char *spec)
{
    static struct message *empty;
    struct buf synth = BUF_INITIALIZER;
    size_t off, len;
    int r;

    /* section-part is nz-number *("." nz-number): the message module
     * would take a part 0 for a missing part, the grammar refuses it. */
    for (const char *p = spec; *p && *p != '('; p++)
        if (*p == '0' && (p == spec || p[-1] == '.'))
            return 0;
    if (!empty)
        empty = message_parse("\r\n", 2);
    if (!empty)
        return 0;
    r = message_section(empty, spec, &synth, &off, &len);
    buf_free(&synth);
    return r != MESSAGE_SECTION_BAD;
}

/* A syntax error at `c`, the byte just read: push it back so that
 * skipping the rest of the line starts at it (it may be the LF). */
static int give_back(struct imapd_session *s, int c)
{
    prot_ungetc(c, s->prot);
    return IMAPPARSE_SYNTAX;
}

/* Parse "<origin.count>" after its '<' into `sec`; *cp becomes the
 * character after '>'.  -1 on bad syntax, with the offending character
 * given back (in *cp) so the line can still be skipped. */
static int parse_partial(struct imapd_session *s, struct fetch_section *sec,
                         int *cp)
{
    unsigned long long n[2] = { 0, 0 };
    const char end[2] = { '.', '>' };
    int c = 0;

    for (int i = 0; i < 2; i++) {
        int digits = 0;

        while ((c = prot_getc(s->prot)) >= '0' && c <= '9' &&
               n[i] <= UINT32_MAX) {
            n[i] = n[i] * 10 + (unsigned)(c - '0');
            digits++;
        }
        if (!digits || c != end[i] || n[i] > UINT32_MAX ||
            (i == 1 && n[i] == 0)) {
            *cp = give_back(s, c);
            return -1;
        }
    }
    sec->partial = 1;
    sec->start = (uint32_t)n[0];
    sec->count = (uint32_t)n[1];
    *cp = prot_getc(s->prot);
    return 0;
}

/* Read "[section]<partial>" after "BODY" / "BODY.PEEK", or after
 * "BINARY" / "BINARY.PEEK" / "BINARY.SIZE" (`kind`); the '[' has been
 * read.  RFC 3516 has only part numbers inside BINARY's brackets; the
 * other section texts (TEXT, MIME, HEADER...) are taken there too, as
 * Dovecot does and the imaptest suite expects, with TEXT decoded when it
 * is the body of a single part.  Returns the next character, or a
 * negative IMAPPARSE code; on a grammar error s->parse.error says why. */
static int parse_section(struct imapd_session *s, struct fetch_req *req,
                         enum section_kind kind, int peek)
{
    struct buf spec = BUF_INITIALIZER, label = BUF_INITIALIZER;
    struct fetch_section *sec;
    int c, inlist = 0;

    for (;;) {
        c = prot_getc(s->prot);
        if (c == ']')
            break;
        if (c == '(') {
            /* A header-list of astrings. */
            buf_appendcstr(&spec, "(");
            inlist = 1;
            for (;;) {
                c = prot_getc(s->prot);
                if (c == ')')
                    break;
                if (c == ' ' && spec.s[spec.len - 1] != '(')
                    continue;
                if (c == EOF || c == '\r' || c == '\n' || c == ']') {
                    c = give_back(s, c);
                    goto bad;
                }
                prot_ungetc(c, s->prot);
                c = imapparse_astring(&s->parse, &s->arg2);
                if (c < 0)
                    goto out;
                if (spec.s[spec.len - 1] != '(')
                    buf_putc(&spec, ' ');
                buf_appendbuf(&spec, &s->arg2);
                if (c == ')')
                    break;
                if (c != ' ') {
                    c = give_back(s, c);
                    goto bad;
                }
            }
            buf_putc(&spec, ')');
            continue;
        }
        if (c == EOF || c == '\r' || c == '\n' || c == ' ' || inlist) {
            /* Only ']' may follow a header list; no spaces elsewhere but
             * before the list. */
            if (c == ' ' && !inlist) {
                buf_putc(&spec, ' ');
                continue;
            }
            c = give_back(s, c);
            goto bad;
        }
        buf_putc(&spec, (char)toupper(c));
    }
    if (!section_valid(buf_cstring(&spec))) {
        c = give_back(s, c);
        goto bad;
    }
    sec = add_section(req);
    sec->kind = kind;
    c = prot_getc(s->prot);
    if (c == '<' && kind != SEC_BINARY_SIZE) {
        if (parse_partial(s, sec, &c) < 0)
            goto bad;
    }
    buf_printf(&label, "%s[%s]",
               kind == SEC_BODY ? "BODY" :
               kind == SEC_BINARY ? "BINARY" : "BINARY.SIZE",
               buf_cstring(&spec));
    if (sec->partial)
        buf_printf(&label, "<%u>", sec->start);
    sec->label = buf_release(&label);
    sec->spec = buf_release(&spec);
    if (!peek)
        req->setseen = 1;
    goto out;
bad:
    snprintf(s->parse.error, sizeof(s->parse.error), "Invalid %s section",
             kind == SEC_BODY ? "body" : "binary");
out:
    buf_free(&spec);
    buf_free(&label);
    return c;
}


static void add_simple_section(struct fetch_req *req, const char *label,
                               const char *spec)
{
    struct fetch_section *sec = add_section(req);

    sec->label = xstrdup(label);
    sec->spec = xstrdup(spec);
}

/* One fetch-att; returns the character after it or a negative code. */
static int parse_att(struct imapd_session *s, struct fetch_req *req)
{
    struct buf *w = &s->arg1;
    const char *name;
    int c;

    buf_reset(w);
    for (;;) {
        c = prot_getc(s->prot);
        if (c == EOF)
            return IMAPPARSE_EOF;
        if (!isalnum(c) && c != '.')
            break;
        if (w->len > 64) {
            snprintf(s->parse.error, sizeof(s->parse.error),
                     "Invalid Fetch attribute");
            return give_back(s, c);
        }
        buf_putc(w, (char)toupper(c));
    }
    name = buf_cstring(w);
    req->last_preview = 0;
    if (c == '[' && (!strcmp(name, "BODY") || !strcmp(name, "BODY.PEEK")))
        return parse_section(s, req, SEC_BODY, !strcmp(name, "BODY.PEEK"));
    if (c == '[' && (!strcmp(name, "BINARY") || !strcmp(name, "BINARY.PEEK")))
        return parse_section(s, req, SEC_BINARY,
                             !strcmp(name, "BINARY.PEEK"));
    if (c == '[' && !strcmp(name, "BINARY.SIZE"))
        return parse_section(s, req, SEC_BINARY_SIZE, 1);

    if (!strcmp(name, "ALL"))
        req->items |= F_FLAGS | F_INTERNALDATE | F_SIZE | F_ENVELOPE;
    else if (!strcmp(name, "FAST"))
        req->items |= F_FLAGS | F_INTERNALDATE | F_SIZE;
    else if (!strcmp(name, "FULL"))
        req->items |= F_FLAGS | F_INTERNALDATE | F_SIZE | F_ENVELOPE | F_BODY;
    else if (!strcmp(name, "UID"))
        req->items |= F_UID;
    else if (!strcmp(name, "FLAGS"))
        req->items |= F_FLAGS;
    else if (!strcmp(name, "INTERNALDATE"))
        req->items |= F_INTERNALDATE;
    else if (!strcmp(name, "RFC822.SIZE"))
        req->items |= F_SIZE;
    else if (!strcmp(name, "ENVELOPE"))
        req->items |= F_ENVELOPE;
    else if (!strcmp(name, "BODYSTRUCTURE"))
        req->items |= F_BODYSTRUCTURE;
    else if (!strcmp(name, "BODY"))
        req->items |= F_BODY;
    else if (!strcmp(name, "MODSEQ"))
        req->items |= F_MODSEQ;
    else if (!strcmp(name, "EMAILID"))
        req->items |= F_EMAILID;
    else if (!strcmp(name, "THREADID"))
        req->items |= F_THREADID;
    else if (!strcmp(name, "SAVEDATE"))
        req->items |= F_SAVEDATE;
    else if (!strcmp(name, "PREVIEW")) {
        req->items |= F_PREVIEW;
        req->last_preview = 1;
    }
    else if (!strcmp(name, "RFC822")) {
        add_simple_section(req, "RFC822", "");
        req->setseen = 1;
    }
    else if (!strcmp(name, "RFC822.HEADER"))
        add_simple_section(req, "RFC822.HEADER", "HEADER");
    else if (!strcmp(name, "RFC822.TEXT")) {
        add_simple_section(req, "RFC822.TEXT", "TEXT");
        req->setseen = 1;
    }
    else {
        snprintf(s->parse.error, sizeof(s->parse.error),
                 "Invalid Fetch attribute %.64s", name);
        return give_back(s, c);
    }
    return c;
}

/* Is `word` a PREVIEW modifier (RFC 8970 4.1)?  LAZY is the only one,
 * and it changes nothing here: a preview is made from a bounded prefix
 * of one part, never an undue delay, so it is always sent. */
static int preview_mod(struct buf *word)
{
    return !strcasecmp(buf_cstring(word), "LAZY");
}

/* "(" preview-mod *(SP preview-mod) ")" after "PREVIEW SP", the '('
 * read; returns the character after ')' or a negative code. */
static int parse_preview_mods(struct imapd_session *s)
{
    int c;

    do {
        c = imapparse_atom(&s->parse, &s->arg2);
        if (c < 0)
            return c;
        if (!preview_mod(&s->arg2)) {
            snprintf(s->parse.error, sizeof(s->parse.error),
                     "Invalid PREVIEW modifier %.64s", buf_cstring(&s->arg2));
            return give_back(s, c);
        }
    } while (c == ' ');
    if (c != ')') {
        snprintf(s->parse.error, sizeof(s->parse.error),
                 "Invalid PREVIEW modifier list");
        return give_back(s, c);
    }
    return prot_getc(s->prot);
}

/* Parse the items after "FETCH set SP"; returns the character after
 * them or a negative code.  "PREVIEW (LAZY)" alone, outside a list, is
 * indistinguishable from PREVIEW followed by fetch modifiers until the
 * word inside is read: parse_modifiers() takes LAZY then. */
static int parse_items(struct imapd_session *s, struct fetch_req *req)
{
    int c = prot_getc(s->prot);

    if (c != '(') {
        prot_ungetc(c, s->prot);
        return parse_att(s, req);
    }
    for (;;) {
        c = parse_att(s, req);
        if (c < 0)
            return c;
        if (c == ' ' && req->last_preview) {
            c = prot_getc(s->prot);
            if (c == '(')
                c = parse_preview_mods(s);
            else {
                prot_ungetc(c, s->prot);
                c = ' ';
            }
            req->last_preview = 0;
            if (c < 0)
                return c;
        }
        if (c == ')')
            return prot_getc(s->prot);
        if (c != ' ') {
            snprintf(s->parse.error, sizeof(s->parse.error),
                     "Invalid Fetch attribute list");
            return give_back(s, c);
        }
    }
}

/* " (" fetch-modifier *(SP fetch-modifier) ")" after the items (RFC
 * 4466 2.4), the space read; returns the character after it or a
 * negative code with s->parse.error set. */
static int parse_modifiers(struct imapd_session *s, struct fetch_req *req)
{
    int c = prot_getc(s->prot);

    if (c != '(')
        goto bad;
    for (;;) {
        c = imapparse_atom(&s->parse, &s->arg1);
        if (c < 0)
            return c;
        if (!strcasecmp(buf_cstring(&s->arg1), "CHANGEDSINCE") &&
            !req->changedsince) {
            if (c != ' ')
                goto bad;
            c = imapparse_atom(&s->parse, &s->arg1);
            if (c < 0)
                return c;
            if (imapd_parse_modseq(buf_cstring(&s->arg1), 1, &req->since))
                goto bad;
            req->changedsince = 1;
        }
        else if (!strcasecmp(buf_cstring(&s->arg1), "VANISHED") &&
                 !req->vanished) {
            req->vanished = 1;
        }
        else if (req->last_preview && preview_mod(&s->arg1)) {
            /* FETCH set PREVIEW (LAZY): see parse_items(). */
        }
        else {
            snprintf(s->parse.error, sizeof(s->parse.error),
                     "Invalid Fetch modifier %.64s", buf_cstring(&s->arg1));
            return give_back(s, c);
        }
        if (c == ')')
            return prot_getc(s->prot);
        if (c != ' ')
            goto bad;
    }
bad:
    snprintf(s->parse.error, sizeof(s->parse.error), "Invalid Fetch modifier");
    return give_back(s, c);
}

/* RFC 3501 date-time: "dd-Mon-yyyy hh:mm:ss +zzzz" with a space-padded
 * day, in `zone` (minutes east), or the server's zone when that is
 * INDEX_ZONE_UNKNOWN. */
static void write_internaldate(struct buf *out, int64_t t, int zone)
{
    static const char *const mon[] = { "Jan", "Feb", "Mar", "Apr",
                                       "May", "Jun", "Jul", "Aug",
                                       "Sep", "Oct", "Nov", "Dec" };
    struct tm tm;
    long off;

    if (zone == INDEX_ZONE_UNKNOWN)
        zone = util_local_zone(t);
    util_zone_tm(t, zone, &tm);
    off = zone;
    buf_printf(out, "\"%2d-%s-%04d %02d:%02d:%02d %c%02ld%02ld\"",
               tm.tm_mday, mon[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour,
               tm.tm_min, tm.tm_sec, off < 0 ? '-' : '+',
               labs(off) / 60, labs(off) % 60);
}

struct fetch_ctx {
    struct imapd_session *s;
    struct index_view *v;
    const struct fetch_req *req;
    struct buf out;
    struct buf synth;
    struct buf decoded;   /* a BINARY section after decoding */
    int locked;
    int nlocked;
    int condstore;     /* CONDSTORE enabled: UID and MODSEQ with \Seen */
};

static int ctx_lock(struct fetch_ctx *fc)
{
    if (fc->locked && ++fc->nlocked >= LOCK_BATCH) {
        index_unlock(fc->v);
        fc->locked = 0;
    }
    if (!fc->locked) {
        if (index_lock(fc->v))
            return -1;
        fc->locked = 1;
        fc->nlocked = 0;
    }
    return 0;
}

static void ctx_unlock(struct fetch_ctx *fc)
{
    if (fc->locked)
        index_unlock(fc->v);
    fc->locked = 0;
}

/* The part a binary section names (spec "" is the message as a whole,
 * sent as it is), or MESSAGE_NONE. */
/* Does `spec` name a part by its numbers alone ("", "1", "2.1")? */
static int spec_is_part(const char *spec)
{
    return strspn(spec, "0123456789.") == strlen(spec);
}

/* The part whose content transfer encoding a binary section undoes: the
 * part itself for part numbers; for [TEXT] / [n.TEXT] the root of that
 * message, whose body TEXT is; MESSAGE_NONE for the whole message, for
 * header sections (sent as they are) and for a part that is not there. */
static uint32_t binary_part(const struct message *msg, const char *spec)
{
    size_t n = strlen(spec);
    uint32_t p;

    if (!n)
        return MESSAGE_NONE;
    if (spec_is_part(spec))
        return message_part_lookup(msg, spec);
    if (strcmp(spec, "TEXT") &&
        (n < 5 || strcmp(spec + n - 5, ".TEXT")))
        return MESSAGE_NONE;
    if (n == 4)
        return 0;
    char *owner = xstrndup(spec, n - 5);
    p = spec_is_part(owner) ? message_part_lookup(msg, owner) : MESSAGE_NONE;
    free(owner);
    if (p != MESSAGE_NONE && (msg->parts[p].flags & MESSAGE_PART_RFC822))
        return msg->parts[p].first_child;
    return MESSAGE_NONE;
}

/* Can every binary section of the request be decoded for `msg`?  RFC
 * 3516 wants the whole command refused otherwise. */
static int binary_decodable(const struct fetch_req *req,
                            const struct message *msg)
{
    for (int i = 0; msg && i < req->nsecs; i++) {
        const struct fetch_section *sec = &req->secs[i];
        uint32_t part;

        if (sec->kind == SEC_BODY)
            continue;
        part = binary_part(msg, sec->spec);
        if (part != MESSAGE_NONE &&
            !(msg->parts[part].flags &
              (MESSAGE_PART_MULTIPART | MESSAGE_PART_RFC822)) &&
            msg->parts[part].enc == CHARSET_ENC_UNKNOWN)
            return 0;
    }
    return 1;
}

int imapd_binary_section(const struct message *msg, const char *spec,
                         struct buf *synth, struct buf *decoded,
                         const char **data, size_t *len, uint32_t *decoded_part)
{
    const struct message_part *part;
    const char *type;
    size_t off = 0, i;
    uint32_t idx;
    int r;

    *data = "";
    *len = 0;
    if (decoded_part)
        *decoded_part = MESSAGE_NONE;
    if (!*spec) {
        *data = msg->base;
        *len = msg->len;
        return 1;
    }
    idx = binary_part(msg, spec);
    if (idx == MESSAGE_NONE && spec_is_part(spec))
        return 0;
    buf_reset(synth);
    r = message_section(msg, spec, synth, &off, len);
    if (r == MESSAGE_SECTION_RANGE) {
        *data = msg->base + off;
    } else if (r == MESSAGE_SECTION_SYNTH) {
        *data = synth->s ? synth->s : "";
        *len = synth->len;
    } else {
        *len = 0;
        return 1;
    }
    if (idx == MESSAGE_NONE)
        return 1;   /* a header section: nothing to decode */
    part = &msg->parts[idx];
    if ((part->flags & (MESSAGE_PART_MULTIPART | MESSAGE_PART_RFC822)) ||
        part->enc <= CHARSET_ENC_BINARY)
        return 1;
    if (part->enc == CHARSET_ENC_UNKNOWN)
        return -1;

    buf_reset(decoded);
    charset_decode_transfer(decoded, *data, *len, part->enc);
    type = message_string(msg, part->type);
    if (type && !strcasecmp(type, "TEXT")) {
        /* Text goes out with CRLF line ends whatever was encoded. */
        struct buf crlf = BUF_INITIALIZER;

        for (i = 0; i < decoded->len; i++) {
            char ch = decoded->s[i];

            if (ch == '\n' && (i == 0 || decoded->s[i - 1] != '\r'))
                buf_putc(&crlf, '\r');
            buf_putc(&crlf, ch);
        }
        buf_free(decoded);
        *decoded = crlf;
    }
    *data = decoded->s ? decoded->s : "";
    *len = decoded->len;
    if (decoded_part)
        *decoded_part = idx;
    return 1;
}

/* Point *data and *len at the decoded content of a binary section; returns
 * 0 when the part does not exist (sent as NIL), else 1.  The request was
 * checked with binary_decodable() first. */
static int binary_content(struct fetch_ctx *fc, const struct message *msg,
                          const char *spec, const char **data, size_t *len)
{
    *data = "";
    *len = 0;
    if (!msg)
        return 1;
    return imapd_binary_section(msg, spec, &fc->synth, &fc->decoded, data,
                                len, NULL) != 0;
}

static void write_binary_section(struct fetch_ctx *fc, struct message *msg,
                                 const struct fetch_section *sec,
                                 const char *sep)
{
    struct protstream *p = fc->s->prot;
    const char *data;
    size_t len;
    int exists = binary_content(fc, msg, sec->spec, &data, &len);

    prot_printf(p, "%s%s ", sep, sec->label);
    if (sec->kind == SEC_BINARY_SIZE) {
        prot_printf(p, "%zu", exists ? len : (size_t)0);
        return;
    }
    if (!exists) {
        prot_puts(p, "NIL");
        return;
    }
    if (sec->partial) {
        if (sec->start >= len) {
            len = 0;
        } else {
            data += sec->start;
            len -= sec->start;
            if (len > sec->count)
                len = sec->count;
        }
    }
    if (!len) {
        prot_puts(p, "\"\"");
        return;
    }
    /* A literal8 only when there is a NUL, as RFC 3516 asks. */
    prot_printf(p, "%s{%zu}\r\n", memchr(data, 0, len) ? "~" : "", len);
    prot_write(p, data, len);
}

/* Write one body section of a message mapped at base/len. */
static void write_section(struct fetch_ctx *fc, struct message *msg,
                          const struct fetch_section *sec, const char *sep)
{
    struct protstream *p = fc->s->prot;
    const char *data = "";
    size_t off = 0, len = 0;
    int r;

    if (sec->kind != SEC_BODY) {
        write_binary_section(fc, msg, sec, sep);
        return;
    }
    buf_reset(&fc->synth);
    r = msg ? message_section(msg, sec->spec, &fc->synth, &off, &len)
            : MESSAGE_SECTION_EMPTY;
    if (r == MESSAGE_SECTION_RANGE) {
        data = msg->base + off;
    } else if (r == MESSAGE_SECTION_SYNTH) {
        data = fc->synth.s;
        len = fc->synth.len;
    } else {
        len = 0;
    }
    if (sec->partial) {
        if (sec->start >= len) {
            len = 0;
        } else {
            data += sec->start;
            len -= sec->start;
            if (len > sec->count)
                len = sec->count;
        }
    }
    prot_printf(p, "%s%s ", sep, sec->label);
    if (!len) {
        prot_puts(p, "\"\"");
        return;
    }
    prot_printf(p, "{%zu}\r\n", len);
    prot_write(p, data, len);
}

/* ENVELOPE, BODYSTRUCTURE and BODY as the cache holds them, ready-made:
 * append_build_cache wrote them with the same message_write_* calls as
 * below.  A FETCH that wants nothing else of the structure then skips
 * parsing the cached structure into a struct message. */
struct cached_strings {
    const char *env, *bs, *body;
    size_t envlen, bslen, bodylen;
};

static int cached_strings(struct index_view *v, const struct index_record *rec,
                          unsigned items, struct cached_strings *cs)
{
    const char *data;
    size_t datalen;

    if (mailbox_cache_payload(index_mailbox(v), rec, &data, &datalen))
        return -1;
    if ((items & F_ENVELOPE) &&
        append_cache_item(data, datalen, APPEND_CACHE_ENVELOPE, &cs->env,
                          &cs->envlen))
        return -1;
    if ((items & F_BODYSTRUCTURE) &&
        append_cache_item(data, datalen, APPEND_CACHE_BODYSTRUCTURE, &cs->bs,
                          &cs->bslen))
        return -1;
    if ((items & F_BODY) &&
        append_cache_item(data, datalen, APPEND_CACHE_BODY, &cs->body,
                          &cs->bodylen))
        return -1;
    return 0;
}

/* Write "* n FETCH (...)" for one message; `seen_now` says this FETCH
 * set its \Seen, so FLAGS goes with it.  0, -1 on a store error, -2
 * (nothing written) when a BINARY section has an unknown encoding. */
static int fetch_one(struct fetch_ctx *fc, uint32_t msgno, int seen_now)
{
    const struct fetch_req *req = fc->req;
    struct index_view *v = fc->v;
    struct protstream *p = fc->s->prot;
    struct index_record rec;
    struct message *msg = NULL;
    const char *base = NULL;
    size_t len = 0;
    int need_rec = req->items & ~F_VIEWONLY || req->nsecs;
    int need_struct = req->items & (F_ENVELOPE | F_BODYSTRUCTURE | F_BODY |
                                    F_PREVIEW);
    int need_bytes = req->nsecs || (req->items & F_PREVIEW);
    struct cached_strings cs;
    int use_cached = 0;
    const char *sep = "";
    int i, r;

    buf_reset(&fc->out);
    if (need_rec) {
        if (ctx_lock(fc) < 0)
            return -1;
        if ((r = index_record(v, msgno, &rec))) {
            /* Repacked away since the client heard of it. */
            return r == MAILBOX_ENOENT ? 0 : -1;
        }
        memset(&cs, 0, sizeof(cs));
        if (need_struct && !need_bytes &&
            !cached_strings(v, &rec, req->items, &cs))
            use_cached = 1;
        else if ((need_struct || req->nsecs) &&
                 index_structure(v, msgno, &msg))
            msg = NULL;
        /* Bodies may be long to send: let writers in meanwhile. */
        if (need_bytes)
            ctx_unlock(fc);
    }
    if (need_bytes) {
        /* Message bytes: map the file and attach them to the structure
         * (which came from the cache without them). */
        if (index_map(v, msgno, &base, &len) == 0) {
            if (msg && msg->len != len)
                message_free(&msg);
            if (!msg)
                msg = message_parse(base, len);
            else
                msg->base = base;
        }
        else {
            message_free(&msg);
            base = NULL;
        }
    }
    if (base && !binary_decodable(req, msg)) {
        mailbox_unmap_message(base, len);
        message_free(&msg);
        return -2;
    }
    if ((req->items & F_UID) || (seen_now && fc->condstore)) {
        buf_printf(&fc->out, "UID %u", index_uid(v, msgno));
        sep = " ";
    }
    if ((req->items & F_FLAGS) || seen_now) {
        buf_printf(&fc->out, "%sFLAGS ", sep);
        index_write_flags(v, msgno, &fc->out);
        sep = " ";
    }
    if ((req->items & F_MODSEQ) || (seen_now && fc->condstore)) {
        buf_printf(&fc->out, "%sMODSEQ (%llu)", sep,
                   (unsigned long long)index_msg(v, msgno)->modseq);
        sep = " ";
    }
    if (req->items & F_INTERNALDATE) {
        buf_printf(&fc->out, "%sINTERNALDATE ", sep);
        write_internaldate(&fc->out, rec.internaldate, rec.internaldate_zone);
        sep = " ";
    }
    if (req->items & F_SIZE) {
        buf_printf(&fc->out, "%sRFC822.SIZE %u", sep, rec.size);
        sep = " ";
    }
    if (req->items & F_SAVEDATE) {
        /* Every record has one; one without (never written so) is
         * taken as saved when it arrived, as SEARCH SAVEDON does. */
        buf_printf(&fc->out, "%sSAVEDATE ", sep);
        /* RFC 8514: the save date, in the server's zone. */
        write_internaldate(&fc->out,
                           rec.savedate ? rec.savedate : rec.internaldate,
                           INDEX_ZONE_UNKNOWN);
        sep = " ";
    }
    if (req->items & F_EMAILID) {
        /* RFC 8474: the same bytes have the same id in every mailbox, as
         * Cyrus derives it from the GUID. */
        buf_printf(&fc->out, "%sEMAILID (M", sep);
        for (int k = 0; k < 12; k++)
            buf_printf(&fc->out, "%02x", rec.guid[k]);
        buf_putc(&fc->out, ')');
        sep = " ";
    }
    if (req->items & F_THREADID) {
        /* No thread ids are kept: NIL, as RFC 8474 5.2 allows. */
        buf_printf(&fc->out, "%sTHREADID NIL", sep);
        sep = " ";
    }
    if (req->items & F_ENVELOPE) {
        buf_printf(&fc->out, "%sENVELOPE ", sep);
        if (use_cached)
            buf_appendmap(&fc->out, cs.env, cs.envlen);
        else if (msg)
            message_write_envelope(&fc->out, msg, 0);
        else
            buf_appendcstr(&fc->out, "(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)");
        sep = " ";
    }
    if (req->items & F_BODYSTRUCTURE) {
        buf_printf(&fc->out, "%sBODYSTRUCTURE ", sep);
        if (use_cached)
            buf_appendmap(&fc->out, cs.bs, cs.bslen);
        else if (msg)
            message_write_bodystructure(&fc->out, msg, 0, 1);
        else
            buf_appendcstr(&fc->out, "(\"TEXT\" \"PLAIN\" NIL NIL NIL "
                                     "\"7BIT\" 0 0)");
        sep = " ";
    }
    if (req->items & F_BODY) {
        buf_printf(&fc->out, "%sBODY ", sep);
        if (use_cached)
            buf_appendmap(&fc->out, cs.body, cs.bodylen);
        else if (msg)
            message_write_bodystructure(&fc->out, msg, 0, 0);
        else
            buf_appendcstr(&fc->out, "(\"TEXT\" \"PLAIN\" NIL NIL NIL "
                                     "\"7BIT\" 0 0)");
        sep = " ";
    }
    if (req->items & F_PREVIEW) {
        /* RFC 8970 3.2: never NIL without LAZY; "" when there is no
         * text (or the file cannot be read). */
        buf_reset(&fc->synth);
        if (base && msg)
            preview_build(msg, &fc->synth);
        buf_printf(&fc->out, "%sPREVIEW ", sep);
        message_write_string(&fc->out, fc->synth.s ? fc->synth.s : "",
                             fc->synth.len);
        sep = " ";
    }
    prot_printf(p, "* %u FETCH (", msgno);
    prot_write(p, fc->out.s ? fc->out.s : "", fc->out.len);
    for (i = 0; i < req->nsecs; i++) {
        write_section(fc, base ? msg : NULL, &req->secs[i], sep);
        sep = " ";
    }
    prot_puts(p, ")\r\n");
    if (base)
        mailbox_unmap_message(base, len);
    message_free(&msg);
    return 0;
}

/* UID FETCH ... (CHANGEDSINCE n VANISHED): "* VANISHED (EARLIER)" for
 * the UIDs of the request expunged since n, before any FETCH.  "*" here
 * is UIDNEXT-1, so expunges above the highest UID left are included. */
static void write_vanished(struct imapd_session *s, struct index_view *v,
                           const char *set, const struct fetch_req *req)
{
    struct seqset uids = SEQSET_INITIALIZER, gone = SEQSET_INITIALIZER;
    struct buf out = BUF_INITIALIZER;

    if (seqset_parse(&uids, set,
                     index_uidnext(v) - 1) == 0 &&
        index_vanished(v, &uids, req->since, 0, &gone) == 0 && gone.count) {
        seqset_format(&gone, &out);
        prot_printf(s->prot, "* VANISHED (EARLIER) %s\r\n",
                    buf_cstring(&out));
    }
    seqset_fini(&uids);
    seqset_fini(&gone);
    buf_free(&out);
}

void cmd_fetch(struct imapd_session *s, struct imapd_cmd *cmd)
{
    struct index_view *v = s->selected;
    struct fetch_req req;
    struct seqset msgnos = SEQSET_INITIALIZER, seen_now = SEQSET_INITIALIZER;
    struct fetch_ctx fc;
    char *rawset = NULL;
    size_t i;
    int c, r;

    memset(&req, 0, sizeof(req));
    if (cmd->c != ' ') {
        imapd_args_missing(s, cmd, cmd->c);
        return;
    }
    c = imapparse_word(&s->parse, &s->arg1);
    if (c < 0) {
        imapd_args_error(s, cmd, c, NULL);
        return;
    }
    if (c != ' ') {
        imapd_args_missing(s, cmd, c);
        return;
    }
    rawset = xstrdup(buf_cstring(&s->arg1));
    r = index_parse_set(v, rawset, cmd->uid, &msgnos);
    if (r < 0) {
        imapd_bad(s, cmd, c, "Invalid sequence in %s", cmd->def->name);
        goto out;
    }
    c = parse_items(s, &req);
    if (c < 0) {
        if (c == IMAPPARSE_SYNTAX)
            imapd_bad(s, cmd, c, "%s", s->parse.error[0] ? s->parse.error :
                                  "Invalid Fetch attribute");
        else
            imapd_args_error(s, cmd, c, NULL);
        goto out;
    }
    if (!req.items && !req.nsecs) {
        imapd_bad(s, cmd, c, "Invalid Fetch attribute");
        goto out;
    }
    if (c == ' ') {
        int after_preview = req.last_preview;

        c = parse_modifiers(s, &req);
        req.last_preview = 0;
        /* "PREVIEW (LAZY) (CHANGEDSINCE n)": modifiers after the
         * PREVIEW ones. */
        if (c == ' ' && after_preview)
            c = parse_modifiers(s, &req);
        if (c < 0) {
            if (c == IMAPPARSE_SYNTAX)
                imapd_bad(s, cmd, c, "%s", s->parse.error);
            else
                imapd_args_error(s, cmd, c, NULL);
            goto out;
        }
    }
    if (imapd_args_end(s, cmd, c) < 0)
        goto out;
    /* RFC 7162 3.2.6: VANISHED only in UID FETCH, with CHANGEDSINCE,
     * once QRESYNC is enabled. */
    if (req.vanished && (!cmd->uid || !req.changedsince ||
                         !(s->enabled & IMAPD_EXT_QRESYNC))) {
        prot_printf(s->prot, "%s BAD %s\r\n", cmd->tag,
                    !cmd->uid ? "VANISHED only allowed in UID FETCH" :
                    !req.changedsince ? "VANISHED requires CHANGEDSINCE" :
                                        "QRESYNC not enabled");
        goto out;
    }
    if (cmd->uid)
        req.items |= F_UID;
    if (req.changedsince)
        req.items |= F_MODSEQ;
    if (req.items & F_MODSEQ)
        imapd_condstore_enable(s);
    if (req.vanished)
        write_vanished(s, v, rawset, &req);

    /* Set \Seen first, in one transaction, so the responses show it. */
    if (req.setseen && (index_write_rights(v) & ACL_SETSEEN)) {
        int locked = 0;

        for (i = 0; i < msgnos.count; i++) {
            uint32_t m;
            for (m = msgnos.ranges[i].low; m <= msgnos.ranges[i].high; m++) {
                const struct index_msg *im = index_msg(v, m);
                int changed = 0;

                if (!im || im->expunged || (im->system_flags & FLAG_SEEN))
                    continue;
                if (!locked) {
                    if (index_lock_exclusive(v))
                        break;
                    locked = 1;
                }
                if (index_mark_seen(v, m, &changed) == 0 && changed)
                    seqset_add(&seen_now, m);
            }
        }
        if (locked && index_commit(v))
            log_error("%s: cannot record \\Seen", index_intname(v));
    }

    memset(&fc, 0, sizeof(fc));
    fc.s = s;
    fc.v = v;
    fc.req = &req;
    fc.condstore = !!(s->enabled & IMAPD_EXT_CONDSTORE);
    for (i = 0; i < msgnos.count && !prot_error(s->prot); i++) {
        uint32_t m;
        for (m = msgnos.ranges[i].low; m <= msgnos.ranges[i].high; m++) {
            if (req.changedsince && !seqset_contains(&seen_now, m) &&
                index_msg(v, m)->modseq <= req.since)
                continue;
            r = fetch_one(&fc, m, seqset_contains(&seen_now, m));
            if (r < 0) {
                ctx_unlock(&fc);
                buf_free(&fc.out);
                buf_free(&fc.synth);
                buf_free(&fc.decoded);
                imapd_no(s, cmd, r == -2 ? IMAPD_ERR_UNKNOWNCTE :
                                           IMAPD_ERR_IOERROR);
                goto out;
            }
        }
    }
    ctx_unlock(&fc);
    buf_free(&fc.out);
    buf_free(&fc.synth);
    buf_free(&fc.decoded);
    imapd_ok(s, cmd);
out:
    free(rawset);
    seqset_fini(&msgnos);
    seqset_fini(&seen_now);
    req_fini(&req);
}

/* --- fetch attributes kept for later (NOTIFY MessageNew, RFC 5465) --- */

struct imapd_fetch_att {
    struct fetch_req req;
};

int imapd_fetch_att_parse(struct imapd_session *s,
                          struct imapd_fetch_att **fap)
{
    struct imapd_fetch_att *fa = xzmalloc(sizeof(*fa));
    int c = parse_items(s, &fa->req);

    if (c >= 0 && !fa->req.items && !fa->req.nsecs) {
        snprintf(s->parse.error, sizeof(s->parse.error),
                 "Invalid Fetch attribute");
        c = give_back(s, c);
    }
    if (c < 0) {
        imapd_fetch_att_free(&fa);
        return c;
    }
    *fap = fa;
    return c;
}

void imapd_fetch_att_free(struct imapd_fetch_att **fap)
{
    if (!*fap)
        return;
    req_fini(&(*fap)->req);
    free(*fap);
    *fap = NULL;
}

void imapd_fetch_att_send(struct imapd_session *s,
                          const struct imapd_fetch_att *fa, uint32_t first,
                          uint32_t last)
{
    struct fetch_req req = fa->req;
    struct fetch_ctx fc;
    uint32_t m;

    if (!s->selected)
        return;
    /* The client numbers messages it may not know yet by UID. */
    req.items |= F_UID;
    if (s->enabled & IMAPD_EXT_CONDSTORE)
        req.items |= F_MODSEQ;
    memset(&fc, 0, sizeof(fc));
    fc.s = s;
    fc.v = s->selected;
    fc.req = &req;
    fc.condstore = !!(s->enabled & IMAPD_EXT_CONDSTORE);
    for (m = first; m && m <= last && !prot_error(s->prot); m++) {
        const struct index_msg *im = index_msg(fc.v, m);

        if (!im || im->expunged)
            continue;
        /* Nothing is marked \Seen: the client did not ask to read. */
        if (fetch_one(&fc, m, 0) < 0)
            break;
    }
    ctx_unlock(&fc);
    buf_free(&fc.out);
    buf_free(&fc.synth);
    buf_free(&fc.decoded);
}
