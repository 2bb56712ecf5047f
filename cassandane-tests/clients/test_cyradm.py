"""Debian's cyradm (Cyrus::IMAP::Shell) administering the server: users
(cm/dm/lm), ACLs (sam/lam/dam) and quotas (sq/lq/lqr), each checked both
in cyradm's output and in what the server then reports over IMAP."""

import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from clienttest import ClientTestCase  # noqa: E402

PROMPT = "127.0.0.1> "


def message(size):
    head = ("From: a@example.com\r\nTo: wilma@example.com\r\n"
            "Subject: filler\r\n\r\n")
    body = ("x" * 78 + "\r\n") * (size // 80)
    return (head + body).encode()


class CyradmTest(ClientTestCase):
    def cyradm(self, *commands):
        """Run cyradm as admin with `commands`; {command: [output lines]}
        (a list of answers per command, in order, when one repeats)."""
        path = self.need("cyradm")
        # Errors go to stderr, unbuffered like stdout: one pipe keeps
        # them beside the command that caused them.
        r = subprocess.run([path, "--user", "admin", "-w", "secret",
                            "--auth", "PLAIN", "--notls", "--norc",
                            "--server", "127.0.0.1", "--port", str(self.port)],
                           input="".join(c + "\n" for c in commands),
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           text=True, timeout=60, cwd=self.inst.basedir)
        self.assertEqual(r.returncode, 0, r.stdout)
        self.assertNotIn("cyradm: cannot", r.stdout)
        segments = r.stdout.split(PROMPT)[1:]
        out = []
        for cmd, seg in zip(commands, segments):
            lines = seg.split("\n")
            if lines and lines[0] == cmd:     # echoed when stdin is no tty
                lines = lines[1:]
            out.append([l.rstrip() for l in lines if l.strip()])
        self.assertEqual(len(out), len(commands), r.stdout)
        return out

    def admin(self):
        return self.login("admin")

    def getacl(self, mailbox):
        c = self.admin()
        typ, data = c.getacl(mailbox)
        c.logout()
        self.assertEqual(typ, "OK", data)
        words = data[0].decode().split()[1:]
        return dict(zip(words[0::2], words[1::2]))

    # --- users ----------------------------------------------------------------

    def test_create_list_delete_user(self):
        self.start(users=())
        out = self.cyradm("cm user/wilma", "cm user/wilma/Sent",
                          "cm user/wilma/Sent/2023", "lm user/wilma*")
        self.assertEqual(out[:3], [[], [], []])
        listed = sorted(re.findall(r"(\S+) \(([^)]*)\)", " ".join(out[3])))
        self.assertEqual(listed, [("user/wilma", "\\HasChildren"),
                                  ("user/wilma/Sent", "\\HasChildren"),
                                  ("user/wilma/Sent/2023", "\\HasNoChildren")])
        # wilma can use her new INBOX at once
        c = self.login("wilma")
        self.assertEqual(c.select("INBOX")[0], "OK")
        c.logout()
        # As in Cyrus, the admin gives himself 'x' before deleting a user.
        out = self.cyradm("sam user/wilma admin x", "dm user/wilma",
                          "lm user/wilma*")
        self.assertEqual(out, [[], [], []])
        self.assertEqual(self.folders("admin"), [])
        # Logging in again gets a fresh, empty INBOX (autocreate_quota: 0
        # creates one at login) and none of the old folders.
        self.assertEqual(self.folders("wilma"), ["INBOX"])
        c = self.login("wilma")
        typ, data = c.select("INBOX")
        self.assertEqual((typ, data), ("OK", [b"0"]))
        c.logout()

    def test_delete_removes_every_mailbox_of_the_user(self):
        self.start(users=())
        self.cyradm("cm user/wilma", "cm user/wilma/Sent", "cm user/wilma/Sent/2023",
                    "cm user/betty")
        out = self.cyradm("sam user/wilma admin x", "dm user/wilma", "lm")
        self.assertEqual(out[1], [])
        self.assertEqual(re.findall(r"(\S+) \(", " ".join(out[2])), ["user/betty"])
        self.assertEqual(self.folders("admin"), ["user/betty"])
        out = self.cyradm("lm user/wilma*")
        self.assertEqual(out, [[]])

    def test_errors_are_reported(self):
        self.start(users=("wilma",))
        out = self.cyradm("cm user/wilma", "dm user/nosuch",
                          "sam user/nosuch bob lr", "sq user/nosuch STORAGE 10")
        self.assertEqual(len(out[0]), 1)
        self.assertIn("createmailbox:", out[0][0])
        self.assertIn("already exists", out[0][0])
        self.assertIn("deletemailbox:", out[1][0])
        self.assertIn("does not exist", out[1][0])
        self.assertIn("does not exist", out[2][0])
        self.assertIn("setquota:", out[3][0])
        self.assertIn("does not exist", out[3][0])
        # and the failed setquota made no quota root
        c = self.admin()
        typ, data = c.getquota("user/nosuch")
        c.logout()
        self.assertEqual(typ, "NO")

    # --- ACLs -----------------------------------------------------------------

    def test_sam_lam_dam(self):
        self.start(users=("wilma", "barney"))
        out = self.cyradm("sam user/wilma barney lrs", "lam user/wilma")
        self.assertEqual(out[0], [])
        self.assertEqual(sorted(out[1]), ["barney lrs", "wilma lrswipkxtecdan"])
        self.assertEqual(self.getacl("user/wilma"),
                         {"wilma": "lrswipkxtecdan", "barney": "lrs"})
        # barney can now see and read wilma's INBOX
        c = self.login("barney")
        typ, data = c.select('"Other Users/wilma"', readonly=True)
        self.assertEqual(typ, "OK", data)
        c.logout()

        # cyradm's named rights
        for name, rights in (("all", "lrswipkxtecda"), ("read", "lrs"),
                             ("post", "lrsp"), ("append", "lrsip"),
                             ("write", "lrswipkxtecd"), ("delete", "lrxtecd")):
            out = self.cyradm("sam user/wilma barney %s" % name, "lam user/wilma")
            self.assertEqual(out[0], [], name)
            self.assertIn("barney %s" % rights, out[1], name)
            self.assertEqual(self.getacl("user/wilma")["barney"], rights, name)

        out = self.cyradm("dam user/wilma barney", "lam user/wilma")
        self.assertEqual(out, [[], ["wilma lrswipkxtecdan"]])
        c = self.login("barney")
        typ, data = c.select('"Other Users/wilma"', readonly=True)
        self.assertEqual(typ, "NO")
        c.logout()

    def test_sam_none_and_negative_rights(self):
        self.start(users=("wilma",))
        out = self.cyradm("sam user/wilma anyone lr", "sam user/wilma -barney l",
                          "lam user/wilma", "sam user/wilma anyone none",
                          "lam user/wilma")
        self.assertEqual(sorted(out[2]), ["-barney l", "anyone lr",
                                          "wilma lrswipkxtecdan"])
        self.assertEqual(sorted(out[4]), ["-barney l", "wilma lrswipkxtecdan"])

    # --- quotas ---------------------------------------------------------------

    def test_sq_lq_lqr(self):
        self.start(users=("wilma",))
        out = self.cyradm("cm user/wilma/Sent", "sq user/wilma STORAGE 1000",
                          "lq user/wilma", "lqr user/wilma/Sent")
        self.assertEqual(out[:2], [[], []])
        self.assertEqual([l.strip() for l in out[2]], ["STORAGE 0/1000 (0%)"])
        self.assertEqual(out[3], ["user/wilma STORAGE 0/1000 (0%)"])

        c = self.login("wilma")
        for _ in range(3):
            self.assertEqual(c.append("Sent", None, None, message(100 * 1024))[0], "OK")
        c.logout()
        out = self.cyradm("lq user/wilma", "lqr user/wilma/Sent",
                          "sq user/wilma MESSAGE 10", "lq user/wilma")
        self.assertEqual([l.strip() for l in out[0]], ["STORAGE 300/1000 (30%)"])
        self.assertEqual(out[1], ["user/wilma STORAGE 300/1000 (30%)"])
        # As in Cyrus, SETQUOTA replaces the whole list of limits.
        self.assertEqual([l.strip() for l in out[3]], ["MESSAGE 3/10 (30%)"])
        c = self.admin()
        typ, data = c.getquotaroot("user/wilma/Sent")
        c.logout()
        self.assertEqual(typ, "OK")
        self.assertIn(b"user/wilma (MESSAGE 3 10)", b" ".join(
            d for part in data for d in part))

    def test_over_quota_append_refused(self):
        self.start(users=("wilma",))
        self.cyradm("sq user/wilma STORAGE 100")
        c = self.login("wilma")
        self.assertEqual(c.append("INBOX", None, None, message(60 * 1024))[0], "OK")
        typ, data = c.append("INBOX", None, None, message(60 * 1024))
        self.assertEqual(typ, "NO")
        self.assertIn(b"quota", data[0].lower())
        c.logout()
        out = self.cyradm("lq user/wilma")
        self.assertEqual([l.strip() for l in out[0]], ["STORAGE 60/100 (60%)"])
