"""rawsession.py -- a byte-level protocol session for tests.

imaplib refuses to send malformed commands and hides the server's exact
lines, so tests of error handling talk through RawSession: send any bytes,
read CRLF-terminated lines with a timeout, optionally switch to TLS.
Every read is bounded by a timeout, so a server that hangs fails the test
instead of hanging the suite.
"""

import socket
import ssl
import time


class SessionTimeout(AssertionError):
    """The server sent nothing (or not the expected line) in time."""


class SessionClosed(AssertionError):
    """The server closed the connection while a reply was expected."""


class RawSession:
    def __init__(self, host, port, timeout=10.0, tls_context=None,
                 server_hostname="localhost"):
        self.timeout = timeout
        self.sock = socket.create_connection((host, port), timeout=timeout)
        if tls_context is not None:
            self.sock = tls_context.wrap_socket(self.sock,
                                                server_hostname=server_hostname)
        self.buf = b""
        self.eof = False
        # Every line received, for failure messages.
        self.transcript = []

    # --- writing ----------------------------------------------------------

    def send(self, data):
        """Send bytes (or str, encoded as UTF-8) exactly as given."""
        if isinstance(data, str):
            data = data.encode()
        self.transcript.append(b"C: " + data[:200])
        self.sock.sendall(data)

    def send_line(self, line):
        """Send one line, adding CRLF."""
        if isinstance(line, str):
            line = line.encode()
        self.send(line + b"\r\n")

    # --- reading ----------------------------------------------------------

    def _fill(self, deadline):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise socket.timeout()
        self.sock.settimeout(remaining)
        data = self.sock.recv(65536)
        if not data:
            self.eof = True
        self.buf += data

    def readline(self, timeout=None):
        """One line without its CRLF; None at end of stream.

        Raises SessionTimeout if no complete line arrives in time.
        """
        deadline = time.monotonic() + (timeout or self.timeout)
        while b"\r\n" not in self.buf:
            if self.eof:
                if self.buf:
                    line, self.buf = self.buf, b""
                    self.transcript.append(b"S: " + line[:200])
                    return line
                return None
            try:
                self._fill(deadline)
            except socket.timeout:
                raise SessionTimeout("no line from server within %.1fs; so far:\n%s"
                                     % (timeout or self.timeout, self.dump()))
            except (ConnectionResetError, ssl.SSLError, OSError) as e:
                if isinstance(e, socket.timeout):
                    raise
                self.eof = True
        line, self.buf = self.buf.split(b"\r\n", 1)
        self.transcript.append(b"S: " + line[:200])
        return line

    def expect_line(self, timeout=None):
        """Like readline() but a closed stream is a failure."""
        line = self.readline(timeout)
        if line is None:
            raise SessionClosed("server closed the connection; transcript:\n"
                                + self.dump())
        return line

    def read_until_tagged(self, tag, timeout=None):
        """(untagged lines, tagged line) for the command tagged `tag`."""
        if isinstance(tag, str):
            tag = tag.encode()
        deadline = time.monotonic() + (timeout or self.timeout)
        untagged = []
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise SessionTimeout("no tagged reply for %r; transcript:\n%s"
                                     % (tag, self.dump()))
            line = self.expect_line(left)
            if line.startswith(tag + b" "):
                return untagged, line
            untagged.append(line)

    def command(self, tag, text, timeout=None):
        """Send `tag text` CRLF and return (untagged lines, tagged line)."""
        if isinstance(tag, str):
            tag = tag.encode()
        if isinstance(text, str):
            text = text.encode()
        self.send(tag + b" " + text + b"\r\n")
        return self.read_until_tagged(tag, timeout)

    def wait_closed(self, timeout=None):
        """True if the server closes the connection within `timeout`
        (discarding whatever it sends before)."""
        deadline = time.monotonic() + (timeout or self.timeout)
        while not self.eof:
            try:
                self._fill(deadline)
            except socket.timeout:
                return False
            except OSError:
                return True
        return True

    def nothing_within(self, seconds):
        """True if the server sends no byte and keeps the connection open
        for `seconds`."""
        if self.buf:
            return False
        try:
            self._fill(time.monotonic() + seconds)
        except socket.timeout:
            return True
        except OSError:
            return False
        return False

    # --- TLS ---------------------------------------------------------------

    def starttls(self, context, server_hostname="localhost"):
        """Switch the connection to TLS (after the server agreed)."""
        if self.buf:
            raise AssertionError("server sent data before the TLS handshake: %r"
                                 % self.buf)
        self.sock.settimeout(self.timeout)
        self.sock = context.wrap_socket(self.sock, server_hostname=server_hostname)

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def dump(self):
        return "\n".join("  " + t.decode("utf-8", "replace")
                         for t in self.transcript[-30:])

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
