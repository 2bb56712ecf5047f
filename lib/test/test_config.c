/* test_config.c -- unit tests for lib/config (the imapd.conf reader). */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/config.h"
#include "lib/log.h"
#include "lib/test/unit.h"
#include "lib/xmalloc.h"

/* Write `text` to a new file under /tmp; the caller unlinks and frees. */
static char *conf_write(const char *text)
{
    char *path = xstrdup("/tmp/test_config.XXXXXX");
    int fd = mkstemp(path);
    if (fd < 0) {
        perror("mkstemp");
        exit(1);
    }
    size_t len = strlen(text);
    if (write(fd, text, len) != (ssize_t)len) {
        perror("write");
        exit(1);
    }
    close(fd);
    return path;
}

static void conf_remove(char *path)
{
    unlink(path);
    free(path);
}

/* Read `text` for `service`; returns config_read's result, error in err. */
static int conf_read_text(const char *text, const char *service,
                          struct buf *err, char **pathp)
{
    char *path = conf_write(text);
    buf_reset(err);
    int r = config_read(path, service, err);
    if (pathp)
        *pathp = path;
    else
        conf_remove(path);
    return r;
}

/* Expected error text for a file read by conf_read_text. */
static void expect_error(const char *text, const char *fmt_after_path)
{
    struct buf err = BUF_INITIALIZER, want = BUF_INITIALIZER;
    char *path;

    CHECK_INTEQ(conf_read_text(text, NULL, &err, &path), -1);
    buf_printf(&want, "%s%s", path, fmt_after_path);
    CHECK_STREQ(buf_cstring(&err), buf_cstring(&want));
    conf_remove(path);
    buf_free(&err);
    buf_free(&want);
}

static void test_table_sorted_and_found(void)
{
    for (int i = 2; i < IMAPOPT_LAST; i++) {
        if (strcmp(config_options[i - 1].name, config_options[i].name) >= 0) {
            printf("# out of order: %s, %s\n", config_options[i - 1].name,
                   config_options[i].name);
            CHECK(0);
        }
    }
    for (int i = 1; i < IMAPOPT_LAST; i++) {
        CHECK_INTEQ(config_options[i].id, i);
        CHECK(config_option_byname(config_options[i].name) ==
              &config_options[i]);
        CHECK(config_options[i].doc && *config_options[i].doc);
        if (config_options[i].type == CONFIG_ENUM ||
            config_options[i].type == CONFIG_DURATION)
            CHECK(config_options[i].extra != NULL);
    }
    CHECK(config_option_byname("no_such_option") == NULL);
    CHECK(config_option_byname("partition-default") == NULL);
    CHECK(IMAPOPT_LAST > 500);   /* the whole Cyrus 3.6 set */
}

static void test_defaults(void)
{
    config_reset();
    /* Reading every default happens here; a bad one would abort. */
    CHECK_INTEQ(config_getint(IMAPOPT_TIMEOUT), 32 * 60);
    CHECK_INTEQ(config_getswitch(IMAPOPT_ALLOWPLAINTEXT), 0);
    CHECK_INTEQ(config_getswitch(IMAPOPT_DUPLICATESUPPRESSION), 1);
    CHECK_STREQ(config_getenum(IMAPOPT_VIRTDOMAINS), "off");
    CHECK_STREQ(config_getenum(IMAPOPT_DELETE_MODE), "delayed");
    CHECK_INTEQ(config_getint(IMAPOPT_MAXWORD), 131072);
    CHECK_INTEQ(config_getint(IMAPOPT_AUTOCREATE_QUOTA), -1);
    CHECK_INTEQ(config_getint(IMAPOPT_POPEXPIRETIME), -86400);
    CHECK_INTEQ(config_getint(IMAPOPT_CLIENT_TIMEOUT), 10);
    CHECK_INTEQ(config_getint(IMAPOPT_TLS_SESSION_TIMEOUT), 24 * 3600);
    CHECK_STREQ(config_getstring(IMAPOPT_DEFAULTACL), "anyone lrs");
    CHECK_STREQ(config_getstring(IMAPOPT_IMPLICIT_OWNER_RIGHTS), "lkxan");
    CHECK_STREQ(config_getstring(IMAPOPT_MASTER_PID_FILE),
                "/var/run/cyrus-master.pid");
    CHECK(config_getstring(IMAPOPT_CONFIGDIRECTORY) == NULL);
    CHECK(config_getstring(IMAPOPT_SERVERNAME) == NULL);
    CHECK_INTEQ(config_getint(IMAPOPT_IMAPIDLETIMEOUT), 0);
    CHECK(config_getenum(IMAPOPT_SQL_ENGINE) == NULL);
    CHECK(config_filename() == NULL);
    CHECK_STREQ(config_getoverflowstring("partition-default", "none"),
                "none");
}

static void test_every_type(void)
{
    struct buf err = BUF_INITIALIZER;
    char *path;
    int r = conf_read_text("# a comment\n"
                           "\n"
                           "configdirectory: /var/imap\n"
                           "   servername   :   mail.example.com  \n"
                           "timeout: 1h30m\n"
                           "imapidletimeout: 45\n"
                           "client_timeout: 2m\n"
                           "quotawarn: 80\n"
                           "autocreate_quota: -1\n"
                           "maxmessagesize: 10M\n"
                           "maxword: 4096\n"
                           "allowplaintext: on\n"
                           "altnamespace: 0\n"
                           "virtdomains: USERID\n"
                           "calendarprefix: #cal # not a comment\n",
                           "imap", &err, &path);
    CHECK_INTEQ(r, 0);
    CHECK_STREQ(buf_cstring(&err), "");
    CHECK_STREQ(config_filename(), path);
    CHECK_STREQ(config_servicename(), "imap");
    CHECK_STREQ(config_dir(), "/var/imap");
    CHECK_STREQ(config_getstring(IMAPOPT_SERVERNAME), "mail.example.com");
    CHECK_INTEQ(config_getint(IMAPOPT_TIMEOUT), 5400);
    CHECK_INTEQ(config_getint(IMAPOPT_IMAPIDLETIMEOUT), 45 * 60);
    CHECK_INTEQ(config_getint(IMAPOPT_CLIENT_TIMEOUT), 120);
    CHECK_INTEQ(config_getint(IMAPOPT_QUOTAWARN), 80);
    CHECK_INTEQ(config_getint(IMAPOPT_AUTOCREATE_QUOTA), -1);
    CHECK_INTEQ(config_getint(IMAPOPT_MAXMESSAGESIZE), 10 * 1024 * 1024);
    CHECK_INTEQ(config_getint(IMAPOPT_MAXWORD), 4096);
    CHECK_INTEQ(config_getswitch(IMAPOPT_ALLOWPLAINTEXT), 1);
    CHECK_INTEQ(config_getswitch(IMAPOPT_ALTNAMESPACE), 0);
    CHECK_STREQ(config_getenum(IMAPOPT_VIRTDOMAINS), "userid");
    CHECK_STREQ(config_getstring(IMAPOPT_CALENDARPREFIX),
                "#cal # not a comment");
    /* {configdirectory} in defaults follows the directory read. */
    CHECK_STREQ(config_getstring(IMAPOPT_LMTPSOCKET), "/var/imap/socket/lmtp");
    CHECK_STREQ(config_getstring(IMAPOPT_IDLESOCKET), "/var/imap/socket/idle");
    /* Known keys are readable as written, too. */
    CHECK_STREQ(config_getoverflowstring("timeout", NULL), "1h30m");
    conf_remove(path);
    buf_free(&err);
}

static void test_switch_spellings(void)
{
    static const char *const on[] = { "yes", "on", "true", "t", "1", "YES" };
    static const char *const off[] = { "no", "off", "false", "f", "0", "Off" };
    struct buf err = BUF_INITIALIZER, text = BUF_INITIALIZER;

    for (size_t i = 0; i < sizeof(on) / sizeof(on[0]); i++) {
        buf_reset(&text);
        buf_printf(&text, "configdirectory: /c\nallowplaintext: %s\n"
                          "duplicatesuppression: %s\n", on[i], off[i]);
        CHECK_INTEQ(conf_read_text(buf_cstring(&text), NULL, &err, NULL), 0);
        CHECK_INTEQ(config_getswitch(IMAPOPT_ALLOWPLAINTEXT), 1);
        CHECK_INTEQ(config_getswitch(IMAPOPT_DUPLICATESUPPRESSION), 0);
    }
    buf_free(&err);
    buf_free(&text);
}

static void test_bad_values(void)
{
    expect_error("configdirectory: /c\n\ntimeout: abc\n",
                 " line 3: option 'timeout' expects a duration (e.g. 30m), "
                 "got 'abc'");
    expect_error("configdirectory: /c\nvirtdomains: maybe\n",
                 " line 2: option 'virtdomains' expects one of off, userid, "
                 "on, got 'maybe'");
    expect_error("configdirectory: /c\nquotawarn: 9O\n",
                 " line 2: option 'quotawarn' expects an integer, got '9O'");
    expect_error("configdirectory: /c\nallowplaintext: sometimes\n",
                 " line 2: option 'allowplaintext' expects yes or no, "
                 "got 'sometimes'");
    expect_error("configdirectory: /c\nmaxmessagesize: 10Q\n",
                 " line 2: option 'maxmessagesize' expects a size (e.g. 10M), "
                 "got '10Q'");
    expect_error("configdirectory: /c\ntimeout 30m\n",
                 " line 2: expected 'option: value', got 'timeout 30m'");
    expect_error("servername: x\n", ": configdirectory is not set");
}

static void test_failed_read_keeps_previous(void)
{
    struct buf err = BUF_INITIALIZER;

    CHECK_INTEQ(conf_read_text("configdirectory: /good\ntimeout: 40m\n", NULL,
                               &err, NULL), 0);
    CHECK_INTEQ(conf_read_text("configdirectory: /bad\ntimeout: never\n", NULL,
                               &err, NULL), -1);
    CHECK_STREQ(config_dir(), "/good");
    CHECK_INTEQ(config_getint(IMAPOPT_TIMEOUT), 40 * 60);

    buf_reset(&err);
    CHECK_INTEQ(config_read("/nonexistent/imapd.conf", NULL, &err), -1);
    CHECK(strstr(buf_cstring(&err), "cannot open /nonexistent/imapd.conf"));
    CHECK_STREQ(config_dir(), "/good");
    buf_free(&err);
}

/* Capture what the log copies to stderr while running fn. */
static char *capture_stderr(int (*fn)(void *), void *rock, int *result)
{
    char path[] = "/tmp/test_config_log.XXXXXX";
    int fd = mkstemp(path);
    int saved = dup(2);
    struct buf out = BUF_INITIALIZER;
    char chunk[512];
    ssize_t n;

    fflush(stderr);
    dup2(fd, 2);
    log_set_stderr(1);
    *result = fn(rock);
    log_set_stderr(0);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    lseek(fd, 0, SEEK_SET);
    while ((n = read(fd, chunk, sizeof(chunk))) > 0)
        buf_appendmap(&out, chunk, (size_t)n);
    close(fd);
    unlink(path);
    return buf_release(&out);
}

static int read_path(void *rock)
{
    struct buf err = BUF_INITIALIZER;
    int r = config_read(rock, "imap", &err);
    buf_free(&err);
    return r;
}

static void test_unknown_and_overflow(void)
{
    char *path = conf_write("configdirectory: /c\n"
                            "frobnicate: 7\n"
                            "partition-default: /var/spool/imap\n"
                            "partition-archive: /srv/archive\n"
                            "metapartition-default: /ssd/meta\n"
                            "sasl_pwcheck_method: saslauthd\n"
                            "lmtp_admins: postman\n"
                            "backup1_sync_host: replica.example.com\n");
    int r;
    char *log = capture_stderr(read_path, path, &r);

    CHECK_INTEQ(r, 0);
    struct buf want = BUF_INITIALIZER;
    buf_printf(&want, "unknown option 'frobnicate' in %s line 2", path);
    CHECK(strstr(log, buf_cstring(&want)) != NULL);
    /* Overflow-style keys are expected, so they are not reported. */
    CHECK(strstr(log, "partition") == NULL);
    CHECK(strstr(log, "sasl_") == NULL);
    CHECK(strstr(log, "lmtp_admins") == NULL);
    CHECK(strstr(log, "sync_host") == NULL);

    CHECK_STREQ(config_getoverflowstring("frobnicate", NULL), "7");
    CHECK_STREQ(config_getoverflowstring("sasl_pwcheck_method", NULL),
                "saslauthd");
    CHECK_STREQ(config_getoverflowstring("lmtp_admins", NULL), "postman");
    CHECK_STREQ(config_getoverflowstring("nothing_here", "dflt"), "dflt");
    CHECK_STREQ(config_partitiondir("default"), "/var/spool/imap");
    CHECK_STREQ(config_partitiondir("archive"), "/srv/archive");
    CHECK(config_partitiondir("other") == NULL);
    /* lmtp_admins is not for the imap service. */
    CHECK_STREQ(config_getstring(IMAPOPT_ADMINS), "");

    free(log);
    buf_free(&want);
    conf_remove(path);
}

static void collect(const char *key, const char *value, void *rock)
{
    buf_printf(rock, "%s=%s;", key, value);
}

static void test_foreach_overflow(void)
{
    struct buf err = BUF_INITIALIZER, seen = BUF_INITIALIZER;

    CHECK_INTEQ(conf_read_text("configdirectory: /c\n"
                               "partition-b: /b\n"
                               "metapartition-a: /m\n"
                               "partition-a: /a\n", NULL, &err, NULL), 0);
    config_foreach_overflow("partition-", collect, &seen);
    CHECK_STREQ(buf_cstring(&seen), "partition-a=/a;partition-b=/b;");
    buf_free(&err);
    buf_free(&seen);
}

static void test_service_override(void)
{
    const char *text = "configdirectory: /c\n"
                       "imap_timeout: 45m\n"   /* before the plain line */
                       "timeout: 40m\n"
                       "admins: root\n"
                       "pop3_admins: popadmin\n"
                       "imap_allowplaintext: yes\n";
    struct buf err = BUF_INITIALIZER;

    CHECK_INTEQ(conf_read_text(text, "imap", &err, NULL), 0);
    CHECK_INTEQ(config_getint(IMAPOPT_TIMEOUT), 45 * 60);
    CHECK_STREQ(config_getstring(IMAPOPT_ADMINS), "root");
    CHECK_INTEQ(config_getswitch(IMAPOPT_ALLOWPLAINTEXT), 1);

    CHECK_INTEQ(conf_read_text(text, "pop3", &err, NULL), 0);
    CHECK_INTEQ(config_getint(IMAPOPT_TIMEOUT), 40 * 60);
    CHECK_STREQ(config_getstring(IMAPOPT_ADMINS), "popadmin");
    CHECK_INTEQ(config_getswitch(IMAPOPT_ALLOWPLAINTEXT), 0);

    CHECK_INTEQ(conf_read_text(text, NULL, &err, NULL), 0);
    CHECK_INTEQ(config_getint(IMAPOPT_TIMEOUT), 40 * 60);
    CHECK(config_servicename() == NULL);

    /* A bad override for this service is an error naming its key. */
    char *path;
    CHECK_INTEQ(conf_read_text("configdirectory: /c\nimap_timeout: soon\n",
                               "imap", &err, &path), -1);
    CHECK(strstr(buf_cstring(&err),
                 "line 2: option 'imap_timeout' expects a duration") != NULL);
    conf_remove(path);
    /* ...but not when the override is for another service. */
    CHECK_INTEQ(conf_read_text("configdirectory: /c\nimap_timeout: soon\n",
                               "lmtp", &err, NULL), 0);
    buf_free(&err);
}

static void test_include(void)
{
    struct buf err = BUF_INITIALIZER, text = BUF_INITIALIZER;
    char *inner = conf_write("servername: included.example.com\n"
                             "partition-default: /spool\n");
    const char *base = strrchr(inner, '/') + 1;

    /* Relative to the including file's directory (both are in /tmp). */
    buf_printf(&text, "configdirectory: /c\n@include: %s\ntimeout: 31m\n",
               base);
    CHECK_INTEQ(conf_read_text(buf_cstring(&text), NULL, &err, NULL), 0);
    CHECK_STREQ(buf_cstring(&err), "");
    CHECK_STREQ(config_getstring(IMAPOPT_SERVERNAME), "included.example.com");
    CHECK_STREQ(config_partitiondir("default"), "/spool");
    CHECK_INTEQ(config_getint(IMAPOPT_TIMEOUT), 31 * 60);

    /* An error inside the included file names that file. */
    char *bad = conf_write("timeout: later\n");
    buf_reset(&text);
    buf_printf(&text, "configdirectory: /c\n@include: %s\n", bad);
    CHECK_INTEQ(conf_read_text(buf_cstring(&text), NULL, &err, NULL), -1);
    struct buf want = BUF_INITIALIZER;
    buf_printf(&want, "%s line 1: option 'timeout'", bad);
    CHECK(strstr(buf_cstring(&err), buf_cstring(&want)) != NULL);

    /* A file including itself stops instead of recursing forever. */
    char *loop = conf_write("");
    FILE *f = fopen(loop, "w");
    fprintf(f, "configdirectory: /c\n@include: %s\n", loop);
    fclose(f);
    buf_reset(&err);
    CHECK_INTEQ(config_read(loop, NULL, &err), -1);
    CHECK(strstr(buf_cstring(&err), "nested too deeply") != NULL);

    conf_remove(loop);
    conf_remove(bad);
    conf_remove(inner);
    buf_free(&want);
    buf_free(&err);
    buf_free(&text);
}

static void test_reread_resets(void)
{
    struct buf err = BUF_INITIALIZER;

    CHECK_INTEQ(conf_read_text("configdirectory: /one\nservername: a\n"
                               "timeout: 50m\npartition-default: /p1\n"
                               "frobnicate: 1\n", "imap", &err, NULL), 0);
    CHECK_STREQ(config_getstring(IMAPOPT_SERVERNAME), "a");
    CHECK_INTEQ(conf_read_text("configdirectory: /two\n", NULL, &err, NULL),
                0);
    CHECK_STREQ(config_dir(), "/two");
    CHECK(config_getstring(IMAPOPT_SERVERNAME) == NULL);
    CHECK_INTEQ(config_getint(IMAPOPT_TIMEOUT), 32 * 60);
    CHECK(config_partitiondir("default") == NULL);
    CHECK(config_getoverflowstring("frobnicate", NULL) == NULL);
    CHECK(config_servicename() == NULL);

    config_reset();
    CHECK(config_dir() == NULL);
    CHECK(config_filename() == NULL);
    buf_free(&err);
}

static void test_continuation_and_renames(void)
{
    struct buf err = BUF_INITIALIZER;
    char *path;

    CHECK_INTEQ(conf_read_text("configdirectory: /c\n"
                               "admins: alice \\\n"
                               "bob\\\n"
                               "  carol\n"
                               "timeout: zz\n", NULL, &err, &path), -1);
    /* Lines joined by a backslash count as their own lines. */
    CHECK(strstr(buf_cstring(&err), " line 5: option 'timeout'") != NULL);
    conf_remove(path);

    CHECK_INTEQ(conf_read_text("configdirectory: /c\n"
                               "admins: alice \\\n"
                               "bob\\\n"
                               "  carol\n"
                               "tls_cert_file: /etc/ssl/old.pem\n"
                               "tls_ciphers: HIGH\n"
                               "tls_cipher_list: LOW\n"
                               "autocreatequota: 5000\n", NULL, &err, NULL),
                0);
    CHECK_STREQ(config_getstring(IMAPOPT_ADMINS), "alice bob  carol");
    CHECK_STREQ(config_getstring(IMAPOPT_TLS_SERVER_CERT), "/etc/ssl/old.pem");
    CHECK_STREQ(config_getstring(IMAPOPT_TLS_CIPHERS), "HIGH");
    CHECK_INTEQ(config_getint(IMAPOPT_AUTOCREATE_QUOTA), 5000);
    buf_free(&err);
}

static void test_configdirectory_expansion(void)
{
    struct buf err = BUF_INITIALIZER;

    CHECK_INTEQ(conf_read_text("configdirectory: /srv/conf\n"
                               "lmtpsocket: {configdirectory}/sock/lmtp\n"
                               "notifysocket: /run/notify\n", NULL, &err,
                               NULL), 0);
    CHECK_STREQ(config_getstring(IMAPOPT_LMTPSOCKET), "/srv/conf/sock/lmtp");
    CHECK_STREQ(config_getstring(IMAPOPT_NOTIFYSOCKET), "/run/notify");
    CHECK_STREQ(config_getstring(IMAPOPT_IDLESOCKET), "/srv/conf/socket/idle");
    buf_free(&err);
    config_reset();
}

UNIT_TESTS(UNIT_T(test_table_sorted_and_found), UNIT_T(test_defaults),
           UNIT_T(test_every_type), UNIT_T(test_switch_spellings),
           UNIT_T(test_bad_values), UNIT_T(test_failed_read_keeps_previous),
           UNIT_T(test_unknown_and_overflow), UNIT_T(test_foreach_overflow),
           UNIT_T(test_service_override), UNIT_T(test_include),
           UNIT_T(test_reread_resets), UNIT_T(test_continuation_and_renames),
           UNIT_T(test_configdirectory_expansion))
