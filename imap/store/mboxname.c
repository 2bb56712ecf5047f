/* mboxname.c -- internal and external mailbox names; see mboxname.h. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "imap/store/mboxname.h"
#include "lib/strarray.h"
#include "lib/utf7.h"
#include "lib/xmalloc.h"

/* A name taken apart: the domain (NULL for the default one), the owning
 * user's localpart (NULL for shared mailboxes) and the folder components
 * below it, all with their escapes undone ('^' is back to '.'). */
struct mbparts {
    char *domain;
    char *localpart;
    strarray_t boxes;
};

#define MBPARTS_INITIALIZER                                                    \
    {                                                                          \
        NULL, NULL, STRARRAY_INITIALIZER                                       \
    }

static void mbparts_fini(struct mbparts *mp)
{
    xfree(mp->domain);
    xfree(mp->localpart);
    strarray_fini(&mp->boxes);
}

static int streq_null(const char *a, const char *b)
{
    if (!a || !b) return a == b;
    return !strcmp(a, b);
}

char mboxname_sep(const struct mboxname_ns *ns)
{
    return ns->unixhierarchysep ? '/' : '.';
}

/* Alternate namespace rules apply to ordinary users only, as in Cyrus. */
static int is_alt(const struct mboxname_ns *ns)
{
    return ns->altnamespace && !ns->isadmin;
}

static char *domain_or_null(const struct mboxname_ns *ns, const char *domain)
{
    if (!domain || !*domain) return NULL;
    if (ns->defaultdomain && !strcasecmp(domain, ns->defaultdomain))
        return NULL;
    return xstrdup(domain);
}

/* Split a userid into localpart and domain.  Without virtual domains the
 * whole userid is the localpart. */
static void split_userid(const struct mboxname_ns *ns, const char *userid,
                         char **localpart, char **domain)
{
    const char *at = ns->virtdomains ? strrchr(userid, '@') : NULL;
    if (at) {
        *localpart = xstrndup(userid, (size_t)(at - userid));
        *domain = domain_or_null(ns, at + 1);
    } else {
        *localpart = xstrdup(userid);
        *domain = NULL;
    }
}

static char *unescape_internal(const char *s, size_t len)
{
    char *r = xstrndup(s, len);
    for (char *p = r; *p; p++)
        if (*p == '^') *p = '.';
    return r;
}

static void parse_internal(const char *intname, struct mbparts *mp)
{
    const char *bang = strchr(intname, '!');
    if (bang) {
        mp->domain = xstrndup(intname, (size_t)(bang - intname));
        intname = bang + 1;
    }
    const char *p = intname;
    while (*p) {
        const char *dot = strchr(p, '.');
        size_t len = dot ? (size_t)(dot - p) : strlen(p);
        strarray_appendm(&mp->boxes, unescape_internal(p, len));
        p += len;
        if (*p) p++;
    }
    if (mp->boxes.count > 1 && !strcmp(mp->boxes.data[0], "user")) {
        mp->localpart = xstrdup(mp->boxes.data[1]);
        strarray_remove(&mp->boxes, 0);
        strarray_remove(&mp->boxes, 0);
    }
}

static void append_internal(struct buf *buf, const char *component)
{
    for (const char *p = component; *p; p++)
        buf_putc(buf, *p == '.' ? '^' : *p);
}

static char *build_internal(const struct mbparts *mp)
{
    struct buf buf = BUF_INITIALIZER;
    int sep = 0;

    if (mp->domain) {
        buf_appendcstr(&buf, mp->domain);
        buf_putc(&buf, '!');
    }
    if (mp->localpart) {
        buf_appendcstr(&buf, "user.");
        append_internal(&buf, mp->localpart);
        sep = 1;
    }
    for (int i = 0; i < mp->boxes.count; i++) {
        if (sep) buf_putc(&buf, '.');
        append_internal(&buf, mp->boxes.data[i]);
        sep = 1;
    }
    return buf_release(&buf);
}

/* Append one component in external form; -1 if it holds the separator
 * and so cannot be shown. */
static int append_external(const struct mboxname_ns *ns, struct buf *buf,
                           const char *component)
{
    char sep = mboxname_sep(ns);
    for (const char *p = component; *p; p++) {
        if (*p == '.' && sep == '.') {
            buf_putc(buf, '^');
        } else if (*p == sep) {
            return -1;
        } else {
            buf_putc(buf, *p);
        }
    }
    return 0;
}

static int append_boxes(const struct mboxname_ns *ns, struct buf *buf,
                        const strarray_t *boxes, int from, int leadsep)
{
    for (int i = from; i < boxes->count; i++) {
        if (leadsep || i > from) buf_putc(buf, mboxname_sep(ns));
        if (append_external(ns, buf, boxes->data[i]) < 0) return -1;
    }
    return 0;
}

static int is_alt_prefix(const struct mboxname_ns *ns, const char *top)
{
    return streq_null(top, ns->userprefix) ||
           streq_null(top, ns->sharedprefix) || streq_null(top, ns->altprefix);
}

/* The alternate namespace: personal folders at the top, other users and
 * shared folders under their prefixes.  Personal top-level folders that
 * would be read as something else ("Inbox", "Other Users", ...) are shown
 * under the alt prefix; an exact "INBOX" folder with children shows them
 * as INBOX's own. */
static int external_alt(const struct mboxname_ns *ns, const struct mbparts *mp,
                        int own, struct buf *buf)
{
    char sep = mboxname_sep(ns);

    if (!mp->localpart) {
        if (!mp->boxes.count) return -1;
        if (mp->boxes.count == 1 && !strcmp(mp->boxes.data[0], "user")) {
            buf_appendcstr(buf, ns->userprefix);
            return 0;
        }
        buf_appendcstr(buf, ns->sharedprefix);
        return append_boxes(ns, buf, &mp->boxes, 0, 1);
    }
    if (!own) {
        buf_appendcstr(buf, ns->userprefix);
        buf_putc(buf, sep);
        if (append_external(ns, buf, mp->localpart) < 0) return -1;
        return append_boxes(ns, buf, &mp->boxes, 0, 1);
    }
    if (!mp->boxes.count) {
        buf_appendcstr(buf, "INBOX");
        return 0;
    }
    const char *top = mp->boxes.data[0];
    if (!strcasecmp(top, "INBOX")) {
        if (mp->boxes.count == 1 || strcmp(top, "INBOX")) {
            buf_appendcstr(buf, ns->altprefix);
            buf_putc(buf, sep);
        }
    } else if (is_alt_prefix(ns, top)) {
        buf_appendcstr(buf, ns->altprefix);
        buf_putc(buf, sep);
    }
    return append_boxes(ns, buf, &mp->boxes, 0, 0);
}

static int external_std(const struct mboxname_ns *ns, const struct mbparts *mp,
                        int own, struct buf *buf)
{
    char sep = mboxname_sep(ns);

    if (!mp->localpart) {
        /* a shared "INBOX" would be taken for the user's own */
        if (!mp->boxes.count || !strcasecmp(mp->boxes.data[0], "INBOX"))
            return -1;
        return append_boxes(ns, buf, &mp->boxes, 0, 0);
    }
    if (own) {
        buf_appendcstr(buf, "INBOX");
    } else {
        buf_appendcstr(buf, "user");
        buf_putc(buf, sep);
        if (append_external(ns, buf, mp->localpart) < 0) return -1;
    }
    return append_boxes(ns, buf, &mp->boxes, 0, 1);
}

char *mboxname_to_external(const struct mboxname_ns *ns, const char *intname,
                           const char *userid)
{
    struct mbparts mp = MBPARTS_INITIALIZER;
    struct buf buf = BUF_INITIALIZER;
    char *ulocal = NULL, *udomain = NULL;
    int r = -1;

    if (!intname || !*intname) return NULL;
    parse_internal(intname, &mp);
    if (mp.domain && !ns->virtdomains) goto done;
    if (userid) split_userid(ns, userid, &ulocal, &udomain);

    /* Users only ever see their own domain; admins see every domain, the
     * others spelt with an "@domain" suffix. */
    int samedomain = streq_null(mp.domain, udomain);
    if (!samedomain && !ns->isadmin) goto done;

    int own =
        ulocal && mp.localpart && samedomain && !strcmp(ulocal, mp.localpart);
    r = is_alt(ns) ? external_alt(ns, &mp, own, &buf)
                   : external_std(ns, &mp, own, &buf);
    if (!r && !samedomain) {
        buf_putc(&buf, '@');
        buf_appendcstr(&buf, mp.domain ? mp.domain : ns->defaultdomain);
        if (!mp.domain && !ns->defaultdomain) r = -1;
    }

done:
    mbparts_fini(&mp);
    free(ulocal);
    free(udomain);
    if (r) {
        buf_free(&buf);
        return NULL;
    }
    return buf_release(&buf);
}

/* Split an external name at the separator, undoing its escapes; -1 for
 * an empty component or a character the separator makes unusable. */
static int split_external(const struct mboxname_ns *ns, const char *ext,
                          strarray_t *out)
{
    char sep = mboxname_sep(ns);
    const char *p = ext;

    for (;;) {
        const char *end = strchr(p, sep);
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (!len) return -1;
        char *c = xstrndup(p, len);
        for (char *q = c; *q; q++) {
            if (sep == '.' && *q == '^') {
                *q = '.';
            } else if ((sep == '/' && *q == '^') || (sep == '.' && *q == '/')) {
                /* '^' is how '.' is stored; '/' has no spelling at all */
                free(c);
                return -1;
            }
        }
        strarray_appendm(out, c);
        if (!end) return 0;
        p = end + 1;
    }
}

static char *shift(strarray_t *sa)
{
    char *first = sa->data[0];
    sa->data[0] = NULL;
    memmove(sa->data, sa->data + 1, sizeof(char *) * (size_t)sa->count);
    sa->count--;
    return first;
}

/* Fill mp from an alternate-namespace name; -1 if it names nothing. */
static int internal_alt(const struct mboxname_ns *ns, struct mbparts *mp,
                        const char *ulocal)
{
    const char *top = mp->boxes.data[0];

    if (streq_null(top, ns->userprefix)) {
        free(shift(&mp->boxes));
        if (!mp->boxes.count) return -1;
        mp->localpart = shift(&mp->boxes);
        return 0;
    }
    if (streq_null(top, ns->sharedprefix)) {
        free(shift(&mp->boxes));
        return mp->boxes.count ? 0 : -1;
    }
    if (!ulocal) return -1;
    mp->localpart = xstrdup(ulocal);
    if (streq_null(top, ns->altprefix)) {
        free(shift(&mp->boxes));
        return mp->boxes.count ? 0 : -1;
    }
    if (!strcasecmp(top, "INBOX")) {
        if (mp->boxes.count == 1) {
            free(shift(&mp->boxes));
        } else {
            /* children of INBOX live under an exact "INBOX" folder */
            strcpy(mp->boxes.data[0], "INBOX");
        }
    }
    return 0;
}

static int internal_std(struct mbparts *mp, const char *ulocal)
{
    const char *top = mp->boxes.data[0];

    if (!strcasecmp(top, "INBOX")) {
        if (!ulocal) return -1;
        free(shift(&mp->boxes));
        mp->localpart = xstrdup(ulocal);
        return 0;
    }
    if (!strcmp(top, "user")) {
        free(shift(&mp->boxes));
        if (!mp->boxes.count) return -1;
        mp->localpart = shift(&mp->boxes);
    }
    return 0;
}

char *mboxname_from_external(const struct mboxname_ns *ns, const char *extname,
                             const char *userid)
{
    struct mbparts mp = MBPARTS_INITIALIZER;
    char *ulocal = NULL, *udomain = NULL, *name = NULL, *result = NULL;

    if (!extname || !*extname) return NULL;
    if (userid) split_userid(ns, userid, &ulocal, &udomain);

    name = xstrdup(extname);
    if (ns->virtdomains && ns->isadmin) {
        char *at = strrchr(name, '@');
        if (at) {
            *at = '\0';
            mp.domain = domain_or_null(ns, at + 1);
        } else {
            mp.domain = xstrdupnull(udomain);
        }
    } else if (ns->virtdomains) {
        mp.domain = xstrdupnull(udomain);
    }

    if (split_external(ns, name, &mp.boxes) < 0) goto done;
    /* the user's own folders exist only in the user's own domain */
    const char *self = streq_null(mp.domain, udomain) ? ulocal : NULL;
    int r = is_alt(ns) ? internal_alt(ns, &mp, self) : internal_std(&mp, self);
    if (!r) result = build_internal(&mp);

done:
    mbparts_fini(&mp);
    free(name);
    free(ulocal);
    free(udomain);
    return result;
}

char *mboxname_user_mbox(const struct mboxname_ns *ns, const char *userid,
                         const char *sub)
{
    struct mbparts mp = MBPARTS_INITIALIZER;
    if (!userid || !*userid) return NULL;
    split_userid(ns, userid, &mp.localpart, &mp.domain);
    char *inbox = build_internal(&mp);
    mbparts_fini(&mp);
    if (!sub || !*sub) return inbox;
    char *r = strconcat(inbox, ".", sub, (char *)NULL);
    free(inbox);
    return r;
}

char *mboxname_user_inbox(const struct mboxname_ns *ns, const char *userid)
{
    return mboxname_user_mbox(ns, userid, NULL);
}

char *mboxname_to_userid(const char *intname)
{
    struct mbparts mp = MBPARTS_INITIALIZER;
    char *r = NULL;
    if (!intname) return NULL;
    parse_internal(intname, &mp);
    if (mp.localpart) {
        r = mp.domain ? strconcat(mp.localpart, "@", mp.domain, (char *)NULL)
                      : xstrdup(mp.localpart);
    }
    mbparts_fini(&mp);
    return r;
}

int mboxname_userownsmailbox(const struct mboxname_ns *ns, const char *userid,
                             const char *intname)
{
    if (!userid || !intname) return 0;
    char *inbox = mboxname_user_inbox(ns, userid);
    int r = inbox && mboxname_is_prefix(intname, inbox);
    free(inbox);
    return r;
}

int mboxname_isusermailbox(const char *intname, int inboxonly)
{
    struct mbparts mp = MBPARTS_INITIALIZER;
    if (!intname) return 0;
    parse_internal(intname, &mp);
    int r = mp.localpart && (!inboxonly || !mp.boxes.count);
    mbparts_fini(&mp);
    return r;
}

char *mboxname_domain(const char *intname)
{
    const char *bang = intname ? strchr(intname, '!') : NULL;
    return bang ? xstrndup(intname, (size_t)(bang - intname)) : NULL;
}

char *mboxname_parent(const char *intname)
{
    if (!intname) return NULL;
    const char *bang = strchr(intname, '!');
    const char *local = bang ? bang + 1 : intname;
    const char *dot = strrchr(local, '.');
    if (!dot) return NULL;
    size_t len = (size_t)(dot - intname);
    /* "user" by itself is a container, never a mailbox */
    if (dot - local == 4 && !strncmp(local, "user", 4)) return NULL;
    return xstrndup(intname, len);
}

int mboxname_is_prefix(const char *name, const char *ancestor)
{
    size_t n = strlen(ancestor);
    return !strncmp(name, ancestor, n) && (name[n] == '\0' || name[n] == '.');
}

/* Characters a stored name may use besides '&' (for modified UTF-7).
 * As Cyrus: no controls, and none of !"%&/;<>\`{|} -- '/' and '.' are
 * separators, '%' and '*' patterns, '\' and '"' quoting trouble. */
static const char goodchars[] =
    " #$'()*+,-.0123456789:=?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[]^_"
    "abcdefghijklmnopqrstuvwxyz~";

static int bad(const char **why, const char *reason)
{
    if (why) *why = reason;
    return -1;
}

static int domain_ok(const char *d, size_t len)
{
    if (!len || d[0] == '.' || d[0] == '-' || d[len - 1] == '.') return 0;
    for (size_t i = 0; i < len; i++) {
        char c = d[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '-' || c == '.'))
            return 0;
        if (c == '.' && d[i + 1] == '.') return 0;
    }
    return 1;
}

int mboxname_policycheck(const struct mboxname_ns *ns, const char *intname,
                         const char **why)
{
    if (!intname || !*intname) return bad(why, "empty name");
    if (strlen(intname) > MBOXNAME_MAX) return bad(why, "name too long");
    /* mailboxes.db keys starting with '$' are reserved for the server */
    if (intname[0] == '$') return bad(why, "reserved name");

    const char *name = intname;
    const char *bang = strchr(intname, '!');
    if (bang) {
        if (!ns->virtdomains) return bad(why, "domain without virtdomains");
        if (!domain_ok(intname, (size_t)(bang - intname)))
            return bad(why, "bad domain");
        name = bang + 1;
    }

    size_t len = strlen(name);
    if (!len) return bad(why, "empty name");
    if (name[0] == '.' || name[len - 1] == '.' || strstr(name, ".."))
        return bad(why, "empty hierarchy component");
    if (name[0] == '~') return bad(why, "leading '~'");
    if (!strcmp(name, "user") || !strcmp(name, "user.anyone") ||
        !strcmp(name, "user.anonymous"))
        return bad(why, "reserved name");

    for (const char *p = name; *p; p++)
        if (*p != '&' && !strchr(goodchars, *p))
            return bad(why, "forbidden character");

    struct buf utf8 = BUF_INITIALIZER;
    int r = utf7_decode(name, &utf8);
    for (size_t i = 0; !r && i < utf8.len; i++) {
        unsigned char c = (unsigned char)utf8.s[i];
        if (c < 0x20 || c == 0x7f) r = -1;
    }
    buf_free(&utf8);
    if (r) return bad(why, "bad modified UTF-7");
    return 0;
}

static void append_quoted(struct buf *out, const char *s, char sep)
{
    buf_putc(out, '"');
    for (const char *p = s; *p; p++) {
        if (*p == '"' || *p == '\\') buf_putc(out, '\\');
        buf_putc(out, *p);
    }
    if (sep) buf_putc(out, sep);
    buf_putc(out, '"');
}

static void append_ns_group(struct buf *out, const char *prefix, int withsep,
                            char sep)
{
    buf_appendcstr(out, "((");
    append_quoted(out, prefix, withsep ? sep : 0);
    buf_appendcstr(out, sep == '/' ? " \"/\"))" : " \".\"))");
}

void mboxname_namespace_response(const struct mboxname_ns *ns, struct buf *out)
{
    char sep = mboxname_sep(ns);
    if (is_alt(ns)) {
        append_ns_group(out, "", 0, sep);
        buf_putc(out, ' ');
        append_ns_group(out, ns->userprefix, 1, sep);
        buf_putc(out, ' ');
        append_ns_group(out, ns->sharedprefix, 1, sep);
    } else {
        append_ns_group(out, "INBOX", 1, sep);
        buf_putc(out, ' ');
        append_ns_group(out, "user", 1, sep);
        buf_putc(out, ' ');
        append_ns_group(out, "", 0, sep);
    }
}
