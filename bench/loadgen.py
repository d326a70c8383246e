"""HTTP/1.1 load generator for the gateway bench: `python -m bench.loadgen URL [options]`, JSON on stdout.

One process, asyncio (uvloop when installed) and httptools' C response parser over raw keep-alive
connections: no client library in the hot path (httpx's async pool is slow under high concurrency,
encode/httpx#3215), so a few thousand requests per second cost the client well under one core.

Two modes:

* closed (`--connections N`): N connections, each sends its next request when the previous answer
  has fully arrived. Gives the highest sustained rate at that concurrency and the latency seen there.
* open (`--rate R`): request i is due at start + i/R whatever happened before; an idle keep-alive
  connection is reused or a new one opened, so a slow server never slows the arrivals. Latency is
  measured from the *due* time, not from when the request went out, so queueing in the client counts
  against the server (no coordinated omission). `--max-connections` caps the open connections (a
  request due while all are busy waits for one, and that wait is counted).

Per request: time to the first body byte (TTFB, the first SSE event for a stream) and to the last
byte (TTLB, the whole answer). Latencies come from `time.perf_counter` around each request.
"""
from __future__ import annotations

import argparse
import asyncio
import collections
import json
import os
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httptools


class Failed(Exception):
    pass


class _Conn(asyncio.Protocol):
    """One keep-alive HTTP/1.1 connection; one request at a time."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.waiter: asyncio.Future | None = None
        self.first_body = 0.0
        self.status = 0
        self.body_bytes = 0
        self.closed = False

    # asyncio.Protocol
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._fail(f"parse error: {exc}")

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._fail("connection closed")

    # httptools callbacks
    def on_status(self, status: bytes) -> None:
        self.status = self.parser.get_status_code()

    def on_body(self, body: bytes) -> None:
        if not self.first_body:
            self.first_body = time.perf_counter()
        self.body_bytes += len(body)

    def on_message_complete(self) -> None:
        if not self.parser.should_keep_alive():
            self.closed = True
            if self.transport is not None:
                self.transport.close()
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(time.perf_counter())

    def _fail(self, why: str) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(Failed(why))

    async def request(self, data: bytes) -> tuple[int, float, float, int]:
        """Send one request; (status, first body byte time, last byte time, body bytes)."""
        self.first_body, self.status, self.body_bytes = 0.0, 0, 0
        self.waiter = self.loop.create_future()
        assert self.transport is not None
        self.transport.write(data)
        done = await self.waiter
        self.waiter = None
        return self.status, self.first_body or done, done, self.body_bytes

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()


@dataclass
class Results:
    ttlb: list[float] = field(default_factory=list)     # seconds, successful requests
    ttfb: list[float] = field(default_factory=list)
    sent: list[float] = field(default_factory=list)      # TTLB from when the request was written
    done_at: list[float] = field(default_factory=list)   # completion times of successful requests
    errors: Counter = field(default_factory=Counter)
    body_bytes: int = 0
    send_lag: list[float] = field(default_factory=list)  # open loop: how late the client issued requests
    connections_opened: int = 0
    unfinished: int = 0
    completed_all: int = 0                                # answers of any status, warm-up included


def _request_bytes(url: str, body: bytes, headers: list[str]) -> tuple[str, int, bytes]:
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    lines = [f"POST {path} HTTP/1.1", f"Host: {host}:{port}", "Content-Type: application/json",
             f"Content-Length: {len(body)}", "Accept: */*", *headers]
    return host, port, ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def _record(res: Results, status: int, t0: float, first: float, last: float, size: int,
            sent: float | None = None) -> None:
    res.completed_all += 1
    if 200 <= status < 300:
        res.ttlb.append(last - t0)
        res.ttfb.append(first - t0)
        res.sent.append(last - (sent if sent is not None else t0))
        res.done_at.append(last)
        res.body_bytes += size
    else:
        res.errors[f"HTTP {status}"] += 1


async def _connect(loop: asyncio.AbstractEventLoop, host: str, port: int, res: Results) -> _Conn:
    _, conn = await loop.create_connection(lambda: _Conn(loop), host, port)
    res.connections_opened += 1
    return conn


async def closed_loop(url: str, body: bytes, headers: list[str], connections: int, duration: float,
                      warmup: float, timeout: float) -> tuple[Results, float]:
    loop = asyncio.get_running_loop()
    host, port, data = _request_bytes(url, body, headers)
    res = Results()
    start = time.perf_counter()
    t_measure = start + warmup
    t_end = t_measure + duration

    async def worker() -> None:
        conn: _Conn | None = None
        while time.perf_counter() < t_end:
            try:
                if conn is None or conn.closed:
                    conn = await asyncio.wait_for(_connect(loop, host, port, res), timeout)
                t0 = time.perf_counter()
                status, first, last, size = await asyncio.wait_for(conn.request(data), timeout)
            except (OSError, Failed, asyncio.TimeoutError) as exc:
                if time.perf_counter() >= t_measure:
                    res.errors[_err_name(exc)] += 1
                if conn is not None:
                    conn.close()
                conn = None
                await asyncio.sleep(0.01)
                continue
            if t_measure <= last <= t_end:     # every answer completed in the window (as wrk counts)
                _record(res, status, t0, first, last, size)
            else:
                res.completed_all += 1
        if conn is not None:
            conn.close()

    await asyncio.gather(*(worker() for _ in range(connections)))
    return res, duration


@dataclass
class _Target:
    """One server the open loop sends to: its request bytes, idle connections and results."""
    host: str
    port: int
    data: bytes
    res: Results = field(default_factory=Results)
    scratch: Results = field(default_factory=Results)       # warm-up answers, not recorded
    idle: collections.deque = field(default_factory=collections.deque)


async def open_loop(url: str, body: bytes, headers: list[str], rate: float, duration: float,
                    drain: float, max_connections: int, warmup: float, preopen: int = 0,
                    pair: tuple[str, bytes, list[str]] | None = None) -> tuple[list[Results], float]:
    """`rate` requests per second for `duration` seconds (after `warmup` seconds at the same rate, not
    recorded); then wait up to `drain` seconds for the answers still out. `preopen` connections are
    opened first and idle ones are taken in turn (oldest first), so all of them carry traffic.

    With `pair` (url, body, headers) a second server gets the same rate, its requests interleaved
    with the first's (one to each in turn, evenly spaced), each on its own connections: two paths
    measured in the same seconds, so a difference between them is not drift of the machine."""
    loop = asyncio.get_running_loop()
    targets = [_Target(*_request_bytes(url, body, headers))]
    if pair is not None:
        targets.append(_Target(*_request_bytes(*pair)))
    for target in targets:
        for _ in range(preopen):
            target.idle.append(await _connect(loop, target.host, target.port, target.scratch))
    slots = asyncio.Semaphore(max_connections)
    tasks: dict[asyncio.Task, _Target] = {}
    k = len(targets)
    n_warm, n_total = int(rate * warmup) * k, int(rate * (warmup + duration)) * k
    step = 1 / (rate * k)
    start = time.perf_counter() + 0.05
    t_measure = start + warmup

    async def fire(target: _Target, due: float, sink: Results) -> None:
        idle = target.idle
        async with slots:
            conn = None
            while idle:
                conn = idle.popleft()
                if not conn.closed:
                    break
                conn = None
            try:
                if conn is None:
                    conn = await _connect(loop, target.host, target.port, sink)
                sent = time.perf_counter()
                sink.send_lag.append(sent - due)
                status, first, last, size = await conn.request(target.data)
            except (OSError, Failed) as exc:
                sink.errors[_err_name(exc)] += 1
                if conn is not None:
                    conn.close()
                return
            _record(sink, status, due, first, last, size, sent)
            if not conn.closed:
                idle.append(conn)

    i = 0
    while i < n_total:
        now = time.perf_counter()
        while i < n_total and start + i * step <= now:
            target = targets[i % k]
            task = loop.create_task(fire(target, start + i * step, target.scratch if i < n_warm else target.res))
            tasks[task] = target
            task.add_done_callback(tasks.pop)
            i += 1
        await asyncio.sleep(max(0.0, start + i * step - time.perf_counter()))
    if tasks:
        _, pending = await asyncio.wait(set(tasks), timeout=drain)
        for task in pending:
            task.cancel()
            tasks[task].res.unfinished += 1
        await asyncio.gather(*pending, return_exceptions=True)
    for target in targets:
        for conn in target.idle:
            conn.close()
        target.res.connections_opened += target.scratch.connections_opened
        target.res.completed_all += target.scratch.completed_all
    return [target.res for target in targets], time.perf_counter() - t_measure


def _err_name(exc: BaseException) -> str:
    if isinstance(exc, asyncio.TimeoutError):
        return "timeout"
    if isinstance(exc, Failed):
        return str(exc)
    return type(exc).__name__


def _pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    values = sorted(values)
    k = min(len(values) - 1, max(0, int(round(q / 100 * len(values) + 0.5)) - 1))
    return values[k]


def summarize(res: Results, elapsed: float, mode: str, unfinished_floor: float | None = None) -> dict:
    ok = len(res.ttlb)
    out: dict = {"mode": mode, "ok": ok, "errors": dict(res.errors), "unfinished": res.unfinished,
                 "elapsed_s": elapsed, "connections_opened": res.connections_opened,
                 "completed_all": res.completed_all,
                 "body_bytes": res.body_bytes}
    for name, values in (("ttlb", res.ttlb), ("ttfb", res.ttfb), ("ttlb_from_send", res.sent)):
        out[name] = {"mean_ms": (sum(values) / len(values) * 1000) if values else None,
                     **{f"p{q}_ms": (v * 1000 if (v := _pct(values, q)) is not None else None)
                        for q in (50, 90, 99, 99.9)},
                     "max_ms": max(values) * 1000 if values else None}
    if mode == "closed":
        out["rps"] = ok / elapsed if elapsed else 0.0
    else:
        # served rate: successful answers per second over the span in which they arrived
        done = sorted(res.done_at)
        span = (done[-1] - done[0]) if len(done) > 1 else 0.0
        out["served_rps"] = (ok - 1) / span if span > 0 else 0.0
        out["send_lag_ms"] = {"p50": (_pct(res.send_lag, 50) or 0) * 1000,
                              "p99": (_pct(res.send_lag, 99) or 0) * 1000,
                              "max": max(res.send_lag, default=0) * 1000}
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.loadgen", description=__doc__.splitlines()[0])
    ap.add_argument("url")
    ap.add_argument("--body-file", required=True, help="JSON request body")
    ap.add_argument("-H", "--header", action="append", default=[], help="extra header 'Name: value'")
    ap.add_argument("--connections", type=int, default=0, help="closed loop with N connections")
    ap.add_argument("--rate", type=float, default=0.0, help="open loop at R requests per second")
    ap.add_argument("--duration", type=float, default=10.0, help="measured seconds")
    ap.add_argument("--warmup", type=float, default=1.0, help="seconds of load before measuring")
    ap.add_argument("--drain", type=float, default=30.0, help="open loop: seconds to wait for late answers")
    ap.add_argument("--timeout", type=float, default=60.0, help="closed loop: per-request timeout")
    ap.add_argument("--max-connections", type=int, default=4000, help="open loop: connection cap")
    ap.add_argument("--preopen", type=int, default=0, help="open loop: connections opened before the start")
    ap.add_argument("--pair", help="open loop: a second URL sent the same rate, interleaved (reported as 'pair')")
    ap.add_argument("--pair-body-file", help="the second URL's JSON body (default: --body-file)")
    ap.add_argument("--pair-header", action="append", default=[], help="the second URL's extra headers")
    args = ap.parse_args(argv)
    if bool(args.connections) == bool(args.rate):
        ap.error("give exactly one of --connections and --rate")
    try:
        import uvloop
        uvloop.install()
    except ImportError:
        pass
    with open(args.body_file, "rb") as fh:
        body = fh.read()
    if args.connections:
        res, elapsed = asyncio.run(closed_loop(args.url, body, args.header, args.connections, args.duration,
                                               args.warmup, args.timeout))
        out = summarize(res, elapsed, "closed")
    else:
        pair = None
        if args.pair:
            with open(args.pair_body_file or args.body_file, "rb") as fh:
                pair = (args.pair, fh.read(), args.pair_header)
        results, elapsed = asyncio.run(open_loop(args.url, body, args.header, args.rate, args.duration, args.drain,
                                                 args.max_connections, args.warmup, args.preopen, pair))
        out = summarize(results[0], elapsed, "open")
        if pair is not None:
            out["pair"] = summarize(results[1], elapsed, "open")
    t = os.times()
    out["client_cpu_s"] = t.user + t.system
    json.dump(out, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
