"""imap: CATENATE (RFC 4469): APPEND assembled from TEXT literals and
URLs of messages and parts on this server, BADURL for bad ones."""

import re

from imap.selected_util import SelectedTestCase, message, read_response
from imap.test_mailbox import status

MULTI = (b"From: a@example.com\r\nSubject: source\r\nMIME-Version: 1.0\r\n"
         b"Content-Type: multipart/mixed; boundary=B\r\n\r\n"
         b"--B\r\nContent-Type: text/plain\r\n\r\nfirst part\r\n"
         b"--B\r\nContent-Type: text/plain\r\n\r\nsecond part\r\n--B--\r\n")


def lit(data):
    return b"{%d+}\r\n" % len(data) + data


class CatenateTest(SelectedTestCase):
    def source(self):
        s = self.login()
        self.append(s, msg=MULTI)
        uv = status(self.ok(s, "st", "STATUS INBOX (UIDVALIDITY)"))["UIDVALIDITY"]
        self.ok(s, "c", "CREATE Drafts")
        return s, uv

    def fetch_last(self, s, mailbox="Drafts"):
        self.ok(s, "ex", "EXAMINE %s" % mailbox)
        untagged, tagged = self.cmd(s, "f", "FETCH * BODY.PEEK[]")
        self.assertOK(tagged, "f")
        m = re.search(rb"BODY\[\] \{(\d+)\}\r\n", untagged[-1])
        return untagged[-1][m.end():m.end() + int(m.group(1))]

    def test_capability(self):
        s = self.login()
        self.assertIn("CATENATE", self.capabilities(s))

    def test_text_and_part_urls(self):
        s, uv = self.source()
        head = b"From: b@example.com\r\nSubject: built\r\n\r\n"
        s.send(b"a APPEND Drafts (\\Draft) CATENATE (TEXT " + lit(head)
               + b' URL "/INBOX;UIDVALIDITY=%d/;UID=1/;SECTION=2" TEXT ' % uv
               + lit(b"\r\n-- \r\nsig\r\n") + b")\r\n")
        _, tagged = read_response(s, "a")
        self.assertOK(tagged, "a")
        self.assertIn(b"[APPENDUID", tagged)
        self.assertEqual(self.fetch_last(s),
                         head + b"second part" + b"\r\n-- \r\nsig\r\n")

    def test_whole_message_url(self):
        s, _ = self.source()
        s.send(b'a APPEND Drafts CATENATE (URL "/INBOX/;UID=1")\r\n')
        _, tagged = read_response(s, "a")
        self.assertOK(tagged, "a")
        self.assertEqual(self.fetch_last(s), MULTI)

    def test_relative_url_to_selected_mailbox(self):
        s, _ = self.source()
        self.select(s)
        s.send(b'a APPEND Drafts CATENATE (URL ";UID=1/;SECTION=1" TEXT '
               + lit(b"") + b")\r\n")
        _, tagged = read_response(s, "a")
        self.assertOK(tagged, "a")
        self.assertEqual(self.fetch_last(s), b"first part")

    def test_partial_url(self):
        s, _ = self.source()
        s.send(b'a APPEND Drafts CATENATE (URL "/INBOX/;UID=1/;SECTION=2/;PARTIAL=0.6")\r\n')
        _, tagged = read_response(s, "a")
        self.assertOK(tagged, "a")
        self.assertEqual(self.fetch_last(s), b"second")

    def test_bad_uid_is_badurl_and_nothing_appended(self):
        s, _ = self.source()
        url = b"/INBOX/;UID=99"
        s.send(b"a APPEND Drafts CATENATE (TEXT " + lit(b"Subject: x\r\n\r\n")
               + b' URL "' + url + b'")\r\n')
        _, tagged = read_response(s, "a")
        self.assertNO(tagged, "a")
        self.assertIn(b"[BADURL " + url + b"]", tagged)
        st = status(self.ok(s, "st", "STATUS Drafts (MESSAGES)"))
        self.assertEqual(st["MESSAGES"], 0)

    def test_wrong_uidvalidity_is_badurl(self):
        s, uv = self.source()
        s.send(b'a APPEND Drafts CATENATE (URL "/INBOX;UIDVALIDITY=%d/;UID=1")\r\n'
               % (uv + 1))
        _, tagged = read_response(s, "a")
        self.assertNO(tagged, "a")
        self.assertIn(b"[BADURL", tagged)

    def test_absolute_url_is_badurl(self):
        s, _ = self.source()
        s.send(b'a APPEND Drafts CATENATE (URL "imap://fred@localhost/INBOX/;UID=1")\r\n')
        _, tagged = read_response(s, "a")
        self.assertNO(tagged, "a")
        self.assertIn(b"[BADURL", tagged)

    def test_other_users_mailbox_without_rights_is_badurl(self):
        s, _ = self.source()
        b = self.login("barney")
        self.append(b, msg=message("private"))
        s.send(b'a APPEND Drafts CATENATE (URL "/Other%20Users/barney/;UID=1")\r\n')
        _, tagged = read_response(s, "a")
        self.assertNO(tagged, "a")
        self.assertIn(b"[BADURL", tagged)

    def test_after_badurl_no_literal_invited(self):
        s, _ = self.source()
        s.send(b'a APPEND Drafts CATENATE (URL "/INBOX/;UID=77" TEXT {10}\r\n')
        line = s.expect_line()
        self.assertTrue(line.startswith(b"a NO [BADURL"), line)
        self.assertNoopOK(s)

    def test_catenate_in_multiappend(self):
        s, _ = self.source()
        s.send(b"a APPEND Drafts " + lit(message("plain")) + b' CATENATE (URL '
               b'"/INBOX/;UID=1/;SECTION=1")\r\n')
        _, tagged = read_response(s, "a")
        self.assertOK(tagged, "a")
        self.assertIn(b" 1:2]", tagged)

    def test_syntax_error_is_bad(self):
        s, _ = self.source()
        _, tagged = self.cmd(s, "a", 'APPEND Drafts CATENATE (FOO "x")')
        self.assertBAD(tagged, "a")
        _, tagged = self.cmd(s, "b", "APPEND Drafts CATENATE ()")
        self.assertBAD(tagged, "b")
        st = status(self.ok(s, "st", "STATUS Drafts (MESSAGES)"))
        self.assertEqual(st["MESSAGES"], 0)
