"""lmtp: who may deliver and where -- lmtpd -a (every TCP connection
preauthenticated), AUTH limited to admins or to the service's own
lmtp_admins, LHLO before MAIL, and the posting right on shared folders
reached through postuser ("bb+folder")."""

from cassandane.testcase import b64
from lmtp.lmtp_util import LmtpTestCase, dotstuff, message


def plain(user):
    return "AUTH PLAIN " + b64(b"\0" + user.encode() + b"\0secret")


class PreauthTest(LmtpTestCase):
    def test_dash_a_preauthenticates_tcp(self):
        self.start_lmtp(lmtp_args="-a")
        s = self.lmtp_tcp()
        lines = self.lhlo(s)
        self.assertTrue(lines[-1].startswith(b"250 "))
        rr, dr = self.deliver(s, ["fred"], message("preauth"))
        self.assertEqual(rr, [b"250 2.1.5 ok"])
        self.assertTrue(dr[0].startswith(b"250 2.1.5"), dr)
        m = self.messages("fred")
        self.assertEqual(len(m), 1)
        self.assertIn(b"with LMTPA;", m[0])

    def test_without_dash_a_tcp_needs_auth(self):
        self.start_lmtp(config={"soft_noauth": "no"})
        s = self.lmtp_tcp()
        self.lhlo(s)
        self.assertEqual(self.send_cmd(s, "MAIL FROM:<a@b>"),
                         b"530 Authentication required")
        self.assertEqual(self.send_cmd(s, "RCPT TO:<fred>"),
                         b"503 5.5.1 Need MAIL command")
        self.assertEqual(self.send_cmd(s, "DATA"),
                         b"503 5.5.1 Need MAIL command")
        self.assertEqual(self.messages("fred"), [])

    def test_mail_needs_lhlo(self):
        self.start_lmtp()
        s = self.lmtp_unix()
        self.assertEqual(self.send_cmd(s, "MAIL FROM:<a@b>"),
                         b"503 5.5.1 Send LHLO first")
        self.assertEqual(self.send_cmd(s, "RCPT TO:<fred>"),
                         b"503 5.5.1 Need MAIL command")
        self.assertEqual(self.send_cmd(s, "LHLO"),
                         b"501 5.5.4 Syntax error in parameters")
        self.assertEqual(self.send_cmd(s, "MAIL FROM:<a@b>"),
                         b"503 5.5.1 Send LHLO first")
        self.lhlo(s)
        rr, dr = self.deliver(s, ["fred"], message("after lhlo"))
        self.assertTrue(dr[0].startswith(b"250 2.1.5"), dr)
        self.assertEqual(len(self.messages("fred")), 1)


class LmtpAdminsTest(LmtpTestCase):
    def test_lmtp_admins_replaces_admins_for_lmtp(self):
        self.start_lmtp(config={"lmtp_admins": "mta"})
        s = self.lmtp_tcp()
        self.lhlo(s)
        # The server-wide admin is not an LMTP admin here...
        self.assertTrue(self.send_cmd(s, plain("admin")).startswith(b"535"))
        self.assertTrue(self.send_cmd(s, "MAIL FROM:<a@b>").startswith(b"430"))
        # ...the MTA's identity is.
        self.assertTrue(self.send_cmd(s, plain("mta")).startswith(b"235"))
        rr, dr = self.deliver(s, ["fred"], message("from the mta"))
        self.assertTrue(dr[0].startswith(b"250 2.1.5"), dr)
        self.assertEqual(len(self.messages("fred")), 1)

    def test_ordinary_user_refused_even_as_mail_auth(self):
        self.start_lmtp()
        s = self.lmtp_tcp()
        self.lhlo(s)
        self.assertTrue(self.send_cmd(s, plain("fred")).startswith(b"535"))
        # A failed AUTH leaves the session usable and unauthenticated.
        self.assertTrue(self.send_cmd(s, "MAIL FROM:<a@b> AUTH=fred")
                        .startswith(b"430"))
        self.assertTrue(self.send_cmd(s, plain("admin")).startswith(b"235"))
        self.assertEqual(self.send_cmd(s, "MAIL FROM:<a@b>"), b"250 2.1.0 ok")


class PostuserTest(LmtpTestCase):
    def setup_bb(self):
        self.start_lmtp(config={"postuser": "bb"}, users=("fred", "bob"))
        admin = self.admin()
        for name, acl in (("board", "lrs"), ("hidden", None), ("open", "lrsp")):
            self.assertEqual(admin.create(name)[0], "OK")
            if acl:
                self.assertEqual(admin.setacl(name, "anyone", acl)[0], "OK")
            else:   # defaultacl gives anyone "lrs"; only admin reads it
                self.assertEqual(admin.setacl(name, "admin", "lrs")[0], "OK")
                self.assertEqual(admin.deleteacl(name, "anyone")[0], "OK")
        self.assertEqual(admin.setacl("board", "bob", "lrsp")[0], "OK")

    def count(self, mailbox):
        typ, data = self.admin().select(mailbox, readonly=True)
        self.assertEqual(typ, "OK", data)
        return int(data[0])

    def test_bb_folder_without_post_right(self):
        self.setup_bb()
        s = self.lmtp_unix()
        self.lhlo(s)
        self.assertEqual(self.send_cmd(s, "MAIL FROM:<a@b>"), b"250 2.1.0 ok")
        # 'l' without 'p': the folder is seen but closed.
        self.assertEqual(self.send_cmd(s, "RCPT TO:<bb+board>"),
                         b"550 5.7.1 Permission denied")
        # Not even 'l': it does not exist for the poster.
        self.assertEqual(self.send_cmd(s, "RCPT TO:<bb+hidden>"),
                         b"550 5.1.1 User unknown")
        self.assertEqual(self.send_cmd(s, "RCPT TO:<bb>"),
                         b"550 5.1.1 User unknown")
        self.assertEqual(self.send_cmd(s, "DATA"), b"503 5.5.1 No recipients")
        self.send_cmd(s, "RSET")
        self.assertEqual(self.count("board"), 0)
        self.assertEqual(self.count("hidden"), 0)

    def test_bb_folder_post_right_of_mail_auth(self):
        self.setup_bb()
        s = self.lmtp_unix()
        self.lhlo(s)
        # bob holds 'p' on board; the identity comes from MAIL ... AUTH=.
        self.assertEqual(self.send_cmd(s, "MAIL FROM:<bob@x> AUTH=bob"),
                         b"250 2.1.0 ok")
        self.assertEqual(self.send_cmd(s, "RCPT TO:<bb+board>"), b"250 2.1.5 ok")
        self.assertEqual(self.send_cmd(s, "RCPT TO:<bb+open>"), b"250 2.1.5 ok")
        self.assertEqual(self.send_cmd(s, "DATA"), b"354 go ahead")
        s.send(dotstuff(message("bob posts")))
        self.assertTrue(self.reply(s)[-1].startswith(b"250 2.1.5"))
        self.assertTrue(self.reply(s)[-1].startswith(b"250 2.1.5"))
        self.assertEqual(self.count("board"), 1)
        self.assertEqual(self.count("open"), 1)
        # The same message as fred (AUTH=fred) may not post to board.
        self.assertEqual(self.send_cmd(s, "MAIL FROM:<f@x> AUTH=fred"),
                         b"250 2.1.0 ok")
        self.assertEqual(self.send_cmd(s, "RCPT TO:<bb+board>"),
                         b"550 5.7.1 Permission denied")
        self.send_cmd(s, "RSET")
        self.assertEqual(self.count("board"), 1)

    def test_bb_is_not_a_user(self):
        # With postuser set, "bb" names the shared tree, not a user.
        self.setup_bb()
        admin = self.admin()
        self.assertEqual(admin.create("user/bb")[0], "OK")
        s = self.lmtp_unix()
        self.lhlo(s)
        rr, dr = self.deliver(s, ["bb+open"], message("to open"))
        self.assertEqual(rr, [b"250 2.1.5 ok"])
        self.assertEqual(self.count("open"), 1)
        self.assertEqual(self.messages("bb"), [])
