"""The transform vocabulary: a few named forms, compiled once into closures.

A node in a spec is one of:
- a scalar (`type: text`): that constant;
- a list: each element is a node; elements that yield nothing are left out;
- a mapping whose keys are all form words (below): a form;
- any other mapping: an object template, key -> node; keys whose node yields
  nothing are left out (use `object:` to emit a key that is also a form word).

A form is a small pipeline, always in this order:
  when/else   gate: if `when` is false (or `unless` is true), the node is `else` (or nothing)
  source      `from: expr` (or `from: <node>`) | `const: v` | `template: "jinja"` | the current value
  shape       one of `each` (+`as`, `at`, `where`) | `object` | `apply` | `switch`+`cases` | `call`+`args`
  map         value table (requires `default`, or `required: true` to refuse other values)
  default     used when the result is nothing
  required    nothing here is an error naming the data path

Semantics fixed by the form, not the data: `each` always yields a list; `from` treats a
null source as absent (OpenAI's rule for optional fields); `default: null` writes an
explicit null. Inside `each`, the item is the current value and is also bound by
name (`as: message`), its position by `at: i` (for ids derived from position); with
any other shape `as:` names the source value itself; and
`$request` is always the request root (`$response` the provider body when reading a
response): no positional back-references.
"""
from __future__ import annotations

import re
from typing import Any, Callable

from .errors import SpecError, TransformError
from .expr import Env, ExprError, compile_expr, truthy

_FIELD = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_PLAIN_PATH = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")
MISSING: Any = type("Missing", (), {"__repr__": lambda self: "MISSING", "__bool__": lambda self: False})()
Node = Callable[[Any, Env], Any]

FORM_WORDS = frozenset({"from", "const", "template", "each", "as", "at", "where", "object", "apply",
                        "switch", "cases", "call", "args", "map", "default", "required",
                        "when", "unless", "else"})
_SHAPES = ("each", "object", "apply", "switch", "call")


class Compiler:
    """Turns spec nodes into closures. `functions` are the named pure functions;
    `defines` are a spec's named sub-specs (compiled on first use, so they may recurse)."""

    def __init__(self, functions: dict[str, Callable], defines: dict[str, Any],
                 template: Callable[[str, str], Node], file: str = ""):
        self.functions, self.template, self.file = functions, template, file
        self._define_src = defines
        self._defines: dict[str, Node] = {}

    def error(self, where: str, message: str) -> SpecError:
        return SpecError(message, file=self.file, where=where)

    def compile(self, node: Any, where: str) -> Node:
        if isinstance(node, dict):
            if node and FORM_WORDS.issuperset(node):
                return self._form(node, where)
            return self._object(node, where)
        if isinstance(node, list):
            return self._list(node, where)
        return lambda cur, env, _v=node: _v

    def expr(self, text: Any, where: str) -> Callable[[Any, Env], Any]:
        if not isinstance(text, str):
            raise self.error(where, f"expected an expression string, got {text!r}")
        try:
            return compile_expr(text)
        except ExprError as exc:
            raise self.error(where, str(exc)) from None

    def condition(self, raw: Any, where: str) -> Callable[[Any, Env], Any]:
        """`when:` takes an expression, or a node (e.g. `{apply: named_condition}`)."""
        if isinstance(raw, str):
            return self.expr(raw, where)
        node = self.compile(raw, where)
        return lambda cur, env: (lambda v: None if v is MISSING else v)(node(cur, env))

    def define(self, name: str, where: str) -> Node:
        if name not in self._define_src:
            raise self.error(where, f"unknown define {name!r}; known: {sorted(self._define_src)}")
        if name not in self._defines:
            self._defines[name] = lambda cur, env: self._defines[name](cur, env)  # recursion guard
            self._defines[name] = self.compile(self._define_src[name], f"define.{name}")
        return lambda cur, env: self._defines[name](cur, env)

    def _object(self, node: dict, where: str) -> Node:
        fields = tuple((key, self.compile(sub, f"{where}.{key}")) for key, sub in node.items())

        def run(cur: Any, env: Env) -> Any:
            out = {}
            for key, fn in fields:
                value = fn(cur, env)
                if value is not MISSING:
                    out[key] = value
            return out
        return run

    def _list(self, node: list, where: str) -> Node:
        items = tuple(self.compile(sub, f"{where}[{i}]") for i, sub in enumerate(node))

        def run(cur: Any, env: Env) -> Any:
            out = []
            for fn in items:
                value = fn(cur, env)
                if value is not MISSING:
                    out.append(value)
            return out
        return run

    def _form(self, node: dict, where: str) -> Node:
        shapes = [s for s in _SHAPES if s in node]
        if len(shapes) > 1:
            raise self.error(where, f"a form takes one of {_SHAPES}, got {shapes}")
        sources = [s for s in ("from", "const", "template") if s in node]
        if len(sources) > 1:
            raise self.error(where, f"a form takes one source, got {sources}")
        self._check_pairs(node, where)
        source = self._source(node, where)
        shape = self._located(node, self._shape(node, shapes[0] if shapes else None, where))
        if "as" in node and shape is not None and "each" not in node:
            shape = _bound(node["as"], shape)
        finish = self._finish(node, where)
        if source is None and shape is None and finish is None and ("when" in node or "unless" in node):
            raise self.error(where, "a gated form needs something to produce (from, const, a shape...)")
        body = _chain(source, shape, finish)
        gate = "when" if "when" in node else "unless" if "unless" in node else None
        if gate is None:
            return body
        if "when" in node and "unless" in node:
            raise self.error(where, "use `when` or `unless`, not both")
        cond = self.condition(node[gate], f"{where}.{gate}")
        want = gate == "when"
        other = self.compile(node["else"], f"{where}.else") if "else" in node else None

        def gated(cur: Any, env: Env) -> Any:
            if truthy(cond(cur, env)) == want:
                return body(cur, env)
            return other(cur, env) if other else MISSING
        return gated

    def _check_pairs(self, node: dict, where: str) -> None:
        needs = {"at": "each", "where": "each", "cases": "switch", "args": "call"}
        if "else" in node and "when" not in node and "unless" not in node:
            raise self.error(where, "`else` needs `when` or `unless`")
        for word, partner in needs.items():
            if word in node and partner not in node:
                raise self.error(where, f"`{word}` needs `{partner}`")
        if "map" in node and "default" not in node and not node.get("required"):
            raise self.error(where, "`map` needs a `default`, or `required: true` to refuse other values "
                                    "(every enum mapping is total)")
        if "switch" in node and "cases" not in node:
            raise self.error(where, "`switch` needs `cases`")

    def _source(self, node: dict, where: str) -> Node | None:
        if "from" in node and isinstance(node["from"], (dict, list)):
            return self.compile(node["from"], f"{where}.from")   # a node as the source
        if "from" in node:
            text = node["from"]
            if isinstance(text, str) and _FIELD.match(text):  # the commonest form: one key of the current value
                key = text

                def take_key(cur: Any, env: Env) -> Any:
                    if isinstance(cur, dict):
                        value = cur.get(key)
                        if value is not None:
                            return value
                    return MISSING
                return take_key
            get = self.expr(text, f"{where}.from")

            def take(cur: Any, env: Env) -> Any:
                value = get(cur, env)
                return MISSING if value is None else value
            return take
        if "const" in node:
            return lambda cur, env, _v=node["const"]: _v
        if "template" in node:
            return self.template(node["template"], f"{where}.template")
        return None

    @staticmethod
    def _located(node: dict, shape: Callable | None) -> Callable | None:
        """Errors inside a shape are located under the `from` path that fed it."""
        label = node.get("from")
        if shape is None or not isinstance(label, str) or not _PLAIN_PATH.match(label):
            return shape
        parts = tuple(label.split("."))

        def run(value: Any, cur: Any, env: Env) -> Any:
            try:
                return shape(value, cur, env)
            except TransformError as exc:
                raise exc.within(*parts) from None
        return run

    def _shape(self, node: dict, shape: str | None, where: str) -> Callable | None:
        if shape is None:
            return None
        return getattr(self, f"_shape_{shape}")(node, f"{where}.{shape}")

    def _shape_each(self, node: dict, where: str) -> Callable:
        item = self.compile(node["each"], where)
        name, at = node.get("as"), node.get("at")
        keep = self.expr(node["where"], f"{where}.where") if "where" in node else None
        label = node.get("from", "@")
        label = label if isinstance(label, str) else "@"
        source = label if not _PLAIN_PATH.match(label) else "@"  # plain paths: see _located

        def run(value: Any, cur: Any, env: Env) -> Any:
            if value is MISSING:
                return MISSING
            if not isinstance(value, list):
                raise TransformError(f"expected a list, got {type(value).__name__}",
                                     () if source == "@" else (source,))
            out = []
            for i, element in enumerate(value):
                local = {**env, name: element} if name else env
                if at:
                    local = {**local, at: i}
                if keep is not None and not truthy(keep(element, local)):
                    continue
                try:
                    got = item(element, local)
                except TransformError as exc:
                    raise exc.within(i) if source == "@" else exc.within(source, i)
                if got is not MISSING:
                    out.append(got)
            return out
        return run

    def _shape_object(self, node: dict, where: str) -> Callable:
        inner = self._object(node["object"], where)
        return lambda value, cur, env: MISSING if value is MISSING else inner(value, env)

    def _shape_apply(self, node: dict, where: str) -> Callable:
        inner = self.define(node["apply"], where)
        return lambda value, cur, env: MISSING if value is MISSING else inner(value, env)

    def _shape_switch(self, node: dict, where: str) -> Callable:
        key = self.expr(node["switch"], where)
        cases = {k: self.compile(v, f"{where}.cases.{k}") for k, v in node["cases"].items()}

        def run(value: Any, cur: Any, env: Env) -> Any:
            if value is MISSING:
                return MISSING
            branch = cases.get(_key(key(value, env)))
            return branch(value, env) if branch else MISSING
        return run

    def _shape_call(self, node: dict, where: str) -> Callable:
        name = node["call"]
        fn = self.functions.get(name)
        if fn is None:
            raise self.error(where, f"unknown function {name!r}; known: {sorted(self.functions)}")
        args = node.get("args")
        # Functions see None for absent arguments and return None for "nothing".
        if args is None:
            def one(value: Any, cur: Any, env: Env) -> Any:
                if value is MISSING:
                    return MISSING
                result = fn(value)
                return MISSING if result is None else result
            return one
        if isinstance(args, list):
            parts = tuple(self.compile(a, f"{where}.args[{i}]") for i, a in enumerate(args))

            def positional(value: Any, cur: Any, env: Env) -> Any:
                result = fn(*[None if v is MISSING else v for v in [p(value, env) for p in parts]])
                return MISSING if result is None else result
            return positional
        if isinstance(args, dict):
            named = tuple((k, self.compile(a, f"{where}.args.{k}")) for k, a in args.items())

            def keywords(value: Any, cur: Any, env: Env) -> Any:
                kwargs = {}
                for k, p in named:
                    v = p(value, env)
                    kwargs[k] = None if v is MISSING else v
                result = fn(**kwargs)
                return MISSING if result is None else result
            return keywords
        raise self.error(where, "`args` must be a list or a mapping")

    def _finish(self, node: dict, where: str) -> Callable | None:
        table = node.get("map")
        default = node.get("default", MISSING)
        required = node.get("required", False)
        if table is None and default is MISSING and not required:
            return None
        source = node.get("from")
        label = (source,) if isinstance(source, str) and _PLAIN_PATH.match(source) else ()

        def run(value: Any) -> Any:
            if table is not None and value is not MISSING:
                key = _key(value)
                if key not in table and default is MISSING:
                    raise TransformError(f"{value!r} is not one of {sorted(table)}", label)
                value = table.get(key, default)
            if value is MISSING:
                if required:
                    raise TransformError("required value is missing", label)
                return default
            return value
        return run


def _bound(name: str, shape: Callable) -> Callable:
    """`as:` outside `each`: the shape sees the source value under that name too."""
    return lambda value, cur, env: shape(value, cur, {**env, name: value})


def _key(value: Any) -> Any:
    """Map/switch keys come from YAML, where keys are strings: look values up as text."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    return value if isinstance(value, str) else None


def _chain(source: Node | None, shape: Callable | None, finish: Callable | None) -> Node:
    if source is not None and shape is None and finish is None:
        return source
    if source is None and shape is not None and finish is None:
        return lambda cur, env: shape(cur, cur, env)
    if source is not None and shape is not None and finish is None:
        return lambda cur, env: shape(source(cur, env), cur, env)
    if source is not None and shape is None:
        return lambda cur, env: finish(source(cur, env))

    def run(cur: Any, env: Env) -> Any:
        value = source(cur, env) if source is not None else cur
        if shape is not None:
            value = shape(value, cur, env)
        return finish(value) if finish is not None else value
    return run
