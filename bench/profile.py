"""Profiles for missed targets: where the engine spends its time.

  python -m bench.profile request anthropic,bedrock     cProfile of ours, top functions
  python -m bench.profile coldstart                     -X importtime + cProfile of engine.load()
  add --pyinstrument for pyinstrument's call tree instead of cProfile's flat list
`python -m bench --profile` runs these for every target the run missed.
"""
from __future__ import annotations

import cProfile
import io
import pstats
import subprocess
import sys
import time

TOP = 15


def _cprofile(fn, seconds: float = 1.0) -> str:
    fn()
    prof, end, calls = cProfile.Profile(), time.perf_counter() + seconds, 0
    prof.enable()
    while time.perf_counter() < end:
        fn()
        calls += 1
    prof.disable()
    out = io.StringIO()
    stats = pstats.Stats(prof, stream=out)
    out.write(f"{calls} calls profiled (times are inflated by cProfile; compare shares, not µs)\n")
    stats.sort_stats("tottime").print_stats(TOP)
    stats.sort_stats("cumtime").print_stats(TOP)
    return "\n".join(line for line in out.getvalue().splitlines() if line.strip())


def _pyinstrument(fn, seconds: float = 1.0) -> str:
    from pyinstrument import Profiler
    fn()
    end = time.perf_counter() + seconds
    with Profiler(interval=0.0001) as prof:
        while time.perf_counter() < end:
            fn()
    return prof.output_text(unicode=True, color=False)


def translation(op: str, providers: list[str], tree: bool = False) -> str:
    import engine
    from .payloads import build
    from .translation import ours
    sb = engine.load()
    payloads = build(sb)
    fns = [ours(sb, payloads[p], op) for p in providers]

    def all_of_them():
        for fn in fns:
            fn()
    return (_pyinstrument if tree else _cprofile)(all_of_them)


def coldstart(tree: bool = False) -> str:
    imports = subprocess.run([sys.executable, "-X", "importtime", "-c", "import engine"],
                             capture_output=True, text=True, check=True).stderr.splitlines()
    rows = []
    for line in imports:
        parts = line.split("|")
        if len(parts) == 3 and parts[1].strip().isdigit():
            rows.append((int(parts[1]), parts[2].rstrip()))
    text = ["import engine, top cumulative import times (µs, -X importtime):"]
    text += [f"  {us:>8,} {name}" for us, name in sorted(rows, reverse=True)[:TOP]]
    import engine
    text.append("engine.load():")
    text.append((_pyinstrument if tree else _cprofile)(engine.load, seconds=2.0))
    return "\n".join(text)


def profile_misses(keys: list[str], tree: bool = False) -> None:
    by_op: dict[str, list[str]] = {}
    for key in dict.fromkeys(keys):
        if key == "coldstart":
            print("\n## profile: cold start\n")
            print(coldstart(tree))
            continue
        op, provider = key.split(":")
        by_op.setdefault(op, []).append(provider)
    for op, providers in by_op.items():
        print(f"\n## profile: ours, {op}, {', '.join(providers)} (one call each, repeated for 1 s)\n")
        print(translation(op, providers, tree))


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if a != "--pyinstrument"]
    tree = len(args) != len(sys.argv) - 1
    if not args or args[0] not in ("request", "response", "stream", "coldstart"):
        sys.exit(__doc__)
    if args[0] == "coldstart":
        profile_misses(["coldstart"], tree)
    else:
        from .payloads import DIALECTS
        profile_misses([f"{args[0]}:{p}" for p in (args[1].split(",") if len(args) > 1 else DIALECTS)], tree)
