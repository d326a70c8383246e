"""Object and list templates as generated functions (the forms compiler's data shapes).

Design decisions:
- An object template is one function that builds its dict field by field: a field sure to
  give a value is assigned, the others only when they are not MISSING.
- Reads of the current value's keys go through one hoisted `get`; a key several fields read
  (`function.name`, `function.arguments`) is read once into a local (`hoist_reads`).
- A template with many plain `from: key` fields reads them in one pass over the value's own
  keys (`_scan`): requests have a handful of keys, OpenAI's parameter list dozens.
- A template whose every field is sure is a dict or list display written where it is used
  (`display_of`), one Python call less per object, unless its source is long.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

from .codegen import Module, comment

_SCAN_MIN = 8  # plain-key fields from which an object reads its value's keys in one pass


@dataclass(frozen=True)
class Code:
    """A Python expression over the locals `cur` and `env`; `sure`: it never gives MISSING;
    `key`: it is `from: <key>` alone (an object template reads those with one hoisted get);
    `raw`: an expression giving None exactly where this one gives MISSING (what functions
    and conditions are handed, without converting None to MISSING and back)."""
    expr: str
    sure: bool = False
    key: str | None = None
    raw: str | None = None


def object_function(module: Module, fields: list[tuple[str, Code]], where: str) -> str:
    """A generated function `(cur, env) -> dict` building an object template's fields."""
    name = module.name("object")
    lines = [f"def {name}(cur, env):{comment(where)}"]
    if all(code.sure for _, code in fields):
        items = ", ".join(f"{key!r}: {code.expr}" for key, code in fields)
        module.add(lines + [f"    return {{{items}}}"])
        return name
    lines.append("    out = {}")
    # a field whose value is "absent when None" is written from its raw expression, tested
    # against None once (no MISSING round trip)
    by_raw = [code.raw is not None and not code.sure and not code.key for _, code in fields]
    exprs, hoisted = hoist_reads([code.raw if raw else code.expr for (_, code), raw in zip(fields, by_raw)],
                                 module.temp)
    fields = [(key, Code(expr, code.sure, code.key, expr if raw else None))
              for (key, code), expr, raw in zip(fields, exprs, by_raw)]
    if hoisted is not None or any(code.key for _, code in fields):
        lines.append("    get = cur.get if isinstance(cur, dict) else _no_get")
    lines += hoisted or []
    scan = _scan(module, fields)
    for key, code in fields:
        if code.key and scan is not None:
            lines += scan
            scan = []
        elif code.key:
            lines += [f"    value = get({code.key!r})", "    if value is not None:",
                      f"        out[{key!r}] = value"]
        elif code.sure:
            lines.append(f"    out[{key!r}] = {code.expr}")
        else:
            absent = "None" if code.raw is not None else "MISSING"
            lines += [f"    value = {code.expr}", f"    if value is not {absent}:",
                      f"        out[{key!r}] = value"]
    module.add(lines + ["    return out"])
    return name

def _scan(module: Module, fields: list[tuple[str, Code]]) -> list[str] | None:
    """Many plain `from: key` fields (OpenAI's own parameters, passed on or renamed) are
    read by one pass over the keys the value has instead of a `get` per field: a request
    has a handful of keys, the template dozens. None when one-by-one is as cheap."""
    renames = {code.key: key for key, code in fields if code.key}
    if len(renames) < _SCAN_MIN or len(renames) != sum(1 for _, code in fields if code.key):
        return None
    table = module.const(renames, "renames")
    return ["    if get is not _no_get:", "        for _k, _v in cur.items():",
            f"            if _v is not None and (_k := {table}.get(_k)) is not None:",
            "                out[_k] = _v"]

def list_function(module: Module, items: list[Code], where: str) -> str:
    """A generated function `(cur, env) -> list` of a list template's items that give a value."""
    name = module.name("list")
    lines = [f"def {name}(cur, env):{comment(where)}"]
    if all(code.sure for code in items):
        module.add(lines + [f"    return [{', '.join(code.expr for code in items)}]"])
        return name
    lines.append("    out = []")
    for code in items:
        if code.sure:
            lines.append(f"    out.append({code.expr})")
        elif code.raw is not None and not code.key:
            lines += [f"    value = {code.raw}", "    if value is not None:", "        out.append(value)"]
        else:
            lines += [f"    value = {code.expr}", "    if value is not MISSING:",
                      "        out.append(value)"]
    module.add(lines + ["    return out"])
    return name


# exprgen's read of one key of the current value (the key written by repr, single-quoted)
_CUR_READ = re.compile(r"\(cur\.get\(('(?:[^'\\]|\\.)*')\) if isinstance\(cur, dict\) else None\)")
DISPLAY_MAX = 400  # longer displays stay functions of their own: readable source, shallow nesting


def display_of(opening: str, items: list[str], closing: str) -> str | None:
    """A dict or list display to write where it is used (one Python call less per object
    built), unless its source is long."""
    text = f"{opening}{', '.join(items)}{closing}"
    return text if len(text) <= DISPLAY_MAX else None


def hoist_reads(exprs: list[str], temp: Callable[[], str]) -> tuple[list[str], list[str] | None]:
    """Rewrites the field expressions of one object function so that reads of the current
    value's keys go through the function's hoisted `get`, and a key read by several fields
    (`function.name`, `function.arguments`) is read once into a local; returns the new
    expressions and the lines that bind those locals (None: no read to rewrite, so no `get`
    needed). Sound because no field expression rebinds `cur` (shapes that do are functions
    of their own) and reading a dict has no effects."""
    counts: dict[str, int] = {}
    for expr in exprs:
        for key in _CUR_READ.findall(expr) if "cur.get(" in expr else ():
            counts[key] = counts.get(key, 0) + 1
    if not counts:
        return exprs, None
    names = {key: temp() for key, n in counts.items() if n > 1}

    def read(match: re.Match) -> str:
        return names.get(match.group(1)) or f"get({match.group(1)})"
    return [_CUR_READ.sub(read, expr) for expr in exprs], [f"    {names[key]} = get({key})" for key in names]
