#!/usr/bin/python3
"""imaptest_runner.py -- run imaptest-format scripts against an IMAP server.

    imaptest_runner.py --host H --port P --user U --password PW
                       --tests DIR [--mailbox imaptest] [--mbox-dir DIR]
                       [--trace] [name ...]

Runs every script of DIR (or the named ones) the way Dovecot's imaptest
does in its scripted mode (docs/scripted_test.md of that project): each
script gets fresh connections, its test mailbox deleted and re-created,
the messages of NAME.mbox (else default.mbox) appended and selected as the
header's `state:` asks, then its command groups are sent and the replies
matched.  One line per script -- `PASS name`, `FAIL name: why` (the first
mismatch, expected against received) or `SKIP name: why` (a capability the
server does not advertise) -- then `imaptest: N passed, M failed, K
skipped`.  The exit status is 1 if a script failed.

--mbox-dir names a further directory searched for NAME.mbox first, for
inputs kept apart from the scripts.
"""

import argparse
import os
import socket
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from imaptest_script import (ScriptError, Untagged, args_to_str,  # noqa: E402
                             parse_args, parse_script, read_mbox)

TIMEOUT = 20.0


class TestFailed(Exception):
    pass


class TestSkipped(Exception):
    pass


# ------------------------------------------------------------- connection

class Conn:
    """One IMAP connection: sends lines, reads whole responses (literals
    included) and keeps the number of messages it has been told exist."""

    def __init__(self, host, port, index, trace):
        self.sock = socket.create_connection((host, port), timeout=TIMEOUT)
        self.buf = b""
        self.index = index
        self.trace = trace
        self.ntag = 0
        self.exists = 0
        self.greeting = None

    def next_tag(self):
        self.ntag += 1
        return "%d.%d" % (self.index + 1, self.ntag)

    def send(self, data):
        if self.trace:
            sys.stderr.write("C%d> %s\n" % (self.index + 1, data.rstrip("\r\n")[:300]))
        self.sock.sendall(data.encode("latin-1"))

    def _fill(self):
        try:
            chunk = self.sock.recv(65536)
        except socket.timeout:
            raise TestFailed("connection %d: no reply within %ds" % (self.index + 1, TIMEOUT))
        if not chunk:
            raise TestFailed("connection %d: server closed the connection" % (self.index + 1))
        self.buf += chunk

    def read(self):
        """(kind, tag, args, text): kind is 'untagged', 'tagged' or 'cont'."""
        out = b""
        while True:
            while b"\r\n" not in self.buf:
                self._fill()
            line, self.buf = self.buf.split(b"\r\n", 1)
            out += line + b"\r\n"
            if line.endswith(b"}") and b"{" in line:
                num = line[line.rindex(b"{") + 1:-1].rstrip(b"+")
                if num.isdigit():
                    size = int(num)
                    while len(self.buf) < size:
                        self._fill()
                    out += self.buf[:size]
                    self.buf = self.buf[size:]
                    continue
            break
        text = out[:-2].decode("latin-1")
        if self.trace:
            sys.stderr.write("S%d< %s\n" % (self.index + 1, text[:300].replace("\r\n", "\\r\\n")))
        if text.startswith("+"):
            return "cont", None, [], text
        if text.startswith("* "):
            args = parse_args(text[2:], lenient=True)
            self._track(args)
            return "untagged", None, args, text
        tag, _, rest = text.partition(" ")
        return "tagged", tag, parse_args(rest, lenient=True), text

    def _track(self, args):
        if len(args) >= 2 and args[0][0] == "atom" and args[0][1].isdigit() \
                and args[1][0] == "atom":
            what = args[1][1].upper()
            if what == "EXISTS":
                self.exists = int(args[0][1])
            elif what == "EXPUNGE":
                self.exists -= 1

    def simple(self, command):
        """Send `command`; return (untagged args list, tagged args)."""
        tag = self.next_tag()
        self.send("%s %s\r\n" % (tag, command))
        untagged = []
        while True:
            kind, rtag, args, _ = self.read()
            if kind == "untagged":
                untagged.append(args)
            elif kind == "tagged" and rtag == tag:
                return untagged, args

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def status_of(args):
    return args[0][1].upper() if args and args[0][0] == "atom" else ""


def quote(s):
    return '"%s"' % s.replace("\\", "\\\\").replace('"', '\\"')


# ----------------------------------------------------------------- matcher

class Matcher:
    """The variable table of one script run and the matching rules."""

    def __init__(self):
        self.vars = {}
        self.added = []
        self.seqmap = []
        self.modseq_idx = 0
        self.modseq_val = 0

    def relseq(self, n):
        if n == 0:
            return "<zero seq>"
        if n > len(self.seqmap):
            return "<out of range>"
        return "<expunged>" if self.seqmap[n - 1] == 0 else str(self.seqmap[n - 1])

    def expunged(self, seq):
        if seq > len(self.seqmap):
            return
        for i in range(seq - 1, len(self.seqmap)):
            if self.seqmap[i] == seq:
                self.seqmap[i] = 0
            elif self.seqmap[i] > seq:
                self.seqmap[i] -= 1

    @staticmethod
    def _var_name(pat, i):
        """(name, index after it) of the variable whose '$' is at i-1."""
        if i < len(pat) and pat[i] == "{":
            end = pat.find("}", i)
            if end < 0:
                raise TestFailed("missing '}' in %r" % pat)
            return pat[i + 1:end], end + 1
        j = i
        while j < len(pat) and (pat[j].isalnum() or pat[j] == "_"):
            j += 1
        return pat[i:j], j

    def expand(self, text, strict=True):
        """`text` with its variables replaced; with strict, an unset one fails."""
        out = []
        i = 0
        while i < len(text):
            c = text[i]
            if c != "$" or i + 1 == len(text):
                out.append(c)
                i += 1
                continue
            i += 1
            if text[i] == "$":
                out.append("$")
                i += 1
                continue
            if text[i] == "!":
                while i < len(text) and text[i] not in " )":
                    i += 1
                if text[i:i + 1] == " ":
                    i += 1
                continue
            name, i = self._var_name(text, i)
            if name.isdigit():
                out.append(self.relseq(int(name)))
            elif name in self.vars:
                out.append(self.vars[name])
            elif strict:
                raise TestFailed("uninitialized variable $%s" % name)
            else:
                out.append("$" + name)
        return "".join(out)

    def _first_char(self, rest):
        """The first char the pattern `rest` will produce, if it is known."""
        if not rest:
            return None
        if rest[0] != "$" or rest[1:2] == "$":
            return rest[0]
        name, _ = self._var_name(rest, 1)
        if name.isdigit():
            return self.relseq(int(name))[:1]
        value = self.vars.get(name)
        return value[:1] if value else None

    def _modseq(self, idx, value):
        if not value.isdigit():
            return "$modseq-not-number"
        v = int(value)
        if self.modseq_idx > idx:
            return "$modseq-order-mismatch"
        least = self.modseq_val + (idx - self.modseq_idx)
        self.modseq_idx = idx
        if v < least:
            self.modseq_val = least
            return "$modseq-at-least-%d" % least
        self.modseq_val = v
        return value

    def match_str(self, pat, inp, prefix):
        """Does the pattern string match the received string?  Unset
        variables take the received text up to the pattern's next char."""
        out = []
        icase = True
        i = j = 0
        while i < len(pat):
            c = pat[i]
            if c != "$" or pat[i + 1:i + 2] == "$":
                if c == "$" and pat[i + 1:i + 2] == "$":
                    i += 1
                if j >= len(inp) or pat[i].upper() != inp[j].upper():
                    return False
                out.append(pat[i])
                i += 1
                j += 1
                continue
            name, i = self._var_name(pat, i + 1)
            if name.isdigit():
                value = self.relseq(int(name))
            elif name.startswith("case:"):
                value = name[5:]
                icase = False
            elif name and name in self.vars:
                value = self.vars[name]
            else:
                stop = self._first_char(pat[i:])
                k = j
                while k < len(inp) and (stop is None or inp[k].upper() != stop.upper()):
                    k += 1
                value = inp[j:k]
                if name.startswith("modseq") and name[6:].isdigit():
                    value = self._modseq(int(name[6:]), value)
                    self.vars[name] = value
                elif name:
                    self.vars[name] = value
                    self.added.append(name)
            out.append(value)
            if inp[j:j + len(value)] != value:
                return False
            j += len(value)
        exp = "".join(out)
        a, b = (inp, exp) if not icase else (inp.upper(), exp.upper())
        return a.startswith(b) if prefix else a == b

    def match_list(self, pat, got):
        unordered = False
        chain = 1
        noextra = None
        ignores, bans = [], []
        k = 0
        while k < len(pat) and pat[k][0] == "atom" and pat[k][1].startswith("$!"):
            d = pat[k][1][2:]
            if d.startswith("unordered"):
                unordered = True
                if noextra is None:
                    noextra = False
                if "=" in d:
                    chain = int(d.split("=", 1)[1])
            elif d == "ordered":
                unordered = False
            elif d == "extra":
                noextra = False
            elif d == "noextra":
                noextra = True
            elif d.startswith("ignore="):
                ignores.append(d[7:].lower())
            elif d.startswith("ban="):
                bans.append(d[4:].lower())
            k += 1
        pat = pat[k:]
        if noextra is None:
            noextra = True
        if not unordered:
            return self.match_args(pat, got, False)
        if len(got) % chain:
            return 0
        used = [False] * len(got)
        score = 0
        for p in range(0, len(pat), chain):
            for g in range(0, len(got), chain):
                if self.match_args(pat[p:p + chain], got[g:g + chain], False,
                                   limit=chain) is True:
                    used[g] = True
                    break
            else:
                return score
            score += 1
        for g in range(0, len(got), chain):
            if used[g] or got[g][0] not in ("atom", "str"):
                continue
            val = got[g][1].lower()
            if noextra and val not in ignores:
                return score
            if not noextra and val in bans:
                return score
        return True

    def match_args(self, pat, got, prefix, limit=None):
        """True on a match, else how many leading arguments matched."""
        n = 0
        for idx, (kind, val) in enumerate(pat):
            if limit is not None and idx >= limit:
                break
            if idx >= len(got):
                return n
            gkind, gval = got[idx]
            if kind == "nil":
                if gkind != "nil":
                    return n
            elif kind in ("atom", "str"):
                if val == "$" and gkind == "list":
                    pass
                elif gkind not in ("atom", "str"):
                    return n
                elif not self.match_str(val, gval,
                                        prefix and idx == len(pat) - 1):
                    return n
            else:
                if gkind != "list":
                    return n
                sub = self.match_list(val, gval)
                if sub is not True:
                    return n + sub
            n += 1
        if prefix or limit is not None or len(got) == len(pat):
            return True
        return n

    def try_match(self, pat, got, prefix):
        """match_args, with the variables it set undone unless it matched."""
        self.added = []
        r = self.match_args(pat, got, prefix)
        if r is not True:
            for name in self.added:
                self.vars.pop(name, None)
        self.added = []
        return r


# ------------------------------------------------------------------ runner

class ScriptRun:
    def __init__(self, script, opts):
        self.script = script
        self.opts = opts
        self.m = Matcher()
        self.conns = []
        mbox = script.mbox
        self.default_mbox = not script.own_mbox
        if opts.mbox_dir and os.path.exists(os.path.join(opts.mbox_dir, script.name + ".mbox")):
            mbox = os.path.join(opts.mbox_dir, script.name + ".mbox")
            self.default_mbox = False
        self.mbox_path = mbox
        self.messages = read_mbox(mbox)
        self.next_msg = 0

    # --- setup

    def next_message(self):
        msg = self.messages[self.next_msg % len(self.messages)]
        self.next_msg += 1
        return msg

    def run(self):
        s = self.script
        o = self.opts
        m = self.m
        user = o.user
        for i in range(s.connections):
            u = s.users.get(i + 1, user if i == 0 else user)
            suffix = "" if i == 0 else str(i + 1)
            m.vars["user" + suffix] = u
            m.vars["username" + suffix] = u.split("@", 1)[0]
            m.vars["domain" + suffix] = u.split("@", 1)[1] if "@" in u else o.host
            m.vars["password" + suffix] = o.password
        m.vars["mailbox"] = o.mailbox
        m.vars["mailbox_url"] = urllib.parse.quote(o.mailbox, safe="/;")
        try:
            for i in range(s.connections):
                c = Conn(o.host, o.port, i, o.trace)
                self.conns.append(c)
                kind, _, args, text = c.read()
                if kind != "untagged" or status_of(args) not in ("OK", "PREAUTH"):
                    raise TestFailed("bad greeting: %s" % text)
            self.setup()
            for g in s.groups:
                self.run_group(g)
            self.logout()
        finally:
            for c in self.conns:
                c.close()

    def init_cmd(self, conn, command, allow_no=False):
        untagged, tagged = conn.simple(command)
        st = status_of(tagged)
        if st != "OK" and not (allow_no and st == "NO"):
            raise TestFailed("initialization: %s failed: %s" % (command, args_to_str(tagged)))
        return untagged

    def setup(self):
        s = self.script
        c1 = self.conns[0]
        if s.state == "nonauth":
            self.check_caps(self.init_cmd(c1, "CAPABILITY"))
            return
        for c in self.conns:
            self.init_cmd(c, "LOGIN %s %s" % (quote(self.opts.user), quote(self.opts.password)))
        self.check_caps(self.init_cmd(c1, "CAPABILITY"))
        mask = quote(self.opts.mailbox + "*")
        boxes, subs = [], []
        for what, into in (("LIST", boxes), ("LSUB", subs)):
            for args in self.init_cmd(c1, '%s "" %s' % (what, mask)):
                if len(args) >= 4 and status_of(args) == what and args[3][0] in ("atom", "str"):
                    into.append(args[3][1])
        for box in sorted(boxes, key=str.lower, reverse=True):
            self.init_cmd(c1, "DELETE %s" % quote(box), allow_no=True)
        for box in sorted(subs, key=str.lower, reverse=True):
            self.init_cmd(c1, "UNSUBSCRIBE %s" % quote(box), allow_no=True)
        order = s.STATES.index(s.state)
        if order >= s.STATES.index("created") and self.opts.mailbox.upper() != "INBOX":
            self.init_cmd(c1, "CREATE %s" % quote(self.opts.mailbox))
        if order >= s.STATES.index("appended"):
            count = len(self.messages) if s.messages is None else s.messages
            for _ in range(count):
                self.append_message(c1, quote(self.opts.mailbox), with_date=True)
        if s.state == "selected":
            for c in self.conns:
                self.init_cmd(c, "SELECT %s" % quote(self.opts.mailbox))

    def check_caps(self, untagged):
        caps = set()
        for args in untagged:
            if status_of(args) == "CAPABILITY":
                caps.update(a[1].upper() for a in args[1:] if a[0] == "atom")
        missing = [c for c in self.script.capabilities if c.upper() not in caps]
        if missing:
            raise TestSkipped("server lacks %s" % " ".join(missing))

    def append_message(self, conn, args, with_date):
        """APPEND the next mbox message (synchronising literal) and wait."""
        date, body = self.next_message()
        if with_date and date:
            args += ' "%s"' % date
        tag = conn.next_tag()
        conn.send("%s APPEND %s {%d}\r\n" % (tag, args, len(body)))
        while True:
            kind, rtag, rargs, _ = conn.read()
            if kind == "cont":
                conn.send(body + "\r\n")
            elif kind == "tagged" and rtag == tag:
                if status_of(rargs) != "OK":
                    raise TestFailed("initialization: APPEND failed: %s" % args_to_str(rargs))
                return

    def logout(self):
        for c in self.conns:
            try:
                c.simple("LOGOUT")
            except TestFailed:
                pass

    # --- command groups

    def plain_append(self, text):
        """The APPEND arguments if `text` is an APPEND the runner must
        supply the message for (no literal, no CATENATE), else None."""
        low = text.lower()
        if low == "append":
            return quote(self.opts.mailbox)
        if not low.startswith("append "):
            return None
        try:
            args = parse_args(text[7:])
        except ScriptError:
            return None
        i = 1
        if i < len(args) and args[i][0] == "list":
            i += 1
        if i < len(args) and args[i][0] == "str":
            i += 1
        if i < len(args):
            return None
        return text[7:]

    def send_command(self, conn, tag, text, state):
        """Send one command, waiting for '+' before each literal; replies
        read meanwhile go through handle()."""
        parts = []
        pos = 0
        while True:
            idx = text.find("}\r\n", pos)
            if idx < 0:
                break
            brace = text.rfind("{", pos, idx)
            num = text[brace + 1:idx].rstrip("+") if brace >= 0 else ""
            if not num.isdigit():
                pos = idx + 3
                continue
            end = idx + 3 + int(num)
            parts.append((text[:idx + 3], end))
            pos = end
        start = 0
        for head, end in parts:
            conn.send(text[start:len(head)])
            while True:
                kind, rtag, args, raw = conn.read()
                if kind == "cont":
                    break
                self.handle(conn, kind, rtag, args, state)
                if rtag == tag:
                    return
            start = len(head)
            conn.send(text[start:end])
            start = end
        conn.send(text[start:] + "\r\n")

    def run_group(self, g):
        s = self.script
        conn = self.conns[g.conn]
        m = self.m
        m.seqmap = list(range(1, conn.exists + 1))
        state = {"found": [False] * len(g.untagged), "best": [None] * len(g.untagged),
                 "mismatches": 0, "extra": None, "pending": {}, "first_tag": None,
                 "group": g}
        self.current = g
        for cmd in g.commands:
            text = m.expand(cmd.text)
            tag = conn.next_tag()
            if state["first_tag"] is None:
                state["first_tag"] = tag
            state["pending"][tag] = cmd
            appargs = self.plain_append(text)
            if appargs is not None:
                date, body = self.next_message()
                if text.lower() == "append" and date:
                    appargs += ' "%s"' % date
                text = "APPEND %s {%d}\r\n%s" % (appargs, len(body), body)
            self.send_command(conn, tag, "%s %s" % (tag, text), state)
        while state["pending"]:
            kind, rtag, args, _ = conn.read()
            self.handle(conn, kind, rtag, args, state)
        missing = [i for i, u in enumerate(g.untagged)
                   if u.existence == Untagged.MUST and not state["found"][i]]
        if missing:
            u = g.untagged[missing[0]]
            best = state["best"][missing[0]]
            raise TestFailed("line %d: missing %d untagged replies (%d mismatched)\n"
                             "   expected: * %s\n   expanded: * %s\n   best match: %s"
                             % (u.linenum, len(missing), state["mismatches"],
                                args_to_str(u.args), m.expand(args_to_str(u.args), False),
                                "* " + best[1] if best else "(none)"))
        if state["extra"] is not None:
            raise TestFailed("line %d: %d unexpected untagged replies, first: * %s"
                             % (g.commands[0].linenum, state["mismatches"], state["extra"]))
        for line in g.output:
            print(m.expand(line))
        if g.sleep:
            time.sleep(g.sleep)

    def handle(self, conn, kind, rtag, args, state):
        g = state["group"]
        m = self.m
        if kind == "untagged":
            self.match_untagged(args, state)
            if len(args) >= 2 and args[0][0] == "atom" and args[0][1].isdigit() \
                    and args[1][0] == "atom" and args[1][1].upper() == "EXPUNGE":
                m.expunged(int(args[0][1]))
            return
        if kind == "cont":
            raise TestFailed("unexpected continuation request")
        cmd = state["pending"].pop(rtag, None)
        if cmd is None:
            raise TestFailed("reply for unknown tag %s: %s" % (rtag, args_to_str(args)))
        m.vars["tag"] = rtag
        r = m.try_match(cmd.reply, args, True)
        m.vars.pop("tag", None)
        if r is not True:
            raise TestFailed("line %d: %s\n   expected tagged reply: %s\n   got: %s %s"
                             % (cmd.linenum, m.expand(cmd.text, False),
                                args_to_str(cmd.reply), rtag, args_to_str(args)))
        del g

    def match_untagged(self, args, state):
        g = state["group"]
        m = self.m
        if not g.untagged and self.script.ignore_extra_untagged:
            return
        prefix = status_of(args) in ("OK", "NO", "BAD", "BYE")
        found_some = False
        for i, u in enumerate(g.untagged):
            if state["found"][i]:
                continue
            m.vars["tag"] = state["first_tag"]
            r = m.try_match(u.args, args, prefix)
            m.vars.pop("tag", None)
            if r is True:
                if u.existence == Untagged.MUST_NOT:
                    raise TestFailed("line %d: unexpected untagged reply\n   matched: ! %s\n"
                                     "   got: * %s" % (u.linenum, args_to_str(u.args),
                                                       args_to_str(args)))
                state["found"][i] = True
                found_some = True
                if g.ordered:
                    break
                continue
            best = state["best"][i]
            if best is None or best[0] < r:
                state["best"][i] = (r, args_to_str(args))
            if g.ordered and u.existence == Untagged.MUST:
                break
        if not found_some:
            state["mismatches"] += 1
            if not self.script.ignore_extra_untagged and state["extra"] is None:
                state["extra"] = args_to_str(args)


def list_scripts(tests_dir, names):
    files = sorted(f for f in os.listdir(tests_dir)
                   if not f.startswith(".") and not f.endswith(".mbox")
                   and os.path.isfile(os.path.join(tests_dir, f)))
    if names:
        files = [f for f in files if f in names]
    return files


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=143)
    ap.add_argument("--user", required=True)
    ap.add_argument("--password", default="pass")
    ap.add_argument("--tests", required=True, help="directory of imaptest scripts")
    ap.add_argument("--mailbox", default="imaptest")
    ap.add_argument("--mbox-dir", help="another directory searched for NAME.mbox")
    ap.add_argument("--trace", action="store_true", help="protocol trace on stderr")
    ap.add_argument("names", nargs="*", help="run only these scripts")
    opts = ap.parse_args(argv)
    counts = {"PASS": 0, "FAIL": 0, "SKIP": 0}
    for name in list_scripts(opts.tests, opts.names):
        path = os.path.join(opts.tests, name)
        note = ""
        try:
            script = parse_script(path)
            run = ScriptRun(script, opts)
            # imaptest falls back to default.mbox; say so, since a script
            # written for its own mbox fails for want of its input then.
            note = " [default.mbox]" if run.default_mbox else ""
            run.run()
            result, why = "PASS", ""
        except TestSkipped as e:
            result, why = "SKIP", str(e)
        except (TestFailed, ScriptError) as e:
            result, why = "FAIL", str(e)
        except OSError as e:
            result, why = "FAIL", "connection: %s" % e
        counts[result] += 1
        print("%s %s%s%s" % (result, name, note if result == "FAIL" else "",
                             ": " + why if why else ""), flush=True)
    print("imaptest: %d passed, %d failed, %d skipped"
          % (counts["PASS"], counts["FAIL"], counts["SKIP"]))
    return 1 if counts["FAIL"] else 0


if __name__ == "__main__":
    sys.exit(main())
