"""imap: QRESYNC (RFC 7162 section 3.2): ENABLE QRESYNC, SELECT (QRESYNC
...) with VANISHED (EARLIER) and changed flags, UID FETCH (CHANGEDSINCE
VANISHED), VANISHED instead of EXPUNGE, and the CLOSED response; a
second session makes the changes to resynchronise from."""

import re

from imap.selected_util import SelectedTestCase, untagged_with

HMS = re.compile(rb"^\* OK \[HIGHESTMODSEQ (\d+)\]")
UIDVALIDITY = re.compile(rb"^\* OK \[UIDVALIDITY (\d+)\]")


def code(untagged, regex):
    found = [int(m.group(1)) for m in map(regex.match, untagged) if m]
    return found[-1] if found else None


class QresyncTest(SelectedTestCase):
    def qsession(self):
        s = self.login()
        untagged = self.ok(s, "E", "ENABLE QRESYNC")
        self.assertEqual(untagged, [b"* ENABLED QRESYNC"])
        return s

    def state(self, n=5):
        """Fill INBOX with n messages; (uidvalidity, highestmodseq)."""
        s = self.fill(n)
        untagged = self.ok(s, "S2", "SELECT INBOX (CONDSTORE)")
        self.ok(s, "U", "UNSELECT")
        return s, code(untagged, UIDVALIDITY), code(untagged, HMS)

    def test_enable_qresync_once(self):
        s = self.qsession()
        untagged = self.ok(s, "E2", "ENABLE QRESYNC CONDSTORE")
        self.assertEqual(untagged, [b"* ENABLED"])

    def test_enable_both_lists_both(self):
        s = self.login()
        untagged = self.ok(s, "E", "ENABLE QRESYNC CONDSTORE")
        self.assertEqual(untagged, [b"* ENABLED QRESYNC CONDSTORE"])

    def test_select_qresync_needs_enable(self):
        s, uv, hms = self.state(1)
        _, tagged = self.cmd(s, "Q", "SELECT INBOX (QRESYNC (%d %d))"
                             % (uv, hms))
        self.assertTrue(tagged.startswith(b"Q BAD"), tagged)
        _, tagged = self.cmd(s, "N", "FETCH 1 FLAGS")
        self.assertTrue(tagged.startswith(b"N BAD"), tagged)

    def test_select_qresync_reports_vanished_and_changes(self):
        other, uv, hms = self.state(5)
        self.select(other)
        self.ok(other, "D", "STORE 2,4 +FLAGS.SILENT (\\Deleted)")
        self.ok(other, "X", "EXPUNGE")
        self.ok(other, "T", "STORE 2 +FLAGS.SILENT (\\Flagged)")  # UID 3
        s = self.qsession()
        untagged = self.ok(s, "Q", "SELECT INBOX (QRESYNC (%d %d))"
                           % (uv, hms))
        self.assertIn(b"* 3 EXISTS", untagged)
        self.assertGreater(code(untagged, HMS), hms)
        vanished = untagged_with(untagged, b"VANISHED")
        self.assertEqual(vanished, [b"* VANISHED (EARLIER) 2,4"])
        fetches = untagged_with(untagged, b"FETCH")
        self.assertEqual(len(fetches), 1, untagged)
        self.assertRegex(fetches[0].decode(),
                         r"^\* 2 FETCH \(UID 3 FLAGS \(\\Flagged\)"
                         r" MODSEQ \(\d+\)\)$")
        # VANISHED comes before the FETCH responses.
        self.assertLess(untagged.index(vanished[0]),
                        untagged.index(fetches[0]))

    def test_select_qresync_known_uids_limit(self):
        other, uv, hms = self.state(5)
        self.select(other)
        self.ok(other, "D", "STORE 1,4 +FLAGS (\\Deleted)")
        self.ok(other, "X", "EXPUNGE")
        s = self.qsession()
        untagged = self.ok(s, "Q", "SELECT INBOX (QRESYNC (%d %d 3:5))"
                           % (uv, hms))
        self.assertEqual(untagged_with(untagged, b"VANISHED"),
                         [b"* VANISHED (EARLIER) 4"])
        self.assertFalse(untagged_with(untagged, b"FETCH"), untagged)

    def test_select_qresync_seq_match_data(self):
        other, uv, hms = self.state(5)
        self.select(other)
        self.ok(other, "D", "STORE 4 +FLAGS (\\Deleted)")
        self.ok(other, "X", "EXPUNGE")
        s = self.qsession()
        # Syntax with both optional parts is accepted.
        untagged = self.ok(s, "Q", "SELECT INBOX (QRESYNC (%d %d 1:5 "
                           "(1,3 1,3)))" % (uv, hms))
        self.assertEqual(untagged_with(untagged, b"VANISHED"),
                         [b"* VANISHED (EARLIER) 4"])

    def test_select_qresync_uidvalidity_mismatch(self):
        other, uv, hms = self.state(3)
        self.select(other)
        self.ok(other, "D", "STORE 1 +FLAGS (\\Deleted)")
        self.ok(other, "X", "EXPUNGE")
        s = self.qsession()
        untagged = self.ok(s, "Q", "SELECT INBOX (QRESYNC (%d 1))"
                           % (uv + 1))
        self.assertFalse(untagged_with(untagged, b"VANISHED"), untagged)
        self.assertFalse(untagged_with(untagged, b"FETCH"), untagged)
        self.assertEqual(code(untagged, UIDVALIDITY), uv)

    def test_select_qresync_bad_syntax_keeps_state(self):
        s = self.qsession()
        self.append(s)
        self.select(s)
        for tag, arg in (("B1", "(QRESYNC (0 1))"),
                         ("B2", "(QRESYNC (1))"),
                         ("B3", "(QRESYNC (1 2 1:*))"),
                         ("B4", "(QRESYNC (1 2 1:5 (1,2 3)))"),
                         ("B5", "(QRESYNC 1 2)"),
                         ("B6", "(QRESYNC (1 x))")):
            _, tagged = self.cmd(s, tag, "SELECT INBOX " + arg)
            self.assertTrue(tagged.startswith(tag.encode() + b" BAD"),
                            (arg, tagged))
        # The mailbox selected before is still selected.
        self.ok(s, "F", "FETCH 1 FLAGS")

    def test_expunge_sends_vanished_and_highestmodseq(self):
        s = self.qsession()
        for i in range(4):
            self.append(s)
        self.select(s)
        self.ok(s, "D", "STORE 1,3 +FLAGS.SILENT (\\Deleted)")
        untagged, tagged = self.cmd(s, "X", "EXPUNGE")
        self.assertOK(tagged, "X")
        self.assertRegex(tagged.decode(), r"^X OK \[HIGHESTMODSEQ \d+\]")
        self.assertEqual(untagged_with(untagged, b"EXPUNGE"), [])
        self.assertIn(b"* VANISHED 1,3", untagged)
        untagged = self.ok(s, "F", "FETCH 1:* UID")
        self.assertEqual(untagged, [b"* 1 FETCH (UID 2)", b"* 2 FETCH (UID 4)"])

    def test_other_session_expunge_is_vanished(self):
        s = self.fill(3)
        t = self.qsession()
        self.select(t)
        self.ok(s, "D", "STORE 2 +FLAGS.SILENT (\\Deleted)")
        self.ok(s, "X", "EXPUNGE")
        # Not during FETCH (sequence numbers)...
        untagged = self.ok(t, "F", "FETCH 1:3 UID")
        self.assertFalse(untagged_with(untagged, b"VANISHED"), untagged)
        # ...but at the next NOOP, without EARLIER.
        untagged = self.ok(t, "N", "NOOP")
        self.assertIn(b"* VANISHED 2", untagged)
        self.assertFalse(untagged_with(untagged, b"EXPUNGE"), untagged)

    def test_uid_fetch_vanished(self):
        other, uv, hms = self.state(4)
        s = self.qsession()
        self.select(s)
        self.select(other)
        self.ok(other, "D", "STORE 3 +FLAGS.SILENT (\\Deleted)")
        self.ok(other, "X", "EXPUNGE")
        self.ok(other, "T", "STORE 1 +FLAGS.SILENT (\\Seen)")
        # s learns of both with NOOP first, so the expunge is no longer in
        # its view, then asks what changed since hms.
        self.ok(s, "N", "NOOP")
        untagged = self.ok(s, "F", "UID FETCH 1:* (FLAGS) (CHANGEDSINCE %d "
                           "VANISHED)" % hms)
        self.assertEqual(untagged[0], b"* VANISHED (EARLIER) 3")
        fetches = untagged_with(untagged, b"FETCH")
        self.assertEqual(len(fetches), 1, untagged)
        self.assertRegex(fetches[0].decode(),
                         r"^\* 1 FETCH \(UID 1 FLAGS \(\\Seen\)"
                         r" MODSEQ \(\d+\)\)$")

    def test_vanished_modifier_rules(self):
        s = self.fill(1)
        _, tagged = self.cmd(s, "A", "UID FETCH 1:* (FLAGS) (CHANGEDSINCE 1 "
                             "VANISHED)")
        self.assertTrue(tagged.startswith(b"A BAD"), tagged)
        self.ok(s, "E", "ENABLE QRESYNC")
        _, tagged = self.cmd(s, "B", "FETCH 1:* (FLAGS) (CHANGEDSINCE 1 "
                             "VANISHED)")
        self.assertTrue(tagged.startswith(b"B BAD"), tagged)
        _, tagged = self.cmd(s, "C", "UID FETCH 1:* (FLAGS) (VANISHED)")
        self.assertTrue(tagged.startswith(b"C BAD"), tagged)
        self.ok(s, "D", "UID FETCH 1:* (FLAGS) (CHANGEDSINCE 1 VANISHED)")

    def test_closed_on_reselect(self):
        s = self.fill(1)
        untagged = self.ok(s, "S2", "EXAMINE INBOX")
        self.assertEqual(untagged[0], b"* OK [CLOSED] Ok")
        # Not on UNSELECT or CLOSE.
        untagged, tagged = self.cmd(s, "U", "UNSELECT")
        self.assertEqual(untagged, [])
