"""lmtp: quota on delivery (concepts.txt "Mail Delivery Behavior")."""

from lmtp.lmtp_util import LmtpTestCase, dotstuff, message


class QuotaDeliveryTest(LmtpTestCase):
    def fill(self, user, kb):
        """Deliver one message of about `kb` KiB to user."""
        s = self.lmtp_unix()
        self.lhlo(s)
        rr, dr = self.deliver(s, [user], message("filler", body="x" * (kb * 1024) + "\r\n"))
        self.assertTrue(dr[0].startswith(b"250"), dr)

    def test_under_limit_accepts_any_size(self):
        self.start_lmtp()
        self.assertEqual(self.admin().setquota("user/fred", "(STORAGE 2)")[0], "OK")
        self.fill("fred", 1)
        # Usage (1 KiB) is under the limit: a 5 KiB message is still taken.
        self.fill("fred", 5)
        self.assertEqual(len(self.messages("fred")), 2)

    def test_over_limit_452_at_rcpt(self):
        self.start_lmtp()
        self.assertEqual(self.admin().setquota("user/fred", "(STORAGE 1)")[0], "OK")
        self.fill("fred", 3)
        s = self.lmtp_unix()
        self.lhlo(s)
        self.send_cmd(s, "MAIL FROM:<a@b>")
        r = self.send_cmd(s, "RCPT TO:<fred>")
        self.assertTrue(r.startswith(b"452 4.2.2 Over quota"), r)
        self.assertEqual(len(self.messages("fred")), 1)

    def test_over_limit_perm_failure(self):
        self.start_lmtp(config={"lmtp_over_quota_perm_failure": "yes"})
        self.assertEqual(self.admin().setquota("user/fred", "(STORAGE 1)")[0], "OK")
        self.fill("fred", 3)
        s = self.lmtp_unix()
        self.lhlo(s)
        self.send_cmd(s, "MAIL FROM:<a@b>")
        r = self.send_cmd(s, "RCPT TO:<fred>")
        self.assertTrue(r.startswith(b"552 5.2.2 Over quota"), r)

    def test_message_quota(self):
        self.start_lmtp()
        self.assertEqual(self.admin().setquota("user/fred", "(MESSAGE 1)")[0], "OK")
        self.fill("fred", 0)
        s = self.lmtp_unix()
        self.lhlo(s)
        self.send_cmd(s, "MAIL FROM:<a@b>")
        self.assertTrue(self.send_cmd(s, "RCPT TO:<fred>").startswith(b"452 4.2.2"))

    def test_strict_quota_refuses_what_would_not_fit(self):
        self.start_lmtp(config={"lmtp_strict_quota": "yes"})
        self.assertEqual(self.admin().setquota("user/fred", "(STORAGE 4)")[0], "OK")
        self.fill("fred", 1)
        s = self.lmtp_unix()
        self.lhlo(s)
        # Known too big from SIZE=: refused at RCPT.
        self.send_cmd(s, "MAIL FROM:<a@b> SIZE=10000")
        self.assertTrue(self.send_cmd(s, "RCPT TO:<fred>").startswith(b"452 4.2.2"))
        self.send_cmd(s, "RSET")
        # Size unknown until DATA: refused there.
        rr, dr = self.deliver(s, ["fred"], message("big", body="y" * 8000 + "\r\n"))
        self.assertEqual(rr, [b"250 2.1.5 ok"])
        self.assertTrue(dr[0].startswith(b"452 4.2.2 Over quota"), dr)
        self.assertEqual(len(self.messages("fred")), 1)

    def test_multi_recipient_one_over_quota(self):
        self.start_lmtp(users=("fred", "bob", "ann"))
        self.assertEqual(self.admin().setquota("user/bob", "(STORAGE 1)")[0], "OK")
        self.fill("bob", 3)
        s = self.lmtp_unix()
        self.lhlo(s)
        self.send_cmd(s, "MAIL FROM:<a@b>")
        self.assertEqual(self.send_cmd(s, "RCPT TO:<fred>"), b"250 2.1.5 ok")
        self.assertTrue(self.send_cmd(s, "RCPT TO:<bob>").startswith(b"452 4.2.2"))
        self.assertEqual(self.send_cmd(s, "RCPT TO:<ann>"), b"250 2.1.5 ok")
        self.send_cmd(s, "DATA")
        s.send(dotstuff(message("multi")))
        self.assertTrue(self.reply(s)[-1].startswith(b"250 2.1.5"))
        self.assertTrue(self.reply(s)[-1].startswith(b"250 2.1.5"))
        self.assertTrue(self.send_cmd(s, "NOOP").startswith(b"250"))
        self.assertEqual(len(self.messages("fred")), 1)
        self.assertEqual(len(self.messages("ann")), 1)
        self.assertEqual(len(self.messages("bob")), 1)

    def test_over_quota_at_data_for_one_of_two(self):
        # Both accepted at RCPT (strict, no SIZE); at DATA only one fits.
        self.start_lmtp(config={"lmtp_strict_quota": "yes"}, users=("fred", "bob"))
        self.assertEqual(self.admin().setquota("user/bob", "(STORAGE 2)")[0], "OK")
        s = self.lmtp_unix()
        self.lhlo(s)
        rr, dr = self.deliver(s, ["fred", "bob"], message("fits one", body="z" * 4000 + "\r\n"))
        self.assertTrue(dr[0].startswith(b"250 2.1.5"), dr)
        self.assertTrue(dr[1].startswith(b"452 4.2.2"), dr)
        self.assertEqual(len(self.messages("fred")), 1)
        self.assertEqual(self.messages("bob"), [])

    def test_ignorequota(self):
        self.start_lmtp()
        self.assertEqual(self.admin().setquota("user/fred", "(STORAGE 1)")[0], "OK")
        self.fill("fred", 3)
        s = self.lmtp_unix()
        self.lhlo(s)
        self.send_cmd(s, "MAIL FROM:<a@b>")
        self.assertEqual(self.send_cmd(s, "RCPT TO:<fred> IGNOREQUOTA"), b"250 2.1.5 ok")
        self.send_cmd(s, "DATA")
        s.send(dotstuff(message("ignored", body="w" * 3000 + "\r\n")))
        self.assertTrue(self.reply(s)[-1].startswith(b"250"))
        self.assertEqual(len(self.messages("fred")), 2)
        typ, data = self.admin().getquota("user/fred")
        used = int(data[0].split(b"STORAGE ")[1].split()[0])
        self.assertGreaterEqual(used, 6)
