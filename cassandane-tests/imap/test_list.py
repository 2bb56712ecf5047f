"""imap: LIST and LSUB patterns, attributes and name quoting."""

from imap.selected_util import SelectedTestCase
from imap.test_mailbox import names


class ListTest(SelectedTestCase):
    def test_empty_pattern_gives_delimiter(self):
        s = self.login()
        lines = self.ok(s, "l", 'LIST "" ""')
        self.assertEqual(lines, [b'* LIST (\\Noselect) "/" ""'])

    def test_inbox_always_listed(self):
        s = self.login()
        self.assertIn("INBOX", names(self.ok(s, "l", 'LIST "" "*"')))

    def test_inbox_case_insensitive(self):
        s = self.login()
        self.assertEqual(names(self.ok(s, "l", 'LIST "" "inbox"')), ["INBOX"])

    def test_percent_stops_at_separator(self):
        s = self.login()
        self.ok(s, "c", "CREATE a/b")
        self.ok(s, "c2", "CREATE a")
        got = names(self.ok(s, "l", 'LIST "" "%"'))
        self.assertIn("a", got)
        self.assertNotIn("a/b", got)
        got = names(self.ok(s, "l2", 'LIST "" "*"'))
        self.assertIn("a/b", got)

    def test_reference_is_prefixed(self):
        s = self.login()
        self.ok(s, "c", "CREATE r/x")
        self.assertEqual(names(self.ok(s, "l", 'LIST "r/" "%"')), ["r/x"])

    def test_children_attributes(self):
        s = self.login()
        self.ok(s, "c", "CREATE par/kid")
        self.ok(s, "c2", "CREATE par")
        lines = self.ok(s, "l", 'LIST "" "par*"')
        got = dict(zip(names(lines), lines))
        self.assertIn(b"\\HasChildren", got["par"])
        self.assertIn(b"\\HasNoChildren", got["par/kid"])

    def test_name_with_space_is_quoted(self):
        s = self.login()
        self.ok(s, "c", 'CREATE "My Folder"')
        lines = self.ok(s, "l", 'LIST "" "My*"')
        self.assertEqual(lines, [b'* LIST (\\HasNoChildren) "/" "My Folder"'])

    def test_lsub_percent_shows_unsubscribed_parent_noselect(self):
        s = self.login()
        self.ok(s, "c", "CREATE lp/kid")
        self.ok(s, "c2", "CREATE lp")
        self.ok(s, "s", "SUBSCRIBE lp/kid")
        lines = self.ok(s, "l", 'LSUB "" "%"')
        self.assertIn(b'* LSUB (\\Noselect) "/" lp', lines)

    def test_unquoted_wildcard_pattern(self):
        s = self.login()
        self.ok(s, "c", "CREATE w1")
        self.assertEqual(names(self.ok(s, "l", "LIST \"\" w*")), ["w1"])

    def test_list_missing_pattern_is_bad(self):
        s = self.login()
        _, tagged = self.cmd(s, "l", 'LIST ""')
        self.assertBAD(tagged, "l")
