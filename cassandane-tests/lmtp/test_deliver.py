"""lmtp: the deliver tool (message on stdin, through lmtpd's UNIX socket)
and its sendmail-compatible exit codes; IDLE sessions see deliveries."""

import os
import subprocess
import time

from cassandane import settings
from cassandane.instance import HOST
from cassandane.rawsession import RawSession
from lmtp.lmtp_util import LmtpTestCase, message

EX_NOUSER, EX_UNAVAILABLE, EX_TEMPFAIL, EX_USAGE = 67, 69, 75, 64


class DeliverTest(LmtpTestCase):
    def run_deliver(self, args, msg, conf=None):
        r = subprocess.run([settings.program("deliver"), "-C",
                            conf or self.inst.imapd_conf] + args,
                           input=msg, capture_output=True, timeout=60)
        return r

    def test_deliver_to_inbox(self):
        self.start_lmtp()
        r = self.run_deliver(["-f", "ann@example.org", "fred"],
                             b"Subject: piped\nDate: Mon, 6 Nov 2023 10:00:00 +0000\n\n"
                             b"line\n.starts with dot\n")
        self.assertEqual(r.returncode, 0, r.stderr)
        m = self.messages("fred")
        self.assertEqual(len(m), 1)
        self.assertTrue(m[0].startswith(b"Return-Path: <ann@example.org>\r\n"))
        self.assertTrue(m[0].endswith(b"\r\n\r\nline\r\n.starts with dot\r\n"), m[0])

    def test_deliver_several_users(self):
        self.start_lmtp(users=("fred", "bob"))
        r = self.run_deliver(["fred", "bob"], message("two"))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(len(self.messages("fred")), 1)
        self.assertEqual(len(self.messages("bob")), 1)

    def test_deliver_unknown_user(self):
        self.start_lmtp()
        r = self.run_deliver(["nobody"], message("lost"))
        self.assertEqual(r.returncode, EX_NOUSER)
        self.assertIn(b"550 5.1.1", r.stderr)

    def test_deliver_over_quota_is_temporary(self):
        self.start_lmtp()
        self.assertEqual(self.admin().setquota("user/fred", "(MESSAGE 1)")[0], "OK")
        self.assertEqual(self.run_deliver(["fred"], message("one")).returncode, 0)
        r = self.run_deliver(["fred"], message("two"))
        self.assertEqual(r.returncode, EX_TEMPFAIL)
        self.assertEqual(len(self.messages("fred")), 1)
        # -q: IGNOREQUOTA.
        r = self.run_deliver(["-q", "fred"], message("three"))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(len(self.messages("fred")), 2)

    def test_deliver_mixed_temp_wins(self):
        self.start_lmtp(users=("fred", "bob"))
        self.assertEqual(self.admin().setquota("user/bob", "(MESSAGE 0)")[0], "OK")
        r = self.run_deliver(["nobody", "bob", "fred"], message("mixed"))
        self.assertEqual(r.returncode, EX_TEMPFAIL)
        self.assertEqual(len(self.messages("fred")), 1)

    def test_deliver_to_folder(self):
        self.start_lmtp()
        admin = self.admin()
        self.assertEqual(admin.create("user/fred/lists")[0], "OK")
        self.assertEqual(admin.setacl("user/fred/lists", "fred", "lrswipkxtecda")[0], "OK")
        # The folder's p right belongs to fred, so post as fred.
        r = self.run_deliver(["-a", "fred", "-m", "lists", "fred"], message("list"))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(len(self.messages("fred", "lists")), 1)
        self.assertEqual(self.messages("fred"), [])

    def test_deliver_shared_mailbox(self):
        self.start_lmtp()
        admin = self.admin()
        self.assertEqual(admin.create("shared")[0], "OK")
        self.assertEqual(admin.setacl("shared", "anyone", "lrsp")[0], "OK")
        r = self.run_deliver(["-m", "shared"], message("to shared"))
        self.assertEqual(r.returncode, 0, r.stderr)
        typ, data = self.admin().select("shared", readonly=True)
        self.assertEqual(data[0], b"1")

    def test_deliver_without_lmtpd(self):
        self.start_lmtp(unix=False)
        r = self.run_deliver(["fred"], message("nowhere"))
        self.assertEqual(r.returncode, EX_TEMPFAIL)
        self.assertIn(b"cannot connect", r.stderr)

    def test_deliver_usage(self):
        self.start_lmtp()
        r = self.run_deliver([], message("x"))
        self.assertEqual(r.returncode, EX_USAGE)

    def test_idle_sees_delivery(self):
        self.start_lmtp()
        s = RawSession(HOST, self.inst.service("imap").port)
        self.addCleanup(s.close)
        s.expect_line()
        _, tagged = s.command("L", "LOGIN fred secret")
        self.assertOK(tagged, "L")
        _, tagged = s.command("S", "SELECT INBOX")
        self.assertOK(tagged, "S")
        s.send_line("I IDLE")
        self.assertTrue(s.expect_line().startswith(b"+"))
        start = time.monotonic()
        self.assertEqual(self.run_deliver(["fred"], message("while idle")).returncode, 0)
        line = s.expect_line(timeout=5)
        while not line.endswith(b"EXISTS"):
            line = s.expect_line(timeout=5)
        self.assertEqual(line, b"* 1 EXISTS")
        self.assertLess(time.monotonic() - start, 5)
        s.send_line("DONE")
        while not s.expect_line().startswith(b"I "):
            pass
