"""ctl_mboxlist: dumping and loading mailboxes.db."""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tooltest import ToolTestCase  # noqa: E402


class CtlMboxlistTest(ToolTestCase):
    def setup_mailboxes(self):
        self.start()
        self.make_user("fred", folders=("Sent",), messages=2)
        admin = self.login("admin")
        self.ok(admin.create("shared"))
        self.ok(admin.setacl("user/fred", "bob", "lrs"))
        admin.logout()

    def dump(self):
        r = self.tool("ctl_mboxlist", "-d")
        self.assertEqual(r.returncode, 0, r.stderr)
        return r.stdout

    def listed(self):
        admin = self.login("admin")
        data = self.ok(admin.list())
        admin.logout()
        return sorted(l.decode().rsplit(" ", 1)[-1].strip('"') for l in data if l)

    def test_dump_format(self):
        self.setup_mailboxes()
        text = self.dump()
        lines = text.splitlines()
        self.assertEqual((lines[0], lines[-1]), ("{", "}"))
        self.assertEqual(len(lines), 2 + 3, "one line per mailbox: %r" % text)
        d = json.loads(text)
        self.assertEqual(sorted(d), ["shared", "user.fred", "user.fred.Sent"])
        fred = d["user.fred"]
        self.assertEqual(fred["name"], "user.fred")
        self.assertEqual(fred["mbtype"], "e")
        self.assertEqual(fred["partition"], "default")
        self.assertEqual(fred["acl"].get("bob"), "lrs")
        self.assertIn("fred", fred["acl"])
        self.assertTrue(fred["uniqueid"])
        self.assertTrue(int(fred["uidvalidity"]) > 0)

    def test_round_trip(self):
        self.setup_mailboxes()
        first = self.dump()
        r = self.tool("ctl_mboxlist", "-d", "-x")
        self.assertEqual(r.stdout, first)
        self.assertEqual(self.dump(), "{\n}\n")
        self.assertEqual(self.listed(), [])
        r = self.tool("ctl_mboxlist", "-u", input=first)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(self.dump(), first)
        self.assertEqual(self.listed(), ["shared", "user/fred", "user/fred/Sent"])
        c = self.login("fred")
        typ, data = c.select("INBOX", readonly=True)
        self.assertEqual((typ, data), ("OK", [b"2"]))
        c.logout()
        admin = self.login("admin")
        acl = self.ok(admin.getacl("user/fred"))[0].decode()
        admin.logout()
        self.assertIn("bob lrs", acl)

    def test_undump_merges(self):
        """Records in the dump replace theirs; the others stay."""
        self.setup_mailboxes()
        d = json.loads(self.dump())
        fred = d["user.fred"]
        fred["acl"]["carol"] = "lr"
        text = "{\n%s: %s\n}\n" % (json.dumps("user.fred"), json.dumps(fred))
        r = self.tool("ctl_mboxlist", "-u", input=text)
        self.assertEqual(r.returncode, 0, r.stderr)
        after = json.loads(self.dump())
        self.assertEqual(sorted(after), ["shared", "user.fred", "user.fred.Sent"])
        self.assertEqual(after["user.fred"]["acl"]["carol"], "lr")
        self.assertEqual(after["user.fred.Sent"], d["user.fred.Sent"])

    def test_invalid_undump_changes_nothing(self):
        self.setup_mailboxes()
        first = self.dump()
        good = json.loads(first)
        bad_inputs = [
            "not json",
            '{"user.new": {"mbtype": "e", "partition": "default", "acl": {}}',
            '{"user.new": {"mbtype": "e", "partition": "default"}, }',
            '{"user.new": {"mbtype": "q", "partition": "default"}}',
            '{"user.new": {"mbtype": "e"}}',
            '{"user.new": {"mbtype": "e", "partition": "default", '
            '"uidvalidity": "12x"}}',
            '{"user.new": {"mbtype": "e", "partition": "default"}} trailing',
            # a good record first: still nothing may be written
            "{%s: %s,\n\"user.bad\": 5}" % (json.dumps("user.new"),
                                             json.dumps(good["shared"])),
        ]
        for text in bad_inputs:
            r = self.tool("ctl_mboxlist", "-u", input=text)
            self.assertEqual(r.returncode, 65, "accepted %r" % text)
            self.assertIn("nothing was changed", r.stderr)
            self.assertEqual(self.dump(), first, "changed by %r" % text)

    def test_dump_partition_filter(self):
        self.setup_mailboxes()
        r = self.tool("ctl_mboxlist", "-d", "-p", "nosuchpart")
        self.assertEqual((r.returncode, r.stdout), (0, "{\n}\n"))
        r = self.tool("ctl_mboxlist", "-d", "-p", "default")
        self.assertEqual(sorted(json.loads(r.stdout)),
                         ["shared", "user.fred", "user.fred.Sent"])

    def test_usage_errors(self):
        self.start()
        for args in ([], ["-d", "-u"], ["-u", "-x"], ["-d", "extra"]):
            r = self.tool("ctl_mboxlist", *args)
            self.assertEqual(r.returncode, 64, "accepted %r" % args)
