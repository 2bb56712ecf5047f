"""imap: MOVE and UID MOVE (RFC 6851)."""

import re

from imap.mail_util import CONFIG, MailTestCase, message

COPYUID = re.compile(rb"\[COPYUID (\d+) ([0-9:,]+) ([0-9:,]+)\]")


class MoveTest(MailTestCase):
    def test_move_is_advertised_after_login(self):
        inst = self.start_instance(config=dict(CONFIG))
        s = self.login(inst)
        self.assertIn("MOVE", self.capabilities(s))

    def test_move_sends_copyuid_then_expunges(self):
        _, s = self.setup_mailbox([message("a"), message("b"), message("c")])
        self.ok(s, "c", "CREATE Archive")
        untagged, tagged = s.command("mv", "MOVE 2:3 Archive")
        self.assertOK(tagged, "mv")
        self.assertTrue(untagged[0].startswith(b"* OK [COPYUID "), untagged)
        m = COPYUID.search(untagged[0])
        self.assertEqual(m.group(2), b"2:3")
        # expunges of 2 and 3, each number valid when sent
        expunges = [l for l in untagged if re.match(rb"\* \d+ EXPUNGE$", l)]
        self.assertEqual(len(expunges), 2)
        self.assertEqual(self.search(s, "ALL"), [1])
        self.assertEqual(self.search(s, "SUBJECT a"), [1])
        self.assertEqual(self.count(s, "Archive"), 2)

    def test_uid_move(self):
        _, s = self.setup_mailbox([message("a"), message("b"), message("c")])
        self.ok(s, "c", "CREATE Archive")
        untagged, tagged = s.command("mv", "UID MOVE 1,3 Archive")
        self.assertOK(tagged, "mv")
        m = COPYUID.search(untagged[0])
        self.assertEqual(m.group(2), b"1,3")
        self.assertEqual(m.group(3), b"1:2")
        # replay the expunges on the client's view: UIDs 1 and 3 go
        view = [1, 2, 3]
        for line in untagged:
            m = re.match(rb"\* (\d+) EXPUNGE$", line)
            if m:
                del view[int(m.group(1)) - 1]
        self.assertEqual(view, [2])
        self.assertEqual(self.search(s, "ALL", uid=True), [2])

    def test_move_to_missing_mailbox_is_trycreate(self):
        _, s = self.setup_mailbox([message("a")])
        untagged, tagged = s.command("mv", "MOVE 1 Nowhere")
        self.assertNO(tagged, "mv")
        self.assertIn(b"[TRYCREATE]", tagged)
        self.assertFalse([l for l in untagged if b"EXPUNGE" in l])
        self.assertEqual(self.search(s, "ALL"), [1])

    def test_move_from_examined_mailbox_is_refused(self):
        _, s = self.setup_mailbox([message("a")])
        self.ok(s, "c", "CREATE Archive")
        self.ok(s, "ex", "EXAMINE INBOX")
        _, tagged = s.command("mv", "MOVE 1 Archive")
        self.assertNO(tagged, "mv")
        self.assertEqual(self.count(s, "Archive"), 0)
        self.assertEqual(self.search(s, "ALL"), [1])

    def test_move_needs_expunge_right_on_source(self):
        inst = self.start_instance(config=dict(CONFIG))
        bob = self.login(inst, "bob")
        self.ok(bob, "c", "CREATE Pool")
        self.append(bob, "Pool", message("a"))
        self.ok(bob, "a", "SETACL Pool fred lrs")
        fred = self.login(inst)
        self.ok(fred, "c", "CREATE Mine")
        self.ok(fred, "s", 'SELECT "Other Users/bob/Pool"')
        _, tagged = fred.command("mv", "MOVE 1 Mine")
        self.assertNO(tagged, "mv")
        self.assertEqual(self.count(fred, "Mine"), 0)
        self.assertEqual(self.count(bob, "Pool"), 1)

    def test_move_over_quota_moves_nothing(self):
        inst, s = self.setup_mailbox([message("m%d" % i, body="q" * 2000 + "\r\n")
                                      for i in range(2)])
        self.ok(s, "c", "CREATE Archive")
        admin = self.login(inst, "admin")
        self.ok(admin, "q", "SETQUOTA user/fred (STORAGE 5)")
        # the copies would need 8 KB of 5 before the originals go
        untagged, tagged = s.command("mv", "MOVE 1:2 Archive")
        self.assertNO(tagged, "mv")
        self.assertIn(b"[OVERQUOTA]", tagged)
        self.assertFalse([l for l in untagged if b"EXPUNGE" in l])
        self.assertEqual(self.search(s, "ALL"), [1, 2])
        self.assertEqual(self.count(s, "Archive"), 0)

    def test_other_session_sees_expunge_after_move(self):
        inst, a = self.setup_mailbox([message("a"), message("b")])
        self.ok(a, "c", "CREATE Archive")
        b = self.login(inst)
        self.ok(b, "S", "SELECT INBOX")
        self.ok(a, "mv", "MOVE 1 Archive")
        untagged = self.ok(b, "n", "NOOP")
        self.assertIn(b"* 1 EXPUNGE", untagged)
        self.assertEqual(self.search(b, "SUBJECT b"), [1])

    def test_move_within_selected_mailbox(self):
        _, s = self.setup_mailbox([message("a"), message("b")])
        untagged, tagged = s.command("mv", "MOVE 1 INBOX")
        self.assertOK(tagged, "mv")
        self.assertIn(b"* 1 EXPUNGE", untagged)
        self.assertEqual(self.search(s, "ALL", uid=True), [2, 3])

    def test_bad_arguments_are_bad(self):
        _, s = self.setup_mailbox([message("a")])
        for i, args in enumerate(["", "1", "9 INBOX", "a:b INBOX"]):
            tag = "b%d" % i
            _, tagged = s.command(tag, ("MOVE " + args).rstrip())
            self.assertBAD(tagged, tag)
        self.assertEqual(self.search(s, "ALL"), [1])
