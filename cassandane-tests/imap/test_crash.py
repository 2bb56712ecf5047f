"""Crash safety of APPEND: an imapd killed with SIGKILL in the middle of a
stream of pipelined APPENDs loses nothing it acknowledged, and leaves
nothing that reconstruct would have to repair.

The client pipelines APPENDs with non-synchronizing literals as fast as
the server takes them, recording every tagged OK; the imapd process
serving it is then killed at a varying moment.  Right after the kill,
before any other session touches the mailbox, `reconstruct` must find
nothing to fix (an append killed after linking its message file but
before publishing the index header must not leave a file that
reconstruct adopts); then every acknowledged message must be in the
mailbox, byte for byte, and nothing else.
"""

import os
import re
import signal
import socket
import struct
import subprocess
import threading
import time

from cassandane import settings
from cassandane.instance import HOST, wait_for
from cassandane.testcase import InstanceTestCase

CONFIG = {
    "autocreate_quota": "0",
    "delete_mode": "immediate",
}

MAILBOX = "crash"


def tool_path(name):
    sbin = os.path.join(settings.PREFIX, "sbin", name)
    return sbin if os.path.exists(sbin) else os.path.join(settings.LIBEXEC, name)


def message(round_no, n):
    """A distinct message of some size (a few KB up to ~64 KB), CRLF."""
    lines = "".join("line %d of message %d.%d, padding padding padding\r\n"
                    % (i, round_no, n) for i in range(20 + (n * 37) % 1200))
    return ("From: Stress <stress@example.com>\r\n"
            "To: fred@example.com\r\n"
            "Subject: crash round %d message %d\r\n"
            "Message-ID: <crash-%d-%d@example.com>\r\n"
            "\r\n" % (round_no, n, round_no, n) + lines).encode()


def socket_inode_of(sock):
    """Inode of the server end of our TCP connection, from /proc/net/tcp:
    the entry whose local address is our peer and remote ours."""
    lport = sock.getsockname()[1]
    rport = sock.getpeername()[1]
    with open("/proc/net/tcp") as f:
        next(f)
        for line in f:
            fields = line.split()
            local, remote = fields[1], fields[2]
            if (int(local.split(":")[1], 16) == rport and
                    int(remote.split(":")[1], 16) == lport):
                return fields[9]
    return None


def pid_owning_inode(inode, candidates):
    target = "socket:[%s]" % inode
    for pid in candidates:
        d = "/proc/%d/fd" % pid
        try:
            for fd in os.listdir(d):
                try:
                    if os.readlink(os.path.join(d, fd)) == target:
                        return pid
                except OSError:
                    pass
        except OSError:
            pass
    return None


def index_header(path):
    """(last_uid, flags) from a cyrus.index header (doc/store-format.md)."""
    with open(path, "rb") as f:
        h = f.read(128)
    return struct.unpack_from("<I", h, 28)[0], struct.unpack_from("<I", h, 104)[0]


class Appender:
    """Pipelines APPENDs on a logged-in socket; a reader thread records
    which tags got OK."""

    def __init__(self, sock, round_no):
        self.sock = sock
        self.round_no = round_no
        self.sent = {}          # tag -> message bytes
        self.acked = {}         # tag -> message bytes
        self.other = []         # tagged lines that were not OK
        self.stop = False
        self.reader = threading.Thread(target=self.read_loop, daemon=True)

    def read_loop(self):
        buf = b""
        try:
            while True:
                data = self.sock.recv(65536)
                if not data:
                    return
                buf += data
                while b"\r\n" in buf:
                    line, buf = buf.split(b"\r\n", 1)
                    m = re.match(rb"(c\d+) (OK|NO|BAD)", line)
                    if m:
                        tag = m.group(1).decode()
                        if m.group(2) == b"OK":
                            self.acked[tag] = self.sent[tag]
                        else:
                            self.other.append(line)
        except OSError:
            return

    def write_loop(self):
        n = 0
        try:
            while not self.stop:
                n += 1
                tag = "c%d" % n
                msg = message(self.round_no, n)
                self.sent[tag] = msg
                self.sock.sendall(b"%s APPEND %s (\\Flagged) {%d+}\r\n%s\r\n"
                                  % (tag.encode(), MAILBOX.encode(), len(msg), msg))
        except OSError:
            return


class CrashTest(InstanceTestCase):
    def login_raw(self, inst, user):
        s = socket.create_connection((HOST, inst.service().port), timeout=10)
        f = s.makefile("rb")
        self.assertTrue(f.readline().startswith(b"* OK"))
        s.sendall(b"l1 LOGIN %s secret\r\n" % user.encode())
        while True:
            line = f.readline()
            self.assertTrue(line, "connection closed during LOGIN")
            if line.startswith(b"l1 "):
                self.assertTrue(line.startswith(b"l1 OK"), line)
                break
        return s, f

    def mailbox_dir(self, inst, name):
        r = subprocess.run([tool_path("mbpath"), "-C", inst.imapd_conf, name],
                           capture_output=True, text=True, timeout=60,
                           env=inst.environment())
        self.assertEqual(r.returncode, 0, r.stderr)
        return r.stdout.strip()

    def reconstruct(self, inst, name):
        r = subprocess.run([tool_path("reconstruct"), "-C", inst.imapd_conf, name],
                           capture_output=True, text=True, timeout=120,
                           env=inst.environment())
        self.assertEqual(r.returncode, 0, r.stderr)
        return r.stdout

    def contents(self, inst):
        """Every message body in the crash mailbox, as a list of bytes."""
        c = inst.imap(timeout=60)
        self.assertEqual(c.login("fred", "secret")[0], "OK")
        typ, _ = c.select(MAILBOX, readonly=True)
        self.assertEqual(typ, "OK")
        typ, data = c.uid("FETCH", "1:*", "(BODY.PEEK[] FLAGS)")
        self.assertEqual(typ, "OK")
        out = []
        for item in data:
            if isinstance(item, tuple):
                self.assertIn(b"\\Flagged", item[0])
                out.append(item[1])
        c.logout()
        return out

    def test_kill_during_pipelined_appends(self):
        inst = self.start_instance(config=CONFIG)
        admin = inst.imap()
        admin.login("admin", "secret")
        self.assertEqual(admin.create("user/fred")[0], "OK")
        admin.logout()
        c = inst.imap()
        c.login("fred", "secret")
        self.assertEqual(c.create(MAILBOX)[0], "OK")
        c.logout()
        mbdir = self.mailbox_dir(inst, "user/fred/" + MAILBOX)

        acked = []
        sent = set()
        mid_append = 0
        for round_no in range(1, 7):
            s, f = self.login_raw(inst, "fred")
            inode = socket_inode_of(s)
            self.assertIsNotNone(inode)
            pid = wait_for(lambda: pid_owning_inode(inode, inst.children("imapd")),
                           10, "the imapd serving our connection")
            app = Appender(s, round_no)
            app.reader.start()
            writer = threading.Thread(target=app.write_loop, daemon=True)
            writer.start()
            # Let a few appends complete, then kill at a varying moment.
            wait_for(lambda: len(app.acked) >= 3, 30, "three acknowledged appends")
            time.sleep(0.01 * round_no * round_no)
            os.kill(pid, signal.SIGKILL)
            app.stop = True
            writer.join(10)
            app.reader.join(10)
            s.close()
            self.assertEqual(app.other, [], "APPENDs refused: %r" % app.other[:3])
            acked.extend(app.acked.values())
            sent.update(app.sent.values())

            # Nobody has touched the mailbox since the kill.
            last_uid, flags = index_header(os.path.join(mbdir, "cyrus.index"))
            leftovers = [n for n in os.listdir(mbdir)
                         if re.fullmatch(r"\d+\.", n) and int(n[:-1]) > last_uid]
            if flags & 2 or leftovers:
                mid_append += 1
            out = self.reconstruct(inst, "user/fred/" + MAILBOX)
            self.assertEqual(out, "user/fred/%s\n" % MAILBOX,
                             "round %d: reconstruct found something to fix "
                             "(index flags %d, files above last_uid %r)"
                             % (round_no, flags, leftovers))
            for n in leftovers:
                self.assertFalse(os.path.exists(os.path.join(mbdir, n)),
                                 "%s left behind" % n)

        stored = self.contents(inst)
        stored_set = set(stored)
        missing = [m[:120] for m in acked if m not in stored_set]
        self.assertEqual(missing, [], "%d acknowledged messages missing"
                         % len(missing))
        # Nothing twice and nothing but what was sent, intact.  (More than
        # was acknowledged may be there: the server may commit pipelined
        # APPENDs before their OKs leave its output buffer.)
        self.assertEqual(len(stored), len(stored_set))
        self.assertEqual([m[:120] for m in stored_set - sent], [])
        print("# %d acknowledged, %d stored, %d kills mid-append"
              % (len(acked), len(stored), mid_append))
