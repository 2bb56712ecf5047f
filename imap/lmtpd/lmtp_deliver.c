/* lmtp_deliver.c -- from RCPT addresses to mailboxes, and storing a
 * message in them; see lmtpd.h.
 *
 * Recipients are taken as Cyrus takes them:
 *   user[@domain]            the user's INBOX
 *   user+detail[@domain]     the user's folder "detail" when it exists and
 *                            the poster holds 'p' on it (with
 *                            lmtp_fuzzy_mailbox_match, the closest folder
 *                            by case-insensitive name), else the INBOX
 *   postuser+folder          the shared mailbox "folder", 'p' required
 * The poster is the MAIL FROM AUTH= identity, or anonymous.  A recipient
 * naming a mailbox that does not exist (for the poster) goes to the
 * INBOX of lmtp_catchall_mailbox when that is set; over-quota and
 * permission refusals stay refusals.
 *
 * Quota on delivery (concepts.txt): a recipient is accepted while its
 * quota root's usage is under the limit, whatever the message's size;
 * with lmtp_strict_quota the message must fit.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "imap/lmtpd/lmtp_group.h"
#include "imap/lmtpd/lmtpd.h"
#include "imap/store/append.h"
#include "imap/store/duplicate.h"
#include "imap/store/mailbox.h"
#include "imap/store/mboxlist.h"
#include "imap/store/mboxops.h"
#include "imap/store/quota.h"
#include "lib/config.h"
#include "lib/cyrusdb.h"
#include "lib/log.h"
#include "lib/util.h"
#include "lib/xmalloc.h"

static struct mboxlist_settings mboxlist_st;
static int dupelim_open;

int lmtp_deliver_init(const struct lmtpd_settings *st)
{
    if (cyrusdb_init(st->configdir, 0)) {
        log_error("lmtpd: cannot open the database environment in %s",
                  st->configdir);
        return -1;
    }
    mboxlist_st.configdir = st->configdir;
    mboxlist_st.defaultpartition = st->defaultpartition;
    mboxlist_st.hashimapspool = st->hashimapspool;
    mboxlist_st.partition_dir = config_partitiondir;
    if (mboxlist_open(&mboxlist_st)) {
        log_error("lmtpd: cannot open mailboxes.db");
        return -1;
    }
    if (quota_open(st->configdir)) {
        log_error("lmtpd: cannot open the quota database");
        return -1;
    }
    if (st->dupelim) {
        if (duplicate_open(st->duplicate_db))
            log_error("lmtpd: duplicate suppression is off for this process");
        else
            dupelim_open = 1;
    }
    return 0;
}

void lmtp_deliver_done(void)
{
    if (dupelim_open)
        duplicate_close();
    dupelim_open = 0;
    quota_close();
    mboxlist_close();
    cyrusdb_done();
}

/* --- addresses ----------------------------------------------------------- */

char *lmtp_addr_clean(const char *path)
{
    struct buf out = BUF_INITIALIZER;
    const char *p = path;

    /* RFC 5321 4.1.2 source route "@a,@b:" is ignored, as it must be. */
    if (*p == '@') {
        p = strchr(p, ':');
        if (!p)
            return NULL;
        p++;
    }
    if (*p == '"') {
        for (p++; *p && *p != '"'; p++) {
            if (*p == '\\' && p[1])
                p++;
            buf_putc(&out, *p);
        }
        if (*p != '"' || (p[1] && p[1] != '@')) {
            buf_free(&out);
            return NULL;
        }
        p++;
    }
    buf_appendcstr(&out, p);
    if (!out.len || strpbrk(buf_cstring(&out), " \t\r\n<>")) {
        buf_free(&out);
        return NULL;
    }
    return buf_release(&out);
}

/* External folder name (with the namespace's separator) to internal
 * sub-name ('.'-separated). */
static char *detail_internal(const struct lmtpd_settings *st, const char *d)
{
    char *out = xstrdup(d);

    if (st->ns.unixhierarchysep) {
        for (char *p = out; *p; p++) {
            if (*p == '.')
                *p = '^';
            else if (*p == '/')
                *p = '.';
        }
    }
    return out;
}

int lmtp_addr_split(const struct lmtpd_settings *st, const char *addr,
                    char **userid, char **detail, int *shared)
{
    const char *at = strrchr(addr, '@');
    char *local = at ? xstrndup(addr, (size_t)(at - addr)) : xstrdup(addr);
    char *domain = at ? lcase(xstrdup(at + 1)) : NULL;
    char *plus = strchr(local, '+');
    char *det = NULL;
    int r = 0;

    *userid = *detail = NULL;
    *shared = 0;
    if (plus) {
        *plus = '\0';
        det = plus + 1;
    }
    for (unsigned char *p = (unsigned char *)local; *p; p++) {
        if (*p >= 0x80 || *p < 0x20) {
            if (st->strict_rfc2821) {
                r = -1;
                goto out;
            }
            *p = 'X';
        }
    }
    if (st->downcase_rcpt)
        lcase(local);
    /* Address literals and the default domain name no virtual domain. */
    if (domain && (!st->ns.virtdomains || domain[0] == '[' || !*domain ||
                   (st->ns.defaultdomain &&
                    !strcasecmp(domain, st->ns.defaultdomain))))
        xfree(domain);

    if (!strcmp(local, st->postuser ? st->postuser : "")) {
        /* Shared folder: the detail names it from the top. */
        if (!det || !*det) {
            r = -2;
            goto out;
        }
        char *name = detail_internal(st, det);
        *detail = domain ? strconcat(domain, "!", name, (char *)NULL)
                         : xstrdup(name);
        free(name);
        *shared = 1;
        goto out;
    }
    if (!*local) {
        r = -2;
        goto out;
    }
    *userid = domain ? strconcat(local, "@", domain, (char *)NULL)
                     : xstrdup(local);
    if (det && *det)
        *detail = detail_internal(st, det);
out:
    free(local);
    free(domain);
    return r;
}

/* --- rights -------------------------------------------------------------- */

static void ops_settings(const struct lmtpd_settings *st,
                         struct mboxops_settings *ops)
{
    ops->configdir = st->configdir;
    ops->defaultpartition = st->defaultpartition;
    ops->defaultacl = st->defaultacl;
    ops->implicit_owner = st->implicit_owner;
    ops->ns = &st->ns;
}

static acl_rights_t poster_rights(const struct lmtpd_settings *st,
                                  const struct lmtp_poster *poster,
                                  const struct mboxlist_entry *e)
{
    struct mboxops_settings ops;
    strarray_t groups = STRARRAY_INITIALIZER;
    struct acl_subject who;
    acl_rights_t rights;

    ops_settings(st, &ops);
    who.userid = poster->authuser ? poster->authuser : "anonymous";
    who.groups = &groups;
    who.isadmin = 0;
    if (poster->authuser)
        acl_unix_groups(poster->authuser, &groups);
    rights = mboxops_rights(&ops, &who, e->name, e->acl);
    strarray_fini(&groups);
    return rights;
}

/* Does the poster may post to `name` (an existing, ordinary mailbox)? */
static int can_post(const struct lmtpd_settings *st,
                    const struct lmtp_poster *poster, const char *name)
{
    struct mboxlist_entry e;
    int ok = 0;

    memset(&e, 0, sizeof(e));
    if (!mboxlist_lookup(name, &e) && e.type == MBTYPE_EMAIL)
        ok = (poster_rights(st, poster, &e) & ACL_POST) != 0;
    mboxlist_entry_fini(&e);
    return ok;
}

/* Folder components compare equal ignoring case, and ' ' matches '_'. */
static int fuzzy_eq(const char *a, const char *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char x = a[i] == '_' ? ' ' : a[i];
        char y = b[i] == '_' ? ' ' : b[i];
        if (x >= 'A' && x <= 'Z')
            x = (char)(x - 'A' + 'a');
        if (y >= 'A' && y <= 'Z')
            y = (char)(y - 'A' + 'a');
        if (x != y)
            return 0;
    }
    return 1;
}

struct fuzzy {
    const struct lmtpd_settings *st;
    const struct lmtp_poster *poster;
    const char *want;        /* full internal name asked for */
    size_t inboxlen;         /* length of the INBOX name (the prefix) */
    char *best;
    size_t bestlen;          /* matched length of `want` */
};

/* A candidate matches a whole-component prefix of the wanted name. */
static int fuzzy_cb(const struct mboxlist_entry *e, void *rock)
{
    struct fuzzy *f = rock;
    size_t len = strlen(e->name), wlen = strlen(f->want);

    if (len <= f->inboxlen || len > wlen || len <= f->bestlen)
        return 0;
    if (len < wlen && f->want[len] != '.')
        return 0;
    if (!fuzzy_eq(e->name, f->want, len) || e->type != MBTYPE_EMAIL)
        return 0;
    if (!(poster_rights(f->st, f->poster, e) & ACL_POST))
        return 0;
    free(f->best);
    f->best = xstrdup(e->name);
    f->bestlen = len;
    return 0;
}

static char *fuzzy_find(const struct lmtpd_settings *st,
                        const struct lmtp_poster *poster, const char *inbox,
                        const char *want)
{
    struct fuzzy f = { st, poster, want, strlen(inbox), NULL, 0 };
    char *prefix = strconcat(inbox, ".", (char *)NULL);

    mboxlist_foreach(prefix, fuzzy_cb, &f);
    free(prefix);
    return f.best;
}

/* --- recipients ---------------------------------------------------------- */

static enum lmtp_status lookup_status(int r)
{
    return r == MBOXLIST_NOTFOUND ? LMTP_UNKNOWN : LMTP_IOERROR;
}

/* The user's INBOX, created when autocreate_post allows it. */
static enum lmtp_status find_inbox(const struct lmtpd_settings *st,
                                   const char *userid, char **inboxp)
{
    struct mboxlist_entry e;
    char *inbox = mboxname_user_inbox(&st->ns, userid);
    int r;

    *inboxp = NULL;
    if (!inbox)
        return LMTP_UNKNOWN;
    memset(&e, 0, sizeof(e));
    r = mboxlist_lookup(inbox, &e);
    if (r == MBOXLIST_NOTFOUND && st->autocreate_post &&
        st->autocreate_quota >= 0) {
        struct mboxops_settings ops;

        ops_settings(st, &ops);
        r = mboxops_create_user(&ops, userid, st->autocreate_quota,
                                st->autocreate_quota_messages,
                                &st->autocreate_folders,
                                &st->autocreate_subscribe);
        if (r && r != MBOXOPS_EXISTS) {
            log_error("lmtpd: autocreate INBOX of %s: %s", userid,
                      mboxops_strerror(r));
            free(inbox);
            return r == MBOXOPS_BADNAME ? LMTP_UNKNOWN : LMTP_IOERROR;
        }
        if (!r)
            log_notice("lmtpd: autocreated INBOX of %s", userid);
        r = mboxlist_lookup(inbox, &e);
    }
    if (!r && e.type != MBTYPE_EMAIL)
        r = MBOXLIST_NOTFOUND;
    mboxlist_entry_fini(&e);
    if (r) {
        free(inbox);
        return lookup_status(r);
    }
    *inboxp = inbox;
    return LMTP_OK;
}

static enum lmtp_status check_quota(const struct lmtpd_settings *st,
                                    const char *mailbox, uint64_t size)
{
    int64_t delta[QUOTA_NUMRESOURCES] = { 0 };
    enum quota_resource which;
    char *root = quota_findroot(mailbox);
    int r;

    if (!root)
        return LMTP_OK;
    /* quota_check skips resources with no delta: even an empty message
     * must find room, so ask for at least one byte. */
    delta[QUOTA_STORAGE] = size ? (int64_t)size : 1;
    delta[QUOTA_MESSAGE] = 1;
    r = quota_check(root, delta, st->strict_quota, &which);
    free(root);
    if (r == QUOTA_EXCEEDED)
        return LMTP_OVERQUOTA;
    if (r && r != QUOTA_NOTFOUND)
        return LMTP_IOERROR;
    return LMTP_OK;
}

enum lmtp_status lmtp_rcpt_resolve(const struct lmtpd_settings *st,
                                   const struct lmtp_poster *poster,
                                   uint64_t sizehint, struct lmtp_rcpt *r)
{
    char *addr = lmtp_addr_clean(r->addr);
    char *userid = NULL, *detail = NULL, *mailbox = NULL;
    enum lmtp_status status;
    int shared, sr;

    if (!addr)
        return LMTP_BADADDR;
    sr = lmtp_addr_split(st, addr, &userid, &detail, &shared);
    free(addr);
    if (sr < 0)
        return sr == -1 ? LMTP_BADADDR : LMTP_UNKNOWN;

    if (shared) {
        struct mboxlist_entry e;
        int lr;

        memset(&e, 0, sizeof(e));
        lr = mboxlist_lookup(detail, &e);
        if (lr || e.type != MBTYPE_EMAIL) {
            status = lr ? lookup_status(lr) : LMTP_UNKNOWN;
        }
        else {
            acl_rights_t rights = poster_rights(st, poster, &e);
            if (rights & ACL_POST)
                status = LMTP_OK;
            else if (rights & ACL_LOOKUP)
                status = LMTP_NOPERM;
            else
                status = LMTP_UNKNOWN;
        }
        mboxlist_entry_fini(&e);
        if (!status)
            mailbox = xstrdup(detail);
        /* A shared folder the poster cannot see does not exist for
         * it: the catch-all takes that mail too, as Cyrus does. */
        if (status == LMTP_UNKNOWN && st->catchall)
            status = find_inbox(st, st->catchall, &mailbox);
    }
    else {
        status = find_inbox(st, userid, &mailbox);
        if (status == LMTP_UNKNOWN && st->catchall) {
            xfree(detail);
            status = find_inbox(st, st->catchall, &mailbox);
        }
        if (!status && detail) {
            char *folder = mboxname_user_mbox(&st->ns, userid, detail);
            if (folder && can_post(st, poster, folder)) {
                free(mailbox);
                mailbox = folder;
            }
            else if (folder && st->fuzzy_match) {
                char *best = fuzzy_find(st, poster, mailbox, folder);
                if (best) {
                    free(mailbox);
                    mailbox = best;
                }
                free(folder);
            }
            else {
                free(folder);
            }
        }
    }
    free(userid);
    free(detail);
    if (!status && !r->ignorequota)
        status = check_quota(st, mailbox, st->strict_quota ? sizehint : 0);
    if (status) {
        free(mailbox);
        return status;
    }
    free(r->mailbox);
    r->mailbox = mailbox;
    return LMTP_OK;
}

/* --- delivery ------------------------------------------------------------ */

/* One staged copy of the message per partition (or per mailbox without
 * single-instance store). */
struct stage_slot {
    char *partition;
    char *stagedir;
    struct stagemsg *stage;
    enum lmtp_status status;
};

struct delivery {
    const struct lmtpd_settings *st;
    const char *base;
    size_t len;
    struct stage_slot *slots;
    int nslots;
};

static enum lmtp_status append_status(int r)
{
    switch (r) {
    case APPEND_OK:
        return LMTP_OK;
    case APPEND_OVERQUOTA:
        return LMTP_OVERQUOTA;
    case APPEND_TOOBIG:
        return LMTP_TOOBIG;
    case APPEND_BADMESSAGE:
        return LMTP_NUL;
    default:
        return LMTP_IOERROR;
    }
}

static enum lmtp_status get_stage(struct delivery *d, const char *partition,
                                  struct stage_slot **slotp)
{
    struct buf dir = BUF_INITIALIZER;
    struct stage_slot *slot = NULL;
    const char *pdir;
    int r;

    if (d->st->singleinstance) {
        for (int i = 0; i < d->nslots; i++) {
            if (!strcmp(d->slots[i].partition, partition)) {
                *slotp = &d->slots[i];
                return d->slots[i].status;
            }
        }
    }
    d->slots = xrealloc(d->slots, sizeof(*d->slots) * (size_t)(d->nslots + 1));
    slot = &d->slots[d->nslots++];
    slot->partition = xstrdup(partition);
    slot->stagedir = NULL;
    slot->stage = NULL;
    slot->status = LMTP_IOERROR;
    *slotp = slot;
    pdir = config_partitiondir(partition);
    if (!pdir) {
        log_error("lmtpd: partition %s has no directory", partition);
        return slot->status;
    }
    /* Made by the first stage file that needs it. */
    buf_printf(&dir, "%s/stage.", pdir);
    slot->stagedir = buf_release(&dir);
    r = append_stage_buf(slot->stagedir, d->base, d->len, &slot->stage);
    /* Not fsync'd here: the group commit that stores it does (see
     * lmtp_group.c), side by side with the rest of its batch. */
    slot->status = append_status(r);
    return slot->status;
}

/* Store one copy in `mailbox`; *uid is its UID. */
static enum lmtp_status deliver_one(struct delivery *d, const char *mailbox,
                                    int ignorequota, uint32_t *uid)
{
    struct mboxlist_entry e;
    struct buf path = BUF_INITIALIZER;
    struct stage_slot *slot = NULL;
    struct lmtp_group_args ga;
    enum lmtp_status status;
    int r;

    memset(&e, 0, sizeof(e));
    r = mboxlist_lookup(mailbox, &e);
    if (r || e.type != MBTYPE_EMAIL) {
        mboxlist_entry_fini(&e);
        return r ? lookup_status(r) : LMTP_UNKNOWN;
    }
    status = get_stage(d, e.partition, &slot);
    if (status)
        goto out;
    if (mboxlist_path(mailbox, e.partition, &path)) {
        status = LMTP_IOERROR;
        goto out;
    }
    memset(&ga, 0, sizeof(ga));
    ga.mbdir = buf_cstring(&path);
    ga.mailbox = mailbox;
    ga.uniqueid = e.uniqueid;
    ga.stagedir = slot->stagedir;
    ga.stagepath = append_stage_path(slot->stage);
    ga.ignorequota = ignorequota;
    ga.strict_quota = d->st->strict_quota;
    status = lmtp_group_append(&ga, uid);
out:
    buf_free(&path);
    mboxlist_entry_fini(&e);
    return status;
}

void lmtp_deliver(const struct lmtpd_settings *st, struct lmtp_msg *msg,
                  struct lmtp_rcpt *rcpts, int nrcpt)
{
    struct delivery d;
    time_t now = time(NULL);

    memset(&d, 0, sizeof(d));
    d.st = st;
    if (lmtp_msg_map(msg, &d.base, &d.len) < 0) {
        for (int i = 0; i < nrcpt; i++)
            if (rcpts[i].status == LMTP_OK)
                rcpts[i].status = LMTP_IOERROR;
        return;
    }
    for (int i = 0; i < nrcpt; i++) {
        struct lmtp_rcpt *r = &rcpts[i];
        uint32_t uid = 0;
        int j;

        if (r->status != LMTP_OK || !r->mailbox)
            continue;
        /* Recipients that share a mailbox share its one copy. */
        for (j = 0; j < i; j++)
            if (rcpts[j].mailbox && !strcmp(rcpts[j].mailbox, r->mailbox))
                break;
        if (j < i) {
            r->status = rcpts[j].status;
            continue;
        }
        if (dupelim_open && msg->msgid &&
            duplicate_check(msg->msgid, r->mailbox, NULL) == 1) {
            log_notice("lmtpd: dupelim: eliminated duplicate message to %s "
                       "id %s", r->mailbox, msg->msgid);
            continue;
        }
        r->status = deliver_one(&d, r->mailbox, r->ignorequota, &uid);
        if (r->status == LMTP_OK) {
            log_info("lmtpd: delivered %s to %s uid %u", msg->msgid ?
                     msg->msgid : "(no Message-ID)", r->mailbox, uid);
            if (dupelim_open && msg->msgid)
                duplicate_mark(msg->msgid, r->mailbox, now, uid);
        }
    }
    for (int i = 0; i < d.nslots; i++) {
        if (d.slots[i].stage)
            append_stage_free(&d.slots[i].stage);
        free(d.slots[i].partition);
        free(d.slots[i].stagedir);
    }
    free(d.slots);
    lmtp_msg_unmap(msg, d.base, d.len);
}
