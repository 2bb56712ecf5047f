"""sync: interimap (a QRESYNC synchroniser, shared/seeds/interimap.md)
keeping two of our instances in step: new mail one way, then flag
changes and expunges back the other way."""

import imaplib
import os
import shutil
import subprocess
import tempfile
import unittest

from cassandane.instance import HOST
from cassandane.testcase import InstanceTestCase

CONFIG = {"autocreate_quota": "0", "delete_mode": "immediate"}
INTERIMAP = shutil.which("interimap")


def message(n):
    return ("From: Fred <fred@example.com>\r\nTo: ann@example.com\r\n"
            "Subject: sync %d\r\nMessage-ID: <sync%d@example.com>\r\n"
            "\r\nbody %d\r\n" % (n, n, n)).encode()


@unittest.skipIf(INTERIMAP is None, "interimap is not installed")
class InterimapTest(InstanceTestCase):
    def setUp(self):
        super().setUp()
        self.clients = []
        self.local = self.start_instance(config=dict(CONFIG))
        self.remote = self.start_instance(config=dict(CONFIG))
        self.home = tempfile.mkdtemp(prefix="interimap-")
        self.addCleanup(shutil.rmtree, self.home, True)
        self.conf = os.path.join(self.home, "interimap.conf")
        with open(self.conf, "w") as f:
            f.write("database = %s/state.db\n" % self.home)
            for section, inst in (("local", self.local),
                                  ("remote", self.remote)):
                f.write("\n[%s]\ntype = imap\nhost = %s\nport = %d\n"
                        "STARTTLS = NO\nusername = fred\npassword = secret\n"
                        % (section, HOST, inst.service("imap").port))

    def tearDown(self):
        for c in self.clients:
            try:
                c.logout()
            except (imaplib.IMAP4.error, OSError):
                pass
        super().tearDown()

    def client(self, inst):
        c = imaplib.IMAP4(HOST, inst.service("imap").port)
        c.login("fred", "secret")
        self.clients.append(c)
        return c

    def interimap(self):
        env = dict(os.environ, HOME=self.home, XDG_CONFIG_HOME=self.home,
                   XDG_DATA_HOME=self.home)
        p = subprocess.run([INTERIMAP, "--config=" + self.conf],
                           env=env, capture_output=True, text=True,
                           timeout=120)
        self.assertEqual(p.returncode, 0,
                         "interimap failed:\n%s%s" % (p.stdout, p.stderr))
        return p.stderr

    def state(self, c, mailbox="INBOX"):
        """{subject: sorted flags} of a mailbox."""
        typ, _ = c.select(mailbox)
        self.assertEqual(typ, "OK")
        typ, data = c.fetch("1:*", "(FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
        out = {}
        for item in data:
            if not isinstance(item, tuple):
                continue
            flags = imaplib.ParseFlags(item[0])
            subject = item[1].decode().strip().split(": ", 1)[1]
            out[subject] = sorted(f.decode() for f in flags
                                  if f != b"\\Recent")
        c.close()
        return out

    def test_new_mail_flags_and_expunges_both_ways(self):
        lc = self.client(self.local)
        for n in range(1, 4):
            lc.append("INBOX", "(\\Seen)" if n == 1 else None, None,
                      message(n))
        self.interimap()
        rc = self.client(self.remote)
        self.assertEqual(self.state(rc), self.state(lc))
        self.assertEqual(len(self.state(rc)), 3)

        # On the remote side: flag one, expunge another, deliver one.
        rc.select("INBOX")
        rc.store("2", "+FLAGS", "(\\Flagged)")
        rc.store("3", "+FLAGS", "(\\Deleted)")
        rc.expunge()
        rc.close()
        rc.append("INBOX", None, None, message(4))
        # And locally a flag change too.
        lc.select("INBOX")
        lc.store("1", "+FLAGS", "(\\Answered)")
        lc.close()

        self.interimap()
        want = {"sync 1": ["\\Answered", "\\Seen"], "sync 2": ["\\Flagged"],
                "sync 4": []}
        self.assertEqual(self.state(lc), want)
        self.assertEqual(self.state(rc), want)

        # Nothing left to do: a third run changes nothing.
        self.interimap()
        self.assertEqual(self.state(lc), want)
        self.assertEqual(self.state(rc), want)
