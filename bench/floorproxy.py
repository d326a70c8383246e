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
    import aiohttp
    if client == "httpx-aiohttp":
        return _httpx_app(upstream)

    session: aiohttp.ClientSession | None = None

    async def app(scope: dict, receive: Any, send: Any) -> None:
        nonlocal session
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=2048))
                    await send({"type": "lifespan.startup.complete"})
                else:
                    await session.close()
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
        auth = dict(scope["headers"]).get(b"authorization", b"").decode()
        async with session.post(upstream, data=body, headers={"authorization": auth,
                                                                "content-type": "application/json"}) as resp:
            await send({"type": "http.response.start", "status": resp.status,
                        "headers": [(b"content-type", resp.headers.get("content-type", "").encode())]})
            async for piece in resp.content.iter_any():
                await send({"type": "http.response.body", "body": piece, "more_body": True})
            await send({"type": "http.response.body", "body": b""})
    return app


def _httpx_app(upstream: str) -> Any:
    """The same proxy with the gateway's own upstream client (httpx's API over aiohttp's pool,
    engine.gateway.upstream.Upstream): what that client layer adds, by itself."""
    from engine.gateway.config import DEFAULT_UPSTREAM
    from engine.gateway.upstream import Upstream
    client: Upstream | None = None

    async def app(scope: dict, receive: Any, send: Any) -> None:
        nonlocal client
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    client = Upstream(dict(DEFAULT_UPSTREAM))
                    await send({"type": "lifespan.startup.complete"})
                else:
                    await client.aclose()
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            return
        if scope["method"] == "GET":
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": b"ok"})
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        auth = dict(scope["headers"]).get(b"authorization", b"").decode()
        sent = await client.send("POST", upstream, {"authorization": auth, "content-type": "application/json"}, body)
        resp = sent.response
        await send({"type": "http.response.start", "status": resp.status_code,
                    "headers": [(b"content-type", resp.headers.get("content-type", "").encode())]})
        async for piece in resp.aiter_bytes():
            await send({"type": "http.response.body", "body": piece, "more_body": True})
        await resp.aclose()
        await send({"type": "http.response.body", "body": b""})
    return app


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.floorproxy", description=__doc__.splitlines()[0])
    ap.add_argument("--upstream", required=True)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=8788)
    ap.add_argument("--client", choices=["aiohttp", "httpx-aiohttp"], default="aiohttp")
    args = ap.parse_args(argv)
    import uvicorn
    uvicorn.run(make_app(args.upstream, args.client), host=args.host, port=args.port, log_level="warning", access_log=False,
                lifespan="on")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
