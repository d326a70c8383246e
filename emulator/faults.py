"""Fault injection: upstream failures a gateway must survive (status errors, cut or corrupt streams,
malformed bodies, hangs), chosen per request with `x-emulator-fault` / `?emulator_fault=`."""
from __future__ import annotations

from emulator.eventstream import encode_frame
from emulator.errors import ApiError

STATUS_FAULTS = {"429": 429, "500": 500, "503": 503, "529": 529, "400": 400, "401": 401, "498": 498, "499": 499,
                 "504": 504}
STREAM_FAULTS = {"cut", "badjson", "badcrc", "hang", "stream-error"}

_MESSAGES = {
    429: "Rate limit exceeded (emulated). Please retry after 1s.",
    500: "Internal server error (emulated).",
    503: "Service unavailable (emulated).",
    529: "Overloaded",
    400: "Bad request (emulated).",
    401: "Invalid API key (emulated).",
    498: "invalid api token (emulated; Cohere's 498)",
    499: "request cancelled by the client (emulated; Cohere's 499)",
    504: "Gateway timeout (emulated).",
}
_KINDS = {429: "rate_limit", 500: "server", 503: "unavailable", 529: "overloaded", 400: "invalid_request", 401: "auth",
          498: "auth", 499: "cancelled", 504: "unavailable"}


def status_fault(fault: str | None) -> ApiError | None:
    """The neutral error a status fault stands for, or None for other faults."""
    if fault not in STATUS_FAULTS:
        return None
    status = STATUS_FAULTS[fault]
    return ApiError(status, _MESSAGES[status], kind=_KINDS[status])


def corrupt_event(framing: str) -> bytes:
    """A frame in the response's own framing whose JSON payload is truncated."""
    if framing == "sse-named":
        return b'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"ty\n\n'
    if framing == "sse-cohere":
        return b'event: content-delta\ndata: {"type":"content-delta","index":0,"delta":{"message":{"con\n\n'
    if framing == "sse-crlf":
        return b'data: {"candidates":[{"content":{"parts":[{"te\r\n\r\n'
    if framing == "json-array":
        return b',\r\n{"candidates":[{"content":{"pa'
    if framing == "eventstream":
        return encode_frame({":event-type": "contentBlockDelta", ":content-type": "application/json",
                             ":message-type": "event"}, b'{"contentBlockIndex":0,"delta":{"te')
    return b'data: {"id":"chatcmpl-broken","choices":[{"delta":{"cont\n\n'


def corrupt_crc(frame: bytes) -> bytes:
    """Flip the last byte of an event-stream frame so its message CRC no longer matches."""
    return frame[:-1] + bytes([frame[-1] ^ 0xFF])


def midpoint(events: list[bytes]) -> int:
    """Where to cut or corrupt: after the first event, before the last one."""
    return max(1, len(events) // 2)
