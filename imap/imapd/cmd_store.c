/* cmd_store.c -- STORE and UID STORE (RFC 3501 6.4.6) with the rights
 * of RFC 4314 section 4: \Seen needs s, \Deleted needs t, every other
 * flag (keywords included) needs w, and a new keyword needs w too.
 * All the messages are changed under one exclusive lock and committed
 * once, before any response says so.  The UNCHANGEDSINCE modifier (RFC
 * 7162 3.1.3) leaves alone, and lists in [MODIFIED], every message whose
 * modseq is above it. */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "imap/imapd/imapd.h"
#include "imap/imapd/imapd_commands.h"
#include "imap/imapd/imapd_errors.h"
#include "imap/imapd/index.h"
#include "lib/log.h"
#include "lib/xmalloc.h"

#define NUSER (MAILBOX_MAX_USER_FLAGS / 32)

static const struct {
    const char *name;
    uint32_t bit;
} sysflags[] = {
    { "\\Answered", FLAG_ANSWERED }, { "\\Flagged", FLAG_FLAGGED },
    { "\\Deleted", FLAG_DELETED },   { "\\Draft", FLAG_DRAFT },
    { "\\Seen", FLAG_SEEN },
};

/* A keyword is an atom: no atom-specials, no ']' (RFC 3501 9). */
static int valid_keyword(const char *s)
{
    if (!*s)
        return 0;
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch <= ' ' || ch >= 0x7f || strchr("(){%*\"\\]", ch))
            return 0;
    }
    return 1;
}

struct store_req {
    enum index_store_op op;
    int silent;
    int unchangedsince;          /* the modifier was given */
    uint64_t maxmodseq;          /* and its value */
    uint32_t sys;
    strarray_t keywords;
};

/* Parse the flags after "STORE set item SP": a parenthesised list or
 * flags separated by spaces.  Returns the character after them, or a
 * negative code after answering. */
static int parse_flags(struct imapd_session *s, struct imapd_cmd *cmd,
                       struct store_req *req)
{
    int c = prot_getc(s->prot), paren = 0;
    size_t i;

    if (c == '(') {
        paren = 1;
        c = prot_getc(s->prot);
        if (c == ')')
            return prot_getc(s->prot);
    }
    prot_ungetc(c, s->prot);
    for (;;) {
        const char *flag;

        c = imapparse_word(&s->parse, &s->arg2);
        if (c < 0) {
            imapd_args_error(s, cmd, c, NULL);
            return -1;
        }
        flag = buf_cstring(&s->arg2);
        if (!*flag) {
            imapd_bad(s, cmd, c, "Missing required argument to %s",
                      cmd->def->name);
            return -1;
        }
        if (flag[0] == '\\') {
            for (i = 0; i < sizeof(sysflags) / sizeof(sysflags[0]); i++) {
                if (!strcasecmp(flag, sysflags[i].name))
                    break;
            }
            if (i == sizeof(sysflags) / sizeof(sysflags[0])) {
                imapd_bad(s, cmd, c, "Invalid system flag in %s command",
                          cmd->def->name);
                return -1;
            }
            req->sys |= sysflags[i].bit;
        }
        else if (!valid_keyword(flag)) {
            imapd_bad(s, cmd, c, "Invalid flag name %.100s in %s command",
                      flag, cmd->def->name);
            return -1;
        }
        else if (strarray_find(&req->keywords, flag, 1) < 0) {
            strarray_append(&req->keywords, flag);
        }
        if (paren && c == ')')
            return prot_getc(s->prot);
        if (c != ' ')
            break;
    }
    if (paren) {
        imapd_bad(s, cmd, c, "Missing close parenthesis in %s",
                  cmd->def->name);
        return -1;
    }
    return c;
}

/* "(UNCHANGEDSINCE n)" SP after the set, the '(' read (RFC 4466 store
 * modifiers); returns the character after the ')' or -1 once answered. */
static int parse_modifiers(struct imapd_session *s, struct imapd_cmd *cmd,
                           struct store_req *req)
{
    int c;

    for (;;) {
        c = imapparse_atom(&s->parse, &s->arg2);
        if (c < 0) {
            imapd_args_error(s, cmd, c, NULL);
            return -1;
        }
        if (strcasecmp(buf_cstring(&s->arg2), "UNCHANGEDSINCE") ||
            req->unchangedsince || c != ' ') {
            imapd_bad(s, cmd, c, "Invalid %s modifier", cmd->def->name);
            return -1;
        }
        c = imapparse_atom(&s->parse, &s->arg2);
        if (c < 0) {
            imapd_args_error(s, cmd, c, NULL);
            return -1;
        }
        if (imapd_parse_modseq(buf_cstring(&s->arg2), 1, &req->maxmodseq)) {
            imapd_bad(s, cmd, c, "Invalid mod-sequence in %s",
                      cmd->def->name);
            return -1;
        }
        req->unchangedsince = 1;
        if (c == ')')
            return prot_getc(s->prot);
        if (c != ' ') {
            imapd_bad(s, cmd, c, "Invalid %s modifier", cmd->def->name);
            return -1;
        }
    }
}

/* Has message `m` changed since the client's UNCHANGEDSINCE?  Under the
 * exclusive lock. */
static int modified_since(struct index_view *v, uint32_t m, uint64_t since)
{
    struct index_record rec;

    if (index_record(v, m, &rec))
        return 0;
    return rec.modseq > since;
}

void cmd_store(struct imapd_session *s, struct imapd_cmd *cmd)
{
    struct index_view *v = s->selected;
    struct store_req req;
    struct seqset msgnos = SEQSET_INITIALIZER, told = SEQSET_INITIALIZER;
    struct seqset modified = SEQSET_INITIALIZER;
    uint32_t user[NUSER] = { 0 }, mask_user[NUSER], mask_sys = 0;
    acl_rights_t rights = index_write_rights(v);
    enum imapd_error e = IMAPD_ERR_OK;
    struct buf flags = BUF_INITIALIZER;
    const char *item;
    size_t i;
    int c, r = 0, k;

    memset(&req, 0, sizeof(req));
    if (cmd->c != ' ') {
        imapd_args_missing(s, cmd, cmd->c);
        return;
    }
    c = imapparse_word(&s->parse, &s->arg1);
    if (c < 0) {
        imapd_args_error(s, cmd, c, NULL);
        return;
    }
    if (c != ' ') {
        imapd_args_missing(s, cmd, c);
        return;
    }
    if (index_parse_set(v, buf_cstring(&s->arg1), cmd->uid, &msgnos) < 0) {
        imapd_bad(s, cmd, c, "Invalid sequence in %s", cmd->def->name);
        goto out;
    }
    c = prot_getc(s->prot);
    if (c == '(') {
        c = parse_modifiers(s, cmd, &req);
        if (c < 0)
            goto out;
        if (c != ' ') {
            imapd_args_missing(s, cmd, c);
            goto out;
        }
    }
    else {
        prot_ungetc(c, s->prot);
    }
    c = imapparse_word(&s->parse, &s->arg1);
    if (c < 0) {
        imapd_args_error(s, cmd, c, NULL);
        goto out;
    }
    item = buf_cstring(&s->arg1);
    req.op = INDEX_STORE_SET;
    if (*item == '+' || *item == '-') {
        req.op = *item == '+' ? INDEX_STORE_ADD : INDEX_STORE_REMOVE;
        item++;
    }
    if (!strcasecmp(item, "FLAGS.SILENT"))
        req.silent = 1;
    else if (strcasecmp(item, "FLAGS")) {
        imapd_bad(s, cmd, c, "Invalid %s attribute", cmd->def->name);
        goto out;
    }
    if (c != ' ') {
        imapd_args_missing(s, cmd, c);
        goto out;
    }
    c = parse_flags(s, cmd, &req);
    if (c < 0)
        goto out;
    if (imapd_args_end(s, cmd, c) < 0)
        goto out;
    if (req.unchangedsince)
        imapd_condstore_enable(s);

    /* Rights for what is named; FLAGS (replace) leaves alone what the
     * user may not change. */
    if (((req.sys & FLAG_SEEN) && !(rights & ACL_SETSEEN)) ||
        ((req.sys & FLAG_DELETED) && !(rights & ACL_DELETEMSG)) ||
        ((req.sys & ~(FLAG_SEEN | FLAG_DELETED)) && !(rights & ACL_WRITE)) ||
        (req.keywords.count && !(rights & ACL_WRITE)) ||
        (req.op == INDEX_STORE_SET &&
         !(rights & (ACL_SETSEEN | ACL_DELETEMSG | ACL_WRITE)))) {
        e = IMAPD_ERR_NOPERM;
        goto answer;
    }
    if (rights & ACL_SETSEEN)
        mask_sys |= FLAG_SEEN;
    if (rights & ACL_DELETEMSG)
        mask_sys |= FLAG_DELETED;
    if (rights & ACL_WRITE)
        mask_sys |= FLAG_ANSWERED | FLAG_FLAGGED | FLAG_DRAFT;
    memset(mask_user, (rights & ACL_WRITE) ? 0xff : 0, sizeof(mask_user));

    if ((r = index_lock_exclusive(v))) {
        e = imapd_error_mailbox(r);
        goto answer;
    }
    for (k = 0; k < req.keywords.count; k++) {
        int bit = index_keyword_bit(v, req.keywords.data[k],
                                    req.op != INDEX_STORE_REMOVE);
        if (bit == MAILBOX_TOOMANYFLAGS) {
            e = IMAPD_ERR_TOOMANYFLAGS;
            break;
        }
        if (bit >= 0)
            user[bit / 32] |= 1u << (bit % 32);
    }
    for (i = 0; e == IMAPD_ERR_OK && i < msgnos.count; i++) {
        uint32_t m;
        for (m = msgnos.ranges[i].low; m <= msgnos.ranges[i].high; m++) {
            const struct index_msg *im = index_msg(v, m);
            int changed = 0, ch2 = 0;

            if (!im || im->expunged)
                continue;
            if (req.unchangedsince &&
                modified_since(v, m, req.maxmodseq)) {
                seqset_add(&modified, cmd->uid ? im->uid : m);
                continue;
            }
            if (req.op == INDEX_STORE_SET &&
                (mask_sys != (FLAG_SEEN | FLAG_DELETED | FLAG_ANSWERED |
                              FLAG_FLAGGED | FLAG_DRAFT) ||
                 !(rights & ACL_WRITE))) {
                /* Replace only within what may be changed. */
                uint32_t rm_user[NUSER];
                for (k = 0; k < NUSER; k++)
                    rm_user[k] = mask_user[k] & ~user[k];
                r = index_store_flags(v, m, INDEX_STORE_REMOVE,
                                      mask_sys & ~req.sys, rm_user, &changed);
                if (!r)
                    r = index_store_flags(v, m, INDEX_STORE_ADD, req.sys,
                                          user, &ch2);
            }
            else {
                r = index_store_flags(v, m, req.op, req.sys, user, &changed);
            }
            if (r) {
                e = imapd_error_mailbox(r);
                break;
            }
            /* .SILENT: our own changes go untold (RFC 3501 6.4.6), but
             * a CONDSTORE client hears the new modseq (RFC 7162 3.1.3),
             * and a conditional store tells every message it passed. */
            if (!req.silent || req.unchangedsince ||
                ((changed || ch2) && (s->enabled & IMAPD_EXT_CONDSTORE)))
                seqset_add(&told, m);
        }
    }
    r = index_commit(v);
    if (r && e == IMAPD_ERR_OK)
        e = imapd_error_mailbox(r);
    if (e != IMAPD_ERR_OK)
        goto answer;

    for (i = 0; i < told.count; i++) {
        uint32_t m;
        for (m = told.ranges[i].low; m <= told.ranges[i].high; m++) {
            buf_reset(&flags);
            index_write_flags(v, m, &flags);
            if (s->enabled & IMAPD_EXT_CONDSTORE) {
                /* RFC 7162 3.2.4: UID and MODSEQ in every FETCH. */
                prot_printf(s->prot, "* %u FETCH (UID %u", m,
                            index_uid(v, m));
                if (!req.silent)
                    prot_printf(s->prot, " FLAGS %s", buf_cstring(&flags));
                prot_printf(s->prot, " MODSEQ (%llu))\r\n",
                            (unsigned long long)index_msg(v, m)->modseq);
            }
            else if (cmd->uid)
                prot_printf(s->prot, "* %u FETCH (UID %u FLAGS %s)\r\n", m,
                            index_uid(v, m), buf_cstring(&flags));
            else
                prot_printf(s->prot, "* %u FETCH (FLAGS %s)\r\n", m,
                            buf_cstring(&flags));
        }
    }
answer:
    if (e == IMAPD_ERR_OK && modified.count) {
        buf_reset(&flags);
        seqset_format(&modified, &flags);
        imapd_report_updates(s, cmd);
        prot_printf(s->prot, "%s OK [MODIFIED %s] Conditional %s failed\r\n",
                    cmd->tag, buf_cstring(&flags), cmd->def->name);
    }
    else if (e == IMAPD_ERR_OK)
        imapd_ok(s, cmd);
    else
        imapd_no(s, cmd, e);
out:
    buf_free(&flags);
    seqset_fini(&msgnos);
    seqset_fini(&told);
    seqset_fini(&modified);
    strarray_fini(&req.keywords);
}
