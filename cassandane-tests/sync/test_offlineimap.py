"""sync: offlineimap3 between the server and a local Maildir, both ways
(the round trips of maildir_scenarios.py): first pull, Maildir flag
changes, deletions and new mail pushed, server changes pulled, folders
created on either side; the server is checked message by message.

Needs the Debian package `offlineimap3`."""

import os
import shutil
import tempfile
import unittest

from cassandane.instance import HOST
from sync.maildir_scenarios import MaildirRoundTrips
from sync.sync_util import (PASSWORD, USER, MaildirMixin, SyncTestCase, tool,
                            tool_env)

OFFLINEIMAP = tool("offlineimap3") or tool("offlineimap")


@unittest.skipIf(OFFLINEIMAP is None,
                 "offlineimap is not installed (Debian package offlineimap3)")
class OfflineimapTest(MaildirRoundTrips, MaildirMixin, SyncTestCase):
    expunges_deleted = False

    def setUp(self):
        super().setUp()
        self.inst = self.server()
        self.c = self.client(self.inst)
        self.home = tempfile.mkdtemp(prefix="offlineimap-")
        self.addCleanup(shutil.rmtree, self.home, True)
        self.maildir = os.path.join(self.home, "Mail")
        os.mkdir(self.maildir)
        self.conf = os.path.join(self.home, "offlineimaprc")
        with open(self.conf, "w") as f:
            f.write("[general]\naccounts = test\nmetadata = %s/state\n"
                    "ui = basic\n\n"
                    "[Account test]\nlocalrepository = local\n"
                    "remoterepository = server\n\n"
                    "[Repository local]\ntype = Maildir\nlocalfolders = %s\n"
                    "sep = /\n\n"
                    "[Repository server]\ntype = IMAP\nremotehost = %s\n"
                    "remoteport = %d\nremoteuser = %s\nremotepass = %s\n"
                    "ssl = no\nstarttls = no\n"
                    % (self.home, self.maildir, HOST,
                       self.inst.service("imap").port, USER, PASSWORD))

    def sync(self):
        status, out = self.run_tool([OFFLINEIMAP, "-c", self.conf, "-o", "-u", "basic"],
                                    env=tool_env(self.home), timeout=150)
        self.assertEqual(status, 0, "offlineimap failed:\n%s" % out)
        self.assertNotIn("ERROR", out, "offlineimap reported errors:\n%s" % out)
        return out

    def folder(self, name):
        return os.path.join(self.maildir, name)
