/* cmd_urlauth.c -- URLAUTH (RFC 4467): GENURLAUTH, RESETKEY, URLFETCH
 * with the extended form of URLAUTH=BINARY (RFC 5524), and the
 * resolution of IMAP URLs to message bytes that CATENATE shares.
 *
 * Mailbox access keys live in CONFIGDIR/urlauth.db, one per user and
 * mailbox (keyed by the mailbox's uniqueid, so a rename keeps the URLs
 * valid): "<userid>\0<uniqueid>" -> 16 random bytes.  The INTERNAL
 * mechanism's token is "01" (the algorithm's version) followed by the hex
 * HMAC-SHA1 of the rump URL under that key.  Resolving a URL always uses
 * the rights its owner holds at the time of the URLFETCH.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "imap/imapd/imapd.h"
#include "imap/imapd/imapd_commands.h"
#include "imap/imapd/imapd_errors.h"
#include "imap/imapd/imapd_mailbox.h"
#include "imap/imapd/imapurl.h"
#include "imap/store/mailbox.h"
#include "imap/store/message.h"
#include "imap/store/mboxops.h"
#include "lib/cyrusdb.h"
#include "lib/log.h"
#include "lib/utf7.h"
#include "lib/xmalloc.h"

#define URLAUTH_KEYLEN 16
#define TOKEN_VERSION "01"

static struct cyrusdb *keydb;

static struct cyrusdb *keydb_open(const struct imapd_session *s)
{
    struct buf path = BUF_INITIALIZER;
    int r;

    if (keydb)
        return keydb;
    buf_printf(&path, "%s/urlauth.db", s->settings->mbox.configdir);
    r = cyrusdb_open(buf_cstring(&path), CYRUSDB_CREATE, &keydb);
    if (r) {
        log_error("urlauth: cannot open %s: %s", buf_cstring(&path),
                  cyrusdb_strerror(r));
        keydb = NULL;
    }
    buf_free(&path);
    return keydb;
}

static void key_name(struct buf *k, const char *userid, const char *uniqueid)
{
    buf_reset(k);
    buf_appendcstr(k, userid);
    buf_putc(k, '\0');
    if (uniqueid)
        buf_appendcstr(k, uniqueid);
}

/* The user's key for a mailbox into `key`; a new one is made when
 * `create` (or `replace`).  0, or -1 (none, or the database failed). */
static int key_get(const struct imapd_session *s, const char *userid,
                   const char *uniqueid, int create, int replace,
                   unsigned char key[URLAUTH_KEYLEN])
{
    struct cyrusdb *db = keydb_open(s);
    struct buf k = BUF_INITIALIZER, v = BUF_INITIALIZER;
    int r = -1;

    if (!db)
        return -1;
    key_name(&k, userid, uniqueid);
    if (!replace && !cyrusdb_fetch(db, k.s, k.len, &v, NULL) &&
        v.len == URLAUTH_KEYLEN) {
        memcpy(key, v.s, URLAUTH_KEYLEN);
        r = 0;
    }
    else if (create || replace) {
        if (getrandom(key, URLAUTH_KEYLEN, 0) == URLAUTH_KEYLEN &&
            !cyrusdb_store(db, k.s, k.len, (const char *)key, URLAUTH_KEYLEN,
                           NULL))
            r = 0;
    }
    buf_free(&k);
    buf_free(&v);
    return r;
}

static int delete_cb(void *rock, const char *key, size_t keylen,
                     const char *data, size_t datalen)
{
    (void)data;
    (void)datalen;
    cyrusdb_delete(rock, key, keylen, NULL);
    return 0;
}

/* The INTERNAL token of `rump` under `key`, as hex. */
static void make_token(const unsigned char key[URLAUTH_KEYLEN],
                       const char *rump, size_t len, struct buf *out)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned mdlen = 0;

    HMAC(EVP_sha1(), key, URLAUTH_KEYLEN, (const unsigned char *)rump, len,
         md, &mdlen);
    buf_appendcstr(out, TOKEN_VERSION);
    for (unsigned i = 0; i < mdlen; i++)
        buf_printf(out, "%02x", md[i]);
}

/* --- resolving a URL --- */

/* The mailbox a URL names, resolved for `owner` (NULL: the session),
 * with that user's rights in mb->rights. */
static int resolve_mailbox(struct imapd_session *s, const struct imapurl *u,
                           const char *owner, struct imapd_mbox *mb)
{
    struct buf ext = BUF_INITIALIZER;
    int r = -1;

    memset(mb, 0, sizeof(*mb));
    if (!u->mailbox) {
        /* Relative to the selected mailbox (RFC 4469 section 3). */
        if (owner || !s->selected_name)
            return -1;
        char *name = imapd_mailbox_extname(s, s->selected_name);
        if (!name)
            return -1;
        buf_appendcstr(&ext, name);
        free(name);
    }
    else if (!owner && (s->enabled & IMAPD_EXT_UTF8_ACCEPT)) {
        buf_appendcstr(&ext, u->mailbox);
    }
    else if (utf7_encode(u->mailbox, &ext) < 0) {
        return -1;
    }

    if (!owner) {
        r = imapd_mailbox_need(s, buf_cstring(&ext), ACL_READ, 0, mb) ? -1 : 0;
    }
    else {
        struct mboxname_ns ns = s->settings->mbox.ns;
        struct mboxops_settings st;
        strarray_t groups = STRARRAY_INITIALIZER;
        struct acl_subject who;

        ns.isadmin = 0;
        mb->intname = mboxname_from_external(&ns, buf_cstring(&ext), owner);
        if (mb->intname && !mboxlist_lookup(mb->intname, &mb->entry)) {
            acl_unix_groups(owner, &groups);
            who.userid = owner;
            who.groups = &groups;
            who.isadmin = saslserver_isadmin(owner);
            imapd_mailbox_ops(s, &st);
            mb->rights = mboxops_rights(&st, &who, mb->intname, mb->entry.acl);
            mb->exists = 1;
            mb->selectable = mb->entry.type == MBTYPE_EMAIL;
            r = imapd_mailbox_check(mb, ACL_LOOKUP | ACL_READ, 0) ? -1 : 0;
            strarray_fini(&groups);
        }
        else {
            memset(&mb->entry, 0, sizeof(mb->entry));
        }
    }
    buf_free(&ext);
    return r;
}

/* Map the message a URL names (read as `owner`, see imapd_url_fetch);
 * unmapped with mailbox_unmap_message().  0, or -1. */
static int url_map(struct imapd_session *s, const struct imapurl *u,
                   const char *owner, const char **base, size_t *len)
{
    struct imapd_mbox mb = IMAPD_MBOX_INITIALIZER;
    struct buf path = BUF_INITIALIZER;
    struct mailbox *mbox = NULL;
    struct index_record rec;
    int64_t recno;
    int r = -1;

    *base = NULL;
    *len = 0;
    if (resolve_mailbox(s, u, owner, &mb) < 0)
        goto out;
    if (imapd_mailbox_path(&mb.entry, &path) ||
        mailbox_open(buf_cstring(&path), &mbox))
        goto out;
    if (mailbox_lock_shared(mbox))
        goto out;
    if (!u->uidvalidity ||
        u->uidvalidity == mailbox_header(mbox)->uidvalidity) {
        recno = mailbox_find_uid(mbox, u->uid);
        if (recno >= 0 && !mailbox_read_record(mbox, (uint32_t)recno, &rec) &&
            !(rec.internal_flags & FLAG_INTERNAL_EXPUNGED) &&
            !mailbox_map_message(mbox, u->uid, base, len))
            r = 0;
        else
            *base = NULL;
    }
    mailbox_unlock(mbox);
out:
    mailbox_close(&mbox);
    imapd_mbox_fini(&mb);
    buf_free(&path);
    return r;
}

/* Narrow data/len to the URL's ";PARTIAL=" range. */
static void url_partial(const struct imapurl *u, const char **data,
                        size_t *len)
{
    if (!u->partial)
        return;
    if (u->start >= *len) {
        *len = 0;
        return;
    }
    *data += u->start;
    *len -= u->start;
    if (u->count && *len > u->count)
        *len = u->count;
}

/* The bytes of the URL's section of `msg` (all of it without one):
 * 0, or -1 when the section names nothing. */
static int url_section(const struct message *msg, const struct imapurl *u,
                       struct buf *synth, const char **data, size_t *len)
{
    size_t off = 0;

    *data = msg->base;
    *len = msg->len;
    if (!u->section)
        return 0;
    switch (message_section(msg, u->section, synth, &off, len)) {
    case MESSAGE_SECTION_RANGE:
        *data = msg->base + off;
        return 0;
    case MESSAGE_SECTION_SYNTH:
        *data = synth->s ? synth->s : "";
        *len = synth->len;
        return 0;
    default:
        return -1;  /* no such part, or not a section at all */
    }
}

int imapd_url_fetch(struct imapd_session *s, const struct imapurl *u,
                    const char *owner, uint64_t limit, struct buf *out)
{
    struct buf synth = BUF_INITIALIZER;
    struct message *msg = NULL;
    const char *base, *data;
    size_t len, dlen;
    int r = -1;

    if (url_map(s, u, owner, &base, &len) < 0)
        return -1;
    data = base;
    dlen = len;
    if (u->section) {
        msg = message_parse(base, len);
        if (!msg || url_section(msg, u, &synth, &data, &dlen) < 0)
            goto out;
    }
    url_partial(u, &data, &dlen);
    if (out->len + dlen > limit) {
        r = -2;
        goto out;
    }
    buf_appendmap(out, data, dlen);
    r = 0;
out:
    mailbox_unmap_message(base, len);
    message_free(&msg);
    buf_free(&synth);
    return r;
}

/* --- the commands --- */

static int valid_access(const char *access)
{
    if (!strcasecmp(access, "authuser") || !strcasecmp(access, "anonymous"))
        return 1;
    if (!strncasecmp(access, "submit+", 7))
        return access[7] != '\0';
    if (!strncasecmp(access, "user+", 5))
        return access[5] != '\0';
    return 0;
}

/* May this session use a URL authorized for `access`? */
static int access_allowed(const struct imapd_session *s, const char *access)
{
    const strarray_t *subs = &s->settings->submitservers;

    if (!strcasecmp(access, "anonymous"))
        return 1;
    if (!s->userid || !strcasecmp(s->userid, "anonymous"))
        return 0;
    if (!strcasecmp(access, "authuser"))
        return 1;
    if (!strncasecmp(access, "user+", 5))
        return !strcmp(access + 5, s->userid);
    if (!strncasecmp(access, "submit+", 7)) {
        /* Only a submission server may act for the user named. */
        for (int i = 0; i < subs->count; i++) {
            const char *id = subs->data[i];

            if (!strcmp(id, s->userid) ||
                (!strncmp(id, "group:", 6) &&
                 strarray_find(&s->groups, id, 0) >= 0))
                return 1;
        }
    }
    return 0;
}

/* GENURLAUTH 1*(SP url-rump SP mechanism) */
void cmd_genurlauth(struct imapd_session *s, struct imapd_cmd *cmd)
{
    strarray_t urls = STRARRAY_INITIALIZER;
    int c = cmd->c, i;

    if (c != ' ') {
        imapd_args_missing(s, cmd, c);
        return;
    }
    do {
        c = imapparse_astring(&s->parse, &s->arg1);
        if (c != ' ') {
            if (c < 0)
                imapd_args_error(s, cmd, c, NULL);
            else
                imapd_args_missing(s, cmd, c);
            goto out;
        }
        c = imapparse_atom(&s->parse, &s->arg2);
        if (c < 0 || !s->arg2.len) {
            if (c < 0)
                imapd_args_error(s, cmd, c, NULL);
            else
                imapd_args_missing(s, cmd, c);
            goto out;
        }
        if (strcasecmp(buf_cstring(&s->arg2), "INTERNAL")) {
            imapd_bad(s, cmd, c, "Unknown authorization mechanism %s",
                      buf_cstring(&s->arg2));
            goto out;
        }
        strarray_append(&urls, buf_cstring(&s->arg1));
    } while (c == ' ');
    if (imapd_args_end(s, cmd, c) < 0)
        goto out;

    /* Check every URL before answering any (RFC 4467: BAD for a bad one). */
    struct buf gen = BUF_INITIALIZER;
    for (i = 0; i < urls.count; i++) {
        const char *url = urls.data[i];
        struct imapurl u;
        struct imapd_mbox mb = IMAPD_MBOX_INITIALIZER;
        unsigned char key[URLAUTH_KEYLEN];
        const char *why = NULL;

        if (imapurl_parse(url, &u))
            why = "Invalid URL";
        else if (!u.server || !u.user)
            why = "Missing owner username in supplied URL";
        else if (!u.access)
            why = "Missing access identifier in supplied URL";
        else if (u.mech)
            why = "URL is already authorized";
        else if (!valid_access(u.access))
            why = "Invalid access identifier in supplied URL";
        else if (!u.mailbox)
            why = "Missing mailbox in supplied URL";
        else if (strcmp(u.user, s->userid))
            why = "Not the owner of the mailbox access key";
        else if (u.expire && u.expire <= (int64_t)time(NULL))
            why = "URL has expired";
        else if (resolve_mailbox(s, &u, s->userid, &mb) < 0)
            why = "Mailbox does not exist";
        if (!why && (!mb.entry.uniqueid ||
                     key_get(s, s->userid, mb.entry.uniqueid, 1, 0, key) < 0)) {
            imapd_mbox_fini(&mb);
            imapurl_fini(&u);
            buf_free(&gen);
            imapd_no(s, cmd, IMAPD_ERR_IOERROR);
            goto out;
        }
        imapd_mbox_fini(&mb);
        imapurl_fini(&u);
        if (why) {
            buf_free(&gen);
            prot_printf(s->prot, "%s BAD %s\r\n", cmd->tag, why);
            goto out;
        }
        buf_putc(&gen, ' ');
        {
            struct buf full = BUF_INITIALIZER;

            buf_appendcstr(&full, url);
            buf_appendcstr(&full, ":INTERNAL:");
            make_token(key, url, strlen(url), &full);
            OPENSSL_cleanse(key, sizeof(key));
            buf_putc(&gen, '"');
            buf_appendbuf(&gen, &full);
            buf_putc(&gen, '"');
            buf_free(&full);
        }
    }
    prot_printf(s->prot, "* GENURLAUTH%s\r\n", buf_cstring(&gen));
    buf_free(&gen);
    imapd_ok(s, cmd);
out:
    strarray_fini(&urls);
}

/* RESETKEY [SP mailbox *(SP mechanism)] */
void cmd_resetkey(struct imapd_session *s, struct imapd_cmd *cmd)
{
    struct imapd_mbox mb = IMAPD_MBOX_INITIALIZER;
    unsigned char key[URLAUTH_KEYLEN];
    struct cyrusdb *db;
    int c = cmd->c;
    enum imapd_error e;

    if (c == ' ') {
        c = imapparse_astring(&s->parse, &s->arg1);
        if (c < 0) {
            imapd_args_error(s, cmd, c, NULL);
            return;
        }
        while (c == ' ') {
            c = imapparse_atom(&s->parse, &s->arg2);
            if (c < 0 || !s->arg2.len) {
                if (c < 0)
                    imapd_args_error(s, cmd, c, NULL);
                else
                    imapd_args_missing(s, cmd, c);
                return;
            }
            if (strcasecmp(buf_cstring(&s->arg2), "INTERNAL")) {
                imapd_bad(s, cmd, c, "Unknown authorization mechanism %s",
                          buf_cstring(&s->arg2));
                return;
            }
        }
        if (imapd_args_end(s, cmd, c) < 0)
            return;
        /* The key table is the user's own: any mailbox they may read. */
        e = imapd_mailbox_need(s, buf_cstring(&s->arg1), ACL_READ, 0, &mb);
        if (e) {
            imapd_no(s, cmd, e);
            return;
        }
        if (key_get(s, s->userid, mb.entry.uniqueid, 1, 1, key) < 0) {
            imapd_mbox_fini(&mb);
            imapd_no(s, cmd, IMAPD_ERR_IOERROR);
            return;
        }
        OPENSSL_cleanse(key, sizeof(key));
        imapd_mbox_fini(&mb);
        imapd_report_updates(s, cmd);
        prot_printf(s->prot, "%s OK [URLMECH INTERNAL] Completed\r\n",
                    cmd->tag);
        return;
    }
    if (imapd_args_end(s, cmd, c) < 0)
        return;
    db = keydb_open(s);
    if (db) {
        struct buf prefix = BUF_INITIALIZER;

        key_name(&prefix, s->userid, NULL);
        if (cyrusdb_foreach(db, prefix.s, prefix.len, NULL, delete_cb, db,
                            NULL))
            db = NULL;
        buf_free(&prefix);
    }
    if (!db) {
        imapd_no(s, cmd, IMAPD_ERR_IOERROR);
        return;
    }
    imapd_report_updates(s, cmd);
    prot_printf(s->prot, "%s OK All keys removed\r\n", cmd->tag);
}

/* May this session fetch `url`?  0 with the URL parsed into *u and *owner
 * the user whose rights read it (NULL: the session's own, for a URL
 * without URLAUTH); -1 (answered NIL) otherwise.  *u is set either way. */
static int urlfetch_authorize(struct imapd_session *s, const char *url,
                              struct imapurl *u, const char **owner)
{
    struct imapd_mbox mb = IMAPD_MBOX_INITIALIZER;
    unsigned char key[URLAUTH_KEYLEN];
    struct buf token = BUF_INITIALIZER;
    int r = -1;

    *owner = NULL;
    if (imapurl_parse(url, u))
        goto out;
    if (!u->access) {
        /* A plain URL: the session's own rights, its own mailboxes. */
        if (!u->user || !strcmp(u->user, s->userid))
            r = 0;
        goto out;
    }
    if (!u->user || !u->mech || strcasecmp(u->mech, "INTERNAL") ||
        !u->mailbox || !valid_access(u->access) ||
        !access_allowed(s, u->access))
        goto out;
    if (u->expire && u->expire <= (int64_t)time(NULL))
        goto out;
    if (resolve_mailbox(s, u, u->user, &mb) == 0 && mb.entry.uniqueid &&
        key_get(s, u->user, mb.entry.uniqueid, 0, 0, key) == 0) {
        make_token(key, url, u->rump_len, &token);
        OPENSSL_cleanse(key, sizeof(key));
    }
    else {
        /* Spend the same effort for an unknown mailbox or key, so the
         * time taken tells nothing (RFC 4467 section 6). */
        if (getrandom(key, sizeof(key), 0) < 0)
            memset(key, 0, sizeof(key));
        make_token(key, url, u->rump_len, &token);
        buf_reset(&token);
    }
    if (!token.len || strlen(u->token) != token.len ||
        CRYPTO_memcmp(token.s, u->token, token.len))
        goto out;
    *owner = u->user;
    r = 0;
out:
    imapd_mbox_fini(&mb);
    buf_free(&token);
    return r;
}

/* The data of one plain URLFETCH URL into `out`; 0, or -1 for NIL. */
static int urlfetch_one(struct imapd_session *s, const char *url,
                        struct buf *out)
{
    struct imapurl u;
    const char *owner;
    int r = -1;

    if (!urlfetch_authorize(s, url, &u, &owner))
        r = imapd_url_fetch(s, &u, owner, UINT64_MAX, out);
    imapurl_fini(&u);
    return r ? -1 : 0;
}

/* The extended URLFETCH items of RFC 5524 3.1; BODY and BINARY exclude
 * each other. */
enum {
    URLFETCH_BODYPARTSTRUCTURE = 1 << 0,
    URLFETCH_BINARY = 1 << 1,
    URLFETCH_BODY = 1 << 2,
};

struct urlfetch_param {
    char *url;
    unsigned items;     /* 0: the plain form, "* URLFETCH url nstring" */
    int extended;       /* given as "(" url *(SP item) ")" */
};

/* The part whose structure BODYPARTSTRUCTURE describes: the one the
 * section's part numbers name ("1.2", "1.2.TEXT"), the message itself
 * without numbers; MESSAGE_NONE when they name nothing. */
static uint32_t structure_part(const struct message *msg, const char *spec)
{
    size_t n = strspn(spec, "0123456789.");
    char *numbers;
    uint32_t part;

    if (n && spec[n] && spec[n - 1] != '.')
        return MESSAGE_NONE;    /* "1HEADER": not a section */
    while (n && spec[n - 1] == '.')
        n--;
    if (!n)
        return 0;
    numbers = xstrndup(spec, n);
    part = message_part_lookup(msg, numbers);
    free(numbers);
    return part;
}

/* What content transfer encoding decoded bytes could go out with
 * (RFC 2045 2.7-2.9): NUL or a bare CR or LF make them binary. */
static const char *data_domain(const char *data, size_t len)
{
    int eight = 0;

    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)data[i];

        if (!ch || (ch == '\r' && (i + 1 == len || data[i + 1] != '\n')) ||
            (ch == '\n' && (i == 0 || data[i - 1] != '\r')))
            return "BINARY";
        if (ch & 0x80)
            eight = 1;
    }
    return eight ? "8BIT" : "7BIT";
}

/* BODYPARTSTRUCTURE of `part`; when its encoding was undone for BINARY
 * (RFC 5524 3.2), it describes the decoded content: the domain of the
 * data as encoding, its size, and 0 lines, as Dovecot sends and the
 * imaptest scripts expect. */
static void write_bodypartstructure(struct buf *out,
                                    const struct message *msg, uint32_t part,
                                    const char *decoded, size_t decoded_len)
{
    struct message copy;

    if (!decoded) {
        message_write_bodystructure(out, msg, part, 1);
        return;
    }
    copy = *msg;
    copy.parts = xmemdup(msg->parts, msg->nparts * sizeof(*msg->parts));
    memset(&copy.pool, 0, sizeof(copy.pool));
    buf_appendbuf(&copy.pool, &msg->pool);
    copy.parts[part].encoding = (uint32_t)copy.pool.len;
    buf_appendcstr(&copy.pool, data_domain(decoded, decoded_len));
    buf_putc(&copy.pool, '\0');
    copy.parts[part].body_size = (uint32_t)decoded_len;
    copy.parts[part].body_lines = 0;
    message_write_bodystructure(out, &copy, part, 1);
    free(copy.parts);
    buf_free(&copy.pool);
}

/* Append " {n}" CRLF and the bytes, "~{n}" when they hold a NUL (a
 * literal8, RFC 3516). */
static void write_literal(struct buf *out, const char *data, size_t len,
                          int allow8)
{
    buf_printf(out, " %s{%zu}\r\n", allow8 && memchr(data, 0, len) ? "~" : "",
               len);
    buf_appendmap(out, data, len);
}

/* The metadata items of one extended URLFETCH after the URL, or " NIL"
 * when it cannot be resolved. */
static void urlfetch_extended(struct imapd_session *s,
                              const struct urlfetch_param *p, struct buf *out)
{
    struct imapurl u;
    struct buf synth = BUF_INITIALIZER, bsynth = BUF_INITIALIZER;
    struct buf decoded = BUF_INITIALIZER;
    struct message *msg = NULL;
    const char *owner, *base = NULL, *data, *bin = NULL;
    size_t len = 0, dlen, binlen = 0;
    uint32_t part = MESSAGE_NONE, binpart = MESSAGE_NONE;
    int binr = 0;

    if (urlfetch_authorize(s, p->url, &u, &owner) ||
        url_map(s, &u, owner, &base, &len)) {
        buf_appendcstr(out, " NIL");
        goto out;
    }
    msg = message_parse(base, len);
    if (!msg || url_section(msg, &u, &synth, &data, &dlen) < 0) {
        buf_appendcstr(out, " NIL");
        goto out;
    }
    if (p->items & URLFETCH_BINARY) {
        binr = imapd_binary_section(msg, u.section ? u.section : "", &bsynth,
                                    &decoded, &bin, &binlen, &binpart);
    }
    if (p->items & URLFETCH_BODYPARTSTRUCTURE) {
        part = structure_part(msg, u.section ? u.section : "");
        buf_appendcstr(out, " (BODYPARTSTRUCTURE ");
        if (part == MESSAGE_NONE)
            buf_appendcstr(out, "NIL");
        else if (binr > 0 && binpart == part)
            write_bodypartstructure(out, msg, part, bin, binlen);
        else
            write_bodypartstructure(out, msg, part, NULL, 0);
        buf_putc(out, ')');
    }
    if (p->items & URLFETCH_BINARY) {
        buf_appendcstr(out, " (BINARY");
        if (binr <= 0) {
            /* An encoding we cannot undo (RFC 5524 3.2). */
            buf_appendcstr(out, " NIL");
        } else {
            url_partial(&u, &bin, &binlen);
            write_literal(out, bin, binlen, 1);
        }
        buf_putc(out, ')');
    }
    if (p->items & URLFETCH_BODY) {
        buf_appendcstr(out, " (BODY");
        url_partial(&u, &data, &dlen);
        write_literal(out, data, dlen, 0);
        buf_putc(out, ')');
    }
out:
    if (base)
        mailbox_unmap_message(base, len);
    message_free(&msg);
    imapurl_fini(&u);
    buf_free(&synth);
    buf_free(&bsynth);
    buf_free(&decoded);
}

/* url-fetch-param (RFC 5524 5): url / "(" url *(SP item) ")".  Returns the
 * character after it, or -1 after answering BAD. */
static int urlfetch_parse_param(struct imapd_session *s,
                                struct imapd_cmd *cmd,
                                struct urlfetch_param *p)
{
    int c = prot_getc(s->prot);

    memset(p, 0, sizeof(*p));
    if (c != '(') {
        prot_ungetc(c, s->prot);
        c = imapparse_astring(&s->parse, &s->arg1);
        if (c < 0) {
            imapd_args_error(s, cmd, c, NULL);
            return -1;
        }
        p->url = xstrdup(buf_cstring(&s->arg1));
        return c;
    }
    p->extended = 1;
    c = imapparse_astring(&s->parse, &s->arg1);
    if (c < 0) {
        imapd_args_error(s, cmd, c, NULL);
        return -1;
    }
    p->url = xstrdup(buf_cstring(&s->arg1));
    while (c == ' ') {
        unsigned item;

        c = imapparse_atom(&s->parse, &s->arg2);
        if (c < 0) {
            imapd_args_error(s, cmd, c, NULL);
            return -1;
        }
        if (!strcasecmp(buf_cstring(&s->arg2), "BODYPARTSTRUCTURE"))
            item = URLFETCH_BODYPARTSTRUCTURE;
        else if (!strcasecmp(buf_cstring(&s->arg2), "BINARY"))
            item = URLFETCH_BINARY;
        else if (!strcasecmp(buf_cstring(&s->arg2), "BODY"))
            item = URLFETCH_BODY;
        else {
            imapd_bad(s, cmd, c, "Invalid URLFETCH parameter %s",
                      buf_cstring(&s->arg2));
            return -1;
        }
        if ((p->items & item) ||
            (item & (URLFETCH_BINARY | URLFETCH_BODY) &&
             p->items & (URLFETCH_BINARY | URLFETCH_BODY))) {
            imapd_bad(s, cmd, c, "Conflicting URLFETCH parameter %s",
                      buf_cstring(&s->arg2));
            return -1;
        }
        p->items |= item;
    }
    if (c != ')') {
        imapd_args_error(s, cmd, c, "Missing ) after URLFETCH parameters");
        return -1;
    }
    return prot_getc(s->prot);
}

/* URLFETCH 1*(SP url-fetch-param) */
void cmd_urlfetch(struct imapd_session *s, struct imapd_cmd *cmd)
{
    struct urlfetch_param *params = NULL;
    struct buf data = BUF_INITIALIZER;
    int c = cmd->c, n = 0, alloc = 0;

    if (c != ' ') {
        imapd_args_missing(s, cmd, c);
        return;
    }
    do {
        if (n == alloc) {
            alloc = alloc ? alloc * 2 : 4;
            params = xrealloc(params, (size_t)alloc * sizeof(*params));
        }
        c = urlfetch_parse_param(s, cmd, &params[n]);
        if (c < 0) {
            free(params[n].url);
            goto out;
        }
        n++;
    } while (c == ' ');
    if (imapd_args_end(s, cmd, c) < 0)
        goto out;

    for (int i = 0; i < n && !prot_error(s->prot); i++) {
        buf_reset(&data);
        prot_puts(s->prot, "* URLFETCH ");
        imapd_print_string(s->prot, params[i].url);
        if (params[i].extended) {
            urlfetch_extended(s, &params[i], &data);
            prot_write(s->prot, data.s ? data.s : "", data.len);
            prot_puts(s->prot, "\r\n");
            continue;
        }
        if (urlfetch_one(s, params[i].url, &data) < 0) {
            prot_puts(s->prot, " NIL\r\n");
            continue;
        }
        prot_printf(s->prot, " {%zu}\r\n", data.len);
        prot_write(s->prot, data.s ? data.s : "", data.len);
        prot_puts(s->prot, "\r\n");
    }
    imapd_ok(s, cmd);
out:
    for (int i = 0; i < n; i++)
        free(params[i].url);
    free(params);
    buf_free(&data);
}
