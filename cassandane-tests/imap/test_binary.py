"""imap: BINARY (RFC 3516): FETCH BINARY[], BINARY.PEEK, BINARY.SIZE with
the content transfer encoding undone, and APPEND with literal8."""

import base64
import quopri
import re

from imap.selected_util import SelectedTestCase, message, read_response

PAYLOAD = bytes(range(1, 256)) * 4            # 8-bit, no NUL
TEXT = "Gr\u00fc\u00dfe aus K\u00f6ln\r\nzweite Zeile\r\n".encode("utf-8")


def multipart():
    b64 = base64.encodebytes(PAYLOAD).replace(b"\n", b"\r\n")
    qp = quopri.encodestring(TEXT.replace(b"\r\n", b"\n")).replace(b"\n", b"\r\n")
    return (b"From: a@example.com\r\nSubject: parts\r\nMIME-Version: 1.0\r\n"
            b"Content-Type: multipart/mixed; boundary=XX\r\n\r\n"
            b"--XX\r\nContent-Type: text/plain; charset=utf-8\r\n"
            b"Content-Transfer-Encoding: quoted-printable\r\n\r\n" + qp +
            b"\r\n--XX\r\nContent-Type: application/octet-stream\r\n"
            b"Content-Transfer-Encoding: base64\r\n\r\n" + b64 +
            b"\r\n--XX\r\nContent-Type: application/x-odd\r\n"
            b"Content-Transfer-Encoding: x-uuencode\r\n\r\nbegin 644 x\r\n"
            b"\r\n--XX--\r\n")


def item(untagged, name):
    """The value bytes of FETCH item `name` (literal content, or the
    token) from the untagged FETCH responses."""
    for line in untagged:
        i = line.find(name.encode() + b" ")
        if i < 0:
            continue
        rest = line[i + len(name) + 1:]
        m = re.match(rb"~?\{(\d+)\}\r\n", rest)
        if m:
            n = int(m.group(1))
            return rest[m.end():m.end() + n]
        m = re.match(rb'"([^"]*)"|([^ )]+)', rest)
        return m.group(1) if m.group(1) is not None else m.group(2)
    return None


class BinaryTest(SelectedTestCase):
    def setup_parts(self):
        s = self.login()
        self.append(s, msg=multipart())
        self.select(s)
        return s

    def test_capability(self):
        s = self.login()
        self.assertIn("BINARY", self.capabilities(s))

    def test_base64_part_decoded(self):
        s = self.setup_parts()
        untagged, tagged = self.cmd(s, "f", "FETCH 1 BINARY.PEEK[2]")
        self.assertOK(tagged, "f")
        self.assertEqual(item(untagged, "BINARY[2]"), PAYLOAD)

    def test_quoted_printable_part_decoded(self):
        s = self.setup_parts()
        untagged, tagged = self.cmd(s, "f", "FETCH 1 BINARY.PEEK[1]")
        self.assertOK(tagged, "f")
        self.assertEqual(item(untagged, "BINARY[1]"), TEXT)

    def test_binary_size_matches(self):
        s = self.setup_parts()
        untagged, tagged = self.cmd(s, "f", "FETCH 1 (BINARY.SIZE[1] BINARY.SIZE[2])")
        self.assertOK(tagged, "f")
        self.assertEqual(int(item(untagged, "BINARY.SIZE[1]")), len(TEXT))
        self.assertEqual(int(item(untagged, "BINARY.SIZE[2]")), len(PAYLOAD))

    def test_partial_refers_to_decoded_data(self):
        s = self.setup_parts()
        untagged, tagged = self.cmd(s, "f", "FETCH 1 BINARY.PEEK[2]<10.20>")
        self.assertOK(tagged, "f")
        self.assertEqual(item(untagged, "BINARY[2]<10>"), PAYLOAD[10:30])

    def test_unknown_cte_is_no(self):
        s = self.setup_parts()
        untagged, tagged = self.cmd(s, "f", "FETCH 1 BINARY.PEEK[3]")
        self.assertNO(tagged, "f")
        self.assertIn(b"[UNKNOWN-CTE]", tagged)
        _, tagged = self.cmd(s, "f2", "FETCH 1 BINARY.SIZE[3]")
        self.assertNO(tagged, "f2")
        self.assertIn(b"[UNKNOWN-CTE]", tagged)

    def test_whole_message_and_missing_part(self):
        s = self.setup_parts()
        untagged, tagged = self.cmd(s, "f", "FETCH 1 (BINARY.PEEK[] BINARY.PEEK[9])")
        self.assertOK(tagged, "f")
        self.assertEqual(item(untagged, "BINARY[]"), multipart())
        self.assertEqual(item(untagged, "BINARY[9]"), b"NIL")

    def test_binary_sets_seen_peek_does_not(self):
        s = self.setup_parts()
        untagged, tagged = self.cmd(s, "f", "FETCH 1 BINARY.PEEK[1]")
        self.assertOK(tagged, "f")
        untagged = self.ok(s, "g", "FETCH 1 FLAGS")
        self.assertNotIn(b"\\Seen", b"".join(untagged))
        self.ok(s, "h", "FETCH 1 BINARY[1]")
        untagged = self.ok(s, "i", "FETCH 1 FLAGS")
        self.assertIn(b"\\Seen", b"".join(untagged))

    def test_bad_section_syntax(self):
        s = self.setup_parts()
        for tag, spec in (("a", "BINARY[1.FOO]"), ("b", "BINARY[0]"),
                          ("c", "BINARY[1.]"), ("d", "BINARY.SIZE[1]<0.5>"),
                          ("e", "BINARY[HEADER.FIELDS]"),
                          ("f", "BINARY[TEXT ")):
            _, tagged = self.cmd(s, tag, "FETCH 1 " + spec)
            self.assertBAD(tagged, tag)
        # Nothing was marked seen by the refused commands.
        untagged = self.ok(s, "g", "FETCH 1 FLAGS")
        self.assertNotIn(b"\\Seen", b"".join(untagged))

    def test_section_texts_as_dovecot_takes_them(self):
        # Beyond RFC 3516's part numbers: [TEXT], [n.MIME], [HEADER] come
        # back as BODY would send them, TEXT decoded when it is one part.
        s = self.setup_parts()
        untagged, tagged = self.cmd(
            s, "t", "FETCH 1 (BINARY.PEEK[1.MIME] BINARY.PEEK[HEADER] "
                    "BINARY.SIZE[TEXT] BODY.PEEK[TEXT] BODY.PEEK[1.MIME])")
        self.assertOK(tagged, "t")
        self.assertEqual(item(untagged, "BINARY[1.MIME]"),
                         item(untagged, "BODY[1.MIME]"))
        self.assertTrue(item(untagged, "BINARY[HEADER]").startswith(
            b"From: a@example.com\r\n"))
        self.assertEqual(int(item(untagged, "BINARY.SIZE[TEXT]")),
                         len(item(untagged, "BODY[TEXT]")))
        one = message("single", body="=C3=A9t=C3=A9\r\n").replace(
            b"To:", b"Content-Type: text/plain; charset=utf-8\r\n"
                    b"Content-Transfer-Encoding: quoted-printable\r\nTo:")
        self.append(s, msg=one)
        untagged = self.ok(s, "u", "FETCH 2 BINARY.PEEK[TEXT]")
        self.assertEqual(item(untagged, "BINARY[TEXT]"),
                         "\u00e9t\u00e9\r\n".encode("utf-8"))
        self.assertNotIn(b"\\Seen", b"".join(self.ok(s, "g", "FETCH 1:2 FLAGS")))

    def test_append_literal8(self):
        s = self.login()
        msg = message("eight bit", body="caf\u00e9 cr\u00e8me\r\n").replace(
            b"To:", b"Content-Type: text/plain; charset=utf-8\r\n"
                    b"Content-Transfer-Encoding: 8bit\r\nTo:")
        s.send(b"a APPEND INBOX ~{%d+}\r\n" % len(msg) + msg + b"\r\n")
        _, tagged = read_response(s, "a")
        self.assertOK(tagged, "a")
        self.select(s)
        untagged, tagged = self.cmd(s, "f", "FETCH 1 BINARY.PEEK[1]")
        self.assertOK(tagged, "f")
        self.assertEqual(item(untagged, "BINARY[1]"),
                         "caf\u00e9 cr\u00e8me\r\n".encode())

    def test_append_literal8_synchronizing(self):
        s = self.login()
        msg = message("sync")
        s.send(b"a APPEND INBOX ~{%d}\r\n" % len(msg))
        line = s.expect_line()
        self.assertTrue(line.startswith(b"+"), line)
        s.send(msg + b"\r\n")
        _, tagged = read_response(s, "a")
        self.assertOK(tagged, "a")

    def test_append_literal8_with_nul_is_unknown_cte(self):
        s = self.login()
        msg = message("nul", body="a\0b\r\n")
        s.send(b"a APPEND INBOX ~{%d+}\r\n" % len(msg) + msg + b"\r\n")
        _, tagged = read_response(s, "a")
        self.assertNO(tagged, "a")
        self.assertIn(b"[UNKNOWN-CTE]", tagged)
        untagged = self.ok(s, "st", "STATUS INBOX (MESSAGES)")
        self.assertIn(b"MESSAGES 0", b"".join(untagged))
