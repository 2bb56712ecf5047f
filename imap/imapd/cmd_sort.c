/* cmd_sort.c -- SORT and UID SORT (RFC 5256, RFC 5957 DISPLAYFROM and
 * DISPLAYTO), with ESORT result options (RFC 5267 3) and the CONTEXT=SORT
 * ones (PARTIAL, CONTEXT, UPDATE: RFC 5267 4).
 *
 * The criteria are matched as SEARCH does (cmd_search.c); the string
 * keys of each match are computed from the ENVELOPE the cache holds, so
 * sorting a large mailbox reads no message file.
 */
#include "config.h"

#include <string.h>
#include <strings.h>

#include "imap/imapd/imapd.h"
#include "imap/imapd/imapd_commands.h"
#include "imap/imapd/imapd_errors.h"
#include "imap/imapd/index.h"
#include "imap/imapd/search.h"
#include "imap/imapd/sort.h"
#include "imap/store/append.h"
#include "lib/log.h"

int imapd_cache_items(struct index_view *v, const struct index_record *rec,
                      struct buf *scratch, const char **env, size_t *envlen,
                      const char **hdrs, size_t *hdrslen)
{
    struct mailbox *mb = index_mailbox(v);
    const char *data = NULL, *base;
    size_t datalen = 0, len;

    if (mailbox_cache_payload(mb, rec, &data, &datalen) || !datalen ||
        append_cache_item(data, datalen, APPEND_CACHE_ENVELOPE, env,
                          envlen) ||
        (hdrs && append_cache_item(data, datalen, APPEND_CACHE_HEADERS, hdrs,
                                   hdrslen))) {
        /* No usable cache entry: build one from the message itself. */
        buf_reset(scratch);
        if (mailbox_map_message(mb, rec->uid, &base, &len)) {
            log_warning("%s: cannot read message uid %u", index_intname(v),
                        rec->uid);
            return -1;
        }
        int r = append_build_cache(base, len, scratch, NULL, NULL);
        mailbox_unmap_message(base, len);
        if (r || append_cache_item(scratch->s, scratch->len,
                                   APPEND_CACHE_ENVELOPE, env, envlen) ||
            (hdrs && append_cache_item(scratch->s, scratch->len,
                                       APPEND_CACHE_HEADERS, hdrs, hdrslen)))
            return -1;
    }
    return 0;
}

int64_t imapd_sent_date(const struct index_record *rec)
{
    /* RFC 5256 2.2: without a usable Date:, the internal date */
    return rec->sentdate > 0 ? rec->sentdate : rec->internaldate;
}

void imapd_sort_add(struct sort_set *set, struct index_view *v,
                    const struct index_record *rec, uint32_t num,
                    int envelope, struct buf *scratch)
{
    struct sort_item item;
    const char *env = NULL;
    size_t envlen = 0;

    memset(&item, 0, sizeof(item));
    item.num = num;
    item.uid = rec->uid;
    item.msgno = rec->uid;
    item.size = rec->size;
    item.modseq = rec->modseq;
    item.arrival = rec->internaldate;
    item.date = imapd_sent_date(rec);
    if (envelope &&
        imapd_cache_items(v, rec, scratch, &env, &envlen, NULL, NULL))
        env = NULL;
    sort_set_add(set, &item, env, envlen);
}

struct sort_rock {
    struct sort_set *set;
    int uid;
    int envelope;
    struct buf scratch;
};

static void sort_one(struct index_view *v, uint32_t msgno,
                     const struct index_record *rec, void *rock)
{
    struct sort_rock *sr = rock;

    imapd_sort_add(sr->set, v, rec, sr->uid ? rec->uid : msgno,
                   sr->envelope, &sr->scratch);
}

void cmd_sort(struct imapd_session *s, struct imapd_cmd *cmd)
{
    struct sort_criteria crit;
    struct search_return ret;
    struct search_program *prog = NULL;
    struct imapd_search_result res = IMAPD_SEARCH_RESULT_INITIALIZER;
    struct sort_rock sr;
    struct buf charset = BUF_INITIALIZER;
    int c, r, modseq;
    size_t i;

    memset(&ret, 0, sizeof(ret));
    if (cmd->c != ' ') {
        imapd_args_missing(s, cmd, cmd->c);
        return;
    }
    c = prot_getc(s->prot);
    prot_ungetc(c, s->prot);
    if (c != '(') {
        /* RFC 5267 3: "SORT RETURN (...) (criteria) ..." */
        c = imapparse_atom(&s->parse, &s->arg1);
        if (c >= 0 && strcasecmp(buf_cstring(&s->arg1), "RETURN")) {
            imapd_bad(s, cmd, c, "Missing Sort criteria");
            return;
        }
        if (c == ' ')
            c = search_parse_return(&s->parse, &ret);
        else if (c >= 0) {
            imapd_args_missing(s, cmd, c);
            return;
        }
        if (c < 0) {
            imapd_args_error(s, cmd, c, NULL);
            return;
        }
        if (c != ' ') {
            imapd_args_missing(s, cmd, c);
            return;
        }
    }
    c = sort_parse_criteria(&s->parse, &crit);
    if (c < 0) {
        imapd_args_error(s, cmd, c, NULL);
        return;
    }
    if (c != ' ') {
        imapd_args_missing(s, cmd, c);
        return;
    }
    c = imapparse_astring(&s->parse, &charset);
    if (c < 0) {
        imapd_args_error(s, cmd, c, NULL);
        buf_free(&charset);
        return;
    }
    r = imapd_search_parse(s, cmd, c, &ret, buf_cstring(&charset), &prog);
    buf_free(&charset);
    if (r < 0)
        return;
    if (imapd_search_check_tag(s, cmd, &ret) < 0) {
        search_free(&prog);
        return;
    }

    modseq = search_uses_modseq(prog);
    if (modseq)
        imapd_condstore_enable(s);
    memset(&sr, 0, sizeof(sr));
    sr.set = sort_set_new(&crit);
    sr.uid = cmd->uid;
    sr.envelope = sort_needs_envelope(&crit);
    r = imapd_search_run(s->selected, prog, sort_one, &sr);
    buf_free(&sr.scratch);
    if (r) {
        search_free(&prog);
        if (ret.opts & SEARCH_RETURN_SAVE)
            index_set_searchres(s->selected, NULL);
        sort_set_free(&sr.set);
        imapd_no(s, cmd, imapd_error_mailbox(r));
        return;
    }
    sort_set_sort(sr.set);
    for (i = 0; i < sort_set_count(sr.set); i++) {
        const struct sort_item *it = sort_set_item(sr.set, i);
        imapd_search_result_add(&res, it->num, it->uid, it->modseq);
    }

    if (ret.present)
        imapd_search_return(s, cmd, &ret, &res, modseq);
    else
        imapd_search_write_plain(s, "SORT", &res, modseq);
    /* The context keeps the sorted set: it orders what comes later. */
    if (ret.opts & SEARCH_RETURN_UPDATE)
        imapd_search_update(s, cmd, &prog, &crit, &sr.set, &res);
    search_free(&prog);
    sort_set_free(&sr.set);
    imapd_search_result_fini(&res);
    imapd_ok(s, cmd);
}
