"""sync: mbsync (isync) between the server and a local Maildir, both
ways: the first pull, flag changes, deletions and new mail made in the
Maildir pushed back, the server's new mail, flag changes and expunges
pulled again, and folders created on either side.  Each step checks
the server message by message (bytes, flags) and the Maildir files.

Needs the Debian package `isync`."""

import os
import shutil
import tempfile
import unittest

from cassandane.instance import HOST
from sync.maildir_scenarios import MaildirRoundTrips
from sync.sync_util import (PASSWORD, USER, MaildirMixin, SyncTestCase, tool,
                            tool_env)

MBSYNC = tool("mbsync")


@unittest.skipIf(MBSYNC is None, "mbsync is not installed (Debian package isync)")
class MbsyncTest(MaildirRoundTrips, MaildirMixin, SyncTestCase):
    # mbsync marks what it uploads with X-TUID to find it again after an
    # interrupted run.
    client_marks_uploads = True

    def setUp(self):
        super().setUp()
        self.inst = self.server()
        self.c = self.client(self.inst)
        self.home = tempfile.mkdtemp(prefix="mbsync-")
        self.addCleanup(shutil.rmtree, self.home, True)
        self.maildir = os.path.join(self.home, "Mail")
        os.mkdir(self.maildir)
        self.rc = os.path.join(self.home, "mbsyncrc")
        with open(self.rc, "w") as f:
            f.write("IMAPAccount server\nHost %s\nPort %d\nUser %s\nPass %s\n"
                    "SSLType None\nAuthMechs LOGIN\n\n"
                    "IMAPStore server\nAccount server\n\n"
                    "MaildirStore local\nPath %s/\nInbox %s/INBOX\n"
                    "SubFolders Verbatim\n\n"
                    "Channel mail\nFar :server:\nNear :local:\nPatterns *\n"
                    "Create Both\nExpunge Both\nSync All\nSyncState *\n"
                    "CopyArrivalDate yes\n"
                    % (HOST, self.inst.service("imap").port, USER, PASSWORD,
                       self.maildir, self.maildir))

    def sync(self):
        status, out = self.run_tool([MBSYNC, "-c", self.rc, "-a"],
                                    env=tool_env(self.home))
        self.assertEqual(status, 0, "mbsync failed:\n%s" % out)
        return out

    def folder(self, name):
        return os.path.join(self.maildir, name)
