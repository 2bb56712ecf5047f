/* thread.c -- THREAD=ORDEREDSUBJECT, THREAD=REFERENCES (RFC 5256 3) and
 * THREAD=REFS; see thread.h. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "imap/imapd/thread.h"
#include "lib/hash.h"
#include "lib/xmalloc.h"

int thread_alg_lookup(const char *name, enum thread_alg *alg)
{
    if (!strcasecmp(name, "ORDEREDSUBJECT"))
        *alg = THREAD_ORDEREDSUBJECT;
    else if (!strcasecmp(name, "REFERENCES"))
        *alg = THREAD_REFERENCES;
    else if (!strcasecmp(name, "REFS"))
        *alg = THREAD_REFS;
    else
        return -1;
    return 0;
}

/* --- message ids --- */

int thread_parse_msgids(const char *value, size_t len, strarray_t *ids,
                        int max)
{
    const char *p = value, *end = value + len;
    struct buf id = BUF_INITIALIZER;
    int found = 0, depth;

    while (p < end && (max <= 0 || found < max)) {
        if (*p == '(') {
            /* a comment, possibly nested, may hold a lookalike <...> */
            for (depth = 0; p < end; p++) {
                if (*p == '\\' && p + 1 < end)
                    p++;
                else if (*p == '(')
                    depth++;
                else if (*p == ')' && !--depth)
                    break;
            }
            p++;
            continue;
        }
        if (*p != '<') {
            p++;
            continue;
        }
        buf_reset(&id);
        for (p++; p < end && *p != '>'; p++) {
            if (*p == '\\' && p + 1 < end)
                buf_putc(&id, *++p);
            else if (*p == '<')
                buf_reset(&id);     /* "<<id>" : start again */
            else if (*p != '"' && *p != ' ' && *p != '\t' && *p != '\r' &&
                     *p != '\n')
                buf_putc(&id, *p);
        }
        if (p >= end)
            break;
        p++;
        if (id.len && memchr(id.s, '@', id.len)) {
            strarray_append(ids, buf_cstring(&id));
            found++;
        }
    }
    buf_free(&id);
    return found;
}

/* --- the tree --- */

struct node {
    const struct thread_msg *msg;       /* NULL: a dummy */
    struct node *parent, *child, *prev, *next;
    struct node *all;                   /* every node, for the walks */
    int64_t newest;                     /* REFS, roots: newest arrival */
};

struct forest {
    struct node *all;
    struct node *roots;                 /* the root's children */
};

static struct node *node_new(struct forest *f, const struct thread_msg *msg)
{
    struct node *n = xzmalloc(sizeof(*n));

    n->msg = msg;
    n->all = f->all;
    f->all = n;
    return n;
}

static void forest_fini(struct forest *f)
{
    while (f->all) {
        struct node *n = f->all;
        f->all = n->all;
        free(n);
    }
}

static void unlink_node(struct node *n)
{
    if (n->prev)
        n->prev->next = n->next;
    else if (n->parent)
        n->parent->child = n->next;
    if (n->next)
        n->next->prev = n->prev;
    n->parent = n->prev = n->next = NULL;
}

/* Make `n` (without a parent) the first child of `parent`. */
static void add_child(struct node *parent, struct node *n)
{
    n->parent = parent;
    n->prev = NULL;
    n->next = parent->child;
    if (parent->child)
        parent->child->prev = n;
    parent->child = n;
}

/* Would making `parent` the parent of `n` close a loop? */
static int creates_loop(const struct node *parent, const struct node *n)
{
    for (const struct node *p = parent; p; p = p->parent)
        if (p == n)
            return 1;
    return 0;
}

/* The message a node sorts and is named by: itself, or for a dummy its
 * first child. */
static const struct thread_msg *node_msg(const struct node *n)
{
    while (n && !n->msg)
        n = n->child;
    return n ? n->msg : NULL;
}

/* Sent date, then (with `by_arrival`) arrival, then mailbox order; a
 * missing message first. */
static int compare_msgs_by(const struct thread_msg *a,
                           const struct thread_msg *b, int by_arrival)
{
    if (!a || !b)
        return a ? 1 : b ? -1 : 0;
    if (a->date != b->date)
        return a->date < b->date ? -1 : 1;
    if (by_arrival && a->internaldate != b->internaldate)
        return a->internaldate < b->internaldate ? -1 : 1;
    return a->msgno < b->msgno ? -1 : a->msgno > b->msgno;
}

static int compare_msgs(const struct thread_msg *a, const struct thread_msg *b)
{
    return compare_msgs_by(a, b, 0);
}

static int compare_nodes(const void *pa, const void *pb)
{
    const struct node *a = *(const struct node *const *)pa;
    const struct node *b = *(const struct node *const *)pb;
    return compare_msgs(node_msg(a), node_msg(b));
}

typedef int (*node_cmp)(const void *, const void *);

/* Sort a sibling list by `cmp` (compare_nodes: sent date, RFC 5256 2.2);
 * returns its head. */
static struct node *sort_list(struct node *head, struct node ***scratch,
                              size_t *alloc, node_cmp cmp)
{
    size_t n = 0, i;
    struct node *c;

    for (c = head; c; c = c->next)
        n++;
    if (n < 2)
        return head;
    if (n > *alloc) {
        *alloc = n;
        *scratch = xrealloc(*scratch, n * sizeof(**scratch));
    }
    for (i = 0, c = head; c; c = c->next)
        (*scratch)[i++] = c;
    qsort(*scratch, n, sizeof(**scratch), cmp);
    for (i = 0; i < n; i++) {
        (*scratch)[i]->prev = i ? (*scratch)[i - 1] : NULL;
        (*scratch)[i]->next = i + 1 < n ? (*scratch)[i + 1] : NULL;
    }
    return (*scratch)[0];
}

static struct node *sort_siblings(struct node *head, struct node ***scratch,
                                  size_t *alloc)
{
    return sort_list(head, scratch, alloc, compare_nodes);
}

/* The root's children form the forest's `roots` list: ordinary siblings
 * whose parent pointer stays NULL. */
static void root_add(struct forest *f, struct node *n)
{
    n->parent = NULL;
    n->prev = NULL;
    n->next = f->roots;
    if (f->roots)
        f->roots->prev = n;
    f->roots = n;
}

static void root_remove(struct forest *f, struct node *n)
{
    if (n->prev)
        n->prev->next = n->next;
    else
        f->roots = n->next;
    if (n->next)
        n->next->prev = n->prev;
    n->prev = n->next = NULL;
}

/* Append one thread member and what hangs below it. */
static void write_node(struct buf *out, const struct node *n)
{
    for (;;) {
        if (n->msg)
            buf_printf(out, "%u", n->msg->num);
        if (!n->child)
            return;
        if (n->msg)
            buf_putc(out, ' ');
        if (!n->child->next) {
            n = n->child;   /* a chain: "1 2 3" */
            continue;
        }
        for (const struct node *c = n->child; c; c = c->next) {
            buf_putc(out, '(');
            write_node(out, c);
            buf_putc(out, ')');
        }
        return;
    }
}

static void write_forest(const struct forest *f, struct buf *out)
{
    for (const struct node *n = f->roots; n; n = n->next) {
        buf_appendcstr(out, n == f->roots ? " (" : "(");
        write_node(out, n);
        buf_putc(out, ')');
    }
}

/* --- ORDEREDSUBJECT --- */

static int compare_subject_date(const void *pa, const void *pb)
{
    const struct thread_msg *a = *(const struct thread_msg *const *)pa;
    const struct thread_msg *b = *(const struct thread_msg *const *)pb;
    int r = strcmp(a->subject ? a->subject : "", b->subject ? b->subject : "");

    return r ? r : compare_msgs(a, b);
}

static void orderedsubject(struct forest *f, const struct thread_msg *msgs,
                           size_t n)
{
    const struct thread_msg **order = xmalloc(n * sizeof(*order));
    struct node *top = NULL, *last = NULL;
    struct node **scratch = NULL;
    size_t i, alloc = 0;

    for (i = 0; i < n; i++)
        order[i] = &msgs[i];
    qsort(order, n, sizeof(*order), compare_subject_date);
    for (i = 0; i < n; i++) {
        struct node *m = node_new(f, order[i]);
        if (top && !strcmp(top->msg->subject ? top->msg->subject : "",
                           order[i]->subject ? order[i]->subject : "")) {
            /* every later message is a child of the first: siblings */
            m->parent = top;
            m->prev = last;
            if (last)
                last->next = m;
            else
                top->child = m;
            last = m;
        } else {
            root_add(f, m);
            top = m;
            last = NULL;
        }
    }
    f->roots = sort_siblings(f->roots, &scratch, &alloc);
    free(scratch);
    free(order);
}

/* --- REFERENCES --- */

static struct node *id_node(struct forest *f, struct hash_table *ids,
                            const char *id)
{
    struct node *n = hash_lookup(ids, id);

    if (!n) {
        n = node_new(f, NULL);
        hash_insert(ids, id, n);
    }
    return n;
}

/* Step 1: link messages by their references. */
static void link_references(struct forest *f, struct hash_table *ids,
                            const struct thread_msg *msgs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const struct thread_msg *msg = &msgs[i];
        struct node *m = NULL, *prev = NULL;

        if (msg->msgid && msg->msgid[0]) {
            m = hash_lookup(ids, msg->msgid);
            if (m && !m->msg)
                m->msg = msg;       /* a dummy made by an earlier reference */
            else if (m)
                m = NULL;           /* a duplicate id: this one is unique */
            else
                hash_insert(ids, msg->msgid, m = node_new(f, msg));
        }
        if (!m)
            m = node_new(f, msg);

        /* (A) the references among themselves */
        for (int r = 0; msg->refs && r < msg->refs->count; r++) {
            struct node *ref = id_node(f, ids, msg->refs->data[r]);
            if (prev && ref != prev && !ref->parent &&
                !creates_loop(prev, ref))
                add_child(prev, ref);
            prev = ref;
        }
        /* (B) the message below its last reference, whatever it had */
        if (m->parent)
            unlink_node(m);
        if (prev && prev != m && !creates_loop(prev, m))
            add_child(prev, m);
    }
}

/* Steps 2 and 3: gather the parentless, prune the dummies. */
static void gather_and_prune(struct forest *f)
{
    struct node *n, *c;

    /* Dummies below the root go, their children taking their place;
     * processed in any order, each ends up under its nearest real
     * ancestor or in a root dummy, as the recursive walk would. */
    for (n = f->all; n; n = n->all) {
        if (n->msg || !n->parent)
            continue;
        struct node *parent = n->parent;
        while ((c = n->child)) {
            unlink_node(c);
            add_child(parent, c);
        }
        unlink_node(n);
    }
    for (n = f->all; n; n = n->all) {
        if (n->parent || n->prev || n == f->roots)
            continue;
        if (!n->msg) {
            if (!n->child)
                continue;               /* a dummy with nothing: gone */
            if (!n->child->next) {
                c = n->child;           /* a single child goes up */
                unlink_node(c);
                root_add(f, c);
                continue;
            }
        }
        root_add(f, n);
    }
}

static const char *thread_subject(const struct node *n)
{
    const struct thread_msg *m = n->msg ? n->msg : node_msg(n->child);
    return m && m->subject ? m->subject : "";
}

/* Step 5: gather the threads with the same base subject. */
static void merge_subjects(struct forest *f)
{
    struct hash_table table = HASH_TABLE_INITIALIZER;
    struct node *n, *next, *t, *c;
    const char *subj;

    hash_init(&table, 1024);
    for (n = f->roots; n; n = n->next) {
        subj = thread_subject(n);
        if (!*subj)
            continue;
        t = hash_lookup(&table, subj);
        if (!t || (t->msg && (!n->msg || (t->msg->is_reply &&
                                          !n->msg->is_reply))))
            hash_insert(&table, subj, n);
    }
    for (n = f->roots; n; n = next) {
        next = n->next;
        subj = thread_subject(n);
        if (!*subj)
            continue;
        t = hash_lookup(&table, subj);
        if (!t || t == n)
            continue;
        if (!t->msg && !n->msg) {
            root_remove(f, n);
            while ((c = n->child)) {
                unlink_node(c);
                add_child(t, c);
            }
        } else if (!t->msg ||
                   (n->msg && n->msg->is_reply && !t->msg->is_reply)) {
            root_remove(f, n);
            add_child(t, n);
        } else {
            struct node *dummy = node_new(f, NULL);
            /* the dummy takes the table message's place at the root */
            dummy->prev = t->prev;
            dummy->next = t->next;
            if (t->prev)
                t->prev->next = dummy;
            else
                f->roots = dummy;
            if (t->next)
                t->next->prev = dummy;
            if (next == t)
                next = dummy;
            t->prev = t->next = NULL;
            root_remove(f, n);
            add_child(dummy, t);
            add_child(dummy, n);
            hash_insert(&table, subj, dummy);
        }
    }
    hash_free(&table, NULL);
}

static void references(struct forest *f, const struct thread_msg *msgs,
                       size_t n)
{
    struct hash_table ids = HASH_TABLE_INITIALIZER;
    struct node **scratch = NULL, *m;
    size_t alloc = 0;

    hash_init(&ids, n * 2 + 16);
    link_references(f, &ids, msgs, n);
    hash_free(&ids, NULL);
    gather_and_prune(f);
    /* Step 4: a dummy sorts by its first child. */
    for (m = f->roots; m; m = m->next)
        if (!m->msg)
            m->child = sort_siblings(m->child, &scratch, &alloc);
    f->roots = sort_siblings(f->roots, &scratch, &alloc);
    merge_subjects(f);
    /* Step 6: only root dummies sort by a child, so every list below
     * the root can be sorted first, then the root. */
    for (m = f->all; m; m = m->all)
        if (m->child)
            m->child = sort_siblings(m->child, &scratch, &alloc);
    f->roots = sort_siblings(f->roots, &scratch, &alloc);
    free(scratch);
}

/* --- REFS --- */

/* Within a thread: sent date, then arrival, then mailbox order, as Cyrus
 * sorts REFS threads. */
static int compare_refs_nodes(const void *pa, const void *pb)
{
    return compare_msgs_by(node_msg(*(const struct node *const *)pa),
                           node_msg(*(const struct node *const *)pb), 1);
}

/* Threads: the newest arrival in them, then the root's mailbox order, a
 * root without a message first (Cyrus gives it none). */
static int compare_refs_roots(const void *pa, const void *pb)
{
    const struct node *a = *(const struct node *const *)pa;
    const struct node *b = *(const struct node *const *)pb;
    uint32_t ma = a->msg ? a->msg->msgno : 0, mb = b->msg ? b->msg->msgno : 0;

    if (a->newest != b->newest)
        return a->newest < b->newest ? -1 : 1;
    return ma < mb ? -1 : ma > mb;
}

/* The newest arrival in the thread below `root`; walked without
 * recursion, since a reply chain can be as long as the mailbox. */
static int64_t newest_arrival(const struct node *root)
{
    const struct node *n = root;
    int64_t t = INT64_MIN;

    for (;;) {
        if (n->msg && n->msg->internaldate > t)
            t = n->msg->internaldate;
        if (n->child) {
            n = n->child;
            continue;
        }
        while (n != root && !n->next)
            n = n->parent;
        if (n == root)
            return t;
        n = n->next;
    }
}

static void refs(struct forest *f, const struct thread_msg *msgs, size_t n)
{
    struct hash_table ids = HASH_TABLE_INITIALIZER;
    struct node **scratch = NULL, *m;
    size_t alloc = 0;

    hash_init(&ids, n * 2 + 16);
    link_references(f, &ids, msgs, n);
    hash_free(&ids, NULL);
    gather_and_prune(f);
    for (m = f->all; m; m = m->all)
        if (m->child)
            m->child = sort_list(m->child, &scratch, &alloc,
                                 compare_refs_nodes);
    for (m = f->roots; m; m = m->next)
        m->newest = newest_arrival(m);
    f->roots = sort_list(f->roots, &scratch, &alloc, compare_refs_roots);
    free(scratch);
}

void thread_build(enum thread_alg alg, const struct thread_msg *msgs,
                  size_t n, struct buf *out)
{
    struct forest f = { NULL, NULL };

    if (!n)
        return;
    if (alg == THREAD_ORDEREDSUBJECT)
        orderedsubject(&f, msgs, n);
    else if (alg == THREAD_REFS)
        refs(&f, msgs, n);
    else
        references(&f, msgs, n);
    write_forest(&f, out);
    forest_fini(&f);
}
