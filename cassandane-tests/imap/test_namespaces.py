"""imap: the namespace options, as Cyrus has them.

altnamespace yes/no x unixhierarchysep yes/no: NAMESPACE, LIST, CREATE
and SELECT of personal, other users' and shared mailboxes; virtdomains
(a user sees his own domain, the admin every domain); autocreate_quota
(-1: no INBOX at login; 0: an INBOX without limits; n: with n KiB);
modified UTF-7 names (valid ones accepted, invalid ones refused).
"""

import re

from imap.selected_util import SelectedTestCase, message
from imap.test_mailbox import names

BASE = {"autocreate_quota": "0", "delete_mode": "immediate"}

# (altnamespace, unixhierarchysep) -> what fred sees
LAYOUTS = {
    ("yes", "yes"): {
        "namespace": '(("" "/")) (("Other Users/" "/")) (("Shared Folders/" "/"))',
        "personal": "", "other": "Other Users/", "shared": "Shared Folders/",
        "top": ["INBOX", "Other Users", "Shared Folders", "Work"],
    },
    ("yes", "no"): {
        "namespace": '(("" ".")) (("Other Users." ".")) (("Shared Folders." "."))',
        "personal": "", "other": "Other Users.", "shared": "Shared Folders.",
        "top": ["INBOX", "Other Users", "Shared Folders", "Work"],
    },
    ("no", "yes"): {
        "namespace": '(("INBOX/" "/")) (("user/" "/")) (("" "/"))',
        "personal": "INBOX/", "other": "user/", "shared": "",
        "top": ["INBOX", "shared", "user"],
    },
    ("no", "no"): {
        "namespace": '(("INBOX." ".")) (("user." ".")) (("" "."))',
        "personal": "INBOX.", "other": "user.", "shared": "",
        "top": ["INBOX", "shared", "user"],
    },
}


def attrs_of(lines):
    """{name: set of attributes} of LIST lines."""
    out = {}
    for l in lines:
        m = re.match(rb'\* LIST \(([^)]*)\) "(?:[^"]*)" (.*)$', l)
        if m:
            name = m.group(2).decode()
            if name.startswith('"'):
                name = name[1:-1]
            out[name] = set(m.group(1).decode().split())
    return out


class NamespaceTest(SelectedTestCase):
    def start(self, **config):
        conf = dict(BASE)
        conf.update(config)
        self.inst = self.start_instance(config=conf)
        return self.inst

    def layout_test(self, alt, unix):
        lay = LAYOUTS[(alt, unix)]
        sep = "/" if unix == "yes" else "."
        self.start(altnamespace=alt, unixhierarchysep=unix)
        S = lambda n: n.replace("/", sep)  # noqa: E731
        admin = self.login("admin")
        for c in ("CREATE user/bob", "CREATE user/bob/share",
                  "SETACL user/bob/share fred lrs", "CREATE shared",
                  "CREATE shared/news", "SETACL shared anyone lrs",
                  "SETACL shared/news anyone lrs"):
            self.ok(admin, "a", S(c))
        s = self.login("fred")
        lines = self.ok(s, "n", "NAMESPACE")
        self.assertEqual(lines, [("* NAMESPACE " + lay["namespace"]).encode()])

        work = lay["personal"] + "Work"
        self.ok(s, "c1", 'CREATE "%s"' % work)
        self.ok(s, "c2", 'CREATE "%s%sSub"' % (work, sep))
        share = "%sbob%sshare" % (lay["other"], sep)
        news = "%sshared%snews" % (lay["shared"], sep)
        listed = attrs_of(self.ok(s, "l", 'LIST "" "*"'))
        self.assertEqual(sorted(listed), sorted([
            "INBOX", work, work + sep + "Sub", share, news,
            lay["shared"] + "shared"]))
        self.assertIn("\\HasChildren", listed[work])
        self.assertIn("\\HasNoChildren", listed[share])
        top = attrs_of(self.ok(s, "l2", 'LIST "" "%"'))
        self.assertEqual(sorted(top), sorted(lay["top"]))
        if alt == "yes":
            self.assertIn("\\Noselect", top["Other Users"])
            self.assertIn("\\Noselect", top["Shared Folders"])
        else:
            self.assertIn("\\Noselect", top["user"])
        self.assertEqual(attrs_of(self.ok(s, "l3", 'LIST "%s" "%%"' % lay["other"])),
                         {lay["other"] + "bob": {"\\Noselect", "\\HasChildren"}})

        self.ok(s, "s1", 'SELECT "%s"' % share)
        self.ok(s, "s2", 'SELECT "%s"' % news)
        self.ok(s, "s3", 'SELECT "%s"' % work)
        self.ok(s, "s4", 'STATUS "%s" (MESSAGES)' % news)
        # fred may not create in bob's or the shared space (no 'k')
        for i, name in enumerate((share + sep + "x", news + sep + "x")):
            _, tagged = self.cmd(s, "n%d" % i, 'CREATE "%s"' % name)
            self.assertNO(tagged, "n%d" % i)
        # what fred made is in his own hierarchy
        lines = self.ok(admin, "al", S('LIST "" "user/fred/*"'))
        self.assertEqual(sorted(names(lines)), [S("user/fred/Work"),
                                                S("user/fred/Work/Sub")])

    def test_altnamespace_unixsep(self):
        self.layout_test("yes", "yes")

    def test_altnamespace_dotsep(self):
        self.layout_test("yes", "no")

    def test_standard_unixsep(self):
        self.layout_test("no", "yes")

    def test_standard_dotsep(self):
        self.layout_test("no", "no")

    def test_standard_namespace_toplevel_create_needs_rights(self):
        """Without altnamespace a top-level name is a shared mailbox:
        a user may not create one."""
        self.start(altnamespace="no")
        s = self.login("fred")
        _, tagged = self.cmd(s, "c", "CREATE Work")
        self.assertNO(tagged, "c")
        self.ok(s, "c2", "CREATE INBOX/Work")
        self.assertEqual(names(self.ok(s, "l", 'LIST "" "*"')), ["INBOX", "INBOX/Work"])

    def test_admin_has_no_personal_namespace(self):
        self.start()
        s = self.login("admin")
        self.assertEqual(self.ok(s, "n", "NAMESPACE"),
                         [b'* NAMESPACE NIL (("user/" "/")) (("" "/"))'])

    # --- virtdomains ----------------------------------------------------------

    def virtdomains(self):
        self.start(virtdomains="userid")
        admin = self.login("admin")
        for c in ("CREATE user/fred@example.com", "CREATE user/bob@example.com",
                  "CREATE user/bob/share@example.com",
                  "SETACL user/bob/share@example.com fred@example.com lrs",
                  "CREATE user/carl@other.org", "CREATE user/carl/pub@other.org",
                  "SETACL user/carl/pub@other.org anyone lrs"):
            self.ok(admin, "a", c)
        return admin

    def test_virtdomains_user_sees_own_domain(self):
        self.virtdomains()
        s = self.login("fred@example.com")
        self.assertEqual(self.ok(s, "n", "NAMESPACE"), [
            b'* NAMESPACE (("" "/")) (("Other Users/" "/")) (("Shared Folders/" "/"))'])
        self.ok(s, "c", "CREATE Work")
        self.assertEqual(sorted(names(self.ok(s, "l", 'LIST "" "*"'))),
                         ["INBOX", "Other Users/bob/share", "Work"])
        self.ok(s, "s", 'SELECT "Other Users/bob/share"')
        # carl's "anyone" is anyone of other.org
        _, tagged = self.cmd(s, "s2", 'SELECT "Other Users/carl/pub"')
        self.assertNO(tagged, "s2")
        self.assertIn(b"[NONEXISTENT]", tagged)
        # fred of the default domain is someone else
        plain = self.login("fred")
        self.assertEqual(names(self.ok(plain, "l", 'LIST "" "*"')), ["INBOX"])
        admin = self.login("admin")
        self.assertEqual(names(self.ok(admin, "l", 'LIST "" "user/fred/*@example.com"')),
                         ["user/fred/Work@example.com"])

    def test_virtdomains_admin_sees_every_domain(self):
        admin = self.virtdomains()
        self.login("fred")               # autocreates user/fred (no domain)
        listed = attrs_of(self.ok(admin, "l", 'LIST "" "*"'))
        self.assertEqual(sorted(listed), [
            "user/bob/share@example.com", "user/bob@example.com",
            "user/carl/pub@other.org", "user/carl@other.org", "user/fred",
            "user/fred@example.com"])
        # user/fred has no children: user/fred@example.com is another user
        self.assertIn("\\HasNoChildren", listed["user/fred"])
        self.assertIn("\\HasChildren", listed["user/bob@example.com"])
        self.ok(admin, "g", "GETACL user/bob/share@example.com")

    # --- autocreate_quota -----------------------------------------------------

    def test_autocreate_off(self):
        self.start(autocreate_quota="-1")
        s = self.login("fred")
        self.assertEqual(names(self.ok(s, "l", 'LIST "" "*"')), [])
        _, tagged = self.cmd(s, "s", "SELECT INBOX")
        self.assertNO(tagged, "s")
        self.assertEqual(self.ok(s, "n", "NAMESPACE"), [
            b'* NAMESPACE NIL (("Other Users/" "/")) (("Shared Folders/" "/"))'])
        admin = self.login("admin")
        self.assertEqual(names(self.ok(admin, "l", 'LIST "" "*"')), [])

    def test_autocreate_without_limit(self):
        self.start(autocreate_quota="0")
        s = self.login("fred")
        self.assertEqual(names(self.ok(s, "l", 'LIST "" "*"')), ["INBOX"])
        self.ok(s, "s", "SELECT INBOX")
        self.append(s, "INBOX", message("first"))
        admin = self.login("admin")
        self.assertEqual(names(self.ok(admin, "l", 'LIST "" "*"')), ["user/fred"])

    def test_autocreate_with_limit(self):
        self.start(autocreate_quota="100", autocreate_quota_messages="5")
        s = self.login("fred")
        lines = self.ok(s, "q", "GETQUOTAROOT INBOX")
        self.assertIn(b"* QUOTAROOT INBOX INBOX", lines)
        self.assertIn(b"* QUOTA INBOX (STORAGE 0 100 MESSAGE 0 5)", lines)

    # --- modified UTF-7 names -------------------------------------------------

    def test_utf7_names(self):
        self.start()
        s = self.login("fred")
        good = ["&AOQ-bc", "a&-b", "&U,BTFw-", "&ZeVnLIqe-", "&AOQA5A-", "&-"]
        bad = ["&AOQ", "&Jjo!", "&AGE-", "x&AOQ-&AOQ-", "a&AOQ", "a\tb"]
        for i, n in enumerate(good):
            self.ok(s, "g%d" % i, 'CREATE "%s"' % n)
        for i, n in enumerate(bad):
            _, tagged = self.cmd(s, "b%d" % i, 'CREATE "%s"' % n)
            self.assertTrue(tagged.split()[1] in (b"NO", b"BAD"), tagged)
        self.assertEqual(sorted(names(self.ok(s, "l", 'LIST "" "*"'))),
                         sorted(["INBOX"] + good))
        self.ok(s, "s", 'SELECT "&AOQ-bc"')
        self.ok(s, "r", 'RENAME "&AOQ-bc" "&ZeVnLIqe-2"')
        self.assertIn(b"* STATUS &ZeVnLIqe-2 (MESSAGES 0)",
                      self.ok(s, "st", 'STATUS "&ZeVnLIqe-2" (MESSAGES)'))
        # 8-bit in a quoted string is a syntax error in IMAP4rev1
        _, tagged = self.cmd(s, "e", 'CREATE "\xc3\xa4"')
        self.assertTrue(tagged.split()[1] in (b"NO", b"BAD"), tagged)
        self.assertEqual(sorted(names(self.ok(s, "l2", 'LIST "" "*"'))),
                         sorted(["INBOX", "&ZeVnLIqe-2"] + good[1:]))
