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


# Why a capability is where it is: "deliberate: ..." or "gap: ...".
# Only differences are annotated; "?" marks one nobody has explained yet.
NOTES = {
    "IMAP4REV2": "deliberate: RFC 9051 served alongside IMAP4rev1 (ENABLE IMAP4rev2)",
    "STARTTLS": "Dovecot measured without TLS configured",
    "AUTH=PLAIN": "pre-login only, as RFC 3501 6.2.2 suggests",
    "AUTH=LOGIN": "pre-login only",
    "SASL-IR": "deliberate: pre-login only, where AUTHENTICATE can be used",
    "LOGINDISABLED": "Cyrus-only quirk after login; LOGIN is refused there anyway",
    "LOGIN-REFERRALS": "deliberate: no proxy/murder referrals",
    "MAILBOX-REFERRALS": "deliberate: no Cyrus murder",
    "ANNOTATE-EXPERIMENT-1": "deliberate: expired draft, superseded by METADATA",
    "METADATA-SERVER": "deliberate: implied by METADATA, stated for clients that look for it",
    "UNAUTHENTICATE": "deliberate: RFC 8437",
    "UTF8=ACCEPT": "deliberate: RFC 6855 (with IMAP4rev2)",
    "QUOTA=RES-STORAGE": "deliberate: RFC 9208 names for the resources",
    "QUOTA=RES-MESSAGE": "deliberate: RFC 9208 names for the resources",
    "X-QUOTA=STORAGE": "deliberate: Cyrus's pre-RFC 9208 names; ours are QUOTA=RES-*",
    "X-QUOTA=MESSAGE": "deliberate: see X-QUOTA=STORAGE",
    "X-QUOTA=X-ANNOTATION-STORAGE": "gap: resource is counted but not advertised",
    "X-QUOTA=X-NUM-FOLDERS": "gap: resource is counted but not advertised",
    "APPENDLIMIT=4294967295": "RFC 7889: maxmessagesize, or the 4 GB IMAP bound when unset, as Cyrus",
    "URLAUTH=BINARY": "RFC 5524; BODYPARTSTRUCTURE describes the part as sent, decoded for BINARY, as Dovecot",
    "URL-PARTIAL": "gap: RFC 5550",
    "CONTEXT=SEARCH": "RFC 5267 PARTIAL, UPDATE, CANCELUPDATE (and RFC 9394 negative ranges); Cyrus 3.6 has none",
    "CONTEXT=SORT": "RFC 5267 sorted update contexts with positions; Dovecot offers CONTEXT=SEARCH only",
    "NOTIFY": "RFC 5465, as Dovecot; Cyrus 3.6 lacks it",
    "I18NLEVEL=1": "RFC 5255 level 1: i;unicode-casemap in SEARCH, SORT and THREAD, as Dovecot",
    "PREVIEW": "RFC 8970; Cyrus 3.6 answers NIL without a search index, we always make one",
    "PREVIEW=FUZZY": "gap: pre-RFC form of PREVIEW",
    "SNIPPET=FUZZY": "gap: pre-RFC form of PREVIEW",
    "SAVEDATE": "RFC 8514, as Cyrus",
    "SEARCH=FUZZY": "deliberate for now: needs a full-text index (Cyrus uses Xapian)",
    "THREAD=REFS": "as Cyrus: REFERENCES without subject grouping, threads by their newest arrival",
    "SORT=MODSEQ": "Cyrus extension, as Cyrus",
    "SORT=UID": "Cyrus extension, as Cyrus",
    "DIGEST=SHA1": "gap: Cyrus extension (FETCH DIGEST.SHA1)",
    "LIST-METADATA": "RFC 9590, as Cyrus",
    "NO_ATOMIC_RENAME": "Cyrus-specific warning that its RENAME is not atomic; not copied",
    "SCAN": "gap: Cyrus extension (LIST with a search string)",
    "X-CREATEDMODSEQ": "gap: Cyrus extension",
    "X-REPLICATION": "deliberate: replication has its own sync protocol",
    "X-SIEVE-MAILBOX": "gap: Cyrus extension",
    "XLIST": "deliberate: obsolete Gmail form of SPECIAL-USE",
    "XMOVE": "deliberate: Cyrus murder",
    "ACL": "Dovecot: needs the acl plugins (not in Debian's defaults)",
    "RIGHTS=KXTEN": "with ACL (RFC 4314)",
    "LIST-MYRIGHTS": "RFC 8440, as Cyrus",
    "QUOTA": "Dovecot: needs the quota plugins",
    "COMPRESS=DEFLATE": "Dovecot: needs the imap_zlib plugin",
    "METADATA": "Dovecot: off unless imap_metadata = yes",
    "SPECIAL-USE": "Dovecot: only once special_use mailboxes are configured",
    "CREATE-SPECIAL-USE": "RFC 6154 CREATE (USE ...), as Cyrus",
    "OBJECTID": "RFC 8474, as Cyrus; Dovecot 2.3 lacks it",
    "URLAUTH": "Dovecot: only with imap_urlauth_host configured",
    "SEARCHRES": "RFC 5182, as Dovecot; Cyrus 3.6 lacks it",
}

SERVERS = (("ours", "ours"), ("cyrus", "Cyrus 3.6"), ("dovecot", "Dovecot 2.3"))
BEGIN = "<!-- capability table: begin (generated by compare_capabilities.py) -->"
END = "<!-- capability table: end -->"


def cell(caps, cap):
    before, after = caps
    b = cap in [c.upper() for c in before]
    a = cap in [c.upper() for c in after]
    return {(True, True): "both", (True, False): "pre", (False, True): "post",
            (False, False): ""}[(b, a)]


def markdown(data):
    names = sorted({c.upper() for caps in data.values() for side in caps
                    for c in side})
    cols = [(k, label) for k, label in SERVERS if k in data]
    lines = ["| capability | " + " | ".join(l for _, l in cols) + " | note |",
             "|---|" + "---|" * len(cols) + "---|"]
    for cap in names:
        cells = [cell(data[k], cap) for k, _ in cols]
        post = {c in ("post", "both") for c in cells}
        if len(post) > 1:
            note = NOTES.get(cap, "?")
        elif len(set(cells)) > 1:
            note = NOTES.get(cap, "differs only in being listed before login")
        else:
            note = ""
        lines.append("| %s | %s | %s |" % (cap, " | ".join(cells), note))
    return "\n".join(lines)


def write_table(path, data):
    with open(path) as f:
        text = f.read()
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    with open(path, "w") as f:
        f.write(head + BEGIN + "\n" + markdown(data) + "\n" + END + tail)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--prefix", default=settings.PREFIX)
    ap.add_argument("--cyrus", default="/usr/lib/cyrus/bin")
    ap.add_argument("--dovecot-libexec", default="/usr/lib/dovecot")
    ap.add_argument("--write", metavar="FILE")
    args = ap.parse_args()
    settings.set_prefix(args.prefix)
    out = {"ours": measure_instance(os.path.join(settings.PREFIX, "libexec"))}
    if os.path.exists(os.path.join(args.cyrus, "imapd")):
        out["cyrus"] = measure_instance(args.cyrus)
    if shutil.which("dovecot") and os.path.exists(
            os.path.join(args.dovecot_libexec, "imap")):
        out["dovecot"] = measure_dovecot(args.dovecot_libexec)
    if args.write:
        write_table(args.write, out)
    else:
        json.dump(out, sys.stdout, indent=1)
        print()


if __name__ == "__main__":
    main()
