/* children.c -- child table and fork+exec; see children.h. */
#define _GNU_SOURCE
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/xmalloc.h"
#include "master/children.h"
#include "master/service.h"

#define NBUCKETS 1024

static struct child *buckets[NBUCKETS];
static struct child *all;      /* doubly linked, newest first */
static int nchildren;

static unsigned bucket_of(pid_t pid)
{
    return (unsigned)pid % NBUCKETS;
}

struct child *children_add(pid_t pid, enum child_kind kind, const char *name,
                           void *owner)
{
    struct child *c = xzmalloc(sizeof(*c));
    unsigned b = bucket_of(pid);

    c->pid = pid;
    c->kind = kind;
    c->state = CHILD_STARTING;
    c->name = xstrdup(name);
    c->owner = owner;
    c->started = time(NULL);
    c->hnext = buckets[b];
    buckets[b] = c;
    c->next = all;
    if (all)
        all->prev = c;
    all = c;
    nchildren++;
    return c;
}

struct child *children_find(pid_t pid)
{
    for (struct child *c = buckets[bucket_of(pid)]; c; c = c->hnext)
        if (c->pid == pid)
            return c;
    return NULL;
}

void children_remove(struct child *c)
{
    struct child **pp = &buckets[bucket_of(c->pid)];

    while (*pp && *pp != c)
        pp = &(*pp)->hnext;
    if (*pp)
        *pp = c->hnext;
    if (c->prev)
        c->prev->next = c->next;
    else
        all = c->next;
    if (c->next)
        c->next->prev = c->prev;
    nchildren--;
    free(c->name);
    free(c);
}

int children_count(void)
{
    return nchildren;
}

void children_foreach(void (*cb)(struct child *c, void *rock), void *rock)
{
    for (struct child *c = all; c; c = c->next)
        cb(c, rock);
}

void children_signal(int sig, const void *owner)
{
    for (struct child *c = all; c; c = c->next)
        if (!owner || c->owner == owner)
            kill(c->pid, sig);
}

const char *child_kindname(enum child_kind kind)
{
    switch (kind) {
    case CHILD_START: return "START";
    case CHILD_SERVICE: return "SERVICE";
    case CHILD_EVENT: return "EVENT";
    case CHILD_DAEMON: return "DAEMON";
    }
    return "?";
}

static const char *kindword(enum child_kind kind)
{
    switch (kind) {
    case CHILD_START: return "start";
    case CHILD_SERVICE: return "service";
    case CHILD_EVENT: return "event";
    case CHILD_DAEMON: return "daemon";
    }
    return "?";
}

void child_log_exit(const struct child *c, int status)
{
    if (WIFSIGNALED(status)) {
        log_error("process %d (%s %s) killed by signal %d", (int)c->pid,
                  kindword(c->kind), c->name, WTERMSIG(status));
    } else if (WIFEXITED(status) && WEXITSTATUS(status)) {
        log_error("process %d (%s %s) exited, status %d", (int)c->pid,
                  kindword(c->kind), c->name, WEXITSTATUS(status));
    } else {
        log_debug("process %d (%s %s) exited, status 0", (int)c->pid,
                  kindword(c->kind), c->name);
    }
}

char *child_program_path(const char *argv0)
{
    if (argv0[0] == '/')
        return xstrdup(argv0);
    return strconcat(LIBEXECDIR, "/", argv0, (char *)NULL);
}

/* Runs in the child only: set up descriptors 3 and 4. */
static void child_setup_fds(const struct child_exec *ce)
{
    int status = -1, lfd = -1;

    /* Move both out of the way first: either may already be 3 or 4. */
    if (ce->status_fd >= 0)
        status = fcntl(ce->status_fd, F_DUPFD, 10);
    if (ce->listen_fd >= 0)
        lfd = fcntl(ce->listen_fd, F_DUPFD, 10);
    if (status >= 0) {
        dup2(status, SERVICE_STATUS_FD);
        close(status);
    } else {
        close(SERVICE_STATUS_FD);
    }
    if (lfd >= 0) {
        dup2(lfd, SERVICE_LISTEN_FD);
        close(lfd);
    } else {
        close(SERVICE_LISTEN_FD);
    }
    /* dup2 clears close-on-exec on 3 and 4; everything else master holds
     * goes, whether or not it was marked. */
    close_range(SERVICE_LISTEN_FD + 1, ~0U, 0);
}

static void child_limit_fds(int maxfds)
{
    struct rlimit rl;

    if (maxfds <= 0 || getrlimit(RLIMIT_NOFILE, &rl) < 0)
        return;
    rl.rlim_cur = maxfds;
    if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < rl.rlim_cur) {
        /* Raising the hard limit needs root; settle for the hard limit. */
        struct rlimit want = { maxfds, maxfds };
        if (setrlimit(RLIMIT_NOFILE, &want) == 0)
            return;
        rl.rlim_cur = rl.rlim_max;
    }
    if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
        log_warning("can't set file descriptor limit to %d: %m", maxfds);
}

static void child_reset_signals(void)
{
    static const int sigs[] = { SIGCHLD, SIGHUP, SIGTERM, SIGINT, SIGQUIT,
                                SIGALRM, SIGPIPE, SIGUSR1, SIGUSR2 };
    sigset_t none;

    for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
        signal(sigs[i], SIG_DFL);
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
}

pid_t child_spawn(const struct child_exec *ce)
{
    struct buf err = BUF_INITIALIZER;
    char *path;
    pid_t pid;

    pid = fork();
    if (pid < 0) {
        log_error("can't fork process for %s: %m", ce->name);
        return -1;
    }
    if (pid > 0)
        return pid;

    /* The child: nothing here returns to master's code. */
    child_reset_signals();
    child_setup_fds(ce);
    child_limit_fds(ce->maxfds);
    if (ce->privs && privs_drop_all(ce->privs, &err) < 0) {
        log_error("%s: can't drop privileges: %s", ce->name,
                  buf_cstring(&err));
        _exit(EX_OSERR);
    }
    setenv("CYRUS_SERVICE", ce->name, 1);
    path = child_program_path(ce->argv->data[0]);
    execv(path, ce->argv->data);
    log_error("can't exec %s for %s: %m", path, ce->name);
    _exit(EX_OSERR);
}
