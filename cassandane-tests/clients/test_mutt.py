"""mutt, driven through a detached tmux session, reading and changing an
INBOX over IMAP: opening a message sets \\Seen, F sets \\Flagged, s copies a
message to another folder, d and $ expunge, and the server agrees with
all of it afterwards."""

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from clienttest import ClientTestCase  # noqa: E402

# No prompts: nothing to confirm, nothing cached locally, nothing moved to
# an mbox, and an index line that is easy to find in the captured screen
# ("IDX <n> [<flags>] <subject>"; the cursor line starts with "->").
RC = """\
set folder="imap://fred@127.0.0.1:{port}/"
set spoolfile="+INBOX"
set imap_user="fred"
set imap_pass="secret"
set imap_authenticators="login"
set imap_passive=yes
set imap_check_subscribed=no
set ssl_starttls=no
set ssl_force_tls=no
set mail_check=60
set timeout=600
set confirmappend=no
set confirmcreate=no
set delete=yes
set move=no
set quit=yes
set beep=no
set wait_key=no
set mark_old=no
set resolve=no
set arrow_cursor=yes
set help=no
set sort=date
set header_cache=""
set message_cachedir=""
set record=""
set postponed="{tmp}/postponed"
set mbox="{tmp}/mbox"
set index_format="IDX %4C [%Z] %s"
set status_format="STATUS %f msgs=%m del=%d flag=%F"
"""

SUBJECTS = ["mutt one", "mutt two", "mutt three"]
TIMEOUT = 60


def message(n, subject):
    return ("From: sender@example.com\r\nTo: fred@example.com\r\n"
            "Date: Mon, 0%d Jan 2024 10:00:00 +0000\r\n"
            "Subject: %s\r\nMessage-ID: <mutt%d@example.com>\r\n\r\n"
            "Body of message number %d.\r\n" % (n, subject, n, n)).encode()


class MuttTest(ClientTestCase):
    def setUp(self):
        super().setUp()
        self.need("mutt")
        self.need("tmux")
        self.sock = None

    def tearDown(self):
        # mutt goes first, so the server is not stopped under a live client.
        self.stop_tmux()
        super().tearDown()

    # -- tmux plumbing ---------------------------------------------------

    def tmux(self, *args, check=True):
        r = subprocess.run(["tmux", "-S", self.sock] + list(args),
                           capture_output=True, text=True, timeout=30)
        if check:
            self.assertEqual(r.returncode, 0, "tmux %s: %s" % (args, r.stderr))
        return r

    def screen(self):
        r = self.tmux("capture-pane", "-p", "-t", "mutt", check=False)
        return r.stdout if r.returncode == 0 else ""

    def wait_screen(self, pred, what, timeout=TIMEOUT):
        """Poll the screen until pred(text) holds; fail with the screen."""
        deadline = time.monotonic() + timeout
        text = ""
        while time.monotonic() < deadline:
            text = self.screen()
            if pred(text):
                return text
            time.sleep(0.1)
        self.fail("timed out waiting for %s; screen:\n%s\nmaster log tail:\n%s"
                  % (what, text, self.inst.log_tail(30)))

    def wait_text(self, needle, timeout=TIMEOUT):
        return self.wait_screen(lambda t: needle in t, repr(needle), timeout)

    def keys(self, *keys):
        self.tmux("send-keys", "-t", "mutt", *keys)

    def index_lines(self, text):
        """{subject: (is_cursor, flags)} of the index lines on screen."""
        out = {}
        for line in text.splitlines():
            m = re.match(r"^(->|  )?\s*IDX\s+(\d+) \[(.*?)\] (.*?)\s*$", line)
            if m:
                out[m.group(4)] = (m.group(1) == "->", m.group(3))
        return out

    def wait_index(self, pred, what):
        return self.wait_screen(lambda t: pred(self.index_lines(t)), what)

    def goto(self, n, subject):
        """Jump to message number n and wait for the cursor to be there."""
        self.keys(str(n))
        self.wait_text("Jump to message:")
        self.keys("Enter")
        self.wait_index(lambda ix: ix.get(subject, (False,))[0],
                        "cursor on %r" % subject)

    def stop_tmux(self):
        if self.sock is None:
            return
        if os.path.exists(self.sock):
            self.tmux("kill-server", check=False)
        shutil.rmtree(self.tmpdir, ignore_errors=True)
        self.sock = None

    # -- server side -----------------------------------------------------

    def server(self, folder):
        """{subject: set of flags} of a server folder (without \\Recent)."""
        c = self.login("fred")
        typ, data = c.select(folder, readonly=True)
        self.assertEqual(typ, "OK", data)
        out = {}
        if int(data[0]) > 0:
            typ, data = c.fetch("1:*", "(FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
            self.assertEqual(typ, "OK", data)
            for item in data:
                if not isinstance(item, tuple):
                    continue
                flags = set(re.search(rb"FLAGS \(([^)]*)\)", item[0])
                            .group(1).decode().split())
                flags.discard("\\Recent")
                subj = re.search(rb"Subject: (.*)\r\n", item[1]).group(1).decode()
                out[subj] = flags
        c.logout()
        return out

    # -- the test ----------------------------------------------------------

    def test_read_flag_save_delete(self):
        self.start()
        c = self.login("fred")
        for i, s in enumerate(SUBJECTS, 1):
            typ, data = c.append("INBOX", None, None, message(i, s))
            self.assertEqual(typ, "OK", data)
        typ, data = c.create("Archive")
        self.assertEqual(typ, "OK", data)
        c.logout()

        # A short private directory: the tmux socket path must fit in
        # sun_path, which a deep instance directory might not.
        self.tmpdir = tempfile.mkdtemp(prefix="mutt-")
        self.sock = os.path.join(self.tmpdir, "tmux.sock")
        rc = os.path.join(self.tmpdir, "muttrc")
        with open(rc, "w") as f:
            f.write(RC.format(port=self.port, tmp=self.tmpdir))
        env = dict(os.environ, HOME=self.tmpdir, TERM="xterm", LANG="C.UTF-8",
                   LC_ALL="C.UTF-8")
        env.pop("TMUX", None)
        r = subprocess.run(["tmux", "-S", self.sock, "-f", "/dev/null",
                            "new-session", "-d", "-s", "mutt", "-x", "200",
                            "-y", "50", "mutt -n -F %s; sleep 600" % rc],
                           env=env, capture_output=True, text=True, timeout=30,
                           cwd=self.tmpdir)
        self.assertEqual(r.returncode, 0, r.stderr)

        # The index, sorted by date: three new messages.
        self.wait_index(lambda ix: all(s in ix for s in SUBJECTS) and
                        all("N" in ix[s][1] for s in SUBJECTS),
                        "index with three new messages")
        self.wait_text("msgs=3")

        # 1. Open the first message, read it, go back to the index.
        self.goto(1, "mutt one")
        self.keys("Enter")
        self.wait_text("Body of message number 1.")
        self.keys("i")
        self.wait_index(lambda ix: "mutt one" in ix and "N" not in ix["mutt one"][1],
                        "'mutt one' read in the index")

        # 2. Flag the second.
        self.goto(2, "mutt two")
        self.keys("F")
        self.wait_index(lambda ix: "!" in ix.get("mutt two", (0, ""))[1],
                        "'mutt two' flagged")

        # 3. Save the second to =Archive.  s marks the original deleted,
        # so undelete it afterwards: it stays in INBOX, flagged.
        self.keys("s")
        self.wait_text("Save to mailbox")
        self.keys("C-u")
        self.keys("-l", "=Archive")
        self.wait_text("=Archive")
        self.keys("Enter")
        self.wait_index(lambda ix: "D" in ix.get("mutt two", (0, ""))[1],
                        "'mutt two' saved (marked deleted)")
        self.goto(2, "mutt two")
        self.keys("u")
        self.wait_index(lambda ix: "D" not in ix.get("mutt two", (0, ""))[1],
                        "'mutt two' undeleted")

        # 4. Delete the third.
        self.goto(3, "mutt three")
        self.keys("d")
        self.wait_index(lambda ix: "D" in ix.get("mutt three", (0, ""))[1],
                        "'mutt three' marked deleted")

        # 5. Sync: flags stored, the deleted one expunged.
        self.keys("$")
        self.wait_screen(lambda t: "msgs=2" in t and "mutt three" not in
                         self.index_lines(t), "the mailbox synced")

        # 6. Quit; the pane falls through to the sleep once mutt is gone.
        self.keys("q")
        self.wait_screen(lambda t: "STATUS" not in t and not self.index_lines(t),
                         "mutt to exit")

        self.assertEqual(self.server("INBOX"), {
            "mutt one": {"\\Seen"},
            "mutt two": {"\\Flagged"},
        })
        archive = self.server("Archive")
        self.assertEqual(set(archive), {"mutt two"})
        self.assertIn("\\Flagged", archive["mutt two"])
