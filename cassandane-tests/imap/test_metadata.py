"""imap: METADATA (RFC 5464): GETMETADATA, SETMETADATA, ACL rules, limits
and the X-ANNOTATION-STORAGE quota."""

from imap.selected_util import SelectedTestCase, read_response


class MetadataTest(SelectedTestCase):
    def admin(self):
        inst = self.instance()
        s = inst.raw()
        self.addCleanup(s.close)
        s.expect_line()
        _, tagged = s.command("L", "LOGIN admin secret")
        self.assertOK(tagged, "L")
        return s

    def instance(self):
        if not self.inst:
            self.inst = self.start_instance(config={
                "autocreate_quota": "0", "delete_mode": "immediate",
                "admins": "admin"})
        return self.inst

    def test_capability(self):
        s = self.login()
        lines = self.ok(s, "c", "CAPABILITY")
        words = lines[0].split()
        self.assertIn(b"METADATA", words)
        self.assertIn(b"METADATA-SERVER", words)

    def test_missing_entry_is_nil(self):
        s = self.login()
        lines = self.ok(s, "g", "GETMETADATA INBOX /private/comment")
        self.assertEqual(lines, [b'* METADATA "INBOX" ("/private/comment" NIL)'])

    def test_set_and_get_private_and_shared(self):
        s = self.login()
        self.ok(s, "s", 'SETMETADATA INBOX (/private/comment "mine" '
                        '/shared/comment "ours")')
        lines = self.ok(s, "g", "GETMETADATA INBOX (/shared/comment "
                                "/private/comment)")
        self.assertEqual(lines, [b'* METADATA "INBOX" ("/shared/comment" "ours"'
                                 b' "/private/comment" "mine")'])

    def test_private_is_per_user_shared_is_not(self):
        s = self.login()
        self.ok(s, "a", "SETACL INBOX barney lr")
        self.ok(s, "s", 'SETMETADATA INBOX (/private/comment "fred only" '
                        '/shared/comment "for all")')
        b = self.login("barney")
        lines = self.ok(b, "g", 'GETMETADATA "Other Users/fred" '
                                '(/private/comment /shared/comment)')
        self.assertEqual(lines, [b'* METADATA "Other Users/fred" '
                                 b'("/private/comment" NIL "/shared/comment" '
                                 b'"for all")'])

    def test_nil_removes(self):
        s = self.login()
        self.ok(s, "s", 'SETMETADATA INBOX (/shared/comment "x")')
        self.ok(s, "d", "SETMETADATA INBOX (/shared/comment NIL)")
        lines = self.ok(s, "g", "GETMETADATA INBOX /shared/comment")
        self.assertEqual(lines, [b'* METADATA "INBOX" ("/shared/comment" NIL)'])

    def test_multiline_literal_value(self):
        s = self.login()
        value = b"line one\r\nline two"
        s.send(b"s SETMETADATA INBOX (/private/comment {%d+}\r\n" % len(value)
               + value + b")\r\n")
        _, tagged = read_response(s, "s")
        self.assertOK(tagged, "s")
        lines = self.ok(s, "g", "GETMETADATA INBOX /private/comment")
        self.assertEqual(lines, [b'* METADATA "INBOX" ("/private/comment" {18}'
                                 b'\r\nline one\r\nline two)'])

    def test_depth_and_vendor_entries(self):
        s = self.login()
        self.ok(s, "s", 'SETMETADATA INBOX (/private/vendor/ex/a "1" '
                        '/private/vendor/ex/a/b "2" '
                        '/private/vendor/ex/a/b/c "3")')
        lines = self.ok(s, "g0", "GETMETADATA INBOX /private/vendor/ex/a")
        self.assertEqual(lines, [b'* METADATA "INBOX" '
                                 b'("/private/vendor/ex/a" "1")'])
        lines = self.ok(s, "g1", "GETMETADATA (DEPTH 1) INBOX "
                                 "/private/vendor/ex/a")
        self.assertEqual(lines, [b'* METADATA "INBOX" ("/private/vendor/ex/a" '
                                 b'"1" "/private/vendor/ex/a/b" "2")'])
        lines = self.ok(s, "gi", "GETMETADATA (DEPTH infinity) INBOX "
                                 "/private/vendor/ex/a")
        self.assertIn(b'"/private/vendor/ex/a/b/c" "3"', lines[0])

    def test_maxsize_reports_longentries(self):
        s = self.login()
        self.ok(s, "s", 'SETMETADATA INBOX (/shared/comment "0123456789" '
                        '/private/comment "short")')
        untagged, tagged = self.cmd(s, "g", "GETMETADATA (MAXSIZE 5) INBOX "
                                            "(/shared/comment /private/comment)")
        self.assertOK(tagged, "g")
        self.assertIn(b"[METADATA LONGENTRIES 10]", tagged)
        self.assertEqual(untagged, [b'* METADATA "INBOX" '
                                    b'("/private/comment" "short")'])

    def test_server_annotations_admin_only(self):
        s = self.login()
        _, tagged = self.cmd(s, "s", 'SETMETADATA "" (/shared/comment "hi")')
        self.assertNO(tagged, "s")
        a = self.admin()
        self.ok(a, "s", 'SETMETADATA "" (/shared/comment "hello")')
        lines = self.ok(s, "g", 'GETMETADATA "" /shared/comment')
        self.assertEqual(lines, [b'* METADATA "" ("/shared/comment" "hello")'])

    def test_bad_entry_names_are_bad(self):
        s = self.login()
        for i, entry in enumerate(["/comment", "/shared/a//b", "/shared/x*",
                                   "/private/", "/shared/a%"]):
            _, tagged = self.cmd(s, "b%d" % i,
                                 'SETMETADATA INBOX (%s "v")' % entry)
            self.assertBAD(tagged, "b%d" % i)
        lines = self.ok(s, "g", "GETMETADATA (DEPTH infinity) INBOX /shared")
        self.assertEqual(lines, [])

    def test_undefined_entry_refused(self):
        s = self.login()
        _, tagged = self.cmd(s, "s", 'SETMETADATA INBOX (/shared/foo "v")')
        self.assertNO(tagged, "s")

    def test_all_or_nothing(self):
        s = self.login()
        _, tagged = self.cmd(s, "s", 'SETMETADATA INBOX (/shared/comment "x" '
                                     '/shared/undefined "y")')
        self.assertNO(tagged, "s")
        lines = self.ok(s, "g", "GETMETADATA INBOX /shared/comment")
        self.assertEqual(lines, [b'* METADATA "INBOX" ("/shared/comment" NIL)'])

    def test_too_big_value(self):
        s = self.login()
        size = 256 * 1024 + 1
        s.send(b"s SETMETADATA INBOX (/shared/comment {%d}\r\n" % size)
        line = s.expect_line()
        self.assertTrue(line.startswith(b"s NO [METADATA MAXSIZE "), line)
        self.assertNoopOK(s)

    def test_needs_rights(self):
        s = self.login()
        self.ok(s, "c", "CREATE priv")
        self.ok(s, "a", "SETACL priv barney l")
        b = self.login("barney")
        _, tagged = self.cmd(b, "g", 'GETMETADATA "Other Users/fred/priv" '
                                     '/shared/comment')
        self.assertNO(tagged, "g")
        _, tagged = self.cmd(b, "s", 'SETMETADATA "Other Users/fred/priv" '
                                     '(/shared/comment "x")')
        self.assertNO(tagged, "s")
        _, tagged = self.cmd(b, "g2", 'GETMETADATA "Other Users/fred/nope" '
                                      '/shared/comment')
        self.assertIn(b"[NONEXISTENT]", tagged)

    def test_renamed_mailbox_keeps_deleted_loses(self):
        s = self.login()
        self.ok(s, "c", "CREATE m1")
        self.ok(s, "s", 'SETMETADATA m1 (/shared/comment "travels")')
        self.ok(s, "r", "RENAME m1 m2")
        lines = self.ok(s, "g", "GETMETADATA m2 /shared/comment")
        self.assertEqual(lines, [b'* METADATA "m2" ("/shared/comment" '
                                 b'"travels")'])
        self.ok(s, "d", "DELETE m2")
        self.ok(s, "c2", "CREATE m2")
        lines = self.ok(s, "g2", "GETMETADATA m2 /shared/comment")
        self.assertEqual(lines, [b'* METADATA "m2" ("/shared/comment" NIL)'])

    def test_annotation_storage_quota(self):
        s = self.login()
        a = self.admin()
        self.ok(a, "q", "SETQUOTA user/fred (X-ANNOTATION-STORAGE 1)")
        self.ok(s, "s1", 'SETMETADATA INBOX (/shared/comment "%s")'
                % ("a" * 600))
        _, tagged = self.cmd(s, "s2", 'SETMETADATA INBOX (/private/comment '
                                      '"%s")' % ("b" * 600))
        self.assertNO(tagged, "s2")
        self.assertIn(b"[OVERQUOTA]", tagged)
        lines = self.ok(s, "q", "GETQUOTAROOT INBOX")
        self.assertTrue(any(b"X-ANNOTATION-STORAGE 0 1" in l for l in lines),
                        lines)

    def test_second_session_sees_change(self):
        s = self.login()
        t = self.login()
        self.ok(s, "s", 'SETMETADATA INBOX (/private/comment "v1")')
        lines = self.ok(t, "g", "GETMETADATA INBOX /private/comment")
        self.assertEqual(lines, [b'* METADATA "INBOX" ("/private/comment" "v1")'])
