"""quota: GETQUOTA, GETQUOTAROOT, SETQUOTA and refusals over quota."""

import re

from imap.selected_util import SelectedTestCase, message, read_response


class QuotaTest(SelectedTestCase):
    def test_setquota_needs_admin(self):
        s = self.login()
        _, tagged = self.cmd(s, "q", "SETQUOTA INBOX (STORAGE 100)")
        self.assertNO(tagged, "q")
        self.assertIn(b"[NOPERM]", tagged)
        _, tagged = self.cmd(s, "g", "GETQUOTA INBOX")
        self.assertNO(tagged, "g")

    def test_admin_sets_and_user_reads(self):
        self.login("fred")
        admin = self.login("admin")
        self.ok(admin, "q", "SETQUOTA user/fred (STORAGE 100 MESSAGE 10)")
        lines = self.ok(admin, "g", "GETQUOTA user/fred")
        self.assertIn(b"* QUOTA user/fred (STORAGE 0 100 MESSAGE 0 10)", lines)
        fred = self.login("fred")
        lines = self.ok(fred, "r", "GETQUOTAROOT INBOX")
        self.assertIn(b"* QUOTAROOT INBOX INBOX", lines)
        self.assertIn(b"* QUOTA INBOX (STORAGE 0 100 MESSAGE 0 10)", lines)

    def test_usage_counts_messages(self):
        fred = self.login("fred")
        self.append(fred, "INBOX")
        admin = self.login("admin")
        self.ok(admin, "q", "SETQUOTA user/fred (MESSAGE 10)")
        lines = self.ok(admin, "g", "GETQUOTA user/fred")
        self.assertIn(b"* QUOTA user/fred (MESSAGE 1 10)", lines)

    def test_append_over_message_quota(self):
        fred = self.login("fred")
        admin = self.login("admin")
        self.ok(admin, "q", "SETQUOTA user/fred (MESSAGE 1)")
        self.append(fred, "INBOX")
        msg = message("second")
        fred.send(b"a APPEND INBOX {%d+}\r\n" % len(msg) + msg + b"\r\n")
        _, tagged = read_response(fred, "a")
        self.assertNO(tagged, "a")
        self.assertIn(b"[OVERQUOTA]", tagged)

    def test_create_over_folder_quota(self):
        fred = self.login("fred")
        admin = self.login("admin")
        self.ok(admin, "q", "SETQUOTA user/fred (X-NUM-FOLDERS 1)")
        _, tagged = self.cmd(fred, "c", "CREATE extra")
        self.assertNO(tagged, "c")
        self.assertIn(b"[OVERQUOTA]", tagged)

    def test_getquotaroot_without_root(self):
        fred = self.login("fred")
        lines = self.ok(fred, "r", "GETQUOTAROOT INBOX")
        self.assertIn(b"* QUOTAROOT INBOX", lines)

    def test_setquota_bad_syntax(self):
        admin = self.login("admin")
        _, tagged = self.cmd(admin, "q", "SETQUOTA user/fred (STORAGE abc)")
        self.assertBAD(tagged, "q")

    def test_setquota_unknown_resource(self):
        self.login("fred")
        admin = self.login("admin")
        _, tagged = self.cmd(admin, "q", "SETQUOTA user/fred (BOGUS 10)")
        self.assertNO(tagged, "q")
        _, tagged = self.cmd(admin, "g", "GETQUOTA user/fred")
        self.assertNO(tagged, "g")
