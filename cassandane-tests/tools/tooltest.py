"""tooltest.py -- what the admin tool tests share.

ToolTestCase starts an instance with the milestone's configuration, fills
mailboxes over IMAP (as the admin, and as their owner) and runs an
installed tool against the instance's imapd.conf.  Tools live in
PREFIX/sbin (Cyrus keeps them beside the services, which is where
--libexec points when comparing against Debian's Cyrus).
"""

import os
import pwd
import re
import subprocess

from cassandane import settings
from cassandane.testcase import InstanceTestCase

CONFIG = {
    "autocreate_quota": "0",
    "delete_mode": "immediate",
}


def tool_path(name):
    sbin = os.path.join(settings.PREFIX, "sbin", name)
    return sbin if os.path.exists(sbin) else os.path.join(settings.LIBEXEC, name)


def message(n, subject=None):
    """A small distinct message, CRLF line ends."""
    return ("From: Sender <sender@example.com>\r\n"
            "To: fred@example.com\r\n"
            "Subject: %s\r\n"
            "Date: Mon, 1 Jan 2024 10:00:%02d +0000\r\n"
            "Message-ID: <msg%d@example.com>\r\n"
            "\r\n"
            "Body of message %d.\r\n" % (subject or "message %d" % n, n % 60, n, n)
            ).encode()


class ToolTestCase(InstanceTestCase):
    def start(self, **config):
        conf = dict(CONFIG)
        conf.update(config)
        self.inst = self.start_instance(config=conf)
        return self.inst

    # --- IMAP ---------------------------------------------------------------

    def login(self, user):
        c = self.inst.imap()
        typ, _ = c.login(user, "secret")
        self.assertEqual(typ, "OK")
        return c

    def ok(self, result, what=""):
        typ, data = result
        self.assertEqual(typ, "OK", "%s: %r" % (what, data))
        return data

    def make_user(self, user, folders=(), messages=0, flags=None):
        """Create user/USER (and folders) and append `messages` messages
        to the INBOX, the n-th (1-based) with flags(n) if given."""
        admin = self.login("admin")
        self.ok(admin.create("user/%s" % user), "create user/%s" % user)
        admin.logout()
        c = self.login(user)
        for f in folders:
            self.ok(c.create(f), "create %s" % f)
        for n in range(1, messages + 1):
            fl = flags(n) if flags else None
            self.ok(c.append("INBOX", fl, None, message(n)), "append %d" % n)
        c.logout()

    def append(self, user, mailbox, n, flags=None):
        c = self.login(user)
        self.ok(c.append(mailbox, flags, None, message(n)), "append")
        c.logout()

    def fetch_all(self, user, mailbox="INBOX"):
        """{uid: (flags set, body bytes)} of a mailbox."""
        c = self.login(user)
        self.ok(c.select(mailbox, readonly=True), "select %s" % mailbox)
        typ, data = c.uid("FETCH", "1:*", "(FLAGS BODY.PEEK[])")
        out = {}
        if typ == "OK":
            for item in data:
                if not isinstance(item, tuple):
                    continue
                head, body = item
                uid = int(re.search(rb"UID (\d+)", head).group(1))
                fl = re.search(rb"FLAGS \(([^)]*)\)", head).group(1).decode()
                out[uid] = (set(fl.split()), body)
        c.logout()
        return out

    # --- files --------------------------------------------------------------

    def mailbox_dir(self, name):
        r = self.tool("mbpath", name)
        self.assertEqual(r.returncode, 0, "mbpath %s: %s" % (name, r.stderr))
        path = r.stdout.strip()
        self.assertTrue(os.path.isfile(os.path.join(path, "cyrus.header")), path)
        return path

    def write_message_file(self, directory, uid, data):
        path = os.path.join(directory, "%d." % uid)
        with open(path, "wb") as f:
            f.write(data)
        if os.geteuid() == 0:
            pw = pwd.getpwnam("cyrus")
            os.chown(path, pw.pw_uid, pw.pw_gid)
        return path

    # --- tools --------------------------------------------------------------

    def tool(self, name, *args, input=None):
        """Run an installed tool; returns the CompletedProcess (text)."""
        env = self.inst.environment()
        env.pop("CYRUS_LOG_STDERR", None)
        r = subprocess.run([tool_path(name), "-C", self.inst.imapd_conf] + list(args),
                           input=input, capture_output=True, text=True,
                           env=env, timeout=60, cwd=self.inst.basedir)
        for line in (r.stderr or "").splitlines():
            if "AddressSanitizer" in line or "runtime error:" in line:
                self.fail("sanitizer error in %s: %s" % (name, r.stderr))
        return r
