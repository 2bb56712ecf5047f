/* mboxname.h -- internal mailbox names and what each user sees of them.
 *
 * Internal names are Cyrus's (see doc/mailbox-names.md): components
 * joined by '.', user mailboxes under "user.<localpart>", a '.' inside a
 * component stored as '^', and with virtual domains a "<domain>!" prefix.
 * External names are what one user sees in IMAP under the standard or
 * the alternate namespace, with '.' or '/' as separator.  Every function
 * takes the namespace settings explicitly, never reads the configuration,
 * and returns new memory (or NULL when there is no answer).  Names are
 * in modified UTF-7 on both sides; nothing here transcodes them.
 */
#ifndef IMAP_STORE_MBOXNAME_H
#define IMAP_STORE_MBOXNAME_H

#include "lib/buf.h"

/* Longest internal name accepted by mboxname_policycheck(), as Cyrus. */
#define MBOXNAME_MAX 490

/* The namespace settings of one session; fill from imapd.conf at the
 * edge (altnamespace, unixhierarchysep, virtdomains != off,
 * defaultdomain, userprefix, sharedprefix, altprefix). */
struct mboxname_ns {
    int altnamespace;          /* personal folders beside INBOX */
    int unixhierarchysep;      /* '/' rather than '.' as separator */
    int virtdomains;           /* split userids at the last '@' */
    const char *defaultdomain; /* its users and folders carry no domain */
    const char *userprefix;    /* alt: other users' root, "Other Users" */
    const char *sharedprefix;  /* alt: shared root, "Shared Folders" */
    const char *altprefix;     /* alt: clashing personal names, "Alt Folders" */
    int isadmin;               /* admins always use the standard namespace and
                                  may name other domains as "name@domain" */
};

/* Cyrus 3 defaults: altnamespace and unixhierarchysep on, no domains. */
#define MBOXNAME_NS_INITIALIZER                                                \
    {                                                                          \
        1, 1, 0, NULL, "Other Users", "Shared Folders", "Alt Folders", 0       \
    }

/* The external hierarchy separator, '/' or '.'. */
char mboxname_sep(const struct mboxname_ns *ns);

/* Internal name for external `extname` as seen by `userid` (NULL for an
 * anonymous session); NULL if it names nothing representable. */
char *mboxname_from_external(const struct mboxname_ns *ns, const char *extname,
                             const char *userid);
/* External name of `intname` as seen by `userid`; NULL if that user's
 * namespace cannot show it (another domain, an unrepresentable name). */
char *mboxname_to_external(const struct mboxname_ns *ns, const char *intname,
                           const char *userid);

/* Internal name of the INBOX of `userid`, "user.fred" or
 * "example.com!user.fred". */
char *mboxname_user_inbox(const struct mboxname_ns *ns, const char *userid);
/* Internal name of `userid`'s folder `sub` (internal form, '.'-separated;
 * NULL for the INBOX itself). */
char *mboxname_user_mbox(const struct mboxname_ns *ns, const char *userid,
                         const char *sub);
/* Userid owning internal `intname` ("user.fred.x" -> "fred",
 * "example.com!user.fred" -> "fred@example.com"); NULL if shared. */
char *mboxname_to_userid(const char *intname);
/* 1 if `userid` owns internal `intname`. */
int mboxname_userownsmailbox(const struct mboxname_ns *ns, const char *userid,
                             const char *intname);
/* 1 if `intname` belongs to a user; with `inboxonly`, only if it is the
 * INBOX itself. */
int mboxname_isusermailbox(const char *intname, int inboxonly);
/* The domain of `intname` (new memory), or NULL for the default domain. */
char *mboxname_domain(const char *intname);
/* Internal parent of `intname`, or NULL at the top ("user.fred" and a
 * top-level shared name have none: "user" is not a mailbox). */
char *mboxname_parent(const char *intname);
/* 1 if `name` is `ancestor` or lies below it. */
int mboxname_is_prefix(const char *name, const char *ancestor);

/* 0 if `intname` is acceptable as a new mailbox name, else -1 with a
 * short reason in *why (static text) when `why` is not NULL. */
int mboxname_policycheck(const struct mboxname_ns *ns, const char *intname,
                         const char **why);

/* Append the RFC 2342 NAMESPACE response data, the three groups after
 * "* NAMESPACE ", for a session with these settings. */
void mboxname_namespace_response(const struct mboxname_ns *ns, struct buf *out);

#endif
