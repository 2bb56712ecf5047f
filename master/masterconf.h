/* masterconf.h -- reading cyrus.conf, the process table of master.
 *
 * The file holds sections (START, SERVICES, EVENTS, DAEMON; names are
 * case-insensitive) of the form
 *     SECTION {
 *         name  key=value key="quoted value" ...
 *     }
 * one entry per line.  Names are letters and digits only, as Cyrus
 * requires; `#` starts a comment outside quotes; a `}` may close the
 * section at the end of an entry's line; the `{` may stand on the line
 * after the section name.  Unknown sections are skipped with a warning.
 * Any syntax error is reported as "FILE:LINE: message" and nothing of the
 * file is used.  Typed getters check values and report errors the same way.
 */
#ifndef MASTER_MASTERCONF_H
#define MASTER_MASTERCONF_H

#include <stddef.h>

#include "lib/buf.h"
#include "lib/strarray.h"

enum masterconf_section {
    MASTERCONF_START,
    MASTERCONF_SERVICES,
    MASTERCONF_EVENTS,
    MASTERCONF_DAEMON,
};

struct masterconf_entry {
    enum masterconf_section section;
    char *name;
    const char *filename;   /* points into the owning struct masterconf */
    int lineno;
    strarray_t keys;        /* keys[i] = values[i], in file order */
    strarray_t values;
};

struct masterconf {
    char *filename;
    int count;
    struct masterconf_entry *entries;
    strarray_t warnings;    /* non-fatal remarks, "FILE:LINE: text" */
};

/* Parse `len` bytes of cyrus.conf text; `filename` names it in messages.
 * Returns a new struct masterconf, or NULL with the error in *err. */
struct masterconf *masterconf_parse(const char *text, size_t len,
                                    const char *filename, struct buf *err);
/* Read and parse a file; NULL with the error in *err. */
struct masterconf *masterconf_read(const char *filename, struct buf *err);
/* Free and set *confp to NULL. */
void masterconf_free(struct masterconf **confp);

/* The value of `key` in an entry, or `def`. */
const char *masterconf_getstring(const struct masterconf_entry *e,
                                 const char *key, const char *def);
/* An integer value (or `def` when absent) into *val; -1 with "FILE:LINE:
 * ..." in *err when the value is not a decimal integer. */
int masterconf_getint(const struct masterconf_entry *e, const char *key,
                      int def, int *val, struct buf *err);
/* A yes/no value (1/0, y/n, yes/no, on/off, true/false); as getint. */
int masterconf_getswitch(const struct masterconf_entry *e, const char *key,
                         int def, int *val, struct buf *err);
/* Fail with "FILE:LINE: ..." in *err if the entry has a key not in the
 * NULL-terminated list `known`. */
int masterconf_checkkeys(const struct masterconf_entry *e,
                         const char *const *known, struct buf *err);

/* Split a cmd= value into words at white space; NULL if it has none. */
strarray_t *masterconf_splitcmd(const char *cmd);

/* What an entry of the section is, for messages: "start", "service",
 * "event" or "daemon". */
const char *masterconf_sectionname(enum masterconf_section section);

#endif
