"""imap: UTF8=ACCEPT (RFC 6855): UTF-8 mailbox names and quoted strings
once enabled, modified UTF-7 for every other session, NFC normalisation
of names (RFC 5198, RFC 9051 section 5.1)."""

from imap.selected_util import SelectedTestCase, message, read_response
from imap.test_mailbox import names, status

UE = "Entw\u00fcrfe"                       # composed u-umlaut
UE_MUTF7 = "Entw&APw-rfe"
CAFE_NFC = "Caf\u00e9"
CAFE_NFD = "Cafe\u0301"                     # e + COMBINING ACUTE ACCENT
CAFE_MUTF7 = "Caf&AOk-"
TAIPEI = "\u53f0\u5317"                     # RFC 3501 5.1.3's example
TAIPEI_MUTF7 = "&U,BTFw-"


def q(name):
    """`name` as a quoted string, UTF-8 encoded."""
    return b'"' + name.encode() + b'"'


class Utf8AcceptTest(SelectedTestCase):
    def utf8(self, user="fred"):
        s = self.login(user)
        self.assertEqual(self.ok(s, "e", "ENABLE UTF8=ACCEPT"),
                         [b"* ENABLED UTF8=ACCEPT"])
        return s

    def list_names(self, s, pattern="*"):
        return names(self.ok(s, "l", b'LIST "" ' + q(pattern)))

    def test_advertised_after_login(self):
        # Before login the list is Cyrus's (cyradm decides from it), so
        # only the authenticated list is checked: UTF8=ACCEPT, never ONLY.
        s = self.instance().raw()
        self.addCleanup(s.close)
        s.expect_line()
        _, tagged = s.command("L", "LOGIN fred secret")
        self.assertOK(tagged, "L")
        words = self.ok(s, "c", "CAPABILITY")[0].split()
        self.assertIn(b"UTF8=ACCEPT", words)
        self.assertNotIn(b"UTF8=ONLY", words)

    def test_utf8_quoted_string_refused_before_enable(self):
        s = self.login()
        untagged, tagged = self.cmd(s, "c", b"CREATE " + q(UE))
        self.assertBAD(tagged, "c")
        self.assertNotIn(UE_MUTF7, self.list_names(s))

    def test_invalid_utf8_quoted_string_is_bad(self):
        s = self.utf8()
        _, tagged = self.cmd(s, "c", b'CREATE "bad\xc3("')
        self.assertBAD(tagged, "c")
        _, tagged = self.cmd(s, "c2", b'CREATE "over\xc0\xaflong"')
        self.assertBAD(tagged, "c2")
        self.assertEqual(self.list_names(s), ["INBOX"])

    def test_invalid_utf8_literal_name_is_refused(self):
        s = self.utf8()
        s.send(b"c CREATE {4+}\r\nab\xff\xfe\r\n")
        _, tagged = read_response(s, "c")
        self.assertNO(tagged, "c")
        self.assertEqual(self.list_names(s), ["INBOX"])

    def test_control_characters_refused_in_names(self):
        s = self.utf8()
        for i, bad in enumerate(("a\u0085b", "a\u2028b", "a\u2029b")):
            _, tagged = self.cmd(s, "c%d" % i, b"CREATE " + q(bad))
            self.assertNO(tagged, "c%d" % i)
        s.send(b"t CREATE {3+}\r\na\tb\r\n")
        _, tagged = read_response(s, "t")
        self.assertNO(tagged, "t")
        self.assertEqual(self.list_names(s), ["INBOX"])

    def test_utf8_name_seen_as_mutf7_by_other_session(self):
        s = self.utf8()
        self.ok(s, "c", b"CREATE " + q(UE))
        self.ok(s, "c2", b"CREATE " + q(TAIPEI + "/" + UE))
        rev1 = self.login()
        got = self.list_names(rev1)
        self.assertIn(UE_MUTF7, got)
        self.assertIn(TAIPEI_MUTF7 + "/" + UE_MUTF7, got)
        self.assertIn(TAIPEI_MUTF7, got)
        self.ok(rev1, "x", "EXAMINE " + UE_MUTF7)

    def test_mutf7_name_seen_as_utf8_by_utf8_session(self):
        rev1 = self.login()
        self.ok(rev1, "c", "CREATE " + TAIPEI_MUTF7)
        s = self.utf8()
        lines = self.ok(s, "l", 'LIST "" "*"')
        # quoted UTF-8, not a literal and not modified UTF-7
        self.assertIn(b'* LIST (\\HasNoChildren) "/" ' + q(TAIPEI), lines)
        self.ok(s, "x", b"EXAMINE " + q(TAIPEI))

    def test_ampersand_is_plain_in_utf8(self):
        s = self.utf8()
        self.ok(s, "c", 'CREATE "Tom & Jerry"')
        self.assertIn("Tom & Jerry", self.list_names(s))
        rev1 = self.login()
        self.assertIn("Tom &- Jerry", self.list_names(rev1))
        # a modified UTF-7 spelling is just another name now
        _, tagged = self.cmd(s, "x", "SELECT " + CAFE_MUTF7)
        self.assertNO(tagged, "x")

    def test_decomposed_name_matches_composed(self):
        s = self.utf8()
        self.ok(s, "c", b"CREATE " + q(CAFE_NFD))
        # stored and listed composed
        self.assertIn(CAFE_NFC, self.list_names(s))
        self.assertNotIn(CAFE_NFD, self.list_names(s))
        self.ok(s, "x1", b"EXAMINE " + q(CAFE_NFC))
        self.ok(s, "x2", b"EXAMINE " + q(CAFE_NFD))
        # a second CREATE in the other spelling is the same mailbox
        _, tagged = self.cmd(s, "c2", b"CREATE " + q(CAFE_NFC))
        self.assertNO(tagged, "c2")
        self.assertIn(b"[ALREADYEXISTS]", tagged)
        # and a pattern in either spelling finds it
        self.assertEqual(self.list_names(s, CAFE_NFD), [CAFE_NFC])
        self.assertEqual(self.list_names(s, "Cafe\u0301%"), [CAFE_NFC])
        rev1 = self.login()
        self.assertIn(CAFE_MUTF7, self.list_names(rev1))

    def test_decomposed_name_from_another_session(self):
        rev2 = self.utf8()
        self.ok(rev2, "c", b"CREATE " + q(CAFE_NFC))
        other = self.utf8()
        self.ok(other, "a", b"STATUS " + q(CAFE_NFD) + b" (MESSAGES)")
        self.ok(other, "d", b"DELETE " + q(CAFE_NFD))
        self.assertNotIn(CAFE_NFC, self.list_names(rev2))

    def test_rename_to_and_from_utf8(self):
        s = self.utf8()
        self.ok(s, "c", "CREATE plain")
        self.ok(s, "r1", b"RENAME plain " + q(UE))
        self.assertIn(UE, self.list_names(s))
        self.ok(s, "r2", b"RENAME " + q(UE) + b" " + q(TAIPEI))
        got = self.list_names(s)
        self.assertIn(TAIPEI, got)
        self.assertNotIn(UE, got)

    def test_append_status_and_select_by_utf8_name(self):
        s = self.utf8()
        self.ok(s, "c", b"CREATE " + q(UE))
        msg = message("draft")
        s.send(b"A APPEND " + q(UE) + b" {%d+}\r\n" % len(msg) + msg + b"\r\n")
        _, tagged = read_response(s, "A")
        self.assertOK(tagged, "A")
        lines = self.ok(s, "s", b"STATUS " + q(UE) + b" (MESSAGES)")
        self.assertEqual(lines, [b"* STATUS " + q(UE) + b" (MESSAGES 1)"])
        lines = self.ok(s, "x", b"SELECT " + q(UE))
        self.assertIn(b"* 1 EXISTS", lines)

    def test_copy_to_utf8_name(self):
        s = self.utf8()
        self.append(s, msg=message("one"))
        self.ok(s, "c", b"CREATE " + q(TAIPEI))
        self.select(s)
        self.ok(s, "cp", b"COPY 1 " + q(TAIPEI))
        rev1 = self.login()
        st = status(self.ok(rev1, "s", "STATUS %s (MESSAGES)" % TAIPEI_MUTF7))
        self.assertEqual(st, {"MESSAGES": 1})

    def test_subscribe_and_lsub_in_utf8(self):
        s = self.utf8()
        self.ok(s, "c", b"CREATE " + q(UE))
        self.ok(s, "sub", b"SUBSCRIBE " + q(UE))
        self.assertEqual(names(self.ok(s, "l", 'LSUB "" "*"'), b"LSUB"), [UE])
        rev1 = self.login()
        self.assertEqual(names(self.ok(rev1, "l", 'LSUB "" "*"'), b"LSUB"),
                         [UE_MUTF7])
        lines = self.ok(s, "l2", 'LIST (SUBSCRIBED) "" "*"')
        self.assertEqual(names(lines), [UE])

    def test_acl_and_quota_answers_in_utf8(self):
        s = self.utf8()
        self.ok(s, "c", b"CREATE " + q(UE))
        lines = self.ok(s, "m", b"MYRIGHTS " + q(UE))
        self.assertTrue(lines[0].startswith(b"* MYRIGHTS " + q(UE) + b" "))
        lines = self.ok(s, "g", b"GETACL " + q(UE))
        self.assertTrue(lines[0].startswith(b"* ACL " + q(UE) + b" "))
        lines = self.ok(s, "r", b"GETQUOTAROOT " + q(UE))
        self.assertTrue(lines[0].startswith(b"* QUOTAROOT " + q(UE)))

    def test_list_status_in_utf8(self):
        s = self.utf8()
        self.ok(s, "c", b"CREATE " + q(UE))
        lines = self.ok(s, "l", b'LIST "" ' + q(UE) +
                        b" RETURN (STATUS (MESSAGES))")
        self.assertIn(b"* STATUS " + q(UE) + b" (MESSAGES 0)", lines)

    def test_append_utf8_data_item(self):
        s = self.utf8()
        msg = ("From: J\u00f6rg <j@example.com>\r\nSubject: Gr\u00fc\u00dfe\r\n"
               "\r\nHallo\r\n").encode()
        s.send(b"A APPEND INBOX UTF8 (~{%d+}\r\n" % len(msg) + msg + b")\r\n")
        untagged, tagged = read_response(s, "A")
        self.assertOK(tagged, "A")
        self.assertIn(b"[APPENDUID ", tagged)
        self.select(s)
        lines = self.ok(s, "f", "FETCH 1 BODY.PEEK[HEADER.FIELDS (SUBJECT)]")
        self.assertIn("Subject: Gr\u00fc\u00dfe".encode(), lines[0])
        lines = self.ok(s, "f2", "FETCH 1 RFC822.SIZE")
        self.assertEqual(lines, [b"* 1 FETCH (RFC822.SIZE %d)" % len(msg)])

    def test_append_utf8_with_flags_and_date(self):
        s = self.utf8()
        msg = "Subject: \u00e9t\u00e9\r\n\r\nx\r\n".encode()
        s.send(b'A APPEND INBOX (\\Seen) "01-Feb-2024 10:00:00 +0000" '
               b"UTF8 (~{%d}\r\n" % len(msg))
        self.assertTrue(s.expect_line().startswith(b"+"))
        s.send(msg + b")\r\n")
        _, tagged = read_response(s, "A")
        self.assertOK(tagged, "A")
        self.select(s)
        lines = self.ok(s, "f", "FETCH 1 (FLAGS INTERNALDATE)")
        self.assertIn(b"\\Seen", lines[0])
        self.assertIn(b'INTERNALDATE " 1-Feb-2024 10:00:00 +0000"', lines[0])

    def test_append_utf8_without_parenthesis_is_bad(self):
        s = self.utf8()
        s.send(b"A APPEND INBOX UTF8 ~{3+}\r\nx\r\n\r\n")
        _, tagged = read_response(s, "A")
        self.assertBAD(tagged, "A")
        st = status(self.ok(s, "s", "STATUS INBOX (MESSAGES)"))
        self.assertEqual(st, {"MESSAGES": 0})

    def test_catenate_utf8_part(self):
        s = self.utf8()
        head = "Subject: \u00fc\r\n\r\n".encode()
        body = b"body\r\n"
        s.send(b"A APPEND INBOX CATENATE (UTF8 (~{%d+}\r\n" % len(head) +
               head + b") TEXT {%d+}\r\n" % len(body) + body + b")\r\n")
        _, tagged = read_response(s, "A")
        self.assertOK(tagged, "A")
        self.select(s)
        lines = self.ok(s, "f", "FETCH 1 RFC822.SIZE")
        self.assertEqual(lines, [b"* 1 FETCH (RFC822.SIZE %d)" %
                                 (len(head) + len(body))])

    def test_rev1_session_unaffected_by_other_enable(self):
        s = self.utf8()
        self.ok(s, "c", b"CREATE " + q(UE))
        rev1 = self.login()
        lines = self.ok(rev1, "l", 'LIST "" "*"')
        self.assertIn(b'* LIST (\\HasNoChildren) "/" ' + UE_MUTF7.encode(),
                      lines)
        self.assertFalse(any(b"\xc3" in l for l in lines))
