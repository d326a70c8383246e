"""Bounded soak: `python -m bench.soak --requests 20000 --concurrency 50`.

Mixed traffic (stream and non-stream, every `<provider>-main` account, every model providers.yaml
lists) plus a few percent routed to fault accounts (429 and 500 that succeed on retry, a
persistent 500, cut streams, truncated JSON, a bad event-stream CRC, a provider that hangs
past a short read timeout). Every request must end in exactly one well-formed outcome:

* `completion`    200 and a valid chat.completion JSON body;
* `stream`        200, a stream of chat.completion.chunk events ending in `data: [DONE]`;
* `stream_error`  200, a stream whose last event is `data: {"error": {...}}` (no [DONE]);
* `http_error`    an HTTP error whose body is exactly {"error": {message, type, param, code}}.

Each request also has an expected outcome (a fault account on a stream must end in
`stream_error`, a retried 429 must end in a completion, ...); mismatches are reported.

Set-up: the emulator runs as a subprocess (`python -m emulator`); the gateway runs under
uvicorn in a thread of this process, so its event loop (asyncio tasks), `Gateway.streams`
and the upstream connection pool can be inspected; the load generator (httpx, fixed
concurrency) runs in the main thread. Resident memory (VmRSS) and open file descriptors are
therefore those of this process (gateway + load generator). A warm-up pass sends every
(account, model, stream) combination once before the measured run, so first-use caches
are not mistaken for growth.

Flat means, between the first and the last tenth of the measured run (samples taken every
1% of requests, both windows at full concurrency; maxima over each window): RSS growth under
10 MB, open fds within +5, upstream connection pool within +5, and the median count of asyncio
tasks in the gateway's loop within max(5, 2 x concurrency / 5) (under load it follows the in-flight
mix: a request waiting on its provider holds two tasks, itself and the watch on its client, and
a stream one more; the slow fault requests, a Retry-After of 1 s or a hang up to the read timeout,
bunch up differently in the two windows); and once idle again, the gateway's
loop has no more tasks than it had idle after warm-up, no stream is left in `Gateway.streams`,
and idle fds are within +5 (sampled again until the 5 s keep-alive expiry has passed, so
connections still closing on a busy machine are not taken for a leak; leaked fds stay open).
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from array import array
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import httpx
import orjson
import uvicorn
import yaml

ROOT = Path(__file__).resolve().parent.parent
KEY = "sk-soak-gateway-key-000000"
RSS_TOLERANCE_KB = 10 * 1024
FD_TOLERANCE = 5
KEEPALIVE_S = 5.0         # idle keep-alive connections close after this, upstream pool and server alike
TASK_TOLERANCE = 5
POOL_TOLERANCE = 5


# -- process figures ---------------------------------------------------------------------------
def rss_kb(pid: int | str = "self") -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def fd_count(pid: int | str = "self") -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


# -- servers ----------------------------------------------------------------------------------
def _free_port() -> int:
    from emulator.server import free_port
    return free_port()


@contextlib.contextmanager
def emulator_process() -> Iterator[str]:
    """`python -m emulator` on a free port, stopped (SIGTERM, then SIGKILL) on exit."""
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "emulator", "--port", str(port), "--log-level", "critical"],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"emulator exited with {proc.returncode}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(url + "/health", timeout=1).status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError("emulator did not start")
            time.sleep(0.05)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


class LoopProbe:
    """ASGI wrapper that remembers the event loop the gateway runs in (to count its tasks)."""

    def __init__(self, app: Any):
        self.app = app
        self.loop: asyncio.AbstractEventLoop | None = None

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if self.loop is None:
            self.loop = asyncio.get_running_loop()
        await self.app(scope, receive, send)

    def tasks(self) -> int:
        """Tasks alive in the gateway's loop, counted inside that loop."""
        async def count() -> int:
            return len(asyncio.all_tasks())
        assert self.loop is not None
        return asyncio.run_coroutine_threadsafe(count(), self.loop).result(timeout=5)


@contextlib.contextmanager
def gateway_thread(app: Any) -> Iterator[str]:
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="critical",
                                           access_log=False, lifespan="on", timeout_graceful_shutdown=2))
    from emulator.server import run_in_thread
    with run_in_thread(server, "127.0.0.1", port) as url:
        yield url


# -- the traffic ------------------------------------------------------------------------------
# fault account kind -> (base account, emulator fault, expected outcome for non-stream, for stream)
FAULTS = {
    "retry429": ("anthropic-main", "429", "completion", "stream"),       # one 429 (retry-after 1 s), then fine
    "retry500": ("openai-main", "500", "completion", "stream"),          # one 500, then fine
    "down500": ("groq-main", "500", "http_error", "http_error"),         # 500 on every attempt
    "cut": ("anthropic-main", "cut", "http_error", "stream_error"),      # connection dropped midway
    "badjson": ("openai-main", "badjson", "http_error", "stream_error"),  # truncated JSON / event
    "badcrc": ("bedrock-main", "badcrc", "completion", "stream_error"),  # event-stream CRC (streams only)
    "hang": ("gemini-main", "hang", "http_error", "stream_error"),       # stops mid-answer; read timeout
}
SHARES = {"retry429": 0.005, "retry500": 0.005, "down500": 0.005, "cut": 0.01, "badjson": 0.01,
          "badcrc": 0.005, "hang": 0.005}
MAX_ONE_SHOT = 200   # retry accounts carry a one-shot fault key each; at most this many of each


@dataclass
class Job:
    index: int
    account: str
    model: str
    stream: bool
    expect: str
    kind: str = "main"


@dataclass
class Result:
    job: Job
    outcome: str
    problem: str | None
    status: int
    seconds: float


def provider_models(root: Path = ROOT) -> dict[str, list[str]]:
    """`<provider>-main` account -> model ids, from providers.yaml (providers with a spec only)."""
    providers = yaml.safe_load((root / "providers.yaml").read_text())["providers"]
    return {f"{name}-main": list(p["models"]) for name, p in providers.items() if p.get("spec") and p.get("models")}


def _one_shot_count(kind: str, requests: int) -> int:
    return max(2, min(MAX_ONE_SHOT, round(requests * SHARES[kind])))


def build_config(emulator_url: str, requests: int, read_timeout: float) -> dict:
    from emulator.gateway import account_overrides
    main = account_overrides(emulator_url)
    accounts: dict[str, dict] = dict(main)
    for kind, (base, fault, _, _) in FAULTS.items():
        if kind.startswith("retry"):
            for i in range(_one_shot_count(kind, requests)):
                accounts[f"{kind}-{i}"] = {**main[base], "headers": {
                    "x-emulator-fault": fault, "x-emulator-fault-key": f"soak-{kind}-{i}",
                    "x-emulator-fault-times": "1"}}
        else:
            accounts[kind] = {**main[base], "headers": {"x-emulator-fault": fault}}
    return {"keys": [{"name": "soak", "key": KEY}], "accounts": accounts,
            "upstream": {"read_timeout": read_timeout, "retries": 2, "backoff_base": 0.01, "backoff_max": 0.05,
                         "retry_after_max": 5}}


def plan(requests: int, seed: int, models: dict[str, list[str]]) -> list[Job]:
    """The measured run: faults spread evenly, the rest random over accounts, models and stream."""
    rng = random.Random(seed)
    jobs: list[Job | None] = [None] * requests
    free = list(range(requests))
    rng.shuffle(free)
    for kind, (base, _, expect_plain, expect_stream) in FAULTS.items():
        count = _one_shot_count(kind, requests) if kind.startswith("retry") else max(1, round(requests * SHARES[kind]))
        for n in range(count):
            if not free:
                break
            i = free.pop()
            stream = kind == "badcrc" or rng.random() < 0.5
            account = f"{kind}-{n}" if kind.startswith("retry") else kind
            model = models[base][0]
            jobs[i] = Job(i, account, model, stream, expect_stream if stream else expect_plain, kind)
    accounts = sorted(models)
    for i in free:
        account = rng.choice(accounts)
        stream = rng.random() < 0.5
        jobs[i] = Job(i, account, rng.choice(models[account]), stream, "stream" if stream else "completion")
    return [job for job in jobs if job is not None]


def warmup_plan(models: dict[str, list[str]]) -> list[Job]:
    """Every (main account, model, stream) once, and each non-retry fault once each way."""
    jobs = [Job(0, account, model, stream, "stream" if stream else "completion")
            for account in sorted(models) for model in models[account] for stream in (False, True)]
    for kind, (base, _, expect_plain, expect_stream) in FAULTS.items():
        if not kind.startswith("retry"):
            jobs += [Job(0, kind, models[base][0], False, expect_plain, kind),
                     Job(0, kind, models[base][0], True, expect_stream, kind)]
    return jobs


def body_for(job: Job) -> bytes:
    messages = [{"role": "user", "content": f"soak request {job.index}: say something short"}]
    if job.index % 3 == 0:
        messages.insert(0, {"role": "system", "content": "Be brief."})
    body: dict[str, Any] = {"model": f"{job.account}/{job.model}", "messages": messages}
    if job.stream:
        body["stream"] = True
    return orjson.dumps(body)


# -- outcome checks ---------------------------------------------------------------------------
_ERROR_FIELDS = {"message", "type", "param", "code"}


def _error_problem(payload: Any) -> str | None:
    if not isinstance(payload, dict) or set(payload) != {"error"}:
        return f"not an error envelope: {str(payload)[:200]}"
    err = payload["error"]
    if not isinstance(err, dict) or set(err) != _ERROR_FIELDS:
        return f"error fields {sorted(err) if isinstance(err, dict) else err!r}"
    if not isinstance(err["message"], str) or not err["message"] or not isinstance(err["type"], str):
        return f"error message/type missing: {err}"
    if "Traceback" in err["message"]:
        return "traceback in the error message"
    return None


def _completion_problem(payload: Any) -> str | None:
    if not isinstance(payload, dict) or payload.get("object") != "chat.completion":
        return f"not a chat.completion: {str(payload)[:200]}"
    if not isinstance(payload.get("id"), str) or not isinstance(payload.get("model"), str):
        return "id/model missing"
    choices = payload.get("choices")
    if not isinstance(choices, list) or not choices:
        return "no choices"
    for choice in choices:
        message = choice.get("message") if isinstance(choice, dict) else None
        if not isinstance(message, dict) or message.get("role") != "assistant" or "finish_reason" not in choice:
            return f"bad choice {str(choice)[:200]}"
    return None


def classify(status: int, content_type: str, body: bytes) -> tuple[str, str | None]:
    """One response -> (outcome, problem or None). Outcomes are described in the module docstring."""
    if status != 200:
        try:
            payload = orjson.loads(body)
        except orjson.JSONDecodeError:
            return "http_error", f"HTTP {status} body is not JSON: {body[:200]!r}"
        return "http_error", _error_problem(payload)
    if content_type.startswith("application/json"):
        try:
            return "completion", _completion_problem(orjson.loads(body))
        except orjson.JSONDecodeError:
            return "completion", f"body is not JSON: {body[:200]!r}"
    if not content_type.startswith("text/event-stream"):
        return "unknown", f"content-type {content_type!r}"
    events = [e for e in body.replace(b"\r\n", b"\n").split(b"\n\n") if e.strip()]
    if not events:
        return "stream", "empty stream"
    for n, event in enumerate(events):
        last = n == len(events) - 1
        if not event.startswith(b"data: ") or b"\n" in event.strip():
            return "stream", f"event {n} is not one data line: {event[:200]!r}"
        data = event[6:].strip()
        if data == b"[DONE]":
            return ("stream", None) if last else ("stream", "[DONE] before the end")
        try:
            payload = orjson.loads(data)
        except orjson.JSONDecodeError:
            return "stream", f"event {n} is not JSON: {data[:200]!r}"
        if isinstance(payload, dict) and "error" in payload:
            problem = _error_problem(payload)
            return "stream_error", problem or (None if last else "events after the error event")
        if not isinstance(payload, dict) or payload.get("object") != "chat.completion.chunk" \
                or not isinstance(payload.get("choices"), list):
            return "stream", f"event {n} is not a chunk: {data[:200]!r}"
    return "stream", "the stream ended without [DONE] or an error event"


async def send_one(client: httpx.AsyncClient, url: str, job: Job) -> Result:
    started = time.perf_counter()
    headers = {"authorization": f"Bearer {KEY}", "content-type": "application/json",
               "x-request-id": f"soak-{job.index}"}
    try:
        r = await client.post(url + "/v1/chat/completions", content=body_for(job), headers=headers)
        outcome, problem = classify(r.status_code, r.headers.get("content-type", ""), r.content)
        status = r.status_code
    except httpx.HTTPError as exc:
        outcome, problem, status = "client_failure", f"{type(exc).__name__}: {exc}", 0
    if problem is None and outcome != job.expect:
        problem = f"expected {job.expect}, got {outcome} (HTTP {status})"
    return Result(job, outcome, problem, status, time.perf_counter() - started)


# -- the run ----------------------------------------------------------------------------------
@dataclass
class Sample:
    done: int
    t: float
    rss_kb: int
    fds: int
    tasks: int
    streams: int
    pool: int


@dataclass
class Report:
    requests: int
    concurrency: int
    seconds: float
    outcomes: Counter
    by_kind: Counter
    failures: list[Result]
    samples: list[Sample]
    idle_before: Sample
    idle_after: Sample
    warmup_requests: int
    warmup_failures: list[Result]
    latency_ms: dict[str, float] = field(default_factory=dict)

    def window(self, first: bool) -> list[Sample]:
        """Samples of the first or the last tenth of the run, both at full concurrency: the last
        tenth stops where the queue runs dry (the final `concurrency` requests only drain)."""
        n, c = self.requests, min(self.concurrency, self.requests // 10)
        lo, hi = (c, c + n / 10) if first else (n * 0.9 - c, n - c)
        got = [s for s in self.samples if lo <= s.done <= hi]
        return got or ([self.samples[0]] if first else [self.samples[-1]])

    def figures(self) -> dict[str, tuple[int, int]]:
        """(first tenth, last tenth) of each figure: maxima over each window's samples."""
        a, b = self.window(True), self.window(False)
        out = {name: (max(getattr(s, name) for s in a), max(getattr(s, name) for s in b))
               for name in ("rss_kb", "fds", "streams", "pool")}
        out["tasks"] = (statistics.median_low([s.tasks for s in a]), statistics.median_low([s.tasks for s in b]))
        return out

    def flat_problems(self) -> list[str]:
        f = self.figures()
        task_tolerance = max(TASK_TOLERANCE, 2 * self.concurrency // 5)   # two tasks a waiting request
        out = []
        if f["rss_kb"][1] - f["rss_kb"][0] >= RSS_TOLERANCE_KB:
            out.append(f"RSS grew {f['rss_kb'][1] - f['rss_kb'][0]} kB (first tenth {f['rss_kb'][0]} kB, "
                       f"last tenth {f['rss_kb'][1]} kB)")
        for name, tol in (("fds", FD_TOLERANCE), ("tasks", task_tolerance), ("pool", POOL_TOLERANCE)):
            if f[name][1] > f[name][0] + tol:
                out.append(f"{name} grew from {f[name][0]} to {f[name][1]}")
        if self.idle_after.tasks > self.idle_before.tasks:
            out.append(f"idle tasks grew from {self.idle_before.tasks} to {self.idle_after.tasks}")
        if self.idle_after.streams:
            out.append(f"{self.idle_after.streams} streams left in Gateway.streams")
        if self.idle_after.fds > self.idle_before.fds + FD_TOLERANCE:
            out.append(f"idle fds grew from {self.idle_before.fds} to {self.idle_after.fds}")
        return out

    def problems(self) -> list[str]:
        out = [f"warm-up {r.job.account}/{r.job.model} stream={r.job.stream}: {r.problem}"
               for r in self.warmup_failures[:10]]
        out += [f"#{r.job.index} {r.job.account}/{r.job.model} stream={r.job.stream}: {r.problem}"
                for r in self.failures[:20]]
        if len(self.failures) > 20:
            out.append(f"... and {len(self.failures) - 20} more failed requests")
        return out + self.flat_problems()

    def text(self) -> str:
        f = self.figures()
        rate = self.requests / self.seconds if self.seconds else 0.0
        lines = [f"soak: {self.requests} requests, concurrency {self.concurrency}, {self.seconds:.1f} s "
                 f"({rate:.0f} req/s), warm-up {self.warmup_requests} requests",
                 "outcomes: " + ", ".join(f"{k} {v}" for k, v in sorted(self.outcomes.items())),
                 "fault requests: " + ", ".join(f"{k} {v}" for k, v in sorted(self.by_kind.items()) if k != "main"),
                 "latency ms: " + ", ".join(f"{k} {v:.1f}" for k, v in self.latency_ms.items()),
                 f"failed requests: {len(self.failures)} (+{len(self.warmup_failures)} in warm-up)",
                 "figure          first tenth   last tenth   idle before   idle after",
                 f"RSS (MB)        {f['rss_kb'][0] / 1024:11.1f}   {f['rss_kb'][1] / 1024:10.1f}   "
                 f"{self.idle_before.rss_kb / 1024:11.1f}   {self.idle_after.rss_kb / 1024:10.1f}"]
        for name, label in (("fds", "open fds"), ("tasks", "tasks (median)"), ("streams", "gateway.streams"),
                            ("pool", "upstream pool")):
            lines.append(f"{label:<15} {f[name][0]:11d}   {f[name][1]:10d}   {getattr(self.idle_before, name):11d}   "
                         f"{getattr(self.idle_after, name):10d}")
        problems = self.flat_problems()
        lines.append("flat: yes" if not problems else "flat: NO: " + "; ".join(problems))
        return "\n".join(lines)


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


@dataclass
class Tally:
    """What the load generator keeps: counts, failures and latencies, not every response (so its
    own memory does not grow with the run and blur the gateway's)."""
    count: int = 0
    outcomes: Counter = field(default_factory=Counter)
    by_kind: Counter = field(default_factory=Counter)
    failures: list[Result] = field(default_factory=list)
    main_ms: array = field(default_factory=lambda: array("d"))

    def add(self, result: Result) -> None:
        self.count += 1
        self.outcomes[result.outcome] += 1
        self.by_kind[result.job.kind] += 1
        if result.problem:
            self.failures.append(result)
        if result.job.kind == "main":
            self.main_ms.append(result.seconds * 1000)


async def _drive(url: str, jobs: list[Job], concurrency: int, sample: Any = None, every: int = 0) -> Tally:
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    tally = Tally()
    queue: asyncio.Queue[Job] = asyncio.Queue()
    for job in jobs:
        queue.put_nowait(job)
    del jobs
    next_mark = every

    async with httpx.AsyncClient(timeout=30, limits=limits) as client:
        async def worker() -> None:
            nonlocal next_mark
            while True:
                try:
                    job = queue.get_nowait()
                except asyncio.QueueEmpty:
                    return
                tally.add(await send_one(client, url, job))
                if sample is not None and tally.count >= next_mark:
                    next_mark += every
                    await sample(tally.count)
        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return tally


def run(requests: int = 2000, concurrency: int = 50, seed: int = 1, read_timeout: float = 1.5,
        progress: bool = False) -> Report:
    import engine
    from engine.gateway.app import Gateway
    from engine.gateway.config import load_config
    from tests.support.pool import upstream_connections

    models = provider_models()
    with emulator_process() as emulator_url, tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "soak.yaml"
        path.write_text(yaml.safe_dump(build_config(emulator_url, requests, read_timeout)))
        sb = engine.load()
        gateway = Gateway(sb, load_config(path, sb.providers))
        probe = LoopProbe(gateway)
        with gateway_thread(probe) as url:
            httpx.get(url + "/health")

            def snapshot(done: int) -> Sample:
                return Sample(done, time.perf_counter(), rss_kb(), fd_count(), probe.tasks(), len(gateway.streams),
                              upstream_connections(gateway))

            def settle(done: int, fds_within: int | None = None) -> Sample:
                """Wait (bounded) for the gateway to go quiet, then sample. With `fds_within`, keep
                sampling while more fds are open, up to the keep-alive expiry of both pools and a
                margin: closes still in flight on a busy machine end by then, leaked fds do not."""
                deadline = time.monotonic() + 3
                while time.monotonic() < deadline and gateway.streams:
                    time.sleep(0.05)
                time.sleep(0.3)
                taken = snapshot(done)
                deadline = time.monotonic() + KEEPALIVE_S + 3
                while fds_within is not None and taken.fds > fds_within and time.monotonic() < deadline:
                    time.sleep(0.25)
                    taken = snapshot(done)
                return taken

            warm_jobs = warmup_plan(models)
            warm = asyncio.run(_drive(url, warm_jobs, concurrency))
            idle_before = settle(0)
            samples: list[Sample] = []
            loop_samples = samples

            async def sample(done: int) -> None:
                loop_samples.append(await asyncio.to_thread(snapshot, done))
                if progress and done % max(1, requests // 10) < max(1, requests // 100):
                    print(f"  {done}/{requests}", file=sys.stderr, flush=True)

            jobs = plan(requests, seed, models)
            samples.append(snapshot(0))
            started = time.perf_counter()
            tally = asyncio.run(_drive(url, jobs, concurrency, sample, max(1, requests // 100)))
            seconds = time.perf_counter() - started
            idle_after = settle(tally.count, fds_within=idle_before.fds + FD_TOLERANCE)
    ok_ms = list(tally.main_ms)
    return Report(
        requests=tally.count, concurrency=concurrency, seconds=seconds, outcomes=tally.outcomes,
        by_kind=tally.by_kind, failures=tally.failures, samples=samples, idle_before=idle_before,
        idle_after=idle_after, warmup_requests=warm.count, warmup_failures=warm.failures,
        latency_ms={"p50": _percentile(ok_ms, 0.5), "p99": _percentile(ok_ms, 0.99), "max": max(ok_ms, default=0.0)})


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.soak", description=__doc__.splitlines()[0])
    ap.add_argument("--requests", type=int, default=20000)
    ap.add_argument("--concurrency", type=int, default=50)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--read-timeout", type=float, default=1.5, help="the gateway's upstream read timeout (s)")
    opts = ap.parse_args(argv)
    report = run(opts.requests, opts.concurrency, opts.seed, opts.read_timeout, progress=True)
    print(report.text())
    problems = report.problems()
    for problem in problems:
        print("problem:", problem)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
