"""imap: IDLE (RFC 2177): other sessions' changes arrive while idling."""

import time

from imap.selected_util import SelectedTestCase, read_response


class IdleTest(SelectedTestCase):
    def idle(self, s):
        s.send(b"I IDLE\r\n")
        self.assertEqual(s.expect_line(), b"+ idling")

    def test_idle_done(self):
        s = self.fill(1)
        self.idle(s)
        s.send(b"DONE\r\n")
        _, tagged = read_response(s, "I")
        self.assertOK(tagged, "I")

    def test_idle_reports_append_promptly(self):
        s = self.fill(1)
        t = self.login()
        self.idle(s)
        start = time.monotonic()
        self.append(t)
        self.assertEqual(s.expect_line(timeout=2), b"* 2 EXISTS")
        self.assertEqual(s.expect_line(timeout=2), b"* 2 RECENT")
        self.assertLess(time.monotonic() - start, 1.5)
        s.send(b"DONE\r\n")
        _, tagged = read_response(s, "I")
        self.assertOK(tagged, "I")

    def test_idle_reports_flags_and_expunge(self):
        s = self.fill(2)
        t = self.login()
        self.select(t)
        self.idle(s)
        self.ok(t, "A", "STORE 1 +FLAGS.SILENT (\\Flagged)")
        self.assertEqual(s.expect_line(timeout=2), b"* 1 FETCH (FLAGS (\\Flagged \\Recent))")
        self.ok(t, "B", "STORE 2 +FLAGS.SILENT (\\Deleted)")
        self.ok(t, "C", "EXPUNGE")
        lines = [s.expect_line(timeout=2)]
        while lines[-1] != b"* 2 EXPUNGE":
            lines.append(s.expect_line(timeout=2))
        s.send(b"DONE\r\n")
        _, tagged = read_response(s, "I")
        self.assertOK(tagged, "I")

    def test_idle_garbage_is_bad(self):
        s = self.fill(0)
        self.idle(s)
        s.send(b"NOTDONE\r\n")
        _, tagged = read_response(s, "I")
        self.assertBAD(tagged, "I")
        self.ok(s, "N", "NOOP")

    def test_idle_in_authenticated_state(self):
        s = self.login()
        self.idle(s)
        s.send(b"done\r\n")
        _, tagged = read_response(s, "I")
        self.assertOK(tagged, "I")
