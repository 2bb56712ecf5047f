"""sync: what a QRESYNC synchroniser needs to learn from the selected
mailbox (RFC 7162 section 6): after new messages or expunges are
reported, an untagged HIGHESTMODSEQ tells the client the modseq its
view is now complete to, so a later SELECT (QRESYNC ...) does not take
every message for changed.  (interimap depends on it.)"""

import re

from imap.selected_util import SelectedTestCase, message

HMS = re.compile(rb"^\* OK \[HIGHESTMODSEQ (\d+)\]")


def hms(lines):
    found = [int(m.group(1)) for m in map(HMS.match, lines) if m]
    return found[-1] if found else None


class ModseqHintTest(SelectedTestCase):
    def qresync_session(self):
        s = self.login()
        _, tagged = s.command("E", "ENABLE QRESYNC")
        self.assertOK(tagged, "E")
        _, tagged = s.command("S", "SELECT INBOX")
        self.assertOK(tagged, "S")
        return s

    def status_hms(self, s):
        untagged, tagged = s.command("ST", "STATUS INBOX (HIGHESTMODSEQ)")
        self.assertOK(tagged, "ST")
        return int(re.search(rb"HIGHESTMODSEQ (\d+)", untagged[0]).group(1))

    def test_append_to_selected_mailbox_reports_highestmodseq(self):
        s = self.qresync_session()
        msg = message("new one")
        s.send(b"A APPEND INBOX (\\Seen) {%d+}\r\n" % len(msg) + msg + b"\r\n")
        untagged, tagged = s.read_until_tagged("A")
        self.assertOK(tagged, "A")
        self.assertIn(b"* 1 EXISTS", untagged)
        other = self.login()
        self.assertEqual(hms(untagged), self.status_hms(other))

    def test_other_sessions_changes_report_highestmodseq(self):
        s = self.qresync_session()
        other = self.login()
        for i in range(2):
            msg = message("m%d" % i)
            other.send(b"A%d APPEND INBOX {%d+}\r\n" % (i, len(msg)) + msg + b"\r\n")
            _, tagged = other.read_until_tagged("A%d" % i)
            self.assertOK(tagged, "A%d" % i)
        untagged, tagged = s.command("N1", "NOOP")
        self.assertOK(tagged, "N1")
        self.assertIn(b"* 2 EXISTS", untagged)
        self.assertEqual(hms(untagged), self.status_hms(other))

        # An expunge elsewhere: VANISHED, then the new HIGHESTMODSEQ.
        _, tagged = other.command("S", "SELECT INBOX")
        self.assertOK(tagged, "S")
        _, tagged = other.command("D", "UID STORE 1 +FLAGS.SILENT (\\Deleted)")
        self.assertOK(tagged, "D")
        _, tagged = other.command("X", "EXPUNGE")
        self.assertOK(tagged, "X")
        _, tagged = other.command("U", "UNSELECT")
        self.assertOK(tagged, "U")
        untagged, tagged = s.command("N2", "NOOP")
        self.assertOK(tagged, "N2")
        self.assertIn(b"* VANISHED 1", untagged)
        self.assertEqual(hms(untagged), self.status_hms(other))

    def test_nothing_new_sends_no_highestmodseq(self):
        s = self.qresync_session()
        untagged, tagged = s.command("N", "NOOP")
        self.assertOK(tagged, "N")
        self.assertIsNone(hms(untagged))
