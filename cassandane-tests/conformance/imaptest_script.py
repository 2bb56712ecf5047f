"""imaptest_script.py -- reading imaptest-format test scripts.

The format (Dovecot imaptest's docs/scripted_test.md): a header of
`key: value` lines, an empty line, then command groups.  A command is
`[conn] [tagN] [ok|no|bad|""] command`; lines `* ...` (must come),
`! ...` (must not come) and `? ...` (may come) are the untagged replies
expected for the group; `{{{` ... `}}}` (or `~{{{` for a binary literal)
spans a literal over several lines.  This module turns a script into a
Script object; it talks to no server.

IMAP arguments are kept as small tuples: ("atom", s), ("str", s),
("nil", None), ("list", [args]).  An atom that contains `[` runs to the
matching `]` even across spaces and parentheses, so BODY[HEADER.FIELDS
(FROM)] and [UIDVALIDITY 5] are single atoms on both sides of a match.
"""

import os
import re


class ScriptError(Exception):
    """The script is not valid imaptest syntax."""


# ---------------------------------------------------------------- tokenizer

def parse_args(text, lenient=False):
    """IMAP arguments of `text` (a str whose chars are bytes, literals
    written inline as {N}\\r\\n<N chars>).  With lenient, text that is not
    valid IMAP (human-readable response text) becomes atoms instead of an
    error."""
    pos = 0
    n = len(text)
    stack = [[]]

    def fail(msg):
        raise ScriptError("%s at offset %d in %r" % (msg, pos, text[:200]))

    while pos < n:
        c = text[pos]
        if c in " \r\n":
            pos += 1
        elif c == "(":
            stack.append([])
            pos += 1
        elif c == ")":
            if len(stack) == 1:
                if not lenient:
                    fail("unbalanced ')'")
                stack[-1].append(("atom", ")"))
            else:
                items = stack.pop()
                stack[-1].append(("list", items))
            pos += 1
        elif c == '"':
            pos += 1
            out = []
            while pos < n and text[pos] != '"':
                if text[pos] == "\\" and pos + 1 < n:
                    pos += 1
                out.append(text[pos])
                pos += 1
            if pos >= n:
                if not lenient:
                    fail("unterminated string")
            pos += 1
            stack[-1].append(("str", "".join(out)))
        elif (c == "{" or (c == "~" and text.startswith("{", pos + 1))) and \
                re.match(r"~?\{\d+\+?\}\r\n", text[pos:]):
            m = re.match(r"~?\{(\d+)\+?\}\r\n", text[pos:])
            size = int(m.group(1))
            start = pos + m.end()
            if start + size > n:
                fail("literal runs past the end")
            stack[-1].append(("str", text[start:start + size]))
            pos = start + size
        else:
            start = pos
            depth = 0
            while pos < n:
                ch = text[pos]
                if ch == "[":
                    depth += 1
                elif ch == "]" and depth > 0:
                    depth -= 1
                elif depth == 0 and ch in " ()\r\n":
                    break
                pos += 1
            atom = text[start:pos]
            if atom.upper() == "NIL":
                stack[-1].append(("nil", None))
            else:
                stack[-1].append(("atom", atom))
    while len(stack) > 1:
        if not lenient:
            raise ScriptError("unbalanced '(' in %r" % text[:200])
        items = stack.pop()
        stack[-1].append(("list", items))
    return stack[0]


def args_to_str(args):
    """Readable IMAP text of parsed arguments (for reports)."""
    out = []
    for kind, val in args:
        if kind == "atom":
            out.append(val)
        elif kind == "nil":
            out.append("NIL")
        elif kind == "str":
            if "\n" in val or '"' in val or len(val) > 200:
                out.append("{%d}%s" % (len(val), val[:200].replace("\r\n", "\\r\\n")
                                       .replace("\n", "\\n")))
            else:
                out.append('"%s"' % val)
        else:
            out.append("(%s)" % args_to_str(val))
    return " ".join(out)


# ---------------------------------------------------- default list directives

FLAGS_DEFAULTS = ["$!unordered", "$!noextra", "$!ignore=\\recent",
                  "$!ignore=$HasAttachment", "$!ignore=$HasNoAttachment"]


def has_directives(items):
    return bool(items) and items[0][0] == "atom" and items[0][1].startswith("$!")


def check_directives(items):
    chain = 1
    ndir = 0
    for kind, val in items:
        if kind != "atom" or not val.startswith("$!"):
            break
        ndir += 1
        d = val[2:]
        if d.startswith("unordered"):
            if d == "unordered":
                continue
            m = re.match(r"unordered=(\d+)$", d)
            if not m:
                raise ScriptError("broken directive %s" % val)
            chain = int(m.group(1))
        elif d in ("ordered", "noextra", "extra") or d.startswith("ignore=") \
                or d.startswith("ban="):
            continue
        else:
            raise ScriptError("unknown directive %s" % val)
    if (len(items) - ndir) % chain:
        raise ScriptError("list length is not a multiple of the chain size %d" % chain)


def add_default_directives(args):
    """Give the lists of an expected untagged reply the implicit matching
    rules of the format: LIST/LSUB flags unordered, STATUS items and FETCH
    items unordered pairs, FETCH FLAGS unordered and exact but for
    \\Recent (which another session may own)."""
    name = ""
    if args and args[0][0] == "atom":
        name = args[0][1]
        if name[:1] == "$" or name[:1].isdigit():
            name = args[1][1] if len(args) > 1 and args[1][0] == "atom" else ""
    name = name.lower()
    for i, (kind, val) in enumerate(args):
        if kind != "list":
            continue
        if not has_directives(val):
            if name in ("list", "lsub") and i == 1:
                val.insert(0, ("atom", "$!unordered"))
            elif name in ("status", "fetch") and i == 2:
                val.insert(0, ("atom", "$!unordered=2"))
        check_directives(val)
        if name == "fetch" and i == 2:
            prev = None
            for kind2, val2 in val:
                if kind2 == "atom":
                    prev = val2.lower()
                elif kind2 == "list":
                    if prev == "flags" and not has_directives(val2):
                        val2[0:0] = [("atom", d) for d in FLAGS_DEFAULTS]
                    _check_nested(val2)
        else:
            _check_nested(val)


def _check_nested(items):
    check_directives(items)
    for kind, val in items:
        if kind == "list":
            _check_nested(val)


# ------------------------------------------------------------------ scripts

class Command:
    def __init__(self, text, tag, reply, linenum):
        self.text = text          # command text, literals inline
        self.tag = tag            # tagN number of a pipelined command, or 0
        self.reply = reply        # expected tagged reply args, or None yet
        self.linenum = linenum


class Untagged:
    MUST, MUST_NOT, MAY = "*", "!", "?"

    def __init__(self, existence, args, linenum):
        self.existence = existence
        self.args = args
        self.linenum = linenum


class Group:
    def __init__(self, conn):
        self.conn = conn          # 0-based connection index
        self.commands = []
        self.untagged = []
        self.ordered = False
        self.sleep = 0.0
        self.output = []

    def pending(self):
        return sum(1 for c in self.commands if c.reply is None)


class Script:
    STATES = ("nonauth", "auth", "created", "appended", "selected")

    def __init__(self, path):
        self.path = path
        self.name = os.path.basename(path)
        self.capabilities = []
        self.connections = 1
        self.messages = None      # None: every message of the mbox once
        self.state = "selected"
        self.ignore_extra_untagged = True
        self.users = {}
        self.groups = []
        mbox = path + ".mbox"
        self.mbox = mbox if os.path.exists(mbox) else \
            os.path.join(os.path.dirname(path), "default.mbox")
        self.own_mbox = os.path.exists(mbox)


def _reply_keyword(line):
    """(tag number or 0, reply args or None, rest of line) for a line that
    may start with `tagN` and `ok|no|bad|""`."""
    tag = 0
    words = line.split(" ", 1)
    m = re.match(r"(?i)tag(\d+)$", words[0])
    if m and int(m.group(1)) > 0 and len(words) > 1:
        tag = int(m.group(1))
        line = words[1]
        words = line.split(" ", 1)
    kw = words[0]
    if kw.lower() in ("ok", "no", "bad") or kw == '""':
        rest = words[1] if len(words) > 1 else ""
        reply = [("atom", "" if kw == '""' else kw.lower())]
        return tag, reply, rest
    return tag, None, line


def _is_untagged(line):
    return line[:2] in ("* ", "! ", "? ")


def _header_line(script, line):
    if ":" not in line:
        raise ScriptError("missing ':' in header line %r" % line)
    key, value = line.split(":", 1)
    key = key.strip().lower()
    value = value.strip()
    if key == "capabilities":
        script.capabilities = value.split()
    elif key == "connections":
        script.connections = int(value)
        if not 0 < script.connections <= 100:
            raise ScriptError("bad connection count")
    elif key == "ignore_extra_untagged":
        script.ignore_extra_untagged = value[:1].lower() == "y"
    elif key == "messages":
        script.messages = None if value == "all" else int(value)
    elif key == "state":
        if value.lower() not in Script.STATES:
            raise ScriptError("unknown state %r" % value)
        script.state = value.lower()
    elif re.match(r"user \d+$", key):
        script.users[int(key[5:])] = value
    else:
        raise ScriptError("unknown header %r" % key)


class _Parser:
    def __init__(self, script):
        self.s = script
        self.group = None
        self.ifstack = []
        self.skip = False

    def line(self, linenum, line):
        if line.startswith("!ifenv ") or line.startswith("!ifnenv "):
            want = line.startswith("!ifenv ")
            present = line.split(" ", 1)[1].strip() in os.environ
            self.ifstack.append([self.skip, False])
            if present != want:
                self.skip = True
            return
        if line == "!else":
            if not self.ifstack or self.ifstack[-1][1]:
                raise ScriptError("line %d: stray !else" % linenum)
            self.ifstack[-1][1] = True
            if not self.ifstack[-1][0]:
                self.skip = not self.skip
            return
        if line == "!endif":
            if not self.ifstack:
                raise ScriptError("line %d: !endif without !ifenv" % linenum)
            self.skip = self.ifstack.pop()[0]
            return
        if self.skip:
            return
        s = self.s
        g = self.group
        if g is not None:
            if line.startswith("!sleep "):
                m = re.match(r"(\d+)\s*(ms|msecs|s|secs)?$", line[7:].strip())
                if not m:
                    raise ScriptError("line %d: bad !sleep" % linenum)
                g.sleep = int(m.group(1)) / (1000.0 if (m.group(2) or "ms").startswith("m")
                                             else 1.0)
                return
            if line.startswith("!output "):
                g.output.append(line[8:])
                return
            if line == "!ordered":
                g.ordered = True
                return
            if _is_untagged(line):
                args = parse_args(line[2:])
                add_default_directives(args)
                g.untagged.append(Untagged(line[0], args, linenum))
                return
            if g.pending():
                rest = line
                conn = 0
                words = rest.split(" ", 1)
                if s.connections > 1 and words[0].isdigit() and int(words[0]) > 0:
                    conn = int(words[0])
                    rest = words[1] if len(words) > 1 else ""
                tag, reply, _ = _reply_keyword(rest)
                if reply is not None:
                    if s.connections > 1:
                        if conn == 0:
                            raise ScriptError("line %d: missing connection number" % linenum)
                        if conn - 1 != g.conn:
                            raise ScriptError("line %d: reply for the wrong connection" % linenum)
                    cmd = next((c for c in g.commands if c.tag == tag), None)
                    if cmd is None:
                        raise ScriptError("line %d: reply for an unknown tag" % linenum)
                    if cmd.reply is not None:
                        raise ScriptError("line %d: command already has a reply" % linenum)
                    args = parse_args(rest)
                    cmd.reply = args if tag == 0 else args[1:]
                    return
        conn = 0
        if s.connections > 1:
            words = line.split(" ", 1)
            if not words[0].isdigit() or int(words[0]) == 0:
                raise ScriptError("line %d: missing connection number" % linenum)
            conn = int(words[0]) - 1
            line = words[1] if len(words) > 1 else ""
            s.connections = max(s.connections, conn + 1)
        if g is None or g.pending() == 0:
            if g is not None and g.commands and conn != g.conn and g.pending():
                raise ScriptError("line %d: pipelined commands on two connections" % linenum)
            g = self.group = Group(conn)
            s.groups.append(g)
        elif conn != g.conn:
            raise ScriptError("line %d: pipelined commands on two connections" % linenum)
        tag, reply, rest = _reply_keyword(line)
        if tag == 0 and g.pending():
            raise ScriptError("line %d: previous command has no reply" % linenum)
        if tag and any(c.tag == tag for c in g.commands):
            raise ScriptError("line %d: tag reused in a group" % linenum)
        if not g.commands and _is_untagged(rest):
            raise ScriptError("line %d: greeting checks are not supported" % linenum)
        g.commands.append(Command(rest, tag, reply, linenum))


def parse_script(path):
    """Read the script at `path` into a Script (ScriptError if invalid)."""
    script = Script(path)
    with open(path, "rb") as f:
        data = f.read().decode("latin-1")
    if data and not data.endswith("\n"):
        raise ScriptError("last line does not end with LF")
    lines = data.split("\n")[:-1]
    parser = _Parser(script)
    header = True
    multi = None          # [text so far, start of literal, end of last line, binary]
    start_line = 0
    for num, raw in enumerate(lines, 1):
        line = raw[:-1] if raw.endswith("\r") else raw
        crlf = raw.endswith("\r")
        if multi is not None:
            if not line.startswith("}}}"):
                multi[0] += line
                multi[2] = len(multi[0])
                multi[0] += "\n" if multi[3] and not crlf else "\r\n"
                continue
            text = multi[0][:multi[2]]
            body = text[multi[1]:]
            text = text[:multi[1]] + "%s{%d}\r\n" % ("~" if multi[3] else "", len(body)) + body
            rest = line[3:]
            if rest.endswith("{{{"):
                binary = rest.endswith("~{{{")
                text += rest[:-4 if binary else -3]
                multi = [text, len(text), len(text), binary]
                continue
            line = text + rest
            multi = None
        else:
            start_line = num
            if line == "":
                header = False
                continue
            if line.startswith("#"):
                continue
            if line.endswith("{{{"):
                binary = line.endswith("~{{{")
                text = line[:-4 if binary else -3]
                multi = [text, len(text), len(text), binary]
                continue
        if header:
            _header_line(script, line)
        else:
            parser.line(start_line, line)
    if multi is not None:
        raise ScriptError("literal from line %d not closed" % start_line)
    if parser.ifstack:
        raise ScriptError("!ifenv not closed")
    if not script.groups:
        raise ScriptError("no commands")
    last = script.groups[-1]
    if last.pending():
        raise ScriptError("last command has no reply")
    return script


def read_mbox(path):
    """[(internaldate or None, message bytes as str)] of an mbox file: every
    message runs from its From_ line to the next one (the blank line before
    a From_ line included) with line ends made CRLF."""
    with open(path, "rb") as f:
        lines = f.read().decode("latin-1").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    msgs = []
    cur = None
    for line in lines:
        date = from_line_date(line) if line.startswith("From ") else None
        if date is not None:
            if cur is not None and not cur[1]:
                msgs.pop()          # a From_ line right after another one
            cur = [date, []]
            msgs.append(cur)
            continue
        if cur is None:
            raise ScriptError("%s is not an mbox file" % path)
        cur[1].append(line)
    out = []
    for date, body in msgs:
        text = "".join(l + ("\n" if l.endswith("\r") else "\r\n") for l in body)
        out.append((date, text))
    if not out:
        raise ScriptError("%s has no messages" % path)
    return out


MONTHS = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()


def from_line_date(line):
    """The IMAP date-time of an mbox From_ line ("From sender  Fri Feb 22
    17:06:23 2008 [+0200]"), or None if the line is not one."""
    m = re.search(r"\s(?:\w{3})\s+(\w{3})\s+(\d{1,2})\s+(\d\d):(\d\d):(\d\d)\s+(\d{4})"
                  r"(?:\s+([+-]\d{4}))?\s*$", line)
    if not m or m.group(1) not in MONTHS:
        return None
    mon, day, hh, mm, ss, year, tz = m.groups()
    return "%2d-%s-%s %s:%s:%s %s" % (int(day), mon, year, hh, mm, ss, tz or "+0000")
