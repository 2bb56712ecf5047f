"""imap: THREAD and UID THREAD, ORDEREDSUBJECT and REFERENCES (RFC 5256
section 3)."""

from imap.sort_util import SortTestCase, mail


def day(n, hour=12):
    return "Mon, %d Jan 2024 %02d:00:00 +0000" % (n, hour)


class ThreadTest(SortTestCase):
    def test_orderedsubject(self):
        _, s = self.setup_mailbox([
            mail("A", date=day(1)),          # 1
            mail("Re: A", date=day(3)),      # 2
            mail("B", date=day(2)),          # 3
            mail("re: a", date=day(4)),      # 4
            mail("Fwd: b", date=day(5)),     # 5
            mail("C", date=day(9)),          # 6
        ])
        # grouped by base subject, children of the first, threads by the
        # date of their first message
        self.assertEqual(self.thread(s, "ORDEREDSUBJECT UTF-8 ALL"),
                         "(1 (2)(4))(3 5)(6)")

    def test_orderedsubject_sorts_by_sent_date_within_thread(self):
        _, s = self.setup_mailbox([
            mail("x", date=day(5)),
            mail("Re: x", date=day(2)),
            mail("Re: x", date=day(3)),
        ])
        self.assertEqual(self.thread(s, "ORDEREDSUBJECT UTF-8 ALL"),
                         "(2 (3)(1))")

    def test_references_builds_tree(self):
        _, s = self.setup_mailbox([
            mail("hello", msgid="<a@x>", date=day(1)),
            mail("Re: hello", msgid="<b@x>", references="<a@x>",
                 date=day(2)),
            mail("Re: hello", msgid="<c@x>", references="<a@x> <b@x>",
                 date=day(3)),
            mail("Re: hello", msgid="<d@x>", references="<a@x>",
                 date=day(4)),
            mail("other", msgid="<e@x>", date=day(5)),
        ])
        self.assertEqual(self.thread(s, "REFERENCES UTF-8 ALL"),
                         "(1 (2 3)(4))(5)")

    def test_references_missing_parent_gives_dummy(self):
        # RFC 5256: "* THREAD ((3)(5))" -- siblings of an absent parent
        _, s = self.setup_mailbox([
            mail("one", msgid="<1@x>", references="<gone@x>", date=day(1)),
            mail("two", msgid="<2@x>", references="<gone@x>", date=day(2)),
        ])
        self.assertEqual(self.thread(s, "REFERENCES UTF-8 ALL"), "((1)(2))")

    def test_references_single_orphan_is_promoted(self):
        _, s = self.setup_mailbox([
            mail("one", msgid="<1@x>", references="<gone@x> <gone2@x>",
                 date=day(1)),
        ])
        self.assertEqual(self.thread(s, "REFERENCES UTF-8 ALL"), "(1)")

    def test_references_in_reply_to_and_quoted_ids(self):
        _, s = self.setup_mailbox([
            mail("q", msgid='<"01KF8JCEOCBS0045PS"@xxx.yyy.com>', date=day(1)),
            mail("r", msgid="<r@x>",
                 in_reply_to="<01KF8JCEOCBS0045PS@xxx.yyy.com> (Fred's)",
                 date=day(2)),
        ])
        self.assertEqual(self.thread(s, "REFERENCES UTF-8 ALL"), "(1 2)")

    def test_references_subject_merge_reply_under_original(self):
        _, s = self.setup_mailbox([
            mail("Re: topic", msgid="<2@x>", date=day(1)),
            mail("topic", msgid="<1@x>", date=day(2)),
        ])
        # no references, but the reply joins the non-reply
        self.assertEqual(self.thread(s, "REFERENCES UTF-8 ALL"), "(2 1)")

    def test_references_subject_merge_two_originals_get_dummy(self):
        _, s = self.setup_mailbox([
            mail("topic", msgid="<1@x>", date=day(1)),
            mail("[list] topic", msgid="<2@x>", date=day(2)),
            mail("unrelated", msgid="<3@x>", date=day(3)),
        ])
        self.assertEqual(self.thread(s, "REFERENCES UTF-8 ALL"),
                         "((1)(2))(3)")

    def test_references_duplicate_message_ids(self):
        _, s = self.setup_mailbox([
            mail("a", msgid="<dup@x>", date=day(1)),
            mail("b", msgid="<dup@x>", date=day(2)),
            mail("Re: a", msgid="<c@x>", references="<dup@x>", date=day(3)),
        ])
        # the reference goes to the first message with the id
        self.assertEqual(self.thread(s, "REFERENCES UTF-8 ALL"),
                         "(1 3)(2)")

    def test_references_loops_are_not_created(self):
        _, s = self.setup_mailbox([
            mail("a", msgid="<a@x>", references="<b@x>", date=day(1)),
            mail("b", msgid="<b@x>", references="<a@x>", date=day(2)),
        ])
        self.assertEqual(self.thread(s, "REFERENCES UTF-8 ALL"), "(2 1)")

    def test_uid_thread_and_search_criteria(self):
        _, s = self.setup_mailbox([
            mail("gone", msgid="<g@x>", date=day(1)),
            mail("hello", msgid="<a@x>", date=day(2)),
            mail("Re: hello", msgid="<b@x>", references="<a@x>", date=day(3)),
            mail("zzz", msgid="<z@x>", date=day(4)),
        ])
        self.ok(s, "st", "STORE 1 +FLAGS (\\Deleted)")
        self.ok(s, "ex", "EXPUNGE")
        self.assertEqual(self.thread(s, "REFERENCES UTF-8 ALL", uid=True),
                         "(2 3)(4)")
        self.assertEqual(self.thread(s, "REFERENCES UTF-8 ALL"), "(1 2)(3)")
        self.assertEqual(self.thread(s, "REFERENCES US-ASCII SUBJECT hello"),
                         "(1 2)")
        self.assertEqual(self.thread(s, 'ORDEREDSUBJECT UTF-8 TEXT "gewp"'),
                         "")

    def test_invalid_arguments(self):
        _, s = self.setup_mailbox([mail("a")])
        for i, args in enumerate(["NOSUCHALG UTF-8 ALL", "REFERENCES",
                                  "REFERENCES UTF-8", "REFERENCES UTF-8 BOGUS"]):
            tag = "b%d" % i
            untagged, tagged = s.command(tag, "THREAD " + args)
            self.assertBAD(tagged, tag)
            self.assertNoUntagged(untagged, "THREAD")
        untagged, tagged = s.command("c", "THREAD REFERENCES X-NO-SUCH ALL")
        self.assertNO(tagged, "c")
        self.assertIn(b"[BADCHARSET", tagged)
        self.assertEqual(self.thread(s, "REFERENCES UTF-8 ALL"), "(1)")
