/* sort.c -- SORT orderings (RFC 5256, RFC 5957) and the keys they use. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "imap/imapd/sort.h"
#include "lib/charset.h"
#include "lib/xmalloc.h"

/* --- criteria --- */

static const struct {
    const char *name;
    enum sort_key key;
} key_names[] = {
    { "ARRIVAL", SORT_ARRIVAL },
    { "CC", SORT_CC },
    { "DATE", SORT_DATE },
    { "FROM", SORT_FROM },
    { "SIZE", SORT_SIZE },
    { "SUBJECT", SORT_SUBJECT },
    { "TO", SORT_TO },
    { "DISPLAYFROM", SORT_DISPLAYFROM },
    { "DISPLAYTO", SORT_DISPLAYTO },
    { "MODSEQ", SORT_MODSEQ },
    { "UID", SORT_UID },
};

static int crit_error(struct imapparse_ctx *ctx, int c, const char *fmt,
                      const char *arg)
{
    return imapparse_syntax(ctx, c, fmt, arg);
}

int sort_parse_criteria(struct imapparse_ctx *ctx, struct sort_criteria *crit)
{
    struct buf word = BUF_INITIALIZER;
    int c = prot_getc(ctx->prot), reverse = 0;
    size_t i;

    crit->n = 0;
    if (c != '(') {
        if (c == EOF)
            return IMAPPARSE_EOF;
        return crit_error(ctx, c, "Missing sort criteria%s", "");
    }
    for (;;) {
        c = imapparse_atom(ctx, &word);
        if (c < 0)
            goto out;
        if (!strcasecmp(buf_cstring(&word), "REVERSE") && !reverse) {
            if (c != ' ') {
                c = crit_error(ctx, c, "Missing sort key after %s",
                               "REVERSE");
                goto out;
            }
            reverse = 1;
            continue;
        }
        for (i = 0; i < sizeof(key_names) / sizeof(key_names[0]); i++)
            if (!strcasecmp(buf_cstring(&word), key_names[i].name))
                break;
        if (i == sizeof(key_names) / sizeof(key_names[0])) {
            c = crit_error(ctx, c, "Invalid sort criterion %.100s",
                           buf_cstring(&word));
            goto out;
        }
        if (crit->n == SORT_MAX_CRITERIA) {
            c = crit_error(ctx, c, "Too many sort criteria%s", "");
            goto out;
        }
        crit->c[crit->n].key = (uint8_t)key_names[i].key;
        crit->c[crit->n].reverse = (uint8_t)reverse;
        crit->n++;
        reverse = 0;
        if (c == ')')
            break;
        if (c != ' ') {
            c = crit_error(ctx, c, "Missing ')' after sort criteria%s", "");
            goto out;
        }
    }
    c = prot_getc(ctx->prot);
    if (c == EOF)
        c = IMAPPARSE_EOF;
out:
    buf_free(&word);
    return c;
}

static int key_is_string(enum sort_key k)
{
    return k != SORT_ARRIVAL && k != SORT_DATE && k != SORT_SIZE &&
           k != SORT_MODSEQ && k != SORT_UID;
}

int sort_needs_envelope(const struct sort_criteria *crit)
{
    for (int i = 0; i < crit->n; i++)
        if (key_is_string(crit->c[i].key))
            return 1;
    return 0;
}

/* --- reading an ENVELOPE text --- */

struct cursor {
    const char *p, *end;
};

static void skip_blanks(struct cursor *cur)
{
    while (cur->p < cur->end && (*cur->p == ' ' || *cur->p == '\r' ||
                                 *cur->p == '\n'))
        cur->p++;
}

/* An nstring: 1 (value appended to `out` unless NULL), 0 for NIL, -1
 * when the text is not an nstring. */
static int read_nstring(struct cursor *cur, struct buf *out)
{
    skip_blanks(cur);
    if (cur->p >= cur->end)
        return -1;
    if (cur->end - cur->p >= 3 && !strncasecmp(cur->p, "NIL", 3)) {
        cur->p += 3;
        return 0;
    }
    if (*cur->p == '"') {
        for (cur->p++; cur->p < cur->end; cur->p++) {
            char ch = *cur->p;
            if (ch == '"') {
                cur->p++;
                return 1;
            }
            if (ch == '\\' && cur->p + 1 < cur->end)
                ch = *++cur->p;
            if (out)
                buf_putc(out, ch);
        }
        return -1;
    }
    if (*cur->p == '{') {
        char *e;
        unsigned long n = strtoul(cur->p + 1, &e, 10);
        if (e >= cur->end || *e != '}')
            return -1;
        cur->p = e + 1;
        if (cur->end - cur->p >= 2 && cur->p[0] == '\r' && cur->p[1] == '\n')
            cur->p += 2;
        if ((unsigned long)(cur->end - cur->p) < n)
            return -1;
        if (out)
            buf_appendmap(out, cur->p, n);
        cur->p += n;
        return 1;
    }
    return -1;
}

/* Skip one value: an nstring or a parenthesised list of values. */
static int skip_value(struct cursor *cur, int depth)
{
    skip_blanks(cur);
    if (cur->p < cur->end && *cur->p == '(') {
        if (depth > 8)
            return -1;
        cur->p++;
        for (;;) {
            skip_blanks(cur);
            if (cur->p >= cur->end)
                return -1;
            if (*cur->p == ')') {
                cur->p++;
                return 0;
            }
            if (skip_value(cur, depth + 1) < 0)
                return -1;
        }
    }
    return read_nstring(cur, NULL) < 0 ? -1 : 0;
}

/* Position the cursor at envelope field `field`. */
static int seek_field(struct cursor *cur, const char *env, size_t len,
                      enum message_env_field field)
{
    cur->p = env;
    cur->end = env + len;
    skip_blanks(cur);
    if (cur->p >= cur->end || *cur->p != '(')
        return -1;
    cur->p++;
    for (int i = 0; i < (int)field; i++)
        if (skip_value(cur, 0) < 0)
            return -1;
    skip_blanks(cur);
    return 0;
}

int sort_envelope_string(const char *env, size_t len,
                         enum message_env_field field, struct buf *out)
{
    struct cursor cur;

    buf_reset(out);
    if (!env || seek_field(&cur, env, len, field) < 0)
        return 0;
    return read_nstring(&cur, out) > 0;
}

int sort_envelope_address(const char *env, size_t len,
                          enum message_env_field field, struct buf *name,
                          struct buf *mailbox, struct buf *host)
{
    struct cursor cur;

    buf_reset(name);
    buf_reset(mailbox);
    buf_reset(host);
    if (!env || seek_field(&cur, env, len, field) < 0)
        return 0;
    if (cur.p >= cur.end || *cur.p != '(')
        return 0;       /* NIL */
    cur.p++;
    for (;;) {
        int hashost;

        skip_blanks(&cur);
        if (cur.p >= cur.end || *cur.p != '(')
            return 0;
        cur.p++;
        buf_reset(name);
        buf_reset(mailbox);
        buf_reset(host);
        if (read_nstring(&cur, name) < 0 || read_nstring(&cur, NULL) < 0 ||
            read_nstring(&cur, mailbox) < 0 ||
            (hashost = read_nstring(&cur, host)) < 0)
            return 0;
        skip_blanks(&cur);
        if (cur.p >= cur.end || *cur.p != ')')
            return 0;
        cur.p++;
        /* A NIL host marks the start or end of a group (RFC 3501 7.4.2),
         * not an address. */
        if (hashost)
            return 1;
    }
}

/* --- base subject (RFC 5256 section 2.1) --- */

/* subj-blob: "[" *BLOBCHAR "]" *WSP; its length or 0. */
static size_t match_blob(const char *s, const char *e)
{
    const char *p = s;

    if (p >= e || *p != '[')
        return 0;
    for (p++; p < e && *p != '[' && *p != ']'; p++)
        ;
    if (p >= e || *p != ']')
        return 0;
    for (p++; p < e && *p == ' '; p++)
        ;
    return (size_t)(p - s);
}

/* subj-leader's first form: *subj-blob subj-refwd, where subj-refwd is
 * ("re" / ("fw" ["d"])) *WSP [subj-blob] ":"; its length or 0. */
static size_t match_refwd_leader(const char *s, const char *e)
{
    const char *p = s;
    size_t n;

    while ((n = match_blob(p, e)))
        p += n;
    if (e - p >= 2 && !strncasecmp(p, "re", 2)) {
        p += 2;
    } else if (e - p >= 2 && !strncasecmp(p, "fw", 2)) {
        p += 2;
        if (p < e && (*p == 'd' || *p == 'D'))
            p++;
    } else {
        return 0;
    }
    while (p < e && *p == ' ')
        p++;
    p += match_blob(p, e);
    if (p < e && *p == ':')
        return (size_t)(p + 1 - s);
    return 0;
}

void sort_base_subject(const char *raw, size_t len, struct buf *out,
                       int *is_reply)
{
    struct buf dec = BUF_INITIALIZER;
    const char *s, *e;
    int reply = 0, changed;
    size_t i, j, n;

    /* (1) decode, tabs and line breaks to spaces, runs of spaces to one */
    charset_decode_mimeheader(&dec, raw ? raw : "", raw ? len : 0);
    for (i = j = 0; i < dec.len; i++) {
        char ch = dec.s[i];
        if (ch == '\t' || ch == '\r' || ch == '\n')
            ch = ' ';
        if (ch == ' ' && j && dec.s[j - 1] == ' ')
            continue;
        dec.s[j++] = ch;
    }
    dec.len = j;
    s = dec.s ? dec.s : "";
    e = s + dec.len;

    for (;;) {
        /* (2) trailers: "(fwd)" and blanks */
        while (e > s) {
            if (e[-1] == ' ') {
                e--;
            } else if (e - s >= 5 && !strncasecmp(e - 5, "(fwd)", 5)) {
                e -= 5;
                reply = 1;
            } else {
                break;
            }
        }
        /* (3), (4), repeated (5) */
        do {
            changed = 0;
            for (;;) {
                if (s < e && *s == ' ') {
                    s++;
                } else if ((n = match_refwd_leader(s, e))) {
                    s += n;
                    reply = 1;
                } else {
                    break;
                }
                changed = 1;
            }
            n = match_blob(s, e);
            if (n && s + n < e) {
                s += n;
                changed = 1;
            }
        } while (changed);
        /* (6) "[fwd:" ... "]" */
        if (e - s >= 6 && !strncasecmp(s, "[fwd:", 5) && e[-1] == ']') {
            s += 5;
            e--;
            reply = 1;
            continue;
        }
        break;
    }
    buf_appendmap(out, s, (size_t)(e - s));
    buf_free(&dec);
    if (is_reply)
        *is_reply = reply;
}

/* --- the set --- */

struct entry {
    struct sort_item item;
    const struct sort_set *set;
};

struct sort_set {
    struct sort_criteria crit;
    struct entry *entries;
    size_t count, alloc;
    struct buf pool;        /* NUL-terminated keys; offset 0 is "" */
    struct buf scratch, name, mailbox, host;
};

struct sort_set *sort_set_new(const struct sort_criteria *crit)
{
    struct sort_set *set = xzmalloc(sizeof(*set));

    set->crit = *crit;
    buf_putc(&set->pool, '\0');
    return set;
}

void sort_set_free(struct sort_set **setp)
{
    struct sort_set *set = *setp;

    if (!set)
        return;
    free(set->entries);
    buf_free(&set->pool);
    buf_free(&set->scratch);
    buf_free(&set->name);
    buf_free(&set->mailbox);
    buf_free(&set->host);
    free(set);
    *setp = NULL;
}

/* Store the casemapped form of `text` in the pool; its offset. */
static uint32_t pool_casemap(struct sort_set *set, const char *text,
                             size_t len)
{
    size_t off = set->pool.len;

    if (!len)
        return 0;
    charset_casemap(&set->pool, text, len);
    buf_putc(&set->pool, '\0');
    return (uint32_t)off;
}

static uint32_t address_key(struct sort_set *set, const char *env,
                            size_t envlen, enum message_env_field field,
                            int display)
{
    if (!sort_envelope_address(env, envlen, field, &set->name, &set->mailbox,
                               &set->host))
        return 0;
    if (!display)
        return pool_casemap(set, set->mailbox.s, set->mailbox.len);
    /* RFC 5957 3: the decoded display name, else mailbox@host, else
     * the mailbox alone. */
    buf_reset(&set->scratch);
    if (set->name.len)
        charset_decode_mimeheader(&set->scratch, set->name.s, set->name.len);
    if (!set->scratch.len && set->mailbox.len) {
        buf_appendbuf(&set->scratch, &set->mailbox);
        if (set->host.len) {
            buf_putc(&set->scratch, '@');
            buf_appendbuf(&set->scratch, &set->host);
        }
    }
    return pool_casemap(set, set->scratch.s, set->scratch.len);
}

static uint32_t make_key(struct sort_set *set, enum sort_key k,
                         const char *env, size_t envlen)
{
    switch (k) {
    case SORT_SUBJECT:
        if (!sort_envelope_string(env, envlen, MESSAGE_ENV_SUBJECT,
                                  &set->name))
            return 0;
        buf_reset(&set->scratch);
        sort_base_subject(set->name.s, set->name.len, &set->scratch, NULL);
        return pool_casemap(set, set->scratch.s, set->scratch.len);
    case SORT_FROM:
        return address_key(set, env, envlen, MESSAGE_ENV_FROM, 0);
    case SORT_TO:
        return address_key(set, env, envlen, MESSAGE_ENV_TO, 0);
    case SORT_CC:
        return address_key(set, env, envlen, MESSAGE_ENV_CC, 0);
    case SORT_DISPLAYFROM:
        return address_key(set, env, envlen, MESSAGE_ENV_FROM, 1);
    case SORT_DISPLAYTO:
        return address_key(set, env, envlen, MESSAGE_ENV_TO, 1);
    default:
        return 0;
    }
}

void sort_set_add(struct sort_set *set, const struct sort_item *item,
                  const char *env, size_t envlen)
{
    struct entry *en;
    unsigned done = 0;

    if (set->count == set->alloc) {
        set->alloc = set->alloc ? set->alloc * 2 : 256;
        set->entries = xrealloc(set->entries,
                                set->alloc * sizeof(*set->entries));
    }
    en = &set->entries[set->count++];
    en->item = *item;
    en->set = set;
    memset(en->item.key, 0, sizeof(en->item.key));
    if (!env)
        return;
    for (int i = 0; i < set->crit.n; i++) {
        enum sort_key k = set->crit.c[i].key;
        if (!key_is_string(k) || (done & (1u << k)))
            continue;
        done |= 1u << k;
        en->item.key[k] = make_key(set, k, env, envlen);
    }
}

static int cmp_num(int64_t a, int64_t b)
{
    return a < b ? -1 : a > b;
}

static int compare_entries(const void *pa, const void *pb)
{
    const struct entry *a = pa, *b = pb;
    const struct sort_set *set = a->set;
    int r = 0;

    for (int i = 0; i < set->crit.n && !r; i++) {
        enum sort_key k = set->crit.c[i].key;
        switch (k) {
        case SORT_ARRIVAL:
            r = cmp_num(a->item.arrival, b->item.arrival);
            break;
        case SORT_DATE:
            r = cmp_num(a->item.date, b->item.date);
            break;
        case SORT_SIZE:
            r = cmp_num(a->item.size, b->item.size);
            break;
        case SORT_MODSEQ:
            r = cmp_num((int64_t)a->item.modseq, (int64_t)b->item.modseq);
            break;
        case SORT_UID:
            r = cmp_num(a->item.uid, b->item.uid);
            break;
        default:
            r = strcmp(set->pool.s + a->item.key[k],
                       set->pool.s + b->item.key[k]);
            break;
        }
        if (set->crit.c[i].reverse)
            r = -r;
    }
    /* RFC 5256: the implicit last criterion, never reversed */
    return r ? r : cmp_num(a->item.msgno, b->item.msgno);
}

void sort_set_sort(struct sort_set *set)
{
    if (set->count > 1)
        qsort(set->entries, set->count, sizeof(*set->entries),
              compare_entries);
}

void sort_set_filter(struct sort_set *set,
                     int (*keep)(struct sort_item *item, void *rock),
                     void *rock)
{
    size_t i, j = 0;

    for (i = 0; i < set->count; i++) {
        if (keep(&set->entries[i].item, rock))
            set->entries[j++] = set->entries[i];
    }
    set->count = j;
}

size_t sort_set_count(const struct sort_set *set)
{
    return set->count;
}

const struct sort_item *sort_set_item(const struct sort_set *set, size_t i)
{
    return i < set->count ? &set->entries[i].item : NULL;
}
