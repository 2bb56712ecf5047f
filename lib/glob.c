/* glob.c -- LIST pattern matching; see glob.h. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/glob.h"
#include "lib/xmalloc.h"

/* Pattern positions 0..len-1 hold a literal byte or a wildcard; position
 * len is the accepting state.  A state set is a byte array of len + 1. */
enum { P_LITERAL, P_STAR, P_PERCENT };

struct glob {
    size_t len;
    char sep;
    unsigned char *kind;
    char *lit;
};

struct glob *glob_new(const char *pattern, char sep, int flags)
{
    size_t n = strlen(pattern);
    struct glob *g = xzmalloc(sizeof(*g));
    g->sep = sep;
    g->kind = xmalloc(n + 1);
    g->lit = xmalloc(n + 1);

    size_t skip = 0;
    if ((flags & GLOB_INBOXCASE) && !strncasecmp(pattern, "INBOX", 5) &&
        (pattern[5] == '\0' || pattern[5] == sep)) {
        for (int i = 0; i < 5; i++) {
            g->kind[i] = P_LITERAL;
            g->lit[i] = "INBOX"[i];
        }
        g->len = skip = 5;
    }

    for (const char *p = pattern + skip; *p; p++) {
        unsigned char k = *p == '*'   ? P_STAR
                          : *p == '%' ? P_PERCENT
                                      : P_LITERAL;
        /* Adjacent wildcards collapse: "*%" and "%*" are "*", "%%" is
         * "%".  That keeps the state count down and changes nothing. */
        if (k != P_LITERAL && g->len && g->kind[g->len - 1] != P_LITERAL) {
            if (k == P_STAR) g->kind[g->len - 1] = P_STAR;
            continue;
        }
        g->kind[g->len] = k;
        g->lit[g->len] = *p;
        g->len++;
    }
    return g;
}

void glob_free(struct glob **gp)
{
    struct glob *g = *gp;
    if (!g) return;
    free(g->kind);
    free(g->lit);
    free(g);
    *gp = NULL;
}

/* A wildcard may match nothing, so being at it means also being past it. */
static void closure(const struct glob *g, unsigned char *set)
{
    for (size_t i = 0; i < g->len; i++)
        if (set[i] && g->kind[i] != P_LITERAL) set[i + 1] = 1;
}

/* Run the pattern over `name` (and then `extra` if non-zero); leaves the
 * reachable states in `set` and returns how many there are. */
static size_t run(const struct glob *g, const char *name, char extra,
                  unsigned char *set)
{
    size_t n = g->len + 1, live = 1;
    size_t namelen = strlen(name), total = namelen + (extra ? 1 : 0);
    unsigned char *next = xmalloc(n);

    memset(set, 0, n);
    set[0] = 1;
    closure(g, set);

    for (size_t pos = 0; pos < total && live; pos++) {
        char c = pos < namelen ? name[pos] : extra;
        memset(next, 0, n);
        live = 0;
        for (size_t i = 0; i < g->len; i++) {
            if (!set[i]) continue;
            switch (g->kind[i]) {
            case P_STAR:
                next[i] = 1;
                break;
            case P_PERCENT:
                if (c != g->sep) next[i] = 1;
                break;
            default:
                if (c == g->lit[i]) next[i + 1] = 1;
                break;
            }
        }
        closure(g, next);
        for (size_t i = 0; i < n; i++)
            live += next[i];
        memcpy(set, next, n);
    }
    free(next);
    return live;
}

int glob_match(const struct glob *g, const char *name)
{
    unsigned char *set = xmalloc(g->len + 1);
    int r = run(g, name, 0, set) && set[g->len];
    free(set);
    return r;
}

int glob_match_prefix(const struct glob *g, const char *prefix)
{
    unsigned char *set = xmalloc(g->len + 1);
    int r = run(g, prefix, 0, set) != 0;
    free(set);
    return r;
}

int glob_match_child(const struct glob *g, const char *name)
{
    unsigned char *set = xmalloc(g->len + 1);
    int r = 0;
    run(g, name, g->sep, set);
    /* A child has a non-empty last component, so the accepting state
     * right after the separator is not enough: some pattern must be left
     * to consume it, or a wildcard must still be active. */
    for (size_t i = 0; i < g->len; i++)
        if (set[i]) r = 1;
    free(set);
    return r;
}
