/* reconstruct.c -- rebuild mailboxes from their message files.
 *
 *   reconstruct [-C imapd.conf] [-p partition] [-r] [-f] [-x] [-q] [-n]
 *               [-u] mailbox...
 *
 * Each mailbox's cyrus.index and cyrus.cache are rebuilt from its <uid>.
 * files by mailbox_reconstruct(), which keeps what readable records say
 * (flags, dates, modseqs); the cache comes from append_build_cache, the
 * same builder APPEND uses.  Every repair is printed, one line each, in
 * Cyrus's words where Cyrus has them:
 *   NAME uid N found - adding          a message file without a record
 *   NAME uid N not found               a record whose file is gone
 *   NAME uid N changed - updating      a file that no longer matches
 *   NAME: failed to read index header  the index was rebuilt whole
 * followed by the mailbox's external name (not with -q).  A mailbox with
 * nothing to fix prints only its name.  Afterwards mailboxes.db and
 * cyrus.header are made to agree: the uniqueid and uidvalidity the
 * mailbox has are copied to mailboxes.db (unless cyrus.header was
 * damaged: its uniqueid is then restored from mailboxes.db), and the ACL
 * of mailboxes.db (authoritative) to cyrus.header.
 *
 * Names are in the admin's namespace (user names with -u).  -r also does
 * every mailbox below each one.  A name missing from mailboxes.db is
 * looked for on partition -p (or the default one) and, if its directory
 * holds a cyrus.header, added to mailboxes.db; -f does the same for
 * every directory below the mailbox's.  -x gives such mailboxes a new
 * uniqueid instead of the one in their cyrus.header.  -n changes nothing:
 * the repairs are worked out on a copy and only reported.  Quota usage
 * is not touched: run quota -f afterwards.  See doc/reconstruct.8.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

#include "imap/store/append.h"
#include "imap/store/mailbox.h"
#include "imap/store/mboxlist.h"
#include "imap/store/mboxname.h"
#include "imap/store/reconstruct.h"
#include "imap/tools/tool_common.h"
#include "lib/buf.h"
#include "lib/config.h"
#include "lib/log.h"
#include "lib/strarray.h"
#include "lib/util.h"
#include "lib/xmalloc.h"

struct options {
    const char *partition;   /* -p */
    int recursive;           /* -r */
    int filesystem;          /* -f */
    int fresh;               /* -x */
    int quiet;               /* -q */
    int reportonly;          /* -n */
    const struct mboxname_ns *ns;
};

static void usage(void)
{
    fprintf(stderr, "usage: reconstruct [-C imapd.conf] [-p partition] [-r] "
                    "[-f] [-x] [-q] [-n] [-u] mailbox...\n");
    exit(EX_USAGE);
}

static int parse_message(const char *base, size_t len, struct buf *cache,
                         int64_t *sentdate, uint32_t *header_size, void *rock)
{
    (void)rock;
    return append_build_cache(base, len, cache, sentdate, header_size) ? -1
                                                                        : 0;
}

static const struct reconstruct_parser parser = { parse_message, NULL };

/* --- what the index said, before and after ------------------------------*/

struct snaprec {
    uint32_t uid;
    int expunged;
    uint64_t modseq;
};

struct snapshot {
    struct snaprec *recs;
    uint32_t n;
    int ok;                  /* the index could be opened */
};

/* The records of the mailbox in `dir`, as far as they can be read;
 * none if the index cannot be opened. */
static void snapshot_take(const char *dir, struct snapshot *s)
{
    struct mailbox *mb = NULL;
    uint32_t total;

    memset(s, 0, sizeof(*s));
    if (mailbox_open(dir, &mb)) return;
    if (mailbox_lock_shared(mb)) {
        mailbox_close(&mb);
        return;
    }
    total = mailbox_header(mb)->num_records;
    s->recs = xmalloc(sizeof(*s->recs) * ((size_t)total + 1));
    for (uint32_t i = 0; i < total; i++) {
        struct index_record rec;
        if (mailbox_read_record(mb, i, &rec)) continue;
        s->recs[s->n].uid = rec.uid;
        s->recs[s->n].expunged =
            !!(rec.internal_flags & FLAG_INTERNAL_EXPUNGED);
        s->recs[s->n].modseq = rec.modseq;
        s->n++;
    }
    s->ok = 1;
    mailbox_unlock(mb);
    mailbox_close(&mb);
}

static void snapshot_fini(struct snapshot *s)
{
    free(s->recs);
    memset(s, 0, sizeof(*s));
}

/* Print one line per repair; returns how many. */
static int report_changes(const char *name, const struct snapshot *old,
                          const struct snapshot *now,
                          const struct reconstruct_result *res)
{
    uint32_t i = 0, j = 0;
    int lines = 0;

    if (res->index_rebuilt) {
        printf("%s: failed to read index header\n", name);
        lines++;
    }
    if (res->header_rebuilt) {
        printf("%s: cyrus.header damaged - rewritten\n", name);
        lines++;
    }
    /* The index was readable to reconstruct but not to us (e.g. only
     * cyrus.header was damaged): the counts are all there is. */
    if (!old->ok && !res->index_rebuilt) {
        if (res->added || res->removed || res->changed || res->unreadable) {
            printf("%s: %u kept, %u added, %u removed, %u changed, "
                   "%u unreadable records\n", name, res->kept, res->added,
                   res->removed, res->changed, res->unreadable);
            lines++;
        }
        return lines;
    }
    while (j < now->n) {
        const struct snaprec *n = &now->recs[j];
        if (i < old->n && old->recs[i].uid < n->uid) {
            i++;
            continue;
        }
        if (i < old->n && old->recs[i].uid == n->uid) {
            const struct snaprec *o = &old->recs[i++];
            if (!o->expunged && n->expunged) {
                printf("%s uid %u not found\n", name, n->uid);
                lines++;
            } else if (!o->expunged && o->modseq != n->modseq) {
                printf("%s uid %u changed - updating\n", name, n->uid);
                lines++;
            }
        } else if (!n->expunged) {
            printf("%s uid %u found - adding\n", name, n->uid);
            lines++;
        }
        j++;
    }
    /* Counts the record comparison cannot show (e.g. records that were
     * unreadable but whose file still matched). */
    if (!lines && (res->added || res->removed || res->changed ||
                   res->unreadable)) {
        printf("%s: %u added, %u removed, %u changed, %u unreadable records\n",
               name, res->added, res->removed, res->changed, res->unreadable);
        lines++;
    }
    return lines;
}

/* --- -n: work on a copy -------------------------------------------------*/

static int is_message_file(const char *n)
{
    size_t l = strlen(n);
    if (l < 2 || n[l - 1] != '.') return 0;
    for (size_t i = 0; i + 1 < l; i++)
        if (n[i] < '0' || n[i] > '9') return 0;
    return 1;
}

static void remove_copy(const char *tmp)
{
    DIR *d = opendir(tmp);
    struct dirent *de;

    if (d) {
        while ((de = readdir(d))) {
            if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
            char *p = strconcat(tmp, "/", de->d_name, (char *)NULL);
            unlink(p);
            free(p);
        }
        closedir(d);
    }
    rmdir(tmp);
}

static int copy_file(const char *from, const char *to)
{
    char chunk[65536];
    int in = open(from, O_RDONLY | O_CLOEXEC), out;
    ssize_t n = 0;

    if (in < 0) return errno == ENOENT ? 0 : -1;
    out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (out < 0) {
        close(in);
        return -1;
    }
    while ((n = retry_read(in, chunk, sizeof(chunk))) > 0)
        if (retry_write(out, chunk, (size_t)n) < 0) {
            n = -1;
            break;
        }
    close(in);
    if (close(out) < 0) n = -1;
    return n < 0 ? -1 : 0;
}

/* A scratch mailbox: copies of the store files and links to the message
 * files (reconstruct reads those, never writes them).  Path in *tmp. */
static int make_copy(const char *dir, struct buf *tmp)
{
    static const char *const files[] = { "cyrus.header", "cyrus.index",
                                         "cyrus.cache" };
    const char *tmpdir = getenv("TMPDIR");
    DIR *d;
    struct dirent *de;
    int r = 0;

    buf_reset(tmp);
    buf_printf(tmp, "%s/reconstruct.XXXXXX",
               tmpdir && *tmpdir ? tmpdir : "/tmp");
    buf_cstring(tmp);
    if (!mkdtemp(tmp->s)) return -1;
    for (size_t i = 0; !r && i < sizeof(files) / sizeof(*files); i++) {
        char *from = strconcat(dir, "/", files[i], (char *)NULL);
        char *to = strconcat(tmp->s, "/", files[i], (char *)NULL);
        r = copy_file(from, to);
        free(from);
        free(to);
    }
    if (r || !(d = opendir(dir))) {
        remove_copy(tmp->s);
        return -1;
    }
    while (!r && (de = readdir(d))) {
        if (!is_message_file(de->d_name)) continue;
        char *from = strconcat(dir, "/", de->d_name, (char *)NULL);
        char *to = strconcat(tmp->s, "/", de->d_name, (char *)NULL);
        if (symlink(from, to) < 0) r = -1;
        free(from);
        free(to);
    }
    closedir(d);
    if (r) remove_copy(tmp->s);
    return r;
}

/* --- one mailbox --------------------------------------------------------*/

/* Make mailboxes.db and cyrus.header agree (see the top of the file). */
static int sync_entry(const char *dir, struct mboxlist_entry *e,
                      int header_rebuilt, const struct options *o)
{
    struct mailbox *mb = NULL;
    const char *uid, *acl;
    uint32_t uidvalidity;
    int dbchange = 0, lines = 0, r;

    if ((r = mailbox_open(dir, &mb))) return 0;
    if ((r = mailbox_lock_shared(mb))) {
        mailbox_close(&mb);
        return 0;
    }
    uidvalidity = mailbox_header(mb)->uidvalidity;
    uid = mailbox_uniqueid(mb);
    acl = mailbox_acl(mb);
    if (uidvalidity && uidvalidity != e->uidvalidity) {
        printf("Wrong uidvalidity in mbentry, fixing %s (%u -> %u)\n",
               e->name, e->uidvalidity, uidvalidity);
        e->uidvalidity = uidvalidity;
        dbchange = 1;
        lines++;
    }
    int restore_uid = header_rebuilt && e->uniqueid && *e->uniqueid &&
                      (!uid || strcmp(uid, e->uniqueid));
    if (restore_uid) {
        /* A damaged header got a made-up uniqueid: the list knows better. */
        printf("%s: uniqueid restored from mailboxes.db (%s)\n", e->name,
               e->uniqueid);
        lines++;
    } else if (uid && *uid && (!e->uniqueid || strcmp(uid, e->uniqueid))) {
        printf("Wrong uniqueid in mbentry, fixing %s (%s -> %s)\n", e->name,
               e->uniqueid ? e->uniqueid : "", uid);
        free(e->uniqueid);
        e->uniqueid = xstrdup(uid);
        dbchange = 1;
        lines++;
    }
    int aclchange = strcmp(acl ? acl : "", e->acl ? e->acl : "") != 0;
    mailbox_unlock(mb);
    if (aclchange) {
        printf("%s: ACL in cyrus.header differs from mailboxes.db - "
               "fixing header\n", e->name);
        lines++;
    }
    if ((aclchange || restore_uid) && !o->reportonly) {
        r = mailbox_lock_exclusive(mb);
        if (!r && aclchange) r = mailbox_set_acl(mb, e->acl ? e->acl : "");
        if (!r && restore_uid) r = mailbox_set_uniqueid(mb, e->uniqueid);
        if (!r) r = mailbox_commit(mb);
        mailbox_unlock(mb);
        if (r)
            fprintf(stderr, "reconstruct: %s: cannot fix cyrus.header: %s\n",
                    e->name, mailbox_strerror(r));
    }
    mailbox_close(&mb);
    if (dbchange && !o->reportonly && (r = mboxlist_update(e)))
        fprintf(stderr, "reconstruct: %s: cannot update mailboxes.db: %s\n",
                e->name, mboxlist_strerror(r));
    return lines;
}

/* Rebuild (or, with -n, check) the mailbox in `dir`; 0 or -1. */
static int reconstruct_dir(struct mboxlist_entry *e, const char *dir,
                           const struct options *o)
{
    struct snapshot before, after;
    struct reconstruct_result res;
    struct buf copy = BUF_INITIALIZER;
    const char *target = dir;
    char *ext;
    int r;

    snapshot_take(dir, &before);
    if (o->reportonly) {
        if (make_copy(dir, &copy) < 0) {
            fprintf(stderr, "reconstruct: %s: cannot make a scratch copy: "
                    "%s\n", e->name, strerror(errno));
            snapshot_fini(&before);
            buf_free(&copy);
            return -1;
        }
        target = buf_cstring(&copy);
    }
    r = mailbox_reconstruct(target, &parser, &res);
    if (r) {
        fprintf(stderr, "reconstruct: %s: %s\n", e->name,
                mailbox_strerror(r));
    } else {
        snapshot_take(target, &after);
        report_changes(e->name, &before, &after, &res);
        snapshot_fini(&after);
        if (!o->reportonly) sync_entry(dir, e, res.header_rebuilt, o);
    }
    if (o->reportonly) remove_copy(buf_cstring(&copy));
    snapshot_fini(&before);
    buf_free(&copy);

    ext = mboxname_to_external(o->ns, e->name, NULL);
    if (!o->quiet) printf("%s\n", ext ? ext : e->name);
    free(ext);
    fflush(stdout);
    return r ? -1 : 0;
}

static int dir_has_header(const char *dir)
{
    char *p = strconcat(dir, "/cyrus.header", (char *)NULL);
    struct stat sb;
    int r = stat(p, &sb) == 0 && S_ISREG(sb.st_mode);

    free(p);
    return r;
}

/* Add the mailbox found in `dir` to mailboxes.db and rebuild it. */
static int adopt(const char *name, const char *partition, const char *dir,
                 const struct options *o)
{
    struct mboxlist_entry e;
    struct mailbox *mb = NULL;
    int r;

    memset(&e, 0, sizeof(e));
    e.name = xstrdup(name);
    e.type = MBTYPE_EMAIL;
    e.partition = xstrdup(partition);
    printf("%s: not in mailboxes.db - %s\n", name,
           o->reportonly ? "would be added" : "adding");
    if (o->reportonly) {
        r = reconstruct_dir(&e, dir, o);
        mboxlist_entry_fini(&e);
        return r;
    }
    /* Repair first, so that a damaged header still yields its ids. */
    if ((r = mailbox_reconstruct(dir, &parser, NULL)) ||
        (r = mailbox_open(dir, &mb)) || (r = mailbox_lock_shared(mb))) {
        fprintf(stderr, "reconstruct: %s: %s\n", name, mailbox_strerror(r));
        if (mb) mailbox_close(&mb);
        mboxlist_entry_fini(&e);
        return -1;
    }
    if (!o->fresh) e.uniqueid = xstrdupnull(mailbox_uniqueid(mb));
    e.uidvalidity = mailbox_header(mb)->uidvalidity;
    e.acl = xstrdup(mailbox_acl(mb) ? mailbox_acl(mb) : "");
    mailbox_unlock(mb);
    mailbox_close(&mb);
    r = mboxlist_insert(&e);
    if (r) {
        fprintf(stderr, "reconstruct: %s: cannot add to mailboxes.db: %s\n",
                name, mboxlist_strerror(r));
        mboxlist_entry_fini(&e);
        return -1;
    }
    r = reconstruct_dir(&e, dir, o);
    mboxlist_entry_fini(&e);
    return r;
}

/* -f: directories below `dir` holding a cyrus.header whose mailbox
 * mailboxes.db does not know. */
static int scan_below(const char *name, const char *partition,
                      const char *dir, const struct options *o)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    strarray_t subs = STRARRAY_INITIALIZER;
    int status = 0;

    if (!d) return 0;
    while ((de = readdir(d))) {
        const char *n = de->d_name;
        /* Store files start with "cyrus." or end in "."; neither can be
         * a mailbox name component. */
        if (n[0] == '.' || !strncmp(n, "cyrus.", 6) ||
            n[strlen(n) - 1] == '.' || strchr(n, '!'))
            continue;
        strarray_append(&subs, n);
    }
    closedir(d);
    strarray_sort(&subs);

    for (int i = 0; i < subs.count; i++) {
        char *sub = strconcat(dir, "/", strarray_nth(&subs, i), (char *)NULL);
        char *child = strconcat(name, ".", strarray_nth(&subs, i),
                                (char *)NULL);
        struct mboxlist_entry e;
        struct stat sb;

        if (stat(sub, &sb) == 0 && S_ISDIR(sb.st_mode)) {
            if (mboxlist_lookup(child, &e) == MBOXLIST_NOTFOUND) {
                if (dir_has_header(sub) &&
                    adopt(child, partition, sub, o) < 0)
                    status = -1;
            } else {
                mboxlist_entry_fini(&e);
            }
            if (scan_below(child, partition, sub, o) < 0) status = -1;
        }
        free(sub);
        free(child);
    }
    strarray_fini(&subs);
    return status;
}

static int collect_cb(const struct mboxlist_entry *e, void *rock)
{
    strarray_append(rock, e->name);
    return 0;
}

/* Reconstruct `name` (and, with -r, what lies below it). */
static int do_mailbox(const char *name, const char *arg,
                      const struct options *o)
{
    struct mboxlist_entry e;
    struct buf path = BUF_INITIALIZER;
    strarray_t names = STRARRAY_INITIALIZER;
    int status = 0, r;

    r = mboxlist_lookup(name, &e);
    if (r == MBOXLIST_NOTFOUND && (o->partition || o->filesystem)) {
        const char *part = o->partition ? o->partition
                                        : config_getstring(
                                              IMAPOPT_DEFAULTPARTITION);
        if (!part || !*part) part = "default";
        if (mboxlist_path(name, part, &path) == 0 &&
            dir_has_header(buf_cstring(&path))) {
            status = adopt(name, part, buf_cstring(&path), o);
            r = mboxlist_lookup(name, &e);
            if (r && o->reportonly) {
                if (o->filesystem &&
                    scan_below(name, part, buf_cstring(&path), o) < 0)
                    status = -1;
                buf_free(&path);
                return status;
            }
        }
    }
    if (r) {
        fprintf(stderr, "reconstruct: %s: %s\n", arg, mboxlist_strerror(r));
        buf_free(&path);
        return -1;
    }
    if (!status && e.type == MBTYPE_EMAIL) {
        if ((r = mboxlist_path(e.name, e.partition, &path))) {
            fprintf(stderr, "reconstruct: %s: %s\n", arg,
                    mboxlist_strerror(r));
            status = -1;
        } else if (reconstruct_dir(&e, buf_cstring(&path), o) < 0) {
            status = -1;
        }
        if (!r && o->filesystem &&
            scan_below(e.name, e.partition, buf_cstring(&path), o) < 0)
            status = -1;
    }
    mboxlist_entry_fini(&e);

    if (o->recursive) {
        char *prefix = strconcat(name, ".", (char *)NULL);
        mboxlist_foreach(prefix, collect_cb, &names);
        free(prefix);
        for (int i = 0; i < names.count; i++) {
            const char *child = strarray_nth(&names, i);
            if (mboxlist_lookup(child, &e)) continue;
            if (e.type == MBTYPE_EMAIL &&
                (mboxlist_path(e.name, e.partition, &path) ||
                 reconstruct_dir(&e, buf_cstring(&path), o) < 0))
                status = -1;
            mboxlist_entry_fini(&e);
        }
    }
    strarray_fini(&names);
    buf_free(&path);
    return status;
}

int main(int argc, char **argv)
{
    const char *conffile = NULL;
    struct options o;
    struct mboxname_ns ns;
    int users = 0, status = 0, opt;

    memset(&o, 0, sizeof(o));
    tool_log_open("reconstruct");
    while ((opt = getopt(argc, argv, "C:p:rfxqnuGsoOM")) != -1) {
        switch (opt) {
        case 'C': conffile = optarg; break;
        case 'p': o.partition = optarg; break;
        case 'r': o.recursive = 1; break;
        case 'f': o.filesystem = 1; break;
        case 'x': o.fresh = 1; break;
        case 'q': o.quiet = 1; break;
        case 'n': o.reportonly = 1; break;
        case 'u': users = 1; break;
        /* Cyrus's: every message is re-read anyway (-G), files are always
         * looked at (-s), there are no odd files to keep or delete (-o,
         * -O), and mailboxes.db always wins for the ACL (-M). */
        case 'G': case 's': case 'o': case 'O': case 'M': break;
        default: usage();
        }
    }
    if (optind == argc) usage();

    tool_init("reconstruct", conffile);
    tool_open_store(TOOL_MBOXLIST);
    tool_admin_ns(&ns);
    o.ns = &ns;
    if (o.partition && !config_partitiondir(o.partition))
        tool_fatal(EX_USAGE, "unknown partition %s", o.partition);

    for (int i = optind; i < argc; i++) {
        char *name = users ? mboxname_user_inbox(&ns, argv[i])
                           : mboxname_from_external(&ns, argv[i], NULL);
        if (!name) {
            fprintf(stderr, "reconstruct: %s: invalid mailbox name\n",
                    argv[i]);
            status = EX_DATAERR;
            continue;
        }
        if (do_mailbox(name, argv[i], &o) < 0) status = EX_DATAERR;
        free(name);
    }
    fflush(stdout);
    tool_close_store();
    return status;
}
