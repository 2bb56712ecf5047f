/* test_util.c -- unit tests for lib/util. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/test/unit.h"
#include "lib/util.h"

static void test_parse_ulong(void)
{
    unsigned long v = 99;
    char big[64];

    CHECK_INTEQ(parse_ulong("0", &v), 0);
    CHECK_INTEQ(v, 0);
    CHECK_INTEQ(parse_ulong("12345", &v), 0);
    CHECK_INTEQ(v, 12345);
    CHECK_INTEQ(parse_ulong("007", &v), 0);
    CHECK_INTEQ(v, 7);
    snprintf(big, sizeof(big), "%lu", ULONG_MAX);
    CHECK_INTEQ(parse_ulong(big, &v), 0);
    CHECK(v == ULONG_MAX);

    v = 42;
    static const char *const bad[] = {
        "", "-1", "+1", " 1", "1 ", "12a", "0x10", "1.5",
        "18446744073709551616", "99999999999999999999999",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (parse_ulong(bad[i], &v) != -1) {
            printf("# accepted '%s'\n", bad[i]);
            CHECK(0);
        }
    }
    CHECK_INTEQ(parse_ulong(NULL, &v), -1);
    CHECK_INTEQ(v, 42);   /* untouched on failure */
}

static void test_parse_longlong(void)
{
    long long v;

    CHECK_INTEQ(parse_longlong("-1", &v), 0);
    CHECK_INTEQ(v, -1);
    CHECK_INTEQ(parse_longlong("9223372036854775807", &v), 0);
    CHECK(v == LLONG_MAX);
    CHECK_INTEQ(parse_longlong("9223372036854775808", &v), -1);
    CHECK_INTEQ(parse_longlong("-", &v), -1);
    CHECK_INTEQ(parse_longlong("--1", &v), -1);
    CHECK_INTEQ(parse_longlong("", &v), -1);
}

static void test_parse_duration(void)
{
    long long s;

    CHECK_INTEQ(parse_duration("1h30m", 's', &s), 0);
    CHECK_INTEQ(s, 5400);
    CHECK_INTEQ(parse_duration("90", 'm', &s), 0);
    CHECK_INTEQ(s, 5400);
    CHECK_INTEQ(parse_duration("2d", 's', &s), 0);
    CHECK_INTEQ(s, 2 * 86400);
    CHECK_INTEQ(parse_duration("1d2h3m4s", 's', &s), 0);
    CHECK_INTEQ(s, 86400 + 7200 + 180 + 4);
    CHECK_INTEQ(parse_duration("-1", 'd', &s), 0);
    CHECK_INTEQ(s, -86400);
    CHECK_INTEQ(parse_duration("0", 'm', &s), 0);
    CHECK_INTEQ(s, 0);
    CHECK_INTEQ(parse_duration("45", 's', &s), 0);
    CHECK_INTEQ(s, 45);

    static const char *const bad[] = {
        "", "-", "h", "1x", "1h30", "0h30", "1hh", " 1m", "1m ", "1.5h",
        "99999999999999999999d", "999999999999999d",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (parse_duration(bad[i], 's', &s) != -1) {
            printf("# accepted '%s'\n", bad[i]);
            CHECK(0);
        }
    }
    CHECK_INTEQ(parse_duration("5", 'x', &s), -1);
}

static void test_parse_bytesize(void)
{
    long long b;

    CHECK_INTEQ(parse_bytesize("100", &b), 0);
    CHECK_INTEQ(b, 100);
    CHECK_INTEQ(parse_bytesize("100B", &b), 0);
    CHECK_INTEQ(b, 100);
    CHECK_INTEQ(parse_bytesize("512K", &b), 0);
    CHECK_INTEQ(b, 512 * 1024);
    CHECK_INTEQ(parse_bytesize("512kb", &b), 0);
    CHECK_INTEQ(b, 512 * 1024);
    CHECK_INTEQ(parse_bytesize("10M", &b), 0);
    CHECK_INTEQ(b, 10 * 1024 * 1024);
    CHECK_INTEQ(parse_bytesize("2g", &b), 0);
    CHECK_INTEQ(b, 2LL * 1024 * 1024 * 1024);
    CHECK_INTEQ(parse_bytesize("", &b), -1);
    CHECK_INTEQ(parse_bytesize("M", &b), -1);
    CHECK_INTEQ(parse_bytesize("10X", &b), -1);
    CHECK_INTEQ(parse_bytesize("10MM", &b), -1);
    CHECK_INTEQ(parse_bytesize("-1", &b), -1);
    CHECK_INTEQ(parse_bytesize("99999999999G", &b), -1);
}

static void test_mkdir_p(void)
{
    char base[] = "/tmp/test_util.XXXXXX";
    char path[256], file[256];
    struct stat sb;

    CHECK(mkdtemp(base) != NULL);
    snprintf(path, sizeof(path), "%s/a/b//c/", base);
    CHECK_INTEQ(cyrus_mkdir_p(path, 0755), 0);
    snprintf(path, sizeof(path), "%s/a/b/c", base);
    CHECK(stat(path, &sb) == 0 && S_ISDIR(sb.st_mode));
    CHECK_INTEQ(cyrus_mkdir_p(path, 0755), 0);   /* already there */

    snprintf(file, sizeof(file), "%s/plain", base);
    int fd = open(file, O_CREAT | O_WRONLY, 0600);
    close(fd);
    snprintf(path, sizeof(path), "%s/plain/sub", base);
    errno = 0;
    CHECK_INTEQ(cyrus_mkdir_p(path, 0755), -1);
    CHECK_INTEQ(errno, ENOTDIR);
    CHECK_INTEQ(cyrus_mkdir_p(file, 0755), -1);
    CHECK_INTEQ(errno, ENOTDIR);
    CHECK_INTEQ(cyrus_mkdir_p("", 0755), -1);

    unlink(file);
    snprintf(path, sizeof(path), "%s/a/b/c", base); rmdir(path);
    snprintf(path, sizeof(path), "%s/a/b", base); rmdir(path);
    snprintf(path, sizeof(path), "%s/a", base); rmdir(path);
    CHECK_INTEQ(rmdir(base), 0);   /* nothing else was left behind */
}

static void test_lcase(void)
{
    char s[] = "Hello WORLD 123-_Z";
    CHECK_STREQ(lcase(s), "hello world 123-_z");
}

static void test_retry_io(void)
{
    int fds[2];
    char out[100000], in[100001];

    for (size_t i = 0; i < sizeof(out); i++)
        out[i] = (char)('a' + i % 26);
    CHECK_INTEQ(pipe(fds), 0);
    pid_t pid = fork();
    if (pid == 0) {
        /* More than a pipe holds: the writer must loop. */
        close(fds[0]);
        _exit(retry_write(fds[1], out, sizeof(out)) == 0 ? 0 : 1);
    }
    close(fds[1]);
    CHECK_INTEQ(retry_read(fds[0], in, sizeof(in)), sizeof(out));
    CHECK(memcmp(in, out, sizeof(out)) == 0);
    CHECK_INTEQ(retry_read(fds[0], in, 10), 0);   /* end of file */
    close(fds[0]);
    int status;
    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    CHECK_INTEQ(retry_write(-1, "x", 1), -1);
    CHECK_INTEQ(errno, EBADF);
}

UNIT_TESTS(UNIT_T(test_parse_ulong), UNIT_T(test_parse_longlong),
           UNIT_T(test_parse_duration), UNIT_T(test_parse_bytesize),
           UNIT_T(test_mkdir_p), UNIT_T(test_lcase), UNIT_T(test_retry_io))
