/* append.h -- bringing new messages into a mailbox (APPEND, COPY, LMTP).
 *
 * A message is first staged: its bytes are streamed (never held whole in
 * memory) into a file in the partition's stage directory
 * (<partition>/stage./), line ends normalised to CRLF, size limited by
 * the caller.  A staged message is then parsed once (MIME, cache payload,
 * Date:) and can be appended to one or more mailboxes; within one
 * partition the message file is hard-linked rather than copied when
 * singleinstancestore is on.  Quota is checked and charged per mailbox.
 *
 * Durability: append_commit() returns only after the messages, cache and
 * index are on disk; only then may the caller acknowledge.
 */
#ifndef IMAP_STORE_APPEND_H
#define IMAP_STORE_APPEND_H

#include <stdint.h>

#include "imap/store/mailbox.h"
#include "imap/store/quota.h"
#include "lib/prot.h"

enum append_error {
    APPEND_OK = 0,
    APPEND_IOERROR = -1,
    APPEND_TOOBIG = -2,       /* over the size limit */
    APPEND_OVERQUOTA = -3,
    APPEND_BADMESSAGE = -4,   /* e.g. NUL bytes, or 8-bit where refused */
    APPEND_EOF = -5,          /* the stream ended before `len` bytes */
};
const char *append_strerror(int r);

/* Parse a whole message once and build what the index needs: the cache
 * payload (doc/store-format.md), the sent date and the header size.  The
 * one builder of cache payloads: append and reconstruct both use it, so
 * the two can never disagree.  Returns 0 or APPEND_BADMESSAGE. */
int append_build_cache(const char *base, size_t len, struct buf *cache,
                       int64_t *sentdate, uint32_t *header_size);

/* The items a payload carries after the structure, in this order. */
enum append_cache_item {
    APPEND_CACHE_ENVELOPE = 0,     /* "(date subject ...)" as in FETCH */
    APPEND_CACHE_BODYSTRUCTURE,    /* extended, as in FETCH BODYSTRUCTURE */
    APPEND_CACHE_BODY,             /* non-extended, as in FETCH BODY */
    APPEND_CACHE_HEADERS,          /* raw lines of the cached header fields
                                      (From, To, Cc, Bcc, Subject, Date,
                                      Message-ID, In-Reply-To, References,
                                      Reply-To, Sender, Content-Type,
                                      priorities, Newsgroups, List-*) */
    APPEND_CACHE_NITEMS
};
/* Is header field `name` (`len` bytes, any case) among those whose lines
 * APPEND_CACHE_HEADERS keeps? */
int append_field_is_cached(const char *name, size_t len);
/* Length of the payload's head, the message_cache_serialize() structure
 * (what message_cache_parse() takes); 0 if the payload is too short. */
size_t append_cache_structure_len(const char *payload, size_t len);
/* Point *item and *itemlen at one item of a payload (into the payload);
 * 0, or -1 when the payload is empty, truncated or corrupt. */
int append_cache_item(const char *payload, size_t len,
                      enum append_cache_item which, const char **item,
                      size_t *itemlen);

struct stagemsg;

/* Stage exactly `len` bytes read from `in` into a file under `stagedir`.
 * Bare LF becomes CRLF.  NUL bytes make APPEND_BADMESSAGE (after the
 * bytes are consumed, so the protocol stays in step). */
int append_stage_prot(const char *stagedir, struct protstream *in,
                      uint64_t len, struct stagemsg **stagep);
/* Stage bytes already in memory (tests, CATENATE pieces). */
int append_stage_buf(const char *stagedir, const char *base, size_t len,
                     struct stagemsg **stagep);
/* Size in bytes of the staged message as it will be stored. */
uint64_t append_stage_size(const struct stagemsg *stage);
/* Path of the staged file (read it, never change it). */
const char *append_stage_path(const struct stagemsg *stage);
/* Remove the staged file; sets *stagep to NULL. */
void append_stage_free(struct stagemsg **stagep);

/* One transaction on one mailbox: setup takes the exclusive lock,
 * commit makes everything durable and charges quota, abort undoes. */
struct appendstate;
/* `quotaroot` may be NULL (no quota).  `strict_quota` as quota_check. */
int append_setup(struct mailbox *mb, const char *quotaroot, int strict_quota,
                 struct appendstate **asp);
/* Add one staged message with its flags and internal date (0: now).
 * Unless info->cache is set, the stage is parsed (once, whatever the
 * number of mailboxes) for the cache payload, sentdate and header size.
 * APPEND_OVERQUOTA if this message and those before it in the
 * transaction (MESSAGE +1, STORAGE +size each) would exceed the root. */
int append_message(struct appendstate *as, struct stagemsg *stage,
                   const struct append_info *info, struct index_record *out);
/* Copy an existing message of another open mailbox (COPY/MOVE): the
 * message file is linked when possible, flags as given; info->cache
 * NULL makes a new parse of the source (0 internaldate: the source's).
 * `from` must be locked (shared is enough). */
int append_copy(struct appendstate *as, struct mailbox *from,
                const struct index_record *rec, const struct append_info *info,
                struct index_record *out);
/* Commit the mailbox, then charge the quota root with the usage of
 * everything appended, release the lock; *asp = NULL either way. */
int append_commit(struct appendstate **asp);
/* Remove what the transaction appended, release the lock; *asp = NULL. */
void append_abort(struct appendstate **asp);

#endif
