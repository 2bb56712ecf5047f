"""Helpers for the selected-state tests (select, fetch, store, expunge,
idle): an instance configured as the milestone's reference setup, logged
in raw sessions, APPEND of test messages and reading responses that
carry literals."""

import re

from cassandane.testcase import InstanceTestCase

CONFIG = {
    "autocreate_quota": "0",
    "delete_mode": "immediate",
}

LITERAL = re.compile(rb"\{(\d+)\+?\}$")


def message(subject="hello", body="body text\r\n", frm="Fred <fred@example.com>",
            extra=""):
    return ("From: %s\r\nTo: Ann <ann@example.com>\r\nSubject: %s\r\n"
            "Date: Mon, 6 Nov 2023 10:00:00 +0000\r\nMessage-ID: <%s@example.com>\r\n"
            "%s\r\n%s" % (frm, subject, subject.replace(" ", "."), extra,
                          body)).encode()


def read_response(s, tag, timeout=None):
    """(untagged responses, tagged line) where a response ending in a
    literal {n} continues with the n bytes and the rest of the line."""
    if isinstance(tag, str):
        tag = tag.encode()
    untagged = []
    while True:
        line = s.expect_line(timeout)
        while True:
            m = LITERAL.search(line)
            if not m:
                break
            n = int(m.group(1))
            while len(s.buf) < n:
                s._fill(__import__("time").monotonic() + (timeout or s.timeout))
            data, s.buf = s.buf[:n], s.buf[n:]
            line = line + b"\r\n" + data + s.expect_line(timeout)
        if line.startswith(tag + b" "):
            return untagged, line
        untagged.append(line)


class SelectedTestCase(InstanceTestCase):
    def setUp(self):
        super().setUp()
        self.inst = None

    def instance(self):
        if not self.inst:
            self.inst = self.start_instance(config=dict(CONFIG))
        return self.inst

    def login(self, user="fred"):
        s = self.instance().raw()
        self.addCleanup(s.close)
        s.expect_line()
        _, tagged = s.command("L", "LOGIN %s secret" % user)
        self.assertOK(tagged, "L")
        return s

    def cmd(self, s, tag, text):
        if isinstance(text, str):
            text = text.encode()
        s.send(tag.encode() + b" " + text + b"\r\n")
        return read_response(s, tag)

    def ok(self, s, tag, text):
        untagged, tagged = self.cmd(s, tag, text)
        self.assertOK(tagged, tag)
        return untagged

    def append(self, s, mailbox="INBOX", msg=None, flags=""):
        msg = msg if msg is not None else message()
        s.send(b"A APPEND " + mailbox.encode()
               + (b" (" + flags.encode() + b")" if flags else b"")
               + b" {%d+}\r\n" % len(msg) + msg + b"\r\n")
        _, tagged = read_response(s, "A")
        self.assertOK(tagged, "A")

    def select(self, s, mailbox="INBOX", cmd="SELECT"):
        return self.ok(s, "S", "%s %s" % (cmd, mailbox))

    def fill(self, n, user="fred", flags=""):
        """A session of `user` with INBOX holding n messages, selected."""
        s = self.login(user)
        for i in range(n):
            self.append(s, msg=message("msg %d" % (i + 1)), flags=flags)
        self.select(s)
        return s


def untagged_with(lines, word):
    return [l for l in lines if word in l.upper()]
