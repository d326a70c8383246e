"""Generated expressions (engine/exprgen.py) mean what expr.py's closures mean.

Hypothesis writes JMESPath expressions from a small grammar over a few field names and
bindings, and JSON-like data over the same names; the generated Python and the closure
must give the same value (with JMESPath's types: `true` is not `1`)."""
from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from engine import exprgen
from engine.codegen import Module
from engine.expr import compile_expr

KEYS = ["a", "b", "c"]
BINDINGS = ["x", "y"]

scalars = st.one_of(st.none(), st.booleans(), st.integers(-3, 3), st.sampled_from(["", "s", "t"]))
data = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=3),
    st.dictionaries(st.sampled_from(KEYS), inner, max_size=3)), max_leaves=12)
literals = st.sampled_from(["'s'", "''", "`1`", "`true`", "`null`", "`[]`", "`{}`", "`\"t\"`"])


def _compose(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        st.tuples(inner, st.sampled_from(KEYS)).map(lambda t: f"{t[0]}.{t[1]}"),
        st.tuples(inner, st.integers(-2, 2)).map(lambda t: f"{t[0]}[{t[1]}]"),
        st.tuples(inner, st.sampled_from(["==", "!=", "<", ">="]), st.one_of(inner, literals))
          .map(lambda t: f"{t[0]} {t[1]} {t[2]}"),
        st.tuples(inner, inner).map(lambda t: f"({t[0]} && {t[1]})"),
        st.tuples(inner, inner).map(lambda t: f"({t[0]} || {t[1]})"),
        inner.map(lambda e: f"!({e})"),
        inner.map(lambda e: f"{e}[*].a"),
        inner.map(lambda e: f"{e}[]"),
        st.tuples(inner, inner).map(lambda t: f"{t[0]}[?{t[1]}]"),
        st.tuples(inner, inner).map(lambda t: f"{t[0]} | {t[1]}"),
        st.tuples(inner, inner).map(lambda t: f"[{t[0]}, {t[1]}]"),
        st.tuples(inner, inner).map(lambda t: f"{{p: {t[0]}, q: {t[1]}}}"),
        inner.map(lambda e: f"length({e})"),
        inner.map(lambda e: f"type({e})"),
        st.tuples(inner, literals).map(lambda t: f"contains({t[0]}, {t[1]})"),
        inner.map(lambda e: f"starts_with({e}, 's')"),
        inner.map(lambda e: f"join(',', {e})"),
    )


atoms = st.one_of(st.sampled_from(KEYS), st.just("@"), literals)
expressions = st.recursive(atoms, _compose, max_leaves=6)
bound = st.one_of(
    expressions,
    st.tuples(st.sampled_from(BINDINGS), st.sampled_from(["", ".a", ".a.b", "[0]", "[*].a", "[]"]))
      .map(lambda t: f"${t[0]}{t[1]}"),
    st.tuples(st.sampled_from(BINDINGS), expressions).map(lambda t: f"${t[0]}.a && {t[1]}"),
    st.tuples(st.sampled_from(BINDINGS), expressions).map(lambda t: f"{t[1]} || ${t[0]}"),
    st.tuples(st.sampled_from(BINDINGS), expressions).map(lambda t: f"contains(${t[0]}, {t[1]})"),
    st.sampled_from(BINDINGS).map(lambda b: f"${b}[?a == 's'].b"),
)


def _typed(value: Any) -> Any:
    """JMESPath equality: a bool is not an int, a float that looks whole is still a number."""
    if isinstance(value, dict):
        return {k: _typed(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_typed(v) for v in value]
    return (type(value).__name__ if isinstance(value, bool) else "", value)


@settings(max_examples=int(__import__("os").environ.get("EXPRGEN_EXAMPLES", "600")), deadline=None)
@given(text=bound, cur=data, x=data, y=data)
def test_generated_expressions_agree_with_the_closures(text: str, cur: Any, x: Any, y: Any) -> None:
    env = {"x": x, "y": y}
    expected = compile_expr(text)(cur, env)
    module = Module("test", exprgen.SCOPE)
    got = module.entry(exprgen.source(text, module))(cur, env)
    assert _typed(got) == _typed(expected), (text, module.source())


def test_each_generated_module_compiles_once_and_shows_its_source() -> None:
    module = Module("test", exprgen.SCOPE)
    first = module.entry(exprgen.source("a.b == 's'", module))
    second = module.entry(exprgen.source("$x[?a].b", module))
    assert first({"a": {"b": "s"}}, {}) is True
    assert second(None, {"x": [{"a": 1, "b": 2}, {"a": False, "b": 3}]}) == [2]
    text = module.source()
    assert "def _entry" in text and "_x" not in text.replace("_entry", "")  # no closure fallback here


def test_contains_on_a_string_with_a_non_string_needle_is_false_not_a_crash() -> None:
    assert compile_expr("contains(a, b)")({"a": "", "b": None}, {}) is False
