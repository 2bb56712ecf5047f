"""imap: APPENDLIMIT (RFC 7889): the limit in CAPABILITY, in STATUS and
LIST-STATUS, and APPEND over it refused with [TOOBIG] (a synchronising
literal never invited, a non-synchronising one read and dropped, RFC
7888 4)."""

from imap.selected_util import (CONFIG, SelectedTestCase, message,
                                read_response)
from imap.test_mailbox import status

LIMIT = 1000


class AppendLimitTest(SelectedTestCase):
    def instance(self, limit=LIMIT):
        if not self.inst:
            config = dict(CONFIG)
            if limit is not None:
                config["maxmessagesize"] = str(limit)
            self.inst = self.start_instance(config=config)
        return self.inst

    def count(self, s, mailbox="INBOX"):
        return status(self.ok(s, "st", "STATUS %s (MESSAGES)"
                              % mailbox))["MESSAGES"]

    def appendlimit_caps(self, caps):
        return [c for c in caps if c.startswith("APPENDLIMIT")]

    def test_capability_before_and_after_login(self):
        inst = self.instance()
        with inst.raw() as s:
            s.expect_line()
            self.assertEqual(self.appendlimit_caps(self.capabilities(s)),
                             ["APPENDLIMIT=%d" % LIMIT])
            _, tagged = s.command("L", "LOGIN fred secret")
            self.assertOK(tagged, "L")
            self.assertEqual(self.appendlimit_caps(self.capabilities(s)),
                             ["APPENDLIMIT=%d" % LIMIT])

    def test_capability_without_maxmessagesize_is_imap_bound(self):
        # No maxmessagesize: the 4 GB bound of IMAP literals (RFC 4469
        # 4.2) still holds, as Cyrus says.
        inst = self.instance(limit=None)
        with inst.raw() as s:
            s.expect_line()
            self.assertEqual(self.appendlimit_caps(self.capabilities(s)),
                             ["APPENDLIMIT=4294967295"])

    def test_status_appendlimit(self):
        s = self.login()
        self.ok(s, "c", "CREATE Sub")
        st = status(self.ok(s, "st", "STATUS Sub (MESSAGES APPENDLIMIT)"))
        self.assertEqual(st["APPENDLIMIT"], LIMIT)
        self.assertEqual(st["MESSAGES"], 0)
        # Case-insensitive, like every status-att.
        st = status(self.ok(s, "st", "STATUS INBOX (appendlimit)"))
        self.assertEqual(st["APPENDLIMIT"], LIMIT)

    def test_list_status_appendlimit(self):
        s = self.login()
        self.ok(s, "c", "CREATE Sub")
        untagged = self.ok(s, "l", 'LIST "" "*" RETURN (STATUS (APPENDLIMIT))')
        statuses = [l for l in untagged if l.startswith(b"* STATUS")]
        self.assertEqual(len(statuses), 2, untagged)
        for line in statuses:
            self.assertTrue(line.endswith(b"(APPENDLIMIT %d)" % LIMIT), line)

    def test_at_limit_accepted(self):
        s = self.login()
        msg = message("fits")
        msg += b"x" * (LIMIT - len(msg))
        self.assertEqual(len(msg), LIMIT)
        self.append(s, msg=msg)
        self.assertEqual(self.count(s), 1)

    def test_synchronizing_literal_over_limit_not_invited(self):
        s = self.login()
        s.send(b"a APPEND INBOX {%d}\r\n" % (LIMIT + 1))
        line = s.expect_line()
        # Refused at once: no "+" continuation, so no data is sent.
        self.assertTrue(line.startswith(b"a NO [TOOBIG]"), line)
        self.ok(s, "n", "NOOP")
        self.assertEqual(self.count(s), 0)

    def test_nonsynchronizing_literal_over_limit_read_and_dropped(self):
        s = self.login()
        big = message("big", body="y" * (LIMIT * 3) + "\r\n")
        s.send(b"a APPEND INBOX (\\Seen) {%d+}\r\n" % len(big) + big + b"\r\n")
        _, tagged = read_response(s, "a")
        self.assertTrue(tagged.startswith(b"a NO [TOOBIG]"), tagged)
        # The literal's bytes were not taken as commands.
        untagged = self.ok(s, "n", "NOOP")
        self.assertFalse([l for l in untagged if b"BAD" in l], untagged)
        self.assertEqual(self.count(s), 0)

    def test_multiappend_one_too_big_appends_nothing(self):
        s = self.login()
        small = message("small")
        big = message("big", body="z" * (LIMIT * 2) + "\r\n")
        s.send(b"a APPEND INBOX {%d+}\r\n" % len(small) + small
               + b" {%d+}\r\n" % len(big) + big + b"\r\n")
        _, tagged = read_response(s, "a")
        self.assertTrue(tagged.startswith(b"a NO [TOOBIG]"), tagged)
        self.assertEqual(self.count(s), 0)
