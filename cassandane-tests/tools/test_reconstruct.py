"""reconstruct: rebuilding cyrus.index and cyrus.cache from message files."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tooltest import ToolTestCase, message  # noqa: E402


def flagged_odd(n):
    return r"(\Flagged)" if n % 2 else r"(\Seen)"


class ReconstructTest(ToolTestCase):
    def test_nothing_to_fix(self):
        """A healthy mailbox: only its name is printed, exit 0, no change."""
        self.start()
        self.make_user("fred", messages=3, flags=flagged_odd)
        before = self.fetch_all("fred")
        r = self.tool("reconstruct", "user/fred")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, "user/fred\n")
        self.assertEqual(self.fetch_all("fred"), before)

    def test_index_deleted_restores_messages_without_flags(self):
        self.start()
        self.make_user("fred", messages=3, flags=flagged_odd)
        before = self.fetch_all("fred")
        d = self.mailbox_dir("user/fred")
        os.unlink(os.path.join(d, "cyrus.index"))
        r = self.tool("reconstruct", "user/fred")
        self.assertEqual(r.returncode, 0, r.stderr)
        lines = r.stdout.splitlines()
        self.assertIn("user.fred: failed to read index header", lines)
        for uid in (1, 2, 3):
            self.assertIn("user.fred uid %d found - adding" % uid, lines)
        self.assertEqual(lines[-1], "user/fred")
        after = self.fetch_all("fred")
        self.assertEqual(sorted(after), [1, 2, 3])
        for uid in after:
            self.assertEqual(after[uid][1], before[uid][1])
            self.assertNotIn(r"\Flagged", after[uid][0])
        # and now there is nothing left to fix
        r = self.tool("reconstruct", "user/fred")
        self.assertEqual(r.stdout, "user/fred\n")

    def test_cache_deleted_keeps_flags(self):
        """A readable index keeps every flag, whatever happened to the cache."""
        self.start()
        self.make_user("fred", messages=3, flags=flagged_odd)
        before = self.fetch_all("fred")
        d = self.mailbox_dir("user/fred")
        os.unlink(os.path.join(d, "cyrus.cache"))
        r = self.tool("reconstruct", "user/fred")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(self.fetch_all("fred"), before)
        c = self.login("fred")
        self.ok(c.select("INBOX", readonly=True))
        data = self.ok(c.fetch("2", "(ENVELOPE)"))
        c.logout()
        self.assertIn(b'"message 2"', data[0])

    def test_message_file_added_by_hand(self):
        self.start()
        self.make_user("fred", messages=2, flags=flagged_odd)
        before = self.fetch_all("fred")
        d = self.mailbox_dir("user/fred")
        extra = message(7, "added by hand")
        self.write_message_file(d, 3, extra)
        r = self.tool("reconstruct", "user/fred")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, "user.fred uid 3 found - adding\nuser/fred\n")
        after = self.fetch_all("fred")
        self.assertEqual(sorted(after), [1, 2, 3])
        self.assertEqual(after[3][1], extra)
        self.assertEqual(after[1], before[1])
        self.assertEqual(after[2], before[2])
        # a second run finds nothing
        self.assertEqual(self.tool("reconstruct", "user/fred").stdout,
                         "user/fred\n")

    def test_message_file_removed(self):
        self.start()
        self.make_user("fred", messages=3)
        d = self.mailbox_dir("user/fred")
        os.unlink(os.path.join(d, "2."))
        r = self.tool("reconstruct", "user/fred")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, "user.fred uid 2 not found\nuser/fred\n")
        self.assertEqual(sorted(self.fetch_all("fred")), [1, 3])

    def test_report_only_changes_nothing(self):
        self.start()
        self.make_user("fred", messages=2)
        d = self.mailbox_dir("user/fred")
        self.write_message_file(d, 3, message(3))
        with open(os.path.join(d, "cyrus.index"), "rb") as f:
            index_before = f.read()
        for _ in range(2):
            r = self.tool("reconstruct", "-n", "user/fred")
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual(r.stdout,
                             "user.fred uid 3 found - adding\nuser/fred\n")
        with open(os.path.join(d, "cyrus.index"), "rb") as f:
            self.assertEqual(f.read(), index_before)
        self.assertEqual(sorted(self.fetch_all("fred")), [1, 2])

    def test_recursive(self):
        self.start()
        self.make_user("fred", folders=("Sent", "Sent/Old"), messages=1)
        self.append("fred", "Sent", 5)
        d = self.mailbox_dir("user/fred/Sent/Old")
        self.write_message_file(d, 1, message(9))
        r = self.tool("reconstruct", "-r", "user/fred")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.splitlines(),
                         ["user/fred", "user/fred/Sent",
                          "user.fred.Sent.Old uid 1 found - adding",
                          "user/fred/Sent/Old"])
        self.assertEqual(sorted(self.fetch_all("fred", "Sent/Old")), [1])
        # without -r only the named mailbox is looked at
        r = self.tool("reconstruct", "user/fred")
        self.assertEqual(r.stdout, "user/fred\n")

    def test_quiet_prints_only_repairs(self):
        self.start()
        self.make_user("fred", folders=("Sent",), messages=1)
        self.write_message_file(self.mailbox_dir("user/fred/Sent"), 1, message(1))
        r = self.tool("reconstruct", "-q", "-r", "user/fred")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, "user.fred.Sent uid 1 found - adding\n")

    def test_user_option(self):
        self.start()
        self.make_user("fred", messages=1)
        r = self.tool("reconstruct", "-u", "fred")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, "user/fred\n")

    def test_nonexistent_mailbox(self):
        self.start()
        self.make_user("fred", messages=1)
        r = self.tool("reconstruct", "user/nobody")
        self.assertNotEqual(r.returncode, 0)
        self.assertEqual(r.stdout, "")
        self.assertIn("user/nobody", r.stderr)
        r = self.tool("reconstruct", "user/fred/../x")
        self.assertNotEqual(r.returncode, 0)
        self.assertEqual(r.stdout, "")

    def test_selected_session_sees_new_message(self):
        """A session with the mailbox selected learns of the repair."""
        self.start()
        self.make_user("fred", messages=2)
        c = self.login("fred")
        typ, data = c.select("INBOX")
        self.assertEqual((typ, data), ("OK", [b"2"]))
        self.write_message_file(self.mailbox_dir("user/fred"), 3, message(3))
        r = self.tool("reconstruct", "user/fred")
        self.assertEqual(r.returncode, 0, r.stderr)
        typ, _ = c.noop()
        self.assertEqual(typ, "OK")
        # imaplib keeps every EXISTS since SELECT: the last one is news
        typ, exists = c.response("EXISTS")
        self.assertEqual(exists[-1], b"3")
        data = self.ok(c.uid("FETCH", "3", "(BODY.PEEK[])"))
        self.assertEqual(data[0][1], message(3))
        c.logout()

    def test_filesystem_restores_unknown_mailbox(self):
        """-f adds a restored directory with a cyrus.header to mailboxes.db."""
        self.start()
        self.make_user("fred", folders=("Keep",), messages=1)
        self.append("fred", "Keep", 4)
        dump = self.tool("ctl_mboxlist", "-d").stdout
        # forget user.fred.Keep in mailboxes.db, keep its files
        lines = [l for l in dump.splitlines() if not l.startswith('"user.fred.Keep"')]
        body = ",\n".join(l.rstrip(",") for l in lines[1:-1])
        self.tool("ctl_mboxlist", "-d", "-x")
        r = self.tool("ctl_mboxlist", "-u", input="{\n%s\n}\n" % body)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertNotEqual(self.tool("mbpath", "user/fred/Keep").returncode, 0)
        r = self.tool("reconstruct", "-f", "user/fred")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("user.fred.Keep: not in mailboxes.db - adding",
                      r.stdout.splitlines())
        self.assertEqual(sorted(self.fetch_all("fred", "Keep")), [1])
