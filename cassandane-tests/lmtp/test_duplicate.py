"""lmtp: duplicate delivery suppression (deliver.db) and cyr_expire -E."""

import os
import subprocess
import time

from cassandane import settings
from lmtp.lmtp_util import LmtpTestCase, message


class DuplicateTest(LmtpTestCase):
    def test_same_id_same_mailbox_once(self):
        self.start_lmtp()
        s = self.lmtp_unix()
        self.lhlo(s)
        msg = message("dup", msgid="<dup-1@example.com>")
        _, dr = self.deliver(s, ["fred"], msg)
        self.assertTrue(dr[0].startswith(b"250"))
        # The duplicate is acknowledged but not stored again.
        _, dr = self.deliver(s, ["fred"], msg)
        self.assertTrue(dr[0].startswith(b"250"))
        self.assertEqual(len(self.messages("fred")), 1)
        self.inst.wait_log(r"dupelim.*user\.fred.*<dup-1@example\.com>")

    def test_other_mailbox_still_gets_it(self):
        self.start_lmtp(users=("fred", "bob"))
        s = self.lmtp_unix()
        self.lhlo(s)
        msg = message("dup", msgid="<dup-2@example.com>")
        self.deliver(s, ["fred"], msg)
        _, dr = self.deliver(s, ["fred", "bob"], msg)
        self.assertEqual(len(dr), 2)
        self.assertEqual(len(self.messages("fred")), 1)
        self.assertEqual(len(self.messages("bob")), 1)

    def test_other_id_is_delivered(self):
        self.start_lmtp()
        s = self.lmtp_unix()
        self.lhlo(s)
        self.deliver(s, ["fred"], message("a", msgid="<a@example.com>"))
        self.deliver(s, ["fred"], message("b", msgid="<b@example.com>"))
        self.assertEqual(len(self.messages("fred")), 2)

    def test_without_message_id_never_duplicate(self):
        self.start_lmtp()
        s = self.lmtp_unix()
        self.lhlo(s)
        msg = b"Subject: no id\r\n\r\nbody\r\n"
        self.deliver(s, ["fred"], msg)
        self.deliver(s, ["fred"], msg)
        self.assertEqual(len(self.messages("fred")), 2)

    def test_suppression_off(self):
        self.start_lmtp(config={"duplicatesuppression": "no"})
        s = self.lmtp_unix()
        self.lhlo(s)
        msg = message("dup", msgid="<dup-3@example.com>")
        self.deliver(s, ["fred"], msg)
        self.deliver(s, ["fred"], msg)
        self.assertEqual(len(self.messages("fred")), 2)

    def cyr_expire(self, *args):
        return subprocess.run([settings.program("cyr_expire"), "-C",
                               self.inst.imapd_conf] + list(args),
                              capture_output=True, timeout=60)

    def test_cyr_expire_E(self):
        self.start_lmtp()
        s = self.lmtp_unix()
        self.lhlo(s)
        msg = message("dup", msgid="<dup-4@example.com>")
        self.deliver(s, ["fred"], msg)
        # Marks younger than a day stay.
        r = self.cyr_expire("-E", "1", "-v")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(b"expired 0 and kept 1", r.stdout)
        self.deliver(s, ["fred"], msg)
        self.assertEqual(len(self.messages("fred")), 1)
        # A zero duration expires every mark older than now (marks have
        # one-second resolution): the message is new again.
        time.sleep(1.1)
        r = self.cyr_expire("-E", "0", "-v")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(b"expired 1 and kept 0", r.stdout)
        self.deliver(s, ["fred"], msg)
        self.assertEqual(len(self.messages("fred")), 2)

    def test_cyr_expire_bad_usage(self):
        self.start_lmtp()
        r = self.cyr_expire()
        self.assertEqual(r.returncode, 64)
        r = self.cyr_expire("-E", "soon")
        self.assertEqual(r.returncode, 64)
        self.assertIn(b"invalid duration", r.stderr)
        self.assertTrue(os.path.exists(self.inst.imapd_conf))
