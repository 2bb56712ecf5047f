/* cmd_append.c -- APPEND (RFC 3501 6.3.11) with UIDPLUS's APPENDUID,
 * MULTIAPPEND (RFC 3502), CATENATE (RFC 4469) and literal8 (RFC 3516).
 *
 * A message literal is streamed into a stage file, never held in memory;
 * a CATENATE message is assembled from its TEXT literals and URL parts
 * (bounded by maxmessagesize) and then staged.  Every message of the
 * command is staged before the mailbox is locked, then all are appended
 * in one transaction: either all of them arrive or none does.
 * Everything that can refuse the command without reading a message
 * (syntax, mailbox, rights) is decided before a literal is accepted, and
 * after a refused message no further synchronizing literal is invited.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "imap/imapd/imapd.h"
#include "imap/imapd/imapd_commands.h"
#include "imap/imapd/imapd_errors.h"
#include "imap/imapd/imapd_mailbox.h"
#include "imap/imapd/imapurl.h"
#include "imap/store/append.h"
#include "imap/store/mailbox.h"
#include "imap/store/quota.h"
#include "imap/store/seen.h"
#include "lib/config.h"
#include "lib/log.h"
#include "lib/util.h"
#include "lib/xmalloc.h"

static const char *const months[12] = {
    "Jan", "Feb", "Mar", "Apr", "May", "Jun",
    "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
};

static int digits(const char *p, int n, int *out)
{
    int v = 0;

    for (int i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return -1;
        v = v * 10 + (p[i] - '0');
    }
    *out = v;
    return 0;
}

/* RFC 3501 date-time: "dd-Mon-yyyy hh:mm:ss +zzzz", the day may be
 * " d" (space-padded); 0, the UTC time and the zone in minutes east, or
 * -1. */
static int parse_datetime(const char *s, int64_t *out, int *zone)
{
    struct tm tm;
    int day, mon, year, hh, mm, ss, zh, zm, sign;
    const char *p = s;

    if (strlen(s) != 26)
        return -1;
    if (p[0] == ' ') {
        if (digits(p + 1, 1, &day))
            return -1;
    }
    else if (digits(p, 2, &day)) {
        return -1;
    }
    p += 2;
    if (*p++ != '-')
        return -1;
    for (mon = 0; mon < 12; mon++)
        if (!strncasecmp(p, months[mon], 3))
            break;
    if (mon == 12)
        return -1;
    p += 3;
    if (*p++ != '-' || digits(p, 4, &year))
        return -1;
    p += 4;
    if (*p++ != ' ' || digits(p, 2, &hh) || p[2] != ':' ||
        digits(p + 3, 2, &mm) || p[5] != ':' || digits(p + 6, 2, &ss))
        return -1;
    p += 8;
    if (*p++ != ' ' || (*p != '+' && *p != '-'))
        return -1;
    sign = *p++ == '-' ? -1 : 1;
    if (digits(p, 2, &zh) || digits(p + 2, 2, &zm))
        return -1;
    if (day < 1 || day > 31 || hh > 23 || mm > 59 || ss > 60 || zm > 59 ||
        zh > 23 || year < 1900)
        return -1;

    memset(&tm, 0, sizeof(tm));
    tm.tm_year = year - 1900;
    tm.tm_mon = mon;
    tm.tm_mday = day;
    tm.tm_hour = hh;
    tm.tm_min = mm;
    tm.tm_sec = ss;
    time_t t = timegm(&tm);
    /* timegm normalises 31-Feb into March: such a date is invalid. */
    struct tm back;
    gmtime_r(&t, &back);
    if (back.tm_mday != day || back.tm_mon != mon)
        return -1;
    *out = (int64_t)t - sign * (zh * 3600 + zm * 60);
    *zone = sign * (zh * 60 + zm);
    return 0;
}

struct append_flags {
    uint32_t system;
    strarray_t keywords;
};

static int is_keyword(const char *w)
{
    if (!*w)
        return 0;
    for (const unsigned char *p = (const unsigned char *)w; *p; p++)
        if (*p <= 0x20 || *p >= 0x7f || strchr("(){%*\"\\]", *p))
            return 0;
    return 1;
}

/* Parse a flag list after its '('; returns the char after ')', or -1
 * after answering BAD. */
static int read_flags(struct imapd_session *s, struct imapd_cmd *cmd,
                      struct append_flags *fl)
{
    static const struct { const char *name; uint32_t bit; } sys[] = {
        { "\\Answered", FLAG_ANSWERED }, { "\\Flagged", FLAG_FLAGGED },
        { "\\Deleted", FLAG_DELETED },   { "\\Draft", FLAG_DRAFT },
        { "\\Seen", FLAG_SEEN },
    };
    int c = prot_getc(s->prot);

    if (c == ')')
        return prot_getc(s->prot);
    prot_ungetc(c, s->prot);
    for (;;) {
        const char *w;
        size_t i;

        c = imapparse_word(&s->parse, &s->arg2);
        if (c < 0) {
            imapd_args_error(s, cmd, c, NULL);
            return -1;
        }
        w = buf_cstring(&s->arg2);
        for (i = 0; i < sizeof(sys) / sizeof(sys[0]); i++)
            if (!strcasecmp(w, sys[i].name))
                break;
        if (i < sizeof(sys) / sizeof(sys[0])) {
            fl->system |= sys[i].bit;
        }
        else if (w[0] == '\\' || !is_keyword(w)) {
            /* \Recent too: RFC 3501's "flag" excludes it, and Cyrus
             * refuses it the same way. */
            imapd_bad(s, cmd, c, "Invalid flag name %s in Append", w);
            return -1;
        }
        else if (strarray_find(&fl->keywords, w, 1) < 0) {
            strarray_append(&fl->keywords, w);
        }
        if (c == ')')
            return prot_getc(s->prot);
        if (c != ' ') {
            imapd_bad(s, cmd, c, "Invalid flag list in Append");
            return -1;
        }
    }
}

/* Non-owners keep \Seen in their seen database. */
static void mark_seen(struct imapd_session *s, struct mailbox *mbox,
                      uint32_t uid)
{
    struct seen *seen = NULL;
    struct seendata sd;

    memset(&sd, 0, sizeof(sd));
    if (seen_open(s->settings->mbox.configdir, s->userid, &seen))
        return;
    if (!seen_read(seen, mailbox_uniqueid(mbox), &sd)) {
        seqset_add(&sd.uids, uid);
        sd.lastchange = 0;
        seen_write(seen, mailbox_uniqueid(mbox), &sd);
        seendata_fini(&sd);
    }
    seen_close(&seen);
}

/* One message of the command, staged and waiting for the transaction. */
struct append_msg {
    struct stagemsg *stage;
    struct append_flags fl;
    int64_t internaldate;
    int zone_set;           /* the APPEND gave a date-time, in `zone` */
    int zone;
};

struct append_cmd {
    struct imapd_session *s;
    struct imapd_cmd *cmd;
    struct imapd_mbox mb;
    struct buf stagedir;
    uint64_t limit;            /* largest message accepted */
    struct append_msg *msgs;
    int nmsgs, amsgs;
    enum imapd_error err;      /* why the command is refused (NO) */
    char *badurl;              /* the URL for "[BADURL url]" */
};

static void append_cmd_fini(struct append_cmd *ac)
{
    for (int i = 0; i < ac->nmsgs; i++) {
        if (ac->msgs[i].stage)
            append_stage_free(&ac->msgs[i].stage);
        strarray_fini(&ac->msgs[i].fl.keywords);
    }
    free(ac->msgs);
    free(ac->badurl);
    buf_free(&ac->stagedir);
    imapd_mbox_fini(&ac->mb);
}

static struct append_msg *add_msg(struct append_cmd *ac)
{
    if (ac->nmsgs == ac->amsgs) {
        ac->amsgs = ac->amsgs ? 2 * ac->amsgs : 2;
        ac->msgs = xrealloc(ac->msgs, ac->amsgs * sizeof(*ac->msgs));
    }
    memset(&ac->msgs[ac->nmsgs], 0, sizeof(ac->msgs[0]));
    return &ac->msgs[ac->nmsgs++];
}

/* The flags a message keeps once the rights are applied: RFC 4314
 * section 4 says flags without the right are quietly dropped. */
static uint32_t allowed_flags(const struct imapd_mbox *mb, uint32_t flags)
{
    if (!(mb->rights & ACL_SETSEEN))
        flags &= ~FLAG_SEEN;
    if (!(mb->rights & ACL_DELETEMSG))
        flags &= ~FLAG_DELETED;
    if (!(mb->rights & ACL_WRITE))
        flags &= ~(FLAG_ANSWERED | FLAG_FLAGGED | FLAG_DRAFT);
    return flags;
}

/* Append every staged message in one transaction; fills *uidvalidity and
 * the UIDs given. */
static enum imapd_error do_append(struct append_cmd *ac, uint32_t *uidvalidity,
                                  struct seqset *uids)
{
    struct imapd_session *s = ac->s;
    const struct imapd_mbox *mb = &ac->mb;
    struct buf path = BUF_INITIALIZER;
    struct mailbox *mbox = NULL;
    struct appendstate *as = NULL;
    struct seqset seen = SEQSET_INITIALIZER;
    char *root = NULL;
    int isowner = mboxname_userownsmailbox(&s->ns, s->userid, mb->intname);
    int r, i;

    if (imapd_mailbox_path(&mb->entry, &path)) {
        buf_free(&path);
        return IMAPD_ERR_IOERROR;
    }
    r = mailbox_open(buf_cstring(&path), &mbox);
    buf_free(&path);
    if (r)
        return imapd_error_mailbox(r);
    root = quota_findroot(mb->intname);
    r = append_setup(mbox, root, s->settings->mbox.strict_quota, &as);
    free(root);
    if (r) {
        mailbox_close(&mbox);
        return imapd_error_append(r);
    }
    for (i = 0; i < ac->nmsgs; i++) {
        const struct append_msg *m = &ac->msgs[i];
        uint32_t flags = allowed_flags(mb, m->fl.system);
        struct append_info info;
        struct index_record rec;

        memset(&info, 0, sizeof(info));
        info.internaldate = m->internaldate;
        info.internaldate_zone_set = m->zone_set;
        info.internaldate_zone = (int16_t)m->zone;
        info.system_flags = isowner ? flags : flags & ~FLAG_SEEN;
        for (int k = 0; (mb->rights & ACL_WRITE) && k < m->fl.keywords.count;
             k++) {
            int bit = mailbox_user_flag(mbox, strarray_nth(&m->fl.keywords, k),
                                        1);
            if (bit == MAILBOX_TOOMANYFLAGS) {
                r = -1;
                break;
            }
            if (bit >= 0)
                info.user_flags[bit / 32] |= 1u << (bit % 32);
        }
        if (r == -1) {
            append_abort(&as);
            mailbox_close(&mbox);
            seqset_fini(&seen);
            return IMAPD_ERR_TOOMANYFLAGS;
        }
        r = append_message(as, m->stage, &info, &rec);
        if (r) {
            append_abort(&as);
            mailbox_close(&mbox);
            seqset_fini(&seen);
            return imapd_error_append(r);
        }
        seqset_add(uids, rec.uid);
        if (!isowner && (flags & FLAG_SEEN))
            seqset_add(&seen, rec.uid);
    }
    r = append_commit(&as);
    if (r) {
        mailbox_close(&mbox);
        seqset_fini(&seen);
        return imapd_error_append(r);
    }
    *uidvalidity = mailbox_header(mbox)->uidvalidity;
    for (size_t k = 0; k < seen.count; k++)
        for (uint32_t u = seen.ranges[k].low; u <= seen.ranges[k].high; u++)
            mark_seen(s, mbox, u);
    seqset_fini(&seen);
    mailbox_close(&mbox);
    return IMAPD_ERR_OK;
}

/* Refuse the rest of the command: remember why (the first reason wins)
 * and skip what is left of the line, inviting no more literals. */
static void refuse(struct append_cmd *ac, int c, enum imapd_error e)
{
    if (!ac->err)
        ac->err = e;
    imapparse_skipline(&ac->s->parse, c);
}

/* Read a literal announced by `c` ('{' or '~') whose data goes into
 * `out` (memory: CATENATE pieces).  0 with the next character in *cp, or
 * -1 once answered or refused. */
static int read_literal_buf(struct append_cmd *ac, int c, struct buf *out,
                            int *cp)
{
    struct imapd_session *s = ac->s;
    unsigned long long len = 0, room;
    int binary = 0, r;

    room = ac->limit > out->len ? ac->limit - out->len : 0;
    r = imapparse_literal_start(&s->parse, c, room, 1, &len, &binary);
    if (r == IMAPPARSE_TOOBIG) {
        refuse(ac, r, IMAPD_ERR_TOOBIG);
        return -1;
    }
    if (r < 0) {
        imapd_args_error(s, ac->cmd, r, NULL);
        return -1;
    }
    while (len > 0) {
        char chunk[8192];
        size_t n = prot_read(s->prot, chunk,
                             len < sizeof(chunk) ? (size_t)len : sizeof(chunk));
        if (!n)
            return -1;          /* the client went away */
        buf_appendmap(out, chunk, n);
        len -= n;
    }
    *cp = prot_getc(s->prot);
    return 0;
}

/* "CATENATE (" has been read: assemble the message from its parts and
 * stage it.  0 with the character after ')' in *cp, or -1 once answered
 * or refused. */
static int read_catenate(struct append_cmd *ac, struct append_msg *m, int *cp)
{
    struct imapd_session *s = ac->s;
    struct buf msg = BUF_INITIALIZER;
    int c, r = -1;

    for (;;) {
        c = imapparse_atom(&s->parse, &s->arg2);
        if (c != ' ') {
            if (c < 0)
                imapd_args_error(s, ac->cmd, c, NULL);
            else
                imapd_bad(s, ac->cmd, c, "Invalid catenate part in Append");
            goto out;
        }
        if (!strcasecmp(buf_cstring(&s->arg2), "TEXT")) {
            c = prot_getc(s->prot);
            if (c != '{' && c != '~') {
                imapd_bad(s, ac->cmd, c, "Missing literal in Append");
                goto out;
            }
            if (read_literal_buf(ac, c, &msg, &c) < 0)
                goto out;
        }
        else if (!strcasecmp(buf_cstring(&s->arg2), "UTF8")) {
            /* RFC 6855 4: cat-part =/ "UTF8" SP "(" literal8 ")". */
            c = prot_getc(s->prot);
            if (c != '(' || (c = prot_getc(s->prot)) != '~') {
                imapd_bad(s, ac->cmd, c, "Missing literal8 in Append");
                goto out;
            }
            if (read_literal_buf(ac, c, &msg, &c) < 0)
                goto out;
            if (c != ')') {
                imapd_bad(s, ac->cmd, c, "Missing close parenthesis in Append");
                goto out;
            }
            c = prot_getc(s->prot);
        }
        else if (!strcasecmp(buf_cstring(&s->arg2), "URL")) {
            struct imapurl u;
            int fr;

            c = imapparse_astring(&s->parse, &s->arg2);
            if (c < 0) {
                imapd_args_error(s, ac->cmd, c, NULL);
                goto out;
            }
            fr = imapurl_parse(buf_cstring(&s->arg2), &u);
            /* This server resolves only its own relative URLs here. */
            if (!fr && (u.server || u.access))
                fr = -1;
            if (!fr)
                fr = imapd_url_fetch(s, &u, NULL, ac->limit, &msg);
            imapurl_fini(&u);
            if (fr) {
                if (fr == -2) {
                    refuse(ac, c, IMAPD_ERR_TOOBIG);
                }
                else {
                    ac->badurl = xstrdup(buf_cstring(&s->arg2));
                    refuse(ac, c, IMAPD_ERR_BADURL);
                }
                goto out;
            }
        }
        else {
            imapd_bad(s, ac->cmd, c, "Invalid catenate part in Append");
            goto out;
        }
        if (c == ')')
            break;
        if (c != ' ') {
            imapd_bad(s, ac->cmd, c, "Invalid catenate part in Append");
            goto out;
        }
    }
    r = append_stage_buf(buf_cstring(&ac->stagedir), msg.s ? msg.s : "",
                         msg.len, &m->stage);
    c = prot_getc(s->prot);
    if (r) {
        refuse(ac, c, imapd_error_append(r));
        r = -1;
        goto out;
    }
    *cp = c;
    r = 0;
out:
    buf_free(&msg);
    return r;
}

/* One append-message: [flag-list SP] [date-time SP] (literal / literal8 /
 * "CATENATE" SP "(" ... ")"); `c` is its first character.  0 with the
 * character after it in *cp, or -1 once answered or refused. */
static int read_message(struct append_cmd *ac, int c, int *cp)
{
    struct imapd_session *s = ac->s;
    struct imapd_cmd *cmd = ac->cmd;
    struct append_msg *m = add_msg(ac);
    unsigned long long len = 0;
    int binary = 0, utf8 = 0, r;

    m->internaldate = (int64_t)time(NULL);
    if (c == '(') {
        c = read_flags(s, cmd, &m->fl);
        if (c == -1)
            return -1;
        if (c != ' ') {
            imapd_args_missing(s, cmd, c);
            return -1;
        }
        c = prot_getc(s->prot);
    }
    if (c == '"') {
        prot_ungetc(c, s->prot);
        c = imapparse_string(&s->parse, &s->arg2);
        if (c != ' ') {
            if (c < 0)
                imapd_args_error(s, cmd, c, NULL);
            else
                imapd_args_missing(s, cmd, c);
            return -1;
        }
        if (parse_datetime(buf_cstring(&s->arg2), &m->internaldate,
                           &m->zone)) {
            imapd_bad(s, cmd, c, "Invalid date-time in Append");
            return -1;
        }
        m->zone_set = 1;
        c = prot_getc(s->prot);
    }
    if (c == 'C' || c == 'c') {
        prot_ungetc(c, s->prot);
        c = imapparse_atom(&s->parse, &s->arg2);
        if (c != ' ' || strcasecmp(buf_cstring(&s->arg2), "CATENATE")) {
            imapd_bad(s, cmd, c, "Missing required argument to Append");
            return -1;
        }
        c = prot_getc(s->prot);
        if (c != '(') {
            imapd_bad(s, cmd, c, "Missing required argument to Append");
            return -1;
        }
        return read_catenate(ac, m, cp);
    }
    if (c == 'U' || c == 'u') {
        /* RFC 6855 4: "UTF8" SP "(" literal8 ")", a message whose header
         * may hold UTF-8. */
        prot_ungetc(c, s->prot);
        c = imapparse_atom(&s->parse, &s->arg2);
        if (c != ' ' || strcasecmp(buf_cstring(&s->arg2), "UTF8") ||
            (c = prot_getc(s->prot)) != '(' ||
            (c = prot_getc(s->prot)) != '~') {
            imapd_bad(s, cmd, c, "Missing required argument to Append");
            return -1;
        }
        utf8 = 1;
    }
    if (c != '{' && c != '~') {
        imapd_bad(s, cmd, c, "Missing required argument to Append");
        return -1;
    }

    r = imapparse_literal_start(&s->parse, c, ac->limit, 1, &len, &binary);
    if (r == IMAPPARSE_TOOBIG) {
        refuse(ac, r, IMAPD_ERR_TOOBIG);
        return -1;
    }
    if (r < 0) {
        imapd_args_error(s, cmd, r, NULL);
        return -1;
    }
    r = append_stage_prot(buf_cstring(&ac->stagedir), s->prot, len, &m->stage);
    if (r == APPEND_EOF || prot_error(s->prot))
        return -1;
    c = prot_getc(s->prot);
    if (utf8) {
        if (c != ')') {
            imapd_bad(s, cmd, c, "Missing close parenthesis in Append");
            return -1;
        }
        c = prot_getc(s->prot);
    }
    if (r) {
        /* NUL octets: this store keeps no binary content (RFC 3516 4.4). */
        refuse(ac, c, binary && r == APPEND_BADMESSAGE ? IMAPD_ERR_UNKNOWNCTE
                                                       : imapd_error_append(r));
        return -1;
    }
    *cp = c;
    return 0;
}

uint32_t imapd_append_limit(const struct imapd_settings *st)
{
    uint64_t max = st->mbox.maxmessagesize;

    return max && max < UINT32_MAX ? (uint32_t)max : UINT32_MAX;
}

void cmd_append(struct imapd_session *s, struct imapd_cmd *cmd)
{
    struct append_cmd ac;
    struct seqset uids = SEQSET_INITIALIZER;
    struct buf uidtext = BUF_INITIALIZER;
    uint32_t uidvalidity = 0;
    enum imapd_error e;
    int c = cmd->c;

    memset(&ac, 0, sizeof(ac));
    ac.s = s;
    ac.cmd = cmd;
    ac.limit = imapd_append_limit(s->settings);

    if (c != ' ') {
        imapd_args_missing(s, cmd, c);
        goto out;
    }
    c = imapparse_astring(&s->parse, &s->arg1);
    if (c != ' ') {
        if (c < 0)
            imapd_args_error(s, cmd, c, NULL);
        else
            imapd_args_missing(s, cmd, c);
        goto out;
    }

    e = imapd_mailbox_need(s, buf_cstring(&s->arg1), ACL_INSERT, 1, &ac.mb);
    if (!e) {
        const char *pdir = config_partitiondir(ac.mb.entry.partition);
        if (!pdir)
            e = IMAPD_ERR_IOERROR;
        else
            buf_printf(&ac.stagedir, "%s/stage.", pdir);
    }
    if (!e && cyrus_mkdir_p(buf_cstring(&ac.stagedir), 0750) < 0)
        e = IMAPD_ERR_IOERROR;
    if (e) {
        /* Skips non-synchronizing literals; a synchronizing one is
         * never invited. */
        imapparse_skipline(&s->parse, ' ');
        if (!prot_error(s->prot))
            imapd_no(s, cmd, e);
        goto out;
    }

    /* 1*append-message (RFC 3502). */
    c = prot_getc(s->prot);
    for (;;) {
        if (read_message(&ac, c, &c) < 0)
            break;
        if (c != ' ')
            break;
        c = prot_getc(s->prot);
    }
    if (prot_error(s->prot))
        goto out;
    if (ac.err) {
        if (ac.err == IMAPD_ERR_BADURL)
            prot_printf(s->prot, "%s NO [BADURL %s] %s\r\n", cmd->tag,
                        ac.badurl, imapd_error_text(ac.err));
        else
            imapd_no(s, cmd, ac.err);
        goto out;
    }
    if (!ac.nmsgs || !ac.msgs[ac.nmsgs - 1].stage)
        goto out;      /* answered BAD already */
    if (imapd_args_end(s, cmd, c) < 0)
        goto out;

    e = do_append(&ac, &uidvalidity, &uids);
    if (e) {
        imapd_no(s, cmd, e);
        goto out;
    }
    seqset_format(&uids, &uidtext);
    imapd_report_updates(s, cmd);
    prot_printf(s->prot, "%s OK [APPENDUID %u %s] Completed\r\n", cmd->tag,
                uidvalidity, buf_cstring(&uidtext));

out:
    seqset_fini(&uids);
    buf_free(&uidtext);
    append_cmd_fini(&ac);
}
