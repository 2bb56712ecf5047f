/* service.h -- the skeleton every daemon run by master is built on.
 *
 * main() of a daemon is just:
 *     return service_main(argc, argv, &imapd_service);
 * The skeleton reads imapd.conf (-C), opens the log, refuses to run as
 * root (dropping to cyrus_user first if started as root), calls the
 * daemon's init() once, then loops: report "ready" to master over the
 * status pipe, accept a connection on the listening socket master passed,
 * report "busy", call serve(), and repeat until maxuse (-U) connections
 * were served or the process was idle for longer than -T seconds.
 *
 * Run by hand without master (no listening socket on SERVICE_LISTEN_FD),
 * a service serves one session on stdin/stdout, as from inetd.
 */
#ifndef MASTER_SERVICE_H
#define MASTER_SERVICE_H

#include <netinet/in.h>
#include <sys/socket.h>

/* File descriptors master gives every child. */
#define SERVICE_STATUS_FD 3   /* write end of the status pipe */
#define SERVICE_LISTEN_FD 4   /* the listening socket */

/* Messages a child writes (as one unsigned int) on the status pipe. */
enum service_status {
    SERVICE_STATUS_READY = 1,       /* idle, waiting in accept() */
    SERVICE_STATUS_BUSY = 2,        /* serving a connection */
    SERVICE_STATUS_CONNECTION = 3,  /* accepted one connection */
    SERVICE_STATUS_EXITING = 4,     /* about to exit normally */
};

/* One accepted connection. */
struct service_conn {
    int fd;                 /* the connection (read and write) */
    int in_fd, out_fd;      /* equal to fd unless run on stdin/stdout */
    char peer_addr[64];     /* "127.0.0.1" / "::1" / "" for UNIX sockets */
    int peer_port;
    char local_addr[64];
    int local_port;
    int is_unix;            /* arrived on a UNIX-domain socket */
};

struct service_ops {
    const char *name;           /* program name for the log, e.g. "imapd" */
    const char *optstring;      /* extra getopt letters, e.g. "s" */
    /* Called for each extra option; return 0, or -1 to refuse it. */
    int (*option)(int opt, const char *arg);
    /* Once per process, after config and privilege drop; 0 or a sysexits code. */
    int (*init)(int argc, char **argv);
    /* Serve one connection to its end. */
    void (*serve)(struct service_conn *conn);
    /* Once, before the process exits. */
    void (*shutdown)(void);
};

/* Common options: -C imapd.conf, -U maxuse, -T idle-timeout seconds,
 * -D (debug: log also to stderr).  Never returns on fatal errors. */
int service_main(int argc, char **argv, const struct service_ops *ops);

/* Set by the skeleton: cyrus.conf service name (env CYRUS_SERVICE) or the
 * program name, and whether -D was given. */
extern const char *service_name;
extern int service_debug;

#endif
