"""Anthropic Messages oracles built from the official `anthropic` SDK types (tested: anthropic 2.13).

VERSION TRAP: anthropic >= 1.0 dropped `temperature`, `top_p`, `top_k` from MessageCreateParams,
but our spec sends `anthropic-version: 2023-06-01`, which accepts them. So they are popped and
checked by hand (documented ranges) before the typed validation. Note also that SDK 2.x accepts
`role: "system"` inside `messages`; check conversation grammar separately.
"""
from __future__ import annotations

import inspect
import json
from typing import Any, Iterable

from anthropic._streaming import SSEDecoder  # private; the SDK is pinned in tests
from anthropic.lib.streaming._messages import accumulate_event  # private; same code as messages.stream()
from anthropic.types import Message, MessageCreateParams, RawMessageStreamEvent
from anthropic.types.message_create_params import MessageCreateParamsBase
from anthropic.types.shared import ErrorResponse
from pydantic import TypeAdapter, ValidationError

from ._common import OracleError, fail, materialize

__all__ = ["OracleError", "accumulate", "check_event", "check_message", "check_request", "decode_sse", "encode_sse"]

# Module level on purpose (pydantic-core panics if an adapter dies before its lazy iterators).
_REQ = TypeAdapter(MessageCreateParams)
_EVENT = TypeAdapter(RawMessageStreamEvent)

SDK_HAS_SAMPLING = "temperature" in getattr(MessageCreateParamsBase, "__annotations__", {})
_JSON_BUFS = "json_bufs" in inspect.signature(accumulate_event).parameters  # 2.x needs it, 0.x lacks it


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _check_sampling(body: dict) -> None:
    """Documented ranges for API 2023-06-01 (the TypedDicts, when present, say only `float`)."""
    if "temperature" in body and not (_is_number(body["temperature"]) and 0 <= body["temperature"] <= 1):
        raise OracleError(f"MessageCreateParams: temperature: {body['temperature']!r} is not a number in [0, 1]")
    if "top_p" in body and not (_is_number(body["top_p"]) and 0 <= body["top_p"] <= 1):
        raise OracleError(f"MessageCreateParams: top_p: {body['top_p']!r} is not a number in [0, 1]")
    if "top_k" in body and not (type(body["top_k"]) is int and body["top_k"] >= 1):
        raise OracleError(f"MessageCreateParams: top_k: {body['top_k']!r} is not an int >= 1")


def check_request(body: dict) -> dict:
    """Body of POST /v1/messages vs MessageCreateParams: strict, no unknown keys, lazy iterables
    forced. Returns the validated body (plain dicts/lists)."""
    if not isinstance(body, dict):
        raise OracleError(f"MessageCreateParams: expected a JSON object, got {type(body).__name__}")
    _check_sampling(body)
    d = dict(body)
    if not SDK_HAS_SAMPLING:
        sampling = {k: d.pop(k) for k in ("temperature", "top_p", "top_k") if k in d}
    else:
        sampling = {}
    try:
        out = _REQ.validate_python(d, strict=True, extra="forbid")
    except ValidationError as e:
        raise fail("MessageCreateParams", e) from None
    return {**materialize(out, "MessageCreateParams"), **sampling}


def check_message(resp: dict) -> Message:
    """A non-streaming response body."""
    try:
        return Message.model_validate(resp, strict=True, extra="forbid")
    except ValidationError as e:
        raise fail("Message", e) from None


def check_event(ev: dict) -> RawMessageStreamEvent | ErrorResponse | None:
    """One stream event's data. `ping` (returns None) and `error` are real wire events that are
    not members of RawMessageStreamEvent, so they are handled here."""
    if not isinstance(ev, dict):
        raise OracleError(f"stream event: expected a JSON object, got {type(ev).__name__}")
    try:
        if ev.get("type") == "ping":
            if set(ev) != {"type"}:
                raise OracleError(f"ping: unexpected keys {sorted(set(ev) - {'type'})}")
            return None
        if ev.get("type") == "error":
            return ErrorResponse.model_validate(ev, strict=True, extra="forbid")
        return _EVENT.validate_python(ev, strict=True, extra="forbid")
    except ValidationError as e:
        raise fail(f"stream event {ev.get('type')!r}", e) from None


def accumulate(events: Iterable[dict]) -> Message:
    """Fold events with the SDK's own `accumulate_event` (the code `client.messages.stream()`
    runs), so a test can compare the result with the non-streaming response."""
    bufs: dict[int, bytes] = {}
    snap = None
    for i, d in enumerate(events):
        ev = check_event(d)
        if ev is None:
            continue
        if isinstance(ev, ErrorResponse):
            raise OracleError(f"event {i}: stream carried an error event: {ev.error}")
        if snap is None and ev.type != "message_start":
            raise OracleError(f"event {i}: {ev.type!r} before message_start")
        kw = {"json_bufs": bufs} if _JSON_BUFS else {}
        snap = accumulate_event(event=ev, current_snapshot=snap, **kw)
    if snap is None:
        raise OracleError("stream had no message_start")
    return snap


def encode_sse(events: Iterable[dict]) -> bytes:
    """Anthropic's wire framing: `event: <type>` + `data: <json>` + blank line per event."""
    return b"".join(f"event: {e['type']}\ndata: {json.dumps(e)}\n\n".encode() for e in events)


def decode_sse(raw: bytes, piece: int = 7) -> list[dict]:
    """Decode with the SDK's SSEDecoder (fed in small pieces) and require event name == data.type."""
    out: list[dict] = []
    for sse in SSEDecoder().iter_bytes(raw[i:i + piece] for i in range(0, len(raw), piece)):
        try:
            d = json.loads(sse.data)
        except json.JSONDecodeError as e:
            raise OracleError(f"SSE event {len(out)} ({sse.event!r}): data is not JSON: {e}") from None
        if not isinstance(d, dict) or sse.event != d.get("type"):
            got = d.get("type") if isinstance(d, dict) else d
            raise OracleError(f"SSE event {len(out)}: event name {sse.event!r} != data.type {got!r}")
        out.append(d)
    return out
