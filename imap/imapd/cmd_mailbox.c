/* cmd_mailbox.c -- CREATE, DELETE, RENAME, SUBSCRIBE, UNSUBSCRIBE,
 * NAMESPACE and STATUS (RFC 3501 6.3, RFC 2342). */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "imap/imapd/imapd.h"
#include "imap/imapd/imapd_commands.h"
#include "imap/imapd/imapd_errors.h"
#include "imap/imapd/imapd_mailbox.h"
#include "imap/imapd/imapd_metadata.h"
#include "imap/store/mailbox.h"
#include "imap/store/mboxops.h"
#include "imap/store/seen.h"
#include "imap/store/subs.h"
#include "lib/log.h"
#include "lib/xmalloc.h"

/* Read `n` (1 or 2) mailbox names into arg1 (and arg2) and the line end;
 * 0, or -1 after answering BAD. */
static int read_names(struct imapd_session *s, struct imapd_cmd *cmd, int n)
{
    int c = cmd->c;

    if (c != ' ') {
        imapd_args_missing(s, cmd, c);
        return -1;
    }
    c = imapparse_astring(&s->parse, &s->arg1);
    if (n == 2) {
        if (c != ' ') {
            if (c < 0)
                imapd_args_error(s, cmd, c, NULL);
            else
                imapd_args_missing(s, cmd, c);
            return -1;
        }
        c = imapparse_astring(&s->parse, &s->arg2);
    }
    return imapd_args_end(s, cmd, c);
}

/* RFC 3501 6.3.3: a trailing separator only says children will follow. */
static void strip_trailing_sep(struct imapd_session *s, struct buf *name)
{
    char sep = mboxname_sep(&s->ns);

    if (name->len > 1 && name->s[name->len - 1] == sep)
        buf_truncate(name, name->len - 1);
}

/* CREATE parameters (RFC 4466): "(" name [SP value] ... ")", of which
 * USE (RFC 6154) is known; the "(" has been read.  The special uses go
 * to `uses`, space-separated.  Returns the next character, or -1 after
 * answering BAD. */
static int read_create_params(struct imapd_session *s, struct imapd_cmd *cmd,
                              struct buf *uses)
{
    int c;

    do {
        c = imapparse_atom(&s->parse, &s->arg2);
        if (c < 0) {
            imapd_args_error(s, cmd, c, NULL);
            return -1;
        }
        if (strcasecmp(buf_cstring(&s->arg2), "USE") || c != ' ') {
            imapd_bad(s, cmd, c, "Invalid Create parameter");
            return -1;
        }
        c = prot_getc(s->prot);
        if (c != '(') {
            imapd_bad(s, cmd, c, "Missing special use list in Create");
            return -1;
        }
        c = prot_getc(s->prot);
        if (c != ')') {
            prot_ungetc(c, s->prot);
            do {
                c = imapparse_word(&s->parse, &s->arg2);
                if (c < 0 || s->arg2.s[0] != '\\') {
                    imapd_bad(s, cmd, c, "Invalid special use in Create");
                    return -1;
                }
                if (uses->len)
                    buf_putc(uses, ' ');
                buf_appendbuf(uses, &s->arg2);
            } while (c == ' ');
            if (c != ')') {
                imapd_bad(s, cmd, c, "Missing close parenthesis in Create");
                return -1;
            }
        }
        c = prot_getc(s->prot);
    } while (c == ' ');
    if (c != ')') {
        imapd_bad(s, cmd, c, "Missing close parenthesis in Create");
        return -1;
    }
    return prot_getc(s->prot);
}

/* RFC 9051 6.3.4, 6.3.5: an IMAP4rev2 client that gave a name not in
 * NFC is told the name the server used, as a LIST with OLDNAME. */
static void oldname_list(struct imapd_session *s, const char *intname,
                         const char *uniqueid, int exists)
{
    char *norm;

    if (!(s->enabled & IMAPD_EXT_IMAP4REV2))
        return;
    norm = imapd_name_normalized(s, buf_cstring(&s->arg1));
    if (norm)
        imapd_list_untagged(s, intname, uniqueid, exists,
                            buf_cstring(&s->arg1));
    free(norm);
}

void cmd_create(struct imapd_session *s, struct imapd_cmd *cmd)
{
    struct imapd_mbox mb = IMAPD_MBOX_INITIALIZER;
    struct buf uses = BUF_INITIALIZER, canon = BUF_INITIALIZER;
    struct mboxlist_entry created;
    struct mboxops_settings st;
    struct acl_subject who;
    enum imapd_error e;
    int r, c = cmd->c;

    if (c != ' ') {
        imapd_args_missing(s, cmd, c);
        return;
    }
    c = imapparse_astring(&s->parse, &s->arg1);
    if (c == ' ') {
        c = prot_getc(s->prot);
        if (c != '(') {
            imapd_bad(s, cmd, c, "Invalid Create parameters");
            return;
        }
        c = read_create_params(s, cmd, &uses);
        if (c < 0) {
            buf_free(&uses);
            return;
        }
    }
    if (imapd_args_end(s, cmd, c) < 0) {
        buf_free(&uses);
        return;
    }
    strip_trailing_sep(s, &s->arg1);
    e = imapd_mailbox_resolve(s, buf_cstring(&s->arg1), &mb);
    if (!e && mb.exists && mb.selectable)
        e = IMAPD_ERR_ALREADYEXISTS;
    /* RFC 6154 3: a use that cannot be given means no mailbox at all. */
    if (!e && uses.len)
        e = imapd_specialuse_check(s, mb.intname, NULL, buf_cstring(&uses),
                                   &canon);
    if (e) {
        imapd_no(s, cmd, e);
        imapd_mbox_fini(&mb);
        buf_free(&uses);
        buf_free(&canon);
        return;
    }
    imapd_mailbox_ops(s, &st);
    imapd_mailbox_subject(s, &who);
    memset(&created, 0, sizeof(created));
    r = mboxops_create(&st, &who, mb.intname, NULL, 1, &created);
    /* Existence of a mailbox the user may not see is not told. */
    if (r == MBOXOPS_EXISTS && !mb.exists)
        r = MBOXOPS_NOPERM;
    if (r) {
        imapd_no(s, cmd, imapd_error_mboxops(r));
    }
    else {
        if (canon.len && created.uniqueid &&
            imapd_specialuse_set(s, created.uniqueid, buf_cstring(&canon)))
            log_error("create: %s: cannot store special use", mb.intname);
        log_notice("create: %s %s", s->userid, mb.intname);
        oldname_list(s, mb.intname, created.uniqueid, 1);
        imapd_ok(s, cmd);
    }
    mboxlist_entry_fini(&created);
    imapd_mbox_fini(&mb);
    buf_free(&uses);
    buf_free(&canon);
}

void cmd_delete(struct imapd_session *s, struct imapd_cmd *cmd)
{
    struct imapd_mbox mb = IMAPD_MBOX_INITIALIZER;
    struct mboxops_settings st;
    struct acl_subject who;
    enum imapd_error e;
    int r;

    if (read_names(s, cmd, 1) < 0)
        return;
    e = imapd_mailbox_resolve(s, buf_cstring(&s->arg1), &mb);
    if (!e)
        imapd_mailbox_reveal(s, &mb, ACL_DELETEMBOX);
    if (e == IMAPD_ERR_BADNAME || (!e && !mb.exists))
        e = IMAPD_ERR_NONEXISTENT;
    if (e) {
        imapd_no(s, cmd, e);
        imapd_mbox_fini(&mb);
        return;
    }
    imapd_mailbox_ops(s, &st);
    imapd_mailbox_subject(s, &who);
    r = mboxops_delete(&st, &who, mb.intname, 1);
    if (r) {
        imapd_no(s, cmd, imapd_error_mboxops(r));
    }
    else {
        log_notice("delete: %s %s", s->userid, mb.intname);
        oldname_list(s, mb.intname, NULL, 0);
        imapd_ok(s, cmd);
    }
    imapd_mbox_fini(&mb);
}

void cmd_rename(struct imapd_session *s, struct imapd_cmd *cmd)
{
    struct imapd_mbox from = IMAPD_MBOX_INITIALIZER;
    struct imapd_mbox to = IMAPD_MBOX_INITIALIZER;
    struct mboxops_settings st;
    struct acl_subject who;
    enum imapd_error e;
    int r;

    if (read_names(s, cmd, 2) < 0)
        return;
    strip_trailing_sep(s, &s->arg2);
    e = imapd_mailbox_resolve(s, buf_cstring(&s->arg1), &from);
    if (!e)
        imapd_mailbox_reveal(s, &from, ACL_DELETEMBOX);
    if (e == IMAPD_ERR_BADNAME || (!e && !from.selectable))
        e = IMAPD_ERR_NONEXISTENT;
    if (!e) {
        e = imapd_mailbox_resolve(s, buf_cstring(&s->arg2), &to);
        if (!e && to.exists)
            e = IMAPD_ERR_ALREADYEXISTS;
    }
    if (!e) {
        imapd_mailbox_ops(s, &st);
        imapd_mailbox_subject(s, &who);
        r = mboxops_rename(&st, &who, from.intname, to.intname, 1);
        if (r == MBOXOPS_EXISTS && !to.exists)
            r = MBOXOPS_NOPERM;
        e = imapd_error_mboxops(r);
    }
    if (e) {
        imapd_no(s, cmd, e);
    }
    else {
        log_notice("rename: %s %s %s", s->userid, from.intname, to.intname);
        imapd_ok(s, cmd);
    }
    imapd_mbox_fini(&from);
    imapd_mbox_fini(&to);
}

static void change_sub(struct imapd_session *s, struct imapd_cmd *cmd, int add)
{
    struct imapd_mbox mb = IMAPD_MBOX_INITIALIZER;
    const char *configdir = s->settings->mbox.configdir;
    enum imapd_error e;
    int r;

    if (read_names(s, cmd, 1) < 0)
        return;
    e = imapd_mailbox_resolve(s, buf_cstring(&s->arg1), &mb);
    /* As Cyrus: only mailboxes the user can see may be subscribed;
     * anything may be unsubscribed (RFC 4314: no rights needed). */
    if (add && !e && !mb.exists)
        e = IMAPD_ERR_NONEXISTENT;
    if (!add && e == IMAPD_ERR_BADNAME)
        e = IMAPD_ERR_NONEXISTENT;
    if (!e) {
        r = add ? subs_add(configdir, s->userid, mb.intname)
                : subs_remove(configdir, s->userid, mb.intname);
        if (r)
            e = IMAPD_ERR_IOERROR;
    }
    if (e)
        imapd_no(s, cmd, e);
    else
        imapd_ok(s, cmd);
    imapd_mbox_fini(&mb);
}

void cmd_subscribe(struct imapd_session *s, struct imapd_cmd *cmd)
{
    change_sub(s, cmd, 1);
}

void cmd_unsubscribe(struct imapd_session *s, struct imapd_cmd *cmd)
{
    change_sub(s, cmd, 0);
}

void cmd_namespace(struct imapd_session *s, struct imapd_cmd *cmd)
{
    struct buf out = BUF_INITIALIZER;
    struct mboxlist_entry e;
    char *inbox = imapd_mailbox_inbox(s);
    const char *groups;

    mboxname_namespace_response(&s->ns, &out);
    groups = buf_cstring(&out);
    /* As Cyrus: no personal namespace for a user without an INBOX (an
     * admin, usually).  The personal group is the first "((...))", and
     * its prefix ("" or "INBOX" and the separator) holds no "))". */
    memset(&e, 0, sizeof(e));
    if (!inbox || mboxlist_lookup(inbox, &e) != MBOXLIST_OK) {
        const char *end = strstr(groups, ")) ");
        if (end) {
            prot_printf(s->prot, "* NAMESPACE NIL %s\r\n", end + 3);
            groups = NULL;
        }
    }
    else {
        mboxlist_entry_fini(&e);
    }
    free(inbox);
    if (groups)
        prot_printf(s->prot, "* NAMESPACE %s\r\n", groups);
    buf_free(&out);
    imapd_ok(s, cmd);
}

/* --- STATUS --- */

static const char *const status_names[STATUS_NITEMS] = {
    "MESSAGES", "RECENT", "UIDNEXT", "UIDVALIDITY", "UNSEEN", "SIZE",
    "MAILBOXID", "HIGHESTMODSEQ", "DELETED", "APPENDLIMIT",
};

/* Count RECENT and (for a reader who is not the owner) UNSEEN from the
 * records; the owner's unseen count is kept in the index header. */
static int status_counts(struct imapd_session *s, struct mailbox *mbox,
                         const struct imapd_mbox *mb, int want_recent,
                         int want_unseen, uint32_t *recent, uint32_t *unseen)
{
    const struct index_header *h = mailbox_header(mbox);
    struct seendata sd;
    struct seen *seen = NULL;
    int isowner = mboxname_userownsmailbox(&s->ns, s->userid, mb->intname);
    int use_seen = want_unseen && !isowner;

    *recent = 0;
    *unseen = h->unseen;
    memset(&sd, 0, sizeof(sd));
    if (use_seen) {
        *unseen = 0;
        if (seen_open(s->settings->mbox.configdir, s->userid, &seen) ||
            seen_read(seen, mailbox_uniqueid(mbox), &sd)) {
            seen_close(&seen);
            return -1;
        }
    }
    if (!want_recent && !use_seen)
        return 0;
    for (uint32_t i = 0; i < h->num_records; i++) {
        struct index_record rec;

        if (mailbox_read_record(mbox, i, &rec) ||
            (rec.internal_flags & FLAG_INTERNAL_EXPUNGED))
            continue;
        if (rec.uid > h->recent_uid)
            (*recent)++;
        if (use_seen && !seqset_contains(&sd.uids, rec.uid))
            (*unseen)++;
    }
    if (use_seen) {
        seendata_fini(&sd);
        seen_close(&seen);
    }
    return 0;
}

int imapd_status_parse(struct imapd_session *s, struct imapd_cmd *cmd,
                       struct imapd_status_items *items, int *cp)
{
    int c = prot_getc(s->prot);

    memset(items, 0, sizeof(*items));
    if (c != '(') {
        imapd_bad(s, cmd, c, "Missing required argument to %s",
                  cmd->def->name);
        return -1;
    }
    do {
        int i;

        c = imapparse_atom(&s->parse, &s->arg2);
        if (c < 0) {
            imapd_args_error(s, cmd, c, NULL);
            return -1;
        }
        for (i = 0; i < STATUS_NITEMS; i++)
            if (!strcasecmp(buf_cstring(&s->arg2), status_names[i]))
                break;
        if (i == STATUS_NITEMS) {
            imapd_bad(s, cmd, c, "Invalid Status attributes");
            return -1;
        }
        if (items->n < (int)(sizeof(items->order) / sizeof(items->order[0])))
            items->order[items->n++] = (unsigned char)i;
        items->want |= 1u << i;
    } while (c == ' ');
    if (c != ')') {
        imapd_bad(s, cmd, c, "Missing close parenthesis in %s",
                  cmd->def->name);
        return -1;
    }
    /* A CONDSTORE enabling command (RFC 7162 3.1). */
    if (items->want & (1u << STATUS_HIGHESTMODSEQ))
        imapd_condstore_enable(s);
    *cp = prot_getc(s->prot);
    return 0;
}

enum imapd_error imapd_status_write(struct imapd_session *s,
                                    const char *extname,
                                    const struct imapd_mbox *mb,
                                    const struct imapd_status_items *items)
{
    struct buf path = BUF_INITIALIZER;
    struct mailbox *mbox = NULL;
    uint32_t recent = 0, unseen = 0;
    enum imapd_error e;

    e = imapd_mailbox_check(mb, ACL_READ, 0);
    if (!e && imapd_mailbox_path(&mb->entry, &path))
        e = IMAPD_ERR_IOERROR;
    if (!e)
        e = imapd_error_mailbox(mailbox_open(buf_cstring(&path), &mbox));
    buf_free(&path);
    if (!e) {
        e = imapd_error_mailbox(mailbox_lock_shared(mbox));
        if (!e && status_counts(s, mbox, mb,
                                !!(items->want & (1u << STATUS_RECENT)),
                                !!(items->want & (1u << STATUS_UNSEEN)),
                                &recent, &unseen)) {
            mailbox_unlock(mbox);
            e = IMAPD_ERR_IOERROR;
        }
    }
    if (e) {
        if (mbox)
            mailbox_close(&mbox);
        return e;
    }

    const struct index_header *h = mailbox_header(mbox);
    prot_puts(s->prot, "* STATUS ");
    imapd_print_mailbox(s, extname);
    prot_puts(s->prot, " (");
    for (int i = 0; i < items->n; i++) {
        uint64_t v = 0;

        prot_printf(s->prot, "%s%s ", i ? " " : "",
                    status_names[items->order[i]]);
        switch (items->order[i]) {
        case STATUS_MESSAGES: v = h->exists; break;
        case STATUS_RECENT: v = recent; break;
        case STATUS_UIDNEXT: v = h->last_uid + 1; break;
        case STATUS_UIDVALIDITY: v = h->uidvalidity; break;
        case STATUS_UNSEEN: v = unseen; break;
        case STATUS_SIZE: v = h->quota_used; break;
        case STATUS_HIGHESTMODSEQ: v = h->highestmodseq; break;
        case STATUS_DELETED: v = h->deleted; break;
        case STATUS_APPENDLIMIT:
            /* RFC 7889 3.3: the policy alone, not rights or quota. */
            v = imapd_append_limit(s->settings);
            break;
        case STATUS_MAILBOXID:
            /* RFC 8474: the mailbox's unique id, kept across renames. */
            prot_printf(s->prot, "(%s)", mailbox_uniqueid(mbox));
            continue;
        }
        prot_printf(s->prot, "%llu", (unsigned long long)v);
    }
    prot_puts(s->prot, ")\r\n");
    mailbox_unlock(mbox);
    mailbox_close(&mbox);
    return IMAPD_ERR_OK;
}

void cmd_status(struct imapd_session *s, struct imapd_cmd *cmd)
{
    struct imapd_mbox mb = IMAPD_MBOX_INITIALIZER;
    struct imapd_status_items items;
    enum imapd_error e;
    int c = cmd->c;

    c = imapd_arg_astring(s, cmd, c, &s->arg1, 1);
    if (c < 0)
        return;
    if (imapd_status_parse(s, cmd, &items, &c) < 0)
        return;
    if (imapd_args_end(s, cmd, c) < 0)
        return;

    e = imapd_mailbox_need(s, buf_cstring(&s->arg1), ACL_READ, 0, &mb);
    if (!e)
        e = imapd_status_write(s, buf_cstring(&s->arg1), &mb, &items);
    imapd_mbox_fini(&mb);
    if (e)
        imapd_no(s, cmd, e);
    else
        imapd_ok(s, cmd);
}
