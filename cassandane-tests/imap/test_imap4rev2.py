"""imap: IMAP4rev2 (RFC 9051) next to IMAP4rev1: "ENABLE IMAP4rev2" and
the responses that change once it is enabled (appendix E)."""

import re

from imap.selected_util import SelectedTestCase, message, untagged_with
from imap.test_mailbox import names, status


class Imap4rev2Test(SelectedTestCase):
    def rev2(self, user="fred"):
        """A logged-in session that has enabled IMAP4rev2."""
        s = self.login(user)
        lines = self.ok(s, "e", "ENABLE IMAP4rev2")
        self.assertIn(b"* ENABLED IMAP4rev2", lines)
        return s

    # --- capability and ENABLE ---

    def test_both_revisions_advertised(self):
        s = self.instance().raw()
        self.addCleanup(s.close)
        greeting = s.expect_line()
        self.assertIn(b"IMAP4rev1 IMAP4rev2", greeting)
        self.assertIn(b"SASL-IR", greeting)
        _, tagged = s.command("L", "LOGIN fred secret")
        self.assertOK(tagged, "L")
        words = self.ok(s, "c", "CAPABILITY")[0].split()
        for w in (b"IMAP4rev1", b"IMAP4rev2", b"ENABLE", b"UTF8=ACCEPT",
                  b"NAMESPACE", b"UNSELECT", b"UIDPLUS", b"MOVE", b"IDLE",
                  b"ESEARCH", b"SEARCHRES", b"LIST-EXTENDED", b"LIST-STATUS",
                  b"SPECIAL-USE", b"STATUS=SIZE"):
            self.assertIn(w, words)
        self.assertNotIn(b"UTF8=ONLY", words)

    def test_capability_unchanged_by_enable(self):
        s = self.login()
        before = self.ok(s, "c1", "CAPABILITY")
        self.ok(s, "e", "ENABLE IMAP4rev2")
        self.assertEqual(self.ok(s, "c2", "CAPABILITY"), before)

    def test_enable_twice_reports_once(self):
        s = self.rev2()
        lines = self.ok(s, "e2", "ENABLE IMAP4rev2")
        self.assertEqual(lines, [b"* ENABLED"])

    def test_enable_before_login_is_refused(self):
        s = self.instance().raw()
        self.addCleanup(s.close)
        s.expect_line()
        _, tagged = s.command("e", "ENABLE IMAP4rev2")
        self.assertBAD(tagged, "e")

    # --- SELECT ---

    def test_select_sends_list_not_recent_or_unseen(self):
        s = self.rev2()
        self.append(s, msg=message("one"))
        lines = self.select(s)
        self.assertIn(b"* 1 EXISTS", lines)
        self.assertEqual(untagged_with(lines, b"RECENT"), [])
        self.assertEqual(untagged_with(lines, b"[UNSEEN"), [])
        self.assertIn(b'* LIST (\\HasNoChildren) "/" INBOX', lines)
        for code in (b"[UIDVALIDITY ", b"[UIDNEXT 2]", b"[PERMANENTFLAGS ("):
            self.assertTrue(untagged_with(lines, code), code)

    def test_rev1_select_still_sends_recent(self):
        s = self.login()
        self.append(s, msg=message("one"))
        lines = self.select(s)
        self.assertIn(b"* 1 RECENT", lines)
        self.assertEqual(untagged_with(lines, b"* LIST"), [])

    def test_select_list_shows_children(self):
        s = self.rev2()
        self.ok(s, "c1", "CREATE parent")
        self.ok(s, "c2", "CREATE parent/kid")
        lines = self.select(s, "parent")
        self.assertIn(b'* LIST (\\HasChildren) "/" parent', lines)

    def test_select_list_shows_special_use(self):
        s = self.rev2()
        self.ok(s, "c", "CREATE Trash (USE (\\Trash))")
        lines = self.select(s, "Trash")
        self.assertIn(b'* LIST (\\HasNoChildren \\Trash) "/" Trash', lines)

    def test_reselect_sends_closed(self):
        s = self.rev2()
        self.ok(s, "c", "CREATE other")
        self.select(s)
        lines = self.select(s, "other")
        self.assertEqual(lines[0][:13], b"* OK [CLOSED]")

    # --- \Recent, RECENT and unsolicited FETCH ---

    def test_fetch_flags_never_recent(self):
        s = self.rev2()
        self.append(s, msg=message("one"), flags="\\Flagged")
        self.select(s)
        lines = self.ok(s, "f", "FETCH 1 FLAGS")
        self.assertEqual(lines, [b"* 1 FETCH (FLAGS (\\Flagged))"])
        lines = self.ok(s, "st", "STORE 1 +FLAGS (\\Seen)")
        self.assertEqual(lines, [b"* 1 FETCH (FLAGS (\\Flagged \\Seen))"])

    def test_rev1_fetch_flags_shows_recent(self):
        s = self.login()
        self.append(s, msg=message("one"))
        self.select(s)
        lines = self.ok(s, "f", "FETCH 1 FLAGS")
        self.assertEqual(lines, [b"* 1 FETCH (FLAGS (\\Recent))"])

    def test_new_message_reported_without_recent(self):
        s = self.rev2()
        self.select(s)
        other = self.login()
        self.append(other, msg=message("late"))
        lines = self.ok(s, "n", "NOOP")
        self.assertEqual(lines, [b"* 1 EXISTS"])

    def test_unsolicited_fetch_carries_uid(self):
        s = self.rev2()
        self.append(s, msg=message("one"))
        self.append(s, msg=message("two"))
        self.select(s)
        other = self.login()
        self.select(other, cmd="SELECT")
        self.ok(other, "st", "STORE 2 +FLAGS (\\Answered)")
        lines = self.ok(s, "n", "NOOP")
        self.assertEqual(lines, [b"* 2 FETCH (UID 2 FLAGS (\\Answered))"])

    # --- SEARCH answers with ESEARCH ---

    def test_search_answers_esearch_all(self):
        s = self.rev2()
        for i in range(3):
            self.append(s, msg=message("m%d" % i))
        self.select(s)
        lines = self.ok(s, "t1", "SEARCH ALL")
        self.assertEqual(lines, [b'* ESEARCH (TAG "t1") ALL 1:3'])

    def test_uid_search_answers_esearch_uid(self):
        s = self.rev2()
        for i in range(3):
            self.append(s, msg=message("m%d" % i))
        self.select(s)
        self.ok(s, "st", "STORE 2 +FLAGS (\\Seen)")
        lines = self.ok(s, "t2", "UID SEARCH UNSEEN")
        self.assertEqual(lines, [b'* ESEARCH (TAG "t2") UID ALL 1,3'])

    def test_search_without_match_still_answers(self):
        s = self.rev2()
        self.append(s, msg=message("m"))
        self.select(s)
        lines = self.ok(s, "t3", "SEARCH DELETED")
        self.assertEqual(lines, [b'* ESEARCH (TAG "t3")'])

    def test_search_return_options_still_honoured(self):
        s = self.rev2()
        for i in range(4):
            self.append(s, msg=message("m%d" % i))
        self.select(s)
        lines = self.ok(s, "t4", "SEARCH RETURN (MIN COUNT) ALL")
        self.assertEqual(lines, [b'* ESEARCH (TAG "t4") MIN 1 COUNT 4'])

    def test_rev1_search_keeps_search_response(self):
        s = self.login()
        self.append(s, msg=message("m"))
        self.select(s)
        self.assertEqual(self.ok(s, "t", "SEARCH ALL"), [b"* SEARCH 1"])

    # --- STATUS ---

    def test_status_deleted_and_size(self):
        s = self.rev2()
        msg = message("one")
        self.append(s, msg=msg, flags="\\Deleted")
        self.append(s, msg=message("two"))
        self.append(s, msg=message("three"), flags="\\Deleted \\Seen")
        st = status(self.ok(s, "s", "STATUS INBOX (MESSAGES DELETED SIZE)"))
        self.assertEqual(st["MESSAGES"], 3)
        self.assertEqual(st["DELETED"], 2)
        self.assertGreater(st["SIZE"], 3 * len(msg) - 10)

    def test_status_deleted_follows_store(self):
        s = self.rev2()
        self.append(s, msg=message("one"))
        self.ok(s, "c", "CREATE other")
        self.select(s)
        self.ok(s, "st", "STORE 1 +FLAGS (\\Deleted)")
        st = status(self.ok(s, "s1", "STATUS other (DELETED)"))
        self.assertEqual(st, {"DELETED": 0})
        self.ok(s, "u", "UNSELECT")
        st = status(self.ok(s, "s2", "STATUS INBOX (DELETED)"))
        self.assertEqual(st, {"DELETED": 1})

    def test_status_unknown_item_is_bad(self):
        s = self.rev2()
        untagged, tagged = self.cmd(s, "s", "STATUS INBOX (DELETED BOGUS)")
        self.assertBAD(tagged, "s")
        self.assertEqual(untagged, [])

    # --- LIST and LSUB ---

    def test_list_level_is_noselect(self):
        # The level CREATE made above the new mailbox is kept as a
        # placeholder: \Noselect, as RFC 9051's own examples show it.
        s = self.rev2()
        self.ok(s, "c", "CREATE lvl/leaf")
        lines = self.ok(s, "l", 'LIST "" "%"')
        self.assertIn(b'* LIST (\\Noselect \\HasChildren) "/" lvl', lines)

    def test_rev1_list_level_is_noselect(self):
        s = self.login()
        self.ok(s, "c", "CREATE lvl/leaf")
        lines = self.ok(s, "l", 'LIST "" "%"')
        self.assertIn(b'* LIST (\\Noselect \\HasChildren) "/" lvl', lines)

    def test_lsub_still_works(self):
        s = self.rev2()
        self.ok(s, "c", "CREATE subbed")
        self.ok(s, "s", "SUBSCRIBE subbed")
        self.assertEqual(names(self.ok(s, "l", 'LSUB "" "*"'), b"LSUB"),
                         ["subbed"])

    def test_list_delimiter_request(self):
        s = self.rev2()
        self.assertEqual(self.ok(s, "l", 'LIST "" ""'),
                         [b'* LIST (\\Noselect) "/" ""'])

    # --- UTF-8 ---

    def test_utf8_quoted_mailbox_name(self):
        s = self.rev2()
        name = "Entw\u00fcrfe".encode()
        self.ok(s, "c", b'CREATE "' + name + b'"')
        lines = self.ok(s, "l", 'LIST "" "*"')
        self.assertIn(b'* LIST (\\HasNoChildren) "/" "' + name + b'"', lines)
        rev1 = self.login()
        self.assertIn("Entw&APw-rfe", names(self.ok(rev1, "l", 'LIST "" "*"')))

    def test_create_denormalized_reports_oldname(self):
        s = self.rev2()
        nfd = "Cafe\u0301".encode()
        nfc = "Caf\u00e9".encode()
        lines = self.ok(s, "c", b'CREATE "' + nfd + b'"')
        self.assertEqual(lines, [b'* LIST (\\HasNoChildren) "/" "' + nfc +
                                 b'" ("OLDNAME" ("' + nfd + b'"))'])
        lines = self.select(s, '"' + nfd.decode() + '"')
        self.assertIn(b'* LIST (\\HasNoChildren) "/" "' + nfc +
                      b'" ("OLDNAME" ("' + nfd + b'"))', lines)
        lines = self.ok(s, "d", b'DELETE "' + nfd + b'"')
        self.assertEqual(lines, [b'* LIST (\\NonExistent) "/" "' + nfc +
                                 b'" ("OLDNAME" ("' + nfd + b'"))'])

    def test_composed_create_sends_no_list(self):
        s = self.rev2()
        self.assertEqual(self.ok(s, "c", 'CREATE "Caf\u00e9"'.encode()), [])

    # --- folded-in extensions keep working ---

    def test_folded_extensions_work(self):
        s = self.rev2()
        self.append(s, msg=message("one"))
        self.ok(s, "c", "CREATE dest")
        lines = self.ok(s, "ns", "NAMESPACE")
        self.assertTrue(lines[0].startswith(b"* NAMESPACE (("))
        self.select(s)
        untagged, tagged = self.cmd(s, "m", "UID MOVE 1 dest")
        self.assertOK(tagged, "m")
        self.assertTrue(re.search(rb"\[COPYUID \d+ 1 1\]", b" ".join(
            untagged + [tagged])))
        self.assertIn(b"* 1 EXPUNGE", untagged)
        self.ok(s, "u", "UNSELECT")
        st = status(self.ok(s, "s", "STATUS dest (MESSAGES)"))
        self.assertEqual(st, {"MESSAGES": 1})
