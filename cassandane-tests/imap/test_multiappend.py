"""imap: MULTIAPPEND (RFC 3502): several messages in one APPEND, all
appended in one transaction or none at all."""

import re

from imap.selected_util import SelectedTestCase, message, read_response
from imap.test_mailbox import status


def lit(msg):
    return b"{%d+}\r\n" % len(msg) + msg


class MultiappendTest(SelectedTestCase):
    def count(self, s, mailbox="INBOX"):
        return status(self.ok(s, "st", "STATUS %s (MESSAGES)" % mailbox))["MESSAGES"]

    def test_capability(self):
        s = self.login()
        self.assertIn("MULTIAPPEND", self.capabilities(s))

    def test_three_messages_with_own_flags_and_dates(self):
        s = self.login()
        s.send(b"a APPEND INBOX (\\Seen) \"01-Jan-2020 10:00:00 +0000\" "
               + lit(message("one")) + b" " + lit(message("two"))
               + b" (\\Flagged) " + lit(message("three")) + b"\r\n")
        _, tagged = read_response(s, "a")
        self.assertOK(tagged, "a")
        m = re.search(rb"\[APPENDUID \d+ 1:3\]", tagged)
        self.assertTrue(m, tagged)
        self.select(s)
        untagged, tagged = self.cmd(s, "f", "FETCH 1:3 (FLAGS INTERNALDATE "
                                    "BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
        self.assertOK(tagged, "f")
        self.assertEqual(len(untagged), 3)
        self.assertIn(b"\\Seen", untagged[0])
        self.assertIn(b'" 1-Jan-2020 10:00:00', untagged[0])
        self.assertIn(b"Subject: one", untagged[0])
        self.assertNotIn(b"\\Seen", untagged[1])
        self.assertIn(b"Subject: two", untagged[1])
        self.assertIn(b"\\Flagged", untagged[2])
        self.assertIn(b"Subject: three", untagged[2])

    def test_synchronizing_literals_each_invited(self):
        s = self.login()
        m1, m2 = message("s1"), message("s2")
        s.send(b"a APPEND INBOX {%d}\r\n" % len(m1))
        self.assertTrue(s.expect_line().startswith(b"+"))
        s.send(m1 + b" {%d}\r\n" % len(m2))
        self.assertTrue(s.expect_line().startswith(b"+"))
        s.send(m2 + b"\r\n")
        _, tagged = read_response(s, "a")
        self.assertOK(tagged, "a")
        self.assertEqual(self.count(s), 2)

    def test_bad_second_message_appends_nothing(self):
        s = self.login()
        s.send(b"a APPEND INBOX " + lit(message("ok one")) + b" (\\Bogus) "
               + lit(message("bad flags")) + b"\r\n")
        _, tagged = read_response(s, "a")
        self.assertBAD(tagged, "a")
        self.assertEqual(self.count(s), 0)

    def test_refused_message_appends_nothing(self):
        self.inst = self.start_instance(config={"autocreate_quota": "0",
                                                "maxmessagesize": "2000"})
        s = self.login()
        s.send(b"a APPEND INBOX " + lit(message("small")) + b" "
               + lit(message("big", body="x" * 3000 + "\r\n")) + b" "
               + lit(message("small too")) + b"\r\n")
        _, tagged = read_response(s, "a")
        self.assertNO(tagged, "a")
        self.assertIn(b"[TOOBIG]", tagged)
        self.assertEqual(self.count(s), 0)
        self.assertNoopOK(s)

    def test_refused_synchronizing_literal_not_invited(self):
        self.inst = self.start_instance(config={"autocreate_quota": "0",
                                                "maxmessagesize": "2000"})
        s = self.login()
        m1 = message("small")
        s.send(b"a APPEND INBOX " + lit(m1) + b" {5000}\r\n")
        line = s.expect_line()
        self.assertTrue(line.startswith(b"a NO [TOOBIG]"), line)
        self.assertEqual(self.count(s), 0)

    def test_over_quota_appends_nothing(self):
        s = self.login()
        admin = self.login("admin")
        self.ok(admin, "q", "SETQUOTA user/fred (MESSAGE 2)")
        s.send(b"a APPEND INBOX " + lit(message("1")) + b" " + lit(message("2"))
               + b" " + lit(message("3")) + b"\r\n")
        _, tagged = read_response(s, "a")
        self.assertNO(tagged, "a")
        self.assertIn(b"[OVERQUOTA]", tagged)
        self.assertEqual(self.count(s), 0)

    def test_selected_session_sees_all_at_once(self):
        s1 = self.login()
        self.select(s1)
        s2 = self.login()
        s2.send(b"a APPEND INBOX " + lit(message("x")) + b" " + lit(message("y"))
                + b"\r\n")
        _, tagged = read_response(s2, "a")
        self.assertOK(tagged, "a")
        untagged = self.ok(s1, "n", "NOOP")
        self.assertIn(b"* 2 EXISTS", untagged)
