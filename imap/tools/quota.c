/* quota.c -- report quota roots, and recompute their usage.
 *
 *   quota [-C imapd.conf] [-d domain] [-f] [-n] [-q] [-u] [prefix...]
 *
 * The report is Cyrus's table: for every quota root and resource, the
 * limit (blank when unlimited), the percentage used, the usage (STORAGE
 * in KiB), the resource and the root, in the admin's namespace.  -f
 * first recomputes the usage of STORAGE, MESSAGE and X-NUM-FOLDERS from
 * the mailboxes each root governs (those at or below it and not below a
 * deeper root), printing "ROOT: RESOURCE usage was OLD, now NEW" for
 * every difference before fixing it, and corrects the quota root a
 * mailbox's cyrus.header names.  -n reports differences without fixing
 * them (it implies -f); -q with -f leaves the table out.  Prefixes are
 * mailbox names (user names with -u) in the admin's namespace; only the
 * roots starting with one of them are looked at.  See doc/quota.8.
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "imap/store/mailbox.h"
#include "imap/store/mboxlist.h"
#include "imap/store/mboxname.h"
#include "imap/store/quota.h"
#include "imap/tools/tool_common.h"
#include "lib/buf.h"
#include "lib/log.h"
#include "lib/strarray.h"
#include "lib/xmalloc.h"

/* The order of Cyrus's report. */
static const enum quota_resource report_order[QUOTA_NUMRESOURCES] = {
    QUOTA_STORAGE, QUOTA_MESSAGE, QUOTA_ANNOTSTORAGE, QUOTA_NUMFOLDERS,
};

static void usage(void)
{
    fprintf(stderr, "usage: quota [-C imapd.conf] [-d domain] [-f] [-n] [-q] "
                    "[-u] [prefix...]\n");
    exit(EX_USAGE);
}

/* Every root, in name order: the roots selected and the deeper roots
 * that take mailboxes away from them. */
struct roots {
    struct quota *q;
    int n, alloc;
};

static int collect_cb(const struct quota *q, void *rock)
{
    struct roots *rs = rock;
    struct quota *c;

    if (rs->n == rs->alloc) {
        rs->alloc = rs->alloc ? 2 * rs->alloc : 32;
        rs->q = xrealloc(rs->q, sizeof(*rs->q) * (size_t)rs->alloc);
    }
    c = &rs->q[rs->n++];
    *c = *q;
    c->root = xstrdup(q->root);
    return 0;
}

static void roots_fini(struct roots *rs)
{
    for (int i = 0; i < rs->n; i++) quota_fini(&rs->q[i]);
    free(rs->q);
    memset(rs, 0, sizeof(*rs));
}

/* Does `root` govern (a subtree including) mailbox `name`?  A domain
 * root "dom!" covers the whole domain. */
static int covers(const char *root, const char *name)
{
    size_t len = strlen(root);

    if (len && root[len - 1] == '!') return !strncmp(name, root, len);
    return mboxname_is_prefix(name, root);
}

/* The deepest root covering `name`, or NULL. */
static const char *governing_root(const struct roots *rs, const char *name)
{
    const char *best = NULL;

    for (int i = 0; i < rs->n; i++)
        if (covers(rs->q[i].root, name) &&
            (!best || strlen(rs->q[i].root) > strlen(best)))
            best = rs->q[i].root;
    return best;
}

struct fix_rock {
    const struct roots *all;
    const char *root;
    int64_t used[QUOTA_NUMRESOURCES];
    int reportonly;
    int failed;
};

static int set_quotaroot(struct mailbox *mb, const char *root)
{
    int r = mailbox_lock_exclusive(mb);

    if (r) return r;
    r = mailbox_set_quotaroot(mb, root);
    if (!r) r = mailbox_commit(mb);
    mailbox_unlock(mb);
    return r;
}

/* Add one mailbox's usage to its root, and point its cyrus.header at
 * that root. */
static int fix_mailbox_cb(const struct mboxlist_entry *e, void *rock)
{
    struct fix_rock *fr = rock;
    struct buf path = BUF_INITIALIZER;
    struct mailbox *mb = NULL;
    const char *gov;
    const char *had;
    int r;

    if (e->type != MBTYPE_EMAIL || !covers(fr->root, e->name)) return 0;
    gov = governing_root(fr->all, e->name);
    if (!gov || strcmp(gov, fr->root)) return 0;

    if ((r = mboxlist_path(e->name, e->partition, &path)) ||
        (r = mailbox_open(buf_cstring(&path), &mb))) {
        fprintf(stderr, "quota: %s: cannot open: %s\n", e->name,
                r == MBOXLIST_BADNAME ? mboxlist_strerror(r)
                                      : mailbox_strerror(r));
        fr->failed = 1;
        goto done;
    }
    had = mailbox_quotaroot(mb);
    if (!had || strcmp(had, gov)) {
        printf("%s: quota root %s --> %s\n", e->name,
               had && *had ? had : "(none)", gov);
        if (!fr->reportonly && (r = set_quotaroot(mb, gov))) {
            fprintf(stderr, "quota: %s: cannot set the quota root: %s\n",
                    e->name, mailbox_strerror(r));
            fr->failed = 1;
        }
    }
    if ((r = mailbox_lock_shared(mb))) {
        fprintf(stderr, "quota: %s: cannot lock: %s\n", e->name,
                mailbox_strerror(r));
        fr->failed = 1;
        goto done;
    }
    const struct index_header *h = mailbox_header(mb);
    fr->used[QUOTA_STORAGE] += (int64_t)h->quota_used;
    fr->used[QUOTA_MESSAGE] += h->exists;
    fr->used[QUOTA_NUMFOLDERS] += 1;
    mailbox_unlock(mb);

done:
    if (mb) mailbox_close(&mb);
    buf_free(&path);
    return 0;
}

/* Recompute one root's usage; 0, or -1 if a mailbox could not be read
 * (the usage is then left alone). */
static int fix_root(const struct roots *all, struct quota *q, int reportonly)
{
    struct fix_rock fr;
    int changed = 0, r;

    memset(&fr, 0, sizeof(fr));
    fr.all = all;
    fr.root = q->root;
    fr.reportonly = reportonly;
    /* Annotations are not kept by this server's store: nothing to count. */
    fr.used[QUOTA_ANNOTSTORAGE] = q->used[QUOTA_ANNOTSTORAGE];

    r = mboxlist_foreach(q->root, fix_mailbox_cb, &fr);
    if (r || fr.failed) {
        fprintf(stderr, "quota: %s: usage not recomputed\n", q->root);
        return -1;
    }
    for (int i = 0; i < QUOTA_NUMRESOURCES; i++) {
        enum quota_resource res = report_order[i];
        if (q->used[res] == fr.used[res]) continue;
        printf("%s: %s usage was %" PRId64 ", now %" PRId64 "\n", q->root,
               quota_resource_name(res), q->used[res], fr.used[res]);
        changed = 1;
    }
    if (changed && !reportonly) {
        r = quota_set_used(q->root, fr.used);
        if (r) {
            fprintf(stderr, "quota: %s: cannot write the usage\n", q->root);
            return -1;
        }
        memcpy(q->used, fr.used, sizeof(q->used));
    }
    return 0;
}

static void report_root(const struct mboxname_ns *ns, const struct quota *q)
{
    char *ext = mboxname_to_external(ns, q->root, NULL);
    const char *name = ext ? ext : q->root;

    for (int i = 0; i < QUOTA_NUMRESOURCES; i++) {
        enum quota_resource res = report_order[i];
        /* Limits of the KiB resources are in KiB, their usage in bytes. */
        int64_t unit = res == QUOTA_STORAGE || res == QUOTA_ANNOTSTORAGE
                           ? 1024 : 1;
        int64_t used = q->used[res] / unit;

        if (q->limit[res] > 0)
            printf(" %7" PRId64 " %8" PRId64, q->limit[res],
                   used * 100 / q->limit[res]);
        else if (q->limit[res] == 0)
            printf("       0         ");
        else
            printf("                 ");
        printf(" %8" PRId64 " %20s %s\n", used, quota_resource_name(res),
               name);
    }
    free(ext);
}

/* Is `root` to be looked at?  Prefixes are plain string prefixes, as
 * Cyrus has them, but a user's (-u) selects exactly that user's roots. */
static int selected(const char *root, const char *domain,
                    const strarray_t *prefixes, int users)
{
    if (domain) {
        size_t dl = strlen(domain);
        if (strncmp(root, domain, dl) || root[dl] != '!') return 0;
    }
    if (!prefixes->count) return 1;
    for (int i = 0; i < prefixes->count; i++) {
        const char *p = strarray_nth(prefixes, i);
        if (users ? mboxname_is_prefix(root, p) : !strncmp(root, p, strlen(p)))
            return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    const char *conffile = NULL, *domain = NULL;
    int fix = 0, reportonly = 0, quiet = 0, users = 0, status = 0;
    strarray_t prefixes = STRARRAY_INITIALIZER;
    struct roots all = { NULL, 0, 0 };
    struct mboxname_ns ns;
    int opt, r;

    tool_log_open("quota");
    while ((opt = getopt(argc, argv, "C:d:fnqu")) != -1) {
        switch (opt) {
        case 'C': conffile = optarg; break;
        case 'd': domain = optarg; break;
        case 'f': fix = 1; break;
        case 'n': reportonly = fix = 1; break;
        case 'q': quiet = 1; break;
        case 'u': users = 1; break;
        default: usage();
        }
    }

    tool_init("quota", conffile);
    tool_open_store(TOOL_MBOXLIST | TOOL_QUOTA);
    tool_admin_ns(&ns);

    for (int i = optind; i < argc; i++) {
        char *name = users ? mboxname_user_inbox(&ns, argv[i])
                           : mboxname_from_external(&ns, argv[i], NULL);
        if (!name) {
            fprintf(stderr, "quota: %s: invalid %s\n", argv[i],
                    users ? "user name" : "mailbox name");
            status = EX_USAGE;
            goto out;
        }
        strarray_appendm(&prefixes, name);
    }

    r = quota_foreach("", collect_cb, &all);
    if (r) {
        fprintf(stderr, "quota: cannot read the quota database\n");
        status = EX_IOERR;
        goto out;
    }
    if (fix) {
        for (int i = 0; i < all.n; i++) {
            if (!selected(all.q[i].root, domain, &prefixes, users)) continue;
            if (fix_root(&all, &all.q[i], reportonly) < 0)
                status = EX_TEMPFAIL;
        }
    }
    if (!(fix && quiet)) {
        printf("   Quota   %% Used     Used             Resource Root\n");
        for (int i = 0; i < all.n; i++)
            if (selected(all.q[i].root, domain, &prefixes, users))
                report_root(&ns, &all.q[i]);
    }

out:
    fflush(stdout);
    roots_fini(&all);
    strarray_fini(&prefixes);
    tool_close_store();
    return status;
}
