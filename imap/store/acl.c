/* acl.c -- RFC 4314 access control lists; see acl.h. */
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "imap/store/acl.h"
#include "lib/xmalloc.h"

/* Output order of the letters; c and d are placed as RFC 4314's examples
 * and Cyrus place them. */
static const struct {
    char letter;
    acl_rights_t bits;
} letters[] = {
    {'l', ACL_LOOKUP},  {'r', ACL_READ},          {'s', ACL_SETSEEN},
    {'w', ACL_WRITE},   {'i', ACL_INSERT},        {'p', ACL_POST},
    {'k', ACL_CREATE},  {'x', ACL_DELETEMBOX},    {'t', ACL_DELETEMSG},
    {'e', ACL_EXPUNGE}, {'c', ACL_LEGACY_CREATE}, {'d', ACL_LEGACY_DELETE},
    {'a', ACL_ADMIN},   {'n', ACL_ANNOTATEMSG},
};
#define NLETTERS (sizeof(letters) / sizeof(letters[0]))

/* The rights words cyradm accepts in place of letters. */
static const struct {
    const char *word;
    const char *rights;
} words[] = {
    {"none", ""},
    {"read", "lrs"},
    {"post", "lrsp"},
    {"append", "lrsip"},
    {"write", "lrswipkxte"},
    {"delete", "lrxte"},
    {"all", "lrswipkxtean"},
};

/* Parse letters; with `skipdigits`, Cyrus's site-defined rights 0-9 are
 * ignored rather than refused (they may be in imported ACLs). */
static int parse_letters(const char *s, acl_rights_t *out, int skipdigits)
{
    acl_rights_t result = 0, legacy = 0;

    for (const char *p = s; *p; p++) {
        size_t i;
        for (i = 0; i < NLETTERS; i++)
            if (letters[i].letter == *p) break;
        if (i == NLETTERS) {
            if (skipdigits && *p >= '0' && *p <= '9') continue;
            return (unsigned char)*p;
        }
        if (*p == 'c' || *p == 'd')
            legacy |= letters[i].bits;
        else
            result |= letters[i].bits;
    }
    /* A macro adds its members only if none of them is named too.  Our
     * own output shows "c" beside "k" alone, so a client writing back a
     * string it read ("lrkc") must not be granted 'x' by doing so. */
    if (!(result & ACL_LEGACY_CREATE)) result |= legacy & ACL_LEGACY_CREATE;
    if (!(result & ACL_LEGACY_DELETE)) result |= legacy & ACL_LEGACY_DELETE;
    *out = result;
    return 0;
}

int acl_rights_parse(const char *s, acl_rights_t *out)
{
    return parse_letters(s, out, 0);
}

int acl_rights_parse_name(const char *s, acl_rights_t *out)
{
    for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
        if (!strcmp(s, words[i].word))
            return parse_letters(words[i].rights, out, 0);
    return parse_letters(s, out, 0);
}

int acl_rights_parse_mod(const char *s, enum acl_mode *mode, acl_rights_t *out)
{
    *mode = ACL_MODE_SET;
    if (*s == '+') {
        *mode = ACL_MODE_ADD;
        s++;
    } else if (*s == '-') {
        *mode = ACL_MODE_REMOVE;
        s++;
    }
    return acl_rights_parse(s, out);
}

char *acl_rights_format(acl_rights_t rights, char *dst)
{
    char *p = dst;
    for (size_t i = 0; i < NLETTERS; i++)
        if (rights & letters[i].bits) *p++ = letters[i].letter;
    *p = '\0';
    return dst;
}

static int find_entry(const struct acl *acl, const char *id, int negative)
{
    for (int i = 0; i < acl->count; i++)
        if (acl->entries[i].negative == negative &&
            !strcmp(acl->entries[i].id, id))
            return i;
    return -1;
}

static void remove_at(struct acl *acl, int idx)
{
    free(acl->entries[idx].id);
    memmove(acl->entries + idx, acl->entries + idx + 1,
            sizeof(struct acl_entry) * (size_t)(acl->count - idx - 1));
    acl->count--;
}

void acl_set(struct acl *acl, const char *id, enum acl_mode mode,
             acl_rights_t rights)
{
    int negative = (*id == '-');
    if (negative) id++;

    int idx = find_entry(acl, id, negative);
    acl_rights_t cur = idx >= 0 ? acl->entries[idx].rights : 0;
    switch (mode) {
    case ACL_MODE_SET:
        cur = rights;
        break;
    case ACL_MODE_ADD:
        cur |= rights;
        break;
    case ACL_MODE_REMOVE:
        cur &= ~rights;
        break;
    }
    cur &= ACL_ALL;

    if (!cur) {
        if (idx >= 0) remove_at(acl, idx);
        return;
    }
    if (idx >= 0) {
        acl->entries[idx].rights = cur;
        return;
    }
    if (acl->count == acl->alloc) {
        acl->alloc = acl->alloc ? acl->alloc * 2 : 4;
        acl->entries = xrealloc(acl->entries,
                                sizeof(struct acl_entry) * (size_t)acl->alloc);
    }
    acl->entries[acl->count].id = xstrdup(id);
    acl->entries[acl->count].negative = negative;
    acl->entries[acl->count].rights = cur;
    acl->count++;
}

int acl_remove(struct acl *acl, const char *id)
{
    int negative = (*id == '-');
    int idx = find_entry(acl, negative ? id + 1 : id, negative);
    if (idx < 0) return 0;
    remove_at(acl, idx);
    return 1;
}

acl_rights_t acl_get(const struct acl *acl, const char *id)
{
    int negative = (*id == '-');
    int idx = find_entry(acl, negative ? id + 1 : id, negative);
    return idx >= 0 ? acl->entries[idx].rights : 0;
}

void acl_fini(struct acl *acl)
{
    for (int i = 0; i < acl->count; i++)
        free(acl->entries[i].id);
    xfree(acl->entries);
    acl->count = acl->alloc = 0;
}

/* Parse alternating identifier and rights fields separated by any of
 * `seps`, into a scratch ACL that replaces nothing until all is well. */
static int parse_pairs(struct acl *acl, const char *str, const char *seps,
                       int skipempty)
{
    struct acl tmp = ACL_INITIALIZER;
    char *copy = xstrdup(str);
    char *id = NULL, *p = copy;
    int r = 0;

    while (*p) {
        size_t len = strcspn(p, seps);
        char *field = p;
        p += len;
        if (*p) *p++ = '\0';
        if (!len && skipempty) continue;
        if (!id) {
            if (!len || !strcmp(field, "-")) {
                r = -1;
                break;
            }
            id = field;
            continue;
        }
        acl_rights_t rights;
        if (parse_letters(field, &rights, 1)) {
            r = -1;
            break;
        }
        acl_set(&tmp, id, ACL_MODE_SET, rights);
        id = NULL;
    }
    if (id) r = -1;

    for (int i = 0; !r && i < tmp.count; i++) {
        struct acl_entry *e = &tmp.entries[i];
        char *name =
            e->negative ? strconcat("-", e->id, (char *)NULL) : xstrdup(e->id);
        acl_set(acl, name, ACL_MODE_SET, e->rights);
        free(name);
    }
    acl_fini(&tmp);
    free(copy);
    return r;
}

int acl_parse(struct acl *acl, const char *str)
{
    return parse_pairs(acl, str, "\t", 0);
}

int acl_parse_config(struct acl *acl, const char *str)
{
    return parse_pairs(acl, str, " \t", 1);
}

char *acl_format(const struct acl *acl)
{
    struct buf buf = BUF_INITIALIZER;
    char rights[ACL_RIGHTS_MAX];

    buf_setcstr(&buf, "");
    for (int i = 0; i < acl->count; i++) {
        const struct acl_entry *e = &acl->entries[i];
        buf_printf(&buf, "%s%s\t%s\t", e->negative ? "-" : "", e->id,
                   acl_rights_format(e->rights, rights));
    }
    return buf_release(&buf);
}

static int is_anonymous(const struct acl_subject *who)
{
    return !who->userid || !strcmp(who->userid, "anonymous");
}

int acl_subject_matches(const struct acl_subject *who, const char *id)
{
    if (!strcmp(id, "anyone")) return 1;
    if (is_anonymous(who)) return !strcmp(id, "anonymous");
    if (!strncmp(id, "group:", 6))
        return who->groups && strarray_find(who->groups, id, 0) >= 0;
    return !strcmp(id, who->userid);
}

acl_rights_t acl_myrights(const struct acl *acl, const struct acl_subject *who,
                          const struct acl_mailbox *mbox,
                          acl_rights_t implicit_owner)
{
    acl_rights_t granted = 0, denied = 0;

    for (int i = 0; i < acl->count; i++) {
        const struct acl_entry *e = &acl->entries[i];
        if (!acl_subject_matches(who, e->id)) continue;
        if (e->negative)
            denied |= e->rights;
        else
            granted |= e->rights;
    }
    acl_rights_t rights = granted & ~denied;

    if (mbox && mbox->owner && !is_anonymous(who) &&
        !strcmp(mbox->owner, who->userid))
        rights |= implicit_owner;
    /* Mail may always be delivered to an INBOX. */
    if (mbox && mbox->isinbox) rights |= ACL_POST;
    if (who->isadmin) rights |= ACL_ADMIN_IMPLICIT;
    return rights & ACL_ALL;
}

acl_rights_t acl_myrights_str(const char *aclstr, const struct acl_subject *who,
                              const struct acl_mailbox *mbox,
                              acl_rights_t implicit_owner)
{
    struct acl acl = ACL_INITIALIZER;
    /* a damaged ACL grants nothing, but the implicit rights still hold */
    if (acl_parse(&acl, aclstr ? aclstr : "") < 0) acl_fini(&acl);
    acl_rights_t r = acl_myrights(&acl, who, mbox, implicit_owner);
    acl_fini(&acl);
    return r;
}

char *acl_for_new_mailbox(const char *parent_acl, const char *owner,
                          const char *defaultacl)
{
    struct acl acl = ACL_INITIALIZER;

    if (parent_acl) return xstrdup(parent_acl);
    if (owner)
        acl_set(&acl, owner, ACL_MODE_SET, ACL_ALL);
    else if (defaultacl && acl_parse_config(&acl, defaultacl) < 0)
        acl_fini(&acl);
    char *r = acl_format(&acl);
    acl_fini(&acl);
    return r;
}

void acl_listrights(const char *id, const struct acl_mailbox *mbox,
                    acl_rights_t implicit_owner, char required[ACL_RIGHTS_MAX],
                    strarray_t *optional)
{
    acl_rights_t always = 0;
    char opt[ACL_RIGHTS_MAX];

    /* what myrights() adds whatever the ACL says; negative entries are
     * only ever granted optional rights to deny */
    if (*id != '-') {
        if (mbox->owner && !strcmp(id, mbox->owner)) always |= implicit_owner;
        if (mbox->isinbox) always |= ACL_POST;
    }
    always &= ACL_ALL;
    acl_rights_format(always, required);
    acl_rights_format(ACL_ALL & ~always, opt);
    for (char *p = opt; *p; p++) {
        char group[2] = {*p, '\0'};
        strarray_append(optional, group);
    }
}

static void add_group(strarray_t *groups, const char *name, int *n)
{
    char *id = strconcat("group:", name, (char *)NULL);
    if (strarray_find(groups, id, 0) < 0) {
        strarray_appendm(groups, id);
        (*n)++;
    } else {
        free(id);
    }
}

int acl_unix_groups(const char *userid, strarray_t *groups)
{
    int n = 0;
    struct passwd *pw = getpwnam(userid);

    if (pw) {
        int ngroups = 16;
        gid_t *gids = xmalloc(sizeof(gid_t) * (size_t)ngroups);
        gid_t base = pw->pw_gid;
        while (getgrouplist(userid, base, gids, &ngroups) < 0)
            gids = xrealloc(gids, sizeof(gid_t) * (size_t)ngroups);
        for (int i = 0; i < ngroups; i++) {
            struct group *gr = getgrgid(gids[i]);
            if (gr) add_group(groups, gr->gr_name, &n);
        }
        free(gids);
        return n;
    }

    /* No account: membership can still be listed in the group file. */
    struct group *gr;
    setgrent();
    while ((gr = getgrent()) != NULL) {
        for (char **m = gr->gr_mem; m && *m; m++) {
            if (!strcmp(*m, userid)) {
                add_group(groups, gr->gr_name, &n);
                break;
            }
        }
    }
    endgrent();
    return n;
}
