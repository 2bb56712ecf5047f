/* config.h -- the imapd.conf option table and its reader.
 *
 * Every option is declared once, in lib/imapoptions.def, with its Cyrus
 * name, type, default, allowed values and a line of documentation; the
 * parser, the validation and the imapd.conf(5) man page all come from it.
 *
 * config_read() parses a file of "key: value" lines.  Unknown keys are
 * warned about and kept (see config_getoverflowstring) so that options
 * such as partition-NAME, sasl_* and later-stage options work; a value of
 * the wrong type for a known option is an error naming file, line, option
 * and expected type.  A key "SERVICE_option" (SERVICE being the cyrus.conf
 * service name given to config_read) overrides "option" for that service,
 * wherever it appears in the file.  "@include: path" reads another file
 * (a relative path is taken from the including file's directory); a
 * trailing backslash continues a line.  Deprecated option names are
 * accepted and copied to their replacements with a warning.  String
 * values starting with "{configdirectory}" have it expanded.
 *
 * A failed config_read() leaves the previous configuration in force, so a
 * SIGHUP with a broken file changes nothing.  Strings returned by the
 * getters stay valid until the next successful config_read/config_reset.
 *
 * Read options at the edge (daemon start-up) and pass them to engines.
 */
#ifndef LIB_CONFIG_H
#define LIB_CONFIG_H

#include "lib/buf.h"

enum config_type {
    CONFIG_STRING,    /* free text; may be NULL (no default) */
    CONFIG_INT,       /* signed integer */
    CONFIG_SWITCH,    /* yes/no, on/off, true/false, 1/0 */
    CONFIG_ENUM,      /* one of a fixed list of words */
    CONFIG_DURATION,  /* number with optional unit s/m/h/d; getint gives seconds */
    CONFIG_BYTESIZE,  /* number with optional unit K/M/G; getint gives bytes */
};

enum imapopt {
    IMAPOPT_ZERO = 0,
#define OPT(id, name, type, def, extra, doc) id,
#include "lib/imapoptions.def"
#undef OPT
    IMAPOPT_LAST
};

struct config_option {
    enum imapopt id;
    const char *name;
    enum config_type type;
    const char *def;      /* default as written in imapd.conf; NULL for none */
    const char *extra;    /* ENUM: "a|b|c"; DURATION: default unit; else NULL */
    const char *doc;
};

/* The static option table, IMAPOPT_LAST-1 entries starting at index 1. */
extern const struct config_option config_options[];

/* Read `filename` for service `service` (may be NULL).  Returns 0, or -1
 * with a message in *err.  May be called again to re-read. */
int config_read(const char *filename, const char *service, struct buf *err);
/* Forget everything read; options return to their defaults. */
void config_reset(void);

/* The value of any option as text (after {configdirectory} expansion);
 * NULL when it has no default and is not set. */
const char *config_getstring(enum imapopt opt);
/* INT, DURATION (seconds), BYTESIZE (bytes) or SWITCH (0/1) options;
 * 0 when unset without default. */
long long config_getint(enum imapopt opt);
/* SWITCH options: 1 or 0. */
int config_getswitch(enum imapopt opt);
/* The chosen word of an ENUM option. */
const char *config_getenum(enum imapopt opt);

/* Value of a key that is not in the table (e.g. "partition-default",
 * "sasl_pwcheck_method", "lmtp_admins"), or `def`.  Keys of the table are
 * answered too, with the text written in the file. */
const char *config_getoverflowstring(const char *key, const char *def);
/* Call cb, in key order, for each key read that starts with `prefix`. */
void config_foreach_overflow(const char *prefix,
                             void (*cb)(const char *key, const char *value,
                                        void *rock),
                             void *rock);
/* Directory of partition `name` (partition-NAME), or NULL. */
const char *config_partitiondir(const char *name);

/* The file read, the service name, and `configdirectory`. */
const char *config_filename(void);
const char *config_servicename(void);
const char *config_dir(void);

/* Look an option up by name; NULL if unknown. */
const struct config_option *config_option_byname(const char *name);

/* Open the log as `program` with the prefix of `syslog_prefix` (or the
 * CYRUS_SYSLOG_PREFIX environment variable) and the `syslog_facility`. */
void config_open_log(const char *program);

#endif
