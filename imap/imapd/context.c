/* context.c -- RFC 5267 update contexts of the selected mailbox. */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "imap/imapd/context.h"
#include "imap/imapd/imapd_commands.h"
#include "imap/imapd/index.h"
#include "imap/imapd/search.h"
#include "imap/imapd/sort.h"
#include "lib/log.h"
#include "lib/xmalloc.h"

struct context {
    struct context *next;
    char *tag;
    int uid;                    /* report UIDs, not sequence numbers */
    struct search_program *prog;
    struct sort_set *set;       /* SORT: the result, in its order */
    int envelope;               /* the SORT criteria read the ENVELOPE */
    int modseq_key;             /* ... or the modseq, which flags move */
    struct seqset matched;      /* the result, as UIDs */
    struct seqset gone;         /* expunged members, to remove at the
                                 * next INDEX_REPORT_DONE (UID contexts) */
    uint32_t last_uid;          /* messages decided up to this UID */
    uint64_t last_modseq;       /* ... and up to this modseq */
    int64_t last_time;          /* OLDER / YOUNGER: when they last
                                 * counted from (0: no such key) */
};

struct context_list {
    struct context *head;
    int count;
};

/* --- helpers --- */

void context_write_ordered(struct buf *out, const uint32_t *nums, size_t n)
{
    size_t i = 0;

    while (i < n) {
        size_t j = i;
        while (j + 1 < n && nums[j + 1] == nums[j] + 1)
            j++;
        if (i)
            buf_putc(out, ',');
        if (j > i)
            buf_printf(out, "%u:%u", nums[i], nums[j]);
        else
            buf_printf(out, "%u", nums[i]);
        i = j + 1;
    }
}

size_t context_partial(int64_t lo, int64_t hi, size_t count, size_t *first)
{
    int64_t a, b, n = (int64_t)count;

    *first = 0;
    if (lo > 0) {
        a = lo;                 /* 1-based, both ends included */
        b = hi < n ? hi : n;
    } else {
        /* RFC 9394: -1 is the last result, -2 the one before. */
        a = n + 1 + hi;
        b = n + 1 + lo;
        if (a < 1)
            a = 1;
    }
    if (b < a)
        return 0;
    *first = (size_t)(a - 1);
    return (size_t)(b - a + 1);
}

struct uid_pos {
    uint32_t uid;
    size_t pos;
};

static int compare_uid_pos(const void *a, const void *b)
{
    uint32_t x = ((const struct uid_pos *)a)->uid;
    uint32_t y = ((const struct uid_pos *)b)->uid;

    return x < y ? -1 : x > y;
}

/* Mark in keep_old[] / keep_new[] the messages of `old` that also are in
 * `new` and form a longest run in the same relative order: they need not
 * move.  Patience sorting over their positions in `new`. */
static void mark_kept(const uint32_t *old, size_t nold, const uint32_t *new,
                      size_t nnew, char *keep_old, char *keep_new)
{
    struct uid_pos *byuid = xmalloc((nnew ? nnew : 1) * sizeof(*byuid));
    size_t *newpos = xmalloc((nold ? nold : 1) * sizeof(*newpos));
    size_t *tails = xmalloc((nold ? nold : 1) * sizeof(*tails));
    size_t *prev = xmalloc((nold ? nold : 1) * sizeof(*prev));
    size_t i, ntails = 0;
    const size_t none = (size_t)-1;

    for (i = 0; i < nnew; i++) {
        byuid[i].uid = new[i];
        byuid[i].pos = i;
    }
    qsort(byuid, nnew, sizeof(*byuid), compare_uid_pos);
    for (i = 0; i < nold; i++) {
        struct uid_pos key = { old[i], 0 }, *hit;

        hit = nnew ? bsearch(&key, byuid, nnew, sizeof(*byuid),
                             compare_uid_pos) : NULL;
        newpos[i] = hit ? hit->pos : none;
    }
    /* tails[k]: the old index ending the best increasing run of length
     * k+1 seen so far (smallest new position). */
    for (i = 0; i < nold; i++) {
        size_t lo = 0, hi = ntails;

        if (newpos[i] == none)
            continue;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (newpos[tails[mid]] < newpos[i])
                lo = mid + 1;
            else
                hi = mid;
        }
        prev[i] = lo ? tails[lo - 1] : none;
        tails[lo] = i;
        if (lo == ntails)
            ntails++;
    }
    memset(keep_old, 0, nold);
    memset(keep_new, 0, nnew);
    for (i = ntails ? tails[ntails - 1] : none; i != none; i = prev[i]) {
        keep_old[i] = 1;
        keep_new[newpos[i]] = 1;
    }
    free(byuid);
    free(newpos);
    free(tails);
    free(prev);
}

/* Append " NAME (pos set pos set ...)" for the runs of unmarked messages
 * of `list`; removal positions count what earlier runs took away. */
static void write_runs(struct buf *out, const char *name,
                       const uint32_t *list, size_t n, const char *kept,
                       int removing, uint32_t (*num)(void *, uint32_t),
                       void *rock)
{
    uint32_t *nums = xmalloc((n ? n : 1) * sizeof(*nums));
    size_t i = 0, taken = 0;
    int first = 1;

    while (i < n) {
        size_t j, k = 0;

        if (kept[i]) {
            i++;
            continue;
        }
        for (j = i; j < n && !kept[j]; j++) {
            uint32_t v = num(rock, list[j]);
            if (v)
                nums[k++] = v;
        }
        if (k) {
            if (first)
                buf_printf(out, " %s (", name);
            else
                buf_putc(out, ' ');
            buf_printf(out, "%zu ", i - (removing ? taken : 0) + 1);
            context_write_ordered(out, nums, k);
            first = 0;
        }
        taken += j - i;
        i = j;
    }
    if (!first)
        buf_putc(out, ')');
    free(nums);
}

void context_diff(const uint32_t *old, size_t nold, const uint32_t *new,
                  size_t nnew, uint32_t (*num)(void *rock, uint32_t uid),
                  void *rock, struct buf *out)
{
    char *keep_old = xmalloc(nold ? nold : 1);
    char *keep_new = xmalloc(nnew ? nnew : 1);

    mark_kept(old, nold, new, nnew, keep_old, keep_new);
    write_runs(out, "REMOVEFROM", old, nold, keep_old, 1, num, rock);
    write_runs(out, "ADDTO", new, nnew, keep_new, 0, num, rock);
    free(keep_old);
    free(keep_new);
}

/* --- one context --- */

struct numbering {
    struct index_view *v;
    int uid;
};

static uint32_t number_of(void *rock, uint32_t uid)
{
    const struct numbering *nb = rock;

    return nb->uid ? uid : index_msgno(nb->v, uid);
}

static uint32_t view_uid(void *rock, uint32_t msgno)
{
    return index_uid(rock, msgno);
}

static void context_free(struct context *c)
{
    free(c->tag);
    search_free(&c->prog);
    sort_set_free(&c->set);
    seqset_fini(&c->matched);
    seqset_fini(&c->gone);
    free(c);
}

static void seqset_remove_all(struct seqset *from, const struct seqset *what)
{
    for (size_t i = 0; i < what->count; i++)
        for (uint64_t u = what->ranges[i].low; u <= what->ranges[i].high;
             u++)
            seqset_remove(from, (uint32_t)u);
}

static void seqset_add_all(struct seqset *to, const struct seqset *what)
{
    for (size_t i = 0; i < what->count; i++)
        seqset_add_range(to, what->ranges[i].low, what->ranges[i].high);
}

/* The set's order as UIDs; *n gets their number. */
static uint32_t *set_order(const struct sort_set *set, size_t *n)
{
    size_t i, count = sort_set_count(set);
    uint32_t *uids = xmalloc((count ? count : 1) * sizeof(*uids));

    for (i = 0; i < count; i++)
        uids[i] = sort_set_item(set, i)->uid;
    *n = count;
    return uids;
}

struct filter_rock {
    const struct seqset *drop;
    struct index_view *v;
    int modseq_key;
};

static int keep_item(struct sort_item *it, void *rock)
{
    struct filter_rock *fr = rock;
    uint32_t msgno;

    if (seqset_contains(fr->drop, it->uid))
        return 0;
    if (fr->modseq_key && (msgno = index_msgno(fr->v, it->uid)))
        it->modseq = index_msg(fr->v, msgno)->modseq;
    return 1;
}

/* Tell the client that `drop` left the result and `add` joined it.  For
 * a sorted context the set already holds the added messages and `old`
 * is its order before them (NULL: the set's order now). */
static void context_emit(struct context *c, struct index_view *v,
                         struct protstream *out, const struct seqset *drop,
                         const struct seqset *add, uint32_t *old, size_t nold)
{
    struct numbering nb = { v, c->uid };
    struct buf line = BUF_INITIALIZER;

    buf_printf(&line, "* ESEARCH (TAG \"%s\")%s", c->tag,
               c->uid ? " UID" : "");
    if (c->set) {
        struct filter_rock fr = { drop, v, c->modseq_key };
        uint32_t *new;
        size_t nnew, len = line.len;

        if (!old)
            old = set_order(c->set, &nold);
        sort_set_filter(c->set, keep_item, &fr);
        sort_set_sort(c->set);
        new = set_order(c->set, &nnew);
        context_diff(old, nold, new, nnew, number_of, &nb, &line);
        free(new);
        free(old);
        if (line.len == len)
            buf_reset(&line);
    } else {
        /* Mailbox order: position 0, the client keeps the order. */
        struct seqset nums = SEQSET_INITIALIZER;
        const struct seqset *which[2] = { drop, add };
        const char *names[2] = { "REMOVEFROM", "ADDTO" };
        int any = 0;

        for (int k = 0; k < 2; k++) {
            const struct seqset *w = which[k];

            seqset_reset(&nums);
            for (uint32_t u = seqset_first(w); u; u = seqset_next(w, u)) {
                uint32_t n = number_of(&nb, u);
                if (n)
                    seqset_add(&nums, n);
            }
            if (!nums.count)
                continue;
            buf_printf(&line, " %s (0 ", names[k]);
            seqset_format(&nums, &line);
            buf_putc(&line, ')');
            any = 1;
        }
        seqset_fini(&nums);
        if (!any)
            buf_reset(&line);
    }
    seqset_remove_all(&c->matched, drop);
    seqset_add_all(&c->matched, add);
    if (line.len) {
        buf_appendcstr(&line, "\r\n");
        prot_write(out, line.s, line.len);
    }
    buf_free(&line);
}

/* Just before EXPUNGE responses: a context of sequence numbers removes
 * its expunged members while their numbers still hold; one of UIDs
 * keeps them for its next update, so that one response says it all. */
static void context_expunges(struct context *c, struct index_view *v,
                             struct protstream *out)
{
    struct seqset drop = SEQSET_INITIALIZER, none = SEQSET_INITIALIZER;
    uint32_t msgno, count = index_count(v);

    for (msgno = 1; msgno <= count; msgno++) {
        const struct index_msg *m = index_msg(v, msgno);

        if (m->expunged && seqset_contains(&c->matched, m->uid))
            seqset_add(c->uid ? &c->gone : &drop, m->uid);
    }
    if (drop.count)
        context_emit(c, v, out, &drop, &none, NULL, 0);
    seqset_fini(&drop);
}

/* After EXISTS and FETCH: decide again every message that is new or
 * whose modseq rose since the last look, and report the difference. */
static void context_refresh(struct context *c, struct index_view *v,
                            struct protstream *out)
{
    struct seqset drop = c->gone, add = SEQSET_INITIALIZER;
    uint32_t msgno, count = index_count(v), maxuid = c->last_uid;
    uint64_t maxmodseq = c->last_modseq;
    struct index_record rec;
    struct buf scratch = BUF_INITIALIZER;
    uint32_t *old = NULL;
    size_t nold = 0;
    int locked = 0, moved = 0, all = 0;
    int64_t now;

    memset(&c->gone, 0, sizeof(c->gone));
    /* RFC 5032 2: a result that depends on the time is decided again,
     * whole, when the clock has moved on. */
    if (c->last_time && (now = (int64_t)time(NULL)) != c->last_time) {
        search_rebase_time(c->prog, now);
        c->last_time = now;
        all = 1;
    }
    for (msgno = 1; msgno <= count; msgno++) {
        const struct index_msg *m = index_msg(v, msgno);
        int in = seqset_contains(&c->matched, m->uid), match;

        if (m->expunged) {
            if (in)
                seqset_add(&drop, m->uid);
            continue;
        }
        if (!all && m->uid <= c->last_uid && m->modseq <= c->last_modseq)
            continue;
        if (!locked) {
            if (index_lock(v)) {
                /* Try again at the next report. */
                log_error("%s: cannot lock for update context %s",
                          index_intname(v), c->tag);
                seqset_add_all(&c->gone, &drop);
                goto done;
            }
            locked = 1;
            /* Keywords may have been created since. */
            search_bind(c->prog, count, index_uid(v, count),
                        index_keywords(v));
        }
        if (m->uid > maxuid)
            maxuid = m->uid;
        if (m->modseq > maxmodseq)
            maxmodseq = m->modseq;
        match = imapd_search_match(v, c->prog, msgno, &rec);
        if (in && !match) {
            seqset_add(&drop, m->uid);
        } else if (!in && match) {
            seqset_add(&add, m->uid);
            if (c->set) {
                if (!old)
                    old = set_order(c->set, &nold);
                imapd_sort_add(c->set, v, &rec, 0, c->envelope, &scratch);
            }
        } else if (in && match && c->modseq_key) {
            moved = 1;
        }
    }
    c->last_uid = maxuid;
    c->last_modseq = maxmodseq;
    if (drop.count || add.count || moved) {
        context_emit(c, v, out, &drop, &add, old, nold);
        old = NULL;
    }
done:
    if (locked)
        index_unlock(v);
    free(old);
    buf_free(&scratch);
    seqset_fini(&drop);
    seqset_fini(&add);
}

/* --- the view's contexts --- */

static void contexts_report(struct index_view *v, struct protstream *out,
                            enum index_report_phase phase, void *rock)
{
    struct context_list *l = rock;

    if (prot_error(out))
        return;
    for (struct context *c = l->head; c; c = c->next) {
        if (phase == INDEX_REPORT_EXPUNGES)
            context_expunges(c, v, out);
        else
            context_refresh(c, v, out);
    }
}

static void contexts_free(void *rock)
{
    struct context_list *l = rock;

    while (l->head) {
        struct context *c = l->head;
        l->head = c->next;
        context_free(c);
    }
    free(l);
}

static const struct index_watcher watcher = { contexts_report, contexts_free };

static struct context_list *contexts_of(struct index_view *v)
{
    return v ? index_watcher_rock(v) : NULL;
}

int context_count(struct index_view *v)
{
    struct context_list *l = contexts_of(v);

    return l ? l->count : 0;
}

static struct context **context_find(struct context_list *l, const char *tag)
{
    struct context **cp;

    for (cp = &l->head; *cp; cp = &(*cp)->next)
        if (!strcmp((*cp)->tag, tag))
            return cp;
    return NULL;
}

int context_exists(struct index_view *v, const char *tag)
{
    struct context_list *l = contexts_of(v);

    return l && context_find(l, tag);
}

void context_add(struct index_view *v, const char *tag, int uid,
                 struct search_program **progp,
                 const struct sort_criteria *crit, struct sort_set **setp,
                 const uint32_t *uids, size_t n)
{
    struct context_list *l = contexts_of(v);
    struct context *c = xzmalloc(sizeof(*c));
    uint32_t msgno, count = index_count(v);
    size_t i;

    c->tag = xstrdup(tag);
    c->uid = uid;
    c->prog = *progp;
    *progp = NULL;
    search_freeze(c->prog, count, view_uid, v);
    if (search_rebase_time(c->prog, (int64_t)time(NULL)))
        c->last_time = (int64_t)time(NULL);
    if (crit) {
        c->set = *setp;
        *setp = NULL;
        c->envelope = sort_needs_envelope(crit);
        for (int k = 0; k < crit->n; k++)
            if (crit->c[k].key == SORT_MODSEQ)
                c->modseq_key = 1;
        for (i = 0; i < sort_set_count(c->set); i++)
            seqset_add(&c->matched, sort_set_item(c->set, i)->uid);
    } else {
        for (i = 0; i < n; i++)
            seqset_add(&c->matched, uids[i]);
    }
    for (msgno = 1; msgno <= count; msgno++) {
        const struct index_msg *m = index_msg(v, msgno);
        if (m->uid > c->last_uid)
            c->last_uid = m->uid;
        if (m->modseq > c->last_modseq)
            c->last_modseq = m->modseq;
    }
    if (!l) {
        l = xzmalloc(sizeof(*l));
        index_set_watcher(v, &watcher, l);
    }
    c->next = l->head;
    l->head = c;
    l->count++;
}

int context_cancel(struct index_view *v, const char *tag)
{
    struct context_list *l = contexts_of(v);
    struct context **cp, *c;

    if (!l || !(cp = context_find(l, tag)))
        return -1;
    c = *cp;
    *cp = c->next;
    context_free(c);
    /* Without contexts, reports need not look at the view for us. */
    if (!--l->count)
        index_set_watcher(v, NULL, NULL);
    return 0;
}
