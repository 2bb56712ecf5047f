/* test_lock.c -- unit tests for lib/lock (fcntl locks and pid files). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/lock.h"
#include "lib/test/unit.h"

struct child {
    pid_t pid;
    int to_child;    /* write a byte to let the child exit */
};

/* Fork a child that runs `hold` on `path`, reports the result over a
 * pipe, then keeps whatever it holds until told to exit. */
static struct child child_start(const char *path,
                                int (*hold)(const char *path))
{
    int up[2], down[2];
    struct child c = { -1, -1 };
    char r;

    if (pipe(up) < 0 || pipe(down) < 0)
        return c;
    c.pid = fork();
    if (c.pid == 0) {
        close(up[0]);
        close(down[1]);
        r = (char)(hold(path) == 0 ? 'y' : 'n');
        if (write(up[1], &r, 1) != 1)
            _exit(2);
        (void)read(down[0], &r, 1);
        _exit(0);
    }
    close(up[1]);
    close(down[0]);
    if (read(up[0], &r, 1) != 1 || r != 'y') {
        close(up[0]);
        close(down[1]);
        waitpid(c.pid, NULL, 0);
        c.pid = -1;
        return c;
    }
    close(up[0]);
    c.to_child = down[1];
    return c;
}

static void child_stop(struct child *c)
{
    int status;
    char x = 'x';

    if (c->pid <= 0) /* never kill(-1): the child failed to start */
        return;
    if (write(c->to_child, &x, 1) != 1)
        kill(c->pid, SIGTERM);
    close(c->to_child);
    waitpid(c->pid, &status, 0);
}

static int hold_pidfile(const char *path)
{
    struct buf err = BUF_INITIALIZER;
    int fd = lock_pidfile(path, getpid(), &err);
    buf_free(&err);
    return fd >= 0 ? 0 : -1;
}

static int hold_shared(const char *path)
{
    int fd = open(path, O_RDWR);
    return fd >= 0 ? lock_shared(fd, 0) : -1;
}

static char *temp_path(void)
{
    static char path[64];
    snprintf(path, sizeof(path), "/tmp/test_lock.XXXXXX");
    int fd = mkstemp(path);
    close(fd);
    return path;
}

static void test_pidfile_held_by_other(void)
{
    char *path = temp_path();
    struct buf err = BUF_INITIALIZER, want = BUF_INITIALIZER;

    struct child c = child_start(path, hold_pidfile);
    CHECK(c.pid > 0);
    if (c.pid <= 0)
        return;

    CHECK_INTEQ(lock_pidfile(path, getpid(), &err), -1);
    buf_printf(&want, "master already running as pid %ld", (long)c.pid);
    CHECK_STREQ(buf_cstring(&err), buf_cstring(&want));

    /* The file still holds the running master's pid. */
    char content[32] = "";
    int fd = open(path, O_RDONLY);
    CHECK(read(fd, content, sizeof(content) - 1) > 0);
    close(fd);
    buf_reset(&want);
    buf_printf(&want, "%ld\n", (long)c.pid);
    CHECK_STREQ(content, buf_cstring(&want));

    /* Once it exits, the pid file is ours, with our pid in it. */
    child_stop(&c);
    buf_reset(&err);
    fd = lock_pidfile(path, getpid(), &err);
    CHECK(fd >= 0);
    CHECK_STREQ(buf_cstring(&err), "");
    memset(content, 0, sizeof(content));
    CHECK(pread(fd, content, sizeof(content) - 1, 0) > 0);
    buf_reset(&want);
    buf_printf(&want, "%ld\n", (long)getpid());
    CHECK_STREQ(content, buf_cstring(&want));
    close(fd);

    unlink(path);
    buf_free(&err);
    buf_free(&want);
}

static void test_pidfile_errors(void)
{
    struct buf err = BUF_INITIALIZER;

    CHECK_INTEQ(lock_pidfile("/nonexistent/dir/master.pid", 1, &err), -1);
    CHECK(strstr(buf_cstring(&err), "cannot open pid file "
                                    "/nonexistent/dir/master.pid") != NULL);
    buf_free(&err);
}

static void test_shared_and_exclusive(void)
{
    char *path = temp_path();
    int fd = open(path, O_RDWR);

    /* Our own locks never conflict with each other. */
    CHECK_INTEQ(lock_exclusive(fd, 0), 0);
    CHECK_INTEQ(lock_shared(fd, 0), 0);
    CHECK_INTEQ(lock_unlock(fd), 0);

    struct child c = child_start(path, hold_shared);
    CHECK(c.pid > 0);
    if (c.pid > 0) {
        /* Readers share; a writer must wait. */
        CHECK_INTEQ(lock_shared(fd, 0), 0);
        CHECK_INTEQ(lock_unlock(fd), 0);
        errno = 0;
        CHECK_INTEQ(lock_exclusive(fd, 0), -1);
        CHECK_INTEQ(errno, EWOULDBLOCK);
        child_stop(&c);
        /* Released when the holder exits. */
        CHECK_INTEQ(lock_exclusive(fd, 1), 0);
    }
    close(fd);
    unlink(path);
}

UNIT_TESTS(UNIT_T(test_pidfile_held_by_other), UNIT_T(test_pidfile_errors),
           UNIT_T(test_shared_and_exclusive))
