"""Jinja2 templates for strings (URLs, header values), sandboxed and compiled once.

Design decisions:
- Templates make strings only; structures are built by forms. Rendering JSON text and
  parsing it back on every request is slow and fragile, so there is no such path.
- `ImmutableSandboxedEnvironment`: a spec cannot reach Python objects or mutate data.
- A template that only substitutes variables (`{{ base_url }}/v1/{{ model }}`) is
  compiled to `str.format` instead, which is ~20x cheaper per call.
"""
from __future__ import annotations

import re
from typing import Any, Callable

from .errors import SpecError, TransformError

# `{{ name }}` or `{{ name | filter | filter }}` with filters that are named functions.
_SIMPLE = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)((?:\s*\|\s*[A-Za-z_][A-Za-z0-9_]*)*)\s*\}\}")


class Jinja:
    """The sandboxed environment, built on first use (most templates never need it)."""

    def __init__(self, filters: dict[str, Callable]):
        self.filters = filters
        self._env: Any = None

    def get(self) -> Any:
        if self._env is None:
            from jinja2 import StrictUndefined
            from jinja2.sandbox import ImmutableSandboxedEnvironment
            self._env = ImmutableSandboxedEnvironment(undefined=StrictUndefined, autoescape=False)
            self._env.filters.update(self.filters)
        return self._env


def make_environment(filters: dict[str, Callable]) -> Jinja:
    return Jinja(filters)


def _fast(text: str, filters: dict[str, Callable]) -> Callable[[Any, dict], Any] | None:
    """Substitutions with known filters only: compiled to string joins, no Jinja at all."""
    if "{{" in _SIMPLE.sub("", text) or "{%" in text or "{#" in text:
        return None
    parts: list = []
    last = 0
    for match in _SIMPLE.finditer(text):
        names = [f.strip() for f in match.group(2).split("|")[1:]]
        if any(n not in filters for n in names):
            return None
        parts += [text[last:match.start()], (match.group(1), tuple(filters[n] for n in names))]
        last = match.end()
    parts.append(text[last:])

    def render(cur: Any, env: dict) -> str:
        out = []
        for part in parts:
            if isinstance(part, str):
                out.append(part)
                continue
            value = env.get(part[0])
            if value is None:
                raise TransformError(f"template variable {part[0]!r} is not set")
            for fn in part[1]:
                value = fn(value)
            out.append(str(value))
        return "".join(out)
    return render


def compile_template(jinja: Jinja, text: str, file: str, where: str) -> Callable[[Any, dict], Any]:
    """Compile `text` to `fn(current, env) -> str`; variables are the env bindings."""
    if not isinstance(text, str):
        raise SpecError(f"a template must be a string, got {text!r}", file=file, where=where)
    fast = _fast(text, jinja.filters)
    if fast is not None:
        return fast
    from jinja2 import TemplateError
    try:
        template = jinja.get().from_string(text)
    except TemplateError as exc:
        raise SpecError(f"template does not compile: {exc}", file=file, where=where) from None

    def render_jinja(cur: Any, env: dict) -> str:
        try:
            return template.render(env)
        except TemplateError as exc:
            raise TransformError(f"template failed: {exc}") from None
    return render_jinja
