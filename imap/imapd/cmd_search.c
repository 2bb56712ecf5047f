/* cmd_search.c -- SEARCH and UID SEARCH (RFC 3501 6.4.4, 6.4.8), with
 * ESEARCH result options (RFC 4731) and SEARCHRES (RFC 5182).
 *
 * The criteria are parsed whole before anything is read from the store
 * (so a syntax error costs nothing), then matched against every message
 * of the view under one shared lock.  Message files are mapped only for
 * keys that need their text, one message at a time.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "imap/imapd/imapd.h"
#include "imap/imapd/imapd_commands.h"
#include "imap/imapd/imapd_errors.h"
#include "imap/imapd/index.h"
#include "imap/imapd/search.h"
#include "lib/log.h"
#include "lib/xmalloc.h"

/* The search_source of one message of the view. */
struct msg_text {
    struct index_view *v;
    uint32_t msgno;
    const struct index_record *rec;
    const char *base;
    size_t len;
    int mapped;              /* 0 not yet, 1 mapped, -1 unreadable */
    struct message *msg;
    int parsed;              /* 0 not yet, 1 parsed, -1 failed */
};

static int text_map(struct msg_text *t)
{
    if (!t->mapped) {
        t->mapped = index_map(t->v, t->msgno, &t->base, &t->len) ? -1 : 1;
        if (t->mapped < 0)
            log_warning("%s: cannot read message uid %u for SEARCH",
                        index_intname(t->v), t->rec->uid);
    }
    return t->mapped > 0 ? 0 : -1;
}

static int text_header(void *rock, const char *field, const char **base,
                       size_t *len)
{
    struct msg_text *t = rock;

    (void)field;    /* the message's own header holds every field */
    if (text_map(t) < 0)
        return -1;
    *base = t->base;
    *len = t->rec->header_size < t->len ? t->rec->header_size : t->len;
    return 0;
}

static const struct message *text_message(void *rock)
{
    struct msg_text *t = rock;

    if (!t->parsed) {
        t->parsed = -1;
        if (text_map(t) == 0 && index_structure(t->v, t->msgno, &t->msg) == 0) {
            /* The structure comes from the cache, without the bytes its
             * offsets refer to: attach the mapped file. */
            t->msg->base = t->base;
            t->msg->len = t->len;
            t->parsed = 1;
        }
    }
    return t->parsed > 0 ? t->msg : NULL;
}

static void text_release(struct msg_text *t)
{
    if (t->mapped > 0)
        mailbox_unmap_message(t->base, t->len);
    message_free(&t->msg);
    t->mapped = t->parsed = 0;
}

int imapd_search_run(struct index_view *v, struct search_program *prog,
                     imapd_search_fn *fn, void *rock)
{
    uint32_t count = index_count(v), maxuid = 0, msgno;
    struct index_record rec;
    struct msg_text t;
    struct search_source src = { text_header, text_message, &t };
    int r;

    if (count)
        maxuid = index_uid(v, count);
    search_bind(prog, count, maxuid, index_keywords(v));
    search_bind_saved(prog, index_searchres(v));
    if ((r = index_lock(v)))
        return r;
    memset(&t, 0, sizeof(t));
    t.v = v;
    for (msgno = 1; msgno <= count; msgno++) {
        const struct index_msg *im = index_msg(v, msgno);
        struct search_msg sm;

        /* An expunge not yet reported leaves nothing to find. */
        if (im->expunged || index_record(v, msgno, &rec) ||
            (rec.internal_flags & FLAG_INTERNAL_EXPUNGED))
            continue;
        /* Flags (and modseq) as this session was told them. */
        memcpy(rec.user_flags, im->user_flags, sizeof(rec.user_flags));
        rec.modseq = im->modseq;
        sm.msgno = msgno;
        sm.rec = &rec;
        sm.system_flags = im->system_flags;
        sm.recent = im->recent;
        t.msgno = msgno;
        t.rec = &rec;
        if (search_match(prog, &sm, &src))
            fn(v, msgno, &rec, rock);
        text_release(&t);
    }
    index_unlock(v);
    return 0;
}

/* The matches of one SEARCH, in mailbox order. */
struct found {
    int uid;
    struct imapd_search_result *res;
};

static void found_one(struct index_view *v, uint32_t msgno,
                      const struct index_record *rec, void *rock)
{
    struct found *f = rock;

    (void)v;
    imapd_search_result_add(f->res, f->uid ? rec->uid : msgno, rec->uid,
                            rec->modseq);
}

void imapd_search_result_add(struct imapd_search_result *res, uint32_t num,
                             uint32_t uid, uint64_t modseq)
{
    if (res->count == res->alloc) {
        res->alloc = res->alloc ? res->alloc * 2 : 64;
        res->nums = xrealloc(res->nums, res->alloc * sizeof(*res->nums));
        res->uids = xrealloc(res->uids, res->alloc * sizeof(*res->uids));
        res->modseqs = xrealloc(res->modseqs,
                                res->alloc * sizeof(*res->modseqs));
    }
    res->nums[res->count] = num;
    res->uids[res->count] = uid;
    res->modseqs[res->count] = modseq;
    res->count++;
}

void imapd_search_result_fini(struct imapd_search_result *res)
{
    free(res->nums);
    free(res->uids);
    free(res->modseqs);
    memset(res, 0, sizeof(*res));
}

/* Append `nums` in their order, as a sequence set whose ranges only ever
 * ascend (RFC 5267 3.2): "5,3,4" stays as it is, "3,4,5" becomes "3:5". */
static void write_ordered_set(struct buf *out, const uint32_t *nums, size_t n)
{
    size_t i = 0;

    while (i < n) {
        size_t j = i;
        while (j + 1 < n && nums[j + 1] == nums[j] + 1)
            j++;
        if (i)
            buf_putc(out, ',');
        if (j > i)
            buf_printf(out, "%u:%u", nums[i], nums[j]);
        else
            buf_printf(out, "%u", nums[i]);
        i = j + 1;
    }
}

void imapd_search_return(struct imapd_session *s, struct imapd_cmd *cmd,
                         unsigned opts, const struct imapd_search_result *res,
                         int modseq)
{
    unsigned minmax = opts & (SEARCH_RETURN_MIN | SEARCH_RETURN_MAX);
    unsigned wide = opts & (SEARCH_RETURN_ALL | SEARCH_RETURN_COUNT);
    size_t n = res->count;
    uint64_t highest = 0;
    size_t i;

    if (opts & SEARCH_RETURN_SAVE) {
        /* RFC 5182 2.4: MIN and/or MAX alone save only what they name. */
        struct seqset uids = SEQSET_INITIALIZER;

        if (n && minmax && !wide) {
            if (opts & SEARCH_RETURN_MIN)
                seqset_add(&uids, res->uids[0]);
            if (opts & SEARCH_RETURN_MAX)
                seqset_add(&uids, res->uids[n - 1]);
        } else {
            for (i = 0; i < n; i++)
                seqset_add(&uids, res->uids[i]);
        }
        index_set_searchres(s->selected, &uids);
        seqset_fini(&uids);
    }
    /* SAVE alone asks for no result at all (RFC 5182 2.2 example 1). */
    if (!(opts & ~SEARCH_RETURN_SAVE))
        return;

    struct buf out = BUF_INITIALIZER;

    buf_printf(&out, "* ESEARCH (TAG \"%s\")", cmd->tag);
    if (cmd->uid)
        buf_appendcstr(&out, " UID");
    if (n && (opts & SEARCH_RETURN_MIN))
        buf_printf(&out, " MIN %u", res->nums[0]);
    if (n && (opts & SEARCH_RETURN_MAX))
        buf_printf(&out, " MAX %u", res->nums[n - 1]);
    if (n && (opts & SEARCH_RETURN_ALL)) {
        buf_appendcstr(&out, " ALL ");
        write_ordered_set(&out, res->nums, n);
    }
    if (opts & SEARCH_RETURN_COUNT)
        buf_printf(&out, " COUNT %zu", n);
    /* RFC 4731 3.2: the modseq of what MIN/MAX name when only they are
     * asked for, else the highest of all the messages found. */
    if (modseq && n) {
        if (minmax && !wide) {
            if (opts & SEARCH_RETURN_MIN)
                highest = res->modseqs[0];
            if ((opts & SEARCH_RETURN_MAX) && res->modseqs[n - 1] > highest)
                highest = res->modseqs[n - 1];
        } else {
            for (i = 0; i < n; i++)
                if (res->modseqs[i] > highest)
                    highest = res->modseqs[i];
        }
        buf_printf(&out, " MODSEQ %llu", (unsigned long long)highest);
    }
    buf_appendcstr(&out, "\r\n");
    prot_write(s->prot, out.s, out.len);
    buf_free(&out);
}

int imapd_search_parse(struct imapd_session *s, struct imapd_cmd *cmd,
                       int c, struct search_return *ret, const char *charset,
                       struct search_program **progp)
{
    c = search_parse_ext(&s->parse, c, ret, charset, progp);
    if (c == SEARCH_BADCHARSET) {
        imapparse_skipline(&s->parse, IMAPPARSE_SYNTAX);
        /* RFC 5182 2.1: a SAVE that fails with NO empties "$". */
        if (ret && (ret->opts & SEARCH_RETURN_SAVE))
            index_set_searchres(s->selected, NULL);
        if (!prot_error(s->prot))
            prot_printf(s->prot, "%s NO [BADCHARSET (US-ASCII UTF-8)] "
                        "Unrecognized character set\r\n", cmd->tag);
        return -1;
    }
    if (c < 0) {
        imapd_args_error(s, cmd, c, NULL);
        return -1;
    }
    if (imapd_args_end(s, cmd, c) < 0) {
        search_free(progp);
        return -1;
    }
    return 0;
}

void cmd_search(struct imapd_session *s, struct imapd_cmd *cmd)
{
    struct search_program *prog = NULL;
    struct search_return ret = { 0, 0 };
    struct imapd_search_result res = IMAPD_SEARCH_RESULT_INITIALIZER;
    struct found f = { cmd->uid, &res };
    int r, modseq;
    size_t i;

    if (imapd_search_parse(s, cmd, cmd->c, &ret, NULL, &prog) < 0)
        return;
    /* RFC 9051 6.4.4: an IMAP4rev2 SEARCH is answered with ESEARCH, ALL
     * when no result option is given. */
    if (!ret.present && (s->enabled & IMAPD_EXT_IMAP4REV2)) {
        ret.present = 1;
        ret.opts = SEARCH_RETURN_ALL;
    }

    modseq = search_uses_modseq(prog);
    if (modseq)
        imapd_condstore_enable(s);
    r = imapd_search_run(s->selected, prog, found_one, &f);
    search_free(&prog);
    if (r) {
        if (ret.opts & SEARCH_RETURN_SAVE)
            index_set_searchres(s->selected, NULL);
        imapd_search_result_fini(&res);
        imapd_no(s, cmd, imapd_error_mailbox(r));
        return;
    }
    if (ret.present) {
        imapd_search_return(s, cmd, ret.opts, &res, modseq);
    } else {
        struct buf out = BUF_INITIALIZER;
        uint64_t highest = 0;

        buf_appendcstr(&out, "* SEARCH");
        for (i = 0; i < res.count; i++) {
            buf_printf(&out, " %u", res.nums[i]);
            if (res.modseqs[i] > highest)
                highest = res.modseqs[i];
        }
        /* RFC 7162 3.1.6: with MODSEQ, a non-empty result ends with the
         * highest modseq of the messages found. */
        if (modseq && res.count)
            buf_printf(&out, " (MODSEQ %llu)", (unsigned long long)highest);
        buf_appendcstr(&out, "\r\n");
        prot_write(s->prot, out.s, out.len);
        buf_free(&out);
    }
    imapd_search_result_fini(&res);
    imapd_ok(s, cmd);
}
