"""sync: interimap (a QRESYNC synchroniser, shared/seeds/interimap.md)
keeping two instances in step: new mail, flag changes and expunges both
ways, conflicting flag changes, mailboxes created, renamed and deleted,
`--repair` after a lost update, and a mailbox recreated on one side
(UIDVALIDITY change).  Every scenario ends by comparing both servers
message by message (bytes, flags, internal date).

Needs the Debian package `interimap`."""

import os
import sqlite3
import tempfile
import shutil
import unittest

from cassandane.instance import HOST
from sync.sync_util import PASSWORD, USER, SyncTestCase, tool, tool_env

INTERIMAP = tool("interimap")


@unittest.skipIf(INTERIMAP is None,
                 "interimap is not installed (Debian package interimap)")
class InterimapTest(SyncTestCase):
    def setUp(self):
        super().setUp()
        self.local = self.server()
        self.remote = self.server()
        self.home = tempfile.mkdtemp(prefix="interimap-")
        self.addCleanup(shutil.rmtree, self.home, True)
        self.db = os.path.join(self.home, "state.db")
        self.conf = os.path.join(self.home, "interimap.conf")
        with open(self.conf, "w") as f:
            f.write("database = %s\n" % self.db)
            for section, inst in (("local", self.local),
                                  ("remote", self.remote)):
                f.write("\n[%s]\ntype = imap\nhost = %s\nport = %d\n"
                        "STARTTLS = NO\nusername = %s\npassword = %s\n"
                        % (section, HOST, inst.service("imap").port,
                           USER, PASSWORD))
        self.lc = self.client(self.local)
        self.rc = self.client(self.remote)

    def interimap(self, *args, ok=True):
        """Run interimap; its output.  With ok=False the run must fail."""
        status, out = self.run_tool([INTERIMAP, "--config=" + self.conf] + list(args),
                                    env=tool_env(self.home))
        if ok:
            self.assertEqual(status, 0, "interimap %s failed:\n%s" % (" ".join(args), out))
        else:
            self.assertNotEqual(status, 0, "interimap %s succeeded:\n%s"
                                % (" ".join(args), out))
        return out

    def assertInStep(self, mailbox, want):
        self.assertSameMailbox(self.lc, self.rc, mailbox, want)

    def test_new_mail_flags_and_expunges_both_ways(self):
        for n in range(1, 4):
            self.append(self.lc, "INBOX", n, ["\\Seen"] if n == 1 else [])
        self.interimap()
        self.assertInStep("INBOX", {1: ["\\Seen"], 2: [], 3: []})

        # On the remote side: flag one, expunge another, deliver one.
        self.change(self.rc, "INBOX", [2], "+FLAGS", ["\\Flagged"])
        self.expunge(self.rc, "INBOX", [3])
        self.append(self.rc, "INBOX", 4)
        # And locally a flag change too.
        self.change(self.lc, "INBOX", [1], "+FLAGS", ["\\Answered"])

        self.interimap()
        want = {1: ["\\Answered", "\\Seen"], 2: ["\\Flagged"], 4: []}
        self.assertInStep("INBOX", want)

        # Nothing left to do: a third run changes nothing, not even modseqs.
        hms = (self.status(self.lc, "INBOX", "HIGHESTMODSEQ"),
               self.status(self.rc, "INBOX", "HIGHESTMODSEQ"))
        self.interimap()
        self.assertInStep("INBOX", want)
        self.assertEqual((self.status(self.lc, "INBOX", "HIGHESTMODSEQ"),
                          self.status(self.rc, "INBOX", "HIGHESTMODSEQ")), hms)

    def test_new_mail_and_mailboxes_on_both_sides_in_one_run(self):
        self.append(self.lc, "INBOX", 1, ["\\Seen"], '"01-Jan-2020 10:00:00 +0000"')
        self.append(self.rc, "INBOX", 2, ["\\Flagged"], '"02-Feb-2021 11:30:00 +0100"')
        self.create(self.lc, "Work")
        self.append(self.lc, "Work", 3, ["$Forwarded"])
        self.create(self.rc, "Lists")
        self.create(self.rc, "Lists/cyrus")
        self.append(self.rc, "Lists/cyrus", 4)
        self.interimap()

        names = ["INBOX", "Lists", "Lists/cyrus", "Work"]
        self.assertEqual(self.mailboxes(self.lc), names)
        self.assertEqual(self.mailboxes(self.rc), names)
        self.assertInStep("INBOX", {1: ["\\Seen"], 2: ["\\Flagged"]})
        self.assertInStep("Work", {3: ["$Forwarded"]})
        self.assertInStep("Lists", {})
        self.assertInStep("Lists/cyrus", {4: []})

        # More mail in both directions in an already synchronised mailbox.
        self.append(self.lc, "Lists/cyrus", 5)
        self.append(self.rc, "Lists/cyrus", 6, ["\\Answered"])
        self.interimap()
        self.assertInStep("Lists/cyrus", {4: [], 5: [], 6: ["\\Answered"]})

    def test_flag_changes_both_ways(self):
        for n in range(1, 6):
            self.append(self.lc, "INBOX", n, ["\\Seen", "work"] if n % 2 else [])
        self.interimap()
        # Locally: add flags and a keyword; remove \Seen from 1.
        self.change(self.lc, "INBOX", [1], "-FLAGS", ["\\Seen"])
        self.change(self.lc, "INBOX", [2], "+FLAGS", ["\\Answered", "$Label1"])
        # Remotely: replace flags of 3, remove the keyword of 5, flag 4.
        self.change(self.rc, "INBOX", [3], "FLAGS", ["\\Draft"])
        self.change(self.rc, "INBOX", [5], "-FLAGS", ["work"])
        self.change(self.rc, "INBOX", [4], "+FLAGS", ["\\Flagged", "\\Seen"])
        self.interimap()
        self.assertInStep("INBOX", {1: ["work"],
                                    2: ["$Label1", "\\Answered"],
                                    3: ["\\Draft"],
                                    4: ["\\Flagged", "\\Seen"],
                                    5: ["\\Seen"]})

    def test_expunges_both_ways(self):
        for n in range(1, 8):
            self.append(self.lc, "INBOX", n)
        self.interimap()
        self.expunge(self.lc, "INBOX", [1, 4])
        self.expunge(self.rc, "INBOX", [4, 6, 7])   # 4 on both sides
        self.interimap()
        self.assertInStep("INBOX", {2: [], 3: [], 5: []})
        # Expunging everything left, on one side, empties both.
        self.expunge(self.rc, "INBOX", [2, 3, 5])
        self.interimap()
        self.assertInStep("INBOX", {})

    def test_conflicting_flag_changes_end_as_union(self):
        for n in range(1, 4):
            self.append(self.lc, "INBOX", n, ["\\Seen"])
        self.interimap()
        self.change(self.lc, "INBOX", [1], "+FLAGS", ["\\Flagged"])
        self.change(self.rc, "INBOX", [1], "+FLAGS", ["\\Answered"])
        self.change(self.lc, "INBOX", [2], "-FLAGS", ["\\Seen"])
        self.change(self.rc, "INBOX", [2], "+FLAGS", ["$Junk"])
        out = self.interimap()
        self.assertIn("Conflicting flag update", out)
        self.assertInStep("INBOX", {1: ["\\Answered", "\\Flagged", "\\Seen"],
                                    2: ["$Junk", "\\Seen"],
                                    3: ["\\Seen"]})

    def test_rename_moves_mailbox_and_children_on_both_servers(self):
        self.create(self.lc, "Work")
        self.create(self.lc, "Work/2024")
        self.append(self.lc, "Work", 1, ["\\Seen"])
        self.append(self.lc, "Work/2024", 2, ["\\Flagged"])
        self.interimap()
        self.interimap("--rename", "Work", "Archive")
        names = ["Archive", "Archive/2024", "INBOX"]
        self.assertEqual(self.mailboxes(self.lc), names)
        self.assertEqual(self.mailboxes(self.rc), names)
        self.assertInStep("Archive", {1: ["\\Seen"]})
        self.assertInStep("Archive/2024", {2: ["\\Flagged"]})

        # The renamed mailboxes keep their UIDs: syncing again neither
        # copies nor loses anything, and changes still flow.
        self.append(self.rc, "Archive/2024", 3)
        self.change(self.lc, "Archive", [1], "+FLAGS", ["\\Answered"])
        self.interimap()
        self.assertEqual(self.mailboxes(self.lc), names)
        self.assertInStep("Archive", {1: ["\\Answered", "\\Seen"]})
        self.assertInStep("Archive/2024", {2: ["\\Flagged"], 3: []})

    def test_rename_refused_when_target_exists(self):
        self.create(self.lc, "Work")
        self.create(self.lc, "Old")
        self.append(self.lc, "Work", 1)
        self.interimap()
        self.interimap("--rename", "Work", "Old", ok=False)
        for c in (self.lc, self.rc):
            self.assertEqual(self.mailboxes(c), ["INBOX", "Old", "Work"])
        self.assertInStep("Work", {1: []})

    def test_delete_on_one_server_then_delete_everywhere(self):
        self.create(self.lc, "Trash")
        self.create(self.lc, "Junk")
        self.append(self.lc, "Trash", 1)
        self.append(self.lc, "Junk", 2)
        self.interimap()

        # Deleted remotely only: interimap refuses to guess and touches
        # nothing until told what to do.
        typ, _ = self.rc.delete("Trash")
        self.assertEqual(typ, "OK")
        out = self.interimap(ok=False)
        self.assertIn("Trash", out)
        self.assertEqual(self.mailboxes(self.lc), ["INBOX", "Junk", "Trash"])
        self.assertFlags(self.lc, "Trash", {1: []})

        self.interimap("--delete", "Trash")
        self.interimap("--delete", "Junk")
        self.interimap()
        for c in (self.lc, self.rc):
            self.assertEqual(self.mailboxes(c), ["INBOX"])
            self.assertEqual(c.select("Trash")[0], "NO")
            self.assertEqual(c.select("Junk")[0], "NO")

    def test_delete_leaves_parent_and_siblings(self):
        self.create(self.lc, "Projects")
        self.create(self.lc, "Projects/alpha")
        self.create(self.lc, "Projects/beta")
        self.append(self.lc, "Projects", 1)
        self.append(self.lc, "Projects/beta", 2)
        self.interimap()
        self.interimap("--delete", "Projects/alpha")
        self.interimap()
        for c in (self.lc, self.rc):
            self.assertEqual(self.mailboxes(c), ["INBOX", "Projects", "Projects/beta"])
        self.assertInStep("Projects", {1: []})
        self.assertInStep("Projects/beta", {2: []})

    def db_set_highestmodseq(self, side, mailbox, value):
        with sqlite3.connect(self.db) as db:
            cur = db.execute(
                "UPDATE %s SET HIGHESTMODSEQ = ? WHERE idx = "
                "(SELECT idx FROM mailboxes WHERE mailbox = ?)" % side,
                (value, mailbox.encode()))
            self.assertEqual(cur.rowcount, 1)

    def test_repair_after_lost_updates(self):
        for n in range(1, 5):
            self.append(self.lc, "INBOX", n)
        self.interimap()
        # Changes the state database believes are already synchronised
        # (as after a crash between the servers' and the database's
        # update): a flag change on each side, an expunge remotely.
        self.change(self.lc, "INBOX", [1], "+FLAGS", ["\\Flagged"])
        self.change(self.rc, "INBOX", [1], "+FLAGS", ["\\Seen"])
        self.change(self.lc, "INBOX", [2], "+FLAGS", ["\\Answered"])
        self.expunge(self.rc, "INBOX", [3])
        for side, c in (("local", self.lc), ("remote", self.rc)):
            self.db_set_highestmodseq(side, "INBOX",
                                      self.status(c, "INBOX", "HIGHESTMODSEQ"))
        # A normal run relies on HIGHESTMODSEQ and sees nothing to do.
        self.interimap()
        self.assertFlags(self.lc, "INBOX", {1: ["\\Flagged"], 2: ["\\Answered"],
                                            3: [], 4: []}, "local")
        # --repair compares everything, message by message: the flag
        # lists are merged and the message missing remotely is copied back.
        out = self.interimap("--repair")
        self.assertIn("Missed flag update", out)
        self.assertIn("disappeared", out)
        self.assertInStep("INBOX", {1: ["\\Flagged", "\\Seen"], 2: ["\\Answered"],
                                    3: [], 4: []})
        # And the repaired state is a sound base for normal runs.
        self.append(self.rc, "INBOX", 5)
        self.interimap()
        self.assertInStep("INBOX", {1: ["\\Flagged", "\\Seen"], 2: ["\\Answered"],
                                    3: [], 4: [], 5: []})

    def test_recreated_mailbox_changes_uidvalidity(self):
        self.create(self.lc, "Work")
        self.append(self.lc, "Work", 1, ["\\Seen"])
        self.append(self.lc, "Work", 2)
        self.interimap()
        self.assertInStep("Work", {1: ["\\Seen"], 2: []})

        # Recreated remotely: same name, new UIDVALIDITY (RFC 3501 2.3.1.1).
        old = self.status(self.rc, "Work", "UIDVALIDITY")
        self.assertEqual(self.rc.delete("Work")[0], "OK")
        self.create(self.rc, "Work")
        self.assertNotEqual(self.status(self.rc, "Work", "UIDVALIDITY"), old)

        # interimap must notice and stop: no message copied or removed.
        out = self.interimap(ok=False)
        self.assertIn("UIDVALIDITY changed", out)
        self.assertFlags(self.lc, "Work", {1: ["\\Seen"], 2: []}, "local")
        self.assertFlags(self.rc, "Work", {}, "remote")

        # Forgetting the mailbox's state makes the next run start afresh.
        self.interimap("--target=database", "--delete", "Work")
        self.interimap()
        self.assertInStep("Work", {1: ["\\Seen"], 2: []})
