"""imap: SEARCHRES -- SEARCH RETURN (SAVE) and "$" (RFC 5182)."""

import re

from imap.sort_util import SortTestCase, mail


class SearchresTest(SortTestCase):
    def mailbox(self):
        # flagged: 2, 4, 5
        msgs = [(mail(str(i)), "\\Flagged" if i in (2, 4, 5) else "", "")
                for i in range(1, 7)]
        return self.setup_mailbox(msgs)

    def fetched(self, s, cmd, tag="f"):
        """Sequence numbers of the FETCH responses of `cmd`."""
        untagged = self.ok(s, tag, cmd)
        return sorted(int(m.group(1)) for m in
                      (re.match(rb"\* (\d+) FETCH", l) for l in untagged) if m)

    def test_save_alone_answers_nothing_then_fetch(self):
        _, s = self.mailbox()
        untagged, tagged = s.command("a", "SEARCH RETURN (SAVE) FLAGGED")
        self.assertOK(tagged, "a")
        self.assertNoUntagged(untagged, "ESEARCH")
        self.assertNoUntagged(untagged, "SEARCH")
        self.assertEqual(self.fetched(s, "FETCH $ (UID)"), [2, 4, 5])
        self.assertEqual(self.fetched(s, "UID FETCH $ (FLAGS)"), [2, 4, 5])

    def test_dollar_in_search(self):
        _, s = self.mailbox()
        self.ok(s, "a", "SEARCH RETURN (SAVE) FLAGGED")
        self.assertEqual(self.search(s, "$ NOT 4"), [2, 5])
        self.assertEqual(self.search(s, "OR $ 1"), [1, 2, 4, 5])
        self.assertEqual(self.search(s, "UID $", uid=True), [2, 4, 5])

    def test_uid_search_save_used_as_sequence_set(self):
        _, s = self.mailbox()
        self.ok(s, "st", "STORE 1 +FLAGS (\\Deleted)")
        self.ok(s, "ex", "EXPUNGE")
        # UIDs 2, 4, 5 are now messages 1, 3, 4
        self.ok(s, "a", "UID SEARCH RETURN (SAVE) FLAGGED")
        self.assertEqual(self.fetched(s, "FETCH $ (UID)"), [1, 3, 4])
        self.assertEqual(self.search(s, "$"), [1, 3, 4])

    def test_save_with_min_max_saves_only_those(self):
        _, s = self.mailbox()
        _, items = self.esearch(s, "SEARCH RETURN (SAVE MIN) FLAGGED")
        self.assertEqual(items, {"MIN": "2"})
        self.assertEqual(self.search(s, "$"), [2])
        _, items = self.esearch(s, "SEARCH RETURN (MAX SAVE MIN) FLAGGED")
        self.assertEqual(items, {"MIN": "2", "MAX": "5"})
        self.assertEqual(self.search(s, "$"), [2, 5])
        _, items = self.esearch(s, "SEARCH RETURN (MAX SAVE MIN COUNT) FLAGGED")
        self.assertEqual(items, {"MIN": "2", "MAX": "5", "COUNT": "3"})
        self.assertEqual(self.search(s, "$"), [2, 4, 5])

    def test_search_without_save_keeps_result(self):
        _, s = self.mailbox()
        self.ok(s, "a", "SEARCH RETURN (SAVE) FLAGGED")
        self.ok(s, "b", "SEARCH RETURN (ALL) UNFLAGGED")
        self.ok(s, "c", "SEARCH 1:2")
        untagged, tagged = s.command("d", "SEARCH BOGUSKEY")
        self.assertBAD(tagged, "d")
        self.assertEqual(self.search(s, "$"), [2, 4, 5])

    def test_failed_save_empties_result(self):
        _, s = self.mailbox()
        self.ok(s, "a", "SEARCH RETURN (SAVE) FLAGGED")
        _, tagged = s.command("b", "SEARCH RETURN (SAVE) CHARSET X-NO-SUCH "
                                   "TEXT x")
        self.assertNO(tagged, "b")
        self.assertEqual(self.search(s, "$"), [])
        # an empty "$" is a valid set that names nothing
        self.assertEqual(self.fetched(s, "FETCH $ (UID)"), [])
        untagged, tagged = s.command("c", "COPY $ INBOX")
        self.assertOK(tagged, "c")

    def test_empty_result_saved(self):
        _, s = self.mailbox()
        self.ok(s, "a", "SEARCH RETURN (SAVE) DELETED")
        self.assertEqual(self.fetched(s, "FETCH $ (UID)"), [])

    def test_select_resets_result(self):
        _, s = self.mailbox()
        self.ok(s, "a", "SEARCH RETURN (SAVE) FLAGGED")
        self.ok(s, "sel", "SELECT INBOX")
        self.assertEqual(self.search(s, "$"), [])

    def test_store_and_copy_use_dollar(self):
        _, s = self.mailbox()
        self.ok(s, "cr", "CREATE Saved")
        self.ok(s, "a", "SEARCH RETURN (SAVE) FLAGGED")
        self.ok(s, "st", "STORE $ +FLAGS.SILENT (\\Deleted)")
        self.assertEqual(self.search(s, "DELETED"), [2, 4, 5])
        self.ok(s, "c", "COPY $ Saved")
        self.assertEqual(self.count(s, "Saved"), 3)

    def test_expunged_messages_leave_the_result(self):
        inst, s = self.mailbox()
        self.ok(s, "a", "SEARCH RETURN (SAVE) FLAGGED")
        other = self.login(inst)
        self.ok(other, "sel", "SELECT INBOX")
        self.ok(other, "st", "STORE 4 +FLAGS.SILENT (\\Deleted)")
        self.ok(other, "ex", "EXPUNGE")
        self.ok(s, "n", "NOOP")     # the expunge is reported here
        # old 5 is now 4; old 4 is gone
        self.assertEqual(self.fetched(s, "FETCH $ (UID)"), [2, 4])

    def test_dollar_cannot_be_combined(self):
        _, s = self.mailbox()
        self.ok(s, "a", "SEARCH RETURN (SAVE) FLAGGED")
        _, tagged = s.command("f", "FETCH $,1 (UID)")
        self.assertBAD(tagged, "f")
