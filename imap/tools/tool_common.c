/* tool_common.c -- start-up shared by the admin tools; see tool_common.h. */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "imap/store/mboxlist.h"
#include "imap/store/quota.h"
#include "imap/tools/tool_common.h"
#include "lib/buf.h"
#include "lib/config.h"
#include "lib/cyrusdb.h"
#include "lib/log.h"
#include "master/privs.h"

static unsigned opened;
static int env_open;
static int log_stderr;

void tool_log_open(const char *program)
{
    const char *env = getenv("CYRUS_LOG_STDERR");

    log_open(NULL, program, LOG_LOCAL6);
    log_stderr = (env && *env && strcmp(env, "0")) || isatty(STDERR_FILENO);
    log_set_stderr(log_stderr);
}

void tool_fatal(int code, const char *fmt, ...)
{
    struct buf msg = BUF_INITIALIZER;
    va_list ap;

    va_start(ap, fmt);
    buf_vprintf(&msg, fmt, ap);
    va_end(ap);
    /* Whoever ran the tool must see why it stopped, not only syslog. */
    if (!log_stderr) fprintf(stderr, "%s\n", buf_cstring(&msg));
    fatal(code, "%s", buf_cstring(&msg));
}

void tool_drop_root(void)
{
    struct privs privs;
    struct buf err = BUF_INITIALIZER;
    int r;

    if (!privs_have_root()) return;
    r = privs_lookup(config_getstring(IMAPOPT_CYRUS_USER),
                     config_getstring(IMAPOPT_CYRUS_GROUP), &privs, &err);
    if (r) tool_fatal(r, "%s", buf_cstring(&err));
    if (privs_drop_all(&privs, &err) < 0)
        tool_fatal(EX_NOPERM, "%s", buf_cstring(&err));
    privs_fini(&privs);
    buf_free(&err);
}

const char *tool_init(const char *program, const char *conffile)
{
    struct buf err = BUF_INITIALIZER;
    const char *configdir;

    if (!conffile) conffile = TOOL_DEFAULT_CONFIG;
    if (config_read(conffile, NULL, &err) < 0)
        tool_fatal(EX_CONFIG, "%s", buf_cstring(&err));
    buf_free(&err);
    config_open_log(program);
    tool_drop_root();

    configdir = config_dir();
    if (!configdir || !*configdir)
        tool_fatal(EX_CONFIG, "%s: configdirectory is not set", conffile);
    return configdir;
}

void tool_open_store(unsigned what)
{
    static struct mboxlist_settings st;
    const char *configdir = config_dir();
    int r;

    if (!env_open) {
        r = cyrusdb_init(configdir, 0);
        if (r)
            tool_fatal(EX_TEMPFAIL, "cannot open the databases in %s/db: %s",
                  configdir, cyrusdb_strerror(r));
        env_open = 1;
    }
    if ((what & TOOL_MBOXLIST) && !(opened & TOOL_MBOXLIST)) {
        const char *part = config_getstring(IMAPOPT_DEFAULTPARTITION);

        st.configdir = configdir;
        st.defaultpartition = part && *part ? part : "default";
        st.hashimapspool = config_getswitch(IMAPOPT_HASHIMAPSPOOL);
        st.partition_dir = config_partitiondir;
        if (mboxlist_open(&st))
            tool_fatal(EX_TEMPFAIL, "cannot open %s/mailboxes.db", configdir);
        opened |= TOOL_MBOXLIST;
    }
    if ((what & TOOL_QUOTA) && !(opened & TOOL_QUOTA)) {
        if (quota_open(configdir))
            tool_fatal(EX_TEMPFAIL, "cannot open the quota database in %s",
                  configdir);
        opened |= TOOL_QUOTA;
    }
}

void tool_close_store(void)
{
    if (opened & TOOL_QUOTA) quota_close();
    if (opened & TOOL_MBOXLIST) mboxlist_close();
    opened = 0;
    if (env_open) cyrusdb_done();
    env_open = 0;
}

void tool_admin_ns(struct mboxname_ns *ns)
{
    const char *s;

    memset(ns, 0, sizeof(*ns));
    ns->altnamespace = config_getswitch(IMAPOPT_ALTNAMESPACE);
    ns->unixhierarchysep = config_getswitch(IMAPOPT_UNIXHIERARCHYSEP);
    s = config_getenum(IMAPOPT_VIRTDOMAINS);
    ns->virtdomains = s && strcmp(s, "off");
    ns->defaultdomain = config_getstring(IMAPOPT_DEFAULTDOMAIN);
    s = config_getstring(IMAPOPT_USERPREFIX);
    ns->userprefix = s ? s : "Other Users";
    s = config_getstring(IMAPOPT_SHAREDPREFIX);
    ns->sharedprefix = s ? s : "Shared Folders";
    s = config_getstring(IMAPOPT_ALTPREFIX);
    ns->altprefix = s ? s : "Alt Folders";
    ns->isadmin = 1;
}
