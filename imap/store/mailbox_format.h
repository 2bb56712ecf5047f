/* mailbox_format.h -- byte layout of cyrus.index and cyrus.cache, shared
 * by the mailbox engine (mailbox.c) and reconstruct (reconstruct.c).
 *
 * Not for other modules: everything else goes through mailbox.h.  The
 * layouts are documented in doc/store-format.md; the encoders here are
 * the only code that knows the offsets.  Decoders verify magic, sizes
 * and CRCs and return MAILBOX_CORRUPT instead of trusting bad bytes.
 */
#ifndef IMAP_STORE_MAILBOX_FORMAT_H
#define IMAP_STORE_MAILBOX_FORMAT_H

#include <stddef.h>
#include <stdint.h>

#include "imap/store/mailbox.h"

#define INDEX_MAGIC 0x43594958u        /* "CYIX" */
#define INDEX_VERSION 1
#define INDEX_HEADER_SIZE 128
#define INDEX_RECORD_SIZE 104
#define CACHE_MAGIC 0x43594341u        /* "CYCA" */
#define CACHE_VERSION 1
#define CACHE_HEADER_SIZE 16
#define CACHE_ENTRY_OVERHEAD 12        /* length, uid, CRC */

/* Index header flags (offset 104). */
#define INDEX_FLAG_DIRTY 1u            /* records rewritten in place and
                                          the header not yet recomputed */
#define INDEX_FLAG_APPENDING 2u        /* message files above last_uid may
                                          belong to an uncommitted append */
#define INDEX_FLAG_RESERVED 4u         /* a committed writer reserved the
                                          UIDs up to reserved_uid for its
                                          next appends: files above
                                          last_uid up to there may belong
                                          to one that died */

/* The marks a writer leaves in the header beside the committed state. */
struct index_marks {
    uint32_t flags;                    /* INDEX_FLAG_* (offset 104) */
    uint32_t reserved_uid;             /* with INDEX_FLAG_RESERVED (108) */
};

#define FNAME_HEADER "cyrus.header"
#define FNAME_INDEX "cyrus.index"
#define FNAME_CACHE "cyrus.cache"

static inline void le_put32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
    p[2] = (unsigned char)(v >> 16);
    p[3] = (unsigned char)(v >> 24);
}

static inline void le_put64(unsigned char *p, uint64_t v)
{
    le_put32(p, (uint32_t)v);
    le_put32(p + 4, (uint32_t)(v >> 32));
}

static inline uint32_t le_get32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

static inline uint64_t le_get64(const unsigned char *p)
{
    return (uint64_t)le_get32(p) | (uint64_t)le_get32(p + 4) << 32;
}

/* CRC32 (zlib) of `len` bytes. */
uint32_t store_crc32(const void *p, size_t len);

/* Encode the index header with `marks` (NULL: none) and its CRC. */
void index_header_encode(const struct index_header *h,
                         const struct index_marks *marks,
                         unsigned char out[INDEX_HEADER_SIZE]);
/* Decode and verify a header; `len` is the bytes available.  `marks` may
 * be NULL; a reserved_uid without INDEX_FLAG_RESERVED reads as 0. */
int index_header_decode(const unsigned char *p, size_t len,
                        struct index_header *h, struct index_marks *marks);
void index_record_encode(const struct index_record *rec,
                         unsigned char out[INDEX_RECORD_SIZE]);
int index_record_decode(const unsigned char *p, struct index_record *rec);

void cache_header_encode(uint32_t generation,
                         unsigned char out[CACHE_HEADER_SIZE]);
int cache_header_decode(const unsigned char *p, size_t len,
                        uint32_t *generation);
/* Size on disk of a cache entry with a payload of `len` bytes. */
size_t cache_entry_size(size_t len);
/* Append the encoded entry to `out`. */
void cache_entry_encode(uint32_t uid, const char *payload, size_t len,
                        struct buf *out);
/* Verify the entry at `offset` of a cache image of `maplen` bytes. */
int cache_entry_decode(const unsigned char *map, size_t maplen,
                       uint64_t offset, uint32_t uid,
                       const char **payload, size_t *len);

/* The contents of cyrus.header. */
struct store_header {
    char *uniqueid;
    char *acl;
    char *quotaroot;
    strarray_t flags;          /* keyword names, bit n = flags.data[n] */
    uint32_t uidvalidity;
};
/* Read dir's cyrus.header.  `strict` demands the magic line, the CRC line
 * and a uniqueid (MAILBOX_CORRUPT otherwise); without it whatever lines
 * parse are kept (reconstruct salvages a damaged file that way). */
int store_header_read(const char *dir, int strict, struct store_header *h);
int store_header_parse(const char *base, size_t len, int strict,
                       struct store_header *h);
/* Write cyrus.header.NEW, fsync, rename over cyrus.header, fsync dir. */
int store_header_write(const char *dir, const struct store_header *h);
void store_header_fini(struct store_header *h);
/* May `name` be a keyword (an IMAP atom not starting with '')? */
int store_valid_keyword(const char *name);

/* Compute the SHA-1 and size of `fd`'s contents (from its current
 * position to the end) into guid, also writing them to `copy_to` unless
 * it is -1; MAILBOX_IOERROR (errno set) on failure. */
int store_hash_fd(int fd, int copy_to, uint8_t guid[20], uint64_t *size);
/* fsync a directory. */
int store_fsync_dir(const char *dir);

/* Remove the <uid>. files of `dir` above `last_uid` and, unless `limit`
 * is 0, not above `limit`: what an append that died before its commit
 * left (only when the header's marks say so: an administrator may drop
 * files there for reconstruct to add).  With a limit it tries each name
 * (a reservation is short) instead of listing the directory.  With
 * `linked_only`, only files with other links go: lmtpd's leftovers share
 * their inode with a queued ticket or the message stored again, where a
 * file an administrator dropped in has one link.  Fsyncs the directory
 * if anything went; returns how many went, or -1 (logged). */
int store_remove_uncommitted(const char *dir, uint32_t last_uid,
                             uint32_t limit, int linked_only);

/* Is a mailbox in `dir` open in this process (reconstruct must not run
 * under an open mailbox: closing its own descriptors would drop the
 * process's fcntl locks)? */
int mailbox_is_open(const char *dir);

/* Replace cyrus.cache and cyrus.index by the fully written and fsync'd
 * `cache_new` and `index_new` (paths), in the order that the recovery
 * at lock time can complete after a crash.  The caller holds an
 * exclusive lock on a descriptor of `index_new`, so that nobody reads the
 * new index before the caller unlocks it. */
int store_swap_files(const char *dir, const char *cache_new,
                     const char *index_new);

#endif
