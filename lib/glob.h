/* glob.h -- LIST/LSUB mailbox patterns (RFC 3501 section 6.3.8).
 *
 * A pattern is matched against whole external mailbox names: '*' matches
 * any run of characters, '%' any run that does not contain the hierarchy
 * separator, everything else itself (case-sensitively, except that an
 * initial "INBOX" may be matched case-insensitively on request).
 * Matching simulates the pattern as a set of states, so it costs at most
 * O(pattern length x name length) whatever the pattern: no backtracking
 * blow-up on patterns like "*a*a*a*b".
 */
#ifndef LIB_GLOB_H
#define LIB_GLOB_H

/* glob_new() flags */
#define GLOB_INBOXCASE 0x01 /* a leading "inbox" (then sep or end) is INBOX */

struct glob;

/* Compile `pattern` for names whose hierarchy separator is `sep`. */
struct glob *glob_new(const char *pattern, char sep, int flags);
/* Free a pattern and set *gp to NULL. */
void glob_free(struct glob **gp);
/* 1 if the whole of `name` matches. */
int glob_match(const struct glob *g, const char *name);
/* 1 if some name beginning with `prefix` might match (a traversal may
 * skip everything under a prefix for which this is 0). */
int glob_match_prefix(const struct glob *g, const char *prefix);
/* 1 if some descendant `name<sep>child...` of `name` could match; used
 * for RECURSIVEMATCH and for pruning a walk of the hierarchy. */
int glob_match_child(const struct glob *g, const char *name);

#endif
