/* test_imapd.c -- the command table, the dispatcher's answers and the
 * SASL glue's helpers, with a session served over a socketpair. */
#include "config.h"

#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "imap/imapd/imapd.h"
#include "imap/imapd/imapd_commands.h"
#include "lib/config.h"
#include "lib/saslserver.h"
#include "lib/strarray.h"
#include "lib/test/unit.h"
#include "lib/xmalloc.h"

static void test_table(void)
{
    int i;

    for (i = 1; i < imapd_command_count(); i++)
        CHECK(strcasecmp(imapd_command_nth(i - 1)->name,
                         imapd_command_nth(i)->name) < 0);
    CHECK(imapd_command_lookup("nOoP") == imapd_command_lookup("NOOP"));
    CHECK_STREQ(imapd_command_lookup("login")->name, "Login");
    CHECK(imapd_command_lookup("Bogus") == NULL);
    CHECK(imapd_command_lookup("starttls")->states == IMAPD_NOTAUTH);
    CHECK(imapd_command_lookup("fetch")->flags & IMAPD_CMD_UID);
    CHECK(!(imapd_command_lookup("login")->flags & IMAPD_CMD_UID));
}

static void test_base64(void)
{
    struct buf b = BUF_INITIALIZER, d = BUF_INITIALIZER;

    saslserver_encode64("\0user\0pw", 8, &b);
    CHECK_STREQ(buf_cstring(&b), "AHVzZXIAcHc=");
    CHECK_INTEQ(saslserver_decode64(b.s, b.len, &d), 0);
    CHECK_INTEQ(d.len, 8);
    CHECK(!memcmp(d.s, "\0user\0pw", 8));
    buf_reset(&b);
    saslserver_encode64("ab", 2, &b);
    CHECK_STREQ(buf_cstring(&b), "YWI=");
    buf_reset(&d);
    CHECK_INTEQ(saslserver_decode64("", 0, &d), 0);
    CHECK_INTEQ(d.len, 0);
    CHECK_INTEQ(saslserver_decode64("YWI", 3, &d), -1);
    CHECK_INTEQ(saslserver_decode64("Y!I=", 4, &d), -1);
    CHECK_INTEQ(saslserver_decode64("YW=I", 4, &d), -1);
    CHECK_INTEQ(saslserver_decode64("YQ==YWI=", 8, &d), -1);
    buf_free(&b);
    buf_free(&d);
}

static void test_canon_user(void)
{
    struct buf b = BUF_INITIALIZER;

    CHECK_INTEQ(saslserver_canon_user("  Fred ", 7, "vm", &b), 0);
    CHECK_STREQ(buf_cstring(&b), "fred");
    CHECK_INTEQ(saslserver_canon_user("fred@VM", 7, "vm", &b), 0);
    CHECK_STREQ(buf_cstring(&b), "fred");
    CHECK_INTEQ(saslserver_canon_user("fred@other", 10, "vm", &b), 0);
    CHECK_STREQ(buf_cstring(&b), "fred@other");
    CHECK_INTEQ(saslserver_canon_user("   ", 3, "vm", &b), -1);
    buf_free(&b);
}

/* --- a real session on the other end of a socketpair --- */

static void default_settings(struct imapd_settings *st)
{
    memset(st, 0, sizeof(*st));
    st->servername = "test.example";
    st->maxword = 64;
    st->maxliteral = 1024;
    st->timeout = 30 * 60;
    st->imapidresponse = 1;
}

static pid_t start_session(const struct imapd_settings *st, int *fd)
{
    int sv[2];
    pid_t pid;

    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
        abort();
    pid = fork();
    if (pid == 0) {
        struct imapd_peer peer = { sv[1], sv[1], "", 0, "", 0 };
        struct imapd_session *s;

        close(sv[0]);
        s = imapd_session_new(st, &peer);
        imapd_session_run(s, 0);
        imapd_session_free(&s);
        _exit(0);
    }
    close(sv[1]);
    *fd = sv[0];
    return pid;
}

/* Everything the server says until it closes (or 10 s pass). */
static strarray_t *transcript(int fd, const char *input)
{
    struct buf all = BUF_INITIALIZER;
    strarray_t *lines;
    char chunk[4096];

    if (write(fd, input, strlen(input)) != (ssize_t)strlen(input))
        abort();
    for (;;) {
        struct pollfd pfd = { fd, POLLIN, 0 };
        ssize_t n;

        if (poll(&pfd, 1, 10000) <= 0)
            break;
        n = read(fd, chunk, sizeof(chunk));
        if (n <= 0)
            break;
        buf_appendmap(&all, chunk, (size_t)n);
    }
    lines = strarray_split(buf_cstring(&all), "\r\n");
    buf_free(&all);
    return lines;
}

static void run_script(const struct imapd_settings *st, const char *input,
                       const char *const *expected)
{
    int fd, status, i;
    pid_t pid = start_session(st, &fd);
    strarray_t *lines = transcript(fd, input);

    for (i = 0; expected[i]; i++) {
        const char *got = strarray_nth(lines, i);
        size_t len = strlen(expected[i]);

        /* A trailing '*' matches any rest of the line. */
        if (len && expected[i][len - 1] == '*') {
            CHECK(got && !strncmp(got, expected[i], len - 1));
            if (!got || strncmp(got, expected[i], len - 1))
                printf("# line %d: expected %s, got %s\n", i, expected[i],
                       got ? got : "(nothing)");
        }
        else {
            CHECK_STREQ(got, expected[i]);
        }
    }
    CHECK_INTEQ(lines->count, i);
    close(fd);
    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    strarray_free(&lines);
}

static void test_dispatch(void)
{
    struct imapd_settings st;
    static const char *const expected[] = {
        "* OK [CAPABILITY IMAP4rev1 IMAP4rev2 LITERAL+ ID ENABLE LOGINDISABLED *",
        "a OK Completed",
        "* BAD Invalid tag",
        "* BAD Invalid tag",
        "c BAD Null command",
        "d BAD Unrecognized command",
        "e BAD Please login first",
        "f BAD Please login first",
        "g NO [PRIVACYREQUIRED] Login only available under a layer",
        "h BAD Missing required argument to Login",
        "i BAD Unexpected extra arguments to Noop",
        "j BAD Unrecognized command",
        "k OK Completed",
        "l BAD [TOOBIG] *",
        "m OK Completed",
        "p BAD Invalid parameter list in Id",
        "* ID (\"name\" \"" PACKAGE_NAME "\" \"version\" \"" PACKAGE_VERSION "\")",
        "n OK Completed",
        "o OK NIL",
        "* CAPABILITY IMAP4rev1 IMAP4rev2 LITERAL+ ID ENABLE LOGINDISABLED *",
        "q OK Completed",
        "r BAD Unrecognized command",
        "* BYE LOGOUT received",
        "s OK Completed",
        NULL
    };

    default_settings(&st);
    run_script(&st,
               "a NOOP\r\n"
               "\r\n"
               "b\r\n"
               "c \r\n"
               "d FROB x\r\n"
               "e SELECT inbox\r\n"
               "f uid fetch 1 flags\r\n"
               "g LOGIN user secret\r\n"
               "h LOGIN\r\n"
               "i NOOP now\r\n"
               "j FROB {5+}\r\nk NOO\r\n"
               "k noop\r\n"
               "l LOGIN xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
               "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx pw\r\n"
               "m NOOP\r\n"
               "p ID frob\r\n"
               "n ID (\"name\" \"test\" \"version\" NIL)\r\n"
               "o ID NIL\r\n"
               "q CAPABILITY\r\n"
               "r STARTTLS\r\n"
               "s LOGOUT\r\n"
               "t NOOP\r\n",
               expected);
}

static void test_literal_minus(void)
{
    struct imapd_settings st;
    static const char *const expected[] = {
        "* OK [CAPABILITY IMAP4rev1 IMAP4rev2 LITERAL- ID ENABLE *",
        "* BYE LOGOUT received",
        "a OK Completed",
        NULL
    };

    default_settings(&st);
    st.literalminus = 1;
    st.allowplaintext = 1;
    run_script(&st, "a LOGOUT\r\n", expected);
}

static void test_authenticate_cancel(void)
{
    struct imapd_settings st;
    static const char *const expected[] = {
        "* OK [CAPABILITY IMAP4rev1 IMAP4rev2 LITERAL+ ID ENABLE *",
        "a BAD Missing required argument to Authenticate",
        "b NO no mechanism available",
        "c BAD Invalid base64 data",
        "* BYE LOGOUT received",
        "d OK Completed",
        NULL
    };

    default_settings(&st);
    st.allowplaintext = 1;
    run_script(&st,
               "a AUTHENTICATE\r\n"
               "b AUTHENTICATE X-NO-SUCH-MECH\r\n"
               "c AUTHENTICATE X-NO-SUCH-MECH !!!!\r\n"
               "d LOGOUT\r\n",
               expected);
}

static void test_autologout(void)
{
    struct imapd_settings st;
    static const char *const expected[] = {
        "* OK [CAPABILITY *",
        "a OK Completed",
        "* BYE Autologout; idle for too long",
        NULL
    };

    default_settings(&st);
    st.timeout = 1;    /* imapd_settings_init never goes below 30 minutes */
    run_script(&st, "a NOOP\r\n", expected);
}

static void setup(void)
{
    static int done;

    if (!done) {
        saslserver_init("imapd-test");
        done = 1;
    }
}

static void test_all_with_sasl(void)
{
    setup();
    test_dispatch();
    test_literal_minus();
    test_authenticate_cancel();
    test_autologout();
}

UNIT_TESTS(UNIT_T(test_table), UNIT_T(test_base64), UNIT_T(test_canon_user),
           UNIT_T(test_all_with_sasl))
