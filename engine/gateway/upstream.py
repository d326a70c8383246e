"""The shared upstream HTTP client: pooling, timeouts, and retries before the first byte.

Design decisions:
- One `httpx.AsyncClient` per gateway process (connection pooling, keep-alive), over
  aiohttp's connection pool by default (`upstream.transport: httpx` selects httpx's own).
- Retries only on what is worth retrying (connection failures, connect timeouts, 408/429/5xx,
  529; read timeouts only when `retry_read_timeouts` says so, as the provider may be generating),
  with exponential backoff and full jitter, honouring `Retry-After` up to a cap;
  past the cap the provider's answer goes back to the client as is.
- Nothing is retried once a response is handed back: a stream that has started
  reaching the client cannot be replayed.
"""
from __future__ import annotations

import asyncio
import email.utils
import random
import time
from typing import Any

import httpx

from ..errors import UpstreamError

RETRY_STATUS = frozenset({408, 429, 500, 502, 503, 504, 529})


def _refused(exc: BaseException) -> bool:
    """A connect failure because the peer refused (the transport's own error is the cause)."""
    cause = exc.__cause__
    return isinstance(cause, OSError) and not isinstance(cause, TimeoutError) and (
        isinstance(getattr(cause, "os_error", None), ConnectionRefusedError)
        or isinstance(cause, ConnectionRefusedError))


_RETRY_AFTER_MAX = 86400.0   # a day: any longer (or inf) is the upstream's mistake, read as a day


def retry_after_seconds(headers: httpx.Headers) -> float | None:
    """Retry-After as seconds (a number or an HTTP date); None when absent or unreadable, so an
    upstream's malformed header falls back to the usual backoff instead of failing the request."""
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            seconds = email.utils.parsedate_to_datetime(value).timestamp() - time.time()
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
    return min(max(0.0, seconds), _RETRY_AFTER_MAX) if seconds == seconds else None   # NaN: unreadable


class Upstream:
    def __init__(self, settings: dict[str, Any], transport: httpx.AsyncBaseTransport | None = None):
        self.settings = settings
        timeout = httpx.Timeout(connect=settings["connect_timeout"], read=settings["read_timeout"],
                                write=30.0, pool=settings["connect_timeout"])
        limits = httpx.Limits(max_connections=settings["max_connections"],
                              max_keepalive_connections=settings["max_connections"])
        if transport is None and settings.get("transport", "aiohttp") == "aiohttp":
            # httpx's own async pool scans every pooled connection on each send and close,
            # so its cost grows with concurrency (encode/httpx#3215; bench/ measured ~4x less
            # throughput at 100 connections). aiohttp's pool under httpx's API does not.
            from .transport import AiohttpTransport
            transport = AiohttpTransport(limits, timeout)
        elif transport is None:
            transport = httpx.AsyncHTTPTransport(limits=limits, trust_env=False)
        self.transport = transport
        # httpcore's pool keeps a connection whose request was cancelled while the pool handed it
        # out (encode/httpcore#1093): on that transport a wait is never cancelled, only abandoned
        # once it ends. aiohttp's pool (and a caller's own transport) may be cancelled at any point.
        self.cancel_safe = not isinstance(transport, httpx.AsyncHTTPTransport)
        # The client only builds requests (default headers, timeouts) and owns the transport.
        # Sending goes to the transport itself: the client's redirect, auth and cookie layers
        # are nothing a gateway wants (a cookie an upstream sets for one caller must not ride on
        # the next caller's request) and were ~10% of the gateway's CPU per request.
        self.client = httpx.AsyncClient(timeout=timeout, transport=transport, follow_redirects=False,
                                        trust_env=False)
        self._urls: dict[str, tuple[httpx.URL, str]] = {}
        # What client.build_request would add (default headers, the timeout), computed once:
        # build_request also merges cookies, URLs and header objects on every call.
        self._defaults = {k.lower(): v for k, v in self.client.headers.items()}
        self._extensions = {"timeout": timeout.as_dict()}

    def _target(self, url: str) -> tuple[httpx.URL, str]:
        """The URL parsed once per distinct URL (an account's model URLs repeat on every request;
        httpx's URL parser was about a tenth of the gateway's own CPU per request), and its Host."""
        found = self._urls.get(url)
        if found is None:
            if len(self._urls) >= 4096:
                self._urls.clear()
            parsed = httpx.URL(url)
            found = self._urls[url] = (parsed, parsed.netloc.decode("ascii"))
        return found

    async def aclose(self) -> None:
        await self.client.aclose()

    def connections_in_use(self) -> int:
        """Upstream connections serving a request now (leak checks, metrics), either pool."""
        transport = self.transport
        pool = getattr(transport, "_pool", None)
        if pool is not None:
            return sum(1 for conn in pool.connections if not conn.is_idle())
        connector = getattr(transport, "connector", None)
        return len(getattr(connector, "_acquired", ())) if connector is not None else 0

    def _backoff(self, attempt: int) -> float:
        cap = min(self.settings["backoff_max"], self.settings["backoff_base"] * 2 ** attempt)
        return random.uniform(0, cap)

    async def send(self, method: str, url: str, headers: dict, body: bytes, tally: dict | None = None) -> httpx.Response:
        """Send with retries; the returned response is open (streaming) and must be closed.
        `tally["attempts"]` counts the attempts as they start (a caller that cancels still knows)."""
        retries = self.settings["retries"]
        for attempt in range(retries + 1):
            if tally is not None:
                tally["attempts"] = attempt + 1
            target, host = self._target(url)
            merged = {"host": host, **self._defaults}
            merged.update((k.lower(), v) for k, v in headers.items())
            merged["content-length"] = str(len(body))
            # The body is bytes in hand: given as a stream with Host and Content-Length already set,
            # httpx skips re-encoding it and rebuilding the headers twice (13.8 -> 5.2 µs a request).
            request = httpx.Request(method, target, headers=merged, stream=httpx.ByteStream(body),
                                    extensions=self._extensions)
            request.read()
            try:
                response = await self.transport.handle_async_request(request)
                response.request = request
            except httpx.TimeoutException as exc:
                # A read timeout means the provider has the request and may be generating: sending it
                # again bills a second generation, so only a connect or pool timeout is retried by default.
                if attempt < retries and (self.settings.get("retry_read_timeouts")
                                          or not isinstance(exc, httpx.ReadTimeout)):
                    await asyncio.sleep(self._backoff(attempt))
                    continue
                raise UpstreamError("the provider did not answer in time", status=504,
                                    type="timeout_error", code="upstream_timeout") from None
            except httpx.TransportError as exc:
                if attempt < retries:
                    await asyncio.sleep(self._backoff(attempt))
                    continue
                why = "connection refused" if _refused(exc) else type(exc).__name__
                raise UpstreamError(f"could not reach the provider: {why}", status=502,
                                    code="upstream_unreachable") from None
            if response.status_code in RETRY_STATUS and attempt < retries:
                wait = retry_after_seconds(response.headers)
                if wait is not None and wait > self.settings["retry_after_max"]:
                    return response
                await response.aclose()
                await asyncio.sleep(wait if wait is not None else self._backoff(attempt))
                continue
            return response
        raise AssertionError("unreachable")
