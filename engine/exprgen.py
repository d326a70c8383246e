"""Expressions as Python source, for the generated functions of codegen.py.

`source(text, module)` gives a Python expression over the locals `cur` (the current
value) and `env` (the bindings) with the meaning expr.py gives `text`. The common node
types (fields, paths, indexes, literals, comparisons, and/or/not, a few functions) are
written inline; any other subtree calls expr.py's closure for it, so the semantics are
expr.py's (and through it JMESPath's), never a second reading of them.

An expression that mixes bindings with fields (`$traits.x && stream`) means, in expr.py,
one scope: the current value's keys plus each binding as a `$name` key. Here a top-level
`$name` reads `env` directly, and only a closure-run subtree at the top (or a top-level `@`)
gets that scope built, when it runs.

Values that a node uses more than once are bound to a fresh temporary with `:=` in the
condition of a conditional expression, which Python evaluates first.
"""
from __future__ import annotations

from typing import Any

from .codegen import Module
from .expr import (_ANY_BINDING, _BINDING, _FUNCTIONS, _TYPES, _equal, _node, _parse, _rest_is_a_path,
                   _unquoted, flatten_value)


def _scope(cur: Any, env: dict, names: tuple[str, ...]) -> dict:
    scope = dict(cur) if isinstance(cur, dict) else {}
    for name in names:
        scope["$" + name] = env.get(name)
    return scope


# Names every generated module can use.
SCOPE: dict[str, Any] = {"_equal": _equal, "_scope": _scope, "_flatten": flatten_value, "_types": _TYPES}
_ROOT = "cur"


class Bool(str):
    """Source of an expression whose value is always True or False (a comparison, a `!`):
    its Python truth is its JMESPath truth, so `truth` uses it as it is."""


def truth(value: str, t: str) -> str:
    """A condition with JMESPath's truth (0 is true; null, false, "", [] and {} are not),
    inline instead of a call to expr.truthy: Python's truth differs only on 0 and 0.0.
    `t` is a fresh temporary that holds the value afterwards."""
    if isinstance(value, Bool):
        return f"({t} := {value})"
    return f"(({t} := {value}) or {t} == 0 and {t} is not False)"


def source(text: str, mod: Module) -> str:
    """Python source for `text` (raises ExprError when it does not parse)."""
    text = text.strip()
    names = tuple(sorted(set(_ANY_BINDING.findall(_unquoted(text)))))
    if names and not _rest_is_a_path(text):
        return _Writer(mod, names).gen(_parse(_ANY_BINDING.sub(r'"$\1"', text)), _ROOT)
    match = _BINDING.match(text)
    writer = _Writer(mod, ())
    if match is None:
        return writer.gen(_parse(text), _ROOT)
    name, rest = match.group(1), text[match.end():].lstrip()
    start = f"env.get({name!r})"
    if not rest:
        return start
    node = _parse(rest[1:] if rest.startswith(".") else rest)  # a path: null in, null out
    t = mod.temp()
    return f"({writer.gen(node, t)} if (({t} := {start}) is not None) else None)"


class _Writer:
    def __init__(self, mod: Module, bindings: tuple[str, ...]):
        self.mod, self.bindings = mod, bindings

    def gen(self, node: dict, base: str) -> str:
        """Python source for `node` on the value named `base` (a local name)."""
        builder = getattr(self, "_" + node["type"], None)
        got = builder(node, base) if builder is not None else None
        if got is not None:
            return got
        return f"{self.mod.const(_node(node), 'x')}({self._value(base)})"  # expr.py's closure

    def _scoped(self, base: str) -> bool:
        """At the top of a mixed expression the value is the scope: a dict, never null."""
        return bool(self.bindings) and base == _ROOT

    def _value(self, base: str) -> str:
        """What a closure-run subtree sees: at the top of a mixed expression, the scope."""
        return f"_scope(cur, env, {self.bindings!r})" if self._scoped(base) else base

    def _unless_null(self, base: str, expr: str) -> str:
        return expr if self._scoped(base) else f"(None if {base} is None else {expr})"

    def _field(self, node: dict, base: str) -> str:
        key = node["value"]
        if self.bindings and base == _ROOT and key.startswith("$") and key[1:] in self.bindings:
            return f"env.get({key[1:]!r})"
        return f"({base}.get({key!r}) if isinstance({base}, dict) else None)"

    def _subexpression(self, node: dict, base: str) -> str:
        first, *rest = node["children"]
        out = self.gen(first, base)
        for child in rest:  # a null on the way makes the whole path null, as in JMESPath
            t = self.mod.temp()
            out = f"({self.gen(child, t)} if (({t} := {out}) is not None) else None)"
        return out

    _index_expression = _subexpression

    def _index(self, node: dict, base: str) -> str:
        if self._scoped(base):
            return "None"
        i = node["value"]
        fits = f"len({base}) > {i}" if i >= 0 else f"len({base}) >= {-i}"
        return f"({base}[{i}] if isinstance({base}, list) and {fits} else None)"

    def _literal(self, node: dict, base: str) -> str:
        return self.mod.literal(node["value"])

    def _current(self, node: dict, base: str) -> str:
        return self._value(base)

    def _comparator(self, node: dict, base: str) -> str | None:
        op = node["value"]
        if op not in ("eq", "ne"):
            return None
        left_node, right_node = node["children"]
        left = self.gen(left_node, base)
        if right_node["type"] == "literal" and isinstance(right_node["value"], str):
            # comparing with a string: Python's == is JMESPath's
            return Bool(f"({left} {'==' if op == 'eq' else '!='} {right_node['value']!r})")
        if right_node["type"] == "literal" and right_node["value"] is None:  # only null equals null
            return Bool(f"({left} {'is' if op == 'eq' else 'is not'} None)")
        test = f"_equal({left}, {self.gen(right_node, base)})"
        return Bool(test if op == "eq" else f"(not {test})")

    def _and_expression(self, node: dict, base: str) -> str:
        left, right = node["children"]
        t, first, second = self.mod.temp(), self.gen(left, base), self.gen(right, base)
        both = Bool if isinstance(first, Bool) and isinstance(second, Bool) else str
        return both(f"({second} if {truth(first, t)} else {t})")

    def _or_expression(self, node: dict, base: str) -> str:
        left, right = node["children"]
        t, first, second = self.mod.temp(), self.gen(left, base), self.gen(right, base)
        both = Bool if isinstance(first, Bool) and isinstance(second, Bool) else str
        return both(f"({t} if {truth(first, t)} else {second})")

    def _not_expression(self, node: dict, base: str) -> str:
        return Bool(f"(not {truth(self.gen(node['children'][0], base), self.mod.temp())})")

    def _identity(self, node: dict, base: str) -> str:
        return self._value(base)

    def _projection(self, node: dict, base: str) -> str:
        """`a[*].b`, `a[].b`, `a[?c].b`: a comprehension over the list, dropping nulls.
        Temporaries the items' code binds with `:=` live in the enclosing function (PEP 572)."""
        left, right, *cond = node["children"]
        items, item, got = self.mod.temp(), self.mod.name("item"), self.mod.temp()
        keep = f"{truth(self.gen(cond[0], item), self.mod.temp())} and " if cond else ""
        loop = f"[{got} for {item} in {items} if {keep}({got} := {self.gen(right, item)}) is not None]"
        return f"({loop} if isinstance({items} := {self.gen(left, base)}, list) else None)"

    _filter_projection = _projection

    def _flatten(self, node: dict, base: str) -> str:
        return f"_flatten({self.gen(node['children'][0], base)})"

    def _pipe(self, node: dict, base: str) -> str:
        left, right = node["children"]
        t = self.mod.temp()
        return f"(({t} := {self.gen(left, base)}), {self.gen(right, t)})[1]"

    def _multi_select_list(self, node: dict, base: str) -> str:
        items = ", ".join(self.gen(child, base) for child in node["children"])
        return self._unless_null(base, f"[{items}]")

    def _multi_select_dict(self, node: dict, base: str) -> str:
        items = ", ".join(f"{c['value']!r}: {self.gen(c['children'][0], base)}" for c in node["children"])
        return self._unless_null(base, f"{{{items}}}")

    def _function_expression(self, node: dict, base: str) -> str | None:
        fn = _FUNCTIONS.get(node["value"])
        if fn is None:
            return None
        if node["value"] == "type" and len(node["children"]) == 1:  # one table lookup, no call
            return f"_types.get(({self.gen(node['children'][0], base)}).__class__, 'object')"
        needle = node["children"][1] if len(node["children"]) == 2 else {}
        if node["value"] == "contains" and needle.get("type") == "literal" and isinstance(needle["value"], str):
            # a string in a list, the usual case, without a call (a string equals only strings, so
            # Python's `in` is JMESPath's here); anything else as the function says
            t, text = self.mod.temp(), self.mod.literal(needle["value"])
            return (f"({text} in {t} if ({t} := {self.gen(node['children'][0], base)}).__class__ is list "
                    f"else {self.mod.const(fn, 'fn')}({t}, {text}))")
        args = ", ".join(self.gen(child, base) for child in node["children"])
        return f"{self.mod.const(fn, 'fn')}({args})"
