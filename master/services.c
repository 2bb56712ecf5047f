/* services.c -- SERVICES: sockets, worker pools; see services.h. */
#define _GNU_SOURCE
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/xmalloc.h"
#include "master/listen.h"
#include "master/service.h"
#include "master/services.h"

/* Consecutive children dying before they were ever ready after which a
 * service is held back, and the longest hold. */
#define FAIL_STREAK_HOLD 5
#define FAIL_HOLD_MAX 30

struct params {
    strarray_t *argv;
    char *listen, *proto;
    int prefork, maxchild, maxforkrate, maxfds, babysit;
};

struct msvc {
    char *name;
    struct params p;
    struct listen_socket *socks;
    int nsocks;
    int *nready;            /* per socket: children starting or ready */
    int status_rd, status_wr;
    int nchildren;          /* alive, all sockets */
    int removed;            /* gone from cyrus.conf; freed with last child */
    time_t rate_sec;        /* maxforkrate bookkeeping */
    int rate_forks;
    int fail_streak;
    time_t hold_until;
    unsigned long connections;
    struct msvc *next;
};

struct slot {
    struct msvc *svc;
    int sock;               /* -1: the status pipe */
};

static struct services_ctx ctx;
static struct msvc *services;
/* A child exited with SERVICE_EX_RECOVER since the last look. */
static int recovery_requested;
static struct slot *slots;
static int nslots, slots_alloc, slots_first;

static const char *const service_keys[] = {
    "cmd", "listen", "proto", "prefork", "maxchild", "maxforkrate",
    "maxfds", "babysit", NULL
};

int pollset_add(struct pollset *ps, int fd, short events)
{
    if (ps->n == ps->alloc) {
        ps->alloc = ps->alloc ? 2 * ps->alloc : 16;
        ps->fds = xrealloc(ps->fds, ps->alloc * sizeof(*ps->fds));
    }
    ps->fds[ps->n].fd = fd;
    ps->fds[ps->n].events = events;
    ps->fds[ps->n].revents = 0;
    return ps->n++;
}

void services_init(const struct services_ctx *c)
{
    ctx = *c;
}

static void params_fini(struct params *p)
{
    strarray_free(&p->argv);
    xfree(p->listen);
    xfree(p->proto);
}

/* Read one SERVICES entry; 0, -1 with *err, or 1 with *err for an
 * entry that is valid but can't run here (UDP). */
static int params_read(const struct masterconf_entry *e, struct params *p,
                       struct buf *err)
{
    const char *cmd = masterconf_getstring(e, "cmd", NULL);
    const char *listen = masterconf_getstring(e, "listen", NULL);
    struct listen_spec spec;
    int r;

    memset(p, 0, sizeof(*p));
    if (!cmd || !(p->argv = masterconf_splitcmd(cmd))) {
        buf_reset(err);
        buf_printf(err, "%s:%d: service \"%s\": cmd= is missing or empty",
                   e->filename, e->lineno, e->name);
        return -1;
    }
    if (!listen) {
        buf_reset(err);
        buf_printf(err, "%s:%d: service \"%s\": listen= is missing",
                   e->filename, e->lineno, e->name);
        params_fini(p);
        return -1;
    }
    p->listen = xstrdup(listen);
    p->proto = xstrdup(masterconf_getstring(e, "proto", "tcp"));
    if (!strncmp(p->proto, "udp", 3)) {
        buf_reset(err);
        buf_printf(err, "%s:%d: service \"%s\": proto=%s is not supported; "
                        "service left out",
                   e->filename, e->lineno, e->name, p->proto);
        params_fini(p);
        return 1;
    }
    if (listen_parse(p->listen, p->proto, &spec, err) < 0) {
        char *why = buf_release(err);
        buf_printf(err, "%s:%d: service \"%s\": %s", e->filename, e->lineno,
                   e->name, why);
        free(why);
        params_fini(p);
        return -1;
    }
    listen_spec_fini(&spec);
    r = masterconf_getint(e, "prefork", 0, &p->prefork, err);
    if (!r)
        r = masterconf_getint(e, "maxchild", -1, &p->maxchild, err);
    if (!r)
        r = masterconf_getint(e, "maxforkrate", 0, &p->maxforkrate, err);
    if (!r)
        r = masterconf_getint(e, "maxfds", 256, &p->maxfds, err);
    if (!r)
        r = masterconf_getswitch(e, "babysit", 0, &p->babysit, err);
    if (r) {
        params_fini(p);
        return -1;
    }
    if (p->prefork < 0)
        p->prefork = 0;
    if (p->babysit) {
        if (p->prefork < 1)
            p->prefork = 1;
        if (!p->maxforkrate)
            p->maxforkrate = 10;
    }
    /* Services find imapd.conf where master did. */
    if (ctx.alt_config && strarray_find(p->argv, "-C", 0) < 0) {
        strarray_t *argv = strarray_new();
        strarray_append(argv, p->argv->data[0]);
        strarray_append(argv, "-C");
        strarray_append(argv, ctx.alt_config);
        for (int i = 1; i < p->argv->count; i++)
            strarray_append(argv, p->argv->data[i]);
        strarray_free(&p->argv);
        p->argv = argv;
    }
    return 0;
}

int services_check(const struct masterconf *mc, struct buf *err)
{
    int r;

    for (int i = 0; i < mc->count; i++) {
        const struct masterconf_entry *e = &mc->entries[i];
        struct params p;

        if (e->section != MASTERCONF_SERVICES)
            continue;
        r = params_read(e, &p, err);
        if (r < 0)
            return -1;
        if (r == 0)
            params_fini(&p);
    }
    return 0;
}

static struct msvc *find_service(const char *name)
{
    for (struct msvc *s = services; s; s = s->next)
        if (!s->removed && !strcmp(s->name, name))
            return s;
    return NULL;
}

static void service_free(struct msvc *s)
{
    struct msvc **pp = &services;

    while (*pp && *pp != s)
        pp = &(*pp)->next;
    if (*pp)
        *pp = s->next;
    listen_close(s->socks, s->nsocks);
    if (s->status_rd >= 0)
        close(s->status_rd);
    if (s->status_wr >= 0)
        close(s->status_wr);
    free(s->nready);
    params_fini(&s->p);
    free(s->name);
    free(s);
}

/* Create a service and open its sockets; NULL with *err on failure. */
static struct msvc *service_new(const char *name, struct params *p,
                                struct buf *err)
{
    struct listen_spec spec;
    struct msvc *s;
    int pipefd[2];
    int raised = 0, n;

    if (listen_parse(p->listen, p->proto, &spec, err) < 0)
        return NULL;
    /* A privileged port after start-up needs root back for a moment. */
    if (ctx.privs && geteuid() != 0)
        raised = privs_raise() == 0;
    s = xzmalloc(sizeof(*s));
    n = listen_open(&spec, ctx.backlog, &s->socks, err);
    if (raised)
        privs_lower();
    listen_spec_fini(&spec);
    if (n < 0) {
        free(s);
        return NULL;
    }
    if (pipe2(pipefd, O_CLOEXEC) < 0) {
        buf_reset(err);
        buf_printf(err, "pipe: %s", strerror(errno));
        listen_close(s->socks, n);
        free(s);
        return NULL;
    }
    fcntl(pipefd[0], F_SETFL, O_NONBLOCK);
    s->status_rd = pipefd[0];
    s->status_wr = pipefd[1];
    s->nsocks = n;
    s->nready = xzmalloc(n * sizeof(*s->nready));
    s->name = xstrdup(name);
    s->p = *p;
    memset(p, 0, sizeof(*p));
    s->next = services;
    services = s;
    for (int i = 0; i < n; i++)
        log_info("service %s listening on %s", s->name, s->socks[i].desc);
    return s;
}

/* Take a service out of use: close its sockets, stop its children. */
static void service_remove(struct msvc *s)
{
    s->removed = 1;
    listen_close(s->socks, s->nsocks);
    s->socks = NULL;
    s->nsocks = 0;
    if (s->nchildren == 0) {
        service_free(s);
        return;
    }
    children_signal(SIGTERM, s);
}

int services_configure(const struct masterconf *mc, int startup,
                       struct buf *err)
{
    struct buf why = BUF_INITIALIZER;
    struct msvc *s, *next;
    int r;

    /* Whatever is no longer in the file goes first, so that a name
     * moved to another entry can bind the same address. */
    for (s = services; s; s = next) {
        int keep = 0;

        next = s->next;
        if (s->removed)
            continue;
        for (int i = 0; i < mc->count && !keep; i++) {
            const struct masterconf_entry *e = &mc->entries[i];
            if (e->section == MASTERCONF_SERVICES && !strcmp(e->name, s->name))
                keep = 1;
        }
        if (!keep) {
            log_notice("service %s removed", s->name);
            service_remove(s);
        }
    }

    for (int i = 0; i < mc->count; i++) {
        const struct masterconf_entry *e = &mc->entries[i];
        struct params p;

        if (e->section != MASTERCONF_SERVICES)
            continue;
        if (masterconf_checkkeys(e, service_keys, &why) < 0)
            log_warning("%s (ignored)", buf_cstring(&why));
        r = params_read(e, &p, &why);
        if (r) {
            log_msg(r < 0 ? LOG_ERR : LOG_WARNING, "%s", buf_cstring(&why));
            continue;
        }
        s = find_service(e->name);
        if (s && (strcmp(s->p.listen, p.listen) ||
                  strcmp(s->p.proto, p.proto))) {
            log_notice("service %s: listen=%s proto=%s changed, reopening",
                       s->name, p.listen, p.proto);
            service_remove(s);
            s = NULL;
        }
        if (s) {
            params_fini(&s->p);
            s->p = p;
            s->fail_streak = 0;
            s->hold_until = 0;
            continue;
        }
        s = service_new(e->name, &p, &why);
        if (!s) {
            params_fini(&p);
            if (startup && ctx.bind_errors_fatal) {
                buf_reset(err);
                buf_printf(err, "service %s: %s", e->name, buf_cstring(&why));
                buf_free(&why);
                return -1;
            }
            log_error("service %s disabled: %s", e->name, buf_cstring(&why));
        }
    }
    buf_free(&why);

    if (!startup) {
        /* Idle children leave and come back with the new settings. */
        for (s = services; s; s = s->next)
            if (!s->removed)
                children_signal(SIGHUP, s);
    }
    return 0;
}

static int service_can_fork(struct msvc *s, time_t now, int *timeout_ms)
{
    if (s->removed || !s->nsocks)
        return 0;
    if (s->p.maxchild >= 0 && s->nchildren >= s->p.maxchild)
        return 0;
    if (s->hold_until > now) {
        int ms = (int)(s->hold_until - now) * 1000;
        if (timeout_ms && (*timeout_ms < 0 || ms < *timeout_ms))
            *timeout_ms = ms;
        return 0;
    }
    if (s->p.maxforkrate > 0 && s->rate_sec == now &&
        s->rate_forks >= s->p.maxforkrate) {
        if (timeout_ms && (*timeout_ms < 0 || *timeout_ms > 1000))
            *timeout_ms = 1000;
        return 0;
    }
    return 1;
}

static int service_fork(struct msvc *s, int sock, time_t now)
{
    struct child_exec ce = {
        .name = s->name,
        .argv = s->p.argv,
        .status_fd = s->status_wr,
        .listen_fd = s->socks[sock].fd,
        .maxfds = s->p.maxfds,
        .privs = ctx.privs,
    };
    struct child *c;
    pid_t pid;

    pid = child_spawn(&ce);
    if (pid < 0) {
        s->hold_until = now + 1;
        return -1;
    }
    c = children_add(pid, CHILD_SERVICE, s->name, s);
    c->listener = sock;
    s->nchildren++;
    s->nready[sock]++;
    if (s->rate_sec != now) {
        s->rate_sec = now;
        s->rate_forks = 0;
    }
    s->rate_forks++;
    log_debug("service %s: started process %d on %s", s->name, (int)pid,
              s->socks[sock].desc);
    return 0;
}

void services_maintain(time_t now, int *timeout_ms)
{
    for (struct msvc *s = services; s; s = s->next) {
        for (int i = 0; i < s->nsocks; i++) {
            while (s->nready[i] < s->p.prefork &&
                   service_can_fork(s, now, timeout_ms)) {
                if (service_fork(s, i, now) < 0)
                    break;
            }
        }
    }
}

static void slot_add(struct pollset *ps, struct msvc *s, int fd, int sock)
{
    if (nslots == slots_alloc) {
        slots_alloc = slots_alloc ? 2 * slots_alloc : 16;
        slots = xrealloc(slots, slots_alloc * sizeof(*slots));
    }
    pollset_add(ps, fd, POLLIN);
    slots[nslots].svc = s;
    slots[nslots].sock = sock;
    nslots++;
}

void services_poll_prepare(struct pollset *ps)
{
    time_t now = time(NULL);

    nslots = 0;
    slots_first = ps->n;
    for (struct msvc *s = services; s; s = s->next) {
        if (s->status_rd >= 0)
            slot_add(ps, s, s->status_rd, -1);
        /* A socket is watched only when a waiting connection would make
         * us fork: with a ready child it accepts by itself, and at
         * maxchild the connection waits in the kernel's queue. */
        if (!service_can_fork(s, now, NULL))
            continue;
        for (int i = 0; i < s->nsocks; i++)
            if (s->nready[i] == 0)
                slot_add(ps, s, s->socks[i].fd, i);
    }
}

static void child_set_state(struct msvc *s, struct child *c,
                            enum child_state state)
{
    int was_ready = c->state == CHILD_STARTING || c->state == CHILD_READY;
    int is_ready = state == CHILD_STARTING || state == CHILD_READY;

    if (c->listener < s->nsocks && !s->removed)
        s->nready[c->listener] += is_ready - was_ready;
    c->state = state;
}

static void read_status(struct msvc *s)
{
    struct service_message msg[64];
    ssize_t n;

    while ((n = read(s->status_rd, msg, sizeof(msg))) > 0) {
        for (size_t i = 0; i < (size_t)n / sizeof(msg[0]); i++) {
            struct child *c = children_find(msg[i].pid);

            if (!c || c->owner != s) {
                log_debug("service %s: status %u from unknown process %d",
                          s->name, msg[i].status, (int)msg[i].pid);
                continue;
            }
            switch (msg[i].status) {
            case SERVICE_STATUS_READY:
                child_set_state(s, c, CHILD_READY);
                s->fail_streak = 0;
                break;
            case SERVICE_STATUS_BUSY:
                child_set_state(s, c, CHILD_BUSY);
                break;
            case SERVICE_STATUS_CONNECTION:
                s->connections++;
                break;
            case SERVICE_STATUS_EXITING:
                child_set_state(s, c, CHILD_EXITING);
                break;
            default:
                log_warning("service %s: process %d sent unknown status %u",
                            s->name, (int)c->pid, msg[i].status);
            }
        }
    }
}

void services_poll_handle(const struct pollset *ps, time_t now)
{
    for (int i = 0; i < nslots; i++) {
        const struct pollfd *pfd = &ps->fds[slots_first + i];
        struct msvc *s = slots[i].svc;

        if (!pfd->revents)
            continue;
        if (slots[i].sock < 0) {
            read_status(s);
            continue;
        }
        /* A connection waits and no child is ready for it. */
        if (slots[i].sock < s->nsocks && s->nready[slots[i].sock] == 0 &&
            service_can_fork(s, now, NULL))
            service_fork(s, slots[i].sock, now);
    }
    nslots = 0;
}

void services_child_exited(struct child *c, int status, time_t now)
{
    struct msvc *s = c->owner;
    int failed;

    /* Status messages the child wrote just before dying come first. */
    if (s->status_rd >= 0)
        read_status(s);
    failed = c->state == CHILD_STARTING &&
             !(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    if (WIFEXITED(status) && WEXITSTATUS(status) == SERVICE_EX_RECOVER)
        recovery_requested = 1;
    child_set_state(s, c, CHILD_EXITING);
    s->nchildren--;
    if (s->removed) {
        if (s->nchildren == 0)
            service_free(s);
        return;
    }
    if (failed && ++s->fail_streak >= FAIL_STREAK_HOLD) {
        int hold = s->fail_streak - FAIL_STREAK_HOLD + 1;
        if (hold > FAIL_HOLD_MAX)
            hold = FAIL_HOLD_MAX;
        s->hold_until = now + hold;
        log_error("service %s: %d processes in a row died before getting "
                  "ready; waiting %d s before the next",
                  s->name, s->fail_streak, hold);
    }
}

int services_take_recovery_request(void)
{
    int r = recovery_requested;

    recovery_requested = 0;
    return r;
}

void services_forget_failures(void)
{
    for (struct msvc *s = services; s; s = s->next) {
        s->fail_streak = 0;
        s->hold_until = 0;
    }
}

void services_close_all(void)
{
    for (struct msvc *s = services; s; s = s->next) {
        listen_close(s->socks, s->nsocks);
        s->socks = NULL;
        s->nsocks = 0;
        s->removed = 1;
    }
}

int services_count(void)
{
    int n = 0;

    for (struct msvc *s = services; s; s = s->next)
        if (!s->removed)
            n++;
    return n;
}

void services_done(void)
{
    while (services)
        service_free(services);
    xfree(slots);
    nslots = slots_alloc = 0;
}
