/* services.h -- the SERVICES of cyrus.conf: sockets and worker pools.
 *
 * Each service owns its listening sockets (one per address listen=
 * resolves to), one status pipe shared by its children, and a pool of
 * children started with child_spawn().  The module keeps, per socket,
 * `prefork` children ready; forks one more when a connection waits on a
 * socket with no ready child; never runs more than `maxchild` children
 * for the service; and spaces forks by `maxforkrate` per second (and
 * backs off when children keep failing to start).
 *
 * services_configure() reconciles the running services with a parsed
 * cyrus.conf: new entries open their sockets, removed ones close them and
 * their children get SIGTERM, entries whose listen=/proto= changed are
 * replaced, others are updated in place; every remaining child gets
 * SIGHUP so that idle ones restart with the new configuration.
 */
#ifndef MASTER_SERVICES_H
#define MASTER_SERVICES_H

#include <poll.h>
#include <time.h>

#include "lib/buf.h"
#include "master/children.h"
#include "master/masterconf.h"
#include "master/privs.h"

struct services_ctx {
    int backlog;                /* listen(2) queue length */
    const char *alt_config;     /* master's -C, passed on to services */
    const struct privs *privs;  /* user children become; NULL: stay */
    int bind_errors_fatal;      /* at start-up, a failed bind is fatal */
};

/* A growable poll(2) set; the main loop owns it. */
struct pollset {
    struct pollfd *fds;
    int n, alloc;
};

/* Add one descriptor; returns its index. */
int pollset_add(struct pollset *ps, int fd, short events);

/* Remember the context (copied; its pointers must stay valid). */
void services_init(const struct services_ctx *ctx);
/* Check every SERVICES entry of `mc`; 0, or -1 with "FILE:LINE: ..." */
int services_check(const struct masterconf *mc, struct buf *err);
/* Apply `mc` (already checked).  At start-up (`startup` set) a socket
 * that can't be bound is fatal if bind_errors_fatal: returns -1 with
 * *err.  Otherwise failures are logged and that service is skipped. */
int services_configure(const struct masterconf *mc, int startup,
                       struct buf *err);
/* Fork what prefork asks for; lower *timeout_ms if a fork had to wait. */
void services_maintain(time_t now, int *timeout_ms);
/* Add status pipes and the sockets that need a child to `ps`. */
void services_poll_prepare(struct pollset *ps);
/* Act on the poll results for what services_poll_prepare added. */
void services_poll_handle(const struct pollset *ps, time_t now);
/* A child of a service ended (after waitpid); the caller frees it. */
void services_child_exited(struct child *c, int status, time_t now);
/* 1 if a child asked for database recovery (exit SERVICE_EX_RECOVER)
 * since the last call. */
int services_take_recovery_request(void);
/* Clear the failure streaks (and the waits they imposed): after recovery
 * the services start afresh. */
void services_forget_failures(void);
/* Close every listening socket (shutdown): no new children. */
void services_close_all(void);
/* Number of services with open sockets. */
int services_count(void);
/* Free everything (after all children are gone). */
void services_done(void);

#endif
