"""Timing and table helpers shared by every bench section.

`measure_together` is timeit's autorange (each sample runs at least 0.2 s), repeated, for
the implementations compared in one row group, their samples interleaved; it reports the
best and the median microseconds per call. Ratios elsewhere use the best sample: it is the
least disturbed by the other processes on a shared 2-core machine.
"""
from __future__ import annotations

import statistics
import timeit
from dataclasses import dataclass, field
from typing import Any, Callable


@dataclass(frozen=True)
class Timing:
    best_us: float
    median_us: float
    loops: int


def measure_together(fns: list[Callable[[], Any]], repeat: int = 5) -> list[Timing]:
    """`measure` for several callables, their samples interleaved (a, b, c, a, b, c, ...): a burst
    of load from elsewhere on a shared machine lands on one sample of each instead of on every
    sample of one, so the ratios of their best samples stay comparable."""
    timers, numbers = [], []
    for fn in fns:
        fn()                                        # warm lazy caches before timing
        timer = timeit.Timer(fn)
        numbers.append(timer.autorange()[0])
        timers.append(timer)
    samples: list[list[float]] = [[] for _ in fns]
    for _ in range(repeat):
        for timer, number, out in zip(timers, numbers, samples):
            out.append(timer.timeit(number) / number * 1e6)
    return [Timing(min(s), statistics.median(s), n) for s, n in zip(samples, numbers)]


@dataclass
class Table:
    title: str
    headers: list[str]
    rows: list[list[Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    misses: list[tuple[str, str]] = field(default_factory=list)   # (profile key, text) per missed target

    def add(self, *cells: Any) -> None:
        self.rows.append(list(cells))

    def markdown(self) -> str:
        right = [i for i, h in enumerate(self.headers) if h.endswith(("µs", "/s", "×", "ms", "MB"))]
        rule = ["---:" if i in right else "---" for i in range(len(self.headers))]
        lines = [f"### {self.title}", "", _row(self.headers), _row(rule)]
        lines += [_row([_cell(c) for c in r]) for r in self.rows]
        if self.notes:
            lines += [""] + [f"* {n}" for n in self.notes]
        return "\n".join(lines)


def _row(cells: list[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        if value >= 1000:
            return f"{value:,.0f}"
        return f"{value:.2f}" if value < 10 else f"{value:.1f}"
    return str(value)


def ratio(value: float) -> str:
    return f"{value:.1f}×" if value < 100 else f"{value:,.0f}×"


def verdict(ok: bool) -> str:
    return "yes" if ok else "**no**"
