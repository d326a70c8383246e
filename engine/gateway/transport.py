"""An httpx transport over aiohttp's connection pool, cut to what the gateway sends.

httpx's API stays (an `httpx.Request` in, an `httpx.Response` out, httpx's exception classes),
so `Upstream` and its tests do not care which transport runs underneath. Why not httpx's own
pool: it scans every pooled connection on each send and close (encode/httpx#3215). Why not
httpx-aiohttp's general transport: it rebuilds per request what is fixed per gateway (the
timeout object, the URL parse, a copy of the headers through httpx's normalising `Headers`),
reads the body in fixed 16 kB slices and maps exceptions by scanning a table on every error
(bench/: one upstream call 237-262 µs of CPU through it, 217-242 through this one, aiohttp
alone 145-155; docs/performance.md). This one keeps one session with the timeouts set once,
parses each URL once, hands over the headers httpx already holds (decoded, not normalised
again) and relays whatever the socket gave.
"""
from __future__ import annotations

import asyncio
from typing import Any, AsyncIterator

import aiohttp
import httpx
import yarl


def _mapped(exc: BaseException) -> httpx.TransportError:
    """aiohttp's error as the httpx class `Upstream` retries and reports on (raised `from` it,
    so the cause, e.g. a refused connection, stays readable)."""
    text = str(exc) or type(exc).__name__
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        return httpx.ConnectTimeout(text)
    if isinstance(exc, asyncio.TimeoutError):  # aiohttp's read timeouts are TimeoutErrors too
        return httpx.ReadTimeout(text)
    if isinstance(exc, aiohttp.ClientConnectorError):
        return httpx.ConnectError(text)
    if isinstance(exc, aiohttp.InvalidURL):
        return httpx.UnsupportedProtocol(text)
    if isinstance(exc, aiohttp.ClientPayloadError):
        return httpx.RemoteProtocolError(text)
    return httpx.ReadError(text)


class _Body(httpx.AsyncByteStream):
    """The upstream answer as it arrives; closing it returns the connection to the pool."""

    __slots__ = ("_response",)

    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self._response = response

    async def __aiter__(self) -> AsyncIterator[bytes]:
        content = self._response.content
        try:
            while True:
                piece = await content.readany()
                if not piece:
                    return
                yield piece
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            raise _mapped(exc) from exc

    async def aclose(self) -> None:
        self._response.release()


class AiohttpTransport(httpx.AsyncBaseTransport):
    """One aiohttp session per transport, made on first use (it needs the running loop)."""

    def __init__(self, limits: httpx.Limits, timeout: httpx.Timeout) -> None:
        self._limits = limits
        self._timeout = aiohttp.ClientTimeout(total=None, connect=timeout.pool, sock_connect=timeout.connect,
                                              sock_read=timeout.read)
        self._session: aiohttp.ClientSession | None = None
        self._urls: dict[str, yarl.URL] = {}

    def _open(self) -> aiohttp.ClientSession:
        connector = aiohttp.TCPConnector(limit=self._limits.max_connections or 0,
                                         keepalive_timeout=self._limits.keepalive_expiry or 5.0)
        # No cookie jar: a cookie one caller's upstream sets must not ride on the next caller's request.
        self._session = aiohttp.ClientSession(connector=connector, timeout=self._timeout,
                                              cookie_jar=aiohttp.DummyCookieJar(), auto_decompress=False,
                                              skip_auto_headers=("user-agent", "accept", "accept-encoding"),
                                              trust_env=False)
        return self._session

    def _url(self, url: httpx.URL) -> yarl.URL:
        text = str(url)
        parsed = self._urls.get(text)
        if parsed is None:
            if len(self._urls) >= 4096:
                self._urls.clear()
            parsed = self._urls[text] = yarl.URL(text, encoded=True)
        return parsed

    @property
    def connector(self) -> aiohttp.BaseConnector | None:
        return self._session.connector if self._session is not None else None

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        session = self._session or self._open()
        try:
            headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in request.headers.raw]
            response = await session.request(request.method, self._url(request.url), headers=headers,
                                             data=request.content or None, allow_redirects=False, compress=False)
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            raise _mapped(exc) from exc
        return httpx.Response(response.status, headers=response.raw_headers, stream=_Body(response),
                              extensions={"http_version": b"HTTP/1.1"})

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
