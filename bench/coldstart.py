"""Part 2: cold start and resident memory, each measured in fresh interpreters.

Start-up: wall time of `python -c "<stmt>"` (best of N, after one discarded warm-up run so .pyc
files exist) minus the wall time of `python -c pass`. Memory: VmRSS / VmHWM from
/proc/self/status at the end of the same kind of subprocess.
"""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from .timing import Table, verdict

TITLE = "Cold start and memory"
ROOT = Path(__file__).resolve().parent.parent
TARGET_MS = 150.0
ENV = {**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True"}
STARTS = {
    "bare interpreter (`pass`)": "pass",
    "`import engine`": "import engine",
    "`import engine; engine.load()` (all specs)": "import engine; engine.load()",
    "`import litellm`": "import litellm",
}
_RSS = ("import re; s = open('/proc/self/status').read(); "
        "print(*(int(re.search(k + r':\\s+(\\d+)', s).group(1)) for k in ('VmRSS', 'VmHWM')))")
WARM = ("import engine; from bench.payloads import build; sb = engine.load(); "
        "[(sb.translate_request(p.provider, p.request), sb.translate_response(p.provider, p.response_bytes), "
        "(lambda st: st.feed(p.stream_bytes) + st.close())(sb.stream(p.provider, p.stream_request))) "
        "for p in build(sb).values()]")
MEMORY = {
    "bare interpreter": "pass",
    "engine loaded (all specs)": "import engine; sb = engine.load()",
    "engine loaded + one request, response and stream per dialect": WARM,
    "`import litellm`": "import litellm",
}


def _wall(stmt: str) -> float:
    t = time.perf_counter()
    subprocess.run([sys.executable, "-c", stmt], cwd=ROOT, env=ENV, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t


def best_wall_ms(stmt: str, runs: int) -> float:
    _wall(stmt)
    return min(_wall(stmt) for _ in range(runs)) * 1e3


def split_ms(runs: int) -> tuple[float, float]:
    """In-process perf_counter split of the same work: (import engine, engine.load()), best of runs."""
    code = ("import time; t0 = time.perf_counter(); import engine; t1 = time.perf_counter(); engine.load(); "
            "print(t1 - t0, time.perf_counter() - t1)")
    got = [tuple(float(x) * 1e3 for x in subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=ENV, check=True, capture_output=True, text=True
    ).stdout.split()) for _ in range(runs)]
    return min(g[0] for g in got), min(g[1] for g in got)


def memory_mb(stmt: str) -> tuple[float, float]:
    out = subprocess.run([sys.executable, "-c", f"{stmt}\n{_RSS}"], cwd=ROOT, env=ENV, check=True,
                         capture_output=True, text=True).stdout.split()
    return int(out[-2]) / 1024, int(out[-1]) / 1024


def run(opts) -> list[Table]:
    runs = 3 if opts.quick else 5
    starts = {k: v for k, v in STARTS.items() if not (opts.no_litellm and "litellm" in v)}
    walls = {label: best_wall_ms(stmt, runs) for label, stmt in starts.items()}
    bare = walls.pop("bare interpreter (`pass`)")
    start = Table(f"Cold start (fresh interpreter, best of {runs}, minus a bare interpreter's {bare:.0f} ms)",
                  ["what", "ms", "target", "met"])
    for label, ms in walls.items():
        net = ms - bare
        if label.startswith("`import engine; engine.load()`"):
            ok = net < TARGET_MS
            start.add(label, net, f"< {TARGET_MS:g} ms", verdict(ok))
            if not ok:
                start.misses.append(("coldstart", f"cold start: import engine + load() takes {net:.0f} ms "
                                    f"(target < {TARGET_MS:g} ms)"))
        else:
            start.add(label, net, None, None)
    imp, load = split_ms(runs)
    start.add("in-process split: `import engine`", imp, None, None)
    start.add("in-process split: `engine.load()`", load, None, None)
    start.notes.append("Wall rows include interpreter teardown; the in-process rows time only the statement "
                       "(perf_counter inside the child).")
    memory = Table("Resident memory (fresh interpreter, /proc/self/status)",
                   ["process", "VmRSS MB", "VmHWM MB", "over bare MB"])
    base = None
    for label, stmt in MEMORY.items():
        if opts.no_litellm and "litellm" in stmt:
            continue
        rss, hwm = memory_mb(stmt)
        base = rss if base is None else base
        memory.add(label, rss, hwm, rss - base)
    memory.notes.append("VmHWM is the peak resident set; 'over bare' is VmRSS minus the bare interpreter's.")
    return [start, memory]
