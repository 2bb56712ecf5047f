"""Perl IMAP clients (Mail::IMAPTalk, Mail::IMAPClient) doing a whole
mail-client session: create, append, select, fetch envelope, body
structure and bodies, store, search, copy, expunge, rename, delete,
logout.  The scripts print what they saw; the test checks every line."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from clienttest import ClientTestCase  # noqa: E402

IMAPTALK_EXPECTED = """\
exists: 2
uidvalidity: yes
uid 1 subject: Quarterly report
uid 1 from: "Alice Example" <alice@example.com>
uid 1 date: Tue, 2 Jan 2024 09:30:00 +0100
uid 1 flags: \\Recent \\Seen
uid 1 size: 465
uid 1 type: multipart/mixed
uid 2 subject: lunch?
uid 2 from: bob@example.net
uid 2 date: Wed, 3 Jan 2024 12:00:00 +0000
uid 2 flags: \\Recent
uid 2 size: 118
uid 2 type: text/plain
part1: The numbers are in the attachment.
whole2 matches: yes
uid 2 flags now: $Work \\Flagged \\Recent
search lunch: 2
search unseen: 2
search alice: 1
after expunge: 2
renamed exists: 2
renamed subjects: Quarterly report | lunch?
list: Inbox Old Work
list after delete: Inbox
done
"""

IMAPCLIENT_EXPECTED = """\
appended uids: 1 2
count: 2
internaldate 1:  5-Jan-2024 13:00:00 +0000
envelope subject: =?utf-8?q?Gr=C3=BC=C3=9Fe?=
envelope from: Doe, Jane <jane@example.com>
bodytype: TEXT/PLAIN 8BIT
text matches: yes
message 2 matches: yes
seen after body fetch: yes
flags 2: \\Flagged \\Recent
flags 1: \\Answered \\Recent \\Seen
search disk: 2
search flagged: 2
search body: 1
search answered sentbefore: 1
left: 2
finished count: 2
folders: Finished INBOX Projects
folders after delete: INBOX
done
"""


class PerlClientTest(ClientTestCase):
    def check_script(self, script, expected):
        r = self.run_client(["perl", self.script(script), str(self.port), "fred"])
        self.assertEqual(r.returncode, 0, "%s failed:\n%s%s"
                         % (script, r.stdout, r.stderr))
        self.assertEqual(r.stdout, expected)

    def test_imaptalk_session(self):
        self.need_perl_module("Mail::IMAPTalk")
        self.start()
        self.check_script("imaptalk_session.pl", IMAPTALK_EXPECTED)
        # The server agrees with what the client saw at the end.
        self.assertEqual(self.folders("fred"), ["INBOX"])

    def test_imapclient_session(self):
        self.need_perl_module("Mail::IMAPClient")
        self.start()
        self.check_script("imapclient_session.pl", IMAPCLIENT_EXPECTED)
        self.assertEqual(self.folders("fred"), ["INBOX"])
