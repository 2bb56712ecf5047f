/* children.h -- the processes master started, and how it starts them.
 *
 * Every process master forks is recorded here by pid with its kind
 * (START, SERVICE, EVENT, DAEMON), the cyrus.conf name it runs for, an
 * owner pointer for the module that manages it, and, for services, its
 * state as last reported on the status pipe.  Lookup by pid is constant
 * time so status messages and reaping stay cheap with many children.
 *
 * child_spawn() forks and execs one command: in the child, signals are
 * back to their defaults, fd 3 is the status pipe and fd 4 the listening
 * socket (closed when not given), every other descriptor above 2 is
 * closed, root is dropped for good, CYRUS_SERVICE names the entry, and a
 * program given as a relative path is run from LIBEXECDIR.
 */
#ifndef MASTER_CHILDREN_H
#define MASTER_CHILDREN_H

#include <sys/types.h>
#include <time.h>

#include "lib/strarray.h"
#include "master/privs.h"

enum child_kind { CHILD_START, CHILD_SERVICE, CHILD_EVENT, CHILD_DAEMON };

enum child_state {
    CHILD_STARTING,   /* forked, not yet reported ready */
    CHILD_READY,      /* waiting in accept() */
    CHILD_BUSY,       /* serving a connection */
    CHILD_EXITING,    /* said it is leaving */
};

struct child {
    pid_t pid;
    enum child_kind kind;
    enum child_state state;
    char *name;          /* cyrus.conf entry name */
    void *owner;         /* the managing module's record, or NULL */
    int listener;        /* services: index of the socket it accepts on */
    time_t started;
    struct child *hnext; /* pid hash chain */
    struct child *prev, *next;
};

/* What to run. */
struct child_exec {
    const char *name;           /* put in CYRUS_SERVICE */
    const strarray_t *argv;     /* argv[0] relative: run from LIBEXECDIR */
    int status_fd;              /* becomes fd 3, or -1 */
    int listen_fd;              /* becomes fd 4, or -1 */
    int maxfds;                 /* RLIMIT_NOFILE for the child; 0: as is */
    const struct privs *privs;  /* user to become, or NULL to stay */
};

/* Record a new child (state CHILD_STARTING). */
struct child *children_add(pid_t pid, enum child_kind kind, const char *name,
                           void *owner);
/* The child with that pid, or NULL. */
struct child *children_find(pid_t pid);
/* Forget a child and free it. */
void children_remove(struct child *c);
/* Number of children recorded. */
int children_count(void);
/* Call cb for every child; cb must not add or remove children. */
void children_foreach(void (*cb)(struct child *c, void *rock), void *rock);
/* Send `sig` to every child owned by `owner` (NULL: every child). */
void children_signal(int sig, const void *owner);

/* Fork and exec; the new pid, or -1 if fork failed (logged). */
pid_t child_spawn(const struct child_exec *ce);
/* The path child_spawn would exec for argv[0] (new memory). */
char *child_program_path(const char *argv0);
/* "START", "SERVICE", "EVENT" or "DAEMON". */
const char *child_kindname(enum child_kind kind);
/* Log how a child ended: "process PID (service imap) exited, status N"
 * or "... killed by signal N".  Non-zero ends are logged as errors. */
void child_log_exit(const struct child *c, int status);

#endif
