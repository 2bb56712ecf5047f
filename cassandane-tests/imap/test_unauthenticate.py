"""imap: UNAUTHENTICATE (RFC 8437): back to not-authenticated state with
nothing of the previous login left over."""

from cassandane.testcase import b64
from imap.compress_util import start_deflate
from imap.selected_util import SelectedTestCase, message


class UnauthenticateTest(SelectedTestCase):
    def test_advertised_after_login_only(self):
        inst = self.instance()
        with inst.raw() as s:
            s.expect_line()
            self.assertNotIn("UNAUTHENTICATE", self.capabilities(s))
            _, tagged = s.command("L", "LOGIN fred secret")
            self.assertOK(tagged, "L")
            self.assertIn("UNAUTHENTICATE", self.capabilities(s))

    def test_back_to_not_authenticated(self):
        s = self.login()
        _, tagged = s.command("u", "UNAUTHENTICATE")
        self.assertOK(tagged, "u")
        _, tagged = s.command("l", 'LIST "" "*"')
        self.assertBAD(tagged, "l")
        self.assertIn(b"login", tagged.lower())
        caps = self.capabilities(s)
        self.assertNotIn("UNAUTHENTICATE", caps)
        self.assertIn("AUTH=PLAIN", caps)

    def test_login_as_another_user(self):
        s = self.login("fred")
        self.append(s, msg=message("for fred"))
        _, tagged = s.command("u", "UNAUTHENTICATE")
        self.assertOK(tagged, "u")
        _, tagged = s.command("L2", "LOGIN barney secret")
        self.assertOK(tagged, "L2")
        untagged = self.ok(s, "st", "STATUS INBOX (MESSAGES)")
        # barney's INBOX, not fred's.
        self.assertTrue(any(b"MESSAGES 0" in l for l in untagged), untagged)
        _, tagged = s.command("o", 'STATUS "Other Users/fred" (MESSAGES)')
        self.assertNO(tagged, "o")

    def test_selected_mailbox_is_left_without_expunge(self):
        s = self.fill(2)
        self.ok(s, "st", "STORE 1 +FLAGS.SILENT (\\Deleted)")
        untagged, tagged = s.command("u", "UNAUTHENTICATE")
        self.assertOK(tagged, "u")
        self.assertFalse([l for l in untagged if b"EXPUNGE" in l], untagged)
        _, tagged = s.command("f", "FETCH 1 FLAGS")
        self.assertBAD(tagged, "f")
        _, tagged = s.command("L2", "LOGIN fred secret")
        self.assertOK(tagged, "L2")
        untagged = self.ok(s, "st2", "STATUS INBOX (MESSAGES)")
        self.assertTrue(any(b"MESSAGES 2" in l for l in untagged), untagged)
        _, tagged = s.command("f2", "FETCH 1 FLAGS")
        self.assertBAD(tagged, "f2")

    def test_enabled_extensions_are_forgotten(self):
        s = self.login()
        untagged = self.ok(s, "e", "ENABLE CONDSTORE")
        self.assertIn(b"* ENABLED CONDSTORE", untagged)
        _, tagged = s.command("u", "UNAUTHENTICATE")
        self.assertOK(tagged, "u")
        _, tagged = s.command("L2", "LOGIN fred secret")
        self.assertOK(tagged, "L2")
        # ENABLE names it again: it was no longer on.
        untagged = self.ok(s, "e2", "ENABLE CONDSTORE")
        self.assertIn(b"* ENABLED CONDSTORE", untagged)
        # And before that, a SELECT gave no MODSEQ in FETCH.
        self.append(s)
        _, tagged = s.command("u2", "UNAUTHENTICATE")
        self.assertOK(tagged, "u2")
        _, tagged = s.command("L3", "LOGIN fred secret")
        self.assertOK(tagged, "L3")
        self.select(s)
        untagged, tagged = self.cmd(s, "f", "FETCH 1 FLAGS")
        self.assertOK(tagged, "f")
        self.assertFalse([l for l in untagged if b"MODSEQ" in l], untagged)

    def test_pipelined_with_authenticate(self):
        s = self.login("fred")
        ir = b64("\0barney\0secret")
        s.send("u UNAUTHENTICATE\r\na AUTHENTICATE PLAIN %s\r\n" % ir)
        _, tagged = s.read_until_tagged("u")
        self.assertOK(tagged, "u")
        _, tagged = s.read_until_tagged("a")
        self.assertOK(tagged, "a")
        _, tagged = s.command("m", "MYRIGHTS INBOX")
        self.assertOK(tagged, "m")
        _, tagged = s.command("o", 'GETACL "Other Users/fred"')
        self.assertNO(tagged, "o")

    def test_not_valid_before_login(self):
        inst = self.instance()
        with inst.raw() as s:
            s.expect_line()
            _, tagged = s.command("u", "UNAUTHENTICATE")
            self.assertBAD(tagged, "u")
            self.assertNoopOK(s)

    def test_arguments_are_bad_and_session_stays(self):
        s = self.login()
        _, tagged = s.command("u", "UNAUTHENTICATE now")
        self.assertBAD(tagged, "u")
        # Still logged in.
        self.ok(s, "st", "STATUS INBOX (MESSAGES)")

    def test_refused_under_compress(self):
        s = self.login()
        _, tagged = s.command("z", "COMPRESS DEFLATE")
        self.assertOK(tagged, "z")
        start_deflate(s)
        self.assertNotIn("UNAUTHENTICATE", self.capabilities(s))
        _, tagged = s.command("u", "UNAUTHENTICATE")
        self.assertBAD(tagged, "u")
        self.ok(s, "st", "STATUS INBOX (MESSAGES)")
