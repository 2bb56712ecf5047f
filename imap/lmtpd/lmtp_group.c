/* lmtp_group.c -- group commit: concurrent deliveries to one mailbox
 * share one mailbox transaction, and so its fsyncs.
 *
 * An MTA delivers over many sessions at once, often to the same mailbox,
 * and each append transaction costs several fsyncs under the mailbox's
 * exclusive lock.  So a delivering process does not append on its own:
 *
 *   1. its staged message (written, not yet fsync'd) is hard-linked as a
 *      "ticket" into the mailbox's queue directory
 *      <partition>/stage./q.<uniqueid>/, before the mailbox is even
 *      opened, so that whoever holds the lock next finds as many tickets
 *      as possible;
 *   2. it waits for the queue's lock (flock on <queue>/.lock; shared
 *      first, so that the processes one leader served read their results
 *      side by side);
 *   3. holding it, it looks for its result in its slot of the lock file:
 *      if another process has meanwhile appended the message, it takes
 *      the result and is done, without ever opening the mailbox;
 *   4. otherwise it takes the queue lock exclusively, looks once more,
 *      and becomes the leader: under the mailbox's exclusive lock it
 *      appends every ticket waiting in the queue and commits once -- the
 *      commit fsyncs all their files, the cache, the directory and the
 *      records in one round of parallel syncs, so a batch costs about
 *      two device flushes however big it is (three when the mailbox had
 *      no reservation, see mailbox_expect_appends) -- charges quota once (its
 *      sync overlapping the header's), then writes each ticket's result
 *      into its owner's slot and removes the tickets, and only then
 *      releases the queue lock.
 *
 * The promise is kept: a result saying "stored" is written only after
 * the commit that made the message durable, and a process answers 250
 * only on such a result.  A leader killed before its commit leaves the
 * tickets for the next leader; one killed between its commit and the
 * results makes the next leader store those messages again: a possible
 * duplicate, never a loss.  The slot of a process that died is simply
 * overwritten by the next process with its pid.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "imap/lmtpd/lmtp_group.h"
#include "imap/store/append.h"
#include "imap/store/mailbox.h"
#include "imap/store/quota.h"
#include "lib/log.h"
#include "lib/strarray.h"
#include "lib/util.h"
#include "lib/xmalloc.h"

/* Most tickets one leader takes at once: bounds the time others wait. */
#define BATCH_MAX 64

struct ticket {
    char *name;
    int ignorequota;
    enum lmtp_status status;
    uint32_t uid;
};

static int has_suffix(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && !strcmp(s + n - m, suffix);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The waiting tickets, oldest names first. */
static void list_tickets(const char *qdir, strarray_t *out)
{
    DIR *d = opendir(qdir);
    struct dirent *de;

    if (!d)
        return;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        strarray_append(out, de->d_name);
    }
    closedir(d);
    if (out->count > 1)
        qsort(out->data, (size_t)out->count, sizeof(char *), cmp_str);
}

/* Tickets up to this size are read into memory rather than mapped:
 * unmapping costs a TLB flush, which a virtual machine pays dearly. */
#define READ_MAX (256 * 1024)

/* Read a ticket once for everything the append needs: the cache payload,
 * the SHA-1 and size (info->guid, info->size) and the open descriptor
 * (*fdp, info->stage_fd), so that the mailbox neither opens nor reads the
 * file again under its lock.  `scratch` holds a small ticket's bytes. */
static int parse_ticket(const char *path, struct buf *cache,
                        struct buf *scratch, struct append_info *info,
                        uint8_t guid[20], int *fdp)
{
    struct stat sb;
    void *map = NULL;
    const char *base = "";
    size_t len;
    int fd, r;

    *fdp = -1;
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &sb) < 0) {
        if (fd >= 0)
            close(fd);
        return APPEND_IOERROR;
    }
    len = (size_t)sb.st_size;
    if (len > 0 && len <= READ_MAX) {
        buf_reset(scratch);
        buf_ensure(scratch, len);
        if (pread(fd, scratch->s, len, 0) != (ssize_t)len) {
            close(fd);
            return APPEND_IOERROR;
        }
        base = scratch->s;
    } else if (len > 0) {
        map = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
        if (map == MAP_FAILED) {
            close(fd);
            return APPEND_IOERROR;
        }
        base = map;
    }
    r = append_build_cache(base, len, cache, &info->sentdate,
                           &info->header_size);
    if (!r && !EVP_Digest(base, len, guid, NULL, EVP_sha1(), NULL))
        r = APPEND_IOERROR;
    if (map)
        munmap(map, len);
    if (r) {
        close(fd);
        return r;
    }
    info->size = (uint64_t)sb.st_size;
    info->guid = guid;
    info->stage_fd = *fdp = fd;
    return 0;
}

static enum lmtp_status status_of_append(int r)
{
    switch (r) {
    case APPEND_OK: return LMTP_OK;
    case APPEND_OVERQUOTA: return LMTP_OVERQUOTA;
    case APPEND_TOOBIG: return LMTP_TOOBIG;
    case APPEND_BADMESSAGE: return LMTP_NUL;
    default: return LMTP_IOERROR;
    }
}

struct charge {
    const char *root;
    const int64_t *used;
};

/* Charge a committed batch to its quota root. */
static void charge_quota(void *rock)
{
    const struct charge *ch = rock;
    int q = quota_update_used(ch->root, ch->used);

    if (q && q != QUOTA_NOTFOUND)
        log_error("lmtpd: quota usage of %s not updated", ch->root);
}

/* Append every ticket to the locked mailbox in one transaction. */
static void lead(const struct lmtp_group_args *a, struct mailbox *mb,
                 const char *qdir, struct ticket *t, int n)
{
    int64_t used[QUOTA_NUMRESOURCES] = { 0 };
    char *root = quota_findroot(a->mailbox);
    struct buf cache = BUF_INITIALIZER, scratch = BUF_INITIALIZER;
    int appended = 0, r;

    for (int i = 0; i < n; i++) {
        char *path = strconcat(qdir, "/", t[i].name, (char *)NULL);
        struct append_info info;
        struct index_record rec;
        uint8_t guid[20];
        uint64_t size;
        int fd;

        memset(&info, 0, sizeof(info));
        buf_reset(&cache);
        r = parse_ticket(path, &cache, &scratch, &info, guid, &fd);
        size = info.size;
        if (!r && size > UINT32_MAX)
            r = APPEND_TOOBIG;
        if (!r && root && !t[i].ignorequota) {
            int64_t delta[QUOTA_NUMRESOURCES];
            memcpy(delta, used, sizeof(delta));
            delta[QUOTA_STORAGE] += (int64_t)size;
            delta[QUOTA_MESSAGE] += 1;
            int q = quota_check(root, delta, a->strict_quota, NULL);
            if (q == QUOTA_EXCEEDED)
                r = APPEND_OVERQUOTA;
            else if (q && q != QUOTA_NOTFOUND)
                r = APPEND_IOERROR;
        }
        if (!r) {
            info.internaldate = (int64_t)time(NULL);
            info.cache = &cache;
            /* Not durable yet: the commit syncs every ticket's file
             * together with the mailbox's own files, in one round. */
            r = mailbox_append_message(mb, path, &info, &rec);
            if (r) {
                log_error("lmtpd: append to %s: %s", a->mailbox,
                          mailbox_strerror(r));
                r = APPEND_IOERROR;
            }
        }
        if (fd >= 0)
            close(fd);
        free(path);
        t[i].status = status_of_append(r);
        if (!r) {
            t[i].uid = rec.uid;
            used[QUOTA_STORAGE] += rec.size;
            used[QUOTA_MESSAGE] += 1;
            appended++;
        }
    }
    buf_free(&cache);
    buf_free(&scratch);
    if (appended) {
        struct charge ch = { root, used };

        /* A mailbox that gets mail gets more: the commit reserves the
         * next batch's UIDs, so that the next delivery skips the appending
         * mark's sync (one of the three a batch would wait for). */
        mailbox_expect_appends(mb, BATCH_MAX);

        /* The quota database's own sync overlaps the header's: a crash
         * between the two may leave the usage ahead of the mailbox (one
         * batch), which quota -f corrects, never behind it. */
        r = mailbox_commit_during(mb, root ? charge_quota : NULL, &ch);
        if (r) {
            log_error("lmtpd: commit to %s: %s", a->mailbox,
                      mailbox_strerror(r));
            mailbox_abort(mb);
            for (int i = 0; i < n; i++)
                if (t[i].status == LMTP_OK)
                    t[i].status = LMTP_IOERROR;
        }
    }
    free(root);
}

/* The mailbox this process last led a batch for stays open (unlocked)
 * until it leads one for another: opening a mailbox afresh reads all its
 * files under a lock of its own, and a leader would do it inside the
 * queue lock everybody waits on.  Opening the kept one again costs a
 * stat. */
static struct mailbox *kept_mb;
static char *kept_dir;

static int open_mailbox(const char *dir, struct mailbox **mbp)
{
    /* A different path may still be the kept directory (renamed): the
     * process must not hold the same files through two handles. */
    if (kept_mb && strcmp(kept_dir, dir)) {
        mailbox_close(&kept_mb);
        free(kept_dir);
        kept_dir = NULL;
    }
    return mailbox_open(dir, mbp);
}

static void keep_mailbox(const char *dir, struct mailbox **mbp)
{
    if (kept_mb)
        mailbox_close(&kept_mb);
    free(kept_dir);
    kept_mb = *mbp;
    kept_dir = xstrdup(dir);
    *mbp = NULL;
}

/* A ticket is named "<time>.<pid>.<nonce>.<seq>.<q|i>": its owner, a
 * per-process random nonce and a per-process sequence number. */
static int ticket_owner(const char *name, pid_t *pid, uint32_t *nonce,
                        uint32_t *seq)
{
    long long t;
    int p;
    unsigned n, q;

    if (sscanf(name, "%lld.%d.%x.%u.", &t, &p, &n, &q) != 4 || p <= 0)
        return -1;
    *pid = (pid_t)p;
    *nonce = n;
    *seq = q;
    return 0;
}

/* The leader hands a ticket's result to its owner in the owner's slot of
 * the queue's lock file (see lmtp_group.h): one pwrite, where a result
 * file of its own cost a directory operation, and the owner one pread
 * where it had to list the directory.  No fsync: the commit before it is
 * what made the message durable, and nobody looks before the queue lock
 * is released. */
static void write_result(int lockfd, const struct ticket *t)
{
    struct lmtp_group_result slot;
    pid_t pid;

    if (ticket_owner(t->name, &pid, &slot.nonce, &slot.seq) < 0)
        return;
    slot.status = (int32_t)t->status;
    slot.uid = t->uid;
    if (pwrite(lockfd, &slot, sizeof(slot),
               (off_t)pid * (off_t)sizeof(slot)) != (ssize_t)sizeof(slot))
        log_error("lmtpd: cannot record the result of %s: %s", t->name,
                  strerror(errno));
}

/* 1 and the result when another process stored our ticket; 0 if not. */
static int read_result(int lockfd, uint32_t nonce, uint32_t seq,
                       enum lmtp_status *status, uint32_t *uid)
{
    struct lmtp_group_result slot;
    off_t off = (off_t)util_getpid() * (off_t)sizeof(slot);

    if (pread(lockfd, &slot, sizeof(slot), off) != (ssize_t)sizeof(slot) ||
        slot.nonce != nonce || slot.seq != seq)
        return 0;
    *status = (enum lmtp_status)slot.status;
    *uid = slot.uid;
    return 1;
}

/* flock, retried on EINTR.  Not lib/lock's fcntl locks: turning a shared
 * lock held by several processes into an exclusive one is a deadlock
 * (EDEADLK) with fcntl, where flock lets go of the shared one first. */
static int lock_queue(int fd, int how)
{
    int r;

    while ((r = flock(fd, how)) < 0 && errno == EINTR)
        ;
    return r;
}

enum lmtp_status lmtp_group_append(const struct lmtp_group_args *a,
                                   uint32_t *uid)
{
    static unsigned seq;
    static uint32_t nonce;
    static pid_t nonce_pid;
    struct mailbox *mb = NULL;
    struct buf qdir = BUF_INITIALIZER, tpath = BUF_INITIALIZER;
    struct buf lockpath = BUF_INITIALIZER;
    int lockfd = -1;
    enum lmtp_status status = LMTP_IOERROR;
    strarray_t names = STRARRAY_INITIALIZER;
    struct ticket *t = NULL;
    int r, n = 0, mine = -1;

    buf_printf(&qdir, "%s/q.%s", a->stagedir, a->uniqueid);
    if (nonce_pid != util_getpid()) {
        /* Tells this process's results from those of an earlier process
         * that had the same pid. */
        nonce_pid = util_getpid();
        nonce = 0;
        while (!nonce)
            if (getrandom(&nonce, sizeof(nonce), 0) != sizeof(nonce))
                nonce = (uint32_t)time(NULL) ^ (uint32_t)nonce_pid;
        seq = 0;
    }
    ++seq;
    buf_printf(&tpath, "%s/%010lld.%d.%08x.%u.%c", buf_cstring(&qdir),
               (long long)time(NULL), (int)nonce_pid, nonce, seq,
               a->ignorequota ? 'i' : 'q');
    r = link(a->stagepath, buf_cstring(&tpath));
    if (r < 0 && errno == ENOENT) {
        /* The queue is made by its first delivery, not checked by each. */
        if (cyrus_mkdir_p(buf_cstring(&qdir), 0750) < 0) {
            log_error("lmtpd: cannot create %s: %s", buf_cstring(&qdir),
                      strerror(errno));
            goto out;
        }
        r = link(a->stagepath, buf_cstring(&tpath));
    }
    if (r < 0) {
        log_error("lmtpd: cannot queue %s: %s", buf_cstring(&tpath),
                  strerror(errno));
        goto out;
    }

    /* Waiting happens on the queue's own lock, not the mailbox's: a
     * process whose message a leader stored learns it without opening
     * the mailbox at all. */
    buf_printf(&lockpath, "%s/.lock", buf_cstring(&qdir));
    /* Without O_CREAT when it exists: that open takes no directory lock. */
    lockfd = open(buf_cstring(&lockpath), O_RDWR | O_CLOEXEC);
    if (lockfd < 0 && errno == ENOENT)
        lockfd = open(buf_cstring(&lockpath), O_RDWR | O_CREAT | O_CLOEXEC,
                      0600);
    /* The processes a leader served read their results side by side under
     * a shared lock; only one that finds none takes the lock exclusively
     * (and looks again: a leader may have come and gone in between). */
    if (lockfd >= 0 && !lock_queue(lockfd, LOCK_SH) &&
        read_result(lockfd, nonce, seq, &status, uid))
        goto out;
    if (lockfd >= 0 && lock_queue(lockfd, LOCK_EX) < 0) {
        close(lockfd);
        lockfd = -1;
    }
    if (lockfd < 0) {
        log_error("lmtpd: cannot lock %s: %s", buf_cstring(&lockpath),
                  strerror(errno));
        unlink(buf_cstring(&tpath));
        goto out;
    }
    if (read_result(lockfd, nonce, seq, &status, uid))
        goto out;

    r = open_mailbox(a->mbdir, &mb);
    if (!r)
        r = mailbox_lock_exclusive(mb);
    if (r) {
        log_error("lmtpd: cannot lock %s: %s", a->mailbox, mailbox_strerror(r));
        unlink(buf_cstring(&tpath));
        status = r == MAILBOX_LOCKED ? LMTP_LOCKED : LMTP_IOERROR;
        goto out;
    }

    list_tickets(buf_cstring(&qdir), &names);
    const char *myname = strrchr(buf_cstring(&tpath), '/') + 1;
    t = xcalloc((size_t)(names.count + 1), sizeof(*t));
    for (int i = 0; i < names.count && n < BATCH_MAX; i++) {
        const char *name = strarray_nth(&names, i);
        t[n].name = xstrdup(name);
        t[n].ignorequota = has_suffix(name, ".i");
        if (!strcmp(name, myname))
            mine = n;
        n++;
    }
    if (mine < 0) {
        /* Our ticket was beyond the batch limit (or vanished): make sure
         * it is in this batch. */
        t[n].name = xstrdup(myname);
        t[n].ignorequota = a->ignorequota;
        mine = n++;
    }
    lead(a, mb, buf_cstring(&qdir), t, n);
    for (int i = 0; i < n; i++) {
        char *p = strconcat(buf_cstring(&qdir), "/", t[i].name, (char *)NULL);

        if (i != mine)
            write_result(lockfd, &t[i]);
        unlink(p);
        free(p);
    }
    mailbox_unlock(mb);
    keep_mailbox(a->mbdir, &mb);
    status = t[mine].status;
    *uid = t[mine].uid;
    if (n > 1)
        log_debug("lmtpd: group commit of %d messages to %s", n, a->mailbox);

out:
    if (mb)
        mailbox_close(&mb);
    /* Results were written before this: whoever waits next sees them. */
    if (lockfd >= 0)
        close(lockfd);
    buf_free(&lockpath);
    for (int i = 0; t && i < n; i++)
        free(t[i].name);
    free(t);
    strarray_fini(&names);
    buf_free(&qdir);
    buf_free(&tpath);
    return status;
}
