"""imap: LIST-METADATA (RFC 9590): LIST ... RETURN (METADATA (entries))
answers, after each mailbox's LIST (and STATUS), what GETMETADATA would."""

from imap.metadata_util import metadata_lines, parse_metadata
from imap.selected_util import SelectedTestCase


class ListMetadataTest(SelectedTestCase):
    def setup_folders(self):
        s = self.login()
        self.ok(s, "c1", "CREATE foo")
        self.ok(s, "c2", "CREATE bar")
        self.ok(s, "m1", 'SETMETADATA INBOX (/private/comment "My own")')
        self.ok(s, "m2", 'SETMETADATA foo (/shared/comment "Shared one")')
        return s

    def by_mailbox(self, lines):
        return dict(parse_metadata(l) for l in metadata_lines(lines))

    def test_capability(self):
        s = self.login()
        self.assertIn("LIST-METADATA", self.capabilities(s))

    def test_entries_per_mailbox_after_its_list(self):
        s = self.setup_folders()
        lines = self.ok(s, "l", 'LIST "" "*" RETURN (METADATA '
                                '("/shared/comment" "/private/comment"))')
        md = self.by_mailbox(lines)
        self.assertEqual(md, {
            "INBOX": {"/shared/comment": None, "/private/comment": "My own"},
            "foo": {"/shared/comment": "Shared one", "/private/comment": None},
            "bar": {"/shared/comment": None, "/private/comment": None},
        })
        # Each METADATA follows the LIST of its mailbox.
        for i, line in enumerate(lines):
            if line.startswith(b"* METADATA "):
                name = parse_metadata(line)[0].encode()
                self.assertTrue(lines[i - 1].startswith(b"* LIST "), lines)
                self.assertTrue(lines[i - 1].endswith(b" " + name)
                                or lines[i - 1].endswith(b'"%s"' % name),
                                (lines[i - 1], name))

    def test_single_entry_and_with_status(self):
        s = self.setup_folders()
        lines = self.ok(s, "l", 'LIST "" "foo" RETURN (STATUS (MESSAGES) '
                                'METADATA "/shared/comment")')
        self.assertEqual(len(lines), 3, lines)
        self.assertTrue(lines[0].startswith(b"* LIST "), lines)
        self.assertTrue(lines[1].startswith(b"* STATUS "), lines)
        self.assertEqual(parse_metadata(lines[2]),
                         ("foo", {"/shared/comment": "Shared one"}))

    def test_wildcard_entry(self):
        s = self.setup_folders()
        lines = self.ok(s, "l", 'LIST "" "foo" RETURN (METADATA ("/shared/*"))')
        md = self.by_mailbox(lines)["foo"]
        self.assertEqual(md["/shared/comment"], "Shared one")
        self.assertEqual(md["/shared/vendor/cmu/cyrus-imapd/partition"],
                         "default")

    def test_without_read_rights_no_metadata(self):
        s = self.setup_folders()
        self.ok(s, "a1", "SETACL foo barney l")
        self.ok(s, "a2", "SETACL bar barney lr")
        self.ok(s, "m3", 'SETMETADATA bar (/shared/comment "for barney")')
        b = self.login("barney")
        lines = self.ok(b, "l", 'LIST "" "Other Users/fred/*" RETURN '
                                '(METADATA ("/shared/comment"))')
        listed = [l for l in lines if l.startswith(b"* LIST ")]
        self.assertEqual(len(listed), 2, lines)
        # 'l' alone lists foo but does not show its metadata (RFC 5464 3.3).
        self.assertEqual(self.by_mailbox(lines),
                         {"Other Users/fred/bar":
                          {"/shared/comment": "for barney"}})

    def test_bad_entries_are_bad(self):
        s = self.setup_folders()
        for opts in ('(METADATA ("bad"))', "(METADATA ())", "(METADATA)",
                     '(METADATA ("/shared/comment")', '(METADATA ("/x/*"))'):
            untagged, tagged = self.cmd(s, "b", 'LIST "" "*" RETURN ' + opts)
            self.assertBAD(tagged, "b")
            self.assertEqual(untagged, [], opts)
        self.assertNoopOK(s)
