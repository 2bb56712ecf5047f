/* message.h -- parse an RFC 5322 / MIME message held in memory.
 *
 * message_parse() reads a complete message (usually an mmap of its file;
 * CRLF line ends expected, bare LF tolerated) into a flat, pointer-free
 * description: an array of body parts linked by indices, a parameter
 * array, and one string pool (strings are offsets into it; offset 0 means
 * "absent", i.e. NIL).  Offsets of headers and bodies refer to the
 * message bytes.  That shape is what message_cache_serialize() stores in
 * cyrus.cache and message_cache_parse() reads back without re-parsing.
 *
 * From it the module renders IMAP response text (RFC 3501 7.4.2 / RFC 9051):
 * ENVELOPE, BODY and BODYSTRUCTURE, and resolves BODY[section] specs
 * (RFC 3501 6.4.5) to byte ranges or synthesised bytes.
 *
 * Promises: any input parses (malformed MIME gets the RFC 2045/2046
 * defaults); nesting deeper than MESSAGE_MAX_DEPTH is not descended into
 * and at most MESSAGE_MAX_PARTS parts are recorded, so hostile messages
 * cost bounded memory and stack.  Envelope and BODYSTRUCTURE strings are
 * the raw (unfolded, not RFC 2047-decoded) header text, as RFC 3501 says.
 *
 * The RFC 5322 address and date syntax lives in message_rfc5322.c.
 */
#ifndef IMAP_STORE_MESSAGE_H
#define IMAP_STORE_MESSAGE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "lib/buf.h"
#include "lib/strarray.h"

#define MESSAGE_NONE UINT32_MAX
#define MESSAGE_MAX_DEPTH 100
#define MESSAGE_MAX_PARTS 10000

/* Part flags. */
#define MESSAGE_PART_MULTIPART 0x01  /* children are the multipart's parts */
#define MESSAGE_PART_RFC822    0x02  /* one child: the encapsulated message */
#define MESSAGE_PART_ISMESSAGE 0x04  /* header is a message header (root or
                                      * encapsulated); has an envelope */
#define MESSAGE_PART_TRUNCATED 0x08  /* too deep: contents not parsed */

/* Envelope fields, in ENVELOPE order (RFC 3501 7.4.2). */
enum message_env_field {
    MESSAGE_ENV_DATE = 0,
    MESSAGE_ENV_SUBJECT,
    MESSAGE_ENV_FROM,
    MESSAGE_ENV_SENDER,
    MESSAGE_ENV_REPLY_TO,
    MESSAGE_ENV_TO,
    MESSAGE_ENV_CC,
    MESSAGE_ENV_BCC,
    MESSAGE_ENV_IN_REPLY_TO,
    MESSAGE_ENV_MESSAGE_ID,
    MESSAGE_ENV_NFIELDS
};

struct message_param {
    uint32_t name;   /* pool offset, uppercased */
    uint32_t value;  /* pool offset, as written (quotes removed) */
};

struct message_part {
    uint32_t header_offset;  /* into the message */
    uint32_t header_size;    /* including the blank line, if present */
    uint32_t body_offset;
    uint32_t body_size;      /* octets */
    uint32_t body_lines;     /* text lines, for TEXT and MESSAGE parts */
    uint32_t parent;         /* part index or MESSAGE_NONE */
    uint32_t first_child;    /* part index or MESSAGE_NONE */
    uint32_t next_sibling;   /* part index or MESSAGE_NONE */
    uint32_t nchildren;
    uint32_t depth;          /* 0 for the root */
    uint32_t type;           /* pool offsets below; 0 means NIL */
    uint32_t subtype;
    uint32_t params, nparams;           /* slice of message.params */
    uint32_t id;
    uint32_t description;
    uint32_t encoding;                  /* uppercased token */
    uint32_t md5;
    uint32_t disposition;               /* uppercased type */
    uint32_t disp_params, ndisp_params; /* slice of message.params */
    uint32_t language;                  /* raw Content-Language */
    uint32_t location;
    uint32_t envelope[MESSAGE_ENV_NFIELDS]; /* for ISMESSAGE parts */
    uint8_t enc;                        /* enum charset_encoding */
    uint8_t flags;
    uint16_t reserved;
};

struct message {
    const char *base;      /* the message bytes (not owned) */
    size_t len;
    struct message_part *parts;   /* parts[0] is the whole message */
    uint32_t nparts;
    uint32_t parts_alloc;
    struct message_param *params;
    uint32_t nparams;
    uint32_t params_alloc;
    struct buf pool;       /* NUL-separated strings; pool.s[0] is unused */
};

/* Parse `len` bytes at `base` (kept, not copied).  NULL only if the
 * message is too large to describe (over 4 GB). */
struct message *message_parse(const char *base, size_t len);
/* Free the description (not the message bytes) and set *msgp to NULL. */
void message_free(struct message **msgp);

/* The pool string at `off`, or NULL for 0 (NIL). */
const char *message_string(const struct message *msg, uint32_t off);

/* Append `s` as an IMAP string: quoted, or a literal when it holds CR, LF,
 * NUL or 8-bit octets. */
void message_write_string(struct buf *out, const char *s, size_t len);
/* Append a NUL-terminated string, or NIL for NULL. */
void message_write_nstring(struct buf *out, const char *s);

/* Append the ENVELOPE of message part `part` (0: the message itself; or
 * the child of a message/rfc822 part). */
void message_write_envelope(struct buf *out, const struct message *msg,
                            uint32_t part);
/* Append an RFC 5322 address list as an IMAP address list (or NIL). */
void message_write_addresses(struct buf *out, const char *value, size_t len);
/* Append each address of an RFC 5322 address list as a line of its own,
 * "mailbox@host" or "name <mailbox@host>", comments and routes gone (what
 * SEARCH FROM/TO/CC/BCC match besides the raw field). */
void message_address_lines(struct buf *out, const char *value, size_t len);
/* Append BODYSTRUCTURE (`extended`) or BODY of `part` (0 for the whole). */
void message_write_bodystructure(struct buf *out, const struct message *msg,
                                 uint32_t part, int extended);

/* Result kinds of message_section(). */
#define MESSAGE_SECTION_BAD   (-1)  /* spec does not parse */
#define MESSAGE_SECTION_EMPTY 0     /* no such part: send "" */
#define MESSAGE_SECTION_RANGE 1     /* bytes at *offset, *len in the message */
#define MESSAGE_SECTION_SYNTH 2     /* bytes appended to `synth` */

/* Resolve a FETCH BODY[section] spec such as "", "1.2", "TEXT",
 * "2.HEADER.FIELDS (From To)", "1.MIME" (case-insensitive). */
int message_section(const struct message *msg, const char *spec,
                    struct buf *synth, size_t *offset, size_t *len);

/* Find the part a numeric section ("1.2.3"; "" for the message) names;
 * MESSAGE_NONE if none. */
uint32_t message_part_lookup(const struct message *msg, const char *numbers);

/* Header fields.  `hdr`/`hdrlen` is a header block (e.g. a part's header
 * range).  Values are unfolded (CRLF removed) with outer blanks trimmed. */
/* First value of field `name`; 1 if found (value replaced), else 0. */
int message_header_get(const char *hdr, size_t hdrlen, const char *name,
                       struct buf *value);
/* Append every value of field `name` to `values`; returns how many. */
int message_header_getall(const char *hdr, size_t hdrlen, const char *name,
                          strarray_t *values);

/* The decoded (RFC 2231 continuations and charsets, else RFC 2047) UTF-8
 * value of Content-Type parameter `name` of `part`, or of its
 * Content-Disposition parameter when `disposition` is set.  1 if found. */
int message_part_param(const struct message *msg, uint32_t part,
                       const char *name, int disposition, struct buf *value);

/* Parse an RFC 5322 date-time (obsolete forms and zones accepted);
 * returns seconds since the epoch, or -1 if it cannot be parsed or falls
 * before 1970. */
time_t message_parse_date(const char *s, size_t len);
/* The message's Date: as time_t, or -1 if absent or unparseable. */
time_t message_sentdate(const struct message *msg);

/* Append a compact, self-describing copy of the description to `out`. */
void message_cache_serialize(const struct message *msg, struct buf *out);
/* Rebuild a description from message_cache_serialize() output, attached
 * to the message bytes `base`/`len`; NULL if the data is corrupt or does
 * not fit the message. */
struct message *message_cache_parse(const char *data, size_t datalen,
                                    const char *base, size_t len);

#endif
