"""imap: CREATE, DELETE, RENAME, SUBSCRIBE/UNSUBSCRIBE, NAMESPACE, STATUS."""

import re

from imap.selected_util import SelectedTestCase, message


def names(lines, what=b"LIST"):
    """Mailbox names of LIST/LSUB lines (quoted names unquoted)."""
    out = []
    for l in lines:
        m = re.match(rb'\* ' + what + rb' \(([^)]*)\) "(.)" (.*)$', l)
        if m:
            n = m.group(3)
            if n.startswith(b'"'):
                n = n[1:-1].replace(b'\\"', b'"').replace(b"\\\\", b"\\")
            out.append(n.decode())
    return out


def status(lines):
    for l in lines:
        m = re.match(rb"\* STATUS .* \((.*)\)$", l)
        if m:
            f = m.group(1).split()
            return {f[i].decode(): int(f[i + 1]) for i in range(0, len(f), 2)}
    return None


class MailboxTest(SelectedTestCase):
    def list_all(self, s):
        return names(self.ok(s, "l", 'LIST "" "*"'))

    def test_create_then_list(self):
        s = self.login()
        self.ok(s, "c", "CREATE Projects")
        self.assertIn("Projects", self.list_all(s))

    def test_create_existing_is_alreadyexists(self):
        s = self.login()
        self.ok(s, "c", "CREATE Projects")
        _, tagged = self.cmd(s, "c2", "CREATE Projects")
        self.assertNO(tagged, "c2")
        self.assertIn(b"[ALREADYEXISTS]", tagged)

    def test_create_inbox_refused(self):
        s = self.login()
        _, tagged = self.cmd(s, "c", "CREATE inbox")
        self.assertNO(tagged, "c")

    def test_create_bad_name_changes_nothing(self):
        s = self.login()
        before = self.list_all(s)
        _, tagged = self.cmd(s, "c", 'CREATE "a%b"')
        self.assertNO(tagged, "c")
        self.assertEqual(self.list_all(s), before)

    def test_create_trailing_separator(self):
        s = self.login()
        self.ok(s, "c", "CREATE Work/")
        self.assertIn("Work", self.list_all(s))

    def test_create_missing_argument_is_bad(self):
        s = self.login()
        _, tagged = self.cmd(s, "c", "CREATE")
        self.assertBAD(tagged, "c")

    def test_create_intermediate_levels(self):
        s = self.login()
        self.ok(s, "c", "CREATE a/b/c")
        lines = self.ok(s, "l", 'LIST "" "a*"')
        got = {n: l for n, l in zip(names(lines), lines)}
        self.assertIn("a/b/c", got)
        self.assertIn(b"\\Noselect", got["a"])
        self.assertIn(b"\\HasChildren", got["a"])

    def test_delete(self):
        s = self.login()
        self.ok(s, "c", "CREATE Trash2")
        self.ok(s, "d", "DELETE Trash2")
        self.assertNotIn("Trash2", self.list_all(s))

    def test_delete_nonexistent(self):
        s = self.login()
        _, tagged = self.cmd(s, "d", "DELETE nosuch")
        self.assertNO(tagged, "d")
        self.assertIn(b"[NONEXISTENT]", tagged)

    def test_delete_inbox_refused(self):
        s = self.login()
        _, tagged = self.cmd(s, "d", "DELETE INBOX")
        self.assertNO(tagged, "d")
        self.assertIn("INBOX", self.list_all(s))

    def test_delete_parent_keeps_children(self):
        s = self.login()
        self.ok(s, "c1", "CREATE p")
        self.ok(s, "c2", "CREATE p/child")
        self.ok(s, "d", "DELETE p")
        lines = self.ok(s, "l", 'LIST "" "p*"')
        got = {n: l for n, l in zip(names(lines), lines)}
        self.assertIn("p/child", got)
        self.assertIn(b"\\Noselect", got["p"])
        _, tagged = self.cmd(s, "s", "SELECT p")
        self.assertNO(tagged, "s")

    def test_delete_noselect_with_children_refused(self):
        s = self.login()
        self.ok(s, "c", "CREATE x/y")
        _, tagged = self.cmd(s, "d", "DELETE x")
        self.assertNO(tagged, "d")
        self.assertIn("x/y", self.list_all(s))

    def test_rename_keeps_messages_and_uidvalidity(self):
        s = self.login()
        self.ok(s, "c", "CREATE old")
        self.append(s, "old")
        before = status(self.ok(s, "st", "STATUS old (MESSAGES UIDVALIDITY)"))
        self.ok(s, "r", "RENAME old new")
        after = status(self.ok(s, "st2", "STATUS new (MESSAGES UIDVALIDITY)"))
        self.assertEqual(before, after)
        self.assertEqual(after["MESSAGES"], 1)
        self.assertNotIn("old", self.list_all(s))

    def test_rename_subtree(self):
        s = self.login()
        self.ok(s, "c", "CREATE top")
        self.ok(s, "c2", "CREATE top/sub")
        self.ok(s, "r", "RENAME top top3")
        got = self.list_all(s)
        self.assertIn("top3/sub", got)
        self.assertNotIn("top/sub", got)

    def test_rename_to_existing(self):
        s = self.login()
        self.ok(s, "c", "CREATE one")
        self.ok(s, "c2", "CREATE two")
        _, tagged = self.cmd(s, "r", "RENAME one two")
        self.assertNO(tagged, "r")
        self.assertIn(b"[ALREADYEXISTS]", tagged)

    def test_rename_nonexistent(self):
        s = self.login()
        _, tagged = self.cmd(s, "r", "RENAME nosuch other")
        self.assertNO(tagged, "r")
        self.assertNotIn("other", self.list_all(s))

    def test_rename_inbox_moves_messages(self):
        s = self.login()
        self.append(s, "INBOX")
        self.append(s, "INBOX")
        self.ok(s, "r", "RENAME INBOX Saved")
        inbox = status(self.ok(s, "a", "STATUS INBOX (MESSAGES)"))
        saved = status(self.ok(s, "b", "STATUS Saved (MESSAGES)"))
        self.assertEqual(inbox["MESSAGES"], 0)
        self.assertEqual(saved["MESSAGES"], 2)

    def test_subscribe_and_lsub(self):
        s = self.login()
        self.ok(s, "c", "CREATE news")
        self.ok(s, "s", "SUBSCRIBE news")
        self.assertEqual(names(self.ok(s, "l", 'LSUB "" "*"'), b"LSUB"), ["news"])
        self.ok(s, "u", "UNSUBSCRIBE news")
        self.assertEqual(names(self.ok(s, "l2", 'LSUB "" "*"'), b"LSUB"), [])

    def test_subscribe_nonexistent_refused(self):
        s = self.login()
        _, tagged = self.cmd(s, "s", "SUBSCRIBE nosuch")
        self.assertNO(tagged, "s")

    def test_subscription_follows_rename(self):
        s = self.login()
        self.ok(s, "c", "CREATE sub1")
        self.ok(s, "s", "SUBSCRIBE sub1")
        self.ok(s, "r", "RENAME sub1 sub2")
        self.assertEqual(names(self.ok(s, "l", 'LSUB "" "*"'), b"LSUB"), ["sub2"])

    def test_namespace_altnamespace(self):
        s = self.login()
        lines = self.ok(s, "n", "NAMESPACE")
        self.assertIn(b'* NAMESPACE (("" "/")) (("Other Users/" "/")) '
                      b'(("Shared Folders/" "/"))', lines)

    def test_status_counts(self):
        s = self.login()
        self.append(s, "INBOX")
        self.append(s, "INBOX", flags="\\Seen")
        st = status(self.ok(s, "s", "STATUS INBOX (MESSAGES UNSEEN UIDNEXT RECENT)"))
        self.assertEqual(st["MESSAGES"], 2)
        self.assertEqual(st["UNSEEN"], 1)
        self.assertEqual(st["UIDNEXT"], 3)
        self.assertEqual(st["RECENT"], 2)

    def test_status_bad_item(self):
        s = self.login()
        _, tagged = self.cmd(s, "s", "STATUS INBOX (MESSAGES BOGUS)")
        self.assertBAD(tagged, "s")

    def test_status_nonexistent(self):
        s = self.login()
        _, tagged = self.cmd(s, "s", "STATUS nosuch (MESSAGES)")
        self.assertNO(tagged, "s")
        self.assertIn(b"[NONEXISTENT]", tagged)

    def test_other_users_mailbox_invisible(self):
        fred = self.login("fred")
        self.ok(fred, "c", "CREATE private")
        ann = self.login("ann")
        _, tagged = self.cmd(ann, "s", 'STATUS "Other Users/fred/private" (MESSAGES)')
        self.assertNO(tagged, "s")
        self.assertIn(b"[NONEXISTENT]", tagged)
        self.assertEqual([n for n in self.list_all(ann) if "fred" in n], [])

    def test_admin_creates_and_deletes_user(self):
        admin = self.login("admin")
        self.ok(admin, "c", "CREATE user/bob")
        self.ok(admin, "c2", "CREATE user/bob/Sent")
        self.assertIn("user/bob/Sent", self.list_all(admin))
        self.ok(admin, "d", "DELETE user/bob")
        got = self.list_all(admin)
        self.assertNotIn("user/bob", got)
        self.assertNotIn("user/bob/Sent", got)

    def test_concurrent_session_sees_created_mailbox(self):
        s1 = self.login()
        s2 = self.login()
        self.ok(s1, "c", "CREATE shared1")
        self.assertIn("shared1", self.list_all(s2))
