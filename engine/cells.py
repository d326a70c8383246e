"""A cell of the support matrix, what it says about a value, and model-id globs.

A cell is `supported`, `provider_only` or `unsupported`, optionally with value limits
(`values`, `min`/`max`, `clamp`) and a `note` that becomes a compatibility report. The
check (capabilities.py) passes most parameters by set and bounds lookups these helpers
precompute per resolved row, and asks `out_of_range` only about the rest.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from fnmatch import translate
from typing import Any


@dataclass(frozen=True)
class Cell:
    state: str
    min: float | None = None
    max: float | None = None
    values: tuple | None = None
    clamp: bool = False
    note: str | None = None

    @staticmethod
    def of(raw: Any) -> "Cell":
        if isinstance(raw, str):
            return Cell(raw)
        values = tuple(raw["values"]) if "values" in raw else None
        return Cell(raw["state"], raw.get("min"), raw.get("max"), values,
                    raw.get("clamp", False), raw.get("note"))


def plain_keys(cells: dict[str, Cell]) -> frozenset[str]:
    """Parameters accepted as sent: supported, with no value limits to check."""
    return frozenset(key for key, cell in cells.items() if cell.state == "supported"
                     and cell.values is None and cell.min is None and cell.max is None)


NUMBERS = (int, float)  # exact classes: a bool is never a number here


def bounds_of(cells: dict[str, Cell], skip: frozenset[str]) -> dict[str, tuple[float, float]]:
    """Supported cells whose only limits are bounds, as (min, max) with open ends infinite."""
    inf = float("inf")
    return {key: (-inf if cell.min is None else cell.min, inf if cell.max is None else cell.max)
            for key, cell in cells.items() if cell.state == "supported" and cell.values is None
            and (cell.min is not None or cell.max is not None) and key not in skip}


def shown(value: Any) -> str:
    """A client's value in a message as it sent it: strings quoted ('high'), anything else as
    the JSON it came as (2, false, null, {...}; not Python's True or None), cut short."""
    if isinstance(value, str):
        return f"'{value}'"
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)
    return text if len(text) <= 80 else text[:77] + "..."


def out_of_range(cell: Cell, value: Any) -> str | None:
    if cell.values is not None:
        # A mapping value is known by its `type` (tool_choice {type: function, ...} -> function).
        key = value.get("type") if isinstance(value, dict) else value
        if isinstance(key, (str, int, float)) and key not in cell.values:
            given = shown(value) if not isinstance(value, dict) else f"a {shown(key)} object"
            return f"must be one of {', '.join(map(str, cell.values))}, not {given}"
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if cell.min is not None and value < cell.min:
            return f"must be >= {cell.min}"
        if cell.max is not None and value > cell.max:
            return f"must be <= {cell.max}"
    return None


class Globs:
    """Model-id glob patterns (`gpt-5*`, `o[134]*`) as one regex, compiled on first use: a
    process consults few of the matrix's rules, and compiling every pattern at load was
    about a tenth of engine.load()."""
    __slots__ = ("patterns", "_regex")

    def __init__(self, patterns: Any):
        self.patterns: tuple[str, ...] = tuple(patterns or ())
        self._regex: re.Pattern | None = None

    def __bool__(self) -> bool:
        return bool(self.patterns)

    def match(self, model: str) -> bool:
        regex = self._regex
        if regex is None:  # a race compiles it twice, harmlessly
            regex = self._regex = re.compile("|".join(f"(?:{translate(p)})" for p in self.patterns))
        return regex.match(model) is not None
