"""imap: APPEND with flags, dates, limits and UIDPLUS APPENDUID."""

import re

from imap.selected_util import SelectedTestCase, message, read_response
from imap.test_mailbox import status


class AppendTest(SelectedTestCase):
    def raw_append(self, s, tag, args, msg):
        s.send(tag.encode() + b" APPEND " + args.encode()
               + b" {%d+}\r\n" % len(msg) + msg + b"\r\n")
        return read_response(s, tag)

    def count(self, s, mailbox="INBOX"):
        return status(self.ok(s, "st", "STATUS %s (MESSAGES)" % mailbox))["MESSAGES"]

    def test_appenduid(self):
        s = self.login()
        uv = status(self.ok(s, "st", "STATUS INBOX (UIDVALIDITY)"))["UIDVALIDITY"]
        _, tagged = self.raw_append(s, "a", "INBOX", message())
        self.assertOK(tagged, "a")
        m = re.search(rb"\[APPENDUID (\d+) (\d+)\]", tagged)
        self.assertTrue(m, tagged)
        self.assertEqual(int(m.group(1)), uv)
        self.assertEqual(int(m.group(2)), 1)

    def test_append_with_flags_and_date(self):
        s = self.login()
        _, tagged = self.raw_append(s, "a", 'INBOX (\\Seen \\Flagged) '
                                    '"06-Nov-2023 10:00:00 +0100"', message())
        self.assertOK(tagged, "a")
        st = status(self.ok(s, "st", "STATUS INBOX (MESSAGES UNSEEN)"))
        self.assertEqual(st, {"MESSAGES": 1, "UNSEEN": 0})

    def test_space_padded_day_accepted(self):
        s = self.login()
        _, tagged = self.raw_append(s, "a", 'INBOX " 6-Nov-2023 10:00:00 +0000"',
                                    message())
        self.assertOK(tagged, "a")

    def test_invalid_date_is_bad_and_appends_nothing(self):
        s = self.login()
        _, tagged = self.raw_append(s, "a", 'INBOX "31-Feb-2023 10:00:00 +0000"',
                                    message())
        self.assertBAD(tagged, "a")
        self.assertEqual(self.count(s), 0)

    def test_invalid_flag_is_bad(self):
        s = self.login()
        _, tagged = self.raw_append(s, "a", "INBOX (\\Bogus)", message())
        self.assertBAD(tagged, "a")
        self.assertEqual(self.count(s), 0)

    def test_nonexistent_is_trycreate(self):
        s = self.login()
        _, tagged = self.raw_append(s, "a", "nosuch", message())
        self.assertNO(tagged, "a")
        self.assertIn(b"[TRYCREATE]", tagged)

    def test_synchronizing_literal_to_nonexistent_not_invited(self):
        s = self.login()
        s.send(b"a APPEND nosuch {10}\r\n")
        line = s.expect_line()
        self.assertTrue(line.startswith(b"a NO [TRYCREATE]"), line)
        self.ok(s, "n", "NOOP")

    def test_maxmessagesize_toobig(self):
        self.inst = self.start_instance(config={"autocreate_quota": "0",
                                                "delete_mode": "immediate",
                                                "maxmessagesize": "1000"})
        s = self.login()
        _, tagged = self.raw_append(s, "a", "INBOX", message(body="x" * 2000 + "\r\n"))
        self.assertNO(tagged, "a")
        self.assertIn(b"[TOOBIG]", tagged)
        self.assertEqual(self.count(s), 0)

    def test_selected_session_sees_exists(self):
        s1 = self.login()
        self.select(s1)
        s2 = self.login()
        self.append(s2, "INBOX")
        lines = self.ok(s1, "n", "NOOP")
        self.assertIn(b"* 1 EXISTS", lines)
