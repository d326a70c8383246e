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


def _header(name: str, value: str) -> bytes:
    raw_name, raw_value = name.encode(), value.encode()
    return bytes([len(raw_name)]) + raw_name + b"\x07" + struct.pack(">H", len(raw_value)) + raw_value


def aws_frame(event_type: str, payload: dict, message_type: str = "event") -> bytes:
    """One AWS event-stream frame (prelude, CRCs), as Bedrock sends each stream event."""
    key = ":event-type" if message_type == "event" else ":exception-type"
    headers = (_header(key, event_type) + _header(":content-type", "application/json")
               + _header(":message-type", message_type))
    body = json.dumps(payload, separators=(",", ":")).encode()
    total = 12 + len(headers) + len(body) + 4
    prelude = struct.pack(">II", total, len(headers))
    prelude += struct.pack(">I", binascii.crc32(prelude))
    message = prelude + headers + body
    return message + struct.pack(">I", binascii.crc32(message))


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
