/* lock.h -- advisory file locks.
 *
 * Whole-file fcntl() locks: they belong to the process, are released when
 * it exits or closes any descriptor of the file, and work across NFS.
 * A process therefore holds at most one lock per file; take it on one
 * descriptor and keep that descriptor open while the lock matters.
 */
#ifndef LIB_LOCK_H
#define LIB_LOCK_H

#include <sys/types.h>

#include "lib/buf.h"

/* Take an exclusive (write) lock on fd.  With `wait` block until granted
 * (retrying on EINTR); without it fail at once if another process holds a
 * lock.  Returns 0, or -1 with errno set (EWOULDBLOCK when busy). */
int lock_exclusive(int fd, int wait);

/* Take a shared (read) lock on fd; like lock_exclusive otherwise. */
int lock_shared(int fd, int wait);

/* Release this process's lock on fd.  Returns 0, or -1 with errno set. */
int lock_unlock(int fd);

/* Open or create the pid file `path` (mode 0644), lock it exclusively
 * without waiting and write "pid\n" into it.  Returns the descriptor,
 * which the caller keeps open for as long as it runs.  Returns -1 with a
 * message in *err: "master already running as pid N" when another
 * process holds the lock, or the system error otherwise. */
int lock_pidfile(const char *path, pid_t pid, struct buf *err);

#endif
