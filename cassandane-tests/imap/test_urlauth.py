"""imap: URLAUTH (RFC 4467): GENURLAUTH, URLFETCH, RESETKEY, the access
identifiers (submit+, user+, authuser, anonymous) and revocation."""

import re
import time

from imap.selected_util import CONFIG, SelectedTestCase, message, read_response

BODY = "The quick brown fox\r\njumps over the lazy dog.\r\n"


def quoted(s):
    return '"%s"' % s


class UrlauthTest(SelectedTestCase):
    def instance(self):
        if not self.inst:
            cfg = dict(CONFIG)
            cfg["submitservers"] = "postman"
            self.inst = self.start_instance(config=cfg)
        return self.inst

    def fred_with_message(self):
        s = self.login("fred")
        self.append(s, msg=message("secret", body=BODY))
        return s

    def genurlauth(self, s, rump, tag="g"):
        untagged, tagged = self.cmd(s, tag, "GENURLAUTH %s INTERNAL" % quoted(rump))
        self.assertOK(tagged, tag)
        gen = [l for l in untagged if l.startswith(b"* GENURLAUTH ")]
        self.assertEqual(len(gen), 1, untagged)
        m = re.match(rb'\* GENURLAUTH "([^"]*)"', gen[0])
        url = m.group(1).decode()
        self.assertTrue(url.startswith(rump + ":"), url)
        self.assertRegex(url[len(rump):], r"^:INTERNAL:[0-9a-f]{32,}$")
        return url

    def urlfetch(self, s, url, tag="u"):
        untagged, tagged = self.cmd(s, tag, "URLFETCH %s" % quoted(url))
        self.assertOK(tagged, tag)
        resp = [l for l in untagged if l.startswith(b"* URLFETCH ")]
        self.assertEqual(len(resp), 1, untagged)
        line = resp[0]
        if line.endswith(b" NIL"):
            return None
        m = re.search(rb"\{(\d+)\}\r\n", line)
        return line[m.end():m.end() + int(m.group(1))]

    def test_capability_and_urlmech_on_select(self):
        s = self.login()
        self.assertIn("URLAUTH", self.capabilities(s))
        untagged = self.select(s)
        self.assertIn(b"* OK [URLMECH INTERNAL]", b"\n".join(untagged))

    def test_user_access_for_another_user(self):
        s = self.fred_with_message()
        url = self.genurlauth(
            s, "imap://fred@localhost/INBOX/;UID=1/;SECTION=1;URLAUTH=user+barney")
        b = self.login("barney")
        self.assertEqual(self.urlfetch(b, url), BODY.encode())
        w = self.login("wilma")
        self.assertIsNone(self.urlfetch(w, url))
        # The owner is not barney either.
        self.assertIsNone(self.urlfetch(s, url, "u2"))

    def test_submit_access_needs_submitserver(self):
        s = self.fred_with_message()
        url = self.genurlauth(
            s, "imap://fred@localhost/INBOX/;UID=1;URLAUTH=submit+fred")
        postman = self.login("postman")
        data = self.urlfetch(postman, url)
        self.assertIn(b"Subject: secret", data)
        self.assertTrue(data.endswith(BODY.encode()))
        b = self.login("barney")
        self.assertIsNone(self.urlfetch(b, url))

    def test_authuser_and_partial(self):
        s = self.fred_with_message()
        url = self.genurlauth(
            s, "imap://fred@localhost/INBOX/;UID=1/;SECTION=TEXT/;PARTIAL=4.5"
               ";URLAUTH=authuser")
        b = self.login("barney")
        self.assertEqual(self.urlfetch(b, url), b"quick")

    def test_tampered_url_or_token_is_nil(self):
        s = self.fred_with_message()
        self.append(s, msg=message("other", body="other body\r\n"))
        url = self.genurlauth(
            s, "imap://fred@localhost/INBOX/;UID=1;URLAUTH=anonymous")
        b = self.login("barney")
        self.assertIsNotNone(self.urlfetch(b, url))
        self.assertIsNone(self.urlfetch(b, url.replace(";UID=1", ";UID=2"), "u2"))
        bad = url[:-1] + ("0" if url[-1] != "0" else "1")
        self.assertIsNone(self.urlfetch(b, bad, "u3"))
        self.assertIsNone(self.urlfetch(b, url.replace(":INTERNAL:", ":XSAMPLE:"),
                                        "u4"))

    def test_resetkey_mailbox_revokes(self):
        s = self.fred_with_message()
        url = self.genurlauth(
            s, "imap://fred@localhost/INBOX/;UID=1;URLAUTH=authuser")
        b = self.login("barney")
        self.assertIsNotNone(self.urlfetch(b, url))
        _, tagged = self.cmd(s, "r", "RESETKEY INBOX INTERNAL")
        self.assertOK(tagged, "r")
        self.assertIn(b"[URLMECH INTERNAL]", tagged)
        self.assertIsNone(self.urlfetch(b, url, "u2"))
        url2 = self.genurlauth(
            s, "imap://fred@localhost/INBOX/;UID=1;URLAUTH=authuser", "g2")
        self.assertNotEqual(url, url2)
        self.assertIsNotNone(self.urlfetch(b, url2, "u3"))

    def test_resetkey_all_revokes(self):
        s = self.fred_with_message()
        self.ok(s, "c", "CREATE Other")
        self.append(s, "Other")
        u1 = self.genurlauth(s, "imap://fred@localhost/INBOX/;UID=1;URLAUTH=authuser")
        u2 = self.genurlauth(s, "imap://fred@localhost/Other/;UID=1;URLAUTH=authuser",
                             "g2")
        _, tagged = self.cmd(s, "r", "RESETKEY")
        self.assertOK(tagged, "r")
        b = self.login("barney")
        self.assertIsNone(self.urlfetch(b, u1))
        self.assertIsNone(self.urlfetch(b, u2, "u2"))

    def test_expired_url_is_nil(self):
        s = self.fred_with_message()
        expire = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 2))
        url = self.genurlauth(
            s, "imap://fred@localhost/INBOX/;UID=1;EXPIRE=%s;URLAUTH=authuser" % expire)
        b = self.login("barney")
        self.assertIsNotNone(self.urlfetch(b, url))
        time.sleep(3)
        self.assertIsNone(self.urlfetch(b, url, "u2"))

    def test_owner_rights_checked_at_fetch(self):
        barney = self.login("barney")
        self.ok(barney, "c", "CREATE shared")
        self.append(barney, "shared")
        self.ok(barney, "a", "SETACL shared fred lr")
        fred = self.login("fred")
        url = self.genurlauth(
            fred, "imap://fred@localhost/Other%20Users/barney/shared/;UID=1"
                  ";URLAUTH=authuser")
        w = self.login("wilma")
        self.assertIsNotNone(self.urlfetch(w, url))
        self.ok(barney, "d", "DELETEACL shared fred")
        self.assertIsNone(self.urlfetch(w, url, "u2"))

    def test_genurlauth_refusals_are_bad(self):
        s = self.fred_with_message()
        for tag, url, mech in (
                ("a", "imap://fred@localhost/INBOX/;UID=1", "INTERNAL"),
                ("b", "imap://localhost/INBOX/;UID=1;URLAUTH=authuser", "INTERNAL"),
                ("c", "imap://barney@localhost/INBOX/;UID=1;URLAUTH=authuser",
                 "INTERNAL"),
                ("d", "imap://fred@localhost/INBOX/;UID=1;URLAUTH=authuser", "XSAMPLE"),
                ("e", "imap://fred@localhost/Nosuch/;UID=1;URLAUTH=authuser",
                 "INTERNAL"),
                ("f", "imap://fred@localhost/INBOX/;UID=1;URLAUTH=bogus", "INTERNAL"),
                ("g", "imap://fred@localhost/INBOX;URLAUTH=authuser", "INTERNAL")):
            untagged, tagged = self.cmd(s, tag, "GENURLAUTH %s %s" % (quoted(url), mech))
            self.assertBAD(tagged, tag)
            self.assertFalse([l for l in untagged if b"GENURLAUTH" in l])

    def test_urlfetch_of_garbage_is_nil_and_ok(self):
        s = self.login()
        self.assertIsNone(self.urlfetch(s, "not a url"))
        self.assertIsNone(self.urlfetch(s, "imap://fred@localhost/INBOX", "u2"))

    def test_urlfetch_several(self):
        s = self.fred_with_message()
        url = self.genurlauth(s, "imap://fred@localhost/INBOX/;UID=1/;SECTION=1"
                                 ";URLAUTH=authuser")
        b = self.login("barney")
        untagged, tagged = self.cmd(b, "u", 'URLFETCH "%s" "junk" "%s"' % (url, url))
        self.assertOK(tagged, "u")
        resp = [l for l in untagged if l.startswith(b"* URLFETCH")]
        self.assertEqual(len(resp), 3)
        self.assertTrue(resp[1].endswith(b" NIL"))
        self.assertIn(BODY.encode(), resp[0])
        self.assertIn(BODY.encode(), resp[2])

    def test_not_before_login(self):
        inst = self.instance()
        with inst.raw() as s:
            s.expect_line()
            _, tagged = s.command("u", 'URLFETCH "x"')
            self.assertBAD(tagged, "u")
