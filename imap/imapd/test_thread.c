/* test_thread.c -- message-id parsing and the RFC 5256 threading
 * algorithms (and REFS), on hand-made message descriptions. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "imap/imapd/thread.h"
#include "lib/test/unit.h"

static void test_msgids(void)
{
    strarray_t ids = STRARRAY_INITIALIZER;
    const char *v;

    v = "<a@x> <b@y>\r\n\t<c@z>";
    CHECK_INTEQ(thread_parse_msgids(v, strlen(v), &ids, 0), 3);
    CHECK_STREQ(strarray_nth(&ids, 0), "a@x");
    CHECK_STREQ(strarray_nth(&ids, 2), "c@z");
    strarray_truncate(&ids, 0);

    /* quoting is not part of the id (RFC 5256's example) */
    v = "<\"01KF8JCEOCBS0045PS\"@xxx.yyy.com>";
    CHECK_INTEQ(thread_parse_msgids(v, strlen(v), &ids, 0), 1);
    CHECK_STREQ(strarray_nth(&ids, 0), "01KF8JCEOCBS0045PS@xxx.yyy.com");
    strarray_truncate(&ids, 0);

    /* comments are skipped, ids without "@" are not valid, max stops */
    v = "(see <fake@x>) junk <noat> <real@x> <second@x>";
    CHECK_INTEQ(thread_parse_msgids(v, strlen(v), &ids, 1), 1);
    CHECK_STREQ(strarray_nth(&ids, 0), "real@x");
    strarray_truncate(&ids, 0);
    v = "<a@x> (nested (comment <b@x>)) <c@x";
    CHECK_INTEQ(thread_parse_msgids(v, strlen(v), &ids, 0), 1);
    strarray_truncate(&ids, 0);
    v = "";
    CHECK_INTEQ(thread_parse_msgids(v, 0, &ids, 0), 0);
    /* case matters in ids */
    v = "<A@X>";
    thread_parse_msgids(v, strlen(v), &ids, 0);
    CHECK_STREQ(strarray_nth(&ids, 0), "A@X");
    strarray_fini(&ids);
}

struct spec {
    const char *subject;    /* already the casemapped base subject */
    int reply;
    int64_t date;
    const char *msgid;
    const char *refs;       /* space-separated ids, or NULL */
};

/* Thread the messages of `sp`, arriving at the times `arrival` (NULL:
 * at their sent dates), and compare with `want`. */
static void run_arrival(enum thread_alg alg, const struct spec *sp,
                        const int64_t *arrival, size_t n, const char *want)
{
    struct thread_msg *msgs = calloc(n ? n : 1, sizeof(*msgs));
    strarray_t *refs = calloc(n ? n : 1, sizeof(*refs));
    struct buf out = BUF_INITIALIZER;

    for (size_t i = 0; i < n; i++) {
        msgs[i].num = msgs[i].msgno = (uint32_t)i + 1;
        msgs[i].date = sp[i].date;
        msgs[i].internaldate = arrival ? arrival[i] : sp[i].date;
        msgs[i].subject = sp[i].subject;
        msgs[i].is_reply = sp[i].reply;
        msgs[i].msgid = sp[i].msgid;
        if (sp[i].refs) {
            strarray_t *split = strarray_split(sp[i].refs, " ");
            refs[i] = *split;
            free(split);
            msgs[i].refs = &refs[i];
        }
    }
    thread_build(alg, msgs, n, &out);
    CHECK_STREQ(buf_cstring(&out), want);
    for (size_t i = 0; i < n; i++)
        strarray_fini(&refs[i]);
    free(refs);
    free(msgs);
    buf_free(&out);
}

static void run(enum thread_alg alg, const struct spec *sp, size_t n,
                const char *want)
{
    run_arrival(alg, sp, NULL, n, want);
}

static void test_algorithm_names(void)
{
    enum thread_alg alg;

    CHECK_INTEQ(thread_alg_lookup("references", &alg), 0);
    CHECK_INTEQ(alg, THREAD_REFERENCES);
    CHECK_INTEQ(thread_alg_lookup("OrderedSubject", &alg), 0);
    CHECK_INTEQ(alg, THREAD_ORDEREDSUBJECT);
    CHECK_INTEQ(thread_alg_lookup("refs", &alg), 0);
    CHECK_INTEQ(alg, THREAD_REFS);
    CHECK_INTEQ(thread_alg_lookup("REF", &alg), -1);
    CHECK_INTEQ(thread_alg_lookup("", &alg), -1);
}

static void test_orderedsubject(void)
{
    static const struct spec s[] = {
        { "A", 0, 10, NULL, NULL },   /* 1 */
        { "A", 1, 30, NULL, NULL },   /* 2 */
        { "B", 0, 20, NULL, NULL },   /* 3 */
        { "A", 1, 25, NULL, NULL },   /* 4 */
        { "B", 1, 50, NULL, NULL },   /* 5 */
        { "", 0, 5, NULL, NULL },     /* 6 */
        { "", 0, 60, NULL, NULL },    /* 7 */
    };
    /* threads by their first message's date; children all siblings */
    run(THREAD_ORDEREDSUBJECT, s, 7, " (6 7)(1 (4)(2))(3 5)");
    run(THREAD_ORDEREDSUBJECT, s, 0, "");
    run(THREAD_ORDEREDSUBJECT, s, 1, " (1)");
}

static void test_references_tree(void)
{
    static const struct spec s[] = {
        { "HELLO", 0, 10, "a@x", NULL },                /* 1 */
        { "HELLO", 1, 20, "b@x", "a@x" },               /* 2 */
        { "HELLO", 1, 30, "c@x", "a@x b@x" },           /* 3 */
        { "HELLO", 1, 25, "d@x", "a@x" },               /* 4 */
        { "HELLO", 1, 40, "e@x", "a@x d@x" },           /* 5 */
        { "HELLO", 1, 35, "f@x", "a@x d@x e@x" },       /* 6 */
    };
    run(THREAD_REFERENCES, s, 6, " (1 (2 3)(4 5 6))");
}

static void test_references_rfc_example(void)
{
    /* The RFC's "(3 6 (4 23)(44 7 96))" shape: 3 > 6 > {4 > 23,
     * 44 > 7 > 96}, the messages out of date order in the mailbox. */
    static const struct spec s[] = {
        { "T", 1, 40, "4", "3 6" },          /* 1 "4" */
        { "T", 0, 10, "3", NULL },           /* 2 "3" */
        { "T", 1, 20, "6", "3" },            /* 3 "6" */
        { "T", 1, 70, "96", "3 6 44 7" },    /* 4 "96" */
        { "T", 1, 60, "7", "3 6 44" },       /* 5 "7" */
        { "T", 1, 50, "44", "3 6" },         /* 6 "44" */
        { "T", 1, 45, "23", "3 6 4" },       /* 7 "23" */
        { "U", 0, 5, "2", NULL },            /* 8 "2" */
    };
    run(THREAD_REFERENCES, s, 8, " (8)(2 3 (1 7)(6 5 4))");
}

static void test_references_dummies(void)
{
    /* siblings under a missing parent: "((3)(5))" */
    static const struct spec two[] = {
        { "X", 0, 20, "1@x", "gone@x" },
        { "Y", 0, 10, "2@x", "gone@x" },
        { "Z", 0, 15, "3@x", NULL },
    };
    run(THREAD_REFERENCES, two, 3, " ((2)(1))(3)");

    /* a lone child of a dummy chain goes to the top */
    static const struct spec one[] = {
        { "X", 0, 20, "1@x", "g1@x g2@x g3@x" },
    };
    run(THREAD_REFERENCES, one, 1, " (1)");

    /* a dummy below a message is spliced out */
    static const struct spec mid[] = {
        { "X", 0, 10, "a@x", NULL },
        { "X", 1, 30, "c@x", "a@x gone@x" },
        { "X", 1, 20, "d@x", "a@x gone@x" },
    };
    run(THREAD_REFERENCES, mid, 3, " (1 (3)(2))");
}

static void test_references_relink_and_loops(void)
{
    /* 1.B: 2's References put b under a; b's own references then break
     * that link, and its new parent c (its own child) would close a
     * loop, so b ends without a parent; the subjects then join a and b
     * under a dummy. */
    static const struct spec relink[] = {
        { "X", 0, 10, "a@x", NULL },
        { "X", 0, 20, "c@x", "a@x b@x" },
        { "X", 0, 30, "b@x", "a@x c@x" },
    };
    run(THREAD_REFERENCES, relink, 3, " ((1)(3 2))");

    /* 1.B: a message already placed by another's (truncated) References
     * moves under its own last reference */
    static const struct spec moved[] = {
        { "X", 0, 10, "a@x", NULL },
        { "X", 0, 20, "p@x", NULL },
        { "Y", 0, 30, "r@x", "a@x m@x" },
        { "Y", 0, 40, "m@x", "p@x" },
    };
    run(THREAD_REFERENCES, moved, 4, " ((1)(2 4 3))");

    static const struct spec loop[] = {
        { "A", 0, 10, "a@x", "b@x" },
        { "B", 0, 20, "b@x", "a@x" },
        { "C", 0, 30, "c@x", "c@x" },   /* refers to itself */
    };
    run(THREAD_REFERENCES, loop, 3, " (2 1)(3)");

    /* a duplicated id: only the first message owns it */
    static const struct spec dup[] = {
        { "A", 0, 10, "d@x", NULL },
        { "B", 0, 20, "d@x", NULL },
        { "C", 1, 30, "r@x", "d@x" },
    };
    run(THREAD_REFERENCES, dup, 3, " (1 3)(2)");
}

static void test_references_subjects(void)
{
    /* 5.C: a reply joins the original; two originals share a dummy */
    static const struct spec s[] = {
        { "TOPIC", 1, 10, "1@x", NULL },
        { "TOPIC", 0, 20, "2@x", NULL },
        { "OTHER", 0, 30, "3@x", NULL },
        { "OTHER", 0, 40, "4@x", NULL },
        { "", 0, 5, "5@x", NULL },         /* empty subjects never merge */
        { "", 0, 6, "6@x", NULL },
    };
    run(THREAD_REFERENCES, s, 6, " (5)(6)(2 1)((3)(4))");

    /* a dummy thread and a message with its subject: the message goes
     * under the dummy */
    static const struct spec d[] = {
        { "S", 0, 10, "1@x", "p@x" },
        { "S", 0, 20, "2@x", "p@x" },
        { "S", 0, 30, "3@x", NULL },
    };
    run(THREAD_REFERENCES, d, 3, " ((1)(2)(3))");

    /* two dummies with one subject: children merged */
    static const struct spec dd[] = {
        { "S", 0, 10, "1@x", "p@x" },
        { "S", 0, 20, "2@x", "p@x" },
        { "S", 0, 15, "3@x", "q@x" },
        { "S", 0, 25, "4@x", "q@x" },
    };
    run(THREAD_REFERENCES, dd, 4, " ((1)(3)(2)(4))");
}

static void test_refs_newest_thread_last(void)
{
    static const struct spec s[] = {
        { "A", 0, 10, "a@x", NULL },        /* 1 */
        { "B", 0, 20, "b@x", NULL },        /* 2 */
        { "A", 1, 30, "c@x", "a@x" },       /* 3 */
    };
    /* REFERENCES orders threads by their first message's date, REFS by
     * the newest arrival in them */
    run(THREAD_REFERENCES, s, 3, " (1 3)(2)");
    run(THREAD_REFS, s, 3, " (2)(1 3)");
    /* arrival, not the sent date, orders the threads */
    static const int64_t late_b[] = { 100, 400, 300 };
    run_arrival(THREAD_REFS, s, late_b, 3, " (1 3)(2)");
    run(THREAD_REFS, s, 0, "");
    run(THREAD_REFS, s, 1, " (1)");
}

static void test_refs_no_subject_grouping(void)
{
    static const struct spec s[] = {
        { "TOPIC", 1, 10, "2@x", NULL },    /* "Re: topic" */
        { "TOPIC", 0, 20, "1@x", NULL },    /* "topic" */
        { "TOPIC", 0, 5, "3@x", NULL },
    };
    run(THREAD_REFERENCES, s, 3, " ((3 1)(2))");
    run(THREAD_REFS, s, 3, " (3)(1)(2)");
}

static void test_refs_children_and_dummies(void)
{
    static const struct spec s[] = {
        { "P", 0, 10, "p@x", NULL },            /* 1 */
        { "P", 1, 20, "r1@x", "p@x" },          /* 2 */
        { "P", 1, 20, "r2@x", "p@x" },          /* 3 */
        { "Q", 0, 30, "q1@x", "gone@x" },       /* 4 */
        { "Q", 0, 25, "q2@x", "gone@x" },       /* 5 */
    };
    /* equal sent dates: arrival decides, then mailbox order; the absent
     * parent of 4 and 5 is a dummy whose thread counts their newest
     * arrival */
    static const int64_t arr[] = { 100, 300, 200, 150, 120 };
    run_arrival(THREAD_REFS, s, arr, 5, " ((5)(4))(1 (3)(2))");
    static const int64_t same[] = { 100, 200, 200, 150, 400 };
    run_arrival(THREAD_REFS, s, same, 5, " (1 (2)(3))((5)(4))");
    /* a tie between threads: a dummy first, then the root's mailbox
     * order */
    static const int64_t tie[] = { 100, 300, 200, 300, 120 };
    run_arrival(THREAD_REFS, s, tie, 5, " ((5)(4))(1 (3)(2))");
    static const struct spec two[] = {
        { "X", 0, 10, "x@x", NULL },
        { "Y", 0, 5, "y@x", NULL },
    };
    static const int64_t both[] = { 100, 100 };
    run_arrival(THREAD_REFS, two, both, 2, " (1)(2)");
}

/* Every message appears once and the parentheses balance, whatever the
 * references say. */
static void check_random(enum thread_alg alg)
{
    enum { N = 3000 };
    struct thread_msg *msgs = calloc(N, sizeof(*msgs));
    strarray_t *refs = calloc(N, sizeof(*refs));
    char (*ids)[16] = calloc(N, sizeof(*ids));
    static const char *const subjects[] = { "A", "B", "C", "" };
    unsigned seed = 12345;
    struct buf out = BUF_INITIALIZER;
    int *seen = calloc(N + 1, sizeof(int)), depth = 0, bad = 0;

    for (int i = 0; i < N; i++) {
        seed = seed * 1103515245 + 12345;
        snprintf(ids[i], sizeof(ids[i]), "%u@x", (seed >> 8) % (N / 2));
        msgs[i].num = msgs[i].msgno = (uint32_t)i + 1;
        msgs[i].date = (seed >> 4) % 100;
        msgs[i].internaldate = (seed >> 6) % 100;
        msgs[i].subject = subjects[(seed >> 12) % 4];
        msgs[i].is_reply = (seed >> 16) & 1;
        msgs[i].msgid = (seed >> 20) % 7 ? ids[i] : NULL;
        for (int r = (int)((seed >> 24) % 5); r > 0; r--) {
            char ref[16];
            seed = seed * 1103515245 + 12345;
            snprintf(ref, sizeof(ref), "%u@x", (seed >> 8) % (N / 2));
            strarray_append(&refs[i], ref);
        }
        msgs[i].refs = &refs[i];
    }
    thread_build(alg, msgs, N, &out);
    for (const char *p = buf_cstring(&out); *p;) {
        if (*p == '(') {
            depth++;
            p++;
        } else if (*p == ')') {
            if (--depth < 0)
                bad++;
            p++;
        } else if (*p >= '0' && *p <= '9') {
            long v = strtol(p, (char **)&p, 10);
            if (v < 1 || v > N || seen[v]++)
                bad++;
        } else {
            p++;
        }
    }
    CHECK_INTEQ(depth, 0);
    CHECK_INTEQ(bad, 0);
    for (int i = 1; i <= N; i++)
        if (!seen[i])
            bad++;
    CHECK_INTEQ(bad, 0);
    for (int i = 0; i < N; i++)
        strarray_fini(&refs[i]);
    free(refs);
    free(ids);
    free(msgs);
    free(seen);
    buf_free(&out);
}

static void test_references_random(void)
{
    check_random(THREAD_REFERENCES);
}

static void test_refs_random(void)
{
    check_random(THREAD_REFS);
}

UNIT_TESTS(UNIT_T(test_msgids), UNIT_T(test_algorithm_names),
           UNIT_T(test_orderedsubject), UNIT_T(test_references_tree),
           UNIT_T(test_references_rfc_example),
           UNIT_T(test_references_dummies),
           UNIT_T(test_references_relink_and_loops),
           UNIT_T(test_references_subjects), UNIT_T(test_references_random),
           UNIT_T(test_refs_newest_thread_last),
           UNIT_T(test_refs_no_subject_grouping),
           UNIT_T(test_refs_children_and_dummies), UNIT_T(test_refs_random))
