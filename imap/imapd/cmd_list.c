/* cmd_list.c -- LIST and LSUB (RFC 3501 6.3.8, 6.3.9; CHILDREN, RFC 3348)
 * with LIST-EXTENDED (RFC 5258), LIST-STATUS (RFC 5819), SPECIAL-USE
 * (RFC 6154) and LIST-MYRIGHTS (RFC 8440).
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

/* Does any name in the listing lie below `name`? */
static int listing_haschildren(const struct listing *l, const char *name,
                               char sep)
{
    size_t n = strlen(name);

    for (int i = 0; i < l->count; i++) {
        const char *x = l->names[i].ext;
        if (!strncmp(x, name, n) && x[n] == sep)
            return 1;
    }
    return 0;
}

static void print_entry(struct imapd_session *s, const char *what,
                        const char *attrs, const char *name)
{
    char sep = mboxname_sep(&s->ns);

    prot_printf(s->prot, "* %s (%s) \"%c\" ", what, attrs, sep);
    imapd_print_astring(s->prot, name);
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

    if (c != ' ') {
        imapd_args_missing(s, cmd, c);
        return;
    }
    c = imapparse_astring(&s->parse, &s->arg1);
    if (c != ' ') {
        if (c < 0)
            imapd_args_error(s, cmd, c, NULL);
        else
            imapd_args_missing(s, cmd, c);
        return;
    }
    /* list-mailbox: an astring, or an atom that may hold '%' and '*'. */
    c = prot_getc(s->prot);
    prot_ungetc(c, s->prot);
    if (c == '"' || c == '{')
        c = imapparse_astring(&s->parse, &s->arg2);
    else
        c = imapparse_word(&s->parse, &s->arg2);
    if (imapd_args_end(s, cmd, c) < 0)
        return;

    if (!s->arg2.len && !lsub) {
        /* RFC 3501: the delimiter and the root of the reference. */
        prot_printf(s->prot, "* LIST (\\Noselect) \"%c\" \"\"\r\n", sep);
        imapd_ok(s, cmd);
        return;
    }

    pattern = full_pattern(buf_cstring(&s->arg1), buf_cstring(&s->arg2), sep);
    pct = *pattern && pattern[strlen(pattern) - 1] == '%';
    g = glob_new(pattern, sep, GLOB_INBOXCASE);
    hash_init(&done, 64);
    collect_visible(s, &l);

    if (!lsub) {
        for (int i = 0; i < l.count; i++) {
            const char *name = l.names[i].ext;
            int children = listing_haschildren(&l, name, sep);
            char attrs[64];

            if (pct)
                report_levels(s, what, &l, g, name, &done, 0);
            if (!glob_match(g, name) || hash_lookup(&done, name))
                continue;
            hash_insert(&done, name, (void *)1);
            snprintf(attrs, sizeof(attrs), "%s%s",
                     l.names[i].selectable ? "" : "\\Noselect ",
                     children ? "\\HasChildren" : "\\HasNoChildren");
            print_entry(s, what, attrs, name);
        }
    }
    else {
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

void cmd_list(struct imapd_session *s, struct imapd_cmd *cmd)
{
    do_list(s, cmd, 0);
}

void cmd_lsub(struct imapd_session *s, struct imapd_cmd *cmd)
{
    do_list(s, cmd, 1);
}
