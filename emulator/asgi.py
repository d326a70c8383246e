"""Minimal ASGI request/response types (no framework) shared by the router and the dialects."""
from __future__ import annotations

import collections

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

import orjson

from emulator.cache import CacheLedger


@dataclass
class Request:
    method: str
    path: str
    raw_path: str
    query: dict[str, str]
    headers: dict[str, str]  # lower-cased names; last value wins
    body: bytes

    @classmethod
    def from_scope(cls, scope: dict[str, Any], body: bytes) -> "Request":
        raw = scope.get("raw_path") or scope["path"].encode()
        query = {k: v[-1] for k, v in parse_qs(scope.get("query_string", b"").decode(), keep_blank_values=True).items()}
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        return cls(scope["method"], scope["path"], raw.decode("latin-1").split("?", 1)[0], query, headers, body)

    def control(self, name: str) -> str | None:
        """Emulator control knob from header `x-emulator-<name>` or query `emulator_<name>`."""
        return self.headers.get(f"x-emulator-{name}") or self.query.get(f"emulator_{name.replace('-', '_')}")


@dataclass
class Response:
    """A complete JSON response, or a stream of pre-rendered frames (events) in a given framing."""

    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    events: list[bytes] | None = None
    framing: str = "json"  # json | sse | sse-named | sse-cohere | sse-crlf | json-array | eventstream
    error_event: bytes | None = None  # dialect frame for a mid-stream failure


def json_response(status: int, payload: Any, headers: list[tuple[str, str]] | None = None) -> Response:
    return Response(status, [("content-type", "application/json")] + (headers or []), orjson.dumps(payload))


@dataclass
class Context:
    """Per-server settings and state handed to each dialect."""

    ledger: CacheLedger = field(default_factory=CacheLedger)
    latency_ms: int = 0
    token_delay_ms: int = 0
    seen: dict = field(default_factory=dict)   # x-emulator-fault-key -> requests seen
    media_log: Any = field(default_factory=lambda: collections.deque(maxlen=64))  # /emulator/media


def parse_json_object(body: bytes) -> Any:
    """Parse a request body; None when it is not JSON (dialects turn that into their own 400)."""
    try:
        return orjson.loads(body) if body else None
    except orjson.JSONDecodeError:
        return None


def received_header(**summary: Any) -> tuple[str, str]:
    """`x-emulator-received`: a short JSON summary of what the emulator understood from the request."""
    return ("x-emulator-received", orjson.dumps(summary).decode())
