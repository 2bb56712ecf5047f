/* cmd_select.c -- entering and leaving the selected state and keeping
 * the client up to date: SELECT, EXAMINE, CLOSE, UNSELECT (RFC 3691),
 * CHECK, EXPUNGE, UID EXPUNGE (RFC 4315), IDLE (RFC 2177) and the
 * untagged updates sent at command boundaries. */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "imap/imapd/imapd.h"
#include "imap/imapd/imapd_commands.h"
#include "imap/imapd/imapd_errors.h"
#include "imap/imapd/imapd_mailbox.h"
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

    if (!s->selected || prot_error(s->prot))
        return;
    uid = cmd ? cmd->uid : 0;
    /* RFC 3501 7.4.1: no EXPUNGE during FETCH, STORE or SEARCH, whose
     * numbers the client is still matching; we extend that to every
     * command working on sequence numbers (COPY too). */
    allow_expunge = !cmd || uid || !(cmd->def->flags & IMAPD_CMD_SEQ);
    if (index_refresh(s->selected))
        log_error("%s: cannot re-read the selected mailbox",
                  index_intname(s->selected));
    index_report(s->selected, s->prot, allow_expunge, uid);
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

/* SELECT and EXAMINE. */
static void do_select(struct imapd_session *s, struct imapd_cmd *cmd,
                      int examine)
{
    struct imapd_mbox mb = IMAPD_MBOX_INITIALIZER;
    struct index_open_args args;
    struct buf path = BUF_INITIALIZER;
    enum imapd_error e;
    char *owner = NULL;
    uint32_t unseen;
    int c, r;

    if (cmd->c != ' ') {
        imapd_args_missing(s, cmd, cmd->c);
        return;
    }
    c = imapparse_astring(&s->parse, &s->arg1);
    if (c < 0) {
        imapd_args_error(s, cmd, c, NULL);
        return;
    }
    if (imapd_args_end(s, cmd, c) < 0)
        return;

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
    prot_printf(s->prot, "* %u RECENT\r\n", index_recent(s->selected));
    unseen = index_first_unseen(s->selected);
    if (unseen)
        prot_printf(s->prot, "* OK [UNSEEN %u] Ok\r\n", unseen);
    prot_printf(s->prot, "* OK [UIDVALIDITY %u] Ok\r\n",
                index_uidvalidity(s->selected));
    prot_printf(s->prot, "* OK [UIDNEXT %u] Ok\r\n",
                index_uidnext(s->selected));
    imapd_mailbox_quotawarn(s, mb.intname);
    prot_printf(s->prot, "%s OK [%s] Completed\r\n", cmd->tag,
                index_readonly(s->selected) ? "READ-ONLY" : "READ-WRITE");
out:
    free(owner);
    buf_free(&path);
    imapd_mbox_fini(&mb);
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
        if (s->selected && index_changed_on_disk(s->selected)) {
            imapd_report_updates(s, NULL);
            prot_flush(s->prot);
        }
    }
    r = idle_read_done(s, cmd);
    if (r <= 0)
        return;
    imapd_ok(s, cmd);
}
