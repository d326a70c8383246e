"""The floor of a Python gateway on this machine: a pass-through proxy with nothing else.

  python -m bench.floorproxy --upstream http://127.0.0.1:PORT/openai/v1/chat/completions --port 8788

The same server stack as `switchboard serve` (uvicorn with uvloop and httptools, one worker) and
the same upstream client library (aiohttp's pool), but no authentication, no JSON parsing, no
translation, no logging or metrics: it reads the body, posts the bytes upstream with the client's
Authorization header, and returns the upstream's status and bytes. bench/gateway.py runs it in the
added-latency rows, so what any Python gateway pays for its two extra hops on this machine (event
loop wakeups, HTTP parsing, sockets) is measured beside what Switchboard adds on top.
"""
from __future__ import annotations

import argparse
from typing import Any


def make_app(upstream: str, client: str = "aiohttp") -> Any:
    """One ASGI shell (lifespan, readiness, body) around the chosen client's forwarder."""
    forward = _AiohttpForward(upstream) if client == "aiohttp" else _HttpxForward(upstream)
    state: dict[str, Any] = {}

    async def app(scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    state["client"] = await forward.open()
                    await send({"type": "lifespan.startup.complete"})
                else:
                    await forward.close(state["client"])
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            return
        if scope["method"] == "GET":  # the readiness probe
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": b"ok"})
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = {"authorization": dict(scope["headers"]).get(b"authorization", b"").decode(),
                   "content-type": "application/json"}
        await forward.send(state["client"], body, headers, send)
    return app


class _AiohttpForward:
    """aiohttp's own client, as a minimal proxy would use it."""

    def __init__(self, upstream: str):
        self.upstream = upstream

    async def open(self) -> Any:
        import aiohttp
        return aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=2048))

    async def close(self, session: Any) -> None:
        await session.close()

    async def send(self, session: Any, body: bytes, headers: dict, send: Any) -> None:
        async with session.post(self.upstream, data=body, headers=headers) as resp:
            await _relay(send, resp.status, resp.headers.get("content-type", ""), resp.content.iter_any())


class _HttpxForward(_AiohttpForward):
    """The gateway's own upstream client (engine.gateway.upstream.Upstream: httpx's API over
    aiohttp's pool): what that client layer adds, by itself."""

    async def open(self) -> Any:
        from engine.gateway.config import DEFAULT_UPSTREAM
        from engine.gateway.upstream import Upstream
        return Upstream(dict(DEFAULT_UPSTREAM))

    async def close(self, client: Any) -> None:
        await client.aclose()

    async def send(self, client: Any, body: bytes, headers: dict, send: Any) -> None:
        resp = await client.send("POST", self.upstream, headers, body)
        try:
            await _relay(send, resp.status_code, resp.headers.get("content-type", ""), resp.aiter_bytes())
        finally:
            await resp.aclose()


async def _relay(send: Any, status: int, content_type: str, pieces: Any) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", content_type.encode())]})
    async for piece in pieces:
        await send({"type": "http.response.body", "body": piece, "more_body": True})
    await send({"type": "http.response.body", "body": b""})


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.floorproxy", description=__doc__.splitlines()[0])
    ap.add_argument("--upstream", required=True)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=8788)
    ap.add_argument("--client", choices=["aiohttp", "upstream"], default="aiohttp")
    args = ap.parse_args(argv)
    import uvicorn
    uvicorn.run(make_app(args.upstream, args.client), host=args.host, port=args.port, log_level="warning", access_log=False,
                lifespan="on")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
