"""lmtp: lmtp_catchall_mailbox -- the local user whose INBOX receives mail
for mailboxes that do not exist (imapd.conf(5): "Mail sent to mailboxes
which do not exist, is delivered to this user").  It names a user, not an
address; an existing user's mail, over-quota refusals and missing +detail
folders are not affected."""

from lmtp.lmtp_util import LmtpTestCase, message

CATCHALL = {"lmtp_catchall_mailbox": "postmaster"}


class CatchallTest(LmtpTestCase):
    def test_unknown_user_goes_to_catchall(self):
        self.start_lmtp(config=CATCHALL, users=("fred", "postmaster"))
        s = self.lmtp_unix()
        self.lhlo(s)
        rr, dr = self.deliver(s, ["nobody@example.com"], message("lost"),
                              frm="ann@example.org")
        self.assertEqual(rr, [b"250 2.1.5 ok"])
        self.assertTrue(dr[0].startswith(b"250 2.1.5"), dr)
        pm = self.messages("postmaster")
        self.assertEqual(len(pm), 1)
        self.assertIn(b"Subject: lost\r\n", pm[0])
        self.assertTrue(pm[0].startswith(b"Return-Path: <ann@example.org>\r\n"))
        self.assertEqual(self.messages("fred"), [])

    def test_unknown_user_with_detail_goes_to_catchall_inbox(self):
        self.start_lmtp(config=CATCHALL, users=("postmaster",))
        admin = self.admin()
        # A folder of the catch-all user with the same name is not used:
        # the detail belonged to the unknown user.
        self.assertEqual(admin.create("user/postmaster/lists")[0], "OK")
        self.assertEqual(admin.setacl("user/postmaster/lists", "anyone", "p")[0], "OK")
        s = self.lmtp_unix()
        self.lhlo(s)
        rr, dr = self.deliver(s, ["nobody+lists"], message("detail"))
        self.assertEqual(rr, [b"250 2.1.5 ok"])
        self.assertEqual(len(self.messages("postmaster")), 1)
        self.assertEqual(self.messages("postmaster", "lists"), [])

    def test_known_user_unaffected(self):
        self.start_lmtp(config=CATCHALL, users=("fred", "postmaster"))
        s = self.lmtp_unix()
        self.lhlo(s)
        # A missing +detail folder of a real user is that user's INBOX.
        rr, dr = self.deliver(s, ["fred", "fred+nothere"], message("mine"))
        self.assertEqual(rr, [b"250 2.1.5 ok", b"250 2.1.5 ok"])
        self.assertEqual(len(self.messages("fred")), 1)
        self.assertEqual(self.messages("postmaster"), [])

    def test_several_unknown_share_one_copy(self):
        self.start_lmtp(config=CATCHALL, users=("fred", "postmaster"))
        s = self.lmtp_unix()
        self.lhlo(s)
        rr, dr = self.deliver(s, ["ghost1", "fred", "ghost2"], message("ghosts"))
        self.assertEqual(rr, [b"250 2.1.5 ok"] * 3)
        self.assertEqual(len(dr), 3)
        self.assertTrue(all(d.startswith(b"250 2.1.5") for d in dr), dr)
        # Both unknown recipients name the catch-all INBOX: one copy.
        self.assertEqual(len(self.messages("postmaster")), 1)
        self.assertEqual(len(self.messages("fred")), 1)

    def test_missing_shared_folder_goes_to_catchall(self):
        self.start_lmtp(config=CATCHALL, users=("postmaster",))
        s = self.lmtp_unix()
        self.lhlo(s)
        rr, dr = self.deliver(s, ["+shared/nothere"], message("to nowhere"))
        self.assertEqual(rr, [b"250 2.1.5 ok"])
        self.assertEqual(len(self.messages("postmaster")), 1)

    def test_shared_folder_without_post_right_still_refused(self):
        self.start_lmtp(config=CATCHALL, users=("postmaster",))
        admin = self.admin()
        self.assertEqual(admin.create("shared")[0], "OK")
        self.assertEqual(admin.setacl("shared", "anyone", "lrs")[0], "OK")
        s = self.lmtp_unix()
        self.lhlo(s)
        self.send_cmd(s, "MAIL FROM:<a@b>")
        self.assertEqual(self.send_cmd(s, "RCPT TO:<+shared>"),
                         b"550 5.7.1 Permission denied")
        self.send_cmd(s, "RSET")
        self.assertEqual(self.messages("postmaster"), [])
        typ, data = self.admin().select("shared", readonly=True)
        self.assertEqual((typ, data[0]), ("OK", b"0"))

    def test_over_quota_user_not_diverted(self):
        self.start_lmtp(config=CATCHALL, users=("fred", "postmaster"))
        self.assertEqual(self.admin().setquota("user/fred", "(MESSAGE 0)")[0], "OK")
        s = self.lmtp_unix()
        self.lhlo(s)
        self.send_cmd(s, "MAIL FROM:<a@b>")
        self.assertTrue(self.send_cmd(s, "RCPT TO:<fred>")
                        .startswith(b"452 4.2.2 Over quota"))
        self.send_cmd(s, "RSET")
        self.assertEqual(self.messages("postmaster"), [])

    def test_catchall_user_missing(self):
        self.start_lmtp(config={"lmtp_catchall_mailbox": "nosuchuser"})
        s = self.lmtp_unix()
        self.lhlo(s)
        self.send_cmd(s, "MAIL FROM:<a@b>")
        lines = self.reply_to(s, "RCPT TO:<nobody>")
        self.assertEqual(lines[-1], b"550 5.1.1 User unknown")
        self.assertEqual(self.send_cmd(s, "DATA"), b"503 5.5.1 No recipients")

    def test_without_catchall_unknown_refused(self):
        self.start_lmtp(users=("fred",))
        s = self.lmtp_unix()
        self.lhlo(s)
        self.send_cmd(s, "MAIL FROM:<a@b>")
        lines = self.reply_to(s, "RCPT TO:<nobody>")
        self.assertEqual(lines, [
            b"550-Mailbox unknown.  Either there is no mailbox associated with this",
            b"550-name or you do not have authorization to see it.",
            b"550 5.1.1 User unknown"])
        self.assertEqual(self.send_cmd(s, "RCPT TO:<+shared/nothere>"),
                         b"550 5.1.1 User unknown")

    def test_catchall_over_quota_is_temporary(self):
        self.start_lmtp(config=CATCHALL, users=("postmaster",))
        self.assertEqual(self.admin().setquota("user/postmaster", "(MESSAGE 0)")[0], "OK")
        s = self.lmtp_unix()
        self.lhlo(s)
        self.send_cmd(s, "MAIL FROM:<a@b>")
        self.assertTrue(self.send_cmd(s, "RCPT TO:<nobody>")
                        .startswith(b"452 4.2.2 Over quota"))

    def reply_to(self, s, line):
        s.send_line(line)
        return self.reply(s)
