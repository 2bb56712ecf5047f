/* ctl_cyrusdb.c -- recover, check and checkpoint the server's databases.
 *
 *   ctl_cyrusdb [-C imapd.conf] -r [-x]   recover (cyrus.conf START)
 *   ctl_cyrusdb [-C imapd.conf] -c        checkpoint (cyrus.conf EVENTS)
 *   ctl_cyrusdb [-C imapd.conf] -x        check only
 *
 * As in Cyrus, -r runs before any service starts: it lays out the
 * configuration directory, runs database recovery and cleans up after the
 * previous run; -x with -r skips the cleanup.  Alone, -x only checks that
 * the databases can be opened without recovery.  See doc/ctl_cyrusdb.8.
 */
#include "config.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

#include "imap/tools/tool_common.h"
#include "lib/buf.h"
#include "lib/config.h"
#include "lib/cyrusdb.h"
#include "lib/log.h"
#include "lib/util.h"
#include "lib/xmalloc.h"

/* The layout of configdirectory, as Cyrus has it. */
static const char *const config_subdirs[] = {
    "db", "socket", "proc", "log", "sync", "lock", "quota", "user",
};

static void usage(void)
{
    fprintf(stderr,
            "usage: ctl_cyrusdb [-C imapd.conf] -r [-x]\n"
            "       ctl_cyrusdb [-C imapd.conf] -c\n"
            "       ctl_cyrusdb [-C imapd.conf] -x\n");
    exit(EX_USAGE);
}

static int make_dirs(const char *configdir)
{
    struct buf path = BUF_INITIALIZER;
    struct stat sb;
    int r = 0;

    for (size_t i = 0; i < sizeof(config_subdirs) / sizeof(*config_subdirs);
         i++) {
        buf_reset(&path);
        buf_printf(&path, "%s/%s", configdir, config_subdirs[i]);
        if (stat(buf_cstring(&path), &sb) == 0 && S_ISDIR(sb.st_mode))
            continue;
        if (cyrus_mkdir_p(buf_cstring(&path), 0750) < 0) {
            log_error("cannot create %s: %s", buf_cstring(&path),
                      strerror(errno));
            r = -1;
            continue;
        }
        log_notice("created %s", buf_cstring(&path));
    }
    buf_free(&path);
    return r;
}

/* proc/ holds one file per running service process, named by its pid.
 * At START no service runs, but stay safe if an admin runs -r on a live
 * server: only the files of dead processes go. */
static void clean_proc(const char *configdir)
{
    char *dirname = strconcat(configdir, "/proc", (char *)NULL);
    DIR *dir = opendir(dirname);
    struct dirent *e;
    int removed = 0;

    if (!dir) {
        log_warning("cannot read %s: %s", dirname, strerror(errno));
        free(dirname);
        return;
    }
    while ((e = readdir(dir))) {
        const char *p = e->d_name;
        if (!*p) continue;
        while (isdigit((unsigned char)*p)) p++;
        if (*p) continue;
        long pid = strtol(e->d_name, NULL, 10);
        if (pid > 0 && (kill((pid_t)pid, 0) == 0 || errno == EPERM))
            continue;
        char *file = strconcat(dirname, "/", e->d_name, (char *)NULL);
        if (unlink(file) == 0) removed++;
        else log_warning("cannot remove %s: %s", file, strerror(errno));
        free(file);
    }
    closedir(dir);
    if (removed) log_notice("removed %d stale files from %s", removed, dirname);
    free(dirname);
}

static int do_recover(const char *configdir, int cleanup)
{
    int r;

    if (make_dirs(configdir) < 0) return EX_CANTCREAT;

    log_notice("recovering cyrus databases");
    r = cyrusdb_init(configdir, CYRUSDB_RECOVER);
    if (r) {
        log_error("recovery of %s/db failed: %s", configdir,
                  cyrusdb_strerror(r));
        return EX_IOERR;
    }
    if (cleanup) {
        /* A fresh checkpoint lets the logs recovery just replayed go. */
        if ((r = cyrusdb_checkpoint()) || (r = cyrusdb_archive()))
            log_warning("checkpoint after recovery: %s", cyrusdb_strerror(r));
        clean_proc(configdir);
    }
    cyrusdb_done();
    log_notice("done recovering cyrus databases");
    return 0;
}

static int do_checkpoint(const char *configdir)
{
    int r;

    log_info("checkpointing cyrus databases");
    r = cyrusdb_init(configdir, 0);
    if (!r) {
        r = cyrusdb_checkpoint();
        if (!r) r = cyrusdb_archive();
        cyrusdb_done();
    }
    if (r) {
        log_error("checkpoint of %s/db failed: %s", configdir,
                  cyrusdb_strerror(r));
        return EX_IOERR;
    }
    log_info("done checkpointing cyrus databases");
    return 0;
}

static int do_check(const char *configdir)
{
    char *dbdir = strconcat(configdir, "/db", (char *)NULL);
    struct stat sb;
    int r = stat(dbdir, &sb);

    free(dbdir);
    if (r < 0 || !S_ISDIR(sb.st_mode)) {
        log_error("no database environment in %s/db; run ctl_cyrusdb -r",
                  configdir);
        return EX_IOERR;
    }
    r = cyrusdb_init(configdir, 0);
    if (r) {
        log_error("databases in %s/db are not usable: %s; "
                  "run ctl_cyrusdb -r", configdir, cyrusdb_strerror(r));
        return EX_IOERR;
    }
    cyrusdb_done();
    log_info("databases in %s/db are usable", configdir);
    return 0;
}

int main(int argc, char **argv)
{
    const char *conffile = NULL;
    int recover = 0, checkpoint = 0, nocleanup = 0;
    int opt;

    tool_log_open("ctl_cyrusdb");

    while ((opt = getopt(argc, argv, "C:rcx")) != -1) {
        switch (opt) {
        case 'C': conffile = optarg; break;
        case 'r': recover = 1; break;
        case 'c': checkpoint = 1; break;
        case 'x': nocleanup = 1; break;
        default: usage();
        }
    }
    /* One mode: -r (maybe with -x), -c, or -x alone. */
    if (optind != argc || recover + checkpoint + (nocleanup && !recover) != 1 ||
        (checkpoint && nocleanup))
        usage();

    /* Files created as root would lock the server (running as
     * cyrus_user) out of its own databases: tool_init drops root. */
    const char *configdir = tool_init("ctl_cyrusdb", conffile);

    if (recover) return do_recover(configdir, !nocleanup);
    if (checkpoint) return do_checkpoint(configdir);
    return do_check(configdir);
}
