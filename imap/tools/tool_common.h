/* tool_common.h -- the start-up and store access shared by the admin
 * tools (ctl_cyrusdb, ctl_mboxlist, reconstruct, quota, mbpath).
 *
 * Every tool starts the same way, as Cyrus's do: log as the program
 * (copied to stderr on a terminal or with CYRUS_LOG_STDERR set), read
 * imapd.conf (-C, else /etc/imapd.conf), re-open the log with its
 * options, and when started as root drop to cyrus_user for good, so that
 * nothing a tool writes is owned by root.  Configuration errors and a
 * failed privilege drop are fatal (sysexits codes).  Tools that work on
 * mailboxes then open the database environment, mailboxes.db and,
 * if asked, the quota database; mailbox names on their command lines are
 * in the admin's namespace (standard namespace, the configured
 * separator), as Cyrus's tools take them.
 */
#ifndef IMAP_TOOLS_TOOL_COMMON_H
#define IMAP_TOOLS_TOOL_COMMON_H

#include "imap/store/mboxname.h"

#define TOOL_DEFAULT_CONFIG "/etc/imapd.conf"

/* What tool_open_store() opens besides the database environment. */
enum {
    TOOL_MBOXLIST = 1 << 0,
    TOOL_QUOTA = 1 << 1,
};

/* Open the log as `program`, before the configuration is read. */
void tool_log_open(const char *program);
/* Read `conffile` (NULL: the default), re-open the log per its options
 * and drop root; fatal on any failure.  Returns configdirectory. */
const char *tool_init(const char *program, const char *conffile);
/* Log `fmt` and exit with sysexits `code`, also printing the message on
 * stderr when the log does not go there. */
void tool_fatal(int code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3), noreturn));
/* Drop root for good to cyrus_user/cyrus_group; a no-op without root. */
void tool_drop_root(void);

/* Open the database environment and the databases in `what` (TOOL_*)
 * under configdirectory; fatal if one cannot be opened. */
void tool_open_store(unsigned what);
void tool_close_store(void);

/* The admin namespace from the configuration (strings point into it). */
void tool_admin_ns(struct mboxname_ns *ns);

#endif
