/* cmd_append.c -- APPEND (RFC 3501 6.3.11) with UIDPLUS's APPENDUID.
 *
 * The message literal is streamed into a stage file, never held in
 * memory.  Everything that can refuse the message without reading it
 * (syntax, mailbox, rights) is decided before the literal is accepted, so
 * a client sending a synchronizing literal gets its NO without having to
 * send the data.
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
 * " d" (space-padded); 0 and the UTC time, or -1. */
static int parse_datetime(const char *s, int64_t *out)
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
        year < 1900)
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
        else if (!strcasecmp(w, "\\Recent")) {
            /* Not settable; ignored as Cyrus does. */
        }
        else if (w[0] == '\\' || !is_keyword(w)) {
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

/* Store the staged message; fills *uidvalidity and *uid. */
static enum imapd_error do_append(struct imapd_session *s,
                                  const struct imapd_mbox *mb,
                                  struct stagemsg *stage,
                                  const struct append_flags *fl,
                                  int64_t internaldate, uint32_t *uidvalidity,
                                  uint32_t *uid)
{
    struct buf path = BUF_INITIALIZER;
    struct mailbox *mbox = NULL;
    struct appendstate *as = NULL;
    struct append_info info;
    struct index_record rec;
    char *root = NULL;
    int isowner = mboxname_userownsmailbox(&s->ns, s->userid, mb->intname);
    uint32_t flags = fl->system;
    enum imapd_error e;
    int r;

    /* RFC 4314 section 4: flags without the right are quietly dropped. */
    if (!(mb->rights & ACL_SETSEEN))
        flags &= ~FLAG_SEEN;
    if (!(mb->rights & ACL_DELETEMSG))
        flags &= ~FLAG_DELETED;
    if (!(mb->rights & ACL_WRITE))
        flags &= ~(FLAG_ANSWERED | FLAG_FLAGGED | FLAG_DRAFT);

    memset(&info, 0, sizeof(info));
    info.internaldate = internaldate;
    info.system_flags = isowner ? flags : flags & ~FLAG_SEEN;

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
    for (int i = 0; (mb->rights & ACL_WRITE) && i < fl->keywords.count; i++) {
        int bit = mailbox_user_flag(mbox, strarray_nth(&fl->keywords, i), 1);
        if (bit == MAILBOX_TOOMANYFLAGS) {
            append_abort(&as);
            mailbox_close(&mbox);
            return IMAPD_ERR_TOOMANYFLAGS;
        }
        if (bit >= 0)
            info.user_flags[bit / 32] |= 1u << (bit % 32);
    }
    r = append_message(as, stage, &info, &rec);
    if (r) {
        append_abort(&as);
        mailbox_close(&mbox);
        return imapd_error_append(r);
    }
    r = append_commit(&as);
    if (r) {
        mailbox_close(&mbox);
        return imapd_error_append(r);
    }
    *uid = rec.uid;
    *uidvalidity = mailbox_header(mbox)->uidvalidity;
    if (!isowner && (flags & FLAG_SEEN))
        mark_seen(s, mbox, rec.uid);
    mailbox_close(&mbox);
    e = IMAPD_ERR_OK;
    return e;
}

void cmd_append(struct imapd_session *s, struct imapd_cmd *cmd)
{
    struct imapd_mbox mb = IMAPD_MBOX_INITIALIZER;
    struct append_flags fl = { 0, STRARRAY_INITIALIZER };
    const struct imapd_mailbox_settings *ms = &s->settings->mbox;
    struct stagemsg *stage = NULL;
    struct buf stagedir = BUF_INITIALIZER;
    unsigned long long len = 0, limit;
    int64_t internaldate = (int64_t)time(NULL);
    uint32_t uidvalidity = 0, uid = 0;
    enum imapd_error e;
    int c = cmd->c, binary = 0, r;

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
    c = prot_getc(s->prot);
    if (c == '(') {
        c = read_flags(s, cmd, &fl);
        if (c == -1)
            goto out;
        if (c != ' ') {
            imapd_args_missing(s, cmd, c);
            goto out;
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
            goto out;
        }
        if (parse_datetime(buf_cstring(&s->arg2), &internaldate)) {
            imapd_bad(s, cmd, c, "Invalid date-time in Append");
            goto out;
        }
        c = prot_getc(s->prot);
    }
    if (c != '{') {
        imapd_bad(s, cmd, c, "Missing required argument to Append");
        goto out;
    }

    e = imapd_mailbox_need(s, buf_cstring(&s->arg1), ACL_INSERT, 1, &mb);
    if (!e) {
        const char *pdir = config_partitiondir(mb.entry.partition);
        if (!pdir)
            e = IMAPD_ERR_IOERROR;
        else
            buf_printf(&stagedir, "%s/stage.", pdir);
    }
    if (!e && cyrus_mkdir_p(buf_cstring(&stagedir), 0750) < 0)
        e = IMAPD_ERR_IOERROR;
    if (e) {
        /* Skips a non-synchronizing literal; a synchronizing one was
         * never invited. */
        prot_ungetc(c, s->prot);
        imapparse_skipline(&s->parse, ' ');
        if (!prot_error(s->prot))
            imapd_no(s, cmd, e);
        goto out;
    }

    limit = ms->maxmessagesize ? ms->maxmessagesize : ~0ULL;
    r = imapparse_literal_start(&s->parse, c, limit, 0, &len, &binary);
    if (r == IMAPPARSE_TOOBIG) {
        imapparse_skipline(&s->parse, r);
        if (!prot_error(s->prot))
            imapd_no(s, cmd, IMAPD_ERR_TOOBIG);
        goto out;
    }
    if (r < 0) {
        imapd_args_error(s, cmd, r, NULL);
        goto out;
    }
    r = append_stage_prot(buf_cstring(&stagedir), s->prot, len, &stage);
    if (r == APPEND_EOF || prot_error(s->prot))
        goto out;
    c = prot_getc(s->prot);
    if (imapd_args_end(s, cmd, c) < 0)
        goto out;
    if (r) {
        imapd_no(s, cmd, imapd_error_append(r));
        goto out;
    }

    e = do_append(s, &mb, stage, &fl, internaldate, &uidvalidity, &uid);
    if (e) {
        imapd_no(s, cmd, e);
        goto out;
    }
    imapd_report_updates(s, cmd);
    prot_printf(s->prot, "%s OK [APPENDUID %u %u] Completed\r\n", cmd->tag,
                uidvalidity, uid);

out:
    if (stage)
        append_stage_free(&stage);
    buf_free(&stagedir);
    strarray_fini(&fl.keywords);
    imapd_mbox_fini(&mb);
}
