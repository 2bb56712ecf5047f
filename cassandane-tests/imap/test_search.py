"""imap: SEARCH and UID SEARCH (RFC 3501 6.4.4, 6.4.8)."""

import re

from imap.mail_util import CONFIG, MailTestCase, message


class SearchTest(MailTestCase):
    def test_flag_keys(self):
        _, s = self.setup_mailbox([(message("a"), "\\Seen", ""),
                                   (message("b"), "\\Flagged \\Answered", ""),
                                   (message("c"), "\\Deleted \\Draft", "")])
        self.assertEqual(self.search(s, "ALL"), [1, 2, 3])
        self.assertEqual(self.search(s, "SEEN"), [1])
        self.assertEqual(self.search(s, "UNSEEN"), [2, 3])
        self.assertEqual(self.search(s, "FLAGGED ANSWERED"), [2])
        self.assertEqual(self.search(s, "UNFLAGGED"), [1, 3])
        self.assertEqual(self.search(s, "UNANSWERED"), [1, 3])
        self.assertEqual(self.search(s, "DELETED"), [3])
        self.assertEqual(self.search(s, "UNDELETED"), [1, 2])
        self.assertEqual(self.search(s, "DRAFT"), [3])
        self.assertEqual(self.search(s, "UNDRAFT"), [1, 2])

    def test_no_match_gives_empty_search_response(self):
        _, s = self.setup_mailbox([message("a")])
        untagged, tagged = s.command("s", "SEARCH FLAGGED")
        self.assertOK(tagged, "s")
        self.assertIn(b"* SEARCH", untagged)

    def test_uid_search_answers_uids(self):
        _, s = self.setup_mailbox([message("a"), message("b"), message("c")])
        _, tagged = s.command("st", "STORE 1 +FLAGS (\\Deleted)")
        self.assertOK(tagged, "st")
        _, tagged = s.command("ex", "EXPUNGE")
        self.assertOK(tagged, "ex")
        self.assertEqual(self.search(s, "ALL"), [1, 2])
        self.assertEqual(self.search(s, "ALL", uid=True), [2, 3])
        self.assertEqual(self.search(s, "UID 3", uid=True), [3])
        self.assertEqual(self.search(s, "UID 3"), [2])
        self.assertEqual(self.search(s, "UID 1"), [])

    def test_sequence_sets(self):
        _, s = self.setup_mailbox([message(str(i)) for i in range(5)])
        self.assertEqual(self.search(s, "2:3"), [2, 3])
        self.assertEqual(self.search(s, "4:*"), [4, 5])
        self.assertEqual(self.search(s, "*"), [5])
        self.assertEqual(self.search(s, "1,3,5"), [1, 3, 5])
        self.assertEqual(self.search(s, "UID 2:4"), [2, 3, 4])
        self.assertEqual(self.search(s, "UID 100:*"), [5])

    def test_or_not_and_parentheses(self):
        _, s = self.setup_mailbox([(message("a"), "\\Seen", ""),
                                   (message("b"), "\\Flagged", ""),
                                   (message("c"), "", "")])
        self.assertEqual(self.search(s, "OR SEEN FLAGGED"), [1, 2])
        self.assertEqual(self.search(s, "NOT SEEN"), [2, 3])
        self.assertEqual(self.search(s, "NOT (SEEN) NOT FLAGGED"), [3])
        self.assertEqual(self.search(s, "(OR SEEN FLAGGED) (NOT 1)"), [2])
        self.assertEqual(self.search(s, "OR (SEEN 1) (UNSEEN 3)"), [1, 3])

    def test_header_keys_are_case_insensitive_substrings(self):
        _, s = self.setup_mailbox([
            message("Quarterly Report", frm="Alice <alice@example.org>",
                    to="Bob <bob@example.net>", headers="Cc: carol@example.com\r\n"),
            message("lunch", frm="Dave <dave@example.org>",
                    to="Alice <alice@example.org>")])
        self.assertEqual(self.search(s, "FROM alice"), [1])
        self.assertEqual(self.search(s, "FROM EXAMPLE.ORG"), [1, 2])
        self.assertEqual(self.search(s, "TO alice"), [2])
        self.assertEqual(self.search(s, "CC carol"), [1])
        self.assertEqual(self.search(s, "BCC carol"), [])
        self.assertEqual(self.search(s, 'SUBJECT "quarterly rep"'), [1])
        self.assertEqual(self.search(s, "SUBJECT LUNCH"), [2])

    def test_header_empty_string_matches_present_field(self):
        _, s = self.setup_mailbox([message("a", headers="X-Tag: one\r\n"),
                                   message("b")])
        self.assertEqual(self.search(s, 'HEADER X-Tag ""'), [1])
        self.assertEqual(self.search(s, 'HEADER x-tag one'), [1])
        self.assertEqual(self.search(s, 'HEADER X-Missing ""'), [])

    def test_encoded_subject_matches_utf8_literal(self):
        _, s = self.setup_mailbox([
            message("=?ISO-8859-1?Q?Caf=E9_cr=E8me?="), message("cafe")])
        pattern = "café".encode()
        s.send(b"s1 SEARCH CHARSET UTF-8 SUBJECT {%d+}\r\n" % len(pattern)
               + pattern + b"\r\n")
        untagged, tagged = s.read_until_tagged("s1")
        self.assertOK(tagged, "s1")
        results = [l for l in untagged if l.startswith(b"* SEARCH")]
        self.assertEqual(len(results), 1)
        self.assertIn(b"1", results[0].split()[2:])

    def test_i18nlevel1_casemap_comparator(self):
        # RFC 5255 4.2: i;unicode-casemap in SEARCH, SORT and THREAD, after
        # RFC 2047 decoding; "ÉTÉ" and "été" compare equal, and so do
        # "ПРИВЕТ" and "Привет".  (RFC 5051 folds through simple titlecase:
        # "ß" is not "SS" there.)
        _, s = self.setup_mailbox([
            message("=?UTF-8?Q?=C3=89T=C3=89_z?="), message("b"),
            message("=?ISO-8859-1?Q?=E9t=E9_a?="),
            message("=?UTF-8?B?0J/RgNC40LLQtdGC?=")])
        self.assertIn("I18NLEVEL=1", self.capabilities(s))
        for pattern, expect in (("été", [1, 3]), ("ÉTÉ", [1, 3]),
                                ("ПРИВЕТ", [4])):
            raw = pattern.encode()
            s.send(b"s1 SEARCH CHARSET UTF-8 SUBJECT {%d+}\r\n" % len(raw)
                   + raw + b"\r\n")
            untagged, tagged = s.read_until_tagged("s1")
            self.assertOK(tagged, "s1")
            line = [l for l in untagged if l.startswith(b"* SEARCH")][0]
            self.assertEqual([int(x) for x in line.split()[2:]], expect,
                             pattern)
        # SORT SUBJECT: "b" first; "été a" before "ÉTÉ z" once casemapped.
        untagged, tagged = s.command("so", "SORT (SUBJECT) UTF-8 ALL")
        self.assertOK(tagged, "so")
        line = [l for l in untagged if l.startswith(b"* SORT")][0]
        order = [int(x) for x in line.split()[2:]]
        self.assertEqual(order[0], 2)
        self.assertLess(order.index(3), order.index(1))

    def test_synchronizing_literal_gets_continuation(self):
        _, s = self.setup_mailbox([message("needle"), message("hay")])
        s.send(b"s1 SEARCH SUBJECT {6}\r\n")
        self.assertTrue(s.expect_line().startswith(b"+"))
        s.send(b"NEEDLE\r\n")
        untagged, tagged = s.read_until_tagged("s1")
        self.assertOK(tagged, "s1")
        self.assertIn(b"* SEARCH 1", untagged)

    def test_body_decodes_transfer_encoding_and_charset(self):
        mime = ("MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b1\r\n")
        body = ("--b1\r\nContent-Type: text/plain; charset=iso-8859-1\r\n"
                "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
                "Voil=E0 un soft=\r\nbreak\r\n"
                "--b1\r\nContent-Type: text/plain; charset=utf-8\r\n"
                "Content-Transfer-Encoding: base64\r\n\r\n"
                "QmFzZTY0IHNlY3JldCB3b3Jk\r\n--b1--\r\n")
        _, s = self.setup_mailbox([message("mime", body=body, headers=mime),
                                   message("plain", body="nothing here\r\n")])
        self.assertEqual(self.search(s, "BODY softbreak"), [1])
        self.assertEqual(self.search(s, 'BODY "secret word"'), [1])
        self.assertEqual(self.search(s, "BODY QmFzZTY0"), [])
        word = "voilà".encode()
        s.send(b"s1 SEARCH CHARSET UTF-8 BODY {%d+}\r\n" % len(word) + word + b"\r\n")
        untagged, tagged = s.read_until_tagged("s1")
        self.assertOK(tagged, "s1")
        self.assertIn(b"* SEARCH 1", untagged)

    def test_body_does_not_match_header_but_text_does(self):
        _, s = self.setup_mailbox([message("zebra", body="giraffe\r\n")])
        self.assertEqual(self.search(s, "BODY zebra"), [])
        self.assertEqual(self.search(s, "BODY GIRAFFE"), [1])
        self.assertEqual(self.search(s, "TEXT zebra"), [1])
        self.assertEqual(self.search(s, "TEXT giraffe"), [1])
        self.assertEqual(self.search(s, "TEXT okapi"), [])

    def test_internal_date_keys(self):
        _, s = self.setup_mailbox([
            (message("a"), "", "10-Mar-2024 12:00:00 +0000"),
            (message("b"), "", "11-Mar-2024 12:00:00 +0000"),
            (message("c"), "", "12-Mar-2024 12:00:00 +0000")])
        self.assertEqual(self.search(s, "BEFORE 11-Mar-2024"), [1])
        self.assertEqual(self.search(s, "ON 11-Mar-2024"), [2])
        self.assertEqual(self.search(s, 'SINCE "11-Mar-2024"'), [2, 3])
        self.assertEqual(self.search(s, "SINCE 13-Mar-2024"), [])

    def test_sent_date_keys_use_the_written_day(self):
        # 23:30 -1000 is already the next day in UTC: the written day counts
        _, s = self.setup_mailbox([
            message("a", date="Mon, 1 Jan 2024 23:30:00 -1000"),
            message("b", date="Wed, 3 Jan 2024 08:00:00 +0000")])
        self.assertEqual(self.search(s, "SENTON 1-Jan-2024"), [1])
        self.assertEqual(self.search(s, "SENTON 2-Jan-2024"), [])
        self.assertEqual(self.search(s, "SENTBEFORE 3-Jan-2024"), [1])
        self.assertEqual(self.search(s, "SENTSINCE 2-Jan-2024"), [2])

    def test_size_keys(self):
        small = message("s", body="x\r\n")
        big = message("b", body="y" * 2000 + "\r\n")
        _, s = self.setup_mailbox([small, big])
        self.assertEqual(self.search(s, "LARGER %d" % len(small)), [2])
        self.assertEqual(self.search(s, "SMALLER %d" % len(big)), [1])
        self.assertEqual(self.search(s, "SMALLER %d" % len(small)), [])

    def test_keyword_keys(self):
        _, s = self.setup_mailbox([message("a"), message("b")])
        _, tagged = s.command("st", "STORE 2 +FLAGS (Junk)")
        self.assertOK(tagged, "st")
        self.assertEqual(self.search(s, "KEYWORD junk"), [2])
        self.assertEqual(self.search(s, "UNKEYWORD Junk"), [1])
        self.assertEqual(self.search(s, "KEYWORD NeverUsed"), [])
        self.assertEqual(self.search(s, "UNKEYWORD NeverUsed"), [1, 2])

    def test_recent_new_old(self):
        inst = self.start_instance(config=dict(CONFIG))
        s = self.login(inst)
        self.append(s, "INBOX", message("a"))
        self.append(s, "INBOX", (message("b"), "\\Seen", ""))
        _, tagged = s.command("S", "SELECT INBOX")
        self.assertOK(tagged, "S")
        self.assertEqual(self.search(s, "RECENT"), [1, 2])
        self.assertEqual(self.search(s, "NEW"), [1])
        self.assertEqual(self.search(s, "OLD"), [])
        # a second session does not get \Recent for them
        s2 = self.login(inst)
        _, tagged = s2.command("S", "SELECT INBOX")
        self.assertOK(tagged, "S")
        self.assertEqual(self.search(s2, "RECENT"), [])
        self.assertEqual(self.search(s2, "OLD"), [1, 2])

    def test_unknown_charset_is_badcharset(self):
        _, s = self.setup_mailbox([message("a")])
        _, tagged = s.command("s", "SEARCH CHARSET X-NO-SUCH-CHARSET SUBJECT a")
        self.assertNO(tagged, "s")
        self.assertIn(b"[BADCHARSET", tagged.upper())
        self.assertEqual(self.search(s, "CHARSET US-ASCII SUBJECT a"), [1])

    def test_invalid_input_is_bad(self):
        _, s = self.setup_mailbox([message("a")])
        for i, bad in enumerate(["", "FOO", "BEFORE 32-Jan-2024", "BEFORE 1-Jan-24",
                                 "ON 2024-01-01", "(ALL", "ALL)", "OR ALL",
                                 "LARGER many", "UID x", "HEADER Subject",
                                 "NOT"]):
            tag = "b%d" % i
            untagged, tagged = s.command(tag, ("SEARCH " + bad).rstrip())
            self.assertBAD(tagged, tag)
            self.assertFalse([l for l in untagged if l.startswith(b"* SEARCH")],
                             "no results for a BAD command: %r" % bad)
        self.assertEqual(self.search(s, "ALL"), [1])

    def test_search_needs_selected_mailbox(self):
        inst = self.start_instance(config=dict(CONFIG))
        s = self.login(inst)
        _, tagged = s.command("s", "SEARCH ALL")
        self.assertBAD(tagged, "s")

    def test_message_expunged_elsewhere_is_not_found(self):
        inst, a = self.setup_mailbox([message("a"), message("b"), message("c")])
        b = self.login(inst)
        _, tagged = b.command("S", "SELECT INBOX")
        self.assertOK(tagged, "S")
        _, tagged = b.command("st", "STORE 2 +FLAGS (\\Deleted)")
        self.assertOK(tagged, "st")
        _, tagged = b.command("ex", "EXPUNGE")
        self.assertOK(tagged, "ex")
        # A's numbers stay as they were until it is told of the expunge,
        # which SEARCH must not do (RFC 3501 7.4.1)
        untagged, tagged = a.command("s", "SEARCH ALL")
        self.assertOK(tagged, "s")
        self.assertIn(b"* SEARCH 1 3", untagged)
        self.assertFalse([l for l in untagged if re.match(rb"\* \d+ EXPUNGE", l)])
        untagged, tagged = a.command("n", "NOOP")
        self.assertIn(b"* 2 EXPUNGE", untagged)
        self.assertEqual(self.search(a, "ALL"), [1, 2])

    def test_new_message_from_other_session_reported_after_results(self):
        inst, a = self.setup_mailbox([message("a")])
        b = self.login(inst)
        self.append(b, "INBOX", message("new one"))
        untagged, tagged = a.command("s", "SEARCH SUBJECT new")
        self.assertOK(tagged, "s")
        # a number is valid only once the client has heard of it
        self.assertIn(b"* 2 EXISTS", untagged)
        result = [l for l in untagged if l.startswith(b"* SEARCH")][0]
        if untagged.index(result) < untagged.index(b"* 2 EXISTS"):
            self.assertEqual(result, b"* SEARCH")
        self.assertEqual(self.search(a, "SUBJECT new"), [2])
