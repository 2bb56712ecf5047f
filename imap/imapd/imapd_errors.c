/* imapd_errors.c -- the texts of IMAP errors; see imapd_errors.h. */
#include "config.h"

#include "imap/imapd/imapd_commands.h"
#include "imap/imapd/imapd_errors.h"
#include "imap/store/append.h"
#include "imap/store/mailbox.h"
#include "imap/store/mboxlist.h"
#include "imap/store/mboxops.h"
#include "imap/store/quota.h"

static const char *const texts[IMAPD_ERR_COUNT] = {
    [IMAPD_ERR_OK] = "",
    [IMAPD_ERR_NONEXISTENT] = "[NONEXISTENT] Mailbox does not exist",
    [IMAPD_ERR_TRYCREATE] = "[TRYCREATE] Mailbox does not exist",
    [IMAPD_ERR_NOPERM] = "[NOPERM] Permission denied",
    [IMAPD_ERR_ALREADYEXISTS] = "[ALREADYEXISTS] Mailbox already exists",
    [IMAPD_ERR_BADNAME] = "[CANNOT] Invalid mailbox name",
    [IMAPD_ERR_NOTSELECTABLE] = "[NONEXISTENT] Mailbox does not exist",
    [IMAPD_ERR_HASCHILDREN] =
        "[HASCHILDREN] Mailbox has inferior hierarchical names",
    [IMAPD_ERR_INBOXRENAME] = "[CANNOT] Can't rename to or over an INBOX",
    [IMAPD_ERR_SAMENAME] = "[CANNOT] Can't rename a mailbox to itself",
    [IMAPD_ERR_INTOSELF] = "[CANNOT] Can't move a mailbox into itself",
    [IMAPD_ERR_CROSSPARTITION] =
        "[CANNOT] Can't move mailboxes between partitions",
    [IMAPD_ERR_OVERQUOTA] = "[OVERQUOTA] Over quota",
    [IMAPD_ERR_TOOBIG] = "[TOOBIG] Message too large",
    [IMAPD_ERR_BADMESSAGE] = "[PARSE] Message contains invalid data",
    [IMAPD_ERR_INUSE] = "[INUSE] Mailbox is locked, try again later",
    [IMAPD_ERR_IOERROR] = "[SERVERBUG] System I/O error",
    [IMAPD_ERR_CORRUPT] = "[CORRUPTION] Mailbox is damaged",
    [IMAPD_ERR_TOOMANYFLAGS] = "[LIMIT] Too many user flags in mailbox",
    [IMAPD_ERR_NOQUOTAROOT] = "[NONEXISTENT] Quota root does not exist",
    [IMAPD_ERR_BADQUOTA] = "[CANNOT] Invalid quota resource or limit",
    [IMAPD_ERR_BADRIGHTS] = "[CANNOT] Invalid rights",
    [IMAPD_ERR_BADIDENTIFIER] = "[CANNOT] Invalid identifier",
    [IMAPD_ERR_EXPUNGEISSUED] = "[EXPUNGEISSUED] Some messages were expunged",
    [IMAPD_ERR_NOTFOUND] = "No matching messages",
    [IMAPD_ERR_INTERNAL] = "[SERVERBUG] Internal error",
    [IMAPD_ERR_USEATTR] =
        "[USEATTR] Special-use attribute not supported or already in use",
    [IMAPD_ERR_METADATA_TOOMANY] = "[METADATA TOOMANY] Too many annotations",
    [IMAPD_ERR_BADENTRY] = "[NOPERM] Permission denied",
    [IMAPD_ERR_UNKNOWNCTE] = "[UNKNOWN-CTE] Can't decode the message part",
    [IMAPD_ERR_BADURL] = "Bad URL",
};

const char *imapd_error_text(enum imapd_error e)
{
    if ((unsigned)e >= IMAPD_ERR_COUNT || !texts[e])
        return texts[IMAPD_ERR_INTERNAL];
    return texts[e];
}

void imapd_no(struct imapd_session *s, struct imapd_cmd *cmd,
              enum imapd_error e)
{
    prot_printf(s->prot, "%s NO %s\r\n", cmd->tag, imapd_error_text(e));
}

enum imapd_error imapd_error_mboxlist(int r)
{
    switch (r) {
    case MBOXLIST_OK: return IMAPD_ERR_OK;
    case MBOXLIST_NOTFOUND: return IMAPD_ERR_NONEXISTENT;
    case MBOXLIST_EXISTS: return IMAPD_ERR_ALREADYEXISTS;
    case MBOXLIST_BADNAME: return IMAPD_ERR_BADNAME;
    case MBOXLIST_AGAIN: return IMAPD_ERR_INUSE;
    default: return IMAPD_ERR_IOERROR;
    }
}

enum imapd_error imapd_error_mailbox(int r)
{
    switch (r) {
    case MAILBOX_OK: return IMAPD_ERR_OK;
    case MAILBOX_ENOENT: return IMAPD_ERR_NONEXISTENT;
    case MAILBOX_EXISTS: return IMAPD_ERR_ALREADYEXISTS;
    case MAILBOX_CORRUPT: return IMAPD_ERR_CORRUPT;
    case MAILBOX_LOCKED: return IMAPD_ERR_INUSE;
    case MAILBOX_TOOMANYFLAGS: return IMAPD_ERR_TOOMANYFLAGS;
    case MAILBOX_BADFORMAT: return IMAPD_ERR_BADMESSAGE;
    default: return IMAPD_ERR_IOERROR;
    }
}

enum imapd_error imapd_error_quota(int r)
{
    switch (r) {
    case QUOTA_OK: return IMAPD_ERR_OK;
    case QUOTA_NOTFOUND: return IMAPD_ERR_NOQUOTAROOT;
    case QUOTA_EXCEEDED: return IMAPD_ERR_OVERQUOTA;
    default: return IMAPD_ERR_IOERROR;
    }
}

enum imapd_error imapd_error_append(int r)
{
    switch (r) {
    case APPEND_OK: return IMAPD_ERR_OK;
    case APPEND_TOOBIG: return IMAPD_ERR_TOOBIG;
    case APPEND_OVERQUOTA: return IMAPD_ERR_OVERQUOTA;
    case APPEND_BADMESSAGE: return IMAPD_ERR_BADMESSAGE;
    default: return IMAPD_ERR_IOERROR;
    }
}

enum imapd_error imapd_error_mboxops(int r)
{
    switch (r) {
    case MBOXOPS_OK: return IMAPD_ERR_OK;
    case MBOXOPS_NOTFOUND: return IMAPD_ERR_NONEXISTENT;
    case MBOXOPS_EXISTS: return IMAPD_ERR_ALREADYEXISTS;
    case MBOXOPS_BADNAME: return IMAPD_ERR_BADNAME;
    case MBOXOPS_NOPERM: return IMAPD_ERR_NOPERM;
    case MBOXOPS_OVERQUOTA: return IMAPD_ERR_OVERQUOTA;
    case MBOXOPS_INUSE: return IMAPD_ERR_INUSE;
    case MBOXOPS_HASCHILDREN: return IMAPD_ERR_HASCHILDREN;
    case MBOXOPS_SAMENAME: return IMAPD_ERR_SAMENAME;
    case MBOXOPS_INTOSELF: return IMAPD_ERR_INTOSELF;
    case MBOXOPS_INBOX: return IMAPD_ERR_INBOXRENAME;
    case MBOXOPS_PARTITION: return IMAPD_ERR_CROSSPARTITION;
    default: return IMAPD_ERR_IOERROR;
    }
}
