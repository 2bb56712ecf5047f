/* privs.c -- root to cyrus_user; see privs.h. */
#define _GNU_SOURCE
#include "config.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "lib/xmalloc.h"
#include "master/privs.h"

static uid_t lowered_uid = (uid_t)-1;

int privs_have_root(void)
{
    uid_t r, e, s;

    if (getresuid(&r, &e, &s) < 0)
        return geteuid() == 0;
    return r == 0 || e == 0 || s == 0;
}

int privs_lookup(const char *user, const char *group, struct privs *p,
                 struct buf *err)
{
    struct passwd *pw;

    memset(p, 0, sizeof(*p));
    if (!user || !*user) {
        buf_setcstr(err, "cyrus_user is not set");
        return EX_NOUSER;
    }
    pw = getpwnam(user);
    if (!pw) {
        buf_reset(err);
        buf_printf(err, "cyrus_user '%s' does not exist", user);
        return EX_NOUSER;
    }
    if (pw->pw_uid == 0) {
        buf_reset(err);
        buf_printf(err, "cyrus_user '%s' is root; refusing to run as root",
                   user);
        return EX_NOUSER;
    }
    p->uid = pw->pw_uid;
    p->gid = pw->pw_gid;
    if (group && *group) {
        struct group *gr = getgrnam(group);
        if (!gr) {
            buf_reset(err);
            buf_printf(err, "cyrus_group '%s' does not exist", group);
            return EX_NOUSER;
        }
        p->gid = gr->gr_gid;
    }
    p->user = xstrdup(user);
    return 0;
}

void privs_fini(struct privs *p)
{
    xfree(p->user);
}

static int set_groups(const struct privs *p, struct buf *err)
{
    if (initgroups(p->user, p->gid) < 0) {
        buf_reset(err);
        buf_printf(err, "initgroups(%s): %s", p->user, strerror(errno));
        return -1;
    }
    if (setresgid(p->gid, p->gid, p->gid) < 0) {
        buf_reset(err);
        buf_printf(err, "setresgid(%d): %s", (int)p->gid, strerror(errno));
        return -1;
    }
    return 0;
}

int privs_master_drop(const struct privs *p, struct buf *err)
{
    if (set_groups(p, err) < 0)
        return -1;
    if (setresuid(p->uid, p->uid, 0) < 0) {
        buf_reset(err);
        buf_printf(err, "setresuid(%d): %s", (int)p->uid, strerror(errno));
        return -1;
    }
    lowered_uid = p->uid;
    return 0;
}

int privs_raise(void)
{
    if (geteuid() == 0)
        return 0;
    return setresuid(-1, 0, -1);
}

void privs_lower(void)
{
    if (lowered_uid != (uid_t)-1)
        (void)!setresuid(-1, lowered_uid, -1);
}

int privs_drop_all(const struct privs *p, struct buf *err)
{
    uid_t r, e, s;

    if (!privs_have_root())
        return 0;
    /* Groups can only change with an effective uid of root. */
    if (geteuid() != 0 && setresuid(-1, 0, -1) < 0) {
        buf_reset(err);
        buf_printf(err, "can't regain root to drop privileges: %s",
                   strerror(errno));
        return -1;
    }
    if (set_groups(p, err) < 0)
        return -1;
    if (setresuid(p->uid, p->uid, p->uid) < 0) {
        buf_reset(err);
        buf_printf(err, "setresuid(%d): %s", (int)p->uid, strerror(errno));
        return -1;
    }
    if (getresuid(&r, &e, &s) < 0 || r != p->uid || e != p->uid ||
        s != p->uid || setuid(0) == 0) {
        buf_setcstr(err, "privileges were not dropped");
        return -1;
    }
    return 0;
}
