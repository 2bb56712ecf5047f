"""lmtp: the deliver tool's sendmail exit codes (sysexits.h) for the
permanent refusals not covered in test_deliver: permission (EX_NOPERM),
content (EX_DATAERR: NUL, too big) and a partial success."""

import subprocess

from cassandane import settings
from lmtp.lmtp_util import LmtpTestCase, message

EX_DATAERR, EX_NOUSER, EX_NOPERM = 65, 67, 77


class DeliverExitTest(LmtpTestCase):
    def run_deliver(self, args, msg):
        return subprocess.run([settings.program("deliver"), "-C",
                               self.inst.imapd_conf] + args,
                              input=msg, capture_output=True, timeout=60)

    def test_no_post_right_is_noperm(self):
        self.start_lmtp()
        admin = self.admin()
        self.assertEqual(admin.create("closed")[0], "OK")
        self.assertEqual(admin.setacl("closed", "anyone", "lrs")[0], "OK")
        r = self.run_deliver(["-m", "closed"], message("closed"))
        self.assertEqual(r.returncode, EX_NOPERM, r.stderr)
        self.assertIn(b"550 5.7.1", r.stderr)
        typ, data = self.admin().select("closed", readonly=True)
        self.assertEqual((typ, data[0]), ("OK", b"0"))

    def test_nul_is_dataerr(self):
        self.start_lmtp()
        r = self.run_deliver(["fred"], b"Subject: nul\n\na\0b\n")
        self.assertEqual(r.returncode, EX_DATAERR, r.stderr)
        self.assertIn(b"554 5.6.0", r.stderr)
        self.assertEqual(self.messages("fred"), [])

    def test_too_big_is_dataerr(self):
        self.start_lmtp(config={"maxmessagesize": "1000"})
        r = self.run_deliver(["fred"], message("big", body="x" * 3000 + "\r\n"))
        self.assertEqual(r.returncode, EX_DATAERR, r.stderr)
        self.assertIn(b"552 5.2.3", r.stderr)
        self.assertEqual(self.messages("fred"), [])

    def test_partial_success_reports_the_failure(self):
        self.start_lmtp()
        r = self.run_deliver(["fred", "nobody"], message("half"))
        # The MTA must learn of the unknown recipient; fred has it anyway.
        self.assertEqual(r.returncode, EX_NOUSER, r.stderr)
        self.assertIn(b"nobody", r.stderr)
        self.assertEqual(len(self.messages("fred")), 1)
