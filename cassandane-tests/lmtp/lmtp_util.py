"""Helpers for the LMTP tests: an instance with imapd, lmtpd on a TCP port
and lmtpd on the UNIX socket named by lmtpsocket, LMTP sessions at the
byte level, and reading mailboxes back over IMAP."""

import imaplib
import os
import re
import socket
import time

from cassandane.instance import HOST, Service, listening_ports
from cassandane.rawsession import RawSession
from cassandane.testcase import InstanceTestCase

CONFIG = {
    "autocreate_quota": "0",
    "delete_mode": "immediate",
}


class UnixService(Service):
    """A SERVICES entry listening on a UNIX socket."""

    def __init__(self, name, cmd, path, **kw):
        super().__init__(name, cmd, port=-1, **kw)
        self.path = path

    def conf_line(self):
        line = super().conf_line()
        return re.sub(r'listen="[^"]*"', 'listen="%s"' % self.path, line)


class UnixRawSession(RawSession):
    """A RawSession over a UNIX-domain socket."""

    def __init__(self, path, timeout=10.0):
        self.timeout = timeout
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(path)
        self.buf = b""
        self.eof = False
        self.transcript = []


def message(subject="hello", body="body text\r\n", msgid=None, extra=""):
    msgid = msgid or "<%s.%f@example.com>" % (subject.replace(" ", "."), time.time())
    return ("From: Fred <fred@example.com>\r\nTo: you@example.com\r\n"
            "Subject: %s\r\nDate: Mon, 6 Nov 2023 10:00:00 +0000\r\n"
            "Message-ID: %s\r\n%s\r\n%s" % (subject, msgid, extra, body)).encode()


def dotstuff(msg):
    """A DATA body for msg (bytes), with its final dot line."""
    lines = msg.split(b"\r\n")
    if lines and lines[-1] == b"":
        lines.pop()
    out = b"".join((b"." + l if l.startswith(b".") else l) + b"\r\n" for l in lines)
    return out + b".\r\n"


class LmtpTestCase(InstanceTestCase):
    """One instance per test, with lmtp (TCP) and lmtpunix services."""

    def start_lmtp(self, config=None, users=("fred",), unix=True,
                   lmtp_args="", **inst_kw):
        """inst_kw go to Instance (tls=True, sasl_users=...); lmtp_args
        are extra flags of the TCP lmtpd (such as -a)."""
        cfg = dict(CONFIG)
        cfg.update(config or {})
        inst = self.new_instance(config=cfg, **inst_kw)
        inst.add_service("lmtp", ("lmtpd %s -C %s" % (lmtp_args, inst.imapd_conf))
                         .replace("  ", " "), prefork=1)
        self.sockpath = os.path.join(inst.configdirectory, "socket", "lmtp")
        if unix:
            os.makedirs(os.path.dirname(self.sockpath), exist_ok=True)
            inst.services.append(UnixService(
                "lmtpunix", "lmtpd -C %s" % inst.imapd_conf, self.sockpath,
                prefork=1))
        inst.spawn()
        ports = {s.port for s in inst.services if s.port > 0}
        inst.wait(lambda: ports <= listening_ports()
                  and (not unix or os.path.exists(self.sockpath)), 20,
                  "services to listen")
        self.inst = inst
        for u in users:
            self.create_user(u)
        return inst

    # --- IMAP side ------------------------------------------------------

    def admin(self):
        m = imaplib.IMAP4(HOST, self.inst.service("imap").port, timeout=10)
        m.login("admin", "secret")
        self.addCleanup(self._logout, m)
        return m

    def user(self, name):
        m = imaplib.IMAP4(HOST, self.inst.service("imap").port, timeout=10)
        m.login(name, "secret")
        self.addCleanup(self._logout, m)
        return m

    @staticmethod
    def _logout(m):
        try:
            m.logout()
        except Exception:
            pass

    def create_user(self, name):
        m = self.admin()
        typ, data = m.create("user/%s" % name)
        self.assertEqual(typ, "OK", data)

    def messages(self, user, mailbox="INBOX"):
        """The messages of a user's mailbox, as bytes, in UID order."""
        m = self.user(user)
        typ, data = m.select(mailbox, readonly=True)
        self.assertEqual(typ, "OK", data)
        count = int(data[0])
        if not count:
            return []
        typ, data = m.fetch("1:*", "(BODY.PEEK[])")
        self.assertEqual(typ, "OK", data)
        return [d[1] for d in data if isinstance(d, tuple)]

    # --- LMTP side ------------------------------------------------------

    def lmtp_unix(self):
        s = UnixRawSession(self.sockpath)
        self.addCleanup(s.close)
        greeting = s.expect_line()
        self.assertTrue(greeting.startswith(b"220 "), greeting)
        return s

    def lmtp_tcp(self):
        s = RawSession(HOST, self.inst.service("lmtp").port)
        self.addCleanup(s.close)
        greeting = s.expect_line()
        self.assertTrue(greeting.startswith(b"220 "), greeting)
        return s

    def reply(self, s):
        """One (possibly multi-line) reply: list of lines."""
        lines = []
        while True:
            line = s.expect_line()
            lines.append(line)
            if len(line) < 4 or line[3:4] != b"-":
                return lines

    def code(self, s):
        return self.reply(s)[-1][:3].decode()

    def lhlo(self, s):
        s.send_line("LHLO test.example.com")
        return self.reply(s)

    def send_cmd(self, s, line):
        s.send_line(line)
        return self.reply(s)[-1]

    def deliver(self, s, rcpts, msg, frm="sender@example.com"):
        """A whole transaction, one step at a time; returns (RCPT replies,
        DATA replies) as last lines."""
        self.assertTrue(self.send_cmd(s, "MAIL FROM:<%s>" % frm).startswith(b"250"))
        rr = [self.send_cmd(s, "RCPT TO:<%s>" % r) for r in rcpts]
        accepted = sum(1 for r in rr if r.startswith(b"250"))
        if not accepted:
            s.send_line("RSET")
            self.reply(s)
            return rr, []
        self.assertTrue(self.send_cmd(s, "DATA").startswith(b"354"))
        s.send(dotstuff(msg))
        return rr, [self.reply(s)[-1] for _ in range(accepted)]
