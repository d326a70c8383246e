"""Small ASGI helpers: read a bounded body, answer JSON, errors in OpenAI's shape."""
from __future__ import annotations

import asyncio
import json
from typing import Any, Awaitable, Callable

import orjson

from ..errors import SwitchboardError

Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


class BodyTooLarge(SwitchboardError):
    status = 413
    type = "invalid_request_error"
    code = "request_too_large"


class BodyTimeout(SwitchboardError):
    status = 408
    type = "invalid_request_error"
    code = "request_timeout"


class ClientGone(Exception):
    """The client disconnected before we finished reading its request."""


async def read_body(receive: Receive, limit: int, declared: int | None, timeout: float) -> bytes:
    """The whole body, or an error: over `limit` bytes, or not all there within `timeout` seconds
    (a client that declares more than it sends must not hold a connection and its task forever)."""
    if declared is not None and declared > limit:
        raise BodyTooLarge(f"request body is {declared} bytes; the limit is {limit}")
    try:
        async with asyncio.timeout(timeout):
            return await _read_chunks(receive, limit)
    except TimeoutError:
        raise BodyTimeout(f"the request body did not arrive within {timeout:g} s") from None


async def _read_chunks(receive: Receive, limit: int) -> bytes:
    body = bytearray()
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientGone()
        body += message.get("body", b"")
        if len(body) > limit:
            raise BodyTooLarge(f"request body is over the limit of {limit} bytes")
        if not message.get("more_body"):
            return bytes(body)


def header_list(headers: dict[str, str]) -> list[tuple[bytes, bytes]]:
    return [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]


def json_header(value: Any) -> str:
    """JSON for a header value: ASCII only (\\u escapes), as header bytes are Latin-1 at most
    and a client's own text (a dropped parameter's value) can be anything."""
    return json.dumps(value, ensure_ascii=True, separators=(",", ":"))


async def send_json(send: Send, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
    body = orjson.dumps(payload)
    all_headers = {"content-type": "application/json", "content-length": str(len(body)), **(headers or {})}
    await send({"type": "http.response.start", "status": status, "headers": header_list(all_headers)})
    await send({"type": "http.response.body", "body": body})


def error_payload(message: str, type_: str, code: str | None, param: str | None = None) -> dict:
    return {"error": {"message": message, "type": type_, "param": param, "code": code}}


async def send_error(send: Send, exc: SwitchboardError, headers: dict[str, str] | None = None) -> None:
    await send_json(send, exc.status, exc.to_openai(), headers)
