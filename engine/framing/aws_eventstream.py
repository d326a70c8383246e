"""AWS event-stream binary frames (application/vnd.amazon.eventstream), decoded by hand.

Each message is a prelude (total length, headers length: u32 big-endian; CRC-32 of those
8 bytes), the headers, the payload, and a CRC-32 of everything before it. A header is a
u8-length name, a u8 type and a value (0/1 true/false, 2-5 and 8 big-endian integers of
1, 2, 4, 8, 8 bytes, 6/7 u16-length bytes/UTF-8, 9 a 16-byte UUID).

Why by hand: botocore's `EventStreamBuffer` parses every header with several Python calls
and re-slices its buffer per message; it was ~70% of the time to translate a recorded
stream. Here one `struct.unpack_from` reads a prelude, the message CRC runs over a memoryview,
positions move over one buffer per `feed` (a chunk of many frames stays linear; bytes of
a partial frame are kept as a list of chunks and joined once enough have arrived), and a
decoder remembers the parsed headers of each distinct header section it has seen: a
stream repeats a handful of them (same event type, content type, message type), and
parsing is a pure function of those bytes. botocore stays as the oracle in the tests
(random messages, splits and corruptions must decode as it decodes them).

Validation: prelude CRC, message CRC, sizes (message 16 B to 16 MiB, headers at most
128 KiB and within the message, as the AWS C and Go SDKs bound them; botocore allows a
24 MiB payload and checks no minimum), checked as soon as a prelude arrives, before its
body is buffered; header types, headers that run past their section, UTF-8 and duplicate
names. Every violation is `StreamError("corrupt event-stream frame: ...")`; a
corrupt frame stays at the head of the buffer, so a stream that broke stays broken.
Exception frames become `StreamError`, and bytes left at EOF are an error.
"""
from __future__ import annotations

import struct
from typing import Any
from zlib import crc32

import orjson

from ..errors import StreamError

_PRELUDE = struct.Struct(">III")
_U32 = struct.Struct(">I")
_U16 = struct.Struct(">H")
_PRELUDE_LEN = 12
_MIN_MESSAGE = 16                      # prelude + message CRC
_MAX_MESSAGE = 16 * 1024 * 1024
_MAX_HEADERS = 128 * 1024
_CACHE_ENTRIES = 32                    # distinct header sections remembered per stream
_CACHE_BYTES = 512                     # only small sections are remembered: bounded memory
# header type -> (value size, decoder of those bytes or None for raw bytes); 0, 1, 6, 7 apart
_FIXED: dict[int, tuple[int, struct.Struct | None]] = {
    2: (1, struct.Struct(">b")), 3: (2, struct.Struct(">h")), 4: (4, struct.Struct(">i")),
    5: (8, struct.Struct(">q")), 8: (8, struct.Struct(">q")), 9: (16, None)}

Event = tuple[str | None, Any]


class EventStreamDecoder:
    """Bytes in any split -> (event type, parsed JSON payload) per event message.

    Parsed header dicts are shared between the frames of a stream that repeat a header
    section, so they are read, never changed (`_event` only reads them).
    """

    def __init__(self) -> None:
        self._chunks: list[bytes] = []  # the undecoded tail: part of one message
        self._size = 0                  # its length
        self._need = _PRELUDE_LEN       # bytes wanted before decoding is worth trying again
        self._seen: dict[bytes, dict[str, Any]] = {}  # header section -> parsed (read-only)

    def feed(self, data: bytes) -> list[Event]:
        """The events of every message completed by `data`; raises StreamError on a bad one."""
        if not data:
            return []
        if self._chunks:
            self._chunks.append(bytes(data))  # no copy for bytes; a reused bytearray is copied
            self._size += len(data)
            if self._size < self._need:
                return []
            buf = b"".join(self._chunks)
        else:
            buf = bytes(data)  # no copy for bytes
        out: list[Event] = []
        pos, end, need, seen = 0, len(buf), _PRELUDE_LEN, self._seen
        view = memoryview(buf)
        try:
            while end - pos >= _PRELUDE_LEN:
                total, hlen, crc = _PRELUDE.unpack_from(buf, pos)
                check = crc32(buf[pos:pos + 8])
                if check != crc:
                    raise _corrupt(f"prelude checksum mismatch: expected 0x{crc:08x}, "
                                   f"calculated 0x{check:08x}")
                if not _MIN_MESSAGE <= total <= _MAX_MESSAGE or hlen > _MAX_HEADERS \
                        or hlen > total - _MIN_MESSAGE:
                    raise _corrupt(f"bad lengths: message {total}, headers {hlen}")
                stop = pos + total
                if stop > end:
                    need = total
                    break
                body_end = stop - 4
                check = crc32(view[pos + 8:body_end], crc)
                if check != _U32.unpack_from(buf, body_end)[0]:
                    raise _corrupt(f"message checksum mismatch: expected "
                                   f"0x{_U32.unpack_from(buf, body_end)[0]:08x}, "
                                   f"calculated 0x{check:08x}")
                head_end = pos + _PRELUDE_LEN + hlen
                raw = buf[pos + _PRELUDE_LEN:head_end]
                headers = seen.get(raw)
                if headers is None:
                    headers = parse_headers(raw)
                    if hlen <= _CACHE_BYTES and len(seen) < _CACHE_ENTRIES:
                        seen[raw] = headers
                payload = buf[head_end:body_end]
                pos = stop  # consumed before _event: an exception frame is not seen twice
                out.append(_event(headers, payload))
        finally:
            view.release()
            self._keep(buf, pos, end, need)
        return out

    def close(self) -> list[Event]:
        """End of input: nothing is pending, or the stream was cut inside a message."""
        if self._size:
            raise StreamError(f"upstream stream ended inside a frame ({self._size} bytes left)")
        return []

    def _keep(self, buf: bytes, pos: int, end: int, need: int) -> None:
        """Keep buf[pos:] (one copy per feed, and none when every frame was whole)."""
        self._size, self._need = end - pos, need
        self._chunks = [buf[pos:] if pos else buf] if pos < end else []


def parse_headers(raw: bytes) -> dict[str, Any]:
    """A header section -> {name: value}, values as botocore gives them (bool, int, bytes, str).

    Every header is decoded even though only string ones are read, so that a section with
    an unknown type, a value running past its end, bad UTF-8 or a repeated name is refused
    (botocore silently truncates a byte array or string that runs past the end; we do not).
    """
    headers: dict[str, Any] = {}
    end, pos = len(raw), 0
    try:
        while pos < end:
            start = pos + 1
            pos = start + raw[pos]
            if pos >= end:
                raise _corrupt("header name runs past the headers")
            name = raw[start:pos].decode()
            kind = raw[pos]
            pos += 1
            value: Any
            if kind == 7 or kind == 6:
                start = pos + 2
                if start > end:
                    raise _corrupt(f"header {name!r} runs past the headers")
                pos = start + _U16.unpack_from(raw, pos)[0]
                if pos > end:
                    raise _corrupt(f"header {name!r} runs past the headers")
                value = raw[start:pos].decode() if kind == 7 else raw[start:pos]
            elif kind < 2:
                value = kind == 0
            elif kind in _FIXED:
                size, unpacker = _FIXED[kind]
                start, pos = pos, pos + size
                if pos > end:
                    raise _corrupt(f"header {name!r} runs past the headers")
                value = unpacker.unpack_from(raw, start)[0] if unpacker else raw[start:pos]
            else:
                raise _corrupt(f"header {name!r} has unknown type {kind}")
            if name in headers:
                raise _corrupt(f"duplicate header {name!r}")
            headers[name] = value
    except UnicodeDecodeError:
        raise _corrupt("header is not UTF-8") from None
    return headers


def _corrupt(why: str) -> StreamError:
    return StreamError(f"corrupt event-stream frame: {why}")


def _event(headers: dict, payload: bytes) -> tuple[str | None, Any]:
    kind = headers.get(":message-type", "event")
    if kind == "event":
        try:
            return headers.get(":event-type"), orjson.loads(payload) if payload else {}
        except orjson.JSONDecodeError:
            raise StreamError("event-stream payload is not JSON") from None
    name = headers.get(":exception-type") or headers.get(":error-code") or "error"
    try:
        detail = orjson.loads(payload).get("message") if payload else None
    except (orjson.JSONDecodeError, AttributeError):
        detail = None
    detail = detail or headers.get(":error-message") or ""
    raise StreamError(f"upstream {name}: {detail}".rstrip(": "),
                      status=429 if "throttl" in name.lower() else 502, code=name)
