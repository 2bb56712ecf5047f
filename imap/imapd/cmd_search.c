/* cmd_search.c -- SEARCH and UID SEARCH (RFC 3501 6.4.4, 6.4.8).
 *
 * The criteria are parsed whole before anything is read from the store
 * (so a syntax error costs nothing), then matched against every message
 * of the view under one shared lock.  Message files are mapped only for
 * keys that need their text, one message at a time.
 */
#include "config.h"

#include <string.h>

#include "imap/imapd/imapd.h"
#include "imap/imapd/imapd_commands.h"
#include "imap/imapd/imapd_errors.h"
#include "imap/imapd/index.h"
#include "imap/imapd/search.h"
#include "lib/log.h"

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

/* Append the matching numbers (UIDs for UID SEARCH) to `out`, and the
 * highest modseq among them to *highest; 0 or a MAILBOX_* error. */
static int run_search(struct index_view *v, struct search_program *prog,
                      int uid, struct buf *out, uint64_t *highest)
{
    uint32_t count = index_count(v), maxuid = 0, msgno;
    struct index_record rec;
    struct msg_text t;
    struct search_source src = { text_header, text_message, &t };
    int r;

    if (count)
        maxuid = index_uid(v, count);
    search_bind(prog, count, maxuid, index_keywords(v));
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
        if (search_match(prog, &sm, &src)) {
            buf_printf(out, " %u", uid ? im->uid : msgno);
            if (rec.modseq > *highest)
                *highest = rec.modseq;
        }
        text_release(&t);
    }
    index_unlock(v);
    return 0;
}

void cmd_search(struct imapd_session *s, struct imapd_cmd *cmd)
{
    struct search_program *prog = NULL;
    struct buf out = BUF_INITIALIZER;
    uint64_t highest = 0;
    int c, r, modseq;

    c = search_parse(&s->parse, cmd->c, &prog);
    if (c == SEARCH_BADCHARSET) {
        imapparse_skipline(&s->parse, IMAPPARSE_SYNTAX);
        if (!prot_error(s->prot))
            prot_printf(s->prot, "%s NO [BADCHARSET (US-ASCII UTF-8)] "
                        "Unrecognized character set\r\n", cmd->tag);
        return;
    }
    if (c < 0) {
        imapd_args_error(s, cmd, c, NULL);
        return;
    }
    if (imapd_args_end(s, cmd, c) < 0) {
        search_free(&prog);
        return;
    }

    modseq = search_uses_modseq(prog);
    if (modseq)
        imapd_condstore_enable(s);
    r = run_search(s->selected, prog, cmd->uid, &out, &highest);
    search_free(&prog);
    if (r) {
        buf_free(&out);
        imapd_no(s, cmd, imapd_error_mailbox(r));
        return;
    }
    /* RFC 7162 3.1.6: with MODSEQ, a non-empty result ends with the
     * highest modseq of the messages found. */
    if (modseq && out.len)
        buf_printf(&out, " (MODSEQ %llu)", (unsigned long long)highest);
    prot_printf(s->prot, "* SEARCH%s\r\n", buf_cstring(&out));
    buf_free(&out);
    imapd_ok(s, cmd);
}
