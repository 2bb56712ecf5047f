"""benchlib -- fresh server instances for the benchmarks in bench/.

Our server and Debian's Cyrus IMAP 3.6 (class CyrusLike, the same
imapd.conf and cyrus.conf for both) and Dovecot 2.3 (class Dovecot,
Maildir), each in its own directory under /tmp on free loopback ports,
with their durable defaults.  Used by bench/lmtp/lmtp-bench and
bench/imap/imap-bench; `tag` names the directories (/tmp/TAG-NAME-*) and
the syslog prefix.
"""

import imaplib
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time

HOST = "127.0.0.1"
CYRUS_LIBEXEC = "/usr/lib/cyrus/bin"


def free_port():
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def wait_port(port, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((HOST, port), timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("nothing listens on port %d" % port)


def chown_tree(path, user):
    if os.geteuid() != 0:
        return
    pw = pwd.getpwnam(user)
    for root, dirs, files in os.walk(path):
        os.chown(root, pw.pw_uid, pw.pw_gid)
        for n in files:
            os.chown(os.path.join(root, n), pw.pw_uid, pw.pw_gid)


def stop_server(srv, keep):
    """Stop a server's master (process group) and queue its directory for
    removal unless `keep`."""
    if srv.proc and srv.proc.poll() is None:
        srv.proc.send_signal(signal.SIGTERM)
        try:
            srv.proc.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(srv.proc.pid, signal.SIGKILL)
            srv.proc.wait()
    if not keep:
        remove_later(srv.base)


class CyrusLike:
    """Our server or Debian's Cyrus: same configuration files."""

    def __init__(self, name, libexec, sessions, extra_conf=None,
                 tag="lmtp-bench"):
        self.name = name
        self.libexec = libexec
        self.tag = tag
        self.base = tempfile.mkdtemp(prefix="%s-%s-" % (tag, name))
        self.imap_port, self.lmtp_port = free_port(), free_port()
        self.sessions = sessions
        self.extra_conf = extra_conf or {}
        self.proc = None
        self.debug = False

    def prog(self, name):
        return os.path.join(self.libexec, name)

    def start(self):
        b = self.base
        for d in ("conf", "config", "config/socket", "spool", "run"):
            os.makedirs(os.path.join(b, d), exist_ok=True)
        self.imapd_conf = os.path.join(b, "conf", "imapd.conf")
        conf = {
            "configdirectory": os.path.join(b, "config"),
            "partition-default": os.path.join(b, "spool"),
            "admins": "admin",
            "allowplaintext": "yes",
            "sasl_pwcheck_method": "alwaystrue",
            "sasl_mech_list": "PLAIN LOGIN",
            "altnamespace": "yes",
            "unixhierarchysep": "yes",
            "autocreate_quota": "0",
            "delete_mode": "immediate",
            "syslog_prefix": self.tag + "-" + self.name,
            "lmtpsocket": os.path.join(b, "config", "socket", "lmtp"),
        }
        conf.update(self.extra_conf)
        with open(self.imapd_conf, "w") as f:
            for k, v in conf.items():
                f.write("%s: %s\n" % (k, v))
        cyrus_conf = os.path.join(b, "conf", "cyrus.conf")
        with open(cyrus_conf, "w") as f:
            f.write('START {\n  recover cmd="%s -r -C %s"\n}\n'
                    % (self.prog("ctl_cyrusdb"), self.imapd_conf))
            f.write("SERVICES {\n")
            f.write('  imap cmd="%s -C %s" listen="%s:%d" prefork=1\n'
                    % (self.prog("imapd"), self.imapd_conf, HOST, self.imap_port))
            f.write('  lmtp cmd="%s -a -C %s" listen="%s:%d" prefork=%d\n'
                    % (self.prog("lmtpd"), self.imapd_conf, HOST, self.lmtp_port,
                       self.sessions))
            f.write("}\n")
        chown_tree(b, "cyrus")
        self.log = open(os.path.join(b, "master.log"), "ab")
        self.proc = subprocess.Popen(
            [self.prog("master"), "-C", self.imapd_conf, "-M", cyrus_conf,
             "-p", os.path.join(b, "run", "master.pid")] +
            (["-D"] if self.debug else []),
            stdout=self.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            cwd=b, start_new_session=True,
            env=dict(os.environ, ASAN_OPTIONS="detect_leaks=0"))
        wait_port(self.imap_port)
        wait_port(self.lmtp_port)
        m = imaplib.IMAP4(HOST, self.imap_port)
        m.login("admin", "x")
        typ, data = m.create("user/bench")
        if typ != "OK":
            raise RuntimeError("%s: cannot create user/bench: %s" % (self.name, data))
        m.logout()
        # Let prefork fill up before the clock starts.
        time.sleep(1.0)

    def count(self, user="bench"):
        m = imaplib.IMAP4(HOST, self.imap_port)
        m.login(user, "x")
        typ, data = m.status("INBOX", "(MESSAGES)")
        m.logout()
        if typ != "OK":
            raise RuntimeError("%s: STATUS failed: %s" % (self.name, data))
        return int(re.search(rb"MESSAGES (\d+)", data[0]).group(1))

    def message_ids(self, user="bench"):
        m = imaplib.IMAP4(HOST, self.imap_port)
        m.login(user, "x")
        m.select("INBOX", readonly=True)
        typ, data = m.fetch("1:*", "(BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])")
        m.logout()
        ids = set()
        for d in data:
            if isinstance(d, tuple):
                v = d[1].decode().split(":", 1)
                if len(v) == 2:
                    ids.add(v[1].strip())
        return ids

    def lmtpd_pids(self):
        out = []
        for p in os.listdir("/proc"):
            if not p.isdigit():
                continue
            try:
                with open("/proc/%s/stat" % p) as f:
                    stat = f.read()
                with open("/proc/%s/cmdline" % p, "rb") as f:
                    argv = f.read().split(b"\0")
            except OSError:
                continue
            ppid = int(stat[stat.rfind(")") + 2:].split()[1])
            if ppid == self.proc.pid and argv and argv[0].endswith(b"lmtpd"):
                out.append(int(p))
        return out

    def stop(self, keep=False):
        stop_server(self, keep)


class Dovecot:
    """Dovecot 2.3, Maildir, mail_fsync = always.  With imap=True it also
    serves IMAP on imap_port (plaintext logins allowed, and up to 1000
    connections of one user from one address instead of 10)."""

    IMAP_PROGRAMS = ("imap", "imap-login", "imap-hibernate", "imap-urlauth",
                     "imap-urlauth-login", "imap-urlauth-worker")

    def __init__(self, sessions, tag="lmtp-bench", imap=False, imap_dir=None):
        self.name = "dovecot"
        self.base = tempfile.mkdtemp(prefix="%s-dovecot-" % tag)
        self.lmtp_port = free_port()
        self.imap = imap
        self.imap_port = free_port() if imap else None
        # Where dovecot-imapd's programs are, if not in /usr/lib/dovecot.
        self.imap_dir = imap_dir
        self.sessions = sessions
        self.proc = None

    def start(self):
        b = self.base
        for d in ("run", "state", "mail"):
            os.makedirs(os.path.join(b, d), exist_ok=True)
        os.chmod(b, 0o755)
        chown_tree(os.path.join(b, "mail"), "nobody")
        pw = pwd.getpwnam("nobody")
        conf = os.path.join(b, "dovecot.conf")
        with open(conf, "w") as f:
            f.write("""
base_dir = {b}/run
state_dir = {b}/state
log_path = {b}/dovecot.log
protocols = {protocols}
ssl = no
listen = {host}
mail_location = maildir:{b}/mail/%n
mail_fsync = always
first_valid_uid = 1
default_internal_user = dovecot
default_login_user = dovenull
passdb {{
  driver = static
  args = nopassword=y
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={b}/mail/%n
}}
service lmtp {{
  process_min_avail = {n}
  inet_listener lmtp {{
    address = {host}
    port = {port}
  }}
}}
""".format(b=b, host=HOST, port=self.lmtp_port, uid=pw.pw_uid,
                gid=pw.pw_gid, n=self.sessions,
                protocols="lmtp imap" if self.imap else "lmtp"))
            if self.imap:
                f.write("""
disable_plaintext_auth = no
protocol imap {{
  mail_max_userip_connections = 1000
}}
service imap-login {{
  {login_exe}
  inet_listener imap {{
    address = {host}
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
""".format(host=HOST, port=self.imap_port, login_exe=(
                    "executable = %s/imap-login" % self.imap_dir
                    if self.imap_dir else "")))
                if self.imap_dir:
                    for prog in self.IMAP_PROGRAMS:
                        if prog != "imap-login":
                            f.write("service %s {\n  executable = %s/%s\n}\n"
                                    % (prog, self.imap_dir, prog))
        self.proc = subprocess.Popen(["dovecot", "-F", "-c", conf],
                                     stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL,
                                     stderr=subprocess.STDOUT,
                                     start_new_session=True)
        wait_port(self.lmtp_port)
        if self.imap:
            wait_port(self.imap_port)
        time.sleep(1.0)

    def count(self, user="bench"):
        n = 0
        for sub in ("new", "cur"):
            d = os.path.join(self.base, "mail", user, sub)
            if os.path.isdir(d):
                n += len(os.listdir(d))
        return n

    def stop(self, keep=False):
        stop_server(self, keep)


# Server directories are removed when the whole run is over, not between
# rounds: ext4 without a journal (this machine's /tmp) will not reuse an
# inode freed in the last minute (six, while its inode table block is
# unwritten), and every file created meanwhile pays for skipping each
# such inode -- 100 to 250 us a file after a few thousand deletions,
# against 19 us otherwise, which would slow whichever server ran next.
# The sync at the end shortens the window for the next run to a minute.
_to_remove = []


def remove_later(path):
    _to_remove.append(path)


def remove_now():
    for path in _to_remove:
        shutil.rmtree(path, ignore_errors=True)
    del _to_remove[:]
    os.sync()
