/* cmd_notify.c -- NOTIFY SET / NOTIFY NONE (RFC 5465) and the polling
 * that turns other sessions' changes into untagged responses. */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "imap/imapd/imapd.h"
#include "imap/imapd/imapd_commands.h"
#include "imap/imapd/imapd_errors.h"
#include "imap/imapd/imapd_mailbox.h"
#include "imap/imapd/imapd_notify.h"
#include "imap/imapd/index.h"
#include "imap/store/annotate.h"
#include "imap/store/mailbox.h"
#include "imap/store/mboxlist.h"
#include "imap/store/mboxname.h"
#include "imap/store/subs.h"
#include "lib/log.h"
#include "lib/xmalloc.h"

enum {
    EV_MESSAGENEW = 1 << 0,
    EV_MESSAGEEXPUNGE = 1 << 1,
    EV_FLAGCHANGE = 1 << 2,
    EV_ANNOTATIONCHANGE = 1 << 3,
    EV_MAILBOXNAME = 1 << 4,
    EV_SUBSCRIPTIONCHANGE = 1 << 5,
    EV_MAILBOXMETADATACHANGE = 1 << 6,
    EV_SERVERMETADATACHANGE = 1 << 7,
    EV_UNKNOWN = 1 << 8,
};
#define EV_MESSAGE                                                             \
    (EV_MESSAGENEW | EV_MESSAGEEXPUNGE | EV_FLAGCHANGE | EV_ANNOTATIONCHANGE)
#define EV_METADATA (EV_MAILBOXMETADATACHANGE | EV_SERVERMETADATACHANGE)
/* AnnotationChange (message annotations, RFC 5257) is not supported. */
#define EV_SUPPORTED                                                           \
    (EV_MESSAGENEW | EV_MESSAGEEXPUNGE | EV_FLAGCHANGE | EV_MAILBOXNAME |      \
     EV_SUBSCRIPTIONCHANGE | EV_METADATA)
#define BADEVENT_TEXT                                                          \
    "[BADEVENT (MessageNew MessageExpunge FlagChange MailboxName "             \
    "SubscriptionChange MailboxMetadataChange ServerMetadataChange)]"

static const struct {
    const char *name;
    unsigned bit;
} event_names[] = {
    { "MessageNew", EV_MESSAGENEW },
    { "MessageExpunge", EV_MESSAGEEXPUNGE },
    { "FlagChange", EV_FLAGCHANGE },
    { "AnnotationChange", EV_ANNOTATIONCHANGE },
    { "MailboxName", EV_MAILBOXNAME },
    { "SubscriptionChange", EV_SUBSCRIPTIONCHANGE },
    { "MailboxMetadataChange", EV_MAILBOXMETADATACHANGE },
    { "ServerMetadataChange", EV_SERVERMETADATACHANGE },
};

enum filter {
    FILTER_SELECTED,
    FILTER_SELECTED_DELAYED,
    FILTER_INBOXES,
    FILTER_PERSONAL,
    FILTER_SUBSCRIBED,
    FILTER_SUBTREE,
    FILTER_MAILBOXES,
};

/* One event group for mailboxes other than the selected one. */
struct group {
    enum filter filter;
    strarray_t names;          /* internal names (SUBTREE, MAILBOXES) */
    unsigned events;
};

/* A mailbox of interest as last seen. */
struct watched {
    char *name;
    char *uniqueid;
    char *index_path;          /* its cyrus.index */
    unsigned events;           /* what the groups ask for it */
    int readable;              /* the user holds 'r' */
    int md_visible;            /* may read its metadata (RFC 5464 3.3) */
    int have_md;
    strarray_t md;             /* sorted "entry TAB digest" it had */
    int have_stat, have_header;
    struct stat st;
    uint32_t uidvalidity, uidnext, exists;
    uint64_t modseq;
};

struct imapd_notify {
    int sel_set;               /* SELECTED or SELECTED-DELAYED given */
    int sel_delayed;
    unsigned sel_events;
    struct imapd_fetch_att *fetch;
    struct group *groups;
    int ngroups;
    unsigned other_events;     /* union of the groups' events */
    struct watched *w;         /* sorted by name */
    size_t nw;
    strarray_t subs;           /* sorted internal names */
    int have_stamp;            /* the annotations stamp was looked at */
    struct stat stamp;         /* as it was then (zero: no file) */
    int have_server_md;
    strarray_t server_md;      /* server metadata, as watched->md */
};

static void watched_fini(struct watched *w)
{
    free(w->name);
    free(w->uniqueid);
    free(w->index_path);
    strarray_fini(&w->md);
}

static void watched_free_all(struct watched **wp, size_t *np)
{
    size_t i;

    for (i = 0; i < *np; i++)
        watched_fini(&(*wp)[i]);
    free(*wp);
    *wp = NULL;
    *np = 0;
}

void imapd_notify_free(struct imapd_notify **np)
{
    struct imapd_notify *n = *np;
    int i;

    if (!n)
        return;
    imapd_fetch_att_free(&n->fetch);
    for (i = 0; i < n->ngroups; i++)
        strarray_fini(&n->groups[i].names);
    free(n->groups);
    watched_free_all(&n->w, &n->nw);
    strarray_fini(&n->subs);
    strarray_fini(&n->server_md);
    free(n);
    *np = NULL;
}

/* --- which mailboxes a group covers --- */

static int group_covers(struct imapd_session *s, const struct group *g,
                        const char *inbox, const strarray_t *subs,
                        const char *name)
{
    int i;

    switch (g->filter) {
    case FILTER_INBOXES:   /* RFC 5465 6.3: may be taken as PERSONAL */
    case FILTER_PERSONAL:
        return inbox && mboxname_is_prefix(name, inbox);
    case FILTER_SUBSCRIBED:
        return strarray_find(subs, name, 0) >= 0;
    case FILTER_SUBTREE:
        for (i = 0; i < g->names.count; i++)
            if (mboxname_is_prefix(name, g->names.data[i]))
                return 1;
        return 0;
    case FILTER_MAILBOXES:
        return strarray_find(&g->names, name, 0) >= 0;
    default:
        (void)s;
        return 0;
    }
}

/* The events all groups ask for on `name`. */
static unsigned events_for(struct imapd_session *s, struct imapd_notify *n,
                           const char *inbox, const strarray_t *subs,
                           const char *name)
{
    unsigned ev = 0;
    int i;

    for (i = 0; i < n->ngroups; i++)
        if (group_covers(s, &n->groups[i], inbox, subs, name))
            ev |= n->groups[i].events;
    return ev;
}

/* --- taking a snapshot --- */

struct scan {
    struct imapd_session *s;
    struct imapd_notify *n;
    const char *inbox;
    const strarray_t *subs;
    struct watched *w;
    size_t nw, alloc;
    int overflow;
};

static int scan_entry(const struct mboxlist_entry *e, void *rock)
{
    struct scan *sc = rock;
    struct watched *w;
    struct buf path = BUF_INITIALIZER;
    acl_rights_t rights;
    unsigned ev;

    if (e->type != MBTYPE_EMAIL)
        return 0;
    ev = events_for(sc->s, sc->n, sc->inbox, sc->subs, e->name);
    if (!ev)
        return 0;
    /* A mailbox the user may not list is not there for NOTIFY. */
    rights = imapd_mailbox_rights(sc->s, e->name, e->acl);
    if (!(rights & ACL_LOOKUP))
        return 0;
    if (sc->nw && !strcmp(sc->w[sc->nw - 1].name, e->name))
        return 0;
    if (sc->nw >= IMAPD_NOTIFY_MAX_MAILBOXES) {
        sc->overflow = 1;
        return 1;
    }
    if (sc->nw == sc->alloc) {
        sc->alloc = sc->alloc ? sc->alloc * 2 : 16;
        sc->w = xrealloc(sc->w, sc->alloc * sizeof(*sc->w));
    }
    w = &sc->w[sc->nw++];
    memset(w, 0, sizeof(*w));
    w->name = xstrdup(e->name);
    w->uniqueid = xstrdup(e->uniqueid ? e->uniqueid : "");
    w->events = ev;
    w->readable = !!(rights & ACL_READ);
    w->md_visible = !!(rights & (ACL_READ | ACL_SETSEEN | ACL_WRITE |
                                 ACL_INSERT | ACL_POST));
    if (mboxlist_path(e->name, e->partition, &path) == 0) {
        buf_appendcstr(&path, "/cyrus.index");
        w->index_path = buf_release(&path);
    }
    buf_free(&path);
    return 0;
}

static int compare_watched(const void *a, const void *b)
{
    return strcmp(((const struct watched *)a)->name,
                  ((const struct watched *)b)->name);
}

static void scan_lookup(struct scan *sc, const char *name)
{
    struct mboxlist_entry e;

    memset(&e, 0, sizeof(e));
    if (mboxlist_lookup(name, &e) == 0)
        scan_entry(&e, sc);
    mboxlist_entry_fini(&e);
}

static int scan_prefix_cb(const struct mboxlist_entry *e, void *rock)
{
    return scan_entry(e, rock);
}

/* Every mailbox the groups cover, sorted by name, without duplicates.
 * -1 when there are too many. */
static int scan_mailboxes(struct imapd_session *s, struct imapd_notify *n,
                          const strarray_t *subs, struct watched **wp,
                          size_t *np)
{
    struct scan sc;
    char *inbox = imapd_mailbox_inbox(s);
    size_t i, j;
    int g, k;

    memset(&sc, 0, sizeof(sc));
    sc.s = s;
    sc.n = n;
    sc.inbox = inbox;
    sc.subs = subs;
    for (g = 0; g < n->ngroups && !sc.overflow; g++) {
        const struct group *gr = &n->groups[g];

        switch (gr->filter) {
        case FILTER_INBOXES:
        case FILTER_PERSONAL:
            if (inbox) {
                scan_lookup(&sc, inbox);
                char *prefix = strconcat(inbox, ".", (char *)NULL);
                mboxlist_foreach(prefix, scan_prefix_cb, &sc);
                free(prefix);
            }
            break;
        case FILTER_SUBSCRIBED:
            for (k = 0; k < subs->count; k++)
                scan_lookup(&sc, subs->data[k]);
            break;
        case FILTER_SUBTREE:
            for (k = 0; k < gr->names.count; k++) {
                char *prefix = strconcat(gr->names.data[k], ".",
                                         (char *)NULL);
                scan_lookup(&sc, gr->names.data[k]);
                mboxlist_foreach(prefix, scan_prefix_cb, &sc);
                free(prefix);
            }
            break;
        case FILTER_MAILBOXES:
            for (k = 0; k < gr->names.count; k++)
                scan_lookup(&sc, gr->names.data[k]);
            break;
        default:
            break;
        }
    }
    free(inbox);
    if (sc.overflow) {
        watched_free_all(&sc.w, &sc.nw);
        return -1;
    }
    if (sc.nw)
        qsort(sc.w, sc.nw, sizeof(*sc.w), compare_watched);
    /* Groups may overlap: keep one of each. */
    for (i = 0, j = 0; i < sc.nw; i++) {
        if (j && !strcmp(sc.w[j - 1].name, sc.w[i].name)) {
            watched_fini(&sc.w[i]);
            continue;
        }
        sc.w[j++] = sc.w[i];
    }
    *wp = sc.w;
    *np = j;
    return 0;
}

static struct watched *find_watched(struct watched *w, size_t n,
                                    const char *name)
{
    struct watched key;

    if (!n)
        return NULL;
    key.name = (char *)name;
    return bsearch(&key, w, n, sizeof(*w), compare_watched);
}

static struct watched *find_uniqueid(struct watched *w, size_t n,
                                     const char *uniqueid)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (*uniqueid && !strcmp(w[i].uniqueid, uniqueid))
            return &w[i];
    return NULL;
}

/* Read the counters of a mailbox whose index changed. */
static int read_header(struct watched *w)
{
    struct mailbox *mb = NULL;
    char *dir;
    const struct index_header *h;
    int r;

    dir = xstrndup(w->index_path, strlen(w->index_path) -
                                      strlen("/cyrus.index"));
    r = mailbox_open(dir, &mb);
    free(dir);
    if (r)
        return -1;
    if (mailbox_lock_shared(mb)) {
        mailbox_close(&mb);
        return -1;
    }
    h = mailbox_header(mb);
    w->uidvalidity = h->uidvalidity;
    w->uidnext = h->last_uid + 1;
    w->exists = h->exists;
    w->modseq = h->highestmodseq;
    w->have_header = 1;
    mailbox_unlock(mb);
    mailbox_close(&mb);
    return 0;
}

static int same_stat(const struct stat *a, const struct stat *b)
{
    return a->st_ino == b->st_ino && a->st_size == b->st_size &&
           a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
           a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

/* Bring a fresh entry's counters up to date, from `old` when the file
 * has not changed. */
static void refresh_counters(struct watched *w, const struct watched *old)
{
    struct stat st;

    if (!w->index_path || stat(w->index_path, &st) < 0)
        return;
    if (old && old->have_header && old->have_stat &&
        !strcmp(old->uniqueid, w->uniqueid) && same_stat(&old->st, &st)) {
        w->st = st;
        w->have_stat = 1;
        w->uidvalidity = old->uidvalidity;
        w->uidnext = old->uidnext;
        w->exists = old->exists;
        w->modseq = old->modseq;
        w->have_header = 1;
        return;
    }
    w->st = st;
    w->have_stat = 1;
    if (read_header(w) < 0)
        w->have_stat = 0;
}

/* `initial`: the answer to NOTIFY SET's STATUS indicator, which carries
 * HIGHESTMODSEQ whenever the server supports CONDSTORE (RFC 5465 3.1);
 * later ones only once the client enabled it (5.2, 5.3). */
static void write_status(struct imapd_session *s, const struct watched *w,
                         int initial)
{
    char *ext = imapd_mailbox_extname(s, w->name);

    if (!ext)
        return;
    prot_puts(s->prot, "* STATUS ");
    imapd_print_mailbox(s, ext);
    prot_printf(s->prot, " (MESSAGES %u UIDNEXT %u UIDVALIDITY %u",
                w->exists, w->uidnext, w->uidvalidity);
    if (initial || (s->enabled & IMAPD_EXT_CONDSTORE))
        prot_printf(s->prot, " HIGHESTMODSEQ %llu",
                    (unsigned long long)w->modseq);
    prot_puts(s->prot, ")\r\n");
    free(ext);
}

/* Does `w` (now) differ from `old` in a way the client asked about? */
static int status_changed(struct imapd_session *s, const struct watched *w,
                          const struct watched *old)
{
    if (w->uidvalidity != old->uidvalidity)
        return 1;
    if ((w->events & (EV_MESSAGENEW | EV_MESSAGEEXPUNGE)) &&
        (w->exists != old->exists || w->uidnext != old->uidnext))
        return 1;
    /* RFC 5465 5.1: flag changes elsewhere show only in HIGHESTMODSEQ. */
    if ((w->events & EV_FLAGCHANGE) && (s->enabled & IMAPD_EXT_CONDSTORE) &&
        w->modseq != old->modseq)
        return 1;
    return 0;
}

static int watches_messages(const struct watched *w)
{
    return w->readable && (w->events & EV_MESSAGE);
}

/* --- metadata (RFC 5465 5.6, 5.7) --- */

/* Has the annotations database changed since the last look?  1 too
 * when there was no last look. */
static int md_stamp_changed(struct imapd_notify *n)
{
    const char *path = annotate_stamp_path();
    struct stat st;
    int changed;

    memset(&st, 0, sizeof(st));
    if (!path || stat(path, &st) < 0)
        memset(&st, 0, sizeof(st));
    changed = !n->have_stamp || !same_stat(&n->stamp, &st) ||
              n->stamp.st_ctim.tv_sec != st.st_ctim.tv_sec ||
              n->stamp.st_ctim.tv_nsec != st.st_ctim.tv_nsec;
    n->stamp = st;
    n->have_stamp = 1;
    return changed;
}

struct md_rock {
    const char *userid;
    strarray_t *out;
    struct buf line;
};

static int md_cb(const char *entry, const char *userid, const char *value,
                 size_t len, void *rock)
{
    struct md_rock *r = rock;
    uint64_t h = 14695981039346656037ULL;   /* FNV-1a */
    size_t i;

    /* Only the shared values and the user's own private ones. */
    if (*userid && strcmp(userid, r->userid))
        return 0;
    for (i = 0; i < len; i++) {
        h ^= (unsigned char)value[i];
        h *= 1099511628211ULL;
    }
    buf_reset(&r->line);
    buf_printf(&r->line, "%s%s\t%zu:%016llx", *userid ? "/private" : "/shared",
               entry, len, (unsigned long long)h);
    strarray_append(r->out, buf_cstring(&r->line));
    return 0;
}

/* The user's view of the metadata of `uniqueid` ("" server) into `out`,
 * sorted. */
static void md_read(struct imapd_session *s, const char *uniqueid,
                    strarray_t *out)
{
    struct md_rock r = { s->userid ? s->userid : "", out, BUF_INITIALIZER };

    strarray_fini(out);
    if (annotate_foreach(uniqueid, "", -1, NULL, md_cb, &r))
        log_error("notify: cannot read the metadata of mailbox id '%s'",
                  uniqueid);
    buf_free(&r.line);
    strarray_sort(out);
}

/* Entry names of the lines of `a` that are not in `b`, into `names`. */
static void md_diff(const strarray_t *a, const strarray_t *b,
                    strarray_t *names)
{
    int i;

    for (i = 0; i < a->count; i++) {
        const char *line = a->data[i];
        char *tab;

        if (strarray_find(b, line, 0) >= 0)
            continue;
        tab = strchr(line, '\t');
        strarray_appendm(names, tab ? xstrndup(line, (size_t)(tab - line))
                                    : xstrdup(line));
    }
}

/* "* METADATA mailbox entry ..." (RFC 5464 4.4.2: names only; deleted
 * entries included) when `old` and `now` differ. */
static void md_report(struct imapd_session *s, const char *intname,
                      const strarray_t *old, const strarray_t *now)
{
    strarray_t names = STRARRAY_INITIALIZER;
    int i;

    md_diff(old, now, &names);
    md_diff(now, old, &names);
    if (names.count) {
        strarray_sort(&names);
        if (intname) {
            char *ext = imapd_mailbox_extname(s, intname);

            if (!ext) {
                strarray_fini(&names);
                return;
            }
            /* Quoted, as GETMETADATA answers. */
            prot_puts(s->prot, "* METADATA ");
            imapd_print_string(s->prot, ext);
            free(ext);
        }
        else {
            prot_puts(s->prot, "* METADATA \"\"");
        }
        for (i = 0; i < names.count; i++) {
            /* A changed value shows in both diffs: name it once. */
            if (i && !strcmp(names.data[i], names.data[i - 1]))
                continue;
            prot_printf(s->prot, " %s", names.data[i]);
        }
        prot_puts(s->prot, "\r\n");
    }
    strarray_fini(&names);
}

/* Bring the metadata snapshots up to date (`changed`: the database may
 * have changed since the last look), reporting differences. */
static void md_scan(struct imapd_session *s, struct imapd_notify *n,
                    struct watched *nw, size_t nn, int changed, int report)
{
    size_t i;

    for (i = 0; i < nn; i++) {
        struct watched *w = &nw[i];
        struct watched *old = find_watched(n->w, n->nw, w->name);
        int same = old && old->have_md && !strcmp(old->uniqueid, w->uniqueid);

        if (!(w->events & EV_MAILBOXMETADATACHANGE) || !w->md_visible ||
            !*w->uniqueid)
            continue;
        if (same && !changed) {
            w->md = old->md;
            memset(&old->md, 0, sizeof(old->md));
            old->have_md = 0;
            w->have_md = 1;
            continue;
        }
        md_read(s, w->uniqueid, &w->md);
        w->have_md = 1;
        if (report && same)
            md_report(s, w->name, &old->md, &w->md);
    }
    if (!(n->other_events & EV_SERVERMETADATACHANGE)) {
        strarray_fini(&n->server_md);
        n->have_server_md = 0;
    }
    else if (changed || !n->have_server_md) {
        strarray_t now = STRARRAY_INITIALIZER;

        md_read(s, "", &now);
        if (report && n->have_server_md)
            md_report(s, NULL, &n->server_md, &now);
        strarray_fini(&n->server_md);
        n->server_md = now;
        n->have_server_md = 1;
    }
}

/* --- mailbox names --- */

/* The internal name of the parent of `intname` as the client sees the
 * hierarchy, or NULL for a top-level name (new memory). */
static char *client_parent(struct imapd_session *s, const char *intname)
{
    char *ext = imapd_mailbox_extname(s, intname);
    char *sep, *parent = NULL;

    if (!ext)
        return NULL;
    sep = strrchr(ext, mboxname_sep(&s->ns));
    if (sep && sep != ext) {
        *sep = '\0';
        parent = imapd_mailbox_intname(s, ext);
    }
    free(ext);
    return parent;
}

/* RFC 5465 5.4: the direct parent of a created or deleted mailbox is
 * affected too (its \HasChildren changes); `done` holds the names
 * already told of. */
static void report_parents(struct imapd_session *s, struct imapd_notify *n,
                           const strarray_t *subs, const strarray_t *changed,
                           const strarray_t *done)
{
    strarray_t parents = STRARRAY_INITIALIZER;
    char *inbox = imapd_mailbox_inbox(s);
    int i;

    for (i = 0; i < changed->count; i++) {
        char *parent = client_parent(s, changed->data[i]);

        if (!parent)
            continue;
        if (strarray_find(done, parent, 0) >= 0 ||
            strarray_find(&parents, parent, 0) >= 0 ||
            !(events_for(s, n, inbox, subs, parent) & EV_MAILBOXNAME)) {
            free(parent);
            continue;
        }
        strarray_appendm(&parents, parent);
    }
    for (i = 0; i < parents.count; i++) {
        struct mboxlist_entry e;
        int exists;

        memset(&e, 0, sizeof(e));
        exists = mboxlist_lookup(parents.data[i], &e) == 0 &&
                 e.type == MBTYPE_EMAIL &&
                 (imapd_mailbox_rights(s, e.name, e.acl) & ACL_LOOKUP);
        imapd_list_untagged(s, parents.data[i], exists ? e.uniqueid : NULL,
                            exists, NULL);
        mboxlist_entry_fini(&e);
    }
    strarray_fini(&parents);
    free(inbox);
}

/* "* LIST" for a created, deleted or renamed mailbox. */
static void report_names(struct imapd_session *s, struct imapd_notify *n,
                         const strarray_t *subs, struct watched *nw,
                         size_t nn)
{
    strarray_t changed = STRARRAY_INITIALIZER;   /* created or deleted */
    strarray_t done = STRARRAY_INITIALIZER;      /* told of */
    size_t i;

    for (i = 0; i < n->nw; i++) {
        struct watched *old = &n->w[i];
        struct watched *now;

        if (!(old->events & EV_MAILBOXNAME))
            continue;
        if (find_watched(nw, nn, old->name))
            continue;
        now = find_uniqueid(nw, nn, old->uniqueid);
        if (now) {
            char *parent_old = mboxname_parent(old->name);
            char *parent_new = mboxname_parent(now->name);
            int child = 0;

            /* A child renamed along with its parent is not told of
             * (RFC 5465 5.4). */
            if (parent_old && parent_new &&
                !find_watched(nw, nn, parent_old)) {
                struct watched *po = find_watched(n->w, n->nw, parent_old);
                struct watched *pn = find_watched(nw, nn, parent_new);
                child = po && pn && !strcmp(po->uniqueid, pn->uniqueid);
            }
            free(parent_old);
            free(parent_new);
            if (!child && (now->events & EV_MAILBOXNAME)) {
                char *oldext = imapd_mailbox_extname(s, old->name);
                imapd_list_untagged(s, now->name, now->uniqueid, 1, oldext);
                free(oldext);
                strarray_append(&done, now->name);
            }
            continue;
        }
        imapd_list_untagged(s, old->name, NULL, 0, NULL);
        strarray_append(&changed, old->name);
        strarray_append(&done, old->name);
    }
    for (i = 0; i < nn; i++) {
        if (!(nw[i].events & EV_MAILBOXNAME))
            continue;
        if (find_watched(n->w, n->nw, nw[i].name) ||
            find_uniqueid(n->w, n->nw, nw[i].uniqueid))
            continue;
        imapd_list_untagged(s, nw[i].name, nw[i].uniqueid, 1, NULL);
        strarray_append(&changed, nw[i].name);
        strarray_append(&done, nw[i].name);
    }
    report_parents(s, n, subs, &changed, &done);
    strarray_fini(&changed);
    strarray_fini(&done);
}

/* "* LIST" for each (un)subscribed name in a group asking for it. */
static void report_subs(struct imapd_session *s, struct imapd_notify *n,
                        const strarray_t *subs, struct watched *nw,
                        size_t nn)
{
    char *inbox = imapd_mailbox_inbox(s);
    char sep = mboxname_sep(&s->ns);
    int pass, i;

    for (pass = 0; pass < 2; pass++) {
        const strarray_t *a = pass ? &n->subs : subs;
        const strarray_t *b = pass ? subs : &n->subs;

        for (i = 0; i < a->count; i++) {
            const char *name = a->data[i];
            char *ext;

            if (strarray_find(b, name, 0) >= 0)
                continue;
            if (!(events_for(s, n, inbox, pass ? &n->subs : subs, name) &
                  EV_SUBSCRIPTIONCHANGE))
                continue;
            ext = imapd_mailbox_extname(s, name);
            if (!ext)
                continue;
            prot_printf(s->prot, "* LIST (%s%s) \"%c\" ",
                        pass ? "" : "\\Subscribed",
                        find_watched(nw, nn, name) ? "" :
                        pass ? "\\NonExistent" : " \\NonExistent", sep);
            imapd_print_mailbox(s, ext);
            prot_puts(s->prot, "\r\n");
            free(ext);
        }
    }
    free(inbox);
}

static int wants_subs(const struct imapd_notify *n)
{
    int i;

    if (n->other_events & EV_SUBSCRIPTIONCHANGE)
        return 1;
    for (i = 0; i < n->ngroups; i++)
        if (n->groups[i].filter == FILTER_SUBSCRIBED)
            return 1;
    return 0;
}

/* Compare the mailboxes with the snapshot and make the new one current;
 * `report` 0 takes the changes in silently.  -1 on overflow. */
static int notify_scan(struct imapd_session *s, struct imapd_notify *n,
                       int report)
{
    strarray_t subs = STRARRAY_INITIALIZER;
    struct watched *nw = NULL;
    size_t nn = 0, i;
    int md_changed = 0;

    if (wants_subs(n) &&
        subs_read(s->settings->mbox.configdir, s->userid, &subs))
        strarray_fini(&subs);
    /* Before reading anything, so that a change made meanwhile shows
     * at the next look. */
    if (n->other_events & EV_METADATA)
        md_changed = md_stamp_changed(n);
    if (scan_mailboxes(s, n, &subs, &nw, &nn) < 0) {
        strarray_fini(&subs);
        return -1;
    }
    for (i = 0; i < nn; i++) {
        struct watched *w = &nw[i];
        struct watched *old = find_watched(n->w, n->nw, w->name);

        if (!watches_messages(w))
            continue;
        refresh_counters(w, old);
        if (!report || !old || !w->have_header || !old->have_header ||
            !watches_messages(old) || strcmp(old->uniqueid, w->uniqueid))
            continue;
        /* The selected mailbox speaks through SELECTED only. */
        if (s->selected_name && !strcmp(s->selected_name, w->name))
            continue;
        if (status_changed(s, w, old))
            write_status(s, w, 0);
    }
    if (report && (n->other_events & EV_MAILBOXNAME))
        report_names(s, n, &subs, nw, nn);
    if (n->other_events & EV_METADATA)
        md_scan(s, n, nw, nn, md_changed, report);
    if (report && (n->other_events & EV_SUBSCRIPTIONCHANGE))
        report_subs(s, n, &subs, nw, nn);
    watched_free_all(&n->w, &n->nw);
    n->w = nw;
    n->nw = nn;
    strarray_fini(&n->subs);
    n->subs = subs;
    return 0;
}

/* --- the selected mailbox --- */

static void report_selected(struct imapd_session *s, int allow_expunge)
{
    struct index_view *v = s->selected;
    uint32_t lastuid;

    index_set_condstore(v, s->enabled & IMAPD_EXT_CONDSTORE,
                        s->enabled & IMAPD_EXT_QRESYNC);
    index_set_imap4rev2(v, s->enabled & IMAPD_EXT_IMAP4REV2);
    lastuid = index_uid(v, index_count(v));
    if (index_refresh(v))
        log_error("%s: cannot re-read the selected mailbox",
                  index_intname(v));
    /* RFC 5465 5.1: unsolicited FETCH responses carry the UID. */
    index_report(v, s->prot, allow_expunge, 1);
    imapd_notify_new_messages(s, NULL, lastuid);
}

static void overflow(struct imapd_session *s)
{
    imapd_notify_free(&s->notify);
    prot_puts(s->prot, "* OK [NOTIFICATIONOVERFLOW] Too many mailboxes to "
                       "watch; NOTIFY is off\r\n");
}

void imapd_notify_poll(struct imapd_session *s)
{
    struct imapd_notify *n = s->notify;

    if (!n || prot_error(s->prot))
        return;
    if (s->selected && n->sel_set && n->sel_events &&
        index_changed_on_disk(s->selected))
        report_selected(s, !n->sel_delayed);
    if (n->ngroups && notify_scan(s, n, 1) < 0)
        overflow(s);
}

void imapd_notify_command_done(struct imapd_session *s,
                               const struct imapd_cmd *cmd)
{
    static const char *const own[] = { "Append", "Copy", "Create",
                                       "Delete", "Deleteacl", "Rename",
                                       "Setacl", "Subscribe",
                                       "Unsubscribe", "Setmetadata" };
    struct imapd_notify *n = s->notify;
    size_t i;
    int changes;

    if (!n || !n->ngroups || !cmd->def)
        return;
    changes = !!(cmd->def->flags & IMAPD_CMD_CHANGES);
    for (i = 0; !changes && i < sizeof(own) / sizeof(own[0]); i++)
        changes = !strcmp(cmd->def->name, own[i]);
    if (changes && notify_scan(s, n, 0) < 0)
        overflow(s);
}

void imapd_notify_new_messages(struct imapd_session *s,
                               const struct imapd_cmd *cmd, uint32_t lastuid)
{
    struct imapd_notify *n = s->notify;
    struct index_view *v = s->selected;
    uint32_t first, count;

    if (!n || !n->fetch || !v || !(n->sel_events & EV_MESSAGENEW))
        return;
    /* RFC 5465 5.2: not for what the client stored itself. */
    if (cmd && cmd->def && !strcmp(cmd->def->name, "Append"))
        return;
    count = index_count(v);
    for (first = count; first > 0 && index_uid(v, first) > lastuid; first--)
        ;
    if (first < count)
        imapd_fetch_att_send(s, n->fetch, first + 1, count);
}

/* --- parsing NOTIFY SET --- */

/* Read one keyword into s->arg1; the next character. */
static int read_atom(struct imapd_session *s)
{
    return imapparse_atom(&s->parse, &s->arg1);
}

/* one-or-more-mailbox after "SUBTREE SP" / "MAILBOXES SP". */
static int parse_mailboxes(struct imapd_session *s, struct group *g)
{
    int c = prot_getc(s->prot), list = 0;

    if (c == '(')
        list = 1;
    else
        prot_ungetc(c, s->prot);
    for (;;) {
        char *intname;

        c = imapparse_astring(&s->parse, &s->arg2);
        if (c < 0)
            return c;
        /* Names that cannot exist are ignored (RFC 5465 3.1). */
        intname = imapd_mailbox_intname(s, buf_cstring(&s->arg2));
        if (intname)
            strarray_appendm(&g->names, intname);
        if (!list)
            return c;
        if (c == ')')
            return prot_getc(s->prot);
        if (c != ' ')
            return IMAPPARSE_SYNTAX;
    }
}

static unsigned event_bit(const char *name)
{
    size_t i;

    for (i = 0; i < sizeof(event_names) / sizeof(event_names[0]); i++)
        if (!strcasecmp(name, event_names[i].name))
            return event_names[i].bit;
    return EV_UNKNOWN;
}

/* events after the filter; the character after them.  *why gets the
 * text of a BAD that needs the whole line parsed first. */
static int parse_events(struct imapd_session *s, struct imapd_notify *n,
                        struct group *g, int selected, const char **why)
{
    int c = prot_getc(s->prot);

    if (c != '(') {
        prot_ungetc(c, s->prot);
        c = read_atom(s);
        if (c >= 0 && strcasecmp(buf_cstring(&s->arg1), "NONE"))
            return IMAPPARSE_SYNTAX;
        return c;
    }
    for (;;) {
        unsigned bit;

        c = read_atom(s);
        if (c < 0)
            return c;
        if (!s->arg1.len)
            return IMAPPARSE_SYNTAX;
        bit = event_bit(buf_cstring(&s->arg1));
        if (bit == EV_MESSAGENEW && c == ' ') {
            int d = prot_getc(s->prot);

            prot_ungetc(d, s->prot);
            if (d == '(') {
                if (!selected && !*why)
                    *why = "Fetch attributes only for the selected mailbox";
                imapd_fetch_att_free(&n->fetch);
                c = imapd_fetch_att_parse(s, &n->fetch);
                if (c < 0)
                    return c;
            }
        }
        if (selected && !(bit & (EV_MESSAGE | EV_UNKNOWN)) && !*why)
            *why = "Only message events for the selected mailbox";
        g->events |= bit;
        if (c == ')')
            return prot_getc(s->prot);
        if (c != ' ')
            return IMAPPARSE_SYNTAX;
    }
}

/* event-group: "(" filter SP events ")", the '(' read. */
static int parse_group(struct imapd_session *s, struct imapd_notify *n,
                       const char **why)
{
    struct group g;
    const char *f;
    int c, selected = 0;

    memset(&g, 0, sizeof(g));
    c = read_atom(s);
    if (c < 0)
        return c;
    f = buf_cstring(&s->arg1);
    if (!strcasecmp(f, "SELECTED") || !strcasecmp(f, "SELECTED-DELAYED")) {
        selected = 1;
        if (n->sel_set && !*why)
            *why = "Only one selected mailbox specifier allowed";
        n->sel_set = 1;
        n->sel_delayed = !strcasecmp(f, "SELECTED-DELAYED");
    }
    else if (!strcasecmp(f, "INBOXES"))
        g.filter = FILTER_INBOXES;
    else if (!strcasecmp(f, "PERSONAL"))
        g.filter = FILTER_PERSONAL;
    else if (!strcasecmp(f, "SUBSCRIBED"))
        g.filter = FILTER_SUBSCRIBED;
    else if (!strcasecmp(f, "SUBTREE") || !strcasecmp(f, "MAILBOXES")) {
        g.filter = !strcasecmp(f, "SUBTREE") ? FILTER_SUBTREE :
                                               FILTER_MAILBOXES;
        if (c != ' ')
            return IMAPPARSE_SYNTAX;
        c = parse_mailboxes(s, &g);
        if (c < 0) {
            strarray_fini(&g.names);
            return c;
        }
    }
    else
        return IMAPPARSE_SYNTAX;
    if (c != ' ') {
        strarray_fini(&g.names);
        return IMAPPARSE_SYNTAX;
    }
    c = parse_events(s, n, &g, selected, why);
    if (c >= 0 && c != ')')
        c = IMAPPARSE_SYNTAX;
    if (c < 0) {
        strarray_fini(&g.names);
        return c;
    }
    /* RFC 5465 5: MessageNew and MessageExpunge go together, and
     * FlagChange or AnnotationChange need both. */
    if (!*why && (!(g.events & EV_MESSAGENEW) !=
                  !(g.events & EV_MESSAGEEXPUNGE)))
        *why = "MessageNew and MessageExpunge must be given together";
    if (!*why && (g.events & (EV_FLAGCHANGE | EV_ANNOTATIONCHANGE)) &&
        !(g.events & EV_MESSAGENEW))
        *why = "FlagChange needs MessageNew and MessageExpunge";
    if (selected) {
        n->sel_events = g.events;
        strarray_fini(&g.names);
    }
    else {
        n->groups = xrealloc(n->groups,
                             (size_t)(n->ngroups + 1) * sizeof(*n->groups));
        n->groups[n->ngroups++] = g;
        n->other_events |= g.events;
    }
    return prot_getc(s->prot);
}

/* Everything after "SET"; the last character read. */
static int parse_set(struct imapd_session *s, struct imapd_notify *n,
                     int c, int *status, const char **why)
{
    if (c != ' ')
        return c < 0 ? c : IMAPPARSE_SYNTAX;
    c = prot_getc(s->prot);
    if (c != '(') {
        prot_ungetc(c, s->prot);
        c = read_atom(s);
        if (c < 0)
            return c;
        if (strcasecmp(buf_cstring(&s->arg1), "STATUS") || c != ' ')
            return IMAPPARSE_SYNTAX;
        *status = 1;
        c = prot_getc(s->prot);
        if (c != '(')
            return IMAPPARSE_SYNTAX;
    }
    for (;;) {
        c = parse_group(s, n, why);
        if (c != ' ')
            return c;
        c = prot_getc(s->prot);
        if (c != '(')
            return IMAPPARSE_SYNTAX;
    }
}

/* At NOTIFY SET: STATUS for the watched mailboxes (when asked) and
 * \NoAccess for those the user may list but not read. */
static void initial_responses(struct imapd_session *s,
                              struct imapd_notify *n, int status)
{
    char sep = mboxname_sep(&s->ns);
    size_t i;

    for (i = 0; i < n->nw; i++) {
        struct watched *w = &n->w[i];

        if (!(w->events & EV_MESSAGE))
            continue;
        if (!w->readable) {
            char *ext = imapd_mailbox_extname(s, w->name);

            if (ext) {
                prot_printf(s->prot, "* LIST (\\NoAccess) \"%c\" ", sep);
                imapd_print_mailbox(s, ext);
                prot_puts(s->prot, "\r\n");
                free(ext);
            }
            continue;
        }
        if (status && w->have_header &&
            !(s->selected_name && !strcmp(s->selected_name, w->name)))
            write_status(s, w, 1);
    }
}

void cmd_notify(struct imapd_session *s, struct imapd_cmd *cmd)
{
    struct imapd_notify *n;
    const char *why = NULL;
    unsigned all;
    int c, status = 0;

    if (cmd->c != ' ') {
        imapd_args_missing(s, cmd, cmd->c);
        return;
    }
    c = read_atom(s);
    if (c < 0) {
        imapd_args_error(s, cmd, c, NULL);
        return;
    }
    if (!strcasecmp(buf_cstring(&s->arg1), "NONE")) {
        if (imapd_args_end(s, cmd, c) < 0)
            return;
        imapd_notify_free(&s->notify);
        imapd_ok(s, cmd);
        return;
    }
    if (strcasecmp(buf_cstring(&s->arg1), "SET")) {
        imapd_bad(s, cmd, c, "Invalid argument to %s", cmd->def->name);
        return;
    }

    n = xzmalloc(sizeof(*n));
    c = parse_set(s, n, c, &status, &why);
    if (c == IMAPPARSE_EOF || c == IMAPPARSE_TOOBIG) {
        imapd_args_error(s, cmd, c, NULL);
        goto fail;
    }
    if (c < 0) {
        imapd_bad(s, cmd, c, "Invalid %s arguments%s%s", cmd->def->name,
                  s->parse.error[0] ? ": " : "", s->parse.error);
        goto fail;
    }
    if (imapd_args_end(s, cmd, c) < 0)
        goto fail;
    if (why) {
        prot_printf(s->prot, "%s BAD %s\r\n", cmd->tag, why);
        goto fail;
    }
    all = n->sel_events | n->other_events;
    if (all & ~EV_SUPPORTED) {
        prot_printf(s->prot, "%s NO " BADEVENT_TEXT " Unsupported event\r\n",
                    cmd->tag);
        goto fail;
    }
    if (n->ngroups && notify_scan(s, n, 0) < 0) {
        prot_printf(s->prot, "%s NO [NOTIFICATIONOVERFLOW] Too many "
                             "mailboxes\r\n", cmd->tag);
        goto fail;
    }
    initial_responses(s, n, status);
    imapd_notify_free(&s->notify);
    s->notify = n;
    /* An implicit NOOP (RFC 5465 3.1): imapd_ok reports the selected
     * mailbox's changes. */
    imapd_ok(s, cmd);
    return;
fail:
    imapd_notify_free(&n);
}
