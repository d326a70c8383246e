"""Server-sent events (WHATWG rules): `event:` and `data:` fields, blank line ends an event.

Handles LF, CRLF and CR line ends, split anywhere (including between CR and LF), comment
lines (`: ping`), multi-line data, and a final event without its blank line at EOF.
Payloads are returned as text; the stream machine parses JSON.
"""
from __future__ import annotations

from ..errors import StreamError


class SSEDecoder:
    def __init__(self) -> None:
        self._buf = b""
        self._event: str | None = None
        self._data: list[str] = []
        self._pending_cr = False

    def feed(self, data: bytes) -> list[tuple[str | None, str]]:
        if not data:
            return []
        if self._pending_cr and data.startswith(b"\n"):
            data = data[1:]
        self._pending_cr = False
        buf = self._buf + data if self._buf else data
        out: list[tuple[str | None, str]] = []
        if b"\r" not in buf:  # the usual case: LF only, complete lines decoded and split at once
            cut = buf.rfind(b"\n") + 1
            self._buf = buf[cut:]
            if cut:
                self._lines(_decode(buf[:cut - 1]).split("\n"), out)
            return out
        pos = 0
        while True:  # positions, not re-slicing: a large chunk stays linear
            cut = _line_end(buf, pos)
            if cut is None:
                break
            start, end = cut
            if end == len(buf) and buf[start:end] == b"\r":
                self._pending_cr = True  # maybe the first half of CRLF: the LF may come next
            self._line(buf[pos:start], out)
            pos = end
        self._buf = buf[pos:]
        return out

    def _lines(self, lines: list[str], out: list) -> None:
        event, data = self._event, self._data
        for line in lines:
            if not line:
                if data or event is not None:
                    out.append((event, "\n".join(data)))
                event, data = None, []
                continue
            if line[0] == ":":
                continue
            name, _, value = line.partition(":")
            if value[:1] == " ":
                value = value[1:]
            if name == "data":
                data.append(value)
            elif name == "event":
                event = value
        self._event, self._data = event, data

    def _line(self, raw: bytes, out: list) -> None:
        self._lines([_decode(raw)], out)

    def close(self) -> list[tuple[str | None, str]]:
        out: list[tuple[str | None, str]] = []
        if self._buf:
            self._line(self._buf, out)
            self._buf = b""
        self._line(b"", out)
        return out


def _decode(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise StreamError("upstream stream is not valid UTF-8") from None


def _line_end(buf: bytes, pos: int) -> tuple[int, int] | None:
    """(index where the line from `pos` ends, index after its terminator) or None."""
    n = buf.find(b"\n", pos)
    r = buf.find(b"\r", pos)
    if r == -1 and n == -1:
        return None
    if r == -1 or (n != -1 and n < r):
        return n, n + 1
    if r + 1 < len(buf) and buf[r + 1:r + 2] == b"\n":
        return r, r + 2
    return r, r + 1
