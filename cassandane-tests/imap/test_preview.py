"""imap: FETCH PREVIEW (RFC 8970), with and without the LAZY modifier."""

import re

from imap.selected_util import SelectedTestCase, message, untagged_with

HTML = (b"From: Fred <fred@example.com>\r\nTo: ann@example.com\r\n"
        b"Subject: html\r\nMIME-Version: 1.0\r\n"
        b"Content-Type: multipart/alternative; boundary=XX\r\n\r\n"
        b"--XX\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
        b"<html><head><style>p {color: red}</style></head>\r\n"
        b"<body><p>Hello&nbsp;<b>bold</b>\r\n  world &amp; more</p></body>"
        b"</html>\r\n--XX--\r\n")

LATIN1_QP = (b"From: Fred <fred@example.com>\r\nSubject: qp\r\n"
             b"MIME-Version: 1.0\r\n"
             b"Content-Type: text/plain; charset=iso-8859-1\r\n"
             b"Content-Transfer-Encoding: quoted-printable\r\n\r\n"
             b"Caf=E9 au lait, s'il vous pla=EEt =\r\n"
             b"merci\r\n")

IMAGE_ONLY = (b"From: Fred <fred@example.com>\r\nSubject: image\r\n"
              b"MIME-Version: 1.0\r\n"
              b"Content-Type: multipart/mixed; boundary=YY\r\n\r\n"
              b"--YY\r\nContent-Type: image/png\r\n"
              b"Content-Transfer-Encoding: base64\r\n\r\n"
              b"iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk\r\n"
              b"--YY--\r\n")

PREVIEW = re.compile(rb'PREVIEW (?:"((?:[^"\\]|\\.)*)"|\{(\d+)\}\r\n)',
                     re.S)


def preview_of(line):
    """The PREVIEW value of one FETCH response, as bytes (None for NIL)."""
    if b"PREVIEW NIL" in line:
        return None
    m = PREVIEW.search(line)
    assert m, line
    if m.group(1) is not None:
        return re.sub(rb"\\(.)", rb"\1", m.group(1))
    n = int(m.group(2))
    return line[m.end():m.end() + n]


class PreviewTest(SelectedTestCase):
    def one(self, s, cmd="FETCH 1 PREVIEW"):
        untagged = untagged_with(self.ok(s, "f", cmd), b"FETCH")
        self.assertEqual(len(untagged), 1, untagged)
        return untagged[0]

    def test_capability(self):
        s = self.login()
        self.assertIn("PREVIEW", self.capabilities(s))

    def test_plain_text_whitespace_collapsed(self):
        s = self.login()
        self.append(s, msg=message("p", body="  Hello,\r\n\r\n\tthere   "
                                             "world.\r\n"))
        self.select(s)
        self.assertEqual(preview_of(self.one(s)), b"Hello, there world.")

    def test_lazy_forms(self):
        s = self.login()
        self.append(s, msg=message("p", body="lazy body\r\n"))
        self.select(s)
        for cmd in ("FETCH 1 (PREVIEW (LAZY))", "FETCH 1 PREVIEW (LAZY)",
                    "FETCH 1 (UID PREVIEW (lazy) FLAGS)",
                    "UID FETCH 1 (PREVIEW (LAZY) UID)"):
            line = self.one(s, cmd)
            # The preview is always at hand here: never NIL.
            self.assertEqual(preview_of(line), b"lazy body", (cmd, line))
        line = self.one(s, "FETCH 1 (UID PREVIEW (LAZY) FLAGS)")
        self.assertIn(b"UID 1", line)
        self.assertIn(b"FLAGS (", line)

    def test_html_markup_removed(self):
        s = self.login()
        self.append(s, msg=HTML)
        self.select(s)
        self.assertEqual(preview_of(self.one(s)),
                         b"Hello bold world & more")

    def test_charset_and_transfer_encoding_decoded(self):
        s = self.login()
        self.append(s, msg=LATIN1_QP)
        self.select(s)
        self.assertEqual(preview_of(self.one(s)),
                         "Café au lait, s'il vous plaît merci".encode())

    def test_long_text_cut_at_200_characters(self):
        s = self.login()
        body = ("\u00e9" * 150 + " " + "word " * 100 + "\r\n")
        self.append(s, msg=message("long", body=body).replace(
            b"Message-ID", b"Content-Type: text/plain; charset=utf-8\r\n"
                           b"Message-ID"))
        self.select(s)
        text = preview_of(self.one(s)).decode("utf-8")
        self.assertEqual(len(text), 200)
        self.assertEqual(text, ("\u00e9" * 150 + " " + "word " * 10)[:200])

    def test_no_text_is_empty_string(self):
        s = self.login()
        self.append(s, msg=IMAGE_ONLY)
        self.select(s)
        line = self.one(s)
        self.assertIn(b'PREVIEW ""', line)
        line = self.one(s, "FETCH 1 PREVIEW (LAZY)")
        self.assertIn(b'PREVIEW ""', line)

    def test_preview_does_not_set_seen(self):
        s = self.login()
        self.append(s, msg=message("p"))
        self.select(s)
        line = self.one(s)
        self.assertNotIn(b"FLAGS", line)
        untagged = self.ok(s, "g", "FETCH 1 FLAGS")
        self.assertNotIn(b"\\Seen", untagged[0])

    def test_several_messages(self):
        s = self.login()
        for i in range(3):
            self.append(s, msg=message("m%d" % i, body="text %d\r\n" % i))
        self.select(s)
        untagged = untagged_with(self.ok(s, "f", "FETCH 1:* (PREVIEW)"),
                                 b"FETCH")
        self.assertEqual([preview_of(l) for l in untagged],
                         [b"text 0", b"text 1", b"text 2"])

    def test_bad_modifier_is_bad(self):
        s = self.login()
        self.append(s, msg=message("p"))
        self.select(s)
        for cmd in ("FETCH 1 (PREVIEW (EAGER))", "FETCH 1 (PREVIEW (LAZY)",
                    "FETCH 1 (PREVIEW ())", "FETCH 1 PREVIEW (EAGER)"):
            untagged, tagged = self.cmd(s, "b", cmd)
            self.assertBAD(tagged, "b")
            self.assertFalse(untagged_with(untagged, b"FETCH"), untagged)
        self.assertNoopOK(s)
