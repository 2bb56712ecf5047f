/* reconstruct.h -- rebuild a mailbox's cyrus.index and cyrus.cache from
 * its <uid>. message files.
 *
 * Records that can still be read (valid CRC) keep their flags, dates,
 * modseqs and expunged state; message files without a readable record get
 * a new record (internaldate = file mtime, no flags); records whose file
 * is gone become expunged (so QRESYNC clients learn of the loss).  The
 * cache payload, sentdate and header size come from a caller-supplied
 * parser, so this module does not depend on the MIME parser.  The new
 * files replace the old ones the way a repack does: processes with the
 * mailbox open notice at their next lock.  Must not be called while this
 * process has the mailbox open (MAILBOX_LOCKED).
 */
#ifndef IMAP_STORE_RECONSTRUCT_H
#define IMAP_STORE_RECONSTRUCT_H

#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"

struct reconstruct_parser {
    /* Append the cache payload of the message at base/len to `cache` and
     * set *sentdate and *header_size.  Nonzero: store an empty payload. */
    int (*parse)(const char *base, size_t len, struct buf *cache,
                 int64_t *sentdate, uint32_t *header_size, void *rock);
    void *rock;
};

struct reconstruct_result {
    uint32_t records;       /* records in the new index */
    uint32_t kept;          /* old records kept with their message file */
    uint32_t added;         /* message files that had no readable record */
    uint32_t removed;       /* live records whose file was gone: expunged */
    uint32_t unreadable;    /* old records with a bad CRC */
    uint32_t changed;       /* kept records whose file no longer matched
                               their GUID or size */
    int header_rebuilt;     /* cyrus.header was damaged and rewritten */
    int index_rebuilt;      /* the old index header was missing or bad */
};

/* Rebuild the mailbox in `dir`.  `parser` may be NULL: the old cache
 * payload is then reused where readable (else empty) and the header size
 * found at the first blank line.  `res` may be NULL. */
int mailbox_reconstruct(const char *dir,
                        const struct reconstruct_parser *parser,
                        struct reconstruct_result *res);

#endif
