"""Run the benchmark sections and print one set of markdown tables: `python -m bench [options]`.

A section is a module `bench/<name>.py` with `TITLE` and `run(opts) -> list[Table]`; sections
listed in SECTIONS but absent (e.g. `gateway` before it exists) are skipped.
"""
from __future__ import annotations

import argparse
import importlib
import importlib.util
import os
import platform
import sys
import time
from importlib.metadata import PackageNotFoundError, version

SECTIONS = ("translation", "coldstart", "gateway")


def _versions() -> str:
    found = []
    for name in ("switchboard-gateway", "orjson", "litellm"):
        try:
            found.append(f"{name} {version(name)}")
        except PackageNotFoundError:
            pass
    return ", ".join(found)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    ap.add_argument("--only", default="", help=f"comma-separated sections from {', '.join(SECTIONS)}")
    ap.add_argument("--dialects", default="", help="comma-separated dialects (translation section)")
    ap.add_argument("--quick", action="store_true", help="3 samples instead of 5; gateway: 2 s runs, 15 s at 500 req/s (noisier)")
    ap.add_argument("--no-litellm", action="store_true", help="skip the litellm rows")
    ap.add_argument("--profile", action="store_true", help="profile every missed target (pyinstrument)")
    opts = ap.parse_args(argv)
    opts.dialects = [d for d in opts.dialects.split(",") if d]
    wanted = [s for s in opts.only.split(",") if s] or list(SECTIONS)
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

    started = time.perf_counter()
    print(f"Python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} CPUs; {_versions()}\n")
    misses: list[tuple[str, str]] = []
    for name in SECTIONS:
        if name not in wanted or importlib.util.find_spec(f"bench.{name}") is None:
            continue
        section = importlib.import_module(f"bench.{name}")
        try:
            tables = section.run(opts)
        except Exception as exc:                         # noqa: BLE001 - report and go on to the next section
            print(f"### {section.TITLE}: FAILED\n\n{type(exc).__name__}: {exc}\n", flush=True)
            misses.append((name, f"{name}: the section failed ({type(exc).__name__})"))
            continue
        for table in tables:
            print(table.markdown(), end="\n\n", flush=True)
            misses += table.misses
    print(f"Targets missed: {len(misses)}" + "".join(f"\n- {text}" for _, text in misses))
    print(f"\n(bench run took {time.perf_counter() - started:.0f} s)")
    if opts.profile and misses:
        from .profile import profile_misses
        profile_misses([key for key, _ in misses if key not in SECTIONS or key == "coldstart"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
