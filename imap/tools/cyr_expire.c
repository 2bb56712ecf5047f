/* cyr_expire.c -- periodic expiry of delivery and mailbox data, as Cyrus's
 * cyr_expire (usually an EVENTS entry of cyrus.conf).
 *
 *   cyr_expire [-C imapd.conf] [-E duration] [-X duration] [-x]
 *              [-p prefix] [-u user] [-v] [-t] [-D duration] [-a]
 *
 * Each kind of expiry is one phase, run in turn:
 *   -E  remove duplicate-delivery marks (deliver.db) older than the
 *       duration (a number of days, or with a unit s/m/h/d);
 *   -X  purge expunged messages older than the duration from every
 *       mailbox (or those under -p / of -u), unless -x is given.
 * -D (delayed-delete mailboxes) and -a are accepted for compatibility;
 * mailboxes are deleted immediately here, so -D has nothing to do.
 * -t only reports what would be done.  See doc/cyr_expire.8.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "imap/store/duplicate.h"
#include "imap/store/mailbox.h"
#include "imap/store/mboxlist.h"
#include "imap/store/mboxname.h"
#include "imap/tools/tool_common.h"
#include "lib/buf.h"
#include "lib/config.h"
#include "lib/log.h"
#include "lib/util.h"
#include "lib/xmalloc.h"

struct expire_opts {
    long long dup_secs;       /* -E, -1 = phase off */
    long long expunge_secs;   /* -X, -1 = phase off */
    int skip_expunge;         /* -x */
    int verbose;              /* -v */
    int dryrun;               /* -t */
    char *prefix;             /* internal name prefix, "" = all */
};

static void usage(void)
{
    fprintf(stderr, "usage: cyr_expire [-C imapd.conf] [-E duration] "
                    "[-X duration] [-x] [-D duration] [-p prefix] "
                    "[-u user] [-v] [-t] [-a]\n");
    exit(EX_USAGE);
}

static long long duration_arg(const char *opt, const char *arg)
{
    long long secs;

    if (parse_duration(arg, 'd', &secs) < 0 || secs < 0) {
        fprintf(stderr, "cyr_expire: %s: invalid duration \"%s\"\n", opt, arg);
        exit(EX_USAGE);
    }
    return secs;
}

/* Phase -E. */
static int expire_duplicates(const struct expire_opts *o)
{
    const char *path = config_getstring(IMAPOPT_DUPLICATE_DB_PATH);
    char *fname = path && *path ? xstrdup(path)
                                : strconcat(config_dir(), "/deliver.db",
                                            (char *)NULL);
    time_t cutoff = time(NULL) - (time_t)o->dup_secs;
    unsigned long deleted = 0, kept = 0;
    int r;

    if (duplicate_open(fname)) {
        free(fname);
        return -1;
    }
    if (o->dryrun) {
        log_notice("cyr_expire: would expire duplicate marks before %lld",
                   (long long)cutoff);
        r = 0;
    }
    else {
        r = duplicate_prune(cutoff, &deleted, &kept);
    }
    duplicate_close();
    if (!r && (o->verbose || deleted))
        log_notice("cyr_expire: expired %lu and kept %lu of %lu entries in %s",
                   deleted, kept, deleted + kept, fname);
    if (o->verbose && !r)
        printf("expired %lu and kept %lu of %lu entries\n", deleted, kept,
               deleted + kept);
    free(fname);
    return r ? -1 : 0;
}

struct expunge_walk {
    const struct expire_opts *o;
    int64_t cutoff;
    unsigned long mailboxes, failed;
};

static int expunge_one(const struct mboxlist_entry *e, void *rock)
{
    struct expunge_walk *w = rock;
    struct buf path = BUF_INITIALIZER;
    struct mailbox *mb = NULL;
    int r;

    if (e->type != MBTYPE_EMAIL)
        return 0;
    if (mboxlist_path(e->name, e->partition, &path) ||
        mailbox_open(buf_cstring(&path), &mb)) {
        log_error("cyr_expire: cannot open %s", e->name);
        w->failed++;
        buf_free(&path);
        return 0;
    }
    buf_free(&path);
    r = mailbox_lock_exclusive(mb);
    if (!r) {
        const struct index_header *h = mailbox_header(mb);
        /* Only rewrite a mailbox that holds something old enough. */
        if (h->first_expunged && h->first_expunged < w->cutoff) {
            if (w->o->dryrun)
                log_notice("cyr_expire: would purge expunged messages of %s",
                           e->name);
            else
                r = mailbox_repack(mb, w->cutoff);
            if (!r)
                w->mailboxes++;
        }
        mailbox_unlock(mb);
    }
    if (r) {
        log_error("cyr_expire: %s: %s", e->name, mailbox_strerror(r));
        w->failed++;
    }
    mailbox_close(&mb);
    return 0;
}

/* Phase -X. */
static int expire_expunged(const struct expire_opts *o)
{
    struct expunge_walk w = { o, (int64_t)time(NULL) - o->expunge_secs, 0, 0 };

    tool_open_store(TOOL_MBOXLIST);
    mboxlist_foreach(o->prefix, expunge_one, &w);
    if (o->verbose)
        printf("purged expunged messages in %lu mailboxes\n", w.mailboxes);
    log_notice("cyr_expire: purged expunged messages in %lu mailboxes",
               w.mailboxes);
    return w.failed ? -1 : 0;
}

int main(int argc, char **argv)
{
    struct expire_opts o = { -1, -1, 0, 0, 0, NULL };
    const char *conffile = NULL, *prefix = NULL, *user = NULL;
    int opt, failed = 0;

    tool_log_open("cyr_expire");
    while ((opt = getopt(argc, argv, "C:E:X:D:xp:u:vta")) != -1) {
        switch (opt) {
        case 'C': conffile = optarg; break;
        case 'E': o.dup_secs = duration_arg("-E", optarg); break;
        case 'X': o.expunge_secs = duration_arg("-X", optarg); break;
        case 'D': duration_arg("-D", optarg); break;
        case 'x': o.skip_expunge = 1; break;
        case 'p': prefix = optarg; break;
        case 'u': user = optarg; break;
        case 'v': o.verbose = 1; break;
        case 't': o.dryrun = 1; break;
        case 'a': break;
        default: usage();
        }
    }
    if (optind < argc || (o.dup_secs < 0 && o.expunge_secs < 0))
        usage();
    tool_init("cyr_expire", conffile);

    struct mboxname_ns ns;
    tool_admin_ns(&ns);
    if (user)
        o.prefix = mboxname_user_inbox(&ns, user);
    else if (prefix)
        o.prefix = mboxname_from_external(&ns, prefix, NULL);
    if ((user || prefix) && !o.prefix) {
        fprintf(stderr, "cyr_expire: invalid mailbox name \"%s\"\n",
                user ? user : prefix);
        return EX_USAGE;
    }
    if (!o.prefix)
        o.prefix = xstrdup("");

    tool_open_store(0);
    if (o.dup_secs >= 0 && expire_duplicates(&o) < 0)
        failed = 1;
    if (o.expunge_secs >= 0 && !o.skip_expunge && expire_expunged(&o) < 0)
        failed = 1;
    tool_close_store();
    free(o.prefix);
    return failed ? EX_TEMPFAIL : 0;
}
