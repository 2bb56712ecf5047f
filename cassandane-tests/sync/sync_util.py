"""Helpers for the synchroniser tests (interimap, mbsync, offlineimap):
the milestone's reference configuration, numbered test messages whose
exact bytes are known, imaplib sessions, and a message-by-message
snapshot of a mailbox (content, flags, internal date) to compare the
servers against what the test expects.

A synchroniser that is not installed makes its tests skip with the name
of the Debian package to install."""

import imaplib
import os
import re
import shutil
import subprocess

from cassandane.instance import HOST
from cassandane.testcase import InstanceTestCase

CONFIG = {"autocreate_quota": "0", "delete_mode": "immediate"}

USER = "fred"
PASSWORD = "secret"

FETCH_FLAGS = re.compile(rb"[( ]FLAGS \(([^)]*)\)")
FETCH_DATE = re.compile(rb'[( ]INTERNALDATE "([^"]*)"')
LIST_LINE = re.compile(rb'^\([^)]*\) (?:"(?:[^"\\]|\\.)"|NIL) (.*)$')
SUBJECT = re.compile(rb"^Subject: ([^\r\n]*)\r?$", re.M)


def message(n, body=None):
    """The exact bytes of test message n (subject `sync n`)."""
    return ("From: Fred <fred@example.com>\r\nTo: ann@example.com\r\n"
            "Subject: sync %d\r\nDate: Mon, 6 Nov 2023 10:%02d:00 +0000\r\n"
            "Message-ID: <sync%d@example.com>\r\n\r\n%s\r\n"
            % (n, n % 60, n, body or "body %d" % n)).encode()


def number(msg):
    """The n of a test message's bytes, from its subject."""
    m = SUBJECT.search(msg)
    if not m or not m.group(1).startswith(b"sync "):
        raise AssertionError("not a test message: %r" % msg[:200])
    return int(m.group(1)[5:])


def tool(name):
    """Path of a synchroniser program, or None."""
    return shutil.which(name)


class SyncTestCase(InstanceTestCase):
    """Two (or one) instances of the server and imaplib sessions on them."""

    # True for a client that adds a bookkeeping header (CLIENT_HEADERS)
    # to the messages it uploads.
    client_marks_uploads = False

    def setUp(self):
        super().setUp()
        self.clients = []

    def tearDown(self):
        for c in self.clients:
            try:
                c.logout()
            except (imaplib.IMAP4.error, OSError):
                pass
        super().tearDown()

    def server(self):
        return self.start_instance(config=dict(CONFIG))

    def client(self, inst):
        c = imaplib.IMAP4(HOST, inst.service("imap").port, timeout=30)
        c.login(USER, PASSWORD)
        self.clients.append(c)
        return c

    def run_tool(self, argv, env=None, timeout=120):
        """(exit status, stdout + stderr) of a synchroniser run."""
        p = subprocess.run(argv, env=env, capture_output=True, text=True,
                           timeout=timeout, stdin=subprocess.DEVNULL)
        return p.returncode, p.stdout + p.stderr

    # --- server state ---------------------------------------------------

    def append(self, c, mailbox, n, flags=(), date=None):
        typ, data = c.append(mailbox, "(%s)" % " ".join(flags) if flags else None,
                             date, message(n))
        self.assertEqual(typ, "OK", "APPEND sync %d to %s: %r" % (n, mailbox, data))

    def create(self, c, mailbox):
        typ, data = c.create(mailbox)
        self.assertEqual(typ, "OK", "CREATE %s: %r" % (mailbox, data))

    def mailboxes(self, c):
        """Sorted names of the mailboxes LIST "" "*" shows."""
        typ, data = c.list('""', "*")
        self.assertEqual(typ, "OK")
        names = []
        for line in data:
            if isinstance(line, tuple):
                # A name sent as a literal.
                names.append(line[1].decode())
                continue
            m = LIST_LINE.match(line or b"")
            self.assertTrue(m, "unexpected LIST response %r" % line)
            name = m.group(1)
            if name.startswith(b'"'):
                name = re.sub(rb'\\(.)', rb'\1', name[1:-1])
            names.append(name.decode())
        return sorted(names)

    def status(self, c, mailbox, item):
        typ, data = c.status(mailbox, "(%s)" % item)
        self.assertEqual(typ, "OK", "STATUS %s: %r" % (mailbox, data))
        m = re.search(r"%s (\d+)" % item, data[0].decode())
        return int(m.group(1))

    def change(self, c, mailbox, ns, op, flags):
        """STORE op flags on the messages numbered ns (by subject)."""
        typ, _ = c.select(mailbox)
        self.assertEqual(typ, "OK")
        uids = self.uids_by_number(c)
        for n in ns:
            typ, data = c.uid("STORE", str(uids[n]), op, "(%s)" % " ".join(flags))
            self.assertEqual(typ, "OK", "STORE %s: %r" % (op, data))
        c.close()

    def expunge(self, c, mailbox, ns):
        typ, _ = c.select(mailbox)
        self.assertEqual(typ, "OK")
        uids = self.uids_by_number(c)
        for n in ns:
            typ, _ = c.uid("STORE", str(uids[n]), "+FLAGS.SILENT", "(\\Deleted)")
            self.assertEqual(typ, "OK")
        typ, _ = c.expunge()
        self.assertEqual(typ, "OK")
        c.close()

    def uids_by_number(self, c):
        """{n: uid} of the selected mailbox."""
        typ, data = c.uid("FETCH", "1:*", "(UID BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
        self.assertEqual(typ, "OK")
        out = {}
        for item in data:
            if isinstance(item, tuple):
                uid = int(re.search(rb"UID (\d+)", item[0]).group(1))
                out[int(item[1].split(b"sync ", 1)[1].split(b"\r")[0])] = uid
        return out

    def snapshot(self, c, mailbox="INBOX"):
        """{n: (sorted flags, internaldate)} of a mailbox, checking that
        each message's bytes are exactly message(n) and no message is
        there twice."""
        typ, data = c.select(mailbox, readonly=True)
        self.assertEqual(typ, "OK", "EXAMINE %s: %r" % (mailbox, data))
        out = {}
        if int(data[0]) > 0:
            typ, data = c.fetch("1:*", "(FLAGS INTERNALDATE BODY.PEEK[])")
            self.assertEqual(typ, "OK")
            for i, item in enumerate(data):
                if not isinstance(item, tuple):
                    continue
                # Items after the literal come as the next element.
                rest = data[i + 1] if i + 1 < len(data) else b""
                head = item[0] + (rest if isinstance(rest, bytes) else b"")
                m = FETCH_FLAGS.search(head)
                d = FETCH_DATE.search(head)
                self.assertTrue(m and d, "unexpected FETCH response %r" % head)
                data = item[1]
                if self.client_marks_uploads:
                    data = CLIENT_HEADERS.sub(b"", data, count=1)
                n = number(data)
                self.assertEqual(data, message(n),
                                 "content of sync %d in %s" % (n, mailbox))
                self.assertNotIn(n, out, "sync %d is twice in %s" % (n, mailbox))
                flags = sorted(f.decode() for f in m.group(1).split()
                               if f != b"\\Recent")
                out[n] = (flags, d.group(1).decode())
        c.close()
        return out

    def flags_of(self, c, mailbox="INBOX"):
        """{n: sorted flags} of a mailbox (see snapshot)."""
        return {n: f for n, (f, _) in self.snapshot(c, mailbox).items()}

    def assertFlags(self, c, mailbox, want, where=""):
        """The mailbox holds exactly the messages of `want` ({n: flags})
        with exactly those flags."""
        want = {n: sorted(f) for n, f in want.items()}
        self.assertEqual(self.flags_of(c, mailbox), want,
                         "%s %s" % (where, mailbox))

    def assertSameMailbox(self, c1, c2, mailbox, want):
        """Both servers hold exactly `want` in mailbox, with the same
        internal date for each message."""
        s1 = self.snapshot(c1, mailbox)
        s2 = self.snapshot(c2, mailbox)
        want = {n: sorted(f) for n, f in want.items()}
        self.assertEqual({n: f for n, (f, _) in s1.items()}, want,
                         "first server, %s" % mailbox)
        self.assertEqual({n: f for n, (f, _) in s2.items()}, want,
                         "second server, %s" % mailbox)
        self.assertEqual({n: d for n, (_, d) in s1.items()},
                         {n: d for n, (_, d) in s2.items()},
                         "internal dates differ in %s" % mailbox)


def tool_env(home):
    """An environment whose home and XDG directories are `home`."""
    return dict(os.environ, HOME=home, XDG_CONFIG_HOME=home,
                XDG_DATA_HOME=home, XDG_STATE_HOME=home)


# Maildir info letters (the ":2," suffix of a file name) and IMAP flags.
MAILDIR_FLAGS = {"D": "\\Draft", "F": "\\Flagged", "P": "$Forwarded",
                 "R": "\\Answered", "S": "\\Seen", "T": "\\Deleted"}


# Header lines synchronisers add to the Maildir copies for their own
# bookkeeping; they are not part of what the server stored.
CLIENT_HEADERS = re.compile(rb"^(?:X-TUID|X-OfflineIMAP): [^\r\n]*\r?\n",
                            re.M | re.I)


def maildir_message(path):
    """A Maildir file's message as the server should hold it: CRLF line
    ends (Maildir stores LF) and no synchroniser bookkeeping header."""
    with open(path, "rb") as f:
        data = f.read()
    head, sep, body = data.partition(b"\n\n")
    data = CLIENT_HEADERS.sub(b"", head + sep, count=1) + body
    if b"\r\n" not in data:
        data = data.replace(b"\n", b"\r\n")
    return data


def maildir_files(folder):
    """{n: path} of the test messages in a Maildir folder."""
    out = {}
    for sub in ("new", "cur"):
        d = os.path.join(folder, sub)
        for name in sorted(os.listdir(d)) if os.path.isdir(d) else []:
            path = os.path.join(d, name)
            n = number(maildir_message(path))
            if n in out:
                raise AssertionError("sync %d is twice in %s" % (n, folder))
            out[n] = path
    return out


def maildir_flags(path):
    """The IMAP flags a Maildir file name says its message has."""
    info = os.path.basename(path).split(":2,", 1)
    letters = info[1] if len(info) == 2 else ""
    return sorted(MAILDIR_FLAGS[c] for c in letters if c in MAILDIR_FLAGS)


def maildir_set_flags(path, flags):
    """Rename a Maildir message to carry `flags`; its new path."""
    letters = "".join(sorted(k for k, v in MAILDIR_FLAGS.items() if v in flags))
    base = os.path.basename(path).split(":2,", 1)[0]
    new = os.path.join(os.path.dirname(os.path.dirname(path)), "cur",
                       base + ":2," + letters)
    os.rename(path, new)
    return new


def maildir_deliver(folder, n, flags=()):
    """Put test message n into a Maildir folder as a mail client does."""
    for sub in ("tmp", "new", "cur"):
        os.makedirs(os.path.join(folder, sub), exist_ok=True)
    name = "%d.M%dP%d.test" % (1700000000 + n, n, os.getpid())
    tmp = os.path.join(folder, "tmp", name)
    with open(tmp, "wb") as f:
        f.write(message(n))
    if flags:
        letters = "".join(sorted(k for k, v in MAILDIR_FLAGS.items() if v in flags))
        final = os.path.join(folder, "cur", name + ":2," + letters)
    else:
        final = os.path.join(folder, "new", name)
    os.rename(tmp, final)
    return final


class MaildirMixin:
    """Assertions on a Maildir folder holding test messages."""

    def assertMaildir(self, folder, want):
        """The folder holds exactly the messages of `want` ({n: flags}),
        each message(n) byte for byte (see maildir_message)."""
        got = {}
        for n, path in maildir_files(folder).items():
            self.assertEqual(maildir_message(path), message(n),
                             "content of %s" % path)
            got[n] = maildir_flags(path)
        self.assertEqual(got, {n: sorted(f) for n, f in want.items()},
                         "Maildir %s" % folder)
