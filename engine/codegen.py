"""Generated Python: one module of plain functions per compiled spec.

Design decisions:
- Spec nodes used to compile to a tree of closures, one Python call per node per request,
  and those calls were most of the translation time. The compilers (forms.py, exprgen.py)
  now write Python source instead: an object template becomes one function that builds
  its dict with inline `dict.get`s, a gated field one conditional expression. The source is
  generated from already-validated spec data only (names from a counter, values through
  `repr` or the constants table), never from request data.
- A module is compiled and executed on first call (`Entry`), once, under a lock: loading
  a spec checks it and generates its source, and a dialect nobody calls never pays for
  Python's compiler (~8 ms per spec; all of them would double `engine.load()`). Once it is
  loaded, `direct()` gives the plain function, so hot paths skip the Entry's extra call.
- The generated source is registered with `linecache`, so a traceback through it shows
  the generated line; `Module.source()` prints it whole. Spec data reaches the source only
  through `repr` (strings, numbers) or as named constants, and comments through `comment()`.
"""
from __future__ import annotations

import linecache
import math
import threading
from typing import Any, Callable

_SCALARS = (str, int, bool, type(None))


class Module:
    """Generated functions and the constants they use, in one namespace."""

    def __init__(self, label: str, scope: dict[str, Any]):
        self.label = label
        self.scope: dict[str, Any] = dict(scope)
        self._lines: list[str] = []
        self._pending: list[str] = []
        self._count = 0
        self._lock = threading.Lock()
        self._entries: list[Entry] = []

    def name(self, prefix: str) -> str:
        self._count += 1
        return f"_{prefix}{self._count}"

    def temp(self) -> str:
        return self.name("t")

    def const(self, value: Any, prefix: str = "k") -> str:
        """A name for `value` in the module's namespace (functions, tables, closures)."""
        name = self.name(prefix)
        self.scope[name] = value
        return name

    def literal(self, value: Any) -> str:
        """Python source for a constant: `repr` for plain scalars, a named constant otherwise
        (so containers are the same shared object on every call, as YAML gave them)."""
        if isinstance(value, _SCALARS) or (isinstance(value, float) and math.isfinite(value)):
            return repr(value)
        return self.const(value)

    def add(self, lines: list[str]) -> None:
        self._pending.extend(lines)

    def entry(self, expr: str) -> "Entry":
        """A callable `(cur, env) -> value` that evaluates `expr`."""
        name = self.name("entry")
        self.add([f"def {name}(cur, env):", f"    return {expr}"])
        return self.entry_of(name)

    def entry_of(self, name: str) -> "Entry":
        """A callable for the generated function `name`, which takes `(cur, env)`."""
        entry = Entry(self, name)
        self._entries.append(entry)
        return entry

    def load(self) -> None:
        with self._lock:
            if not self._pending:
                return
            start = len(self._lines)
            self._lines.extend(self._pending)
            self._pending = []
            filename = f"<generated {self.label} #{start}>"
            text = "\n".join(self._lines[start:]) + "\n"
            linecache.cache[filename] = (len(text), None, text.splitlines(True), filename)
            exec(compile(text, filename, "exec"), self.scope)
            for entry in self._entries:
                entry.fn = self.scope[entry.name]

    def source(self) -> str:
        return "\n".join(self._lines + self._pending) + "\n"


class Entry:
    """A generated function, compiled with the rest of its module on its first call."""
    __slots__ = ("module", "name", "fn")

    def __init__(self, module: Module, name: str):
        self.module, self.name = module, name
        self.fn: Callable[[Any, Any], Any] = self._first

    def _first(self, cur: Any, env: Any) -> Any:
        self.module.load()
        return self.fn(cur, env)

    def __call__(self, cur: Any, env: Any) -> Any:
        return self.fn(cur, env)


def direct(fn: Any) -> Any:
    """The generated function behind a loaded Entry (anything else as it is)."""
    if isinstance(fn, Entry) and fn.fn != fn._first:
        return fn.fn
    return fn


def comment(text: str) -> str:
    """A `# ...` comment naming where a function comes from in its spec. Spec keys are data:
    escaped to one line of ASCII, so no key can end the comment and become code."""
    return "  # " + text.encode("unicode_escape").decode("ascii")


def indent(lines: list[str], depth: int = 4) -> list[str]:
    pad = " " * depth
    return [pad + line for line in lines]

