#!/usr/bin/python3
"""compare_capabilities.py -- measure CAPABILITY of our server, Debian's
Cyrus IMAP and Dovecot side by side (the data of doc/capabilities.md).

    cassandane-tests/sync/compare_capabilities.py --prefix P
        [--cyrus /usr/lib/cyrus/bin] [--dovecot-libexec DIR]

Our server and Cyrus run as cassandane instances with the reference
configuration plus a TLS certificate (so STARTTLS can show); Dovecot
runs from a temporary configuration on a free loopback port (plaintext
allowed, no TLS, any password) and is stopped afterwards.  Prints, per
server, the capabilities before and after LOGIN as JSON."""

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, HERE)

from cassandane import settings  # noqa: E402
from cassandane.instance import HOST, Instance, free_port  # noqa: E402

CONFIG = {"autocreate_quota": "0", "delete_mode": "immediate"}


def capabilities(port):
    """(before login, after login) capability lists of the server."""
    s = socket.create_connection((HOST, port), timeout=10)
    f = s.makefile("rb")

    def command(tag, text):
        s.sendall(("%s %s\r\n" % (tag, text)).encode())
        caps = None
        while True:
            line = f.readline().decode().rstrip("\r\n")
            if not line:
                raise RuntimeError("connection closed")
            if line.upper().startswith("* CAPABILITY "):
                caps = line.split()[2:]
            if line.startswith(tag + " "):
                return caps

    f.readline()
    before = command("c1", "CAPABILITY")
    s.sendall(b"l1 LOGIN fred secret\r\n")
    while True:
        line = f.readline()
        if line.startswith(b"l1 "):
            break
    if not line.startswith(b"l1 OK"):
        raise RuntimeError("LOGIN failed: %r" % line)
    after = command("c2", "CAPABILITY")
    command("z", "LOGOUT")
    s.close()
    return before, after


def measure_instance(libexec):
    settings.set_prefix(settings.PREFIX, libexec)
    inst = Instance(config=dict(CONFIG), tls=True, name="caps")
    inst.start()
    try:
        return capabilities(inst.service("imap").port)
    finally:
        inst.stop()
        inst.remove()


DOVECOT_CONF = """base_dir = {d}/run
state_dir = {d}/state
instance_name = caps-{port}
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
log_path = {d}/dovecot.log
first_valid_uid = 1
passdb {{
  driver = static
  args = nopassword=y
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={d}/mail/%u
}}
mail_location = maildir:~/Maildir
service imap-login {{
  executable = {x}/imap-login
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service imap {{
  executable = {x}/imap
}}
service imap-urlauth-login {{
  executable = {x}/imap-urlauth-login
}}
service imap-urlauth {{
  executable = {x}/imap-urlauth
}}
service imap-urlauth-worker {{
  executable = {x}/imap-urlauth-worker
}}
service imap-hibernate {{
  executable = {x}/imap-hibernate
}}
"""


def measure_dovecot(libexec):
    import pwd
    d = tempfile.mkdtemp(prefix="caps-dovecot-")
    os.chmod(d, 0o755)
    pw = pwd.getpwnam("dovecot")
    os.makedirs(os.path.join(d, "mail"))
    os.chown(os.path.join(d, "mail"), pw.pw_uid, pw.pw_gid)
    port = free_port()
    conf = os.path.join(d, "dovecot.conf")
    with open(conf, "w") as f:
        f.write(DOVECOT_CONF.format(d=d, port=port, x=libexec,
                                    uid=pw.pw_uid, gid=pw.pw_gid))
    subprocess.run(["dovecot", "-c", conf], check=True)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                return capabilities(port)
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
    finally:
        subprocess.run(["dovecot", "-c", conf, "stop"], check=False)
        time.sleep(0.5)
        shutil.rmtree(d, True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--prefix", default=settings.PREFIX)
    ap.add_argument("--cyrus", default="/usr/lib/cyrus/bin")
    ap.add_argument("--dovecot-libexec", default="/usr/lib/dovecot")
    args = ap.parse_args()
    settings.set_prefix(args.prefix)
    out = {"ours": measure_instance(os.path.join(settings.PREFIX, "libexec"))}
    if os.path.exists(os.path.join(args.cyrus, "imapd")):
        out["cyrus"] = measure_instance(args.cyrus)
    if shutil.which("dovecot") and os.path.exists(
            os.path.join(args.dovecot_libexec, "imap")):
        out["dovecot"] = measure_dovecot(args.dovecot_libexec)
    json.dump(out, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()
