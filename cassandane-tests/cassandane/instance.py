"""instance.py -- one throwaway server instance for a black-box test.

An Instance owns a fresh directory:

    BASE/conf/     imapd.conf, cyrus.conf, TLS certificate, sasldb
    BASE/config/   configdirectory
    BASE/spool/    partition-default
    BASE/run/      master's pid file
    BASE/master.log  master's stdout and stderr (with -D every child's too)

It picks free loopback ports, writes both configuration files in Cyrus 3.x
syntax, runs PREFIX/libexec/master in the foreground (-D) and waits until
every service listens.  stop() sends SIGTERM and insists that master goes
away; anything left over is killed so one test never leaks into the next.
When run as root the directory is handed to the `cyrus` user, because the
server drops to it.
"""

import atexit
import imaplib
import os
import pwd
import re
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time

from cassandane import settings
from cassandane.rawsession import RawSession

HOST = "127.0.0.1"
START_TIMEOUT = 20.0
STOP_TIMEOUT = 15.0

SANITIZER_PATTERNS = ("ERROR: AddressSanitizer", "runtime error:",
                      "ERROR: LeakSanitizer", "WARNING: AddressSanitizer")


class InstanceError(AssertionError):
    """The instance could not be started or stopped as required."""


def wait_for(cond, timeout, what, interval=0.05):
    """Poll cond() until it returns a true value; fail with `what`."""
    deadline = time.monotonic() + timeout
    while True:
        value = cond()
        if value:
            return value
        if time.monotonic() > deadline:
            raise InstanceError("timed out after %.1fs waiting for %s" % (timeout, what))
        time.sleep(interval)


def free_port():
    """A loopback TCP port nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def listening_ports():
    """Set of local TCP ports in LISTEN state (IPv4 and IPv6)."""
    ports = set()
    for path in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(path) as f:
                next(f)
                for line in f:
                    fields = line.split()
                    if fields[3] == "0A":
                        ports.add(int(fields[1].rsplit(":", 1)[1], 16))
        except OSError:
            pass
    return ports


def process_group_members(pgid):
    """Pids in process group `pgid`, except a process that leads it (after
    the group's leader exited, its pid may belong to someone else)."""
    out = []
    for name in os.listdir("/proc"):
        if not name.isdigit() or int(name) == pgid:
            continue
        try:
            with open("/proc/%s/stat" % name) as f:
                stat = f.read()
        except OSError:
            continue
        rest = stat[stat.rfind(")") + 2:].split()
        if int(rest[2]) == pgid and rest[0] != "Z":
            out.append(int(name))
    return out


def proc_table():
    """{pid: (ppid, state, argv)} for every process we can see."""
    table = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % name) as f:
                stat = f.read()
            with open("/proc/%s/cmdline" % name, "rb") as f:
                argv = [a.decode("utf-8", "replace")
                        for a in f.read().split(b"\0") if a]
        except OSError:
            continue
        # comm may contain spaces or parentheses: split after the last ')'.
        rest = stat[stat.rfind(")") + 2:].split()
        table[int(name)] = (int(rest[1]), rest[0], argv)
    return table


_cert_cache = None


def make_cert():
    """(cert, key) paths of a self-signed localhost certificate, made once
    per run with `openssl req`."""
    global _cert_cache
    if _cert_cache and all(os.path.exists(p) for p in _cert_cache):
        return _cert_cache
    d = tempfile.mkdtemp(prefix="cass-cert-", dir=settings.TMPDIR)
    cert, key = os.path.join(d, "server.crt"), os.path.join(d, "server.key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                    "-subj", "/CN=localhost", "-days", "30",
                    "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
                    "-keyout", key, "-out", cert],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _cert_cache = (cert, key)
    atexit.register(shutil.rmtree, d, True)
    return _cert_cache


class Service:
    """One SERVICES entry of cyrus.conf, listening on a loopback port."""

    def __init__(self, name, cmd, port=None, prefork=None, maxchild=None, **extra):
        self.name = name
        self.cmd = cmd
        self.port = port or free_port()
        self.prefork = prefork
        self.maxchild = maxchild
        self.extra = extra

    def conf_line(self):
        parts = ['%s cmd="%s" listen="%s:%d"' % (self.name, self.cmd, HOST, self.port)]
        if self.prefork is not None:
            parts.append("prefork=%d" % self.prefork)
        if self.maxchild is not None:
            parts.append("maxchild=%d" % self.maxchild)
        for k, v in sorted(self.extra.items()):
            parts.append('%s="%s"' % (k, v) if isinstance(v, str) else "%s=%s" % (k, v))
        return " ".join(parts)


class Instance:
    """A server instance in its own directory.  Typical use:

        inst = Instance(tls=True, config={"allowplaintext": "no"})
        inst.start()
        imap = inst.imap()
        ...
        inst.stop()
    """

    def __init__(self, config=None, tls=False, services=None, prefork=1,
                 sasl_users=None, name="inst"):
        self.basedir = tempfile.mkdtemp(prefix="cass-%s-" % name, dir=settings.TMPDIR)
        self.confdir = os.path.join(self.basedir, "conf")
        self.configdirectory = os.path.join(self.basedir, "config")
        self.spooldir = os.path.join(self.basedir, "spool")
        self.rundir = os.path.join(self.basedir, "run")
        for d in (self.confdir, self.configdirectory, self.spooldir, self.rundir):
            os.mkdir(d)
        self.imapd_conf = os.path.join(self.confdir, "imapd.conf")
        self.cyrus_conf = os.path.join(self.confdir, "cyrus.conf")
        self.pidfile = os.path.join(self.rundir, "master.pid")
        self.logfile = os.path.join(self.basedir, "master.log")
        self.tls = tls
        self.cert = self.key = None
        if tls:
            cert, key = make_cert()
            self.cert = os.path.join(self.confdir, "server.crt")
            self.key = os.path.join(self.confdir, "server.key")
            shutil.copy(cert, self.cert)
            shutil.copy(key, self.key)

        self.config = {
            "configdirectory": self.configdirectory,
            "partition-default": self.spooldir,
            "admins": "admin",
            "allowplaintext": "yes",
            "sasl_pwcheck_method": "alwaystrue",
            "sasl_mech_list": "PLAIN LOGIN",
            "syslog_prefix": "cass-" + os.path.basename(self.basedir),
            "master_pid_file": self.pidfile,
            "altnamespace": "yes",
            "unixhierarchysep": "yes",
            "servername": socket.gethostname(),
        }
        if tls:
            self.config["tls_server_cert"] = self.cert
            self.config["tls_server_key"] = self.key
        self.sasldb = None
        if sasl_users:
            self.sasldb = os.path.join(self.confdir, "sasldb2")
            for user, password in sasl_users.items():
                self.add_sasl_user(user, password)
            self.config.update({
                "sasl_pwcheck_method": "auxprop",
                "sasl_auxprop_plugin": "sasldb",
                "sasl_sasldb_path": self.sasldb,
            })
        self.config.update(config or {})

        # Raw lines appended to imapd.conf after the options (for bad input).
        self.extra_imapd_conf = []
        self.start_entries = []
        self.event_entries = []
        self.daemon_entries = []
        self.services = []
        if services is None:
            self.add_service("imap", "imapd -C %s" % self.imapd_conf, prefork=prefork)
            if tls:
                self.add_service("imaps", "imapd -s -C %s" % self.imapd_conf,
                                 prefork=prefork)
        else:
            self.services.extend(services)

        self.proc = None
        self.stopped = False
        self.logf = None

    # --- configuration ------------------------------------------------------

    def add_service(self, name, cmd=None, **kw):
        """Add a SERVICES entry; returns the Service (its port is chosen)."""
        svc = Service(name, cmd or "imapd -C %s" % self.imapd_conf, **kw)
        self.services.append(svc)
        return svc

    def remove_service(self, name):
        self.services = [s for s in self.services if s.name != name]

    def service(self, name="imap"):
        for s in self.services:
            if s.name == name:
                return s
        raise KeyError(name)

    def add_start(self, name, cmd):
        self.start_entries.append('%s cmd="%s"' % (name, cmd))

    def add_event(self, name, cmd, **kw):
        args = " ".join("%s=%s" % kv for kv in sorted(kw.items()))
        self.event_entries.append(('%s cmd="%s" %s' % (name, cmd, args)).strip())

    def add_sasl_user(self, user, password):
        """Put `user` in the instance's sasldb, in every realm the server
        might use by default (short and fully qualified host name)."""
        if self.sasldb is None:
            self.sasldb = os.path.join(self.confdir, "sasldb2")
        realms = {socket.gethostname(), socket.getfqdn()}
        for realm in sorted(realms):
            r = subprocess.run(["saslpasswd2", "-p", "-c", "-f", self.sasldb,
                                "-u", realm, user],
                               input=password.encode(), capture_output=True)
            if r.returncode != 0:
                raise InstanceError("saslpasswd2 failed: %s" % r.stderr.decode())
        self._fix_owner()

    def write_config(self):
        """(Re)write imapd.conf and cyrus.conf from the current settings."""
        with open(self.imapd_conf, "w") as f:
            for k, v in self.config.items():
                if v is not None:
                    f.write("%s: %s\n" % (k, v))
            for line in self.extra_imapd_conf:
                f.write(line + "\n")
        with open(self.cyrus_conf, "w") as f:
            f.write(self.cyrus_conf_text())
        self._fix_owner()

    def cyrus_conf_text(self):
        start = ['recover cmd="%s -r -C %s"' % (settings.program("ctl_cyrusdb"),
                                                self.imapd_conf)]
        start += self.start_entries
        sections = [("START", start),
                    ("SERVICES", [s.conf_line() for s in self.services]),
                    ("EVENTS", self.event_entries),
                    ("DAEMON", self.daemon_entries)]
        out = []
        for name, entries in sections:
            if not entries and name in ("EVENTS", "DAEMON"):
                continue
            out.append("%s {" % name)
            out.extend("  " + e for e in entries)
            out.append("}")
            out.append("")
        return "\n".join(out)

    def write_file(self, name, text, mode=0o644):
        """Write a helper file (script, marker) in the instance directory,
        owned by the server's user; returns its path."""
        path = os.path.join(self.basedir, name)
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, mode)
        self._fix_owner()
        return path

    def _fix_owner(self):
        if os.geteuid() != 0:
            return
        pw = pwd.getpwnam("cyrus")
        for root, dirs, files in os.walk(self.basedir):
            os.chown(root, pw.pw_uid, pw.pw_gid)
            for n in files:
                os.chown(os.path.join(root, n), pw.pw_uid, pw.pw_gid)

    # --- running ------------------------------------------------------------

    @staticmethod
    def environment():
        env = dict(os.environ)
        # Sanitizer reports must be impossible to miss: abort the process,
        # print to stderr (which is master.log).  Leak checking is off: a
        # forked service exits with its session's memory still in use by
        # design, and LeakSanitizer cannot run after the privilege drop.
        env["ASAN_OPTIONS"] = os.environ.get(
            "CASSANDANE_ASAN_OPTIONS", "detect_leaks=0:halt_on_error=1:abort_on_error=1")
        env["UBSAN_OPTIONS"] = os.environ.get(
            "CASSANDANE_UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1")
        return env

    def master_argv(self, cyrus_conf=None, pidfile=None):
        return [settings.program("master"), "-C", self.imapd_conf,
                "-M", cyrus_conf or self.cyrus_conf,
                "-p", pidfile or self.pidfile, "-D"]

    def spawn(self):
        """Write the configuration and start master without waiting."""
        self.write_config()
        self.stopped = False
        self.logf = open(self.logfile, "ab")
        self.proc = subprocess.Popen(self.master_argv(), stdin=subprocess.DEVNULL,
                                     stdout=self.logf, stderr=subprocess.STDOUT,
                                     env=self.environment(), cwd=self.basedir,
                                     start_new_session=True)
        return self.proc

    def start(self, timeout=START_TIMEOUT):
        """Start master and wait until every service listens."""
        self.spawn()
        ports = {s.port for s in self.services}
        self.wait(lambda: ports <= listening_ports(), timeout,
                  "services to listen on ports %s" % sorted(ports))
        return self

    def wait(self, cond, timeout, what):
        """wait_for() that also fails at once if master died, showing the log."""
        def check():
            if self.proc is not None and self.proc.poll() is not None:
                raise InstanceError("master exited with status %s while waiting for "
                                    "%s; log tail:\n%s"
                                    % (self.proc.returncode, what, self.log_tail()))
            return cond()
        try:
            return wait_for(check, timeout, what)
        except InstanceError as e:
            if "log tail" in str(e):
                raise
            raise InstanceError("%s; log tail:\n%s" % (e, self.log_tail()))

    def is_running(self):
        return self.proc is not None and self.proc.poll() is None

    def signal_master(self, sig):
        self.proc.send_signal(sig)

    def stop(self, timeout=STOP_TIMEOUT):
        """SIGTERM master and wait; SIGKILL and fail if it does not exit."""
        if self.proc is None or self.stopped:
            return
        self.stopped = True
        failed = None
        # Only a live master's pid is surely still ours to look under.
        descendants = self.descendants() if self.proc.poll() is None else []
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                failed = "master did not exit within %.0fs of SIGTERM" % timeout
        self.reap(descendants)
        if self.logf:
            self.logf.close()
            self.logf = None
        if failed:
            raise InstanceError("%s; log tail:\n%s" % (failed, self.log_tail()))

    def reap(self, pids, grace=5.0):
        """Give processes that outlived master a moment, then kill them."""
        deadline = time.monotonic() + grace
        alive = list(pids)
        while alive and time.monotonic() < deadline:
            table = proc_table()
            alive = [p for p in alive if p in table and table[p][1] != "Z"]
            if alive:
                time.sleep(0.05)
        # master runs in its own session (start_new_session), so stragglers
        # forked after the snapshot are still in its process group.
        for p in set(alive) | set(process_group_members(self.proc.pid)):
            try:
                os.kill(p, signal.SIGKILL)
            except OSError:
                pass
        return alive

    def run_master(self, timeout=10.0, cyrus_conf=None, pidfile=None):
        """Run master synchronously (for configurations it must refuse).

        Returns (exit status, output), or (None, output) if it was still
        running after `timeout` seconds (it is then killed)."""
        self.write_config()
        p = subprocess.Popen(self.master_argv(cyrus_conf, pidfile),
                             stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, env=self.environment(),
                             cwd=self.basedir, start_new_session=True)
        try:
            out, _ = p.communicate(timeout=timeout)
            rc = p.returncode
        except subprocess.TimeoutExpired:
            kids = self.descendants(p.pid)
            p.send_signal(signal.SIGTERM)
            try:
                out, _ = p.communicate(timeout=5)
            except subprocess.TimeoutExpired:
                p.kill()
                out, _ = p.communicate()
            for k in kids:
                try:
                    os.kill(k, signal.SIGKILL)
                except OSError:
                    pass
            rc = None
        text = out.decode("utf-8", "replace")
        with open(self.logfile, "a") as f:
            f.write(text)
        return rc, text

    # --- processes ----------------------------------------------------------

    def children(self, prog=None, args_contain=None, pid=None):
        """Pids of live direct children of master, optionally only those
        running program `prog` (basename of argv[0]) whose arguments
        include `args_contain`."""
        pid = pid or self.proc.pid
        out = []
        for p, (ppid, state, argv) in proc_table().items():
            if ppid != pid or state == "Z":
                continue
            if prog and (not argv or os.path.basename(argv[0]) != prog):
                continue
            if args_contain and args_contain not in argv:
                continue
            out.append(p)
        return sorted(out)

    def descendants(self, pid=None):
        pid = pid or (self.proc.pid if self.proc else None)
        if pid is None:
            return []
        table = proc_table()
        kids = {}
        for p, (ppid, _, _) in table.items():
            kids.setdefault(ppid, []).append(p)
        out, todo = [], [pid]
        while todo:
            for c in kids.get(todo.pop(), []):
                out.append(c)
                todo.append(c)
        return out

    # --- logs ---------------------------------------------------------------

    def log(self):
        try:
            with open(self.logfile, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def log_tail(self, n=40):
        lines = self.log().splitlines()
        return "\n".join("  | " + l for l in lines[-n:]) or "  | (empty log)"

    def sanitizer_errors(self):
        return [l for l in self.log().splitlines()
                if any(p in l for p in SANITIZER_PATTERNS)]

    def wait_log(self, pattern, timeout=10.0):
        """Wait until a log line matches the regular expression; return it."""
        rx = re.compile(pattern)

        def found():
            for l in self.log().splitlines():
                if rx.search(l):
                    return l
            return None
        return wait_for(found, timeout, "log line matching %r; log tail:\n%s"
                        % (pattern, self.log_tail()))

    # --- clients ------------------------------------------------------------

    def ssl_context(self):
        """Client TLS context trusting the instance's certificate."""
        ctx = ssl.create_default_context(cafile=self.cert or make_cert()[0])
        return ctx

    def imap(self, service="imap", timeout=10):
        """An imaplib client (plain IMAP) connected to `service`."""
        return imaplib.IMAP4(HOST, self.service(service).port, timeout=timeout)

    def imaps(self, service="imaps", timeout=10):
        """An imaplib client over implicit TLS."""
        return imaplib.IMAP4_SSL(HOST, self.service(service).port,
                                 ssl_context=self.ssl_context(), timeout=timeout)

    def raw(self, service="imap", tls=False, timeout=10.0):
        """A RawSession to `service`; tls=True for implicit TLS."""
        return RawSession(HOST, self.service(service).port, timeout=timeout,
                          tls_context=self.ssl_context() if tls else None)

    # --- cleanup ------------------------------------------------------------

    def remove(self):
        shutil.rmtree(self.basedir, ignore_errors=True)
