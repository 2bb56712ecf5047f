"""Reading METADATA responses (RFC 5464 4.4.1) in tests: entries as atoms
or quoted strings, values quoted or NIL."""

import re

TOKEN = re.compile(rb'\s*(NIL|"(?:[^"\\]|\\.)*"|[^\s()"]+)')


def _token(raw):
    if raw == b"NIL":
        return None
    if raw.startswith(b'"'):
        return re.sub(rb"\\(.)", rb"\1", raw[1:-1]).decode()
    return raw.decode()


def parse_metadata(line):
    """(mailbox, {entry: value or None}) of one "* METADATA" line."""
    m = re.match(rb'\* METADATA (NIL|"(?:[^"\\]|\\.)*"|\S+) \((.*)\)$', line)
    assert m, line
    tokens = [_token(t) for t in TOKEN.findall(m.group(2))]
    assert len(tokens) % 2 == 0, line
    return _token(m.group(1)), dict(zip(tokens[0::2], tokens[1::2]))


def metadata_lines(lines):
    return [l for l in lines if l.startswith(b"* METADATA ")]
