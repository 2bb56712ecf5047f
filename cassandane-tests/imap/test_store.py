"""imap: STORE and UID STORE (RFC 3501 6.4.6, RFC 4314 section 4)."""

from imap.selected_util import SelectedTestCase, untagged_with


class StoreTest(SelectedTestCase):
    def test_add_remove_replace(self):
        s = self.fill(1)
        untagged = self.ok(s, "A", "STORE 1 +FLAGS (\\Flagged \\Answered)")
        self.assertEqual(untagged, [b"* 1 FETCH (FLAGS (\\Answered \\Flagged \\Recent))"])
        untagged = self.ok(s, "B", "STORE 1 -FLAGS (\\Answered)")
        self.assertEqual(untagged, [b"* 1 FETCH (FLAGS (\\Flagged \\Recent))"])
        untagged = self.ok(s, "C", "STORE 1 FLAGS (\\Seen)")
        self.assertEqual(untagged, [b"* 1 FETCH (FLAGS (\\Seen \\Recent))"])

    def test_silent_sends_nothing(self):
        s = self.fill(2)
        untagged = self.ok(s, "A", "STORE 1:2 +FLAGS.SILENT (\\Deleted)")
        self.assertEqual(untagged, [])
        untagged = self.ok(s, "B", "FETCH 1:2 FLAGS")
        self.assertEqual(len(untagged_with(untagged, b"\\DELETED")), 2)

    def test_flags_without_parentheses(self):
        s = self.fill(1)
        untagged = self.ok(s, "A", "STORE 1 +FLAGS \\Draft")
        self.assertIn(b"\\Draft", untagged[0])

    def test_uid_store_includes_uid(self):
        s = self.fill(2)
        untagged = self.ok(s, "A", "UID STORE 2 +FLAGS (\\Flagged)")
        self.assertEqual(untagged, [b"* 2 FETCH (UID 2 FLAGS (\\Flagged \\Recent))"])

    def test_keywords_created_and_listed(self):
        s = self.fill(1)
        untagged = self.ok(s, "A", "STORE 1 +FLAGS ($Label1 Junk)")
        self.assertIn(b"$Label1", untagged[0])
        self.assertIn(b"Junk", untagged[0])
        untagged = self.select(s)
        flags = untagged_with(untagged, b"* FLAGS")[0]
        self.assertIn(b"$Label1", flags)
        self.assertIn(b"Junk", flags)

    def test_other_session_sees_change(self):
        s = self.fill(1)
        t = self.login()
        self.select(t)
        self.ok(s, "A", "STORE 1 +FLAGS.SILENT (\\Flagged)")
        untagged = self.ok(t, "N", "NOOP")
        self.assertIn(b"* 1 FETCH (FLAGS (\\Flagged))", untagged)

    def test_recent_and_bad_flags_refused(self):
        s = self.fill(1)
        for tag, text in (("B1", "STORE 1 +FLAGS (\\Recent)"),
                          ("B2", "STORE 1 +FLAGS (\\Bogus)"),
                          ("B3", "STORE 1 FROB (\\Seen)"),
                          ("B4", "STORE 2 +FLAGS (\\Seen)"),
                          ("B5", "STORE 1 +FLAGS (\\Seen"),
                          ("B6", "STORE 1 +FLAGS")):
            untagged, tagged = self.cmd(s, tag, text)
            self.assertBAD(tagged, tag)
        untagged = self.ok(s, "F", "FETCH 1 FLAGS")
        self.assertEqual(untagged, [b"* 1 FETCH (FLAGS (\\Recent))"])

    def test_store_in_examine_refused(self):
        s = self.fill(1)
        self.select(s, cmd="EXAMINE")
        _, tagged = self.cmd(s, "A", "STORE 1 +FLAGS (\\Flagged)")
        self.assertNO(tagged, "A")
        untagged = self.ok(s, "F", "FETCH 1 FLAGS")
        self.assertNotIn(b"\\Flagged", untagged[0])

    def test_too_many_keywords(self):
        s = self.fill(1)
        for i in range(0, 128, 16):
            self.ok(s, "K%d" % i, "STORE 1 +FLAGS.SILENT (%s)"
                    % " ".join("kw%d" % j for j in range(i, i + 16)))
        _, tagged = self.cmd(s, "X", "STORE 1 +FLAGS (onetoomany)")
        self.assertNO(tagged, "X")
