/* cmd_select.c -- entering and leaving the selected state and keeping
 * the client up to date: SELECT, EXAMINE, CLOSE, UNSELECT (RFC 3691),
 * CHECK, EXPUNGE, UID EXPUNGE (RFC 4315), IDLE (RFC 2177) and the
 * untagged updates sent at command boundaries; the CONDSTORE and QRESYNC
 * select parameters and resynchronisation (RFC 7162). */
#include "config.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "imap/imapd/imapd.h"
#include "imap/imapd/imapd_commands.h"
#include "imap/imapd/imapd_errors.h"
#include "imap/imapd/imapd_mailbox.h"
#include "imap/imapd/imapd_notify.h"
#include "imap/imapd/index.h"
#include "imap/store/mboxname.h"
#include "lib/log.h"
#include "lib/xmalloc.h"

/* How often IDLE looks at cyrus.index for other processes' changes. */
#define IDLE_POLL_MS 250

void imapd_unselect(struct imapd_session *s)
{
    index_close(&s->selected);
    free(s->selected_name);
    s->selected_name = NULL;
    if (s->state == IMAPD_SELECTED)
        s->state = IMAPD_AUTH;
}

void imapd_report_updates(struct imapd_session *s, struct imapd_cmd *cmd)
{
    int allow_expunge, uid;
    uint32_t lastuid;

    if (!s->selected || prot_error(s->prot))
        return;
    uid = cmd ? cmd->uid : 0;
    index_set_condstore(s->selected, s->enabled & IMAPD_EXT_CONDSTORE,
                        s->enabled & IMAPD_EXT_QRESYNC);
    index_set_imap4rev2(s->selected, s->enabled & IMAPD_EXT_IMAP4REV2);
    /* RFC 3501 7.4.1: no EXPUNGE during FETCH, STORE or SEARCH, whose
     * numbers the client is still matching; we extend that to every
     * command working on sequence numbers (COPY too). */
    allow_expunge = !cmd || uid || !(cmd->def->flags & IMAPD_CMD_SEQ);
    lastuid = index_uid(s->selected, index_count(s->selected));
    if (index_refresh(s->selected))
        log_error("%s: cannot re-read the selected mailbox",
                  index_intname(s->selected));
    index_report(s->selected, s->prot, allow_expunge, uid);
    imapd_notify_new_messages(s, cmd, lastuid);
}

static void write_flag_list(struct imapd_session *s, int permanent)
{
    struct index_view *v = s->selected;
    const strarray_t *kw = index_keywords(v);
    acl_rights_t r = index_write_rights(v);
    struct buf out = BUF_INITIALIZER;
    int i;

    if (!permanent) {
        buf_appendcstr(&out, "\\Answered \\Flagged \\Draft \\Deleted \\Seen");
        for (i = 0; i < kw->count; i++)
            buf_printf(&out, " %s", kw->data[i]);
        prot_printf(s->prot, "* FLAGS (%s)\r\n", buf_cstring(&out));
        buf_free(&out);
        return;
    }
    if (r & ACL_WRITE)
        buf_appendcstr(&out, " \\Answered \\Flagged \\Draft");
    if (r & ACL_DELETEMSG)
        buf_appendcstr(&out, " \\Deleted");
    if (r & ACL_SETSEEN)
        buf_appendcstr(&out, " \\Seen");
    if (r & ACL_WRITE) {
        for (i = 0; i < kw->count; i++)
            buf_printf(&out, " %s", kw->data[i]);
        if (kw->count < MAILBOX_MAX_USER_FLAGS)
            buf_appendcstr(&out, " \\*");
    }
    prot_printf(s->prot, "* OK [PERMANENTFLAGS (%s)] Ok\r\n",
                out.len ? buf_cstring(&out) + 1 : "");
    buf_free(&out);
}

int imapd_parse_modseq(const char *str, int allow_zero, uint64_t *out)
{
    uint64_t v = 0;

    if (!*str)
        return -1;
    for (; *str; str++) {
        if (!isdigit((unsigned char)*str))
            return -1;
        if (v > (UINT64_MAX >> 1) / 10)
            return -1;
        v = v * 10 + (uint64_t)(*str - '0');
        if (v > (UINT64_MAX >> 1))
            return -1;
    }
    if (!v && !allow_zero)
        return -1;
    *out = v;
    return 0;
}

void imapd_condstore_enable(struct imapd_session *s)
{
    if (s->enabled & IMAPD_EXT_CONDSTORE)
        return;
    s->enabled |= IMAPD_EXT_CONDSTORE;
    /* RFC 7162 3.1: the first enabling command with a mailbox selected
     * tells its HIGHESTMODSEQ. */
    if (s->selected) {
        index_set_condstore(s->selected, 1, s->enabled & IMAPD_EXT_QRESYNC);
        prot_printf(s->prot, "* OK [HIGHESTMODSEQ %llu] Ok\r\n",
                    (unsigned long long)index_highestmodseq(s->selected));
    }
}

/* The select parameters of RFC 4466 we know (RFC 7162 3.1.8, 3.2.5). */
struct select_params {
    int condstore;
    int qresync;
    uint32_t uidvalidity;
    uint64_t modseq;
    int have_uids;
    struct seqset uids;          /* known-uids */
    struct seqset match_seqs;    /* seq-match-data */
    struct seqset match_uids;
};

static void select_params_fini(struct select_params *p)
{
    seqset_fini(&p->uids);
    seqset_fini(&p->match_seqs);
    seqset_fini(&p->match_uids);
}

/* A sequence-set without "*" into `set`; 0 or -1. */
static int parse_known_set(const char *str, struct seqset *set)
{
    if (strchr(str, '*') || seqset_parse(set, str, UINT32_MAX) < 0)
        return -1;
    return 0;
}

/* "(" uidvalidity SP modseq [SP known-uids] [SP seq-match-data] ")"
 * after "QRESYNC SP".  Returns the character after it, or -1 with the
 * offending character (or tokenizer code) in *badc. */
static int parse_qresync(struct imapd_session *s, struct select_params *p,
                         int *badc)
{
    uint64_t n;
    int c = prot_getc(s->prot);

    if (c != '(')
        goto bad;
    c = imapparse_atom(&s->parse, &s->arg2);
    if (c != ' ' || imapd_parse_modseq(buf_cstring(&s->arg2), 0, &n) ||
        n > UINT32_MAX)
        goto bad;
    p->uidvalidity = (uint32_t)n;
    c = imapparse_atom(&s->parse, &s->arg2);
    if ((c != ' ' && c != ')') ||
        imapd_parse_modseq(buf_cstring(&s->arg2), 1, &p->modseq))
        goto bad;
    if (c == ' ') {
        c = prot_getc(s->prot);
        if (c != '(') {
            prot_ungetc(c, s->prot);
            c = imapparse_atom(&s->parse, &s->arg2);
            if ((c != ' ' && c != ')') ||
                parse_known_set(buf_cstring(&s->arg2), &p->uids))
                goto bad;
            p->have_uids = 1;
            if (c == ' ')
                c = prot_getc(s->prot);
        }
        if (c == '(') {
            c = imapparse_atom(&s->parse, &s->arg2);
            if (c != ' ' ||
                parse_known_set(buf_cstring(&s->arg2), &p->match_seqs))
                goto bad;
            c = imapparse_atom(&s->parse, &s->arg2);
            if (c != ')' ||
                parse_known_set(buf_cstring(&s->arg2), &p->match_uids) ||
                seqset_count(&p->match_seqs) != seqset_count(&p->match_uids))
                goto bad;
            c = prot_getc(s->prot);
        }
    }
    if (c != ')')
        goto bad;
    p->qresync = 1;
    return prot_getc(s->prot);
bad:
    *badc = c;
    return -1;
}

/* SP "(" select-param *(SP select-param) ")" after the mailbox name;
 * returns the character after it or -1 once answered BAD. */
static int parse_select_params(struct imapd_session *s,
                               struct imapd_cmd *cmd,
                               struct select_params *p)
{
    int c = prot_getc(s->prot);

    if (c != '(') {
        imapd_bad(s, cmd, c, "Invalid select parameters in %s",
                  cmd->def->name);
        return -1;
    }
    c = prot_getc(s->prot);
    if (c == ')')
        return prot_getc(s->prot);
    prot_ungetc(c, s->prot);
    for (;;) {
        c = imapparse_atom(&s->parse, &s->arg2);
        if (c < 0) {
            imapd_args_error(s, cmd, c, "Invalid select parameter");
            return -1;
        }
        if (!strcasecmp(buf_cstring(&s->arg2), "CONDSTORE")) {
            p->condstore = 1;
        }
        else if (!strcasecmp(buf_cstring(&s->arg2), "QRESYNC") &&
                 c == ' ' && !p->qresync) {
            int badc = 0;

            c = parse_qresync(s, p, &badc);
            if (c < 0) {
                if (badc == IMAPPARSE_EOF || badc == IMAPPARSE_TOOBIG)
                    imapd_args_error(s, cmd, badc, NULL);
                else
                    imapd_bad(s, cmd, badc,
                              "Invalid QRESYNC parameter in %s",
                              cmd->def->name);
                return -1;
            }
        }
        else {
            imapd_bad(s, cmd, c, "Invalid select parameter %.64s in %s",
                      buf_cstring(&s->arg2), cmd->def->name);
            return -1;
        }
        if (c == ')')
            return prot_getc(s->prot);
        if (c != ' ') {
            imapd_bad(s, cmd, c, "Invalid select parameters in %s",
                      cmd->def->name);
            return -1;
        }
    }
}

/* What the client proved it knows from seq-match-data: the UID of the
 * last of its leading pairs that still match the mailbox (RFC 7162
 * 3.2.5.2), or 0. */
static uint32_t seq_match_floor(const struct index_view *v,
                                const struct select_params *p)
{
    uint32_t seq = seqset_first(&p->match_seqs);
    uint32_t uid = seqset_first(&p->match_uids);
    uint32_t floor = 0;

    while (seq && uid) {
        if (index_uid(v, seq) != uid)
            break;
        floor = uid;
        seq = seqset_next(&p->match_seqs, seq);
        uid = seqset_next(&p->match_uids, uid);
    }
    return floor;
}

/* SELECT (QRESYNC ...): "* VANISHED (EARLIER)" and then the flags of the
 * known messages changed since the client's modseq. */
static void qresync_report(struct imapd_session *s,
                           const struct select_params *p)
{
    struct index_view *v = s->selected;
    struct seqset all = SEQSET_INITIALIZER, gone = SEQSET_INITIALIZER;
    const struct seqset *known = &p->uids;
    struct buf out = BUF_INITIALIZER;
    uint32_t i, uidnext = index_uidnext(v);
    int r;

    if (p->uidvalidity != index_uidvalidity(v))
        return;
    if (!p->have_uids) {
        if (uidnext > 1)
            seqset_add_range(&all, 1, uidnext - 1);
        known = &all;
    }
    r = index_vanished(v, known, p->modseq, seq_match_floor(v, p), &gone);
    if (r)
        log_error("%s: cannot read expunged messages: %s", index_intname(v),
                  mailbox_strerror(r));
    if (gone.count) {
        seqset_format(&gone, &out);
        prot_printf(s->prot, "* VANISHED (EARLIER) %s\r\n",
                    buf_cstring(&out));
    }
    for (i = 1; i <= index_count(v); i++) {
        const struct index_msg *m = index_msg(v, i);

        if (m->modseq <= p->modseq || !seqset_contains(known, m->uid))
            continue;
        buf_reset(&out);
        index_write_flags(v, i, &out);
        prot_printf(s->prot, "* %u FETCH (UID %u FLAGS %s MODSEQ (%llu))\r\n",
                    i, m->uid, buf_cstring(&out),
                    (unsigned long long)m->modseq);
    }
    seqset_fini(&all);
    seqset_fini(&gone);
    buf_free(&out);
}

/* SELECT and EXAMINE. */
static void do_select(struct imapd_session *s, struct imapd_cmd *cmd,
                      int examine)
{
    struct imapd_mbox mb = IMAPD_MBOX_INITIALIZER;
    struct index_open_args args;
    struct select_params params;
    struct buf path = BUF_INITIALIZER;
    enum imapd_error e;
    char *owner = NULL;
    uint32_t unseen;
    int c, r;

    memset(&params, 0, sizeof(params));
    if (cmd->c != ' ') {
        imapd_args_missing(s, cmd, cmd->c);
        return;
    }
    c = imapparse_astring(&s->parse, &s->arg1);
    if (c < 0) {
        imapd_args_error(s, cmd, c, NULL);
        return;
    }
    if (c == ' ' && (c = parse_select_params(s, cmd, &params)) < 0)
        goto out;
    if (imapd_args_end(s, cmd, c) < 0)
        goto out;
    /* RFC 7162 3.2.5: QRESYNC only once the client enabled it. */
    if (params.qresync && !(s->enabled & IMAPD_EXT_QRESYNC)) {
        prot_printf(s->prot, "%s BAD QRESYNC not enabled\r\n", cmd->tag);
        goto out;
    }
    if (params.condstore)
        s->enabled |= IMAPD_EXT_CONDSTORE;

    /* RFC 3501 6.3.1: a SELECT, even a failing one, closes the current
     * mailbox first, without expunging. */
    if (s->selected) {
        imapd_unselect(s);
        prot_puts(s->prot, "* OK [CLOSED] Ok\r\n");
    }

    e = imapd_mailbox_need(s, buf_cstring(&s->arg1), ACL_READ, 0, &mb);
    if (e != IMAPD_ERR_OK) {
        imapd_no(s, cmd, e);
        return;
    }
    if ((r = imapd_mailbox_path(&mb.entry, &path))) {
        imapd_no(s, cmd, imapd_error_mboxlist(r));
        goto out;
    }

    memset(&args, 0, sizeof(args));
    owner = mboxname_to_userid(mb.intname);
    args.dir = buf_cstring(&path);
    args.intname = mb.intname;
    args.userid = s->userid;
    args.isowner = owner && s->userid && !strcmp(owner, s->userid);
    args.seendir = s->settings->mbox.configdir;
    args.rights = mb.rights;
    args.examine = examine;
    if ((r = index_open(&args, &s->selected))) {
        log_error("%s: cannot open: %s", mb.intname, mailbox_strerror(r));
        imapd_no(s, cmd, imapd_error_mailbox(r));
        goto out;
    }
    s->selected_name = xstrdup(mb.intname);
    s->state = IMAPD_SELECTED;

    write_flag_list(s, 0);
    if (index_readonly(s->selected))
        prot_puts(s->prot, "* OK [PERMANENTFLAGS ()] Ok\r\n");
    else
        write_flag_list(s, 1);
    prot_printf(s->prot, "* %u EXISTS\r\n", index_count(s->selected));
    index_set_imap4rev2(s->selected, s->enabled & IMAPD_EXT_IMAP4REV2);
    if (s->enabled & IMAPD_EXT_IMAP4REV2) {
        /* RFC 9051 6.3.2: a LIST instead of RECENT and UNSEEN, with
         * OLDNAME when the name given was not in NFC. */
        char *norm = imapd_name_normalized(s, buf_cstring(&s->arg1));

        imapd_list_untagged(s, mb.intname, mb.entry.uniqueid, 1,
                            norm ? buf_cstring(&s->arg1) : NULL);
        free(norm);
    }
    else {
        prot_printf(s->prot, "* %u RECENT\r\n", index_recent(s->selected));
        unseen = index_first_unseen(s->selected);
        if (unseen)
            prot_printf(s->prot, "* OK [UNSEEN %u] Ok\r\n", unseen);
    }
    prot_printf(s->prot, "* OK [UIDVALIDITY %u] Ok\r\n",
                index_uidvalidity(s->selected));
    prot_printf(s->prot, "* OK [UIDNEXT %u] Ok\r\n",
                index_uidnext(s->selected));
    prot_printf(s->prot, "* OK [MAILBOXID (%s)] Ok\r\n",
                mailbox_uniqueid(index_mailbox(s->selected)));
    /* URLAUTH (RFC 4467 7.1): the mechanisms GENURLAUTH offers. */
    prot_puts(s->prot, "* OK [URLMECH INTERNAL] Ok\r\n");
    index_set_condstore(s->selected, s->enabled & IMAPD_EXT_CONDSTORE,
                        s->enabled & IMAPD_EXT_QRESYNC);
    if (s->enabled & IMAPD_EXT_CONDSTORE)
        prot_printf(s->prot, "* OK [HIGHESTMODSEQ %llu] Ok\r\n",
                    (unsigned long long)index_highestmodseq(s->selected));
    imapd_mailbox_quotawarn(s, mb.intname);
    if (params.qresync)
        qresync_report(s, &params);
    prot_printf(s->prot, "%s OK [%s] Completed\r\n", cmd->tag,
                index_readonly(s->selected) ? "READ-ONLY" : "READ-WRITE");
out:
    free(owner);
    buf_free(&path);
    imapd_mbox_fini(&mb);
    select_params_fini(&params);
}

void cmd_select(struct imapd_session *s, struct imapd_cmd *cmd)
{
    do_select(s, cmd, 0);
}

void cmd_examine(struct imapd_session *s, struct imapd_cmd *cmd)
{
    do_select(s, cmd, 1);
}

void cmd_close(struct imapd_session *s, struct imapd_cmd *cmd)
{
    struct index_view *v = s->selected;

    /* RFC 3501 6.4.2: expunge silently, and only when allowed. */
    if (!index_readonly(v) && (index_rights(v) & ACL_EXPUNGE)) {
        int r = index_expunge(v, NULL, NULL);
        if (r)
            log_error("%s: expunge on CLOSE failed: %s", index_intname(v),
                      mailbox_strerror(r));
    }
    imapd_unselect(s);
    prot_printf(s->prot, "%s OK Completed\r\n", cmd->tag);
}

void cmd_unselect(struct imapd_session *s, struct imapd_cmd *cmd)
{
    imapd_unselect(s);
    prot_printf(s->prot, "%s OK Completed\r\n", cmd->tag);
}

void cmd_check(struct imapd_session *s, struct imapd_cmd *cmd)
{
    imapd_ok(s, cmd);
}

/* EXPUNGE and UID EXPUNGE <uid set>. */
void cmd_expunge(struct imapd_session *s, struct imapd_cmd *cmd)
{
    struct index_view *v = s->selected;
    struct seqset msgnos = SEQSET_INITIALIZER, uids = SEQSET_INITIALIZER;
    uint32_t n = 0;
    size_t i;
    int c = cmd->c, r;

    if (cmd->uid) {
        if (c != ' ') {
            imapd_args_missing(s, cmd, c);
            return;
        }
        c = imapparse_word(&s->parse, &s->arg1);
        if (c < 0) {
            imapd_args_error(s, cmd, c, NULL);
            return;
        }
        if (index_parse_set(v, buf_cstring(&s->arg1), 1, &msgnos) < 0) {
            imapd_bad(s, cmd, c, "Invalid sequence in %s", cmd->def->name);
            seqset_fini(&msgnos);
            return;
        }
    }
    if (imapd_args_end(s, cmd, c) < 0) {
        seqset_fini(&msgnos);
        return;
    }
    if (index_readonly(v) || !(index_rights(v) & ACL_EXPUNGE)) {
        seqset_fini(&msgnos);
        imapd_no(s, cmd, IMAPD_ERR_NOPERM);
        return;
    }
    for (i = 0; i < msgnos.count; i++) {
        uint32_t m;
        for (m = msgnos.ranges[i].low; m <= msgnos.ranges[i].high; m++)
            seqset_add(&uids, index_uid(v, m));
    }
    r = index_expunge(v, cmd->uid ? &uids : NULL, &n);
    seqset_fini(&msgnos);
    seqset_fini(&uids);
    if (r) {
        log_error("%s: expunge failed: %s", index_intname(v),
                  mailbox_strerror(r));
        imapd_no(s, cmd, imapd_error_mailbox(r));
        return;
    }
    if (n && (s->enabled & IMAPD_EXT_QRESYNC)) {
        /* RFC 7162 3.2.7: the new mailbox modseq, once the VANISHED
         * responses are out. */
        imapd_report_updates(s, cmd);
        prot_printf(s->prot, "%s OK [HIGHESTMODSEQ %llu] Completed\r\n",
                    cmd->tag, (unsigned long long)index_highestmodseq(v));
        return;
    }
    imapd_ok(s, cmd);
}

/* Read the client's line during IDLE: 1 for DONE, 0 for anything else
 * (answered BAD), -1 when the stream failed. */
static int idle_read_done(struct imapd_session *s, struct imapd_cmd *cmd)
{
    int c = imapparse_atom(&s->parse, &s->arg1);

    if (c == IMAPPARSE_EOF)
        return -1;
    if (c >= 0 && !strcasecmp(buf_cstring(&s->arg1), "DONE") &&
        imapparse_eol(&s->parse, c) == 0)
        return 1;
    if (c >= 0 && c != '\r' && c != '\n')
        imapparse_skipline(&s->parse, c);
    else if (c < 0)
        imapparse_skipline(&s->parse, c);
    if (prot_error(s->prot))
        return -1;
    prot_printf(s->prot, "%s BAD Invalid Idle continuation\r\n", cmd->tag);
    return 0;
}

void cmd_idle(struct imapd_session *s, struct imapd_cmd *cmd)
{
    time_t deadline = time(NULL) + s->settings->timeout;
    int r;

    imapd_report_updates(s, cmd);
    prot_puts(s->prot, "+ idling\r\n");
    prot_flush(s->prot);

    for (;;) {
        if (prot_input_pending(s->prot) > 0)
            break;
        r = prot_wait_input(s->prot, IDLE_POLL_MS);
        if (r < 0)
            return;
        if (r > 0)
            break;
        if (time(NULL) >= deadline) {
            log_notice("autologout: %s %s idle for too long", s->clienthost,
                       s->userid ? s->userid : "");
            prot_puts(s->prot, "* BYE Autologout; idle for too long\r\n");
            prot_flush(s->prot);
            s->state = IMAPD_LOGOUT;
            return;
        }
        if (s->notify) {
            /* RFC 5465 4: while idling, exactly what NOTIFY asked for. */
            imapd_notify_poll(s);
            prot_flush(s->prot);
        }
        else if (s->selected && index_changed_on_disk(s->selected)) {
            imapd_report_updates(s, NULL);
            prot_flush(s->prot);
        }
    }
    r = idle_read_done(s, cmd);
    if (r <= 0)
        return;
    imapd_ok(s, cmd);
}
