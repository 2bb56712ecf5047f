/* imapd_mailbox.c -- resolving mailbox names for a session; see
 * imapd_mailbox.h. */
#include "config.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "imap/imapd/imapd.h"
#include "imap/imapd/imapd_mailbox.h"
#include "imap/imapd/imapd_metadata.h"
#include "imap/store/annotate.h"
#include "imap/store/mboxops.h"
#include "imap/store/quota.h"
#include "lib/config.h"
#include "lib/cyrusdb.h"
#include "lib/log.h"
#include "lib/utf7.h"
#include "lib/utf8.h"
#include "lib/xmalloc.h"

static char *dup_or(const char *s, const char *def)
{
    return xstrdup(s && *s ? s : def);
}

/* "Sent Drafts|Trash" style lists, as Cyrus accepts: '|' separated,
 * internal form ('.' for hierarchy). */
static void split_folders(const char *s, strarray_t *out)
{
    strarray_t *parts;

    if (!s || !*s)
        return;
    parts = strarray_split(s, "|");
    for (int i = 0; i < parts->count; i++) {
        char *p = xstrdup(strarray_nth(parts, i));
        char *start = p, *end = p + strlen(p);

        while (*start == ' ')
            start++;
        while (end > start && end[-1] == ' ')
            *--end = '\0';
        if (*start)
            strarray_append(out, start);
        free(p);
    }
    strarray_free(&parts);
}

/* Special uses clients may set (as Cyrus: RFC 6154's, less the virtual
 * \All and \Flagged, plus specialuse_extra) and the xlist-<use>
 * options naming autocreated folders that get one. */
static void xlist_cb(const char *key, const char *value, void *rock)
{
    struct imapd_mailbox_settings *ms = rock;
    struct buf use = BUF_INITIALIZER;
    const char *name = key + strlen("xlist-");

    if (!*name || !value || !*value)
        return;
    buf_putc(&use, '\\');
    buf_putc(&use, (char)toupper((unsigned char)*name));
    for (name++; *name; name++)
        buf_putc(&use, (char)tolower((unsigned char)*name));
    strarray_append(&ms->autocreate_uses, value);
    strarray_append(&ms->autocreate_uses, buf_cstring(&use));
    buf_free(&use);
}

static void specialuse_settings(struct imapd_mailbox_settings *ms)
{
    static const char *const uses[] = {
        "\\Archive", "\\Drafts", "\\Junk", "\\Sent", "\\Trash",
    };
    const char *extra = config_getstring(IMAPOPT_SPECIALUSE_EXTRA);

    for (size_t i = 0; i < sizeof(uses) / sizeof(uses[0]); i++)
        strarray_append(&ms->specialuse_allowed, uses[i]);
    if (extra && *extra) {
        strarray_t *words = strarray_split(extra, " ");
        for (int i = 0; i < words->count; i++) {
            const char *w = strarray_nth(words, i);
            if (w[0] == '\\' && w[1])
                strarray_append(&ms->specialuse_allowed, w);
        }
        strarray_free(&words);
    }
    ms->specialusealways = config_getswitch(IMAPOPT_SPECIALUSEALWAYS);
    config_foreach_overflow("xlist-", xlist_cb, ms);
}

int imapd_mailbox_settings_init(struct imapd_mailbox_settings *ms,
                                struct buf *err)
{
    const char *s;

    memset(ms, 0, sizeof(*ms));
    s = config_getstring(IMAPOPT_CONFIGDIRECTORY);
    ms->configdir = s ? xstrdup(s) : NULL;
    ms->defaultpartition = dup_or(config_getstring(IMAPOPT_DEFAULTPARTITION),
                                  "default");
    ms->defaultacl = dup_or(config_getstring(IMAPOPT_DEFAULTACL), "");
    s = config_getstring(IMAPOPT_IMPLICIT_OWNER_RIGHTS);
    if (acl_rights_parse(s ? s : "", &ms->implicit_owner)) {
        buf_printf(err, "implicit_owner_rights: bad right in \"%s\"", s);
        ms->implicit_owner = ACL_LOOKUP | ACL_CREATE | ACL_DELETEMBOX |
                             ACL_ADMIN | ACL_ANNOTATEMSG;
    }
    ms->hashimapspool = config_getswitch(IMAPOPT_HASHIMAPSPOOL);

    ms->ns.altnamespace = config_getswitch(IMAPOPT_ALTNAMESPACE);
    ms->ns.unixhierarchysep = config_getswitch(IMAPOPT_UNIXHIERARCHYSEP);
    s = config_getenum(IMAPOPT_VIRTDOMAINS);
    ms->ns.virtdomains = s && strcmp(s, "off");
    s = config_getstring(IMAPOPT_DEFAULTDOMAIN);
    ms->ns.defaultdomain = s ? xstrdup(s) : NULL;
    ms->ns.userprefix = dup_or(config_getstring(IMAPOPT_USERPREFIX),
                               "Other Users");
    ms->ns.sharedprefix = dup_or(config_getstring(IMAPOPT_SHAREDPREFIX),
                                 "Shared Folders");
    ms->ns.altprefix = dup_or(config_getstring(IMAPOPT_ALTPREFIX),
                              "Alt Folders");

    ms->autocreate_quota = (int)config_getint(IMAPOPT_AUTOCREATE_QUOTA);
    ms->autocreate_quota_messages =
        (int)config_getint(IMAPOPT_AUTOCREATE_QUOTA_MESSAGES);
    split_folders(config_getstring(IMAPOPT_AUTOCREATE_INBOX_FOLDERS),
                  &ms->autocreate_folders);
    split_folders(config_getstring(IMAPOPT_AUTOCREATE_SUBSCRIBE_FOLDERS),
                  &ms->autocreate_subscribe);
    ms->maxmessagesize = (uint64_t)config_getint(IMAPOPT_MAXMESSAGESIZE);
    ms->quotawarn = (int)config_getint(IMAPOPT_QUOTAWARN);
    ms->quotawarnkb = config_getint(IMAPOPT_QUOTAWARNKB);
    ms->quotawarnmsg = config_getint(IMAPOPT_QUOTAWARNMSG);
    ms->strict_quota = 1;
    s = config_getenum(IMAPOPT_DELETE_MODE);
    ms->delete_immediate = s && !strcmp(s, "immediate");
    s = config_getstring(IMAPOPT_ANNOTATION_DB_PATH);
    if (s && *s)
        ms->annotation_db = xstrdup(s);
    else if (ms->configdir)
        ms->annotation_db = strconcat(ms->configdir, "/annotations.db",
                                      (char *)NULL);
    ms->annotation_allow_undefined =
        config_getswitch(IMAPOPT_ANNOTATION_ALLOW_UNDEFINED);
    specialuse_settings(ms);
    if (!ms->configdir) {
        buf_appendcstr(err, "configdirectory is not set");
        return -1;
    }
    return 0;
}

void imapd_mailbox_settings_fini(struct imapd_mailbox_settings *ms)
{
    xfree(ms->configdir);
    xfree(ms->defaultpartition);
    xfree(ms->defaultacl);
    free((char *)ms->ns.defaultdomain);
    free((char *)ms->ns.userprefix);
    free((char *)ms->ns.sharedprefix);
    free((char *)ms->ns.altprefix);
    memset(&ms->ns, 0, sizeof(ms->ns));
    strarray_fini(&ms->autocreate_folders);
    strarray_fini(&ms->autocreate_subscribe);
    xfree(ms->annotation_db);
    strarray_fini(&ms->specialuse_allowed);
    strarray_fini(&ms->autocreate_uses);
}

static struct mboxlist_settings mboxlist_st;

int imapd_mailbox_process_init(const struct imapd_mailbox_settings *ms)
{
    if (!ms->configdir) {
        log_error("imapd: no configdirectory, mailboxes unavailable");
        return -1;
    }
    if (cyrusdb_init(ms->configdir, 0)) {
        log_error("imapd: cannot open the database environment in %s",
                  ms->configdir);
        return -1;
    }
    mboxlist_st.configdir = ms->configdir;
    mboxlist_st.defaultpartition = ms->defaultpartition;
    mboxlist_st.hashimapspool = ms->hashimapspool;
    mboxlist_st.partition_dir = config_partitiondir;
    if (mboxlist_open(&mboxlist_st)) {
        log_error("imapd: cannot open mailboxes.db");
        return -1;
    }
    if (quota_open(ms->configdir)) {
        log_error("imapd: cannot open the quota database");
        return -1;
    }
    if (annotate_open(ms->annotation_db)) {
        log_error("imapd: cannot open the annotations database");
        return -1;
    }
    return 0;
}

void imapd_mailbox_process_done(void)
{
    annotate_close();
    quota_close();
    mboxlist_close();
    cyrusdb_done();
}

/* The store operations' view of this session's settings. */
void imapd_mailbox_ops(const struct imapd_session *s,
                       struct mboxops_settings *st)
{
    const struct imapd_mailbox_settings *ms = &s->settings->mbox;

    st->configdir = ms->configdir;
    st->defaultpartition = ms->defaultpartition;
    st->defaultacl = ms->defaultacl;
    st->implicit_owner = ms->implicit_owner;
    st->ns = &s->ns;
}

void imapd_mailbox_login(struct imapd_session *s)
{
    const struct imapd_mailbox_settings *ms = &s->settings->mbox;
    struct mboxops_settings st;

    s->ns = ms->ns;
    s->ns.isadmin = s->isadmin;
    strarray_fini(&s->groups);
    if (s->userid)
        acl_unix_groups(s->userid, &s->groups);

    if (ms->autocreate_quota < 0 || !s->userid || s->isadmin ||
        !strcasecmp(s->userid, "anonymous"))
        return;
    char *inbox = mboxname_user_inbox(&s->ns, s->userid);
    struct mboxlist_entry e;
    memset(&e, 0, sizeof(e));
    if (!inbox || mboxlist_lookup(inbox, &e) != MBOXLIST_NOTFOUND) {
        mboxlist_entry_fini(&e);
        free(inbox);
        return;
    }
    free(inbox);
    imapd_mailbox_ops(s, &st);
    int r = mboxops_create_user(&st, s->userid, ms->autocreate_quota,
                                ms->autocreate_quota_messages,
                                &ms->autocreate_folders,
                                &ms->autocreate_subscribe);
    if (r && r != MBOXOPS_EXISTS)
        log_error("autocreate INBOX of %s: %s", s->userid, mboxops_strerror(r));
    else if (!r) {
        log_notice("autocreated INBOX of %s", s->userid);
        imapd_specialuse_autocreate(s);
    }
}

void imapd_mailbox_subject(const struct imapd_session *s,
                           struct acl_subject *who)
{
    who->userid = s->userid;
    who->groups = &s->groups;
    who->isadmin = s->isadmin;
}

acl_rights_t imapd_mailbox_rights(const struct imapd_session *s,
                                  const char *intname, const char *acl)
{
    struct mboxops_settings st;
    struct acl_subject who;

    imapd_mailbox_ops(s, &st);
    imapd_mailbox_subject(s, &who);
    return mboxops_rights(&st, &who, intname, acl);
}

char *imapd_mailbox_extname(const struct imapd_session *s, const char *intname)
{
    char *ext = mboxname_to_external(&s->ns, intname, s->userid);
    char *wire;

    if (!ext || !imapd_utf8_names(s))
        return ext;
    wire = imapd_name_to_wire(s, ext);
    free(ext);
    return wire;
}

char *imapd_mailbox_inbox(const struct imapd_session *s)
{
    return s->userid ? mboxname_user_inbox(&s->ns, s->userid) : NULL;
}

int imapd_mailbox_path(const struct mboxlist_entry *entry, struct buf *path)
{
    return mboxlist_path(entry->name, entry->partition, path);
}

void imapd_mbox_fini(struct imapd_mbox *mb)
{
    xfree(mb->intname);
    mboxlist_entry_fini(&mb->entry);
    memset(&mb->entry, 0, sizeof(mb->entry));
    mb->exists = mb->selectable = 0;
    mb->rights = 0;
}

/* --- names on the wire --- */

int imapd_utf8_names(const struct imapd_session *s)
{
    return (s->enabled & (IMAPD_EXT_UTF8_ACCEPT | IMAPD_EXT_IMAP4REV2)) != 0;
}

char *imapd_name_from_wire(const struct imapd_session *s, const char *name)
{
    struct buf norm = BUF_INITIALIZER, out = BUF_INITIALIZER;

    if (!imapd_utf8_names(s))
        return xstrdup(name);
    if (!utf8_name_chars_ok(name) ||
        utf8_nfc(name, strlen(name), &norm) < 0 ||
        utf7_encode(buf_cstring(&norm), &out) < 0) {
        buf_free(&norm);
        buf_free(&out);
        return NULL;
    }
    buf_free(&norm);
    return buf_release(&out);
}

char *imapd_name_to_wire(const struct imapd_session *s, const char *name)
{
    struct buf out = BUF_INITIALIZER;

    if (!imapd_utf8_names(s) || utf7_decode(name, &out) < 0) {
        buf_free(&out);
        return xstrdup(name);
    }
    return buf_release(&out);
}

char *imapd_name_normalized(const struct imapd_session *s, const char *name)
{
    struct buf norm = BUF_INITIALIZER;

    if (!imapd_utf8_names(s) || utf8_nfc(name, strlen(name), &norm) < 0 ||
        !strcmp(buf_cstring(&norm), name)) {
        buf_free(&norm);
        return NULL;
    }
    return buf_release(&norm);
}

/* The internal name of wire name `extname`, or NULL. */
static char *wire_to_intname(const struct imapd_session *s,
                             const char *extname, int normalize)
{
    struct buf raw = BUF_INITIALIZER;
    char *stored, *intname;

    if (normalize) {
        stored = imapd_name_from_wire(s, extname);
    }
    else {
        if (!utf8_name_chars_ok(extname) || utf7_encode(extname, &raw) < 0) {
            buf_free(&raw);
            return NULL;
        }
        stored = buf_release(&raw);
    }
    if (!stored)
        return NULL;
    intname = mboxname_from_external(&s->ns, stored, s->userid);
    free(stored);
    return intname;
}

char *imapd_mailbox_intname(const struct imapd_session *s,
                            const char *extname)
{
    return wire_to_intname(s, extname, 1);
}

enum imapd_error imapd_mailbox_resolve(struct imapd_session *s,
                                       const char *extname,
                                       struct imapd_mbox *mb)
{
    int r;

    memset(mb, 0, sizeof(*mb));
    mb->intname = wire_to_intname(s, extname, 1);
    if (!mb->intname)
        return IMAPD_ERR_BADNAME;
    r = mboxlist_lookup(mb->intname, &mb->entry);
    if (r == MBOXLIST_NOTFOUND && imapd_utf8_names(s)) {
        /* A name made in modified UTF-7 by an IMAP4rev1 client need not
         * be in NFC: as the client spelt it, it may still be there. */
        char *raw = wire_to_intname(s, extname, 0);

        if (raw && strcmp(raw, mb->intname) &&
            mboxlist_lookup(raw, &mb->entry) == 0) {
            free(mb->intname);
            mb->intname = raw;
            raw = NULL;
            r = 0;
        }
        free(raw);
    }
    if (r == MBOXLIST_NOTFOUND) {
        memset(&mb->entry, 0, sizeof(mb->entry));
        return IMAPD_ERR_OK;
    }
    if (r) {
        memset(&mb->entry, 0, sizeof(mb->entry));
        return imapd_error_mboxlist(r);
    }
    mb->rights = imapd_mailbox_rights(s, mb->intname, mb->entry.acl);
    if (!(mb->rights & ACL_LOOKUP)) {
        /* RFC 4314 section 4: invisible is the same as absent. */
        mboxlist_entry_fini(&mb->entry);
        memset(&mb->entry, 0, sizeof(mb->entry));
        mb->rights = 0;
        return IMAPD_ERR_OK;
    }
    mb->exists = 1;
    mb->selectable = mb->entry.type == MBTYPE_EMAIL;
    return IMAPD_ERR_OK;
}

int imapd_mailbox_reveal(struct imapd_session *s, struct imapd_mbox *mb,
                         acl_rights_t any)
{
    struct mboxlist_entry entry;
    acl_rights_t rights;

    if (mb->exists || !mb->intname || !any)
        return mb->exists;
    memset(&entry, 0, sizeof(entry));
    if (mboxlist_lookup(mb->intname, &entry) != MBOXLIST_OK)
        return 0;
    rights = imapd_mailbox_rights(s, mb->intname, entry.acl);
    if (!(rights & any)) {
        mboxlist_entry_fini(&entry);
        return 0;
    }
    mboxlist_entry_fini(&mb->entry);
    mb->entry = entry;
    mb->rights = rights;
    mb->exists = 1;
    mb->selectable = entry.type == MBTYPE_EMAIL;
    return 1;
}

enum imapd_error imapd_mailbox_check(const struct imapd_mbox *mb,
                                     acl_rights_t need, int trycreate)
{
    if (!mb->exists || !mb->selectable)
        return trycreate ? IMAPD_ERR_TRYCREATE : IMAPD_ERR_NONEXISTENT;
    if ((mb->rights & need) != need)
        return IMAPD_ERR_NOPERM;
    return IMAPD_ERR_OK;
}

enum imapd_error imapd_mailbox_need(struct imapd_session *s,
                                    const char *extname, acl_rights_t need,
                                    int trycreate, struct imapd_mbox *mb)
{
    enum imapd_error e = imapd_mailbox_resolve(s, extname, mb);

    if (!e)
        imapd_mailbox_reveal(s, mb, need);
    if (e == IMAPD_ERR_BADNAME)
        e = trycreate ? IMAPD_ERR_TRYCREATE : IMAPD_ERR_NONEXISTENT;
    if (!e)
        e = imapd_mailbox_check(mb, need, trycreate);
    if (e)
        imapd_mbox_fini(mb);
    return e;
}

/* --- writing names --- */

static int is_atom_char(unsigned char c)
{
    if (c <= 0x20 || c >= 0x7f)
        return 0;
    return !strchr("(){%*\"\\]", c);
}

void imapd_print_astring(struct protstream *p, const char *name)
{
    const unsigned char *c;
    int atom = *name != '\0' && strcasecmp(name, "NIL");

    for (c = (const unsigned char *)name; *c && atom; c++)
        if (!is_atom_char(*c))
            atom = 0;
    if (atom) {
        prot_puts(p, name);
        return;
    }
    imapd_print_string(p, name);
}

void imapd_print_mailbox(struct imapd_session *s, const char *name)
{
    const unsigned char *c;
    size_t len = strlen(name);
    int quotable = imapd_utf8_names(s) && utf8_has8bit(name) && len < 1024 &&
                   utf8_valid(name, len);

    for (c = (const unsigned char *)name; *c && quotable; c++)
        if (*c == '\r' || *c == '\n')
            quotable = 0;
    if (!quotable) {
        imapd_print_astring(s->prot, name);
        return;
    }
    prot_putc('"', s->prot);
    for (c = (const unsigned char *)name; *c; c++) {
        if (*c == '"' || *c == '\\')
            prot_putc('\\', s->prot);
        prot_putc((char)*c, s->prot);
    }
    prot_putc('"', s->prot);
}

void imapd_print_string(struct protstream *p, const char *str)
{
    const unsigned char *c;
    size_t len = strlen(str);
    int quotable = len < 1024;

    for (c = (const unsigned char *)str; *c && quotable; c++)
        if (*c == '\r' || *c == '\n' || *c >= 0x80)
            quotable = 0;
    if (!quotable) {
        prot_printf(p, "{%zu}\r\n", len);
        prot_write(p, str, len);
        return;
    }
    prot_putc('"', p);
    for (c = (const unsigned char *)str; *c; c++) {
        if (*c == '"' || *c == '\\')
            prot_putc('\\', p);
        prot_putc((char)*c, p);
    }
    prot_putc('"', p);
}

/* --- quota warnings --- */

void imapd_mailbox_quotawarn(struct imapd_session *s, const char *intname)
{
    const struct imapd_mailbox_settings *ms = &s->settings->mbox;
    char *root = quota_findroot(intname);
    struct quota q;

    if (!root)
        return;
    memset(&q, 0, sizeof(q));
    if (quota_read(root, &q)) {
        free(root);
        return;
    }
    for (int res = 0; res < QUOTA_NUMRESOURCES; res++) {
        int64_t limit = q.limit[res], used = q.used[res];
        int warn = 0;

        if (limit < 0)
            continue;
        if (res == QUOTA_STORAGE || res == QUOTA_ANNOTSTORAGE)
            used /= 1024; /* usage in bytes, limits in KiB */
        if (used >= limit)
            warn = 2;
        else if (limit > 0 && ms->quotawarn > 0 &&
                 used * 100 >= limit * (int64_t)ms->quotawarn)
            warn = 1;
        else if (res == QUOTA_STORAGE && ms->quotawarnkb > 0 &&
                 limit - used < ms->quotawarnkb)
            warn = 1;
        else if (res == QUOTA_MESSAGE && ms->quotawarnmsg > 0 &&
                 limit - used < ms->quotawarnmsg)
            warn = 1;
        if (!warn)
            continue;
        if (warn == 2)
            prot_printf(s->prot, "* NO [ALERT] Mailbox is over %s quota\r\n",
                        quota_resource_name(res));
        else
            prot_printf(s->prot,
                        "* NO [ALERT] Mailbox is at %d%% of %s quota\r\n",
                        limit ? (int)(used * 100 / limit) : 100,
                        quota_resource_name(res));
    }
    quota_fini(&q);
    free(root);
}
