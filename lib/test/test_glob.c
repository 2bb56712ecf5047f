/* test_glob.c -- unit tests for lib/glob (LIST patterns). */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/glob.h"
#include "lib/test/unit.h"

static int m(const char *pat, char sep, const char *name)
{
    struct glob *g = glob_new(pat, sep, GLOB_INBOXCASE);
    int r = glob_match(g, name);
    glob_free(&g);
    CHECK(g == NULL);
    return r;
}

static void test_literals(void)
{
    CHECK(m("INBOX", '/', "INBOX"));
    CHECK(!m("INBOX", '/', "INBOX/x"));
    CHECK(!m("Sent", '/', "sent")); /* case-sensitive */
    CHECK(!m("Sent", '/', "Sen"));
    CHECK(m("", '/', ""));
    CHECK(!m("", '/', "x"));
}

static void test_star(void)
{
    CHECK(m("*", '/', "INBOX"));
    CHECK(m("*", '/', "a/b/c"));
    CHECK(m("*", '/', ""));
    CHECK(m("user/*", '/', "user/fred/Sent"));
    CHECK(!m("user/*", '/', "user"));
    CHECK(m("user/*", '/', "user/"));
    CHECK(m("*t", '/', "Sent"));
    CHECK(m("*e*t*", '/', "Drafts/test"));
    CHECK(!m("*x*", '/', "Drafts/test"));
    CHECK(m("a*b*c", '.', "a.b.c"));
    CHECK(!m("a*b*c", '.', "a.b.cd"));
}

static void test_percent(void)
{
    CHECK(m("%", '/', "INBOX"));
    CHECK(!m("%", '/', "INBOX/Sent"));
    CHECK(m("%/%", '/', "INBOX/Sent"));
    CHECK(!m("%/%", '/', "a/b/c"));
    CHECK(m("user/%", '/', "user/fred"));
    CHECK(!m("user/%", '/', "user/fred/x"));
    CHECK(m("%", '.', "a/b")); /* '/' is plain when sep is '.' */
    CHECK(!m("%", '.', "a.b"));
    CHECK(m("Dr%s", '/', "Drafts"));
    CHECK(!m("Dr%s", '/', "Dr/afts"));
    CHECK(m("%%%", '/', "x"));
    CHECK(m("%*", '/', "a/b")); /* '*' wins */
    CHECK(m("*%", '/', "a/b"));
    CHECK(m("a/%/c", '/', "a/b/c"));
}

static void test_inbox_case(void)
{
    CHECK(m("inbox", '/', "INBOX"));
    CHECK(m("InBoX/%", '/', "INBOX/Sent"));
    CHECK(!m("inboxes", '/', "INBOXes"));
    CHECK(!m("x/inbox", '/', "x/INBOX"));
    struct glob *g = glob_new("inbox", '/', 0);
    CHECK(!glob_match(g, "INBOX"));
    CHECK(glob_match(g, "inbox"));
    glob_free(&g);
}

static void test_prefix_and_child(void)
{
    struct glob *g = glob_new("user/%/Sent", '/', 0);
    CHECK(glob_match_prefix(g, "user/fr"));
    CHECK(glob_match_prefix(g, "user/fred/"));
    CHECK(!glob_match_prefix(g, "shared"));
    CHECK(glob_match_child(g, "user"));
    CHECK(glob_match_child(g, "user/fred"));
    CHECK(!glob_match_child(g, "user/fred/Sent"));
    CHECK(!glob_match_child(g, "other"));
    glob_free(&g);

    g = glob_new("%", '/', 0);
    CHECK(!glob_match_child(g, "INBOX")); /* % never crosses sep */
    glob_free(&g);

    g = glob_new("*", '/', 0);
    CHECK(glob_match_child(g, "INBOX"));
    glob_free(&g);

    g = glob_new("INBOX/", '/', 0); /* "INBOX/" alone is no child */
    CHECK(!glob_match_child(g, "INBOX"));
    glob_free(&g);

    g = glob_new("INBOX/%", '/', 0);
    CHECK(glob_match_child(g, "INBOX"));
    CHECK(!glob_match_child(g, "INBOX/a"));
    glob_free(&g);
}

/* A backtracking matcher takes exponential time here; ours is linear in
 * the name for a fixed pattern. */
static void test_no_blowup(void)
{
    char name[4001];
    memset(name, 'a', 4000);
    name[4000] = '\0';
    struct glob *g = glob_new("*a*a*a*a*a*a*a*a*a*a*a*a*b", '/', 0);
    clock_t t0 = clock();
    CHECK(!glob_match(g, name));
    CHECK(glob_match_child(g, name)); /* "*" may cross the separator */
    double secs = (double)(clock() - t0) / CLOCKS_PER_SEC;
    CHECK(secs < 2.0);
    name[3999] = 'b';
    CHECK(glob_match(g, name));
    glob_free(&g);
}

UNIT_TESTS(UNIT_T(test_literals), UNIT_T(test_star), UNIT_T(test_percent),
           UNIT_T(test_inbox_case), UNIT_T(test_prefix_and_child),
           UNIT_T(test_no_blowup))
