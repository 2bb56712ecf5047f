"""imap: LIST-EXTENDED (RFC 5258), LIST-STATUS (RFC 5819), LIST-MYRIGHTS
(RFC 8440) and STATUS=SIZE (RFC 8438)."""

import re

from imap.selected_util import SelectedTestCase
from imap.test_mailbox import names


LISTLINE = re.compile(rb'^\* LIST \([^)]*\) (?:"."|NIL) '
                      rb'("(?:[^"\\]|\\.)*"|[^ ]+)')


def entry(lines, name):
    """The LIST line of `name` (bytes), extended data included, or None."""
    for l in lines:
        m = LISTLINE.match(l)
        if not m:
            continue
        n = m.group(1)
        if n.startswith(b'"'):
            n = n[1:-1].replace(b'\\"', b'"').replace(b"\\\\", b"\\")
        if n.decode() == name:
            return l
    return None


class ListExtendedTest(SelectedTestCase):
    def test_capabilities(self):
        s = self.login()
        words = self.ok(s, "c", "CAPABILITY")[0].split()
        for w in (b"LIST-EXTENDED", b"LIST-STATUS", b"STATUS=SIZE",
                  b"LIST-MYRIGHTS"):
            self.assertIn(w, words)

    def test_multiple_patterns(self):
        s = self.login()
        self.ok(s, "c1", "CREATE aa")
        self.ok(s, "c2", "CREATE bb")
        self.ok(s, "c3", "CREATE cc")
        got = names(self.ok(s, "l", 'LIST "" (aa "" cc)'))
        self.assertEqual(sorted(got), ["aa", "cc"])

    def test_subscribed_selection_shows_nonexistent(self):
        s = self.login()
        self.ok(s, "c", "CREATE sub1")
        self.ok(s, "c2", "CREATE gone")
        self.ok(s, "s1", "SUBSCRIBE sub1")
        self.ok(s, "s2", "SUBSCRIBE gone")
        self.ok(s, "d", "DELETE gone")
        lines = self.ok(s, "l", 'LIST (SUBSCRIBED) "" "*"')
        self.assertEqual(sorted(names(lines)), ["gone", "sub1"])
        self.assertIn(b"\\Subscribed", entry(lines, "sub1"))
        self.assertIn(b"\\NonExistent", entry(lines, "gone"))
        self.assertIn(b"\\Subscribed", entry(lines, "gone"))

    def test_return_subscribed(self):
        s = self.login()
        self.ok(s, "c", "CREATE rs1")
        self.ok(s, "c2", "CREATE rs2")
        self.ok(s, "s", "SUBSCRIBE rs1")
        lines = self.ok(s, "l", 'LIST "" "rs*" RETURN (SUBSCRIBED)')
        self.assertIn(b"\\Subscribed", entry(lines, "rs1"))
        self.assertNotIn(b"\\Subscribed", entry(lines, "rs2"))

    def test_recursivematch_childinfo(self):
        s = self.login()
        self.ok(s, "c", "CREATE top/kid")
        self.ok(s, "s", "SUBSCRIBE top/kid")
        lines = self.ok(s, "l", 'LIST (SUBSCRIBED RECURSIVEMATCH) "" "%"')
        top = entry(lines, "top")
        self.assertIsNotNone(top, lines)
        self.assertIn(b'("CHILDINFO" ("SUBSCRIBED"))', top)
        self.assertIsNone(entry(lines, "top/kid"))

    def test_recursivematch_alone_is_bad(self):
        s = self.login()
        _, tagged = self.cmd(s, "l", 'LIST (RECURSIVEMATCH) "" "*"')
        self.assertBAD(tagged, "l")
        _, tagged = self.cmd(s, "l2", 'LIST (REMOTE RECURSIVEMATCH) "" "*"')
        self.assertBAD(tagged, "l2")

    def test_unknown_option_is_bad(self):
        s = self.login()
        _, tagged = self.cmd(s, "l", 'LIST (BOGUS) "" "*"')
        self.assertBAD(tagged, "l")
        _, tagged = self.cmd(s, "l2", 'LIST "" "*" RETURN (BOGUS)')
        self.assertBAD(tagged, "l2")
        self.assertNoopOK(s)

    def test_return_children(self):
        s = self.login()
        self.ok(s, "c", "CREATE p1/c1")
        lines = self.ok(s, "l", 'LIST "" "p1*" RETURN (CHILDREN)')
        self.assertIn(b"\\HasChildren", entry(lines, "p1"))
        self.assertIn(b"\\HasNoChildren", entry(lines, "p1/c1"))

    def test_empty_pattern_not_special_when_extended(self):
        s = self.login()
        lines = self.ok(s, "l", 'LIST "" "" RETURN ()')
        self.assertEqual(lines, [])

    def test_return_status(self):
        s = self.login()
        self.ok(s, "c", "CREATE st1")
        self.append(s, "st1")
        lines = self.ok(s, "l", 'LIST "" "st1" RETURN (STATUS (MESSAGES '
                                'UIDNEXT SIZE))')
        self.assertIsNotNone(entry(lines, "st1"))
        status = [l for l in lines if l.startswith(b"* STATUS")]
        self.assertEqual(len(status), 1)
        self.assertRegex(status[0],
                         rb'^\* STATUS st1 \(MESSAGES 1 UIDNEXT 2 SIZE \d+\)$')

    def test_status_not_for_noselect(self):
        s = self.login()
        self.ok(s, "c", "CREATE ns/kid")
        lines = self.ok(s, "l", 'LIST "" "ns" RETURN (STATUS (MESSAGES))')
        # RFC 9051 6.3.9 example 11: a level is \NoSelect, with no STATUS.
        self.assertIn(b"\\Noselect", entry(lines, "ns"))
        self.assertFalse(any(l.startswith(b"* STATUS") for l in lines))

    def test_status_size_and_mailboxid(self):
        s = self.login()
        self.ok(s, "c", "CREATE sz")
        self.append(s, "sz")
        lines = self.ok(s, "st", "STATUS sz (SIZE MAILBOXID)")
        self.assertRegex(lines[0],
                         rb'^\* STATUS sz \(SIZE [1-9]\d* MAILBOXID '
                         rb'\([A-Za-z0-9_-]+\)\)$')

    def test_return_myrights(self):
        s = self.login()
        self.ok(s, "c", "CREATE mr")
        lines = self.ok(s, "l", 'LIST "" "mr" RETURN (MYRIGHTS)')
        self.assertIn(b"* MYRIGHTS mr", b"\n".join(lines))

    def test_status_of_other_session_append(self):
        s = self.login()
        t = self.login()
        self.ok(s, "c", "CREATE shared2")
        self.append(t, "shared2")
        lines = self.ok(s, "l", 'LIST "" "shared2" RETURN (STATUS (MESSAGES))')
        self.assertIn(b"* STATUS shared2 (MESSAGES 1)", lines)
