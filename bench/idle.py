"""Is the added latency at a low rate the CPUs' idle state? `python -m bench.idle`

Runs the pass-through floor proxy and Switchboard (1 worker) at 50 req/s, paired with the direct
path as the gateway section does, with and without two `nice -n 19` spinners that keep both CPUs
out of idle (the servers preempt them). If waking from idle were the cost, the spinners would
remove it. Prints one line per run; docs/performance.md quotes a run.
"""
from __future__ import annotations

import argparse
import contextlib
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Iterator

from . import gateway as g


@contextlib.contextmanager
def spinners(on: bool) -> Iterator[None]:
    procs = [subprocess.Popen(["nice", "-n", "19", sys.executable, "-c", "while True: pass"])
             for _ in range(2)] if on else []
    try:
        yield
    finally:
        for proc in procs:
            proc.kill()
            proc.wait()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rate", type=float, default=50.0)
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--repeat", type=int, default=2)
    opts = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="sb-idle-"))
    with g.emulator(tmp, 0) as (emu, emu_proc):
        for ctx in (g.floor_proxy(tmp, emu, "aiohttp"), g.switchboard(tmp, emu, 1)):
            with ctx as server:
                for _ in range(opts.repeat):
                    for on in (False, True):
                        for stream in (False, True):
                            with spinners(on):
                                run = g.load(tmp, server, stream, [
                                    "--rate", str(opts.rate), "--preopen", str(g.CONNECTIONS), "--duration",
                                    str(opts.seconds), "--warmup", "1", "--drain", "10"], emu_proc, 120,
                                    pair=g.direct(emu))
                            own, direct = run.result["ttlb"]["p50_ms"], run.extra["pair"]["ttlb"]["p50_ms"]
                            print(f"{server.name:40s} {'stream' if stream else 'non-stream':10s} "
                                  f"spinners={'on ' if on else 'off'} p50 {own:.2f} direct {direct:.2f} "
                                  f"added {own - direct:.2f} ms", flush=True)


if __name__ == "__main__":
    main()
