"""ASGI entry point: the URL path picks the provider dialect; faults and latency are applied here so
every dialect gets them the same way."""
from __future__ import annotations

import asyncio
import re
from typing import Any, Awaitable, Callable
from urllib.parse import unquote

import orjson

from emulator import faults
from emulator.media import received_media
from emulator.asgi import Context, Request, Response, json_response
from emulator.dialects import anthropic, bedrock, cohere, gemini, openai, vertex

Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]

_GEMINI = re.compile(r"^/gemini/(v1beta|v1|v1alpha)/models/([^/:]+):(generateContent|streamGenerateContent)$")
_BEDROCK = re.compile(r"^/bedrock/model/([^/]+)/(converse|converse-stream)$")
_AZURE = re.compile(r"^/azure/openai/deployments/([^/]+)/chat/completions$")
_VERTEX = re.compile(r"^/vertex/(v1|v1beta1)/projects/([^/]+)/locations/([^/]+)/publishers/(google|anthropic)/models/"
                     r"([^/:]+):(generateContent|streamGenerateContent|rawPredict|streamRawPredict)$")
# OpenAI-compatible paths -> variant of the openai dialect (see dialects/openai_variants.py)
_OPENAI_LIKE = {
    "/openai/v1/chat/completions": "openai",
    "/groq/openai/v1/chat/completions": "groq",
    "/azure/openai/v1/chat/completions": "azure",
    "/cerebras/v1/chat/completions": "cerebras",
    "/sambanova/v1/chat/completions": "sambanova",
    "/perplexity/chat/completions": "perplexity",
    "/together/v1/chat/completions": "together",
    "/xai/v1/chat/completions": "xai",
    "/deepinfra/v1/openai/chat/completions": "deepinfra",
    "/ai21/studio/v1/chat/completions": "ai21",
}


def route(req: Request) -> tuple[Any, dict[str, Any]] | None:
    """(dialect module, route params) for a path, or None."""
    path = req.raw_path
    if path in _OPENAI_LIKE:
        return openai, {"variant": _OPENAI_LIKE[path]}
    if path == "/anthropic/v1/messages":
        return anthropic, {}
    if path == "/cohere/v2/chat":
        return cohere, {}
    m = _AZURE.match(path)
    if m:
        return openai, {"variant": "azure", "deployment": unquote(m.group(1))}
    m = _VERTEX.match(path)
    if m:
        return vertex, {"project": m.group(2), "location": m.group(3), "publisher": m.group(4),
                        "model": unquote(m.group(5)), "method": m.group(6),
                        "stream": m.group(6).startswith("stream")}
    m = _GEMINI.match(path)
    if m:
        return gemini, {"model": unquote(m.group(2)), "stream": m.group(3) == "streamGenerateContent"}
    m = _BEDROCK.match(path)
    if m:
        return bedrock, {"model": unquote(m.group(1)), "stream": m.group(2) == "converse-stream"}
    return None


class EmulatorApp:
    """The ASGI application; one instance per server so cache state is per server."""

    def __init__(self, ctx: Context | None = None) -> None:
        self.ctx = ctx or Context()

    async def __call__(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while True:
                msg = await receive()
                if msg["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif msg["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            return
        body = bytearray()
        while True:
            msg = await receive()
            body += msg.get("body", b"")
            if not msg.get("more_body"):
                break
        req = Request.from_scope(scope, bytes(body))
        resp, fault = await self._dispatch(req)
        latency = _int(req.control("latency-ms"), self.ctx.latency_ms)
        if latency:
            await asyncio.sleep(latency / 1000)
        await self._send(resp, fault, _int(req.control("token-delay-ms"), self.ctx.token_delay_ms), receive, send)

    async def _dispatch(self, req: Request) -> tuple[Response, str | None]:
        if req.raw_path == "/health":
            return json_response(200, {"ok": True}), None
        if req.raw_path == "/emulator/seen":
            return json_response(200, {"seen": self.ctx.seen}), None
        if req.raw_path == "/emulator/media":
            return json_response(200, {"requests": list(self.ctx.media_log)}), None
        found = route(req)
        if found is None:
            return json_response(404, {"error": {"message": f"no emulator route for {req.raw_path}"}}), None
        if req.method != "POST":
            return json_response(405, {"error": {"message": "method not allowed"}}), None
        dialect, params = found
        self._log_media(req)
        fault = self._fault(req)
        err = faults.status_fault(fault)
        if err is not None:
            resp = dialect.render_error(err, params)
            if err.status == 429:
                resp.headers.append(("retry-after", "1"))
            return resp, None
        resp = dialect.handle(req, self.ctx, dict(params, fault=fault))  # some faults are dialect-specific
        if resp.status >= 400:
            return resp, None
        return resp, fault

    def _log_media(self, req: Request) -> None:
        """Keep what media each request carried (type, size, digest), for /emulator/media."""
        try:
            body = orjson.loads(req.body) if req.body else None
        except orjson.JSONDecodeError:
            return
        media = received_media(body)
        if media:
            self.ctx.media_log.append({"path": req.raw_path, "media": media})

    def _fault(self, req: Request) -> str | None:
        """`x-emulator-fault`, limited to the first N requests of a `x-emulator-fault-key` when
        `x-emulator-fault-times: N` is given (so a retry can succeed); counts are at /emulator/seen."""
        fault, key = req.control("fault"), req.control("fault-key")
        if key is None:
            return fault
        self.ctx.seen[key] = self.ctx.seen.get(key, 0) + 1
        times = req.control("fault-times")
        return fault if times is None or self.ctx.seen[key] <= _int(times, 0) else None

    async def _send(self, resp: Response, fault: str | None, delay_ms: int, receive: Receive, send: Send) -> None:
        if resp.events is None:
            await self._send_body(resp, fault, receive, send)
            return
        events = list(resp.events)
        mid = faults.midpoint(events)
        if fault == "badjson" or (fault == "badcrc" and resp.framing != "eventstream"):
            events.insert(mid, faults.corrupt_event(resp.framing))
        elif fault == "badcrc":
            events[mid] = faults.corrupt_crc(events[mid])
        elif fault == "stream-error" and resp.error_event is not None:
            events = events[:mid] + [resp.error_event]
        await send({"type": "http.response.start", "status": resp.status, "headers": _raw(resp.headers)})
        for i, event in enumerate(events):
            if fault in ("cut", "hang") and i == mid:
                if fault == "hang":
                    await _wait_disconnect(receive)
                return  # returning without more_body=False makes the server drop the connection
            await send({"type": "http.response.body", "body": event, "more_body": True})
            if delay_ms:
                await asyncio.sleep(delay_ms / 1000)
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    async def _send_body(self, resp: Response, fault: str | None, receive: Receive, send: Send) -> None:
        body = resp.body
        headers = list(resp.headers)
        if fault == "badjson":
            body = body[: max(1, len(body) // 2)]
        headers.append(("content-length", str(len(body))))
        await send({"type": "http.response.start", "status": resp.status, "headers": _raw(headers)})
        if fault in ("cut", "hang"):
            if fault == "cut":
                await send({"type": "http.response.body", "body": body[: len(body) // 2], "more_body": True})
            else:
                await _wait_disconnect(receive)
            return
        await send({"type": "http.response.body", "body": body, "more_body": False})


async def _wait_disconnect(receive: Receive) -> None:
    """Hold the response open until the client gives up (used by the `hang` fault)."""
    while (await receive())["type"] != "http.disconnect":
        pass


def _raw(headers: list[tuple[str, str]]) -> list[tuple[bytes, bytes]]:
    return [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers]


def _int(value: str | None, default: int) -> int:
    try:
        return int(value) if value is not None else default
    except ValueError:
        return default


app = EmulatorApp()
