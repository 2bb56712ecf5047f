"""The IMAP <-> Maildir round trips every Maildir synchroniser test runs
(mbsync, offlineimap): a mixin whose user provides sync() (one run of
the tool, which must succeed), folder(name) (the Maildir directory of a
mailbox) and self.c, an imaplib session on the server instance."""

import os

from sync.sync_util import maildir_deliver, maildir_files, maildir_set_flags


class MaildirRoundTrips:
    # Whether the tool expunges what the Maildir marks T (\Deleted) or
    # only sets the flag on the server.
    expunges_deleted = True

    def test_first_pull_copies_folders_messages_and_flags(self):
        self.append(self.c, "INBOX", 1, ["\\Seen"])
        self.append(self.c, "INBOX", 2, ["\\Flagged", "\\Answered"])
        self.append(self.c, "INBOX", 3)
        self.create(self.c, "Work")
        self.create(self.c, "Work/2024")
        self.append(self.c, "Work/2024", 4, ["\\Draft"])
        self.sync()
        self.assertMaildir(self.folder("INBOX"),
                           {1: ["\\Seen"], 2: ["\\Answered", "\\Flagged"], 3: []})
        self.assertMaildir(self.folder("Work"), {})
        self.assertMaildir(self.folder("Work/2024"), {4: ["\\Draft"]})
        # Pulling changes nothing on the server.
        self.assertFlags(self.c, "INBOX", {1: ["\\Seen"],
                                           2: ["\\Answered", "\\Flagged"], 3: []})
        self.assertFlags(self.c, "Work/2024", {4: ["\\Draft"]})

    def test_maildir_changes_are_pushed(self):
        for n in range(1, 5):
            self.append(self.c, "INBOX", n)
        self.sync()
        files = maildir_files(self.folder("INBOX"))
        maildir_set_flags(files[1], ["\\Seen", "\\Answered"])
        maildir_set_flags(files[2], ["\\Flagged"])
        os.unlink(files[3])
        maildir_deliver(self.folder("INBOX"), 5, ["\\Seen"])
        maildir_deliver(self.folder("Drafts"), 6, ["\\Draft"])
        self.sync()

        self.assertEqual(self.mailboxes(self.c), ["Drafts", "INBOX"])
        self.assertFlags(self.c, "INBOX", {1: ["\\Answered", "\\Seen"],
                                           2: ["\\Flagged"], 4: [],
                                           5: ["\\Seen"]})
        self.assertFlags(self.c, "Drafts", {6: ["\\Draft"]})
        # The pushed messages now live on both sides, once.
        self.assertMaildir(self.folder("INBOX"), {1: ["\\Answered", "\\Seen"],
                                                  2: ["\\Flagged"], 4: [],
                                                  5: ["\\Seen"]})
        self.sync()
        self.assertFlags(self.c, "INBOX", {1: ["\\Answered", "\\Seen"],
                                           2: ["\\Flagged"], 4: [],
                                           5: ["\\Seen"]})

    def test_server_changes_are_pulled(self):
        for n in range(1, 5):
            self.append(self.c, "INBOX", n)
        self.sync()
        self.append(self.c, "INBOX", 5, ["\\Flagged"])
        self.change(self.c, "INBOX", [1], "+FLAGS", ["\\Seen"])
        self.change(self.c, "INBOX", [2], "+FLAGS", ["\\Answered", "\\Flagged"])
        self.expunge(self.c, "INBOX", [3])
        self.create(self.c, "Lists")
        self.append(self.c, "Lists", 6, ["\\Seen"])
        self.sync()
        self.assertMaildir(self.folder("INBOX"), {1: ["\\Seen"],
                                                  2: ["\\Answered", "\\Flagged"],
                                                  4: [], 5: ["\\Flagged"]})
        self.assertMaildir(self.folder("Lists"), {6: ["\\Seen"]})

    def test_flag_removal_both_ways(self):
        self.append(self.c, "INBOX", 1, ["\\Seen", "\\Flagged"])
        self.append(self.c, "INBOX", 2, ["\\Seen", "\\Answered"])
        self.sync()
        files = maildir_files(self.folder("INBOX"))
        maildir_set_flags(files[1], ["\\Seen"])
        self.change(self.c, "INBOX", [2], "-FLAGS", ["\\Seen"])
        self.sync()
        self.assertFlags(self.c, "INBOX", {1: ["\\Seen"], 2: ["\\Answered"]})
        self.assertMaildir(self.folder("INBOX"), {1: ["\\Seen"], 2: ["\\Answered"]})

    def test_deleted_flag_in_maildir_reaches_server(self):
        for n in range(1, 4):
            self.append(self.c, "INBOX", n)
        self.sync()
        files = maildir_files(self.folder("INBOX"))
        maildir_set_flags(files[2], ["\\Deleted"])
        self.sync()
        if self.expunges_deleted:
            self.assertFlags(self.c, "INBOX", {1: [], 3: []})
            self.assertMaildir(self.folder("INBOX"), {1: [], 3: []})
            return
        # Marked, not expunged; deleting the file then removes it.
        self.assertFlags(self.c, "INBOX", {1: [], 2: ["\\Deleted"], 3: []})
        os.unlink(maildir_files(self.folder("INBOX"))[2])
        self.sync()
        self.assertFlags(self.c, "INBOX", {1: [], 3: []})
        self.assertMaildir(self.folder("INBOX"), {1: [], 3: []})
