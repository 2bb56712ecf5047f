"""imap: COPY and UID COPY (RFC 3501 6.4.7), COPYUID (RFC 4315), with the
rights of RFC 4314 and quotas (RFC 9208)."""

import re

from imap.mail_util import CONFIG, MailTestCase, message

COPYUID = re.compile(rb"\[COPYUID (\d+) ([0-9:,]+) ([0-9:,]+)\]")


def expand(uidset):
    out = []
    for part in uidset.split(b","):
        lo, _, hi = part.partition(b":")
        out.extend(range(int(lo), int(hi or lo) + 1))
    return out


class CopyTest(MailTestCase):
    def test_copy_answers_copyuid(self):
        _, s = self.setup_mailbox([message("a"), message("b"), message("c")])
        self.ok(s, "c", "CREATE Archive")
        untagged, tagged = s.command("cp", "COPY 2:3 Archive")
        self.assertOK(tagged, "cp")
        m = COPYUID.search(tagged)
        self.assertIsNotNone(m, tagged)
        self.assertEqual(expand(m.group(2)), [2, 3])
        self.assertEqual(len(expand(m.group(3))), 2)
        uidvalidity = int(m.group(1))
        untagged = self.ok(s, "st", "STATUS Archive (MESSAGES UIDVALIDITY)")
        self.assertIn(b"MESSAGES 2", untagged[0])
        self.assertIn(b"UIDVALIDITY %d" % uidvalidity, untagged[0])

    def test_copied_message_bytes_identical(self):
        body = message("payload", body="line one\r\nline two\r\n")
        _, s = self.setup_mailbox([body])
        self.ok(s, "c", "CREATE Archive")
        self.ok(s, "cp", "COPY 1 Archive")
        self.ok(s, "ex", "EXAMINE Archive")
        s.send(b"f FETCH 1 BODY.PEEK[]\r\n")
        line = s.expect_line()
        n = int(re.search(rb"\{(\d+)\}$", line).group(1))
        self.assertEqual(n, len(body))
        while len(s.buf) < n:
            s._fill(__import__("time").monotonic() + 5)
        self.assertEqual(bytes(s.buf[:n]), body)

    def test_copy_keeps_flags_and_internaldate(self):
        _, s = self.setup_mailbox([(message("a"), "\\Seen \\Flagged Custom",
                                    "05-Feb-2020 10:11:12 +0000")])
        self.ok(s, "c", "CREATE Archive")
        self.ok(s, "cp", "COPY 1 Archive")
        self.ok(s, "ex", "EXAMINE Archive")
        untagged = self.ok(s, "f", "FETCH 1 (FLAGS INTERNALDATE)")
        self.assertIn(b"\\Seen", untagged[0])
        self.assertIn(b"\\Flagged", untagged[0])
        self.assertIn(b"Custom", untagged[0])
        self.assertTrue(re.search(rb'INTERNALDATE "[ 0]5-Feb-2020 10:11:12 \+0000"',
                                  untagged[0]), untagged[0])

    def test_copy_to_missing_mailbox_is_trycreate(self):
        _, s = self.setup_mailbox([message("a")])
        _, tagged = s.command("cp", "COPY 1 NoSuchFolder")
        self.assertNO(tagged, "cp")
        self.assertIn(b"[TRYCREATE]", tagged)
        self.assertEqual(self.count(s, "INBOX"), 1)

    def test_copy_into_selected_mailbox_reports_exists(self):
        _, s = self.setup_mailbox([message("a"), message("b")])
        untagged, tagged = s.command("cp", "COPY 1:2 INBOX")
        self.assertOK(tagged, "cp")
        self.assertIn(b"* 4 EXISTS", untagged)
        m = COPYUID.search(tagged)
        self.assertEqual(expand(m.group(2)), [1, 2])
        self.assertEqual(expand(m.group(3)), [3, 4])
        self.assertEqual(self.search(s, "SUBJECT a"), [1, 3])

    def test_uid_copy_uses_uids_in_matching_order(self):
        _, s = self.setup_mailbox([message(str(i)) for i in range(4)])
        self.ok(s, "c", "CREATE Archive")
        self.ok(s, "cp0", "COPY 1 Archive")    # target UIDs start past 1
        _, tagged = s.command("cp", "UID COPY 4,2 Archive")
        self.assertOK(tagged, "cp")
        m = COPYUID.search(tagged)
        self.assertEqual(expand(m.group(2)), [2, 4])
        self.assertEqual(expand(m.group(3)), [2, 3])
        self.ok(s, "ex", "EXAMINE Archive")
        self.assertEqual(self.search(s, "SUBJECT 3", uid=True), [3])
        self.assertEqual(self.search(s, "SUBJECT 1", uid=True), [2])

    def test_uid_copy_of_missing_uids_is_ok_without_copyuid(self):
        _, s = self.setup_mailbox([message("a")])
        self.ok(s, "c", "CREATE Archive")
        _, tagged = s.command("cp", "UID COPY 100:200 Archive")
        self.assertOK(tagged, "cp")
        self.assertNotIn(b"COPYUID", tagged)
        self.assertEqual(self.count(s, "Archive"), 0)

    def test_bad_sequence_is_bad_and_copies_nothing(self):
        _, s = self.setup_mailbox([message("a"), message("b")])
        self.ok(s, "c", "CREATE Archive")
        for i, args in enumerate(["3 Archive", "0 Archive", "x Archive", "1",
                                  "", "1:2 Archive extra"]):
            tag = "b%d" % i
            _, tagged = s.command(tag, ("COPY " + args).rstrip())
            self.assertBAD(tagged, tag)
        self.assertEqual(self.count(s, "Archive"), 0)

    def test_copy_over_quota_copies_nothing(self):
        inst, s = self.setup_mailbox([message("big%d" % i, body="z" * 3000 + "\r\n")
                                      for i in range(3)])
        self.ok(s, "c", "CREATE Archive")
        admin = self.login(inst, "admin")
        self.ok(admin, "q", "SETQUOTA user/fred (STORAGE 13)")
        # 9.3 KB used of 13: one more message fits, three do not
        _, tagged = s.command("cp", "COPY 1:3 Archive")
        self.assertNO(tagged, "cp")
        self.assertIn(b"[OVERQUOTA]", tagged)
        self.assertEqual(self.count(s, "Archive"), 0)
        self.ok(s, "cp2", "COPY 1 Archive")
        self.assertEqual(self.count(s, "Archive"), 1)

    def test_copy_needs_insert_right(self):
        inst, s = self.setup_mailbox([message("a")])
        bob = self.login(inst, "bob")
        self.ok(bob, "c", "CREATE Drop")
        self.ok(bob, "a", "SETACL Drop fred lr")
        _, tagged = s.command("cp", "COPY 1 \"Other Users/bob/Drop\"")
        self.assertNO(tagged, "cp")
        self.assertIn(b"[NOPERM]", tagged)
        self.assertEqual(self.count(bob, "Drop"), 0)

    def test_copy_to_invisible_mailbox_looks_missing(self):
        inst, s = self.setup_mailbox([message("a")])
        bob = self.login(inst, "bob")
        self.ok(bob, "c", "CREATE Private")
        _, hidden = s.command("cp", "COPY 1 \"Other Users/bob/Private\"")
        _, missing = s.command("cp", "COPY 1 \"Other Users/bob/Absent\"")
        self.assertNO(hidden, "cp")
        self.assertEqual(hidden, missing)   # no leak without l
        self.assertEqual(self.count(bob, "Private"), 0)

    def test_flags_need_write_right_on_target(self):
        inst, s = self.setup_mailbox([(message("a"), "\\Flagged \\Deleted Custom", "")])
        bob = self.login(inst, "bob")
        self.ok(bob, "c1", "CREATE Drop")
        self.ok(bob, "a1", "SETACL Drop fred lri")
        self.ok(bob, "c2", "CREATE Shared")
        self.ok(bob, "a2", "SETACL Shared fred lritw")
        self.ok(s, "cp1", "COPY 1 \"Other Users/bob/Drop\"")
        self.ok(s, "cp2", "COPY 1 \"Other Users/bob/Shared\"")
        self.assertEqual(list(self.fetch_flags(bob, "Drop").values()), [set()])
        self.assertEqual(list(self.fetch_flags(bob, "Shared").values()),
                         [{"\\Flagged", "\\Deleted", "Custom"}])

    def test_copy_of_message_expunged_elsewhere_is_all_or_nothing(self):
        inst, a = self.setup_mailbox([message("a"), message("b")])
        self.ok(a, "c", "CREATE Archive")
        b = self.login(inst)
        self.ok(b, "S", "SELECT INBOX")
        self.ok(b, "st", "STORE 2 +FLAGS (\\Deleted)")
        self.ok(b, "ex", "EXPUNGE")
        # RFC 2180 4.4.1: copy it while it can be read, or refuse the
        # whole command; never copy only a part
        _, tagged = a.command("cp", "COPY 1:2 Archive")
        if tagged.split()[1] == b"OK":
            self.assertEqual(self.count(a, "Archive"), 2)
        else:
            self.assertNO(tagged, "cp")
            self.assertIn(b"EXPUNGEISSUED", tagged)
            self.assertEqual(self.count(a, "Archive"), 0)

    def test_other_session_sees_copied_messages(self):
        inst, a = self.setup_mailbox([message("a")])
        self.ok(a, "c", "CREATE Archive")
        b = self.login(inst)
        self.ok(b, "S", "SELECT Archive")
        self.ok(a, "cp", "COPY 1 Archive")
        untagged = self.ok(b, "n", "NOOP")
        self.assertIn(b"* 1 EXISTS", untagged)


class CopyCapabilityTest(MailTestCase):
    def test_copy_requires_selected_state(self):
        inst = self.start_instance(config=dict(CONFIG))
        s = self.login(inst)
        _, tagged = s.command("cp", "COPY 1 INBOX")
        self.assertBAD(tagged, "cp")
