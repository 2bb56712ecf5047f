/* test_imapurl.c -- unit tests for IMAP URL parsing (imap/imapd/imapurl.c). */
#include <stdlib.h>
#include <string.h>

#include "imap/imapd/imapurl.h"
#include "lib/test/unit.h"

static void test_relative_with_mailbox(void)
{
    struct imapurl u;

    CHECK_INTEQ(imapurl_parse("/INBOX;UIDVALIDITY=785799047/;UID=113330/"
                              ";section=1.5.9", &u), 0);
    CHECK_STREQ(u.mailbox, "INBOX");
    CHECK(u.server == NULL);
    CHECK_INTEQ(u.uidvalidity, 785799047);
    CHECK_INTEQ(u.uid, 113330);
    CHECK_STREQ(u.section, "1.5.9");
    CHECK(!u.partial && !u.access);
    imapurl_fini(&u);
}

static void test_encoded_mailbox_and_partial(void)
{
    struct imapurl u;

    CHECK_INTEQ(imapurl_parse("/Other%20Users/b%C3%A4r/;UID=7/;SECTION="
                              "HEADER.FIELDS%20(From)/;PARTIAL=0.12", &u), 0);
    CHECK_STREQ(u.mailbox, "Other Users/b\xc3\xa4r");
    CHECK_INTEQ(u.uid, 7);
    CHECK_STREQ(u.section, "HEADER.FIELDS (FROM)");
    CHECK(u.partial);
    CHECK_INTEQ(u.start, 0);
    CHECK_INTEQ(u.count, 12);
    imapurl_fini(&u);
}

static void test_relative_to_selected(void)
{
    struct imapurl u;

    CHECK_INTEQ(imapurl_parse(";UID=20/;SECTION=2", &u), 0);
    CHECK(u.mailbox == NULL);
    CHECK_INTEQ(u.uid, 20);
    CHECK_STREQ(u.section, "2");
    imapurl_fini(&u);
}

static void test_urlauth(void)
{
    const char *url = "imap://joe@example.com/INBOX/;uid=20/;section=1.2"
                      ";EXPIRE=2030-01-02T03:04:05Z;urlauth=submit+fred"
                      ":internal:91354a473744909de610943775f92038";
    struct imapurl u;

    CHECK_INTEQ(imapurl_parse(url, &u), 0);
    CHECK_STREQ(u.user, "joe");
    CHECK_STREQ(u.server, "example.com");
    CHECK_STREQ(u.mailbox, "INBOX");
    CHECK_INTEQ(u.uid, 20);
    CHECK_STREQ(u.access, "submit+fred");
    CHECK_STREQ(u.mech, "internal");
    CHECK_STREQ(u.token, "91354a473744909de610943775f92038");
    CHECK_INTEQ((long long)u.expire, 1893553445LL);
    /* The rump is the URL up to the access identifier, untouched. */
    CHECK_INTEQ(u.rump_len, strstr(url, ":internal:") - url);
    imapurl_fini(&u);

    CHECK_INTEQ(imapurl_parse("imap://joe@h/INBOX/;UID=1;URLAUTH=anonymous",
                              &u), 0);
    CHECK_STREQ(u.access, "anonymous");
    CHECK(u.mech == NULL && u.token == NULL);
    CHECK_INTEQ(u.rump_len, strlen("imap://joe@h/INBOX/;UID=1;URLAUTH=anonymous"));
    imapurl_fini(&u);
}

static void test_refused(void)
{
    static const char *const bad[] = {
        "",
        "INBOX",
        "/INBOX",                          /* a whole mailbox */
        "/INBOX;UIDVALIDITY=5",
        "/INBOX/;UID=0",
        "/INBOX/;UID=12x",
        "/INBOX/;UID=99999999999",
        "/;UID=1",                         /* empty mailbox name */
        "/INBOX/;UID=1;URLAUTH=authuser/;SECTION=1", /* URLAUTH not last */
        "/INBOX/;UID=1;URLAUTH=authuser:internal",  /* no token */
        "/INBOX/;UID=1;FOO=2",
        "/IN%00BOX/;UID=1",
        "/INBOX/;UID=1;EXPIRE=tomorrow",
        "imap://host",
        "imap://@host/INBOX/;UID=1",
        "imap://joe@/INBOX/;UID=1",
        "imap://joe@h;UID=1",
    };
    struct imapurl u;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (imapurl_parse(bad[i], &u) == 0)
            CHECK_STREQ(bad[i], "(should have been refused)");
        imapurl_fini(&u);
    }
}

static void test_datetime(void)
{
    int64_t t = 0;

    CHECK_INTEQ(imapurl_parse_datetime("1970-01-01T00:00:10Z", &t), 0);
    CHECK_INTEQ((long long)t, 10);
    CHECK_INTEQ(imapurl_parse_datetime("1970-01-01T01:00:00.25+01:00", &t), 0);
    CHECK_INTEQ((long long)t, 0);
    CHECK_INTEQ(imapurl_parse_datetime("1970-01-01 00:00:10Z", &t), -1);
    CHECK_INTEQ(imapurl_parse_datetime("1970-13-01T00:00:10Z", &t), -1);
    CHECK_INTEQ(imapurl_parse_datetime("1970-01-01T00:00:10", &t), -1);
}

UNIT_TESTS(UNIT_T(test_relative_with_mailbox),
           UNIT_T(test_encoded_mailbox_and_partial),
           UNIT_T(test_relative_to_selected), UNIT_T(test_urlauth),
           UNIT_T(test_refused), UNIT_T(test_datetime))
