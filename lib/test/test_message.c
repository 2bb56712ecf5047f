/* test_message.c -- unit tests for imap/store/message. */
#include "imap/store/message.h"
#include "lib/test/unit.h"

static void test_placeholder_parse(void)
{
    const char *m = "Subject: x\r\n\r\nhi\r\n";
    struct message *msg = message_parse(m, strlen(m));
    CHECK(msg != NULL);
    message_free(&msg);
}

UNIT_TESTS(UNIT_T(test_placeholder_parse))
