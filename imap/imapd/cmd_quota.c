/* cmd_quota.c -- GETQUOTA, GETQUOTAROOT and SETQUOTA (RFC 9208, answering
 * in the RFC 2087 form older clients parse). */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "imap/imapd/imapd.h"
#include "imap/imapd/imapd_commands.h"
#include "imap/imapd/imapd_errors.h"
#include "imap/imapd/imapd_mailbox.h"
#include "imap/store/mboxops.h"
#include "imap/store/quota.h"
#include "lib/log.h"
#include "lib/util.h"
#include "lib/xmalloc.h"

/* "* QUOTA root (RES used limit ...)" for the resources with a limit;
 * STORAGE is shown in KiB as the protocol counts it. */
static void print_quota(struct imapd_session *s, const char *extroot,
                        const struct quota *q)
{
    int first = 1;

    prot_puts(s->prot, "* QUOTA ");
    imapd_print_mailbox(s, extroot);
    prot_puts(s->prot, " (");
    for (int res = 0; res < QUOTA_NUMRESOURCES; res++) {
        int64_t used = q->used[res];

        if (q->limit[res] < 0)
            continue;
        if (res == QUOTA_STORAGE || res == QUOTA_ANNOTSTORAGE)
            used /= 1024;
        prot_printf(s->prot, "%s%s %lld %lld", first ? "" : " ",
                    quota_resource_name(res), (long long)used,
                    (long long)q->limit[res]);
        first = 0;
    }
    prot_puts(s->prot, ")\r\n");
}

/* May the session see quota root `root` (internal)? */
static int may_see_root(struct imapd_session *s, const char *root)
{
    struct mboxlist_entry e;
    int ok = 0;

    if (s->isadmin || mboxname_userownsmailbox(&s->ns, s->userid, root))
        return 1;
    memset(&e, 0, sizeof(e));
    if (mboxlist_lookup(root, &e) == MBOXLIST_OK) {
        ok = (imapd_mailbox_rights(s, root, e.acl) & ACL_READ) != 0;
        mboxlist_entry_fini(&e);
    }
    return ok;
}

/* A quota root is a mailbox (of any type) or a whole domain ("d!"); as
 * in Cyrus, SETQUOTA does not make roots for names nobody created. */
static int root_exists(const char *root)
{
    struct mboxlist_entry e;
    size_t len = strlen(root);

    if (len && root[len - 1] == '!')
        return 1;
    memset(&e, 0, sizeof(e));
    if (mboxlist_lookup(root, &e) != MBOXLIST_OK)
        return 0;
    mboxlist_entry_fini(&e);
    return 1;
}

static int read_one(struct imapd_session *s, struct imapd_cmd *cmd)
{
    int c = cmd->c;

    if (c != ' ') {
        imapd_args_missing(s, cmd, c);
        return -1;
    }
    c = imapparse_astring(&s->parse, &s->arg1);
    return imapd_args_end(s, cmd, c);
}

void cmd_getquota(struct imapd_session *s, struct imapd_cmd *cmd)
{
    struct quota q;
    char *root;

    if (read_one(s, cmd) < 0)
        return;
    root = imapd_mailbox_intname(s, buf_cstring(&s->arg1));
    memset(&q, 0, sizeof(q));
    if (!root || !may_see_root(s, root) || quota_read(root, &q)) {
        imapd_no(s, cmd, IMAPD_ERR_NOQUOTAROOT);
        free(root);
        return;
    }
    print_quota(s, buf_cstring(&s->arg1), &q);
    quota_fini(&q);
    free(root);
    imapd_ok(s, cmd);
}

void cmd_getquotaroot(struct imapd_session *s, struct imapd_cmd *cmd)
{
    struct imapd_mbox mb = IMAPD_MBOX_INITIALIZER;
    struct quota q;
    enum imapd_error e;
    char *root, *extroot = NULL;

    if (read_one(s, cmd) < 0)
        return;
    /* RFC 9208 6: STORAGE and MESSAGE usage need 'r'; admins (who hold
     * only "la" by right) may look anyway, as in Cyrus, so that cyradm's
     * lqr works on every mailbox. */
    e = imapd_mailbox_need(s, buf_cstring(&s->arg1),
                           s->isadmin ? 0 : ACL_READ, 0, &mb);
    if (e) {
        imapd_no(s, cmd, e);
        return;
    }
    root = quota_findroot(mb.intname);
    memset(&q, 0, sizeof(q));
    if (root)
        extroot = imapd_mailbox_extname(s, root);
    prot_puts(s->prot, "* QUOTAROOT ");
    imapd_print_mailbox(s, buf_cstring(&s->arg1));
    if (extroot) {
        prot_putc(' ', s->prot);
        imapd_print_mailbox(s, extroot);
    }
    prot_puts(s->prot, "\r\n");
    if (extroot && !quota_read(root, &q)) {
        print_quota(s, extroot, &q);
        quota_fini(&q);
    }
    free(root);
    free(extroot);
    imapd_mbox_fini(&mb);
    imapd_ok(s, cmd);
}

void cmd_setquota(struct imapd_session *s, struct imapd_cmd *cmd)
{
    int64_t limit[QUOTA_NUMRESOURCES];
    int have[QUOTA_NUMRESOURCES] = { 0 }, any = 0, badres = 0;
    char *root = NULL;
    int c = cmd->c, r;

    for (int i = 0; i < QUOTA_NUMRESOURCES; i++)
        limit[i] = QUOTA_UNLIMITED;
    c = imapd_arg_astring(s, cmd, c, &s->arg1, 1);
    if (c < 0)
        return;
    c = prot_getc(s->prot);
    if (c != '(') {
        imapd_bad(s, cmd, c, "Missing required argument to Setquota");
        return;
    }
    c = prot_getc(s->prot);
    if (c != ')') {
        prot_ungetc(c, s->prot);
        for (;;) {
            int res;
            long long v;

            c = imapparse_atom(&s->parse, &s->arg2);
            if (c != ' ') {
                imapd_bad(s, cmd, c < 0 ? IMAPPARSE_SYNTAX : c,
                          "Invalid quota list in Setquota");
                return;
            }
            res = quota_resource_byname(buf_cstring(&s->arg2));
            if (res < 0 && !strcasecmp(buf_cstring(&s->arg2), "MAILBOX"))
                res = QUOTA_NUMFOLDERS;
            c = imapparse_atom(&s->parse, &s->arg2);
            if (c < 0 || parse_longlong(buf_cstring(&s->arg2), &v) ||
                v < -1) {
                imapd_bad(s, cmd, c < 0 ? IMAPPARSE_SYNTAX : c,
                          "Invalid quota limit in Setquota");
                return;
            }
            if (res < 0) {
                badres = 1;
            }
            else {
                limit[res] = v < 0 ? QUOTA_UNLIMITED : v;
                have[res] = 1;
                any = 1;
            }
            if (c == ')')
                break;
            if (c != ' ') {
                imapd_bad(s, cmd, c, "Invalid quota list in Setquota");
                return;
            }
        }
    }
    c = prot_getc(s->prot);
    if (imapd_args_end(s, cmd, c) < 0)
        return;

    if (!s->isadmin) {
        imapd_no(s, cmd, IMAPD_ERR_NOPERM);
        return;
    }
    if (badres) {
        imapd_no(s, cmd, IMAPD_ERR_BADQUOTA);
        return;
    }
    root = imapd_mailbox_intname(s, buf_cstring(&s->arg1));
    if (!root) {
        imapd_no(s, cmd, IMAPD_ERR_NONEXISTENT);
        return;
    }
    if (!root_exists(root)) {
        imapd_no(s, cmd, IMAPD_ERR_NONEXISTENT);
        free(root);
        return;
    }
    if (!any) {
        /* An empty list removes the root, as Cyrus does. */
        r = quota_delete(root);
        r = r == QUOTA_NOTFOUND ? 0 : r;
        if (r)
            imapd_no(s, cmd, imapd_error_quota(r));
        else
            imapd_ok(s, cmd);
        free(root);
        return;
    }
    r = mboxops_setquota(root, limit, have);
    if (r) {
        imapd_no(s, cmd, imapd_error_mboxops(r));
    }
    else {
        log_notice("setquota: %s %s", s->userid, root);
        imapd_ok(s, cmd);
    }
    free(root);
}
