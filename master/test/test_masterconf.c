/* test_masterconf.c -- cyrus.conf parsing, listen= values, event times. */
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "lib/test/unit.h"
#include "lib/xmalloc.h"
#include "master/listen.h"
#include "master/masterconf.h"
#include "master/tasks.h"

static struct masterconf *parse(const char *text, struct buf *err)
{
    buf_reset(err);
    return masterconf_parse(text, strlen(text), "cyrus.conf", err);
}

static void test_sections_and_values(void)
{
    struct buf err = BUF_INITIALIZER;
    struct masterconf *mc = parse(
        "# a comment\n"
        "START {\n"
        "  recover cmd=\"ctl_cyrusdb -r\"\n"
        "}\n"
        "\n"
        "services\n"
        "{\n"
        "  imap   cmd=\"imapd -U 30\" listen=\"imap\" prefork=2 # trailing\n"
        "  lmtp\tcmd=lmtpd listen=/run/lmtp maxchild=20 babysit=yes }\n"
        "EVENTS { }\n"
        "DAEMON {\n"
        "  idled cmd=\"idled # not a comment\"\n"
        "}\n",
        &err);

    CHECK(mc != NULL);
    if (!mc) {
        printf("# %s\n", buf_cstring(&err));
        return;
    }
    CHECK_INTEQ(mc->count, 4);
    CHECK_INTEQ(mc->entries[0].section, MASTERCONF_START);
    CHECK_STREQ(mc->entries[0].name, "recover");
    CHECK_STREQ(masterconf_getstring(&mc->entries[0], "cmd", NULL),
                "ctl_cyrusdb -r");
    CHECK_INTEQ(mc->entries[1].section, MASTERCONF_SERVICES);
    CHECK_INTEQ(mc->entries[1].lineno, 8);
    CHECK_STREQ(masterconf_getstring(&mc->entries[1], "listen", NULL), "imap");
    CHECK_STREQ(mc->entries[2].name, "lmtp");
    CHECK_STREQ(masterconf_getstring(&mc->entries[2], "cmd", NULL), "lmtpd");
    CHECK_STREQ(masterconf_getstring(&mc->entries[2], "listen", NULL),
                "/run/lmtp");
    CHECK_INTEQ(mc->entries[3].section, MASTERCONF_DAEMON);
    CHECK_STREQ(masterconf_getstring(&mc->entries[3], "cmd", NULL),
                "idled # not a comment");

    int v = -5;
    CHECK_INTEQ(masterconf_getint(&mc->entries[1], "prefork", 0, &v, &err), 0);
    CHECK_INTEQ(v, 2);
    CHECK_INTEQ(masterconf_getint(&mc->entries[1], "maxchild", -1, &v, &err),
                0);
    CHECK_INTEQ(v, -1);
    CHECK_INTEQ(masterconf_getswitch(&mc->entries[2], "babysit", 0, &v, &err),
                0);
    CHECK_INTEQ(v, 1);

    strarray_t *argv = masterconf_splitcmd("  imapd  -U 30 ");
    CHECK_INTEQ(argv->count, 3);
    CHECK_STREQ(argv->data[0], "imapd");
    CHECK_STREQ(argv->data[2], "30");
    strarray_free(&argv);
    CHECK(masterconf_splitcmd("   ") == NULL);

    masterconf_free(&mc);
    CHECK(mc == NULL);
    buf_free(&err);
}

static void test_errors_name_file_and_line(void)
{
    struct buf err = BUF_INITIALIZER;
    struct masterconf *mc;

    mc = parse("SERVICES {\n  imap cmd=\"imapd listen=imap\n}\n", &err);
    CHECK(mc == NULL);
    CHECK(strstr(buf_cstring(&err), "cyrus.conf:2: ") != NULL);
    CHECK(strstr(buf_cstring(&err), "missing closing") != NULL);

    mc = parse("SERVICES {\n\n  im-ap cmd=imapd\n}\n", &err);
    CHECK(mc == NULL);
    CHECK(strstr(buf_cstring(&err), "cyrus.conf:3: bad character '-'") !=
          NULL);

    mc = parse("SERVICES {\n  imap cmd=imapd\n", &err);
    CHECK(mc == NULL);
    CHECK(strstr(buf_cstring(&err), "not closed") != NULL);

    mc = parse("SERVICES {\n  imap cmd imapd\n}\n", &err);
    CHECK(mc == NULL);
    CHECK(strstr(buf_cstring(&err), "cyrus.conf:2:") != NULL);

    mc = parse("SERVICES {\n  imap cmd=a\n  imap cmd=b\n}\n", &err);
    CHECK(mc == NULL);
    CHECK(strstr(buf_cstring(&err), "cyrus.conf:3: duplicate") != NULL);

    mc = parse("imap cmd=imapd\n", &err);
    CHECK(mc == NULL);
    CHECK(strstr(buf_cstring(&err), "cyrus.conf:1:") != NULL);

    /* An unknown section is skipped, with a warning. */
    mc = parse("FOO {\n  x cmd=y\n}\nSTART {\n  a cmd=b\n}\n", &err);
    CHECK(mc != NULL);
    if (mc) {
        CHECK_INTEQ(mc->count, 1);
        CHECK_INTEQ(mc->warnings.count, 1);
        masterconf_free(&mc);
    }

    mc = parse("SERVICES {\n  imap cmd=imapd listen=143 prefork=two\n}\n",
               &err);
    CHECK(mc != NULL);
    if (mc) {
        int v;
        CHECK_INTEQ(masterconf_getint(&mc->entries[0], "prefork", 0, &v, &err),
                    -1);
        CHECK_STREQ(buf_cstring(&err), "cyrus.conf:2: service \"imap\": "
                                       "prefork=\"two\" is not an integer");
        static const char *const known[] = { "cmd", "listen", NULL };
        CHECK_INTEQ(masterconf_checkkeys(&mc->entries[0], known, &err), -1);
        CHECK(strstr(buf_cstring(&err), "\"prefork\"") != NULL);
        masterconf_free(&mc);
    }
    buf_free(&err);
}

static void test_event_checks(void)
{
    struct buf err = BUF_INITIALIZER;
    struct masterconf *mc;

    mc = parse("EVENTS {\n  cp cmd=x period=30\n  d cmd=y at=0401\n}\n", &err);
    CHECK(mc != NULL);
    if (mc) {
        CHECK_INTEQ(tasks_check(mc, &err), 0);
        masterconf_free(&mc);
    }
    mc = parse("EVENTS {\n  cp cmd=x at=2460\n}\n", &err);
    CHECK(mc != NULL);
    if (mc) {
        CHECK_INTEQ(tasks_check(mc, &err), -1);
        CHECK(strstr(buf_cstring(&err), "cyrus.conf:2: event \"cp\"") != NULL);
        masterconf_free(&mc);
    }
    mc = parse("DAEMON {\n  idled listen=foo\n}\n", &err);
    CHECK(mc != NULL);
    if (mc) {
        CHECK_INTEQ(tasks_check(mc, &err), -1);
        CHECK(strstr(buf_cstring(&err), "cmd= is missing") != NULL);
        masterconf_free(&mc);
    }
    buf_free(&err);
}

static void test_next_at(void)
{
    struct tm tm;
    time_t now, t;

    setenv("TZ", "UTC", 1);
    tzset();
    memset(&tm, 0, sizeof(tm));
    tm.tm_year = 124;
    tm.tm_mon = 2;
    tm.tm_mday = 10;
    tm.tm_hour = 3;
    tm.tm_min = 0;
    tm.tm_isdst = -1;
    now = mktime(&tm);
    t = tasks_next_at(401, now);
    CHECK_INTEQ(t - now, 3600 + 60);
    /* Past today's time: tomorrow. */
    t = tasks_next_at(200, now);
    CHECK_INTEQ(t - now, 23 * 3600);
    /* Exactly now: the next day, not now again. */
    t = tasks_next_at(300, now);
    CHECK_INTEQ(t - now, 24 * 3600);
}

static void test_listen_parse(void)
{
    struct buf err = BUF_INITIALIZER;
    struct listen_spec spec;

    CHECK_INTEQ(listen_parse("143", NULL, &spec, &err), 0);
    CHECK(!spec.is_unix);
    CHECK(spec.host == NULL);
    CHECK_STREQ(spec.port, "143");
    CHECK_INTEQ(spec.family, AF_UNSPEC);
    listen_spec_fini(&spec);

    CHECK_INTEQ(listen_parse("localhost:imap", "tcp4", &spec, &err), 0);
    CHECK_STREQ(spec.host, "localhost");
    CHECK_STREQ(spec.port, "imap");
    CHECK_INTEQ(spec.family, AF_INET);
    listen_spec_fini(&spec);

    CHECK_INTEQ(listen_parse("[::1]:2000", NULL, &spec, &err), 0);
    CHECK_STREQ(spec.host, "::1");
    CHECK_STREQ(spec.port, "2000");
    CHECK_INTEQ(spec.family, AF_INET6);
    listen_spec_fini(&spec);

    CHECK_INTEQ(listen_parse("/var/run/lmtp", NULL, &spec, &err), 0);
    CHECK(spec.is_unix);
    CHECK_STREQ(spec.path, "/var/run/lmtp");
    listen_spec_fini(&spec);

    CHECK_INTEQ(listen_parse("::1:143", NULL, &spec, &err), -1);
    CHECK_INTEQ(listen_parse("[::1]", NULL, &spec, &err), -1);
    CHECK_INTEQ(listen_parse("host:", NULL, &spec, &err), -1);
    CHECK_INTEQ(listen_parse("143", "udp", &spec, &err), -1);
    CHECK(strstr(buf_cstring(&err), "not supported") != NULL);
    CHECK_INTEQ(listen_parse("143", "sctp", &spec, &err), -1);
    buf_free(&err);
}

static void test_listen_open(void)
{
    struct buf err = BUF_INITIALIZER;
    struct listen_spec spec;
    struct listen_socket *socks;
    char path[] = "/tmp/test_masterconf.XXXXXX";
    char *sock;
    struct stat sb;
    int n;

    /* Port 0: the kernel picks one; the socket must be listening. */
    CHECK_INTEQ(listen_parse("127.0.0.1:0", NULL, &spec, &err), 0);
    n = listen_open(&spec, 5, &socks, &err);
    CHECK_INTEQ(n, 1);
    if (n == 1) {
        int acc = 0;
        socklen_t len = sizeof(acc);
        getsockopt(socks[0].fd, SOL_SOCKET, SO_ACCEPTCONN, &acc, &len);
        CHECK_INTEQ(acc, 1);
        CHECK(!strncmp(socks[0].desc, "127.0.0.1:", 10));
        listen_close(socks, n);
    }
    listen_spec_fini(&spec);

    /* A UNIX socket replaces a stale one and is mode 0777. */
    CHECK(mkdtemp(path) != NULL);
    sock = strconcat(path, "/lmtp", (char *)NULL);
    CHECK_INTEQ(listen_parse(sock, NULL, &spec, &err), 0);
    for (int round = 0; round < 2; round++) {
        n = listen_open(&spec, 5, &socks, &err);
        CHECK_INTEQ(n, 1);
        if (n != 1) {
            printf("# %s\n", buf_cstring(&err));
            break;
        }
        CHECK_INTEQ(stat(sock, &sb), 0);
        CHECK(S_ISSOCK(sb.st_mode));
        CHECK_INTEQ(sb.st_mode & 0777, 0777);
        listen_close(socks, n);
    }
    listen_spec_fini(&spec);
    unlink(sock);
    rmdir(path);
    free(sock);

    /* Unresolvable port name. */
    CHECK_INTEQ(listen_parse("no-such-service-name", NULL, &spec, &err), 0);
    CHECK_INTEQ(listen_open(&spec, 5, &socks, &err), -1);
    CHECK(err.len > 0);
    listen_spec_fini(&spec);
    buf_free(&err);
}

UNIT_TESTS(UNIT_T(test_sections_and_values),
           UNIT_T(test_errors_name_file_and_line), UNIT_T(test_event_checks),
           UNIT_T(test_next_at), UNIT_T(test_listen_parse),
           UNIT_T(test_listen_open))
