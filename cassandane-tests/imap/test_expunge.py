"""imap: EXPUNGE and UID EXPUNGE, and how expunges reach other sessions
(RFC 3501 6.4.3, 7.4.1; RFC 4315 2.1)."""

from imap.selected_util import SelectedTestCase, untagged_with


class ExpungeTest(SelectedTestCase):
    def test_expunge_descending(self):
        s = self.fill(4)
        self.ok(s, "D", "STORE 1,3 +FLAGS.SILENT (\\Deleted)")
        untagged = self.ok(s, "E", "EXPUNGE")
        self.assertEqual(untagged_with(untagged, b"EXPUNGE"),
                         [b"* 3 EXPUNGE", b"* 1 EXPUNGE"])
        untagged = self.ok(s, "F", "FETCH 1:* UID")
        self.assertEqual(untagged, [b"* 1 FETCH (UID 2)", b"* 2 FETCH (UID 4)"])

    def test_uid_expunge_only_named(self):
        s = self.fill(3)
        self.ok(s, "D", "STORE 1:3 +FLAGS.SILENT (\\Deleted)")
        untagged = self.ok(s, "E", "UID EXPUNGE 2")
        self.assertEqual(untagged_with(untagged, b"EXPUNGE"), [b"* 2 EXPUNGE"])
        untagged = self.ok(s, "F", "FETCH 1:* UID")
        self.assertEqual(untagged, [b"* 1 FETCH (UID 1)", b"* 2 FETCH (UID 3)"])

    def test_expunge_in_examine_refused(self):
        s = self.fill(1)
        self.ok(s, "D", "STORE 1 +FLAGS.SILENT (\\Deleted)")
        self.select(s, cmd="EXAMINE")
        _, tagged = self.cmd(s, "E", "EXPUNGE")
        self.assertNO(tagged, "E")
        self.assertEqual(len(self.ok(s, "F", "FETCH 1:* UID")), 1)

    def test_other_session_not_told_during_fetch(self):
        s = self.fill(3)
        t = self.login()
        self.select(t)
        self.ok(s, "D", "STORE 2 +FLAGS.SILENT (\\Deleted)")
        self.ok(s, "E", "EXPUNGE")
        # FETCH must not shift sequence numbers: message 2 is still there.
        untagged = self.ok(t, "F", "FETCH 1:3 UID")
        self.assertFalse(untagged_with(untagged, b"EXPUNGE"), untagged)
        self.assertIn(b"* 3 FETCH (UID 3)", untagged)
        # NOOP tells.
        untagged = self.ok(t, "N", "NOOP")
        self.assertIn(b"* 2 EXPUNGE", untagged)
        untagged = self.ok(t, "G", "FETCH 2 UID")
        self.assertEqual(untagged, [b"* 2 FETCH (UID 3)"])

    def test_uid_command_may_tell_expunge(self):
        s = self.fill(2)
        t = self.login()
        self.select(t)
        self.ok(s, "D", "STORE 1 +FLAGS.SILENT (\\Deleted)")
        self.ok(s, "E", "EXPUNGE")
        untagged = self.ok(t, "F", "UID FETCH 1:* FLAGS")
        self.assertIn(b"* 1 EXPUNGE", untagged)

    def test_uid_expunge_bad_set(self):
        s = self.fill(1)
        _, tagged = self.cmd(s, "E", "UID EXPUNGE x")
        self.assertBAD(tagged, "E")
        _, tagged = self.cmd(s, "E2", "UID EXPUNGE")
        self.assertBAD(tagged, "E2")
