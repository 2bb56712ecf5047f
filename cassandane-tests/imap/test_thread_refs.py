"""imap: THREAD=REFS (draft-ietf-morg-inthread, as Cyrus threads it): the
REFERENCES tree without subject grouping, threads ordered by the arrival
(INTERNALDATE) of their newest message, members by sent date, then
arrival, then mailbox order.  Each expectation was checked against
Cyrus 3.6."""

from imap.sort_util import SortTestCase, mail


def day(n, hour=12):
    return "Mon, %d Jan 2024 %02d:00:00 +0000" % (n, hour)


def arrived(n, hour=12):
    return "%02d-Jan-2024 %02d:00:00 +0000" % (n, hour)


def at(msg, n, hour=12):
    """`msg` appended with INTERNALDATE day n."""
    return (msg, "", arrived(n, hour))


class ThreadRefsTest(SortTestCase):
    def test_capability(self):
        _, s = self.setup_mailbox([])
        untagged, tagged = s.command("c", "CAPABILITY")
        self.assertOK(tagged, "c")
        caps = b" ".join(untagged).upper().split()
        self.assertIn(b"THREAD=REFS", caps)
        self.assertIn(b"THREAD=REFERENCES", caps)

    def test_threads_by_newest_arrival(self):
        _, s = self.setup_mailbox([
            at(mail("A", msgid="<a@x>", date=day(1)), 1),                # 1
            at(mail("B", msgid="<b@x>", date=day(2)), 2),                # 2
            at(mail("Re: A", msgid="<c@x>", references="<a@x>",
                    date=day(3)), 3),                                    # 3
        ])
        self.assertEqual(self.thread(s, "REFERENCES UTF-8 ALL"), "(1 3)(2)")
        # the reply made A's thread the newest one
        self.assertEqual(self.thread(s, "REFS UTF-8 ALL"), "(2)(1 3)")
        self.assertEqual(self.thread(s, "REFS UTF-8 ALL", uid=True),
                         "(2)(1 3)")

    def test_arrival_not_sent_date_orders_threads(self):
        _, s = self.setup_mailbox([
            at(mail("A", msgid="<a@x>", date=day(1)), 5),                # 1
            at(mail("B", msgid="<b@x>", date=day(9)), 2),                # 2
            at(mail("Re: B", msgid="<c@x>", references="<b@x>",
                    date=day(10)), 3),                                   # 3
        ])
        self.assertEqual(self.thread(s, "REFS UTF-8 ALL"), "(2 3)(1)")

    def test_no_subject_grouping(self):
        _, s = self.setup_mailbox([
            at(mail("Re: topic", msgid="<2@x>", date=day(1)), 1),
            at(mail("topic", msgid="<1@x>", date=day(2)), 2),
        ])
        self.assertEqual(self.thread(s, "REFERENCES UTF-8 ALL"), "(2 1)")
        self.assertEqual(self.thread(s, "REFS UTF-8 ALL"), "(1)(2)")

    def test_members_by_sent_date_and_dummy_root(self):
        _, s = self.setup_mailbox([
            at(mail("P", msgid="<p@x>", date=day(1)), 1),                # 1
            at(mail("Re: P", msgid="<r1@x>", references="<p@x>",
                    date=day(4)), 2),                                    # 2
            at(mail("Re: P", msgid="<r2@x>", references="<p@x>",
                    date=day(3)), 3),                                    # 3
            at(mail("Q", msgid="<q1@x>", references="<gone@x>",
                    date=day(6)), 4),                                    # 4
            at(mail("Q", msgid="<q2@x>", references="<gone@x>",
                    date=day(5)), 5),                                    # 5
        ])
        self.assertEqual(self.thread(s, "REFS UTF-8 ALL"),
                         "(1 (3)(2))((5)(4))")

    def test_search_criteria_and_empty_result(self):
        _, s = self.setup_mailbox([
            at(mail("A", msgid="<a@x>", date=day(1)), 1),
            at(mail("Re: A", msgid="<b@x>", references="<a@x>",
                    date=day(2)), 2),
        ])
        self.assertEqual(self.thread(s, "REFS UTF-8 SUBJECT Re"), "(2)")
        self.assertEqual(self.thread(s, "REFS UTF-8 SUBJECT nothing"), "")

    def test_unknown_algorithm_is_bad(self):
        _, s = self.setup_mailbox([mail("A")])
        untagged, tagged = s.command("t", "THREAD REF UTF-8 ALL")
        self.assertBAD(tagged, "t")
        self.assertFalse([l for l in untagged if l.startswith(b"* THREAD")])
