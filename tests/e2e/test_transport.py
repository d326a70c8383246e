"""The gateway's upstream transport (httpx's API over aiohttp's pool) against a raw HTTP/1.1
server on loopback that this test scripts byte by byte: what goes out, what comes back, and how
each way of failing surfaces as the httpx error `Upstream` retries and reports on."""
from __future__ import annotations

import asyncio
import contextlib
from typing import AsyncIterator, Awaitable, Callable

import httpx
import pytest

from engine.errors import UpstreamError
from engine.gateway.config import DEFAULT_UPSTREAM
from engine.gateway.transport import AiohttpTransport
from engine.gateway.upstream import Upstream

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter, list], Awaitable[None]]


async def _read_request(reader: asyncio.StreamReader) -> tuple[list[bytes], bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")[:-2]
    length = next((int(line.split(b":", 1)[1]) for line in lines if line.lower().startswith(b"content-length:")), 0)
    return lines, await reader.readexactly(length)


async def _serving(handler: Handler, body: Callable[[str, list], Awaitable[None]]) -> list:
    """Run `handler` for every connection to a loopback server while `body(url, seen)` runs."""
    seen: list = []

    async def on_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        seen.append("connection")
        try:
            await handler(reader, writer, seen)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(on_connect, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        await body(f"http://127.0.0.1:{port}/v1/chat", seen)
    finally:
        server.close()
    return seen


@contextlib.asynccontextmanager
async def _transport(read: float = 5.0) -> AsyncIterator[AiohttpTransport]:
    transport = AiohttpTransport(httpx.Limits(max_connections=4), httpx.Timeout(2.0, read=read))
    try:
        yield transport
    finally:
        await transport.aclose()


def _post(url: str, body: bytes = b'{"a":1}', **headers: str) -> httpx.Request:
    return httpx.Request("POST", url, content=body, headers={"content-type": "application/json", **headers})


def test_a_round_trip_keeps_headers_as_sent_and_reuses_the_connection() -> None:
    async def handler(reader, writer, seen) -> None:
        while True:
            lines, body = await _read_request(reader)
            seen.append((lines, body))
            writer.write(b"HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nX-Multi: one\r\n"
                         b"X-Multi: two\r\nContent-Length: 7\r\n\r\n{\"b\":2}")
            await writer.drain()

    async def body(url: str, seen: list) -> None:
        async with _transport() as transport:
            for _ in range(3):
                response = await transport.handle_async_request(_post(url, authorization="Bearer k-1"))
                assert response.status_code == 201
                assert response.headers.get_list("x-multi") == ["one", "two"]
                assert await response.aread() == b'{"b":2}'
                await response.aclose()

    seen = asyncio.run(_serving(handler, body))
    assert seen.count("connection") == 1          # keep-alive: three requests, one connection
    lines, sent = seen[1]
    assert lines[0] == b"POST /v1/chat HTTP/1.1" and sent == b'{"a":1}'
    names = [line.split(b":", 1)[0].lower() for line in lines[1:]]
    assert b"authorization: Bearer k-1" in lines and b"content-type: application/json" in lines
    # only what the request carried (plus what HTTP/1.1 needs): no client-side cookie or agent
    assert sorted(set(names)) == sorted({b"authorization", b"content-type", b"content-length", b"host"})


def test_the_body_is_handed_on_as_it_arrives() -> None:
    second_sent = asyncio.Event()

    async def handler(reader, writer, seen) -> None:
        await _read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
                     b"6\r\nfirst\n\r\n")
        await writer.drain()
        await asyncio.sleep(0.3)
        writer.write(b"7\r\nsecond\n\r\n0\r\n\r\n")
        await writer.drain()
        second_sent.set()

    async def body(url: str, seen: list) -> None:
        async with _transport() as transport:
            response = await transport.handle_async_request(_post(url))
            pieces = []
            async for piece in response.aiter_raw():
                pieces.append((piece, second_sent.is_set()))
            await response.aclose()
            assert pieces[0] == (b"first\n", False)      # before the server sent the rest
            assert b"".join(p for p, _ in pieces) == b"first\nsecond\n"

    asyncio.run(_serving(handler, body))


def test_a_body_cut_short_is_a_transport_error() -> None:
    async def handler(reader, writer, seen) -> None:
        await _read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{\"partial\"")
        await writer.drain()

    async def body(url: str, seen: list) -> None:
        async with _transport() as transport:
            response = await transport.handle_async_request(_post(url))
            with pytest.raises(httpx.TransportError):
                await response.aread()
            await response.aclose()

    asyncio.run(_serving(handler, body))


def test_silence_past_the_read_timeout_is_a_read_timeout() -> None:
    async def handler(reader, writer, seen) -> None:
        await _read_request(reader)
        await asyncio.sleep(3)

    async def body(url: str, seen: list) -> None:
        async with _transport(read=0.3) as transport:
            with pytest.raises(httpx.ReadTimeout):
                await transport.handle_async_request(_post(url))

    asyncio.run(_serving(handler, body))


def test_upstream_reports_a_refused_connection_and_a_timeout_in_openai_shape() -> None:
    async def handler(reader, writer, seen) -> None:
        await _read_request(reader)
        seen.append("asked")
        await asyncio.sleep(3)

    async def body(url: str, seen: list) -> None:
        upstream = Upstream({**DEFAULT_UPSTREAM, "read_timeout": 0.3, "retries": 1, "backoff_base": 0.01,
                             "backoff_max": 0.01})
        try:
            with pytest.raises(UpstreamError) as caught:
                await upstream.send("POST", url, {"content-type": "application/json"}, b"{}")
            assert caught.value.status == 504 and caught.value.code == "upstream_timeout"
            assert seen.count("asked") == 1      # a read timeout is not sent again (it may be generating)
            with pytest.raises(UpstreamError) as caught:
                await upstream.send("POST", "http://127.0.0.1:9/v1/chat", {}, b"{}")
            assert caught.value.status == 502 and caught.value.code == "upstream_unreachable"
            assert "connection refused" in str(caught.value)
        finally:
            await upstream.aclose()

    asyncio.run(_serving(handler, body))


@pytest.mark.parametrize("transport", ["aiohttp", "httpx"])
def test_upstream_sends_host_and_length_once_on_either_pool(transport: str) -> None:
    """Upstream hands httpx a request with Host and Content-Length already set (the body is in
    hand); each must still go out exactly once, right, and a Host the signer chose must win."""
    async def handler(reader, writer, seen) -> None:
        while True:
            lines, body = await _read_request(reader)
            seen.append((lines, body))
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}")
            await writer.drain()

    async def body(url: str, seen: list) -> None:
        upstream = Upstream({**DEFAULT_UPSTREAM, "transport": transport})
        try:
            for headers in ({"content-type": "application/json"}, {"Host": "signed.example:443"}):
                response = await upstream.send("POST", url, headers, b'{"q":"\\u00e9"}')
                assert await response.aread() == b"{}"
                await response.aclose()
        finally:
            await upstream.aclose()

    seen = asyncio.run(_serving(handler, body))
    requests = [item for item in seen if item != "connection"]
    port = None
    for (lines, sent), host in zip(requests, (None, b"signed.example:443")):
        fields = [line.split(b":", 1) for line in lines[1:]]
        names = [name.strip().lower() for name, _ in fields]
        assert names.count(b"host") == 1 and names.count(b"content-length") == 1, lines
        values = {name.strip().lower(): value.strip() for name, value in fields}
        port = port or values[b"host"].rsplit(b":", 1)[1]
        assert values[b"host"] == (host or b"127.0.0.1:" + port)
        assert values[b"content-length"] == str(len(sent)).encode() and sent == b'{"q":"\\u00e9"}'
