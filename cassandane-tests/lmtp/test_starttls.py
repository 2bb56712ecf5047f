"""lmtp: STARTTLS over TCP (RFC 3207) and SASL AUTH inside TLS (RFC 4954):
what LHLO offers before and after the handshake, the reset of the
session state by the handshake, delivery over TLS, and the refusals."""

import ssl

from cassandane.testcase import b64
from lmtp.lmtp_util import LmtpTestCase, dotstuff, message

ADMIN_PLAIN = b64(b"\0admin\0secret")


class StartTLSTest(LmtpTestCase):
    def caps(self, lines):
        return [l[4:].upper() for l in lines[1:]]

    def starttls(self, s):
        self.assertEqual(self.send_cmd(s, "STARTTLS")[:4], b"220 ")
        s.starttls(self.inst.ssl_context())
        self.assertIsNotNone(s.sock.cipher())

    def test_starttls_advertised_and_handshake(self):
        self.start_lmtp(tls=True)
        s = self.lmtp_tcp()
        before = self.caps(self.lhlo(s))
        self.assertIn(b"STARTTLS", before)
        self.starttls(s)
        after = self.caps(self.lhlo(s))
        # RFC 3207 4.2: never offered again on a protected connection.
        self.assertNotIn(b"STARTTLS", after)
        self.assertIn(b"PIPELINING", after)
        self.assertTrue(any(c.startswith(b"AUTH ") for c in after), after)

    def test_lhlo_required_again_after_tls(self):
        self.start_lmtp(tls=True)
        s = self.lmtp_tcp()
        self.lhlo(s)
        self.assertTrue(self.send_cmd(s, "AUTH PLAIN " + ADMIN_PLAIN)
                        .startswith(b"235"))
        # An authenticated client is not offered STARTTLS (as Cyrus)...
        self.assertNotIn(b"STARTTLS", self.caps(self.lhlo(s)))
        # ...but may still ask for it; the greeting is then forgotten.
        self.starttls(s)
        self.assertEqual(self.send_cmd(s, "MAIL FROM:<a@b>"),
                         b"503 5.5.1 Send LHLO first")
        self.lhlo(s)
        self.assertEqual(self.send_cmd(s, "MAIL FROM:<a@b>"), b"250 2.1.0 ok")

    def test_starttls_twice_refused(self):
        self.start_lmtp(tls=True)
        s = self.lmtp_tcp()
        self.lhlo(s)
        self.starttls(s)
        self.assertEqual(self.send_cmd(s, "STARTTLS"),
                         b"454 4.3.3 Already successfully executed STARTTLS")
        # The protected session goes on.
        self.assertEqual(self.send_cmd(s, "NOOP"), b"250 2.0.0 ok")

    def test_starttls_refused_in_transaction_and_with_argument(self):
        self.start_lmtp(tls=True)
        s = self.lmtp_tcp()
        self.lhlo(s)
        r = self.send_cmd(s, "STARTTLS now")
        self.assertTrue(r[:3] in (b"500", b"501"), r)
        self.assertTrue(self.send_cmd(s, "AUTH PLAIN " + ADMIN_PLAIN)
                        .startswith(b"235"))
        self.assertEqual(self.send_cmd(s, "MAIL FROM:<a@b>"), b"250 2.1.0 ok")
        self.assertEqual(self.send_cmd(s, "STARTTLS"),
                         b"503 5.5.0 STARTTLS not permitted now")
        # Still in plain text and in the transaction.
        self.assertEqual(self.send_cmd(s, "RCPT TO:<fred>"), b"250 2.1.5 ok")

    def test_no_starttls_without_certificate(self):
        self.start_lmtp()
        s = self.lmtp_tcp()
        self.assertNotIn(b"STARTTLS", self.caps(self.lhlo(s)))
        self.assertTrue(self.send_cmd(s, "STARTTLS")[:1] in (b"4", b"5"))
        self.assertEqual(self.send_cmd(s, "NOOP"), b"250 2.0.0 ok")

    def test_pipelined_command_after_starttls_discarded(self):
        # Plaintext sent behind STARTTLS must not be acted on inside TLS.
        self.start_lmtp(tls=True, config={"soft_noauth": "no"})
        s = self.lmtp_tcp()
        self.lhlo(s)
        s.send(b"STARTTLS\r\nAUTH PLAIN " + ADMIN_PLAIN.encode() + b"\r\n")
        self.assertEqual(self.reply(s)[-1][:4], b"220 ")
        try:
            s.starttls(self.inst.ssl_context())
        except (ssl.SSLError, OSError):
            return  # refusing the handshake over the injected bytes is safe
        self.lhlo(s)
        # Not authenticated by the injected AUTH.
        self.assertTrue(self.send_cmd(s, "MAIL FROM:<a@b>").startswith(b"530"))

    def test_auth_plain_only_inside_tls(self):
        # Only lmtpd refuses plaintext: the tests' IMAP admin logs in.
        self.start_lmtp(tls=True, config={"lmtp_allowplaintext": "no"})
        s = self.lmtp_tcp()
        before = self.caps(self.lhlo(s))
        self.assertFalse([c for c in before if c.startswith(b"AUTH ")
                          and b"PLAIN" in c.split()], before)
        r = self.send_cmd(s, "AUTH PLAIN " + ADMIN_PLAIN)
        self.assertTrue(r[:1] == b"5" and not r.startswith(b"235"), r)
        self.assertTrue(self.send_cmd(s, "MAIL FROM:<a@b>")[:3] in (b"430", b"530"))
        self.starttls(s)
        after = self.caps(self.lhlo(s))
        auth = [c for c in after if c.startswith(b"AUTH ")]
        self.assertTrue(auth and b"PLAIN" in auth[0].split(), after)
        self.assertTrue(self.send_cmd(s, "AUTH PLAIN " + ADMIN_PLAIN)
                        .startswith(b"235"))
        # AUTH is no longer offered once done.
        self.assertFalse([c for c in self.caps(self.lhlo(s))
                          if c.startswith(b"AUTH ")])

    def test_delivery_over_tls(self):
        self.start_lmtp(tls=True, users=("fred", "bob"))
        s = self.lmtp_tcp()
        self.lhlo(s)
        self.starttls(s)
        self.lhlo(s)
        self.assertTrue(self.send_cmd(s, "AUTH PLAIN " + ADMIN_PLAIN)
                        .startswith(b"235"))
        # Pipelined inside TLS: the whole transaction in one write.
        s.send(b"MAIL FROM:<ann@example.org>\r\nRCPT TO:<fred>\r\n"
               b"RCPT TO:<nobody>\r\nRCPT TO:<bob>\r\nDATA\r\n"
               + dotstuff(message("secret")))
        self.assertEqual(self.reply(s)[-1], b"250 2.1.0 ok")
        self.assertEqual(self.reply(s)[-1], b"250 2.1.5 ok")
        self.assertEqual(self.reply(s)[-1], b"550 5.1.1 User unknown")
        self.assertEqual(self.reply(s)[-1], b"250 2.1.5 ok")
        self.assertEqual(self.reply(s)[-1], b"354 go ahead")
        self.assertTrue(self.reply(s)[-1].startswith(b"250 2.1.5"))
        self.assertTrue(self.reply(s)[-1].startswith(b"250 2.1.5"))
        fred = self.messages("fred")
        self.assertEqual(len(fred), 1)
        self.assertIn(b"Subject: secret\r\n", fred[0])
        # RFC 3848: ESMTPSA's LMTP counterpart.
        self.assertIn(b"with LMTPSA", fred[0])
        self.assertTrue(fred[0].startswith(b"Return-Path: <ann@example.org>\r\n"))
        self.assertEqual(len(self.messages("bob")), 1)

    def test_failed_handshake_delivers_nothing(self):
        self.start_lmtp(tls=True)
        s = self.lmtp_tcp()
        self.lhlo(s)
        self.assertEqual(self.send_cmd(s, "STARTTLS")[:4], b"220 ")
        # Garbage instead of a ClientHello: the server gives up on the
        # connection, and a new one still works.
        s.send(b"MAIL FROM:<a@b>\r\n")
        self.assertTrue(s.wait_closed(10))
        s2 = self.lmtp_tcp()
        self.assertIn(b"STARTTLS", self.caps(self.lhlo(s2)))
        self.assertEqual(self.messages("fred"), [])
