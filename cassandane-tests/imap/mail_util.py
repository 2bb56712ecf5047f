"""Helpers for the SEARCH, COPY and MOVE tests: an instance configured as
the milestone's reference setup, logged-in raw sessions, APPEND of test
messages with flags and dates, and SEARCH results as lists."""

import re

from cassandane.testcase import InstanceTestCase

CONFIG = {"autocreate_quota": "0", "delete_mode": "immediate"}


def message(subject="hello", body="Hello there.\r\n", frm="Fred <fred@example.com>",
            to="Joe <joe@example.com>", date="Mon, 1 Jan 2024 12:00:00 +0000",
            headers=""):
    text = ("From: %s\r\nTo: %s\r\nSubject: %s\r\nDate: %s\r\n%s"
            "Message-ID: <%d@example.com>\r\n\r\n%s"
            % (frm, to, subject, date, headers, abs(hash(subject + body)), body))
    return text.encode() if isinstance(text, str) else text


class MailTestCase(InstanceTestCase):
    def login(self, inst, user="fred"):
        s = inst.raw()
        self.addCleanup(s.close)
        s.expect_line()
        _, tagged = s.command("L", "LOGIN %s pw" % user)
        self.assertOK(tagged, "L")
        return s

    def setup_mailbox(self, msgs, config=None):
        """A logged-in session with INBOX selected holding `msgs`, each
        a bytes message or (bytes, flags, internaldate)."""
        inst = self.start_instance(config=dict(CONFIG, **(config or {})))
        s = self.login(inst)
        for i, m in enumerate(msgs):
            self.append(s, "INBOX", m, "A%d" % i)
        _, tagged = s.command("S", "SELECT INBOX")
        self.assertOK(tagged, "S")
        return inst, s

    def append(self, s, mailbox, m, tag="A"):
        flags, date = "", ""
        if isinstance(m, tuple):
            m, flags, date = m
        args = mailbox
        if flags:
            args += " (%s)" % flags
        if date:
            args += ' "%s"' % date
        s.send(("%s APPEND %s {%d+}\r\n" % (tag, args, len(m))).encode() + m + b"\r\n")
        _, tagged = s.read_until_tagged(tag)
        self.assertOK(tagged, tag)

    def search(self, s, criteria, tag="s", uid=False):
        """The numbers of the one * SEARCH response, as a list."""
        cmd = ("UID SEARCH " if uid else "SEARCH ") + criteria
        untagged, tagged = s.command(tag, cmd)
        self.assertOK(tagged, tag)
        results = [l for l in untagged if l.upper().startswith(b"* SEARCH")]
        self.assertEqual(len(results), 1, untagged)
        return [int(n) for n in results[0][8:].split()]

    def ok(self, s, tag, cmd):
        """Run `cmd`, insist on a tagged OK and return the untagged lines."""
        untagged, tagged = s.command(tag, cmd)
        self.assertOK(tagged, tag)
        return untagged

    def count(self, s, mailbox):
        """Messages in `mailbox` (STATUS), without selecting it."""
        untagged = self.ok(s, "st", "STATUS %s (MESSAGES)" % mailbox)
        for line in untagged:
            if line.upper().startswith(b"* STATUS"):
                return int(line.rsplit(b"MESSAGES ", 1)[1].rstrip(b")"))
        self.fail("no STATUS response: %r" % untagged)

    def fetch_flags(self, s, mailbox):
        """{uid: set of flags} of every message of `mailbox` (EXAMINE)."""
        untagged = self.ok(s, "ex", "EXAMINE %s" % mailbox)
        untagged = self.ok(s, "ff", "FETCH 1:* (UID FLAGS)")
        result = {}
        for line in untagged:
            m = re.match(rb"\* \d+ FETCH \((.*)\)$", line)
            if not m:
                continue
            uid = int(re.search(rb"UID (\d+)", m.group(1)).group(1))
            flags = re.search(rb"FLAGS \(([^)]*)\)", m.group(1)).group(1)
            result[uid] = set(flags.decode().split()) - {"\\Recent"}
        return result
