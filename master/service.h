/* service.h -- the skeleton every daemon run by master is built on.
 *
 * main() of a daemon is just:
 *     return service_main(argc, argv, &imapd_service);
 * The skeleton parses its options (-C imapd.conf, -U maxuse (default
 * 250, 0 for no limit), -T seconds (default 60), -D, then the daemon's
 * own), reads imapd.conf for the service named by CYRUS_SERVICE, opens
 * the log (also to stderr with -D or CYRUS_LOG_STDERR=1), ignores
 * SIGPIPE, refuses to run as root (dropping to cyrus_user first if
 * started as root), and calls the daemon's init() once.  Then it loops:
 * report READY to master over the status pipe, accept a connection on
 * the listening socket master passed, report BUSY and CONNECTION, call
 * serve(), close the connection, and repeat until -U connections were
 * served.  A process that has served at least one connection and then
 * waits -T seconds (randomised up to twice that, as Cyrus) for another
 * leaves; a fresh one waits for ever.  SIGHUP makes an idle process leave
 * at once and a busy one after its session; SIGTERM ends an idle one.
 * Before exiting it reports EXITING and calls shutdown().
 *
 * Run by hand without master (no listening socket on SERVICE_LISTEN_FD),
 * a service serves one session on stdin/stdout, as from inetd.
 */
#ifndef MASTER_SERVICE_H
#define MASTER_SERVICE_H

#include <netinet/in.h>
#include <stdint.h>
#include <sys/socket.h>

/* File descriptors master gives every child. */
#define SERVICE_STATUS_FD 3   /* write end of the status pipe */
#define SERVICE_LISTEN_FD 4   /* the listening socket */

/* What init() returns (and the process exits with) when the database
 * environment needs recovery -- a process died inside Berkeley DB -- so
 * that no process can use it: master then stops every service, reruns
 * its START entries (ctl_cyrusdb -r) and starts them again.  Outside the
 * sysexits range. */
#define SERVICE_EX_RECOVER 79
/* Seconds init() may take before the process gives up with
 * SERVICE_EX_RECOVER (it hangs on a dead process's Berkeley DB lock). */
#define SERVICE_INIT_TIMEOUT 20

/* Messages a child writes on the status pipe, each as one struct
 * service_message (8 bytes, so every write is atomic and children of one
 * service can share the pipe). */
enum service_status {
    SERVICE_STATUS_READY = 1,       /* idle, waiting in accept() */
    SERVICE_STATUS_BUSY = 2,        /* serving a connection */
    SERVICE_STATUS_CONNECTION = 3,  /* accepted one connection */
    SERVICE_STATUS_EXITING = 4,     /* about to exit normally */
};

struct service_message {
    uint32_t status;        /* enum service_status */
    int32_t pid;            /* the sender */
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
    /* Once per process, after config and privilege drop, with main's
     * argc/argv; 0 or a sysexits code (the process then exits with it). */
    int (*init)(int argc, char **argv);
    /* Serve one connection to its end. */
    void (*serve)(struct service_conn *conn);
    /* Once, before the process exits. */
    void (*shutdown)(void);
};

/* Common options: -C imapd.conf, -U maxuse, -T idle-timeout seconds,
 * -D (debug: log also to stderr).  Never returns on fatal errors. */
int service_main(int argc, char **argv, const struct service_ops *ops);

/* Tell master our state; 0, or -1 when there is no master to tell. */
int service_report(enum service_status status);

/* Default imapd.conf, as for Cyrus. */
#define SERVICE_DEFAULT_CONFIG "/etc/imapd.conf"

/* Set by the skeleton: cyrus.conf service name (env CYRUS_SERVICE) or the
 * program name, and whether -D was given. */
extern const char *service_name;
extern int service_debug;

#endif
