"""imap: ESEARCH result options MIN, MAX, ALL, COUNT (RFC 4731)."""

from imap.sort_util import SortTestCase, mail


class EsearchTest(SortTestCase):
    def flagged_mailbox(self):
        # 2, 10, 11 flagged (the RFC's "2,10:11")
        msgs = [(mail(str(i)), "\\Flagged" if i in (2, 10, 11) else "", "")
                for i in range(1, 13)]
        return self.setup_mailbox(msgs)

    def test_min_count(self):
        _, s = self.flagged_mailbox()
        uid, items = self.esearch(s, "SEARCH RETURN (MIN COUNT) FLAGGED")
        self.assertFalse(uid)
        self.assertEqual(items, {"MIN": "2", "COUNT": "3"})

    def test_empty_return_list_means_all(self):
        _, s = self.flagged_mailbox()
        _, items = self.esearch(s, "SEARCH RETURN () FLAGGED")
        self.assertEqual(items, {"ALL": "2,10:11"})

    def test_all_options_in_one_response(self):
        _, s = self.flagged_mailbox()
        _, items = self.esearch(s, "SEARCH RETURN (COUNT ALL MAX MIN) FLAGGED")
        self.assertEqual(items, {"MIN": "2", "MAX": "11", "ALL": "2,10:11",
                                 "COUNT": "3"})

    def test_no_match_still_answers_esearch(self):
        _, s = self.flagged_mailbox()
        _, items = self.esearch(s, "SEARCH RETURN (MIN MAX ALL) DELETED")
        self.assertEqual(items, {})
        _, items = self.esearch(s, "SEARCH RETURN (COUNT) DELETED")
        self.assertEqual(items, {"COUNT": "0"})

    def test_uid_search_answers_uids(self):
        _, s = self.flagged_mailbox()
        self.ok(s, "st", "STORE 1 +FLAGS (\\Deleted)")
        self.ok(s, "ex", "EXPUNGE")
        uid, items = self.esearch(s, "UID SEARCH RETURN (MIN MAX) 1:5000")
        self.assertTrue(uid)
        self.assertEqual(items, {"MIN": "2", "MAX": "12"})
        uid, items = self.esearch(s, "SEARCH RETURN (MIN MAX) 1:*")
        self.assertFalse(uid)
        self.assertEqual(items, {"MIN": "1", "MAX": "11"})

    def test_no_search_response_with_return(self):
        _, s = self.flagged_mailbox()
        untagged, tagged = s.command("e", "SEARCH RETURN (ALL) FLAGGED")
        self.assertOK(tagged, "e")
        self.assertFalse([l for l in untagged if l.startswith(b"* SEARCH")])

    def test_charset_after_return(self):
        _, s = self.setup_mailbox([mail("coffee"), mail("tea")])
        _, items = self.esearch(s, "SEARCH RETURN (COUNT) CHARSET UTF-8 "
                                   "SUBJECT tea")
        self.assertEqual(items, {"COUNT": "1"})

    def test_modseq_with_return_options(self):
        _, s = self.flagged_mailbox()
        self.ok(s, "st", "STORE 10 +FLAGS (\\Seen)")
        untagged, tagged = s.command("f", "FETCH 2,10,11 (MODSEQ)")
        self.assertOK(tagged, "f")
        modseqs = {}
        for line in untagged:
            if b"MODSEQ (" in line:
                num = int(line.split()[1])
                modseqs[num] = int(line.split(b"MODSEQ (")[1].split(b")")[0])
        _, items = self.esearch(s, "SEARCH RETURN (MIN) FLAGGED MODSEQ 1")
        self.assertEqual(items, {"MIN": "2", "MODSEQ": str(modseqs[2])})
        _, items = self.esearch(s, "SEARCH RETURN (MIN COUNT) FLAGGED MODSEQ 1")
        self.assertEqual(items["MODSEQ"], str(max(modseqs.values())))

    def test_invalid_return_options_are_bad(self):
        _, s = self.flagged_mailbox()
        for i, args in enumerate(["RETURN (BOGUS) ALL", "RETURN (MIN",
                                  "RETURN MIN ALL", "RETURN (MIN)",
                                  "ALL RETURN (MIN)"]):
            tag = "b%d" % i
            untagged, tagged = s.command(tag, "SEARCH " + args)
            self.assertBAD(tagged, tag)
            self.assertNoUntagged(untagged, "ESEARCH")
        _, items = self.esearch(s, "SEARCH RETURN (COUNT) ALL")
        self.assertEqual(items, {"COUNT": "12"})
