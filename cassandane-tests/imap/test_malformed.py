"""imap: malformed input gets BAD and the same connection keeps working.

RFC 3501 7.1.5: BAD reports a protocol-level error in the client's command;
untagged when the tag cannot be found.  DESIGN: bad input gets a protocol
error and never a crash or a hang.
"""

import re

from cassandane.testcase import InstanceTestCase, b64


class MalformedTest(InstanceTestCase):
    def session(self):
        inst = self.start_instance()
        s = inst.raw()
        self.addCleanup(s.close)
        self.assertTrue(s.expect_line().startswith(b"* OK"))
        return s

    def expect_bad(self, s, data, timeout=10):
        """Send `data`; some line must be `<tag-or-*> BAD ...`; then NOOP OK."""
        s.send(data)
        while True:
            line = s.expect_line(timeout)
            if re.match(rb"^\S+ BAD\b", line, re.I):
                break
            self.assertTrue(line.startswith(b"* "),
                            "expected BAD for %r, got %r" % (data[:60], line))
        self.assertNoopOK(s)
        return line

    def test_lone_crlf(self):
        s = self.session()
        self.expect_bad(s, b"\r\n")

    def test_tag_without_command(self):
        s = self.session()
        line = self.expect_bad(s, b"a1\r\n")
        self.assertTrue(line.startswith((b"a1 ", b"* ")), line)

    def test_no_tag(self):
        s = self.session()
        self.expect_bad(s, b" NOOP\r\n")

    def test_star_as_tag(self):
        s = self.session()
        self.expect_bad(s, b"* NOOP\r\n")

    def test_unknown_command(self):
        s = self.session()
        line = self.expect_bad(s, b"a1 FROBNICATE\r\n")
        self.assertTrue(line.startswith(b"a1 BAD"), line)

    def test_unknown_command_with_arguments(self):
        s = self.session()
        line = self.expect_bad(s, b'a1 FROBNICATE "x" (y z) {3}\r\n')
        self.assertTrue(line.startswith(b"a1 BAD"), line)
        # A synchronizing literal of an unknown command must not be awaited
        # (no "+" was sent), so NOOP above already proved the state is sane.

    def test_login_missing_arguments(self):
        s = self.session()
        self.assertTrue(self.expect_bad(s, b"a1 LOGIN\r\n").startswith(b"a1 BAD"))
        self.assertTrue(self.expect_bad(s, b"a2 LOGIN alice\r\n").startswith(b"a2 BAD"))

    def test_login_extra_argument(self):
        s = self.session()
        self.assertTrue(self.expect_bad(s, b"a1 LOGIN alice pw extra\r\n")
                        .startswith(b"a1 BAD"))

    def test_unterminated_quoted_string(self):
        s = self.session()
        self.assertTrue(self.expect_bad(s, b'a1 LOGIN "alice pw\r\n')
                        .startswith(b"a1 BAD"))

    def test_noop_with_argument(self):
        s = self.session()
        self.assertTrue(self.expect_bad(s, b"a1 NOOP now\r\n").startswith(b"a1 BAD"))

    def test_authenticate_missing_mechanism(self):
        s = self.session()
        self.assertTrue(self.expect_bad(s, b"a1 AUTHENTICATE\r\n")
                        .startswith(b"a1 BAD"))

    def test_authenticate_bad_base64_initial_response(self):
        s = self.session()
        self.assertTrue(self.expect_bad(s, b"a1 AUTHENTICATE PLAIN %%%%\r\n")
                        .startswith(b"a1 BAD"))

    def test_authenticate_bad_base64_continuation(self):
        s = self.session()
        s.send(b"a1 AUTHENTICATE PLAIN\r\n")
        self.assertTrue(s.expect_line().startswith(b"+"))
        self.assertTrue(self.expect_bad(s, b"!!not base64!!\r\n").startswith(b"a1 BAD"))
        # Not authenticated by accident.
        _, tagged = s.command("b", "LOGIN alice pw")
        self.assertOK(tagged, "b")

    def test_overlong_atom(self):
        s = self.session()
        line = self.expect_bad(s, b"a1 LOGIN " + b"u" * 300000 + b" pw\r\n", timeout=20)
        self.assertTrue(line.startswith((b"a1 BAD", b"* BAD")), line)

    def test_overlong_tag(self):
        s = self.session()
        self.expect_bad(s, b"t" * 300000 + b" NOOP\r\n", timeout=20)

    def test_huge_literal_announcement(self):
        s = self.session()
        s.send(b"a1 LOGIN {999999999999}\r\n")
        line = s.expect_line()
        self.assertFalse(line.startswith(b"+"),
                         "server invited a 1 TB literal: %r" % line)
        self.assertTrue(re.match(rb"^(a1|\*) (BAD|NO)\b", line),
                        "expected BAD (or NO [TOOBIG]) for the literal, got %r" % line)
        self.assertNoopOK(s)

    def test_huge_literal_overflowing_64_bits(self):
        s = self.session()
        s.send(b"a1 LOGIN {99999999999999999999999}\r\n")
        line = s.expect_line()
        self.assertFalse(line.startswith(b"+"), line)
        self.assertTrue(re.match(rb"^(a1|\*) (BAD|NO)\b", line), line)
        self.assertNoopOK(s)

    def test_nul_byte_in_command(self):
        s = self.session()
        self.expect_bad(s, b"a1 NO\x00OP\r\n")

    def test_nul_byte_in_quoted_string(self):
        s = self.session()
        line = self.expect_bad(s, b'a1 LOGIN "ali\x00ce" "pw"\r\n')
        self.assertTrue(line.startswith((b"a1 BAD", b"* BAD")), line)

    def test_eight_bit_garbage(self):
        s = self.session()
        self.expect_bad(s, b"\xff\xfe\xfd\x80\x81 \xc3\x28\r\n")

    def test_eight_bit_in_atom_not_accepted(self):
        # Atoms are 7-bit (RFC 3501 9); the login must not succeed.
        s = self.session()
        _, tagged = s.command("a1", b"LOGIN al\xffice pw")
        self.assertIn(tagged.split(b" ")[1], (b"BAD", b"NO"), tagged)
        self.assertNoopOK(s)

    def test_binary_noise_then_commands(self):
        s = self.session()
        noise = bytes(range(1, 256)).replace(b"\r", b"").replace(b"\n", b"")
        self.expect_bad(s, b"a1 " + noise * 4 + b"\r\n")
        _, tagged = s.command("b", "LOGIN alice " + b64("pw"))
        self.assertOK(tagged, "b")

    def test_bare_lf_line_end(self):
        # Many clients send LF only; the server must not hang on it.
        s = self.session()
        s.send(b"a1 NOOP\n")
        s.send(b"a2 NOOP\r\n")
        _, tagged = s.read_until_tagged("a2")
        self.assertOK(tagged, "a2")
