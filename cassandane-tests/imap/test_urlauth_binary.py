"""imap: URLAUTH=BINARY (RFC 5524): URLFETCH with per-URL BODYPARTSTRUCTURE,
BINARY and BODY, the extended response, and its syntax errors."""

import re

from imap.selected_util import SelectedTestCase, message

MIME = (
    "From: Fred <fred@example.com>\r\n"
    "Subject: parts\r\n"
    "Date: Mon, 6 Nov 2023 10:00:00 +0000\r\n"
    "MIME-Version: 1.0\r\n"
    'Content-Type: multipart/mixed; boundary="b"\r\n'
    "\r\n"
    "--b\r\n"
    "Content-Type: text/plain; charset=us-ascii\r\n"
    "Content-Transfer-Encoding: base64\r\n"
    "\r\n"
    "aGVsbG8gd29y\r\n"
    "bGQ=\r\n"
    "--b\r\n"
    "Content-Type: application/octet-stream\r\n"
    "Content-Transfer-Encoding: base64\r\n"
    "\r\n"
    "AAECAw==\r\n"
    "--b\r\n"
    "Content-Type: text/plain\r\n"
    "Content-Transfer-Encoding: x-secret\r\n"
    "\r\n"
    "hidden\r\n"
    "--b\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n"
    "Content-Transfer-Encoding: quoted-printable\r\n"
    "\r\n"
    "caf=C3=A9\r\n"
    "--b--\r\n").encode()

URL = "imap://fred@localhost/INBOX/;UID=1"


class UrlauthBinaryTest(SelectedTestCase):
    def fred(self):
        s = self.login("fred")
        self.append(s, msg=MIME)
        return s

    def urlfetch(self, s, args, tag="u"):
        """The URLFETCH responses (bytes after "* URLFETCH ") of an OK."""
        untagged, tagged = self.cmd(s, tag, "URLFETCH " + args)
        self.assertOK(tagged, tag)
        return [l[len(b"* URLFETCH "):] for l in untagged
                if l.startswith(b"* URLFETCH ")]

    def test_capability(self):
        s = self.login()
        caps = self.capabilities(s)
        self.assertIn("URLAUTH", caps)
        self.assertIn("URLAUTH=BINARY", caps)

    def test_binary_decodes_base64_text(self):
        s = self.fred()
        url = URL + "/;SECTION=1"
        resp = self.urlfetch(s, '("%s" BINARY)' % url)
        self.assertEqual(resp, [b'"%s" (BINARY {11}\r\nhello world)'
                                % url.encode()])

    def test_bodypartstructure_of_the_part_as_stored(self):
        s = self.fred()
        url = URL + "/;SECTION=1"
        resp = self.urlfetch(s, '("%s" BODYPARTSTRUCTURE)' % url)
        self.assertEqual(len(resp), 1)
        m = re.match(rb'"[^"]*" \(BODYPARTSTRUCTURE (\(.*\))\)$', resp[0])
        self.assertIsNotNone(m, resp[0])
        self.assertRegex(m.group(1).upper(),
                         rb'^\("TEXT" "PLAIN" \("CHARSET" "US-ASCII"\) NIL NIL'
                         rb' "BASE64" 18 2 ')

    def test_bodypartstructure_with_binary_describes_decoded(self):
        s = self.fred()
        url = URL + "/;SECTION=1"
        resp = self.urlfetch(s, '("%s" BINARY BODYPARTSTRUCTURE)' % url)
        self.assertEqual(len(resp), 1)
        # BODYPARTSTRUCTURE first, then BINARY, each in its own list
        m = re.match(rb'"[^"]*" \(BODYPARTSTRUCTURE (\(.*\))\)'
                     rb' \(BINARY \{11\}\r\nhello world\)$', resp[0])
        self.assertIsNotNone(m, resp[0])
        self.assertRegex(m.group(1).upper(), rb' NIL NIL "7BIT" 11 0 ')

    def test_binary_with_nul_is_literal8(self):
        s = self.fred()
        url = URL + "/;SECTION=2"
        resp = self.urlfetch(s, '("%s" BODYPARTSTRUCTURE BINARY)' % url)
        self.assertEqual(len(resp), 1)
        self.assertTrue(resp[0].endswith(b" (BINARY ~{4}\r\n\x00\x01\x02\x03)"),
                        resp[0])
        self.assertIn(b'"BINARY" 4', resp[0].upper())

    def test_binary_eight_bit_domain(self):
        s = self.fred()
        url = URL + "/;SECTION=4"
        resp = self.urlfetch(s, '("%s" BODYPARTSTRUCTURE BINARY)' % url)
        self.assertEqual(len(resp), 1)
        self.assertTrue(resp[0].endswith(
            b" (BINARY {5}\r\ncaf\xc3\xa9)"), resp[0])
        self.assertIn(b'"8BIT" 5 0', resp[0].upper())

    def test_body_is_the_encoded_form(self):
        s = self.fred()
        url = URL + "/;SECTION=1"
        resp = self.urlfetch(s, '("%s" BODY)' % url)
        self.assertEqual(resp, [b'"%s" (BODY {18}\r\naGVsbG8gd29y\r\nbGQ=)'
                                % url.encode()])

    def test_unknown_encoding_gives_binary_nil(self):
        s = self.fred()
        url = URL + "/;SECTION=3"
        resp = self.urlfetch(s, '("%s" BODYPARTSTRUCTURE BINARY)' % url)
        self.assertEqual(len(resp), 1)
        self.assertTrue(resp[0].endswith(b") (BINARY NIL)"), resp[0])
        # described as stored, since nothing was decoded
        self.assertIn(b'"X-SECRET" 6 1', resp[0].upper())

    def test_partial_counts_decoded_octets(self):
        s = self.fred()
        url = URL + "/;SECTION=1/;PARTIAL=6.3"
        resp = self.urlfetch(s, '("%s" BINARY)' % url)
        self.assertEqual(resp, [b'"%s" (BINARY {3}\r\nwor)' % url.encode()])

    def test_unresolvable_url_is_nil_and_plain_form_unchanged(self):
        s = self.fred()
        good = URL + "/;SECTION=1"
        resp = self.urlfetch(s, '("%s/;SECTION=9" BINARY) "%s" ("%s;x" BODY)'
                             % (URL, good, URL))
        self.assertEqual(len(resp), 3)
        self.assertEqual(resp[0], b'"%s/;SECTION=9" NIL' % URL.encode())
        self.assertEqual(resp[1], b'"%s" {18}\r\naGVsbG8gd29y\r\nbGQ='
                         % good.encode())
        self.assertTrue(resp[2].endswith(b" NIL"), resp[2])

    def test_authorized_url_for_another_user(self):
        s = self.fred()
        rump = URL + "/;SECTION=1;URLAUTH=user+barney"
        untagged, tagged = self.cmd(s, "g", 'GENURLAUTH "%s" INTERNAL' % rump)
        self.assertOK(tagged, "g")
        url = re.search(rb'"([^"]*)"', untagged[-1]).group(1).decode()
        b = self.login("barney")
        self.assertEqual(self.urlfetch(b, '("%s" BINARY)' % url),
                         [b'"%s" (BINARY {11}\r\nhello world)' % url.encode()])
        w = self.login("wilma")
        self.assertEqual(self.urlfetch(w, '("%s" BINARY)' % url),
                         [b'"%s" NIL' % url.encode()])

    def test_syntax_errors_are_bad(self):
        s = self.fred()
        url = URL + "/;SECTION=1"
        for tag, args in (
                ("a", '("%s" BINARY BODY)' % url),
                ("b", '("%s" BODY BINARY)' % url),
                ("c", '("%s" BINARY BINARY)' % url),
                ("d", '("%s" BODYSTRUCTURE)' % url),
                ("e", '("%s" BINARY' % url),
                ("f", '"%s" ("%s" FOO)' % (url, url))):
            untagged, tagged = self.cmd(s, tag, "URLFETCH " + args)
            self.assertBAD(tagged, tag)
            self.assertFalse([l for l in untagged if b"URLFETCH" in l], args)
        # the session goes on
        self.assertEqual(len(self.urlfetch(s, '"%s"' % url, "z")), 1)

    def test_plain_message_binary_of_whole_message(self):
        s = self.login("fred")
        self.append(s, msg=message("plain", body="just text\r\n"))
        resp = self.urlfetch(s, '("%s" BINARY BODYPARTSTRUCTURE)' % URL)
        self.assertEqual(len(resp), 1)
        self.assertIn(b"(BINARY {", resp[0])
        self.assertTrue(resp[0].endswith(b"\r\n\r\njust text\r\n)"), resp[0])
        self.assertRegex(resp[0].upper(),
                         rb'\(BODYPARTSTRUCTURE \("TEXT" "PLAIN" ')
