/* imapurl.h -- IMAP URLs (RFC 5092) and their URLAUTH form (RFC 4467).
 *
 * The server meets URLs in CATENATE (relative, naming a message or part
 * of this user's mailboxes), GENURLAUTH and URLFETCH (absolute, with
 * ";URLAUTH=access[:mech:token]").  imapurl_parse() splits one into its
 * pieces, %-decoding the mailbox name (RFC 5092 names are UTF-8), the
 * user and the section.  Only the forms that name a message or a part of
 * one are accepted: a URL listing messages (a search) is refused.
 */
#ifndef IMAP_IMAPD_IMAPURL_H
#define IMAP_IMAPD_IMAPURL_H

#include <stddef.h>
#include <stdint.h>

struct imapurl {
    char *user;          /* iuserinfo's user (decoded), or NULL */
    char *server;        /* "host" or "host:port", NULL when relative */
    char *mailbox;       /* UTF-8 name, NULL when the URL has none */
    uint32_t uidvalidity;/* 0 when absent */
    uint32_t uid;        /* 0 when absent */
    char *section;       /* upper-cased, decoded; NULL when absent */
    int partial;         /* ";PARTIAL=start[.count]" given */
    uint32_t start, count; /* count 0: to the end */
    int64_t expire;      /* ";EXPIRE=" as UTC seconds, 0 when absent */
    char *access;        /* ";URLAUTH=" access identifier, or NULL */
    char *mech;          /* authorization mechanism, or NULL */
    char *token;         /* its token (hex), or NULL */
    size_t rump_len;     /* bytes of the URL before ":mech:token" */
};

/* Parse `url` into *u (freed with imapurl_fini, also after failure).
 * 0, or -1 when it is not a message or part URL this server can use. */
int imapurl_parse(const char *url, struct imapurl *u);
void imapurl_fini(struct imapurl *u);

/* RFC 3339 date-time ("2024-01-02T03:04:05Z", fraction and offset
 * allowed) to UTC seconds; 0 or -1. */
int imapurl_parse_datetime(const char *s, int64_t *out);

#endif
