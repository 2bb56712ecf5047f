"""imap: NOTIFY (RFC 5465): other sessions' changes arrive without a
command, as untagged STATUS for personal mailboxes, LIST for created,
deleted, renamed and (un)subscribed mailboxes, and EXISTS/FETCH/EXPUNGE
for the selected one."""

import re

from imap.selected_util import SelectedTestCase, message, read_response

PERSONAL = "(personal (MessageNew MessageExpunge MailboxName SubscriptionChange))"


class NotifyTest(SelectedTestCase):
    def notify(self, s, args):
        return self.ok(s, "N", "NOTIFY " + args)

    def wait_for(self, s, pattern, timeout=3):
        """Read lines until one matches `pattern` (bytes regex)."""
        seen = []
        while True:
            line = s.expect_line(timeout=timeout)
            seen.append(line)
            if re.search(pattern, line):
                return line, seen

    def test_capability_advertised(self):
        s = self.login()
        untagged = self.ok(s, "C", "CAPABILITY")
        self.assertIn(b" NOTIFY", untagged[0])

    def test_none(self):
        s = self.login()
        untagged, tagged = self.cmd(s, "N", "NOTIFY NONE")
        self.assertOK(tagged, "N")
        self.assertEqual(untagged, [])

    def test_syntax_errors_are_bad(self):
        s = self.login()
        for args in ("SET", "SET (personal)", "SET (nowhere (MessageNew))",
                     "SET (personal (MessageNew MessageExpunge)",
                     "BOGUS", "NONE extra"):
            _, tagged = self.cmd(s, "B", "NOTIFY " + args)
            self.assertBAD(tagged, "B")
        self.ok(s, "Z", "NOOP")

    def test_rule_violations_are_bad(self):
        s = self.login()
        for args in (
                "SET (personal (MessageNew))",
                "SET (personal (MessageExpunge))",
                "SET (personal (FlagChange))",
                "SET (selected (MailboxName))",
                "SET (personal (MessageNew (UID) MessageExpunge))",
                "SET (selected (MessageNew MessageExpunge)) "
                "(selected-delayed (MessageNew MessageExpunge))"):
            _, tagged = self.cmd(s, "B", "NOTIFY " + args)
            self.assertBAD(tagged, "B")

    def test_unsupported_event_is_badevent(self):
        s = self.login()
        _, tagged = self.cmd(s, "B", "NOTIFY SET (personal (MessageNew "
                             "MessageExpunge FutureEvent))")
        self.assertTrue(tagged.startswith(b"B NO [BADEVENT ("), tagged)
        self.assertIn(b"MessageNew", tagged)
        self.assertIn(b"MailboxName", tagged)

    def test_status_indicator(self):
        s = self.login()
        self.ok(s, "C", "CREATE Other")
        self.append(s, mailbox="Other")
        untagged = self.notify(s, "SET STATUS " + PERSONAL)
        other = [l for l in untagged if l.startswith(b"* STATUS Other ")]
        self.assertEqual(len(other), 1, untagged)
        # RFC 5465 3.1: a server supporting CONDSTORE includes
        # HIGHESTMODSEQ here even before the client enabled it.
        self.assertRegex(other[0], rb"MESSAGES 1 UIDNEXT 2 UIDVALIDITY \d+ "
                         rb"HIGHESTMODSEQ \d+\)")
        self.assertTrue(any(l.startswith(b"* STATUS INBOX ") for l in untagged))

    def test_no_status_without_indicator(self):
        s = self.login()
        self.ok(s, "C", "CREATE Other")
        untagged = self.notify(s, PERSONAL.join(["SET ", ""]))
        self.assertEqual(untagged, [])

    def test_new_message_elsewhere_gives_status(self):
        s = self.login()
        t = self.login()
        self.ok(s, "C", "CREATE Other")
        self.notify(s, "SET " + PERSONAL)
        self.append(t, mailbox="Other")
        # No command in progress: the STATUS arrives by itself.
        line, _ = self.wait_for(s, rb"^\* STATUS Other ")
        self.assertRegex(line, rb"\(MESSAGES 1 UIDNEXT 2 UIDVALIDITY \d+\)$")

    def test_expunge_elsewhere_gives_status(self):
        s = self.login()
        t = self.login()
        self.ok(s, "C", "CREATE Other")
        self.append(s, mailbox="Other", flags="\\Deleted")
        self.notify(s, "SET " + PERSONAL)
        self.select(t, "Other")
        self.ok(t, "E", "EXPUNGE")
        line, _ = self.wait_for(s, rb"^\* STATUS Other ")
        self.assertRegex(line, rb"\(MESSAGES 0 UIDNEXT 2 ")

    def test_highestmodseq_with_condstore(self):
        s = self.login()
        t = self.login()
        self.ok(s, "C", "CREATE Other")
        self.append(s, mailbox="Other")
        self.ok(s, "E", "ENABLE CONDSTORE")
        self.notify(s, "SET (personal (MessageNew MessageExpunge FlagChange))")
        self.select(t, "Other")
        self.ok(t, "F", "STORE 1 +FLAGS (\\Flagged)")
        line, _ = self.wait_for(s, rb"^\* STATUS Other ")
        self.assertRegex(line, rb"HIGHESTMODSEQ \d+\)$")

    def test_flag_change_without_condstore_is_silent(self):
        s = self.login()
        t = self.login()
        self.ok(s, "C", "CREATE Other")
        self.append(s, mailbox="Other")
        self.notify(s, "SET (personal (MessageNew MessageExpunge FlagChange))")
        self.select(t, "Other")
        self.ok(t, "F", "STORE 1 +FLAGS (\\Flagged)")
        self.assertTrue(s.nothing_within(1.0))

    def test_mailbox_created_deleted_renamed(self):
        s = self.login()
        t = self.login()
        self.notify(s, "SET " + PERSONAL)
        self.ok(t, "C", "CREATE Fresh")
        line, _ = self.wait_for(s, rb"^\* LIST ")
        self.assertRegex(line, rb'^\* LIST \([^)]*\) "/" Fresh$')
        self.assertNotIn(b"NonExistent", line)
        self.ok(t, "R", "RENAME Fresh Renamed")
        line, _ = self.wait_for(s, rb"^\* LIST ")
        self.assertRegex(line, rb'"/" Renamed \("OLDNAME" \(Fresh\)\)$')
        self.ok(t, "D", "DELETE Renamed")
        line, _ = self.wait_for(s, rb"^\* LIST ")
        self.assertEqual(line, b'* LIST (\\NonExistent) "/" Renamed')

    def test_own_changes_not_reported(self):
        s = self.login()
        self.notify(s, "SET " + PERSONAL)
        untagged = self.ok(s, "C", "CREATE Mine")
        self.assertEqual(untagged, [])
        self.append(s, mailbox="Mine")
        self.ok(s, "U", "SUBSCRIBE Mine")
        self.assertTrue(s.nothing_within(1.0))

    def test_subscription_change(self):
        s = self.login()
        t = self.login()
        self.ok(s, "C", "CREATE Sub")
        self.notify(s, "SET (personal (SubscriptionChange))")
        self.ok(t, "U", "SUBSCRIBE Sub")
        line, _ = self.wait_for(s, rb"^\* LIST ")
        self.assertEqual(line, b'* LIST (\\Subscribed) "/" Sub')
        self.ok(t, "V", "UNSUBSCRIBE Sub")
        line, _ = self.wait_for(s, rb"^\* LIST ")
        self.assertEqual(line, b'* LIST () "/" Sub')

    def test_selected_new_message_with_fetch(self):
        s = self.fill(1)
        t = self.login()
        self.notify(s, "SET (selected (MessageNew (UID BODY.PEEK[HEADER.FIELDS "
                       "(Subject)]) MessageExpunge))")
        self.append(t, msg=message("second"))
        line, _ = self.wait_for(s, rb"EXISTS")
        self.assertEqual(line, b"* 2 EXISTS")
        untagged, _ = [], None
        line, _ = self.wait_for(s, rb"FETCH")
        self.assertTrue(line.startswith(b"* 2 FETCH (UID 2 "), line)
        # The header literal follows.
        self.assertIn(b"BODY[HEADER.FIELDS (Subject)]", line)
        self.assertEqual(s.expect_line(timeout=2), b"Subject: second")

    def test_selected_expunge_without_command(self):
        s = self.fill(2)
        t = self.login()
        self.select(t)
        self.notify(s, "SET (selected (MessageNew MessageExpunge FlagChange))")
        self.ok(t, "F", "STORE 2 +FLAGS.SILENT (\\Deleted)")
        line, _ = self.wait_for(s, rb"FETCH")
        self.assertRegex(line, rb"^\* 2 FETCH \(.*UID 2")
        self.ok(t, "E", "EXPUNGE")
        line, _ = self.wait_for(s, rb"EXPUNGE")
        self.assertEqual(line, b"* 2 EXPUNGE")

    def test_selected_delayed_holds_expunge(self):
        s = self.fill(2)
        t = self.login()
        self.select(t)
        self.notify(s, "SET (selected-delayed (MessageNew MessageExpunge))")
        self.ok(t, "F", "STORE 2 +FLAGS.SILENT (\\Deleted)")
        self.ok(t, "E", "EXPUNGE")
        self.assertTrue(s.nothing_within(1.0))
        untagged = self.ok(s, "P", "NOOP")
        self.assertIn(b"* 2 EXPUNGE", untagged)

    def test_idle_reports_other_mailbox(self):
        s = self.login()
        t = self.login()
        self.ok(s, "C", "CREATE Other")
        self.notify(s, "SET " + PERSONAL)
        s.send(b"I IDLE\r\n")
        self.assertEqual(s.expect_line(), b"+ idling")
        self.append(t, mailbox="Other")
        line, _ = self.wait_for(s, rb"^\* STATUS Other ")
        self.assertIn(b"MESSAGES 1", line)
        s.send(b"DONE\r\n")
        _, tagged = read_response(s, "I")
        self.assertOK(tagged, "I")

    def test_notify_none_stops_events(self):
        s = self.login()
        t = self.login()
        self.ok(s, "C", "CREATE Other")
        self.notify(s, "SET " + PERSONAL)
        self.notify(s, "NONE")
        self.append(t, mailbox="Other")
        self.ok(t, "C", "CREATE Another")
        self.assertTrue(s.nothing_within(1.0))

    def test_mailboxes_filter_watches_only_named(self):
        s = self.login()
        t = self.login()
        self.ok(s, "C1", "CREATE Watched")
        self.ok(s, "C2", "CREATE Ignored")
        self.notify(s, "SET (mailboxes Watched (MessageNew MessageExpunge))")
        self.append(t, mailbox="Ignored")
        self.append(t, mailbox="Watched")
        line, seen = self.wait_for(s, rb"^\* STATUS ")
        self.assertTrue(line.startswith(b"* STATUS Watched "), seen)
        self.assertTrue(s.nothing_within(0.7))

    def test_other_users_mailbox_needs_lookup_right(self):
        s = self.login()
        t = self.login("ann")
        self.notify(s, "SET (mailboxes Other/ann (MessageNew MessageExpunge)) "
                       + PERSONAL)
        self.append(t)
        self.assertTrue(s.nothing_within(1.0))

    def test_mailbox_metadata_change(self):
        s = self.login()
        t = self.login()
        self.ok(s, "C", "CREATE Other")
        self.notify(s, "SET (personal (MailboxMetadataChange))")
        self.ok(t, "M", 'SETMETADATA Other (/shared/comment "hello")')
        line, _ = self.wait_for(s, rb"^\* METADATA ")
        self.assertEqual(line, b'* METADATA "Other" /shared/comment')
        # A change of value and a removal (NIL) are both told of.
        self.ok(t, "M", 'SETMETADATA Other (/shared/comment "bye" '
                        '/private/comment "mine")')
        line, _ = self.wait_for(s, rb"^\* METADATA ")
        self.assertEqual(
            line, b'* METADATA "Other" /private/comment /shared/comment')
        self.ok(t, "M", "SETMETADATA Other (/private/comment NIL)")
        line, _ = self.wait_for(s, rb"^\* METADATA ")
        self.assertEqual(line, b'* METADATA "Other" /private/comment')
        self.assertTrue(s.nothing_within(0.7))

    def test_metadata_outside_view_not_told(self):
        s = self.login()
        t = self.login()
        ann = self.login("ann")
        self.ok(s, "C1", "CREATE Other")
        self.ok(s, "C2", "CREATE Unwatched")
        self.notify(s, "SET (mailboxes Other (MailboxMetadataChange "
                       "ServerMetadataChange))")
        # Another user's private server value, and a mailbox outside
        # the filter: nothing to tell.
        self.ok(ann, "M", 'SETMETADATA "" (/private/vendor/x/y "ann")')
        self.ok(t, "M", 'SETMETADATA Unwatched (/shared/comment "x")')
        self.assertTrue(s.nothing_within(1.0))
        untagged = self.ok(s, "P", "NOOP")
        self.assertEqual(untagged, [])

    def test_own_metadata_change_not_reported(self):
        s = self.login()
        self.notify(s, "SET (personal (MailboxMetadataChange "
                       "ServerMetadataChange))")
        untagged = self.ok(s, "M", 'SETMETADATA INBOX (/shared/comment "x")')
        self.assertEqual(untagged, [])
        self.ok(s, "M2", 'SETMETADATA "" (/private/vendor/x/y "y")')
        self.assertTrue(s.nothing_within(1.0))

    def test_server_metadata_change(self):
        s = self.login()
        t = self.login()
        self.notify(s, "SET (personal (ServerMetadataChange))")
        self.ok(t, "M", 'SETMETADATA "" (/private/vendor/x/y "1")')
        line, _ = self.wait_for(s, rb"^\* METADATA ")
        self.assertEqual(line, b'* METADATA "" /private/vendor/x/y')
        # Mailbox metadata was not asked for.
        self.ok(t, "M2", 'SETMETADATA INBOX (/private/comment "1")')
        self.assertTrue(s.nothing_within(1.0))

    def test_annotation_change_is_badevent(self):
        s = self.login()
        _, tagged = self.cmd(s, "B", "NOTIFY SET (personal (MessageNew "
                             "MessageExpunge AnnotationChange))")
        self.assertTrue(tagged.startswith(b"B NO [BADEVENT ("), tagged)
        self.assertIn(b"MailboxMetadataChange", tagged)
        self.assertIn(b"ServerMetadataChange", tagged)
        self.assertNotIn(b"AnnotationChange", tagged)

    def test_create_and_delete_tell_parent(self):
        s = self.login()
        t = self.login()
        self.ok(s, "C", "CREATE Top")
        self.notify(s, "SET (personal (MailboxName))")
        self.ok(t, "C", "CREATE Top/Child")
        first, _ = self.wait_for(s, rb"^\* LIST ")
        second, _ = self.wait_for(s, rb"^\* LIST ")
        self.assertEqual(first, b'* LIST (\\HasNoChildren) "/" Top/Child')
        self.assertEqual(second, b'* LIST (\\HasChildren) "/" Top')
        self.ok(t, "D", "DELETE Top/Child")
        first, _ = self.wait_for(s, rb"^\* LIST ")
        second, _ = self.wait_for(s, rb"^\* LIST ")
        self.assertEqual(first, b'* LIST (\\NonExistent) "/" Top/Child')
        self.assertEqual(second, b'* LIST (\\HasNoChildren) "/" Top')
        self.assertTrue(s.nothing_within(0.7))
