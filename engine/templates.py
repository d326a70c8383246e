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

from jinja2 import StrictUndefined, TemplateError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from .errors import SpecError, TransformError

_SIMPLE = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")


def make_environment(filters: dict[str, Callable]) -> ImmutableSandboxedEnvironment:
    env = ImmutableSandboxedEnvironment(undefined=StrictUndefined, autoescape=False)
    env.filters.update(filters)
    return env


def compile_template(jinja: ImmutableSandboxedEnvironment, text: str, file: str,
                     where: str) -> Callable[[Any, dict], Any]:
    """Compile `text` to `fn(current, env) -> str`; variables are the env bindings."""
    if not isinstance(text, str):
        raise SpecError(f"a template must be a string, got {text!r}", file=file, where=where)
    stripped = _SIMPLE.sub("", text)
    if "{{" not in stripped and "{%" not in stripped and "{#" not in stripped:
        pieces = _SIMPLE.split(text)  # literal, name, literal, name, ..., literal

        def fast(cur: Any, env: dict) -> str:
            out = list(pieces)
            for i in range(1, len(out), 2):
                value = env.get(out[i])
                if value is None:
                    raise TransformError(f"template variable {out[i]!r} is not set")
                out[i] = str(value)
            return "".join(out)
        return fast
    try:
        template = jinja.from_string(text)
    except TemplateError as exc:
        raise SpecError(f"template does not compile: {exc}", file=file, where=where) from None

    def render(cur: Any, env: dict) -> str:
        try:
            return template.render(env)
        except TemplateError as exc:
            raise TransformError(f"template failed: {exc}") from None
    return render
