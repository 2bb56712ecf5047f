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

/* Read the SP and the astring argument that follow `c` into `out`; with
 * `more`, another argument must follow (a SP after it).  Returns the
 * character after the astring, or -1 after answering BAD. */
int imapd_arg_astring(struct imapd_session *s, struct imapd_cmd *cmd, int c,
                      struct buf *out, int more);
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
imapd_handler cmd_capability, cmd_noop, cmd_logout, cmd_id, cmd_enable,
    cmd_compress, cmd_unauthenticate;
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
/* A FETCH attribute list kept for later (NOTIFY MessageNew). */
struct imapd_fetch_att;
/* Read fetch-att or "(" fetch-att *(SP fetch-att) ")" from the stream
 * into *fap; the character after it, or a negative IMAPPARSE code with
 * s->parse.error set (nothing allocated). */
int imapd_fetch_att_parse(struct imapd_session *s,
                          struct imapd_fetch_att **fap);
void imapd_fetch_att_free(struct imapd_fetch_att **fap);
/* Send "* n FETCH (UID ...)" with the attributes for the selected
 * mailbox's messages first..last (sequence numbers), never setting
 * \Seen. */
void imapd_fetch_att_send(struct imapd_session *s,
                          const struct imapd_fetch_att *fa, uint32_t first,
                          uint32_t last);
struct message;
/* BINARY[spec] of `msg` (RFC 3516; also URLFETCH BINARY, RFC 5524):
 * `data` and `len` are set to the section with its content transfer
 * encoding undone, in the message bytes, `synth` or `decoded`;
 * `decoded_part` (if not NULL) to the part whose encoding was undone,
 * else MESSAGE_NONE.  1; 0 when `spec` names a part that is not there;
 * -1 when the part's encoding is unknown (the section left undecoded). */
int imapd_binary_section(const struct message *msg, const char *spec,
                         struct buf *synth, struct buf *decoded,
                         const char **data, size_t *len,
                         uint32_t *decoded_part);
/* cmd_notify.c (RFC 5465) */
imapd_handler cmd_notify;
/* cmd_store.c */
imapd_handler cmd_store;
/* cmd_search.c (CANCELUPDATE: RFC 5267 4.3.5) */
imapd_handler cmd_search, cmd_cancelupdate;

/* Shared by SEARCH, SORT and THREAD (cmd_search.c). */
struct index_record;
struct search_program;
struct search_return;
/* Messages found, in the order they are to be reported: the number the
 * client gets (UID or sequence number), the UID and the modseq. */
struct imapd_search_result {
    uint32_t *nums;
    uint32_t *uids;
    uint64_t *modseqs;
    size_t count, alloc;
};
#define IMAPD_SEARCH_RESULT_INITIALIZER { NULL, NULL, NULL, 0, 0 }
void imapd_search_result_add(struct imapd_search_result *res, uint32_t num,
                             uint32_t uid, uint64_t modseq);
void imapd_search_result_fini(struct imapd_search_result *res);
/* Parse the search program after `c` (RETURN options into *ret when
 * `ret` is non-NULL, `charset` as search_parse_ext()) through the end of
 * the line.  0, or -1 after answering BAD or NO [BADCHARSET]. */
int imapd_search_parse(struct imapd_session *s, struct imapd_cmd *cmd,
                       int c, struct search_return *ret, const char *charset,
                       struct search_program **progp);
/* Called for each message that matches, under the mailbox's shared lock
 * (so the cache can be read), with the record as this session sees it
 * (flags, modseq). */
typedef void imapd_search_fn(struct index_view *v, uint32_t msgno,
                             const struct index_record *rec, void *rock);
/* Bind the program to the selected mailbox (and "$") and call `fn` for
 * each match in mailbox order.  0 or a MAILBOX_* error. */
int imapd_search_run(struct index_view *v, struct search_program *prog,
                     imapd_search_fn *fn, void *rock);
/* Does message `msgno` match the (bound) program?  *rec gets its record
 * as this session sees it.  Under index_lock(); 1 or 0. */
int imapd_search_match(struct index_view *v, struct search_program *prog,
                       uint32_t msgno, struct index_record *rec);
/* Answer the RETURN options for a result (in its reported order: MIN
 * is the first, MAX the last): set "$" for SAVE and write the ESEARCH
 * response (RFC 4731, RFC 5267 3.1 and 4.4), with MODSEQ when `modseq`.
 * UPDATE is the caller's (context.h). */
void imapd_search_return(struct imapd_session *s, struct imapd_cmd *cmd,
                         const struct search_return *ret,
                         const struct imapd_search_result *res, int modseq);
/* The plain answer "* <name> n n ..." (name: SEARCH or SORT), ending in
 * "(MODSEQ m)" with the highest modseq found when `modseq` and not empty
 * (RFC 7162 3.1.5, 3.1.6). */
void imapd_search_write_plain(struct imapd_session *s, const char *name,
                              const struct imapd_search_result *res,
                              int modseq);
/* After the search of a RETURN (UPDATE) command has run: keep *progp
 * (and, for SORT, its criteria and *setp) as an update context of the selected mailbox,
 * or answer NOUPDATE when there are too many (RFC 5267 4.3.1). */
struct sort_criteria;
struct sort_set;
void imapd_search_update(struct imapd_session *s, struct imapd_cmd *cmd,
                         struct search_program **progp,
                         const struct sort_criteria *crit,
                         struct sort_set **setp,
                         const struct imapd_search_result *res);
/* RFC 5267 4.3: BAD for a RETURN (UPDATE) whose tag already names an
 * update context; 0 when the command may go on, -1 once answered. */
int imapd_search_check_tag(struct imapd_session *s, struct imapd_cmd *cmd,
                           const struct search_return *ret);
/* cmd_sort.c, cmd_thread.c */
imapd_handler cmd_sort, cmd_thread;
/* The cached ENVELOPE and (when `hdrs` is non-NULL) cached header lines
 * of a record, under the view's lock; built from the message file into
 * `scratch` when the cache has no usable entry.  0 or -1. */
int imapd_cache_items(struct index_view *v, const struct index_record *rec,
                      struct buf *scratch, const char **env, size_t *envlen,
                      const char **hdrs, size_t *hdrslen);
/* The sent date SORT and THREAD use (RFC 5256 2.2). */
int64_t imapd_sent_date(const struct index_record *rec);
/* Add a record (read under the view's lock) to a sort set, reporting
 * `num`; `envelope` when the criteria need the ENVELOPE.  Ties are
 * broken by UID, which orders as sequence numbers do and outlives
 * expunges (update contexts keep their sets).  `scratch` is working
 * space. */
void imapd_sort_add(struct sort_set *set, struct index_view *v,
                    const struct index_record *rec, uint32_t num,
                    int envelope, struct buf *scratch);
/* cmd_copy.c */
imapd_handler cmd_copy, cmd_move;
/* cmd_mailbox.c, cmd_list.c, cmd_append.c, cmd_acl.c, cmd_quota.c */
imapd_handler cmd_create, cmd_delete, cmd_rename, cmd_subscribe,
    cmd_unsubscribe, cmd_namespace, cmd_status, cmd_list, cmd_lsub,
    cmd_append, cmd_setacl, cmd_deleteacl, cmd_getacl, cmd_listrights,
    cmd_myrights, cmd_getquota, cmd_getquotaroot, cmd_setquota;
/* cmd_metadata.c */
imapd_handler cmd_getmetadata, cmd_setmetadata;
/* cmd_urlauth.c */
imapd_handler cmd_genurlauth, cmd_resetkey, cmd_urlfetch;
struct imapurl;
/* Append the bytes a message or part URL names to `out`, read with the
 * rights of `owner` in `owner`'s namespace (NULL: the session's user; a
 * URL without a mailbox then names the selected one).  0; -1 when the
 * URL names nothing that user may read; -2 when `out` would pass
 * `limit` bytes. */
int imapd_url_fetch(struct imapd_session *s, const struct imapurl *u,
                    const char *owner, uint64_t limit, struct buf *out);

/* The largest message APPEND accepts (cmd_append.c): maxmessagesize,
 * at most the 4 GB IMAP bound (RFC 4469 4.2); the same for every
 * mailbox, so CAPABILITY carries it as APPENDLIMIT= (RFC 7889). */
uint32_t imapd_append_limit(const struct imapd_settings *st);

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
    STATUS_DELETED,       /* RFC 9051: messages with \Deleted */
    STATUS_APPENDLIMIT,   /* RFC 7889 */
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
/* One untagged LIST outside the LIST command (cmd_list.c), as IMAP4rev2
 * asks of SELECT, CREATE and DELETE (RFC 9051 6.3.2, 6.3.4, 6.3.5): for
 * an existing mailbox `intname` its child and special-use attributes,
 * else \NonExistent; ("OLDNAME" (`oldname`)) when `oldname` is not
 * NULL, the name the client gave before normalisation. */
void imapd_list_untagged(struct imapd_session *s, const char *intname,
                         const char *uniqueid, int exists,
                         const char *oldname);

#endif
