"""quota: the quota report and `quota -f`."""

import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tooltest import ToolTestCase, message  # noqa: E402

HEADER = "   Quota   % Used     Used             Resource Root"


def row(limit, pct, used, res, root):
    lim = " %7d %8d" % (limit, pct) if limit is not None else " " * 17
    return "%s %8d %20s %s" % (lim, used, res, root)


class QuotaTest(ToolTestCase):
    def setquota(self, root, limits):
        admin = self.login("admin")
        self.ok(admin.setquota(root, limits), "setquota")
        admin.logout()

    def getquota(self, root):
        admin = self.login("admin")
        data = self.ok(admin.getquota(root), "getquota")
        admin.logout()
        return data[0].decode()

    def test_report_format(self):
        self.start()
        self.make_user("fred", folders=("Sent",), messages=3)
        self.setquota("user/fred", "(STORAGE 100 MESSAGE 10)")
        r = self.tool("quota")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.splitlines(), [
            HEADER,
            row(100, 0, 0, "STORAGE", "user/fred"),
            row(10, 30, 3, "MESSAGE", "user/fred"),
            row(None, 0, 0, "X-ANNOTATION-STORAGE", "user/fred"),
            row(None, 0, 2, "X-NUM-FOLDERS", "user/fred"),
        ])

    def test_prefix_selects_roots(self):
        self.start()
        self.make_user("fred")
        self.make_user("bob")
        self.setquota("user/fred", "(STORAGE 100)")
        self.setquota("user/bob", "(STORAGE 200)")
        r = self.tool("quota", "user/bob")
        self.assertEqual(r.returncode, 0, r.stderr)
        roots = {l.split()[-1] for l in r.stdout.splitlines()[1:]}
        self.assertEqual(roots, {"user/bob"})
        r = self.tool("quota", "-u", "fred")
        roots = {l.split()[-1] for l in r.stdout.splitlines()[1:]}
        self.assertEqual(roots, {"user/fred"})

    def tamper(self):
        """Add a message behind the server's back: the quota db lags."""
        self.make_user("fred", messages=2)
        self.setquota("user/fred", "(STORAGE 1000 MESSAGE 100)")
        before = self.getquota("user/fred")
        d = self.mailbox_dir("user/fred")
        extra = message(3) + b"x" * 5000 + b"\r\n"
        self.write_message_file(d, 3, extra)
        r = self.tool("reconstruct", "user/fred")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(self.getquota("user/fred"), before)
        sizes = [len(message(1)), len(message(2)), len(extra)]
        return before, sizes

    def test_fix_tampered_usage(self):
        self.start()
        _, sizes = self.tamper()
        r = self.tool("quota", "-f")
        self.assertEqual(r.returncode, 0, r.stderr)
        lines = r.stdout.splitlines()
        self.assertIn("user.fred: STORAGE usage was %d, now %d"
                      % (sum(sizes[:2]), sum(sizes)), lines)
        self.assertIn("user.fred: MESSAGE usage was 2, now 3", lines)
        self.assertIn(HEADER, lines)
        self.assertIn(row(100, 3, 3, "MESSAGE", "user/fred"), lines)
        q = self.getquota("user/fred")
        self.assertIn("STORAGE %d 1000" % (sum(sizes) // 1024), q)
        self.assertIn("MESSAGE 3 100", q)
        # fixed for good: a second run has nothing to say
        r = self.tool("quota", "-f", "-q")
        self.assertEqual((r.returncode, r.stdout), (0, ""))

    def test_report_only_does_not_fix(self):
        self.start()
        before, sizes = self.tamper()
        for _ in range(2):
            r = self.tool("quota", "-n", "-q")
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual(r.stdout.splitlines(), [
                "user.fred: STORAGE usage was %d, now %d"
                % (sum(sizes[:2]), sum(sizes)),
                "user.fred: MESSAGE usage was 2, now 3"])
        self.assertEqual(self.getquota("user/fred"), before)

    def test_deeper_root_takes_its_subtree(self):
        self.start()
        self.make_user("fred", folders=("Big",), messages=1)
        self.append("fred", "Big", 2)
        self.append("fred", "Big", 3)
        self.setquota("user/fred", "(MESSAGE 100)")
        self.setquota("user/fred/Big", "(MESSAGE 50)")
        r = self.tool("quota", "-f")
        self.assertEqual(r.returncode, 0, r.stderr)
        lines = r.stdout.splitlines()
        self.assertIn(row(100, 1, 1, "MESSAGE", "user/fred"), lines)
        self.assertIn(row(50, 4, 2, "MESSAGE", "user/fred/Big"), lines)
        self.assertIn(row(None, 0, 1, "X-NUM-FOLDERS", "user/fred"), lines)
        self.assertFalse([l for l in lines if re.search(r"usage was", l)],
                         "the server's own accounting was already right")
