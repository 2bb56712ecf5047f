/* cmd_copy.c -- COPY, UID COPY (RFC 3501 6.4.7), MOVE and UID MOVE
 * (RFC 6851), with the COPYUID response code of UIDPLUS (RFC 4315).
 *
 * All or nothing: every message is appended to the target in one
 * transaction (append.h: files linked where possible, quota charged at
 * commit), so a quota or I/O failure leaves the target as it was.  The
 * target's exclusive lock is taken before the selected mailbox's shared
 * one, which is what lets a mailbox be copied into itself.
 *
 * Flags travel with the rights RFC 4314 section 4 ties them to on the
 * target: \Seen needs s, \Deleted needs t, the other flags and keywords
 * need w.  A MOVE also needs t and e on the source: it is a COPY, a
 * STORE +FLAGS (\Deleted) and an expunge of just those messages.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "imap/imapd/imapd.h"
#include "imap/imapd/imapd_commands.h"
#include "imap/imapd/imapd_errors.h"
#include "imap/imapd/imapd_mailbox.h"
#include "imap/imapd/index.h"
#include "imap/store/append.h"
#include "imap/store/mboxname.h"
#include "lib/log.h"
#include "lib/seqset.h"

struct copy_job {
    struct index_view *v;
    struct mailbox *dst;
    acl_rights_t rights;       /* the session's rights on the target */
    int owner;                 /* \Seen lives in the target's records */
    int kwmap[MAILBOX_MAX_USER_FLAGS]; /* source bit -> target bit + 1 */
    struct seqset srcuids, dstuids;
};

/* The target bit of source keyword `bit`, or -1 when it cannot be kept. */
static int map_keyword(struct copy_job *job, int bit)
{
    const char *name;
    int tb;

    if (job->kwmap[bit])
        return job->kwmap[bit] - 1;
    name = strarray_nth(index_keywords(job->v), bit);
    tb = name ? mailbox_user_flag(job->dst, name, 1) : -1;
    if (tb < 0 || tb >= MAILBOX_MAX_USER_FLAGS) {
        if (name)
            log_warning("COPY: keyword %s not kept: %s", name,
                        mailbox_strerror(tb));
        tb = -1;
    }
    job->kwmap[bit] = tb + 1;
    return tb;
}

/* Flags of message `im` as they may be set on the target. */
static void copy_flags(struct copy_job *job, const struct index_msg *im,
                       struct append_info *info)
{
    uint32_t keep = 0;

    if ((job->rights & ACL_SETSEEN) && job->owner)
        keep |= FLAG_SEEN;
    if (job->rights & ACL_DELETEMSG)
        keep |= FLAG_DELETED;
    if (job->rights & ACL_WRITE)
        keep |= FLAG_ANSWERED | FLAG_FLAGGED | FLAG_DRAFT;
    info->system_flags = im->system_flags & keep;
    memset(info->user_flags, 0, sizeof(info->user_flags));
    if (!(job->rights & ACL_WRITE))
        return;
    for (int bit = 0; bit < MAILBOX_MAX_USER_FLAGS; bit++) {
        if (!(im->user_flags[bit / 32] & (1u << (bit % 32))))
            continue;
        int tb = map_keyword(job, bit);
        if (tb >= 0)
            info->user_flags[tb / 32] |= 1u << (tb % 32);
    }
}

/* Append every message of `msgnos` to the target in one transaction.
 * The target's (exclusive) lock comes first: see the comment above. */
static enum imapd_error copy_messages(struct copy_job *job,
                                      const struct seqset *msgnos,
                                      const char *quotaroot, int strict)
{
    struct mailbox *src = index_mailbox(job->v);
    struct appendstate *as = NULL;
    struct buf cache = BUF_INITIALIZER;
    enum imapd_error e = IMAPD_ERR_OK;
    int r;

    if ((r = append_setup(job->dst, quotaroot, strict, &as)))
        return imapd_error_append(r);
    if ((r = index_lock(job->v))) {
        append_abort(&as);
        return imapd_error_mailbox(r);
    }
    for (size_t i = 0; i < msgnos->count && !e; i++) {
        for (uint32_t msgno = msgnos->ranges[i].low;
             msgno <= msgnos->ranges[i].high && !e; msgno++) {
            const struct index_msg *im = index_msg(job->v, msgno);
            struct index_record rec, out;
            struct append_info info;
            const char *cbase;
            size_t clen;

            /* A message another session expunged is still copied, as
             * Cyrus does, while its file is there (RFC 2180 4.4.1). */
            if (!im || index_record(job->v, msgno, &rec)) {
                e = IMAPD_ERR_EXPUNGEISSUED;
                break;
            }
            memset(&info, 0, sizeof(info));
            info.internaldate = rec.internaldate;
            info.internaldate_zone_set =
                rec.internaldate_zone != INDEX_ZONE_UNKNOWN;
            info.internaldate_zone = rec.internaldate_zone;
            info.sentdate = rec.sentdate;
            info.header_size = rec.header_size;
            copy_flags(job, im, &info);
            /* The parse travels with the message: no need to redo it. */
            if (!mailbox_cache_payload(src, &rec, &cbase, &clen) && clen) {
                buf_setmap(&cache, cbase, clen);
                info.cache = &cache;
            }
            if ((r = append_copy(as, src, &rec, &info, &out))) {
                e = im->expunged ||
                            (rec.internal_flags & FLAG_INTERNAL_EXPUNGED)
                        ? IMAPD_ERR_EXPUNGEISSUED
                        : imapd_error_append(r);
                break;
            }
            seqset_add(&job->srcuids, rec.uid);
            seqset_add(&job->dstuids, out.uid);
            /* msgno is a uint32_t: stop before it wraps */
            if (msgno == UINT32_MAX)
                break;
        }
    }
    index_unlock(job->v);
    buf_free(&cache);
    if (e) {
        append_abort(&as);
        return e;
    }
    if ((r = append_commit(&as)))
        return imapd_error_append(r);
    return IMAPD_ERR_OK;
}

/* Read "SP sequence-set SP mailbox" into arg1 and arg2; 0 or -1 after
 * answering. */
static int parse_args(struct imapd_session *s, struct imapd_cmd *cmd)
{
    int c = cmd->c;

    if (c != ' ') {
        imapd_args_missing(s, cmd, c);
        return -1;
    }
    c = imapparse_word(&s->parse, &s->arg1);
    if (c < 0) {
        imapd_args_error(s, cmd, c, NULL);
        return -1;
    }
    if (c != ' ') {
        imapd_args_missing(s, cmd, c);
        return -1;
    }
    c = imapparse_astring(&s->parse, &s->arg2);
    if (c < 0) {
        imapd_args_error(s, cmd, c, NULL);
        return -1;
    }
    return imapd_args_end(s, cmd, c);
}

static void do_copy(struct imapd_session *s, struct imapd_cmd *cmd, int move)
{
    struct index_view *v = s->selected;
    struct imapd_mbox mb = IMAPD_MBOX_INITIALIZER;
    struct seqset msgnos = SEQSET_INITIALIZER;
    struct buf path = BUF_INITIALIZER, resp = BUF_INITIALIZER;
    struct copy_job job;
    enum imapd_error e;
    char *quotaroot;
    uint32_t uidvalidity;
    int r;

    memset(&job, 0, sizeof(job));
    job.v = v;
    if (parse_args(s, cmd) < 0)
        return;
    r = index_parse_set(v, buf_cstring(&s->arg1), cmd->uid, &msgnos);
    if (r < 0) {
        prot_printf(s->prot, "%s BAD Invalid sequence in %s\r\n", cmd->tag,
                    cmd->def->name);
        goto done;
    }

    e = imapd_mailbox_need(s, buf_cstring(&s->arg2), ACL_INSERT, 1, &mb);
    if (e) {
        imapd_no(s, cmd, e);
        goto done;
    }
    if (move && (index_write_rights(v) & (ACL_DELETEMSG | ACL_EXPUNGE)) !=
                    (ACL_DELETEMSG | ACL_EXPUNGE)) {
        imapd_no(s, cmd, IMAPD_ERR_NOPERM);
        goto done;
    }
    if (!msgnos.count) {
        /* UID COPY/MOVE of UIDs that are all gone: nothing to do */
        imapd_ok(s, cmd);
        goto done;
    }

    job.rights = mb.rights;
    job.owner = s->userid &&
                mboxname_userownsmailbox(&s->ns, s->userid, mb.intname);
    if ((r = imapd_mailbox_path(&mb.entry, &path))) {
        imapd_no(s, cmd, imapd_error_mboxlist(r));
        goto done;
    }
    if ((r = mailbox_open(buf_cstring(&path), &job.dst))) {
        imapd_no(s, cmd, imapd_error_mailbox(r));
        goto done;
    }
    /* The quota database is authoritative for which root governs a
     * mailbox (SETQUOTA does not rewrite every cyrus.header). */
    quotaroot = quota_findroot(mb.intname);
    e = copy_messages(&job, &msgnos, quotaroot,
                      s->settings->mbox.strict_quota);
    free(quotaroot);
    uidvalidity = mailbox_header(job.dst)->uidvalidity;
    mailbox_close(&job.dst);
    if (e) {
        imapd_no(s, cmd, e);
        goto done;
    }

    buf_printf(&resp, "[COPYUID %u ", uidvalidity);
    seqset_format(&job.srcuids, &resp);
    buf_putc(&resp, ' ');
    seqset_format(&job.dstuids, &resp);
    buf_putc(&resp, ']');

    if (!move) {
        imapd_report_updates(s, cmd);
        prot_printf(s->prot, "%s OK %s Completed\r\n", cmd->tag,
                    buf_cstring(&resp));
        goto done;
    }

    /* RFC 6851 3.3: COPYUID goes in an untagged OK before the expunges,
     * which MOVE sends even for sequence numbers. */
    prot_printf(s->prot, "* OK %s Completed\r\n", buf_cstring(&resp));
    if ((r = index_expunge_uids(v, &job.srcuids, NULL)))
        log_error("%s: MOVE copied but could not expunge: %s",
                  index_intname(v), mailbox_strerror(r));
    if (index_refresh(v))
        log_error("%s: cannot re-read the selected mailbox",
                  index_intname(v));
    index_report(v, s->prot, 1, cmd->uid);
    if (r)
        imapd_no(s, cmd, imapd_error_mailbox(r));
    else
        imapd_ok(s, cmd);

done:
    seqset_fini(&msgnos);
    seqset_fini(&job.srcuids);
    seqset_fini(&job.dstuids);
    imapd_mbox_fini(&mb);
    buf_free(&path);
    buf_free(&resp);
}

void cmd_copy(struct imapd_session *s, struct imapd_cmd *cmd)
{
    do_copy(s, cmd, 0);
}

void cmd_move(struct imapd_session *s, struct imapd_cmd *cmd)
{
    do_copy(s, cmd, 1);
}
