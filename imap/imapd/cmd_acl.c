/* cmd_acl.c -- SETACL, DELETEACL, GETACL, LISTRIGHTS and MYRIGHTS
 * (RFC 4314 section 3). */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "imap/imapd/imapd.h"
#include "imap/imapd/imapd_commands.h"
#include "imap/imapd/imapd_errors.h"
#include "imap/imapd/imapd_mailbox.h"
#include "imap/store/mboxops.h"
#include "lib/log.h"
#include "lib/xmalloc.h"

/* Read `n` astrings (mailbox, identifier, rights) and the line end into
 * arg1, arg2 and *third; 0, or -1 after answering BAD. */
static int read_args(struct imapd_session *s, struct imapd_cmd *cmd, int n,
                     struct buf *third)
{
    struct buf *dst[3] = { &s->arg1, &s->arg2, third };
    int c = cmd->c;

    for (int i = 0; i < n; i++) {
        if (c != ' ') {
            if (c < 0)
                imapd_args_error(s, cmd, c, NULL);
            else
                imapd_args_missing(s, cmd, c);
            return -1;
        }
        c = imapparse_astring(&s->parse, dst[i]);
    }
    return imapd_args_end(s, cmd, c);
}

/* The mailbox in arg1 with the 'a' right, or an answered error. */
static int need_admin(struct imapd_session *s, struct imapd_cmd *cmd,
                      struct imapd_mbox *mb)
{
    enum imapd_error e;

    e = imapd_mailbox_resolve(s, buf_cstring(&s->arg1), mb);
    if (!e)
        imapd_mailbox_reveal(s, mb, ACL_ADMIN);
    if (e == IMAPD_ERR_BADNAME || (!e && !mb->exists))
        e = IMAPD_ERR_NONEXISTENT;
    if (!e && !(mb->rights & ACL_ADMIN))
        e = IMAPD_ERR_NOPERM;
    if (e) {
        imapd_no(s, cmd, e);
        imapd_mbox_fini(mb);
        return -1;
    }
    return 0;
}

/* RFC 4314 3: an empty identifier is refused with BAD. */
static int check_identifier(struct imapd_session *s, struct imapd_cmd *cmd)
{
    const char *id = buf_cstring(&s->arg2);

    if (!*id || !strcmp(id, "-") || strpbrk(id, "\t\r\n")) {
        prot_printf(s->prot, "%s BAD Invalid identifier\r\n", cmd->tag);
        return -1;
    }
    return 0;
}

void cmd_setacl(struct imapd_session *s, struct imapd_cmd *cmd)
{
    struct imapd_mbox mb = IMAPD_MBOX_INITIALIZER;
    struct buf rightsarg = BUF_INITIALIZER;
    enum acl_mode mode;
    acl_rights_t rights;
    int bad, r;

    if (read_args(s, cmd, 3, &rightsarg) < 0)
        goto out;
    if (check_identifier(s, cmd) < 0)
        goto out;
    bad = acl_rights_parse_mod(buf_cstring(&rightsarg), &mode, &rights);
    if (bad) {
        /* RFC 4314 2.1: unknown rights are never ignored. */
        prot_printf(s->prot, "%s BAD The %c right is not supported\r\n",
                    cmd->tag, bad);
        goto out;
    }
    if (need_admin(s, cmd, &mb) < 0)
        goto out;
    r = mboxops_setacl(mb.intname, buf_cstring(&s->arg2), mode, rights);
    if (r) {
        imapd_no(s, cmd, imapd_error_mboxops(r));
    }
    else {
        log_notice("setacl: %s %s %s %s", s->userid, mb.intname,
                   buf_cstring(&s->arg2), buf_cstring(&rightsarg));
        imapd_ok(s, cmd);
    }
out:
    imapd_mbox_fini(&mb);
    buf_free(&rightsarg);
}

void cmd_deleteacl(struct imapd_session *s, struct imapd_cmd *cmd)
{
    struct imapd_mbox mb = IMAPD_MBOX_INITIALIZER;
    int r;

    if (read_args(s, cmd, 2, NULL) < 0)
        return;
    if (check_identifier(s, cmd) < 0)
        return;
    if (need_admin(s, cmd, &mb) < 0)
        return;
    r = mboxops_deleteacl(mb.intname, buf_cstring(&s->arg2));
    if (r)
        imapd_no(s, cmd, imapd_error_mboxops(r));
    else
        imapd_ok(s, cmd);
    imapd_mbox_fini(&mb);
}

void cmd_getacl(struct imapd_session *s, struct imapd_cmd *cmd)
{
    struct imapd_mbox mb = IMAPD_MBOX_INITIALIZER;
    struct acl acl = ACL_INITIALIZER;
    char rights[ACL_RIGHTS_MAX];

    if (read_args(s, cmd, 1, NULL) < 0)
        return;
    if (need_admin(s, cmd, &mb) < 0)
        return;
    if (acl_parse(&acl, mb.entry.acl ? mb.entry.acl : "") < 0)
        log_warning("%s: unparsable ACL", mb.intname);
    prot_puts(s->prot, "* ACL ");
    imapd_print_mailbox(s, buf_cstring(&s->arg1));
    for (int i = 0; i < acl.count; i++) {
        const struct acl_entry *en = &acl.entries[i];
        char *id = en->negative ? strconcat("-", en->id, (char *)NULL)
                                : xstrdup(en->id);

        prot_putc(' ', s->prot);
        imapd_print_astring(s->prot, id);
        prot_putc(' ', s->prot);
        imapd_print_astring(s->prot, acl_rights_format(en->rights, rights));
        free(id);
    }
    prot_puts(s->prot, "\r\n");
    acl_fini(&acl);
    imapd_mbox_fini(&mb);
    imapd_ok(s, cmd);
}

void cmd_listrights(struct imapd_session *s, struct imapd_cmd *cmd)
{
    struct imapd_mbox mb = IMAPD_MBOX_INITIALIZER;
    struct acl_mailbox am;
    strarray_t optional = STRARRAY_INITIALIZER;
    char required[ACL_RIGHTS_MAX];
    char *owner;

    if (read_args(s, cmd, 2, NULL) < 0)
        return;
    if (check_identifier(s, cmd) < 0)
        return;
    if (need_admin(s, cmd, &mb) < 0)
        return;
    owner = mboxname_to_userid(mb.intname);
    am.owner = owner;
    am.isinbox = mboxname_isusermailbox(mb.intname, 1);
    acl_listrights(buf_cstring(&s->arg2), &am,
                   s->settings->mbox.implicit_owner, required, &optional);
    prot_puts(s->prot, "* LISTRIGHTS ");
    imapd_print_mailbox(s, buf_cstring(&s->arg1));
    prot_putc(' ', s->prot);
    imapd_print_astring(s->prot, buf_cstring(&s->arg2));
    prot_putc(' ', s->prot);
    imapd_print_string(s->prot, required);
    for (int i = 0; i < optional.count; i++) {
        prot_putc(' ', s->prot);
        imapd_print_astring(s->prot, strarray_nth(&optional, i));
    }
    prot_puts(s->prot, "\r\n");
    strarray_fini(&optional);
    free(owner);
    imapd_mbox_fini(&mb);
    imapd_ok(s, cmd);
}

void cmd_myrights(struct imapd_session *s, struct imapd_cmd *cmd)
{
    struct imapd_mbox mb = IMAPD_MBOX_INITIALIZER;
    char rights[ACL_RIGHTS_MAX];
    enum imapd_error e;

    if (read_args(s, cmd, 1, NULL) < 0)
        return;
    e = imapd_mailbox_resolve(s, buf_cstring(&s->arg1), &mb);
    /* RFC 4314 4: any of l, r, i, k, x, a; with none of them the mailbox
     * is not there for this user at all. */
    if (!e)
        imapd_mailbox_reveal(s, &mb, ACL_LOOKUP | ACL_READ | ACL_INSERT |
                                         ACL_CREATE | ACL_DELETEMBOX |
                                         ACL_ADMIN);
    if (e == IMAPD_ERR_BADNAME || (!e && !mb.exists))
        e = IMAPD_ERR_NONEXISTENT;
    if (e) {
        imapd_no(s, cmd, e);
        imapd_mbox_fini(&mb);
        return;
    }
    prot_puts(s->prot, "* MYRIGHTS ");
    imapd_print_mailbox(s, buf_cstring(&s->arg1));
    prot_putc(' ', s->prot);
    imapd_print_string(s->prot, acl_rights_format(mb.rights, rights));
    prot_puts(s->prot, "\r\n");
    imapd_mbox_fini(&mb);
    imapd_ok(s, cmd);
}
