"""Helpers for tests that speak COMPRESS=DEFLATE (RFC 4978) on a
RawSession: raw deflate (wbits -15) both ways, every client write ending
with a sync flush as the RFC asks."""

import socket
import time
import zlib


def start_deflate(s):
    """Switch RawSession `s` to compressed I/O (after the server's OK)."""
    if s.buf:
        raise AssertionError("server sent uncompressed data after COMPRESS: %r"
                             % s.buf)
    comp = zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, -15)
    decomp = zlib.decompressobj(-15)
    stats = {"raw_in": 0, "raw_out": 0}

    def send(data):
        if isinstance(data, str):
            data = data.encode()
        s.transcript.append(b"C(z): " + data[:200])
        out = comp.compress(data) + comp.flush(zlib.Z_SYNC_FLUSH)
        stats["raw_out"] += len(out)
        s.sock.sendall(out)

    def fill(deadline):
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise socket.timeout()
            s.sock.settimeout(remaining)
            raw = s.sock.recv(65536)
            if not raw:
                s.eof = True
                return
            stats["raw_in"] += len(raw)
            data = decomp.decompress(raw)
            if data:
                s.buf += data
                return

    s.send = send
    s._fill = fill
    return stats
