/* imapurl.c -- IMAP URLs (RFC 5092) and URLAUTH (RFC 4467); see imapurl.h. */
#include "config.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "imap/imapd/imapurl.h"
#include "lib/buf.h"
#include "lib/charset.h"
#include "lib/xmalloc.h"

void imapurl_fini(struct imapurl *u)
{
    free(u->user);
    free(u->server);
    free(u->mailbox);
    free(u->section);
    free(u->access);
    free(u->mech);
    free(u->token);
    memset(u, 0, sizeof(*u));
}

/* %-decode `len` bytes; NULL when the result would hold a NUL or a
 * control character, which no name or section may. */
static char *decode(const char *s, size_t len)
{
    struct buf b = BUF_INITIALIZER;

    charset_decode_percent(&b, s, len);
    for (size_t i = 0; i < b.len; i++) {
        if ((unsigned char)b.s[i] < 0x20 || b.s[i] == 0x7f) {
            buf_free(&b);
            return NULL;
        }
    }
    return buf_release(&b);
}

static int parse_number(const char *s, size_t len, uint32_t *out)
{
    unsigned long long v = 0;

    if (!len || len > 10 || *s == '0')
        return -1;
    for (size_t i = 0; i < len; i++) {
        if (!isdigit((unsigned char)s[i]))
            return -1;
        v = v * 10 + (unsigned)(s[i] - '0');
    }
    if (v > UINT32_MAX)
        return -1;
    *out = (uint32_t)v;
    return 0;
}

static int digits(const char *s, int n, int *out)
{
    int v = 0;

    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i]))
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

int imapurl_parse_datetime(const char *s, int64_t *out)
{
    struct tm tm;
    int y, mo, d, h, mi, sec, zh = 0, zm = 0, sign = 0;
    const char *p;

    if (strlen(s) < 20 || digits(s, 4, &y) || s[4] != '-' ||
        digits(s + 5, 2, &mo) || s[7] != '-' || digits(s + 8, 2, &d) ||
        (s[10] != 'T' && s[10] != 't') || digits(s + 11, 2, &h) ||
        s[13] != ':' || digits(s + 14, 2, &mi) || s[16] != ':' ||
        digits(s + 17, 2, &sec))
        return -1;
    p = s + 19;
    if (*p == '.') {
        for (p++; isdigit((unsigned char)*p); p++)
            ;
    }
    if (*p == 'Z' || *p == 'z') {
        p++;
    }
    else if (*p == '+' || *p == '-') {
        sign = *p == '-' ? -1 : 1;
        if (digits(p + 1, 2, &zh) || p[3] != ':' || digits(p + 4, 2, &zm))
            return -1;
        p += 6;
    }
    else {
        return -1;
    }
    if (*p || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 ||
        sec > 60 || zh > 23 || zm > 59)
        return -1;
    memset(&tm, 0, sizeof(tm));
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = sec;
    *out = (int64_t)timegm(&tm) - sign * (zh * 3600 + zm * 60);
    return 0;
}

/* ";KEY=" at `p` (case-insensitive)?  Returns the value's start. */
static const char *key(const char *p, const char *name)
{
    size_t n = strlen(name);

    if (*p != ';' || strncasecmp(p + 1, name, n) || p[1 + n] != '=')
        return NULL;
    return p + 2 + n;
}

/* The parameters after the mailbox: ";UIDVALIDITY=n" "/;UID=n"
 * "/;SECTION=s" "/;PARTIAL=a.b" ";EXPIRE=t" ";URLAUTH=a:m:t". */
static int parse_params(const char *url, const char *p, struct imapurl *u)
{
    while (*p) {
        const char *v, *end;
        size_t len;

        if (*p == '/')
            p++;
        end = strchr(p + 1, ';');
        if (!end)
            end = p + strlen(p);
        len = (size_t)(end - p);
        /* A value ends before the "/" that leads to the next part. */
        if (len && p[len - 1] == '/' && *end)
            len--;
        if ((v = key(p, "UIDVALIDITY")) && !u->uidvalidity && !u->uid) {
            if (parse_number(v, (size_t)(p + len - v), &u->uidvalidity))
                return -1;
        }
        else if ((v = key(p, "UID")) && !u->uid) {
            if (parse_number(v, (size_t)(p + len - v), &u->uid))
                return -1;
        }
        else if ((v = key(p, "SECTION")) && u->uid && !u->section) {
            char *sec = decode(v, (size_t)(p + len - v));

            if (!sec || !*sec) {
                free(sec);
                return -1;
            }
            for (char *c = sec; *c; c++)
                *c = (char)toupper((unsigned char)*c);
            u->section = sec;
        }
        else if ((v = key(p, "PARTIAL")) && u->uid && !u->partial) {
            char *dot;
            const char *stop = p + len;
            uint32_t a = 0, b = 0;

            dot = memchr(v, '.', (size_t)(stop - v));
            if (*v == '0' && (dot ? dot - v : stop - v) == 1)
                a = 0;
            else if (parse_number(v, (size_t)((dot ? dot : stop) - v), &a))
                return -1;
            if (dot && parse_number(dot + 1, (size_t)(stop - dot - 1), &b))
                return -1;
            u->partial = 1;
            u->start = a;
            u->count = b;
        }
        else if ((v = key(p, "EXPIRE")) && u->uid && !u->expire) {
            char *t = decode(v, (size_t)(p + len - v));
            int r = t ? imapurl_parse_datetime(t, &u->expire) : -1;

            free(t);
            if (r || !u->expire)
                return -1;
        }
        else if ((v = key(p, "URLAUTH")) && u->uid) {
            const char *c1 = memchr(v, ':', (size_t)(p + len - v));

            if (*end)
                return -1;      /* URLAUTH comes last */
            u->access = decode(v, (size_t)((c1 ? c1 : p + len) - v));
            if (!u->access || !*u->access)
                return -1;
            u->rump_len = (size_t)((c1 ? c1 : p + len) - url);
            if (c1) {
                const char *c2 = strchr(c1 + 1, ':');

                if (!c2 || c2 == c1 + 1 || !c2[1])
                    return -1;
                u->mech = xstrndup(c1 + 1, (size_t)(c2 - c1 - 1));
                u->token = xstrdup(c2 + 1);
            }
        }
        else {
            return -1;
        }
        p = end;
    }
    return u->uid ? 0 : -1;
}

int imapurl_parse(const char *url, struct imapurl *u)
{
    const char *p = url, *semi;

    memset(u, 0, sizeof(*u));
    if (!strncasecmp(p, "imap://", 7)) {
        const char *auth = p + 7, *slash = strchr(auth, '/');
        const char *at;

        if (!slash)
            return -1;
        at = memchr(auth, '@', (size_t)(slash - auth));
        if (at) {
            const char *ua = memchr(auth, ';', (size_t)(at - auth));

            u->user = decode(auth, (size_t)((ua ? ua : at) - auth));
            if (!u->user || !*u->user)
                return -1;
            auth = at + 1;
        }
        if (slash == auth)
            return -1;
        u->server = xstrndup(auth, (size_t)(slash - auth));
        p = slash;
    }
    if (*p == '/') {
        p++;
        semi = strchr(p, ';');
        if (!semi || semi == p)
            return -1;
        size_t len = (size_t)(semi - p);
        if (p[len - 1] == '/')
            len--;
        if (!len)
            return -1;
        u->mailbox = decode(p, len);
        if (!u->mailbox || !*u->mailbox)
            return -1;
        p = semi;
    }
    else if (*p != ';' || u->server) {
        return -1;
    }
    return parse_params(url, p, u);
}
