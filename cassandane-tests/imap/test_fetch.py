"""imap: FETCH and UID FETCH (RFC 3501 6.4.5, 7.4.2)."""

import re

from imap.selected_util import SelectedTestCase, message, untagged_with

MULTI = (b"From: Fred <fred@example.com>\r\nTo: ann@example.com\r\n"
         b"Subject: multi\r\nMIME-Version: 1.0\r\n"
         b"Content-Type: multipart/mixed; boundary=XX\r\n\r\n"
         b"preamble\r\n--XX\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n"
         b"part one\r\n--XX\r\nContent-Type: text/html\r\n\r\n<p>two</p>\r\n"
         b"--XX--\r\n")


class FetchTest(SelectedTestCase):
    def test_fetch_flags_uid_size(self):
        s = self.fill(2)
        untagged = self.ok(s, "F", "FETCH 1:* (FLAGS UID RFC822.SIZE)")
        self.assertEqual(len(untagged), 2, untagged)
        size = len(message("msg 1"))
        self.assertIn(b"UID 1", untagged[0])
        self.assertIn(b"RFC822.SIZE %d" % size, untagged[0])
        self.assertIn(b"FLAGS (\\Recent)", untagged[0])
        self.assertTrue(untagged[1].startswith(b"* 2 FETCH ("))

    def test_uid_fetch_always_has_uid(self):
        s = self.fill(2)
        untagged = self.ok(s, "F", "UID FETCH 2 FLAGS")
        self.assertEqual(len(untagged), 1, untagged)
        self.assertTrue(untagged[0].startswith(b"* 2 FETCH ("), untagged)
        self.assertIn(b"UID 2", untagged[0])

    def test_uid_fetch_missing_uids_is_ok_and_empty(self):
        s = self.fill(1)
        untagged = self.ok(s, "F", "UID FETCH 5:9 FLAGS")
        self.assertEqual(untagged, [])

    def test_internaldate_format(self):
        s = self.fill(1)
        untagged = self.ok(s, "F", "FETCH 1 INTERNALDATE")
        m = re.search(rb'INTERNALDATE "([ \d]\d-[A-Z][a-z]{2}-\d{4} '
                      rb'\d\d:\d\d:\d\d [+-]\d{4})"', untagged[0])
        self.assertTrue(m, untagged)

    def test_envelope(self):
        s = self.fill(1)
        untagged = self.ok(s, "F", "FETCH 1 ENVELOPE")
        self.assertIn(b'ENVELOPE ("Mon, 6 Nov 2023 10:00:00 +0000" "msg 1" '
                      b'(("Fred" NIL "fred" "example.com"))', untagged[0])
        self.assertIn(b'"<msg.1@example.com>")', untagged[0])

    def test_body_section_sets_seen_and_reports_flags(self):
        s = self.fill(1)
        untagged = self.ok(s, "F", "FETCH 1 BODY[TEXT]")
        self.assertIn(b"\\Seen", untagged[0])
        self.assertIn(b"BODY[TEXT] {11}\r\nbody text\r\n", untagged[0])
        untagged = self.ok(s, "G", "FETCH 1 FLAGS")
        self.assertIn(b"\\Seen", untagged[0])

    def test_peek_does_not_set_seen(self):
        s = self.fill(1)
        untagged = self.ok(s, "F", "FETCH 1 BODY.PEEK[]")
        self.assertIn(message("msg 1"), untagged[0])
        self.assertNotIn(b"FLAGS", untagged[0])
        untagged = self.ok(s, "G", "FETCH 1 FLAGS")
        self.assertNotIn(b"\\Seen", untagged[0])

    def test_examine_fetch_does_not_set_seen(self):
        s = self.fill(1)
        self.select(s, cmd="EXAMINE")
        self.ok(s, "F", "FETCH 1 RFC822")
        untagged = self.ok(s, "G", "FETCH 1 FLAGS")
        self.assertNotIn(b"\\Seen", untagged[0])

    def test_rfc822_items(self):
        s = self.fill(1)
        msg = message("msg 1")
        hdr, body = msg.split(b"\r\n\r\n", 1)
        untagged = self.ok(s, "F", "FETCH 1 (RFC822.HEADER RFC822.TEXT)")
        self.assertIn(b"RFC822.HEADER {%d}\r\n" % (len(hdr) + 4) + hdr + b"\r\n\r\n",
                      untagged[0])
        self.assertIn(b"RFC822.TEXT {%d}\r\n" % len(body) + body, untagged[0])
        untagged = self.ok(s, "G", "FETCH 1 RFC822")
        self.assertIn(b"RFC822 {%d}\r\n" % len(msg) + msg, untagged[0])

    def test_partial_fetch(self):
        s = self.fill(1)
        untagged = self.ok(s, "F", "FETCH 1 BODY.PEEK[TEXT]<2.4>")
        self.assertIn(b"BODY[TEXT]<2> {4}\r\ndy t", untagged[0])
        untagged = self.ok(s, "G", "FETCH 1 BODY.PEEK[TEXT]<100.4>")
        self.assertIn(b'BODY[TEXT]<100> ""', untagged[0])
        untagged = self.ok(s, "H", "FETCH 1 BODY.PEEK[TEXT]<8.100>")
        self.assertIn(b"BODY[TEXT]<8> {3}\r\nt\r\n", untagged[0])

    def test_header_fields(self):
        s = self.fill(1)
        untagged = self.ok(s, "F", "FETCH 1 BODY.PEEK[HEADER.FIELDS (Subject FROM)]")
        self.assertIn(b"BODY[HEADER.FIELDS (Subject FROM)] {", untagged[0])
        self.assertIn(b"From: Fred <fred@example.com>\r\nSubject: msg 1\r\n\r\n",
                      untagged[0])
        self.assertNotIn(b"To:", untagged[0])
        untagged = self.ok(s, "G", "FETCH 1 BODY.PEEK[HEADER.FIELDS.NOT (Subject)]")
        self.assertNotIn(b"Subject:", untagged[0])
        self.assertIn(b"To: Ann", untagged[0])

    def test_multipart_sections_and_bodystructure(self):
        s = self.login()
        self.append(s, msg=MULTI)
        self.select(s)
        untagged = self.ok(s, "F", "FETCH 1 (BODY.PEEK[1] BODY.PEEK[2.MIME] BODY.PEEK[3])")
        self.assertIn(b"BODY[1] {8}\r\npart one", untagged[0])
        self.assertIn(b"BODY[2.MIME] {27}\r\nContent-Type: text/html\r\n\r\n", untagged[0])
        self.assertIn(b'BODY[3] ""', untagged[0])
        untagged = self.ok(s, "G", "FETCH 1 BODYSTRUCTURE")
        self.assertIn(b'BODYSTRUCTURE (("TEXT" "PLAIN" ("CHARSET" "us-ascii")', untagged[0])
        self.assertIn(b'"MIXED" ("BOUNDARY" "XX")', untagged[0])
        untagged = self.ok(s, "H", "FETCH 1 BODY")
        self.assertIn(b'BODY (("TEXT" "PLAIN"', untagged[0])

    def test_macros(self):
        s = self.fill(1)
        untagged = self.ok(s, "F", "FETCH 1 ALL")
        for item in (b"FLAGS", b"INTERNALDATE", b"RFC822.SIZE", b"ENVELOPE"):
            self.assertIn(item, untagged[0])
        self.assertNotIn(b"BODY", untagged[0])
        untagged = self.ok(s, "G", "FETCH 1 FAST")
        self.assertNotIn(b"ENVELOPE", untagged[0])
        untagged = self.ok(s, "H", "FETCH 1 FULL")
        self.assertIn(b"BODY (", untagged[0])

    def test_bad_requests(self):
        s = self.fill(2)
        for tag, text in (("B1", "FETCH 3 FLAGS"), ("B2", "FETCH 0 FLAGS"),
                          ("B3", "FETCH 1 FROB"), ("B4", "FETCH 1 (FLAGS"),
                          ("B5", "FETCH 1 BODY[FROB]"), ("B6", "FETCH x FLAGS"),
                          ("B7", "FETCH 1"), ("B8", "FETCH 1 BODY[]<1>")):
            untagged, tagged = self.cmd(s, tag, text)
            self.assertBAD(tagged, tag)
            self.assertFalse(untagged_with(untagged, b"FETCH"), (text, untagged))
        # The session is still in step.
        untagged = self.ok(s, "F", "FETCH 2 UID")
        self.assertIn(b"UID 2", untagged[0])

    def test_star_in_empty_mailbox(self):
        s = self.fill(0)
        _, tagged = self.cmd(s, "F", "FETCH 1:* FLAGS")
        self.assertBAD(tagged, "F")
        self.assertEqual(self.ok(s, "U", "UID FETCH 1:* FLAGS"), [])

    def test_large_message_streamed(self):
        s = self.login()
        big = message("big", body="x" * 998 + "\r\n") * 1
        body = (b"y" * 76 + b"\r\n") * 30000
        big = big + body
        self.append(s, msg=big)
        self.select(s)
        untagged = self.ok(s, "F", "FETCH 1 BODY.PEEK[]")
        self.assertIn(b"BODY[] {%d}\r\n" % len(big) + big + b")", untagged[0])
