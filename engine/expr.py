"""Expressions: JMESPath parsed once, compiled to closures.

Design decisions:
- JMESPath is the expression language of specs (paths, filters, comparisons), but the
  interpreter walks the AST on every call. We parse with `jmespath` at load time and
  compile the common node types to plain closures; any other node falls back to
  jmespath's own interpreter for that subtree, so semantics never diverge.
- `$name` at the start of an expression reads a binding (`$request`, or an `as:` name)
  instead of the current value; JMESPath itself has no variables.
- Missing data gives `None`, as in JMESPath.
"""
from __future__ import annotations

import re
from typing import Any, Callable

import jmespath
from jmespath import exceptions as jexc
from jmespath import parser as jparser
from jmespath import visitor as jvisitor

Env = dict[str, Any]
Expr = Callable[[Any, Env], Any]

_BINDING = re.compile(r"^\$([A-Za-z_][A-Za-z0-9_]*)")
_INTERPRETER = jvisitor.TreeInterpreter(jmespath.Options())


class ExprError(ValueError):
    """An expression that does not parse; raised at load time."""


def truthy(value: Any) -> bool:
    """JMESPath truthiness: empty containers, empty strings, false and null are false."""
    return not (value is None or value is False or value == "" or value == [] or value == {})


_ANY_BINDING = re.compile(r"(?<![\w\"'`])\$([A-Za-z_][A-Za-z0-9_]*)")


def bindings(text: str) -> set[str]:
    """The `$name` bindings an expression reads."""
    return set(_ANY_BINDING.findall(_unquoted(text)))


def compile_expr(text: str) -> Expr:
    """Compile `text` to `fn(current, env)`.

    `$name.path` reads the binding `name`. An expression that starts with one binding
    runs on it directly (the common, fast case); one that mixes bindings
    (`$request.stream && $traits.x`) runs on a scope of the current value's keys plus
    every binding as a `$name` field, so there `@` is that scope, not the current value.
    """
    text = text.strip()
    plain = _plain_path(text)
    if plain is not None:
        return plain
    names = set(_ANY_BINDING.findall(_unquoted(text)))
    if names and not _rest_is_a_path(text):
        rewritten = _ANY_BINDING.sub(r'"$\1"', text)
        inner = _compile_text(rewritten)
        used = tuple(names)
        if all(r.startswith("$") for r in _roots(_parse(rewritten))):
            # Only bindings are read at the top: no need to copy the current value's keys.
            return lambda cur, env: inner({"$" + key: env.get(key) for key in used})

        def scoped(cur: Any, env: Env) -> Any:
            scope = dict(cur) if isinstance(cur, dict) else {}
            for key in used:
                scope["$" + key] = env.get(key)
            return inner(scope)
        return scoped
    match = _BINDING.match(text)
    if match:
        name, rest = match.group(1), text[match.end():].lstrip()
        if rest.startswith("."):
            rest = rest[1:]
        inner = _compile_text(rest) if rest else None
        if inner is None:
            return lambda cur, env: env.get(name)
        return lambda cur, env: inner(env.get(name))
    fn = _compile_text(text)
    return lambda cur, env: fn(cur)


_PLAIN = re.compile(r"^(\$?)([A-Za-z_][A-Za-z0-9_]*)((?:\.[A-Za-z_][A-Za-z0-9_]*)*)$")


def _plain_path(text: str) -> Expr | None:
    """`a`, `a.b.c`, `$name` and `$name.a.b`: the most common expressions, walked with
    dict.get directly instead of through JMESPath node closures."""
    match = _PLAIN.match(text)
    if match is None:
        return None
    if _BARE_WORDS & set(text.split(".")):
        _parse(text)  # raises: a bare null/true/false
    binding, head = match.group(1), match.group(2)
    keys = tuple(k for k in match.group(3).split(".") if k)
    if binding:
        if not keys:
            return lambda cur, env: env.get(head)
        start: Callable[[Any, Env], Any] = lambda cur, env: env.get(head)
    else:
        if not keys:
            return lambda cur, env: cur.get(head) if isinstance(cur, dict) else None
        keys = (head, *keys)
        start = lambda cur, env: cur
    if len(keys) == 1:
        (k1,) = keys
        return lambda cur, env: (lambda v: v.get(k1) if isinstance(v, dict) else None)(start(cur, env))

    def walk(cur: Any, env: Env) -> Any:
        value = start(cur, env)
        for key in keys:
            if not isinstance(value, dict):
                return None
            value = value.get(key)
        return value
    return walk


_PATH_REST = re.compile(r"^\$[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*|\[[0-9]+\]|\[\]|\[\*\])*$")


def _rest_is_a_path(text: str) -> bool:
    """`$name` followed only by a path (`.a[0].b`, `[]`): safe to run on the binding alone.
    Anything else (`$x.a == 'b' && field`) must see the current value too."""
    return bool(_PATH_REST.match(text))


def _unquoted(text: str) -> str:
    """The expression without its string and JSON literals (a `$` inside them is data)."""
    return re.sub(r"'[^']*'|`[^`]*`", "", text)


def _parse(text: str) -> dict:
    try:
        parsed = jparser.Parser().parse(text).parsed
    except (jexc.ParseError, jexc.LexerError) as exc:
        raise ExprError(f"invalid expression {text!r}: {exc}") from None
    word = _bare_literal(parsed) if _BARE_HINT.search(text) else None
    if word is not None:  # JMESPath reads `x != null` as a comparison with a key named "null"
        raise ExprError(f"in {text!r}, bare {word} is a key named {word!r} in JMESPath; "
                        f"write the literal as `{word}` (in backticks)")
    return parsed


_BARE_WORDS = frozenset({"null", "true", "false"})
_BARE_HINT = re.compile(r"\b(?:null|true|false)\b")  # most expressions name none: no walk


def _bare_literal(node: dict) -> str | None:
    """The first field named null, true or false (almost surely a literal without backticks)."""
    if node.get("type") == "field" and node.get("value") in _BARE_WORDS:
        return node["value"]
    for child in node.get("children", ()):
        found = _bare_literal(child) if isinstance(child, dict) else None
        if found is not None:
            return found
    return None


def _compile_text(text: str) -> Callable[[Any], Any]:
    return _node(_parse(text))


_RELATIVE_AFTER_FIRST = {"subexpression", "index_expression", "projection", "filter_projection",
                         "value_projection", "pipe"}


def _roots(node: dict) -> set[str]:
    """The names an expression reads from the value it runs on ("@" for the value itself);
    what projections and filters read is relative to their items, not counted."""
    kind = node["type"]
    if kind == "field":
        return {node["value"]}
    if kind == "current":
        return {"@"}
    if kind in _RELATIVE_AFTER_FIRST or kind == "flatten":
        return _roots(node["children"][0]) if node["children"] else set()
    out: set[str] = set()
    for child in node.get("children", ()):
        out |= _roots(child)
    return out


def _interpret(node: dict, value: Any) -> Any:
    """jmespath's own interpreter for what is not compiled here. A function given the wrong
    type of data (a client's null where a string was expected) is 'no value', not a crash."""
    try:
        return _INTERPRETER.visit(node, value)
    except (jexc.JMESPathError, TypeError):  # e.g. its contains('s', `1`) is a bare `in`
        return None


def _node(node: dict) -> Callable[[Any], Any]:
    builder = _BUILDERS.get(node["type"])
    if builder is None:
        return lambda value: _interpret(node, value)
    return builder(node)


def _field(node: dict) -> Callable[[Any], Any]:
    key = node["value"]
    return lambda v: v.get(key) if isinstance(v, dict) else None


def _subexpression(node: dict) -> Callable[[Any], Any]:
    parts = [_node(child) for child in node["children"]]

    def run(value: Any) -> Any:
        for part in parts:
            if value is None:
                return None
            value = part(value)
        return value
    return run


def _index(node: dict) -> Callable[[Any], Any]:
    i = node["value"]

    def run(value: Any) -> Any:
        if not isinstance(value, list):
            return None
        try:
            return value[i]
        except IndexError:
            return None
    return run


def _literal(node: dict) -> Callable[[Any], Any]:
    lit = node["value"]
    return lambda v: lit


def _current(node: dict) -> Callable[[Any], Any]:
    return lambda v: v


def _equal(a: Any, b: Any) -> bool:
    # JMESPath equality: `true` is not `1`, unlike Python.
    return a == b and isinstance(a, bool) == isinstance(b, bool)


_COMPARE: dict[str, Callable[[Any, Any], Any]] = {
    "eq": _equal,
    "ne": lambda a, b: not _equal(a, b),
}
_ORDER = {"lt": lambda a, b: a < b, "lte": lambda a, b: a <= b,
          "gt": lambda a, b: a > b, "gte": lambda a, b: a >= b}


def _both_numbers(a: Any, b: Any) -> bool:
    return (isinstance(a, (int, float)) and not isinstance(a, bool)
            and isinstance(b, (int, float)) and not isinstance(b, bool))


def _comparator(node: dict) -> Callable[[Any], Any]:
    left, right = (_node(c) for c in node["children"])
    op = node["value"]
    literal = node["children"][1]
    if op in _COMPARE and literal["type"] == "literal" and isinstance(literal["value"], str):
        text = literal["value"]  # comparing with a string: Python's == is JMESPath's
        return (lambda v: left(v) == text) if op == "eq" else (lambda v: left(v) != text)
    if op in _COMPARE:
        cmp = _COMPARE[op]
        return lambda v: cmp(left(v), right(v))
    order = _ORDER[op]

    def run(value: Any) -> Any:
        a, b = left(value), right(value)
        return order(a, b) if _both_numbers(a, b) else None
    return run


def _and(node: dict) -> Callable[[Any], Any]:
    left, right = (_node(c) for c in node["children"])

    def run(value: Any) -> Any:
        first = left(value)
        return right(value) if truthy(first) else first
    return run


def _or(node: dict) -> Callable[[Any], Any]:
    left, right = (_node(c) for c in node["children"])

    def run(value: Any) -> Any:
        first = left(value)
        return first if truthy(first) else right(value)
    return run


def _not(node: dict) -> Callable[[Any], Any]:
    inner = _node(node["children"][0])
    return lambda v: not truthy(inner(v))


def _pipe(node: dict) -> Callable[[Any], Any]:
    left, right = (_node(c) for c in node["children"])
    return lambda v: right(left(v))


def _flatten(node: dict) -> Callable[[Any], Any]:
    inner = _node(node["children"][0])
    return lambda value: flatten_value(inner(value))


def flatten_value(base: Any) -> Any:
    """JMESPath's `[]`: one level of nested lists spliced in; null for anything but a list."""
    if not isinstance(base, list):
        return None
    out: list = []
    for item in base:
        if isinstance(item, list):
            out.extend(item)
        else:
            out.append(item)
    return out


def _projection(node: dict) -> Callable[[Any], Any]:
    """`a[*].b`, `a[].b` and the filter form `a[?c].b`: map over a list, dropping nulls."""
    base_fn, each_fn, *rest = (_node(c) for c in node["children"])
    cond = rest[0] if rest else None

    def run(value: Any) -> Any:
        base = base_fn(value)
        if not isinstance(base, list):
            return None
        out = []
        for item in base:
            if cond is None or truthy(cond(item)):
                got = each_fn(item)
                if got is not None:
                    out.append(got)
        return out
    return run


def _multi_list(node: dict) -> Callable[[Any], Any]:
    parts = [_node(c) for c in node["children"]]
    return lambda v: None if v is None else [p(v) for p in parts]


def _multi_dict(node: dict) -> Callable[[Any], Any]:
    parts = [(c["value"], _node(c["children"][0])) for c in node["children"]]
    return lambda v: None if v is None else {k: p(v) for k, p in parts}


_TYPES = {dict: "object", list: "array", str: "string", bool: "boolean", int: "number", float: "number",
          type(None): "null"}
_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "type": lambda v: _TYPES.get(type(v), "object"),
    "starts_with": lambda s, p: s.startswith(p) if isinstance(s, str) and isinstance(p, str) else None,
    "ends_with": lambda s, p: s.endswith(p) if isinstance(s, str) and isinstance(p, str) else None,
    "length": lambda v: len(v) if isinstance(v, (str, list, dict)) else None,
    "contains": lambda hay, needle: (needle in hay if isinstance(hay, list) or isinstance(needle, str)
                                     else False) if isinstance(hay, (str, list)) else None,
}


def _function(node: dict) -> Callable[[Any], Any]:
    """A few built-in functions compiled directly; the others (and any type errors JMESPath
    would raise) go through jmespath's interpreter."""
    name = node["value"]
    fn = _FUNCTIONS.get(name)
    if fn is None:
        return lambda value: _interpret(node, value)
    args = [_node(c) for c in node["children"]]
    return lambda value: fn(*[a(value) for a in args])


_BUILDERS: dict[str, Callable[[dict], Callable[[Any], Any]]] = {
    "function_expression": _function,
    "field": _field,
    "subexpression": _subexpression,
    "index": _index,
    "literal": _literal,
    "current": _current,
    "comparator": _comparator,
    "and_expression": _and,
    "or_expression": _or,
    "not_expression": _not,
    "pipe": _pipe,
    "flatten": _flatten,
    "projection": _projection,
    "filter_projection": _projection,
    "multi_select_list": _multi_list,
    "multi_select_dict": _multi_dict,
    "index_expression": _subexpression,
}
