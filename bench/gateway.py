"""Part 3: the gateway under load, against the emulated providers, on loopback.

Separate processes, all on 127.0.0.1: the emulator (`python -m emulator`), the server under test
(`switchboard serve --config <tmp>/gateway.yaml`, or litellm's proxy, or nothing for the direct
path) and the load generator (`python -m bench.loadgen`, one process per run). Every server is
started fresh for each group of runs and stopped (SIGTERM, then SIGKILL of its process group) at the
end, whatever happens. The request is bench.payloads.TYPICAL (about 1 kB: system, user, a tool call
and its result, two tools); the emulator answers it with a short text (a few SSE events when streamed).

* added latency: open loop at a fixed rate well below every path's capacity (50 req/s, where the
  CPUs idle between requests, and 400 req/s, where they stay busy), spread over 100 connections
  opened beforehand; gateway latency minus direct-to-emulator latency (same request, same rate,
  emulator answering at once), p50 and p99; streams also by time to the first byte. Beside the
  gateway, a pass-through Python proxy on the same stack (bench/floorproxy.py) shows the floor
  that any Python gateway pays here, and how much of the added latency is Switchboard's own.
* the same with CONNECTIONS requests in flight at once: 400 req/s with the emulator answering after
  250 ms (Little's law: 100 requests open at any moment, each on its own connection).
* highest sustained rate: closed loop, 100 connections (each sends again as soon as its answer is
  complete); requests per second and the latency there.
* the published comparison setup: 500 requests per second offered for 60 s (open loop, latency
  from each request's due time), emulator answering after 1.5 s; peak resident memory (VmHWM,
  summed over the server's processes) afterwards.
"""
from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import orjson

from .payloads import TYPICAL
from .timing import Table, verdict

TITLE = "Gateway under load"
ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
CLIENT_KEY = "sk-bench-switchboard-0001"
LITELLM_KEY = "sk-bench-litellm-0001"
MODEL = "gpt-4o-mini"
CONNECTIONS = 100
PACED_RATE = 50             # req/s for the added-latency rows: below every path's capacity
BUSY_RATE = 400             # ... and a rate at which the CPUs stay busy (still well below capacity)
FLIGHT_MS = CONNECTIONS * 1000 // BUSY_RATE  # upstream latency that keeps CONNECTIONS requests in flight at BUSY_RATE
SLOW_MS = 1500              # the published setup's upstream latency
SLOW_RATE = 500             # ... and its offered rate
ADDED_P50_MS = 1.0          # targets
SERVED_MIN_RPS = 495.0
SLOW_P99_MS = 1600.0
MEMORY_MAX_MB = 120.0
DRAIN_S = 30.0              # published setup: how long to wait for answers after the last request was due
PUBLISHED = [  # the published comparison on the same setup (2 CPUs, 1.5 s upstream, 500 req/s for 60 s)
    ("litellm (published)", 44.8, 90_700.0, 372.0, 0.5),
    ("Bifrost, Go (published)", 424.0, 1_680.0, 120.0, 0.011),
]


# -- processes -----------------------------------------------------------------------------------
@dataclass
class Server:
    name: str
    base: str                     # URL of the chat completions endpoint
    headers: list[str]
    model: str
    proc: subprocess.Popen | None = None
    log: Path | None = None

    def tree(self) -> list[int]:
        return _tree(self.proc.pid) if self.proc else []


def _tree(pid: int) -> list[int]:
    """pid and all its descendants (from /proc/*/stat)."""
    parents: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            parents.setdefault(ppid, []).append(int(entry))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo += parents.get(p, [])
    return out


def _cpu_s(pids: list[int]) -> float:
    tick, total = os.sysconf("SC_CLK_TCK"), 0.0
    for pid in pids:
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick   # utime, stime
    return total


def _memory_mb(pids: list[int]) -> tuple[float, float, float]:
    """(sum of VmHWM, sum of VmRSS, largest VmHWM) in MB over the processes."""
    hwm, rss = [], []
    for pid in pids:
        with contextlib.suppress(OSError):
            status = Path(f"/proc/{pid}/status").read_text()
            values = {line.split(":")[0]: int(line.split()[1]) for line in status.splitlines()
                      if line.startswith(("VmHWM", "VmRSS"))}
            hwm.append(values.get("VmHWM", 0) / 1024)
            rss.append(values.get("VmRSS", 0) / 1024)
    return sum(hwm), sum(rss), max(hwm, default=0.0)


def _pss_mb(pids: list[int]) -> float:
    """Summed proportional set size (smaps_rollup): pages shared by processes (a binary, libraries,
    anything mapped twice) counted once in total, as a container's memory would count them."""
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError, ValueError, IndexError):
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total += int(line.split()[1])
                    break
    return total / 1024


_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
_PRESENT, _FRAME = 1 << 63, (1 << 55) - 1


def _resident_once_mb(pids: list[int]) -> float | None:
    """Resident pages of the processes counted once each, by physical frame (/proc/<pid>/pagemap):
    what a container holding just these processes is charged for them (forked workers share the
    supervisor's pages; summed RSS counts those once per process). None without the privilege to
    read frame numbers (the kernel then reports them as 0)."""
    frames: set[int] = set()
    for pid in pids:
        with contextlib.suppress(OSError):
            maps = Path(f"/proc/{pid}/maps").read_text().splitlines()
            with open(f"/proc/{pid}/pagemap", "rb") as pagemap:
                for line in maps:
                    if line.endswith("[vsyscall]"):
                        continue
                    lo, hi = (int(x, 16) for x in line.split(None, 1)[0].split("-"))
                    pagemap.seek(lo // _PAGE * 8)
                    entries = memoryview(pagemap.read((hi - lo) // _PAGE * 8)).cast("Q")
                    frames.update(e & _FRAME for e in entries if e & _PRESENT)
    frames.discard(0)
    return len(frames) * _PAGE / 2**20 if frames else None


@contextlib.contextmanager
def memory_peak(server: "Server", every: float = 1.0) -> Iterator[dict[str, float | None]]:
    """The highest summed PSS and the highest resident-once figure of the server's processes,
    sampled while the block runs (VmHWM is a per-process peak; the kernel keeps none for either)."""
    import threading
    peak: dict[str, float | None] = {"pss": 0.0, "once": None}
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            pids = server.tree()
            peak["pss"] = max(peak["pss"] or 0.0, _pss_mb(pids))
            once = _resident_once_mb(pids)
            if once is not None:
                peak["once"] = max(peak["once"] or 0.0, once)
            stop.wait(every)
    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    try:
        yield peak
    finally:
        stop.set()
        thread.join()


def _free_port() -> int:
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_ready(url: str, proc: subprocess.Popen, log: Path, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            tail = log.read_text(errors="replace")[-1500:] if log.exists() else ""
            raise RuntimeError(f"{proc.args[0]} exited with {proc.returncode}: {tail.strip()}")
        with contextlib.suppress(OSError):
            with urllib.request.urlopen(url, timeout=5) as resp:
                if resp.status == 200:
                    return
        time.sleep(0.1)
    raise RuntimeError(f"{url} not ready after {timeout:.0f} s")


def _stop(proc: subprocess.Popen | None) -> None:
    """SIGTERM the process group we started (uvicorn/litellm workers included), then SIGKILL."""
    if proc is None or proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=5)


@contextlib.contextmanager
def _started(args: list[str], ready_url: str, log: Path, env: dict | None = None) -> Iterator[subprocess.Popen]:
    with open(log, "ab") as fh:
        proc = subprocess.Popen(args, cwd=ROOT, stdout=fh, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                env={**os.environ, **(env or {})}, start_new_session=True)
    try:
        _wait_ready(ready_url, proc, log)
        yield proc
    finally:
        _stop(proc)


@contextlib.contextmanager
def emulator(tmp: Path, latency_ms: int) -> Iterator[tuple[str, subprocess.Popen]]:
    port = _free_port()
    args = [sys.executable, "-m", "emulator", "--port", str(port), "--latency-ms", str(latency_ms),
            "--log-level", "warning"]
    with _started(args, f"http://127.0.0.1:{port}/health", tmp / f"emulator-{port}.log") as proc:
        yield f"http://127.0.0.1:{port}", proc


def direct(emu: str) -> Server:
    return Server("direct to emulator", f"{emu}/openai/v1/chat/completions", ["Authorization: Bearer emulator-key"],
                  MODEL)


@contextlib.contextmanager
def switchboard(tmp: Path, emu: str, workers: int) -> Iterator[Server]:
    from emulator.gateway import account_overrides
    accounts = {k: v for k, v in account_overrides(emu).items() if k in ("openai-main", "anthropic-main")}
    config = tmp / f"switchboard-{workers}.yaml"
    config.write_text(json.dumps({"keys": [{"name": "bench", "key": CLIENT_KEY}], "accounts": accounts}, indent=1))
    port = _free_port()
    log = tmp / f"switchboard-{port}.log"
    args = [str(BIN / "switchboard"), "serve", "--config", str(config), "--port", str(port),
            "--workers", str(workers)]
    with _started(args, f"http://127.0.0.1:{port}/health", log) as proc:
        yield Server(f"switchboard, {workers} worker{'s' * (workers > 1)}",
                     f"http://127.0.0.1:{port}/v1/chat/completions", [f"Authorization: Bearer {CLIENT_KEY}"],
                     f"openai-main/{MODEL}", proc, log)


@contextlib.contextmanager
def floor_proxy(tmp: Path, emu: str, client: str) -> Iterator[Server]:
    """bench/floorproxy.py: a pass-through Python proxy on the gateway's stack (what any Python
    gateway pays for its hops here), with aiohttp or with the gateway's own upstream client."""
    port = _free_port()
    log = tmp / f"floor-{client}-{port}.log"
    args = [sys.executable, "-m", "bench.floorproxy", "--upstream", direct(emu).base, "--port", str(port),
            "--client", client]
    with _started(args, f"http://127.0.0.1:{port}/health", log) as proc:
        label = {"upstream": "the gateway's upstream client"}.get(client, client)
        yield Server(f"pass-through proxy floor ({label})", f"http://127.0.0.1:{port}/v1/chat/completions",
                     direct(emu).headers, MODEL, proc, log)


def aiohttp_available() -> bool:
    import importlib.util
    return importlib.util.find_spec("httpx_aiohttp") is not None


@contextlib.contextmanager
def switchboard_aiohttp(tmp: Path, emu: str) -> Iterator[Server]:
    """The same gateway, 1 worker, with httpx-aiohttp's general transport (the one it used before
    engine/gateway/transport.py) as the upstream transport (bench/gwalt.py)."""
    from emulator.gateway import account_overrides
    accounts = {k: v for k, v in account_overrides(emu).items() if k in ("openai-main", "anthropic-main")}
    config = tmp / "switchboard-aiohttp.yaml"
    config.write_text(json.dumps({"keys": [{"name": "bench", "key": CLIENT_KEY}], "accounts": accounts}, indent=1))
    port = _free_port()
    log = tmp / f"switchboard-aiohttp-{port}.log"
    args = [sys.executable, "-m", "bench.gwalt", "--config", str(config), "--port", str(port)]
    with _started(args, f"http://127.0.0.1:{port}/health", log) as proc:
        yield Server("switchboard, 1 worker, httpx-aiohttp transport (bench/gwalt.py)",
                     f"http://127.0.0.1:{port}/v1/chat/completions", [f"Authorization: Bearer {CLIENT_KEY}"],
                     f"openai-main/{MODEL}", proc, log)


LITELLM_ENV = {"LITELLM_LOCAL_MODEL_COST_MAP": "True", "LITELLM_TELEMETRY": "False", "LITELLM_LOG": "ERROR",
               "DISABLE_SCHEMA_UPDATE": "true"}


@contextlib.contextmanager
def litellm(tmp: Path, emu: str, workers: int = 1) -> Iterator[Server]:
    config = tmp / "litellm.yaml"
    config.write_text(json.dumps({
        "model_list": [{"model_name": MODEL, "litellm_params": {
            "model": f"openai/{MODEL}", "api_base": f"{emu}/openai/v1", "api_key": "emulator-key"}}],
        "litellm_settings": {"telemetry": False, "drop_params": True},
        "general_settings": {"master_key": LITELLM_KEY}}, indent=1))
    port = _free_port()
    log = tmp / f"litellm-{port}.log"
    args = [str(BIN / "litellm"), "--config", str(config), "--host", "127.0.0.1", "--port", str(port),
            "--num_workers", str(workers)]
    with _started(args, f"http://127.0.0.1:{port}/health/liveliness", log, LITELLM_ENV) as proc:
        yield Server(f"litellm proxy, {workers} worker{'s' * (workers > 1)}",
                     f"http://127.0.0.1:{port}/v1/chat/completions", [f"Authorization: Bearer {LITELLM_KEY}"],
                     MODEL, proc, log)


def litellm_available() -> str | None:
    """None when litellm's proxy can start here, else why not."""
    if not (BIN / "litellm").exists():
        return "litellm is not installed in this environment"
    probe = subprocess.run([sys.executable, "-c", "import litellm.proxy.proxy_server"], capture_output=True,
                           text=True, env={**os.environ, **LITELLM_ENV}, timeout=120)
    if probe.returncode:
        return "litellm's proxy does not import: " + (probe.stderr.strip().splitlines() or ["?"])[-1]
    return None


# -- load ----------------------------------------------------------------------------------------
@dataclass
class Run:
    server: str
    stream: bool
    result: dict
    cpu_us: float | None = None        # server CPU per request (all its processes)
    emu_cpu_us: float | None = None    # emulator CPU per request
    memory: tuple[float, float, float] | None = None
    extra: dict = field(default_factory=dict)


def _body_file(tmp: Path, server: Server, stream: bool) -> Path:
    body = {**TYPICAL, "model": server.model}
    if stream:
        body.update(stream=True, stream_options={"include_usage": True})
    path = tmp / f"body-{server.model.replace('/', '_')}-{int(stream)}.json"
    path.write_bytes(orjson.dumps(body))
    return path


def load(tmp: Path, server: Server, stream: bool, args: list[str], emu_proc: subprocess.Popen | None,
         timeout: float, pair: Server | None = None) -> Run:
    """One load generator run; with `pair` (open loop) that server gets the same rate interleaved,
    and its results land in run.extra["pair"]."""
    cmd = [sys.executable, "-m", "bench.loadgen", server.base, "--body-file", str(_body_file(tmp, server, stream)),
           *args]
    for h in server.headers:
        cmd += ["-H", h]
    if pair is not None:
        cmd += ["--pair", pair.base, "--pair-body-file", str(_body_file(tmp, pair, stream))]
        for h in pair.headers:
            cmd += ["--pair-header", h]
    pids = server.tree()
    emu_pids = _tree(emu_proc.pid) if emu_proc else []
    log_from = server.log.stat().st_size if server.log is not None and server.log.exists() else None
    cpu0, emu0 = _cpu_s(pids), _cpu_s(emu_pids)
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    if done.returncode:
        raise RuntimeError(f"load generator failed: {done.stderr.strip()[-800:]}")
    result = json.loads(done.stdout)
    n = max(1, result["completed_all"])
    run = Run(server.name, stream, result)
    if pids:
        run.cpu_us = (_cpu_s(pids) - cpu0) / n * 1e6
    if emu_pids:
        run.emu_cpu_us = (_cpu_s(emu_pids) - emu0) / n * 1e6
    if "pair" in result:
        run.extra["pair"] = result["pair"]
    if log_from is not None and not stream:
        run.extra["inside"] = own_time_ms(server.log, log_from)
    return run


def own_time_ms(log: Path, start: int) -> dict | None:
    """The gateway's own time per answered non-stream request, measured inside it as the published
    gateway figures are: its access log's `ms` (request handed to the app -> answer written) minus
    `upstream_ms` (upstream call -> its head back), over the lines logged since byte `start`."""
    with open(log, "rb") as fh:
        fh.seek(start)
        lines = fh.read().splitlines()
    own = []
    for line in lines:
        if not line.startswith(b"{"):
            continue
        with contextlib.suppress(ValueError):
            entry = json.loads(line)
            if entry.get("status") == 200 and "upstream_ms" in entry and not entry.get("stream"):
                own.append(entry["ms"] - entry["upstream_ms"])
    if not own:
        return None
    own.sort()
    return {"n": len(own), "mean_ms": sum(own) / len(own), "p50_ms": own[len(own) // 2],
            "p99_ms": own[min(len(own) - 1, int(len(own) * 0.99))]}


def _ms(run: Run, key: str = "ttlb", q: str = "p50_ms") -> float | None:
    return run.result[key][q]


def _sub(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else a - b


def _errors(result: dict) -> str:
    parts = [f"{v} {k}" for k, v in sorted(result["errors"].items())]
    if result.get("unfinished"):
        parts.append(f"{result['unfinished']} unfinished")
    return ", ".join(parts) or "0"


# -- the section ---------------------------------------------------------------------------------
def run(opts) -> list[Table]:
    quick = getattr(opts, "quick", False)
    with_litellm = not getattr(opts, "no_litellm", False)
    notes_litellm = None
    if with_litellm:
        notes_litellm = litellm_available()
        with_litellm = notes_litellm is None
    tmp = Path(tempfile.mkdtemp(prefix="sb-gateway-bench-"))
    try:
        return _measure(tmp, quick, with_litellm, notes_litellm)
    finally:
        if not os.environ.get("SB_BENCH_KEEP"):        # set it to keep the servers' logs and configs
            shutil.rmtree(tmp, ignore_errors=True)


def _measure(tmp: Path, quick: bool, with_litellm: bool, notes_litellm: str | None) -> list[Table]:
    run_s, warm_s = (2.0, 0.5) if quick else (5.0, 1.0)
    slow_s = 15.0 if quick else 60.0
    drain_s = DRAIN_S
    paced: list[Run] = []
    busy: list[Run] = []
    flight: list[Run] = []
    closed: list[Run] = []
    slow: list[Run] = []

    def targets(emu: str, floors: bool = False, peers: bool = True):
        yield contextlib.nullcontext(direct(emu))
        if floors:
            yield floor_proxy(tmp, emu, "aiohttp")
            yield floor_proxy(tmp, emu, "upstream")
        yield switchboard(tmp, emu, 1)
        yield switchboard(tmp, emu, 2)
        if not peers:       # litellm's proxy cannot carry 400 req/s (about 55 here), so it has no in-flight row
            return
        if aiohttp_available():
            yield switchboard_aiohttp(tmp, emu)
        if with_litellm:
            yield litellm(tmp, emu, 1)

    with emulator(tmp, 0) as (emu, emu_proc):
        for ctx in targets(emu, floors=True):
            with ctx as server:
                for rate in (PACED_RATE, BUSY_RATE):
                    for stream in (False, True):
                        # at the idle rate every path but the direct one runs paired with it (see _paced_table)
                        paired = rate == PACED_RATE and server.proc is not None
                        run = load(tmp, server, stream, [
                            "--rate", str(rate), "--preopen", str(CONNECTIONS), "--duration", str(run_s),
                            "--warmup", str(warm_s), "--drain", "10"], emu_proc, 120,
                            pair=direct(emu) if paired else None)
                        run.extra["rate"] = rate
                        (paced if rate == PACED_RATE else busy).append(run)
                for stream in (False, True):
                    closed.append(load(tmp, server, stream, [
                        "--connections", str(CONNECTIONS), "--duration", str(run_s), "--warmup", str(warm_s),
                        "--timeout", "30"], emu_proc, 120))
    with emulator(tmp, FLIGHT_MS) as (emu, emu_proc):
        for ctx in targets(emu, floors=True, peers=False):
            with ctx as server:
                for stream in (False, True):
                    run = load(tmp, server, stream, [
                        "--rate", str(BUSY_RATE), "--preopen", str(2 * CONNECTIONS), "--duration", str(run_s),
                        "--warmup", str(warm_s), "--drain", "10"], emu_proc, 120)
                    run.extra["rate"] = BUSY_RATE
                    flight.append(run)
    with emulator(tmp, SLOW_MS) as (emu, emu_proc):
        for ctx in targets(emu):
            with ctx as server, memory_peak(server) as peak:
                r = load(tmp, server, False, [
                    "--rate", str(SLOW_RATE), "--duration", str(slow_s), "--warmup", "0",
                    "--drain", str(drain_s)], emu_proc, slow_s + drain_s + 60)
                r.memory = _memory_mb(server.tree()) if server.proc else None
                if server.proc:
                    r.extra.update(pss=peak["pss"], once=_judged_memory(r.memory, peak))
                slow.append(r)
    return [_paced_table(paced, PACED_RATE), _paced_table(busy, BUSY_RATE),
            _paced_table(flight, BUSY_RATE, FLIGHT_MS),
            _closed_table(closed, with_litellm, notes_litellm),
            _slow_table(slow, slow_s, notes_litellm)]


def _base(runs: list[Run], stream: bool) -> Run | None:
    return next((r for r in runs if r.server.startswith("direct") and r.stream == stream), None)


def _added(r: Run, base: Run | None, key: str = "ttlb", q: str = "p50_ms") -> float | None:
    """The path's latency minus the direct path's: the paired direct requests of the same run
    when there are, else the direct row's own run."""
    pair = r.extra.get("pair")
    if pair is not None:
        return _sub(_ms(r, key, q), pair[key][q])
    return None if base is None or r is base else _sub(_ms(r, key, q), _ms(base, key, q))


def _paced_table(runs: list[Run], rate: int, upstream_ms: int = 0) -> Table:
    in_flight = rate * upstream_ms // 1000          # Little's law
    held = f"with {in_flight} requests in flight" if upstream_ms else f"over {CONNECTIONS} connections"
    where = (f"with about {in_flight} requests in flight, upstream answers after {upstream_ms} ms" if upstream_ms else
             f"over {CONNECTIONS} open connections, upstream answers at once")
    t = Table(f"Added latency: {rate} req/s {where} (ms; added = minus the direct path)",
              ["path", "mode", "p50 ms", "p99 ms", "direct p50 ms (same run)", "added p50 ms", "added p99 ms",
               "over the floor p50 ms", "inside p50 ms", "TTFB p50 ms", "added TTFB p50 ms", "server CPU µs/req",
               "errors", "target", "met"])
    for r in runs:
        base = _base(runs, r.stream)
        floor = next((f for f in runs if f.server == "pass-through proxy floor (aiohttp)" and f.stream == r.stream),
                     None)
        added50 = _added(r, base)
        pair = r.extra.get("pair")
        over = _sub(added50, _added(floor, base)) if floor is not None and r.server.startswith("switchboard") else None
        ttfb = _ms(r, "ttfb") if r.stream else None
        added_ttfb = _added(r, base, "ttfb") if r.stream else None
        judged = r.server.startswith("switchboard") and "aiohttp" not in r.server
        ok = added50 is not None and added50 < ADDED_P50_MS
        t.add(r.server, "stream" if r.stream else "non-stream", _ms(r), _ms(r, q="p99_ms"),
              pair["ttlb"]["p50_ms"] if pair else None, added50, _added(r, base, q="p99_ms"), over,
              (r.extra.get("inside") or {}).get("p50_ms"), ttfb, added_ttfb,
              r.cpu_us if r.cpu_us is not None else r.emu_cpu_us, _errors(r.result),
              f"added p50 < {ADDED_P50_MS:g} ms" if judged else "", verdict(ok) if judged else "")
        if judged and not ok:
            t.misses.append(("gateway", f"{r.server} {'stream' if r.stream else 'non-stream'}: added p50 "
                             f"{added50:.2f} ms at {rate} req/s {held} "
                             f"(target < {ADDED_P50_MS:g} ms)"))
    t.notes += [
        "Open loop: requests due every 1/rate s whatever the answers do, taken by the oldest idle of the "
        f"{CONNECTIONS} connections; latency from the due time (so client-side lateness, about 0.3 ms at p50, "
        "is in every row and cancels in 'added').",
        "TTFB = first body byte (first SSE event for streams); p50/p99 = whole answer. Server CPU = user+system "
        "time of the server's processes per request (the direct row: the emulator's).",
        "Pass-through proxy floor (bench/floorproxy.py): uvicorn + uvloop + httptools and an aiohttp client (or "
        "the gateway's own upstream client, 'upstream'), no parsing, auth, translation, logging or metrics: what any "
        "Python gateway on this stack adds for its two extra hops on this machine. 'Over the floor' = "
        "Switchboard's added p50 minus that proxy's, the part of the added latency that is Switchboard's own work.",
        _INSIDE_NOTE,
    ]
    if upstream_ms:
        t.notes += [
            f"In flight: at {rate} req/s with every answer {upstream_ms} ms away, about {in_flight} "
            f"requests are open at any moment (Little's law), each on its own connection of the "
            f"{2 * CONNECTIONS} opened beforehand: the target's '{CONNECTIONS} concurrent connections' taken "
            "literally. The gateway holds as many upstream connections open. Not paired, as at "
            f"{BUSY_RATE} req/s above.",
        ]
    elif rate == PACED_RATE:
        t.notes += [
            f"At {rate} req/s each request runs alone and costs about twice the CPU of one among many on this "
            f"2-vCPU microVM (mostly not because the CPUs idle: keeping them busy moved the rows by 0.1 ms or "
            f"less, docs/performance.md): compare the same paths at {BUSY_RATE} req/s.",
            "Paired: at this rate each path's requests are interleaved with as many requests straight to the "
            "emulator (the same rate each, one to each in turn, on their own connections), and 'added' subtracts "
            "those of the same seconds: run to run, this machine's idle latency drifts by more than the effect "
            "(the direct path alone: 0.6 to 1.4 ms at p50). The direct row is the direct path run alone. At "
            f"{BUSY_RATE} req/s the paths run alone, as pairing would double the load on the shared CPUs.",
        ]
    return t


def _closed_table(runs: list[Run], with_litellm: bool, why_not: str | None) -> Table:
    t = Table(f"Highest sustained rate: closed loop, {CONNECTIONS} connections, upstream answers at once",
              ["path", "mode", "req/s", "p50 ms", "p99 ms", "added p50 ms", "TTFB p50 ms", "server CPU µs/req",
               "emulator CPU µs/req", "errors", "vs litellm ×", "target", "met"])
    for r in runs:
        base = _base(runs, r.stream)
        peer = next((p for p in runs if p.server.startswith("litellm") and p.stream == r.stream), None)
        rps = r.result["rps"]
        vs = None
        judged = r.server.startswith("switchboard") and "aiohttp" not in r.server and peer is not None
        if peer is not None and not r.server.startswith(("litellm", "direct")):
            vs = f"{rps / peer.result['rps']:.1f}×" if peer.result["rps"] else "∞"
        ok = judged and rps > peer.result["rps"]
        t.add(r.server, "stream" if r.stream else "non-stream", rps, _ms(r), _ms(r, q="p99_ms"),
              None if r is base else _sub(_ms(r), _ms(base)), _ms(r, "ttfb") if r.stream else None,
              r.cpu_us, r.emu_cpu_us, _errors(r.result), vs, "more req/s than litellm" if judged else "",
              verdict(ok) if judged else "")
        if judged and not ok:
            t.misses.append(("gateway", f"{r.server} {'stream' if r.stream else 'non-stream'}: "
                             f"{rps:.0f} req/s, litellm {peer.result['rps']:.0f} req/s"))
    t.notes.append("Each connection sends its next request when the previous answer is complete, so req/s is "
                   "the most this path sustains at that concurrency with the load generator and the emulator "
                   "on the same 2 CPUs (the direct row is the emulator's own ceiling).")
    if not with_litellm:
        t.notes.append(f"No litellm rows: {why_not or 'skipped (--no-litellm)'}.")
    return t


def _judged_memory(memory: tuple[float, float, float], peak: dict) -> tuple[float, str]:
    """The peak resident memory of the server, shared pages counted once: one process's VmHWM
    (exact); for several, the highest sampled resident-once figure, or where frame numbers are
    not readable the highest sampled PSS (which splits pages shared with other processes on the
    machine too, so it reads a little low)."""
    hwm_sum, _, largest = memory
    if hwm_sum == largest:
        return hwm_sum, "VmHWM"
    if peak["once"] is not None:
        return peak["once"], "pagemap"
    return peak["pss"], "PSS"


_INSIDE_NOTE = ("Inside = Switchboard's own time per non-stream request from its access log: `ms` (from the "
                "request reaching the app to the answer written) minus `upstream_ms` (the upstream call until its "
                "head is back), every request of the run; it leaves out the server's HTTP parsing and the hops "
                "that 'added' counts.")


def _inside_us(r: Run) -> float | None:
    inside = r.extra.get("inside")
    return None if inside is None else inside["mean_ms"] * 1000


def _slow_table(runs: list[Run], seconds: float, why_not: str | None) -> Table:
    t = Table(f"Published setup: {SLOW_RATE} req/s offered for {seconds:.0f} s, upstream answers after "
              f"{SLOW_MS / 1000:g} s, non-stream",
              ["path", "sent", "served req/s", "ok", "errors", "p50 ms", "p99 ms", "max ms", "mean overhead ms",
               "inside mean µs", "peak resident MB", "summed VmHWM MB", "peak PSS MB", "server CPU µs/req",
               "target", "met"])
    base = next((r for r in runs if r.server.startswith("direct")), None)
    for r in runs:
        res = r.result
        sent = res["ok"] + sum(res["errors"].values()) + res["unfinished"]
        overhead = None if r is base or base is None else _sub(res["ttlb"]["mean_ms"], base.result["ttlb"]["mean_ms"])
        mem, how = r.extra.get("once") or (None, "")
        judged = r.server.startswith("switchboard") and "aiohttp" not in r.server
        fails = []
        if judged:
            if sum(res["errors"].values()) or res["unfinished"]:
                fails.append(f"{_errors(res)} not served")
            if res["served_rps"] < SERVED_MIN_RPS:
                fails.append(f"served {res['served_rps']:.1f} req/s (≥ {SERVED_MIN_RPS:g})")
            if (res["ttlb"]["p99_ms"] or 1e9) >= SLOW_P99_MS:
                fails.append(f"p99 {res['ttlb']['p99_ms']:.0f} ms (< {SLOW_P99_MS:g})")
            if mem is None or mem >= MEMORY_MAX_MB:
                fails.append(f"peak resident {mem or 0:.0f} MB (< {MEMORY_MAX_MB:g})")
        mem_cell = None if r.memory is None else (
            f"{r.memory[0]:.0f}" + (f" ({r.memory[2]:.0f} largest)" if r.memory[0] != r.memory[2] else ""))
        t.add(r.server, sent, res["served_rps"], res["ok"], _errors(res), res["ttlb"]["p50_ms"],
              res["ttlb"]["p99_ms"], res["ttlb"]["max_ms"], overhead, _inside_us(r),
              mem if how != "PSS" else f"{mem:.0f} (PSS)",
              mem_cell, r.extra.get("pss"), r.cpu_us,
              "all served, ≥ 495 req/s, p99 < 1.6 s, < 120 MB" if judged else "",
              verdict(not fails) if judged else "")
        if fails:
            t.misses.append(("gateway", f"{r.server}, {SLOW_RATE} req/s × {seconds:.0f} s: " + "; ".join(fails)))
    for name, served, p99, mem, overhead in PUBLISHED:
        t.add(name, None, served, None, None, None, p99, None, None, overhead * 1000, mem, None, None, None, "", "")
    t.notes += [
        "Latency is measured from each request's due time (open loop, no coordinated omission); served req/s = "
        "successful answers per second between the first and the last one; mean overhead = mean latency minus "
        "the direct path's; peak resident = the memory judged: the server's resident pages with every page "
        "counted once, as a container holding only the server is charged for them (one process: its VmHWM; "
        "with 2 workers, forked from a supervisor that built the app and sharing its pages: the highest "
        "count of distinct physical pages mapped by the supervisor and the workers, from /proc/<pid>/pagemap "
        "sampled every second); summed VmHWM = each process's peak RSS added up (the largest single one in "
        "brackets), which counts a page the workers share with the supervisor once per process; peak PSS = "
        "the highest summed proportional set size (pages shared with any process on the machine split "
        "between them).",
        f"Answers still out {DRAIN_S:.0f} s after the last request was due count as unfinished. The published rows are "
        "quoted, not measured here; their mean overhead is the gateway's own, measured inside it, so it sits in "
        "the 'inside' column beside ours.",
        _INSIDE_NOTE,
    ]
    if why_not:
        t.notes.append(f"No litellm row: {why_not}.")
    return t
