"""lmtp: where messages go and what is stored -- INBOX, +detail, shared
folders, unknown users, trace headers, content checks, big messages,
single-instance store, autocreate."""

import glob
import os

from lmtp.lmtp_util import LmtpTestCase, dotstuff, message


class DeliveryTest(LmtpTestCase):
    def test_inbox_and_trace_headers(self):
        self.start_lmtp()
        s = self.lmtp_unix()
        self.lhlo(s)
        rr, dr = self.deliver(s, ["fred"], message("hi"), frm="ann@example.org")
        self.assertEqual(rr, [b"250 2.1.5 ok"])
        self.assertTrue(dr[0].startswith(b"250 2.1.5"))
        msgs = self.messages("fred")
        self.assertEqual(len(msgs), 1)
        m = msgs[0]
        self.assertTrue(m.startswith(b"Return-Path: <ann@example.org>\r\n"
                                     b"Received: from test.example.com "), m[:200])
        self.assertIn(b"with LMTPA;", m)
        self.assertIn(b"Subject: hi\r\n", m)
        self.assertTrue(m.endswith(b"\r\n\r\nbody text\r\n"))

    def test_unknown_user(self):
        self.start_lmtp()
        s = self.lmtp_unix()
        self.lhlo(s)
        s.send_line("MAIL FROM:<a@b>")
        self.reply(s)
        s.send_line("RCPT TO:<nobody@example.com>")
        lines = self.reply(s)
        self.assertEqual(lines[-1], b"550 5.1.1 User unknown")
        self.assertEqual(self.send_cmd(s, "DATA"), b"503 5.5.1 No recipients")

    def test_user_case_and_domain_ignored(self):
        self.start_lmtp()
        s = self.lmtp_unix()
        self.lhlo(s)
        rr, dr = self.deliver(s, ["Fred@Example.COM", "@relay.x:fred@y.org"],
                              message("case"))
        self.assertEqual(rr, [b"250 2.1.5 ok", b"250 2.1.5 ok"])
        self.assertEqual(len(dr), 2)
        # Both recipients name one mailbox: one copy.
        self.assertEqual(len(self.messages("fred")), 1)

    def test_downcase_off(self):
        self.start_lmtp(config={"lmtp_downcase_rcpt": "no"})
        s = self.lmtp_unix()
        self.lhlo(s)
        s.send_line("MAIL FROM:<a@b>")
        self.reply(s)
        self.assertEqual(self.send_cmd(s, "RCPT TO:<Fred>"), b"550 5.1.1 User unknown")

    def test_detail_folder_with_post_right(self):
        self.start_lmtp()
        admin = self.admin()
        self.assertEqual(admin.create("user/fred/work")[0], "OK")
        self.assertEqual(admin.setacl("user/fred/work", "anyone", "p")[0], "OK")
        s = self.lmtp_unix()
        self.lhlo(s)
        rr, dr = self.deliver(s, ["fred+work"], message("forwork"))
        self.assertTrue(dr[0].startswith(b"250"))
        self.assertEqual(len(self.messages("fred", "work")), 1)
        self.assertEqual(self.messages("fred"), [])

    def test_detail_without_post_right_goes_to_inbox(self):
        self.start_lmtp()
        admin = self.admin()
        self.assertEqual(admin.create("user/fred/work")[0], "OK")
        s = self.lmtp_unix()
        self.lhlo(s)
        rr, dr = self.deliver(s, ["fred+work", ], message("noright"))
        self.assertTrue(dr[0].startswith(b"250"))
        self.assertEqual(self.messages("fred", "work"), [])
        self.assertEqual(len(self.messages("fred")), 1)

    def test_detail_missing_goes_to_inbox(self):
        self.start_lmtp()
        s = self.lmtp_unix()
        self.lhlo(s)
        rr, dr = self.deliver(s, ["fred+nothere"], message("missing"))
        self.assertEqual(rr, [b"250 2.1.5 ok"])
        self.assertEqual(len(self.messages("fred")), 1)

    def test_detail_fuzzy_match(self):
        self.start_lmtp(config={"lmtp_fuzzy_mailbox_match": "yes"})
        admin = self.admin()
        self.assertEqual(admin.create("user/fred/Lists")[0], "OK")
        self.assertEqual(admin.setacl("user/fred/Lists", "anyone", "p")[0], "OK")
        s = self.lmtp_unix()
        self.lhlo(s)
        # Case differs, and a missing child falls back to its parent.
        self.deliver(s, ["fred+lists/cyrus"], message("fuzzy"))
        self.assertEqual(len(self.messages("fred", "Lists")), 1)
        self.assertEqual(self.messages("fred"), [])

    def test_detail_posting_identity(self):
        self.start_lmtp(users=("fred", "bob"))
        admin = self.admin()
        self.assertEqual(admin.create("user/fred/fromBob")[0], "OK")
        self.assertEqual(admin.setacl("user/fred/fromBob", "bob", "p")[0], "OK")
        s = self.lmtp_unix()
        self.lhlo(s)
        self.assertEqual(self.send_cmd(s, "MAIL FROM:<bob@x> AUTH=bob"),
                         b"250 2.1.0 ok")
        self.assertEqual(self.send_cmd(s, "RCPT TO:<fred+fromBob>"), b"250 2.1.5 ok")
        self.send_cmd(s, "DATA")
        s.send(dotstuff(message("bobs")))
        self.assertTrue(self.reply(s)[-1].startswith(b"250"))
        self.assertEqual(len(self.messages("fred", "fromBob")), 1)

    def test_shared_folder_needs_post_right(self):
        self.start_lmtp()
        admin = self.admin()
        self.assertEqual(admin.create("shared")[0], "OK")
        self.assertEqual(admin.create("shared/open")[0], "OK")
        self.assertEqual(admin.setacl("shared/open", "anyone", "lrsp")[0], "OK")
        self.assertEqual(admin.setacl("shared", "anyone", "lrs")[0], "OK")
        s = self.lmtp_unix()
        self.lhlo(s)
        s.send_line("MAIL FROM:<a@b>")
        self.reply(s)
        self.assertEqual(self.send_cmd(s, "RCPT TO:<+shared/open>"), b"250 2.1.5 ok")
        self.assertEqual(self.send_cmd(s, "RCPT TO:<+shared>"),
                         b"550 5.7.1 Permission denied")
        self.assertEqual(self.send_cmd(s, "RCPT TO:<+shared/nothere>"),
                         b"550 5.1.1 User unknown")
        self.send_cmd(s, "DATA")
        s.send(dotstuff(message("toshared")))
        self.assertTrue(self.reply(s)[-1].startswith(b"250"))
        m = self.admin()
        typ, data = m.select("shared/open", readonly=True)
        self.assertEqual((typ, data[0]), ("OK", b"1"))
        typ, data = m.select("shared", readonly=True)
        self.assertEqual((typ, data[0]), ("OK", b"0"))

    def test_postuser_bb(self):
        self.start_lmtp(config={"postuser": "bb"})
        admin = self.admin()
        self.assertEqual(admin.create("shared")[0], "OK")
        self.assertEqual(admin.setacl("shared", "anyone", "lrsp")[0], "OK")
        s = self.lmtp_unix()
        self.lhlo(s)
        rr, dr = self.deliver(s, ["bb+shared"], message("bboard"))
        self.assertEqual(rr, [b"250 2.1.5 ok"])
        typ, data = self.admin().select("shared", readonly=True)
        self.assertEqual(data[0], b"1")

    def test_virtdomains(self):
        self.start_lmtp(config={"virtdomains": "userid",
                                "defaultdomain": "example.com"},
                        users=("fred",))
        admin = self.admin()
        self.assertEqual(admin.create("user/ann@example.org")[0], "OK")
        s = self.lmtp_unix()
        self.lhlo(s)
        s.send_line("MAIL FROM:<a@b>")
        self.reply(s)
        self.assertEqual(self.send_cmd(s, "RCPT TO:<ann@example.org>"), b"250 2.1.5 ok")
        self.assertEqual(self.send_cmd(s, "RCPT TO:<fred@example.com>"), b"250 2.1.5 ok")
        self.assertEqual(self.send_cmd(s, "RCPT TO:<ann@example.com>"),
                         b"550 5.1.1 User unknown")
        self.assertEqual(self.send_cmd(s, "RCPT TO:<fred@example.org>"),
                         b"550 5.1.1 User unknown")

    def test_autocreate_post(self):
        self.start_lmtp(config={"autocreate_post": "yes"}, users=())
        s = self.lmtp_unix()
        self.lhlo(s)
        rr, dr = self.deliver(s, ["newbie"], message("welcome"))
        self.assertEqual(rr, [b"250 2.1.5 ok"])
        self.assertEqual(len(self.messages("newbie")), 1)

    def test_no_autocreate_without_option(self):
        self.start_lmtp(users=())
        s = self.lmtp_unix()
        self.lhlo(s)
        s.send_line("MAIL FROM:<a@b>")
        self.reply(s)
        self.assertEqual(self.send_cmd(s, "RCPT TO:<newbie>"), b"550 5.1.1 User unknown")

    def test_bare_lf_and_dot_stuffing(self):
        self.start_lmtp()
        s = self.lmtp_unix()
        self.lhlo(s)
        self.send_cmd(s, "MAIL FROM:<a@b>")
        self.send_cmd(s, "RCPT TO:<fred>")
        self.send_cmd(s, "DATA")
        s.send(b"Subject: lf\nDate: Mon, 6 Nov 2023 10:00:00 +0000\n\n"
               b"line one\n..dotted\n.\r\n")
        self.assertTrue(self.reply(s)[-1].startswith(b"250"))
        m = self.messages("fred")[0]
        self.assertTrue(m.endswith(b"Subject: lf\r\nDate: Mon, 6 Nov 2023 10:00:00 +0000"
                                   b"\r\n\r\nline one\r\n.dotted\r\n"), m)

    def test_nul_refused(self):
        self.start_lmtp()
        s = self.lmtp_unix()
        self.lhlo(s)
        rr, dr = self.deliver(s, ["fred"], b"Subject: nul\r\n\r\na\0b\r\n")
        self.assertEqual(dr, [b"554 5.6.0 Message contains NUL characters"])
        self.assertEqual(self.messages("fred"), [])
        self.assertTrue(self.send_cmd(s, "NOOP").startswith(b"250"))

    def test_8bit_header_munged(self):
        self.start_lmtp()
        s = self.lmtp_unix()
        self.lhlo(s)
        rr, dr = self.deliver(s, ["fred"],
                              b"Subject: caf\xc3\xa9\r\n\r\ncaf\xc3\xa9\r\n")
        self.assertTrue(dr[0].startswith(b"250"))
        m = self.messages("fred")[0]
        self.assertIn(b"Subject: cafXX\r\n", m)
        self.assertTrue(m.endswith(b"\r\ncaf\xc3\xa9\r\n"))

    def test_8bit_header_rejected(self):
        self.start_lmtp(config={"reject8bit": "yes"})
        s = self.lmtp_unix()
        self.lhlo(s)
        rr, dr = self.deliver(s, ["fred"], b"Subject: caf\xc3\xa9\r\n\r\nx\r\n")
        self.assertTrue(dr[0].startswith(b"554 5.6.0"), dr)
        self.assertEqual(self.messages("fred"), [])

    def test_message_too_big_at_data(self):
        self.start_lmtp(config={"maxmessagesize": "2000"}, users=("fred", "bob"))
        s = self.lmtp_unix()
        self.lhlo(s)
        rr, dr = self.deliver(s, ["fred", "bob"], message("big", body="x" * 5000 + "\r\n"))
        self.assertEqual(len(dr), 2)
        self.assertTrue(all(d.startswith(b"552 5.2.3") for d in dr), dr)
        self.assertEqual(self.messages("fred"), [])
        self.assertTrue(self.send_cmd(s, "NOOP").startswith(b"250"))

    def test_50mb_message(self):
        self.start_lmtp()
        s = self.lmtp_unix()
        s.timeout = 120
        self.lhlo(s)
        line = b"0123456789" * 7 + b"\r\n"
        body = line * (50 * 1024 * 1024 // len(line) + 1)
        msg = message("huge", body="") + body
        rr, dr = self.deliver(s, ["fred"], msg)
        self.assertTrue(dr[0].startswith(b"250"), dr)
        m = self.user("fred")
        m.select("INBOX", readonly=True)
        typ, data = m.fetch("1", "(RFC822.SIZE)")
        size = int(data[0].split(b"RFC822.SIZE ")[1].rstrip(b")"))
        self.assertGreater(size, 50 * 1024 * 1024)
        self.assertGreater(size, len(msg))

    def test_single_instance_store_links(self):
        self.start_lmtp(users=("fred", "bob", "ann"))
        admin = self.admin()
        for u in ("fred", "bob", "ann"):
            self.assertEqual(admin.setquota("user/%s" % u, "(STORAGE 100000 MESSAGE 100)")[0], "OK")
        s = self.lmtp_unix()
        self.lhlo(s)
        msg = message("shared copy")
        rr, dr = self.deliver(s, ["fred", "bob", "ann"], msg)
        self.assertEqual(len(dr), 3)
        files = [f for f in glob.glob(os.path.join(self.inst.spooldir, "**", "1."),
                                      recursive=True)]
        self.assertEqual(len(files), 3, files)
        inodes = {os.stat(f).st_ino for f in files}
        self.assertEqual(len(inodes), 1)
        # Quota is charged per copy.
        size = os.stat(files[0]).st_size
        for u in ("fred", "bob", "ann"):
            typ, data = admin.getquota("user/%s" % u)
            used = int(data[0].split(b"STORAGE ")[1].split()[0])
            self.assertIn(used, (size // 1024, (size + 1023) // 1024), data)
            self.assertIn(b"MESSAGE 1 100", data[0])

    def test_single_instance_store_off(self):
        self.start_lmtp(config={"singleinstancestore": "no"},
                        users=("fred", "bob"))
        s = self.lmtp_unix()
        self.lhlo(s)
        self.deliver(s, ["fred", "bob"], message("two copies"))
        files = glob.glob(os.path.join(self.inst.spooldir, "**", "1."),
                          recursive=True)
        self.assertEqual(len(files), 2, files)
        self.assertEqual(len({os.stat(f).st_ino for f in files}), 2)
