/* message_rfc5322.c -- RFC 5322 syntax for the message module: address
 * lists rendered as IMAP address structures, and date-time parsing. */
#include "config.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "imap/store/message.h"
#include "lib/xmalloc.h"

/* Comments and folding white space, which may appear between any two
 * lexical tokens (RFC 5322 3.2.2). */
static void skip_cfws(const char **pp, const char *end)
{
    const char *p = *pp;
    while (p < end) {
        char c = *p;
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
            p++;
        } else if (c == '(') {
            int depth = 0;
            while (p < end) {
                c = *p++;
                if (c == '\\' && p < end) p++;
                else if (c == '(') depth++;
                else if (c == ')' && --depth == 0) break;
            }
        } else {
            break;
        }
    }
    *pp = p;
}

/* ---- RFC 5322 addresses ----------------------------------------------- */

enum { T_END, T_ATOM, T_QSTR, T_DLIT, T_SPECIAL };

struct alex {
    const char *p, *end;
    int peeked;
    int type;
    char c;               /* for T_SPECIAL */
    int ws;               /* blank or comment before this token */
    struct buf text;      /* for T_ATOM, T_QSTR, T_DLIT */
    struct buf comment;   /* the latest comment, used as a fallback name */
    int plain;            /* write "name <mailbox@host>" lines, not IMAP */
};

static int alex_peek(struct alex *l)
{
    if (l->peeked) return l->type;
    l->peeked = 1;
    l->ws = 0;
    buf_reset(&l->text);
    while (l->p < l->end) {
        char c = *l->p;
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
            l->ws = 1;
            l->p++;
        } else if (c == '(') {
            int depth = 0;
            buf_reset(&l->comment);
            while (l->p < l->end) {
                c = *l->p++;
                if (c == '\\' && l->p < l->end) {
                    buf_putc(&l->comment, *l->p++);
                    continue;
                }
                if (c == ')' && --depth == 0) break;
                if (c == '(' && depth++ == 0) continue;
                if (c != '\r' && c != '\n') buf_putc(&l->comment, c);
            }
            buf_trim(&l->comment);
            l->ws = 1;
        } else {
            break;
        }
    }
    if (l->p >= l->end) return l->type = T_END;
    char c = *l->p;
    if (c == '"') {
        l->p++;
        while (l->p < l->end && *l->p != '"') {
            if (*l->p == '\\' && l->p + 1 < l->end) l->p++;
            if (*l->p != '\r' && *l->p != '\n') buf_putc(&l->text, *l->p);
            l->p++;
        }
        if (l->p < l->end) l->p++;
        return l->type = T_QSTR;
    }
    if (c == '[') {
        while (l->p < l->end && *l->p != ']') {
            if (*l->p != '\r' && *l->p != '\n') buf_putc(&l->text, *l->p);
            l->p++;
        }
        buf_putc(&l->text, ']');
        if (l->p < l->end) l->p++;
        return l->type = T_DLIT;
    }
    if (strchr("()<>@,;:\\.]", c)) {
        l->p++;
        l->c = c;
        return l->type = T_SPECIAL;
    }
    while (l->p < l->end) {
        c = *l->p;
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '"' ||
            c == '[' || strchr("()<>@,;:\\.]", c))
            break;
        buf_putc(&l->text, c);
        l->p++;
    }
    return l->type = T_ATOM;
}

static void alex_take(struct alex *l)
{
    /* A comment seen before a separator belongs to the address before it. */
    if (l->type == T_SPECIAL && (l->c == ',' || l->c == ':' || l->c == ';'))
        buf_reset(&l->comment);
    l->peeked = 0;
}

static int alex_special(struct alex *l, char c)
{
    return alex_peek(l) == T_SPECIAL && l->c == c;
}

/* Collect words and dots: `phrase` joins them as displayed, `local`
 * concatenates them as an addr-spec local part. */
static void collect_words(struct alex *l, struct buf *phrase, struct buf *local)
{
    for (;;) {
        int t = alex_peek(l);
        if (t == T_ATOM || t == T_QSTR || t == T_DLIT) {
            if (phrase->len && l->ws) buf_putc(phrase, ' ');
            buf_appendbuf(phrase, &l->text);
            buf_appendbuf(local, &l->text);
        } else if (t == T_SPECIAL && l->c == '.') {
            buf_putc(phrase, '.');
            buf_putc(local, '.');
        } else {
            return;
        }
        alex_take(l);
    }
}

/* The domain after "@": atoms, dots and domain literals. */
static void collect_domain(struct alex *l, struct buf *domain)
{
    int after_dot = 1;
    for (;;) {
        int t = alex_peek(l);
        if ((t == T_ATOM || t == T_DLIT) && after_dot) {
            buf_appendbuf(domain, &l->text);
            after_dot = 0;
        } else if (t == T_SPECIAL && l->c == '.') {
            buf_putc(domain, '.');
            after_dot = 1;
        } else {
            return;  /* two words in a row: the second is junk */
        }
        alex_take(l);
    }
}

static void write_address(const struct alex *l, struct buf *out,
                          const char *name, const char *adl,
                          const char *mailbox, const char *host)
{
    if (l->plain) {
        /* Group markers (no host) are no addresses to search. */
        if (!host)
            return;
        if (name)
            buf_printf(out, "%s <", name);
        buf_printf(out, "%s@%s%s\n", mailbox ? mailbox : "", host,
                   name ? ">" : "");
        return;
    }
    buf_putc(out, '(');
    message_write_nstring(out, name);
    buf_putc(out, ' ');
    message_write_nstring(out, adl);
    buf_putc(out, ' ');
    message_write_nstring(out, mailbox);
    buf_putc(out, ' ');
    message_write_nstring(out, host);
    buf_putc(out, ')');
}

/* As Cyrus does, an address without a domain gets this host, so that it
 * cannot be mistaken for a group marker (host NIL). */
#define UNSPECIFIED_DOMAIN "unspecified-domain"

/* One mailbox or (outside a group) a group; returns addresses written. */
static int parse_one_address(struct alex *l, struct buf *out, int in_group)
{
    struct buf phrase = BUF_INITIALIZER, local = BUF_INITIALIZER;
    struct buf adl = BUF_INITIALIZER, domain = BUF_INITIALIZER;
    int n = 0;

    collect_words(l, &phrase, &local);
    int t = alex_peek(l);
    if (t == T_SPECIAL && l->c == ':' && !in_group) {
        alex_take(l);
        write_address(l, out, NULL, NULL, buf_cstring(&phrase), NULL);
        n++;
        for (;;) {
            t = alex_peek(l);
            if (t == T_END) break;
            if (t == T_SPECIAL && l->c == ';') {
                alex_take(l);
                break;
            }
            if (t == T_SPECIAL && l->c == ',') {
                alex_take(l);
                continue;
            }
            n += parse_one_address(l, out, 1);
        }
        write_address(l, out, NULL, NULL, NULL, NULL);
        n++;
        goto done;
    }
    if (t == T_SPECIAL && l->c == '<') {
        alex_take(l);
        const char *name = phrase.len ? buf_cstring(&phrase) : NULL;
        char *cname = !name && l->comment.len ? xstrdup(buf_cstring(&l->comment)) : NULL;
        buf_reset(&local);
        if (alex_special(l, '@')) {
            /* obs-route: "@a,@b:" */
            while ((t = alex_peek(l)) != T_END && !(t == T_SPECIAL && (l->c == ':' || l->c == '>'))) {
                if (t == T_SPECIAL) buf_putc(&adl, l->c);
                else buf_appendbuf(&adl, &l->text);
                alex_take(l);
            }
            if (alex_special(l, ':')) alex_take(l);
        }
        struct buf ignored = BUF_INITIALIZER;
        collect_words(l, &ignored, &local);
        buf_free(&ignored);
        if (alex_special(l, '@')) {
            alex_take(l);
            collect_domain(l, &domain);
        }
        /* Skip anything else up to the closing bracket. */
        while ((t = alex_peek(l)) != T_END && !(t == T_SPECIAL && l->c == '>')) {
            if (t == T_SPECIAL && (l->c == ',' || l->c == ';')) break;
            alex_take(l);
        }
        if (alex_special(l, '>')) alex_take(l);
        if (local.len || domain.len) {
            write_address(l, out, name ? name : cname, adl.len ? buf_cstring(&adl) : NULL,
                          buf_cstring(&local),
                          domain.len ? buf_cstring(&domain) : UNSPECIFIED_DOMAIN);
            n++;
        }
        free(cname);
        goto done;
    }
    if (t == T_SPECIAL && l->c == '@') {
        alex_take(l);
        collect_domain(l, &domain);
    }
    alex_peek(l);  /* reads a trailing "(Full Name)" comment */
    if (local.len || domain.len) {
        write_address(l, out, l->comment.len ? buf_cstring(&l->comment) : NULL, NULL,
                      buf_cstring(&local),
                      domain.len ? buf_cstring(&domain) : UNSPECIFIED_DOMAIN);
        n++;
    }
done:
    /* Junk after an address, or that cannot start one, is dropped up to
     * the next comma. */
    while ((t = alex_peek(l)) != T_END &&
           !(t == T_SPECIAL && (l->c == ',' || (in_group && l->c == ';'))))
        alex_take(l);
    buf_free(&phrase);
    buf_free(&local);
    buf_free(&adl);
    buf_free(&domain);
    return n;
}

static void write_list(struct buf *out, const char *value, size_t len,
                       int plain)
{
    struct alex l = { value, value + len, 0, 0, 0, 0, BUF_INITIALIZER,
                      BUF_INITIALIZER, plain };
    struct buf list = BUF_INITIALIZER;
    int n = 0;
    while (value && alex_peek(&l) != T_END) {
        if (alex_special(&l, ',')) {
            alex_take(&l);
            continue;
        }
        n += parse_one_address(&l, &list, 0);
    }
    if (plain) {
        buf_appendbuf(out, &list);
    } else if (n) {
        buf_putc(out, '(');
        buf_appendbuf(out, &list);
        buf_putc(out, ')');
    } else {
        buf_appendcstr(out, "NIL");
    }
    buf_free(&list);
    buf_free(&l.text);
    buf_free(&l.comment);
}

void message_write_addresses(struct buf *out, const char *value, size_t len)
{
    write_list(out, value, len, 0);
}

void message_address_lines(struct buf *out, const char *value, size_t len)
{
    write_list(out, value, len, 1);
}

/* ---- dates (RFC 5322 3.3 and 4.3) ------------------------------------- */

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar. */
static long days_from_civil(long y, int m, int d)
{
    y -= m <= 2;
    long era = (y >= 0 ? y : y - 399) / 400;
    long yoe = y - era * 400;
    long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

struct lex {
    const char *p, *end;
};

static void date_skip(struct lex *l)
{
    skip_cfws(&l->p, l->end);
}

static int date_number(struct lex *l, int maxdigits, int *ndigits)
{
    int v = 0, n = 0;
    while (l->p < l->end && isdigit((unsigned char)*l->p) && n < maxdigits) {
        v = v * 10 + (*l->p++ - '0');
        n++;
    }
    *ndigits = n;
    return v;
}

static size_t date_word(struct lex *l, char *w, size_t wsize)
{
    size_t n = 0;
    while (l->p < l->end && isalpha((unsigned char)*l->p)) {
        if (n + 1 < wsize) w[n++] = (char)tolower((unsigned char)*l->p);
        l->p++;
    }
    w[n] = '\0';
    return n;
}

/* Zone offset in minutes for obsolete zone names; 1 if known. */
static int zone_name(const char *w, int *minutes)
{
    static const struct { const char *name; int off; } zones[] = {
        { "ut", 0 }, { "gmt", 0 }, { "utc", 0 }, { "z", 0 },
        { "est", -300 }, { "edt", -240 }, { "cst", -360 }, { "cdt", -300 },
        { "mst", -420 }, { "mdt", -360 }, { "pst", -480 }, { "pdt", -420 },
    };
    for (size_t i = 0; i < sizeof(zones) / sizeof(zones[0]); i++) {
        if (!strcmp(w, zones[i].name)) {
            *minutes = zones[i].off;
            return 1;
        }
    }
    /* Military zones: their sign was specified backwards in RFC 822, so
     * RFC 5322 says to treat them as -0000. */
    if (strlen(w) == 1) {
        *minutes = 0;
        return 1;
    }
    return 0;
}

time_t message_parse_date(const char *s, size_t len)
{
    static const char months[] = "janfebmaraprmayjunjulaugsepoctnovdec";
    struct lex l = { s, s + len };
    char w[16];
    int nd, day, mon, year, hour, min, sec = 0, zone = 0;

    if (!s) return -1;
    date_skip(&l);
    if (l.p < l.end && isalpha((unsigned char)*l.p)) {
        date_word(&l, w, sizeof(w));  /* day-of-week: not checked */
        date_skip(&l);
        if (l.p < l.end && *l.p == ',') l.p++;
        date_skip(&l);
    }
    day = date_number(&l, 2, &nd);
    if (!nd || day < 1 || day > 31) return -1;
    date_skip(&l);
    if (l.p < l.end && *l.p == '-') l.p++;
    if (date_word(&l, w, sizeof(w)) < 3) return -1;
    w[3] = '\0';
    const char *m = strstr(months, w);
    if (!m || (m - months) % 3) return -1;
    mon = (int)(m - months) / 3 + 1;
    date_skip(&l);
    if (l.p < l.end && *l.p == '-') l.p++;
    year = date_number(&l, 4, &nd);
    if (nd == 2) year += year < 50 ? 2000 : 1900;  /* RFC 5322 4.3 */
    else if (nd == 3) year += 1900;
    else if (nd != 4) return -1;
    date_skip(&l);
    hour = date_number(&l, 2, &nd);
    if (!nd || hour > 23) return -1;
    date_skip(&l);
    if (l.p >= l.end || *l.p != ':') return -1;
    l.p++;
    date_skip(&l);
    min = date_number(&l, 2, &nd);
    if (!nd || min > 59) return -1;
    date_skip(&l);
    if (l.p < l.end && *l.p == ':') {
        l.p++;
        date_skip(&l);
        sec = date_number(&l, 2, &nd);
        if (!nd || sec > 60) return -1;
        if (sec == 60) sec = 59;
        date_skip(&l);
    }
    if (l.p < l.end && (*l.p == '+' || *l.p == '-')) {
        int sign = *l.p++ == '-' ? -1 : 1;
        int z = date_number(&l, 4, &nd);
        if (nd == 4 && z % 100 < 60) zone = sign * (z / 100 * 60 + z % 100);
    } else if (l.p < l.end && isalpha((unsigned char)*l.p)) {
        date_word(&l, w, sizeof(w));
        if (!zone_name(w, &zone)) zone = 0;
    }
    long days = days_from_civil(year, mon, day);
    long long t = (long long)days * 86400 + hour * 3600 + min * 60 + sec -
                  (long long)zone * 60;
    if (t < 0) return -1;
    return (time_t)t;
}

time_t message_sentdate(const struct message *msg)
{
    const char *d = message_string(msg, msg->parts[0].envelope[MESSAGE_ENV_DATE]);
    return d ? message_parse_date(d, strlen(d)) : -1;
}

