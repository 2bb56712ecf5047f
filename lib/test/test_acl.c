/* test_acl.c -- unit tests for imap/store/acl. */
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <unistd.h>

#include "imap/store/acl.h"
#include "lib/test/unit.h"
#include "lib/xmalloc.h"

static const char *fmt(acl_rights_t r)
{
    static char buf[ACL_RIGHTS_MAX];
    return acl_rights_format(r, buf);
}

static acl_rights_t parse(const char *s)
{
    acl_rights_t r = 0xdead;
    CHECK_INTEQ(acl_rights_parse(s, &r), 0);
    return r;
}

static void test_rights_letters(void)
{
    CHECK_INTEQ(parse("l"), ACL_LOOKUP);
    CHECK_INTEQ(parse("lrswipkxtean"), ACL_ALL);
    CHECK_INTEQ(parse(""), 0);
    CHECK_INTEQ(parse("rl"), ACL_LOOKUP | ACL_READ);
    /* every right, with the virtual c and d in RFC 4314's places */
    CHECK_STREQ(fmt(ACL_ALL), "lrswipkxtecdan");
    CHECK_STREQ(fmt(0), "");
    CHECK_STREQ(fmt(ACL_CREATE), "kc");
    CHECK_STREQ(fmt(ACL_DELETEMBOX), "xc");
    CHECK_STREQ(fmt(ACL_EXPUNGE), "ed");
    CHECK_STREQ(fmt(ACL_LOOKUP | ACL_READ | ACL_SETSEEN), "lrs");

    acl_rights_t r;
    CHECK_INTEQ(acl_rights_parse("lrz", &r), 'z');
    CHECK_INTEQ(acl_rights_parse("L", &r), 'L');
    CHECK_INTEQ(acl_rights_parse("lr0", &r), '0');
}

static void test_rights_legacy(void)
{
    /* c is k and x, d is t and e (RFC 4314 2.1.1) */
    CHECK_INTEQ(parse("c"), ACL_CREATE | ACL_DELETEMBOX);
    CHECK_INTEQ(parse("d"), ACL_DELETEMSG | ACL_EXPUNGE);
    CHECK_STREQ(fmt(parse("lrswicda")), "lrswikxtecda");
    /* ...but a macro next to one of its members adds nothing: what we
     * print must read back as itself */
    CHECK_INTEQ(parse("kc"), ACL_CREATE);
    CHECK_INTEQ(parse("td"), ACL_DELETEMSG);
    static const char *samples[] = {"lrkc", "lrxc",           "ted", "ltd",
                                    "lrs",  "lrswipkxtecdan", ""};
    for (size_t i = 0; i < sizeof(samples) / sizeof(samples[0]); i++)
        CHECK_STREQ(fmt(parse(samples[i])), samples[i]);
}

static acl_rights_t parse_name(const char *s)
{
    acl_rights_t r = 0xdead;
    CHECK_INTEQ(acl_rights_parse_name(s, &r), 0);
    return r;
}

static void test_rights_words(void)
{
    CHECK_INTEQ(parse_name("none"), 0);
    CHECK_STREQ(fmt(parse_name("read")), "lrs");
    CHECK_STREQ(fmt(parse_name("post")), "lrsp");
    CHECK_STREQ(fmt(parse_name("append")), "lrsip");
    CHECK_STREQ(fmt(parse_name("write")), "lrswipkxtecd");
    CHECK_STREQ(fmt(parse_name("delete")), "lrxtecd");
    CHECK_INTEQ(parse_name("all"), ACL_ALL);
    CHECK_STREQ(fmt(parse_name("lrw")), "lrw");
    acl_rights_t r;
    CHECK_INTEQ(acl_rights_parse_name("none!", &r), 'o');
    /* over IMAP the words are only letters */
    CHECK_STREQ(fmt(parse("read")), "reda");
    CHECK_STREQ(fmt(parse("all")), "la");
    CHECK_INTEQ(acl_rights_parse("none", &r), 'o');

    enum acl_mode mode;
    CHECK_INTEQ(acl_rights_parse_mod("+wi", &mode, &r), 0);
    CHECK_INTEQ(mode, ACL_MODE_ADD);
    CHECK_INTEQ(r, ACL_WRITE | ACL_INSERT);
    CHECK_INTEQ(acl_rights_parse_mod("-d", &mode, &r), 0);
    CHECK_INTEQ(mode, ACL_MODE_REMOVE);
    CHECK_INTEQ(r, ACL_LEGACY_DELETE);
    CHECK_INTEQ(acl_rights_parse_mod("lr", &mode, &r), 0);
    CHECK_INTEQ(mode, ACL_MODE_SET);
    CHECK_INTEQ(acl_rights_parse_mod("+q", &mode, &r), 'q');
}

static void test_parse_format(void)
{
    struct acl acl = ACL_INITIALIZER;
    CHECK_INTEQ(acl_parse(&acl, "fred\tlrswipkxtecdan\tanyone\tlrs\t"
                                "-bob\ts\tgroup:staff\tlrsp\t"),
                0);
    CHECK_INTEQ(acl.count, 4);
    CHECK_INTEQ(acl_get(&acl, "fred"), ACL_ALL);
    CHECK_INTEQ(acl_get(&acl, "-bob"), ACL_SETSEEN);
    CHECK_INTEQ(acl_get(&acl, "bob"), 0);
    CHECK_INTEQ(acl_get(&acl, "group:staff"),
                ACL_LOOKUP | ACL_READ | ACL_SETSEEN | ACL_POST);
    char *s = acl_format(&acl);
    CHECK_STREQ(s, "fred\tlrswipkxtecdan\tanyone\tlrs\t-bob\ts\t"
                   "group:staff\tlrsp\t");
    free(s);
    acl_fini(&acl);
    CHECK_INTEQ(acl.count, 0);

    /* a missing final tab is tolerated; Cyrus's digit rights ignored */
    CHECK_INTEQ(acl_parse(&acl, "fred\tlr\tanyone\tl0"), 0);
    CHECK_INTEQ(acl_get(&acl, "anyone"), ACL_LOOKUP);
    acl_fini(&acl);

    CHECK_INTEQ(acl_parse(&acl, ""), 0);
    s = acl_format(&acl);
    CHECK_STREQ(s, "");
    free(s);

    /* malformed input leaves the ACL as it was */
    acl_set(&acl, "keep", ACL_MODE_SET, ACL_READ);
    CHECK_INTEQ(acl_parse(&acl, "fred\tlr\tbob\t"), -1);
    CHECK_INTEQ(acl_parse(&acl, "fred\tlrQ\t"), -1);
    CHECK_INTEQ(acl_parse(&acl, "\tlr\t"), -1);
    CHECK_INTEQ(acl.count, 1);
    CHECK_INTEQ(acl_get(&acl, "keep"), ACL_READ);
    acl_fini(&acl);

    /* the defaultacl form from imapd.conf */
    CHECK_INTEQ(acl_parse_config(&acl, "anyone lrs  group:ops  lrswi"), 0);
    CHECK_INTEQ(acl.count, 2);
    CHECK_INTEQ(acl_get(&acl, "group:ops"),
                ACL_LOOKUP | ACL_READ | ACL_SETSEEN | ACL_WRITE | ACL_INSERT);
    CHECK_INTEQ(acl_parse_config(&acl, "anyone"), -1);
    acl_fini(&acl);
}

static void test_set_remove(void)
{
    struct acl acl = ACL_INITIALIZER;
    acl_set(&acl, "fred", ACL_MODE_SET, parse("lr"));
    acl_set(&acl, "fred", ACL_MODE_ADD, parse("wi"));
    CHECK_STREQ(fmt(acl_get(&acl, "fred")), "lrwi");
    acl_set(&acl, "fred", ACL_MODE_REMOVE, parse("r"));
    CHECK_STREQ(fmt(acl_get(&acl, "fred")), "lwi");
    acl_set(&acl, "fred", ACL_MODE_SET, parse("lrs"));
    CHECK_STREQ(fmt(acl_get(&acl, "fred")), "lrs");
    /* negative rights are their own entry */
    acl_set(&acl, "-fred", ACL_MODE_ADD, parse("s"));
    CHECK_INTEQ(acl.count, 2);
    CHECK_STREQ(fmt(acl_get(&acl, "-fred")), "s");
    CHECK_STREQ(fmt(acl_get(&acl, "fred")), "lrs");
    /* removing every right removes the entry */
    acl_set(&acl, "fred", ACL_MODE_REMOVE, ACL_ALL);
    CHECK_INTEQ(acl.count, 1);
    acl_set(&acl, "nobody", ACL_MODE_REMOVE, ACL_READ);
    acl_set(&acl, "nobody", ACL_MODE_SET, 0);
    CHECK_INTEQ(acl.count, 1);
    CHECK_INTEQ(acl_remove(&acl, "-fred"), 1);
    CHECK_INTEQ(acl_remove(&acl, "-fred"), 0);
    CHECK_INTEQ(acl.count, 0);
    /* entries keep their order */
    acl_set(&acl, "b", ACL_MODE_SET, ACL_READ);
    acl_set(&acl, "a", ACL_MODE_SET, ACL_READ);
    acl_set(&acl, "b", ACL_MODE_ADD, ACL_LOOKUP);
    char *s = acl_format(&acl);
    CHECK_STREQ(s, "b\tlr\ta\tr\t");
    free(s);
    acl_fini(&acl);
}

/* Rights of `userid` (groups staff) on a mailbox with this ACL. */
static const char *rights_of(const char *aclstr, const char *userid,
                             int isadmin, const char *owner, int isinbox)
{
    strarray_t groups = STRARRAY_INITIALIZER;
    strarray_append(&groups, "group:staff");
    struct acl_subject who = {userid, &groups, isadmin};
    struct acl_mailbox mbox = {owner, isinbox};
    acl_rights_t r = acl_myrights_str(aclstr, &who, &mbox, parse("lkxan"));
    strarray_fini(&groups);
    return fmt(r);
}

static void test_myrights_matrix(void)
{
    /* concepts.txt's example: fred gets lrswip, anonymous lrp */
    const char *acl = "anyone\tlrsp\tfred\tlwi\t-anonymous\ts\t";
    CHECK_STREQ(rights_of(acl, "fred", 0, NULL, 0), "lrswip");
    CHECK_STREQ(rights_of(acl, NULL, 0, NULL, 0), "lrp");
    CHECK_STREQ(rights_of(acl, "anonymous", 0, NULL, 0), "lrp");
    CHECK_STREQ(rights_of(acl, "bob", 0, NULL, 0), "lrsp");

    /* groups, and negative rights beating positive ones from anywhere */
    acl = "group:staff\tlrswi\tbob\tlr\t-group:staff\tw\t-bob\tr\t";
    CHECK_STREQ(rights_of(acl, "bob", 0, NULL, 0), "lsi");
    CHECK_STREQ(rights_of(acl, "carol", 0, NULL, 0), "lrsi");
    CHECK_STREQ(rights_of(acl, NULL, 0, NULL, 0), "");
    /* "anonymous" is not a group member, nor a user called "anyone" */
    CHECK_STREQ(rights_of("anonymous\tlr\t", "bob", 0, NULL, 0), "");
    CHECK_STREQ(rights_of("group:other\tlr\t", "bob", 0, NULL, 0), "");

    /* the owner's implicit rights survive even a negative entry */
    acl = "fred\tr\t-fred\tlrkxa\t";
    CHECK_STREQ(rights_of(acl, "fred", 0, "fred", 0), "lkxcan");
    CHECK_STREQ(rights_of(acl, "fred", 0, "bob", 0), "");
    /* mail may always be delivered to an INBOX */
    CHECK_STREQ(rights_of("", NULL, 0, "fred", 1), "p");
    CHECK_STREQ(rights_of("-anyone\tp\t", "bob", 0, "fred", 1), "p");
    CHECK_STREQ(rights_of("", "fred", 0, "fred", 1), "lpkxcan");
    /* admins can always see and administer, nothing more */
    CHECK_STREQ(rights_of("", "root", 1, NULL, 0), "la");
    CHECK_STREQ(rights_of("root\tr\t-root\tla\t", "root", 1, NULL, 0), "lra");
    /* a damaged ACL grants nothing beyond the implicit rights */
    CHECK_STREQ(rights_of("fred\tlr\tbob", "fred", 0, NULL, 0), "");
    CHECK_STREQ(rights_of("fred\tlr\tbob", "fred", 0, "fred", 0), "lkxcan");
    CHECK_STREQ(rights_of(NULL, "fred", 0, NULL, 0), "");
}

static void test_new_mailbox(void)
{
    char *s = acl_for_new_mailbox("fred\tlr\t", "bob", "anyone lrs");
    CHECK_STREQ(s, "fred\tlr\t");
    free(s);
    /* a user's INBOX (or a user folder with no parent): owner all */
    s = acl_for_new_mailbox(NULL, "fred", "anyone lrs");
    CHECK_STREQ(s, "fred\tlrswipkxtecdan\t");
    free(s);
    s = acl_for_new_mailbox(NULL, "fred@example.com", NULL);
    CHECK_STREQ(s, "fred@example.com\tlrswipkxtecdan\t");
    free(s);
    /* a top-level shared mailbox: defaultacl */
    s = acl_for_new_mailbox(NULL, NULL, "anyone lrs");
    CHECK_STREQ(s, "anyone\tlrs\t");
    free(s);
    s = acl_for_new_mailbox(NULL, NULL, "anyone lrs group:ops lrswi");
    CHECK_STREQ(s, "anyone\tlrs\tgroup:ops\tlrswi\t");
    free(s);
    s = acl_for_new_mailbox(NULL, NULL, NULL);
    CHECK_STREQ(s, "");
    free(s);
}

static char *joined(const strarray_t *sa)
{
    return strarray_join(sa, " ");
}

static void test_listrights(void)
{
    char req[ACL_RIGHTS_MAX];
    strarray_t opt = STRARRAY_INITIALIZER;
    struct acl_mailbox folder = {"fred", 0};
    struct acl_mailbox inbox = {"fred", 1};
    struct acl_mailbox shared = {NULL, 0};
    char *s;

    acl_listrights("fred", &folder, parse("lkxan"), req, &opt);
    CHECK_STREQ(req, "lkxcan");
    s = joined(&opt);
    CHECK_STREQ(s, "r s w i p t e d");
    free(s);
    strarray_fini(&opt);

    acl_listrights("bob", &folder, parse("lkxan"), req, &opt);
    CHECK_STREQ(req, "");
    s = joined(&opt);
    CHECK_STREQ(s, "l r s w i p k x t e c d a n");
    free(s);
    strarray_fini(&opt);

    acl_listrights("anyone", &inbox, parse("lkxan"), req, &opt);
    CHECK_STREQ(req, "p");
    s = joined(&opt);
    CHECK_STREQ(s, "l r s w i k x t e c d a n");
    free(s);
    strarray_fini(&opt);

    acl_listrights("fred", &inbox, parse("lkxan"), req, &opt);
    CHECK_STREQ(req, "lpkxcan");
    strarray_fini(&opt);

    acl_listrights("-fred", &folder, parse("lkxan"), req, &opt);
    CHECK_STREQ(req, "");
    CHECK_INTEQ(opt.count, 14);
    strarray_fini(&opt);

    acl_listrights("group:staff", &shared, parse("lkxan"), req, &opt);
    CHECK_STREQ(req, "");
    CHECK_INTEQ(opt.count, 14);
    strarray_fini(&opt);
}

static void test_unix_groups(void)
{
    strarray_t groups = STRARRAY_INITIALIZER;
    struct passwd *pw = getpwuid(0);
    CHECK(pw != NULL);
    if (!pw) return;
    char *name = strdup(pw->pw_name);
    struct group *gr = getgrgid(pw->pw_gid);
    char *primary = gr ? strconcat("group:", gr->gr_name, (char *)NULL) : NULL;

    int n = acl_unix_groups(name, &groups);
    CHECK(n >= 1);
    CHECK_INTEQ(n, groups.count);
    if (primary) CHECK(strarray_find(&groups, primary, 0) >= 0);
    for (int i = 0; i < groups.count; i++)
        CHECK(!strncmp(groups.data[i], "group:", 6));
    /* no duplicates when called again on the same array */
    CHECK_INTEQ(acl_unix_groups(name, &groups), 0);

    strarray_fini(&groups);
    CHECK_INTEQ(acl_unix_groups("no-such-user-xyzzy", &groups), 0);
    strarray_fini(&groups);
    free(primary);
    free(name);
}

UNIT_TESTS(UNIT_T(test_rights_letters), UNIT_T(test_rights_legacy),
           UNIT_T(test_rights_words), UNIT_T(test_parse_format),
           UNIT_T(test_set_remove), UNIT_T(test_myrights_matrix),
           UNIT_T(test_new_mailbox), UNIT_T(test_listrights),
           UNIT_T(test_unix_groups))
