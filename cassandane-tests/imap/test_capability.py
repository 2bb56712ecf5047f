"""imap: greeting and CAPABILITY (RFC 3501 6.1.1, 7.1; RFC 4959; RFC 2971)."""

from cassandane.testcase import InstanceTestCase


class CapabilityTest(InstanceTestCase):
    def test_greeting_has_capability(self):
        inst = self.start_instance()
        with inst.raw() as s:
            greeting = s.expect_line()
            self.assertTrue(greeting.startswith(b"* OK "), greeting)
            caps = self.response_code_caps(greeting)
            self.assertIsNotNone(caps, "no [CAPABILITY ...] in %r" % greeting)
            self.assertIn("IMAP4REV1", caps)

    def test_capability_lists_basics(self):
        inst = self.start_instance()
        with inst.raw() as s:
            s.expect_line()
            caps = self.capabilities(s)
        for c in ("IMAP4REV1", "AUTH=PLAIN", "SASL-IR", "ID"):
            self.assertIn(c, caps)
        self.assertNotIn("LOGINDISABLED", caps)

    def test_no_starttls_without_certificate(self):
        inst = self.start_instance()
        with inst.raw() as s:
            s.expect_line()
            self.assertNotIn("STARTTLS", self.capabilities(s))
            _, tagged = s.command("t", "STARTTLS")
            self.assertTrue(tagged.split()[1] in (b"BAD", b"NO"), tagged)
            self.assertNoopOK(s)

    def test_starttls_advertised_with_certificate(self):
        inst = self.start_instance(tls=True)
        with inst.raw() as s:
            s.expect_line()
            self.assertIn("STARTTLS", self.capabilities(s))

    def test_imaps_does_not_offer_starttls(self):
        inst = self.start_instance(tls=True)
        with inst.raw("imaps", tls=True) as s:
            self.assertTrue(s.expect_line().startswith(b"* OK"))
            caps = self.capabilities(s)
        self.assertNotIn("STARTTLS", caps)
        self.assertIn("AUTH=PLAIN", caps)
