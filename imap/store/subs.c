/* subs.c -- per-user subscription files.
 *
 * Readers just read: the file is only ever replaced by rename(), so they
 * see the old list or the new one.  Writers serialise on an fcntl lock
 * on the current file; because a rename by the previous writer replaces
 * the file under a waiting writer, the waiter checks after locking that
 * its descriptor is still the file at the path, and starts over if not.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "imap/store/subs.h"
#include "lib/lock.h"
#include "lib/log.h"
#include "lib/util.h"
#include "lib/xmalloc.h"

void subs_user_path(const char *configdir, const char *userid,
                    const char *suffix, struct buf *path)
{
    char h = userid[0];

    if (h >= 'A' && h <= 'Z') h = (char)(h - 'A' + 'a');
    if (h < 'a' || h > 'z') h = 'q';
    buf_reset(path);
    buf_printf(path, "%s/user/%c/", configdir, h);
    /* Userids come from authentication and may hold anything: keep
     * them to one file name inside this directory. */
    for (const unsigned char *p = (const unsigned char *)userid; *p; p++) {
        if (*p == '/' || *p == '%' || *p < 0x20 || *p == 0x7f ||
            (p == (const unsigned char *)userid && *p == '.'))
            buf_printf(path, "%%%02X", *p);
        else
            buf_putc(path, (char)*p);
    }
    buf_printf(path, ".%s", suffix);
}

/* Parse the file's contents into sorted names. */
static void subs_parse(const char *base, size_t len, strarray_t *names)
{
    const char *end = base + len;

    while (base < end) {
        const char *nl = memchr(base, '\n', (size_t)(end - base));
        size_t n = nl ? (size_t)(nl - base) : (size_t)(end - base);
        if (n) strarray_appendm(names, xstrndup(base, n));
        base += n + 1;
    }
    strarray_sort(names);
}

/* Read all of fd into buf; 0 or -1 with errno. */
static int read_fd(int fd, struct buf *buf)
{
    char chunk[8192];
    ssize_t n;

    while ((n = retry_read(fd, chunk, sizeof(chunk))) > 0) {
        buf_appendmap(buf, chunk, (size_t)n);
        if ((size_t)n < sizeof(chunk)) break;
    }
    return n < 0 ? -1 : 0;
}

int subs_read(const char *configdir, const char *userid, strarray_t *names)
{
    struct buf path = BUF_INITIALIZER;
    struct buf data = BUF_INITIALIZER;
    int fd, r = 0;

    strarray_truncate(names, 0);
    subs_user_path(configdir, userid, "sub", &path);
    fd = open(buf_cstring(&path), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno != ENOENT) {
            log_error("subs: open %s: %s", path.s, strerror(errno));
            r = -1;
        }
        goto done;
    }
    if (read_fd(fd, &data) < 0) {
        log_error("subs: read %s: %s", path.s, strerror(errno));
        r = -1;
    } else {
        subs_parse(data.s, data.len, names);
    }
    close(fd);

done:
    buf_free(&data);
    buf_free(&path);
    return r;
}

/* Open and lock the user's file (creating it empty), making sure the
 * lock is on the file the path names now.  Returns fd or -1. */
static int subs_lock(const char *path)
{
    struct buf dir = BUF_INITIALIZER;
    const char *slash = strrchr(path, '/');

    buf_setmap(&dir, path, (size_t)(slash - path));
    if (cyrus_mkdir_p(buf_cstring(&dir), 0750) < 0) {
        log_error("subs: mkdir %s: %s", dir.s, strerror(errno));
        buf_free(&dir);
        return -1;
    }
    buf_free(&dir);

    for (;;) {
        struct stat fst, pst;
        int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
        if (fd < 0) {
            log_error("subs: open %s: %s", path, strerror(errno));
            return -1;
        }
        if (lock_exclusive(fd, 1) < 0) {
            log_error("subs: lock %s: %s", path, strerror(errno));
            close(fd);
            return -1;
        }
        if (fstat(fd, &fst) == 0 && stat(path, &pst) == 0 &&
            fst.st_ino == pst.st_ino && fst.st_dev == pst.st_dev)
            return fd;
        close(fd);   /* replaced while we waited: lock the new one */
    }
}

/* Write `names` to path.NEW, fsync, rename over path, fsync the dir. */
static int subs_write(const char *path, const strarray_t *names)
{
    struct buf tmp = BUF_INITIALIZER;
    struct buf data = BUF_INITIALIZER;
    int fd, r = -1;

    for (int i = 0; i < names->count; i++) {
        buf_appendcstr(&data, names->data[i]);
        buf_putc(&data, '\n');
    }
    buf_printf(&tmp, "%s.NEW", path);
    fd = open(tmp.s, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    if (fd < 0) {
        log_error("subs: create %s: %s", tmp.s, strerror(errno));
        goto done;
    }
    if (retry_write(fd, data.s ? data.s : "", data.len) < 0 || fsync(fd) < 0) {
        log_error("subs: write %s: %s", tmp.s, strerror(errno));
        close(fd);
        unlink(tmp.s);
        goto done;
    }
    close(fd);
    if (rename(tmp.s, path) < 0) {
        log_error("subs: rename %s: %s", tmp.s, strerror(errno));
        unlink(tmp.s);
        goto done;
    }
    buf_setcstr(&tmp, path);
    buf_truncate(&tmp, (size_t)(strrchr(tmp.s, '/') - tmp.s));
    fd = open(buf_cstring(&tmp), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
    r = 0;

done:
    buf_free(&tmp);
    buf_free(&data);
    return r;
}

/* Lock, read, let `change` edit the list, write if it changed. */
static int subs_modify(const char *configdir, const char *userid,
                       int (*change)(strarray_t *names, void *rock),
                       void *rock)
{
    struct buf path = BUF_INITIALIZER;
    struct buf data = BUF_INITIALIZER;
    strarray_t names = STRARRAY_INITIALIZER;
    int fd, r = -1;

    if (!userid || !*userid) return -1;
    subs_user_path(configdir, userid, "sub", &path);
    fd = subs_lock(buf_cstring(&path));
    if (fd < 0) goto done;
    if (read_fd(fd, &data) < 0) {
        log_error("subs: read %s: %s", path.s, strerror(errno));
        goto unlock;
    }
    subs_parse(data.s, data.len, &names);
    if (change(&names, rock)) {
        strarray_sort(&names);
        r = subs_write(path.s, &names);
    } else {
        r = 0;
    }

unlock:
    close(fd);   /* releases the lock */
done:
    strarray_fini(&names);
    buf_free(&data);
    buf_free(&path);
    return r;
}

static int valid_name(const char *name)
{
    return name && *name && !strpbrk(name, "\r\n");
}

static int add_change(strarray_t *names, void *rock)
{
    const char *name = rock;
    if (strarray_find(names, name, 0) >= 0) return 0;
    strarray_append(names, name);
    return 1;
}

int subs_add(const char *configdir, const char *userid, const char *name)
{
    if (!valid_name(name)) return -1;
    return subs_modify(configdir, userid, add_change, (void *)name);
}

static int remove_change(strarray_t *names, void *rock)
{
    int i = strarray_find(names, rock, 0);
    if (i < 0) return 0;
    strarray_remove(names, i);
    return 1;
}

int subs_remove(const char *configdir, const char *userid, const char *name)
{
    if (!valid_name(name)) return -1;
    return subs_modify(configdir, userid, remove_change, (void *)name);
}

struct rename_rock {
    const char *oldname, *newname;
};

static int rename_change(strarray_t *names, void *rock)
{
    struct rename_rock *rr = rock;
    size_t oldlen = strlen(rr->oldname);
    strarray_t out = STRARRAY_INITIALIZER;
    int changed = 0;

    for (int i = 0; i < names->count; i++) {
        const char *n = names->data[i];
        if (!strncmp(n, rr->oldname, oldlen) &&
            (n[oldlen] == '\0' || n[oldlen] == '.')) {
            char *renamed = strconcat(rr->newname, n + oldlen, (char *)NULL);
            strarray_appendm(&out, renamed);
            changed = 1;
        } else {
            strarray_append(&out, n);
        }
    }
    if (changed) {
        strarray_fini(names);
        *names = out;
        /* a renamed entry may equal one already subscribed */
        strarray_sort(names);
        for (int i = names->count - 1; i > 0; i--)
            if (!strcmp(names->data[i], names->data[i - 1]))
                strarray_remove(names, i);
    } else {
        strarray_fini(&out);
    }
    return changed;
}

int subs_rename(const char *configdir, const char *userid,
                const char *oldname, const char *newname)
{
    struct rename_rock rr = { oldname, newname };

    if (!valid_name(oldname) || !valid_name(newname)) return -1;
    return subs_modify(configdir, userid, rename_change, &rr);
}

int subs_delete_user(const char *configdir, const char *userid)
{
    struct buf path = BUF_INITIALIZER;
    int r = 0;

    subs_user_path(configdir, userid, "sub", &path);
    if (unlink(buf_cstring(&path)) < 0 && errno != ENOENT) {
        log_error("subs: unlink %s: %s", path.s, strerror(errno));
        r = -1;
    }
    buf_free(&path);
    return r;
}
