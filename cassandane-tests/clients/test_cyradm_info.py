"""Debian's cyradm `info` (Cyrus::IMAP::Shell): it asks GETMETADATA
mailbox ("/private/*") and ("/shared/*") and prints what comes back, per
mailbox and scope; `mboxcfg` sets the entries it shows."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from clienttest import ClientTestCase  # noqa: E402
import test_cyradm  # noqa: E402


def sections(lines):
    """{(mailbox header, scope): {attribute: value}} of info's output."""
    out, head, scope = {}, None, None
    for line in lines:
        if not line.startswith(" "):
            head, scope = line, None
        elif not line.startswith("    "):
            scope = line.strip().rstrip(":")
            out[(head, scope)] = {}
        else:
            name, _, value = line.strip().partition(": ")
            out[(head, scope)][name] = value
    return out


class CyradmInfoTest(ClientTestCase):
    cyradm = test_cyradm.CyradmTest.cyradm

    def test_info_mailbox(self):
        self.start()
        out = self.cyradm("mboxcfg user/fred comment hello",
                          "info user/fred")
        self.assertEqual(out[0], [])
        info = sections(out[1])
        shared = info[("{user/fred}:", "shared")]
        self.assertEqual(shared["comment"], "hello")
        self.assertEqual(shared["partition"], "default")
        self.assertEqual(shared["size"], "0")
        self.assertRegex(shared["uniqueid"], r"^[0-9a-z]{8,}$")
        private = info[("{user/fred}:", "private")]
        self.assertEqual(private["comment"], "NIL")
        # What cyradm printed is what the server holds.
        c = self.login("fred")
        typ, data = c.xatom("GETMETADATA", "INBOX", "/shared/comment")
        c.logout()
        self.assertEqual(typ, "OK", data)

    def test_info_server(self):
        self.start()
        out = self.cyradm("info")
        info = sections(out[0])
        self.assertIn(("{Server Wide}", "shared"), info)
        shared = info[("{Server Wide}", "shared")]
        # Cyrus lists its own settings (motd, freespace, ...) too.
        self.assertEqual(shared["admin"], "NIL")
        self.assertEqual(shared["comment"], "NIL")

    def test_info_missing_mailbox(self):
        self.start()
        out = self.cyradm("info user/nobody", "info user/fred")
        self.assertEqual(len(out[0]), 1, out)
        self.assertIn("does not exist", out[0][0])
        # The session goes on: the next info works.
        self.assertIn(("{user/fred}:", "shared"), sections(out[1]))
