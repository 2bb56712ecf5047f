"""imap: STARTTLS, implicit TLS (imaps), allowplaintext and real TLS clients."""

import os
import shutil
import ssl
import subprocess

from cassandane.instance import HOST
from cassandane.testcase import InstanceTestCase, b64

IMTEST_CANDIDATES = ("/usr/lib/cyrus/bin/imtest", "/usr/bin/imtest")


def find_imtest():
    for p in IMTEST_CANDIDATES:
        if os.access(p, os.X_OK):
            return p
    return shutil.which("imtest")


class StartTLSTest(InstanceTestCase):
    def starttls(self, inst, s):
        _, tagged = s.command("t", "STARTTLS")
        self.assertOK(tagged, "t")
        s.starttls(inst.ssl_context())

    def test_starttls_with_python_ssl(self):
        inst = self.start_instance(tls=True)
        with inst.raw() as s:
            s.expect_line()
            self.starttls(inst, s)
            self.assertIsNotNone(s.sock.cipher())
            self.assertNoopOK(s)
            _, tagged = s.command("a", "LOGIN alice pw")
            self.assertOK(tagged, "a")

    def test_starttls_with_imaplib(self):
        inst = self.start_instance(tls=True)
        c = inst.imap()
        self.assertEqual(c.starttls(ssl_context=inst.ssl_context())[0], "OK")
        self.assertEqual(c.login("alice", "pw")[0], "OK")
        self.assertEqual(c.logout()[0], "BYE")

    def test_starttls_twice_refused(self):
        inst = self.start_instance(tls=True)
        with inst.raw() as s:
            s.expect_line()
            self.starttls(inst, s)
            self.assertNotIn("STARTTLS", self.capabilities(s))
            _, tagged = s.command("t2", "STARTTLS")
            self.assertIn(tagged.split()[1], (b"BAD", b"NO"))
            self.assertNoopOK(s)

    def test_starttls_after_login_refused(self):
        inst = self.start_instance(tls=True)
        with inst.raw() as s:
            s.expect_line()
            _, tagged = s.command("a", "LOGIN alice pw")
            self.assertOK(tagged, "a")
            _, tagged = s.command("t", "STARTTLS")
            self.assertIn(tagged.split()[1], (b"BAD", b"NO"))
            self.assertNoopOK(s)

    def test_starttls_pipelined_command_discarded(self):
        # RFC 3501 / RFC 2595: data sent after STARTTLS but before the
        # handshake must not be acted on (command injection).
        inst = self.start_instance(tls=True)
        with inst.raw() as s:
            s.expect_line()
            s.send(b"t STARTTLS\r\nx LOGIN evil pw\r\n")
            _, tagged = s.read_until_tagged("t")
            self.assertOK(tagged, "t")
            try:
                s.starttls(inst.ssl_context())
            except (ssl.SSLError, OSError):
                return  # treating the injected bytes as TLS garbage is safe too
            untagged, tagged = s.command("c", "NOOP")
            self.assertOK(tagged, "c")
            self.assertFalse([l for l in untagged if l.startswith(b"x ")],
                             "pipelined plaintext command was executed: %r" % untagged)
            _, tagged = s.command("a", "LOGIN alice pw")
            self.assertOK(tagged, "a")

    def test_imaps_with_imaplib(self):
        inst = self.start_instance(tls=True)
        c = inst.imaps()
        self.assertEqual(c.login("alice", "pw")[0], "OK")
        self.assertEqual(c.noop()[0], "OK")
        self.assertEqual(c.logout()[0], "BYE")

    def test_openssl_s_client_starttls(self):
        inst = self.start_instance(tls=True)
        r = subprocess.run(
            ["openssl", "s_client", "-starttls", "imap", "-crlf", "-quiet",
             "-connect", "%s:%d" % (HOST, inst.service().port),
             "-CAfile", inst.cert, "-verify_return_error", "-ign_eof"],
            input=b"a LOGIN alice pw\na NOOP\nz LOGOUT\n",
            capture_output=True, timeout=30)
        out = r.stdout.decode("utf-8", "replace")
        self.assertIn("a OK", out, "stdout:\n%s\nstderr:\n%s"
                      % (out, r.stderr.decode("utf-8", "replace")))
        self.assertIn("* BYE", out)
        self.assertIn("z OK", out)

    def test_imtest_plain_login(self):
        imtest = find_imtest()
        if not imtest:
            self.skipTest("imtest not installed (Debian package cyrus-clients)")
        inst = self.start_instance(sasl_users={"carol": "Carol-Secret-9"})
        r = subprocess.run([imtest, "-p", str(inst.service().port),
                            "-a", "carol", "-w", "Carol-Secret-9", "-m", "PLAIN",
                            HOST],
                           input=b"x NOOP\r\nz LOGOUT\r\n",
                           capture_output=True, timeout=30)
        out = (r.stdout + r.stderr).decode("utf-8", "replace")
        self.assertIn("Authenticated", out, out)
        self.assertNotIn("Authentication failed", out)

    def test_imtest_starttls_plain_login(self):
        imtest = find_imtest()
        if not imtest:
            self.skipTest("imtest not installed (Debian package cyrus-clients)")
        inst = self.start_instance(tls=True, config={"allowplaintext": "no"},
                                   sasl_users={"carol": "Carol-Secret-9"})
        r = subprocess.run([imtest, "-t", "", "-p", str(inst.service().port),
                            "-a", "carol", "-w", "Carol-Secret-9", "-m", "PLAIN",
                            HOST],
                           input=b"z LOGOUT\r\n", capture_output=True, timeout=30,
                           env=dict(os.environ, SSL_CERT_FILE=inst.cert))
        out = (r.stdout + r.stderr).decode("utf-8", "replace")
        self.assertIn("Authenticated", out, out)


class PlaintextTest(InstanceTestCase):
    """allowplaintext: no -- passwords only under TLS (RFC 3501 6.2.3)."""

    def start(self):
        inst = self.start_instance(tls=True, config={"allowplaintext": "no"})
        s = inst.raw()
        self.addCleanup(s.close)
        s.expect_line()
        return inst, s

    def test_logindisabled_advertised(self):
        _, s = self.start()
        caps = self.capabilities(s)
        self.assertIn("LOGINDISABLED", caps)
        self.assertIn("STARTTLS", caps)
        self.assertNotIn("AUTH=PLAIN", caps)
        self.assertNotIn("AUTH=LOGIN", caps)

    def test_login_refused_without_tls(self):
        _, s = self.start()
        _, tagged = s.command("a", "LOGIN alice pw")
        self.assertIn(tagged.split()[1], (b"NO", b"BAD"), tagged)
        # Still not authenticated.
        _, tagged = s.command("b", "SELECT INBOX")
        self.assertNotEqual(tagged.split()[1], b"OK")
        self.assertNoopOK(s)

    def test_authenticate_plain_refused_without_tls(self):
        _, s = self.start()
        _, tagged = s.command("a", "AUTHENTICATE PLAIN " + b64("\0alice\0pw"))
        self.assertIn(tagged.split()[1], (b"NO", b"BAD"), tagged)
        self.assertNoopOK(s)

    def test_login_works_after_starttls(self):
        inst, s = self.start()
        _, tagged = s.command("t", "STARTTLS")
        self.assertOK(tagged, "t")
        s.starttls(inst.ssl_context())
        caps = self.capabilities(s)
        self.assertNotIn("LOGINDISABLED", caps)
        self.assertIn("AUTH=PLAIN", caps)
        _, tagged = s.command("a", "LOGIN alice pw")
        self.assertOK(tagged, "a")

    def test_imaps_allows_login(self):
        inst, _ = self.start()
        c = inst.imaps()
        self.assertEqual(c.login("alice", "pw")[0], "OK")
        c.logout()

