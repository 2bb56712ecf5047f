/* test_mboxname.c -- unit tests for imap/store/mboxname. */
#include <stdlib.h>

#include "imap/store/mboxname.h"
#include "lib/buf.h"
#include "lib/test/unit.h"

/* The four combinations of altnamespace and unixhierarchysep. */
static const struct mboxname_ns std_dot = {
    0, 0, 0, NULL, "Other Users", "Shared Folders", "Alt Folders", 0};
static const struct mboxname_ns std_slash = {
    0, 1, 0, NULL, "Other Users", "Shared Folders", "Alt Folders", 0};
static const struct mboxname_ns alt_dot = {
    1, 0, 0, NULL, "Other Users", "Shared Folders", "Alt Folders", 0};
static const struct mboxname_ns alt_slash = MBOXNAME_NS_INITIALIZER;

#define CHECK_TOINT(ns, ext, user, want)                                       \
    do {                                                                       \
        char *r_ = mboxname_from_external(ns, ext, user);                      \
        if (want)                                                              \
            CHECK_STREQ(r_, (const char *)want);                               \
        else                                                                   \
            CHECK(r_ == NULL);                                                 \
        free(r_);                                                              \
    } while (0)

#define CHECK_TOEXT(ns, intname, user, want)                                   \
    do {                                                                       \
        char *r_ = mboxname_to_external(ns, intname, user);                    \
        if (want)                                                              \
            CHECK_STREQ(r_, (const char *)want);                               \
        else                                                                   \
            CHECK(r_ == NULL);                                                 \
        free(r_);                                                              \
    } while (0)

/* Both directions at once, for names that must round-trip. */
#define CHECK_BOTH(ns, ext, user, intname)                                     \
    do {                                                                       \
        CHECK_TOINT(ns, ext, user, intname);                                   \
        CHECK_TOEXT(ns, intname, user, ext);                                   \
    } while (0)

static void test_standard_namespace(void)
{
    CHECK_BOTH(&std_dot, "INBOX", "fred", "user.fred");
    CHECK_BOTH(&std_dot, "INBOX.Sent", "fred", "user.fred.Sent");
    CHECK_BOTH(&std_dot, "INBOX.a.b", "fred", "user.fred.a.b");
    CHECK_BOTH(&std_dot, "user.bob", "fred", "user.bob");
    CHECK_BOTH(&std_dot, "user.bob.Trash", "fred", "user.bob.Trash");
    CHECK_BOTH(&std_dot, "shared.folder", "fred", "shared.folder");
    CHECK_BOTH(&std_dot, "news", "fred", "news");

    CHECK_BOTH(&std_slash, "INBOX", "fred", "user.fred");
    CHECK_BOTH(&std_slash, "INBOX/Sent", "fred", "user.fred.Sent");
    CHECK_BOTH(&std_slash, "user/bob", "fred", "user.bob");
    CHECK_BOTH(&std_slash, "user/bob/Sent Items", "fred",
               "user.bob.Sent Items");
    CHECK_BOTH(&std_slash, "shared/folder", "fred", "shared.folder");

    /* one's own mailboxes spelt as another user's still resolve */
    CHECK_TOINT(&std_slash, "user/fred/Sent", "fred", "user.fred.Sent");
    /* "user" alone and a bare "user/" name nothing */
    CHECK_TOINT(&std_slash, "user", "fred", NULL);
    /* anonymous has no INBOX but sees everything else */
    CHECK_TOINT(&std_slash, "INBOX", NULL, NULL);
    CHECK_BOTH(&std_slash, "user/bob", NULL, "user.bob");
    CHECK_TOEXT(&std_slash, "user.fred", NULL, "user/fred");
}

static void test_alt_namespace(void)
{
    CHECK_BOTH(&alt_slash, "INBOX", "fred", "user.fred");
    CHECK_BOTH(&alt_slash, "Sent", "fred", "user.fred.Sent");
    CHECK_BOTH(&alt_slash, "a/b/c", "fred", "user.fred.a.b.c");
    CHECK_BOTH(&alt_slash, "Other Users/bob", "fred", "user.bob");
    CHECK_BOTH(&alt_slash, "Other Users/bob/Sent", "fred", "user.bob.Sent");
    CHECK_BOTH(&alt_slash, "Shared Folders/shared/folder", "fred",
               "shared.folder");
    CHECK_BOTH(&alt_slash, "Shared Folders/news", "fred", "news");
    /* "user/fred" in the alternate namespace is just a personal folder */
    CHECK_BOTH(&alt_slash, "user/bob", "fred", "user.fred.user.bob");

    CHECK_BOTH(&alt_dot, "Sent", "fred", "user.fred.Sent");
    CHECK_BOTH(&alt_dot, "Other Users.bob.x", "fred", "user.bob.x");
    CHECK_BOTH(&alt_dot, "Shared Folders.news", "fred", "news");

    /* the prefixes alone are containers, not mailboxes */
    CHECK_TOINT(&alt_slash, "Other Users", "fred", NULL);
    CHECK_TOINT(&alt_slash, "Shared Folders", "fred", NULL);
    CHECK_TOINT(&alt_slash, "Alt Folders", "fred", NULL);
    /* an anonymous session has no personal folders */
    CHECK_TOINT(&alt_slash, "Sent", NULL, NULL);
    CHECK_BOTH(&alt_slash, "Other Users/bob", NULL, "user.bob");
}

static void test_alt_clashes(void)
{
    /* children of INBOX live under an exact "INBOX" folder */
    CHECK_BOTH(&alt_slash, "INBOX/x", "fred", "user.fred.INBOX.x");
    CHECK_TOINT(&alt_slash, "inbox/x", "fred", "user.fred.INBOX.x");
    /* personal folders that would read as something else go under the
     * alt prefix */
    CHECK_BOTH(&alt_slash, "Alt Folders/INBOX", "fred", "user.fred.INBOX");
    CHECK_BOTH(&alt_slash, "Alt Folders/Inbox", "fred", "user.fred.Inbox");
    CHECK_BOTH(&alt_slash, "Alt Folders/Inbox/y", "fred", "user.fred.Inbox.y");
    CHECK_BOTH(&alt_slash, "Alt Folders/Other Users", "fred",
               "user.fred.Other Users");
    CHECK_BOTH(&alt_slash, "Alt Folders/Shared Folders/z", "fred",
               "user.fred.Shared Folders.z");
    CHECK_BOTH(&alt_slash, "Alt Folders/Alt Folders", "fred",
               "user.fred.Alt Folders");
    /* a shared mailbox called "user" shows as the other users' root */
    CHECK_TOEXT(&alt_slash, "user", "fred", "Other Users");
}

static void test_inbox_case(void)
{
    CHECK_TOINT(&std_slash, "inbox", "fred", "user.fred");
    CHECK_TOINT(&std_slash, "InBox/Sent", "fred", "user.fred.Sent");
    CHECK_TOINT(&alt_slash, "iNbOx", "fred", "user.fred");
    CHECK_TOINT(&std_dot, "Inbox.a", "fred", "user.fred.a");
    /* a shared mailbox spelt like INBOX cannot be shown in the standard
     * namespace: it would be read as the user's own */
    CHECK_TOEXT(&std_slash, "Inbox", "fred", NULL);
    CHECK_TOEXT(&std_slash, "INBOX.x", "fred", NULL);
}

static void test_hierarchy_chars(void)
{
    /* with '/', a '.' in a name is stored as '^' */
    CHECK_BOTH(&std_slash, "INBOX/v1.2", "fred", "user.fred.v1^2");
    CHECK_BOTH(&alt_slash, "a.b/c", "fred", "user.fred.a^b.c");
    CHECK_BOTH(&std_slash, "user/fred.smith", "bob", "user.fred^smith");
    /* a userid with a dot */
    CHECK_BOTH(&std_slash, "INBOX", "fred.smith", "user.fred^smith");
    CHECK_BOTH(&alt_slash, "Sent", "fred.smith", "user.fred^smith.Sent");
    /* with '.', '^' is what the user types and sees */
    CHECK_BOTH(&std_dot, "INBOX.v1^2", "fred", "user.fred.v1^2");
    /* characters the separator makes impossible */
    CHECK_TOINT(&std_slash, "INBOX/a^b", "fred", NULL);
    CHECK_TOINT(&std_dot, "INBOX.a/b", "fred", NULL);
    /* empty components */
    CHECK_TOINT(&std_slash, "INBOX//x", "fred", NULL);
    CHECK_TOINT(&std_slash, "/INBOX", "fred", NULL);
    CHECK_TOINT(&std_slash, "INBOX/", "fred", NULL);
    CHECK_TOINT(&std_slash, "", "fred", NULL);
    /* modified UTF-7 passes through untouched */
    CHECK_BOTH(&alt_slash, "Entw&APw-rfe", "fred", "user.fred.Entw&APw-rfe");
}

static void test_virtdomains(void)
{
    struct mboxname_ns ns = MBOXNAME_NS_INITIALIZER;
    ns.virtdomains = 1;
    ns.defaultdomain = "main.org";
    ns.altnamespace = 0;

    CHECK_BOTH(&ns, "INBOX", "fred@example.com", "example.com!user.fred");
    CHECK_BOTH(&ns, "INBOX/Sent", "fred@example.com",
               "example.com!user.fred.Sent");
    /* other users and shared folders of the same domain, no domain shown */
    CHECK_BOTH(&ns, "user/bob", "fred@example.com", "example.com!user.bob");
    CHECK_BOTH(&ns, "shared", "fred@example.com", "example.com!shared");
    /* other domains are invisible to ordinary users */
    CHECK_TOEXT(&ns, "other.net!user.bob", "fred@example.com", NULL);
    CHECK_TOEXT(&ns, "user.bob", "fred@example.com", NULL);
    /* '@' is an ordinary character for them */
    CHECK_TOINT(&ns, "user/bob@other.net", "fred@example.com",
                "example.com!user.bob@other^net");
    /* the default domain is the same as none */
    CHECK_BOTH(&ns, "INBOX", "fred@main.org", "user.fred");
    CHECK_BOTH(&ns, "INBOX", "fred", "user.fred");
    CHECK_BOTH(&ns, "user/bob", "fred@main.org", "user.bob");

    ns.altnamespace = 1;
    CHECK_BOTH(&ns, "Sent", "fred@example.com", "example.com!user.fred.Sent");
    CHECK_BOTH(&ns, "Other Users/bob", "fred@example.com",
               "example.com!user.bob");
    CHECK_BOTH(&ns, "Shared Folders/news", "fred@example.com",
               "example.com!news");

    /* admins: standard namespace always, other domains as "@domain" */
    ns.isadmin = 1;
    CHECK_BOTH(&ns, "user/bob@example.com", "admin", "example.com!user.bob");
    CHECK_BOTH(&ns, "user/bob/Sent@example.com", "admin",
               "example.com!user.bob.Sent");
    CHECK_BOTH(&ns, "user/bob", "admin", "user.bob");
    CHECK_TOINT(&ns, "user/bob@main.org", "admin", "user.bob");
    CHECK_TOEXT(&ns, "user.bob", "admin", "user/bob");
    /* a domain admin works in its domain unless told otherwise */
    CHECK_BOTH(&ns, "user/bob", "admin@example.com", "example.com!user.bob");
    CHECK_BOTH(&ns, "user/joe@other.net", "admin@example.com",
               "other.net!user.joe");

    /* without virtdomains a domain part is meaningless */
    CHECK_TOEXT(&alt_slash, "example.com!user.fred", "fred", NULL);
    CHECK_BOTH(&std_slash, "INBOX", "fred@example.com",
               "user.fred@example^com");
}

static void test_owner_and_parent(void)
{
    struct mboxname_ns vd = MBOXNAME_NS_INITIALIZER;
    vd.virtdomains = 1;
    char *s;

    s = mboxname_to_userid("user.fred.Sent");
    CHECK_STREQ(s, "fred");
    free(s);
    s = mboxname_to_userid("user.fred");
    CHECK_STREQ(s, "fred");
    free(s);
    s = mboxname_to_userid("user.fred^smith.x");
    CHECK_STREQ(s, "fred.smith");
    free(s);
    s = mboxname_to_userid("example.com!user.fred.x");
    CHECK_STREQ(s, "fred@example.com");
    free(s);
    CHECK(mboxname_to_userid("shared.folder") == NULL);
    CHECK(mboxname_to_userid("user") == NULL);

    s = mboxname_user_inbox(&vd, "fred@example.com");
    CHECK_STREQ(s, "example.com!user.fred");
    free(s);
    s = mboxname_user_inbox(&std_slash, "fred.smith");
    CHECK_STREQ(s, "user.fred^smith");
    free(s);
    s = mboxname_user_mbox(&std_slash, "fred", "Sent.2024");
    CHECK_STREQ(s, "user.fred.Sent.2024");
    free(s);

    CHECK(mboxname_userownsmailbox(&std_slash, "fred", "user.fred"));
    CHECK(mboxname_userownsmailbox(&std_slash, "fred", "user.fred.x"));
    CHECK(!mboxname_userownsmailbox(&std_slash, "fred", "user.freddy"));
    CHECK(!mboxname_userownsmailbox(&std_slash, "fred", "shared.fred"));
    CHECK(mboxname_userownsmailbox(&vd, "fred@example.com",
                                   "example.com!user.fred.x"));
    CHECK(!mboxname_userownsmailbox(&vd, "fred@example.com", "user.fred"));

    CHECK(mboxname_isusermailbox("user.fred", 1));
    CHECK(!mboxname_isusermailbox("user.fred.x", 1));
    CHECK(mboxname_isusermailbox("user.fred.x", 0));
    CHECK(!mboxname_isusermailbox("shared.x", 0));
    CHECK(mboxname_isusermailbox("example.com!user.fred", 1));

    s = mboxname_domain("example.com!user.fred");
    CHECK_STREQ(s, "example.com");
    free(s);
    CHECK(mboxname_domain("user.fred") == NULL);

    s = mboxname_parent("user.fred.a.b");
    CHECK_STREQ(s, "user.fred.a");
    free(s);
    s = mboxname_parent("user.fred.a");
    CHECK_STREQ(s, "user.fred");
    free(s);
    CHECK(mboxname_parent("user.fred") == NULL);
    CHECK(mboxname_parent("shared") == NULL);
    s = mboxname_parent("shared.folder");
    CHECK_STREQ(s, "shared");
    free(s);
    s = mboxname_parent("example.com!user.fred.x");
    CHECK_STREQ(s, "example.com!user.fred");
    free(s);
    CHECK(mboxname_parent("example.com!user.fred") == NULL);
    CHECK(mboxname_parent("example.com!news") == NULL);

    CHECK(mboxname_is_prefix("user.fred.x", "user.fred"));
    CHECK(mboxname_is_prefix("user.fred", "user.fred"));
    CHECK(!mboxname_is_prefix("user.freddy", "user.fred"));
    CHECK(!mboxname_is_prefix("user", "user.fred"));
}

static void test_policycheck(void)
{
    struct mboxname_ns vd = MBOXNAME_NS_INITIALIZER;
    vd.virtdomains = 1;
    const char *why = NULL;

    CHECK_INTEQ(mboxname_policycheck(&std_slash, "user.fred", NULL), 0);
    CHECK_INTEQ(mboxname_policycheck(&std_slash, "user.fred.Sent Items", NULL),
                0);
    CHECK_INTEQ(mboxname_policycheck(&std_slash, "user.fred.v1^2", NULL), 0);
    CHECK_INTEQ(mboxname_policycheck(&std_slash, "shared.Entw&APw-rfe", NULL),
                0);
    CHECK_INTEQ(mboxname_policycheck(&std_slash, "a.Tom &- Jerry", NULL), 0);

    CHECK_INTEQ(mboxname_policycheck(&std_slash, "", &why), -1);
    CHECK_INTEQ(mboxname_policycheck(&std_slash, "user..x", &why), -1);
    CHECK_STREQ(why, "empty hierarchy component");
    CHECK_INTEQ(mboxname_policycheck(&std_slash, ".user", NULL), -1);
    CHECK_INTEQ(mboxname_policycheck(&std_slash, "user.fred.", NULL), -1);
    CHECK_INTEQ(mboxname_policycheck(&std_slash, "user", NULL), -1);
    CHECK_INTEQ(mboxname_policycheck(&std_slash, "user.anyone", NULL), -1);
    CHECK_INTEQ(mboxname_policycheck(&std_slash, "user.anonymous", NULL), -1);
    CHECK_INTEQ(mboxname_policycheck(&std_slash, "~x", NULL), -1);
    CHECK_INTEQ(mboxname_policycheck(&std_slash, "$RACL", NULL), -1);
    CHECK_INTEQ(mboxname_policycheck(&std_slash, "a/b", &why), -1);
    CHECK_STREQ(why, "forbidden character");
    CHECK_INTEQ(mboxname_policycheck(&std_slash, "a%b", NULL), -1);
    CHECK_INTEQ(mboxname_policycheck(&std_slash, "a\"b", NULL), -1);
    CHECK_INTEQ(mboxname_policycheck(&std_slash, "a\\b", NULL), -1);
    CHECK_INTEQ(mboxname_policycheck(&std_slash, "a\tb", NULL), -1);
    CHECK_INTEQ(mboxname_policycheck(&std_slash, "caf\xc3\xa9", NULL), -1);
    CHECK_INTEQ(mboxname_policycheck(&std_slash, "a&b", &why), -1);
    CHECK_STREQ(why, "bad modified UTF-7");
    CHECK_INTEQ(mboxname_policycheck(&std_slash, "a&AGE-", NULL), -1);
    CHECK_INTEQ(mboxname_policycheck(&std_slash, "a&AOk", NULL), -1);
    /* an encoded control character is still a control character */
    CHECK_INTEQ(mboxname_policycheck(&std_slash, "a&AAk-", NULL), -1);

    char longname[MBOXNAME_MAX + 2];
    memset(longname, 'x', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = '\0';
    CHECK_INTEQ(mboxname_policycheck(&std_slash, longname, &why), -1);
    CHECK_STREQ(why, "name too long");
    longname[MBOXNAME_MAX] = '\0';
    CHECK_INTEQ(mboxname_policycheck(&std_slash, longname, NULL), 0);

    CHECK_INTEQ(mboxname_policycheck(&std_slash, "example.com!user.fred", NULL),
                -1);
    CHECK_INTEQ(mboxname_policycheck(&vd, "example.com!user.fred", NULL), 0);
    CHECK_INTEQ(mboxname_policycheck(&vd, "exa_mple.com!user.fred", NULL), -1);
    CHECK_INTEQ(mboxname_policycheck(&vd, "!user.fred", NULL), -1);
    CHECK_INTEQ(mboxname_policycheck(&vd, "example.com!", NULL), -1);
    CHECK_INTEQ(mboxname_policycheck(&vd, "example.com!a!b", NULL), -1);
}

static void test_namespace_response(void)
{
    struct buf b = BUF_INITIALIZER;
    mboxname_namespace_response(&std_dot, &b);
    CHECK_STREQ(buf_cstring(&b),
                "((\"INBOX.\" \".\")) ((\"user.\" \".\")) ((\"\" \".\"))");
    buf_reset(&b);
    mboxname_namespace_response(&std_slash, &b);
    CHECK_STREQ(buf_cstring(&b),
                "((\"INBOX/\" \"/\")) ((\"user/\" \"/\")) ((\"\" \"/\"))");
    buf_reset(&b);
    mboxname_namespace_response(&alt_slash, &b);
    CHECK_STREQ(buf_cstring(&b), "((\"\" \"/\")) ((\"Other Users/\" \"/\")) "
                                 "((\"Shared Folders/\" \"/\"))");
    buf_reset(&b);
    mboxname_namespace_response(&alt_dot, &b);
    CHECK_STREQ(buf_cstring(&b), "((\"\" \".\")) ((\"Other Users.\" \".\")) "
                                 "((\"Shared Folders.\" \".\"))");
    buf_reset(&b);
    struct mboxname_ns admin = MBOXNAME_NS_INITIALIZER;
    admin.isadmin = 1;
    mboxname_namespace_response(&admin, &b);
    CHECK_STREQ(buf_cstring(&b),
                "((\"INBOX/\" \"/\")) ((\"user/\" \"/\")) ((\"\" \"/\"))");
    buf_reset(&b);
    struct mboxname_ns odd = MBOXNAME_NS_INITIALIZER;
    odd.userprefix = "Say \"hi\"";
    mboxname_namespace_response(&odd, &b);
    CHECK_STREQ(buf_cstring(&b), "((\"\" \"/\")) ((\"Say \\\"hi\\\"/\" \"/\")) "
                                 "((\"Shared Folders/\" \"/\"))");
    buf_free(&b);
}

UNIT_TESTS(UNIT_T(test_standard_namespace), UNIT_T(test_alt_namespace),
           UNIT_T(test_alt_clashes), UNIT_T(test_inbox_case),
           UNIT_T(test_hierarchy_chars), UNIT_T(test_virtdomains),
           UNIT_T(test_owner_and_parent), UNIT_T(test_policycheck),
           UNIT_T(test_namespace_response))
