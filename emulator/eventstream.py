"""AWS event-stream frame encoder (application/vnd.amazon.eventstream) for Bedrock ConverseStream:
prelude (total length, headers length, prelude CRC32), string headers, payload, message CRC32."""
from __future__ import annotations

import struct
import zlib

import orjson

_STRING = 7


def encode_headers(headers: dict[str, str]) -> bytes:
    out = bytearray()
    for name, value in headers.items():
        raw_name, raw_value = name.encode(), value.encode()
        out += struct.pack(">B", len(raw_name)) + raw_name
        out += struct.pack(">BH", _STRING, len(raw_value)) + raw_value
    return bytes(out)


def encode_frame(headers: dict[str, str], payload: bytes) -> bytes:
    """One complete frame; both CRCs are CRC-32/IEEE as zlib computes them."""
    raw_headers = encode_headers(headers)
    total = 12 + len(raw_headers) + len(payload) + 4
    prelude = struct.pack(">II", total, len(raw_headers))
    prelude += struct.pack(">I", zlib.crc32(prelude) & 0xFFFFFFFF)
    body = prelude + raw_headers + payload
    return body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)


def _padding(seed: int) -> str:
    """Deterministic stand-in for the random-length 'p' padding Bedrock adds to payloads."""
    alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    length = 4 + seed * 7 % 29
    return "".join(alphabet[(seed * 13 + i * 5) % len(alphabet)] for i in range(length))


def event_frame(event_type: str, payload: dict[str, object], seed: int = 0) -> bytes:
    body = dict(payload)
    body["p"] = _padding(seed)
    return encode_frame({":event-type": event_type, ":content-type": "application/json",
                         ":message-type": "event"}, orjson.dumps(body))


def exception_frame(exception_type: str, message: str) -> bytes:
    """A modeled exception inside an HTTP-200 stream (e.g. throttlingException)."""
    return encode_frame({":exception-type": exception_type, ":content-type": "application/json",
                         ":message-type": "exception"}, orjson.dumps({"message": message}))
