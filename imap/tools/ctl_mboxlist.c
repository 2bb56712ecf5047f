/* ctl_mboxlist.c -- dump and restore mailboxes.db.
 *
 *   ctl_mboxlist [-C imapd.conf] -d [-x] [-y] [-p partition] [-f file]
 *   ctl_mboxlist [-C imapd.conf] -u [-f file]
 *
 * The dump is JSON, as Cyrus 3 writes it: one object whose members are
 * the mailboxes in name order, one member per line, keyed by internal
 * name, with "name", "uidvalidity", "mbtype" (e, i, r), "partition",
 * "acl" (identifier -> rights) and "uniqueid"; numbers are written as
 * strings.  Intermediate mailboxes are left out unless -y is given.
 * -u reads such a dump from stdin: the whole input is parsed and checked
 * before anything is written, then each mailbox is added or its record
 * replaced; records not in the dump stay (members this server does not
 * know, such as Cyrus's "mtime" or "name_history", are ignored).  -x
 * removes the dumped records (after the dump is written).  -f must name
 * the configured <configdirectory>/mailboxes.db: every database lives in
 * the one environment there.  See doc/ctl_mboxlist.8.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "imap/store/mboxlist.h"
#include "imap/tools/tool_common.h"
#include "lib/buf.h"
#include "lib/config.h"
#include "lib/log.h"
#include "lib/strarray.h"
#include "lib/util.h"
#include "lib/xmalloc.h"

/* Deeper than any dump we write; a guard against hostile nesting. */
#define JSON_MAX_DEPTH 16

static void usage(void)
{
    fprintf(stderr,
            "usage: ctl_mboxlist [-C imapd.conf] -d [-x] [-y] [-p partition]"
            " [-f file]\n"
            "       ctl_mboxlist [-C imapd.conf] -u [-f file]\n");
    exit(EX_USAGE);
}

static const char mbtype_letters[] = { 'e', 'i', 'r' };

/* --- dump ----------------------------------------------------------------*/

static void json_string(struct buf *out, const char *s)
{
    buf_putc(out, '"');
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\') {
            buf_putc(out, '\\');
            buf_putc(out, (char)*p);
        } else if (*p < 0x20) {
            buf_printf(out, "\\u%04x", *p);
        } else {
            buf_putc(out, (char)*p);
        }
    }
    buf_putc(out, '"');
}

/* The ACL "id\trights\t..." as a JSON object. */
static void json_acl(struct buf *out, const char *acl)
{
    strarray_t *parts = strarray_split(acl ? acl : "", "\t");
    int first = 1;

    buf_putc(out, '{');
    for (int i = 0; i + 1 < parts->count; i += 2) {
        const char *id = strarray_nth(parts, i);
        if (!*id) continue;
        if (!first) buf_appendcstr(out, ", ");
        first = 0;
        json_string(out, id);
        buf_appendcstr(out, ": ");
        json_string(out, strarray_nth(parts, i + 1));
    }
    buf_putc(out, '}');
    strarray_free(&parts);
}

struct dump_rock {
    const char *partition;
    int intermediates;
    int count;
    strarray_t dumped;
    struct buf line;
};

static int dump_cb(const struct mboxlist_entry *e, void *rock)
{
    struct dump_rock *dr = rock;
    struct buf *out = &dr->line;
    char num[16];

    if (e->type == MBTYPE_INTERMEDIATE && !dr->intermediates) return 0;
    if (dr->partition &&
        (!e->partition || strcmp(e->partition, dr->partition)))
        return 0;

    buf_reset(out);
    if (dr->count++) buf_appendcstr(out, ",\n");
    json_string(out, e->name);
    buf_appendcstr(out, ": {\"name\": ");
    json_string(out, e->name);
    snprintf(num, sizeof(num), "%u", e->uidvalidity);
    buf_appendcstr(out, ", \"uidvalidity\": ");
    json_string(out, num);
    buf_printf(out, ", \"mbtype\": \"%c\"",
               e->type >= 0 && e->type <= MBTYPE_REMOTE
                   ? mbtype_letters[e->type] : 'e');
    if (e->partition) {
        buf_appendcstr(out, ", \"partition\": ");
        json_string(out, e->partition);
    }
    buf_appendcstr(out, ", \"acl\": ");
    json_acl(out, e->acl);
    if (e->uniqueid) {
        buf_appendcstr(out, ", \"uniqueid\": ");
        json_string(out, e->uniqueid);
    }
    buf_putc(out, '}');
    fwrite(out->s, 1, out->len, stdout);
    strarray_append(&dr->dumped, e->name);
    return 0;
}

static int do_dump(const char *partition, int intermediates, int remove)
{
    struct dump_rock dr = { partition, intermediates, 0, STRARRAY_INITIALIZER,
                            BUF_INITIALIZER };
    int r, status = 0;

    printf("{\n");
    r = mboxlist_foreach("", dump_cb, &dr);
    printf("%s}\n", dr.count ? "\n" : "");
    if (r) {
        fprintf(stderr, "ctl_mboxlist: reading mailboxes.db: %s\n",
                mboxlist_strerror(r));
        status = EX_IOERR;
    }
    if (fflush(stdout) == EOF || ferror(stdout)) {
        fprintf(stderr, "ctl_mboxlist: writing the dump: %s\n",
                strerror(errno));
        status = EX_IOERR;
    }
    /* Only once the dump is safely out are the records removed. */
    for (int i = 0; remove && !status && i < dr.dumped.count; i++) {
        r = mboxlist_remove(strarray_nth(&dr.dumped, i));
        if (r && r != MBOXLIST_NOTFOUND) {
            fprintf(stderr, "ctl_mboxlist: removing %s: %s\n",
                    strarray_nth(&dr.dumped, i), mboxlist_strerror(r));
            status = EX_IOERR;
        }
    }
    strarray_fini(&dr.dumped);
    buf_free(&dr.line);
    return status;
}

/* --- undump: a JSON reader for what dumps hold --------------------------*/

struct jparser {
    const char *p, *end;
    int line;
    const char *error;
};

static void skip_ws(struct jparser *jp)
{
    while (jp->p < jp->end && isspace((unsigned char)*jp->p)) {
        if (*jp->p == '\n') jp->line++;
        jp->p++;
    }
}

static int expect(struct jparser *jp, char c)
{
    skip_ws(jp);
    if (jp->p < jp->end && *jp->p == c) {
        jp->p++;
        return 0;
    }
    if (!jp->error) jp->error = "unexpected character";
    return -1;
}

static int peek(struct jparser *jp, char c)
{
    skip_ws(jp);
    return jp->p < jp->end && *jp->p == c;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static void put_utf8(struct buf *out, unsigned cp)
{
    if (cp < 0x80) {
        buf_putc(out, (char)cp);
    } else if (cp < 0x800) {
        buf_putc(out, (char)(0xc0 | cp >> 6));
        buf_putc(out, (char)(0x80 | (cp & 0x3f)));
    } else if (cp < 0x10000) {
        buf_putc(out, (char)(0xe0 | cp >> 12));
        buf_putc(out, (char)(0x80 | (cp >> 6 & 0x3f)));
        buf_putc(out, (char)(0x80 | (cp & 0x3f)));
    } else {
        buf_putc(out, (char)(0xf0 | cp >> 18));
        buf_putc(out, (char)(0x80 | (cp >> 12 & 0x3f)));
        buf_putc(out, (char)(0x80 | (cp >> 6 & 0x3f)));
        buf_putc(out, (char)(0x80 | (cp & 0x3f)));
    }
}

static int parse_string(struct jparser *jp, struct buf *out)
{
    buf_reset(out);
    if (expect(jp, '"')) return -1;
    while (jp->p < jp->end && *jp->p != '"') {
        char c = *jp->p++;
        if ((unsigned char)c < 0x20) {
            jp->error = "control character in a string";
            return -1;
        }
        if (c != '\\') {
            buf_putc(out, c);
            continue;
        }
        if (jp->p >= jp->end) break;
        c = *jp->p++;
        switch (c) {
        case '"': case '\\': case '/': buf_putc(out, c); break;
        case 'b': buf_putc(out, '\b'); break;
        case 'f': buf_putc(out, '\f'); break;
        case 'n': buf_putc(out, '\n'); break;
        case 'r': buf_putc(out, '\r'); break;
        case 't': buf_putc(out, '\t'); break;
        case 'u': {
            unsigned cp = 0;
            for (int i = 0; i < 4; i++) {
                int v = jp->p < jp->end ? hexval(*jp->p++) : -1;
                if (v < 0) {
                    jp->error = "bad \\u escape";
                    return -1;
                }
                cp = cp << 4 | (unsigned)v;
            }
            if (cp == 0) {
                jp->error = "NUL in a string";
                return -1;
            }
            put_utf8(out, cp);
            break;
        }
        default:
            jp->error = "bad escape in a string";
            return -1;
        }
    }
    if (jp->p >= jp->end) {
        jp->error = "unterminated string";
        return -1;
    }
    jp->p++;
    buf_cstring(out);
    return 0;
}

/* A scalar as text (strings unquoted, numbers as written). */
static int parse_scalar(struct jparser *jp, struct buf *out)
{
    const char *start;

    skip_ws(jp);
    if (peek(jp, '"')) return parse_string(jp, out);
    start = jp->p;
    while (jp->p < jp->end &&
           (isalnum((unsigned char)*jp->p) || strchr("+-.", *jp->p)))
        jp->p++;
    if (jp->p == start) {
        jp->error = "expected a value";
        return -1;
    }
    buf_setmap(out, start, (size_t)(jp->p - start));
    buf_cstring(out);
    return 0;
}

/* Skip any value (arrays and objects we do not use). */
static int skip_value(struct jparser *jp, int depth)
{
    struct buf tmp = BUF_INITIALIZER;
    int r = 0;

    if (depth > JSON_MAX_DEPTH) {
        jp->error = "nested too deeply";
        return -1;
    }
    skip_ws(jp);
    if (peek(jp, '{') || peek(jp, '[')) {
        char close = *jp->p == '{' ? '}' : ']';
        int isobj = close == '}';
        jp->p++;
        if (peek(jp, close)) {
            jp->p++;
            return 0;
        }
        do {
            if (isobj && (parse_string(jp, &tmp) || expect(jp, ':'))) {
                r = -1;
                break;
            }
            if ((r = skip_value(jp, depth + 1))) break;
        } while (peek(jp, ',') && jp->p++);
        if (!r) r = expect(jp, close);
    } else {
        r = parse_scalar(jp, &tmp);
    }
    buf_free(&tmp);
    return r;
}

static int parse_acl(struct jparser *jp, struct buf *acl)
{
    struct buf id = BUF_INITIALIZER, rights = BUF_INITIALIZER;
    int r = 0;

    buf_reset(acl);
    if (expect(jp, '{')) return -1;
    if (peek(jp, '}')) {
        jp->p++;
        return 0;
    }
    do {
        if (parse_string(jp, &id) || expect(jp, ':') ||
            parse_string(jp, &rights)) {
            r = -1;
            break;
        }
        if (!id.len || strpbrk(buf_cstring(&id), "\t\r\n") ||
            strpbrk(buf_cstring(&rights), "\t\r\n")) {
            jp->error = "bad ACL entry";
            r = -1;
            break;
        }
        buf_printf(acl, "%s\t%s\t", buf_cstring(&id), buf_cstring(&rights));
    } while (peek(jp, ',') && jp->p++);
    if (!r) r = expect(jp, '}');
    buf_free(&id);
    buf_free(&rights);
    return r;
}

/* One mailbox's object into *e (name already set). */
static int parse_entry(struct jparser *jp, struct mboxlist_entry *e)
{
    struct buf key = BUF_INITIALIZER, val = BUF_INITIALIZER;
    int r = 0, have_type = 0;

    if (expect(jp, '{')) return -1;
    if (peek(jp, '}')) {
        jp->p++;
        jp->error = "mailbox without a type";
        return -1;
    }
    do {
        if (parse_string(jp, &key) || expect(jp, ':')) {
            r = -1;
            break;
        }
        if (!strcmp(key.s, "acl")) {
            if ((r = parse_acl(jp, &val))) break;
            free(e->acl);
            e->acl = xstrdup(buf_cstring(&val));
            continue;
        }
        if (strcmp(key.s, "mbtype") && strcmp(key.s, "partition") &&
            strcmp(key.s, "uniqueid") && strcmp(key.s, "uidvalidity")) {
            if ((r = skip_value(jp, 1))) break;
            continue;
        }
        if ((r = parse_scalar(jp, &val))) break;
        if (!strcmp(key.s, "mbtype")) {
            const char *hit = val.len == 1
                ? memchr(mbtype_letters, val.s[0], sizeof(mbtype_letters))
                : NULL;
            if (!hit) {
                jp->error = "unknown mbtype";
                r = -1;
                break;
            }
            e->type = (int)(hit - mbtype_letters);
            have_type = 1;
        } else if (!strcmp(key.s, "uidvalidity")) {
            unsigned long v;
            if (parse_ulong(val.s, &v) < 0 || v > UINT32_MAX) {
                jp->error = "bad uidvalidity";
                r = -1;
                break;
            }
            e->uidvalidity = (uint32_t)v;
        } else {
            char **field = !strcmp(key.s, "partition") ? &e->partition
                                                       : &e->uniqueid;
            if (!val.len || strpbrk(val.s, " \t\r\n")) {
                jp->error = "bad partition or uniqueid";
                r = -1;
                break;
            }
            free(*field);
            *field = xstrdup(val.s);
        }
    } while (peek(jp, ',') && jp->p++);
    if (!r) r = expect(jp, '}');
    if (!r && !have_type) {
        jp->error = "mailbox without a type";
        r = -1;
    }
    if (!r && e->type == MBTYPE_EMAIL && !e->partition) {
        jp->error = "mailbox without a partition";
        r = -1;
    }
    buf_free(&key);
    buf_free(&val);
    return r;
}

static int read_all(FILE *f, struct buf *out)
{
    char chunk[65536];
    size_t n;

    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        buf_appendmap(out, chunk, n);
    return ferror(f) ? -1 : 0;
}

static void entries_free(struct mboxlist_entry *v, int n)
{
    for (int i = 0; i < n; i++) mboxlist_entry_fini(&v[i]);
    free(v);
}

static int do_undump(void)
{
    struct buf input = BUF_INITIALIZER, name = BUF_INITIALIZER;
    struct mboxlist_entry *entries = NULL;
    struct jparser jp;
    int n = 0, alloc = 0, status = 0, r;

    if (read_all(stdin, &input) < 0) {
        fprintf(stderr, "ctl_mboxlist: reading stdin: %s\n", strerror(errno));
        return EX_IOERR;
    }
    jp.p = input.s ? input.s : "";
    jp.end = jp.p + input.len;
    jp.line = 1;
    jp.error = NULL;

    /* Parse everything first: a bad dump changes nothing. */
    if (expect(&jp, '{')) goto bad;
    if (!peek(&jp, '}')) {
        do {
            struct mboxlist_entry *e;
            if (parse_string(&jp, &name) || expect(&jp, ':')) goto bad;
            if (!name.len || name.s[0] == '$' || strpbrk(name.s, "\r\n")) {
                jp.error = "bad mailbox name";
                goto bad;
            }
            if (n == alloc) {
                alloc = alloc ? 2 * alloc : 64;
                entries = xrealloc(entries, sizeof(*entries) * (size_t)alloc);
            }
            e = &entries[n++];
            memset(e, 0, sizeof(*e));
            e->name = xstrdup(name.s);
            if (parse_entry(&jp, e)) goto bad;
        } while (peek(&jp, ',') && jp.p++);
    }
    if (expect(&jp, '}')) goto bad;
    skip_ws(&jp);
    if (jp.p != jp.end) {
        jp.error = "trailing data after the dump";
        goto bad;
    }

    for (int i = 0; i < n; i++) {
        struct mboxlist_entry *e = &entries[i];
        r = mboxlist_insert(e);
        if (r == MBOXLIST_EXISTS) r = mboxlist_update(e);
        if (r) {
            fprintf(stderr, "ctl_mboxlist: %s: %s\n", e->name,
                    mboxlist_strerror(r));
            status = EX_DATAERR;
        }
    }
    goto done;

bad:
    fprintf(stderr, "ctl_mboxlist: invalid dump at line %d: %s; "
            "nothing was changed\n", jp.line, jp.error ? jp.error : "syntax");
    status = EX_DATAERR;
done:
    entries_free(entries, n);
    buf_free(&input);
    buf_free(&name);
    return status;
}

int main(int argc, char **argv)
{
    const char *conffile = NULL, *partition = NULL, *dbfile = NULL;
    int dump = 0, undump = 0, remove = 0, intermediates = 0, status;
    int opt;

    tool_log_open("ctl_mboxlist");
    while ((opt = getopt(argc, argv, "C:duxyp:f:")) != -1) {
        switch (opt) {
        case 'C': conffile = optarg; break;
        case 'd': dump = 1; break;
        case 'u': undump = 1; break;
        case 'x': remove = 1; break;
        case 'y': intermediates = 1; break;
        case 'p': partition = optarg; break;
        case 'f': dbfile = optarg; break;
        default: usage();
        }
    }
    if (optind != argc || dump + undump != 1 ||
        (undump && (remove || intermediates || partition)))
        usage();

    tool_init("ctl_mboxlist", conffile);
    if (dbfile) {
        /* The databases share one environment under configdirectory, so
         * only the file in it can be opened. */
        char *want = strconcat(config_dir(), "/mailboxes.db", (char *)NULL);
        char *a = realpath(dbfile, NULL), *b = realpath(want, NULL);
        int same = a && b && !strcmp(a, b);
        free(a);
        free(b);
        if (!same)
            tool_fatal(EX_USAGE, "-f %s: only %s can be used", dbfile, want);
        free(want);
    }
    tool_open_store(TOOL_MBOXLIST);
    status = dump ? do_dump(partition, intermediates, remove) : do_undump();
    tool_close_store();
    return status;
}
