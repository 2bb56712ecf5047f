"""imap: OBJECTID (RFC 8474): MAILBOXID in SELECT and STATUS, EMAILID and
THREADID in FETCH."""

import re

from imap.selected_util import SelectedTestCase, message


def mailboxid(lines):
    for l in lines:
        m = re.search(rb"\[MAILBOXID \(([A-Za-z0-9_-]+)\)\]", l)
        if m:
            return m.group(1)
    return None


class ObjectIdTest(SelectedTestCase):
    def test_capability(self):
        s = self.login()
        self.assertIn(b"OBJECTID", self.ok(s, "c", "CAPABILITY")[0].split())

    def test_select_reports_mailboxid_kept_by_rename(self):
        s = self.login()
        self.ok(s, "c", "CREATE ob1")
        first = mailboxid(self.ok(s, "s", "SELECT ob1"))
        self.assertIsNotNone(first)
        self.ok(s, "u", "UNSELECT")
        self.ok(s, "r", "RENAME ob1 ob2")
        self.assertEqual(mailboxid(self.ok(s, "s2", "EXAMINE ob2")), first)
        status = self.ok(s, "st", "STATUS ob2 (MAILBOXID)")
        self.assertEqual(status, [b"* STATUS ob2 (MAILBOXID (" + first + b"))"])

    def test_new_mailbox_of_same_name_gets_new_id(self):
        s = self.login()
        self.ok(s, "c", "CREATE ob3")
        first = self.ok(s, "st", "STATUS ob3 (MAILBOXID)")
        self.ok(s, "d", "DELETE ob3")
        self.ok(s, "c2", "CREATE ob3")
        self.assertNotEqual(self.ok(s, "st2", "STATUS ob3 (MAILBOXID)"), first)

    def test_emailid_same_for_copies_threadid_nil(self):
        s = self.login()
        t = self.login()
        self.ok(s, "c", "CREATE ob4")
        self.append(t, "INBOX", message("same"))
        self.append(t, "ob4", message("same"))
        self.append(t, "ob4", message("different"))
        self.ok(s, "s", "SELECT INBOX")
        a = self.ok(s, "f", "FETCH 1 (EMAILID THREADID)")
        m = re.search(rb"EMAILID \(([A-Za-z0-9_-]+)\)", a[0])
        self.assertIsNotNone(m, a)
        self.assertIn(b"THREADID NIL", a[0])
        self.ok(s, "s2", "SELECT ob4")
        b = self.ok(s, "f2", "FETCH 1:2 (EMAILID)")
        ids = [re.search(rb"EMAILID \(([^)]*)\)", l).group(1) for l in b]
        self.assertEqual(ids[0], m.group(1))
        self.assertNotEqual(ids[1], m.group(1))
