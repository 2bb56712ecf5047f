/* master.c -- the process supervisor: start-up, signals, the main loop.
 *
 * Start-up order, as Cyrus: read imapd.conf and cyrus.conf (any error is
 * fatal before anything runs), daemonize (-d), take the pid file lock,
 * run START, open the services' sockets as root, become cyrus_user
 * (keeping a way back to root for binding after SIGHUP), then loop.
 * Signals only write to a self-pipe; all the work happens in the loop.
 */
#define _GNU_SOURCE
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <unistd.h>

#include "lib/config.h"
#include "lib/lock.h"
#include "lib/log.h"
#include "lib/xmalloc.h"
#include "master/children.h"
#include "master/masterconf.h"
#include "master/privs.h"
#include "master/service.h"
#include "master/services.h"
#include "master/tasks.h"

#define MASTER_DEFAULT_CONF "/etc/cyrus.conf"
/* Seconds children get to leave after SIGTERM before SIGKILL. */
#define SHUTDOWN_GRACE 5

struct master_opts {
    const char *imapd_conf;
    int imapd_conf_given;
    const char *cyrus_conf;
    const char *pidfile;
    const char *logfile;
    int backlog;
    int daemonize;
    int debug;
};

static struct master_opts opts = {
    .imapd_conf = SERVICE_DEFAULT_CONFIG,
    .cyrus_conf = MASTER_DEFAULT_CONF,
    .backlog = 32,
};

static int sigpipe_fds[2] = { -1, -1 };
static volatile sig_atomic_t got_chld, got_hup, got_term;
static pid_t master_pid;
static char *pidfile_path;
static int pidfile_fd = -1;
static struct privs privs;
static int have_privs;

static void usage(void)
{
    fprintf(stderr, "usage: master [-C imapd.conf] [-M cyrus.conf] "
                    "[-p pidfile] [-l backlog] [-j n] [-L logfile] "
                    "[-d | -D]\n");
    exit(EX_USAGE);
}

static void parse_args(int argc, char **argv)
{
    int opt;

    while ((opt = getopt(argc, argv, "C:M:p:l:j:L:dD")) != -1) {
        switch (opt) {
        case 'C':
            opts.imapd_conf = optarg;
            opts.imapd_conf_given = 1;
            break;
        case 'M':
            opts.cyrus_conf = optarg;
            break;
        case 'p':
            opts.pidfile = optarg;
            break;
        case 'l':
            opts.backlog = atoi(optarg);
            if (opts.backlog <= 0)
                usage();
            break;
        case 'j':
            /* Cyrus's janitor rate: our child table needs no sweeping. */
            break;
        case 'L':
            opts.logfile = optarg;
            break;
        case 'd':
            opts.daemonize = 1;
            break;
        case 'D':
            opts.debug = 1;
            break;
        default:
            usage();
        }
    }
    if (optind != argc)
        usage();
    if (opts.daemonize && opts.debug) {
        fprintf(stderr, "master: -d and -D cannot be used together\n");
        exit(EX_USAGE);
    }
}

static void on_signal(int sig)
{
    int saved = errno;
    char c = (char)sig;

    switch (sig) {
    case SIGCHLD: got_chld = 1; break;
    case SIGHUP: got_hup = 1; break;
    default: got_term = sig; break;
    }
    (void)!write(sigpipe_fds[1], &c, 1);
    errno = saved;
}

static void setup_signals(void)
{
    static const int sigs[] = { SIGCHLD, SIGHUP, SIGTERM, SIGINT, SIGQUIT };
    struct sigaction sa;

    if (pipe2(sigpipe_fds, O_CLOEXEC | O_NONBLOCK) < 0)
        fatal(EX_OSERR, "pipe: %m");
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_RESTART | SA_NOCLDSTOP;
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
        sigaction(sigs[i], &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

static void open_log(void)
{
    const char *fac = config_getstring(IMAPOPT_SYSLOG_FACILITY);
    int facility = fac ? log_facility_from_name(fac) : -1;

    log_open(config_getstring(IMAPOPT_SYSLOG_PREFIX), "master",
             facility >= 0 ? facility : LOG_LOCAL6);
}

static void read_imapd_conf(void)
{
    struct buf err = BUF_INITIALIZER;

    if (config_read(opts.imapd_conf, NULL, &err) < 0)
        fatal(EX_CONFIG, "%s", buf_cstring(&err));
    buf_free(&err);
}

/* Read and check cyrus.conf; NULL with *err when unusable. */
static struct masterconf *read_cyrus_conf(struct buf *err)
{
    struct masterconf *mc = masterconf_read(opts.cyrus_conf, err);

    if (!mc)
        return NULL;
    for (int i = 0; i < mc->warnings.count; i++)
        log_warning("%s", mc->warnings.data[i]);
    if (services_check(mc, err) < 0 || tasks_check(mc, err) < 0)
        masterconf_free(&mc);
    return mc;
}

static void remove_pidfile(void)
{
    if (getpid() != master_pid || pidfile_fd < 0)
        return;
    /* The pid file's directory is usually root's. */
    if (have_privs)
        privs_raise();
    unlink(pidfile_path);
    close(pidfile_fd);
    pidfile_fd = -1;
}

static void take_pidfile(void)
{
    char line[32];
    int fd, len;

    pidfile_path = xstrdup(opts.pidfile
                               ? opts.pidfile
                               : config_getstring(IMAPOPT_MASTER_PID_FILE));
    fd = open(pidfile_path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
        fatal(EX_OSERR, "can't open pid file %s: %m", pidfile_path);
    if (lock_exclusive(fd, 0) < 0) {
        if (errno == EWOULDBLOCK || errno == EAGAIN || errno == EACCES) {
            ssize_t n = pread(fd, line, sizeof(line) - 1, 0);
            line[n > 0 ? n : 0] = '\0';
            fatal(EX_OSERR, "master already running (pid %ld)", atol(line));
        }
        fatal(EX_OSERR, "can't lock pid file %s: %m", pidfile_path);
    }
    len = snprintf(line, sizeof(line), "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) < 0 || pwrite(fd, line, len, 0) != len)
        fatal(EX_OSERR, "can't write pid file %s: %m", pidfile_path);
    pidfile_fd = fd;
    master_pid = getpid();
    atexit(remove_pidfile);
}

/* -d: the parent waits until the daemon is ready (or died) so that its
 * exit status tells whether master started. */
static int daemonize(void)
{
    int fds[2];
    pid_t pid;
    char c;

    if (pipe2(fds, O_CLOEXEC) < 0)
        fatal(EX_OSERR, "pipe: %m");
    pid = fork();
    if (pid < 0)
        fatal(EX_OSERR, "fork: %m");
    if (pid > 0) {
        int status;

        close(fds[1]);
        if (read(fds[0], &c, 1) == 1)
            _exit(0);
        if (waitpid(pid, &status, 0) == pid && WIFEXITED(status))
            _exit(WEXITSTATUS(status));
        _exit(EX_OSERR);
    }
    close(fds[0]);
    setsid();
    return fds[1];
}

static void redirect_stdio(void)
{
    int fd = opts.logfile
                 ? open(opts.logfile, O_WRONLY | O_CREAT | O_APPEND, 0644)
                 : -1;
    int null = open("/dev/null", O_RDWR);

    if (null < 0)
        fatal(EX_OSERR, "can't open /dev/null: %m");
    dup2(null, 0);
    dup2(fd >= 0 ? fd : null, 1);
    dup2(fd >= 0 ? fd : null, 2);
    if (null > 2)
        close(null);
    if (fd > 2)
        close(fd);
}

static void reap_children(void)
{
    time_t now = time(NULL);
    int status;
    pid_t pid;

    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        struct child *c = children_find(pid);

        if (!c)
            continue;
        child_log_exit(c, status);
        if (c->kind == CHILD_SERVICE)
            services_child_exited(c, status, now);
        else
            tasks_child_exited(c, status, now);
        children_remove(c);
    }
}

static void reload(void)
{
    struct buf err = BUF_INITIALIZER;
    struct masterconf *mc;

    log_notice("SIGHUP: reloading %s and %s", opts.imapd_conf,
               opts.cyrus_conf);
    if (config_read(opts.imapd_conf, NULL, &err) < 0)
        log_error("%s (keeping the previous settings)", buf_cstring(&err));
    mc = read_cyrus_conf(&err);
    if (!mc) {
        log_error("%s; cyrus.conf not reloaded", buf_cstring(&err));
        buf_free(&err);
        return;
    }
    services_configure(mc, 0, &err);
    tasks_configure(mc, time(NULL));
    masterconf_free(&mc);
    buf_free(&err);
}

/* SIGTERM every child, wait for them to go, SIGKILL the stragglers. */
static void stop_children(void)
{
    time_t deadline = time(NULL) + SHUTDOWN_GRACE;

    children_signal(SIGTERM, NULL);
    while (children_count() > 0) {
        time_t now = time(NULL);
        struct pollfd pfd = { sigpipe_fds[0], POLLIN, 0 };
        char drain[64];

        if (now >= deadline) {
            log_warning("%d processes still running after %d s; killing them",
                        children_count(), SHUTDOWN_GRACE);
            children_signal(SIGKILL, NULL);
            /* A killed process can't refuse; bound the wait anyway. */
            for (int i = 0; i < 20 && children_count() > 0; i++) {
                reap_children();
                if (children_count() > 0)
                    usleep(100 * 1000);
            }
            break;
        }
        poll(&pfd, 1, (int)(deadline - now) * 1000);
        while (read(sigpipe_fds[0], drain, sizeof(drain)) > 0)
            ;
        reap_children();
    }
}

/* Wait for the children to go, SIGKILL the stragglers, and exit. */
static void shutdown_master(int sig)
{
    int status;

    log_notice("exiting on signal %d", sig);
    services_close_all();
    tasks_stop();
    stop_children();
    while (waitpid(-1, &status, WNOHANG) > 0)
        ;
    services_done();
    tasks_done();
    remove_pidfile();
    log_notice("exited");
    exit(0);
}

/* A child found the database environment in need of recovery (a process
 * died inside Berkeley DB): no process can use it until recovery has run
 * with every other one gone.  So stop every child, rerun START (where
 * cyrus.conf has `ctl_cyrusdb -r`) and let the services start afresh,
 * rather than have them fail until an administrator steps in. */
static void recover_databases(void)
{
    struct buf err = BUF_INITIALIZER;
    struct masterconf *mc;

    log_error("the database environment needs recovery: stopping every "
              "process and running START again");
    stop_children();
    mc = read_cyrus_conf(&err);
    if (!mc) {
        log_error("%s; recovery not run", buf_cstring(&err));
    } else if (tasks_run_start(mc, &err) < 0) {
        log_error("%s", buf_cstring(&err));
    } else {
        log_notice("recovery done; services start again");
    }
    if (mc)
        masterconf_free(&mc);
    buf_free(&err);
    services_forget_failures();
    /* Children stopped on the way may have asked again: recovery ran. */
    (void)services_take_recovery_request();
}

static void main_loop(void)
{
    struct pollset ps = { NULL, 0, 0 };

    for (;;) {
        time_t now = time(NULL);
        int timeout = -1;
        char drain[64];
        int r;

        tasks_run_due(now);
        services_maintain(now, &timeout);
        timeout = tasks_timeout_ms(now, timeout);

        ps.n = 0;
        pollset_add(&ps, sigpipe_fds[0], POLLIN);
        services_poll_prepare(&ps);
        r = poll(ps.fds, ps.n, timeout);
        if (r < 0 && errno != EINTR)
            fatal(EX_OSERR, "poll: %m");
        now = time(NULL);
        /* Status messages before reaping: a child's last words count. */
        if (r > 0)
            services_poll_handle(&ps, now);
        while (read(sigpipe_fds[0], drain, sizeof(drain)) > 0)
            ;
        if (got_chld) {
            got_chld = 0;
            reap_children();
        }
        if (services_take_recovery_request())
            recover_databases();
        if (got_term) {
            free(ps.fds);
            shutdown_master(got_term);
        }
        if (got_hup) {
            got_hup = 0;
            reload();
        }
    }
}

int main(int argc, char **argv)
{
    struct buf err = BUF_INITIALIZER;
    struct masterconf *mc;
    struct services_ctx sctx;
    int ready_fd = -1;

    parse_args(argc, argv);
    /* Until start-up is over, problems are shown on the terminal too. */
    log_open(NULL, "master", LOG_LOCAL6);
    log_set_stderr(1);
    if (opts.debug)
        setenv("CYRUS_LOG_STDERR", "1", 1);

    read_imapd_conf();
    open_log();
    mc = read_cyrus_conf(&err);
    if (!mc)
        fatal(EX_CONFIG, "%s", buf_cstring(&err));

    if (privs_have_root()) {
        int r = privs_lookup(config_getstring(IMAPOPT_CYRUS_USER),
                             config_getstring(IMAPOPT_CYRUS_GROUP), &privs,
                             &err);
        if (r)
            fatal(r, "%s", buf_cstring(&err));
        have_privs = 1;
    }

    if (opts.daemonize)
        ready_fd = daemonize();
    take_pidfile();
    setup_signals();

    tasks_init(have_privs ? &privs : NULL);
    if (tasks_run_start(mc, &err) < 0)
        fatal(EX_UNAVAILABLE, "%s", buf_cstring(&err));

    sctx.backlog = opts.backlog;
    sctx.alt_config = opts.imapd_conf_given ? opts.imapd_conf : NULL;
    sctx.privs = have_privs ? &privs : NULL;
    sctx.bind_errors_fatal = config_getswitch(IMAPOPT_MASTER_BIND_ERRORS_FATAL);
    services_init(&sctx);
    if (services_configure(mc, 1, &err) < 0)
        fatal(EX_UNAVAILABLE, "%s", buf_cstring(&err));

    if (have_privs && privs_master_drop(&privs, &err) < 0)
        fatal(EX_OSERR, "can't become %s: %s", privs.user, buf_cstring(&err));

    tasks_configure(mc, time(NULL));
    masterconf_free(&mc);
    buf_free(&err);

    log_notice("ready for work (%d services)", services_count());
    if (!opts.debug) {
        log_set_stderr(0);
        redirect_stdio();
    }
    if (ready_fd >= 0) {
        (void)!write(ready_fd, "", 1);
        close(ready_fd);
    }
    main_loop();
    return 0;
}
