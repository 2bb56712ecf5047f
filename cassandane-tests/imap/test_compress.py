"""imap: COMPRESS=DEFLATE (RFC 4978), also stacked over STARTTLS."""

import re

from imap.compress_util import start_deflate
from imap.selected_util import SelectedTestCase, message, read_response


class CompressTest(SelectedTestCase):
    def compress(self, s, tag="z"):
        _, tagged = s.command(tag, "COMPRESS DEFLATE")
        self.assertOK(tagged, tag)
        return start_deflate(s)

    def test_advertised_after_login_only(self):
        inst = self.instance()
        with inst.raw() as s:
            s.expect_line()
            self.assertNotIn("COMPRESS=DEFLATE", self.capabilities(s))
            _, tagged = s.command("L", "LOGIN fred secret")
            self.assertOK(tagged, "L")
            self.assertIn("COMPRESS=DEFLATE", self.capabilities(s))

    def test_compressed_session_works(self):
        s = self.login()
        self.compress(s)
        self.assertNoopOK(s)
        caps = self.capabilities(s, "c2")
        self.assertNotIn("COMPRESS=DEFLATE", caps)
        untagged = self.ok(s, "l", 'LIST "" INBOX')
        self.assertTrue(any(b"INBOX" in l for l in untagged), untagged)

    def test_second_compress_is_compressionactive(self):
        s = self.login()
        self.compress(s)
        _, tagged = s.command("z2", "COMPRESS DEFLATE")
        self.assertNO(tagged, "z2")
        self.assertIn(b"[COMPRESSIONACTIVE]", tagged)
        # Still one layer: the session goes on in the same stream.
        self.assertNoopOK(s)

    def test_unknown_algorithm_is_bad_and_nothing_changes(self):
        s = self.login()
        _, tagged = s.command("z", "COMPRESS GZIP")
        self.assertBAD(tagged, "z")
        # Not compressed: a plain command still gets a plain answer.
        self.assertNoopOK(s)
        self.assertIn("COMPRESS=DEFLATE", self.capabilities(s))

    def test_missing_argument_is_bad(self):
        s = self.login()
        _, tagged = s.command("z", "COMPRESS")
        self.assertBAD(tagged, "z")
        _, tagged = s.command("z2", "COMPRESS DEFLATE extra")
        self.assertBAD(tagged, "z2")
        self.assertNoopOK(s)

    def test_not_before_login(self):
        inst = self.instance()
        with inst.raw() as s:
            s.expect_line()
            _, tagged = s.command("z", "COMPRESS DEFLATE")
            self.assertBAD(tagged, "z")
            self.assertNoopOK(s)

    def test_large_message_round_trip(self):
        s = self.login()
        stats = self.compress(s)
        body = "".join("line %06d of a compressible body\r\n" % i
                       for i in range(6000))
        msg = message("big", body=body)
        s.send(b"a APPEND INBOX {%d+}\r\n" % len(msg) + msg + b"\r\n")
        _, tagged = read_response(s, "a")
        self.assertOK(tagged, "a")
        self.ok(s, "s", "SELECT INBOX")
        s.send(b"f FETCH 1 BODY.PEEK[]\r\n")
        untagged, tagged = read_response(s, "f")
        self.assertOK(tagged, "f")
        fetch = [l for l in untagged if b"FETCH" in l]
        self.assertEqual(len(fetch), 1)
        self.assertIn(msg, fetch[0])
        # It really went compressed: far fewer bytes on the wire.
        self.assertLess(stats["raw_in"], len(msg) // 4)
        self.assertLess(stats["raw_out"], len(msg) // 4)

    def test_compress_after_starttls(self):
        inst = self.start_instance(tls=True, config={"autocreate_quota": "0"})
        with inst.raw() as s:
            s.expect_line()
            _, tagged = s.command("t", "STARTTLS")
            self.assertOK(tagged, "t")
            s.starttls(inst.ssl_context())
            _, tagged = s.command("L", "LOGIN fred secret")
            self.assertOK(tagged, "L")
            self.compress(s)
            msg = message("tls and deflate", body="x" * 5000 + "\r\n")
            s.send(b"a APPEND INBOX {%d+}\r\n" % len(msg) + msg + b"\r\n")
            _, tagged = read_response(s, "a")
            self.assertOK(tagged, "a")
            untagged, tagged = self.cmd(s, "st", "STATUS INBOX (MESSAGES)")
            self.assertOK(tagged, "st")
            self.assertTrue(any(re.search(rb"MESSAGES 1\)", l) for l in untagged),
                            untagged)
            self.ok(s, "s", "EXAMINE INBOX")
            untagged, tagged = self.cmd(s, "f", "FETCH 1 BODY.PEEK[TEXT]")
            self.assertOK(tagged, "f")
            self.assertIn(b"x" * 5000, b"".join(untagged))
