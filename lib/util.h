/* util.h -- small helpers shared by the whole tree.
 *
 * Strict number parsing (whole string, no sign surprises, overflow is an
 * error), the duration and byte-size syntax of imapd.conf, directory
 * creation, ASCII lowercasing, time zone offsets, and read/write loops that survive EINTR
 * and short transfers.  Every function reports failure by its return
 * value; none logs or exits.
 */
#ifndef LIB_UTIL_H
#define LIB_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

/* Parse a non-empty string of decimal digits into *out.  Returns 0, or -1
 * (out untouched) on a sign, space, other character, or overflow. */
int parse_ulong(const char *s, unsigned long *out);

/* Parse an optionally negative decimal integer (the whole string).
 * Returns 0 or -1 like parse_ulong. */
int parse_longlong(const char *s, long long *out);

/* Parse a duration: an optional '-', then one or more "<digits><unit>"
 * groups with units d, h, m, s ("1h30m"); a bare number is taken in
 * `defunit` ('d', 'h', 'm' or 's').  Stores seconds in *secs.
 * Returns 0, or -1 on bad syntax or overflow. */
int parse_duration(const char *s, char defunit, long long *secs);

/* Parse a byte size: digits with an optional unit K, M or G (powers of
 * 1024, either case) and an optional 'B': "10M", "512KB", "100B".
 * Stores bytes in *bytes.  Returns 0, or -1 on bad syntax or overflow. */
int parse_bytesize(const char *s, long long *bytes);

/* getpid(), remembered: the database layer asks for it on every
 * operation (fork safety), and it is a system call each time. */
pid_t util_getpid(void);

/* The local zone's offset from UTC at time `t`, in minutes east. */
int util_local_zone(int64_t t);
/* Broken-down time of `t` in the zone `zone_min` minutes east of UTC. */
void util_zone_tm(int64_t t, int zone_min, struct tm *tm);

/* Create `path` and any missing parents with `mode`.  An existing
 * directory is success.  Returns 0, or -1 with errno set. */
int cyrus_mkdir_p(const char *path, mode_t mode);

/* Lowercase the ASCII letters of s in place; returns s. */
char *lcase(char *s);

/* Write all `len` bytes, retrying on EINTR and short writes.
 * Returns 0, or -1 with errno set. */
int retry_write(int fd, const void *buf, size_t len);

/* Read exactly `len` bytes, retrying on EINTR and short reads.
 * Returns the number of bytes read (less than len only at end of file),
 * or -1 with errno set. */
ssize_t retry_read(int fd, void *buf, size_t len);

#endif
