"""imap: GETMETADATA entry wildcards as Cyrus takes them (cyradm's info
sends GETMETADATA mailbox ("/private/*") and ("/shared/*")): stored
entries below the prefix, the entries the server defines (NIL when
unset), and Cyrus's read-only vendor facts (partition, size, uniqueid).

Cyrus 3.6 defines more entries than we do (its own vendor settings), so
the tests check that what we define is there, not that nothing else is;
it also answers malformed wildcards with OK where we say BAD."""

from imap.metadata_util import metadata_lines, parse_metadata
from imap.selected_util import SelectedTestCase, message
from imap.test_mailbox import status

VENDOR = "/shared/vendor/cmu/cyrus-imapd/"


class MetadataWildcardTest(SelectedTestCase):
    def instance(self):
        if not self.inst:
            self.inst = self.start_instance(config={
                "autocreate_quota": "0", "delete_mode": "immediate",
                "admins": "admin"})
        return self.inst

    def get(self, s, args):
        lines = metadata_lines(self.ok(s, "g", "GETMETADATA " + args))
        self.assertEqual(len(lines), 1, lines)
        return parse_metadata(lines[0])[1]

    def test_shared_star_lists_stored_defined_and_vendor(self):
        s = self.login()
        self.append(s, msg=message("one"))
        self.ok(s, "s", 'SETMETADATA INBOX (/shared/comment "hello" '
                        '/shared/vendor/cmu/cyrus-imapd/expire "30")')
        st = status(self.ok(s, "st", "STATUS INBOX (SIZE)"))
        got = self.get(s, 'INBOX ("/shared/*")')
        self.assertEqual(got["/shared/comment"], "hello")
        self.assertEqual(got[VENDOR + "expire"], "30")
        self.assertEqual(got[VENDOR + "partition"], "default")
        self.assertEqual(got[VENDOR + "size"], str(st["SIZE"]))
        uniqueid = got[VENDOR + "uniqueid"]
        self.assertRegex(uniqueid, r"^[0-9a-z]{8,}$")
        # Only shared entries.
        self.assertFalse([k for k in got if not k.startswith("/shared/")],
                         got)
        # The vendor fact is the mailbox's own id (RFC 8474 MAILBOXID).
        lines = self.ok(s, "m", "STATUS INBOX (MAILBOXID)")
        self.assertIn(("MAILBOXID (%s)" % uniqueid).encode(), lines[0])

    def test_private_star_has_defined_entries_as_nil(self):
        s = self.login()
        got = self.get(s, 'INBOX "/private/*"')
        self.assertIsNone(got["/private/comment"])
        self.assertIsNone(got["/private/specialuse"])
        self.assertFalse([k for k in got if not k.startswith("/private/")],
                         got)
        self.ok(s, "s", 'SETMETADATA INBOX (/private/comment "mine")')
        got = self.get(s, 'INBOX ("/private/*")')
        self.assertEqual(got["/private/comment"], "mine")

    def test_percent_is_one_level(self):
        s = self.login()
        self.ok(s, "s", 'SETMETADATA INBOX (/shared/comment "c" '
                        '/shared/vendor/cmu/cyrus-imapd/expire "7")')
        got = self.get(s, 'INBOX "/shared/%"')
        self.assertEqual(got["/shared/comment"], "c")
        # Nothing deeper than one level below /shared.
        self.assertFalse([k for k in got if k.count("/") != 2], got)
        got = self.get(s, 'INBOX "/shared/vendor/cmu/cyrus-imapd/%"')
        self.assertEqual(got[VENDOR + "expire"], "7")
        self.assertEqual(got[VENDOR + "partition"], "default")
        self.assertFalse([k for k in got if not k.startswith(VENDOR)
                          or "/" in k[len(VENDOR):]], got)

    def test_vendor_prefix_star(self):
        s = self.login()
        got = self.get(s, 'INBOX ("/shared/vendor/cmu/cyrus-imapd/*")')
        for name in ("partition", "size", "uniqueid"):
            self.assertIsNotNone(got[VENDOR + name], got)
        self.assertFalse([k for k in got if not k.startswith(VENDOR)], got)
        # A computed entry asked for by name has its value too.
        got = self.get(s, "INBOX %spartition" % VENDOR)
        self.assertEqual(got, {VENDOR + "partition": "default"})

    def test_options_after_mailbox_as_cyrus(self):
        s = self.login()
        self.ok(s, "s", 'SETMETADATA INBOX (/shared/comment "c")')
        got = self.get(s, 'INBOX (DEPTH infinity) ("/shared/*")')
        self.assertEqual(got["/shared/comment"], "c")
        got = self.get(s, "INBOX (DEPTH infinity) /shared")
        self.assertEqual(got["/shared/comment"], "c")

    def test_server_wildcard(self):
        s = self.login()
        got = self.get(s, '"" ("/shared/*")')
        self.assertIsNone(got["/shared/admin"])
        self.assertIsNone(got["/shared/comment"])
        a = self.login("admin")
        self.ok(a, "s", 'SETMETADATA "" (/shared/comment "server note")')
        self.assertEqual(self.get(s, '"" "/shared/*"')["/shared/comment"],
                         "server note")

    def test_computed_entries_are_read_only(self):
        s = self.login()
        _, tagged = self.cmd(s, "s", 'SETMETADATA INBOX '
                                     '(/shared/vendor/cmu/cyrus-imapd/size "1")')
        self.assertNO(tagged, "s")
        got = self.get(s, 'INBOX "/shared/vendor/cmu/cyrus-imapd/size"')
        self.assertEqual(got, {VENDOR + "size": "0"})

    def test_malformed_wildcards_are_bad(self):
        s = self.login()
        for entry in ('"/shared/*/x"', '"/shared*"', '"/*"', '"/shared/**"',
                      '"/other/*"', '"/shared/comment/*/*"'):
            untagged, tagged = self.cmd(s, "b", "GETMETADATA INBOX " + entry)
            self.assertBAD(tagged, "b")
            self.assertEqual(metadata_lines(untagged), [], entry)
        self.assertNoopOK(s)

    def test_nonexistent_mailbox(self):
        s = self.login()
        untagged, tagged = self.cmd(s, "g", 'GETMETADATA nosuch ("/shared/*")')
        self.assertNO(tagged, "g")
        self.assertEqual(metadata_lines(untagged), [])
