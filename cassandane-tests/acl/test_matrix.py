"""acl: what each right grants (RFC 4314 section 4), right by right.

fred gives ann one right (or a small set, for the commands that need the
mailbox selected first) on a mailbox per operation, and ann tries every
operation.  Each must succeed exactly when the right it needs is there,
and otherwise fail with NO; without 'l' (and without the right the
command needs) the answer must be word for word the one for a mailbox
that does not exist, and nothing untagged may give the mailbox away.

As RFC 4314 and Cyrus have it, 'l' is needed to list a mailbox, not to
use it: SELECT with "r" alone works.  The legacy rights expand when
set: "c" to "kxc", "d" to "ted".  Posting ('p') is LMTP's: its delivery
rules are tested in lmtp/test_delivery.py; over IMAP it grants nothing.
"""

import re

from imap.selected_util import SelectedTestCase, read_response

MSG = b"From: fred@example.com\r\nSubject: matrix\r\n\r\nbody\r\n"

# Operations in the order they run.  Each names the rights it needs:
# "need" (all of them) for success.
OPS = ["list", "select", "examine", "status", "fetch_seen", "store_seen",
       "store_deleted", "store_flagged", "append", "copy", "create", "delete",
       "rename", "expunge", "setacl", "deleteacl", "getacl", "listrights",
       "myrights"]

NEED = {
    "select": "r", "examine": "r", "status": "r",
    "append": "i", "copy": "i", "create": "k", "delete": "x", "rename": "xk",
    "setacl": "a", "deleteacl": "a", "getacl": "a", "listrights": "a",
}
# Commands on the selected mailbox: the right, after selecting with 'r'.
SELECTED = {"fetch_seen": "s", "store_seen": "s", "store_deleted": "t",
            "store_flagged": "w", "expunge": "e"}
MYRIGHTS_ANY = "lrikxa"

EXPAND = {"c": "kxc", "d": "ted"}


def effective(grant):
    return set("".join(EXPAND.get(ch, ch) for ch in grant))


def shown(rights):
    """Rights as MYRIGHTS shows them: with the virtual legacy rights
    (RFC 4314 2.1.1), 'c' for any of k x and 'd' for any of t e."""
    out = set(rights)
    if out & set("kx"):
        out.add("c")
    if out & set("te"):
        out.add("d")
    return out


class Session:
    """ann's or fred's raw session, numbering its own tags."""

    def __init__(self, test, user):
        self.test = test
        self.s = test.login(user)
        self.n = 0

    def cmd(self, text):
        self.n += 1
        tag = "m%d" % self.n
        untagged, tagged = self.test.cmd(self.s, tag, text)
        return untagged, tagged[len(tag) + 1:].decode()

    def append(self, box, flags=""):
        self.n += 1
        tag = "m%d" % self.n
        self.s.send(("%s APPEND %s %s{%d+}\r\n" % (tag, box, flags, len(MSG))).encode()
                    + MSG + b"\r\n")
        untagged, tagged = read_response(self.s, tag)
        return untagged, tagged[len(tag) + 1:].decode()


def flags_of(untagged):
    for l in untagged:
        m = re.search(rb"FLAGS \(([^)]*)\)", l)
        if m:
            return set(m.group(1).decode().split()) - {"\\Recent"}
    return None


class AclMatrixTest(SelectedTestCase):
    def setup_boxes(self, fred, ann, grant):
        self.assertTrue(fred.cmd("CREATE top")[1].startswith("OK"))
        if grant:
            self.assertTrue(fred.cmd("SETACL top ann %s" % grant)[1].startswith("OK"))
        for op in OPS:
            box = "top/%s" % op
            self.assertTrue(fred.cmd("CREATE %s" % box)[1].startswith("OK"))
            self.assertTrue(fred.append(box)[1].startswith("OK"))
            if op == "expunge":
                fred.cmd("SELECT %s" % box)
                fred.cmd("STORE 1 +FLAGS (\\Deleted)")
                fred.cmd("UNSELECT")
            if op == "deleteacl":
                fred.cmd("SETACL %s carol lr" % box)
            # A new mailbox inherits its parent's ACL: set it exactly.
            if grant:
                fred.cmd("SETACL %s ann %s" % (box, grant))
            else:
                fred.cmd("DELETEACL %s ann" % box)
        self.assertTrue(ann.append("INBOX", "(\\Seen \\Flagged \\Deleted) ")[1].startswith("OK"))

    def fred_flags(self, fred, box):
        fred.cmd("EXAMINE %s" % box)
        untagged, _ = fred.cmd("FETCH 1:* FLAGS")
        fred.cmd("UNSELECT")
        return [set(m.group(1).decode().split()) - {"\\Recent"}
                for m in (re.search(rb"FLAGS \(([^)]*)\)", l) for l in untagged) if m]

    @staticmethod
    def check_kept_flags(expect, op, rights, flags):
        """RFC 4314 4: of \\Flagged and \\Deleted asked for, only those
        the user may set are stored (\\Seen is ann's own, not fred's)."""
        if len(flags) < 2:
            return
        want = {f for f, r in (("\\Flagged", "w"), ("\\Deleted", "t"))
                if r in rights}
        expect(op, flags[1] - {"\\Seen"} == want, "stored flags %r" % flags[1])

    def run_grant(self, grant):
        fred = Session(self, "fred")
        ann = Session(self, "ann")
        self.setup_boxes(fred, ann, grant)
        rights = effective(grant)
        has = lambda need: all(ch in rights for ch in need)  # noqa: E731
        visible = "l" in rights
        problems = []

        def expect(op, cond, what):
            if not cond:
                problems.append("%s with %r: %s" % (op, grant, what))

        def name(op):
            return '"Other Users/fred/top/%s"' % op

        nx = '"Other Users/fred/top/nosuch"'

        def compare(op, fmt, need):
            """Run fmt on the mailbox and on a missing one; check."""
            u, t = ann.cmd(fmt % name(op))
            if op in ("select", "examine"):
                ann.cmd("UNSELECT")
            ux, tx = ann.cmd(fmt % nx)
            if has(need):
                expect(op, t.startswith("OK"), "expected OK, got %r" % t)
            else:
                expect(op, t.startswith("NO"), "expected NO, got %r" % t)
                if visible:
                    expect(op, "[NOPERM]" in t, "expected [NOPERM], got %r" % t)
                else:
                    expect(op, t == tx, "tells the mailbox exists: %r, not %r"
                           % (t, tx))
                    expect(op, not u, "untagged data for a hidden mailbox: %r" % u)
            return u, t

        for op in OPS:
            if op == "list":
                u, _ = ann.cmd('LIST "" "Other Users/fred/top/*"')
                listed = any(b"Other Users/fred/top/list" in l for l in u)
                expect(op, listed == visible, "listed=%s" % listed)
            elif op in ("select", "examine"):
                compare(op, op.upper() + " %s", "r")
            elif op == "status":
                u, t = compare(op, "STATUS %s (MESSAGES)", "r")
                if has("r"):
                    expect(op, any(b"(MESSAGES 1)" in l for l in u), "no count: %r" % u)
            elif op in SELECTED:
                _, t = ann.cmd("SELECT %s" % name(op))
                if not has("r"):
                    expect(op, t.startswith("NO"), "SELECT without r: %r" % t)
                    continue
                right = SELECTED[op]
                if op == "fetch_seen":
                    ann.cmd("FETCH 1 BODY[]")
                    fl = flags_of(ann.cmd("FETCH 1 FLAGS")[0])
                    expect(op, ("\\Seen" in fl) == has(right), "flags %r" % fl)
                elif op == "expunge":
                    u, t = ann.cmd("EXPUNGE")
                    gone = any(l.endswith(b" EXPUNGE") for l in u)
                    expect(op, t.startswith("OK") == has(right), "EXPUNGE: %r" % t)
                    expect(op, gone == has(right), "expunged=%s" % gone)
                else:
                    flag = {"store_seen": "\\Seen", "store_deleted": "\\Deleted",
                            "store_flagged": "\\Flagged"}[op]
                    _, t = ann.cmd("STORE 1 +FLAGS (%s)" % flag)
                    fl = flags_of(ann.cmd("FETCH 1 FLAGS")[0])
                    expect(op, t.startswith("OK") == has(right), "STORE: %r" % t)
                    expect(op, (flag in fl) == has(right), "flags %r" % fl)
                    if not has(right):
                        expect(op, "[NOPERM]" in t, "no [NOPERM]: %r" % t)
                ann.cmd("UNSELECT")
            elif op == "append":
                u, t = ann.append(name(op), "(\\Seen \\Flagged \\Deleted) ")
                ux, tx = ann.append(nx)
                flags = self.fred_flags(fred, "top/%s" % op)
                if has("i"):
                    expect(op, t.startswith("OK") and len(flags) == 2, "APPEND: %r" % t)
                    self.check_kept_flags(expect, op, rights, flags)
                else:
                    expect(op, t.startswith("NO") and len(flags) == 1, "APPEND: %r" % t)
                    if not visible:
                        expect(op, t == tx, "tells the mailbox exists: %r" % t)
            elif op == "copy":
                ann.cmd("SELECT INBOX")
                _, t = ann.cmd("COPY 1 %s" % name(op))
                _, tx = ann.cmd("COPY 1 %s" % nx)
                ann.cmd("UNSELECT")
                flags = self.fred_flags(fred, "top/%s" % op)
                expect(op, t.startswith("OK") == has("i"), "COPY: %r" % t)
                expect(op, len(flags) == (2 if has("i") else 1), "copied: %r" % flags)
                if has("i"):
                    self.check_kept_flags(expect, op, rights, flags)
                if not has("i") and not visible:
                    expect(op, t == tx, "tells the mailbox exists: %r" % t)
            elif op == "create":
                _, t = ann.cmd('CREATE "Other Users/fred/top/create/child"')
                expect(op, t.startswith("OK") == has("k"), "CREATE: %r" % t)
            elif op == "delete":
                compare(op, "DELETE %s", "x")
                u, _ = fred.cmd('LIST "" top/delete')
                expect(op, bool(u) != has("x"), "mailbox still there: %r" % u)
            elif op == "rename":
                _, t = ann.cmd('RENAME %s "Other Users/fred/top/renamed"' % name(op))
                expect(op, t.startswith("OK") == has("xk"), "RENAME: %r" % t)
                if not has("x") and not visible:
                    _, tx = ann.cmd('RENAME %s "Other Users/fred/top/renamed2"' % nx)
                    expect(op, t == tx, "tells the mailbox exists: %r" % t)
            elif op == "setacl":
                compare(op, "SETACL %s carol lr", "a")
                u, _ = fred.cmd("GETACL top/setacl")
                expect(op, any(b" carol lr" in l for l in u) == has("a"), "ACL %r" % u)
            elif op == "deleteacl":
                compare(op, "DELETEACL %s carol", "a")
                u, _ = fred.cmd("GETACL top/deleteacl")
                expect(op, any(b" carol " in l for l in u) != has("a"), "ACL %r" % u)
            elif op == "getacl":
                u, t = compare(op, "GETACL %s", "a")
                if has("a"):
                    expect(op, any(l.startswith(b"* ACL ") for l in u), "no ACL: %r" % u)
            elif op == "listrights":
                compare(op, "LISTRIGHTS %s carol", "a")
            elif op == "myrights":
                u, t = ann.cmd("MYRIGHTS %s" % name(op))
                _, tx = ann.cmd("MYRIGHTS %s" % nx)
                if rights & set(MYRIGHTS_ANY):
                    m = [re.search(rb' "?([a-z]*)"?$', l) for l in u
                         if l.startswith(b"* MYRIGHTS ")]
                    got = set(m[0].group(1).decode()) if m and m[0] else None
                    expect(op, t.startswith("OK") and got == shown(rights),
                           "MYRIGHTS: %r %r" % (t, u))
                else:
                    expect(op, t.startswith("NO") and t == tx and not u,
                           "MYRIGHTS tells: %r %r" % (t, u))
        self.assertEqual(problems, [])


def _make(grant):
    def test(self):
        self.run_grant(grant)
    test.__doc__ = "ann holds %r" % (grant or "nothing")
    return test


# Single rights, 'l' plus each right, and 'lr' plus each right that works
# on a selected mailbox (selecting needs 'r').
GRANTS = ([""] + list("lrswipkxtean") + ["c", "d"]
          + ["l" + r for r in "ipkxtean"] + ["lc", "ld", "lkx"]
          + ["lr" + r for r in "swted"] + ["lrswite"])
for _g in GRANTS:
    setattr(AclMatrixTest, "test_grant_%s" % (_g or "none"), _make(_g))
