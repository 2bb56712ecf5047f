/* mbpath.c -- print the directory of each named mailbox.
 *
 *   mbpath [-C imapd.conf] [-q] [-s] [-u] [-D|-M|-m] mailbox...
 *
 * Names are external names in the admin's namespace (user/fred with
 * unixhierarchysep), or user names with -u.  One directory per line, in
 * the order given; an unknown mailbox is reported on stderr (unless -q)
 * and makes the exit status EX_DATAERR, stopping at once with -s.  The
 * metadata (-M, -m) and data (-D) directories are one and the same here.
 * See doc/mbpath.8.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <sysexits.h>
#include <unistd.h>

#include "imap/store/mboxlist.h"
#include "imap/store/mboxname.h"
#include "imap/tools/tool_common.h"
#include "lib/buf.h"
#include "lib/log.h"

static void usage(void)
{
    fprintf(stderr, "usage: mbpath [-C imapd.conf] [-q] [-s] [-u] [-D|-M] "
                    "mailbox...\n");
    exit(EX_USAGE);
}

/* Print the directory of `arg`; 0, or -1 after reporting why not. */
static int print_path(const struct mboxname_ns *ns, const char *arg,
                      int users, int quiet)
{
    struct mboxlist_entry entry;
    struct buf path = BUF_INITIALIZER;
    char *name;
    const char *why = NULL;
    int r;

    name = users ? mboxname_user_inbox(ns, arg)
                 : mboxname_from_external(ns, arg, NULL);
    if (!name) {
        why = "Invalid mailbox name";
    } else if ((r = mboxlist_lookup(name, &entry))) {
        why = mboxlist_strerror(r);
    } else {
        if (entry.type == MBTYPE_EMAIL &&
            !mboxlist_path(name, entry.partition, &path))
            printf("%s\n", buf_cstring(&path));
        else
            why = entry.type == MBTYPE_EMAIL ? "Unknown partition"
                                             : "Not a local mailbox";
        mboxlist_entry_fini(&entry);
    }
    if (why && !quiet) fprintf(stderr, "mbpath: %s: %s\n", arg, why);
    free(name);
    buf_free(&path);
    return why ? -1 : 0;
}

int main(int argc, char **argv)
{
    const char *conffile = NULL;
    int quiet = 0, stop = 0, users = 0, status = 0;
    struct mboxname_ns ns;
    int opt;

    tool_log_open("mbpath");
    while ((opt = getopt(argc, argv, "C:qsuDMml")) != -1) {
        switch (opt) {
        case 'C': conffile = optarg; break;
        case 'q': quiet = 1; break;
        case 's': stop = 1; break;
        case 'u': users = 1; break;
        case 'D': case 'M': case 'm': case 'l': break;
        default: usage();
        }
    }
    if (optind == argc) usage();

    tool_init("mbpath", conffile);
    tool_open_store(TOOL_MBOXLIST);
    tool_admin_ns(&ns);

    for (int i = optind; i < argc; i++) {
        if (print_path(&ns, argv[i], users, quiet) < 0) {
            status = EX_DATAERR;
            if (stop) break;
        }
    }
    fflush(stdout);
    tool_close_store();
    return status;
}
