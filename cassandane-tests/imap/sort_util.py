"""Helpers for the SORT, THREAD, ESEARCH, SEARCHRES and WITHIN tests:
messages with exactly the headers a test names, and the numbers of one
untagged response."""

import re

from imap.mail_util import MailTestCase


def mail(subject=None, frm="fred@example.com", to="joe@example.com",
         cc=None, date="Mon, 1 Jan 2024 12:00:00 +0000", msgid=None,
         references=None, in_reply_to=None, body="Body.\r\n"):
    """A message whose header holds only the fields given (None: absent)."""
    lines = []
    for name, value in (("From", frm), ("To", to), ("Cc", cc),
                        ("Subject", subject), ("Date", date),
                        ("Message-ID", msgid), ("References", references),
                        ("In-Reply-To", in_reply_to)):
        if value is not None:
            lines.append("%s: %s\r\n" % (name, value))
    return ("".join(lines) + "\r\n" + body).encode()


class SortTestCase(MailTestCase):
    def response(self, s, tag, cmd, name):
        """Run `cmd` (tagged OK required) and return the text after
        "* NAME" of its one `name` response."""
        untagged, tagged = s.command(tag, cmd)
        self.assertOK(tagged, tag)
        prefix = b"* " + name.encode() + b""
        found = [l for l in untagged
                 if l.upper() == prefix or l.upper().startswith(prefix + b" ")]
        self.assertEqual(len(found), 1, untagged)
        return found[0][len(prefix):].strip().decode()

    def sort(self, s, args, uid=False, tag="so"):
        text = self.response(s, tag, ("UID SORT " if uid else "SORT ") + args,
                             "SORT")
        return [int(n) for n in text.split()]

    def thread(self, s, args, uid=False, tag="th"):
        return self.response(s, tag,
                             ("UID THREAD " if uid else "THREAD ") + args,
                             "THREAD")

    def esearch(self, s, cmd, tag="es"):
        """The ESEARCH response of `cmd` as (uid, {item: text}); the TAG
        correlator must be the command's."""
        untagged, tagged = s.command(tag, cmd)
        self.assertOK(tagged, tag)
        found = [l for l in untagged if l.upper().startswith(b"* ESEARCH")]
        self.assertEqual(len(found), 1, untagged)
        m = re.match(rb'\* ESEARCH \(TAG "([^"]*)"\)( UID)?(.*)$', found[0],
                     re.I)
        self.assertIsNotNone(m, found[0])
        self.assertEqual(m.group(1), tag.encode())
        items = {}
        words = m.group(3).split()
        for i in range(0, len(words), 2):
            items[words[i].decode().upper()] = words[i + 1].decode()
        return bool(m.group(2)), items

    def assertNoUntagged(self, untagged, name):
        self.assertFalse([l for l in untagged
                          if l.upper().startswith(b"* " + name.encode())],
                         untagged)
