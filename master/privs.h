/* privs.h -- running as cyrus_user instead of root.
 *
 * master starts as root to bind privileged ports, then runs as
 * cyrus_user with root kept only as its saved user id, so that a
 * re-read of cyrus.conf can still bind a new privileged port
 * (privs_raise/privs_lower around the bind).  Every process master
 * starts, and a service started by hand as root, drops root for good
 * with privs_drop_all() before it runs any other code: real, effective
 * and saved ids and the supplementary groups all change, with no way
 * back.  None of this applies to a process not started as root: it
 * keeps running as the user who started it.
 */
#ifndef MASTER_PRIVS_H
#define MASTER_PRIVS_H

#include <sys/types.h>

#include "lib/buf.h"

struct privs {
    char *user;
    uid_t uid;
    gid_t gid;
};

/* Whether this process holds root now or can regain it. */
int privs_have_root(void);
/* Look up `user` and `group` (NULL: the user's primary group).  Returns
 * 0, or a sysexits code (EX_NOUSER) with the reason in *err. */
int privs_lookup(const char *user, const char *group, struct privs *p,
                 struct buf *err);
void privs_fini(struct privs *p);
/* master: become p->uid/p->gid, keeping root as the saved uid. */
int privs_master_drop(const struct privs *p, struct buf *err);
/* Become root again for a moment (after privs_master_drop); 0 or -1. */
int privs_raise(void);
/* Back to the effective uid set by privs_master_drop. */
void privs_lower(void);
/* Drop root for good; a no-op without root.  0, or -1 with *err. */
int privs_drop_all(const struct privs *p, struct buf *err);

#endif
