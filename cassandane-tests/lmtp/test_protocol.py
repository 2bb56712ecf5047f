"""lmtp: the protocol itself -- greeting, LHLO, command sequencing and
syntax errors, PIPELINING, AUTH over TCP."""

import base64

from lmtp.lmtp_util import LmtpTestCase, dotstuff, message


class ProtocolTest(LmtpTestCase):
    def test_lhlo_capabilities(self):
        self.start_lmtp(config={"maxmessagesize": "1000000"})
        s = self.lmtp_unix()
        lines = self.lhlo(s)
        caps = [l[4:].split(b" ")[0].upper() for l in lines[1:]]
        for cap in (b"8BITMIME", b"ENHANCEDSTATUSCODES", b"PIPELINING",
                    b"SIZE", b"IGNOREQUOTA"):
            self.assertIn(cap, caps)
        self.assertIn(b"250-SIZE 1000000", lines)
        self.assertTrue(lines[-1].startswith(b"250 "))
        self.assertTrue(all(l.startswith(b"250-") for l in lines[:-1]))

    def test_helo_and_ehlo_are_not_lmtp(self):
        self.start_lmtp()
        s = self.lmtp_unix()
        self.assertTrue(self.send_cmd(s, "HELO x").startswith(b"500 5.5.2"))
        self.assertTrue(self.send_cmd(s, "EHLO x").startswith(b"500 5.5.2"))
        self.assertTrue(self.send_cmd(s, "NOOP").startswith(b"250 2.0.0"))

    def test_sequence_errors(self):
        self.start_lmtp()
        s = self.lmtp_unix()
        self.lhlo(s)
        self.assertEqual(self.send_cmd(s, "RCPT TO:<fred>"),
                         b"503 5.5.1 Need MAIL command")
        self.assertEqual(self.send_cmd(s, "DATA"), b"503 5.5.1 Need MAIL command")
        self.assertEqual(self.send_cmd(s, "MAIL FROM:<a@b>"), b"250 2.1.0 ok")
        self.assertEqual(self.send_cmd(s, "MAIL FROM:<a@b>"),
                         b"503 5.5.1 Nested MAIL command")
        self.assertEqual(self.send_cmd(s, "DATA"), b"503 5.5.1 No recipients")
        self.assertTrue(self.send_cmd(s, "RSET").startswith(b"250 2.0.0"))
        self.assertEqual(self.send_cmd(s, "RCPT TO:<fred>"),
                         b"503 5.5.1 Need MAIL command")
        self.assertEqual(self.messages("fred"), [])

    def test_syntax_errors(self):
        self.start_lmtp()
        s = self.lmtp_unix()
        self.lhlo(s)
        self.assertEqual(self.send_cmd(s, "MAIL FROM:a@b"),
                         b"501 5.5.4 Syntax error in parameters")
        self.assertEqual(self.send_cmd(s, "MAIL FROM:<a@b> SIZE=abc"),
                         b"501 5.5.2 SIZE requires a value")
        self.assertEqual(self.send_cmd(s, "MAIL FROM:<a@b> BODY=BINARYMIME"),
                         b"501 5.5.4 Unrecognized BODY type")
        self.assertEqual(self.send_cmd(s, "MAIL FROM:<a@b> FOO=bar"),
                         b"501 5.5.4 Unrecognized parameters")
        self.assertEqual(self.send_cmd(s, "MAIL FROM:<a@b> BODY=8BITMIME SIZE=10"),
                         b"250 2.1.0 ok")
        self.assertEqual(self.send_cmd(s, "RCPT TO:fred"),
                         b"501 5.5.4 Syntax error in parameters")
        self.assertEqual(self.send_cmd(s, "RCPT TO:<fred> NOTIFY=NEVER"),
                         b"501 5.5.4 Unrecognized parameters")
        self.assertEqual(self.send_cmd(s, "BOGUS"), b"500 5.5.2 Syntax error")
        self.assertEqual(self.send_cmd(s, "VRFY fred"),
                         b"252 2.3.3 try RCPT to attempt delivery")
        self.assertEqual(self.send_cmd(s, "QUIT"), b"221 2.0.0 bye")
        self.assertEqual(self.messages("fred"), [])

    def test_size_over_limit_at_mail(self):
        self.start_lmtp(config={"maxmessagesize": "1000"})
        s = self.lmtp_unix()
        self.lhlo(s)
        self.assertTrue(self.send_cmd(s, "MAIL FROM:<a@b> SIZE=5000")
                        .startswith(b"552 5.2.3"))
        self.assertEqual(self.send_cmd(s, "MAIL FROM:<a@b> SIZE=500"),
                         b"250 2.1.0 ok")

    def test_pipelined_transactions(self):
        self.start_lmtp(users=("fred", "bob"))
        s = self.lmtp_unix()
        m1, m2 = message("first"), message("second")
        # Everything in one write: two transactions and QUIT.
        s.send(b"LHLO x\r\nMAIL FROM:<a@b>\r\nRCPT TO:<fred>\r\n"
               b"RCPT TO:<nobody>\r\nRCPT TO:<bob>\r\nDATA\r\n" + dotstuff(m1)
               + b"MAIL FROM:<c@d>\r\nRCPT TO:<bob>\r\nDATA\r\n" + dotstuff(m2)
               + b"QUIT\r\n")
        lhlo = self.reply(s)
        self.assertTrue(lhlo[-1].startswith(b"250 "))
        self.assertEqual(self.reply(s)[-1], b"250 2.1.0 ok")
        self.assertEqual(self.reply(s)[-1], b"250 2.1.5 ok")
        self.assertEqual(self.reply(s)[-1], b"550 5.1.1 User unknown")
        self.assertEqual(self.reply(s)[-1], b"250 2.1.5 ok")
        self.assertEqual(self.reply(s)[-1], b"354 go ahead")
        # One reply per accepted recipient.
        self.assertTrue(self.reply(s)[-1].startswith(b"250 2.1.5"))
        self.assertTrue(self.reply(s)[-1].startswith(b"250 2.1.5"))
        self.assertEqual(self.reply(s)[-1], b"250 2.1.0 ok")
        self.assertEqual(self.reply(s)[-1], b"250 2.1.5 ok")
        self.assertEqual(self.reply(s)[-1], b"354 go ahead")
        self.assertTrue(self.reply(s)[-1].startswith(b"250 2.1.5"))
        self.assertEqual(self.reply(s)[-1], b"221 2.0.0 bye")
        self.assertEqual(len(self.messages("fred")), 1)
        bob = self.messages("bob")
        self.assertEqual(len(bob), 2)
        self.assertIn(b"Subject: first", bob[0])
        self.assertIn(b"Subject: second", bob[1])
        self.assertIn(b"Return-Path: <c@d>", bob[1])

    def test_tcp_needs_auth(self):
        self.start_lmtp()
        s = self.lmtp_tcp()
        lines = self.lhlo(s)
        self.assertTrue(any(l.startswith(b"250-AUTH ") for l in lines))
        self.assertTrue(self.send_cmd(s, "MAIL FROM:<a@b>").startswith(b"430"))
        self.assertEqual(self.send_cmd(s, "RCPT TO:<fred>"),
                         b"503 5.5.1 Need MAIL command")

    def test_tcp_auth_admin_delivers(self):
        self.start_lmtp()
        s = self.lmtp_tcp()
        self.lhlo(s)
        cred = base64.b64encode(b"\0admin\0secret").decode()
        self.assertTrue(self.send_cmd(s, "AUTH PLAIN " + cred).startswith(b"235"))
        self.assertEqual(self.send_cmd(s, "AUTH PLAIN " + cred),
                         b"503 5.5.0 already authenticated")
        lines = self.lhlo(s)
        self.assertFalse(any(l.startswith(b"250-AUTH ") for l in lines))
        rr, dr = self.deliver(s, ["fred"], message("viatcp"))
        self.assertEqual(rr, [b"250 2.1.5 ok"])
        self.assertTrue(dr[0].startswith(b"250 2.1.5"))
        msgs = self.messages("fred")
        self.assertEqual(len(msgs), 1)
        self.assertIn(b"with LMTPA;", msgs[0])

    def test_tcp_auth_non_admin_refused(self):
        self.start_lmtp()
        s = self.lmtp_tcp()
        self.lhlo(s)
        cred = base64.b64encode(b"\0fred\0secret").decode()
        self.assertTrue(self.send_cmd(s, "AUTH PLAIN " + cred).startswith(b"535"))
        self.assertTrue(self.send_cmd(s, "MAIL FROM:<a@b>").startswith(b"430"))

    def test_auth_continuation_and_cancel(self):
        self.start_lmtp()
        s = self.lmtp_tcp()
        self.lhlo(s)
        self.assertEqual(self.send_cmd(s, "AUTH PLAIN"), b"334 ")
        self.assertEqual(self.send_cmd(s, "*"),
                         b"501 5.5.4 client canceled authentication")
        self.assertEqual(self.send_cmd(s, "AUTH PLAIN"), b"334 ")
        cred = base64.b64encode(b"\0admin\0secret").decode()
        self.assertTrue(self.send_cmd(s, cred).startswith(b"235"))
        self.assertEqual(self.send_cmd(s, "MAIL FROM:<a@b>"), b"250 2.1.0 ok")

    def test_rset_discards_transaction(self):
        self.start_lmtp()
        s = self.lmtp_unix()
        self.lhlo(s)
        self.send_cmd(s, "MAIL FROM:<a@b>")
        self.assertEqual(self.send_cmd(s, "RCPT TO:<fred>"), b"250 2.1.5 ok")
        self.assertTrue(self.send_cmd(s, "RSET").startswith(b"250 2.0.0"))
        self.assertEqual(self.send_cmd(s, "DATA"), b"503 5.5.1 Need MAIL command")
        self.assertEqual(self.messages("fred"), [])
