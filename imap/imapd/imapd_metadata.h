/* imapd_metadata.h -- METADATA (RFC 5464) and special use (RFC 6154)
 * for an IMAP session.
 *
 * GETMETADATA and SETMETADATA (cmd_metadata.c) read and write the
 * annotations database (imap/store/annotate.h) with the rules of RFC 5464:
 * on a mailbox the user needs 'l' and one of "rswip" (section 3.3),
 * server annotations are readable by everyone and writable (shared) by
 * admins; a change is all or nothing, bounded in size and count, and
 * counted in the X-ANNOTATION-STORAGE quota of the mailbox's root.
 * Entry names may end in a '/' and a wildcard, '*' (every entry below)
 * or '%' (one level below), as Cyrus allows and as cyradm's info sends
 * ("/shared" then '/' and '*'); such a request also
 * lists the entries the server defines that hold no value (NIL), and the
 * read-only facts Cyrus gives under /shared/vendor/cmu/cyrus-imapd/
 * (partition, size, uniqueid).  LIST ... RETURN (METADATA (...)) (RFC
 * 9590, cmd_list.c) answers through imapd_metadata_list().
 *
 * A mailbox's special use is its owner's /private/specialuse annotation,
 * as Cyrus keeps it: only the owner sees it (LIST) or sets it (CREATE
 * ... (USE (...)), SETMETADATA).  Each use is given to at most one of a
 * user's mailboxes, and only uses the server supports are accepted
 * (RFC 6154 section 4).
 */
#ifndef IMAP_IMAPD_IMAPD_METADATA_H
#define IMAP_IMAPD_IMAPD_METADATA_H

#include "imap/imapd/imapd.h"
#include "imap/imapd/imapd_errors.h"
#include "lib/buf.h"

/* Largest value SETMETADATA accepts, and most entries one user (or the
 * shared scope) may have on one mailbox. */
#define IMAPD_METADATA_MAXSIZE (256 * 1024)
#define IMAPD_METADATA_MAXENTRIES 1000

/* Is `name` an entry GETMETADATA would take (a wildcard too)? */
int imapd_metadata_entry_valid(const char *name);
/* LIST-METADATA (RFC 9590): "* METADATA <extname> (entry value ...)"
 * for the requested `entries` (checked with imapd_metadata_entry_valid)
 * of mailbox `extname`, as GETMETADATA would answer them; nothing when
 * the session may not read its metadata or it cannot be found. */
void imapd_metadata_list(struct imapd_session *s, const char *extname,
                         const strarray_t *entries);

/* The special use of mailbox `intname` (unique id `uniqueid`) for the
 * session into `out` (replaced; "" when none or not the user's own). */
void imapd_specialuse_get(struct imapd_session *s, const char *intname,
                          const char *uniqueid, struct buf *out);
/* Check `value` (space-separated "\Use" words; "" for none) as the
 * special use of the session user's mailbox `intname` (`uniqueid`, NULL
 * for a mailbox yet to be created): known uses only, none held by another
 * of the user's mailboxes.  The canonical form goes to `canon`.
 * IMAPD_ERR_OK, IMAPD_ERR_USEATTR, or IMAPD_ERR_IOERROR. */
enum imapd_error imapd_specialuse_check(struct imapd_session *s,
                                        const char *intname,
                                        const char *uniqueid,
                                        const char *value, struct buf *canon);
/* Store a checked special use ("" removes it) on mailbox `uniqueid`. */
enum imapd_error imapd_specialuse_set(struct imapd_session *s,
                                      const char *uniqueid,
                                      const char *canon);
/* After the INBOX was autocreated: give the folders named by the
 * xlist-<use> options their special use. */
void imapd_specialuse_autocreate(struct imapd_session *s);

#endif
