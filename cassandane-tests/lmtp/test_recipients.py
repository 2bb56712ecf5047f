"""lmtp: how RCPT addresses are read -- lmtp_downcase_rcpt (the user part
only, never the +detail), lmtp_fuzzy_mailbox_match on and off, and
duplicate suppression across several recipients of one message, with its
expiry by cyr_expire -E."""

import subprocess
import time

from cassandane import settings
from lmtp.lmtp_util import LmtpTestCase, message


class RecipientTest(LmtpTestCase):
    def folder(self, user, name, acl="p"):
        admin = self.admin()
        self.assertEqual(admin.create("user/%s/%s" % (user, name))[0], "OK")
        self.assertEqual(admin.setacl("user/%s/%s" % (user, name), "anyone", acl)[0], "OK")

    def test_downcase_keeps_detail_case(self):
        self.start_lmtp()
        self.folder("fred", "Work")
        s = self.lmtp_unix()
        self.lhlo(s)
        rr, dr = self.deliver(s, ["FRED+Work@Example.COM"], message("work"))
        self.assertEqual(rr, [b"250 2.1.5 ok"])
        self.assertEqual(len(self.messages("fred", "Work")), 1)
        self.assertEqual(self.messages("fred"), [])

    def test_downcase_off_exact_user(self):
        self.start_lmtp(config={"lmtp_downcase_rcpt": "no"})
        s = self.lmtp_unix()
        self.lhlo(s)
        self.send_cmd(s, "MAIL FROM:<a@b>")
        self.assertEqual(self.send_cmd(s, "RCPT TO:<FRED+x>"), b"550 5.1.1 User unknown")
        self.assertEqual(self.send_cmd(s, "RCPT TO:<fred+x>"), b"250 2.1.5 ok")

    def test_no_fuzzy_match_by_default(self):
        self.start_lmtp()
        self.folder("fred", "Lists")
        s = self.lmtp_unix()
        self.lhlo(s)
        # "lists" is not "Lists" without lmtp_fuzzy_mailbox_match: INBOX.
        rr, dr = self.deliver(s, ["fred+lists"], message("exact"))
        self.assertEqual(rr, [b"250 2.1.5 ok"])
        self.assertEqual(self.messages("fred", "Lists"), [])
        self.assertEqual(len(self.messages("fred")), 1)

    def test_fuzzy_match_needs_post_right(self):
        self.start_lmtp(config={"lmtp_fuzzy_mailbox_match": "yes"})
        self.folder("fred", "Lists", acl="lrs")
        s = self.lmtp_unix()
        self.lhlo(s)
        rr, dr = self.deliver(s, ["fred+lists/cyrus"], message("closed"))
        self.assertEqual(rr, [b"250 2.1.5 ok"])
        self.assertEqual(len(self.messages("fred")), 1)
        self.assertEqual(self.messages("fred", "Lists"), [])

    def test_fuzzy_match_prefers_deepest(self):
        self.start_lmtp(config={"lmtp_fuzzy_mailbox_match": "yes"})
        self.folder("fred", "Lists")
        self.folder("fred", "Lists/Cyrus")
        s = self.lmtp_unix()
        self.lhlo(s)
        rr, dr = self.deliver(s, ["fred+LISTS/cyrus/devel"], message("deep"))
        self.assertEqual(rr, [b"250 2.1.5 ok"])
        self.assertEqual(len(self.messages("fred", "Lists/Cyrus")), 1)
        self.assertEqual(self.messages("fred", "Lists"), [])
        self.assertEqual(self.messages("fred"), [])


class DuplicateRecipientsTest(LmtpTestCase):
    def cyr_expire(self, *args):
        r = subprocess.run([settings.program("cyr_expire"), "-C",
                            self.inst.imapd_conf] + list(args),
                           capture_output=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        return r

    def counts(self, *who):
        return [len(self.messages(u, f)) for u, f in who]

    def test_two_recipients_twice(self):
        self.start_lmtp(users=("fred", "bob"))
        s = self.lmtp_unix()
        self.lhlo(s)
        msg = message("twice", msgid="<twice@example.com>")
        rr, dr = self.deliver(s, ["fred", "bob"], msg)
        self.assertEqual(len(dr), 2)
        self.assertEqual(self.counts(("fred", "INBOX"), ("bob", "INBOX")), [1, 1])
        # Sent again to both, plus a third user who has not had it yet:
        # every recipient is answered 250, only the new one stores it.
        self.create_user("ann")
        rr, dr = self.deliver(s, ["fred", "ann", "bob"], msg)
        self.assertEqual(rr, [b"250 2.1.5 ok"] * 3)
        self.assertEqual(len(dr), 3)
        self.assertTrue(all(d.startswith(b"250 2.1.5") for d in dr), dr)
        self.assertEqual(self.counts(("fred", "INBOX"), ("bob", "INBOX"),
                                     ("ann", "INBOX")), [1, 1, 1])

    def test_folder_and_inbox_are_different_mailboxes(self):
        self.start_lmtp()
        admin = self.admin()
        self.assertEqual(admin.create("user/fred/work")[0], "OK")
        self.assertEqual(admin.setacl("user/fred/work", "anyone", "p")[0], "OK")
        s = self.lmtp_unix()
        self.lhlo(s)
        msg = message("both", msgid="<both@example.com>")
        # fred and fred+nothere name the same INBOX (one copy); fred+work
        # is another mailbox and gets its own.
        rr, dr = self.deliver(s, ["fred", "fred+work", "fred+nothere"], msg)
        self.assertEqual(len(dr), 3)
        self.assertEqual(self.counts(("fred", "INBOX"), ("fred", "work")), [1, 1])
        self.deliver(s, ["fred+work"], msg)
        self.assertEqual(self.counts(("fred", "INBOX"), ("fred", "work")), [1, 1])

    def test_expiry_frees_both_marks(self):
        self.start_lmtp(users=("fred", "bob"))
        s = self.lmtp_unix()
        self.lhlo(s)
        msg = message("expire", msgid="<expire-both@example.com>")
        self.deliver(s, ["fred", "bob"], msg)
        self.assertIn(b"expired 0 and kept 2", self.cyr_expire("-E", "1", "-v").stdout)
        self.deliver(s, ["fred", "bob"], msg)
        self.assertEqual(self.counts(("fred", "INBOX"), ("bob", "INBOX")), [1, 1])
        time.sleep(1.1)
        self.assertIn(b"expired 2 and kept 0", self.cyr_expire("-E", "0", "-v").stdout)
        rr, dr = self.deliver(s, ["fred", "bob"], msg)
        self.assertTrue(all(d.startswith(b"250 2.1.5") for d in dr), dr)
        self.assertEqual(self.counts(("fred", "INBOX"), ("bob", "INBOX")), [2, 2])
        # Marked again by that delivery.
        self.deliver(s, ["fred", "bob"], msg)
        self.assertEqual(self.counts(("fred", "INBOX"), ("bob", "INBOX")), [2, 2])
