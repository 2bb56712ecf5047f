/* masterconf.c -- cyrus.conf parser; see masterconf.h. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/xmalloc.h"
#include "master/masterconf.h"

static const char *const section_names[] = {
    [MASTERCONF_START] = "START",
    [MASTERCONF_SERVICES] = "SERVICES",
    [MASTERCONF_EVENTS] = "EVENTS",
    [MASTERCONF_DAEMON] = "DAEMON",
};
#define NSECTIONS ((int)(sizeof(section_names) / sizeof(section_names[0])))

struct parser {
    struct masterconf *conf;
    int lineno;
    struct buf *err;
    int in_section;        /* inside braces */
    int skipping;          /* inside an unknown section */
    int want_brace;        /* section name seen, '{' not yet */
    enum masterconf_section section;
};

static int parse_error(struct parser *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int parse_error(struct parser *p, const char *fmt, ...)
{
    va_list ap;

    buf_reset(p->err);
    buf_printf(p->err, "%s:%d: ", p->conf->filename, p->lineno);
    va_start(ap, fmt);
    buf_vprintf(p->err, fmt, ap);
    va_end(ap);
    return -1;
}

static const char *skip_space(const char *s)
{
    while (*s == ' ' || *s == '\t' || *s == '\r')
        s++;
    return s;
}

/* At end of line, or only a comment left. */
static int at_end(const char *s)
{
    s = skip_space(s);
    return *s == '\0' || *s == '#';
}

static int isnamechar(int c)
{
    return isalnum((unsigned char)c);
}

static struct masterconf_entry *entry_add(struct parser *p, const char *name,
                                          size_t namelen)
{
    struct masterconf *conf = p->conf;
    struct masterconf_entry *e;

    conf->entries = xrealloc(conf->entries,
                             (conf->count + 1) * sizeof(*conf->entries));
    e = &conf->entries[conf->count++];
    memset(e, 0, sizeof(*e));
    e->section = p->section;
    e->name = xstrndup(name, namelen);
    e->filename = conf->filename;
    e->lineno = p->lineno;
    return e;
}

/* Parse "name key=value ..." inside a section.  A '}' in place of a
 * key closes the section. */
static int parse_entry(struct parser *p, const char *s)
{
    const char *name = s;
    struct masterconf_entry *e = NULL;

    while (isnamechar(*s))
        s++;
    if (s == name)
        return parse_error(p, "bad character '%c' at the start of an entry",
                           *s);
    if (*s && *s != ' ' && *s != '\t' && *s != '\r' && *s != '#')
        return parse_error(p, "bad character '%c' in name \"%.*s\"", *s,
                           (int)(s - name), name);
    if (!p->skipping) {
        for (int i = 0; i < p->conf->count; i++) {
            struct masterconf_entry *o = &p->conf->entries[i];
            if (p->section == MASTERCONF_SERVICES &&
                o->section == p->section &&
                strlen(o->name) == (size_t)(s - name) &&
                !strncmp(o->name, name, s - name))
                return parse_error(p, "duplicate service name \"%s\" "
                                      "(first at line %d)",
                                   o->name, o->lineno);
        }
        e = entry_add(p, name, s - name);
    }

    for (;;) {
        const char *key, *val;
        size_t keylen, vallen;

        s = skip_space(s);
        if (*s == '\0' || *s == '#')
            return 0;
        if (*s == '}') {
            if (!at_end(s + 1))
                return parse_error(p, "unexpected text after '}'");
            p->in_section = 0;
            p->skipping = 0;
            return 0;
        }
        key = s;
        while (isnamechar(*s))
            s++;
        keylen = s - key;
        if (!keylen || *s != '=')
            return parse_error(p, "bad character '%c' in argument "
                                  "(expected key=value)",
                               *s ? *s : ' ');
        s++;
        if (*s == '"') {
            val = ++s;
            while (*s && *s != '"')
                s++;
            if (!*s)
                return parse_error(p, "missing closing '\"' in value of "
                                      "\"%.*s\"",
                                   (int)keylen, key);
            vallen = s - val;
            s++;
            if (*s && *s != ' ' && *s != '\t' && *s != '\r' && *s != '#' &&
                *s != '}')
                return parse_error(p, "missing white space after value "
                                      "of \"%.*s\"",
                                   (int)keylen, key);
        } else {
            val = s;
            while (*s && *s != ' ' && *s != '\t' && *s != '\r' && *s != '#')
                s++;
            vallen = s - val;
            /* `prefork=1}` closes the section, as in Cyrus */
            if (vallen && val[vallen - 1] == '}') {
                vallen--;
                s--;
            }
        }
        if (e) {
            char *k = xstrndup(key, keylen);
            if (strarray_find(&e->keys, k, 0) >= 0) {
                free(k);
                return parse_error(p, "\"%.*s\" given twice", (int)keylen,
                                   key);
            }
            strarray_appendm(&e->keys, k);
            strarray_appendm(&e->values, xstrndup(val, vallen));
        }
    }
}

/* Outside any section: "NAME", "NAME {", "NAME { }" or a lone "{". */
static int parse_toplevel(struct parser *p, const char *s)
{
    if (*s == '{') {
        if (!p->want_brace)
            return parse_error(p, "'{' without a section name");
    } else {
        const char *name = s;
        int i;

        if (p->want_brace)
            return parse_error(p, "expected '{' after section name");
        while (isalpha((unsigned char)*s))
            s++;
        if (s == name)
            return parse_error(p, "expected a section name");
        for (i = 0; i < NSECTIONS; i++) {
            if (strlen(section_names[i]) == (size_t)(s - name) &&
                !strncasecmp(section_names[i], name, s - name))
                break;
        }
        if (i == NSECTIONS) {
            struct buf w = BUF_INITIALIZER;
            buf_printf(&w, "%s:%d: unknown section \"%.*s\" ignored",
                       p->conf->filename, p->lineno, (int)(s - name), name);
            strarray_appendm(&p->conf->warnings, buf_release(&w));
            p->skipping = 1;
        } else {
            p->section = i;
            p->skipping = 0;
        }
        p->want_brace = 1;
        s = skip_space(s);
        if (*s == '\0' || *s == '#')
            return 0;
        if (*s != '{')
            return parse_error(p, "expected '{' after section name");
    }
    /* *s == '{' */
    p->want_brace = 0;
    p->in_section = 1;
    s = skip_space(s + 1);
    if (*s == '}') {
        p->in_section = 0;
        p->skipping = 0;
        s++;
    }
    if (!at_end(s))
        return parse_error(p, "unexpected text after '{' (entries start "
                              "on the next line)");
    return 0;
}

struct masterconf *masterconf_parse(const char *text, size_t len,
                                    const char *filename, struct buf *err)
{
    struct masterconf *conf = xzmalloc(sizeof(*conf));
    struct parser p = { .conf = conf, .err = err };
    const char *end = text + len;
    struct buf line = BUF_INITIALIZER;
    int r = 0;

    conf->filename = xstrdup(filename);
    while (text < end && !r) {
        const char *nl = memchr(text, '\n', end - text);
        const char *s;
        size_t n = nl ? (size_t)(nl - text) : (size_t)(end - text);

        p.lineno++;
        buf_setmap(&line, text, n);
        text += n + (nl ? 1 : 0);
        if (memchr(line.s, '\0', line.len)) {
            r = parse_error(&p, "NUL byte in file");
            break;
        }
        s = skip_space(buf_cstring(&line));
        if (*s == '\0' || *s == '#')
            continue;
        if (p.in_section) {
            if (*s == '}') {
                if (!at_end(s + 1))
                    r = parse_error(&p, "unexpected text after '}'");
                p.in_section = 0;
                p.skipping = 0;
                continue;
            }
            r = parse_entry(&p, s);
        } else {
            r = parse_toplevel(&p, s);
        }
    }
    buf_free(&line);
    if (!r && (p.in_section || p.want_brace)) {
        r = parse_error(&p, "unexpected end of file: section %s is not "
                            "closed with '}'",
                        section_names[p.section]);
    }
    if (r) {
        masterconf_free(&conf);
        return NULL;
    }
    return conf;
}

struct masterconf *masterconf_read(const char *filename, struct buf *err)
{
    struct buf data = BUF_INITIALIZER;
    struct masterconf *conf;
    char chunk[8192];
    ssize_t n;
    int fd;

    fd = open(filename, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        buf_reset(err);
        buf_printf(err, "can't open configuration file %s: %s", filename,
                   strerror(errno));
        return NULL;
    }
    while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
        if (n < 0) {
            if (errno == EINTR)
                continue;
            buf_reset(err);
            buf_printf(err, "can't read configuration file %s: %s", filename,
                       strerror(errno));
            close(fd);
            buf_free(&data);
            return NULL;
        }
        buf_appendmap(&data, chunk, n);
    }
    close(fd);
    conf = masterconf_parse(data.s ? data.s : "", data.len, filename, err);
    buf_free(&data);
    return conf;
}

void masterconf_free(struct masterconf **confp)
{
    struct masterconf *conf = *confp;

    if (!conf)
        return;
    for (int i = 0; i < conf->count; i++) {
        free(conf->entries[i].name);
        strarray_fini(&conf->entries[i].keys);
        strarray_fini(&conf->entries[i].values);
    }
    free(conf->entries);
    strarray_fini(&conf->warnings);
    free(conf->filename);
    free(conf);
    *confp = NULL;
}

const char *masterconf_getstring(const struct masterconf_entry *e,
                                 const char *key, const char *def)
{
    int i = strarray_find(&e->keys, key, 0);

    return i >= 0 ? strarray_nth(&e->values, i) : def;
}

static int entry_error(const struct masterconf_entry *e, struct buf *err,
                       const char *key, const char *val, const char *what)
{
    buf_reset(err);
    buf_printf(err, "%s:%d: %s \"%s\": %s=\"%s\" is not %s", e->filename,
               e->lineno, masterconf_sectionname(e->section), e->name, key,
               val, what);
    return -1;
}

int masterconf_getint(const struct masterconf_entry *e, const char *key,
                      int def, int *val, struct buf *err)
{
    const char *s = masterconf_getstring(e, key, NULL);
    char *end;
    long v;

    if (!s) {
        *val = def;
        return 0;
    }
    errno = 0;
    v = strtol(s, &end, 10);
    if (!*s || *end || errno || v < INT_MIN || v > INT_MAX)
        return entry_error(e, err, key, s, "an integer");
    *val = (int)v;
    return 0;
}

int masterconf_getswitch(const struct masterconf_entry *e, const char *key,
                         int def, int *val, struct buf *err)
{
    static const char *const yes[] = { "1", "y", "yes", "on", "true", "t" };
    static const char *const no[] = { "0", "n", "no", "off", "false", "f" };
    const char *s = masterconf_getstring(e, key, NULL);

    if (!s) {
        *val = def;
        return 0;
    }
    for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
        if (!strcasecmp(s, yes[i])) {
            *val = 1;
            return 0;
        }
        if (!strcasecmp(s, no[i])) {
            *val = 0;
            return 0;
        }
    }
    return entry_error(e, err, key, s, "yes or no");
}

int masterconf_checkkeys(const struct masterconf_entry *e,
                         const char *const *known, struct buf *err)
{
    for (int i = 0; i < e->keys.count; i++) {
        const char *k = e->keys.data[i];
        int j;

        for (j = 0; known[j]; j++)
            if (!strcmp(known[j], k))
                break;
        if (!known[j]) {
            buf_reset(err);
            buf_printf(err, "%s:%d: %s \"%s\": unknown argument \"%s\"",
                       e->filename, e->lineno,
                       masterconf_sectionname(e->section), e->name, k);
            return -1;
        }
    }
    return 0;
}

strarray_t *masterconf_splitcmd(const char *cmd)
{
    strarray_t *argv = strarray_split(cmd ? cmd : "", " \t\r\n");

    if (!argv->count)
        strarray_free(&argv);
    return argv;
}

const char *masterconf_sectionname(enum masterconf_section section)
{
    static const char *const lower[] = {
        [MASTERCONF_START] = "start",
        [MASTERCONF_SERVICES] = "service",
        [MASTERCONF_EVENTS] = "event",
        [MASTERCONF_DAEMON] = "daemon",
    };
    return lower[section];
}
