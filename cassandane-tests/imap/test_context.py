"""imap: CONTEXT=SEARCH and CONTEXT=SORT (RFC 5267 section 4): the PARTIAL,
CONTEXT and UPDATE result options (PARTIAL's negative ranges from RFC
9394), ADDTO / REMOVEFROM updates caused by this and other sessions, seen
at NOOP, after commands and while idling, and CANCELUPDATE.

Debian's Cyrus 3.6 does not offer CONTEXT (nor PARTIAL): these tests
need the capability and skip where it is not advertised."""

import re
import time

from imap.sort_util import SortTestCase, mail


def esearches(untagged, tag):
    """The ESEARCH lines of `untagged` correlated with `tag`."""
    prefix = b'* ESEARCH (TAG "' + tag.encode() + b'")'
    return [l for l in untagged if l.startswith(prefix)]


class ContextTestCase(SortTestCase):
    def mailbox(self, msgs):
        inst, s = self.setup_mailbox(msgs)
        if "CONTEXT=SEARCH" not in self.capabilities(s):
            self.skipTest("server does not offer CONTEXT=SEARCH")
        return inst, s

    def other(self, inst):
        """A second session with INBOX selected."""
        t = self.login(inst)
        self.ok(t, "os", "SELECT INBOX")
        return t

    def only_esearch(self, untagged, tag):
        lines = esearches(untagged, tag)
        self.assertEqual(len(lines), 1, untagged)
        return lines[0]

    def noop(self, s, tag="n"):
        return self.ok(s, tag, "NOOP")


class PartialTest(ContextTestCase):
    def five(self):
        return self.mailbox([mail(str(i)) for i in range(1, 6)])

    def test_capabilities(self):
        _, s = self.five()
        caps = self.capabilities(s)
        self.assertIn("CONTEXT=SEARCH", caps)
        self.assertIn("CONTEXT=SORT", caps)
        self.assertIn("ESORT", caps)

    def test_partial_ranges(self):
        _, s = self.five()
        for rng, want in (("1:1", "(1:1 1)"), ("2:4", "(2:4 2:4)"),
                          ("4:2", "(2:4 2:4)"), ("1:6", "(1:6 1:5)"),
                          ("6:9", "(6:9 NIL)"), ("-1:-2", "(-1:-2 4:5)"),
                          ("-2:-1", "(-1:-2 4:5)"), ("-4:-9", "(-4:-9 1:2)"),
                          ("-6:-7", "(-6:-7 NIL)")):
            untagged = self.ok(s, "p", "SEARCH RETURN (PARTIAL %s) ALL" % rng)
            self.assertEqual(self.only_esearch(untagged, "p"),
                             b'* ESEARCH (TAG "p") PARTIAL ' + want.encode())

    def test_uid_partial_with_count_and_min(self):
        _, s = self.five()
        self.ok(s, "d", "STORE 1 +FLAGS.SILENT (\\Deleted)")
        self.ok(s, "e", "EXPUNGE")
        untagged = self.ok(s, "p", "UID SEARCH RETURN (COUNT PARTIAL 2:3 MIN) "
                                   "ALL")
        line = self.only_esearch(untagged, "p")
        self.assertTrue(line.startswith(b'* ESEARCH (TAG "p") UID '), line)
        self.assertIn(b" PARTIAL (2:3 3:4)", line)
        self.assertIn(b" COUNT 4", line)
        self.assertIn(b" MIN 2", line)

    def test_sort_partial_in_sort_order(self):
        _, s = self.five()
        for rng, want in (("2:4", b"PARTIAL (2:4 4,3,2)"),
                          ("1:6", b"PARTIAL (1:6 5,4,3,2,1)"),
                          ("-1:-2", b"PARTIAL (-1:-2 2,1)")):
            untagged = self.ok(s, "p", "SORT RETURN (PARTIAL %s) "
                                       "(REVERSE SUBJECT) UTF-8 ALL" % rng)
            self.assertEqual(self.only_esearch(untagged, "p"),
                             b'* ESEARCH (TAG "p") ' + want)
        # RETURN after the charset, as some clients send it
        untagged = self.ok(s, "q", "SORT (SUBJECT) US-ASCII "
                                   "RETURN (PARTIAL 4:5) ALL")
        self.assertEqual(self.only_esearch(untagged, "q"),
                         b'* ESEARCH (TAG "q") PARTIAL (4:5 4:5)')

    def test_save_keeps_the_partial_results(self):
        _, s = self.five()
        self.ok(s, "sv", "SEARCH RETURN (SAVE PARTIAL 2:3) ALL")
        untagged = self.ok(s, "f", "FETCH $ (UID)")
        self.assertEqual(sorted(int(l.split()[1]) for l in untagged
                                if b"FETCH" in l), [2, 3])
        # with COUNT, "$" holds everything found (RFC 9394 3.2)
        self.ok(s, "sv", "SEARCH RETURN (SAVE COUNT PARTIAL 2:3) ALL")
        untagged = self.ok(s, "f", "FETCH $ (UID)")
        self.assertEqual(len([l for l in untagged if b"FETCH" in l]), 5)

    def test_context_is_a_hint(self):
        _, s = self.five()
        untagged = self.ok(s, "c", "SEARCH RETURN (CONTEXT COUNT) ALL")
        self.assertEqual(self.only_esearch(untagged, "c"),
                         b'* ESEARCH (TAG "c") COUNT 5')
        untagged = self.ok(s, "c", "SEARCH RETURN (CONTEXT) 2:3")
        self.assertEqual(self.only_esearch(untagged, "c"),
                         b'* ESEARCH (TAG "c") ALL 2:3')

    def test_bad_partial_changes_nothing(self):
        _, s = self.five()
        self.ok(s, "sv", "SEARCH RETURN (SAVE) 4")
        for opts in ("PARTIAL 1:2 ALL", "ALL PARTIAL 1:2", "PARTIAL 1",
                     "PARTIAL 1:*", "PARTIAL *:1", "PARTIAL 0:3",
                     "PARTIAL 1:-3", "PARTIAL 1:2 PARTIAL 3:4", "PARTIAL",
                     "UPDATE (UID)"):
            untagged, tagged = s.command(
                "b", "SEARCH RETURN (SAVE UPDATE %s) 1:2" % opts)
            self.assertBAD(tagged, "b")
            self.assertFalse(esearches(untagged, "b"), untagged)
        # "$" is still message 4, and no context was made
        untagged = self.ok(s, "f", "FETCH $ (UID)")
        self.assertEqual([l for l in untagged if b"FETCH" in l],
                         [b"* 4 FETCH (UID 4)"])
        untagged = self.ok(s, "st", "STORE 1 +FLAGS (\\Seen)")
        self.assertFalse(esearches(untagged, "b"), untagged)
        _, tagged = s.command("cu", 'CANCELUPDATE "b"')
        self.assertNO(tagged, "cu")


class UpdateTest(ContextTestCase):
    def test_update_alone_answers_the_tag_only(self):
        _, s = self.mailbox([mail("a"), mail("b")])
        untagged = self.ok(s, "u1", "SEARCH RETURN (UPDATE) FLAGGED")
        self.assertEqual(self.only_esearch(untagged, "u1"),
                         b'* ESEARCH (TAG "u1")')
        untagged = self.ok(s, "u2", "UID SEARCH RETURN (UPDATE) FLAGGED")
        self.assertEqual(self.only_esearch(untagged, "u2"),
                         b'* ESEARCH (TAG "u2") UID')

    def test_own_store_adds_and_removes_in_one_response(self):
        # imaptest search-context-update2: one ESEARCH per update
        _, s = self.mailbox([mail("s%d" % i) for i in range(1, 6)])
        self.ok(s, "f", "STORE 1,2 +FLAGS.SILENT (\\Seen)")
        untagged = self.ok(s, "u", "SEARCH RETURN (UPDATE ALL) SEEN")
        self.assertEqual(self.only_esearch(untagged, "u"),
                         b'* ESEARCH (TAG "u") ALL 1:2')
        untagged = self.ok(s, "a", "STORE 3:5 +FLAGS (\\Seen)")
        # the FETCH responses come first (RFC 5465 5.1)
        self.assertTrue(untagged[-1].startswith(b"* ESEARCH"), untagged)
        self.assertEqual(len([l for l in untagged if b"FETCH" in l]), 3)
        self.assertEqual(self.only_esearch(untagged, "u"),
                         b'* ESEARCH (TAG "u") ADDTO (0 3:5)')
        untagged = self.ok(s, "b", "STORE 1,3:5 -FLAGS.SILENT (\\Seen)")
        self.assertEqual(self.only_esearch(untagged, "u"),
                         b'* ESEARCH (TAG "u") REMOVEFROM (0 1,3:5)')
        # a change that leaves the result as it is says nothing
        untagged = self.ok(s, "c", "STORE 2 +FLAGS.SILENT (\\Flagged)")
        self.assertFalse(esearches(untagged, "u"), untagged)

    def test_other_session_append_seen_by_noop(self):
        inst, s = self.mailbox([mail("tea"), mail("coffee")])
        t = self.other(inst)
        untagged = self.ok(s, "u", "UID SEARCH RETURN (UPDATE COUNT) "
                                   "SUBJECT tea")
        self.assertEqual(self.only_esearch(untagged, "u"),
                         b'* ESEARCH (TAG "u") UID COUNT 1')
        self.append(t, "INBOX", mail("more tea"))
        self.append(t, "INBOX", mail("water"))
        untagged = self.noop(s)
        self.assertIn(b"* 4 EXISTS", untagged)
        line = self.only_esearch(untagged, "u")
        self.assertEqual(line, b'* ESEARCH (TAG "u") UID ADDTO (0 3)')
        # EXISTS comes first (RFC 5267 4.3.3)
        self.assertLess(untagged.index(b"* 4 EXISTS"), untagged.index(line))
        # nothing new, nothing said
        self.assertFalse(esearches(self.noop(s), "u"))

    def test_sequence_numbers_after_exists(self):
        inst, s = self.mailbox([mail("x")])
        t = self.other(inst)
        self.ok(s, "u", "SEARCH RETURN (UPDATE) UNSEEN")
        self.append(t, "INBOX", mail("y"))
        self.append(t, "INBOX", (mail("z"), "\\Seen", ""))
        self.append(t, "INBOX", mail("w"))
        untagged = self.noop(s)
        line = self.only_esearch(untagged, "u")
        self.assertEqual(line, b'* ESEARCH (TAG "u") ADDTO (0 2,4)')
        self.assertLess(untagged.index(b"* 4 EXISTS"), untagged.index(line))

    def test_other_session_flags_and_expunge(self):
        inst, s = self.mailbox([mail(str(i)) for i in range(1, 6)])
        t = self.other(inst)
        self.ok(s, "u", "SEARCH RETURN (UPDATE ALL) FLAGGED")
        self.ok(t, "f", "STORE 2,4 +FLAGS.SILENT (\\Flagged)")
        untagged = self.noop(s)
        line = self.only_esearch(untagged, "u")
        self.assertEqual(line, b'* ESEARCH (TAG "u") ADDTO (0 2,4)')
        fetches = [i for i, l in enumerate(untagged) if b"FETCH" in l]
        self.assertEqual(len(fetches), 2, untagged)
        self.assertLess(max(fetches), untagged.index(line))
        # expunged: REMOVEFROM before the EXPUNGE, while 4 still is 4
        self.ok(t, "d", "STORE 4 +FLAGS.SILENT (\\Deleted)")
        self.ok(t, "x", "EXPUNGE")
        untagged = self.noop(s)
        line = self.only_esearch(untagged, "u")
        self.assertEqual(line, b'* ESEARCH (TAG "u") REMOVEFROM (0 4)')
        self.assertLess(untagged.index(line), untagged.index(b"* 4 EXPUNGE"))
        # numbers are the new ones afterwards: message 5 is now 4
        self.ok(t, "g", "STORE 4 +FLAGS.SILENT (\\Flagged)")
        untagged = self.noop(s)
        self.assertEqual(self.only_esearch(untagged, "u"),
                         b'* ESEARCH (TAG "u") ADDTO (0 4)')

    def test_expunge_reported_early_during_fetch(self):
        # RFC 5267 A.3: REMOVEFROM may come while EXPUNGE has to wait
        inst, s = self.mailbox([mail("1"), mail("2"), mail("3")])
        t = self.other(inst)
        self.ok(s, "u", "SEARCH RETURN (UPDATE) ALL")
        self.ok(t, "d", "STORE 2 +FLAGS.SILENT (\\Deleted)")
        self.ok(t, "x", "EXPUNGE")
        untagged = self.ok(s, "f", "FETCH 1 (UID)")
        self.assertEqual(self.only_esearch(untagged, "u"),
                         b'* ESEARCH (TAG "u") REMOVEFROM (0 2)')
        self.assertFalse([l for l in untagged if b"EXPUNGE" in l], untagged)
        untagged = self.noop(s)
        self.assertIn(b"* 2 EXPUNGE", untagged)
        self.assertFalse(esearches(untagged, "u"), untagged)

    def test_uid_context_one_response_for_expunge_and_flags(self):
        inst, s = self.mailbox([mail(str(i)) for i in range(1, 5)])
        t = self.other(inst)
        self.ok(s, "u", "UID SEARCH RETURN (UPDATE) UNSEEN")
        self.ok(t, "d", "STORE 1 +FLAGS.SILENT (\\Deleted)")
        self.ok(t, "x", "EXPUNGE")
        # the other session's message 2 is UID 3 now
        self.ok(t, "s", "STORE 2 +FLAGS.SILENT (\\Seen)")
        self.append(t, "INBOX", mail("5"))
        untagged = self.noop(s)
        self.assertEqual(self.only_esearch(untagged, "u"),
                         b'* ESEARCH (TAG "u") UID REMOVEFROM (0 1,3) '
                         b'ADDTO (0 5)')

    def test_updates_while_idling(self):
        inst, s = self.mailbox([mail("1"), mail("2")])
        t = self.other(inst)
        self.ok(s, "u", "UID SEARCH RETURN (UPDATE) FLAGGED")
        s.send(b"I IDLE\r\n")
        self.assertEqual(s.expect_line(), b"+ idling")
        self.append(t, "INBOX", (mail("3"), "\\Flagged", ""))
        lines = [s.expect_line(timeout=3)]
        while not lines[-1].startswith(b"* ESEARCH"):
            lines.append(s.expect_line(timeout=3))
        self.assertIn(b"* 3 EXISTS", lines)
        self.assertEqual(lines[-1], b'* ESEARCH (TAG "u") UID ADDTO (0 3)')
        self.ok(t, "f", "STORE 1 +FLAGS.SILENT (\\Flagged)")
        lines = [s.expect_line(timeout=3)]
        while not lines[-1].startswith(b"* ESEARCH"):
            lines.append(s.expect_line(timeout=3))
        self.assertEqual(lines[-1], b'* ESEARCH (TAG "u") UID ADDTO (0 1)')
        self.ok(t, "d", "STORE 3 +FLAGS.SILENT (\\Deleted)")
        self.ok(t, "x", "EXPUNGE")
        lines = [s.expect_line(timeout=3)]
        while not lines[-1].startswith(b"* ESEARCH"):
            lines.append(s.expect_line(timeout=3))
        self.assertEqual(lines[-1], b'* ESEARCH (TAG "u") UID REMOVEFROM (0 3)')
        s.send(b"DONE\r\n")
        _, tagged = s.read_until_tagged("I")
        self.assertOK(tagged, "I")

    def test_sequence_numbers_in_criteria_are_fixed(self):
        # RFC 5267 4.3: numbers in the program are evaluated once
        inst, s = self.mailbox([mail(str(i)) for i in range(1, 5)])
        self.ok(s, "u", "SEARCH RETURN (UPDATE) 1:2 FLAGGED")
        self.ok(s, "d", "STORE 1 +FLAGS.SILENT (\\Deleted)")
        self.ok(s, "x", "EXPUNGE")
        # message 3 (UID 3) is now number 2: not in the context
        untagged = self.ok(s, "f", "STORE 2 +FLAGS.SILENT (\\Flagged)")
        self.assertFalse(esearches(untagged, "u"), untagged)
        # message 1 (UID 2) was message 2: it is
        untagged = self.ok(s, "g", "STORE 1 +FLAGS.SILENT (\\Flagged)")
        self.assertEqual(self.only_esearch(untagged, "u"),
                         b'* ESEARCH (TAG "u") ADDTO (0 1)')

    def test_keyword_created_later(self):
        _, s = self.mailbox([mail("1"), mail("2")])
        self.ok(s, "u", "UID SEARCH RETURN (UPDATE) KEYWORD $Later")
        untagged = self.ok(s, "k", "STORE 2 +FLAGS ($Later)")
        self.assertEqual(self.only_esearch(untagged, "u"),
                         b'* ESEARCH (TAG "u") UID ADDTO (0 2)')

    def test_save_with_update_keeps_the_first_result(self):
        _, s = self.mailbox([mail("1"), mail("2"), mail("3")])
        self.ok(s, "u", "SEARCH RETURN (UPDATE SAVE) FLAGGED")
        untagged = self.ok(s, "k", "STORE 1 +FLAGS (\\Flagged)")
        self.assertEqual(self.only_esearch(untagged, "u"),
                         b'* ESEARCH (TAG "u") ADDTO (0 1)')
        untagged = self.ok(s, "f", "FETCH $ (UID)")
        self.assertFalse([l for l in untagged if b"FETCH" in l], untagged)

    def test_modseq_criterion_with_update(self):
        _, s = self.mailbox([mail("1"), mail("2")])
        untagged = self.ok(s, "m", "FETCH 2 (MODSEQ)")
        modseq = int(re.search(rb"MODSEQ \((\d+)\)",
                               b" ".join(untagged)).group(1))
        untagged = self.ok(s, "u", "SEARCH RETURN (UPDATE ALL) MODSEQ %d"
                                   % (modseq + 1))
        self.assertEqual(self.only_esearch(untagged, "u"),
                         b'* ESEARCH (TAG "u")')
        untagged = self.ok(s, "k", "STORE 1 +FLAGS.SILENT (\\Seen)")
        self.assertEqual(self.only_esearch(untagged, "u"),
                         b'* ESEARCH (TAG "u") ADDTO (0 1)')


    def test_younger_ages_out(self):
        # RFC 5032 2: a WITHIN result is evaluated again as time passes
        _, s = self.mailbox([mail("1"), mail("2")])
        untagged = self.ok(s, "u", "SEARCH RETURN (UPDATE COUNT) YOUNGER 2")
        self.assertEqual(self.only_esearch(untagged, "u"),
                         b'* ESEARCH (TAG "u") COUNT 2')
        time.sleep(3.2)
        untagged = self.noop(s)
        self.assertEqual(self.only_esearch(untagged, "u"),
                         b'* ESEARCH (TAG "u") REMOVEFROM (0 1:2)')
        self.assertFalse(esearches(self.noop(s), "u"))


class SortedContextTest(ContextTestCase):
    def test_positions_follow_the_sort_order(self):
        inst, s = self.mailbox([mail("b"), mail("d"), mail("f")])
        t = self.other(inst)
        untagged = self.ok(s, "u", "UID SORT RETURN (UPDATE ALL) (SUBJECT) "
                                   "UTF-8 ALL")
        self.assertEqual(self.only_esearch(untagged, "u"),
                         b'* ESEARCH (TAG "u") UID ALL 1:3')
        self.append(t, "INBOX", mail("c"))            # UID 4
        untagged = self.noop(s)
        self.assertEqual(self.only_esearch(untagged, "u"),
                         b'* ESEARCH (TAG "u") UID ADDTO (2 4)')
        self.append(t, "INBOX", mail("a"))            # UID 5
        self.append(t, "INBOX", mail("e"))            # UID 6
        untagged = self.noop(s)
        # a,b,c,d,e,f: 5 goes first, then 6 at the fifth place
        self.assertEqual(self.only_esearch(untagged, "u"),
                         b'* ESEARCH (TAG "u") UID ADDTO (1 5 5 6)')
        self.ok(t, "d", "UID STORE 2,4 +FLAGS.SILENT (\\Deleted)")
        self.ok(t, "x", "EXPUNGE")
        untagged = self.noop(s)
        # from a,b,c,d,e,f: c and d, side by side from the third place
        self.assertEqual(self.only_esearch(untagged, "u"),
                         b'* ESEARCH (TAG "u") UID REMOVEFROM (3 4,2)')

    def test_sequence_number_context_removes_before_expunge(self):
        inst, s = self.mailbox([mail("c"), mail("a"), mail("b")])
        t = self.other(inst)
        untagged = self.ok(s, "u", "SORT RETURN (UPDATE ALL) (SUBJECT) "
                                   "UTF-8 ALL")
        self.assertEqual(self.only_esearch(untagged, "u"),
                         b'* ESEARCH (TAG "u") ALL 2:3,1')
        self.ok(t, "d", "STORE 2 +FLAGS.SILENT (\\Deleted)")
        self.ok(t, "x", "EXPUNGE")
        self.append(t, "INBOX", mail("aa"))
        untagged = self.noop(s)
        first = untagged.index(b"* 2 EXPUNGE")
        lines = esearches(untagged, "u")
        self.assertEqual(lines, [b'* ESEARCH (TAG "u") REMOVEFROM (1 2)',
                                 b'* ESEARCH (TAG "u") ADDTO (1 3)'])
        self.assertLess(untagged.index(lines[0]), first)
        self.assertLess(first, untagged.index(b"* 3 EXISTS"))
        self.assertLess(untagged.index(b"* 3 EXISTS"),
                        untagged.index(lines[1]))

    def test_modseq_order_moves_a_changed_message(self):
        _, s = self.mailbox([mail("1"), mail("2"), mail("3")])
        untagged = self.ok(s, "u", "UID SORT RETURN (UPDATE ALL) (MODSEQ) "
                                   "UTF-8 ALL")
        self.assertEqual(self.only_esearch(untagged, "u"),
                         b'* ESEARCH (TAG "u") UID ALL 1:3')
        untagged = self.ok(s, "k", "STORE 1 +FLAGS.SILENT (\\Flagged)")
        self.assertEqual(self.only_esearch(untagged, "u"),
                         b'* ESEARCH (TAG "u") UID REMOVEFROM (1 1) '
                         b'ADDTO (3 1)')

    def test_sort_update_with_partial_and_count(self):
        inst, s = self.mailbox([mail("b"), mail("a")])
        t = self.other(inst)
        untagged = self.ok(s, "u", "SORT RETURN (UPDATE COUNT PARTIAL 1:1) "
                                   "(SUBJECT) UTF-8 UNSEEN")
        self.assertEqual(self.only_esearch(untagged, "u"),
                         b'* ESEARCH (TAG "u") PARTIAL (1:1 2) COUNT 2')
        self.ok(t, "s", "STORE 2 +FLAGS.SILENT (\\Seen)")
        untagged = self.noop(s)
        self.assertEqual(self.only_esearch(untagged, "u"),
                         b'* ESEARCH (TAG "u") REMOVEFROM (1 2)')


class CancelTest(ContextTestCase):
    def test_cancelupdate_stops_updates(self):
        _, s = self.mailbox([mail("1"), mail("2"), mail("3")])
        self.ok(s, "u1", "SEARCH RETURN (UPDATE) FLAGGED")
        self.ok(s, "u2", "UID SORT RETURN (UPDATE) (SUBJECT) UTF-8 FLAGGED")
        untagged = self.ok(s, "k", "STORE 1 +FLAGS.SILENT (\\Flagged)")
        self.assertEqual(len(esearches(untagged, "u1")), 1)
        self.assertEqual(len(esearches(untagged, "u2")), 1)
        self.ok(s, "c", 'CANCELUPDATE "u1" "u2"')
        untagged = self.ok(s, "k", "STORE 2 +FLAGS.SILENT (\\Flagged)")
        self.assertFalse([l for l in untagged if b"ESEARCH" in l], untagged)
        # the tag is free again
        self.ok(s, "u1", "SEARCH RETURN (UPDATE) FLAGGED")
        untagged = self.ok(s, "k", "STORE 3 +FLAGS.SILENT (\\Flagged)")
        self.assertEqual(self.only_esearch(untagged, "u1"),
                         b'* ESEARCH (TAG "u1") ADDTO (0 3)')

    def test_cancelupdate_errors_change_nothing(self):
        _, s = self.mailbox([mail("1"), mail("2")])
        self.ok(s, "u1", "SEARCH RETURN (UPDATE) FLAGGED")
        for args in ("", " u1", ' "u1" u1', ' ("u1")', ' "u1"  "u1"', ' "u1" '):
            _, tagged = s.command("c", "CANCELUPDATE" + args)
            self.assertBAD(tagged, "c")
        # one unknown tag: nothing is cancelled
        _, tagged = s.command("c", 'CANCELUPDATE "u1" "nosuch"')
        self.assertNO(tagged, "c")
        untagged = self.ok(s, "k", "STORE 1 +FLAGS.SILENT (\\Flagged)")
        self.assertEqual(self.only_esearch(untagged, "u1"),
                         b'* ESEARCH (TAG "u1") ADDTO (0 1)')

    def test_cancelupdate_needs_a_selected_mailbox(self):
        inst, s = self.mailbox([mail("1")])
        self.ok(s, "u", "SEARCH RETURN (UPDATE) ALL")
        self.ok(s, "un", "UNSELECT")
        _, tagged = s.command("c", 'CANCELUPDATE "u"')
        self.assertBAD(tagged, "c")

    def test_unselect_and_select_end_contexts(self):
        inst, s = self.mailbox([mail("1"), mail("2")])
        t = self.other(inst)
        self.ok(s, "u", "UID SEARCH RETURN (UPDATE) ALL")
        self.ok(s, "un", "UNSELECT")
        self.ok(s, "se", "SELECT INBOX")
        self.append(t, "INBOX", mail("3"))
        untagged = self.noop(s)
        self.assertIn(b"* 3 EXISTS", untagged)
        self.assertFalse(esearches(untagged, "u"), untagged)
        # and the tag may be used again
        self.ok(s, "u", "UID SEARCH RETURN (UPDATE) ALL")
        self.ok(s, "se", "SELECT INBOX")
        self.append(t, "INBOX", mail("4"))
        self.assertFalse(esearches(self.noop(s), "u"))
        _, tagged = s.command("c", 'CANCELUPDATE "u"')
        self.assertNO(tagged, "c")

    def test_tag_reuse_is_bad(self):
        _, s = self.mailbox([mail("1"), mail("2")])
        self.ok(s, "B01", "UID SEARCH RETURN (UPDATE COUNT) DELETED")
        self.ok(s, "sv", "SEARCH RETURN (SAVE) 2")
        untagged, tagged = s.command("B01", "SORT RETURN (UPDATE SAVE) "
                                            "(SUBJECT) UTF-8 1")
        self.assertBAD(tagged, "B01")
        self.assertFalse([l for l in untagged if b"ESEARCH" in l], untagged)
        # "$" untouched; the first context still works
        untagged = self.ok(s, "f", "FETCH $ (UID)")
        self.assertEqual([l for l in untagged if b"FETCH" in l],
                         [b"* 2 FETCH (UID 2)"])
        untagged = self.ok(s, "k", "STORE 1 +FLAGS.SILENT (\\Deleted)")
        self.assertEqual(self.only_esearch(untagged, "B01"),
                         b'* ESEARCH (TAG "B01") UID ADDTO (0 1)')
        # without UPDATE the tag may be reused freely
        self.ok(s, "B01", "SEARCH RETURN (COUNT) ALL")

    def test_too_many_contexts_noupdate(self):
        _, s = self.mailbox([mail("1"), mail("2")])
        for i in range(16):
            untagged = self.ok(s, "t%d" % i, "SEARCH RETURN (UPDATE) FLAGGED")
            self.assertFalse([l for l in untagged if b"NOUPDATE" in l])
        untagged = self.ok(s, "t16", "SEARCH RETURN (UPDATE COUNT) ALL")
        self.assertEqual(self.only_esearch(untagged, "t16"),
                         b'* ESEARCH (TAG "t16") COUNT 2')
        self.assertTrue([l for l in untagged
                         if l.startswith(b'* NO [NOUPDATE "t16"]')], untagged)
        untagged = self.ok(s, "k", "STORE 1 +FLAGS.SILENT (\\Flagged)")
        self.assertEqual(len([l for l in untagged if b"ESEARCH" in l]), 16)
        self.assertFalse(esearches(untagged, "t16"))
        # cancelling one makes room
        self.ok(s, "c", 'CANCELUPDATE "t3"')
        untagged = self.ok(s, "t17", "SEARCH RETURN (UPDATE) ALL")
        self.assertFalse([l for l in untagged if b"NOUPDATE" in l])
