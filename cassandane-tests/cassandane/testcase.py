"""testcase.py -- the base class of every black-box test.

A test starts the instances it needs with self.start_instance(...); tearDown
stops them and fails the test if any process of the instance reported a
sanitizer error in the log.  The runner then deletes the instance
directories of passing tests and keeps (and prints) those of failing ones.
"""

import base64
import re
import unittest

from cassandane import settings
from cassandane.instance import Instance


def b64(data):
    if isinstance(data, str):
        data = data.encode()
    return base64.b64encode(data).decode()


class InstanceTestCase(unittest.TestCase):
    def setUp(self):
        self.instances = []

    def new_instance(self, **kw):
        """An Instance registered for cleanup, not started yet."""
        inst = Instance(name=self._testMethodName[5:25] or "inst", **kw)
        self.instances.append(inst)
        return inst

    def start_instance(self, **kw):
        """A started Instance registered for cleanup."""
        return self.new_instance(**kw).start()

    def tearDown(self):
        problems = []
        for inst in self.instances:
            try:
                inst.stop()
            except AssertionError as e:
                problems.append(str(e))
            errors = inst.sanitizer_errors()
            if errors:
                problems.append("sanitizer error in %s: %s\n%s\nlog tail:\n%s"
                                % (inst.logfile, errors[0].strip(),
                                   "\n".join(errors[1:10]), inst.log_tail(60)))
        if problems:
            self.fail("\n".join(problems))

    def instance_dirs(self):
        return [i.basedir for i in getattr(self, "instances", [])]

    def cleanup_instances(self, keep):
        """Called by the runner once the outcome is known."""
        if keep or settings.KEEP:
            return
        for inst in getattr(self, "instances", []):
            inst.remove()

    # --- IMAP assertions ------------------------------------------------------

    def assertTagged(self, line, tag, status):
        """`line` is `tag status ...`."""
        if isinstance(tag, str):
            tag = tag.encode()
        parts = line.split(b" ", 2)
        self.assertTrue(len(parts) >= 2 and parts[0] == tag
                        and parts[1].upper() == status.encode(),
                        "expected '%s %s ...', got %r" % (tag.decode(), status, line))

    def assertOK(self, line, tag):
        self.assertTagged(line, tag, "OK")

    def assertBAD(self, line, tag):
        self.assertTagged(line, tag, "BAD")

    def assertNO(self, line, tag):
        self.assertTagged(line, tag, "NO")

    def capabilities(self, session, tag="cap"):
        """The CAPABILITY list of a RawSession, upper-cased atoms."""
        untagged, tagged = session.command(tag, "CAPABILITY")
        self.assertOK(tagged, tag)
        caps = [l for l in untagged if l.upper().startswith(b"* CAPABILITY ")]
        self.assertEqual(len(caps), 1, "expected one * CAPABILITY line, got %r"
                         % untagged)
        return caps[0][len(b"* CAPABILITY "):].decode().upper().split()

    def assertNoopOK(self, session, tag="n1"):
        """The session still works: NOOP gets a tagged OK."""
        _, tagged = session.command(tag, "NOOP")
        self.assertOK(tagged, tag)

    @staticmethod
    def response_code_caps(line):
        """Capabilities in a `[CAPABILITY ...]` response code, or None."""
        m = re.search(rb"\[CAPABILITY ([^\]]*)\]", line, re.I)
        return m.group(1).decode().upper().split() if m else None
