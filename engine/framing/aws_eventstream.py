"""AWS event-stream binary frames (application/vnd.amazon.eventstream), via botocore.

botocore's `EventStreamBuffer` is the reference decoder (prelude and message CRC-32
checks, header types, size limits); we keep its framing and add what a translator
needs: exception frames become `StreamError`, and bytes left at EOF are an error.
botocore is imported on first use so that loading the engine stays fast.
"""
from __future__ import annotations

from typing import Any

import orjson

from ..errors import StreamError


class EventStreamDecoder:
    def __init__(self) -> None:
        from botocore.eventstream import EventStreamBuffer  # deferred: ~40 ms import
        self._buffer = EventStreamBuffer()
        self._pending = 0

    def feed(self, data: bytes) -> list[tuple[str | None, Any]]:
        from botocore.eventstream import ParserError
        self._pending += len(data)
        self._buffer.add_data(data)
        out: list[tuple[str | None, Any]] = []
        try:
            for message in self._buffer:
                self._pending -= message.prelude.total_length
                out.append(_event(message.headers, message.payload))
        except ParserError as exc:
            raise StreamError(f"corrupt event-stream frame: {exc}") from None
        return out

    def close(self) -> list[tuple[str | None, Any]]:
        if self._pending:
            raise StreamError(f"upstream stream ended inside a frame ({self._pending} bytes left)")
        return []


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
