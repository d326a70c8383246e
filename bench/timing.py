"""Timing and table helpers shared by every bench section.

`measure` is timeit's autorange (each sample runs at least 0.2 s), repeated; it reports
the best and the median microseconds per call. Ratios elsewhere use the best sample:
it is the least disturbed by the other process on a 2-core machine.
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


def measure(fn: Callable[[], Any], repeat: int = 5) -> Timing:
    fn()                                            # warm lazy caches before timing
    timer = timeit.Timer(fn)
    number, _ = timer.autorange()
    samples = [t / number * 1e6 for t in timer.repeat(repeat=repeat, number=number)]
    return Timing(min(samples), statistics.median(samples), number)


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
