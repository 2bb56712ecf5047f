"""lmtp: what DATA accepts and how it is stored -- 8-bit header bytes
under munge8bit / reject8bit, NUL and bare CR, a message without a Date
or without a body, and maxmessagesize against a SIZE= that lied."""

from lmtp.lmtp_util import LmtpTestCase, message


class ContentTest(LmtpTestCase):
    def one(self, config=None, data=b"", users=("fred",)):
        """Deliver `data` (a DATA body with its final dot) to fred;
        returns the last line of the DATA reply."""
        self.start_lmtp(config=config, users=users)
        s = self.lmtp_unix()
        self.lhlo(s)
        self.assertEqual(self.send_cmd(s, "MAIL FROM:<a@b>"), b"250 2.1.0 ok")
        self.assertEqual(self.send_cmd(s, "RCPT TO:<fred>"), b"250 2.1.5 ok")
        self.assertEqual(self.send_cmd(s, "DATA"), b"354 go ahead")
        s.send(data)
        r = self.reply(s)[-1]
        # Whatever happened, the session is in step afterwards.
        self.assertEqual(self.send_cmd(s, "NOOP"), b"250 2.0.0 ok")
        return r

    def test_8bit_header_kept_without_munge(self):
        r = self.one({"munge8bit": "no"},
                     b"Subject: caf\xc3\xa9\r\nX-Raw: \xff\r\n\r\ncaf\xc3\xa9\r\n.\r\n")
        self.assertTrue(r.startswith(b"250 2.1.5"), r)
        m = self.messages("fred")[0]
        self.assertIn(b"Subject: caf\xc3\xa9\r\n", m)
        self.assertIn(b"X-Raw: \xff\r\n", m)

    def test_8bit_in_folded_header_munged(self):
        r = self.one(None, b"Subject: one\r\n \xc3\xa9two\r\n\r\nbody \xc3\xa9\r\n.\r\n")
        self.assertTrue(r.startswith(b"250 2.1.5"), r)
        m = self.messages("fred")[0]
        self.assertIn(b"Subject: one\r\n XXtwo\r\n", m)
        self.assertTrue(m.endswith(b"\r\n\r\nbody \xc3\xa9\r\n"), m)

    def test_reject8bit_only_looks_at_headers(self):
        r = self.one({"reject8bit": "yes"},
                     b"Subject: plain\r\n\r\n8-bit body \xc3\xa9\r\n.\r\n")
        self.assertTrue(r.startswith(b"250 2.1.5"), r)
        self.assertTrue(self.messages("fred")[0].endswith(b"8-bit body \xc3\xa9\r\n"))

    def test_reject8bit_wins_over_munge8bit(self):
        r = self.one({"reject8bit": "yes", "munge8bit": "yes"},
                     b"From: J\xc3\xbcrgen <j@x>\r\n\r\nx\r\n.\r\n")
        self.assertEqual(r, b"554 5.6.0 Message contains non-ASCII characters in headers")
        self.assertEqual(self.messages("fred"), [])

    def test_nul_in_header_refused(self):
        r = self.one(None, b"Subject: a\0b\r\n\r\nbody\r\n.\r\n")
        self.assertEqual(r, b"554 5.6.0 Message contains NUL characters")
        self.assertEqual(self.messages("fred"), [])

    def test_bare_cr_becomes_crlf(self):
        r = self.one(None, b"Subject: cr\r\nDate: Mon, 6 Nov 2023 10:00:00 +0000\r\n"
                           b"\r\none\rtwo\r\n.\r\n")
        self.assertTrue(r.startswith(b"250 2.1.5"), r)
        m = self.messages("fred")[0]
        self.assertTrue(m.endswith(b"\r\n\r\none\r\ntwo\r\n"), m)
        self.assertNotIn(b"\r\r", m)

    def test_headers_only_gets_date(self):
        r = self.one(None, b"Subject: no body, no date\r\n.\r\n")
        self.assertTrue(r.startswith(b"250 2.1.5"), r)
        m = self.messages("fred")[0]
        self.assertIn(b"Subject: no body, no date\r\n", m)
        self.assertIn(b"\r\nDate: ", m)

    def test_empty_message(self):
        r = self.one(None, b".\r\n")
        self.assertTrue(r.startswith(b"250 2.1.5"), r)
        m = self.messages("fred")[0]
        self.assertTrue(m.startswith(b"Return-Path: <a@b>\r\n"), m)
        self.assertIn(b"\r\nDate: ", m)

    def test_size_declared_small_but_too_big(self):
        self.start_lmtp(config={"maxmessagesize": "2000"})
        s = self.lmtp_unix()
        self.lhlo(s)
        # SIZE= under the limit passes MAIL; the real size is checked at DATA.
        self.assertEqual(self.send_cmd(s, "MAIL FROM:<a@b> SIZE=100"), b"250 2.1.0 ok")
        self.assertEqual(self.send_cmd(s, "RCPT TO:<fred>"), b"250 2.1.5 ok")
        self.assertEqual(self.send_cmd(s, "DATA"), b"354 go ahead")
        s.send(b"Subject: liar\r\n\r\n" + b"y" * 5000 + b"\r\n.\r\n")
        r = self.reply(s)[-1]
        self.assertTrue(r.startswith(b"552 5.2.3 Message size ("), r)
        self.assertTrue(r.endswith(b"exceeds fixed maximum message size (2000)"), r)
        self.assertEqual(self.messages("fred"), [])
        # A message under the limit on the same session still goes in.
        rr, dr = self.deliver(s, ["fred"], message("small"))
        self.assertTrue(dr[0].startswith(b"250 2.1.5"), dr)
        self.assertEqual(len(self.messages("fred")), 1)

    def test_size_at_mail_over_limit_then_none(self):
        self.start_lmtp(config={"maxmessagesize": "2000"})
        s = self.lmtp_unix()
        self.lhlo(s)
        self.assertEqual(self.send_cmd(s, "MAIL FROM:<a@b> SIZE=2001"),
                         b"552 5.2.3 Message SIZE exceeds fixed maximum "
                         b"message size (2000)")
        # The refused MAIL opened no transaction.
        self.assertEqual(self.send_cmd(s, "RCPT TO:<fred>"),
                         b"503 5.5.1 Need MAIL command")
        self.assertEqual(self.send_cmd(s, "MAIL FROM:<a@b> SIZE=2000"),
                         b"250 2.1.0 ok")
