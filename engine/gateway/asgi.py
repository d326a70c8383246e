"""Small ASGI helpers: read a bounded body, answer JSON, errors in OpenAI's shape."""
from __future__ import annotations

from typing import Any, Awaitable, Callable

import orjson

from ..errors import SwitchboardError

Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


class BodyTooLarge(SwitchboardError):
    status = 413
    type = "invalid_request_error"
    code = "request_too_large"


class ClientGone(Exception):
    """The client disconnected before we finished reading its request."""


async def read_body(receive: Receive, limit: int, declared: int | None) -> bytes:
    if declared is not None and declared > limit:
        raise BodyTooLarge(f"request body is {declared} bytes; the limit is {limit}")
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


async def send_json(send: Send, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
    body = orjson.dumps(payload)
    all_headers = {"content-type": "application/json", "content-length": str(len(body)), **(headers or {})}
    await send({"type": "http.response.start", "status": status, "headers": header_list(all_headers)})
    await send({"type": "http.response.body", "body": body})


def error_payload(message: str, type_: str, code: str | None, param: str | None = None) -> dict:
    return {"error": {"message": message, "type": type_, "param": param, "code": code}}


async def send_error(send: Send, exc: SwitchboardError, headers: dict[str, str] | None = None) -> None:
    await send_json(send, exc.status, exc.to_openai(), headers)
