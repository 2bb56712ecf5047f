/* imapd_commands.c -- the IMAP command table and dispatcher. */
#include "config.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "imap/imapd/imapd_commands.h"
#include "imap/imapd/imapd_notify.h"
#include "lib/log.h"

#define ANY IMAPD_ANY_STATE
#define NOTAUTH IMAPD_NOTAUTH
#define AUTHED IMAPD_AUTHED
#define SELECTED IMAPD_SELECTED
#define SEQUID (IMAPD_CMD_SEQ | IMAPD_CMD_UID)

/* Sorted by name (case-insensitively): looked up by binary search. */
static const struct imapd_command commands[] = {
    { "Append", cmd_append, AUTHED, IMAPD_CMD_CHANGES, NULL },
    { "Authenticate", cmd_authenticate, NOTAUTH, 0, NULL },
    { "Cancelupdate", cmd_cancelupdate, SELECTED, 0, NULL },
    { "Capability", cmd_capability, ANY, IMAPD_CMD_NOARGS, NULL },
    { "Check", cmd_check, SELECTED, IMAPD_CMD_NOARGS, NULL },
    { "Close", cmd_close, SELECTED, IMAPD_CMD_NOARGS | IMAPD_CMD_CHANGES, NULL },
    { "Compress", cmd_compress, AUTHED, 0, NULL },
    { "Copy", cmd_copy, SELECTED, SEQUID, NULL },
    { "Create", cmd_create, AUTHED, 0, NULL },
    { "Delete", cmd_delete, AUTHED, 0, NULL },
    { "Deleteacl", cmd_deleteacl, AUTHED, 0, NULL },
    { "Enable", cmd_enable, AUTHED, 0, NULL },
    { "Examine", cmd_examine, AUTHED, 0, NULL },
    { "Expunge", cmd_expunge, SELECTED, IMAPD_CMD_UID | IMAPD_CMD_CHANGES, NULL },
    { "Fetch", cmd_fetch, SELECTED, SEQUID | IMAPD_CMD_CHANGES, NULL },
    { "Genurlauth", cmd_genurlauth, AUTHED, 0, NULL },
    { "Getacl", cmd_getacl, AUTHED, 0, NULL },
    { "Getmetadata", cmd_getmetadata, AUTHED, 0, NULL },
    { "Getquota", cmd_getquota, AUTHED, 0, NULL },
    { "Getquotaroot", cmd_getquotaroot, AUTHED, 0, NULL },
    { "Id", cmd_id, ANY, 0, NULL },
    { "Idle", cmd_idle, AUTHED, IMAPD_CMD_NOARGS, NULL },
    { "List", cmd_list, AUTHED, 0, NULL },
    { "Listrights", cmd_listrights, AUTHED, 0, NULL },
    { "Login", cmd_login, NOTAUTH, 0, "Already logged in" },
    { "Logout", cmd_logout, ANY, IMAPD_CMD_NOARGS, NULL },
    { "Lsub", cmd_lsub, AUTHED, 0, NULL },
    { "Move", cmd_move, SELECTED, SEQUID | IMAPD_CMD_CHANGES, NULL },
    { "Myrights", cmd_myrights, AUTHED, 0, NULL },
    { "Namespace", cmd_namespace, AUTHED, IMAPD_CMD_NOARGS, NULL },
    { "Noop", cmd_noop, ANY, IMAPD_CMD_NOARGS, NULL },
    { "Notify", cmd_notify, AUTHED, 0, NULL },
    { "Rename", cmd_rename, AUTHED, 0, NULL },
    { "Resetkey", cmd_resetkey, AUTHED, 0, NULL },
    { "Search", cmd_search, SELECTED, SEQUID, NULL },
    { "Select", cmd_select, AUTHED, 0, NULL },
    { "Setacl", cmd_setacl, AUTHED, 0, NULL },
    { "Setmetadata", cmd_setmetadata, AUTHED, 0, NULL },
    { "Setquota", cmd_setquota, AUTHED, 0, NULL },
    { "Sort", cmd_sort, SELECTED, SEQUID, NULL },
    { "Starttls", cmd_starttls, NOTAUTH, 0,
      "Can't Starttls after authentication" },
    { "Status", cmd_status, AUTHED, 0, NULL },
    { "Store", cmd_store, SELECTED, SEQUID | IMAPD_CMD_CHANGES, NULL },
    { "Subscribe", cmd_subscribe, AUTHED, 0, NULL },
    { "Thread", cmd_thread, SELECTED, SEQUID, NULL },
    /* A prefix, not a command: the dispatcher reads the next word. */
    { "Uid", NULL, SELECTED, 0, NULL },
    { "Unauthenticate", cmd_unauthenticate, AUTHED, IMAPD_CMD_NOARGS, NULL },
    { "Unselect", cmd_unselect, SELECTED, IMAPD_CMD_NOARGS, NULL },
    { "Unsubscribe", cmd_unsubscribe, AUTHED, 0, NULL },
    { "Urlfetch", cmd_urlfetch, AUTHED, 0, NULL },
};

#define NCOMMANDS ((int)(sizeof(commands) / sizeof(commands[0])))

static int compare_command(const void *key, const void *elem)
{
    return strcasecmp(key, ((const struct imapd_command *)elem)->name);
}

const struct imapd_command *imapd_command_lookup(const char *name)
{
    return bsearch(name, commands, NCOMMANDS, sizeof(commands[0]),
                   compare_command);
}

int imapd_command_count(void)
{
    return NCOMMANDS;
}

const struct imapd_command *imapd_command_nth(int i)
{
    return i >= 0 && i < NCOMMANDS ? &commands[i] : NULL;
}

/* --- responses for handlers --- */

void imapd_ok(struct imapd_session *s, struct imapd_cmd *cmd)
{
    /* Every successful command is a point to tell of others' changes. */
    imapd_report_updates(s, cmd);
    prot_printf(s->prot, "%s OK Completed\r\n", cmd->tag);
}

static void vbad(struct imapd_session *s, const char *tag, const char *fmt,
                 va_list ap)
{
    prot_printf(s->prot, "%s BAD ", tag);
    prot_vprintf(s->prot, fmt, ap);
    prot_puts(s->prot, "\r\n");
}

void imapd_bad(struct imapd_session *s, struct imapd_cmd *cmd, int c,
               const char *fmt, ...)
{
    va_list ap;

    imapparse_skipline(&s->parse, c);
    if (prot_error(s->prot))
        return;
    va_start(ap, fmt);
    vbad(s, cmd->tag, fmt, ap);
    va_end(ap);
}

void imapd_args_missing(struct imapd_session *s, struct imapd_cmd *cmd, int c)
{
    if (c < 0 && c != IMAPPARSE_SYNTAX) {
        imapd_args_error(s, cmd, c, NULL);
        return;
    }
    imapd_bad(s, cmd, c, "Missing required argument to %s", cmd->def->name);
}

int imapd_arg_astring(struct imapd_session *s, struct imapd_cmd *cmd, int c,
                      struct buf *out, int more)
{
    if (c != ' ') {
        imapd_args_missing(s, cmd, c);
        return -1;
    }
    c = imapparse_astring(&s->parse, out);
    if (c < 0) {
        imapd_args_error(s, cmd, c, NULL);
        return -1;
    }
    if (more && c != ' ') {
        imapd_args_missing(s, cmd, c);
        return -1;
    }
    return c;
}

int imapd_args_end(struct imapd_session *s, struct imapd_cmd *cmd, int c)
{
    if (c < 0) {
        imapd_args_error(s, cmd, c, NULL);
        return -1;
    }
    if (imapparse_eol(&s->parse, c) == 0)
        return 0;
    /* imapparse_eol has already discarded the rest of the line. */
    if (!prot_error(s->prot))
        prot_printf(s->prot, "%s BAD Unexpected extra arguments to %s\r\n",
                    cmd->tag, cmd->def->name);
    return -1;
}

void imapd_args_error(struct imapd_session *s, struct imapd_cmd *cmd, int c,
                      const char *text)
{
    const char *why = s->parse.error[0] ? s->parse.error : "Invalid argument";

    switch (c) {
    case IMAPPARSE_EOF:
        return;
    case IMAPPARSE_TOOBIG:
        imapd_bad(s, cmd, c, "[TOOBIG] %s", why);
        return;
    case IMAPPARSE_SYNTAX:
        imapd_bad(s, cmd, c, "%s in %s", text ? text : why, cmd->def->name);
        return;
    default:
        imapd_bad(s, cmd, c, "%s in %s", text ? text : "Invalid argument",
                  cmd->def->name);
        return;
    }
}

/* --- the dispatcher --- */

/* Answer a state violation; `c` follows the command name. */
static int check_state(struct imapd_session *s, struct imapd_cmd *cmd)
{
    const struct imapd_command *def = cmd->def;
    const char *text;

    if (def->states & s->state)
        return 0;
    if (s->state == IMAPD_NOTAUTH)
        text = "Please login first";
    else if (def->states == IMAPD_NOTAUTH)
        text = def->authed_text ? def->authed_text : "Already authenticated";
    else if (def->states == IMAPD_SELECTED)
        text = "Please select a mailbox first";
    else
        text = "Command not allowed in this state";
    imapparse_skipline(&s->parse, cmd->c);
    if (!prot_error(s->prot))
        prot_printf(s->prot, "%s BAD %s\r\n", cmd->tag, text);
    return -1;
}

/* "UID <command> ...": find the command it prefixes. */
static int resolve_uid(struct imapd_session *s, struct imapd_cmd *cmd)
{
    const struct imapd_command *sub;
    int c;

    if (cmd->c != ' ') {
        imapd_args_missing(s, cmd, cmd->c);
        return -1;
    }
    c = imapparse_word(&s->parse, &s->cmdname);
    if (c < 0) {
        imapd_args_error(s, cmd, c, NULL);
        return -1;
    }
    sub = imapd_command_lookup(buf_cstring(&s->cmdname));
    if (!sub || !(sub->flags & IMAPD_CMD_UID)) {
        imapd_bad(s, cmd, c, "Unrecognized UID subcommand");
        return -1;
    }
    cmd->def = sub;
    cmd->uid = 1;
    cmd->c = c;
    return check_state(s, cmd);
}

static int session_over(struct imapd_session *s)
{
    return s->state == IMAPD_LOGOUT || prot_error(s->prot) != NULL;
}

int imapd_dispatch(struct imapd_session *s)
{
    struct imapd_cmd cmd;
    int c;

    memset(&cmd, 0, sizeof(cmd));
    s->parse.error[0] = '\0';

    c = imapparse_tag(&s->parse, &s->tag);
    if (c == IMAPPARSE_EOF)
        return -1;
    if (c == IMAPPARSE_TOOBIG) {
        imapparse_skipline(&s->parse, c);
        prot_printf(s->prot, "* BAD [TOOBIG] %s\r\n", s->parse.error);
        return session_over(s) ? -1 : 0;
    }
    if (c != ' ' || !s->tag.len) {
        imapparse_skipline(&s->parse, c);
        prot_puts(s->prot, "* BAD Invalid tag\r\n");
        return session_over(s) ? -1 : 0;
    }
    cmd.tag = buf_cstring(&s->tag);

    c = imapparse_word(&s->parse, &s->cmdname);
    if (c == IMAPPARSE_EOF)
        return -1;
    if (c == IMAPPARSE_TOOBIG) {
        imapparse_skipline(&s->parse, c);
        prot_printf(s->prot, "%s BAD [TOOBIG] %s\r\n", cmd.tag, s->parse.error);
        return session_over(s) ? -1 : 0;
    }
    if (!s->cmdname.len) {
        imapparse_skipline(&s->parse, c);
        prot_printf(s->prot, "%s BAD Null command\r\n", cmd.tag);
        return session_over(s) ? -1 : 0;
    }
    cmd.c = c;
    cmd.def = imapd_command_lookup(buf_cstring(&s->cmdname));
    if (!cmd.def) {
        imapparse_skipline(&s->parse, c);
        prot_printf(s->prot, "%s BAD Unrecognized command\r\n", cmd.tag);
        return session_over(s) ? -1 : 0;
    }

    if (check_state(s, &cmd) < 0)
        return session_over(s) ? -1 : 0;
    if (!cmd.def->handler && resolve_uid(s, &cmd) < 0)
        return session_over(s) ? -1 : 0;
    if ((cmd.def->flags & IMAPD_CMD_NOARGS) &&
        imapd_args_end(s, &cmd, cmd.c) < 0)
        return session_over(s) ? -1 : 0;

    cmd.def->handler(s, &cmd);
    if (s->notify)
        imapd_notify_command_done(s, &cmd);
    return session_over(s) ? -1 : 0;
}
