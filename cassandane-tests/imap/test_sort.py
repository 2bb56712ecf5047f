"""imap: SORT and UID SORT (RFC 5256), SORT=DISPLAY (RFC 5957) and ESORT
(RFC 5267 section 3)."""

from imap.sort_util import SortTestCase, mail


class SortTest(SortTestCase):
    def test_capabilities(self):
        _, s = self.setup_mailbox([])
        caps = self.capabilities(s)
        for cap in ("SORT", "SORT=DISPLAY", "SORT=MODSEQ", "SORT=UID", "ESORT",
                    "THREAD=ORDEREDSUBJECT",
                    "THREAD=REFERENCES", "ESEARCH", "SEARCHRES", "WITHIN"):
            self.assertIn(cap, caps)

    def test_subject_uses_base_subject(self):
        _, s = self.setup_mailbox([
            mail("Re: [list] Fwd: delta"),      # 1 -> delta
            mail("charlie"),                    # 2
            mail("[fwd: Bravo]"),               # 3 -> bravo
            mail("Alpha (fwd)"),                # 4 -> alpha
            mail("RE:  re: [x] CHARLIE"),       # 5 -> charlie
            mail(None),                         # 6 -> "" sorts first
            mail("[list]"),                     # 7 -> "[list]" kept
        ])
        # "[" collates after the (titlecased) letters
        self.assertEqual(self.sort(s, "(SUBJECT) UTF-8 ALL"),
                         [6, 4, 3, 2, 5, 1, 7])

    def test_encoded_subject_collates_case_insensitively(self):
        _, s = self.setup_mailbox([
            mail("zebra"),
            mail("=?UTF-8?Q?=C3=A9t=C3=A9?="),  # "ete" with accents
            mail("Apple"),
            mail("=?ISO-8859-1?Q?Re=3A_banane?="),
        ])
        # casemapped, "é" decomposes to "E" + combining accent: after
        # "BANANE", before "ZEBRA"
        self.assertEqual(self.sort(s, "(SUBJECT) UTF-8 ALL"), [3, 4, 2, 1])

    def test_reverse_applies_to_one_criterion(self):
        # RFC 5256: the example "(SUBJECT REVERSE DATE)"
        _, s = self.setup_mailbox([
            mail("b", date="Mon, 1 Jan 2024 10:00:00 +0000"),
            mail("a", date="Mon, 1 Jan 2024 10:00:00 +0000"),
            mail("a", date="Tue, 2 Jan 2024 10:00:00 +0000"),
            mail("b", date="Wed, 3 Jan 2024 10:00:00 +0000"),
        ])
        self.assertEqual(self.sort(s, "(SUBJECT REVERSE DATE) UTF-8 ALL"),
                         [3, 2, 4, 1])
        # the implicit sequence-number criterion is never reversed
        self.assertEqual(self.sort(s, "(REVERSE SUBJECT) UTF-8 ALL"),
                         [1, 4, 2, 3])

    def test_date_is_utc_and_falls_back_to_internaldate(self):
        _, s = self.setup_mailbox([
            # 1 Jan 2001 00:01:33 UTC
            mail("x", date="Sun, 31 Dec 2000 16:01:33 -0800"),
            # 31 Dec 2000 23:00 UTC
            mail("x", date="Mon, 1 Jan 2001 01:00:00 +0200"),
            # no Date: the internal date (1999) counts
            (mail("x", date=None), "", "01-Jun-1999 00:00:00 +0000"),
        ])
        self.assertEqual(self.sort(s, "(DATE) UTF-8 ALL"), [3, 2, 1])

    def test_arrival_and_size(self):
        _, s = self.setup_mailbox([
            (mail("a", body="x" * 300 + "\r\n"), "", "03-Feb-2020 10:00:00 +0000"),
            (mail("b", body="x\r\n"), "", "01-Feb-2020 10:00:00 +0000"),
            (mail("c", body="x" * 100 + "\r\n"), "", "02-Feb-2020 10:00:00 +0000"),
        ])
        self.assertEqual(self.sort(s, "(ARRIVAL) UTF-8 ALL"), [2, 3, 1])
        self.assertEqual(self.sort(s, "(SIZE) UTF-8 ALL"), [2, 3, 1])
        self.assertEqual(self.sort(s, "(REVERSE SIZE) UTF-8 ALL"), [1, 3, 2])

    def test_address_keys_use_first_mailbox(self):
        _, s = self.setup_mailbox([
            mail("1", frm="Zed <alice@example.com>", to="x@y, a@b",
                 cc="Carol <carol@example.com>"),
            mail("2", frm="Alice <Bob@example.com>", to="Mary <M@z>"),
            mail("3", frm="charlie@example.com", to=None),
        ])
        # addr-mailbox, not the display name, case-insensitively
        self.assertEqual(self.sort(s, "(FROM) UTF-8 ALL"), [1, 2, 3])
        # no To: is the empty string, sorting first
        self.assertEqual(self.sort(s, "(TO) UTF-8 ALL"), [3, 2, 1])
        self.assertEqual(self.sort(s, "(CC) UTF-8 ALL"), [2, 3, 1])

    def test_display_keys(self):
        _, s = self.setup_mailbox([
            mail("1", frm="Zed <alice@example.com>"),
            mail("2", frm="=?UTF-8?Q?=C3=81lvaro?= <zz@example.com>"),
            mail("3", frm="bob@example.com"),
            mail("4", frm='"" <aaron@example.com>'),
        ])
        # names decoded; without a name, mailbox@host
        self.assertEqual(self.sort(s, "(DISPLAYFROM) UTF-8 ALL"),
                         [4, 2, 3, 1])
        self.assertEqual(self.sort(s, "(REVERSE DISPLAYFROM) UTF-8 ALL"),
                         [1, 3, 2, 4])

    def test_search_criteria_filter_and_uid_sort(self):
        _, s = self.setup_mailbox([mail("c"), mail("b"), mail("a"),
                                   mail("d")])
        self.ok(s, "st", "STORE 1 +FLAGS (\\Deleted)")
        self.ok(s, "ex", "EXPUNGE")
        self.assertEqual(self.sort(s, "(SUBJECT) UTF-8 ALL"), [2, 1, 3])
        self.assertEqual(self.sort(s, "(SUBJECT) UTF-8 ALL", uid=True),
                         [3, 2, 4])
        self.assertEqual(self.sort(s, "(SUBJECT) US-ASCII NOT SUBJECT b"),
                         [2, 3])
        self.assertEqual(self.sort(s, '(SUBJECT) UTF-8 TEXT "not in mailbox"'),
                         [])

    def test_uid_and_modseq_keys(self):
        # the Cyrus extensions SORT=UID and SORT=MODSEQ
        _, s = self.setup_mailbox([mail("a"), mail("b"), mail("c")])
        self.ok(s, "st", "STORE 1 +FLAGS (\\Flagged)")
        self.assertEqual(self.sort(s, "(REVERSE UID) UTF-8 ALL"), [3, 2, 1])
        self.assertEqual(self.sort(s, "(MODSEQ) UTF-8 ALL"), [2, 3, 1])
        self.assertEqual(self.sort(s, "(REVERSE MODSEQ) UTF-8 ALL"),
                         [1, 3, 2])

    def test_multiple_criteria(self):
        _, s = self.setup_mailbox([
            mail("s", frm="b@x", body="xx\r\n"),
            mail("s", frm="a@x", body="xxxxxxxx\r\n"),
            mail("s", frm="a@x", body="x\r\n"),
        ])
        self.assertEqual(self.sort(s, "(FROM SIZE) UTF-8 ALL"), [3, 2, 1])
        self.assertEqual(self.sort(s, "(FROM REVERSE SIZE) UTF-8 ALL"),
                         [2, 3, 1])

    def test_esort_return_options(self):
        _, s = self.setup_mailbox([mail("c"), mail("a"), mail("b"),
                                   mail("d"), mail("e")])
        uid, items = self.esearch(s, "SORT RETURN (MIN MAX COUNT) (SUBJECT) "
                                     "UTF-8 ALL")
        self.assertFalse(uid)
        # MIN and MAX are the first and last in sort order
        self.assertEqual(items, {"MIN": "2", "MAX": "5", "COUNT": "5"})
        uid, items = self.esearch(s, "UID SORT RETURN () (SUBJECT) UTF-8 ALL")
        self.assertTrue(uid)
        # in sort order; ranges only where numbers ascend
        self.assertEqual(items, {"ALL": "2:3,1,4:5"})
        uid, items = self.esearch(s, "SORT RETURN (ALL) (REVERSE SUBJECT) "
                                     "UTF-8 ALL")
        self.assertEqual(items, {"ALL": "5,4,1,3,2"})
        uid, items = self.esearch(s, "SORT RETURN (COUNT MIN) (SUBJECT) "
                                     "UTF-8 SUBJECT zzz")
        self.assertEqual(items, {"COUNT": "0"})

    def test_invalid_arguments_are_bad(self):
        _, s = self.setup_mailbox([mail("a")])
        for i, args in enumerate(["(SUBJECT)", "(SUBJECT) UTF-8",
                                  "(NOSUCHKEY) UTF-8 ALL", "() UTF-8 ALL",
                                  "(REVERSE) UTF-8 ALL", "SUBJECT UTF-8 ALL",
                                  "(SUBJECT) UTF-8 NOSUCHKEY",
                                  "RETURN (BOGUS) (SUBJECT) UTF-8 ALL",
                                  "(SUBJECT UTF-8 ALL"]):
            tag = "b%d" % i
            untagged, tagged = s.command(tag, "SORT " + args)
            self.assertBAD(tagged, tag)
            self.assertNoUntagged(untagged, "SORT")
        # the session is still in step
        self.assertEqual(self.sort(s, "(SUBJECT) UTF-8 ALL"), [1])

    def test_unknown_charset_is_no_badcharset(self):
        _, s = self.setup_mailbox([mail("a")])
        untagged, tagged = s.command("c", "SORT (SUBJECT) X-NO-SUCH ALL")
        self.assertNO(tagged, "c")
        self.assertIn(b"[BADCHARSET", tagged)
        self.assertNoUntagged(untagged, "SORT")

    def test_sort_needs_selected_mailbox(self):
        inst = self.start_instance(config={"autocreate_quota": "0"})
        s = self.login(inst)
        _, tagged = s.command("x", "SORT (SUBJECT) UTF-8 ALL")
        self.assertBAD(tagged, "x")

    def test_new_messages_from_other_session_are_sorted(self):
        inst, s = self.setup_mailbox([mail("m"), mail("b")])
        other = self.login(inst)
        self.append(other, "INBOX", mail("a"))
        untagged, tagged = s.command("so", "SORT (SUBJECT) UTF-8 ALL")
        self.assertOK(tagged, "so")
        # EXISTS is reported before the numbers are used ... or after the
        # SORT response; either way the result covers what the view holds
        sorts = [l for l in untagged if l.startswith(b"* SORT")]
        self.assertEqual(len(sorts), 1)
        nums = [int(n) for n in sorts[0][6:].split()]
        self.assertIn(nums, ([2, 1], [3, 2, 1]))
        self.assertEqual(self.sort(s, "(SUBJECT) UTF-8 ALL"), [3, 2, 1])
