"""lmtp: a mailbox lmtpd delivers to keeps its next UIDs reserved on disk
(doc/store-format.md, "Reservations").  What a client or an administrator
does with that mailbox meanwhile must work as on any other: IMAP APPEND,
flag changes and EXPUNGE between deliveries, UIDs that never repeat, and
reconstruct adding a message file copied in by hand just above the last
UID -- inside the reservation -- instead of taking it for a leftover."""

import imaplib
import os
import re
import sys
import threading

from cassandane.instance import HOST
from lmtp.lmtp_util import LmtpTestCase, UnixRawSession, dotstuff, message

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))), "tools"))
from tooltest import ToolTestCase  # noqa: E402


def uids_and_subjects(m):
    typ, data = m.uid("FETCH", "1:*", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
    assert typ == "OK", data
    out = []
    for item in data:
        if isinstance(item, tuple):
            uid = int(re.search(rb"UID (\d+)", item[0]).group(1))
            subj = item[1].strip().decode().split(": ", 1)[1]
            out.append((uid, subj))
    return sorted(out)


class ReservationTest(LmtpTestCase, ToolTestCase):
    def deliver_one(self, s, subject):
        rr, dr = self.deliver(s, ["fred"], message(subject))
        self.assertEqual(rr, [b"250 2.1.5 ok"])
        self.assertTrue(dr[0].startswith(b"250 2.1.5"), dr)

    def test_imap_changes_between_deliveries(self):
        self.start_lmtp()
        s = self.lmtp_unix()
        self.lhlo(s)
        self.deliver_one(s, "d1")
        self.deliver_one(s, "d2")

        m = self.user("fred")
        typ, data = m.append("INBOX", None, None, message("a3"))
        self.assertEqual(typ, "OK", data)
        self.assertIn(b"[APPENDUID ", data[0])
        self.assertIn(b" 3]", data[0])
        self.deliver_one(s, "d4")
        self.assertEqual(m.select("INBOX")[0], "OK")
        self.assertEqual(m.uid("STORE", "1", "+FLAGS", r"(\Deleted)")[0], "OK")
        self.assertEqual(m.expunge()[0], "OK")
        self.deliver_one(s, "d5")
        self.assertEqual(m.noop()[0], "OK")     # the session learns of d5
        self.assertEqual(uids_and_subjects(m),
                         [(2, "d2"), (3, "a3"), (4, "d4"), (5, "d5")])
        typ, data = m.status("INBOX", "(UIDNEXT MESSAGES)")
        self.assertIn(b"UIDNEXT 6", data[0])
        self.assertIn(b"MESSAGES 4", data[0])
        r = self.tool("reconstruct", "user/fred")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, "user/fred\n")

    def test_reconstruct_adds_file_copied_in_by_hand(self):
        self.start_lmtp()
        s = self.lmtp_unix()
        self.lhlo(s)
        for n in range(1, 4):
            self.deliver_one(s, "d%d" % n)
        d = self.mailbox_dir("user/fred")
        extra = message("copied in by hand")
        # UID 4 is the next one: inside lmtpd's reservation.
        self.write_message_file(d, 4, extra)
        r = self.tool("reconstruct", "user/fred")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout,
                         "user.fred uid 4 found - adding\nuser/fred\n")
        self.assertTrue(os.path.exists(os.path.join(d, "4.")))
        self.deliver_one(s, "d5")
        m = self.user("fred")
        self.assertEqual(m.select("INBOX", readonly=True)[0], "OK")
        self.assertEqual(uids_and_subjects(m),
                         [(1, "d1"), (2, "d2"), (3, "d3"),
                          (4, "copied in by hand"), (5, "d5")])

    def test_concurrent_deliveries_and_imap_appends(self):
        """Four LMTP sessions deliver while an IMAP client appends,
        flags and expunges in the same mailbox: every acknowledged
        message is there once, UIDs are distinct and ascending in arrival
        order, and reconstruct finds nothing to repair."""
        self.start_lmtp()
        sessions, per_session, appends = 4, 25, 15
        errors = []

        def lmtp_worker(k):
            try:
                s = UnixRawSession(self.sockpath)
                s.expect_line()
                s.send_line("LHLO test.example.com")
                self.reply(s)
                for i in range(per_session):
                    s.send_line("MAIL FROM:<a@example.com>")
                    self.reply(s)
                    s.send_line("RCPT TO:<fred>")
                    self.reply(s)
                    s.send_line("DATA")
                    self.reply(s)
                    s.send(dotstuff(message("l%d-%d" % (k, i))))
                    r = self.reply(s)[-1]
                    if not r.startswith(b"250"):
                        errors.append(r)
                s.close()
            except Exception as e:      # reported below, in the test
                errors.append(e)

        def imap_worker():
            try:
                m = imaplib.IMAP4(HOST, self.inst.service("imap").port,
                                  timeout=30)
                m.login("fred", "secret")
                for i in range(appends):
                    typ, data = m.append("INBOX", None, None,
                                         message("i%d" % i))
                    if typ != "OK":
                        errors.append(data)
                    if i % 5 == 4:
                        m.select("INBOX")
                        m.store("1:2", "+FLAGS", r"(\Deleted)")
                        m.expunge()
                        m.close()
                m.logout()
            except Exception as e:
                errors.append(e)

        threads = [threading.Thread(target=lmtp_worker, args=(k,))
                   for k in range(sessions)]
        threads.append(threading.Thread(target=imap_worker))
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        self.assertEqual(errors, [])

        m = self.user("fred")
        self.assertEqual(m.select("INBOX", readonly=True)[0], "OK")
        got = uids_and_subjects(m)
        uids = [u for u, _ in got]
        self.assertEqual(len(uids), len(set(uids)))
        # 3 rounds of 2 expunged messages, whichever they were
        total = sessions * per_session + appends
        self.assertEqual(len(got), total - 6)
        # each session's deliveries got ascending UIDs, in its order
        for k in range(sessions):
            mine = [(u, int(sub.split("-")[1])) for u, sub in got
                    if sub.startswith("l%d-" % k)]
            self.assertEqual([i for _, i in mine], sorted(i for _, i in mine))
        typ, data = m.status("INBOX", "(UIDNEXT)")
        self.assertIn(b"UIDNEXT %d" % (total + 1), data[0])
        r = self.tool("reconstruct", "user/fred")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, "user/fred\n")
