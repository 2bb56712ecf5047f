/* config.c -- the imapd.conf option table and its reader; see config.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/config.h"
#include "lib/hash.h"
#include "lib/log.h"
#include "lib/strarray.h"
#include "lib/util.h"
#include "lib/xmalloc.h"

const struct config_option config_options[] = {
    { IMAPOPT_ZERO, NULL, CONFIG_STRING, NULL, NULL, NULL },
#define OPT(id, name, type, def, extra, doc) \
    { id, name, type, def, extra, doc },
#include "lib/imapoptions.def"
#undef OPT
};

/* Old option names still accepted, and the option each one feeds. */
static const struct {
    enum imapopt old, new;
} config_renamed[] = {
    { IMAPOPT_ARCHIVE_DAYS, IMAPOPT_ARCHIVE_AFTER },
    { IMAPOPT_AUTOCREATEINBOXFOLDERS, IMAPOPT_AUTOCREATE_INBOX_FOLDERS },
    { IMAPOPT_AUTOCREATEQUOTA, IMAPOPT_AUTOCREATE_QUOTA },
    { IMAPOPT_AUTOCREATEQUOTAMSG, IMAPOPT_AUTOCREATE_QUOTA_MESSAGES },
    { IMAPOPT_AUTOSIEVEFOLDERS, IMAPOPT_AUTOCREATE_SIEVE_FOLDERS },
    { IMAPOPT_GENERATE_COMPILED_SIEVE_SCRIPT,
      IMAPOPT_AUTOCREATE_SIEVE_SCRIPT_COMPILE },
    { IMAPOPT_AUTOCREATE_SIEVE_COMPILED_SCRIPT,
      IMAPOPT_AUTOCREATE_SIEVE_SCRIPT_COMPILED },
    { IMAPOPT_AUTOSUBSCRIBEINBOXFOLDERS, IMAPOPT_AUTOCREATE_SUBSCRIBE_FOLDERS },
    { IMAPOPT_AUTOSUBSCRIBESHAREDFOLDERS,
      IMAPOPT_AUTOCREATE_SUBSCRIBE_SHAREDFOLDERS },
    { IMAPOPT_AUTOSUBSCRIBE_ALL_SHAREDFOLDERS,
      IMAPOPT_AUTOCREATE_SUBSCRIBE_SHAREDFOLDERS_ALL },
    { IMAPOPT_BACKUP_RETENTION_DAYS, IMAPOPT_BACKUP_RETENTION },
    { IMAPOPT_CONVERSATIONS_EXPIRE_DAYS, IMAPOPT_CONVERSATIONS_EXPIRE_AFTER },
    { IMAPOPT_CREATEONPOST, IMAPOPT_AUTOCREATE_POST },
    { IMAPOPT_LDAP_SASL_AUTHC, IMAPOPT_LDAP_ID },
    { IMAPOPT_LDAP_SASL_AUTHZ, IMAPOPT_LDAP_AUTHZ },
    { IMAPOPT_LDAP_SASL_MECH, IMAPOPT_LDAP_MECH },
    { IMAPOPT_LDAP_SASL_PASSWORD, IMAPOPT_LDAP_PASSWORD },
    { IMAPOPT_LDAP_SASL_REALM, IMAPOPT_LDAP_REALM },
    { IMAPOPT_LDAP_SERVERS, IMAPOPT_LDAP_URI },
    { IMAPOPT_LDAP_TLS_CACERT_DIR, IMAPOPT_LDAP_CA_DIR },
    { IMAPOPT_LDAP_TLS_CACERT_FILE, IMAPOPT_LDAP_CA_FILE },
    { IMAPOPT_LDAP_TLS_CERT, IMAPOPT_LDAP_CLIENT_CERT },
    { IMAPOPT_LDAP_TLS_KEY, IMAPOPT_LDAP_CLIENT_KEY },
    { IMAPOPT_LDAP_TLS_CHECK_PEER, IMAPOPT_LDAP_VERIFY_PEER },
    { IMAPOPT_LDAP_TLS_CIPHERS, IMAPOPT_LDAP_CIPHERS },
    { IMAPOPT_TLS_CA_FILE, IMAPOPT_TLS_CLIENT_CA_FILE },
    { IMAPOPT_TLS_CA_PATH, IMAPOPT_TLS_CLIENT_CA_DIR },
    { IMAPOPT_TLSCACHE_DB, IMAPOPT_TLS_SESSIONS_DB },
    { IMAPOPT_TLSCACHE_DB_PATH, IMAPOPT_TLS_SESSIONS_DB_PATH },
    { IMAPOPT_TLS_CERT_FILE, IMAPOPT_TLS_SERVER_CERT },
    { IMAPOPT_TLS_CIPHER_LIST, IMAPOPT_TLS_CIPHERS },
    { IMAPOPT_TLS_KEY_FILE, IMAPOPT_TLS_SERVER_KEY },
};

#define CONFIG_MAX_INCLUDE_DEPTH 16
#define CONFIGDIR_TOKEN "{configdirectory}"

enum config_origin {
    ORIGIN_DEFAULT = 0,
    ORIGIN_FILE,     /* "option: value" */
    ORIGIN_SERVICE,  /* "SERVICE_option: value"; beats ORIGIN_FILE */
};

struct config_value {
    char *str;        /* the value as text; NULL when unset */
    long long num;    /* INT/DURATION/BYTESIZE/SWITCH; ENUM: word index */
    enum config_origin origin;
};

struct config_state {
    struct config_value values[IMAPOPT_LAST];
    struct hash_table raw;   /* every key read -> char * value */
    char *filename;
    char *service;
};

static struct config_state *config_current;

/* ---- the option table ------------------------------------------------- */

static int option_cmp(const void *key, const void *elem)
{
    return strcmp(key, ((const struct config_option *)elem)->name);
}

const struct config_option *config_option_byname(const char *name)
{
    /* The table is sorted by name (test_config checks it). */
    return bsearch(name, config_options + 1, IMAPOPT_LAST - 1,
                   sizeof(config_options[0]), option_cmp);
}

static const struct config_option *option_get(enum imapopt opt)
{
    if (opt <= IMAPOPT_ZERO || opt >= IMAPOPT_LAST)
        log_panic("no such config option %d", (int)opt);
    return &config_options[opt];
}

/* Find `value` among the '|'-separated words of `words`, ignoring case.
 * Returns its index and stores the word's own spelling in *canon. */
static int enum_lookup(const char *words, const char *value, char **canon)
{
    size_t vlen = strlen(value);
    int idx = 0;

    for (const char *w = words; ; idx++) {
        const char *end = strchr(w, '|');
        size_t wlen = end ? (size_t)(end - w) : strlen(w);
        if (wlen == vlen && !strncasecmp(w, value, vlen)) {
            *canon = xstrndup(w, wlen);
            return idx;
        }
        if (!end)
            return -1;
        w = end + 1;
    }
}

static int switch_lookup(const char *value)
{
    static const char *const on[] = { "yes", "on", "true", "t", "1" };
    static const char *const off[] = { "no", "off", "false", "f", "0" };

    for (size_t i = 0; i < sizeof(on) / sizeof(on[0]); i++) {
        if (!strcasecmp(value, on[i]))
            return 1;
        if (!strcasecmp(value, off[i]))
            return 0;
    }
    return -1;
}

/* Convert `text` for option `o` into *val.  On a bad value, describe what
 * was expected in *expect and return -1. */
static int value_parse(const struct config_option *o, const char *text,
                       struct config_value *val, struct buf *expect)
{
    char *canon = NULL;
    long long num = 0;
    int r = 0;

    switch (o->type) {
    case CONFIG_STRING:
        break;
    case CONFIG_INT:
        if (parse_longlong(text, &num) < 0) {
            buf_appendcstr(expect, "an integer");
            r = -1;
        }
        break;
    case CONFIG_SWITCH:
        num = switch_lookup(text);
        if (num < 0) {
            buf_appendcstr(expect, "yes or no");
            r = -1;
        }
        break;
    case CONFIG_ENUM:
        num = enum_lookup(o->extra, text, &canon);
        if (num < 0) {
            buf_appendcstr(expect, "one of ");
            for (const char *w = o->extra; *w; w++) {
                if (*w == '|')
                    buf_appendcstr(expect, ", ");
                else
                    buf_putc(expect, *w);
            }
            r = -1;
        }
        break;
    case CONFIG_DURATION:
        if (parse_duration(text, o->extra ? o->extra[0] : 's', &num) < 0) {
            buf_appendcstr(expect, "a duration (e.g. 30m)");
            r = -1;
        }
        break;
    case CONFIG_BYTESIZE:
        if (parse_bytesize(text, &num) < 0) {
            buf_appendcstr(expect, "a size (e.g. 10M)");
            r = -1;
        }
        break;
    }
    if (r < 0)
        return -1;
    free(val->str);
    val->str = canon ? canon : xstrdup(text);
    val->num = num;
    return 0;
}

/* ---- state ------------------------------------------------------------ */

static void state_free(struct config_state *st)
{
    if (!st)
        return;
    for (int i = 0; i < IMAPOPT_LAST; i++)
        free(st->values[i].str);
    hash_free(&st->raw, free);
    free(st->filename);
    free(st->service);
    free(st);
}

static struct config_state *state_new(void)
{
    struct config_state *st = xzmalloc(sizeof(*st));
    struct buf expect = BUF_INITIALIZER;

    hash_init(&st->raw, 256);
    for (int i = 1; i < IMAPOPT_LAST; i++) {
        const struct config_option *o = &config_options[i];
        if (o->def && value_parse(o, o->def, &st->values[i], &expect) < 0)
            log_panic("default of option '%s' is not %s", o->name,
                      buf_cstring(&expect));
    }
    buf_free(&expect);
    return st;
}

static struct config_state *state_get(void)
{
    if (!config_current)
        config_current = state_new();
    return config_current;
}

/* ---- reading ---------------------------------------------------------- */

struct config_reader {
    struct config_state *st;
    const char *service;
    struct buf *err;
    int depth;
};

/* True for keys that are meant to be outside the table: per-name keys
 * (partition-NAME, xlist-FLAG, ...), SASL pass-through, and any
 * PREFIX_option (service overrides, replication channels, admins of one
 * service). */
static int key_is_overflow(const char *key)
{
    if (strchr(key, '-') || !strncmp(key, "sasl_", 5))
        return 1;
    for (const char *p = strchr(key, '_'); p; p = strchr(p + 1, '_'))
        if (config_option_byname(p + 1))
            return 1;
    /* murder: HOST_mechs, HOST_password; repeated autocreate_acl lines */
    size_t len = strlen(key);
    if ((len > 6 && !strcmp(key + len - 6, "_mechs")) ||
        (len > 9 && !strcmp(key + len - 9, "_password")) ||
        !strcmp(key, "autocreate_acl"))
        return 1;
    return 0;
}

static int reader_file(struct config_reader *rd, const char *filename);

static int reader_include(struct config_reader *rd, const char *from,
                          int lineno, const char *path)
{
    struct buf full = BUF_INITIALIZER;
    int r;

    if (rd->depth >= CONFIG_MAX_INCLUDE_DEPTH) {
        buf_printf(rd->err, "%s line %d: @include nested too deeply", from,
                   lineno);
        return -1;
    }
    if (path[0] != '/' && strchr(from, '/')) {
        buf_appendmap(&full, from, (size_t)(strrchr(from, '/') - from + 1));
    }
    buf_appendcstr(&full, path);
    rd->depth++;
    r = reader_file(rd, buf_cstring(&full));
    rd->depth--;
    buf_free(&full);
    return r;
}

static int reader_set(struct config_reader *rd, const char *file, int lineno,
                      const char *key, const char *value)
{
    struct config_state *st = rd->st;
    const struct config_option *o = NULL;
    enum config_origin origin = ORIGIN_FILE;
    size_t slen = rd->service ? strlen(rd->service) : 0;

    free(hash_insert(&st->raw, key, xstrdup(value)));

    if (slen && !strncmp(key, rd->service, slen) && key[slen] == '_' &&
        (o = config_option_byname(key + slen + 1)) != NULL) {
        origin = ORIGIN_SERVICE;
    } else {
        o = config_option_byname(key);
    }
    if (!o) {
        if (!key_is_overflow(key))
            log_warning("unknown option '%s' in %s line %d", key, file,
                        lineno);
        return 0;
    }

    struct config_value *val = &st->values[o->id];
    if (val->origin > origin)
        return 0;   /* a service override stands whatever its position */
    if (val->origin == origin)
        log_warning("option '%s' set again in %s line %d; the last value "
                    "is used", key, file, lineno);

    struct buf expect = BUF_INITIALIZER;
    if (value_parse(o, value, val, &expect) < 0) {
        buf_printf(rd->err, "%s line %d: option '%s' expects %s, got '%s'",
                   file, lineno, key, buf_cstring(&expect), value);
        buf_free(&expect);
        return -1;
    }
    buf_free(&expect);
    val->origin = origin;
    return 0;
}

/* Handle one logical line.  Returns 0 or -1 (error in rd->err). */
static int reader_line(struct config_reader *rd, const char *file,
                       int lineno, struct buf *line)
{
    buf_trim(line);
    const char *s = buf_cstring(line);
    if (!*s || *s == '#')
        return 0;

    const char *colon = strchr(s, ':');
    if (!colon) {
        buf_printf(rd->err, "%s line %d: expected 'option: value', got '%s'",
                   file, lineno, s);
        return -1;
    }
    struct buf key = BUF_INITIALIZER, value = BUF_INITIALIZER;
    buf_setmap(&key, s, (size_t)(colon - s));
    buf_trim(&key);
    buf_setcstr(&value, colon + 1);
    buf_trim(&value);

    int r;
    if (!key.len) {
        buf_printf(rd->err, "%s line %d: missing option name before ':'",
                   file, lineno);
        r = -1;
    } else if (!strcmp(buf_cstring(&key), "@include")) {
        r = reader_include(rd, file, lineno, buf_cstring(&value));
    } else {
        r = reader_set(rd, file, lineno, buf_cstring(&key),
                       buf_cstring(&value));
    }
    buf_free(&key);
    buf_free(&value);
    return r;
}

static int reader_file(struct config_reader *rd, const char *filename)
{
    FILE *f = fopen(filename, "r");
    if (!f) {
        buf_printf(rd->err, "cannot open %s: %s", filename, strerror(errno));
        return -1;
    }

    struct buf logical = BUF_INITIALIZER;
    char *line = NULL;
    size_t alloc = 0;
    ssize_t n;
    int lineno = 0, start = 0, joining = 0, r = 0;

    while (r == 0 && (n = getline(&line, &alloc, f)) >= 0) {
        lineno++;
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            line[--n] = '\0';
        if (!joining)
            start = lineno;
        /* A trailing backslash joins the next line, with nothing added;
         * errors name the first line of the group. */
        joining = n > 0 && line[n - 1] == '\\';
        buf_appendmap(&logical, line, (size_t)n - (size_t)joining);
        if (joining)
            continue;
        r = reader_line(rd, filename, start, &logical);
        buf_reset(&logical);
    }
    if (r == 0 && joining)
        r = reader_line(rd, filename, start, &logical);
    if (r == 0 && ferror(f)) {
        buf_printf(rd->err, "error reading %s: %s", filename,
                   strerror(errno));
        r = -1;
    }
    free(line);
    buf_free(&logical);
    fclose(f);
    return r;
}

/* Feed values given under a deprecated name to the current name. */
static void state_apply_renames(struct config_state *st, const char *file)
{
    for (size_t i = 0; i < sizeof(config_renamed) / sizeof(config_renamed[0]);
         i++) {
        struct config_value *old = &st->values[config_renamed[i].old];
        struct config_value *new = &st->values[config_renamed[i].new];
        const char *oldname = config_options[config_renamed[i].old].name;
        const char *newname = config_options[config_renamed[i].new].name;

        if (old->origin == ORIGIN_DEFAULT)
            continue;
        if (new->origin != ORIGIN_DEFAULT) {
            log_warning("%s: deprecated option '%s' ignored: '%s' is set",
                        file, oldname, newname);
            continue;
        }
        log_warning("%s: option '%s' is deprecated, use '%s'", file, oldname,
                    newname);
        free(new->str);
        new->str = xstrdupnull(old->str);
        new->num = old->num;
        new->origin = old->origin;
    }
}

static void state_expand_configdir(struct config_state *st)
{
    const char *dir = st->values[IMAPOPT_CONFIGDIRECTORY].str;
    size_t toklen = strlen(CONFIGDIR_TOKEN);

    for (int i = 1; i < IMAPOPT_LAST; i++) {
        char *s = st->values[i].str;
        if (config_options[i].type != CONFIG_STRING || !s ||
            strncmp(s, CONFIGDIR_TOKEN, toklen) || i == IMAPOPT_CONFIGDIRECTORY)
            continue;
        st->values[i].str = strconcat(dir, s + toklen, (char *)NULL);
        free(s);
    }
}

int config_read(const char *filename, const char *service, struct buf *err)
{
    struct config_state *st = state_new();
    struct config_reader rd = { st, service, err, 0 };

    if (reader_file(&rd, filename) < 0)
        goto fail;
    if (!st->values[IMAPOPT_CONFIGDIRECTORY].str ||
        !*st->values[IMAPOPT_CONFIGDIRECTORY].str) {
        buf_printf(err, "%s: configdirectory is not set", filename);
        goto fail;
    }
    state_apply_renames(st, filename);
    state_expand_configdir(st);
    st->filename = xstrdup(filename);
    st->service = xstrdupnull(service);

    state_free(config_current);
    config_current = st;
    return 0;

fail:
    state_free(st);
    return -1;
}

void config_reset(void)
{
    state_free(config_current);
    config_current = NULL;
}

/* ---- getters ---------------------------------------------------------- */

const char *config_getstring(enum imapopt opt)
{
    option_get(opt);
    return state_get()->values[opt].str;
}

long long config_getint(enum imapopt opt)
{
    const struct config_option *o = option_get(opt);
    if (o->type == CONFIG_STRING || o->type == CONFIG_ENUM)
        log_panic("option '%s' is not numeric", o->name);
    return state_get()->values[opt].num;
}

int config_getswitch(enum imapopt opt)
{
    const struct config_option *o = option_get(opt);
    if (o->type != CONFIG_SWITCH)
        log_panic("option '%s' is not a switch", o->name);
    return state_get()->values[opt].num != 0;
}

const char *config_getenum(enum imapopt opt)
{
    const struct config_option *o = option_get(opt);
    if (o->type != CONFIG_ENUM)
        log_panic("option '%s' is not an enum", o->name);
    return state_get()->values[opt].str;
}

const char *config_getoverflowstring(const char *key, const char *def)
{
    const char *v = hash_lookup(&state_get()->raw, key);
    return v ? v : def;
}

struct foreach_rock {
    const char *prefix;
    size_t len;
    strarray_t keys;
};

static void foreach_collect(const char *key, void *value, void *rock)
{
    struct foreach_rock *fr = rock;
    (void)value;
    if (!strncmp(key, fr->prefix, fr->len))
        strarray_append(&fr->keys, key);
}

void config_foreach_overflow(const char *prefix,
                             void (*cb)(const char *key, const char *value,
                                        void *rock),
                             void *rock)
{
    struct config_state *st = state_get();
    struct foreach_rock fr = { prefix, strlen(prefix), STRARRAY_INITIALIZER };

    hash_enumerate(&st->raw, foreach_collect, &fr);
    strarray_sort(&fr.keys);
    for (int i = 0; i < fr.keys.count; i++) {
        const char *key = strarray_nth(&fr.keys, i);
        cb(key, hash_lookup(&st->raw, key), rock);
    }
    strarray_fini(&fr.keys);
}

const char *config_partitiondir(const char *name)
{
    struct buf key = BUF_INITIALIZER;
    const char *dir;

    buf_printf(&key, "partition-%s", name);
    dir = config_getoverflowstring(buf_cstring(&key), NULL);
    buf_free(&key);
    return dir;
}

const char *config_filename(void)
{
    return state_get()->filename;
}

const char *config_servicename(void)
{
    return state_get()->service;
}

const char *config_dir(void)
{
    return config_getstring(IMAPOPT_CONFIGDIRECTORY);
}

void config_open_log(const char *program)
{
    const char *prefix = getenv("CYRUS_SYSLOG_PREFIX");
    const char *facname = config_getstring(IMAPOPT_SYSLOG_FACILITY);
    int facility = LOG_LOCAL6;

    if (!prefix)
        prefix = config_getstring(IMAPOPT_SYSLOG_PREFIX);
    if (facname) {
        int f = log_facility_from_name(facname);
        if (f >= 0)
            facility = f;
    }
    log_open(prefix, program, facility);
    if (facname && log_facility_from_name(facname) < 0)
        log_warning("unknown syslog_facility '%s', using LOCAL6", facname);
}
