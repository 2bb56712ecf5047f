/* cmd_search.c -- SEARCH and UID SEARCH (RFC 3501 6.4.4, 6.4.8), with
 * ESEARCH result options (RFC 4731), SEARCHRES (RFC 5182), the PARTIAL,
 * CONTEXT and UPDATE options and CANCELUPDATE (RFC 5267 4, RFC 9394 3.2).
 *
 * The criteria are parsed whole before anything is read from the store
 * (so a syntax error costs nothing), then matched against every message
 * of the view under one shared lock.  Message files are mapped only for
 * keys that need their text, one message at a time.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "imap/imapd/context.h"
#include "imap/imapd/imapd.h"
#include "imap/imapd/imapd_commands.h"
#include "imap/imapd/imapd_errors.h"
#include "imap/imapd/index.h"
#include "imap/imapd/search.h"
#include "imap/store/append.h"
#include "imap/store/mailbox.h"
#include "lib/log.h"
#include "lib/xmalloc.h"

/* The search_source of one message of the view. */
struct msg_text {
    struct index_view *v;
    uint32_t msgno;
    const struct index_record *rec;
    const char *base;
    size_t len;
    int mapped;              /* 0 not yet, 1 mapped, 2 read into *scratch,
                                -1 unreadable */
    struct buf *scratch;     /* reused from message to message */
    struct message *msg;
    int parsed;              /* 0 not yet, 1 parsed, -1 failed */
};

/* Messages up to this size are read rather than mapped (see
 * mailbox_read_message). */
#define SEARCH_READ_MAX (256 * 1024)

static int text_map(struct msg_text *t)
{
    if (!t->mapped) {
        int r = mailbox_read_message(index_mailbox(t->v), t->rec->uid,
                                     SEARCH_READ_MAX, t->scratch);
        if (r == 0) {
            t->base = t->scratch->s;
            t->len = t->scratch->len;
            t->mapped = 2;
            return 0;
        }
        if (r == MAILBOX_BADFORMAT)
            r = index_map(t->v, t->msgno, &t->base, &t->len);
        t->mapped = r ? -1 : 1;
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
    const char *data;
    size_t datalen;

    /* A field the cache keeps is read from there: no message file is
     * opened, which is most of the cost of a header search. */
    if (field && append_field_is_cached(field, strlen(field)) &&
        !mailbox_cache_payload(index_mailbox(t->v), t->rec, &data,
                               &datalen) &&
        !append_cache_item(data, datalen, APPEND_CACHE_HEADERS, base, len))
        return 0;
    /* Otherwise the message's own header holds every field. */
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
    if (t->mapped == 1)
        mailbox_unmap_message(t->base, t->len);
    message_free(&t->msg);
    t->mapped = t->parsed = 0;
}

/* Decide message `msgno` with `t` as its text source; *rec gets its
 * record as this session sees it.  Locked, program bound. */
static int match_one(struct index_view *v, struct search_program *prog,
                     uint32_t msgno, struct index_record *rec,
                     struct msg_text *t, struct buf *scratch)
{
    const struct index_msg *im = index_msg(v, msgno);
    struct search_source src = { text_header, text_message, t };
    struct search_msg sm;
    int found;

    /* An expunge not yet reported leaves nothing to find. */
    if (!im || im->expunged || index_record(v, msgno, rec) ||
        (rec->internal_flags & FLAG_INTERNAL_EXPUNGED))
        return 0;
    /* Flags (and modseq) as this session was told them. */
    memcpy(rec->user_flags, im->user_flags, sizeof(rec->user_flags));
    rec->modseq = im->modseq;
    sm.msgno = msgno;
    sm.rec = rec;
    sm.system_flags = im->system_flags;
    sm.recent = im->recent;
    memset(t, 0, sizeof(*t));
    t->v = v;
    t->msgno = msgno;
    t->rec = rec;
    t->scratch = scratch;
    found = search_match(prog, &sm, &src);
    text_release(t);
    return found;
}

int imapd_search_match(struct index_view *v, struct search_program *prog,
                       uint32_t msgno, struct index_record *rec)
{
    struct msg_text t;
    struct buf scratch = BUF_INITIALIZER;
    int found = match_one(v, prog, msgno, rec, &t, &scratch);

    buf_free(&scratch);
    return found;
}

int imapd_search_run(struct index_view *v, struct search_program *prog,
                     imapd_search_fn *fn, void *rock)
{
    uint32_t count = index_count(v), maxuid = 0, msgno;
    struct index_record rec;
    struct msg_text t;
    struct buf scratch = BUF_INITIALIZER;
    int r;

    if (count)
        maxuid = index_uid(v, count);
    search_bind(prog, count, maxuid, index_keywords(v));
    search_bind_saved(prog, index_searchres(v));
    if ((r = index_lock(v)))
        return r;
    for (msgno = 1; msgno <= count; msgno++) {
        if (match_one(v, prog, msgno, &rec, &t, &scratch))
            fn(v, msgno, &rec, rock);
    }
    index_unlock(v);
    buf_free(&scratch);
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

/* RFC 4731 3.2 and RFC 9394 3.2: with MIN, MAX or PARTIAL but neither
 * ALL nor COUNT, SAVE keeps (and MODSEQ covers) only the messages those
 * name; otherwise every message found.  Sets keep[i] for those. */
static void pick_returned(unsigned opts, const struct search_return *ret,
                          size_t n, char *keep)
{
    size_t first, len, i;

    if ((opts & (SEARCH_RETURN_ALL | SEARCH_RETURN_COUNT)) ||
        !(opts & (SEARCH_RETURN_MIN | SEARCH_RETURN_MAX |
                  SEARCH_RETURN_PARTIAL))) {
        memset(keep, 1, n);
        return;
    }
    memset(keep, 0, n);
    if (!n)
        return;
    if (opts & SEARCH_RETURN_MIN)
        keep[0] = 1;
    if (opts & SEARCH_RETURN_MAX)
        keep[n - 1] = 1;
    if (opts & SEARCH_RETURN_PARTIAL) {
        len = context_partial(ret->partial_lo, ret->partial_hi, n, &first);
        for (i = 0; i < len; i++)
            keep[first + i] = 1;
    }
}

void imapd_search_write_plain(struct imapd_session *s, const char *name,
                              const struct imapd_search_result *res,
                              int modseq)
{
    struct buf out = BUF_INITIALIZER;
    uint64_t highest = 0;

    buf_printf(&out, "* %s", name);
    for (size_t i = 0; i < res->count; i++) {
        buf_printf(&out, " %u", res->nums[i]);
        if (res->modseqs[i] > highest)
            highest = res->modseqs[i];
    }
    if (modseq && res->count)
        buf_printf(&out, " (MODSEQ %llu)", (unsigned long long)highest);
    buf_appendcstr(&out, "\r\n");
    prot_write(s->prot, out.s, out.len);
    buf_free(&out);
}

void imapd_search_return(struct imapd_session *s, struct imapd_cmd *cmd,
                         const struct search_return *ret,
                         const struct imapd_search_result *res, int modseq)
{
    unsigned opts = ret->opts;
    size_t n = res->count;
    uint64_t highest = 0;
    char *keep = xmalloc(n ? n : 1);
    size_t i;

    pick_returned(opts, ret, n, keep);
    if (opts & SEARCH_RETURN_SAVE) {
        struct seqset uids = SEQSET_INITIALIZER;

        for (i = 0; i < n; i++)
            if (keep[i])
                seqset_add(&uids, res->uids[i]);
        index_set_searchres(s->selected, &uids);
        seqset_fini(&uids);
    }
    /* SAVE alone asks for no result at all (RFC 5182 2.2 example 1);
     * CONTEXT is only a hint (RFC 5267 4.2). */
    if (!(opts & ~(SEARCH_RETURN_SAVE | SEARCH_RETURN_CONTEXT))) {
        free(keep);
        return;
    }

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
        context_write_ordered(&out, res->nums, n);
    }
    if (opts & SEARCH_RETURN_PARTIAL) {
        /* RFC 5267 4.4: the range as asked, NIL when it holds none. */
        size_t first, len;

        len = context_partial(ret->partial_lo, ret->partial_hi, n, &first);
        buf_printf(&out, " PARTIAL (%lld:%lld ",
                   (long long)ret->partial_lo, (long long)ret->partial_hi);
        if (len)
            context_write_ordered(&out, res->nums + first, len);
        else
            buf_appendcstr(&out, "NIL");
        buf_putc(&out, ')');
    }
    if (opts & SEARCH_RETURN_COUNT)
        buf_printf(&out, " COUNT %zu", n);
    /* RFC 4731 3.2: the highest modseq of what is returned. */
    if (modseq && n) {
        for (i = 0; i < n; i++)
            if (keep[i] && res->modseqs[i] > highest)
                highest = res->modseqs[i];
        if (highest)
            buf_printf(&out, " MODSEQ %llu", (unsigned long long)highest);
    }
    buf_appendcstr(&out, "\r\n");
    prot_write(s->prot, out.s, out.len);
    buf_free(&out);
    free(keep);
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

int imapd_search_check_tag(struct imapd_session *s, struct imapd_cmd *cmd,
                           const struct search_return *ret)
{
    if (!(ret->opts & SEARCH_RETURN_UPDATE) ||
        !context_exists(s->selected, cmd->tag))
        return 0;
    /* The whole line has been read: nothing is left to skip. */
    prot_printf(s->prot, "%s BAD Tag reuse\r\n", cmd->tag);
    return -1;
}

void imapd_search_update(struct imapd_session *s, struct imapd_cmd *cmd,
                         struct search_program **progp,
                         const struct sort_criteria *crit,
                         struct sort_set **setp,
                         const struct imapd_search_result *res)
{
    struct index_view *v = s->selected;

    if (context_count(v) >= CONTEXT_MAX) {
        log_notice("%s: %s: too many update contexts, refused for %s",
                   s->session_id, index_intname(v), cmd->tag);
        prot_printf(s->prot, "* NO [NOUPDATE \"%s\"] Too many contexts\r\n",
                    cmd->tag);
        return;
    }
    /* A SEARCH result is in mailbox order: its UIDs ascend. */
    context_add(v, cmd->tag, cmd->uid, progp, crit, setp, res->uids,
                res->count);
}

void cmd_search(struct imapd_session *s, struct imapd_cmd *cmd)
{
    struct search_program *prog = NULL;
    struct search_return ret;
    struct imapd_search_result res = IMAPD_SEARCH_RESULT_INITIALIZER;
    struct found f = { cmd->uid, &res };
    int r, modseq;

    memset(&ret, 0, sizeof(ret));
    if (imapd_search_parse(s, cmd, cmd->c, &ret, NULL, &prog) < 0)
        return;
    if (imapd_search_check_tag(s, cmd, &ret) < 0) {
        search_free(&prog);
        return;
    }
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
    if (r) {
        search_free(&prog);
        if (ret.opts & SEARCH_RETURN_SAVE)
            index_set_searchres(s->selected, NULL);
        imapd_search_result_fini(&res);
        imapd_no(s, cmd, imapd_error_mailbox(r));
        return;
    }
    if (ret.present)
        imapd_search_return(s, cmd, &ret, &res, modseq);
    else
        imapd_search_write_plain(s, "SEARCH", &res, modseq);
    if (ret.opts & SEARCH_RETURN_UPDATE)
        imapd_search_update(s, cmd, &prog, NULL, NULL, &res);
    search_free(&prog);
    imapd_search_result_fini(&res);
    imapd_ok(s, cmd);
}

void cmd_cancelupdate(struct imapd_session *s, struct imapd_cmd *cmd)
{
    strarray_t tags = STRARRAY_INITIALIZER;
    int c = cmd->c, i;

    /* "CANCELUPDATE" 1*(SP quoted); all are checked before any goes. */
    do {
        if (c != ' ') {
            imapd_args_missing(s, cmd, c);
            goto done;
        }
        c = prot_getc(s->prot);
        if (c != '"' && c != '{') {
            imapd_bad(s, cmd, c, "Search correlator must be a string");
            goto done;
        }
        prot_ungetc(c, s->prot);
        c = imapparse_string(&s->parse, &s->arg1);
        if (c < 0) {
            imapd_args_error(s, cmd, c, NULL);
            goto done;
        }
        strarray_append(&tags, buf_cstring(&s->arg1));
    } while (c == ' ');
    if (imapd_args_end(s, cmd, c) < 0)
        goto done;
    for (i = 0; i < tags.count; i++) {
        if (!context_exists(s->selected, tags.data[i])) {
            prot_printf(s->prot, "%s NO No such update context\r\n",
                        cmd->tag);
            goto done;
        }
    }
    for (i = 0; i < tags.count; i++)
        context_cancel(s->selected, tags.data[i]);
    imapd_ok(s, cmd);
done:
    strarray_fini(&tags);
}
