/* cmd_thread.c -- THREAD and UID THREAD (RFC 5256 3; REFS as Cyrus).
 *
 * Each message found contributes its sent date, its arrival, its base
 * subject (from the cached ENVELOPE) and, for REFERENCES and REFS, its
 * Message-ID (ENVELOPE) and References: (the cached header lines, else
 * the ENVELOPE's In-Reply-To); thread.c does the rest.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "imap/imapd/imapd.h"
#include "imap/imapd/imapd_commands.h"
#include "imap/imapd/imapd_errors.h"
#include "imap/imapd/index.h"
#include "imap/imapd/search.h"
#include "imap/imapd/sort.h"
#include "imap/imapd/thread.h"
#include "lib/charset.h"
#include "lib/xmalloc.h"

struct thread_rock {
    enum thread_alg alg;
    int uid;
    struct thread_msg *msgs;
    strarray_t *refs;
    size_t count, alloc;
    struct buf scratch, value, subject;
    strarray_t ids;
};

static void thread_one(struct index_view *v, uint32_t msgno,
                       const struct index_record *rec, void *rock)
{
    struct thread_rock *tr = rock;
    struct thread_msg *m;
    const char *env = NULL, *hdrs = NULL;
    size_t envlen = 0, hdrslen = 0;
    int refs = tr->alg == THREAD_REFERENCES || tr->alg == THREAD_REFS;

    if (tr->count == tr->alloc) {
        tr->alloc = tr->alloc ? tr->alloc * 2 : 256;
        tr->msgs = xrealloc(tr->msgs, tr->alloc * sizeof(*tr->msgs));
        tr->refs = xrealloc(tr->refs, tr->alloc * sizeof(*tr->refs));
    }
    m = &tr->msgs[tr->count];
    memset(m, 0, sizeof(*m));
    memset(&tr->refs[tr->count], 0, sizeof(tr->refs[0]));
    tr->count++;
    m->num = tr->uid ? rec->uid : msgno;
    m->msgno = msgno;
    m->date = imapd_sent_date(rec);
    m->internaldate = rec->internaldate;

    if (imapd_cache_items(v, rec, &tr->scratch, &env, &envlen,
                          refs ? &hdrs : NULL, refs ? &hdrslen : NULL)) {
        m->subject = xstrdup("");
        return;
    }
    buf_reset(&tr->subject);
    if (sort_envelope_string(env, envlen, MESSAGE_ENV_SUBJECT, &tr->value)) {
        struct buf base = BUF_INITIALIZER;
        sort_base_subject(tr->value.s, tr->value.len, &base, &m->is_reply);
        charset_casemap(&tr->subject, base.s ? base.s : "", base.len);
        buf_free(&base);
    }
    m->subject = xstrdup(buf_cstring(&tr->subject));
    if (!refs)
        return;

    strarray_truncate(&tr->ids, 0);
    if (sort_envelope_string(env, envlen, MESSAGE_ENV_MESSAGE_ID,
                             &tr->value) &&
        thread_parse_msgids(tr->value.s, tr->value.len, &tr->ids, 1))
        m->msgid = xstrdup(tr->ids.data[0]);
    /* References:, else the first id of In-Reply-To: */
    if (!(message_header_get(hdrs, hdrslen, "References", &tr->value) &&
          thread_parse_msgids(tr->value.s, tr->value.len,
                              &tr->refs[tr->count - 1], 0)) &&
        sort_envelope_string(env, envlen, MESSAGE_ENV_IN_REPLY_TO,
                             &tr->value))
        thread_parse_msgids(tr->value.s, tr->value.len,
                            &tr->refs[tr->count - 1], 1);
}

static void thread_rock_fini(struct thread_rock *tr)
{
    for (size_t i = 0; i < tr->count; i++) {
        free((char *)tr->msgs[i].subject);
        free((char *)tr->msgs[i].msgid);
        strarray_fini(&tr->refs[i]);
    }
    free(tr->msgs);
    free(tr->refs);
    buf_free(&tr->scratch);
    buf_free(&tr->value);
    buf_free(&tr->subject);
    strarray_fini(&tr->ids);
}

void cmd_thread(struct imapd_session *s, struct imapd_cmd *cmd)
{
    struct thread_rock tr;
    struct search_program *prog = NULL;
    struct buf charset = BUF_INITIALIZER, out = BUF_INITIALIZER;
    enum thread_alg alg;
    int c, r;

    if (cmd->c != ' ') {
        imapd_args_missing(s, cmd, cmd->c);
        return;
    }
    c = imapparse_atom(&s->parse, &s->arg1);
    if (c < 0) {
        imapd_args_error(s, cmd, c, NULL);
        return;
    }
    if (thread_alg_lookup(buf_cstring(&s->arg1), &alg) < 0) {
        imapd_bad(s, cmd, c, "Invalid Thread algorithm");
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
    r = imapd_search_parse(s, cmd, c, NULL, buf_cstring(&charset), &prog);
    buf_free(&charset);
    if (r < 0)
        return;

    memset(&tr, 0, sizeof(tr));
    tr.alg = alg;
    tr.uid = cmd->uid;
    r = imapd_search_run(s->selected, prog, thread_one, &tr);
    search_free(&prog);
    for (size_t i = 0; !r && i < tr.count; i++)
        tr.msgs[i].refs = &tr.refs[i];
    if (r) {
        thread_rock_fini(&tr);
        imapd_no(s, cmd, imapd_error_mailbox(r));
        return;
    }
    buf_appendcstr(&out, "* THREAD");
    thread_build(alg, tr.msgs, tr.count, &out);
    buf_appendcstr(&out, "\r\n");
    prot_write(s->prot, out.s, out.len);
    buf_free(&out);
    thread_rock_fini(&tr);
    imapd_ok(s, cmd);
}
