/* cmd_session.c -- commands about the session itself: CAPABILITY, NOOP,
 * LOGOUT, ID (RFC 2971), ENABLE (RFC 5161), COMPRESS (RFC 4978) and
 * UNAUTHENTICATE (RFC 8437). */
#include "config.h"

#include <string.h>
#include <strings.h>

#include "imap/imapd/imapd.h"
#include "imap/imapd/imapd_commands.h"
#include "lib/log.h"
#include "lib/prot_deflate.h"

/* Names a client may ENABLE, and the session bit for each. */
static const struct {
    const char *name;
    unsigned bit;
} extensions[] = {
    { "CONDSTORE", IMAPD_EXT_CONDSTORE },
    { "QRESYNC", IMAPD_EXT_QRESYNC },
    { "UTF8=ACCEPT", IMAPD_EXT_UTF8_ACCEPT },
    { "IMAP4rev2", IMAPD_EXT_IMAP4REV2 },
};

void imapd_capabilities(struct imapd_session *s, struct buf *out)
{
    const struct imapd_settings *st = s->settings;

    /* RFC 9051 appendix A: both, a client wanting rev2 ENABLEs it. */
    buf_appendcstr(out, "IMAP4rev1 IMAP4rev2");
    buf_appendcstr(out, st->literalminus ? " LITERAL-" : " LITERAL+");
    buf_appendcstr(out, " ID ENABLE");

    if (s->state == IMAPD_NOTAUTH) {
        if (st->tls_ctx && !s->tls_active)
            buf_appendcstr(out, " STARTTLS");
        if (imapd_login_disabled(s))
            buf_appendcstr(out, " LOGINDISABLED");
        if (s->sasl && (s->tls_active || !st->tls_required)) {
            strarray_t mechs = STRARRAY_INITIALIZER;
            int i;

            saslserver_mechanisms(s->sasl, &mechs);
            for (i = 0; i < mechs.count; i++)
                buf_printf(out, " AUTH=%s", mechs.data[i]);
            strarray_fini(&mechs);
        }
        buf_appendcstr(out, " SASL-IR");
    }
    /* The extensions below are listed before authentication too, as
     * Cyrus does: cyradm, for one, asks only then and decides from that
     * answer whether it may use METADATA, LIST-EXTENDED and special use. */
    buf_appendcstr(out, " MOVE");
    /* Selected state (cmd_select.c). */
    buf_appendcstr(out, " IDLE UNSELECT");
    /* Notifications outside commands (cmd_notify.c). */
    buf_appendcstr(out, " NOTIFY");
    /* Search and order (cmd_search.c, cmd_sort.c, cmd_thread.c,
     * context.c). */
    buf_appendcstr(out, " ESEARCH SEARCHRES WITHIN SORT SORT=DISPLAY"
                        " SORT=MODSEQ SORT=UID THREAD=ORDEREDSUBJECT"
                        " THREAD=REFERENCES THREAD=REFS ESORT CONTEXT=SEARCH"
                        " CONTEXT=SORT");
    /* RFC 5255 4.3: SEARCH, SORT and THREAD compare with i;unicode-casemap
     * (lib/charset.h) after MIME and charset decoding, and UTF-8 is a
     * SEARCH charset, so level 1 must be listed. */
    buf_appendcstr(out, " I18NLEVEL=1");
    /* RFC 7162 (cmd_select.c, cmd_fetch.c, cmd_store.c, index.c). */
    buf_appendcstr(out, " CONDSTORE QRESYNC");
    /* Mailbox commands (cmd_mailbox.c, cmd_list.c, cmd_acl.c,
     * cmd_quota.c, cmd_append.c). */
    buf_appendcstr(out, " NAMESPACE CHILDREN UIDPLUS ACL RIGHTS=kxten"
                        " QUOTA QUOTA=RES-STORAGE QUOTA=RES-MESSAGE");
    /* Append and fetch extensions (cmd_append.c, cmd_fetch.c,
     * cmd_urlauth.c). */
    buf_appendcstr(out, " MULTIAPPEND CATENATE BINARY URLAUTH"
                        " URLAUTH=BINARY");
    /* Message attributes (cmd_fetch.c, preview.c, search.c). */
    buf_appendcstr(out, " SAVEDATE PREVIEW");
    /* RFC 7889: one limit for every mailbox, so it is given here. */
    buf_printf(out, " APPENDLIMIT=%u", imapd_append_limit(st));
    /* Session layers (below, RFC 4978 and RFC 8437): neither is offered
     * once compression is on, as a deflate layer cannot be taken off a
     * stream cleanly. */
    if (s->state != IMAPD_NOTAUTH && !prot_compress_active(s->prot))
        buf_appendcstr(out, " COMPRESS=DEFLATE UNAUTHENTICATE");
    /* Listing extensions and METADATA (cmd_list.c, cmd_mailbox.c,
     * cmd_metadata.c). */
    buf_appendcstr(out, " LIST-EXTENDED LIST-STATUS LIST-MYRIGHTS"
                        " SPECIAL-USE CREATE-SPECIAL-USE STATUS=SIZE"
                        " OBJECTID METADATA METADATA-SERVER LIST-METADATA");
    /* UTF-8 mailbox names and quoted strings (RFC 6855; not UTF8=ONLY:
     * IMAP4rev1 clients keep modified UTF-7). */
    buf_appendcstr(out, " UTF8=ACCEPT");
}

void cmd_capability(struct imapd_session *s, struct imapd_cmd *cmd)
{
    struct buf capa = BUF_INITIALIZER;

    imapd_capabilities(s, &capa);
    prot_printf(s->prot, "* CAPABILITY %s\r\n", buf_cstring(&capa));
    buf_free(&capa);
    imapd_ok(s, cmd);
}

void cmd_noop(struct imapd_session *s, struct imapd_cmd *cmd)
{
    imapd_ok(s, cmd);
}

void cmd_logout(struct imapd_session *s, struct imapd_cmd *cmd)
{
    prot_puts(s->prot, "* BYE LOGOUT received\r\n");
    imapd_ok(s, cmd);
    s->state = IMAPD_LOGOUT;
}

/* Write `str` as an IMAP quoted string (ID values are short and come
 * from us or from a previous quoted/literal argument without CR/LF). */
static void print_quoted(struct imapd_session *s, const char *str)
{
    prot_putc('"', s->prot);
    for (; *str; str++) {
        if (*str == '"' || *str == '\\')
            prot_putc('\\', s->prot);
        if (*str != '\r' && *str != '\n')
            prot_putc(*str, s->prot);
    }
    prot_putc('"', s->prot);
}

static void log_client_id(struct imapd_session *s)
{
    struct buf line = BUF_INITIALIZER;
    int i;

    for (i = 0; i + 1 < s->client_id.count; i += 2) {
        buf_printf(&line, " \"%s\" \"%s\"", s->client_id.data[i],
                   s->client_id.data[i + 1]);
    }
    log_notice("client id sessionid=<%s> userid=<%s>:%s", s->session_id,
               s->userid ? s->userid : "", buf_cstring(&line));
    buf_free(&line);
}

/* Read "(" field SP value *(SP field SP value) ")" into s->client_id;
 * the "(" has been read.  Returns 0 with the character after ")" in *cp,
 * or -1 once the error has been answered. */
static int parse_id_list(struct imapd_session *s, struct imapd_cmd *cmd,
                         int *cp)
{
    int c = prot_getc(s->prot);

    /* An empty list is not in the grammar, but harmless. */
    if (c == ')') {
        *cp = prot_getc(s->prot);
        return 0;
    }
    prot_ungetc(c, s->prot);

    for (;;) {
        int is_nil = 0;

        c = imapparse_string(&s->parse, &s->arg1);
        if (c != ' ') {
            imapd_args_error(s, cmd, c, "Invalid field-value pair");
            return -1;
        }
        c = imapparse_nstring(&s->parse, &s->arg2, &is_nil);
        if (c != ' ' && c != ')') {
            imapd_args_error(s, cmd, c, "Invalid field-value pair");
            return -1;
        }
        if (s->arg1.len > IMAPD_ID_MAXFIELD) {
            imapd_bad(s, cmd, c, "field longer than %u octets in Id",
                      IMAPD_ID_MAXFIELD);
            return -1;
        }
        if (s->arg2.len > IMAPD_ID_MAXVALUE) {
            imapd_bad(s, cmd, c, "value longer than %u octets in Id",
                      IMAPD_ID_MAXVALUE);
            return -1;
        }
        if (s->client_id.count / 2 >= IMAPD_ID_MAXPAIRS) {
            imapd_bad(s, cmd, c, "too many (%u) field-value pairs in Id",
                      IMAPD_ID_MAXPAIRS);
            return -1;
        }
        strarray_append(&s->client_id, buf_cstring(&s->arg1));
        strarray_append(&s->client_id, is_nil ? "" : buf_cstring(&s->arg2));
        if (c == ')') {
            *cp = prot_getc(s->prot);
            return 0;
        }
    }
}

void cmd_id(struct imapd_session *s, struct imapd_cmd *cmd)
{
    int c = cmd->c;

    if (c != ' ') {
        imapd_args_missing(s, cmd, c);
        return;
    }
    /* Cyrus answers only the first ID before login. */
    if (s->state == IMAPD_NOTAUTH && s->did_id) {
        imapparse_skipline(&s->parse, c);
        prot_printf(s->prot, "%s OK NIL\r\n", cmd->tag);
        return;
    }

    strarray_truncate(&s->client_id, 0);
    c = prot_getc(s->prot);
    if (c == '(') {
        if (parse_id_list(s, cmd, &c) < 0)
            return;
    }
    else {
        prot_ungetc(c, s->prot);
        c = imapparse_atom(&s->parse, &s->arg1);
        if (c >= 0 && strcasecmp(buf_cstring(&s->arg1), "NIL")) {
            imapd_bad(s, cmd, c, "Invalid parameter list in Id");
            return;
        }
    }
    if (imapd_args_end(s, cmd, c) < 0)
        return;

    if (s->settings->imapidlog && s->client_id.count)
        log_client_id(s);
    if (s->state == IMAPD_NOTAUTH)
        s->did_id = 1;

    if (s->settings->imapidresponse) {
        prot_puts(s->prot, "* ID (\"name\" ");
        print_quoted(s, PACKAGE_NAME);
        prot_puts(s->prot, " \"version\" ");
        print_quoted(s, PACKAGE_VERSION);
        prot_puts(s->prot, ")\r\n");
    }
    else {
        prot_puts(s->prot, "* ID NIL\r\n");
    }
    imapd_ok(s, cmd);
}

void cmd_enable(struct imapd_session *s, struct imapd_cmd *cmd)
{
    struct buf enabled = BUF_INITIALIZER;
    unsigned listed = 0;
    int c = cmd->c;

    if (c != ' ') {
        imapd_args_missing(s, cmd, c);
        return;
    }
    do {
        size_t i;

        c = imapparse_atom(&s->parse, &s->arg1);
        if (c < 0 || !s->arg1.len) {
            if (c >= 0)
                imapd_args_missing(s, cmd, c);
            else
                imapd_args_error(s, cmd, c, NULL);
            buf_free(&enabled);
            return;
        }
        /* Unknown names are ignored, as RFC 5161 requires. */
        for (i = 0; i < sizeof(extensions) / sizeof(extensions[0]); i++) {
            unsigned bit = extensions[i].bit;

            if (strcasecmp(buf_cstring(&s->arg1), extensions[i].name) ||
                !(bit & IMAPD_EXT_AVAILABLE) || ((s->enabled | listed) & bit))
                continue;
            listed |= bit;
            buf_printf(&enabled, " %s", extensions[i].name);
        }
    } while (c == ' ');

    if (imapd_args_end(s, cmd, c) == 0) {
        prot_printf(s->prot, "* ENABLED%s\r\n", buf_cstring(&enabled));
        s->enabled |= listed & ~IMAPD_EXT_CONDSTORE;
        /* UTF-8 in quoted strings from now on (RFC 6855 3, RFC 9051
         * 4.3.1); mailbox names follow imapd_utf8_names(). */
        if (listed & (IMAPD_EXT_UTF8_ACCEPT | IMAPD_EXT_IMAP4REV2))
            s->parse.allow_utf8 = 1;
        /* QRESYNC implies CONDSTORE (RFC 7162 3.2.3). */
        if (listed & (IMAPD_EXT_CONDSTORE | IMAPD_EXT_QRESYNC))
            imapd_condstore_enable(s);
        imapd_ok(s, cmd);
    }
    buf_free(&enabled);
}

/* COMPRESS DEFLATE (RFC 4978): the OK goes out uncompressed, then both
 * directions run through a deflate layer on top of whatever the stream
 * already has (TLS included). */
void cmd_compress(struct imapd_session *s, struct imapd_cmd *cmd)
{
    struct buf err = BUF_INITIALIZER;
    int c = cmd->c;

    if (c != ' ') {
        imapd_args_missing(s, cmd, c);
        return;
    }
    c = imapparse_atom(&s->parse, &s->arg1);
    if (c < 0 || !s->arg1.len) {
        if (c >= 0)
            imapd_args_missing(s, cmd, c);
        else
            imapd_args_error(s, cmd, c, NULL);
        return;
    }
    if (imapd_args_end(s, cmd, c) < 0)
        return;
    if (prot_compress_active(s->prot)) {
        prot_printf(s->prot, "%s NO [COMPRESSIONACTIVE] DEFLATE active via "
                    "COMPRESS\r\n", cmd->tag);
        return;
    }
    if (strcasecmp(buf_cstring(&s->arg1), "DEFLATE")) {
        prot_printf(s->prot, "%s BAD Unknown COMPRESS algorithm: %s\r\n",
                    cmd->tag, buf_cstring(&s->arg1));
        return;
    }
    imapd_report_updates(s, cmd);
    prot_printf(s->prot, "%s OK DEFLATE active\r\n", cmd->tag);
    if (prot_compress_start(s->prot, -1, &err) < 0) {
        /* The client now speaks deflate; nothing sensible can follow. */
        log_error("COMPRESS: %s: %s", s->clienthost, buf_cstring(&err));
        prot_seterror(s->prot, "%s", buf_cstring(&err));
    }
    else {
        log_info("compress: %s DEFLATE SESSIONID=<%s>", s->clienthost,
                 s->session_id);
    }
    buf_free(&err);
}

/* UNAUTHENTICATE (RFC 8437): everything the login set up is let go, as
 * if the connection had just been opened; only TLS and what ID recorded
 * remain.  Not offered under COMPRESS (see imapd_capabilities), where it
 * is refused as an unknown command. */
void cmd_unauthenticate(struct imapd_session *s, struct imapd_cmd *cmd)
{
    if (prot_compress_active(s->prot)) {
        prot_printf(s->prot, "%s BAD Unrecognized command\r\n", cmd->tag);
        return;
    }
    log_notice("unauthenticate: %s %s SESSIONID=<%s>", s->clienthost,
               s->userid ? s->userid : "", s->session_id);
    /* Leaving the mailbox reports nothing more about it (no expunge). */
    imapd_unselect(s);
    if (imapd_session_logout_user(s) < 0) {
        /* RFC 8437 forbids NO; BYE is the way out. */
        prot_puts(s->prot, "* BYE Authentication is unavailable\r\n");
        s->state = IMAPD_LOGOUT;
        return;
    }
    prot_printf(s->prot, "%s OK Completed\r\n", cmd->tag);
}
