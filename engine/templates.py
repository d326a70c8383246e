"""Jinja2 templates for strings (URLs, header values), sandboxed and compiled once.

Design decisions:
- Templates make strings only; structures are built by forms. Rendering JSON text and
  parsing it back on every request is slow and fragile, so there is no such path.
- `ImmutableSandboxedEnvironment`: a spec cannot reach Python objects or mutate data.
- A template that only substitutes bindings, through named functions or Jinja's
  `default`/`replace`/`lower`/`upper` with literal or binding arguments
  (`{{ base_url | replace('a', 'b') }}/v1/{{ deployment | default(model) | quote_all }}`),
  is compiled to string joins instead: ~20x cheaper per call, and Jinja (with its import
  and per-template compile, ~1 ms each) is never loaded for it.
"""
from __future__ import annotations

import re
from typing import Any, Callable

from .errors import SpecError, TransformError

# `{{ name.path | filter | filter('literal', name) }}`: substitutions that need no Jinja.
_SUBST = re.compile(r"\{\{\s*(.*?)\s*\}\}")
_NAME = r"[A-Za-z_][A-Za-z0-9_]*"
_PATH = re.compile(rf"^{_NAME}(?:\.{_NAME})*$")
_FILTER = re.compile(rf"^({_NAME})\s*(?:\((.*)\))?$")
_ARG = re.compile(rf"""^(?:'([^'\\]*)'|"([^"\\]*)"|(-?[0-9]+)|({_NAME}(?:\.{_NAME})*))$""")
_UNSET: Any = object()
# Jinja's own filters the fast path knows, with Jinja's meaning (on a set value).
_BUILTIN: dict[str, Callable] = {"replace": lambda s, old, new: str(s).replace(old, new),
                                 "lower": lambda s: str(s).lower(), "upper": lambda s: str(s).upper()}


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


def _lookup(path: tuple[str, ...], env: dict) -> Any:
    """A binding and its keys, as Jinja reads them from dicts; unset (or null) is _UNSET."""
    value = env.get(path[0])
    for key in path[1:]:
        value = value.get(key) if isinstance(value, dict) else None
    return _UNSET if value is None else value


def _arg(text: str) -> Callable[[dict], Any] | None:
    match = _ARG.match(text.strip())
    if match is None:
        return None
    single, double, number, name = match.groups()
    if name is not None:
        path = tuple(name.split("."))
        return lambda env: _lookup(path, env)
    literal = int(number) if number is not None else single if single is not None else double
    return lambda env: literal


def _filter(text: str, filters: dict[str, Callable]) -> tuple[str, Callable | None, tuple] | None:
    """(name, function, argument getters); `default` has no function: it is handled inline."""
    match = _FILTER.match(text.strip())
    if match is None:
        return None
    name, raw = match.group(1), match.group(2)
    args = tuple(_arg(a) for a in raw.split(",")) if raw and raw.strip() else ()
    if any(a is None for a in args):  # e.g. a quoted comma split the arguments: Jinja reads it
        return None
    if name == "default":
        return (name, None, args) if len(args) == 1 else None
    fn = filters.get(name) or _BUILTIN.get(name)
    return (name, fn, args) if fn is not None else None


def _substitution(text: str, filters: dict[str, Callable]) -> Callable[[dict], str] | None:
    head, *rest = text.split("|")
    head = head.strip()
    if not _PATH.match(head):
        return None
    chain = [_filter(f, filters) for f in rest]
    if any(f is None for f in chain):
        return None
    path = tuple(head.split("."))
    if not chain and len(path) == 1:  # `{{ name }}`, the commonest: one lookup
        name = path[0]

        def plain(env: dict) -> str:
            value = env.get(name)
            if value is None:
                raise TransformError(f"template variable {name!r} is not set")
            return str(value)
        plain.binding = name  # type: ignore[attr-defined]
        return plain

    def render(env: dict) -> str:
        value = _lookup(path, env)
        for name, fn, args in chain:
            if name == "default":
                value = args[0](env) if value is _UNSET else value
                continue
            if value is _UNSET:
                break
            given = [a(env) for a in args]
            if any(g is _UNSET for g in given):
                raise TransformError(f"template variable in {text!r} is not set")
            value = fn(value, *given)
            value = _UNSET if value is None else value
        if value is _UNSET:
            raise TransformError(f"template variable {head!r} is not set")
        return str(value)
    return render


def _fast(text: str, filters: dict[str, Callable]) -> Callable[[Any, dict], Any] | None:
    """Substitutions of bindings through known filters: compiled to string joins, no Jinja.
    Anything else (control blocks, expressions, quotes with commas inside) goes to Jinja."""
    if "{%" in text or "{#" in text:
        return None
    parts: list = []
    last = 0
    for match in _SUBST.finditer(text):
        sub = _substitution(match.group(1), filters)
        if sub is None:
            return None
        parts += [text[last:match.start()], sub]
        last = match.end()
    parts.append(text[last:])
    if "{{" in "".join(p for p in parts if isinstance(p, str)):
        return None
    pieces = tuple(p for p in parts if not isinstance(p, str) or p)
    if len(pieces) == 2 and getattr(pieces[0], "binding", None) and isinstance(pieces[1], str):
        return _binding_then_text(pieces[0].binding, pieces[1])

    def render(cur: Any, env: dict) -> str:
        return "".join([p if p.__class__ is str else p(env) for p in pieces])
    return render


def _binding_then_text(name: str, tail: str) -> Callable[[Any, dict], str]:
    """`{{ base_url }}/chat/completions`, most URLs: one lookup and one concatenation."""
    def render(cur: Any, env: dict) -> str:
        value = env.get(name)
        if value is None:
            raise TransformError(f"template variable {name!r} is not set")
        return (value if value.__class__ is str else str(value)) + tail
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
