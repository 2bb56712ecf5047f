"""imap: LOGIN and AUTHENTICATE (RFC 3501 6.2, RFC 4959 SASL-IR, RFC 4616)."""

import imaplib

from cassandane.testcase import InstanceTestCase, b64


class AuthTest(InstanceTestCase):
    def session(self, inst):
        s = inst.raw()
        self.addCleanup(s.close)
        s.expect_line()
        return s

    def assertAuthenticated(self, s):
        """After a successful login, LOGIN is no longer valid but NOOP is."""
        self.assertNoopOK(s, "after")
        _, tagged = s.command("again", "LOGIN other secret")
        self.assertNotEqual(tagged.split()[1], b"OK",
                            "LOGIN accepted twice: %r" % tagged)

    def test_login_alwaystrue(self):
        inst = self.start_instance()
        s = self.session(inst)
        _, tagged = s.command("a", "LOGIN alice anything")
        self.assertOK(tagged, "a")
        self.assertAuthenticated(s)

    def test_login_ok_has_capability(self):
        inst = self.start_instance()
        s = self.session(inst)
        _, tagged = s.command("a", 'LOGIN "alice" "anything"')
        self.assertOK(tagged, "a")
        caps = self.response_code_caps(tagged)
        self.assertIsNotNone(caps, "no [CAPABILITY ...] in %r" % tagged)
        self.assertIn("IMAP4REV1", caps)
        self.assertFalse([c for c in caps if c.startswith("AUTH=")],
                         "AUTH= offered after login: %s" % caps)

    def test_login_with_imaplib(self):
        inst = self.start_instance()
        c = inst.imap()
        typ, data = c.login("alice", "pw")
        self.assertEqual(typ, "OK")
        self.assertEqual(c.noop()[0], "OK")
        self.assertEqual(c.logout()[0], "BYE")

    def test_login_literals(self):
        inst = self.start_instance()
        s = self.session(inst)
        s.send(b"a LOGIN {5}\r\n")
        self.assertTrue(s.expect_line().startswith(b"+"))
        s.send(b"alice {2}\r\n")
        self.assertTrue(s.expect_line().startswith(b"+"))
        s.send(b"pw\r\n")
        _, tagged = s.read_until_tagged("a")
        self.assertOK(tagged, "a")

    def test_authenticate_plain_sasl_ir(self):
        inst = self.start_instance()
        s = self.session(inst)
        _, tagged = s.command("a", "AUTHENTICATE PLAIN " + b64("\0alice\0secret"))
        self.assertOK(tagged, "a")
        self.assertAuthenticated(s)

    def test_authenticate_plain_without_ir(self):
        inst = self.start_instance()
        s = self.session(inst)
        s.send(b"a AUTHENTICATE PLAIN\r\n")
        line = s.expect_line()
        self.assertTrue(line == b"+" or line.startswith(b"+ "), line)
        s.send_line(b64("\0alice\0secret"))
        _, tagged = s.read_until_tagged("a")
        self.assertOK(tagged, "a")
        self.assertAuthenticated(s)

    def test_authenticate_plain_with_imaplib(self):
        inst = self.start_instance()
        c = inst.imap()
        typ, _ = c.authenticate("PLAIN", lambda _: b"\0alice\0secret")
        self.assertEqual(typ, "OK")
        c.logout()

    def test_authenticate_login(self):
        inst = self.start_instance()
        s = self.session(inst)
        s.send(b"a AUTHENTICATE LOGIN\r\n")
        self.assertTrue(s.expect_line().startswith(b"+"))
        s.send_line(b64("alice"))
        self.assertTrue(s.expect_line().startswith(b"+"))
        s.send_line(b64("secret"))
        _, tagged = s.read_until_tagged("a")
        self.assertOK(tagged, "a")
        self.assertAuthenticated(s)

    def test_authenticate_cancel_gets_bad(self):
        inst = self.start_instance()
        s = self.session(inst)
        s.send(b"a AUTHENTICATE PLAIN\r\n")
        self.assertTrue(s.expect_line().startswith(b"+"))
        s.send(b"*\r\n")
        _, tagged = s.read_until_tagged("a")
        self.assertBAD(tagged, "a")
        # Still not authenticated: a real login works.
        _, tagged = s.command("b", "LOGIN alice pw")
        self.assertOK(tagged, "b")

    def test_authenticate_unknown_mechanism(self):
        inst = self.start_instance()
        s = self.session(inst)
        _, tagged = s.command("a", "AUTHENTICATE X-NO-SUCH-MECH")
        self.assertIn(tagged.split()[1], (b"NO", b"BAD"))
        self.assertNoopOK(s)

    def test_mechanism_not_in_mech_list_refused(self):
        inst = self.start_instance(config={"sasl_mech_list": "PLAIN"})
        s = self.session(inst)
        self.assertNotIn("AUTH=LOGIN", self.capabilities(s))
        _, tagged = s.command("a", "AUTHENTICATE LOGIN")
        self.assertIn(tagged.split()[1], (b"NO", b"BAD"))


class SasldbTest(InstanceTestCase):
    USERS = {"bob": "Right-Password-1"}

    def session(self):
        inst = self.start_instance(sasl_users=self.USERS)
        s = inst.raw()
        self.addCleanup(s.close)
        s.expect_line()
        return s

    def test_login_right_password(self):
        s = self.session()
        _, tagged = s.command("a", 'LOGIN bob "Right-Password-1"')
        self.assertOK(tagged, "a")

    def test_login_wrong_password(self):
        s = self.session()
        _, tagged = s.command("a", 'LOGIN bob "wrong"')
        self.assertNO(tagged, "a")
        self.assertIn(b"[AUTHENTICATIONFAILED]", tagged)
        # The session survives and a later correct login works.
        _, tagged = s.command("b", 'LOGIN bob "Right-Password-1"')
        self.assertOK(tagged, "b")

    def test_login_unknown_user(self):
        s = self.session()
        _, tagged = s.command("a", 'LOGIN nobody "Right-Password-1"')
        self.assertNO(tagged, "a")
        self.assertIn(b"[AUTHENTICATIONFAILED]", tagged)

    def test_plain_right_password(self):
        s = self.session()
        _, tagged = s.command("a", "AUTHENTICATE PLAIN " + b64("\0bob\0Right-Password-1"))
        self.assertOK(tagged, "a")

    def test_plain_wrong_password(self):
        s = self.session()
        _, tagged = s.command("a", "AUTHENTICATE PLAIN " + b64("\0bob\0nope"))
        self.assertNO(tagged, "a")
        self.assertIn(b"[AUTHENTICATIONFAILED]", tagged)

    def test_imaplib_wrong_password_raises(self):
        inst = self.start_instance(sasl_users=self.USERS)
        c = inst.imap()
        with self.assertRaises(imaplib.IMAP4.error):
            c.login("bob", "nope")
        self.assertEqual(c.login("bob", "Right-Password-1")[0], "OK")
        c.logout()
