"""imap: SPECIAL-USE and CREATE-SPECIAL-USE (RFC 6154), the
/private/specialuse annotation and autocreated special folders."""

from imap.selected_util import SelectedTestCase
from imap.test_listext import entry
from imap.test_mailbox import names


class SpecialUseTest(SelectedTestCase):
    def test_create_with_use(self):
        s = self.login()
        self.ok(s, "c", "CREATE MySent (USE (\\Sent))")
        lines = self.ok(s, "l", 'LIST "" "MySent" RETURN (SPECIAL-USE)')
        self.assertIn(b"\\Sent", entry(lines, "MySent"))
        lines = self.ok(s, "g", "GETMETADATA MySent /private/specialuse")
        self.assertEqual(lines, [b'* METADATA "MySent" '
                                 b'("/private/specialuse" "\\\\Sent")'])

    def test_unsupported_use_creates_nothing(self):
        s = self.login()
        _, tagged = self.cmd(s, "c", "CREATE Everything (USE (\\All))")
        self.assertNO(tagged, "c")
        self.assertIn(b"[USEATTR]", tagged)
        self.assertEqual(names(self.ok(s, "l", 'LIST "" "Everything"')), [])

    def test_duplicate_use_refused(self):
        s = self.login()
        self.ok(s, "c", "CREATE T1 (USE (\\Trash))")
        _, tagged = self.cmd(s, "c2", "CREATE T2 (USE (\\Trash))")
        self.assertIn(b"NO [USEATTR]", tagged)
        _, tagged = self.cmd(s, "s", 'SETMETADATA INBOX '
                                     '(/private/specialuse "\\\\Trash")')
        self.assertIn(b"NO [USEATTR]", tagged)

    def test_selection_option_lists_only_special(self):
        s = self.login()
        self.ok(s, "c", "CREATE Drafts (USE (\\Drafts))")
        self.ok(s, "c2", "CREATE Plain")
        lines = self.ok(s, "l", 'LIST (SPECIAL-USE) "" "*"')
        self.assertEqual(names(lines), ["Drafts"])
        self.assertIn(b"\\Drafts", lines[0])

    def test_set_through_metadata_and_remove(self):
        s = self.login()
        self.ok(s, "c", "CREATE Junkish")
        self.ok(s, "s", 'SETMETADATA Junkish (/private/specialuse "\\\\junk")')
        lines = self.ok(s, "l", 'LIST "" "Junkish"')
        self.assertIn(b"\\Junk", entry(lines, "Junkish"))
        self.ok(s, "d", "SETMETADATA Junkish (/private/specialuse NIL)")
        lines = self.ok(s, "l2", 'LIST "" "Junkish" RETURN (SPECIAL-USE)')
        self.assertNotIn(b"\\Junk", entry(lines, "Junkish"))

    def test_bad_use_through_metadata(self):
        s = self.login()
        self.ok(s, "c", "CREATE Box")
        _, tagged = self.cmd(s, "s", 'SETMETADATA Box (/private/specialuse '
                                     '"\\\\Bogus")')
        self.assertIn(b"NO [USEATTR]", tagged)

    def test_other_user_does_not_see_use(self):
        s = self.login()
        self.ok(s, "c", "CREATE Archive (USE (\\Archive))")
        self.ok(s, "a", "SETACL Archive barney lr")
        b = self.login("barney")
        lines = self.ok(b, "l", 'LIST "" "Other Users/fred/Archive" '
                                'RETURN (SPECIAL-USE)')
        self.assertNotIn(b"\\Archive", entry(lines,
                                              "Other Users/fred/Archive"))

    def test_bad_create_parameter(self):
        s = self.login()
        _, tagged = self.cmd(s, "c", "CREATE x (BOGUS (1))")
        self.assertBAD(tagged, "c")
        self.assertEqual(names(self.ok(s, "l", 'LIST "" "x"')), [])


class AutocreateSpecialUseTest(SelectedTestCase):
    def instance(self):
        if not self.inst:
            self.inst = self.start_instance(config={
                "autocreate_quota": "0", "delete_mode": "immediate",
                "autocreate_inbox_folders": "Sent | Trash | Notes",
                "xlist-sent": "Sent", "xlist-trash": "Trash"})
        return self.inst

    def test_autocreated_folders_have_uses(self):
        s = self.login()
        lines = self.ok(s, "l", 'LIST "" "*" RETURN (SPECIAL-USE)')
        self.assertIn(b"\\Sent", entry(lines, "Sent"))
        self.assertIn(b"\\Trash", entry(lines, "Trash"))
        self.assertNotIn(b"\\", entry(lines, "Notes").split(b")")[0]
                         .replace(b"\\HasNoChildren", b""))
