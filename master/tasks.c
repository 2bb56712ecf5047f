/* tasks.c -- START, EVENTS and DAEMON; see tasks.h. */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/xmalloc.h"
#include "master/tasks.h"

/* A daemon that lived less than this is "dying quickly". */
#define DAEMON_QUICK_DEATH 10
#define DAEMON_MAX_DELAY 60

struct event {
    char *name;
    char *cmd;              /* as written, to notice changes */
    strarray_t *argv;
    int period;             /* minutes */
    int at;                 /* HHMM, or -1 */
    time_t next;
    struct event *next_ev;
};

struct daemon {
    char *name;
    strarray_t *argv;
    pid_t pid;              /* 0 when not running */
    time_t start_after;
    int fails;
    int removed;
    struct daemon *next;
};

static const struct privs *task_privs;
static struct event *events;
static struct daemon *daemons;
static int stopping;

static const char *const start_keys[] = { "cmd", NULL };
static const char *const event_keys[] = { "cmd", "period", "at", NULL };
static const char *const daemon_keys[] = { "cmd", "wait", NULL };

void tasks_init(const struct privs *privs)
{
    task_privs = privs;
}

static int parse_at(const char *s)
{
    if (!s || strlen(s) != 4 || strspn(s, "0123456789") != 4)
        return -1;
    int v = atoi(s);
    if (v / 100 > 23 || v % 100 > 59)
        return -1;
    return v;
}

static int entry_fail(const struct masterconf_entry *e, struct buf *err,
                      const char *what)
{
    buf_reset(err);
    buf_printf(err, "%s:%d: %s \"%s\": %s", e->filename, e->lineno,
               masterconf_sectionname(e->section), e->name, what);
    return -1;
}

/* Check one entry of START, EVENTS or DAEMON. */
static int entry_check(const struct masterconf_entry *e, struct buf *err)
{
    const char *cmd = masterconf_getstring(e, "cmd", NULL);
    strarray_t *argv = masterconf_splitcmd(cmd);
    int period;

    if (!argv)
        return entry_fail(e, err, "cmd= is missing or empty");
    strarray_free(&argv);
    if (e->section == MASTERCONF_EVENTS) {
        const char *at = masterconf_getstring(e, "at", NULL);
        if (masterconf_getint(e, "period", 0, &period, err) < 0)
            return -1;
        if (period < 0)
            return entry_fail(e, err, "period= must not be negative");
        if (at && parse_at(at) < 0)
            return entry_fail(e, err, "at= must be a time HHMM from 0000 "
                                      "to 2359");
        if (!at && !period)
            return entry_fail(e, err, "needs period= (minutes) or at= "
                                      "(HHMM)");
    }
    return 0;
}

int tasks_check(const struct masterconf *mc, struct buf *err)
{
    for (int i = 0; i < mc->count; i++) {
        const struct masterconf_entry *e = &mc->entries[i];
        if (e->section != MASTERCONF_SERVICES && entry_check(e, err) < 0)
            return -1;
    }
    return 0;
}

static pid_t task_spawn(const char *name, const strarray_t *argv)
{
    struct child_exec ce = {
        .name = name,
        .argv = argv,
        .status_fd = -1,
        .listen_fd = -1,
        .maxfds = 256,
        .privs = task_privs,
    };
    return child_spawn(&ce);
}

int tasks_run_start(const struct masterconf *mc, struct buf *err)
{
    struct buf why = BUF_INITIALIZER;

    for (int i = 0; i < mc->count; i++) {
        const struct masterconf_entry *e = &mc->entries[i];
        struct child c = { .kind = CHILD_START, .name = e->name };
        strarray_t *argv;
        int status;

        if (e->section != MASTERCONF_START)
            continue;
        if (masterconf_checkkeys(e, start_keys, &why) < 0)
            log_warning("%s (ignored)", buf_cstring(&why));
        argv = masterconf_splitcmd(masterconf_getstring(e, "cmd", NULL));
        log_debug("running START %s", e->name);
        c.pid = task_spawn(e->name, argv);
        strarray_free(&argv);
        if (c.pid < 0) {
            buf_reset(err);
            buf_printf(err, "can't run startup: can't fork for %s", e->name);
            buf_free(&why);
            return -1;
        }
        while (waitpid(c.pid, &status, 0) < 0) {
            if (errno != EINTR) {
                buf_reset(err);
                buf_printf(err, "can't run startup: waitpid: %s",
                           strerror(errno));
                buf_free(&why);
                return -1;
            }
        }
        child_log_exit(&c, status);
        if (!WIFEXITED(status) || WEXITSTATUS(status)) {
            buf_reset(err);
            buf_printf(err, "can't run startup: %s (cmd=\"%s\") failed",
                       e->name, masterconf_getstring(e, "cmd", ""));
            buf_free(&why);
            return -1;
        }
    }
    buf_free(&why);
    return 0;
}

time_t tasks_next_at(int hhmm, time_t now)
{
    struct tm tm;
    time_t t;

    localtime_r(&now, &tm);
    tm.tm_hour = hhmm / 100;
    tm.tm_min = hhmm % 100;
    tm.tm_sec = 0;
    tm.tm_isdst = -1;
    t = mktime(&tm);
    if (t <= now) {
        tm.tm_mday++;
        tm.tm_hour = hhmm / 100;
        tm.tm_min = hhmm % 100;
        tm.tm_sec = 0;
        tm.tm_isdst = -1;
        t = mktime(&tm);
    }
    return t;
}

static void event_free(struct event *ev)
{
    free(ev->name);
    free(ev->cmd);
    strarray_free(&ev->argv);
    free(ev);
}

static void configure_events(const struct masterconf *mc, time_t now)
{
    struct event *old = events, **tail = &events;

    events = NULL;
    for (int i = 0; i < mc->count; i++) {
        const struct masterconf_entry *e = &mc->entries[i];
        const char *cmd = masterconf_getstring(e, "cmd", "");
        struct buf why = BUF_INITIALIZER;
        struct event *ev, **pp;
        int period = 0, at;

        if (e->section != MASTERCONF_EVENTS)
            continue;
        if (masterconf_checkkeys(e, event_keys, &why) < 0)
            log_warning("%s (ignored)", buf_cstring(&why));
        /* tasks_check() already vetted the value */
        masterconf_getint(e, "period", 0, &period, &why);
        buf_free(&why);
        at = parse_at(masterconf_getstring(e, "at", NULL));
        if (at >= 0)
            period = 1440;

        /* The same event, unchanged, keeps its schedule. */
        for (pp = &old; *pp; pp = &(*pp)->next_ev) {
            if (!strcmp((*pp)->name, e->name) && !strcmp((*pp)->cmd, cmd) &&
                (*pp)->period == period && (*pp)->at == at)
                break;
        }
        if (*pp) {
            ev = *pp;
            *pp = ev->next_ev;
        } else {
            ev = xzmalloc(sizeof(*ev));
            ev->name = xstrdup(e->name);
            ev->cmd = xstrdup(cmd);
            ev->argv = masterconf_splitcmd(cmd);
            ev->period = period;
            ev->at = at;
            ev->next = at >= 0 ? tasks_next_at(at, now) : now;
        }
        ev->next_ev = NULL;
        *tail = ev;
        tail = &ev->next_ev;
    }
    while (old) {
        struct event *ev = old;
        old = ev->next_ev;
        event_free(ev);
    }
}

static struct daemon *find_daemon(const char *name)
{
    for (struct daemon *d = daemons; d; d = d->next)
        if (!d->removed && !strcmp(d->name, name))
            return d;
    return NULL;
}

static void daemon_free(struct daemon *d)
{
    struct daemon **pp = &daemons;

    while (*pp && *pp != d)
        pp = &(*pp)->next;
    if (*pp)
        *pp = d->next;
    free(d->name);
    strarray_free(&d->argv);
    free(d);
}

static void configure_daemons(const struct masterconf *mc, time_t now)
{
    struct daemon *d, *next;

    for (d = daemons; d; d = d->next) {
        int keep = 0;
        for (int i = 0; i < mc->count && !keep; i++)
            keep = mc->entries[i].section == MASTERCONF_DAEMON &&
                   !strcmp(mc->entries[i].name, d->name);
        if (!keep)
            d->removed = 1;
    }
    for (int i = 0; i < mc->count; i++) {
        const struct masterconf_entry *e = &mc->entries[i];
        struct buf why = BUF_INITIALIZER;
        strarray_t *argv;

        if (e->section != MASTERCONF_DAEMON)
            continue;
        if (masterconf_checkkeys(e, daemon_keys, &why) < 0)
            log_warning("%s (ignored)", buf_cstring(&why));
        buf_free(&why);
        argv = masterconf_splitcmd(masterconf_getstring(e, "cmd", NULL));
        d = find_daemon(e->name);
        if (d) {
            char *a = strarray_join(d->argv, " ");
            char *b = strarray_join(argv, " ");
            int changed = strcmp(a, b) != 0;
            free(a);
            free(b);
            strarray_free(&d->argv);
            d->argv = argv;
            /* It restarts with the new command when it has gone. */
            if (changed && d->pid > 0)
                kill(d->pid, SIGTERM);
            continue;
        }
        d = xzmalloc(sizeof(*d));
        d->name = xstrdup(e->name);
        d->argv = argv;
        d->start_after = now;
        d->next = daemons;
        daemons = d;
    }
    for (d = daemons; d; d = next) {
        next = d->next;
        if (!d->removed)
            continue;
        if (d->pid > 0) {
            log_notice("daemon %s removed; stopping process %d", d->name,
                       (int)d->pid);
            kill(d->pid, SIGTERM);
        } else {
            daemon_free(d);
        }
    }
}

void tasks_configure(const struct masterconf *mc, time_t now)
{
    configure_events(mc, now);
    configure_daemons(mc, now);
}

void tasks_run_due(time_t now)
{
    if (stopping)
        return;
    for (struct event *ev = events; ev; ev = ev->next_ev) {
        pid_t pid;

        if (ev->next > now)
            continue;
        pid = task_spawn(ev->name, ev->argv);
        if (pid > 0) {
            children_add(pid, CHILD_EVENT, ev->name, NULL);
            log_debug("event %s: started process %d", ev->name, (int)pid);
        }
        if (ev->at >= 0)
            ev->next = tasks_next_at(ev->at, now);
        else
            ev->next = now + 60 * (time_t)ev->period;
    }
    for (struct daemon *d = daemons; d; d = d->next) {
        pid_t pid;

        if (d->removed || d->pid > 0 || d->start_after > now)
            continue;
        pid = task_spawn(d->name, d->argv);
        if (pid < 0) {
            d->start_after = now + 1;
            continue;
        }
        d->pid = pid;
        children_add(pid, CHILD_DAEMON, d->name, d);
        log_debug("daemon %s: started process %d", d->name, (int)pid);
    }
}

int tasks_timeout_ms(time_t now, int cap)
{
    time_t soonest = 0;

    if (stopping)
        return cap;
    for (struct event *ev = events; ev; ev = ev->next_ev)
        if (!soonest || ev->next < soonest)
            soonest = ev->next;
    for (struct daemon *d = daemons; d; d = d->next)
        if (!d->removed && d->pid <= 0 &&
            (!soonest || d->start_after < soonest))
            soonest = d->start_after;
    if (!soonest)
        return cap;
    if (soonest <= now)
        return 0;
    if (cap >= 0 && (soonest - now) * 1000 > cap)
        return cap;
    return (int)(soonest - now) * 1000;
}

void tasks_child_exited(struct child *c, int status, time_t now)
{
    struct daemon *d = c->owner;

    (void)status;
    if (c->kind != CHILD_DAEMON || !d)
        return;
    d->pid = 0;
    if (d->removed) {
        daemon_free(d);
        return;
    }
    if (now - c->started < DAEMON_QUICK_DEATH) {
        int delay;
        d->fails++;
        delay = d->fails <= 1 ? 0 : 1 << (d->fails - 1 > 6 ? 6 : d->fails - 1);
        if (delay > DAEMON_MAX_DELAY)
            delay = DAEMON_MAX_DELAY;
        d->start_after = now + delay;
        if (delay)
            log_warning("daemon %s keeps dying; restarting in %d s", d->name,
                        delay);
    } else {
        d->fails = 0;
        d->start_after = now;
    }
}

void tasks_stop(void)
{
    stopping = 1;
}

void tasks_done(void)
{
    while (events) {
        struct event *ev = events;
        events = ev->next_ev;
        event_free(ev);
    }
    while (daemons)
        daemon_free(daemons);
}
