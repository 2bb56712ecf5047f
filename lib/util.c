/* util.c -- small shared helpers; see util.h. */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/util.h"
#include "lib/xmalloc.h"

/* Accumulate the digits at *sp into *val; stops at the first non-digit.
 * Returns the number of digits read, or -1 on overflow. */
static int take_digits(const char **sp, unsigned long long limit,
                       unsigned long long *val)
{
    const char *s = *sp;
    unsigned long long v = 0;
    int n = 0;

    while (*s >= '0' && *s <= '9') {
        unsigned d = (unsigned)(*s - '0');
        if (v > (limit - d) / 10)
            return -1;
        v = v * 10 + d;
        s++;
        n++;
    }
    *sp = s;
    *val = v;
    return n;
}

int parse_ulong(const char *s, unsigned long *out)
{
    unsigned long long v;

    if (!s || take_digits(&s, ULONG_MAX, &v) <= 0 || *s)
        return -1;
    *out = (unsigned long)v;
    return 0;
}

int parse_longlong(const char *s, long long *out)
{
    unsigned long long v;
    int neg = 0;

    if (!s)
        return -1;
    if (*s == '-') {
        neg = 1;
        s++;
    }
    if (take_digits(&s, LLONG_MAX, &v) <= 0 || *s)
        return -1;
    *out = neg ? -(long long)v : (long long)v;
    return 0;
}

static long long unit_seconds(char unit)
{
    switch (unit) {
    case 'd': return 24 * 60 * 60;
    case 'h': return 60 * 60;
    case 'm': return 60;
    case 's': return 1;
    default: return 0;
    }
}

int parse_duration(const char *s, char defunit, long long *secs)
{
    unsigned long long total = 0;
    int neg = 0, first = 1;

    if (!s || !unit_seconds(defunit))
        return -1;
    if (*s == '-') {
        neg = 1;
        s++;
    }
    if (!*s)
        return -1;
    while (*s) {
        unsigned long long v;
        long long mult;

        if (take_digits(&s, LLONG_MAX, &v) <= 0)
            return -1;
        if (*s) {
            mult = unit_seconds(*s);
            if (!mult)
                return -1;
            s++;
        } else if (first) {
            mult = unit_seconds(defunit);   /* bare number */
        } else {
            return -1;                      /* "1h30": unit missing */
        }
        if (v > (unsigned long long)LLONG_MAX / (unsigned long long)mult)
            return -1;
        v *= (unsigned long long)mult;
        if (v > (unsigned long long)LLONG_MAX - total)
            return -1;
        total += v;
        first = 0;
    }
    *secs = neg ? -(long long)total : (long long)total;
    return 0;
}

int parse_bytesize(const char *s, long long *bytes)
{
    unsigned long long v, mult = 1;

    if (!s || take_digits(&s, LLONG_MAX, &v) <= 0)
        return -1;
    switch (*s) {
    case 'k': case 'K': mult = 1ULL << 10; s++; break;
    case 'm': case 'M': mult = 1ULL << 20; s++; break;
    case 'g': case 'G': mult = 1ULL << 30; s++; break;
    default: break;
    }
    if (*s == 'b' || *s == 'B')
        s++;
    if (*s)
        return -1;
    if (v > (unsigned long long)LLONG_MAX / mult)
        return -1;
    *bytes = (long long)(v * mult);
    return 0;
}

int cyrus_mkdir_p(const char *path, mode_t mode)
{
    struct stat sb;
    int r = 0;

    if (!*path) {
        errno = ENOENT;
        return -1;
    }
    /* Usually it is there already: one stat instead of a mkdir per level. */
    if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode))
        return 0;
    char *copy = xstrdup(path);

    /* Create each prefix in turn; EEXIST of a parent is expected. */
    for (char *p = copy + 1; ; p++) {
        if (*p != '/' && *p != '\0')
            continue;
        char saved = *p;
        *p = '\0';
        if (mkdir(copy, mode) < 0 && errno != EEXIST) {
            r = -1;
            break;
        }
        *p = saved;
        if (!saved)
            break;
        while (p[1] == '/')
            p++;
    }
    if (r == 0) {
        if (stat(path, &sb) < 0) {
            r = -1;
        } else if (!S_ISDIR(sb.st_mode)) {
            errno = ENOTDIR;
            r = -1;
        }
    }
    int saved_errno = errno;
    free(copy);
    errno = saved_errno;
    return r;
}

char *lcase(char *s)
{
    for (char *p = s; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
    return s;
}

int retry_write(int fd, const void *buf, size_t len)
{
    const char *p = buf;

    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

ssize_t retry_read(int fd, void *buf, size_t len)
{
    char *p = buf;
    size_t got = 0;

    while (got < len) {
        ssize_t n = read(fd, p + got, len - got);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        if (n == 0)
            break;
        got += (size_t)n;
    }
    return (ssize_t)got;
}

int util_local_zone(int64_t t)
{
    time_t tt = (time_t)t;
    struct tm tm;

    if (!localtime_r(&tt, &tm))
        return 0;
    return (int)(tm.tm_gmtoff / 60);
}

void util_zone_tm(int64_t t, int zone_min, struct tm *tm)
{
    time_t tt = (time_t)(t + (int64_t)zone_min * 60);

    if (!gmtime_r(&tt, tm))
        memset(tm, 0, sizeof(*tm));
}

static pid_t cached_pid;

static void forget_pid(void)
{
    cached_pid = 0;
}

pid_t util_getpid(void)
{
    static int registered;

    if (!cached_pid) {
        if (!registered) {
            /* A forked child must not keep its parent's pid. */
            pthread_atfork(NULL, NULL, forget_pid);
            registered = 1;
        }
        cached_pid = getpid();
    }
    return cached_pid;
}
