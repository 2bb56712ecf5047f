"""acl: SETACL, DELETEACL, GETACL, LISTRIGHTS, MYRIGHTS (RFC 4314)."""

import re

from imap.selected_util import SelectedTestCase
from imap.test_mailbox import names


def acl_of(lines):
    for l in lines:
        if l.startswith(b"* ACL "):
            f = l.split()[3:]
            return {f[i].decode(): f[i + 1].decode() for i in range(0, len(f), 2)}
    return None


class AclTest(SelectedTestCase):
    def test_owner_myrights(self):
        s = self.login()
        lines = self.ok(s, "m", "MYRIGHTS INBOX")
        self.assertTrue(any(re.match(rb'\* MYRIGHTS INBOX "?lrswipkxtecdan"?$', l)
                            for l in lines), lines)

    def test_setacl_then_getacl(self):
        s = self.login()
        self.ok(s, "c", "CREATE shared")
        self.ok(s, "a", "SETACL shared ann lr")
        self.assertEqual(acl_of(self.ok(s, "g", "GETACL shared")).get("ann"), "lr")

    def test_setacl_add_and_remove(self):
        s = self.login()
        self.ok(s, "c", "CREATE box")
        self.ok(s, "a", "SETACL box ann lr")
        self.ok(s, "a2", "SETACL box ann +i")
        self.assertEqual(acl_of(self.ok(s, "g", "GETACL box"))["ann"], "lri")
        self.ok(s, "a3", "SETACL box ann -r")
        self.assertEqual(acl_of(self.ok(s, "g2", "GETACL box"))["ann"], "li")

    def test_deleteacl(self):
        s = self.login()
        self.ok(s, "c", "CREATE box")
        self.ok(s, "a", "SETACL box ann lr")
        self.ok(s, "d", "DELETEACL box ann")
        self.assertNotIn("ann", acl_of(self.ok(s, "g", "GETACL box")))

    def test_unknown_right_is_bad_and_changes_nothing(self):
        s = self.login()
        self.ok(s, "c", "CREATE box")
        before = acl_of(self.ok(s, "g", "GETACL box"))
        _, tagged = self.cmd(s, "a", "SETACL box ann lrq")
        self.assertBAD(tagged, "a")
        self.assertEqual(acl_of(self.ok(s, "g2", "GETACL box")), before)

    def test_setacl_without_admin_right(self):
        fred = self.login("fred")
        self.ok(fred, "c", "CREATE box")
        self.ok(fred, "a", "SETACL box ann lr")
        ann = self.login("ann")
        _, tagged = ann.command("x", 'SETACL "Other Users/fred/box" ann lrswi')
        self.assertNO(tagged, "x")
        self.assertIn(b"[NOPERM]", tagged)
        self.assertEqual(acl_of(self.ok(fred, "g", "GETACL box"))["ann"], "lr")

    def test_granted_lookup_makes_visible(self):
        fred = self.login("fred")
        self.ok(fred, "c", "CREATE box")
        ann = self.login("ann")
        self.assertNotIn("Other Users/fred/box", names(self.ok(ann, "l", 'LIST "" "*"')))
        self.ok(fred, "a", "SETACL box ann lr")
        self.assertIn("Other Users/fred/box", names(self.ok(ann, "l2", 'LIST "" "*"')))

    def test_lookup_without_read_is_noperm(self):
        fred = self.login("fred")
        self.ok(fred, "c", "CREATE box")
        self.ok(fred, "a", "SETACL box ann l")
        ann = self.login("ann")
        _, tagged = ann.command("s", 'SELECT "Other Users/fred/box"')
        self.assertNO(tagged, "s")
        _, tagged = ann.command("t", 'STATUS "Other Users/fred/box" (MESSAGES)')
        self.assertNO(tagged, "t")
        self.assertIn(b"[NOPERM]", tagged)

    def test_listrights(self):
        s = self.login()
        lines = self.ok(s, "l", "LISTRIGHTS INBOX fred")
        self.assertTrue([l for l in lines if l.startswith(b"* LISTRIGHTS INBOX fred ")],
                        lines)

    def test_admin_can_getacl_anything(self):
        fred = self.login("fred")
        self.ok(fred, "c", "CREATE box")
        admin = self.login("admin")
        acl = acl_of(self.ok(admin, "g", "GETACL user/fred/box"))
        self.assertIn("fred", acl)
