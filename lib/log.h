/* log.h -- the one way the project logs.
 *
 * Messages go to syslog under the ident "<syslog_prefix>/<program>"
 * (facility local6 unless the `syslog_facility` option says otherwise)
 * and, when enabled, also to stderr.  Where no syslog daemon listens
 * (no /dev/log, looked for every ten seconds) syslog is not tried.
 * Three kinds of failure:
 *   - a bug: assert() / log_panic() aborts with context;
 *   - an unusable environment: fatal() logs and exits with a sysexits code,
 *     and master restarts the service;
 *   - an ordinary error: returned to the caller, logged with log_error().
 */
#ifndef LIB_LOG_H
#define LIB_LOG_H

#include <syslog.h>

/* Open the log as `program` (e.g. "imapd"); `prefix` may be NULL. */
void log_open(const char *prefix, const char *program, int facility);
/* Also copy every message to stderr (tools, -D debug mode, tests). */
void log_set_stderr(int enabled);
/* Map a facility name ("local6", "mail", ...) to its value; -1 if unknown. */
int log_facility_from_name(const char *name);

void log_msg(int priority, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#define log_error(...)   log_msg(LOG_ERR, __VA_ARGS__)
#define log_warning(...) log_msg(LOG_WARNING, __VA_ARGS__)
#define log_notice(...)  log_msg(LOG_NOTICE, __VA_ARGS__)
#define log_info(...)    log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...)   log_msg(LOG_DEBUG, __VA_ARGS__)

/* Log and exit with `exitcode` (a sysexits.h code). */
void fatal(int exitcode, const char *fmt, ...)
    __attribute__((format(printf, 2, 3), noreturn));

/* A bug: log with the source location and abort(). */
#define log_panic(...) log_panic_at(__FILE__, __LINE__, __VA_ARGS__)
void log_panic_at(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4), noreturn));

#endif
