/* service.c -- the child-side skeleton of every service; see service.h. */
#define _GNU_SOURCE
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "lib/config.h"
#include "lib/cyrusdb.h"
#include "lib/log.h"
#include "lib/xmalloc.h"
#include "master/privs.h"
#include "master/service.h"

/* Cyrus's defaults for -U and -T. */
#define DEFAULT_MAX_USE 250
#define DEFAULT_REUSE_TIMEOUT 60

const char *service_name;
int service_debug;

static int status_fd = -1;
static volatile sig_atomic_t got_hup, got_term;

int service_report(enum service_status status)
{
    struct service_message msg = { (uint32_t)status, (int32_t)getpid() };
    ssize_t n;

    if (status_fd < 0)
        return -1;
    do {
        n = write(status_fd, &msg, sizeof(msg));
    } while (n < 0 && errno == EINTR);
    if (n != (ssize_t)sizeof(msg)) {
        /* master is gone: nobody left to tell. */
        status_fd = -1;
        return -1;
    }
    return 0;
}

static void on_signal(int sig)
{
    if (sig == SIGHUP)
        got_hup = 1;
    else
        got_term = 1;
}

static void usage_exit(const char *prog, const char *optstring,
                       char *getopt_string)
{
    free(getopt_string);
    /* Also on the terminal: usage errors happen when run by hand. */
    log_set_stderr(1);
    log_error("usage: %s [-C imapd.conf] [-U uses] [-T timeout] [-D] "
              "(extra options: %s)",
              prog, optstring && *optstring ? optstring : "none");
    exit(EX_USAGE);
}

struct service_args {
    const char *config;
    int max_use;
    int reuse_timeout;
};

static void parse_args(int argc, char **argv, const struct service_ops *ops,
                       struct service_args *args)
{
    char *optstring = strconcat("C:U:T:D", ops->optstring ? ops->optstring
                                                          : "",
                                (char *)NULL);
    int opt;

    opterr = 0;
    while ((opt = getopt(argc, argv, optstring)) != -1) {
        switch (opt) {
        case 'C':
            args->config = optarg;
            break;
        case 'U':
            args->max_use = atoi(optarg);
            break;
        case 'T':
            args->reuse_timeout = atoi(optarg);
            if (args->reuse_timeout < 0)
                args->reuse_timeout = 0;
            break;
        case 'D':
            service_debug = 1;
            break;
        case '?':
            log_set_stderr(1);
            log_error("unknown option -%c or missing argument", optopt);
            usage_exit(ops->name, ops->optstring, optstring);
            break;
        default:
            if (!ops->option || ops->option(opt, optarg) < 0)
                usage_exit(ops->name, ops->optstring, optstring);
        }
    }
    free(optstring);
}

static void setup_log(const char *program)
{
    const char *fac = config_getstring(IMAPOPT_SYSLOG_FACILITY);
    int facility = fac ? log_facility_from_name(fac) : -1;

    log_open(config_getstring(IMAPOPT_SYSLOG_PREFIX), program,
             facility >= 0 ? facility : LOG_LOCAL6);
}

/* A service must never run as root: started so by hand, it becomes
 * cyrus_user before the daemon's code runs. */
static void drop_root(void)
{
    struct buf err = BUF_INITIALIZER;
    struct privs privs;
    int r;

    if (!privs_have_root())
        return;
    r = privs_lookup(config_getstring(IMAPOPT_CYRUS_USER),
                     config_getstring(IMAPOPT_CYRUS_GROUP), &privs, &err);
    if (r)
        fatal(r, "%s", buf_cstring(&err));
    if (privs_drop_all(&privs, &err) < 0)
        fatal(EX_OSERR, "can't drop root privileges: %s", buf_cstring(&err));
    log_info("started as root; running as %s", privs.user);
    privs_fini(&privs);
    buf_free(&err);
}

static int is_listening(int fd)
{
    int acc = 0;
    socklen_t len = sizeof(acc);

    return getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &acc, &len) == 0 && acc;
}

static void addr_string(const struct sockaddr_storage *ss, char *buf,
                        size_t size, int *port)
{
    buf[0] = '\0';
    *port = 0;
    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *s4 = (const struct sockaddr_in *)ss;
        inet_ntop(AF_INET, &s4->sin_addr, buf, size);
        *port = ntohs(s4->sin_port);
    } else if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;
        inet_ntop(AF_INET6, &s6->sin6_addr, buf, size);
        *port = ntohs(s6->sin6_port);
    }
}

/* Fill the address fields of `conn` from its socket, if it is one. */
static void conn_describe(struct service_conn *conn)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);

    memset(&ss, 0, sizeof(ss));
    if (getsockname(conn->in_fd, (struct sockaddr *)&ss, &len) == 0) {
        conn->is_unix = ss.ss_family == AF_UNIX;
        addr_string(&ss, conn->local_addr, sizeof(conn->local_addr),
                    &conn->local_port);
    }
    len = sizeof(ss);
    memset(&ss, 0, sizeof(ss));
    if (getpeername(conn->in_fd, (struct sockaddr *)&ss, &len) == 0)
        addr_string(&ss, conn->peer_addr, sizeof(conn->peer_addr),
                    &conn->peer_port);
}

static void serve_stdio(const struct service_ops *ops)
{
    struct service_conn conn;

    memset(&conn, 0, sizeof(conn));
    conn.fd = conn.in_fd = STDIN_FILENO;
    conn.out_fd = STDOUT_FILENO;
    conn_describe(&conn);
    ops->serve(&conn);
}

static void set_handler(int sig, void (*handler)(int))
{
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = handler;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    sigaction(sig, &sa, NULL);
}

static long long now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* Wait for a connection on the listening socket.  Returns the accepted
 * descriptor, or -1 when it is time to leave: SIGHUP, SIGTERM, or no
 * connection within `timeout` seconds (0: wait for ever). */
static int wait_connection(int timeout)
{
    long long deadline = timeout ? now_ms() + timeout * 1000LL : 0;
    sigset_t block, orig;
    int fd = -1;

    /* SIGTERM ends an idle process cleanly; while serving, its default
     * action stands. */
    set_handler(SIGTERM, on_signal);
    sigemptyset(&block);
    sigaddset(&block, SIGHUP);
    sigaddset(&block, SIGTERM);
    while (fd < 0) {
        struct pollfd pfd = { SERVICE_LISTEN_FD, POLLIN, 0 };
        struct timespec ts, *tsp = NULL;
        int r;

        /* Flags are checked with the signals blocked and ppoll unblocks
         * them atomically, so none is lost between check and wait. */
        sigprocmask(SIG_BLOCK, &block, &orig);
        if (got_hup || got_term) {
            sigprocmask(SIG_SETMASK, &orig, NULL);
            break;
        }
        if (deadline) {
            long long left = deadline - now_ms();
            if (left <= 0) {
                sigprocmask(SIG_SETMASK, &orig, NULL);
                log_debug("idle for %d s; exiting", timeout);
                break;
            }
            ts.tv_sec = left / 1000;
            ts.tv_nsec = (left % 1000) * 1000000;
            tsp = &ts;
        }
        r = ppoll(&pfd, 1, tsp, &orig);
        sigprocmask(SIG_SETMASK, &orig, NULL);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            fatal(EX_OSERR, "poll on the listening socket: %m");
        }
        if (r == 0)
            continue;
        /* Other children may have taken it first: the socket is
         * non-blocking, so that only costs an EAGAIN. */
        fd = accept4(SERVICE_LISTEN_FD, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0) {
            switch (errno) {
            case EAGAIN:
            case EINTR:
            case ECONNABORTED:
            case EPROTO:
            case ENETDOWN:
            case ENOPROTOOPT:
            case EHOSTDOWN:
            case ENONET:
            case EHOSTUNREACH:
            case EOPNOTSUPP:
            case ENETUNREACH:
                continue;
            default:
                fatal(EX_OSERR, "accept: %m");
            }
        }
    }
    set_handler(SIGTERM, SIG_DFL);
    if (fd >= 0) {
        int on = 1;

        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
        /* Replies are buffered and written whole, so small writes are not
         * an issue; without this, the last piece of a long reply waits
         * behind Nagle's algorithm for the client's delayed ACK (40 ms
         * on Linux).  On a UNIX socket this fails, harmlessly. */
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
    }
    return fd;
}

static void on_init_stuck(int sig)
{
    static const char msg[] = "service: initialization hangs; the database "
                               "environment needs recovery\n";

    (void)sig;
    (void)!write(STDERR_FILENO, msg, sizeof(msg) - 1);
    _exit(SERVICE_EX_RECOVER);
}

static void serve_loop(const struct service_ops *ops,
                       const struct service_args *args)
{
    int timeout = args->reuse_timeout;
    int uses = 0;

    /* Spread the exits of children made idle together, as Cyrus does. */
    if (timeout > 0) {
        srand((unsigned)getpid() ^ (unsigned)time(NULL));
        timeout += rand() % timeout;
    }
    while (!got_hup && !got_term) {
        struct service_conn conn;
        int fd;

        service_report(SERVICE_STATUS_READY);
        /* A fresh process waits for ever; a used one only so long. */
        fd = wait_connection(uses ? timeout : 0);
        if (fd < 0)
            break;
        service_report(SERVICE_STATUS_BUSY);
        service_report(SERVICE_STATUS_CONNECTION);

        memset(&conn, 0, sizeof(conn));
        conn.fd = conn.in_fd = conn.out_fd = fd;
        conn_describe(&conn);
        ops->serve(&conn);
        close(fd);
        uses++;
        /* The session met an environment that needs recovery: only master
         * can have it run, once every process has let go of it. */
        if (cyrusdb_needs_recovery()) {
            log_error("%s: the database environment needs recovery",
                      service_name);
            exit(SERVICE_EX_RECOVER);
        }
        if (args->max_use > 0 && uses >= args->max_use)
            break;
    }
}

int service_main(int argc, char **argv, const struct service_ops *ops)
{
    struct service_args args = { SERVICE_DEFAULT_CONFIG, DEFAULT_MAX_USE,
                                 DEFAULT_REUSE_TIMEOUT };
    struct buf err = BUF_INITIALIZER;
    const char *env;
    int standalone;
    int r;

    env = getenv("CYRUS_SERVICE");
    service_name = env && *env ? env : ops->name;
    log_open(NULL, ops->name, LOG_LOCAL6);
    env = getenv("CYRUS_LOG_STDERR");
    if (env && *env && strcmp(env, "0"))
        log_set_stderr(1);

    parse_args(argc, argv, ops, &args);
    if (service_debug)
        log_set_stderr(1);

    if (config_read(args.config, service_name, &err) < 0)
        fatal(EX_CONFIG, "%s", buf_cstring(&err));
    buf_free(&err);
    setup_log(ops->name);
    signal(SIGPIPE, SIG_IGN);
    drop_root();

    standalone = !is_listening(SERVICE_LISTEN_FD);
    if (!standalone) {
        struct stat sb;
        fcntl(SERVICE_LISTEN_FD, F_SETFD, FD_CLOEXEC);
        if (fstat(SERVICE_STATUS_FD, &sb) == 0 && S_ISFIFO(sb.st_mode)) {
            status_fd = SERVICE_STATUS_FD;
            fcntl(status_fd, F_SETFD, FD_CLOEXEC);
        }
    }
    set_handler(SIGHUP, on_signal);

    /* An init that hangs is, in practice, waiting on a lock of a process
     * that died inside Berkeley DB: only recovery frees it, so it ends as
     * a child that found the environment in need of recovery. */
    set_handler(SIGALRM, on_init_stuck);
    alarm(SERVICE_INIT_TIMEOUT);
    if (ops->init && (r = ops->init(argc, argv)) != 0) {
        log_error("%s: initialization failed (%d)", service_name, r);
        exit(r);
    }
    alarm(0);
    set_handler(SIGALRM, SIG_DFL);

    if (standalone)
        serve_stdio(ops);
    else
        serve_loop(ops, &args);

    service_report(SERVICE_STATUS_EXITING);
    if (ops->shutdown)
        ops->shutdown();
    exit(0);
}
