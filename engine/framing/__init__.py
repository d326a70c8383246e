"""Framing codecs: bytes in, events out; meaning is the stream machine's business.

Every codec has `feed(data: bytes) -> list[tuple[str | None, Any]]` (event name, payload)
and `close()`, which raises `StreamError` when bytes of a partial frame are left.
"""
from __future__ import annotations

from typing import Callable

from .aws_eventstream import EventStreamDecoder
from .sse import SSEDecoder

CODECS: dict[str, Callable[[], object]] = {
    "sse": SSEDecoder,
    "aws-eventstream": EventStreamDecoder,
}
