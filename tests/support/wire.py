"""Re-adding a provider's framing to decoded events, for replay tests.

Fixtures and spec examples store one event per entry (Vercel AI SDK habit); the
bytes are rebuilt here so the engine's real codecs decode them.
"""
from __future__ import annotations

import binascii
import json
import struct
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def sse(events: list[Any], *, named: bool = False, done: str | None = None) -> bytes:
    """`data: <json>` per event (plus `event: <type>` when named); strings are sent as is."""
    out = []
    for event in events:
        if isinstance(event, str):
            out.append(f"data: {event}\n\n")
            continue
        head = f"event: {event.get('type')}\n" if named else ""
        out.append(f"{head}data: {json.dumps(event, separators=(',', ':'))}\n\n")
    if done:
        out.append(f"data: {done}\n\n")
    return "".join(out).encode()


# AWS event-stream header value types: number -> struct format of a fixed-size value
AWS_TRUE, AWS_FALSE, AWS_BYTES, AWS_STRING, AWS_UUID = 0, 1, 6, 7, 9
AWS_FIXED = {2: ">b", 3: ">h", 4: ">i", 5: ">q", 8: ">q"}


def aws_header(name: str, kind: int, value: Any = None) -> bytes:
    """One header, encoded from the AWS event-stream spec (independent of the engine's decoder).

    `value` is ignored for 0 (true) and 1 (false); an int for 2-5 and 8 (timestamp, ms);
    bytes for 6 (byte array) and 9 (UUID, 16 bytes); str for 7.
    """
    raw_name = name.encode()
    out = bytes([len(raw_name)]) + raw_name + bytes([kind])
    if kind in AWS_FIXED:
        return out + struct.pack(AWS_FIXED[kind], value)
    if kind in (AWS_BYTES, AWS_STRING):
        raw = value.encode() if kind == AWS_STRING else bytes(value)
        return out + struct.pack(">H", len(raw)) + raw
    if kind == AWS_UUID:
        assert len(value) == 16
        return out + bytes(value)
    return out  # true / false: no value bytes


def aws_message(headers: bytes, payload: bytes) -> bytes:
    """Prelude (lengths + CRC), raw header bytes, payload, message CRC; headers are not checked."""
    total = 12 + len(headers) + len(payload) + 4
    prelude = struct.pack(">II", total, len(headers))
    prelude += struct.pack(">I", binascii.crc32(prelude))
    message = prelude + headers + payload
    return message + struct.pack(">I", binascii.crc32(message))


def _header(name: str, value: str) -> bytes:
    return aws_header(name, AWS_STRING, value)


def aws_frame(event_type: str, payload: dict, message_type: str = "event") -> bytes:
    """One AWS event-stream frame (prelude, CRCs), as Bedrock sends each stream event."""
    key = ":event-type" if message_type == "event" else ":exception-type"
    headers = (_header(key, event_type) + _header(":content-type", "application/json")
               + _header(":message-type", message_type))
    return aws_message(headers, json.dumps(payload, separators=(",", ":")).encode())


def aws_stream(events: list[dict]) -> bytes:
    """Events stored as {eventType: payload} -> concatenated frames."""
    return b"".join(aws_frame(name, payload) for event in events for name, payload in event.items())


def frame(framing: str, events: list[Any], *, named: bool = False) -> bytes:
    if framing == "aws-eventstream":
        return aws_stream(events)
    return sse(events, named=named)


def fixture_events(provider: str, name: str) -> list[Any]:
    path = FIXTURES / provider / f"{name}.chunks.txt"
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def fixture_json(provider: str, name: str) -> Any:
    return json.loads((FIXTURES / provider / f"{name}.json").read_text())


def fixture_expect(provider: str, name: str) -> Any:
    return json.loads((FIXTURES / provider / f"{name}.expect.json").read_text())
