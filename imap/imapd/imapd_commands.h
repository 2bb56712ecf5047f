/* imapd_commands.h -- the IMAP command table and dispatcher.
 *
 * Every command is one row: its name, its handler, the states it is valid
 * in and flags.  imapd_dispatch() reads a tag and a command name, finds the
 * row (case-insensitively), enforces the state rules in one place and calls
 * the handler, which parses its own arguments and then acts.  Whatever
 * goes wrong, the rest of the command line (literals included) is skipped
 * so the session stays in step with the client.
 *
 * Responses the dispatcher gives itself (as Cyrus does):
 *   "* BAD Invalid tag"                   no tag, or a line of garbage
 *   "TAG BAD Null command"                a tag and nothing else
 *   "TAG BAD Unrecognized command"        unknown command name
 *   "TAG BAD Please login first"          command needs authentication
 *   "TAG BAD Please select a mailbox first"
 *   "TAG BAD [TOOBIG] ..."                word or literal over the limits
 * Handlers use the helpers below for their own syntax errors:
 *   "TAG BAD Missing required argument to Name"
 *   "TAG BAD Unexpected extra arguments to Name"
 */
#ifndef IMAP_IMAPD_IMAPD_COMMANDS_H
#define IMAP_IMAPD_IMAPD_COMMANDS_H

#include <stdint.h>

#include "imap/imapd/imapd.h"

struct imapd_command;

/* One command being executed. */
struct imapd_cmd {
    const char *tag;
    const struct imapd_command *def;
    int uid;       /* given as "UID <name>" */
    int c;         /* the character that followed the command name */
};

typedef void imapd_handler(struct imapd_session *s, struct imapd_cmd *cmd);

/* Command flags. */
enum {
    IMAPD_CMD_UID = 1 << 0,         /* may follow "UID" */
    IMAPD_CMD_SEQ = 1 << 1,         /* takes message sequence numbers */
    IMAPD_CMD_CHANGES = 1 << 2,     /* may change the selected mailbox */
    IMAPD_CMD_NOARGS = 1 << 3,      /* takes no arguments at all */
};

struct imapd_command {
    const char *name;       /* as shown in messages: "Login" */
    imapd_handler *handler;
    unsigned states;        /* enum imapd_state bits where it is valid */
    unsigned flags;
    /* The BAD text when issued after authentication although valid only
     * before it; NULL for "Already authenticated". */
    const char *authed_text;
};

/* The row for `name` (any case), or NULL. */
const struct imapd_command *imapd_command_lookup(const char *name);
/* Number of rows and the i'th, for tests and documentation. */
int imapd_command_count(void);
const struct imapd_command *imapd_command_nth(int i);

/* Read and execute one command.  Returns 0 to go on, -1 when the session
 * is over (logout, EOF, timeout, broken stream). */
int imapd_dispatch(struct imapd_session *s);

/* --- helpers for handlers --- */

/* Check that the arguments ended at `c`: 0 at CRLF, else answer
 * "BAD Unexpected extra arguments", skip the line and return -1. */
int imapd_args_end(struct imapd_session *s, struct imapd_cmd *cmd, int c);
/* Answer "BAD Missing required argument" and skip the rest of the line. */
void imapd_args_missing(struct imapd_session *s, struct imapd_cmd *cmd, int c);
/* A tokenizer call returned `c` < 0 or an unexpected character: answer
 * with the tokenizer's message (or `text` for an unexpected character),
 * [TOOBIG] when over a limit, nothing at EOF; skip the line. */
void imapd_args_error(struct imapd_session *s, struct imapd_cmd *cmd, int c,
                      const char *text);
/* Answer "TAG BAD <text>" and skip the rest of the line after `c`. */
void imapd_bad(struct imapd_session *s, struct imapd_cmd *cmd, int c,
               const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* Answer "TAG OK Completed". */
void imapd_ok(struct imapd_session *s, struct imapd_cmd *cmd);

/* Handlers, by family. */
/* cmd_session.c */
imapd_handler cmd_capability, cmd_noop, cmd_logout, cmd_id, cmd_enable;
/* cmd_auth.c */
imapd_handler cmd_starttls, cmd_authenticate, cmd_login;
/* cmd_select.c */
imapd_handler cmd_select, cmd_examine, cmd_close, cmd_unselect, cmd_check,
    cmd_expunge, cmd_idle;
/* Leave the selected state (no expunge); safe when nothing is selected. */
void imapd_unselect(struct imapd_session *s);
/* Re-read the selected mailbox and send the untagged EXISTS, RECENT,
 * FETCH FLAGS and (where `cmd` allows, RFC 3501 7.4.1) EXPUNGE responses
 * for changes not yet reported; `cmd` NULL: between commands (IDLE).
 * imapd_ok() calls it; handlers with their own tagged OK call it first. */
void imapd_report_updates(struct imapd_session *s, struct imapd_cmd *cmd);
/* A CONDSTORE enabling command (RFC 7162 3.1) was issued: MODSEQ goes in
 * every FETCH from now on; the first one with a mailbox selected sends
 * "* OK [HIGHESTMODSEQ n]". */
void imapd_condstore_enable(struct imapd_session *s);
/* A mod-sequence (1 to 2^63-1, or 0 when `allow_zero`); 0 or -1. */
int imapd_parse_modseq(const char *str, int allow_zero, uint64_t *out);
/* cmd_fetch.c */
imapd_handler cmd_fetch;
/* cmd_store.c */
imapd_handler cmd_store;
/* cmd_search.c */
imapd_handler cmd_search;
/* cmd_copy.c */
imapd_handler cmd_copy, cmd_move;
/* cmd_mailbox.c, cmd_list.c, cmd_append.c, cmd_acl.c, cmd_quota.c */
imapd_handler cmd_create, cmd_delete, cmd_rename, cmd_subscribe,
    cmd_unsubscribe, cmd_namespace, cmd_status, cmd_list, cmd_lsub,
    cmd_append, cmd_setacl, cmd_deleteacl, cmd_getacl, cmd_listrights,
    cmd_myrights, cmd_getquota, cmd_getquotaroot, cmd_setquota;
/* cmd_metadata.c */
imapd_handler cmd_getmetadata, cmd_setmetadata;

/* STATUS items (cmd_mailbox.c), shared with LIST-STATUS (cmd_list.c). */
enum imapd_status_item {
    STATUS_MESSAGES,
    STATUS_RECENT,
    STATUS_UIDNEXT,
    STATUS_UIDVALIDITY,
    STATUS_UNSEEN,
    STATUS_SIZE,          /* RFC 8438 */
    STATUS_MAILBOXID,     /* RFC 8474 */
    STATUS_HIGHESTMODSEQ, /* RFC 7162 */
    STATUS_NITEMS
};
struct imapd_status_items {
    unsigned char order[32]; /* as asked, repeats kept */
    int n;
    unsigned want;           /* 1 << enum imapd_status_item */
};
/* Read "(" status-att *(SP status-att) ")" into `items` and the next
 * character into *cp; 0, or -1 after answering BAD. */
int imapd_status_parse(struct imapd_session *s, struct imapd_cmd *cmd,
                       struct imapd_status_items *items, int *cp);
/* Write "* STATUS <extname> (...)" for a resolved mailbox on which the
 * session needs 'r'; nothing is written on error. */
enum imapd_error imapd_status_write(struct imapd_session *s,
                                    const char *extname,
                                    const struct imapd_mbox *mb,
                                    const struct imapd_status_items *items);

#endif
