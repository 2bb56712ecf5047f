/* cmd_metadata.c -- GETMETADATA and SETMETADATA (RFC 5464) and the
 * special-use annotation (RFC 6154); see imapd_metadata.h. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "imap/imapd/imapd.h"
#include "imap/imapd/imapd_commands.h"
#include "imap/imapd/imapd_errors.h"
#include "imap/imapd/imapd_mailbox.h"
#include "imap/imapd/imapd_metadata.h"
#include "imap/store/annotate.h"
#include "imap/store/mailbox.h"
#include "imap/store/mboxlist.h"
#include "imap/store/quota.h"
#include "lib/log.h"
#include "lib/xmalloc.h"

#define SPECIALUSE_ENTRY "/specialuse"

/* --- special use --- */

void imapd_specialuse_get(struct imapd_session *s, const char *intname,
                          const char *uniqueid, struct buf *out)
{
    buf_reset(out);
    if (!s->userid || !uniqueid || !*uniqueid ||
        !mboxname_userownsmailbox(&s->ns, s->userid, intname))
        return;
    if (annotate_get(uniqueid, SPECIALUSE_ENTRY, s->userid, out))
        buf_reset(out);
}

struct taken_rock {
    struct imapd_session *s;
    const char *uniqueid;     /* the mailbox being changed */
    const strarray_t *uses;
    int taken;
    struct buf value;
};

static int taken_cb(const struct mboxlist_entry *e, void *rock)
{
    struct taken_rock *tr = rock;
    strarray_t *words;

    if (!e->uniqueid || (tr->uniqueid && !strcmp(e->uniqueid, tr->uniqueid)))
        return 0;
    if (!mboxname_userownsmailbox(&tr->s->ns, tr->s->userid, e->name))
        return 0;
    if (annotate_get(e->uniqueid, SPECIALUSE_ENTRY, tr->s->userid,
                     &tr->value))
        return 0;
    words = strarray_split(buf_cstring(&tr->value), " ");
    for (int i = 0; i < words->count && !tr->taken; i++)
        if (strarray_find(tr->uses, strarray_nth(words, i), 1) >= 0)
            tr->taken = 1;
    strarray_free(&words);
    return tr->taken;
}

enum imapd_error imapd_specialuse_check(struct imapd_session *s,
                                        const char *intname,
                                        const char *uniqueid,
                                        const char *value, struct buf *canon)
{
    const strarray_t *allowed = &s->settings->mbox.specialuse_allowed;
    strarray_t uses = STRARRAY_INITIALIZER;
    strarray_t *words = strarray_split(value, " ");
    enum imapd_error e = IMAPD_ERR_OK;

    int nwords = 0;

    for (int i = 0; i < words->count; i++)
        nwords += *strarray_nth(words, i) != '\0';
    buf_reset(canon);
    /* Special use is the owner's business (Cyrus: personal mailboxes). */
    if (!s->userid || !intname ||
        !mboxname_userownsmailbox(&s->ns, s->userid, intname))
        e = nwords ? IMAPD_ERR_USEATTR : IMAPD_ERR_OK;
    for (int i = 0; !e && i < words->count; i++) {
        const char *w = strarray_nth(words, i);
        int k = strarray_find(allowed, w, 1);

        if (!*w)
            continue;
        if (k < 0) {
            e = IMAPD_ERR_USEATTR;
            break;
        }
        if (strarray_find(&uses, strarray_nth(allowed, k), 0) < 0)
            strarray_append(&uses, strarray_nth(allowed, k));
    }
    strarray_free(&words);
    if (!e && uses.count) {
        /* Each use names one mailbox of the user (RFC 6154 section 4
         * leaves it to the server; Cyrus refuses a second one). */
        struct taken_rock tr = { s, uniqueid, &uses, 0, BUF_INITIALIZER };
        char *inbox = imapd_mailbox_inbox(s);

        if (inbox) {
            mboxlist_foreach(inbox, taken_cb, &tr);
            free(inbox);
        }
        buf_free(&tr.value);
        if (tr.taken)
            e = IMAPD_ERR_USEATTR;
    }
    if (!e) {
        for (int i = 0; i < uses.count; i++) {
            if (i)
                buf_putc(canon, ' ');
            buf_appendcstr(canon, strarray_nth(&uses, i));
        }
    }
    strarray_fini(&uses);
    return e;
}

enum imapd_error imapd_specialuse_set(struct imapd_session *s,
                                      const char *uniqueid, const char *canon)
{
    struct annotate_change c = { SPECIALUSE_ENTRY, s->userid, NULL, 0 };

    if (canon && *canon) {
        c.value = canon;
        c.len = strlen(canon);
    }
    return annotate_store(uniqueid, &c, 1, NULL) ? IMAPD_ERR_IOERROR
                                                 : IMAPD_ERR_OK;
}

void imapd_specialuse_autocreate(struct imapd_session *s)
{
    const strarray_t *pairs = &s->settings->mbox.autocreate_uses;
    const strarray_t *created = &s->settings->mbox.autocreate_folders;
    struct buf canon = BUF_INITIALIZER;

    for (int i = 0; i + 1 < pairs->count; i += 2) {
        const char *folder = strarray_nth(pairs, i);
        struct mboxlist_entry e;
        char *intname;

        if (strarray_find(created, folder, 0) < 0)
            continue;
        intname = mboxname_user_mbox(&s->ns, s->userid, folder);
        memset(&e, 0, sizeof(e));
        if (intname && !mboxlist_lookup(intname, &e) &&
            !imapd_specialuse_check(s, intname, e.uniqueid,
                                    strarray_nth(pairs, i + 1), &canon))
            imapd_specialuse_set(s, e.uniqueid, buf_cstring(&canon));
        else
            log_warning("autocreate: cannot give %s the special use %s",
                        folder, strarray_nth(pairs, i + 1));
        mboxlist_entry_fini(&e);
        free(intname);
    }
    buf_free(&canon);
}

/* --- shared parsing --- */

/* The mailbox a METADATA command names: "" is the server. */
struct md_target {
    int server;
    struct imapd_mbox mb;
    const char *uniqueid;    /* "" for the server */
};

/* Resolve and check rights (RFC 5464 3.3: 'l' and one of "rswip", for
 * reading and writing alike). */
static enum imapd_error md_target(struct imapd_session *s, const char *name,
                                  struct md_target *t)
{
    enum imapd_error e;

    memset(t, 0, sizeof(*t));
    if (!*name) {
        t->server = 1;
        t->uniqueid = "";
        return IMAPD_ERR_OK;
    }
    e = imapd_mailbox_resolve(s, name, &t->mb);
    if (e == IMAPD_ERR_BADNAME || (!e && !t->mb.exists))
        return IMAPD_ERR_NONEXISTENT;
    if (e)
        return e;
    if (!(t->mb.rights & (ACL_READ | ACL_SETSEEN | ACL_WRITE | ACL_INSERT |
                          ACL_POST)))
        return IMAPD_ERR_NOPERM;
    t->uniqueid = t->mb.entry.uniqueid ? t->mb.entry.uniqueid : "";
    if (!*t->uniqueid)
        return IMAPD_ERR_IOERROR;
    return IMAPD_ERR_OK;
}

/* Write a value as a quoted string, a literal, or (with NUL bytes) a
 * literal8 (RFC 5464 value = nstring / literal8). */
static void print_value(struct protstream *p, const char *v, size_t len)
{
    int quotable = len < 1024;

    if (memchr(v, '\0', len)) {
        prot_printf(p, "~{%zu}\r\n", len);
        prot_write(p, v, len);
        return;
    }
    for (size_t i = 0; i < len && quotable; i++) {
        unsigned char c = (unsigned char)v[i];
        if (c == '\r' || c == '\n' || c >= 0x80)
            quotable = 0;
    }
    if (!quotable) {
        prot_printf(p, "{%zu}\r\n", len);
        prot_write(p, v, len);
        return;
    }
    prot_putc('"', p);
    for (size_t i = 0; i < len; i++) {
        if (v[i] == '"' || v[i] == '\\')
            prot_putc('\\', p);
        prot_putc(v[i], p);
    }
    prot_putc('"', p);
}

/* --- entries the server defines ---
 *
 * A wildcard request (an entry ending in '/' and '*' or '%', as cyradm's
 * info sends) lists, as Cyrus does, the entries the server defines
 * whether they hold a value or not (NIL then), besides those stored.  Some are computed, read-only
 * facts about the mailbox under Cyrus's vendor names. */

#define CYRUS_VENDOR "/vendor/cmu/cyrus-imapd"

static const struct md_defined {
    int server;               /* a server entry, else a mailbox one */
    int shared;
    const char *path;         /* stored form */
    int computed;
} defined_entries[] = {
    { 0, 1, "/comment", 0 },
    { 0, 0, "/comment", 0 },
    { 0, 0, SPECIALUSE_ENTRY, 0 },
    { 0, 1, CYRUS_VENDOR "/partition", 1 },
    { 0, 1, CYRUS_VENDOR "/size", 1 },
    { 0, 1, CYRUS_VENDOR "/uniqueid", 1 },
    { 1, 1, "/admin", 0 },
    { 1, 1, "/comment", 0 },
};

static const struct md_defined *md_defined_find(int server, int shared,
                                                const char *path)
{
    for (size_t i = 0; i < sizeof(defined_entries) /
                                sizeof(defined_entries[0]); i++) {
        const struct md_defined *d = &defined_entries[i];

        if (d->server == server && d->shared == shared &&
            !strcmp(d->path, path))
            return d;
    }
    return NULL;
}

/* The value of a computed entry of mailbox `t` into `value`; 0, or -1
 * when there is none (not computed, or the mailbox cannot be read). */
static int md_computed(const struct md_target *t, int shared,
                       const char *path, struct buf *value)
{
    const struct md_defined *d = md_defined_find(t->server, shared, path);

    buf_reset(value);
    if (!d || !d->computed)
        return -1;
    if (!strcmp(path, CYRUS_VENDOR "/uniqueid")) {
        buf_setcstr(value, t->uniqueid);
        return 0;
    }
    if (!strcmp(path, CYRUS_VENDOR "/partition")) {
        if (!t->mb.entry.partition)
            return -1;
        buf_setcstr(value, t->mb.entry.partition);
        return 0;
    }
    if (!strcmp(path, CYRUS_VENDOR "/size")) {
        /* The bytes the mailbox counts against quota, as Cyrus says. */
        struct buf dir = BUF_INITIALIZER;
        struct mailbox *mbox = NULL;
        int r = -1;

        if (!imapd_mailbox_path(&t->mb.entry, &dir) &&
            !mailbox_open(buf_cstring(&dir), &mbox) &&
            !mailbox_lock_shared(mbox)) {
            buf_printf(value, "%llu", (unsigned long long)
                                          mailbox_header(mbox)->quota_used);
            mailbox_unlock(mbox);
            r = 0;
        }
        if (mbox)
            mailbox_close(&mbox);
        buf_free(&dir);
        return r;
    }
    return -1;
}

/* --- GETMETADATA --- */

struct md_get {
    struct imapd_session *s;
    const char *scope;        /* "/shared" or "/private" */
    long long maxsize;        /* -1: none */
    size_t longest;           /* biggest value left out for MAXSIZE */
    int found;                /* the named entry itself was seen */
    const char *named;        /* stored form of the named entry */
    int wild;                 /* '*' or '%' after named + "/", else 0 */
    strarray_t seen;          /* entries sent for a wildcard request */
    struct buf out;           /* entry value pairs */
    int count;
};
#define MD_GET_INITIALIZER(s)                                                  \
    {                                                                          \
        s, NULL, -1, 0, 0, NULL, 0, STRARRAY_INITIALIZER, BUF_INITIALIZER, 0   \
    }

static void md_emit(struct md_get *g, const char *entry, const char *value,
                    size_t len)
{
    struct buf name = BUF_INITIALIZER;

    buf_printf(&name, "%s%s", g->scope, entry);
    if (g->count++)
        buf_putc(&g->out, ' ');
    /* Quoted, as Cyrus writes entries: cyradm's parser of METADATA
     * responses needs the quotes to tell entries from values.  Entry
     * names hold no quote, backslash or 8-bit (annotate_entry_parse). */
    buf_printf(&g->out, "\"%s\" ", buf_cstring(&name));
    buf_free(&name);
    if (!value) {
        buf_appendcstr(&g->out, "NIL");
        return;
    }
    /* Values are rendered at the end; keep a marker and the bytes. */
    buf_printf(&g->out, "\x01%zu\x01", len);
    buf_appendmap(&g->out, value, len);
}

static int get_cb(const char *entry, const char *userid, const char *value,
                  size_t len, void *rock)
{
    struct md_get *g = rock;

    (void)userid;
    if (!strcmp(entry, g->named)) {
        g->found = 1;
        /* A wildcard names what is below the entry, not itself. */
        if (g->wild)
            return 0;
    }
    if (g->wild)
        strarray_append(&g->seen, entry);
    if (g->maxsize >= 0 && len > (size_t)g->maxsize) {
        if (len > g->longest)
            g->longest = len;
        return 0;
    }
    md_emit(g, entry, value, len);
    return 0;
}

/* Send the collected pairs, rendering each value marker. */
static void md_flush(struct imapd_session *s, const char *mboxname,
                     struct md_get *g)
{
    const char *p = g->out.s, *end = g->out.s + g->out.len;

    if (!g->count)
        return;
    prot_puts(s->prot, "* METADATA ");
    imapd_print_string(s->prot, mboxname);
    prot_puts(s->prot, " (");
    while (p < end) {
        const char *m = memchr(p, '\x01', (size_t)(end - p));
        if (!m) {
            prot_write(s->prot, p, (size_t)(end - p));
            break;
        }
        prot_write(s->prot, p, (size_t)(m - p));
        size_t len = strtoull(m + 1, (char **)&p, 10);
        p++; /* the closing marker */
        print_value(s->prot, p, len);
        p += len;
    }
    prot_puts(s->prot, ")\r\n");
}

/* Options "(" MAXSIZE n / DEPTH d ... ")", the "(" already read. */
static int parse_get_options(struct imapd_session *s, struct imapd_cmd *cmd,
                             long long *maxsize, int *depth)
{
    int c;

    do {
        c = imapparse_atom(&s->parse, &s->arg2);
        if (c < 0) {
            imapd_args_error(s, cmd, c, NULL);
            return -1;
        }
        if (c != ' ') {
            imapd_bad(s, cmd, c, "Invalid Getmetadata option");
            return -1;
        }
        if (!strcasecmp(buf_cstring(&s->arg2), "MAXSIZE")) {
            char *end;
            c = imapparse_atom(&s->parse, &s->arg2);
            errno = 0;
            unsigned long long v = strtoull(buf_cstring(&s->arg2), &end, 10);
            if (c < 0 || !s->arg2.len || *end || s->arg2.s[0] == '-' ||
                v > 4294967295ULL) {
                imapd_bad(s, cmd, c, "Invalid MAXSIZE in Getmetadata");
                return -1;
            }
            *maxsize = (long long)v;
        }
        else if (!strcasecmp(buf_cstring(&s->arg2), "DEPTH")) {
            c = imapparse_atom(&s->parse, &s->arg2);
            const char *d = buf_cstring(&s->arg2);
            if (c >= 0 && !strcmp(d, "0"))
                *depth = 0;
            else if (c >= 0 && !strcmp(d, "1"))
                *depth = 1;
            else if (c >= 0 && !strcasecmp(d, "infinity"))
                *depth = -1;
            else {
                imapd_bad(s, cmd, c, "Invalid DEPTH in Getmetadata");
                return -1;
            }
        }
        else {
            imapd_bad(s, cmd, c, "Invalid Getmetadata option");
            return -1;
        }
    } while (c == ' ');
    if (c != ')') {
        imapd_bad(s, cmd, c, "Missing close parenthesis in Getmetadata");
        return -1;
    }
    return 0;
}

/* GETMETADATA's options and the space after them (the '(' already
 * read); -1 when answered with an error. */
static int get_options_sp(struct imapd_session *s, struct imapd_cmd *cmd,
                          long long *maxsize, int *depth)
{
    int c;

    if (parse_get_options(s, cmd, maxsize, depth) < 0)
        return -1;
    c = prot_getc(s->prot);
    if (c != ' ') {
        imapd_args_missing(s, cmd, c);
        return -1;
    }
    return 0;
}

/* An entry to read: a valid entry name, or "/shared" / "/private" alone
 * (everything of that scope, with DEPTH); either may end in '/' and a
 * wildcard, '*' for every entry below it or '%' for one level below, as
 * Cyrus takes and cyradm sends.  *wild is '*', '%' or 0. */
static int parse_get_entry(const char *name, int *shared, struct buf *path,
                           int *wild)
{
    size_t len = strlen(name);
    char *base;
    int r;

    *wild = 0;
    if (len >= 2 && name[len - 2] == '/' &&
        (name[len - 1] == '*' || name[len - 1] == '%')) {
        base = xstrndup(name, len - 2);
        r = parse_get_entry(base, shared, path, wild);
        free(base);
        if (r || *wild)
            return ANNOTATE_BADENTRY;
        *wild = name[len - 1];
        return 0;
    }
    if (!strcasecmp(name, "/shared") || !strcasecmp(name, "/private")) {
        *shared = name[1] == 's' || name[1] == 'S';
        buf_reset(path);
        return 0;
    }
    return annotate_entry_parse(name, shared, path);
}

/* Does the defined entry `path` match a wildcard request? */
static int wild_matches(const char *named, int wild, const char *path)
{
    size_t n = strlen(named);

    if (strncmp(path, named, n) || path[n] != '/' || !path[n + 1])
        return 0;
    return wild == '*' || !strchr(path + n + 1, '/');
}

/* Collect the values of one requested entry (client form, checked by
 * parse_get_entry) of target `t` into g.  0, or -1 on a database error. */
static int md_get_entry(struct imapd_session *s, const struct md_target *t,
                        const char *name, int depth, struct md_get *g)
{
    struct buf path = BUF_INITIALIZER, value = BUF_INITIALIZER;
    int shared, r;

    parse_get_entry(name, &shared, &path, &g->wild);
    g->scope = shared ? "/shared" : "/private";
    g->named = buf_cstring(&path);
    g->found = 0;
    strarray_fini(&g->seen);
    if (g->wild)
        depth = g->wild == '*' ? -1 : 1;
    r = annotate_foreach(t->uniqueid, g->named, depth,
                         shared ? "" : s->userid, get_cb, g);
    if (r) {
        r = -1;
    } else if (g->wild) {
        for (size_t i = 0; i < sizeof(defined_entries) /
                                    sizeof(defined_entries[0]); i++) {
            const struct md_defined *d = &defined_entries[i];

            if (d->server != t->server || d->shared != shared ||
                !wild_matches(g->named, g->wild, d->path) ||
                strarray_find(&g->seen, d->path, 0) >= 0)
                continue;
            if (md_computed(t, shared, d->path, &value) == 0)
                get_cb(d->path, "", value.s ? value.s : "", value.len, g);
            else
                md_emit(g, d->path, NULL, 0);
        }
    } else if (!g->found && *g->named && depth == 0) {
        /* A named entry that is not there is answered NIL, as Cyrus;
         * a computed one with its value. */
        if (md_computed(t, shared, g->named, &value) == 0)
            get_cb(g->named, "", value.s ? value.s : "", value.len, g);
        else
            md_emit(g, g->named, NULL, 0);
    }
    g->wild = 0;
    buf_free(&path);
    buf_free(&value);
    return r;
}

void cmd_getmetadata(struct imapd_session *s, struct imapd_cmd *cmd)
{
    struct md_get g = MD_GET_INITIALIZER(s);
    strarray_t entries = STRARRAY_INITIALIZER;
    struct buf path = BUF_INITIALIZER;
    struct md_target t;
    int depth = 0, c = cmd->c, paren = 0, shared, wild;
    enum imapd_error e;

    if (c != ' ') {
        imapd_args_missing(s, cmd, c);
        return;
    }
    c = prot_getc(s->prot);
    if (c == '(') {
        if (get_options_sp(s, cmd, &g.maxsize, &depth) < 0)
            goto out;
    }
    else {
        prot_ungetc(c, s->prot);
    }
    c = imapparse_astring(&s->parse, &s->arg1);
    if (c != ' ') {
        if (c < 0)
            imapd_args_error(s, cmd, c, NULL);
        else
            imapd_args_missing(s, cmd, c);
        goto out;
    }
    c = prot_getc(s->prot);
    if (c == '(') {
        /* Options after the mailbox, as Cyrus takes them: an option is
         * an atom, an entry starts with '/' or a quote. */
        int next = prot_getc(s->prot);

        prot_ungetc(next, s->prot);
        if (next != EOF && isalpha(next)) {
            if (get_options_sp(s, cmd, &g.maxsize, &depth) < 0)
                goto out;
            c = prot_getc(s->prot);
        }
    }
    if (c == '(')
        paren = 1;
    else
        prot_ungetc(c, s->prot);
    do {
        c = imapparse_astring(&s->parse, &s->arg2);
        if (c < 0) {
            imapd_args_error(s, cmd, c, NULL);
            goto out;
        }
        if (parse_get_entry(buf_cstring(&s->arg2), &shared, &path, &wild)) {
            imapd_bad(s, cmd, c, "Invalid entry name");
            goto out;
        }
        strarray_append(&entries, buf_cstring(&s->arg2));
    } while (c == ' ');
    if (paren) {
        if (c != ')') {
            imapd_bad(s, cmd, c, "Missing close parenthesis in Getmetadata");
            goto out;
        }
        c = prot_getc(s->prot);
    }
    if (imapd_args_end(s, cmd, c) < 0)
        goto out;

    e = md_target(s, buf_cstring(&s->arg1), &t);
    if (e) {
        imapd_no(s, cmd, e);
        imapd_mbox_fini(&t.mb);
        goto out;
    }
    for (int i = 0; i < entries.count; i++) {
        if (md_get_entry(s, &t, strarray_nth(&entries, i), depth, &g) < 0) {
            imapd_no(s, cmd, IMAPD_ERR_IOERROR);
            imapd_mbox_fini(&t.mb);
            goto out;
        }
    }
    md_flush(s, buf_cstring(&s->arg1), &g);
    imapd_mbox_fini(&t.mb);
    imapd_report_updates(s, cmd);
    if (g.longest)
        prot_printf(s->prot, "%s OK [METADATA LONGENTRIES %zu] Completed\r\n",
                    cmd->tag, g.longest);
    else
        prot_printf(s->prot, "%s OK Completed\r\n", cmd->tag);

out:
    strarray_fini(&entries);
    strarray_fini(&g.seen);
    buf_free(&path);
    buf_free(&g.out);
}

/* --- LIST-METADATA (RFC 9590) --- */

int imapd_metadata_entry_valid(const char *name)
{
    struct buf path = BUF_INITIALIZER;
    int shared, wild;
    int r = parse_get_entry(name, &shared, &path, &wild);

    buf_free(&path);
    return r == 0;
}

void imapd_metadata_list(struct imapd_session *s, const char *extname,
                         const strarray_t *entries)
{
    struct md_get g = MD_GET_INITIALIZER(s);
    struct md_target t;

    /* The rights GETMETADATA needs; without them, nothing is said. */
    if (!md_target(s, extname, &t) && !t.server) {
        for (int i = 0; i < entries->count; i++)
            if (md_get_entry(s, &t, strarray_nth(entries, i), 0, &g) < 0)
                break;
        md_flush(s, extname, &g);
    }
    imapd_mbox_fini(&t.mb);
    strarray_fini(&g.seen);
    buf_free(&g.out);
}

/* --- SETMETADATA --- */

/* May a client set this entry (stored form) at all? */
static int entry_settable(struct imapd_session *s, int server, int shared,
                          const char *path)
{
    const struct md_defined *d = md_defined_find(server, shared, path);

    if (d && d->computed)
        return 0;   /* facts about the mailbox, not settable */
    if (!strncmp(path, "/vendor/", 8)) {
        /* RFC 5464 3.2: /vendor/<vendor-token>/... has 4+ components. */
        const char *token_end = strchr(path + 8, '/');
        return token_end && token_end[1];
    }
    if (!strcmp(path, "/comment"))
        return !server || shared;
    if (!strcmp(path, SPECIALUSE_ENTRY))
        return !server && !shared;
    if (server && !strcmp(path, "/admin"))
        return 0;  /* read-only (RFC 5464 3.2.1.1) */
    return s->settings->mbox.annotation_allow_undefined;
}

/* Read one value: NIL, a quoted string, a literal or a literal8 (whose
 * size may not pass the limit).  Returns the next character, or a
 * negative IMAPPARSE_* code; *toobig is set (and the line left for the
 * caller to skip) when a literal is over IMAPD_METADATA_MAXSIZE. */
static int read_value(struct imapd_session *s, struct buf *value, int *is_nil,
                      int *toobig)
{
    unsigned long long len;
    int c = prot_getc(s->prot), binary, r;

    *is_nil = 0;
    *toobig = 0;
    if (c != '{' && c != '~') {
        prot_ungetc(c, s->prot);
        return imapparse_nstring(&s->parse, value, is_nil);
    }
    r = imapparse_literal_start(&s->parse, c, IMAPD_METADATA_MAXSIZE, 1, &len,
                                &binary);
    if (r == IMAPPARSE_TOOBIG) {
        *toobig = 1;
        return r;
    }
    if (r < 0)
        return r;
    buf_reset(value);
    buf_ensure(value, (size_t)len + 1);
    while (value->len < len) {
        size_t n = prot_read(s->prot, value->s + value->len,
                             (size_t)len - value->len);
        if (!n)
            return IMAPPARSE_EOF;
        value->len += n;
    }
    return prot_getc(s->prot);
}

struct md_set_item {
    char *entry;              /* stored form */
    int shared;
    int is_nil;
    struct buf value;
};

void cmd_setmetadata(struct imapd_session *s, struct imapd_cmd *cmd)
{
    struct md_set_item *items = NULL;
    struct annotate_change *changes = NULL;
    struct buf path = BUF_INITIALIZER, canon = BUF_INITIALIZER;
    struct md_target t;
    int n = 0, alloc = 0, c = cmd->c, shared, toobig = 0;
    enum imapd_error e = IMAPD_ERR_OK;

    memset(&t, 0, sizeof(t));
    c = imapd_arg_astring(s, cmd, c, &s->arg1, 1);
    if (c < 0)
        return;
    c = prot_getc(s->prot);
    if (c != '(') {
        imapd_bad(s, cmd, c, "Missing required argument to Setmetadata");
        return;
    }
    do {
        struct md_set_item *it;

        c = imapparse_astring(&s->parse, &s->arg2);
        if (c != ' ') {
            if (c < 0)
                imapd_args_error(s, cmd, c, NULL);
            else
                imapd_args_missing(s, cmd, c);
            goto out;
        }
        if (annotate_entry_parse(buf_cstring(&s->arg2), &shared, &path)) {
            imapd_bad(s, cmd, c, "Invalid entry name");
            goto out;
        }
        if (n == alloc) {
            alloc = alloc ? 2 * alloc : 8;
            items = xrealloc(items, (size_t)alloc * sizeof(*items));
        }
        it = &items[n++];
        memset(it, 0, sizeof(*it));
        it->entry = xstrdup(buf_cstring(&path));
        it->shared = shared;
        c = read_value(s, &it->value, &it->is_nil, &toobig);
        if (toobig) {
            imapparse_skipline(&s->parse, c);
            if (!prot_error(s->prot))
                prot_printf(s->prot,
                            "%s NO [METADATA MAXSIZE %d] Value too large\r\n",
                            cmd->tag, IMAPD_METADATA_MAXSIZE);
            goto out;
        }
        if (c < 0) {
            imapd_args_error(s, cmd, c, NULL);
            goto out;
        }
    } while (c == ' ');
    if (c != ')') {
        imapd_bad(s, cmd, c, "Missing close parenthesis in Setmetadata");
        goto out;
    }
    c = prot_getc(s->prot);
    if (imapd_args_end(s, cmd, c) < 0)
        goto out;

    e = md_target(s, buf_cstring(&s->arg1), &t);
    for (int i = 0; !e && i < n; i++) {
        struct md_set_item *it = &items[i];

        if (!entry_settable(s, t.server, it->shared, it->entry))
            e = IMAPD_ERR_BADENTRY;
        else if (t.server && it->shared && !s->isadmin)
            e = IMAPD_ERR_NOPERM;
        else if (!it->is_nil && it->value.len > IMAPD_METADATA_MAXSIZE) {
            prot_printf(s->prot,
                        "%s NO [METADATA MAXSIZE %d] Value too large\r\n",
                        cmd->tag, IMAPD_METADATA_MAXSIZE);
            goto out;
        }
        else if (!strcmp(it->entry, SPECIALUSE_ENTRY)) {
            e = imapd_specialuse_check(s, t.mb.intname, t.uniqueid,
                                       it->is_nil ? ""
                                                  : buf_cstring(&it->value),
                                       &canon);
            if (!e) {
                it->is_nil = !canon.len;
                buf_setcstr(&it->value, buf_cstring(&canon));
            }
        }
    }
    if (e) {
        imapd_no(s, cmd, e);
        goto out;
    }

    /* Count and size limits, and quota, against the values as they are. */
    int64_t delta[QUOTA_NUMRESOURCES] = { 0 };
    changes = xzmalloc((size_t)n * sizeof(*changes));
    for (int i = 0; i < n; i++) {
        struct md_set_item *it = &items[i];
        const char *userid = it->shared ? "" : s->userid;
        struct buf old = BUF_INITIALIZER;
        int had = !annotate_get(t.uniqueid, it->entry, userid, &old);
        int count = 0;

        if (!it->is_nil && !had) {
            annotate_usage(t.uniqueid, userid, NULL, &count);
            if (count >= IMAPD_METADATA_MAXENTRIES)
                e = IMAPD_ERR_METADATA_TOOMANY;
        }
        delta[QUOTA_ANNOTSTORAGE] += (int64_t)(it->is_nil ? 0 : it->value.len)
                                     - (int64_t)(had ? old.len : 0);
        buf_free(&old);
        changes[i].entry = it->entry;
        changes[i].userid = userid;
        changes[i].value = it->is_nil ? NULL : (it->value.s ? it->value.s : "");
        changes[i].len = it->is_nil ? 0 : it->value.len;
    }
    char *root = t.server ? NULL : quota_findroot(t.mb.intname);
    if (!e && root && delta[QUOTA_ANNOTSTORAGE] > 0 &&
        quota_check(root, delta, 1, NULL) == QUOTA_EXCEEDED)
        e = IMAPD_ERR_OVERQUOTA;
    if (!e) {
        int64_t stored = 0;
        if (annotate_store(t.uniqueid, changes, n, &stored))
            e = IMAPD_ERR_IOERROR;
        else if (root && stored) {
            memset(delta, 0, sizeof(delta));
            delta[QUOTA_ANNOTSTORAGE] = stored;
            quota_update_used(root, delta);
        }
    }
    free(root);
    if (e)
        imapd_no(s, cmd, e);
    else
        imapd_ok(s, cmd);

out:
    imapd_mbox_fini(&t.mb);
    for (int i = 0; i < n; i++) {
        free(items[i].entry);
        buf_free(&items[i].value);
    }
    free(items);
    free(changes);
    buf_free(&path);
    buf_free(&canon);
}
