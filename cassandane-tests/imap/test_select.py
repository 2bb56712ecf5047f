"""imap: SELECT, EXAMINE, CLOSE, UNSELECT, CHECK (RFC 3501 6.3.1, 6.3.2,
6.4.1, 6.4.2; RFC 3691)."""

import re

from imap.selected_util import SelectedTestCase, message, untagged_with


class SelectTest(SelectedTestCase):
    def test_select_empty_inbox(self):
        s = self.login()
        untagged, tagged = self.cmd(s, "S", "SELECT INBOX")
        self.assertOK(tagged, "S")
        self.assertIn(b"[READ-WRITE]", tagged)
        self.assertIn(b"* 0 EXISTS", untagged)
        self.assertIn(b"* 0 RECENT", untagged)
        self.assertTrue(untagged_with(untagged, b"* FLAGS ("), untagged)
        self.assertTrue(untagged_with(untagged, b"[UIDVALIDITY "), untagged)
        self.assertTrue(untagged_with(untagged, b"[UIDNEXT 1]"), untagged)
        self.assertFalse(untagged_with(untagged, b"[UNSEEN"), untagged)
        perm = untagged_with(untagged, b"[PERMANENTFLAGS")
        self.assertEqual(len(perm), 1)
        for f in (b"\\Seen", b"\\Deleted", b"\\Answered", b"\\Flagged",
                  b"\\Draft", b"\\*"):
            self.assertIn(f, perm[0])

    def test_select_counts_and_unseen(self):
        s = self.login()
        self.append(s, flags="\\Seen")
        self.append(s)
        self.append(s)
        untagged = self.select(s)
        self.assertIn(b"* 3 EXISTS", untagged)
        self.assertIn(b"* 3 RECENT", untagged)
        self.assertTrue(untagged_with(untagged, b"[UNSEEN 2]"), untagged)
        self.assertTrue(untagged_with(untagged, b"[UIDNEXT 4]"), untagged)

    def test_recent_claimed_by_first_select_only(self):
        s = self.login()
        self.append(s)
        self.assertIn(b"* 1 RECENT", self.select(s))
        t = self.login()
        self.assertIn(b"* 0 RECENT", self.select(t))

    def test_examine_is_read_only_and_keeps_recent(self):
        s = self.login()
        self.append(s)
        untagged, tagged = self.cmd(s, "E", "EXAMINE INBOX")
        self.assertOK(tagged, "E")
        self.assertIn(b"[READ-ONLY]", tagged)
        self.assertIn(b"* 1 RECENT", untagged)
        self.assertTrue(untagged_with(untagged, b"[PERMANENTFLAGS ()]"), untagged)
        t = self.login()
        self.assertIn(b"* 1 RECENT", self.select(t))

    def test_select_nonexistent_is_no_and_deselects(self):
        s = self.login()
        self.select(s)
        untagged, tagged = self.cmd(s, "S2", "SELECT nosuch")
        self.assertNO(tagged, "S2")
        _, tagged = self.cmd(s, "F", "FETCH 1:* FLAGS")
        self.assertBAD(tagged, "F")
        self.assertIn(b"select a mailbox", tagged)

    def test_select_other_users_mailbox_invisible(self):
        s = self.login("ann")
        s.close()
        t = self.login("fred")
        _, tagged = self.cmd(t, "S", 'SELECT "Other Users/ann"')
        self.assertNO(tagged, "S")
        _, tagged2 = self.cmd(t, "S2", 'SELECT "Other Users/nosuchuser"')
        self.assertNO(tagged2, "S2")
        # Same answer whether it exists or not (no leak without l).
        self.assertIn(b"[NONEXISTENT]", tagged)
        self.assertEqual(tagged.split(b" ", 2)[2], tagged2.split(b" ", 2)[2])

    def test_select_without_argument_is_bad(self):
        s = self.login()
        _, tagged = self.cmd(s, "S", "SELECT")
        self.assertBAD(tagged, "S")
        _, tagged = self.cmd(s, "S", "SELECT INBOX extra")
        self.assertBAD(tagged, "S")

    def test_close_expunges_deleted_silently(self):
        s = self.fill(3)
        self.ok(s, "T", "STORE 2 +FLAGS.SILENT (\\Deleted)")
        untagged = self.ok(s, "C", "CLOSE")
        self.assertFalse(untagged_with(untagged, b"EXPUNGE"), untagged)
        self.assertIn(b"* 2 EXISTS", self.select(s))

    def test_close_after_examine_does_not_expunge(self):
        s = self.fill(2)
        self.ok(s, "T", "STORE 1 +FLAGS.SILENT (\\Deleted)")
        self.select(s, cmd="EXAMINE")
        self.ok(s, "C", "CLOSE")
        self.assertIn(b"* 2 EXISTS", self.select(s))

    def test_unselect_does_not_expunge(self):
        s = self.fill(2)
        self.ok(s, "T", "STORE 1 +FLAGS.SILENT (\\Deleted)")
        self.ok(s, "U", "UNSELECT")
        _, tagged = self.cmd(s, "N", "FETCH 1 FLAGS")
        self.assertBAD(tagged, "N")
        self.assertIn(b"* 2 EXISTS", self.select(s))

    def test_check_reports_new_messages(self):
        s = self.fill(1)
        t = self.login()
        self.append(t)
        untagged = self.ok(s, "K", "CHECK")
        self.assertIn(b"* 2 EXISTS", untagged)

    def test_noop_reports_new_message_and_recent(self):
        s = self.fill(1)
        t = self.login()
        self.append(t)
        untagged = self.ok(s, "N", "NOOP")
        self.assertIn(b"* 2 EXISTS", untagged)
        self.assertIn(b"* 2 RECENT", untagged)

    def test_reselect_sends_closed(self):
        s = self.fill(1)
        untagged = self.select(s)
        self.assertTrue(untagged_with(untagged, b"[CLOSED]"), untagged)
