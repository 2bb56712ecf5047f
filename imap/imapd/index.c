/* index.c -- the selected mailbox as one IMAP session sees it. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#include "imap/imapd/index.h"
#include "imap/store/quota.h"
#include "imap/store/seen.h"
#include "lib/log.h"
#include "lib/util.h"
#include "lib/xmalloc.h"

#define NUSER (MAILBOX_MAX_USER_FLAGS / 32)

struct index_view {
    struct mailbox *mb;
    char *intname;
    char *userid;
    char *seendir;
    char *index_path;
    int isowner;
    int examine;
    acl_rights_t rights;

    struct index_msg *msgs;
    uint32_t count, alloc;
    uint32_t told_exists;       /* EXISTS as the client knows it */
    uint32_t told_recent;
    uint32_t nrecent;
    uint32_t nchanged;          /* msgs[] with `changed` set */
    uint32_t nexpunged;         /* msgs[] with `expunged` set */

    /* What the last scan of the records saw, to skip needless ones. */
    uint32_t generation;
    uint32_t scan_records;
    uint64_t scan_modseq;
    uint32_t last_uid;          /* highest UID the view has looked at */
    uint32_t uidvalidity;
    uint64_t highestmodseq;
    int rescan;                 /* our own writes: scan next time */

    /* Non-owners' \Seen. */
    struct seen *seen;
    struct seendata sd;
    int seen_dirty;

    int excl;                   /* inside index_lock_exclusive */
    int condstore;              /* report MODSEQ (and UID) in FETCH */
    int qresync;                /* report VANISHED, not EXPUNGE */
    int rev2;                   /* IMAP4rev2: no \Recent, UID in FETCH */
    struct seqset searchres;    /* SEARCHRES "$", as UIDs (RFC 5182) */
    struct stat st;             /* cyrus.index at the last refresh */
    const struct index_watcher *watcher;
    void *watcher_rock;
};

static void msg_set_flags(struct index_view *v, struct index_msg *m,
                          const struct index_record *rec)
{
    m->system_flags = rec->system_flags;
    memcpy(m->user_flags, rec->user_flags, sizeof(m->user_flags));
    if (!v->isowner) {
        m->system_flags &= ~FLAG_SEEN;
        if (seqset_contains(&v->sd.uids, rec->uid))
            m->system_flags |= FLAG_SEEN;
    }
    m->modseq = rec->modseq;
}

static struct index_msg *msg_append(struct index_view *v)
{
    if (v->count == v->alloc) {
        v->alloc = v->alloc ? v->alloc * 2 : 64;
        v->msgs = xrealloc(v->msgs, v->alloc * sizeof(*v->msgs));
    }
    memset(&v->msgs[v->count], 0, sizeof(v->msgs[0]));
    return &v->msgs[v->count++];
}

static void stat_index(struct index_view *v)
{
    if (stat(v->index_path, &v->st) < 0)
        memset(&v->st, 0, sizeof(v->st));
}

static int read_seen(struct index_view *v)
{
    if (v->isowner)
        return 0;
    seendata_fini(&v->sd);
    memset(&v->sd, 0, sizeof(v->sd));
    if (!v->seen) {
        if (seen_open(v->seendir, v->userid, &v->seen)) {
            log_error("%s: cannot open seen state of %s", v->intname,
                      v->userid);
            v->seen = NULL;
            return 0;
        }
    }
    if (seen_read(v->seen, mailbox_uniqueid(v->mb), &v->sd)) {
        log_error("%s: cannot read seen state of %s", v->intname, v->userid);
        memset(&v->sd, 0, sizeof(v->sd));
    }
    return 0;
}

static int write_seen(struct index_view *v)
{
    int r = 0;

    if (v->isowner || !v->seen_dirty || !v->seen)
        return 0;
    v->sd.lastchange = (int64_t)time(NULL);
    if (v->last_uid > v->sd.lastuid)
        v->sd.lastuid = v->last_uid;
    if (seen_write(v->seen, mailbox_uniqueid(v->mb), &v->sd)) {
        log_error("%s: cannot write seen state of %s", v->intname, v->userid);
        r = MAILBOX_IOERROR;
    }
    v->seen_dirty = 0;
    return r;
}

/* Claim \Recent on the messages of the view above the mailbox's
 * recent_uid: only the first session to see a message gets it. */
static int claim_recent(struct index_view *v, uint32_t from)
{
    const struct index_header *h;
    uint32_t i;
    int r;

    if ((r = mailbox_lock_exclusive(v->mb)))
        return r;
    h = mailbox_header(v->mb);
    for (i = from; i < v->count; i++) {
        if (v->msgs[i].uid > h->recent_uid && !v->msgs[i].recent) {
            v->msgs[i].recent = 1;
            v->nrecent++;
        }
    }
    if (v->last_uid > h->recent_uid)
        r = mailbox_set_recent_uid(v->mb, v->last_uid);
    if (!r)
        r = mailbox_commit(v->mb);
    mailbox_unlock(v->mb);
    return r;
}

int index_open(const struct index_open_args *a, struct index_view **vp)
{
    struct index_view *v = xzmalloc(sizeof(*v));
    const struct index_header *h;
    struct index_record rec;
    uint32_t recno;
    int r;

    *vp = NULL;
    if ((r = mailbox_open(a->dir, &v->mb))) {
        free(v);
        return r;
    }
    v->intname = xstrdup(a->intname ? a->intname : a->dir);
    v->userid = xstrdup(a->userid ? a->userid : "");
    v->seendir = a->seendir ? xstrdup(a->seendir) : NULL;
    v->index_path = strconcat(a->dir, "/cyrus.index", (char *)NULL);
    v->isowner = a->isowner || !v->seendir;
    v->examine = a->examine;
    v->rights = a->rights;

    if ((r = mailbox_lock_shared(v->mb)))
        goto fail;
    read_seen(v);
    h = mailbox_header(v->mb);
    v->generation = h->generation;
    v->uidvalidity = h->uidvalidity;
    v->alloc = h->exists + 16;
    v->msgs = xmalloc(v->alloc * sizeof(*v->msgs));
    for (recno = 0; recno < h->num_records; recno++) {
        struct index_msg *m;

        if ((r = mailbox_read_record(v->mb, recno, &rec))) {
            mailbox_unlock(v->mb);
            goto fail;
        }
        if (rec.internal_flags & FLAG_INTERNAL_EXPUNGED)
            continue;
        m = msg_append(v);
        m->uid = rec.uid;
        m->recno = recno;
        msg_set_flags(v, m, &rec);
        if (v->examine && rec.uid > h->recent_uid) {
            m->recent = 1;
            v->nrecent++;
        }
    }
    v->last_uid = h->last_uid;
    v->scan_records = h->num_records;
    v->scan_modseq = h->highestmodseq;
    v->highestmodseq = h->highestmodseq;
    mailbox_unlock(v->mb);
    stat_index(v);

    if (!v->examine && (r = claim_recent(v, 0)))
        goto fail;
    v->told_exists = v->count;
    v->told_recent = v->nrecent;
    *vp = v;
    return 0;

fail:
    index_close(&v);
    return r;
}

void index_close(struct index_view **vp)
{
    struct index_view *v = *vp;

    if (!v)
        return;
    index_set_watcher(v, NULL, NULL);
    write_seen(v);
    if (v->seen)
        seen_close(&v->seen);
    if (!v->isowner)
        seendata_fini(&v->sd);
    mailbox_close(&v->mb);
    seqset_fini(&v->searchres);
    free(v->msgs);
    free(v->intname);
    free(v->userid);
    free(v->seendir);
    free(v->index_path);
    free(v);
    *vp = NULL;
}

/* --- what SELECT reports --- */

uint32_t index_count(const struct index_view *v)
{
    return v->count;
}

uint32_t index_recent(const struct index_view *v)
{
    return v->nrecent;
}

uint32_t index_first_unseen(const struct index_view *v)
{
    uint32_t i;

    for (i = 0; i < v->count; i++) {
        if (!(v->msgs[i].system_flags & FLAG_SEEN))
            return i + 1;
    }
    return 0;
}

uint32_t index_uidvalidity(const struct index_view *v)
{
    return v->uidvalidity;
}

uint32_t index_uidnext(const struct index_view *v)
{
    return v->last_uid + 1;
}

uint64_t index_highestmodseq(const struct index_view *v)
{
    return v->highestmodseq;
}

#define WRITE_RIGHTS \
    (ACL_SETSEEN | ACL_WRITE | ACL_DELETEMSG | ACL_EXPUNGE | ACL_INSERT | \
     ACL_ANNOTATEMSG)

int index_readonly(const struct index_view *v)
{
    /* As Cyrus: read-write when any right that changes state is held. */
    return v->examine || !(v->rights & WRITE_RIGHTS);
}

acl_rights_t index_rights(const struct index_view *v)
{
    return v->rights;
}

acl_rights_t index_write_rights(const struct index_view *v)
{
    if (index_readonly(v))
        return v->rights & ~WRITE_RIGHTS;
    return v->rights;
}

const char *index_intname(const struct index_view *v)
{
    return v->intname;
}

const strarray_t *index_keywords(const struct index_view *v)
{
    return mailbox_user_flags(v->mb);
}

int index_keyword_bit(struct index_view *v, const char *name, int create)
{
    int r;

    r = mailbox_user_flag(v->mb, name, 0);
    if (r >= 0 || !create)
        return r;
    if (!(index_write_rights(v) & ACL_WRITE))
        return MAILBOX_ENOENT;
    if (v->excl)
        return mailbox_user_flag(v->mb, name, 1);
    if ((r = mailbox_lock_exclusive(v->mb)))
        return r;
    r = mailbox_user_flag(v->mb, name, 1);
    mailbox_unlock(v->mb);
    return r;
}

/* --- sequence numbers and UIDs --- */

const struct index_msg *index_msg(const struct index_view *v, uint32_t msgno)
{
    if (msgno < 1 || msgno > v->count)
        return NULL;
    return &v->msgs[msgno - 1];
}

uint32_t index_uid(const struct index_view *v, uint32_t msgno)
{
    if (msgno < 1 || msgno > v->count)
        return 0;
    return v->msgs[msgno - 1].uid;
}

/* Index of the first message with a UID >= uid (count if none). */
static uint32_t lower_bound(const struct index_view *v, uint32_t uid)
{
    uint32_t lo = 0, hi = v->count;

    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (v->msgs[mid].uid < uid)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

uint32_t index_msgno(const struct index_view *v, uint32_t uid)
{
    uint32_t i = lower_bound(v, uid);

    return i < v->count && v->msgs[i].uid == uid ? i + 1 : 0;
}

int index_parse_set(const struct index_view *v, const char *s, int usinguid,
                    struct seqset *msgnos)
{
    struct seqset in = SEQSET_INITIALIZER;
    uint32_t maxval;
    size_t i;

    if (!strcmp(s, "$")) {
        /* The saved result names the same messages whether used as
         * sequence numbers or UIDs; expunged ones are no longer found. */
        for (uint32_t uid = seqset_first(&v->searchres); uid;
             uid = seqset_next(&v->searchres, uid)) {
            uint32_t msgno = index_msgno(v, uid);
            if (msgno)
                seqset_add(msgnos, msgno);
        }
        return 0;
    }
    if (usinguid)
        maxval = v->count ? v->msgs[v->count - 1].uid : 0;
    else
        maxval = v->count;
    /* "*" in an empty mailbox: RFC 9051 allows it only with UIDs. */
    if (seqset_parse(&in, s, maxval ? maxval : (usinguid ? v->last_uid + 1 : 0)) < 0) {
        seqset_fini(&in);
        return -1;
    }
    for (i = 0; i < in.count; i++) {
        uint32_t lo = in.ranges[i].low, hi = in.ranges[i].high;

        if (!usinguid) {
            if (lo < 1 || hi > v->count) {
                seqset_fini(&in);
                return -2;
            }
            seqset_add_range(msgnos, lo, hi);
            continue;
        }
        /* A UID range may be huge: map its ends, not its members. */
        uint32_t a = lower_bound(v, lo);
        uint32_t b = hi == UINT32_MAX ? v->count : lower_bound(v, hi + 1);
        if (a < b)
            seqset_add_range(msgnos, a + 1, b);
    }
    seqset_fini(&in);
    return 0;
}

void index_set_searchres(struct index_view *v, const struct seqset *uids)
{
    seqset_reset(&v->searchres);
    for (size_t i = 0; uids && i < uids->count; i++)
        seqset_add_range(&v->searchres, uids->ranges[i].low,
                         uids->ranges[i].high);
}

const struct seqset *index_searchres(const struct index_view *v)
{
    return &v->searchres;
}

/* --- records --- */

int index_lock(struct index_view *v)
{
    return mailbox_lock_shared(v->mb);
}

void index_unlock(struct index_view *v)
{
    mailbox_unlock(v->mb);
}

struct mailbox *index_mailbox(struct index_view *v)
{
    return v->mb;
}

int index_record(struct index_view *v, uint32_t msgno,
                 struct index_record *rec)
{
    struct index_msg *m;
    int64_t recno;
    int r;

    if (msgno < 1 || msgno > v->count)
        return MAILBOX_ENOENT;
    m = &v->msgs[msgno - 1];
    r = mailbox_read_record(v->mb, m->recno, rec);
    if (!r && rec->uid == m->uid)
        return 0;
    if (r == MAILBOX_LOCKED)
        return r;
    /* A repack moved the records: find it again. */
    recno = mailbox_find_uid(v->mb, m->uid);
    if (recno < 0)
        return MAILBOX_ENOENT;
    m->recno = (uint32_t)recno;
    return mailbox_read_record(v->mb, m->recno, rec);
}

/* The payload starts with message_cache_serialize()'s output (its head:
 * magic, part size, parts, params, pool length); anything the payload
 * carries after it is not the structure's. */
static size_t structure_len(const char *data, size_t len)
{
    uint32_t h[5];
    uint64_t need;

    if (len < sizeof(h))
        return len;
    memcpy(h, data, sizeof(h));
    need = sizeof(h) + (uint64_t)h[2] * h[1] +
           (uint64_t)h[3] * sizeof(struct message_param) + h[4];
    return need <= len ? (size_t)need : len;
}

int index_structure(struct index_view *v, uint32_t msgno,
                    struct message **msgp)
{
    struct index_record rec;
    const char *data, *base;
    size_t datalen, len;
    int r;

    *msgp = NULL;
    if ((r = index_record(v, msgno, &rec)))
        return r;
    if (!mailbox_cache_payload(v->mb, &rec, &data, &datalen) && datalen) {
        *msgp = message_cache_parse(data, structure_len(data, datalen), NULL,
                                    rec.size);
        if (*msgp)
            return 0;
    }
    /* No usable cache entry: parse the file (and keep only the parse). */
    if ((r = mailbox_map_message(v->mb, rec.uid, &base, &len)))
        return r;
    struct message *msg = message_parse(base, len);
    if (msg) {
        struct buf ser = BUF_INITIALIZER;

        message_cache_serialize(msg, &ser);
        message_free(&msg);
        *msgp = message_cache_parse(ser.s, ser.len, NULL, len);
        buf_free(&ser);
    }
    mailbox_unmap_message(base, len);
    return *msgp ? 0 : MAILBOX_CORRUPT;
}

int index_map(struct index_view *v, uint32_t msgno, const char **base,
              size_t *len)
{
    uint32_t uid = index_uid(v, msgno);

    if (!uid)
        return MAILBOX_ENOENT;
    return mailbox_map_message(v->mb, uid, base, len);
}

static const char *const sysflag_names[] = {
    "\\Answered", "\\Flagged", "\\Deleted", "\\Draft", "\\Seen",
};

void index_write_flags(const struct index_view *v, uint32_t msgno,
                       struct buf *out)
{
    const struct index_msg *m = index_msg(v, msgno);
    const strarray_t *kw = mailbox_user_flags(v->mb);
    const char *sep = "";
    int i;

    buf_putc(out, '(');
    if (!m) {
        buf_putc(out, ')');
        return;
    }
    for (i = 0; i < 5; i++) {
        if (m->system_flags & (1u << i)) {
            buf_appendcstr(out, sep);
            buf_appendcstr(out, sysflag_names[i]);
            sep = " ";
        }
    }
    if (m->recent && !v->rev2) {
        buf_appendcstr(out, sep);
        buf_appendcstr(out, "\\Recent");
        sep = " ";
    }
    for (i = 0; i < MAILBOX_MAX_USER_FLAGS && i < kw->count; i++) {
        if (m->user_flags[i / 32] & (1u << (i % 32))) {
            buf_appendcstr(out, sep);
            buf_appendcstr(out, kw->data[i]);
            sep = " ";
        }
    }
    buf_putc(out, ')');
}

/* --- changes --- */

int index_lock_exclusive(struct index_view *v)
{
    int r = mailbox_lock_exclusive(v->mb);

    if (!r)
        v->excl++;
    return r;
}

int index_commit(struct index_view *v)
{
    int r, r2;

    r = mailbox_commit(v->mb);
    if (r)
        mailbox_abort(v->mb);
    if (v->excl) {
        v->excl--;
        mailbox_unlock(v->mb);
    }
    r2 = write_seen(v);
    v->rescan = 1;
    return r ? r : r2;
}

/* Apply `op` to a flag word. */
static uint32_t apply_op(enum index_store_op op, uint32_t cur, uint32_t bits)
{
    switch (op) {
    case INDEX_STORE_SET:
        return bits;
    case INDEX_STORE_ADD:
        return cur | bits;
    case INDEX_STORE_REMOVE:
    default:
        return cur & ~bits;
    }
}

int index_store_flags(struct index_view *v, uint32_t msgno,
                      enum index_store_op op, uint32_t sysflags,
                      const uint32_t user[NUSER], int *changed)
{
    struct index_msg *m;
    struct index_record rec;
    uint32_t newsys, newuser[NUSER], recsys;
    int own_lock = !v->excl, r, i, recchange = 0;
    int seen_before, seen_after;

    *changed = 0;
    if (msgno < 1 || msgno > v->count)
        return MAILBOX_ENOENT;
    m = &v->msgs[msgno - 1];
    if (m->expunged)
        return 0;
    if (own_lock && (r = index_lock_exclusive(v)))
        return r;
    if ((r = index_record(v, msgno, &rec)))
        goto out;
    if (rec.internal_flags & FLAG_INTERNAL_EXPUNGED)
        goto out;

    /* The user's view of \Seen may differ from the record's. */
    seen_before = !!(m->system_flags & FLAG_SEEN);
    recsys = (rec.system_flags & ~FLAG_SEEN) | (seen_before ? FLAG_SEEN : 0);
    newsys = apply_op(op, recsys, sysflags);
    for (i = 0; i < NUSER; i++)
        newuser[i] = apply_op(op, rec.user_flags[i], user[i]);
    seen_after = !!(newsys & FLAG_SEEN);

    if (!v->isowner) {
        if (seen_before != seen_after) {
            if (seen_after)
                seqset_add(&v->sd.uids, rec.uid);
            else
                seqset_remove(&v->sd.uids, rec.uid);
            v->seen_dirty = 1;
            *changed = 1;
        }
        newsys = (newsys & ~FLAG_SEEN) | (rec.system_flags & FLAG_SEEN);
    }
    /* A non-owner's \Seen lives in the seen db, but the change still
     * needs a new modseq on the record for CONDSTORE clients to see it. */
    if (newsys != rec.system_flags ||
        memcmp(newuser, rec.user_flags, sizeof(newuser)) || *changed)
        recchange = 1;
    if (recchange) {
        rec.system_flags = newsys;
        memcpy(rec.user_flags, newuser, sizeof(newuser));
        if ((r = mailbox_rewrite_record(v->mb, m->recno, &rec)))
            goto out;
        *changed = 1;
    }
    if (*changed) {
        msg_set_flags(v, m, &rec);
        /* Our own change is reported by the caller, not as another's. */
        m->modseq = rec.modseq;
        if (m->changed) {
            m->changed = 0;
            v->nchanged--;
        }
    }
    else if (m->changed) {
        /* Someone else's change the client will hear of with this one. */
        m->changed = 0;
        v->nchanged--;
        *changed = 1;
    }
out:
    if (own_lock) {
        int r2 = index_commit(v);
        if (!r)
            r = r2;
    }
    return r;
}

int index_mark_seen(struct index_view *v, uint32_t msgno, int *changed)
{
    uint32_t none[NUSER] = { 0 };

    *changed = 0;
    if (!(index_write_rights(v) & ACL_SETSEEN))
        return 0;
    if (msgno < 1 || msgno > v->count ||
        (v->msgs[msgno - 1].system_flags & FLAG_SEEN))
        return 0;
    return index_store_flags(v, msgno, INDEX_STORE_ADD, FLAG_SEEN, none,
                             changed);
}

static int expunge_where(struct index_view *v, const struct seqset *uids,
                         int need_deleted, uint32_t *count)
{
    const struct index_header *h;
    struct index_record rec;
    int64_t delta[QUOTA_NUMRESOURCES] = { 0 };
    uint32_t recno, n = 0;
    char *root;
    int r;

    if (count)
        *count = 0;
    if ((r = mailbox_lock_exclusive(v->mb)))
        return r;
    h = mailbox_header(v->mb);
    for (recno = 0; recno < h->num_records; recno++) {
        if ((r = mailbox_read_record(v->mb, recno, &rec)))
            break;
        if (rec.internal_flags & FLAG_INTERNAL_EXPUNGED)
            continue;
        if (need_deleted && !(rec.system_flags & FLAG_DELETED))
            continue;
        if (uids && !seqset_contains(uids, rec.uid))
            continue;
        /* Only messages this session knows of: a message appended since
         * the last report has no sequence number to expunge. */
        if (!index_msgno(v, rec.uid))
            continue;
        if ((r = mailbox_expunge_record(v->mb, recno)))
            break;
        delta[QUOTA_STORAGE] -= rec.size;
        delta[QUOTA_MESSAGE] -= 1;
        n++;
    }
    if (r)
        mailbox_abort(v->mb);
    else
        r = mailbox_commit(v->mb);
    root = r ? NULL : quota_findroot(v->intname);
    mailbox_unlock(v->mb);
    v->rescan = 1;
    if (r)
        return r;
    if (n && root && quota_update_used(root, delta))
        log_error("%s: cannot update quota usage of %s", v->intname, root);
    free(root);
    if (count)
        *count = n;
    return index_refresh(v);
}

int index_expunge(struct index_view *v, const struct seqset *uids,
                  uint32_t *count)
{
    return expunge_where(v, uids, 1, count);
}

int index_expunge_uids(struct index_view *v, const struct seqset *uids,
                       uint32_t *count)
{
    return expunge_where(v, uids, 0, count);
}

/* Merge the records into the view: mark expunges and flag changes,
 * append new messages.  Shared lock held. */
static int scan_records(struct index_view *v, uint32_t *first_new)
{
    const struct index_header *h = mailbox_header(v->mb);
    struct index_record rec;
    uint32_t recno, i = 0, oldcount = v->count;
    int r;

    *first_new = oldcount;
    for (recno = 0; recno < h->num_records; recno++) {
        if ((r = mailbox_read_record(v->mb, recno, &rec)))
            return r;
        /* View messages missing from the records were repacked away. */
        while (i < oldcount && v->msgs[i].uid < rec.uid) {
            if (!v->msgs[i].expunged) {
                v->msgs[i].expunged = 1;
                v->nexpunged++;
            }
            i++;
        }
        if (i < oldcount && v->msgs[i].uid == rec.uid) {
            struct index_msg *m = &v->msgs[i++];

            m->recno = recno;
            if (m->expunged)
                continue;
            if (rec.internal_flags & FLAG_INTERNAL_EXPUNGED) {
                m->expunged = 1;
                m->modseq = rec.modseq;
                v->nexpunged++;
                continue;
            }
            uint32_t oldsys = m->system_flags;
            uint32_t olduser[NUSER];
            memcpy(olduser, m->user_flags, sizeof(olduser));
            msg_set_flags(v, m, &rec);
            if (!m->changed && (oldsys != m->system_flags ||
                                memcmp(olduser, m->user_flags,
                                       sizeof(olduser)))) {
                m->changed = 1;
                v->nchanged++;
            }
            continue;
        }
        if (rec.uid <= v->last_uid ||
            (rec.internal_flags & FLAG_INTERNAL_EXPUNGED))
            continue;
        struct index_msg *m = msg_append(v);
        m->uid = rec.uid;
        m->recno = recno;
        msg_set_flags(v, m, &rec);
    }
    for (; i < oldcount; i++) {
        if (!v->msgs[i].expunged) {
            v->msgs[i].expunged = 1;
            v->nexpunged++;
        }
    }
    if (h->last_uid > v->last_uid)
        v->last_uid = h->last_uid;
    v->generation = h->generation;
    v->scan_records = h->num_records;
    v->scan_modseq = h->highestmodseq;
    v->highestmodseq = h->highestmodseq;
    return 0;
}

int index_refresh(struct index_view *v)
{
    const struct index_header *h;
    uint32_t first_new = v->count;
    int r;

    if ((r = mailbox_lock_shared(v->mb)))
        return r;
    h = mailbox_header(v->mb);
    stat_index(v);
    if (!v->isowner)
        read_seen(v);
    if (v->rescan || !v->isowner || h->generation != v->generation ||
        h->num_records != v->scan_records ||
        h->highestmodseq != v->scan_modseq) {
        r = scan_records(v, &first_new);
        v->rescan = 0;
    }
    mailbox_unlock(v->mb);
    if (r)
        return r;
    if (first_new < v->count) {
        if (v->examine) {
            /* EXAMINE shows \Recent without taking it. */
            uint32_t i;
            if ((r = mailbox_lock_shared(v->mb)))
                return r;
            h = mailbox_header(v->mb);
            for (i = first_new; i < v->count; i++) {
                if (v->msgs[i].uid > h->recent_uid) {
                    v->msgs[i].recent = 1;
                    v->nrecent++;
                }
            }
            mailbox_unlock(v->mb);
        }
        else if ((r = claim_recent(v, first_new))) {
            return r;
        }
    }
    return 0;
}

/* Drop the expunged messages from the view, telling the client in
 * descending order so each number is valid when it is read. */
static void report_expunges(struct index_view *v, struct protstream *out)
{
    struct seqset gone = SEQSET_INITIALIZER;
    uint32_t i, j, told_gone = 0;

    /* Messages never announced by EXISTS leave without a word: the
     * client has no number (nor UID) for them. */
    for (i = v->told_exists; i > 0; i--) {
        if (!v->msgs[i - 1].expunged)
            continue;
        if (v->qresync)
            seqset_add(&gone, v->msgs[i - 1].uid);
        else
            prot_printf(out, "* %u EXPUNGE\r\n", i);
    }
    if (gone.count) {
        struct buf set = BUF_INITIALIZER;

        seqset_format(&gone, &set);
        prot_printf(out, "* VANISHED %s\r\n", buf_cstring(&set));
        buf_free(&set);
    }
    seqset_fini(&gone);
    for (i = j = 0; i < v->count; i++) {
        struct index_msg *m = &v->msgs[i];

        if (m->expunged) {
            if (m->recent)
                v->nrecent--;
            if (m->changed)
                v->nchanged--;
            if (i < v->told_exists)
                told_gone++;
            continue;
        }
        v->msgs[j++] = *m;
    }
    v->count = j;
    v->nexpunged = 0;
    /* The client subtracts one from EXISTS per EXPUNGE, but not RECENT. */
    v->told_exists -= told_gone;
}

/* Expunges wait (FETCH, STORE, SEARCH) while MODSEQ values above theirs
 * may be sent: tell the client a HIGHESTMODSEQ below the lowest of them,
 * which it must take over any MODSEQ it saw (RFC 7162 3.2, section 6).
 * A message repacked away keeps its last known modseq, which is lower
 * still, so the value stays safe. */
static void report_pending_modseq(struct index_view *v,
                                  struct protstream *out)
{
    uint64_t low = UINT64_MAX;
    uint32_t i;

    for (i = 0; i < v->told_exists && i < v->count; i++) {
        if (v->msgs[i].expunged && v->msgs[i].modseq < low)
            low = v->msgs[i].modseq;
    }
    if (low == UINT64_MAX || low < 2)
        return;
    prot_printf(out, "* OK [HIGHESTMODSEQ %llu] Ok\r\n",
                (unsigned long long)(low - 1));
}

void index_report(struct index_view *v, struct protstream *out,
                  int allow_expunge, int uid)
{
    struct buf flags = BUF_INITIALIZER;
    uint32_t i;
    int need_modseq = 0;

    if (allow_expunge && v->nexpunged) {
        if (v->watcher)
            v->watcher->report(v, out, INDEX_REPORT_EXPUNGES,
                               v->watcher_rock);
        report_expunges(v, out);
        need_modseq = 1;
    }
    if (v->count != v->told_exists) {
        need_modseq |= v->count > v->told_exists;
        prot_printf(out, "* %u EXISTS\r\n", v->count);
        v->told_exists = v->count;
    }
    if (v->nrecent != v->told_recent) {
        if (!v->rev2)
            prot_printf(out, "* %u RECENT\r\n", v->nrecent);
        v->told_recent = v->nrecent;
    }
    uid |= v->rev2;
    for (i = 0; v->nchanged && i < v->count; i++) {
        struct index_msg *m = &v->msgs[i];

        if (!m->changed)
            continue;
        m->changed = 0;
        v->nchanged--;
        if (m->expunged)
            continue;
        buf_reset(&flags);
        index_write_flags(v, i + 1, &flags);
        if (v->condstore)
            prot_printf(out, "* %u FETCH (UID %u FLAGS %s MODSEQ (%llu))\r\n",
                        i + 1, m->uid, buf_cstring(&flags),
                        (unsigned long long)m->modseq);
        else if (uid)
            prot_printf(out, "* %u FETCH (UID %u FLAGS %s)\r\n", i + 1,
                        m->uid, buf_cstring(&flags));
        else
            prot_printf(out, "* %u FETCH (FLAGS %s)\r\n", i + 1,
                        buf_cstring(&flags));
    }
    buf_free(&flags);
    if (v->condstore && v->nexpunged)
        report_pending_modseq(v, out);
    else if (v->condstore && need_modseq)
        /* New messages and expunges carry no MODSEQ the client could
         * take its HIGHESTMODSEQ from; without this a synchroniser
         * that appended to the selected mailbox resumes from the
         * older value and takes every message for changed (RFC 7162
         * section 6). */
        prot_printf(out, "* OK [HIGHESTMODSEQ %llu] Ok\r\n",
                    (unsigned long long)v->highestmodseq);
    if (v->watcher)
        v->watcher->report(v, out, INDEX_REPORT_DONE, v->watcher_rock);
}

void index_set_watcher(struct index_view *v, const struct index_watcher *w,
                       void *rock)
{
    if (v->watcher && v->watcher->free)
        v->watcher->free(v->watcher_rock);
    v->watcher = w;
    v->watcher_rock = w ? rock : NULL;
}

void *index_watcher_rock(const struct index_view *v)
{
    return v->watcher_rock;
}

int index_changed_on_disk(struct index_view *v)
{
    struct stat st;

    if (stat(v->index_path, &st) < 0)
        return 1;
    return st.st_ino != v->st.st_ino || st.st_size != v->st.st_size ||
           st.st_mtim.tv_sec != v->st.st_mtim.tv_sec ||
           st.st_mtim.tv_nsec != v->st.st_mtim.tv_nsec;
}

const char *index_file_path(const struct index_view *v)
{
    return v->index_path;
}

/* --- CONDSTORE and QRESYNC --- */

void index_set_condstore(struct index_view *v, int condstore, int qresync)
{
    v->condstore = condstore || qresync;
    v->qresync = qresync;
}

void index_set_imap4rev2(struct index_view *v, int rev2)
{
    v->rev2 = rev2 != 0;
}

/* Every UID of [lo, hi] not in the view, into *out. */
static void add_absent(const struct index_view *v, uint32_t lo, uint32_t hi,
                       struct seqset *out)
{
    uint32_t i = lower_bound(v, lo);

    while (lo <= hi) {
        uint32_t next = i < v->count ? v->msgs[i].uid : 0;

        if (!next || next > hi) {
            seqset_add_range(out, lo, hi);
            return;
        }
        if (next > lo)
            seqset_add_range(out, lo, next - 1);
        if (next == UINT32_MAX)
            return;
        lo = next + 1;
        i++;
    }
}

int index_vanished(struct index_view *v, const struct seqset *uids,
                   uint64_t since, uint32_t floor, struct seqset *out)
{
    const struct index_header *h;
    struct index_record rec;
    uint32_t recno, last_uid;
    int r;

    if ((r = mailbox_lock_shared(v->mb)))
        return r;
    h = mailbox_header(v->mb);
    last_uid = h->last_uid;
    if (since < h->deletedmodseq) {
        /* Some expunges after `since` were forgotten: list every UID the
         * client may still hold that is not here. */
        size_t k;

        mailbox_unlock(v->mb);
        for (k = 0; k < uids->count; k++) {
            uint32_t lo = uids->ranges[k].low, hi = uids->ranges[k].high;

            if (floor && lo <= floor)
                lo = floor == UINT32_MAX ? hi + 1 : floor + 1;
            if (hi > last_uid)
                hi = last_uid;
            if (lo <= hi && lo)
                add_absent(v, lo, hi, out);
        }
        return 0;
    }
    for (recno = 0; recno < h->num_records; recno++) {
        if ((r = mailbox_read_record(v->mb, recno, &rec)))
            break;
        if (!(rec.internal_flags & FLAG_INTERNAL_EXPUNGED) ||
            rec.modseq <= since || !seqset_contains(uids, rec.uid))
            continue;
        /* Still in the view: it goes out as a plain VANISHED later. */
        if (index_msgno(v, rec.uid))
            continue;
        seqset_add(out, rec.uid);
    }
    mailbox_unlock(v->mb);
    return r;
}
