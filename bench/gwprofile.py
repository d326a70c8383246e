"""Profile the running gateway under load with py-spy (sampling, from outside the process).

  python -m bench.gwprofile                       closed loop, 100 connections, non-stream
  python -m bench.gwprofile --connections 1       one request at a time (the fixed per-request cost)
  python -m bench.gwprofile --rate 500 --latency-ms 1500    the published setup (pool with ~750 connections)
  add --stream, --seconds N, --svg out.svg (a flame graph as well)

Starts the emulator and `switchboard serve` (1 worker) exactly as bench/gateway.py does, puts the
load on it with bench.loadgen, samples the gateway's worker for N seconds and prints the functions
with the largest share of the samples: own time (self) and time including callees (total).
"""
from __future__ import annotations

import argparse
import collections
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import orjson

from .gateway import BIN, ROOT, _tree, emulator, switchboard
from .payloads import TYPICAL


def summarize(raw: Path, top: int = 25) -> str:
    total, own, incl = 0, collections.Counter(), collections.Counter()
    for line in raw.read_text().splitlines():
        stack, _, n = line.rpartition(" ")
        if not n.isdigit():
            continue
        count = int(n)
        total += count
        frames = stack.split(";")
        own[frames[-1]] += count
        for frame in set(frames):
            incl[frame] += count
    if not total:
        return "no samples"
    lines = [f"{total} samples (py-spy, 200 Hz, gateway process only; idle time not sampled)", "", "self %  function"]
    lines += [f"{n / total * 100:5.1f}  {f}" for f, n in own.most_common(top)]
    lines += ["", "total %  function"]
    lines += [f"{n / total * 100:5.1f}  {f}" for f, n in incl.most_common(top + 12)]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.gwprofile", description=__doc__.splitlines()[0])
    ap.add_argument("--connections", type=int, default=100)
    ap.add_argument("--rate", type=float, default=0.0, help="open loop at this rate instead of a closed loop")
    ap.add_argument("--latency-ms", type=int, default=0, help="emulator latency")
    ap.add_argument("--stream", action="store_true")
    ap.add_argument("--seconds", type=float, default=8.0)
    ap.add_argument("--svg", help="also write a flame graph here")
    ap.add_argument("--top", type=int, default=25)
    args = ap.parse_args(argv)
    spy = BIN / "py-spy"
    if not spy.exists():
        sys.exit("py-spy is not installed here: pip install py-spy")
    with tempfile.TemporaryDirectory(prefix="sb-gwprofile-") as d:
        tmp = Path(d)
        with emulator(tmp, args.latency_ms) as (emu, _), switchboard(tmp, emu, 1) as server:
            body = {**TYPICAL, "model": server.model}
            if args.stream:
                body.update(stream=True, stream_options={"include_usage": True})
            (tmp / "body.json").write_bytes(orjson.dumps(body))
            mode = ["--rate", str(args.rate), "--drain", "5"] if args.rate else ["--connections", str(args.connections)]
            load = subprocess.Popen([sys.executable, "-m", "bench.loadgen", server.base, "--body-file",
                                     str(tmp / "body.json"), "-H", server.headers[0], *mode, "--warmup", "1",
                                     "--duration", str(args.seconds + 3)], cwd=ROOT, stdout=subprocess.PIPE)
            try:
                time.sleep(2)
                pid = _tree(server.proc.pid)[-1]          # the uvicorn process itself (not the CLI wrapper)
                raw = tmp / "profile.txt"
                subprocess.run([str(spy), "record", "--pid", str(pid), "--duration", str(int(args.seconds)),
                                "--rate", "200", "--format", "raw", "-o", str(raw), "--nonblocking"],
                               check=True, capture_output=True)
                if args.svg:
                    subprocess.run([str(spy), "record", "--pid", str(pid), "--duration", "3", "-o", args.svg,
                                    "--nonblocking"], check=True, capture_output=True)
            finally:
                out, _ = load.communicate(timeout=args.seconds + 60)
            result = orjson.loads(out) if out else {}
            rps = result.get("rps") or result.get("served_rps") or 0
            print(f"load: {'rate ' + str(args.rate) if args.rate else str(args.connections) + ' connections'}, "
                  f"{'stream' if args.stream else 'non-stream'}, emulator latency {args.latency_ms} ms: "
                  f"{rps:.0f} req/s, p50 {result.get('ttlb', {}).get('p50_ms') or 0:.1f} ms\n")
            print(summarize(raw, args.top))
    return 0


if __name__ == "__main__":
    sys.exit(main())
