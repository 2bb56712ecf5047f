"""mbpath: the directory of a mailbox."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tooltest import ToolTestCase  # noqa: E402


class MbpathTest(ToolTestCase):
    def test_paths_in_order(self):
        self.start()
        self.make_user("fred", folders=("Sent",))
        r = self.tool("mbpath", "user/fred/Sent", "user/fred")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.splitlines(),
                         [os.path.join(self.inst.spooldir, "user/fred/Sent"),
                          os.path.join(self.inst.spooldir, "user/fred")])
        for p in r.stdout.splitlines():
            self.assertTrue(os.path.isfile(os.path.join(p, "cyrus.header")))

    def test_user_option(self):
        self.start()
        self.make_user("fred")
        r = self.tool("mbpath", "-u", "fred")
        self.assertEqual(r.stdout.strip(),
                         os.path.join(self.inst.spooldir, "user/fred"))

    def test_unknown_mailbox(self):
        self.start()
        self.make_user("fred")
        r = self.tool("mbpath", "user/nobody", "user/fred")
        self.assertEqual(r.returncode, 65)
        self.assertIn("user/nobody", r.stderr)
        self.assertEqual(r.stdout.strip(),
                         os.path.join(self.inst.spooldir, "user/fred"))
        r = self.tool("mbpath", "-q", "-s", "user/nobody", "user/fred")
        self.assertEqual(r.returncode, 65)
        self.assertEqual((r.stdout, r.stderr), ("", ""))
