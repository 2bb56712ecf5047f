/* mboxops.c -- create, delete and rename mailboxes; see mboxops.h. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "imap/store/annotate.h"
#include "imap/store/append.h"
#include "imap/store/mailbox.h"
#include "imap/store/mboxops.h"
#include "imap/store/quota.h"
#include "imap/store/seen.h"
#include "imap/store/subs.h"
#include "lib/log.h"
#include "lib/util.h"
#include "lib/xmalloc.h"

const char *mboxops_strerror(int r)
{
    switch (r) {
    case MBOXOPS_OK: return "ok";
    case MBOXOPS_NOTFOUND: return "mailbox does not exist";
    case MBOXOPS_EXISTS: return "mailbox already exists";
    case MBOXOPS_BADNAME: return "invalid mailbox name";
    case MBOXOPS_NOPERM: return "permission denied";
    case MBOXOPS_OVERQUOTA: return "over quota";
    case MBOXOPS_IOERROR: return "I/O error";
    case MBOXOPS_INUSE: return "mailbox is locked";
    case MBOXOPS_HASCHILDREN: return "mailbox has children";
    case MBOXOPS_SAMENAME: return "same name";
    case MBOXOPS_INTOSELF: return "cannot move a mailbox into itself";
    case MBOXOPS_INBOX: return "cannot rename to or over an INBOX";
    case MBOXOPS_PARTITION: return "bad partition";
    default: return "unknown error";
    }
}

static int from_mboxlist(int r)
{
    switch (r) {
    case MBOXLIST_OK: return MBOXOPS_OK;
    case MBOXLIST_NOTFOUND: return MBOXOPS_NOTFOUND;
    case MBOXLIST_EXISTS: return MBOXOPS_EXISTS;
    case MBOXLIST_BADNAME: return MBOXOPS_PARTITION;
    case MBOXLIST_AGAIN: return MBOXOPS_INUSE;
    default: return MBOXOPS_IOERROR;
    }
}

static int from_mailbox(int r)
{
    switch (r) {
    case MAILBOX_OK: return MBOXOPS_OK;
    case MAILBOX_ENOENT: return MBOXOPS_NOTFOUND;
    case MAILBOX_EXISTS: return MBOXOPS_EXISTS;
    case MAILBOX_LOCKED: return MBOXOPS_INUSE;
    default: return MBOXOPS_IOERROR;
    }
}

acl_rights_t mboxops_rights(const struct mboxops_settings *st,
                            const struct acl_subject *who, const char *name,
                            const char *acl)
{
    struct acl_mailbox mb;
    char *owner = mboxname_to_userid(name);
    acl_rights_t rights;

    mb.owner = owner;
    mb.isinbox = mboxname_isusermailbox(name, 1);
    rights = acl_myrights_str(acl ? acl : "", who, &mb, st->implicit_owner);
    free(owner);
    return rights;
}

/* The closest existing ancestor of `name` (not name itself). */
static int find_ancestor(const char *name, struct mboxlist_entry *anc)
{
    char *p = mboxname_parent(name);
    int r = MBOXLIST_NOTFOUND;

    while (p) {
        r = mboxlist_lookup(p, anc);
        if (r != MBOXLIST_NOTFOUND) {
            free(p);
            return r;
        }
        char *up = mboxname_parent(p);
        free(p);
        p = up;
    }
    return r;
}

/* Usage a mailbox contributes to its quota root. */
static int mailbox_usage(const struct mboxlist_entry *e,
                         int64_t delta[QUOTA_NUMRESOURCES])
{
    struct buf path = BUF_INITIALIZER;
    struct mailbox *mb = NULL;
    int r;

    memset(delta, 0, sizeof(int64_t) * QUOTA_NUMRESOURCES);
    if (e->type != MBTYPE_EMAIL)
        return MBOXOPS_OK;
    delta[QUOTA_NUMFOLDERS] = 1;
    /* Annotations count where the mailbox counts (X-ANNOTATION-STORAGE);
     * a process without the annotations database counts none. */
    if (annotate_isopen() && e->uniqueid)
        annotate_usage(e->uniqueid, NULL, &delta[QUOTA_ANNOTSTORAGE], NULL);
    r = mboxlist_path(e->name, e->partition, &path);
    if (r) {
        buf_free(&path);
        return from_mboxlist(r);
    }
    r = mailbox_open(buf_cstring(&path), &mb);
    buf_free(&path);
    if (r == MAILBOX_ENOENT)
        return MBOXOPS_OK; /* files gone: contributes only the folder */
    if (r)
        return from_mailbox(r);
    r = mailbox_lock_shared(mb);
    if (!r) {
        const struct index_header *h = mailbox_header(mb);
        delta[QUOTA_STORAGE] = (int64_t)h->quota_used;
        delta[QUOTA_MESSAGE] = h->exists;
        mailbox_unlock(mb);
    }
    mailbox_close(&mb);
    return from_mailbox(r);
}

static void negate(int64_t d[QUOTA_NUMRESOURCES])
{
    for (int i = 0; i < QUOTA_NUMRESOURCES; i++)
        d[i] = -d[i];
}

static void charge(const char *root, int64_t d[QUOTA_NUMRESOURCES])
{
    if (root && quota_update_used(root, d))
        log_error("quota: cannot update usage of root %s", root);
}

/* Record missing ancestors of `name` as intermediates, top down. */
static int create_intermediates(const char *name, const char *partition,
                                const char *acl)
{
    strarray_t missing = STRARRAY_INITIALIZER;
    struct mboxlist_entry e;
    char *p = mboxname_parent(name);
    int r = 0;

    while (p) {
        memset(&e, 0, sizeof(e));
        if (mboxlist_lookup(p, &e) == MBOXLIST_OK) {
            mboxlist_entry_fini(&e);
            free(p);
            break;
        }
        strarray_append(&missing, p);
        char *up = mboxname_parent(p);
        free(p);
        p = up;
    }
    for (int i = missing.count - 1; i >= 0 && !r; i--) {
        memset(&e, 0, sizeof(e));
        e.name = (char *)strarray_nth(&missing, i);
        e.type = MBTYPE_INTERMEDIATE;
        e.partition = (char *)partition;
        e.acl = (char *)acl;
        r = mboxlist_insert(&e);
        if (r == MBOXLIST_EXISTS)
            r = 0;
        free(e.uniqueid);
    }
    strarray_fini(&missing);
    return from_mboxlist(r);
}

/* Remove intermediate ancestors of `name` left with nothing below. */
static void prune_intermediates(const char *name)
{
    char *p = mboxname_parent(name);

    while (p) {
        struct mboxlist_entry e;
        memset(&e, 0, sizeof(e));
        if (mboxlist_lookup(p, &e) != MBOXLIST_OK) {
            free(p);
            return;
        }
        int inter = e.type == MBTYPE_INTERMEDIATE;
        mboxlist_entry_fini(&e);
        if (!inter || mboxlist_haschildren(p) != 0) {
            free(p);
            return;
        }
        mboxlist_remove(p);
        char *up = mboxname_parent(p);
        free(p);
        p = up;
    }
}

int mboxops_create(const struct mboxops_settings *st,
                   const struct acl_subject *who, const char *name,
                   const char *partition, int checkacl,
                   struct mboxlist_entry *out)
{
    struct mboxlist_entry cur, anc, e;
    int have_cur = 0, have_anc = 0;
    char *owner = NULL, *acl = NULL, *root = NULL;
    struct buf path = BUF_INITIALIZER;
    int64_t delta[QUOTA_NUMRESOURCES] = { 0 };
    enum quota_resource which;
    int r;

    memset(&cur, 0, sizeof(cur));
    memset(&anc, 0, sizeof(anc));
    memset(&e, 0, sizeof(e));
    if (mboxname_policycheck(st->ns, name, NULL))
        return MBOXOPS_BADNAME;

    r = mboxlist_lookup(name, &cur);
    if (r == MBOXLIST_OK) {
        have_cur = 1;
        if (cur.type != MBTYPE_INTERMEDIATE) {
            r = MBOXOPS_EXISTS;
            goto done;
        }
    }
    else if (r != MBOXLIST_NOTFOUND) {
        r = from_mboxlist(r);
        goto done;
    }
    r = find_ancestor(name, &anc);
    if (r == MBOXLIST_OK)
        have_anc = 1;
    else if (r != MBOXLIST_NOTFOUND) {
        r = from_mboxlist(r);
        goto done;
    }

    owner = mboxname_to_userid(name);
    if (checkacl && !who->isadmin) {
        if (!have_anc) {
            /* Only his own INBOX may a user create without a parent. */
            if (!mboxname_isusermailbox(name, 1) || !owner || !who->userid ||
                strcmp(owner, who->userid)) {
                r = MBOXOPS_NOPERM;
                goto done;
            }
        }
        else if (!(mboxops_rights(st, who, anc.name, anc.acl) & ACL_CREATE)) {
            r = MBOXOPS_NOPERM;
            goto done;
        }
    }

    if (!partition)
        partition = have_anc ? anc.partition : st->defaultpartition;
    if (!partition)
        partition = "default";
    r = mboxlist_path(name, partition, &path);
    if (r) {
        r = MBOXOPS_PARTITION;
        goto done;
    }

    root = quota_findroot(name);
    delta[QUOTA_NUMFOLDERS] = 1;
    if (root && !who->isadmin &&
        quota_check(root, delta, 1, &which) == QUOTA_EXCEEDED) {
        r = MBOXOPS_OVERQUOTA;
        goto done;
    }

    acl = acl_for_new_mailbox(have_anc ? anc.acl : NULL, owner,
                              st->defaultacl);
    r = create_intermediates(name, partition, acl);
    if (r)
        goto done;

    e.name = xstrdup(name);
    e.type = MBTYPE_EMAIL;
    e.partition = xstrdup(partition);
    e.acl = xstrdup(acl);
    if (have_cur) {
        struct buf uid = BUF_INITIALIZER;
        mboxlist_new_uniqueid(&uid);
        e.uniqueid = buf_release(&uid);
        e.uidvalidity = mboxlist_new_uidvalidity();
        r = mboxlist_update(&e);
    }
    else {
        r = mboxlist_insert(&e);
    }
    if (r) {
        r = from_mboxlist(r);
        goto done;
    }
    r = mailbox_create(buf_cstring(&path), e.uniqueid, e.acl, root,
                       e.uidvalidity);
    if (r == MAILBOX_EXISTS) {
        /* Leftover files of a mailbox deleted in a crash: start afresh. */
        mailbox_delete_files(buf_cstring(&path));
        r = mailbox_create(buf_cstring(&path), e.uniqueid, e.acl, root,
                           e.uidvalidity);
    }
    if (r) {
        log_error("create %s: %s", name, mailbox_strerror(r));
        if (have_cur) {
            cur.type = MBTYPE_INTERMEDIATE;
            mboxlist_update(&cur);
        }
        else {
            mboxlist_remove(name);
            prune_intermediates(name);
        }
        r = from_mailbox(r);
        goto done;
    }
    charge(root, delta);
    if (out) {
        *out = e;
        memset(&e, 0, sizeof(e));
    }

done:
    if (have_cur)
        mboxlist_entry_fini(&cur);
    if (have_anc)
        mboxlist_entry_fini(&anc);
    mboxlist_entry_fini(&e);
    buf_free(&path);
    free(owner);
    free(acl);
    free(root);
    return r;
}

int mboxops_create_user(const struct mboxops_settings *st,
                        const char *userid, int64_t storage_kb,
                        int64_t messages, const strarray_t *folders,
                        const strarray_t *subscribe)
{
    struct acl_subject who = { userid, NULL, 0 };
    char *inbox = mboxname_user_inbox(st->ns, userid);
    int r;

    if (!inbox)
        return MBOXOPS_BADNAME;
    if (storage_kb > 0 || messages > 0) {
        int64_t limit[QUOTA_NUMRESOURCES];
        int have[QUOTA_NUMRESOURCES] = { 0 };

        for (int i = 0; i < QUOTA_NUMRESOURCES; i++)
            limit[i] = QUOTA_UNLIMITED;
        if (storage_kb > 0) {
            limit[QUOTA_STORAGE] = storage_kb;
            have[QUOTA_STORAGE] = 1;
        }
        if (messages > 0) {
            limit[QUOTA_MESSAGE] = messages;
            have[QUOTA_MESSAGE] = 1;
        }
        /* Set the root first so that the new folders are counted. */
        struct mboxlist_entry e;
        memset(&e, 0, sizeof(e));
        if (mboxlist_lookup(inbox, &e) == MBOXLIST_OK) {
            mboxlist_entry_fini(&e);
            free(inbox);
            return MBOXOPS_EXISTS;
        }
        if (quota_set_limits(inbox, limit, have, 1)) {
            free(inbox);
            return MBOXOPS_IOERROR;
        }
    }
    r = mboxops_create(st, &who, inbox, NULL, 0, NULL);
    if (r) {
        free(inbox);
        return r;
    }
    for (int i = 0; folders && i < folders->count; i++) {
        char *sub = mboxname_user_mbox(st->ns, userid, strarray_nth(folders, i));
        if (!sub)
            continue;
        int r2 = mboxops_create(st, &who, sub, NULL, 0, NULL);
        if (r2 && r2 != MBOXOPS_EXISTS)
            log_warning("autocreate %s: %s", sub, mboxops_strerror(r2));
        if (subscribe && strarray_find(subscribe, strarray_nth(folders, i), 0) >= 0)
            subs_add(st->configdir, userid, sub);
        free(sub);
    }
    free(inbox);
    return MBOXOPS_OK;
}

/* Remove the files and record of one mailbox (no permission checks);
 * with children it stays as an intermediate name. */
static int delete_one(const struct mboxlist_entry *e)
{
    int64_t delta[QUOTA_NUMRESOURCES];
    struct buf path = BUF_INITIALIZER;
    char *root = NULL;
    int r, children = mboxlist_haschildren(e->name) == 1;

    if (e->type == MBTYPE_INTERMEDIATE) {
        if (children)
            return MBOXOPS_HASCHILDREN;
        r = from_mboxlist(mboxlist_remove(e->name));
        if (!r && annotate_isopen() && e->uniqueid)
            annotate_delete_mailbox(e->uniqueid, NULL);
        if (!r)
            prune_intermediates(e->name);
        return r;
    }
    r = mailbox_usage(e, delta);
    if (r && r != MBOXOPS_NOTFOUND)
        return r;
    root = quota_findroot(e->name);

    if (children) {
        struct mboxlist_entry inter = *e;
        inter.type = MBTYPE_INTERMEDIATE;
        r = mboxlist_update(&inter);
    }
    else {
        r = mboxlist_remove(e->name);
    }
    if (r) {
        free(root);
        return from_mboxlist(r);
    }
    if (!mboxlist_path(e->name, e->partition, &path)) {
        int r2 = mailbox_delete_files(buf_cstring(&path));
        if (r2 && r2 != MAILBOX_ENOENT)
            log_error("delete %s: removing files: %s", e->name,
                      mailbox_strerror(r2));
    }
    buf_free(&path);
    /* RFC 5464 4.1: a new mailbox of this name starts without them. */
    if (annotate_isopen() && e->uniqueid)
        annotate_delete_mailbox(e->uniqueid, NULL);
    negate(delta);
    charge(root, delta);
    /* A quota root named after a mailbox goes with it, as in Cyrus. */
    if (root && !strcmp(root, e->name) && !children)
        quota_delete(root);
    free(root);
    if (!children)
        prune_intermediates(e->name);
    return MBOXOPS_OK;
}

static int collect_cb(const struct mboxlist_entry *e, void *rock)
{
    strarray_append(rock, e->name);
    return 0;
}

/* Names at or below `name`, deepest last (mailboxes.db order). */
static void collect_subtree(const char *name, strarray_t *out)
{
    char *prefix = strconcat(name, ".", (char *)NULL);
    struct mboxlist_entry e;

    memset(&e, 0, sizeof(e));
    if (mboxlist_lookup(name, &e) == MBOXLIST_OK) {
        strarray_append(out, name);
        mboxlist_entry_fini(&e);
    }
    mboxlist_foreach(prefix, collect_cb, out);
    free(prefix);
}

static int delete_user(const struct mboxops_settings *st, const char *inbox)
{
    strarray_t names = STRARRAY_INITIALIZER;
    char *userid = mboxname_to_userid(inbox);
    int r = MBOXOPS_OK;

    collect_subtree(inbox, &names);
    /* Children first, so no one becomes an intermediate. */
    for (int i = names.count - 1; i >= 0; i--) {
        struct mboxlist_entry e;
        memset(&e, 0, sizeof(e));
        if (mboxlist_lookup(strarray_nth(&names, i), &e))
            continue;
        int r2 = delete_one(&e);
        if (r2 && !r)
            r = r2;
        mboxlist_entry_fini(&e);
    }
    strarray_fini(&names);
    if (userid) {
        subs_delete_user(st->configdir, userid);
        seen_delete_user(st->configdir, userid);
    }
    quota_delete(inbox);
    free(userid);
    return r;
}

int mboxops_delete(const struct mboxops_settings *st,
                   const struct acl_subject *who, const char *name,
                   int checkacl)
{
    struct mboxlist_entry e;
    int r;

    memset(&e, 0, sizeof(e));
    r = mboxlist_lookup(name, &e);
    if (r)
        return from_mboxlist(r);
    if (checkacl && !who->isadmin) {
        acl_rights_t rights = mboxops_rights(st, who, name, e.acl);
        /* 'x' alone is enough (RFC 4314 4); without it, a mailbox the
         * user cannot even list is not there for him. */
        if (!(rights & (ACL_LOOKUP | ACL_DELETEMBOX)))
            r = MBOXOPS_NOTFOUND;
        else if (!(rights & ACL_DELETEMBOX) || mboxname_isusermailbox(name, 1))
            r = MBOXOPS_NOPERM;
    }
    if (!r) {
        if (mboxname_isusermailbox(name, 1))
            r = delete_user(st, name);
        else
            r = delete_one(&e);
    }
    mboxlist_entry_fini(&e);
    return r;
}

/* Move the store files (not sub-mailbox directories) of `from` to `to`. */
static int move_files(const char *from, const char *to)
{
    DIR *d;
    struct dirent *de;
    struct buf a = BUF_INITIALIZER, b = BUF_INITIALIZER;
    int r = 0;

    if (cyrus_mkdir_p(to, 0750) < 0 && errno != EEXIST)
        return MBOXOPS_IOERROR;
    d = opendir(from);
    if (!d)
        return errno == ENOENT ? MBOXOPS_OK : MBOXOPS_IOERROR;
    while (!r && (de = readdir(d))) {
        struct stat sb;

        buf_reset(&a);
        buf_printf(&a, "%s/%s", from, de->d_name);
        if (lstat(buf_cstring(&a), &sb) < 0 || !S_ISREG(sb.st_mode))
            continue;
        buf_reset(&b);
        buf_printf(&b, "%s/%s", to, de->d_name);
        if (rename(buf_cstring(&a), buf_cstring(&b)) < 0) {
            log_error("rename %s to %s: %m", buf_cstring(&a), buf_cstring(&b));
            r = MBOXOPS_IOERROR;
        }
    }
    closedir(d);
    if (!r)
        rmdir(from); /* fails harmlessly while sub-mailboxes live there */
    buf_free(&a);
    buf_free(&b);
    return r;
}

/* Move one mailbox record and its files to `newname`. */
static int rename_one(const struct mboxlist_entry *e, const char *newname,
                      const char *newroot)
{
    struct mboxlist_entry n = *e;
    struct buf from = BUF_INITIALIZER, to = BUF_INITIALIZER;
    struct mailbox *mb = NULL;
    int r;

    n.name = (char *)newname;
    r = mboxlist_insert(&n);
    if (r)
        return from_mboxlist(r);
    if (e->type == MBTYPE_EMAIL) {
        r = mboxlist_path(e->name, e->partition, &from);
        if (!r)
            r = mboxlist_path(newname, e->partition, &to);
        if (r) {
            r = from_mboxlist(r);
            goto fail;
        }
        r = mailbox_open(buf_cstring(&from), &mb);
        if (!r)
            r = mailbox_lock_exclusive(mb);
        if (!r) {
            const char *cur = mailbox_quotaroot(mb);
            if (strcmp(cur ? cur : "", newroot ? newroot : "")) {
                mailbox_set_quotaroot(mb, newroot ? newroot : "");
                mailbox_commit(mb);
            }
            r = move_files(buf_cstring(&from), buf_cstring(&to));
            mailbox_unlock(mb);
        }
        else {
            r = from_mailbox(r);
        }
        mailbox_close(&mb);
        if (r)
            goto fail;
    }
    mboxlist_remove(e->name);
    buf_free(&from);
    buf_free(&to);
    return MBOXOPS_OK;

fail:
    mboxlist_remove(newname);
    buf_free(&from);
    buf_free(&to);
    return r;
}

/* Quota check and charge for moving `usage` from `oldroot` to `newroot`. */
static int roots_differ(const char *a, const char *b)
{
    if (!a || !b)
        return a != b;
    return strcmp(a, b);
}

/* RFC 3501 6.3.5: renaming INBOX moves its messages, not its children. */
static int rename_inbox(const struct mboxops_settings *st,
                        const struct acl_subject *who,
                        const struct mboxlist_entry *inbox,
                        const char *newname)
{
    struct mboxlist_entry ne;
    struct buf path = BUF_INITIALIZER;
    struct mailbox *src = NULL, *dst = NULL;
    struct appendstate *as = NULL;
    char *oldroot = NULL, *newroot = NULL;
    int64_t moved[QUOTA_NUMRESOURCES] = { 0 };
    int r;

    memset(&ne, 0, sizeof(ne));
    r = mboxops_create(st, who, newname, inbox->partition, 0, &ne);
    if (r)
        return r;
    oldroot = quota_findroot(inbox->name);
    newroot = quota_findroot(newname);

    r = mboxlist_path(inbox->name, inbox->partition, &path);
    if (!r)
        r = mailbox_open(buf_cstring(&path), &src);
    buf_reset(&path);
    if (!r)
        r = mboxlist_path(ne.name, ne.partition, &path);
    if (!r)
        r = mailbox_open(buf_cstring(&path), &dst);
    if (!r)
        r = mailbox_lock_exclusive(src);
    if (r) {
        r = MBOXOPS_IOERROR;
        goto done;
    }
    r = append_setup(dst, roots_differ(oldroot, newroot) ? newroot : NULL, 0,
                     &as);
    if (r) {
        mailbox_unlock(src);
        r = r == APPEND_OVERQUOTA ? MBOXOPS_OVERQUOTA : MBOXOPS_IOERROR;
        goto done;
    }
    const struct index_header *h = mailbox_header(src);
    const strarray_t *flags = mailbox_user_flags(src);
    for (uint32_t i = 0; !r && i < h->num_records; i++) {
        struct index_record rec, out;
        struct append_info info;

        if (mailbox_read_record(src, i, &rec) ||
            (rec.internal_flags & FLAG_INTERNAL_EXPUNGED))
            continue;
        memset(&info, 0, sizeof(info));
        info.internaldate = rec.internaldate;
        info.internaldate_zone_set = rec.internaldate_zone != INDEX_ZONE_UNKNOWN;
        info.internaldate_zone = rec.internaldate_zone;
        info.sentdate = rec.sentdate;
        info.header_size = rec.header_size;
        info.system_flags = rec.system_flags;
        /* Keyword bits are per mailbox: map them by name. */
        for (int f = 0; flags && f < flags->count; f++) {
            if (!(rec.user_flags[f / 32] & (1u << (f % 32))))
                continue;
            int bit = mailbox_user_flag(dst, strarray_nth(flags, f), 1);
            if (bit >= 0)
                info.user_flags[bit / 32] |= 1u << (bit % 32);
        }
        r = append_copy(as, src, &rec, &info, &out);
        moved[QUOTA_STORAGE] += rec.size;
        moved[QUOTA_MESSAGE]++;
    }
    if (r) {
        append_abort(&as);
        mailbox_unlock(src);
        r = r == APPEND_OVERQUOTA ? MBOXOPS_OVERQUOTA : MBOXOPS_IOERROR;
        goto done;
    }
    r = append_commit(&as);
    if (r) {
        mailbox_unlock(src);
        r = MBOXOPS_IOERROR;
        goto done;
    }
    for (uint32_t i = 0; i < h->num_records; i++) {
        struct index_record rec;
        if (mailbox_read_record(src, i, &rec) ||
            (rec.internal_flags & FLAG_INTERNAL_EXPUNGED))
            continue;
        mailbox_expunge_record(src, i);
    }
    r = mailbox_commit(src) ? MBOXOPS_IOERROR : MBOXOPS_OK;
    mailbox_unlock(src);
    /* RFC 5464 4.1: the INBOX keeps its annotations, the new mailbox
     * gets a copy. */
    if (!r && annotate_isopen())
        annotate_copy_mailbox(inbox->uniqueid, ne.uniqueid);
    if (!r && roots_differ(oldroot, newroot)) {
        negate(moved);
        charge(oldroot, moved);
    }

done:
    mailbox_close(&src);
    mailbox_close(&dst);
    mboxlist_entry_fini(&ne);
    buf_free(&path);
    free(oldroot);
    free(newroot);
    return r;
}

int mboxops_rename(const struct mboxops_settings *st,
                   const struct acl_subject *who, const char *oldname,
                   const char *newname, int checkacl)
{
    struct mboxlist_entry old, anc, tmp;
    strarray_t names = STRARRAY_INITIALIZER;
    int64_t total[QUOTA_NUMRESOURCES] = { 0 };
    char *oldroot = NULL, *newroot = NULL;
    int isinbox = mboxname_isusermailbox(oldname, 1);
    int r;

    memset(&old, 0, sizeof(old));
    memset(&anc, 0, sizeof(anc));
    memset(&tmp, 0, sizeof(tmp));
    r = mboxlist_lookup(oldname, &old);
    if (r)
        return from_mboxlist(r);
    if (old.type == MBTYPE_INTERMEDIATE) {
        r = MBOXOPS_NOTFOUND;
        goto done;
    }
    if (checkacl && !who->isadmin) {
        acl_rights_t rights = mboxops_rights(st, who, oldname, old.acl);
        if (!(rights & (ACL_LOOKUP | ACL_DELETEMBOX))) {
            r = MBOXOPS_NOTFOUND;
            goto done;
        }
        if (!(rights & ACL_DELETEMBOX)) {
            r = MBOXOPS_NOPERM;
            goto done;
        }
    }
    if (!strcmp(oldname, newname)) {
        r = MBOXOPS_SAMENAME;
        goto done;
    }
    if (!isinbox && mboxname_is_prefix(newname, oldname)) {
        r = MBOXOPS_INTOSELF;
        goto done;
    }
    if (mboxname_policycheck(st->ns, newname, NULL)) {
        r = MBOXOPS_BADNAME;
        goto done;
    }
    /* A user INBOX is made by creating a user, not by renaming onto it;
     * an admin may still rename one user to another (Cyrus's
     * allowusermoves) when both are INBOXes. */
    if (mboxname_isusermailbox(newname, 1) && !(isinbox && who->isadmin)) {
        r = MBOXOPS_INBOX;
        goto done;
    }
    if (mboxlist_lookup(newname, &tmp) == MBOXLIST_OK) {
        mboxlist_entry_fini(&tmp);
        r = MBOXOPS_EXISTS;
        goto done;
    }
    if (checkacl && !who->isadmin) {
        r = find_ancestor(newname, &anc);
        if (r == MBOXLIST_OK) {
            acl_rights_t rights = mboxops_rights(st, who, anc.name, anc.acl);
            mboxlist_entry_fini(&anc);
            if (!(rights & ACL_CREATE)) {
                r = MBOXOPS_NOPERM;
                goto done;
            }
        }
        else {
            r = MBOXOPS_NOPERM;
            goto done;
        }
    }
    if (isinbox && !(who->isadmin && mboxname_isusermailbox(newname, 1))) {
        r = rename_inbox(st, who, &old, newname);
        goto done;
    }

    oldroot = quota_findroot(oldname);
    newroot = quota_findroot(newname);
    collect_subtree(oldname, &names);
    if (roots_differ(oldroot, newroot)) {
        for (int i = 0; i < names.count; i++) {
            int64_t d[QUOTA_NUMRESOURCES];
            memset(&tmp, 0, sizeof(tmp));
            if (mboxlist_lookup(strarray_nth(&names, i), &tmp))
                continue;
            if (!mailbox_usage(&tmp, d))
                for (int k = 0; k < QUOTA_NUMRESOURCES; k++)
                    total[k] += d[k];
            mboxlist_entry_fini(&tmp);
        }
        enum quota_resource which;
        if (newroot && !who->isadmin &&
            quota_check(newroot, total, 1, &which) == QUOTA_EXCEEDED) {
            r = MBOXOPS_OVERQUOTA;
            goto done;
        }
    }
    r = create_intermediates(newname, old.partition, old.acl);
    size_t oldlen = strlen(oldname);
    for (int i = 0; !r && i < names.count; i++) {
        const char *n = strarray_nth(&names, i);
        char *nn = strconcat(newname, n + oldlen, (char *)NULL);
        memset(&tmp, 0, sizeof(tmp));
        if (mboxlist_lookup(n, &tmp) == MBOXLIST_OK) {
            char *root = quota_findroot(nn);
            r = rename_one(&tmp, nn, root);
            free(root);
            mboxlist_entry_fini(&tmp);
        }
        free(nn);
    }
    if (r)
        goto done;
    prune_intermediates(oldname);
    if (roots_differ(oldroot, newroot)) {
        charge(newroot, total);
        negate(total);
        charge(oldroot, total);
    }
    if (who->userid && st->configdir)
        subs_rename(st->configdir, who->userid, oldname, newname);

done:
    mboxlist_entry_fini(&old);
    strarray_fini(&names);
    free(oldroot);
    free(newroot);
    return r;
}

static int update_acl(const char *name, const char *id, int remove,
                      enum acl_mode mode, acl_rights_t rights)
{
    struct mboxlist_entry e;
    struct acl acl = ACL_INITIALIZER;
    struct buf path = BUF_INITIALIZER;
    struct mailbox *mb = NULL;
    int r;

    memset(&e, 0, sizeof(e));
    r = mboxlist_lookup(name, &e);
    if (r)
        return from_mboxlist(r);
    if (acl_parse(&acl, e.acl ? e.acl : "") < 0)
        log_warning("%s: unparsable ACL replaced", name);
    if (remove)
        acl_remove(&acl, id);
    else
        acl_set(&acl, id, mode, rights);
    free(e.acl);
    e.acl = acl_format(&acl);
    acl_fini(&acl);
    r = from_mboxlist(mboxlist_update(&e));
    /* cyrus.header keeps a copy for reconstruct; mailboxes.db rules. */
    if (!r && e.type == MBTYPE_EMAIL && !mboxlist_path(e.name, e.partition, &path) &&
        !mailbox_open(buf_cstring(&path), &mb)) {
        if (!mailbox_lock_exclusive(mb)) {
            if (mailbox_set_acl(mb, e.acl))
                log_warning("%s: cannot copy the ACL to cyrus.header", name);
            mailbox_commit(mb);
            mailbox_unlock(mb);
        }
        mailbox_close(&mb);
    }
    buf_free(&path);
    mboxlist_entry_fini(&e);
    return r;
}

int mboxops_setacl(const char *name, const char *id, enum acl_mode mode,
                   acl_rights_t rights)
{
    return update_acl(name, id, 0, mode, rights);
}

int mboxops_deleteacl(const char *name, const char *id)
{
    return update_acl(name, id, 1, ACL_MODE_SET, 0);
}

struct usage_rock {
    const char *root;
    int64_t total[QUOTA_NUMRESOURCES];
};

/* Record `root` in the mailbox's cyrus.header, the copy reconstruct and
 * `quota -f` rely on; mailboxes.db and the quota database stay the
 * authority, so a failure here is only logged. */
static void mailbox_claim_quotaroot(const struct mboxlist_entry *e,
                                    const char *root)
{
    struct buf path = BUF_INITIALIZER;
    struct mailbox *mb = NULL;

    if (e->type != MBTYPE_EMAIL || mboxlist_path(e->name, e->partition, &path) ||
        mailbox_open(buf_cstring(&path), &mb)) {
        buf_free(&path);
        return;
    }
    buf_free(&path);
    if (!mailbox_lock_exclusive(mb)) {
        const char *cur = mailbox_quotaroot(mb);
        if (strcmp(cur ? cur : "", root) &&
            (mailbox_set_quotaroot(mb, root) || mailbox_commit(mb)))
            log_error("%s: cannot record quota root %s", e->name, root);
        mailbox_unlock(mb);
    }
    mailbox_close(&mb);
}

static int usage_cb(const struct mboxlist_entry *e, void *rock)
{
    struct usage_rock *ur = rock;
    int64_t d[QUOTA_NUMRESOURCES];
    char *root = quota_findroot(e->name);

    if (root && !strcmp(root, ur->root) && !mailbox_usage(e, d)) {
        for (int i = 0; i < QUOTA_NUMRESOURCES; i++)
            ur->total[i] += d[i];
        mailbox_claim_quotaroot(e, root);
    }
    free(root);
    return 0;
}

int mboxops_setquota(const char *root, const int64_t *limit, const int *have)
{
    struct quota q;
    struct usage_rock ur;
    char *prev = NULL;
    int r, isnew;

    memset(&q, 0, sizeof(q));
    r = quota_read(root, &q);
    isnew = r == QUOTA_NOTFOUND;
    if (r && !isnew)
        return MBOXOPS_IOERROR;
    if (!isnew)
        quota_fini(&q);
    else
        prev = quota_findroot(root);

    if (quota_set_limits(root, limit, have, 1)) {
        free(prev);
        return MBOXOPS_IOERROR;
    }
    if (isnew) {
        struct mboxlist_entry e;
        char *prefix = strconcat(root, ".", (char *)NULL);

        memset(&ur, 0, sizeof(ur));
        ur.root = root;
        memset(&e, 0, sizeof(e));
        if (mboxlist_lookup(root, &e) == MBOXLIST_OK) {
            usage_cb(&e, &ur);
            mboxlist_entry_fini(&e);
        }
        mboxlist_foreach(prefix, usage_cb, &ur);
        free(prefix);
        charge(root, ur.total);
        negate(ur.total);
        charge(prev, ur.total);
    }
    free(prev);
    return MBOXOPS_OK;
}
