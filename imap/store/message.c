/* message.c -- parse an RFC 5322 / MIME message held in memory. */
#include "config.h"

#include <ctype.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "imap/store/message.h"
#include "lib/charset.h"
#include "lib/xmalloc.h"

/* ---- storage --------------------------------------------------------- */

static uint32_t pool_add(struct message *msg, const char *s, size_t len)
{
    const char *nul = memchr(s, '\0', len);
    if (nul) len = (size_t)(nul - s);
    uint32_t off = (uint32_t)msg->pool.len;
    buf_appendmap(&msg->pool, s, len);
    buf_putc(&msg->pool, '\0');
    return off;
}

static uint32_t pool_add_upper(struct message *msg, const char *s, size_t len)
{
    uint32_t off = pool_add(msg, s, len);
    for (char *p = msg->pool.s + off; *p; p++) *p = (char)toupper((unsigned char)*p);
    return off;
}

/* The unfolded value: CR and LF removed, outer blanks trimmed. */
static uint32_t pool_add_unfolded(struct message *msg, const char *s, size_t len)
{
    while (len && (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')) {
        s++;
        len--;
    }
    while (len && isspace((unsigned char)s[len - 1])) len--;
    uint32_t off = (uint32_t)msg->pool.len;
    buf_ensure(&msg->pool, len + 1);
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '\0') break;
        if (s[i] != '\r' && s[i] != '\n') msg->pool.s[msg->pool.len++] = s[i];
    }
    buf_putc(&msg->pool, '\0');
    return off;
}

const char *message_string(const struct message *msg, uint32_t off)
{
    if (!off || off >= msg->pool.len) return NULL;
    return msg->pool.s + off;
}

static uint32_t part_new(struct message *msg)
{
    if (msg->nparts >= MESSAGE_MAX_PARTS) return MESSAGE_NONE;
    if (msg->nparts == msg->parts_alloc) {
        msg->parts_alloc = msg->parts_alloc ? msg->parts_alloc * 2 : 8;
        msg->parts = xrealloc(msg->parts, msg->parts_alloc * sizeof(*msg->parts));
    }
    struct message_part *p = &msg->parts[msg->nparts];
    memset(p, 0, sizeof(*p));
    p->parent = p->first_child = p->next_sibling = MESSAGE_NONE;
    return msg->nparts++;
}

static void param_add(struct message *msg, uint32_t name, uint32_t value)
{
    if (msg->nparams == msg->params_alloc) {
        msg->params_alloc = msg->params_alloc ? msg->params_alloc * 2 : 16;
        msg->params = xrealloc(msg->params, msg->params_alloc * sizeof(*msg->params));
    }
    msg->params[msg->nparams].name = name;
    msg->params[msg->nparams].value = value;
    msg->nparams++;
}

static struct message *message_new(const char *base, size_t len)
{
    struct message *msg = xzmalloc(sizeof(*msg));
    msg->base = base;
    msg->len = len;
    buf_putc(&msg->pool, '\0');  /* offset 0 stands for NIL */
    return msg;
}

void message_free(struct message **msgp)
{
    struct message *msg = *msgp;
    if (!msg) return;
    free(msg->parts);
    free(msg->params);
    buf_free(&msg->pool);
    free(msg);
    *msgp = NULL;
}

/* ---- header fields ---------------------------------------------------- */

struct hdr_field {
    const char *start;    /* first byte of the field */
    const char *name;
    size_t namelen;
    const char *value;    /* after the colon */
    const char *vend;     /* end of the value, before the final line break */
    const char *next;     /* first byte after the field */
};

/* Step to the next field of the header block [*pp, end); 0 at the blank
 * line or the end.  Lines that are not fields are skipped. */
static int hdr_next(const char **pp, const char *end, struct hdr_field *f)
{
    const char *p = *pp;
    while (p < end) {
        if (*p == '\n' || (*p == '\r' && (p + 1 == end || p[1] == '\n'))) return 0;
        const char *line = p;
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        p = nl ? nl + 1 : end;
        /* Continuation lines belong to this field. */
        while (p < end && (*p == ' ' || *p == '\t')) {
            nl = memchr(p, '\n', (size_t)(end - p));
            p = nl ? nl + 1 : end;
        }
        const char *vend = p;
        if (vend > line && vend[-1] == '\n') vend--;
        if (vend > line && vend[-1] == '\r') vend--;
        const char *colon = memchr(line, ':', (size_t)(vend - line));
        if (!colon || colon == line || *line == ' ' || *line == '\t') continue;
        const char *ne = colon;
        while (ne > line && (ne[-1] == ' ' || ne[-1] == '\t')) ne--;
        if (ne == line) continue;
        f->start = line;
        f->name = line;
        f->namelen = (size_t)(ne - line);
        f->value = colon + 1;
        f->vend = vend;
        f->next = p;
        *pp = p;
        return 1;
    }
    *pp = p;
    return 0;
}

static int field_is(const struct hdr_field *f, const char *name)
{
    return strlen(name) == f->namelen && !strncasecmp(f->name, name, f->namelen);
}

static void unfold_into(struct buf *out, const char *s, size_t len)
{
    while (len && (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')) {
        s++;
        len--;
    }
    while (len && isspace((unsigned char)s[len - 1])) len--;
    for (size_t i = 0; i < len; i++) {
        if (s[i] != '\r' && s[i] != '\n') buf_putc(out, s[i]);
    }
}

int message_header_get(const char *hdr, size_t hdrlen, const char *name,
                       struct buf *value)
{
    const char *p = hdr, *end = hdr + hdrlen;
    struct hdr_field f;
    while (hdr_next(&p, end, &f)) {
        if (field_is(&f, name)) {
            buf_reset(value);
            unfold_into(value, f.value, (size_t)(f.vend - f.value));
            buf_cstring(value);
            return 1;
        }
    }
    return 0;
}

int message_header_getall(const char *hdr, size_t hdrlen, const char *name,
                          strarray_t *values)
{
    const char *p = hdr, *end = hdr + hdrlen;
    struct hdr_field f;
    struct buf v = BUF_INITIALIZER;
    int n = 0;
    while (hdr_next(&p, end, &f)) {
        if (field_is(&f, name)) {
            buf_reset(&v);
            unfold_into(&v, f.value, (size_t)(f.vend - f.value));
            strarray_append(values, buf_cstring(&v));
            n++;
        }
    }
    buf_free(&v);
    return n;
}

/* ---- RFC 2045 lexical analysis ---------------------------------------- */

struct lex {
    const char *p, *end;
};

static void lex_skip_cfws(struct lex *l)
{
    while (l->p < l->end) {
        char c = *l->p;
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
            l->p++;
        } else if (c == '(') {
            int depth = 0;
            while (l->p < l->end) {
                c = *l->p++;
                if (c == '\\' && l->p < l->end) l->p++;
                else if (c == '(') depth++;
                else if (c == ')' && --depth == 0) break;
            }
        } else {
            break;
        }
    }
}

static int is_tspecial(char c)
{
    return strchr("()<>@,;:\\\"/[]?=", c) != NULL;
}

/* An RFC 2045 token; returns its length (0 if none). */
static size_t lex_token(struct lex *l, const char **tok)
{
    const char *s = l->p;
    while (l->p < l->end && (unsigned char)*l->p > ' ' && *l->p != 0x7F &&
           !is_tspecial(*l->p))
        l->p++;
    *tok = s;
    return (size_t)(l->p - s);
}

/* A parameter value: a quoted-string, or (tolerantly) anything up to the
 * next ";" or comment, blanks trimmed. */
static void lex_value(struct lex *l, struct buf *out)
{
    buf_reset(out);
    if (l->p < l->end && *l->p == '"') {
        l->p++;
        while (l->p < l->end && *l->p != '"') {
            if (*l->p == '\\' && l->p + 1 < l->end) l->p++;
            if (*l->p != '\r' && *l->p != '\n') buf_putc(out, *l->p);
            l->p++;
        }
        if (l->p < l->end) l->p++;
        return;
    }
    const char *s = l->p;
    while (l->p < l->end && *l->p != ';' && *l->p != '(') l->p++;
    const char *e = l->p;
    while (e > s && isspace((unsigned char)e[-1])) e--;
    for (const char *c = s; c < e; c++) {
        if (*c != '\r' && *c != '\n') buf_putc(out, *c);
    }
}

/* Parse ";attr=value" pairs into msg->params; returns the count. */
static uint32_t parse_params(struct message *msg, struct lex *l)
{
    struct buf val = BUF_INITIALIZER;
    uint32_t n = 0;
    for (;;) {
        lex_skip_cfws(l);
        if (l->p >= l->end) break;
        if (*l->p == ';') {
            l->p++;
            continue;
        }
        const char *name;
        size_t namelen = lex_token(l, &name);
        lex_skip_cfws(l);
        if (namelen && l->p < l->end && *l->p == '=') {
            l->p++;
            lex_skip_cfws(l);
            lex_value(l, &val);
            uint32_t no = pool_add_upper(msg, name, namelen);
            param_add(msg, no, pool_add(msg, val.s ? val.s : "", val.len));
            n++;
        }
        /* Skip whatever garbage precedes the next parameter. */
        while (l->p < l->end && *l->p != ';') {
            if (*l->p == '"') {
                lex_value(l, &val);
            } else {
                l->p++;
            }
        }
    }
    buf_free(&val);
    return n;
}

static void parse_content_type(struct message *msg, uint32_t idx,
                               const char *s, size_t len)
{
    struct lex l = { s, s + len };
    const char *type, *sub;
    lex_skip_cfws(&l);
    size_t tlen = lex_token(&l, &type);
    lex_skip_cfws(&l);
    if (!tlen || l.p >= l.end || *l.p != '/') return;
    l.p++;
    lex_skip_cfws(&l);
    size_t slen = lex_token(&l, &sub);
    if (!slen) return;
    uint32_t first = msg->nparams;
    uint32_t n = parse_params(msg, &l);
    struct message_part *p = &msg->parts[idx];
    p->type = pool_add_upper(msg, type, tlen);
    p->subtype = pool_add_upper(msg, sub, slen);
    p->params = first;
    p->nparams = n;
}

static void parse_disposition(struct message *msg, uint32_t idx,
                              const char *s, size_t len)
{
    struct lex l = { s, s + len };
    const char *type;
    lex_skip_cfws(&l);
    size_t tlen = lex_token(&l, &type);
    if (!tlen) return;
    uint32_t first = msg->nparams;
    uint32_t n = parse_params(msg, &l);
    struct message_part *p = &msg->parts[idx];
    p->disposition = pool_add_upper(msg, type, tlen);
    p->disp_params = first;
    p->ndisp_params = n;
}

static uint32_t param_find(const struct message *msg, uint32_t first,
                           uint32_t n, const char *name)
{
    for (uint32_t i = first; i < first + n; i++) {
        if (!strcasecmp(msg->pool.s + msg->params[i].name, name)) return i;
    }
    return MESSAGE_NONE;
}

/* ---- the MIME tree ---------------------------------------------------- */

enum hfield {
    HF_CTYPE, HF_CTE, HF_CID, HF_CDESC, HF_CMD5, HF_CDISP, HF_CLANG, HF_CLOC,
    HF_ENV  /* + enum message_env_field */
};

static const struct { const char *name; int id; } hfields[] = {
    { "content-type", HF_CTYPE },
    { "content-transfer-encoding", HF_CTE },
    { "content-id", HF_CID },
    { "content-description", HF_CDESC },
    { "content-md5", HF_CMD5 },
    { "content-disposition", HF_CDISP },
    { "content-language", HF_CLANG },
    { "content-location", HF_CLOC },
    { "date", HF_ENV + MESSAGE_ENV_DATE },
    { "subject", HF_ENV + MESSAGE_ENV_SUBJECT },
    { "from", HF_ENV + MESSAGE_ENV_FROM },
    { "sender", HF_ENV + MESSAGE_ENV_SENDER },
    { "reply-to", HF_ENV + MESSAGE_ENV_REPLY_TO },
    { "to", HF_ENV + MESSAGE_ENV_TO },
    { "cc", HF_ENV + MESSAGE_ENV_CC },
    { "bcc", HF_ENV + MESSAGE_ENV_BCC },
    { "in-reply-to", HF_ENV + MESSAGE_ENV_IN_REPLY_TO },
    { "message-id", HF_ENV + MESSAGE_ENV_MESSAGE_ID },
};
#define NHFIELDS (sizeof(hfields) / sizeof(hfields[0]))

static int hfield_id(const struct hdr_field *f)
{
    if (f->namelen < 2) return -1;
    for (size_t i = 0; i < NHFIELDS; i++) {
        if (field_is(f, hfields[i].name)) return hfields[i].id;
    }
    return -1;
}

/* Where the header of [start, end) ends: after its blank line, or at end
 * when there is none. */
static const char *header_end(const char *start, const char *end)
{
    const char *p = start;
    while (p < end) {
        if (*p == '\n') return p + 1;
        if (*p == '\r' && p + 1 < end && p[1] == '\n') return p + 2;
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl) return end;
        p = nl + 1;
    }
    return end;
}

static uint32_t count_lines(const char *s, size_t len)
{
    uint32_t n = 0;
    const char *p = s, *end = s + len;
    while (p < end && (p = memchr(p, '\n', (size_t)(end - p)))) {
        n++;
        p++;
    }
    if (len && s[len - 1] != '\n') n++;
    return n;
}

static int type_is(const struct message *msg, const struct message_part *p,
                   const char *type, const char *subtype)
{
    if (strcmp(msg->pool.s + p->type, type)) return 0;
    return !subtype || !strcmp(msg->pool.s + p->subtype, subtype);
}

static void link_child(struct message *msg, uint32_t parent, uint32_t *last,
                       uint32_t child)
{
    msg->parts[child].parent = parent;
    if (*last == MESSAGE_NONE) msg->parts[parent].first_child = child;
    else msg->parts[*last].next_sibling = child;
    *last = child;
    msg->parts[parent].nchildren++;
}

static uint32_t parse_part(struct message *msg, const char *start,
                           const char *end, uint32_t depth, int digest,
                           int ismessage);

/* A part whose structure could not be found: its whole body as one
 * text/plain child, which keeps BODYSTRUCTURE grammatical. */
static void add_fallback_child(struct message *msg, uint32_t idx)
{
    uint32_t c = part_new(msg);
    if (c == MESSAGE_NONE) return;
    struct message_part *p = &msg->parts[idx], *cp = &msg->parts[c];
    cp->header_offset = cp->body_offset = p->body_offset;
    cp->body_size = p->body_size;
    cp->depth = p->depth + 1;
    cp->type = pool_add(msg, "TEXT", 4);
    cp = &msg->parts[c];
    cp->subtype = pool_add(msg, "PLAIN", 5);
    cp = &msg->parts[c];
    cp->body_lines = count_lines(msg->base + cp->body_offset, cp->body_size);
    uint32_t last = MESSAGE_NONE;
    link_child(msg, idx, &last, c);
}

/* Find the next delimiter line "--boundary[--] *blank" at or after the
 * line starting at p.  Returns its first byte, or NULL; *after is the
 * start of the following line, *close set for the close delimiter. */
static const char *find_delimiter(const char *p, const char *end,
                                  const char *bnd, size_t blen,
                                  const char **after, int *close)
{
    while (p < end) {
        if ((size_t)(end - p) >= blen + 2 && p[0] == '-' && p[1] == '-' &&
            !memcmp(p + 2, bnd, blen)) {
            const char *q = p + 2 + blen;
            int cl = 0;
            if (end - q >= 2 && q[0] == '-' && q[1] == '-') {
                q += 2;
                cl = 1;
            }
            while (q < end && (*q == ' ' || *q == '\t')) q++;
            if (q == end || *q == '\n' || (*q == '\r' && (q + 1 == end || q[1] == '\n'))) {
                if (q < end && *q == '\r') q++;
                *after = q < end ? q + 1 : end;
                *close = cl;
                return p;
            }
        }
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl) break;
        p = nl + 1;
    }
    return NULL;
}

static void parse_multipart(struct message *msg, uint32_t idx)
{
    const struct message_part *p = &msg->parts[idx];
    uint32_t depth = p->depth;
    int digest = !strcmp(msg->pool.s + p->subtype, "DIGEST");
    const char *body = msg->base + p->body_offset;
    const char *end = body + p->body_size;
    uint32_t bi = param_find(msg, p->params, p->nparams, "BOUNDARY");
    /* A copy: parsing the children grows (and may move) the pool. */
    char *bnd = bi == MESSAGE_NONE ? NULL : xstrdup(msg->pool.s + msg->params[bi].value);
    size_t blen = bnd ? strlen(bnd) : 0;
    const char *after, *delim = NULL;
    int close = 0;

    if (blen && depth < MESSAGE_MAX_DEPTH)
        delim = find_delimiter(body, end, bnd, blen, &after, &close);
    if (!delim || close) {
        add_fallback_child(msg, idx);
        free(bnd);
        return;
    }
    uint32_t last = MESSAGE_NONE;
    for (;;) {
        const char *pstart = after, *pend, *next;
        int nclose = 0;
        delim = find_delimiter(pstart, end, bnd, blen, &next, &nclose);
        if (!delim) {
            pend = end;  /* no close delimiter: the part runs to the end */
        } else {
            /* The line break before a delimiter belongs to it. */
            pend = delim;
            if (pend > pstart && pend[-1] == '\n') pend--;
            if (pend > pstart && pend[-1] == '\r') pend--;
        }
        uint32_t c = parse_part(msg, pstart, pend, depth + 1, digest, 0);
        if (c == MESSAGE_NONE) break;
        link_child(msg, idx, &last, c);
        if (!delim || nclose) break;
        after = next;
    }
    if (last == MESSAGE_NONE) add_fallback_child(msg, idx);
    free(bnd);
}

static uint32_t parse_part(struct message *msg, const char *start,
                           const char *end, uint32_t depth, int digest,
                           int ismessage)
{
    uint32_t idx = part_new(msg);
    if (idx == MESSAGE_NONE) return idx;
    const char *hend = header_end(start, end);
    struct message_part *p = &msg->parts[idx];
    p->header_offset = (uint32_t)(start - msg->base);
    p->header_size = (uint32_t)(hend - start);
    p->body_offset = (uint32_t)(hend - msg->base);
    p->body_size = (uint32_t)(end - hend);
    p->depth = depth;
    if (ismessage) p->flags |= MESSAGE_PART_ISMESSAGE;

    const char *h = start;
    struct hdr_field f;
    uint32_t seen = 0;
    while (hdr_next(&h, hend, &f)) {
        int id = hfield_id(&f);
        if (id < 0 || (seen & (1u << id))) continue;
        if (id >= HF_ENV && !ismessage) continue;
        seen |= 1u << id;
        size_t vlen = (size_t)(f.vend - f.value);
        uint32_t off;
        switch (id) {
        case HF_CTYPE:
            parse_content_type(msg, idx, f.value, vlen);
            break;
        case HF_CDISP:
            parse_disposition(msg, idx, f.value, vlen);
            break;
        case HF_CTE:
            off = pool_add_unfolded(msg, f.value, vlen);
            /* Only the token: comments and junk after it are dropped. */
            {
                char *s = msg->pool.s + off, *e = s;
                while (*e && !isspace((unsigned char)*e) && *e != '(' && *e != ';') e++;
                *e = '\0';
                for (char *c = s; *c; c++) *c = (char)toupper((unsigned char)*c);
                msg->parts[idx].encoding = *s ? off : 0;
                msg->parts[idx].enc = (uint8_t)charset_encoding_from_name(s, strlen(s));
            }
            break;
        default:
            off = pool_add_unfolded(msg, f.value, vlen);
            p = &msg->parts[idx];
            if (id == HF_CID) p->id = off;
            else if (id == HF_CDESC) p->description = off;
            else if (id == HF_CMD5) p->md5 = off;
            else if (id == HF_CLANG) p->language = off;
            else if (id == HF_CLOC) p->location = off;
            else p->envelope[id - HF_ENV] = off;
            break;
        }
    }

    p = &msg->parts[idx];
    if (!p->type) {
        /* RFC 2045 5.2 and RFC 2046 5.1.5 defaults. */
        if (digest) {
            p->type = pool_add(msg, "MESSAGE", 7);
            msg->parts[idx].subtype = pool_add(msg, "RFC822", 6);
        } else {
            p->type = pool_add(msg, "TEXT", 4);
            msg->parts[idx].subtype = pool_add(msg, "PLAIN", 5);
        }
        p = &msg->parts[idx];
        p->nparams = 0;
    }

    if (type_is(msg, p, "MULTIPART", NULL)) {
        p->flags |= MESSAGE_PART_MULTIPART;
        parse_multipart(msg, idx);
    } else if (type_is(msg, p, "MESSAGE", "RFC822") &&
               p->enc <= CHARSET_ENC_BINARY) {
        p->body_lines = count_lines(msg->base + p->body_offset, p->body_size);
        if (depth < MESSAGE_MAX_DEPTH) {
            p->flags |= MESSAGE_PART_RFC822;
            uint32_t c = parse_part(msg, msg->base + p->body_offset,
                                    msg->base + p->body_offset + p->body_size,
                                    depth + 1, 0, 1);
            if (c != MESSAGE_NONE) {
                uint32_t last = MESSAGE_NONE;
                link_child(msg, idx, &last, c);
            } else {
                msg->parts[idx].flags &= (uint8_t)~MESSAGE_PART_RFC822;
            }
        } else {
            p->flags |= MESSAGE_PART_TRUNCATED;
        }
    } else if (type_is(msg, p, "TEXT", NULL)) {
        p->body_lines = count_lines(msg->base + p->body_offset, p->body_size);
    }
    return idx;
}

struct message *message_parse(const char *base, size_t len)
{
    if (len >= UINT32_MAX) return NULL;
    struct message *msg = message_new(base, len);
    parse_part(msg, base, base + len, 0, 0, 1);
    return msg;
}

/* ---- IMAP strings ----------------------------------------------------- */

void message_write_string(struct buf *out, const char *s, size_t len)
{
    int literal = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '\r' || c == '\n' || c == '\0' || c >= 0x80) {
            literal = 1;
            break;
        }
    }
    if (literal) {
        buf_printf(out, "{%zu}\r\n", len);
        buf_appendmap(out, s, len);
        return;
    }
    buf_ensure(out, len + 2);
    buf_putc(out, '"');
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '"' || s[i] == '\\') buf_putc(out, '\\');
        buf_putc(out, s[i]);
    }
    buf_putc(out, '"');
}

void message_write_nstring(struct buf *out, const char *s)
{
    if (!s) buf_appendcstr(out, "NIL");
    else message_write_string(out, s, strlen(s));
}

static void write_pool(struct buf *out, const struct message *msg, uint32_t off)
{
    message_write_nstring(out, message_string(msg, off));
}

/* ---- ENVELOPE and BODYSTRUCTURE --------------------------------------- */

void message_write_envelope(struct buf *out, const struct message *msg,
                            uint32_t part)
{
    const uint32_t *env = msg->parts[part].envelope;
    struct buf from = BUF_INITIALIZER;
    const char *s;

    buf_putc(out, '(');
    write_pool(out, msg, env[MESSAGE_ENV_DATE]);
    buf_putc(out, ' ');
    write_pool(out, msg, env[MESSAGE_ENV_SUBJECT]);
    s = message_string(msg, env[MESSAGE_ENV_FROM]);
    message_write_addresses(&from, s, s ? strlen(s) : 0);
    for (int f = MESSAGE_ENV_FROM; f <= MESSAGE_ENV_BCC; f++) {
        buf_putc(out, ' ');
        if (f == MESSAGE_ENV_FROM) {
            buf_appendbuf(out, &from);
            continue;
        }
        s = message_string(msg, env[f]);
        size_t before = out->len;
        message_write_addresses(out, s, s ? strlen(s) : 0);
        /* RFC 3501: an absent or empty Sender/Reply-To is the From. */
        if ((f == MESSAGE_ENV_SENDER || f == MESSAGE_ENV_REPLY_TO) &&
            out->len - before == 3 && !memcmp(out->s + before, "NIL", 3)) {
            buf_truncate(out, before);
            buf_appendbuf(out, &from);
        }
    }
    buf_putc(out, ' ');
    write_pool(out, msg, env[MESSAGE_ENV_IN_REPLY_TO]);
    buf_putc(out, ' ');
    write_pool(out, msg, env[MESSAGE_ENV_MESSAGE_ID]);
    buf_putc(out, ')');
    buf_free(&from);
}

static void write_params(struct buf *out, const struct message *msg,
                         uint32_t first, uint32_t n, int add_charset)
{
    if (add_charset && param_find(msg, first, n, "CHARSET") != MESSAGE_NONE)
        add_charset = 0;
    if (!n && !add_charset) {
        buf_appendcstr(out, "NIL");
        return;
    }
    buf_putc(out, '(');
    for (uint32_t i = first; i < first + n; i++) {
        if (i > first) buf_putc(out, ' ');
        write_pool(out, msg, msg->params[i].name);
        buf_putc(out, ' ');
        write_pool(out, msg, msg->params[i].value);
    }
    if (add_charset) {
        /* RFC 2046 4.1.2: text defaults to us-ascii. */
        buf_appendcstr(out, n ? " \"CHARSET\" \"us-ascii\"" : "\"CHARSET\" \"us-ascii\"");
    }
    buf_putc(out, ')');
}

static void write_language(struct buf *out, const struct message *msg,
                           uint32_t off)
{
    const char *s = message_string(msg, off);
    int n = 0;
    while (s && *s) {
        while (*s && (isspace((unsigned char)*s) || *s == ',')) s++;
        if (*s == '(') {
            struct lex l = { s, s + strlen(s) };
            lex_skip_cfws(&l);
            s = l.p;
            continue;
        }
        const char *e = s;
        while (*e && !isspace((unsigned char)*e) && *e != ',' && *e != '(') e++;
        if (e == s) break;
        buf_appendcstr(out, n++ ? " " : "(");
        message_write_string(out, s, (size_t)(e - s));
        s = e;
    }
    buf_appendcstr(out, n ? ")" : "NIL");
}

static void write_extension(struct buf *out, const struct message *msg,
                            const struct message_part *p)
{
    buf_putc(out, ' ');
    if (p->disposition) {
        buf_putc(out, '(');
        write_pool(out, msg, p->disposition);
        buf_putc(out, ' ');
        write_params(out, msg, p->disp_params, p->ndisp_params, 0);
        buf_putc(out, ')');
    } else {
        buf_appendcstr(out, "NIL");
    }
    buf_putc(out, ' ');
    write_language(out, msg, p->language);
    buf_putc(out, ' ');
    write_pool(out, msg, p->location);
}

static void write_body(struct buf *out, const struct message *msg,
                       uint32_t idx, int ext)
{
    const struct message_part *p = &msg->parts[idx];
    buf_putc(out, '(');
    if (p->flags & MESSAGE_PART_MULTIPART) {
        for (uint32_t c = p->first_child; c != MESSAGE_NONE; c = msg->parts[c].next_sibling)
            write_body(out, msg, c, ext);
        if (p->first_child == MESSAGE_NONE) {
            /* Only when the part limit was hit: keep the grammar valid. */
            buf_appendcstr(out, "(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"us-ascii\") NIL NIL \"7BIT\" 0 0)");
        }
        buf_putc(out, ' ');
        write_pool(out, msg, p->subtype);
        if (ext) {
            buf_putc(out, ' ');
            write_params(out, msg, p->params, p->nparams, 0);
            write_extension(out, msg, p);
        }
        buf_putc(out, ')');
        return;
    }
    int text = type_is(msg, p, "TEXT", NULL);
    write_pool(out, msg, p->type);
    buf_putc(out, ' ');
    write_pool(out, msg, p->subtype);
    buf_putc(out, ' ');
    write_params(out, msg, p->params, p->nparams, text);
    buf_putc(out, ' ');
    write_pool(out, msg, p->id);
    buf_putc(out, ' ');
    write_pool(out, msg, p->description);
    buf_putc(out, ' ');
    if (p->encoding) write_pool(out, msg, p->encoding);
    else buf_appendcstr(out, "\"7BIT\"");
    buf_printf(out, " %u", p->body_size);
    if ((p->flags & MESSAGE_PART_RFC822) && p->first_child != MESSAGE_NONE) {
        buf_putc(out, ' ');
        message_write_envelope(out, msg, p->first_child);
        buf_putc(out, ' ');
        write_body(out, msg, p->first_child, ext);
        buf_printf(out, " %u", p->body_lines);
    } else if (text) {
        buf_printf(out, " %u", p->body_lines);
    }
    if (ext) {
        buf_putc(out, ' ');
        write_pool(out, msg, p->md5);
        write_extension(out, msg, p);
    }
    buf_putc(out, ')');
}

void message_write_bodystructure(struct buf *out, const struct message *msg,
                                 uint32_t part, int extended)
{
    if (part >= msg->nparts) {
        buf_appendcstr(out, "NIL");
        return;
    }
    write_body(out, msg, part, extended);
}

/* ---- sections (RFC 3501 6.4.5) ---------------------------------------- */

static uint32_t nth_child(const struct message *msg, uint32_t idx, unsigned long n)
{
    uint32_t c = msg->parts[idx].first_child;
    while (c != MESSAGE_NONE && --n) c = msg->parts[c].next_sibling;
    return c;
}

/* Step from the part `cur` (MESSAGE_NONE: the message) to its part `n`. */
static uint32_t step_part(const struct message *msg, uint32_t cur, unsigned long n)
{
    uint32_t node;
    if (cur == MESSAGE_NONE) {
        node = 0;
    } else if (msg->parts[cur].flags & MESSAGE_PART_RFC822) {
        node = msg->parts[cur].first_child;
    } else if (msg->parts[cur].flags & MESSAGE_PART_MULTIPART) {
        node = cur;
    } else {
        return MESSAGE_NONE;
    }
    if (node == MESSAGE_NONE || n == 0) return MESSAGE_NONE;
    if (msg->parts[node].flags & MESSAGE_PART_MULTIPART) return nth_child(msg, node, n);
    /* A non-multipart message has exactly one part: its body. */
    if (n == 1 && (msg->parts[node].flags & MESSAGE_PART_ISMESSAGE)) return node;
    return MESSAGE_NONE;
}

/* Parse leading "N.N." numbers and follow them: returns the part
 * (MESSAGE_NONE for none); *rest is what follows, *any is set if there
 * were numbers and *missing if they name no part. */
static uint32_t parse_numbers(const struct message *msg, const char *s,
                              const char **rest, int *any, int *missing)
{
    uint32_t cur = MESSAGE_NONE;
    *any = 0;
    *missing = 0;
    while (isdigit((unsigned char)*s)) {
        char *e;
        unsigned long n = strtoul(s, &e, 10);
        if (n == 0 || n > UINT32_MAX) *missing = 1;
        if (!*missing) {
            cur = step_part(msg, cur, n);
            if (cur == MESSAGE_NONE) *missing = 1;
        }
        *any = 1;
        s = e;
        if (*s != '.') break;
        s++;
    }
    *rest = s;
    return cur;
}

uint32_t message_part_lookup(const struct message *msg, const char *numbers)
{
    const char *rest;
    int any, missing;
    uint32_t cur = parse_numbers(msg, numbers, &rest, &any, &missing);
    if (*rest || missing) return MESSAGE_NONE;
    return any ? cur : 0;
}

static int name_in_list(const strarray_t *names, const struct hdr_field *f)
{
    for (int i = 0; i < names->count; i++) {
        if (field_is(f, names->data[i])) return 1;
    }
    return 0;
}

/* "(A B "C")" -> names; 0 on a syntax error. */
static int parse_field_list(const char *s, strarray_t *names)
{
    while (*s == ' ') s++;
    if (*s++ != '(') return 0;
    for (;;) {
        while (*s == ' ') s++;
        if (*s == ')') break;
        if (!*s) return 0;
        struct buf name = BUF_INITIALIZER;
        if (*s == '"') {
            for (s++; *s && *s != '"'; s++) {
                if (*s == '\\' && s[1]) s++;
                buf_putc(&name, *s);
            }
            if (*s++ != '"') {
                buf_free(&name);
                return 0;
            }
        } else {
            while (*s && *s != ' ' && *s != ')' && *s != '(') buf_putc(&name, *s++);
        }
        strarray_append(names, buf_cstring(&name));
        buf_free(&name);
    }
    s++;
    while (*s == ' ') s++;
    return *s == '\0' && names->count > 0;
}

static void synth_fields(const struct message *msg, const struct message_part *p,
                         const strarray_t *names, int not, struct buf *out)
{
    const char *h = msg->base + p->header_offset;
    const char *end = h + p->header_size;
    struct hdr_field f;
    while (hdr_next(&h, end, &f)) {
        if (name_in_list(names, &f) == not) continue;
        buf_appendmap(out, f.start, (size_t)(f.next - f.start));
        if (f.next == f.start || f.next[-1] != '\n') buf_appendcstr(out, "\r\n");
    }
    buf_appendcstr(out, "\r\n");
}

int message_section(const struct message *msg, const char *spec,
                    struct buf *synth, size_t *offset, size_t *len)
{
    const char *rest;
    int any, missing;
    uint32_t cur = parse_numbers(msg, spec, &rest, &any, &missing);
    if (any && rest[-1] != '.' && *rest) return MESSAGE_SECTION_BAD;

    enum { S_BODY, S_HEADER, S_FIELDS, S_FIELDS_NOT, S_TEXT, S_MIME } kind;
    const char *list = NULL;
    if (!*rest) {
        if (any && rest[-1] == '.') return MESSAGE_SECTION_BAD;
        kind = S_BODY;
    } else if (!strcasecmp(rest, "HEADER")) {
        kind = S_HEADER;
    } else if (!strncasecmp(rest, "HEADER.FIELDS.NOT", 17) &&
               (rest[17] == ' ' || rest[17] == '(')) {
        kind = S_FIELDS_NOT;
        list = rest + 17;
    } else if (!strncasecmp(rest, "HEADER.FIELDS", 13) &&
               (rest[13] == ' ' || rest[13] == '(')) {
        kind = S_FIELDS;
        list = rest + 13;
    } else if (!strcasecmp(rest, "TEXT")) {
        kind = S_TEXT;
    } else if (!strcasecmp(rest, "MIME") && any) {
        kind = S_MIME;
    } else {
        return MESSAGE_SECTION_BAD;
    }
    strarray_t names = STRARRAY_INITIALIZER;
    if (list && !parse_field_list(list, &names)) {
        strarray_fini(&names);
        return MESSAGE_SECTION_BAD;
    }
    int r = MESSAGE_SECTION_EMPTY;
    if (missing) goto out;

    uint32_t target = 0;
    if (!any) {
        if (kind == S_BODY) {
            *offset = 0;
            *len = msg->len;
            r = MESSAGE_SECTION_RANGE;
            goto out;
        }
    } else if (kind == S_BODY || kind == S_MIME) {
        target = cur;
    } else {
        /* HEADER and TEXT of a part exist only for message/rfc822. */
        if (!(msg->parts[cur].flags & MESSAGE_PART_RFC822)) goto out;
        target = msg->parts[cur].first_child;
        if (target == MESSAGE_NONE) goto out;
    }
    const struct message_part *p = &msg->parts[target];
    switch (kind) {
    case S_BODY:
    case S_TEXT:
        *offset = p->body_offset;
        *len = p->body_size;
        r = MESSAGE_SECTION_RANGE;
        break;
    case S_HEADER:
    case S_MIME:
        *offset = p->header_offset;
        *len = p->header_size;
        r = MESSAGE_SECTION_RANGE;
        break;
    case S_FIELDS:
    case S_FIELDS_NOT:
        synth_fields(msg, p, &names, kind == S_FIELDS_NOT, synth);
        r = MESSAGE_SECTION_SYNTH;
        break;
    }
out:
    strarray_fini(&names);
    return r;
}

/* ---- decoded parameters (RFC 2231) ------------------------------------ */

int message_part_param(const struct message *msg, uint32_t part,
                       const char *name, int disposition, struct buf *value)
{
    if (part >= msg->nparts) return 0;
    const struct message_part *p = &msg->parts[part];
    uint32_t first = disposition ? p->disp_params : p->params;
    uint32_t n = disposition ? p->ndisp_params : p->nparams;
    size_t nlen = strlen(name);
    struct buf raw = BUF_INITIALIZER;
    char *charset = NULL;
    int found = 0;

    buf_reset(value);
    /* name*=charset'lang'value */
    for (uint32_t i = first; i < first + n; i++) {
        const char *pn = msg->pool.s + msg->params[i].name;
        const char *v = msg->pool.s + msg->params[i].value;
        if (!strncasecmp(pn, name, nlen) && !strcmp(pn + nlen, "*")) {
            charset_decode_rfc2231(value, v, strlen(v));
            return 1;
        }
    }
    /* name*0[*], name*1[*], ... in order, whatever order they came in. */
    for (unsigned seg = 0; seg < 1000; seg++) {
        int got = 0;
        for (uint32_t i = first; i < first + n && !got; i++) {
            const char *pn = msg->pool.s + msg->params[i].name;
            const char *v = msg->pool.s + msg->params[i].value;
            if (strncasecmp(pn, name, nlen) || pn[nlen] != '*') continue;
            char *e;
            if (!isdigit((unsigned char)pn[nlen + 1])) continue;
            unsigned long k = strtoul(pn + nlen + 1, &e, 10);
            if (k != seg || (*e && strcmp(e, "*"))) continue;
            got = 1;
            if (*e == '*') {
                if (seg == 0) {
                    const char *q1 = strchr(v, '\'');
                    const char *q2 = q1 ? strchr(q1 + 1, '\'') : NULL;
                    if (q2) {
                        charset = xstrndup(v, (size_t)(q1 - v));
                        v = q2 + 1;
                    }
                }
                charset_decode_percent(&raw, v, strlen(v));
            } else {
                buf_appendcstr(&raw, v);
            }
        }
        if (!got) break;
        found = 1;
    }
    if (found) {
        if (charset_to_utf8(value, raw.s ? raw.s : "", raw.len, charset))
            buf_appendbuf(value, &raw);
        free(charset);
        buf_free(&raw);
        return 1;
    }
    buf_free(&raw);
    uint32_t i = param_find(msg, first, n, name);
    if (i == MESSAGE_NONE) {
        if (!disposition && !strcasecmp(name, "CHARSET") &&
            type_is(msg, p, "TEXT", NULL)) {
            buf_setcstr(value, "us-ascii");
            return 1;
        }
        return 0;
    }
    /* Many mailers put RFC 2047 words in parameters; decode them too. */
    const char *v = msg->pool.s + msg->params[i].value;
    charset_decode_mimeheader(value, v, strlen(v));
    return 1;
}

/* ---- cache records ---------------------------------------------------- */

#define CACHE_MAGIC 0x4d534731u  /* "MSG1" */

struct cache_head {
    uint32_t magic;
    uint32_t partsize;   /* sizeof(struct message_part): layout check */
    uint32_t nparts;
    uint32_t nparams;
    uint32_t poollen;
};

void message_cache_serialize(const struct message *msg, struct buf *out)
{
    struct cache_head h = { CACHE_MAGIC, (uint32_t)sizeof(struct message_part),
                            msg->nparts, msg->nparams, (uint32_t)msg->pool.len };
    buf_appendmap(out, (const char *)&h, sizeof(h));
    buf_appendmap(out, (const char *)msg->parts, msg->nparts * sizeof(*msg->parts));
    buf_appendmap(out, (const char *)msg->params, msg->nparams * sizeof(*msg->params));
    buf_appendmap(out, msg->pool.s, msg->pool.len);
}

static int range_ok(uint64_t off, uint64_t len, uint64_t limit)
{
    return off <= limit && len <= limit - off;
}

/* Every index must point forward (parts are stored in pre-order), so
 * walking a corrupt record can neither loop nor leave the arrays. */
static int cache_part_ok(const struct message *msg, uint32_t i)
{
    const struct message_part *p = &msg->parts[i];
    uint32_t np = msg->nparts;
    if (!range_ok(p->header_offset, p->header_size, msg->len) ||
        !range_ok(p->body_offset, p->body_size, msg->len))
        return 0;
    if (p->first_child != MESSAGE_NONE && (p->first_child <= i || p->first_child >= np))
        return 0;
    if (p->next_sibling != MESSAGE_NONE && (p->next_sibling <= i || p->next_sibling >= np))
        return 0;
    if (p->parent != MESSAGE_NONE ? p->parent >= i : i != 0) return 0;
    if (p->depth > MESSAGE_MAX_DEPTH + 2) return 0;
    if (p->parent != MESSAGE_NONE && p->depth != msg->parts[p->parent].depth + 1)
        return 0;
    if (p->first_child != MESSAGE_NONE && msg->parts[p->first_child].parent != i)
        return 0;
    if (p->next_sibling != MESSAGE_NONE &&
        msg->parts[p->next_sibling].parent != p->parent)
        return 0;
    if (!range_ok(p->params, p->nparams, msg->nparams) ||
        !range_ok(p->disp_params, p->ndisp_params, msg->nparams))
        return 0;
    const uint32_t strs[] = { p->type, p->subtype, p->id, p->description,
                              p->encoding, p->md5, p->disposition, p->language,
                              p->location };
    for (size_t k = 0; k < sizeof(strs) / sizeof(strs[0]); k++) {
        if (strs[k] >= msg->pool.len) return 0;
    }
    for (int k = 0; k < MESSAGE_ENV_NFIELDS; k++) {
        if (p->envelope[k] >= msg->pool.len) return 0;
    }
    /* The writers rely on these two being real strings. */
    return p->type && p->subtype;
}

struct message *message_cache_parse(const char *data, size_t datalen,
                                    const char *base, size_t len)
{
    struct cache_head h;
    if (datalen < sizeof(h) || len >= UINT32_MAX) return NULL;
    memcpy(&h, data, sizeof(h));
    if (h.magic != CACHE_MAGIC || h.partsize != sizeof(struct message_part) ||
        h.nparts == 0 || h.nparts > MESSAGE_MAX_PARTS || h.poollen == 0)
        return NULL;
    uint64_t need = sizeof(h) + (uint64_t)h.nparts * sizeof(struct message_part) +
                    (uint64_t)h.nparams * sizeof(struct message_param) + h.poollen;
    if (need != datalen) return NULL;

    struct message *msg = xzmalloc(sizeof(*msg));
    msg->base = base;
    msg->len = len;
    const char *p = data + sizeof(h);
    msg->nparts = msg->parts_alloc = h.nparts;
    msg->parts = xmemdup(p, h.nparts * sizeof(struct message_part));
    p += h.nparts * sizeof(struct message_part);
    msg->nparams = msg->params_alloc = h.nparams;
    msg->params = h.nparams ? xmemdup(p, h.nparams * sizeof(struct message_param)) : NULL;
    p += h.nparams * sizeof(struct message_param);
    buf_appendmap(&msg->pool, p, h.poollen);

    int ok = msg->pool.s[h.poollen - 1] == '\0';
    for (uint32_t i = 0; ok && i < h.nparams; i++) {
        ok = msg->params[i].name < h.poollen && msg->params[i].value < h.poollen;
    }
    for (uint32_t i = 0; ok && i < h.nparts; i++) ok = cache_part_ok(msg, i);
    if (!ok) message_free(&msg);
    return msg;
}
