"""imap: the imaptest-script runner (conformance/imaptest_runner.py) on
its own small scripts, so that the runner used for the imaptest suite is
itself checked: what must pass passes, each kind of mismatch fails, and a
missing capability skips."""

import contextlib
import io
import os
import shutil
import sys
import tempfile

from cassandane.instance import HOST
from cassandane.testcase import InstanceTestCase

CONFORMANCE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                           "conformance")
sys.path.insert(0, CONFORMANCE)

import imaptest_runner  # noqa: E402
from imaptest_script import ScriptError, parse_script  # noqa: E402


class ImaptestRunnerTest(InstanceTestCase):
    def run_scripts(self, *names):
        inst = self.start_instance(config={"autocreate_quota": "0",
                                           "delete_mode": "immediate"})
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            rc = imaptest_runner.main(
                ["--host", HOST, "--port", str(inst.service("imap").port),
                 "--user", "tester", "--password", "pw",
                 "--tests", os.path.join(CONFORMANCE, "selftest")] + list(names))
        return rc, out.getvalue().splitlines()

    def result_of(self, lines, name):
        for line in lines:
            word, _, rest = line.partition(" ")
            if rest.split(":")[0].split(" ")[0] == name:
                return word, line
        self.fail("no result line for %s in %r" % (name, lines))

    def test_selftest_scripts(self):
        rc, lines = self.run_scripts()
        self.assertEqual(self.result_of(lines, "basic")[0], "PASS", lines)
        for name in ("mismatch", "tagged-mismatch", "negation"):
            self.assertEqual(self.result_of(lines, name)[0], "FAIL", lines)
        self.assertEqual(self.result_of(lines, "needs-cap")[0], "SKIP", lines)
        self.assertEqual(lines[-1], "imaptest: 1 passed, 3 failed, 1 skipped")
        self.assertEqual(rc, 1)

    def test_failure_says_what_was_expected(self):
        rc, lines = self.run_scripts("mismatch", "tagged-mismatch")
        text = "\n".join(lines)
        self.assertIn("expected: * search 2", text)
        self.assertIn("best match: * SEARCH", text)
        self.assertRegex(text, r"expected tagged reply: ok\n\s+got: \S+ NO")
        self.assertEqual(rc, 1)

    def test_only_passing_script_exits_zero(self):
        rc, lines = self.run_scripts("basic")
        self.assertEqual(lines, ["PASS basic", "imaptest: 1 passed, 0 failed, 0 skipped"])
        self.assertEqual(rc, 0)

    def test_bad_script_is_rejected(self):
        """A multi-connection script whose command lacks its connection
        number is not run at all."""
        d = tempfile.mkdtemp(prefix="cass-imaptest-")
        self.addCleanup(shutil.rmtree, d, True)
        path = os.path.join(d, "broken")
        with open(path, "w") as f:
            f.write("connections: 2\n\nok noop\n")
        with self.assertRaises(ScriptError):
            parse_script(path)

    def test_each_failure_names_its_cause(self):
        rc, lines = self.run_scripts("negation", "mismatch")
        text = "\n".join(lines)
        self.assertIn("unexpected untagged reply", text)
        self.assertIn("missing 1 untagged replies", text)
        self.assertEqual(rc, 1)
