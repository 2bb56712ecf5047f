/* tasks.h -- START, EVENTS and DAEMON entries of cyrus.conf.
 *
 * START commands run one after the other, each to completion, before
 * any service opens its socket; one that fails stops master start-up,
 * as in Cyrus.  EVENTS run at their time: every `period` minutes (the
 * first run right after start-up) or daily at `at` (HHMM, local time).
 * DAEMON commands run once and are restarted when they die (later and
 * later when they keep dying quickly); they get SIGTERM at shutdown.
 * None of these get the status pipe or a listening socket.
 */
#ifndef MASTER_TASKS_H
#define MASTER_TASKS_H

#include <time.h>

#include "lib/buf.h"
#include "master/children.h"
#include "master/masterconf.h"
#include "master/privs.h"

/* Remember the user children become (NULL: stay). */
void tasks_init(const struct privs *privs);
/* Check EVENTS and DAEMON entries; 0, or -1 with "FILE:LINE: ..." */
int tasks_check(const struct masterconf *mc, struct buf *err);
/* Run every START entry in order; 0, or -1 with the failure in *err. */
int tasks_run_start(const struct masterconf *mc, struct buf *err);
/* Apply EVENTS and DAEMON entries (already checked); events that did
 * not change keep their schedule, removed daemons get SIGTERM. */
void tasks_configure(const struct masterconf *mc, time_t now);
/* Run the events that are due and start daemons that should run. */
void tasks_run_due(time_t now);
/* Milliseconds until something is due (at most `cap`). */
int tasks_timeout_ms(time_t now, int cap);
/* A child of an event or daemon ended (after waitpid). */
void tasks_child_exited(struct child *c, int status, time_t now);
/* Stop starting anything (shutdown). */
void tasks_stop(void);
/* Free everything. */
void tasks_done(void);

/* When a daily event at HHMM is next due after `now` (local time). */
time_t tasks_next_at(int hhmm, time_t now);

#endif
