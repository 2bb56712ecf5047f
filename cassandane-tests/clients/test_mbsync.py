"""mbsync (isync) keeping a Maildir and the server in step: messages,
flags and deletions travel both ways, folders are created both ways, and
a sync with nothing to do changes nothing."""

import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from clienttest import ClientTestCase  # noqa: E402

RC = """\
IMAPAccount test
Host 127.0.0.1
Port {port}
User fred
Pass secret
SSLType None
AuthMechs LOGIN
Timeout 30

IMAPStore remote
Account test

MaildirStore local
Path {maildir}/
Inbox {maildir}/INBOX
SubFolders Verbatim

Channel sync
Far :remote:
Near :local:
Patterns *
Create Both
Expunge Both
SyncState *
"""


def message(tag):
    return ("From: sender@example.com\r\nTo: fred@example.com\r\n"
            "Subject: %s\r\nMessage-ID: <%s@example.com>\r\n\r\n"
            "Body of %s.\r\n" % (tag, tag, tag)).encode()


class MbsyncTest(ClientTestCase):
    def setUp(self):
        super().setUp()
        self.need("mbsync")

    def sync(self):
        r = self.run_client(["mbsync", "-c", self.rc, "-a"])
        self.assertEqual(r.returncode, 0, "mbsync failed:\n%s%s" % (r.stdout, r.stderr))
        return r

    def maildir(self, folder):
        """{subject: maildir flags} of a local folder (new and cur)."""
        out = {}
        for sub in ("new", "cur"):
            d = os.path.join(self.mail, folder, sub)
            if not os.path.isdir(d):
                continue
            for name in os.listdir(d):
                with open(os.path.join(d, name), "rb") as f:
                    subj = re.search(rb"^Subject: (.*?)\r?$", f.read(), re.M).group(1)
                flags = name.rsplit(":2,", 1)[1] if ":2," in name else ""
                out[subj.decode()] = (flags, os.path.join(d, name))
        return out

    def server(self, folder):
        """{subject: set of flags} of a server folder (without \\Recent)."""
        c = self.login("fred")
        typ, _ = c.select(folder, readonly=True)
        self.assertEqual(typ, "OK")
        typ, data = c.fetch("1:*", "(FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
        c.logout()
        out = {}
        for item in data:
            if not isinstance(item, tuple):
                continue
            flags = set(re.search(rb"FLAGS \(([^)]*)\)", item[0]).group(1).decode().split())
            flags.discard("\\Recent")
            subj = re.search(rb"Subject: (.*)\r\n", item[1]).group(1).decode()
            out[subj] = flags
        return out

    def test_sync_both_ways(self):
        self.start()
        self.mail = os.path.join(self.inst.basedir, "maildir")
        os.mkdir(self.mail)
        self.rc = self.inst.write_file("mbsyncrc", RC.format(port=self.port,
                                                             maildir=self.mail))
        c = self.login("fred")
        self.assertEqual(c.create("Lists")[0], "OK")
        c.append("INBOX", None, None, message("plain"))
        c.append("INBOX", r"(\Flagged)", None, message("flagged"))
        c.append("INBOX", r"(\Seen \Answered)", None, message("answered"))
        c.append("Lists", None, None, message("list"))
        c.logout()

        # 1. Server to Maildir, flags included.
        self.sync()
        local = self.maildir("INBOX")
        self.assertEqual({k: v[0] for k, v in local.items()},
                         {"plain": "", "flagged": "F", "answered": "RS"})
        self.assertEqual(set(self.maildir("Lists")), {"list"})

        # 2. Changes on both sides.
        path = local["plain"][1]
        os.rename(path, re.sub(r"/new/", "/cur/", path) + "S")       # read it
        os.unlink(local["flagged"][1])                               # delete it
        newdir = os.path.join(self.mail, "INBOX", "new")
        with open(os.path.join(newdir, "%d.local.host" % time.time()), "wb") as f:
            f.write(message("written locally"))
        os.makedirs(os.path.join(self.mail, "Drafts", "cur"))
        os.makedirs(os.path.join(self.mail, "Drafts", "new"))
        os.makedirs(os.path.join(self.mail, "Drafts", "tmp"))
        with open(os.path.join(self.mail, "Drafts", "cur", "1.draft.host:2,D"), "wb") as f:
            f.write(message("draft"))
        c = self.login("fred")
        c.append("INBOX", None, None, message("from the server"))
        c.select("Lists")
        c.store("1", "+FLAGS", r"(\Flagged)")
        c.logout()

        self.sync()
        self.assertEqual(self.server("INBOX"), {
            "plain": {"\\Seen"},
            "answered": {"\\Seen", "\\Answered"},
            "written locally": set(),
            "from the server": set(),
        })
        self.assertEqual(self.server("Drafts"), {"draft": {"\\Draft"}})
        self.assertEqual({k: v[0] for k, v in self.maildir("INBOX").items()},
                         {"plain": "S", "answered": "RS",
                          "written locally": "", "from the server": ""})
        self.assertEqual({k: v[0] for k, v in self.maildir("Lists").items()},
                         {"list": "F"})
        self.assertIn("Drafts", self.folders("fred"))

        # 3. A message deleted on the server goes from the Maildir too.
        c = self.login("fred")
        c.select("INBOX")
        typ, data = c.search(None, "SUBJECT", '"from the server"')
        c.store(data[0].decode(), "+FLAGS", r"(\Deleted)")
        c.expunge()
        c.logout()
        self.sync()
        self.assertNotIn("from the server", self.maildir("INBOX"))

        # 4. Nothing to do: nothing changes on either side.
        before = (self.server("INBOX"), self.maildir("INBOX"))
        self.sync()
        self.assertEqual((self.server("INBOX"), self.maildir("INBOX")), before)
