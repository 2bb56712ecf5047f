/* lock.c -- advisory fcntl() file locks; see lock.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/lock.h"
#include "lib/util.h"

static int lock_set(int fd, short type, int wait)
{
    struct flock fl;

    memset(&fl, 0, sizeof(fl));
    fl.l_type = type;
    fl.l_whence = SEEK_SET;
    fl.l_start = 0;
    fl.l_len = 0;   /* to the end of the file, however it grows */

    for (;;) {
        if (fcntl(fd, wait ? F_SETLKW : F_SETLK, &fl) == 0)
            return 0;
        if (errno == EINTR && wait)
            continue;
        if (errno == EACCES)
            errno = EWOULDBLOCK;   /* POSIX lets F_SETLK say either */
        return -1;
    }
}

int lock_exclusive(int fd, int wait)
{
    return lock_set(fd, F_WRLCK, wait);
}

int lock_shared(int fd, int wait)
{
    return lock_set(fd, F_RDLCK, wait);
}

int lock_unlock(int fd)
{
    return lock_set(fd, F_UNLCK, 0);
}

/* Which process holds a lock that conflicts with an exclusive one. */
static pid_t lock_holder(int fd)
{
    struct flock fl;

    memset(&fl, 0, sizeof(fl));
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_SET;
    if (fcntl(fd, F_GETLK, &fl) < 0 || fl.l_type == F_UNLCK)
        return 0;
    return fl.l_pid;
}

int lock_pidfile(const char *path, pid_t pid, struct buf *err)
{
    char line[32];
    int fd;

    fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        buf_printf(err, "cannot open pid file %s: %s", path, strerror(errno));
        return -1;
    }
    if (lock_exclusive(fd, 0) < 0) {
        int saved = errno;
        if (saved == EWOULDBLOCK) {
            pid_t holder = lock_holder(fd);
            if (!holder) {
                /* Fall back on what the holder wrote. */
                char old[32];
                ssize_t n = pread(fd, old, sizeof(old) - 1, 0);
                old[n > 0 ? n : 0] = '\0';
                holder = (pid_t)atol(old);
            }
            buf_printf(err, "master already running as pid %ld",
                       (long)holder);
        } else {
            buf_printf(err, "cannot lock pid file %s: %s", path,
                       strerror(saved));
        }
        close(fd);
        return -1;
    }
    int len = snprintf(line, sizeof(line), "%ld\n", (long)pid);
    if (ftruncate(fd, 0) < 0 || lseek(fd, 0, SEEK_SET) < 0 ||
        retry_write(fd, line, (size_t)len) < 0) {
        buf_printf(err, "cannot write pid file %s: %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}
