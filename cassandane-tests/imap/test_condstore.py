"""imap: CONDSTORE (RFC 7162 section 3.1): per-message MODSEQ,
HIGHESTMODSEQ in SELECT and STATUS, FETCH CHANGEDSINCE, STORE
UNCHANGEDSINCE with [MODIFIED], and MODSEQ in every FETCH once enabled."""

import re

from imap.selected_util import SelectedTestCase, untagged_with

HMS = re.compile(rb"^\* OK \[HIGHESTMODSEQ (\d+)\]")
MODSEQ = re.compile(rb"MODSEQ \((\d+)\)")


def highestmodseq(untagged):
    found = [int(m.group(1)) for m in map(HMS.match, untagged) if m]
    return found[-1] if found else None


def modseqs(untagged):
    """{message number: modseq} from FETCH responses."""
    out = {}
    for line in untagged:
        m = re.match(rb"^\* (\d+) FETCH .*MODSEQ \((\d+)\)", line)
        if m:
            out[int(m.group(1))] = int(m.group(2))
    return out


class CondstoreTest(SelectedTestCase):
    def test_capability_after_login(self):
        s = self.login()
        untagged = self.ok(s, "C", "CAPABILITY")
        words = untagged[0].split()
        self.assertIn(b"CONDSTORE", words)
        self.assertIn(b"QRESYNC", words)
        self.assertIn(b"ENABLE", words)

    def test_select_condstore_gives_highestmodseq(self):
        s = self.fill(2)
        # Not enabled yet: a plain SELECT says nothing of modseqs.
        self.assertIsNone(highestmodseq(self.select(s)))
        untagged = self.ok(s, "S2", "SELECT INBOX (CONDSTORE)")
        hms = highestmodseq(untagged)
        self.assertIsNotNone(hms, untagged)
        self.assertGreater(hms, 0)
        # Once enabled, every SELECT and EXAMINE says it.
        self.assertEqual(highestmodseq(self.select(s, cmd="EXAMINE")), hms)

    def test_fetch_modseq_enables_and_tells_highestmodseq(self):
        s = self.fill(2)
        untagged = self.ok(s, "F", "FETCH 1:2 (MODSEQ)")
        self.assertIsNotNone(highestmodseq(untagged), untagged)
        ms = modseqs(untagged)
        self.assertEqual(sorted(ms), [1, 2])
        self.assertLess(ms[1], ms[2])
        # The enabling happened once: no second HIGHESTMODSEQ.
        untagged = self.ok(s, "G", "FETCH 1 (MODSEQ)")
        self.assertIsNone(highestmodseq(untagged))
        # From now on, STORE's FETCH carries UID and MODSEQ.
        untagged = self.ok(s, "T", "STORE 1 +FLAGS (\\Flagged)")
        self.assertEqual(len(untagged), 1, untagged)
        self.assertRegex(untagged[0].decode(),
                         r"^\* 1 FETCH \(UID 1 FLAGS \(\\Flagged( \\Recent)?\)"
                         r" MODSEQ \(\d+\)\)$")

    def test_modseq_moves_only_on_real_change(self):
        s = self.fill(1)
        before = modseqs(self.ok(s, "F", "FETCH 1 (MODSEQ)"))[1]
        self.ok(s, "T", "STORE 1 +FLAGS.SILENT (\\Flagged)")
        after = modseqs(self.ok(s, "G", "FETCH 1 (MODSEQ)"))[1]
        self.assertGreater(after, before)
        # Adding a flag already there changes nothing (RFC 7162 3.1.11).
        self.ok(s, "U", "STORE 1 +FLAGS.SILENT (\\Flagged)")
        self.assertEqual(modseqs(self.ok(s, "H", "FETCH 1 (MODSEQ)"))[1],
                         after)

    def test_silent_store_still_tells_modseq(self):
        s = self.fill(1)
        self.ok(s, "E", "ENABLE CONDSTORE")
        untagged = self.ok(s, "T", "STORE 1 +FLAGS.SILENT (\\Seen)")
        self.assertEqual(len(untagged), 1, untagged)
        self.assertRegex(untagged[0].decode(),
                         r"^\* 1 FETCH \(UID 1 MODSEQ \(\d+\)\)$")

    def test_fetch_changedsince(self):
        s = self.fill(3)
        hms = highestmodseq(self.ok(s, "S2", "SELECT INBOX (CONDSTORE)"))
        self.ok(s, "T", "STORE 2 +FLAGS.SILENT (\\Answered)")
        untagged = self.ok(s, "F",
                           "UID FETCH 1:* (FLAGS) (CHANGEDSINCE %d)" % hms)
        fetches = untagged_with(untagged, b"FETCH")
        self.assertEqual(len(fetches), 1, untagged)
        self.assertRegex(fetches[0].decode(),
                         r"^\* 2 FETCH \(UID 2 FLAGS \(\\Answered[^)]*\)"
                         r" MODSEQ \((\d+)\)\)$")
        self.assertGreater(modseqs(fetches)[2], hms)
        # Nothing changed since the newest modseq.
        newest = modseqs(fetches)[2]
        untagged = self.ok(s, "G", "FETCH 1:* (FLAGS) (CHANGEDSINCE %d)"
                           % newest)
        self.assertFalse(untagged_with(untagged, b"FETCH"), untagged)

    def test_store_unchangedsince_reports_modified(self):
        s = self.fill(3)
        ms = modseqs(self.ok(s, "F", "FETCH 1:3 (MODSEQ)"))
        self.ok(s, "T", "STORE 2 +FLAGS.SILENT (\\Flagged)")
        untagged, tagged = self.cmd(
            s, "U", "STORE 1:3 (UNCHANGEDSINCE %d) +FLAGS.SILENT (\\Seen)"
            % ms[3])
        self.assertOK(tagged, "U")
        self.assertIn(b"[MODIFIED 2]", tagged)
        fetched = modseqs(untagged)
        # Passed messages are told even though .SILENT, with MODSEQ.
        self.assertIn(1, fetched)
        self.assertIn(3, fetched)
        untagged = self.ok(s, "G", "FETCH 1:3 FLAGS")
        flags = {int(l.split()[1]): l for l in untagged}
        self.assertIn(b"\\Seen", flags[1])
        self.assertNotIn(b"\\Seen", flags[2])
        self.assertIn(b"\\Seen", flags[3])

    def test_uid_store_modified_lists_uids(self):
        s = self.fill(3)
        self.ok(s, "D", "STORE 1 +FLAGS.SILENT (\\Deleted)")
        self.ok(s, "E", "EXPUNGE")
        # Now message 1 is UID 2 and message 2 is UID 3.
        ms = modseqs(self.ok(s, "F", "FETCH 1:2 (MODSEQ)"))
        self.ok(s, "T", "STORE 2 +FLAGS.SILENT (\\Flagged)")
        _, tagged = self.cmd(
            s, "U", "UID STORE 2:3 (UNCHANGEDSINCE %d) +FLAGS (\\Seen)"
            % max(ms.values()))
        self.assertOK(tagged, "U")
        self.assertIn(b"[MODIFIED 3]", tagged)

    def test_unchangedsince_zero_always_fails(self):
        s = self.fill(1)
        untagged, tagged = self.cmd(
            s, "U", "STORE 1 (UNCHANGEDSINCE 0) +FLAGS.SILENT ($MDNSent)")
        self.assertOK(tagged, "U")
        self.assertIn(b"[MODIFIED 1]", tagged)
        untagged = self.ok(s, "G", "FETCH 1 FLAGS")
        self.assertNotIn(b"$MDNSent", untagged[0])

    def test_status_highestmodseq(self):
        s = self.fill(2)
        hms = highestmodseq(self.ok(s, "S2", "SELECT INBOX (CONDSTORE)"))
        self.ok(s, "U", "UNSELECT")
        untagged = self.ok(s, "T", "STATUS INBOX (MESSAGES HIGHESTMODSEQ)")
        self.assertEqual(untagged,
                         [b"* STATUS INBOX (MESSAGES 2 HIGHESTMODSEQ %d)" % hms])

    def test_status_highestmodseq_enables_condstore(self):
        s = self.fill(1)
        untagged = self.ok(s, "T", "STATUS INBOX (HIGHESTMODSEQ)")
        # A mailbox is selected: the first enabling command tells its
        # HIGHESTMODSEQ.
        self.assertIsNotNone(highestmodseq(untagged), untagged)
        untagged = self.ok(s, "U", "STORE 1 +FLAGS (\\Draft)")
        self.assertTrue(MODSEQ.search(untagged[0]), untagged)

    def test_other_session_change_carries_modseq(self):
        s = self.fill(2)
        t = self.login()
        self.ok(t, "S", "SELECT INBOX (CONDSTORE)")
        self.ok(s, "T", "STORE 2 +FLAGS.SILENT (\\Flagged)")
        untagged = self.ok(t, "N", "NOOP")
        self.assertEqual(len(untagged), 1, untagged)
        self.assertRegex(untagged[0].decode(),
                         r"^\* 2 FETCH \(UID 2 FLAGS \(\\Flagged\)"
                         r" MODSEQ \(\d+\)\)$")
        # The session that does not use CONDSTORE hears no MODSEQ.
        self.ok(t, "T", "STORE 1 +FLAGS.SILENT (\\Answered)")
        untagged = self.ok(s, "N", "NOOP")
        self.assertTrue(untagged and not MODSEQ.search(b" ".join(untagged)),
                        untagged)

    def test_expunge_raises_highestmodseq(self):
        s = self.fill(2)
        hms = highestmodseq(self.ok(s, "S2", "SELECT INBOX (CONDSTORE)"))
        self.ok(s, "D", "STORE 1 +FLAGS.SILENT (\\Deleted)")
        self.ok(s, "E", "EXPUNGE")
        untagged = self.ok(s, "T", "STATUS INBOX (HIGHESTMODSEQ)")
        now = int(untagged[0].split()[-1].rstrip(b")"))
        self.assertGreaterEqual(now, hms + 2)

    def test_bad_modifiers_change_nothing(self):
        s = self.fill(1)
        for tag, text in (("B1", "FETCH 1 (FLAGS) (CHANGEDSINCE x)"),
                          ("B2", "FETCH 1 (FLAGS) (BOGUS 1)"),
                          ("B3", "FETCH 1 (FLAGS) (CHANGEDSINCE)"),
                          ("B4", "STORE 1 (UNCHANGEDSINCE) +FLAGS (\\Seen)"),
                          ("B5", "STORE 1 (UNCHANGEDSINCE 99999999999999999999)"
                                 " +FLAGS (\\Seen)"),
                          ("B6", "STORE 1 (BOGUS 5) +FLAGS (\\Seen)"),
                          ("B7", "SELECT INBOX (BOGUS)"),
                          ("B8", "SELECT INBOX (CONDSTORE")):
            _, tagged = self.cmd(s, tag, text)
            self.assertTrue(tagged.startswith(tag.encode() + b" BAD"),
                            (text, tagged))
        # Still selected, nothing stored.
        untagged = self.ok(s, "F", "FETCH 1 FLAGS")
        self.assertNotIn(b"\\Seen", untagged[0])

    def test_search_modseq(self):
        s = self.fill(3)
        untagged = self.ok(s, "F", "FETCH 1:3 (MODSEQ)")
        ms = modseqs(untagged)
        self.ok(s, "T", "STORE 2 +FLAGS.SILENT (\\Flagged)")
        changed = modseqs(self.ok(s, "G", "FETCH 2 (MODSEQ)"))[2]
        untagged = self.ok(s, "Q", "SEARCH MODSEQ %d" % (ms[3] + 1))
        self.assertEqual(untagged, [b"* SEARCH 2 (MODSEQ %d)" % changed])
        untagged = self.ok(s, "R", "UID SEARCH MODSEQ \"/flags/\\\\flagged\" "
                           "all %d" % ms[2])
        self.assertEqual(untagged, [b"* SEARCH 2 3 (MODSEQ %d)" % changed])
        # Nothing found: no MODSEQ part.
        untagged = self.ok(s, "U", "SEARCH MODSEQ %d" % (changed + 1))
        self.assertEqual(untagged, [b"* SEARCH"])
        _, tagged = self.cmd(s, "V", "SEARCH MODSEQ x")
        self.assertTrue(tagged.startswith(b"V BAD"), tagged)

    def test_search_modseq_enables_condstore(self):
        s = self.fill(1)
        untagged = self.ok(s, "Q", "SEARCH MODSEQ 1")
        self.assertIsNotNone(highestmodseq(untagged), untagged)
