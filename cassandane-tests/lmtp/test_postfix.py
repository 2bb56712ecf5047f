"""lmtp: end to end with a real Postfix (Debian's), started by the test on
loopback ports with its own configuration and queue directories,
delivering to lmtpd over TCP (SASL AUTH as an admin) and over the UNIX
socket.  Skipped when Postfix is not installed."""

import os
import pwd
import shutil
import smtplib
import subprocess
import time

from cassandane.instance import HOST, free_port
from lmtp.lmtp_util import LmtpTestCase, message

POSTFIX = shutil.which("postfix") or "/usr/sbin/postfix"


class PostfixTest(LmtpTestCase):
    def setUp(self):
        super().setUp()
        if not os.access(POSTFIX, os.X_OK) or os.geteuid() != 0:
            self.skipTest("needs Debian's postfix and root")

    def start_postfix(self, transport, sasl=False):
        # The postfix user must reach its queue and the LMTP socket.
        self.open_socket_dirs()
        base = os.path.join(self.inst.basedir, "postfix")
        conf, queue, data = (os.path.join(base, d) for d in ("etc", "queue", "data"))
        for d in (conf, queue, data):
            os.makedirs(d)
        self.smtp_port = free_port()
        main = {
            "compatibility_level": "3.6",
            "queue_directory": queue,
            "data_directory": data,
            "mail_owner": "postfix",
            "setgid_group": "postdrop",
            "inet_interfaces": HOST,
            "inet_protocols": "ipv4",
            "myhostname": "mx.example.test",
            "mydestination": "example.test",
            "mynetworks": "127.0.0.0/8",
            "local_recipient_maps": "",
            "local_transport": transport,
            "smtpd_recipient_restrictions": "permit_mynetworks, reject",
            "maillog_file": os.path.join(base, "maillog"),
            "maillog_file_prefixes": base,
            "syslog_name": "postfix-" + os.path.basename(self.inst.basedir),
            "alias_maps": "",
            "alias_database": "",
            "biff": "no",
            "lmtp_destination_recipient_limit": "50",
        }
        if sasl:
            main.update({
                "lmtp_sasl_auth_enable": "yes",
                "lmtp_sasl_password_maps": "static:admin:secret",
                "lmtp_sasl_security_options": "noanonymous",
                "lmtp_sasl_mechanism_filter": "plain",
            })
        with open(os.path.join(conf, "main.cf"), "w") as f:
            for k, v in main.items():
                f.write("%s = %s\n" % (k, v))
        with open("/etc/postfix/master.cf") as f:
            lines = f.read().splitlines()
        with open(os.path.join(conf, "master.cf"), "w") as f:
            for line in lines:
                # Our own SMTP port; nothing chrooted (the queue is ours).
                if line.startswith("smtp ") and " inet " in line:
                    line = "%s:%d inet n - n - - smtpd" % (HOST, self.smtp_port)
                elif line and not line[0].isspace() and not line.startswith("#"):
                    fields = line.split()
                    if len(fields) >= 8:
                        fields[4] = "n"
                        line = " ".join(fields)
                f.write(line + "\n")
        self.pfconf = conf
        for argv in (["set-permissions"], ["start"]):
            r = subprocess.run([POSTFIX, "-c", conf] + argv, capture_output=True,
                               timeout=60)
            self.assertEqual(r.returncode, 0, r.stderr.decode())
        self.addCleanup(self.stop_postfix)
        deadline = time.monotonic() + 20
        while True:
            try:
                smtplib.SMTP(HOST, self.smtp_port, timeout=5).quit()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        self.maillog = os.path.join(base, "maillog")

    def stop_postfix(self):
        subprocess.run([POSTFIX, "-c", self.pfconf, "stop"], capture_output=True,
                       timeout=60)

    def open_socket_dirs(self):
        """Let the postfix user reach the LMTP socket."""
        d = self.sockpath
        while True:
            d = os.path.dirname(d)
            os.chmod(d, os.stat(d).st_mode | 0o055)
            if d == self.inst.basedir:
                break
        os.chmod(os.path.dirname(self.inst.basedir),
                 os.stat(os.path.dirname(self.inst.basedir)).st_mode | 0o011)

    def send(self, rcpts, msg):
        s = smtplib.SMTP(HOST, self.smtp_port, timeout=30)
        refused = s.sendmail("sender@example.org", rcpts, msg)
        s.quit()
        return refused

    def wait_messages(self, user, n, timeout=60):
        deadline = time.monotonic() + timeout
        while True:
            got = self.messages(user)
            if len(got) >= n or time.monotonic() > deadline:
                return got
            time.sleep(0.5)

    def log_text(self):
        try:
            with open(self.maillog) as f:
                return f.read()
        except OSError:
            return ""

    def test_postfix_over_tcp_with_auth(self):
        self.start_lmtp(users=("fred", "bob"))
        port = self.inst.service("lmtp").port
        self.start_postfix("lmtp:inet:%s:%d" % (HOST, port), sasl=True)
        self.assertEqual(self.send(["fred@example.test", "bob@example.test"],
                                   message("via postfix tcp")), {})
        fred = self.wait_messages("fred", 1)
        self.assertEqual(len(fred), 1, self.log_text()[-2000:])
        self.assertIn(b"Subject: via postfix tcp", fred[0])
        self.assertIn(b"with LMTPA;", fred[0])
        self.assertEqual(len(self.wait_messages("bob", 1)), 1)

    def test_postfix_over_unix_socket(self):
        self.start_lmtp(users=("fred",))
        self.start_postfix("lmtp:unix:%s" % self.sockpath)
        self.assertEqual(self.send(["fred@example.test"],
                                   message("via postfix unix")), {})
        fred = self.wait_messages("fred", 1)
        self.assertEqual(len(fred), 1, self.log_text()[-2000:])
        self.assertIn(b"Return-Path: <sender@example.org>", fred[0])

    def test_postfix_bounces_unknown_user(self):
        self.start_lmtp(users=("fred",))
        self.start_postfix("lmtp:unix:%s" % self.sockpath)
        self.send(["nobody@example.test", "fred@example.test"], message("mixed"))
        self.assertEqual(len(self.wait_messages("fred", 1)), 1)
        deadline = time.monotonic() + 30
        while "status=bounced" not in self.log_text() and time.monotonic() < deadline:
            time.sleep(0.5)
        log = self.log_text()
        self.assertIn("550 5.1.1", log)
        self.assertIn("status=bounced", log)
