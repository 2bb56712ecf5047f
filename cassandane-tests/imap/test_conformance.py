"""imap: points of RFC 3501's formal syntax and semantics found wanting in
a command-by-command sweep (compared with Debian's Cyrus 3.6 where the
RFC leaves room), one behaviour per test."""

import re

from imap.selected_util import SelectedTestCase, message, read_response


class ConformanceTest(SelectedTestCase):
    def append_raw(self, s, tag, mailbox, flags, msg, date=None):
        args = " (%s)" % flags if flags is not None else ""
        if date:
            args += ' "%s"' % date
        s.send(("%s APPEND %s%s {%d+}\r\n" % (tag, mailbox, args, len(msg))).encode()
               + msg + b"\r\n")
        return read_response(s, tag)

    def count(self, s, mailbox="INBOX"):
        lines = self.ok(s, "st", "STATUS %s (MESSAGES)" % mailbox)
        return int(re.search(rb"MESSAGES (\d+)", lines[0]).group(1))

    def test_append_recent_flag_is_bad(self):
        """flag excludes \\Recent (RFC 3501 section 9): BAD, nothing stored."""
        s = self.login()
        _, tagged = self.append_raw(s, "a", "INBOX", "\\Seen \\Recent", message())
        self.assertBAD(tagged, "a")
        self.assertEqual(self.count(s), 0)
        self.assertNoopOK(s)

    def test_store_recent_flag_is_bad(self):
        s = self.fill(1)
        _, tagged = self.cmd(s, "s", "STORE 1 +FLAGS (\\Recent)")
        self.assertBAD(tagged, "s")
        lines = self.ok(s, "f", "FETCH 1 FLAGS")
        self.assertEqual(lines, [b"* 1 FETCH (FLAGS (\\Recent))"])

    def test_fetch_section_part_zero_is_bad(self):
        """section-part is nz-number *("." nz-number)."""
        s = self.fill(1)
        for i, sec in enumerate(("0", "1.0", "0.MIME", "01")):
            _, tagged = self.cmd(s, "f%d" % i, "FETCH 1 BODY.PEEK[%s]" % sec)
            self.assertBAD(tagged, "f%d" % i)
        self.ok(s, "g", "FETCH 1 BODY.PEEK[1]")

    def test_fetch_partial_echoes_origin_only(self):
        s = self.fill(1)
        lines = self.ok(s, "f", "FETCH 1 (BODY.PEEK[]<0.4> BODY.PEEK[TEXT]<2.3>)")
        self.assertTrue(lines[0].startswith(b"* 1 FETCH (BODY[]<0> {4}\r\nFrom"), lines)
        self.assertIn(b"BODY[TEXT]<2> {3}\r\ndy ", lines[0])
        lines = self.ok(s, "g", "FETCH 1 BODY.PEEK[]<100000.4>")
        self.assertEqual(lines, [b'* 1 FETCH (BODY[]<100000> "")'])

    def test_header_fields_list_echoed(self):
        s = self.fill(1)
        lines = self.ok(s, "f", "FETCH 1 BODY.PEEK[HEADER.FIELDS (Subject \"X-None\")]")
        self.assertTrue(re.match(rb'\* 1 FETCH \(BODY\[HEADER\.FIELDS \(Subject "?X-None"?\)\] '
                                 rb'\{\d+\}\r\nSubject: msg 1\r\n\r\n\)$', lines[0]), lines)

    def test_sentbefore_without_date_uses_internaldate(self):
        """No Date: header: the internal date stands in (RFC 5256 does so
        for SORT; Cyrus searches so)."""
        s = self.login()
        nodate = b"From: a@example.com\r\nSubject: undated\r\n\r\nbody\r\n"
        _, tagged = self.append_raw(s, "a", "INBOX", "", nodate, " 2-Feb-2002 12:00:00 +0000")
        self.assertOK(tagged, "a")
        self.select(s)
        self.assertEqual(self.ok(s, "q1", "SEARCH SENTBEFORE 1-Jan-2000"), [b"* SEARCH"])
        self.assertEqual(self.ok(s, "q2", "SEARCH SENTON 2-Feb-2002"), [b"* SEARCH 1"])
        self.assertEqual(self.ok(s, "q3", "SEARCH SENTSINCE 1-Jan-2000"), [b"* SEARCH 1"])

    def test_search_charset_literal(self):
        s = self.login()
        self.append(s, msg=message("=?utf-8?q?Andr=C3=A9?= test"))
        self.select(s)
        word = "André".encode("utf-8")
        s.send(b"q SEARCH CHARSET UTF-8 SUBJECT {%d}\r\n" % len(word))
        self.assertTrue(s.expect_line().startswith(b"+"))
        s.send(word + b"\r\n")
        untagged, tagged = read_response(s, "q")
        self.assertOK(tagged, "q")
        self.assertEqual(untagged, [b"* SEARCH 1"])
        _, tagged = self.cmd(s, "b", "SEARCH CHARSET X-NONE SUBJECT x")
        self.assertNO(tagged, "b")
        self.assertIn(b"[BADCHARSET", tagged)

    def test_status_item_list_syntax(self):
        s = self.login()
        lines = self.ok(s, "s", "STATUS INBOX (UNSEEN MESSAGES UIDNEXT RECENT UIDVALIDITY)")
        m = re.match(rb"\* STATUS INBOX \((.*)\)$", lines[0])
        self.assertTrue(m, lines)
        f = m.group(1).decode().split()
        items = dict(zip(f[0::2], f[1::2]))
        self.assertEqual(len(f), 10, lines)
        self.assertEqual({k: v for k, v in items.items() if k != "UIDVALIDITY"},
                         {"UNSEEN": "0", "MESSAGES": "0", "UIDNEXT": "1", "RECENT": "0"})
        self.assertTrue(items["UIDVALIDITY"].isdigit())
        for i, bad in enumerate(("STATUS INBOX ()", "STATUS INBOX (BOGUS)",
                                 "STATUS INBOX MESSAGES")):
            _, tagged = self.cmd(s, "b%d" % i, bad)
            self.assertBAD(tagged, "b%d" % i)

    def test_uid_commands_on_empty_mailbox(self):
        """UIDs that match nothing are no error (RFC 3501 6.4.8)."""
        s = self.login()
        self.ok(s, "c", "CREATE empty")
        self.select(s, "empty")
        self.assertEqual(self.ok(s, "f", "UID FETCH 1:* FLAGS"), [])
        self.assertEqual(self.ok(s, "s", "UID SEARCH ALL"), [b"* SEARCH"])
        self.assertEqual(self.ok(s, "t", "UID STORE 1:* +FLAGS (\\Seen)"), [])
        self.ok(s, "y", "UID COPY 1:* INBOX")
        self.assertEqual(self.ok(s, "e", "UID EXPUNGE 1:*"), [])
        self.assertEqual(self.count(s), 0)

    def test_expunge_responses_renumber(self):
        """Each EXPUNGE names a sequence number valid when it is sent."""
        s = self.fill(6)
        self.ok(s, "d", "STORE 2,4,5 +FLAGS.SILENT (\\Deleted)")
        lines = self.ok(s, "e", "EXPUNGE")
        uids = [1, 2, 3, 4, 5, 6]
        for l in lines:
            if re.match(rb"\* \d+ (RECENT|EXISTS)$", l):
                continue           # a count that changed may be sent too
            m = re.match(rb"\* (\d+) EXPUNGE$", l)
            self.assertTrue(m, l)
            n = int(m.group(1))
            self.assertTrue(1 <= n <= len(uids), lines)
            del uids[n - 1]
        self.assertEqual(uids, [1, 3, 6])
        lines = self.ok(s, "f", "FETCH 1:* UID")
        self.assertEqual([int(re.search(rb"UID (\d+)", l).group(1)) for l in lines],
                         [1, 3, 6])

    def test_capability_before_login_lists_extensions(self):
        """As Cyrus: clients such as cyradm decide on extensions from the
        answer before authenticating; session layers come after it."""
        inst = self.instance()
        with inst.raw() as s:
            s.expect_line()
            caps = self.capabilities(s)
        for c in ("IMAP4REV1", "AUTH=PLAIN", "ACL", "QUOTA", "NAMESPACE",
                  "METADATA", "LIST-EXTENDED", "UIDPLUS", "IDLE"):
            self.assertIn(c, caps)
        self.assertNotIn("COMPRESS=DEFLATE", caps)
        self.assertNotIn("UNAUTHENTICATE", caps)

    def test_admin_getquotaroot_without_read_right(self):
        s = self.login("fred")
        admin = self.login("admin")
        self.ok(admin, "q", "SETQUOTA user/fred (STORAGE 100)")
        lines = self.ok(admin, "g", "GETQUOTAROOT user/fred")
        self.assertIn(b"* QUOTAROOT user/fred user/fred", lines)
        self.assertIn(b"* QUOTA user/fred (STORAGE 0 100)", lines)
        self.assertNoopOK(s)

    def test_setquota_on_missing_root_is_nonexistent(self):
        admin = self.login("admin")
        _, tagged = self.cmd(admin, "q", "SETQUOTA user/nobody (STORAGE 100)")
        self.assertNO(tagged, "q")
        self.assertIn(b"[NONEXISTENT]", tagged)
        _, tagged = self.cmd(admin, "g", "GETQUOTA user/nobody")
        self.assertNO(tagged, "g")
