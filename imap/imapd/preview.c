/* preview.c -- the PREVIEW text of a message (RFC 8970). */
#include "config.h"

#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "imap/imapd/preview.h"
#include "lib/charset.h"

/* Text parts looked at before giving up on a message whose first parts
 * hold no text: bounds the work on a message of many empty parts. */
#define PREVIEW_MAX_TRIES 8

/* Characters go out through here: white space is held back until a
 * character follows it, so the text never starts or ends with a space
 * and a run of spaces counts once. */
struct emitter {
    struct buf *out;
    size_t max;
    size_t nchars;
    int space;          /* white space seen since the last character */
};

static int emitter_full(const struct emitter *e)
{
    return e->nchars >= e->max;
}

static void emit_space(struct emitter *e)
{
    e->space = 1;
}

static void emit(struct emitter *e, const char *p, size_t n)
{
    if (emitter_full(e))
        return;
    if (e->space && e->nchars) {
        /* A space is only worth writing with room for what follows. */
        if (e->nchars + 1 >= e->max) {
            e->nchars = e->max;
            return;
        }
        buf_putc(e->out, ' ');
        e->nchars++;
    }
    e->space = 0;
    buf_appendmap(e->out, p, n);
    e->nchars++;
}

/* Length of the UTF-8 sequence starting at p (the text is valid UTF-8,
 * charset_to_utf8 saw to that; a stray byte counts as one). */
static size_t utf8_len(const unsigned char *p, size_t left)
{
    size_t n = 1;

    if (p[0] >= 0xf0)
        n = 4;
    else if (p[0] >= 0xe0)
        n = 3;
    else if (p[0] >= 0xc0)
        n = 2;
    return n <= left ? n : left;
}

/* One UTF-8 character: white space (ASCII, controls, no-break space,
 * line and paragraph separators) becomes a space, a byte order mark
 * nothing, anything else itself. */
static void emit_char(struct emitter *e, const char *p, size_t n)
{
    const unsigned char *u = (const unsigned char *)p;

    if (n == 1 && (u[0] < 0x20 || u[0] == ' ' || u[0] == 0x7f)) {
        emit_space(e);
        return;
    }
    if (n == 2 && u[0] == 0xc2 && u[1] == 0xa0) {
        emit_space(e);
        return;
    }
    if (n == 3 && u[0] == 0xe2 && u[1] == 0x80 &&
        (u[2] == 0xa8 || u[2] == 0xa9)) {
        emit_space(e);
        return;
    }
    if (n == 3 && u[0] == 0xef && u[1] == 0xbb && u[2] == 0xbf)
        return;
    emit(e, p, n);
}

static void emit_codepoint(struct emitter *e, unsigned long cp)
{
    char u[4];
    size_t n;

    if (cp < 0x80) {
        u[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        u[0] = (char)(0xc0 | (cp >> 6));
        u[1] = (char)(0x80 | (cp & 0x3f));
        n = 2;
    } else if (cp < 0x10000) {
        u[0] = (char)(0xe0 | (cp >> 12));
        u[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        u[2] = (char)(0x80 | (cp & 0x3f));
        n = 3;
    } else {
        u[0] = (char)(0xf0 | (cp >> 18));
        u[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
        u[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
        u[3] = (char)(0x80 | (cp & 0x3f));
        n = 4;
    }
    emit_char(e, u, n);
}

/* --- HTML --- */

/* Elements whose content is not text for the reader. */
static const char *const hidden_elements[] = { "head", "script", "style",
                                               "title" };
/* Elements that separate words where they start or end. */
static const char *const block_elements[] = {
    "address", "article", "aside", "blockquote", "br", "dd", "div", "dl",
    "dt", "footer", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr",
    "li", "ol", "p", "pre", "section", "table", "td", "th", "tr", "ul",
};

static int name_in(const char *name, size_t len, const char *const *list,
                   size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strlen(list[i]) == len && !strncasecmp(list[i], name, len))
            return 1;
    return 0;
}

/* Where the tag starting at text[i] ('<') ends (the index after '>', or
 * len); quoted attribute values may hold '>'. */
static size_t tag_end(const char *text, size_t len, size_t i)
{
    char quote = 0;

    for (i++; i < len; i++) {
        if (quote) {
            if (text[i] == quote)
                quote = 0;
        } else if (text[i] == '"' || text[i] == '\'') {
            quote = text[i];
        } else if (text[i] == '>') {
            return i + 1;
        }
    }
    return len;
}

/* The index after "</name ...>" from `i` on, or len when it never comes. */
static size_t skip_element(const char *text, size_t len, size_t i,
                           const char *name, size_t nlen)
{
    for (; i + 2 + nlen <= len; i++) {
        if (text[i] == '<' && text[i + 1] == '/' &&
            !strncasecmp(text + i + 2, name, nlen) &&
            (i + 2 + nlen == len || !isalnum((unsigned char)text[i + 2 + nlen])))
            return tag_end(text, len, i);
    }
    return len;
}

/* Handle the markup at text[i] == '<'; returns the index after it, or i
 * when the '<' is a plain character. */
static size_t html_markup(struct emitter *e, const char *text, size_t len,
                          size_t i)
{
    size_t j = i + 1, name, nlen;
    int closing = 0;

    if (j < len && (text[j] == '!' || text[j] == '?')) {
        if (len - j >= 3 && !strncmp(text + j, "!--", 3)) {
            const char *end = NULL;

            for (size_t k = j + 3; k + 3 <= len; k++)
                if (!strncmp(text + k, "-->", 3)) {
                    end = text + k + 3;
                    break;
                }
            return end ? (size_t)(end - text) : len;
        }
        return tag_end(text, len, i);   /* <!DOCTYPE>, <?xml?> */
    }
    if (j < len && text[j] == '/') {
        closing = 1;
        j++;
    }
    name = j;
    while (j < len && isalnum((unsigned char)text[j]))
        j++;
    nlen = j - name;
    if (!nlen || !isalpha((unsigned char)text[name]))
        return i;
    j = tag_end(text, len, i);
    if (!closing && name_in(text + name, nlen, hidden_elements,
                            sizeof(hidden_elements) / sizeof(char *))) {
        /* A self-closed <title/> has no content to skip. */
        if (j >= 2 && text[j - 1] == '>' && text[j - 2] == '/')
            return j;
        return skip_element(text, len, j, text + name, nlen);
    }
    if (name_in(text + name, nlen, block_elements,
                sizeof(block_elements) / sizeof(char *)))
        emit_space(e);
    return j;
}

/* Handle the entity at text[i] == '&'; returns the index after it, or i
 * when it is a plain '&'. */
static size_t html_entity(struct emitter *e, const char *text, size_t len,
                          size_t i)
{
    static const struct {
        const char *name;
        unsigned long cp;
    } named[] = {
        { "amp", '&' }, { "lt", '<' }, { "gt", '>' }, { "quot", '"' },
        { "apos", '\'' }, { "nbsp", 0xa0 }, { "copy", 0xa9 },
        { "reg", 0xae }, { "hellip", 0x2026 }, { "mdash", 0x2014 },
        { "ndash", 0x2013 }, { "rsquo", 0x2019 }, { "lsquo", 0x2018 },
        { "rdquo", 0x201d }, { "ldquo", 0x201c }, { "euro", 0x20ac },
        { "zwnj", 0x200c },
    };
    size_t j = i + 1, end;
    unsigned long cp = 0;

    for (end = j; end < len && end - j < 10 && text[end] != ';'; end++)
        ;
    if (end >= len || text[end] != ';' || end == j)
        return i;
    if (text[j] == '#') {
        const char *p = text + j + 1;
        int hex = p < text + end && (*p == 'x' || *p == 'X');
        int digits = 0;

        if (hex)
            p++;
        for (; p < text + end; p++, digits++) {
            int d = hex ? (isxdigit((unsigned char)*p)
                               ? (isdigit((unsigned char)*p)
                                      ? *p - '0'
                                      : (tolower((unsigned char)*p) - 'a' + 10))
                               : -1)
                        : (isdigit((unsigned char)*p) ? *p - '0' : -1);
            if (d < 0)
                return i;
            cp = cp * (hex ? 16 : 10) + (unsigned long)d;
            if (cp > 0x10ffff)
                return i;
        }
        if (!digits)
            return i;
        /* NUL and surrogates are not characters: drop them. */
        if (cp && (cp < 0xd800 || cp > 0xdfff))
            emit_codepoint(e, cp);
        return end + 1;
    }
    for (size_t k = 0; k < sizeof(named) / sizeof(named[0]); k++) {
        if (strlen(named[k].name) == end - j &&
            !strncmp(named[k].name, text + j, end - j)) {
            emit_codepoint(e, named[k].cp);
            return end + 1;
        }
    }
    return i;
}

size_t preview_text(const char *text, size_t len, int html, size_t max,
                    struct buf *out)
{
    struct emitter e = { out, max, 0, 0 };
    size_t i = 0;

    while (i < len && !emitter_full(&e)) {
        size_t n;

        if (html && text[i] == '<') {
            n = html_markup(&e, text, len, i);
            if (n != i) {
                i = n;
                continue;
            }
        } else if (html && text[i] == '&') {
            n = html_entity(&e, text, len, i);
            if (n != i) {
                i = n;
                continue;
            }
        }
        n = utf8_len((const unsigned char *)text + i, len - i);
        emit_char(&e, text + i, n);
        i += n;
    }
    return e.nchars;
}

/* --- parts --- */

/* Is `part` a text/plain or text/html leaf meant to be read inline?
 * Sets *html. */
static int text_part(const struct message *msg, uint32_t part, int *html)
{
    const struct message_part *p = &msg->parts[part];
    const char *type = message_string(msg, p->type);
    const char *subtype = message_string(msg, p->subtype);
    const char *disp = message_string(msg, p->disposition);

    if (p->flags & (MESSAGE_PART_MULTIPART | MESSAGE_PART_RFC822))
        return 0;
    if (type && strcasecmp(type, "TEXT"))
        return 0;
    if (disp && !strcasecmp(disp, "ATTACHMENT"))
        return 0;
    *html = subtype && !strcasecmp(subtype, "HTML");
    return !subtype || *html || !strcasecmp(subtype, "PLAIN");
}

/* The next part in document order after `part`, not entering
 * encapsulated messages; MESSAGE_NONE at the end. */
static uint32_t next_part(const struct message *msg, uint32_t part)
{
    const struct message_part *p = &msg->parts[part];

    if ((p->flags & MESSAGE_PART_MULTIPART) && p->first_child != MESSAGE_NONE)
        return p->first_child;
    while (part != MESSAGE_NONE) {
        p = &msg->parts[part];
        if (p->next_sibling != MESSAGE_NONE)
            return p->next_sibling;
        part = p->parent;
    }
    return MESSAGE_NONE;
}

/* The decoded UTF-8 text of a part into `utf8`, from at most
 * PREVIEW_MAX_SOURCE of its octets. */
static void part_utf8(const struct message *msg, uint32_t part,
                      struct buf *raw, struct buf *utf8)
{
    const struct message_part *p = &msg->parts[part];
    size_t len = p->body_size;
    int cut = 0;
    struct buf charset = BUF_INITIALIZER;
    const char *cs = "us-ascii";

    if ((size_t)p->body_offset > msg->len)
        return;
    if (len > msg->len - p->body_offset)
        len = msg->len - p->body_offset;
    if (len > PREVIEW_MAX_SOURCE) {
        len = PREVIEW_MAX_SOURCE;
        cut = 1;
    }
    buf_reset(raw);
    charset_decode_transfer(raw, msg->base + p->body_offset, len, p->enc);
    if (message_part_param(msg, part, "CHARSET", 0, &charset) && charset.len)
        cs = buf_cstring(&charset);
    if (!charset_is_known(cs))
        cs = "utf-8";
    buf_reset(utf8);
    charset_to_utf8(utf8, raw->s ? raw->s : "", raw->len, cs);
    /* A cut may have split the last character: drop its replacement. */
    while (cut && utf8->len >= 3 &&
           !memcmp(utf8->s + utf8->len - 3, "\xef\xbf\xbd", 3))
        utf8->len -= 3;
    buf_free(&charset);
}

void preview_build(const struct message *msg, struct buf *out)
{
    struct buf raw = BUF_INITIALIZER, utf8 = BUF_INITIALIZER;
    uint32_t part;
    int tries = 0, html;

    if (!msg || !msg->nparts || !msg->base)
        return;
    for (part = 0; part != MESSAGE_NONE && part < msg->nparts &&
                   tries < PREVIEW_MAX_TRIES;
         part = next_part(msg, part)) {
        if (!text_part(msg, part, &html))
            continue;
        tries++;
        part_utf8(msg, part, &raw, &utf8);
        if (preview_text(utf8.s ? utf8.s : "", utf8.len, html,
                         PREVIEW_MAX_CHARS, out))
            break;
    }
    buf_free(&raw);
    buf_free(&utf8);
}
