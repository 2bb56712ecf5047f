"""imap: SAVEDATE (RFC 8514): FETCH SAVEDATE and the SEARCH keys
SAVEDBEFORE, SAVEDON, SAVEDSINCE and SAVEDATESUPPORTED."""

import re
import time
from datetime import datetime, timedelta

from imap.selected_util import SelectedTestCase, message, read_response

OLD_DATE = "01-Jan-2001 12:00:00 +0000"
DATE_TIME = re.compile(rb'SAVEDATE "([ \d]\d-[A-Z][a-z]{2}-\d{4} '
                       rb'\d\d:\d\d:\d\d [+-]\d{4})"')


def imap_day(d):
    return d.strftime("%d-%b-%Y")


class SaveDateTest(SelectedTestCase):
    def append_old(self, s, mailbox="INBOX", subject="old"):
        msg = message(subject)
        s.send(b'A APPEND %s "%s" {%d+}\r\n' % (mailbox.encode(),
                                               OLD_DATE.encode(), len(msg))
               + msg + b"\r\n")
        _, tagged = read_response(s, "A")
        self.assertOK(tagged, "A")

    def savedate(self, s, seq="1"):
        untagged = self.ok(s, "f", "FETCH %s SAVEDATE" % seq)
        self.assertEqual(len(untagged), 1, untagged)
        m = DATE_TIME.search(untagged[0])
        self.assertTrue(m, untagged)
        return datetime.strptime(m.group(1).decode().strip(),
                                 "%d-%b-%Y %H:%M:%S %z")

    def search(self, s, criteria):
        untagged = self.ok(s, "s", "SEARCH " + criteria)
        lines = [l for l in untagged if l.startswith(b"* SEARCH")]
        self.assertEqual(len(lines), 1, untagged)
        return [int(n) for n in lines[0].split()[2:]]

    def test_capability(self):
        s = self.login()
        self.assertIn("SAVEDATE", self.capabilities(s))

    def test_fetch_savedate_is_arrival_not_internaldate(self):
        s = self.login()
        before = datetime.now().astimezone().replace(microsecond=0)
        self.append_old(s)
        self.select(s)
        saved = self.savedate(s)
        self.assertGreaterEqual(saved, before)
        self.assertLess(saved - before, timedelta(minutes=5))
        untagged = self.ok(s, "f", "FETCH 1 INTERNALDATE")
        self.assertIn(b'INTERNALDATE " 1-Jan-2001', untagged[0])
        # UID FETCH too, with the UID.
        untagged = self.ok(s, "u", "UID FETCH 1 (SAVEDATE)")
        self.assertIn(b"UID 1", untagged[0])
        self.assertTrue(DATE_TIME.search(untagged[0]), untagged)

    def test_copy_gets_a_new_savedate(self):
        s = self.login()
        self.ok(s, "c", "CREATE Later")
        self.append_old(s)
        self.select(s)
        first = self.savedate(s)
        time.sleep(1.2)
        self.ok(s, "cp", "COPY 1 Later")
        self.select(s, "Later")
        copied = self.savedate(s)
        self.assertGreater(copied, first)
        # The original keeps its own.
        self.select(s)
        self.assertEqual(self.savedate(s), first)

    def test_search_saved_keys(self):
        s = self.login()
        self.append_old(s, subject="one")
        self.append_old(s, subject="two")
        self.select(s)
        today = datetime.now()
        day = imap_day(today)
        tomorrow = imap_day(today + timedelta(days=1))
        self.assertEqual(self.search(s, "SAVEDON %s" % day), [1, 2])
        self.assertEqual(self.search(s, "SAVEDSINCE %s" % day), [1, 2])
        self.assertEqual(self.search(s, "SAVEDBEFORE %s" % day), [])
        self.assertEqual(self.search(s, "SAVEDBEFORE %s" % tomorrow), [1, 2])
        self.assertEqual(self.search(s, "SAVEDSINCE %s" % tomorrow), [])
        self.assertEqual(self.search(s, 'SAVEDON "%s"' % day), [1, 2])
        # The internal date is another matter.
        self.assertEqual(self.search(s, "SAVEDON 1-Jan-2001"), [])
        self.assertEqual(self.search(s, "ON 1-Jan-2001"), [1, 2])
        # Combined with other keys, and case-insensitive.
        self.assertEqual(self.search(s, "savedsince %s SUBJECT two" % day),
                         [2])
        self.assertEqual(self.search(s, "NOT SAVEDON %s" % day), [])

    def test_savedatesupported_matches_all(self):
        s = self.login()
        self.append_old(s, subject="one")
        self.append_old(s, subject="two")
        self.select(s)
        self.assertEqual(self.search(s, "SAVEDATESUPPORTED"), [1, 2])
        self.assertEqual(self.search(s, "NOT SAVEDATESUPPORTED"), [])

    def test_bad_dates_are_bad(self):
        s = self.login()
        self.append_old(s)
        self.select(s)
        for criteria in ("SAVEDON 32-Jan-2024", "SAVEDBEFORE",
                         "SAVEDSINCE yesterday"):
            untagged, tagged = self.cmd(s, "b", "SEARCH " + criteria)
            self.assertBAD(tagged, "b")
            self.assertFalse([l for l in untagged
                              if l.startswith(b"* SEARCH")], untagged)
        self.assertNoopOK(s)
