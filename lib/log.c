/* log.c -- syslog plus optional stderr; see log.h. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <syslog.h>
#include <paths.h>
#include <time.h>

#include "lib/log.h"

static char log_ident[256] = "cyrus";
static int log_to_stderr;
static int log_opened;

void log_open(const char *prefix, const char *program, int facility)
{
    if (prefix && *prefix)
        snprintf(log_ident, sizeof(log_ident), "%s/%s", prefix, program);
    else
        snprintf(log_ident, sizeof(log_ident), "%s", program);
    if (log_opened) closelog();
    /* openlog keeps the pointer: log_ident is static storage. */
    openlog(log_ident, LOG_PID | LOG_NDELAY, facility);
    log_opened = 1;
}

void log_set_stderr(int enabled)
{
    log_to_stderr = enabled;
}

static const struct {
    const char *name;
    int value;
} facilities[] = {
    { "mail", LOG_MAIL },     { "daemon", LOG_DAEMON }, { "user", LOG_USER },
    { "local0", LOG_LOCAL0 }, { "local1", LOG_LOCAL1 }, { "local2", LOG_LOCAL2 },
    { "local3", LOG_LOCAL3 }, { "local4", LOG_LOCAL4 }, { "local5", LOG_LOCAL5 },
    { "local6", LOG_LOCAL6 }, { "local7", LOG_LOCAL7 }, { "auth", LOG_AUTH },
};

int log_facility_from_name(const char *name)
{
    for (size_t i = 0; i < sizeof(facilities) / sizeof(facilities[0]); i++)
        if (!strcasecmp(name, facilities[i].name))
            return facilities[i].value;
    return -1;
}

/* Is there a syslog daemon's socket?  Without one, syslog(3) tries to
 * connect again on every line (three system calls, thrown away), so its
 * absence is remembered and looked at again every ten seconds. */
static int syslog_listening(void)
{
    static time_t next_look;
    static int present = 1;
    time_t now = time(NULL);

    if (now >= next_look) {
        struct stat sb;
        present = stat(_PATH_LOG, &sb) == 0;
        next_look = now + 10;
    }
    return present;
}

static void log_vmsg(int priority, const char *fmt, va_list ap)
{
    char line[4096];
    int to_syslog = syslog_listening();

    if (!to_syslog && !log_to_stderr)
        return;
    vsnprintf(line, sizeof(line), fmt, ap);
    if (to_syslog && !log_opened) {
        openlog(log_ident, LOG_PID | LOG_NDELAY, LOG_LOCAL6);
        log_opened = 1;
    }
    if (to_syslog)
        syslog(priority, "%s", line);
    if (log_to_stderr)
        fprintf(stderr, "%s: %s\n", log_ident, line);
}

void log_msg(int priority, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_vmsg(priority, fmt, ap);
    va_end(ap);
}

void fatal(int exitcode, const char *fmt, ...)
{
    char line[4096];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    log_msg(LOG_CRIT, "fatal: %s", line);
    exit(exitcode);
}

void log_panic_at(const char *file, int line, const char *fmt, ...)
{
    char msg[4096];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    log_msg(LOG_CRIT, "panic at %s:%d: %s", file, line, msg);
    abort();
}
