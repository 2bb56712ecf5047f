"""imap: WITHIN -- SEARCH OLDER and YOUNGER (RFC 5032)."""

import time

from imap.sort_util import SortTestCase, mail


def internaldate(seconds_ago):
    return time.strftime("%d-%b-%Y %H:%M:%S +0000",
                         time.gmtime(time.time() - seconds_ago))


class WithinTest(SortTestCase):
    def mailbox(self):
        return self.setup_mailbox([
            (mail("old"), "", internaldate(10 * 86400)),   # 1: ten days
            (mail("day"), "", internaldate(86400 + 600)),  # 2: a day ago
            (mail("new"), "", internaldate(60)),           # 3: a minute
        ])

    def test_younger(self):
        _, s = self.mailbox()
        self.assertEqual(self.search(s, "YOUNGER 3600"), [3])
        self.assertEqual(self.search(s, "YOUNGER 259200"), [2, 3])
        self.assertEqual(self.search(s, "YOUNGER 1"), [])

    def test_older(self):
        _, s = self.mailbox()
        self.assertEqual(self.search(s, "OLDER 3600"), [1, 2])
        self.assertEqual(self.search(s, "OLDER 259200"), [1])
        self.assertEqual(self.search(s, "OLDER 100000000"), [])

    def test_combined_with_other_keys(self):
        _, s = self.mailbox()
        self.ok(s, "st", "STORE 2 +FLAGS (\\Seen)")
        self.assertEqual(self.search(s, "UNSEEN YOUNGER 259200"), [3])
        self.assertEqual(self.search(s, "NOT YOUNGER 3600 NOT OLDER 259200"),
                         [2])
        self.assertEqual(self.search(s, "OR OLDER 259200 YOUNGER 3600",
                                     uid=True), [1, 3])

    def test_interval_must_be_nz_number(self):
        _, s = self.mailbox()
        for i, args in enumerate(["OLDER 0", "YOUNGER -5", "OLDER", "YOUNGER x",
                                  "OLDER 99999999999"]):
            tag = "b%d" % i
            untagged, tagged = s.command(tag, "SEARCH " + args)
            self.assertBAD(tagged, tag)
            self.assertNoUntagged(untagged, "SEARCH")
        self.assertEqual(self.search(s, "YOUNGER 3600"), [3])
