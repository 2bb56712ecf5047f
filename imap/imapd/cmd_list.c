/* cmd_list.c -- LIST and LSUB (RFC 3501 6.3.8, 6.3.9; CHILDREN, RFC 3348)
 * with LIST-EXTENDED (RFC 5258), LIST-STATUS (RFC 5819), SPECIAL-USE
 * (RFC 6154), LIST-MYRIGHTS (RFC 8440) and LIST-METADATA (RFC 9590).
 *
 * The names a user may see are collected once per command in external
 * form (mailboxes with 'l', his INBOX always), sorted, and matched
 * against the patterns; attributes come from that sorted list, so
 * \HasChildren never reveals a mailbox the user cannot list.  Names that
 * are only levels of hierarchy are returned with \Noselect when the
 * pattern ends in '%', as RFC 3501 asks (\NonExistent in an extended
 * LIST).  Selection options narrow the names (SUBSCRIBED may add names
 * that do not exist); RECURSIVEMATCH adds the parents of selected names
 * with CHILDINFO; return options only add information.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "imap/imapd/imapd.h"
#include "imap/imapd/imapd_commands.h"
#include "imap/imapd/imapd_mailbox.h"
#include "imap/imapd/imapd_metadata.h"
#include "imap/store/subs.h"
#include "lib/glob.h"
#include "lib/hash.h"
#include "lib/utf8.h"
#include "lib/xmalloc.h"

/* One visible name. */
struct listname {
    char *ext;
    int selectable;   /* an ordinary mailbox (not an intermediate) */
    int subscribed;   /* LSUB: an entry of the subscription list */
    int exists;       /* a record the user may see (else \NonExistent) */
    char *intname;    /* internal name, uniqueid: when exists */
    char *uniqueid;
    acl_rights_t rights;
};

struct listing {
    struct listname *names;
    int count, alloc;
};

static void listing_add(struct listing *l, char *ext, int selectable)
{
    if (l->count == l->alloc) {
        l->alloc = l->alloc ? 2 * l->alloc : 64;
        l->names = xrealloc(l->names, (size_t)l->alloc * sizeof(*l->names));
    }
    memset(&l->names[l->count], 0, sizeof(l->names[l->count]));
    l->names[l->count].ext = ext;
    l->names[l->count].selectable = selectable;
    l->names[l->count].exists = 1;
    l->count++;
}

static void listing_fini(struct listing *l)
{
    for (int i = 0; i < l->count; i++) {
        free(l->names[i].ext);
        free(l->names[i].intname);
        free(l->names[i].uniqueid);
    }
    free(l->names);
    memset(l, 0, sizeof(*l));
}

/* INBOX first, then bytewise order: a name's children follow it
 * directly after any names that share its prefix. */
static int compare_names(const void *a, const void *b)
{
    const char *x = ((const struct listname *)a)->ext;
    const char *y = ((const struct listname *)b)->ext;
    int xi = !strcmp(x, "INBOX"), yi = !strcmp(y, "INBOX");

    if (xi != yi)
        return yi - xi;
    return strcmp(x, y);
}

struct collect_rock {
    struct imapd_session *s;
    struct listing *l;
    const char *inbox;
};

static int collect_cb(const struct mboxlist_entry *e, void *rock)
{
    struct collect_rock *cr = rock;
    acl_rights_t rights;
    char *ext;

    rights = imapd_mailbox_rights(cr->s, e->name, e->acl);
    if (!(rights & ACL_LOOKUP))
        return 0;
    ext = imapd_mailbox_extname(cr->s, e->name);
    if (ext) {
        listing_add(cr->l, ext, e->type == MBTYPE_EMAIL);
        struct listname *n = &cr->l->names[cr->l->count - 1];
        n->intname = xstrdup(e->name);
        n->uniqueid = e->uniqueid ? xstrdup(e->uniqueid) : NULL;
        n->rights = rights;
    }
    return 0;
}

/* Every name the session may see, sorted. */
static void collect_visible(struct imapd_session *s, struct listing *l)
{
    struct collect_rock cr = { s, l, NULL };

    mboxlist_foreach("", collect_cb, &cr);
    if (l->count > 1)
        qsort(l->names, (size_t)l->count, sizeof(*l->names), compare_names);
}

/* Index of `name` in the sorted listing, or -1. */
static int listing_find(const struct listing *l, const char *name)
{
    struct listname key;

    memset(&key, 0, sizeof(key));
    key.ext = (char *)name;
    struct listname *hit;
    hit = bsearch(&key, l->names, (size_t)l->count, sizeof(*l->names),
                  compare_names);
    return hit ? (int)(hit - l->names) : -1;
}

static void print_entry(struct imapd_session *s, const char *what,
                        const char *attrs, const char *name)
{
    char sep = mboxname_sep(&s->ns);

    prot_printf(s->prot, "* %s (%s) \"%c\" ", what, attrs, sep);
    imapd_print_mailbox(s, name);
    prot_puts(s->prot, "\r\n");
}

/* The pattern a reference and a mailbox argument make together. */
static char *full_pattern(const char *ref, const char *pat, char sep)
{
    size_t rl = strlen(ref);

    if (rl && ref[rl - 1] == sep && pat[0] == sep)
        pat++;
    return strconcat(ref, pat, (char *)NULL);
}

/* A pattern as the names it is matched against are spelt: a UTF-8
 * session's in NFC (names reach it normalised, imapd_mailbox_extname),
 * NULL when it is not UTF-8 at all and so can match nothing.  Takes
 * `pattern`. */
static char *wire_pattern(struct imapd_session *s, char *pattern)
{
    char *norm;

    if (!imapd_utf8_names(s))
        return pattern;
    if (!utf8_valid(pattern, strlen(pattern))) {
        free(pattern);
        return NULL;
    }
    norm = imapd_name_normalized(s, pattern);
    if (!norm)
        return pattern;
    free(pattern);
    return norm;
}

/* Levels of hierarchy above `name` that match (pattern ends in '%'),
 * not being names themselves, each reported once. */
static void report_levels(struct imapd_session *s, const char *what,
                          const struct listing *l, const struct glob *g,
                          const char *name, struct hash_table *done, int lsub)
{
    char sep = mboxname_sep(&s->ns);
    char *copy = xstrdup(name);

    for (char *p = strchr(copy, sep); p; p = strchr(p + 1, sep)) {
        *p = '\0';
        if (*copy && glob_match(g, copy) && !hash_lookup(done, copy)) {
            int idx = listing_find(l, copy);
            /* A real name is reported by its own turn. */
            if (idx < 0 || (lsub && !l->names[idx].subscribed)) {
                hash_insert(done, copy, (void *)1);
                print_entry(s, what, lsub ? "\\Noselect" :
                            "\\Noselect \\HasChildren", copy);
            }
        }
        *p = sep;
    }
    free(copy);
}

static void do_list(struct imapd_session *s, struct imapd_cmd *cmd, int lsub)
{
    const char *what = lsub ? "LSUB" : "LIST";
    char sep = mboxname_sep(&s->ns);
    struct listing l = { NULL, 0, 0 };
    struct hash_table done;
    struct glob *g;
    char *pattern;
    int c = cmd->c, pct;

    c = imapd_arg_astring(s, cmd, c, &s->arg1, 1);
    if (c < 0)
        return;
    /* list-mailbox: an astring, or an atom that may hold '%' and '*'. */
    c = prot_getc(s->prot);
    prot_ungetc(c, s->prot);
    if (c == '"' || c == '{')
        c = imapparse_astring(&s->parse, &s->arg2);
    else
        c = imapparse_word(&s->parse, &s->arg2);
    if (imapd_args_end(s, cmd, c) < 0)
        return;

    pattern = wire_pattern(s, full_pattern(buf_cstring(&s->arg1),
                                           buf_cstring(&s->arg2), sep));
    if (!pattern) {
        /* RFC 3501 6.3.8: a pattern not accepted lists nothing. */
        imapd_ok(s, cmd);
        return;
    }
    pct = *pattern && pattern[strlen(pattern) - 1] == '%';
    g = glob_new(pattern, sep, GLOB_INBOXCASE);
    hash_init(&done, 64);
    collect_visible(s, &l);

    {
        strarray_t subs = STRARRAY_INITIALIZER;
        struct listing sl = { NULL, 0, 0 };

        subs_read(s->settings->mbox.configdir, s->userid, &subs);
        for (int i = 0; i < subs.count; i++) {
            char *ext = imapd_mailbox_extname(s, strarray_nth(&subs, i));
            if (!ext)
                continue;
            int idx = listing_find(&l, ext);
            /* A subscription to a mailbox that is gone or invisible is
             * kept (RFC 3501 6.3.6) and shown as \Noselect. */
            listing_add(&sl, ext, idx >= 0 && l.names[idx].selectable);
            sl.names[sl.count - 1].subscribed = 1;
        }
        strarray_fini(&subs);
        if (sl.count > 1)
            qsort(sl.names, (size_t)sl.count, sizeof(*sl.names),
                  compare_names);
        for (int i = 0; i < sl.count; i++) {
            const char *name = sl.names[i].ext;

            if (pct)
                report_levels(s, what, &sl, g, name, &done, 1);
            if (!glob_match(g, name) || hash_lookup(&done, name))
                continue;
            hash_insert(&done, name, (void *)1);
            print_entry(s, what, sl.names[i].selectable ? "" : "\\Noselect",
                        name);
        }
        listing_fini(&sl);
    }

    hash_free(&done, NULL);
    listing_fini(&l);
    glob_free(&g);
    free(pattern);
    imapd_ok(s, cmd);
}

/* --- LIST, basic and extended --- */

struct listopts {
    int extended;             /* any RFC 5258 syntax was used */
    int sel_subscribed, sel_remote, sel_recursive, sel_specialuse;
    int ret_subscribed, ret_children, ret_specialuse, ret_myrights;
    int ret_status;
    struct imapd_status_items status;
    int ret_metadata;
    strarray_t metadata;      /* RETURN (METADATA (entries)) */
    strarray_t patterns;      /* reference + pattern, "" ones left out */
    int delimiter;            /* basic LIST "" "": the delimiter request */
};

static int opt_is(const struct buf *b, const char *name)
{
    return !strcasecmp(buf_cstring((struct buf *)b), name);
}

/* One list-mailbox: an astring, or an atom that may hold '%' and '*'. */
static int read_pattern(struct imapd_session *s, struct buf *out)
{
    int c = prot_getc(s->prot);

    prot_ungetc(c, s->prot);
    if (c == '"' || c == '{')
        return imapparse_astring(&s->parse, out);
    return imapparse_word(&s->parse, out);
}

/* The entries of the METADATA return option, after "METADATA SP": one
 * entry, or "(" entry *(SP entry) ")", as GETMETADATA takes them.
 * Returns the next character or -1 after BAD. */
static int read_metadata_entries(struct imapd_session *s,
                                 struct imapd_cmd *cmd, struct listopts *o)
{
    struct buf entry = BUF_INITIALIZER;
    int c = prot_getc(s->prot), paren = c == '(';

    if (!paren)
        prot_ungetc(c, s->prot);
    do {
        c = imapparse_astring(&s->parse, &entry);
        if (c < 0) {
            imapd_args_error(s, cmd, c, NULL);
            goto bad;
        }
        if (!imapd_metadata_entry_valid(buf_cstring(&entry))) {
            imapd_bad(s, cmd, c, "Invalid entry name in List");
            goto bad;
        }
        strarray_append(&o->metadata, buf_cstring(&entry));
    } while (paren && c == ' ');
    if (paren) {
        if (c != ')') {
            imapd_bad(s, cmd, c, "Missing close parenthesis in List");
            goto bad;
        }
        c = prot_getc(s->prot);
    }
    buf_free(&entry);
    return c;
bad:
    buf_free(&entry);
    return -1;
}

/* "(" [option *(SP option)] ")" of atoms, the "(" already read; calls
 * `take` for each.  Returns the character after ")" or -1 after BAD. */
static int read_options(struct imapd_session *s, struct imapd_cmd *cmd,
                        struct listopts *o, int ret)
{
    int c = prot_getc(s->prot);

    if (c == ')')
        return prot_getc(s->prot);
    prot_ungetc(c, s->prot);
    do {
        struct buf *b = &s->arg2;

        c = imapparse_atom(&s->parse, b);
        if (c < 0) {
            imapd_args_error(s, cmd, c, NULL);
            return -1;
        }
        if (!ret && opt_is(b, "SUBSCRIBED"))
            o->sel_subscribed = 1;
        else if (!ret && opt_is(b, "REMOTE"))
            o->sel_remote = 1;
        else if (!ret && opt_is(b, "RECURSIVEMATCH"))
            o->sel_recursive = 1;
        else if (!ret && opt_is(b, "SPECIAL-USE"))
            o->sel_specialuse = 1;
        else if (ret && opt_is(b, "SUBSCRIBED"))
            o->ret_subscribed = 1;
        else if (ret && opt_is(b, "CHILDREN"))
            o->ret_children = 1;
        else if (ret && opt_is(b, "SPECIAL-USE"))
            o->ret_specialuse = 1;
        else if (ret && opt_is(b, "MYRIGHTS"))
            o->ret_myrights = 1;
        else if (ret && opt_is(b, "STATUS") && c == ' ') {
            if (imapd_status_parse(s, cmd, &o->status, &c) < 0)
                return -1;
            o->ret_status = 1;
        }
        else if (ret && opt_is(b, "METADATA") && c == ' ') {
            c = read_metadata_entries(s, cmd, o);
            if (c < 0)
                return -1;
            o->ret_metadata = 1;
        }
        else {
            imapd_bad(s, cmd, c, "Invalid List option %s", buf_cstring(b));
            return -1;
        }
    } while (c == ' ');
    if (c != ')') {
        imapd_bad(s, cmd, c, "Missing close parenthesis in List");
        return -1;
    }
    return prot_getc(s->prot);
}

/* Parse the whole LIST command into o; 0, or -1 after BAD. */
static int parse_list(struct imapd_session *s, struct imapd_cmd *cmd,
                      struct listopts *o)
{
    char sep = mboxname_sep(&s->ns);
    int c = cmd->c;

    if (c != ' ') {
        imapd_args_missing(s, cmd, c);
        return -1;
    }
    c = prot_getc(s->prot);
    if (c == '(') {
        o->extended = 1;
        c = read_options(s, cmd, o, 0);
        if (c < 0)
            return -1;
        if (c != ' ') {
            imapd_args_missing(s, cmd, c);
            return -1;
        }
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
        return -1;
    }
    c = prot_getc(s->prot);
    int many = c == '(';
    if (!many)
        prot_ungetc(c, s->prot);
    o->extended |= many;
    strarray_t raw = STRARRAY_INITIALIZER;
    do {
        c = read_pattern(s, &s->arg2);
        if (c < 0) {
            strarray_fini(&raw);
            imapd_args_error(s, cmd, c, NULL);
            return -1;
        }
        strarray_append(&raw, buf_cstring(&s->arg2));
    } while (many && c == ' ');
    if (many) {
        if (c != ')') {
            strarray_fini(&raw);
            imapd_bad(s, cmd, c, "Missing close parenthesis in List");
            return -1;
        }
        c = prot_getc(s->prot);
    }
    if (c == ' ') {
        c = imapparse_atom(&s->parse, &s->arg2);
        if (c < 0) {
            strarray_fini(&raw);
            imapd_args_error(s, cmd, c, NULL);
            return -1;
        }
        if (c == ' ' && opt_is(&s->arg2, "RETURN"))
            c = prot_getc(s->prot);
        else if (c == '(')
            c = ' '; /* "RETURN(": not the grammar */
        if (c != '(') {
            strarray_fini(&raw);
            imapd_bad(s, cmd, c, "Invalid List return options");
            return -1;
        }
        o->extended = 1;
        c = read_options(s, cmd, o, 1);
        if (c < 0) {
            strarray_fini(&raw);
            return -1;
        }
    }
    if (imapd_args_end(s, cmd, c) < 0) {
        strarray_fini(&raw);
        return -1;
    }
    /* The empty pattern is the basic LIST's delimiter request; an
     * extended LIST ignores it (RFC 5258 section 3). */
    for (int i = 0; i < raw.count; i++) {
        const char *pat = strarray_nth(&raw, i);
        char *full;

        if (!*pat && (o->extended || raw.count > 1))
            continue;
        /* RFC 5258 3: a pattern not accepted is silently ignored. */
        full = wire_pattern(s, full_pattern(buf_cstring(&s->arg1), pat, sep));
        if (full)
            strarray_appendm(&o->patterns, full);
    }
    if (!o->extended && raw.count == 1 && !*strarray_nth(&raw, 0)) {
        strarray_fini(&o->patterns);
        o->delimiter = 1;
    }
    strarray_fini(&raw);
    return 0;
}

/* Add `ext` (not visible as a mailbox) to the universe, once. */
static struct listname *universe_add(struct listing *u, struct hash_table *h,
                                     const char *ext)
{
    struct listname *n;

    if (hash_lookup(h, ext))
        return NULL;
    listing_add(u, xstrdup(ext), 0);
    n = &u->names[u->count - 1];
    n->exists = 0;
    hash_insert(h, ext, (void *)1);
    return n;
}

struct listctx {
    struct imapd_session *s;
    struct listopts *o;
    struct listing u;         /* every name that may be reported, sorted */
    struct glob **globs;
    int nglobs;
    char sep;
    unsigned char *sel;       /* per name: satisfies the selection */
    struct buf use;           /* scratch: special use */
};

static int matches(const struct listctx *x, const char *name)
{
    for (int i = 0; i < x->nglobs; i++)
        if (glob_match(x->globs[i], name))
            return 1;
    return 0;
}

static void specialuse_of(struct listctx *x, const struct listname *n)
{
    buf_reset(&x->use);
    if (n->exists && n->selectable && n->intname)
        imapd_specialuse_get(x->s, n->intname, n->uniqueid, &x->use);
}

/* Is `name` below `parent`?  With virtdomains, names of another domain
 * than the user's end in "@domain" (user/fred/Sent@example.com): a child
 * has its parent's domain and extends the part before it. */
static int is_below(const struct listctx *x, const char *name,
                    const char *parent)
{
    int vd = x->s->ns.virtdomains;
    const char *pd = vd ? strrchr(parent, '@') : NULL;
    const char *nd = vd ? strrchr(name, '@') : NULL;
    size_t len = pd ? (size_t)(pd - parent) : strlen(parent);

    if (!pd != !nd || (pd && strcmp(pd, nd)))
        return 0;
    return !strncmp(name, parent, len) && name[len] == x->sep;
}

static void list_one(struct listctx *x, int i, int childinfo)
{
    struct imapd_session *s = x->s;
    const struct listopts *o = x->o;
    const struct listname *n = &x->u.names[i];
    struct buf attrs = BUF_INITIALIZER;
    int haschild = 0;

    for (int j = 0; j < x->u.count && !haschild; j++)
        if (x->u.names[j].exists && is_below(x, x->u.names[j].ext, n->ext))
            haschild = 1;
    /* IMAP4rev2's LIST is the extended one (RFC 9051 6.3.9).  A name kept
     * as a placeholder of the hierarchy (a mailbox deleted while it had
     * children, or a level created above a new mailbox) is there but not
     * selectable: \Noselect, as RFC 3501 6.3.4 shows, not \NonExistent. */
    if (!n->exists)
        buf_appendcstr(&attrs, o->extended ||
                                       (s->enabled & IMAPD_EXT_IMAP4REV2)
                                   ? " \\NonExistent"
                                   : " \\Noselect");
    else if (!n->selectable)
        buf_appendcstr(&attrs, " \\Noselect");
    /* CHILDREN is implied unless the names were narrowed by a selection
     * option (the RFC 5258 examples), as Cyrus does. */
    int children = o->ret_children ||
                   !(o->sel_subscribed || o->sel_specialuse);
    if (children && (n->exists || haschild))
        buf_appendcstr(&attrs, haschild ? " \\HasChildren"
                                        : " \\HasNoChildren");
    if ((o->sel_subscribed || o->ret_subscribed) && n->subscribed)
        buf_appendcstr(&attrs, " \\Subscribed");
    if (o->sel_specialuse || o->ret_specialuse ||
        s->settings->mbox.specialusealways) {
        specialuse_of(x, n);
        if (x->use.len) {
            buf_putc(&attrs, ' ');
            buf_appendbuf(&attrs, &x->use);
        }
    }
    prot_printf(s->prot, "* LIST (%s) \"%c\" ",
                attrs.len ? buf_cstring(&attrs) + 1 : "", x->sep);
    imapd_print_mailbox(s, n->ext);
    if (childinfo) {
        prot_puts(s->prot, " (\"CHILDINFO\" (");
        if (o->sel_subscribed)
            prot_printf(s->prot, "\"SUBSCRIBED\"%s",
                        o->sel_specialuse ? " " : "");
        if (o->sel_specialuse)
            prot_puts(s->prot, "\"SPECIAL-USE\"");
        prot_puts(s->prot, "))");
    }
    prot_puts(s->prot, "\r\n");
    buf_free(&attrs);

    if (o->ret_myrights && n->exists) {
        char rights[ACL_RIGHTS_MAX];

        prot_puts(s->prot, "* MYRIGHTS ");
        imapd_print_mailbox(s, n->ext);
        prot_putc(' ', s->prot);
        imapd_print_string(s->prot, acl_rights_format(n->rights, rights));
        prot_puts(s->prot, "\r\n");
    }
    /* RFC 5819: STATUS for selectable mailboxes only, nothing on error. */
    if (o->ret_status && n->exists && n->selectable) {
        struct imapd_mbox mb = IMAPD_MBOX_INITIALIZER;

        if (!imapd_mailbox_resolve(s, n->ext, &mb) && mb.selectable)
            imapd_status_write(s, n->ext, &mb, &o->status);
        imapd_mbox_fini(&mb);
    }
    /* RFC 9590: after the LIST (and STATUS) of each mailbox. */
    if (o->ret_metadata && n->exists && n->selectable)
        imapd_metadata_list(s, n->ext, &o->metadata);
}

static void list_names(struct imapd_session *s, struct listopts *o)
{
    struct listctx x;
    struct listing vis = { NULL, 0, 0 };
    struct hash_table seen;
    int selecting = o->sel_subscribed || o->sel_specialuse;
    int pct = 0;

    memset(&x, 0, sizeof(x));
    x.s = s;
    x.o = o;
    x.sep = mboxname_sep(&s->ns);
    x.nglobs = o->patterns.count;
    x.globs = xzmalloc((size_t)(x.nglobs + 1) * sizeof(*x.globs));
    for (int i = 0; i < x.nglobs; i++) {
        const char *p = strarray_nth(&o->patterns, i);
        x.globs[i] = glob_new(p, x.sep, GLOB_INBOXCASE);
        if (*p && p[strlen(p) - 1] == '%')
            pct = 1;
    }

    /* The universe: visible names, subscriptions, and every level of
     * hierarchy above them. */
    hash_init(&seen, 256);
    collect_visible(s, &vis);
    x.u = vis;
    for (int i = 0; i < x.u.count; i++)
        hash_insert(&seen, x.u.names[i].ext, (void *)1);
    if (o->sel_subscribed || o->ret_subscribed) {
        strarray_t subs = STRARRAY_INITIALIZER;

        subs_read(s->settings->mbox.configdir, s->userid, &subs);
        for (int i = 0; i < subs.count; i++) {
            char *ext = imapd_mailbox_extname(s, strarray_nth(&subs, i));
            if (!ext)
                continue;
            if (!hash_lookup(&seen, ext))
                universe_add(&x.u, &seen, ext);
            /* The listing is unsorted while growing: search linearly. */
            for (int j = 0; j < x.u.count; j++)
                if (!strcmp(x.u.names[j].ext, ext))
                    x.u.names[j].subscribed = 1;
            free(ext);
        }
        strarray_fini(&subs);
    }
    int base = x.u.count;
    for (int i = 0; i < base; i++) {
        char *copy = xstrdup(x.u.names[i].ext);
        for (char *p = strchr(copy, x.sep); p; p = strchr(p + 1, x.sep)) {
            *p = '\0';
            if (*copy)
                universe_add(&x.u, &seen, copy);
            *p = x.sep;
        }
        free(copy);
    }
    if (x.u.count > 1)
        qsort(x.u.names, (size_t)x.u.count, sizeof(*x.u.names),
              compare_names);

    x.sel = xzmalloc((size_t)x.u.count + 1);
    for (int i = 0; i < x.u.count; i++) {
        struct listname *n = &x.u.names[i];
        int ok = n->exists || n->subscribed;

        if (o->sel_subscribed && !n->subscribed)
            ok = 0;
        if (ok && o->sel_specialuse) {
            specialuse_of(&x, n);
            ok = x.use.len > 0;
        }
        if (!selecting && !n->exists)
            ok = 0;
        x.sel[i] = (unsigned char)ok;
    }

    for (int i = 0; i < x.u.count; i++) {
        const struct listname *n = &x.u.names[i];
        int childinfo = 0, hidden_child = 0, visible_child = 0;

        if (!matches(&x, n->ext))
            continue;
        if (o->sel_recursive || (!selecting && pct && !n->exists)) {
            for (int j = 0; j < x.u.count; j++) {
                if (j == i || !is_below(&x, x.u.names[j].ext, n->ext))
                    continue;
                if (x.u.names[j].exists)
                    visible_child = 1;
                if (x.sel[j]) {
                    childinfo = 1;
                    if (!matches(&x, x.u.names[j].ext))
                        hidden_child = 1;
                }
            }
        }
        if (x.sel[i]) {
            list_one(&x, i, o->sel_recursive && childinfo);
        }
        else if (o->sel_recursive && hidden_child) {
            list_one(&x, i, 1);
        }
        else if (!selecting && pct && !n->exists && visible_child) {
            /* RFC 3501: '%' reports the levels between names. */
            list_one(&x, i, 0);
        }
    }

    for (int i = 0; i < x.nglobs; i++)
        glob_free(&x.globs[i]);
    free(x.globs);
    free(x.sel);
    buf_free(&x.use);
    hash_free(&seen, NULL);
    listing_fini(&x.u);
}

void cmd_list(struct imapd_session *s, struct imapd_cmd *cmd)
{
    struct listopts o;

    memset(&o, 0, sizeof(o));
    if (parse_list(s, cmd, &o) < 0) {
        strarray_fini(&o.patterns);
        strarray_fini(&o.metadata);
        return;
    }
    if (o.sel_recursive && !o.sel_subscribed && !o.sel_specialuse) {
        /* RFC 5258 3.1: RECURSIVEMATCH alone (or with REMOTE). */
        prot_printf(s->prot, "%s BAD Invalid List selection options\r\n",
                    cmd->tag);
        strarray_fini(&o.patterns);
        strarray_fini(&o.metadata);
        return;
    }
    if (o.delimiter) {
        /* RFC 3501: the delimiter and the root of the reference. */
        prot_printf(s->prot, "* LIST (\\Noselect) \"%c\" \"\"\r\n",
                    mboxname_sep(&s->ns));
    }
    else {
        list_names(s, &o);
    }
    strarray_fini(&o.patterns);
    strarray_fini(&o.metadata);
    imapd_ok(s, cmd);
}

/* --- LIST responses other commands send --- */

struct child_rock {
    struct imapd_session *s;
    const char *name;          /* the parent's wire name */
    size_t len;
    char sep;
};

/* Stops (1) at the first child the user may see whose name lies below
 * the parent's as the client sees names (with altnamespace the other
 * folders of a user are not below INBOX). */
static int child_cb(const struct mboxlist_entry *e, void *rock)
{
    struct child_rock *cr = rock;
    char *ext;
    int below;

    if (!(imapd_mailbox_rights(cr->s, e->name, e->acl) & ACL_LOOKUP))
        return 0;
    ext = imapd_mailbox_extname(cr->s, e->name);
    below = ext && !strncmp(ext, cr->name, cr->len) &&
            ext[cr->len] == cr->sep;
    free(ext);
    return below;
}

void imapd_list_untagged(struct imapd_session *s, const char *intname,
                         const char *uniqueid, int exists,
                         const char *oldname)
{
    char sep = mboxname_sep(&s->ns);
    struct buf attrs = BUF_INITIALIZER;
    char *name = imapd_mailbox_extname(s, intname);

    if (!name)
        return;
    if (!exists) {
        buf_appendcstr(&attrs, " \\NonExistent");
    }
    else {
        struct child_rock cr = { s, name, strlen(name), sep };
        char *prefix = strconcat(intname, ".", (char *)NULL);
        struct buf use = BUF_INITIALIZER;

        buf_appendcstr(&attrs, mboxlist_foreach(prefix, child_cb, &cr) == 1
                                   ? " \\HasChildren"
                                   : " \\HasNoChildren");
        free(prefix);
        imapd_specialuse_get(s, intname, uniqueid, &use);
        if (use.len) {
            buf_putc(&attrs, ' ');
            buf_appendbuf(&attrs, &use);
        }
        buf_free(&use);
    }
    prot_printf(s->prot, "* LIST (%s) \"%c\" ", buf_cstring(&attrs) + 1, sep);
    imapd_print_mailbox(s, name);
    if (oldname) {
        prot_puts(s->prot, " (\"OLDNAME\" (");
        imapd_print_mailbox(s, oldname);
        prot_puts(s->prot, "))");
    }
    prot_puts(s->prot, "\r\n");
    buf_free(&attrs);
    free(name);
}

void cmd_lsub(struct imapd_session *s, struct imapd_cmd *cmd)
{
    do_list(s, cmd, 1);
}
