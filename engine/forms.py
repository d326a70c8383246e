"""The transform vocabulary: a few named forms, compiled once into generated Python.

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

How it runs: each node becomes Python source (codegen.py): an object template one function
building its dict, a form without a shape one inline expression, a form with a shape one
function of straight-line statements. Errors and semantics are the same as a direct
interpretation of the node would give; tests/forms/*.yaml pin them.
"""
from __future__ import annotations

import re
from typing import Any, Callable

from . import exprgen
from .codegen import Module, comment, indent
from .objectgen import Code, display_of, list_function, object_function
from .errors import SpecError, TransformError
from .expr import Env, ExprError

_GUARDED_CALL = re.compile(r"\((_[a-z]+[0-9]+)\(cur, env\) if cur is not MISSING else MISSING\)")
_FIELD = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_PLAIN_PATH = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")
_FILTERED = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)\[\?.*\]$")   # path[?cond]
MISSING: Any = type("Missing", (), {"__repr__": lambda self: "MISSING", "__bool__": lambda self: False})()
Node = Callable[[Any, Env], Any]

FORM_WORDS = frozenset({"from", "const", "template", "each", "as", "at", "where", "object", "apply",
                        "switch", "cases", "call", "args", "map", "default", "required",
                        "when", "unless", "else"})
_SHAPES = ("each", "object", "apply", "switch", "call")


def _key(value: Any) -> Any:
    """Map/switch keys come from YAML, where keys are strings: look values up as text."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    return value if isinstance(value, str) else None


def _origin(base: tuple, src: Any, item: Any, i: int, label: str) -> tuple:
    """Where item `i` of a filtered list sits in the list it was filtered from, so an error names
    a path the client can follow (`messages[?role != 'system']` item 0 may be messages[1])."""
    items = src
    for key in base:
        items = items.get(key) if isinstance(items, dict) else None
    for k, candidate in enumerate(items if isinstance(items, list) else ()):
        if candidate is item:
            return (*base, k)
    return (label, i)


_SCOPE = {**exprgen.SCOPE, "MISSING": MISSING, "TransformError": TransformError, "_key": _key,
          "_no_get": {}.get, "_origin": _origin}


class Compiler:
    """Turns spec nodes into generated functions. `functions` are the named pure functions;
    `defines` are a spec's named sub-specs (generated on first use, so they may recurse)."""

    def __init__(self, functions: dict[str, Callable], defines: dict[str, Any],
                 template: Callable[[str, str], Node], file: str = ""):
        self.functions, self.template, self.file = functions, template, file
        self._define_src = defines
        self._defines: dict[str, str] = {}
        self._sure: set[str] = set()  # generated functions that never return MISSING
        self.module = Module(file or "spec", _SCOPE)

    def error(self, where: str, message: str) -> SpecError:
        return SpecError(message, file=self.file, where=where)

    # -- public: callables `(cur, env) -> value` ------------------------------------
    def compile(self, node: Any, where: str) -> Node:
        return self.module.entry(self.code(node, where).expr)

    def expr(self, text: Any, where: str) -> Node:
        return self.module.entry(self._expr(text, where))

    def condition(self, raw: Any, where: str) -> Node:
        """`when:` takes an expression, or a node (e.g. `{apply: named_condition}`)."""
        return self.module.entry(self._condition(raw, where))

    def test(self, raw: Any, where: str) -> Node:
        """A condition as a callable whose result has, in Python, the JMESPath truth of the condition."""
        return self.module.entry(exprgen.truth(self._condition(raw, where), self.module.temp()))

    def define(self, name: str, where: str) -> Node:
        return self.module.entry(f"{self._define(name, where)}(cur, env)")

    # -- nodes -------------------------------------------------------------------------
    def code(self, node: Any, where: str) -> Code:
        if isinstance(node, dict):
            if node and FORM_WORDS.issuperset(node):
                return self._form(node, where)
            fields = [(key, self.code(sub, f"{where}.{key}")) for key, sub in node.items()]
            sure = all(code.sure for _, code in fields)
            display = sure and display_of("{", [f"{key!r}: {code.expr}" for key, code in fields], "}")
            return Code(display or f"{self._object_of(fields, where)}(cur, env)", sure=True)
        if isinstance(node, list):
            items = [self.code(sub, f"{where}[{i}]") for i, sub in enumerate(node)]
            display = all(code.sure for code in items) and display_of("[", [code.expr for code in items], "]")
            return Code(display or f"{list_function(self.module, items, where)}(cur, env)", sure=True)
        return Code(self.module.literal(node), sure=True)

    def _expr(self, text: Any, where: str) -> str:
        if not isinstance(text, str):
            raise self.error(where, f"expected an expression string, got {text!r}")
        try:
            return exprgen.source(text, self.module)
        except ExprError as exc:
            raise self.error(where, str(exc)) from None

    def _condition(self, raw: Any, where: str) -> str:
        if isinstance(raw, str):
            return self._expr(raw, where)
        return self._or_none(self.code(raw, where))

    def _or_none(self, code: Code) -> str:
        """The value, with MISSING read as None (what functions and conditions see)."""
        if code.sure:
            return code.expr
        if code.raw is not None:
            return code.raw
        t = self.module.temp()
        return f"(None if ({t} := {code.expr}) is MISSING else {t})"

    def _define(self, name: str, where: str) -> str:
        if name not in self._define_src:
            raise self.error(where, f"unknown define {name!r}; known: {sorted(self._define_src)}")
        if name not in self._defines:
            fn = self._defines[name] = self.module.name("define")  # named first: defines may recurse
            code = self.code(self._define_src[name], f"define.{name}")
            if code.sure:
                self._sure.add(fn)
            alias = re.fullmatch(r"(_[a-z]+[0-9]+)\(cur, env\)", code.expr)
            if alias:  # the define is one generated function: its name, not a call through another
                self.module.add([f"{fn} = {alias.group(1)}{comment(f'define {name}')}"])
            else:
                self.module.add([f"def {fn}(cur, env):{comment(f'define {name}')}", f"    return {code.expr}"])
        return self._defines[name]

    def _object(self, node: dict, where: str) -> str:
        """A function `(cur, env) -> dict` for an object template (shapes call it on other values)."""
        return self._object_of([(key, self.code(sub, f"{where}.{key}")) for key, sub in node.items()], where)

    def _object_of(self, fields: list[tuple[str, Code]], where: str) -> str:
        name = object_function(self.module, fields, where)
        self._sure.add(name)  # an object template always gives its dict
        return name

    # -- forms -------------------------------------------------------------------------
    def _form(self, node: dict, where: str) -> Code:
        shapes = [s for s in _SHAPES if s in node]
        if len(shapes) > 1:
            raise self.error(where, f"a form takes one of {_SHAPES}, got {shapes}")
        sources = [s for s in ("from", "const", "template") if s in node]
        if len(sources) > 1:
            raise self.error(where, f"a form takes one source, got {sources}")
        self._check_pairs(node, where)
        gate = "when" if "when" in node else "unless" if "unless" in node else None
        if "when" in node and "unless" in node:
            raise self.error(where, "use `when` or `unless`, not both")
        source = self._source(node, where)
        shape = shapes[0] if shapes else None
        finishes = "map" in node or "default" in node or bool(node.get("required"))
        if source is None and shape is None and not finishes and gate:
            raise self.error(where, "a gated form needs something to produce (from, const, a shape...)")
        if shape is None and "map" not in node and not node.get("required"):
            body = self._inline(node, source)
        else:
            body = (self._inline_shape(node, where, source, shape) if not finishes else None) or \
                self._called(node, where, source, shape)
        if gate is None:
            return body
        cond = self._condition(node[gate], f"{where}.{gate}")
        other = self.code(node["else"], f"{where}.else") if "else" in node else Code("MISSING")
        yes, no = (body, other) if gate == "when" else (other, body)
        test = exprgen.truth(cond, self.module.temp())
        return Code(f"({yes.expr} if {test} else {no.expr})", yes.sure and no.sure)

    def _called(self, node: dict, where: str, source: Code | None, shape: str | None) -> Code:
        """A call of the form's function. One fed by a single key gives nothing when that key is
        absent, unless it has a `default` or `required`: then the caller reads the key, skips the
        call when it is absent (most optional fields are) and hands the value over."""
        if source is None or source.key is None or "default" in node or node.get("required"):
            return Code(f"{self._function(node, where, source, shape)}(cur, env)")
        fn, t = self._function(node, where, source, shape, given=True), self.module.temp()
        read = f"({t} := (cur.get({source.key!r}) if isinstance(cur, dict) else None))"
        if shape == "switch" and node["switch"] == "type(@)" and node["cases"].get("string") == {"from": "@"} \
                and "map" not in node:  # text passes as it is (OpenAI content, most turns): no call for it
            return Code(f"({t} if {read}.__class__ is str else {fn}(cur, env, {t}) if {t} is not None "
                        f"else MISSING)")
        return Code(f"({fn}(cur, env, {t}) if {read} is not None else MISSING)")

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

    def _source(self, node: dict, where: str) -> Code | None:
        t = self.module.temp
        if "from" in node and isinstance(node["from"], (dict, list)):
            return self.code(node["from"], f"{where}.from")   # a node as the source
        if "from" in node:
            text = node["from"]
            if isinstance(text, str) and _FIELD.match(text) and text not in ("null", "true", "false"):
                # the commonest form: one key of the current value (a bare literal word goes to
                # the expression compiler, which refuses it)
                v = t()
                return Code(f"({v} if isinstance(cur, dict) and ({v} := cur.get({text!r})) is not None "
                            f"else MISSING)", key=text, raw=f"(cur.get({text!r}) if isinstance(cur, dict) else None)")
            got, v = self._expr(text, f"{where}.from"), t()
            return Code(f"(MISSING if ({v} := {got}) is None else {v})", raw=got)  # null is absent
        if "const" in node:
            return Code(self.module.literal(node["const"]), sure=True)
        if "template" in node:
            render = self.template(node["template"], f"{where}.template")
            return Code(f"{self.module.const(render, 'template')}(cur, env)")
        return None

    def _inline(self, node: dict, source: Code | None) -> Code:
        """A form without a shape, map or `required`: one expression."""
        value = source or Code("cur")
        if "default" not in node:
            return value if "as" not in node else Code(value.expr, value.sure, raw=value.raw)
        if value.sure:
            return value
        v, default = self.module.temp(), self.module.literal(node["default"])
        if value.raw is not None:  # the raw value's None is exactly the MISSING being defaulted
            return Code(f"({default} if ({v} := {value.raw}) is None else {v})", sure=True)
        return Code(f"({default} if ({v} := {value.expr}) is MISSING else {v})", sure=node["default"] is not MISSING)

    def _inline_shape(self, node: dict, where: str, source: Code | None, shape: str | None) -> Code | None:
        """`apply`/`object` (no `as`, no source with a path to report errors under) and `call`
        (no source) as one expression instead of a function of their own: a request runs
        hundreds of these, and a Python call costs more than the expression inside it."""
        t = self.module.temp
        if shape in ("apply", "object") and "as" not in node and not (
                isinstance(node.get("from"), str) and _PLAIN_PATH.match(node["from"])):
            inner = self._define(node["apply"], where) if shape == "apply" else \
                self._object(node["object"], f"{where}.object")
            if source is None:
                return Code(f"({inner}(cur, env) if cur is not MISSING else MISSING)")
            v = t()
            return Code(f"({inner}({v}, env) if ({v} := {source.expr}) is not MISSING else MISSING)")
        if shape == "call" and source is None and "as" not in node:
            fn, given = self._call_parts(node, f"{where}.call")
            r = t()
            if given is None:
                return Code(f"(MISSING if cur is MISSING or ({r} := {fn}(cur)) is None else {r})")
            return Code(f"(MISSING if ({r} := {fn}({given})) is None else {r})", raw=f"{fn}({given})")
        return None

    def _function(self, node: dict, where: str, source: Code | None, shape: str | None,
                  given: bool = False) -> str:
        """A form with a shape (or a map / `required`): straight-line statements on `value`
        (`given`: the caller read the source and passes it as `value`)."""
        name = self.module.name("form")
        lines = ([f"def {name}(cur, env, value):{comment(where)}"] if given else
                 [f"def {name}(cur, env):{comment(where)}", f"    value = {source.expr if source else 'cur'}"])
        if shape is not None:
            if "as" in node and shape != "each":
                lines.append(f"    env = {{**env, {node['as']!r}: value}}")
            body = getattr(self, f"_shape_{shape}")(node, f"{where}.{shape}")
            label = node.get("from")
            if isinstance(label, str) and _PLAIN_PATH.match(label):
                # errors inside a shape are located under the `from` path that fed it
                lines += ["    try:", *indent(body, 8), "    except TransformError as exc:",
                          f"        raise exc.within(*{tuple(label.split('.'))!r}) from None"]
            else:
                lines += indent(body)
        lines += indent(self._finish(node))
        self.module.add(lines + ["    return value"])
        return name

    # -- shapes: statements that turn `value` into the shape's result ---------------------
    def _shape_each(self, node: dict, where: str) -> list[str]:
        item = self.code(node["each"], where)
        call = _GUARDED_CALL.fullmatch(item.expr)
        if call:  # an item of a list is never MISSING: call the function without the guard
            item = Code(f"{call.group(1)}(cur, env)", call.group(1) in self._sure)
        name, at = node.get("as"), node.get("at")
        label = node.get("from", "@")
        label = label if isinstance(label, str) else "@"
        source = label if not _PLAIN_PATH.match(label) else "@"  # plain paths: see _function
        here = "()" if source == "@" else repr((source,))
        within = "exc.within(i)" if source == "@" else f"exc.within({source!r}, i)"
        filtered = _FILTERED.fullmatch(source)
        if filtered:   # an error is located in the unfiltered list, found by identity (errors only)
            within = f"exc.within(*_origin({tuple(filtered.group(1).split('.'))!r}, src, cur, i, {source!r}))"
        lines = ["if value is not MISSING:",
                 "    if not isinstance(value, list):",
                 f"        raise TransformError(f'expected a list, got {{type(value).__name__}}', {here})",
                 "    out = []"]
        binds = ([f"{name!r}: cur"] if name else []) + ([f"{at!r}: i"] if at else [])
        if binds:
            lines.append("    outer = env")
        if filtered:
            lines.append("    src = cur")
        lines.append("    for i, cur in enumerate(value):")
        if binds:
            lines.append(f"        env = {{**outer, {', '.join(binds)}}}")
        if "where" in node:
            keep = self._expr(node["where"], f"{where}.where")
            lines += [f"        if not {exprgen.truth(keep, self.module.temp())}:", "            continue"]
        lines += ["        try:", f"            got = {item.expr}", "        except TransformError as exc:",
                  f"            raise {within} from None"]
        lines += (["        out.append(got)"] if item.sure else
                  ["        if got is not MISSING:", "            out.append(got)"])
        return lines + ["    value = out"]

    def _shape_object(self, node: dict, where: str) -> list[str]:
        inner = self._object(node["object"], where)
        return ["if value is not MISSING:", f"    value = {inner}(value, env)"]

    def _shape_apply(self, node: dict, where: str) -> list[str]:
        inner = self._define(node["apply"], where)
        return ["if value is not MISSING:", f"    value = {inner}(value, env)"]

    def _shape_switch(self, node: dict, where: str) -> list[str]:
        lines = ["if value is not MISSING:", "    cur = value",
                 f"    key = {self._expr(node['switch'], where)}",
                 "    if key.__class__ is not str:", "        key = _key(key)", "    value = MISSING"]
        for i, (case, sub) in enumerate(node["cases"].items()):
            code = self.code(sub, f"{where}.cases.{case}")
            lines += [f"    {'if' if i == 0 else 'elif'} key == {self.module.literal(case)}:",
                      f"        value = {code.expr}"]
        return lines

    def _call_parts(self, node: dict, where: str) -> tuple[str, str | None]:
        """The function's name in the module, and its arguments' source (None: no `args`,
        the function takes the value itself). Functions see None for absent arguments."""
        name = node["call"]
        fn = self.functions.get(name)
        if fn is None:
            raise self.error(where, f"unknown function {name!r}; known: {sorted(self.functions)}")
        call = self.module.const(fn, "fn")
        args = node.get("args")
        if args is None:
            return call, None
        if isinstance(args, list):
            given = [self._or_none(self.code(a, f"{where}.args[{i}]")) for i, a in enumerate(args)]
        elif isinstance(args, dict):
            given = [f"**{{{', '.join(f'{k!r}: ' + self._or_none(self.code(a, f'{where}.args.{k}')) for k, a in args.items())}}}"]
        else:
            raise self.error(where, "`args` must be a list or a mapping")
        return call, ", ".join(given)

    def _shape_call(self, node: dict, where: str) -> list[str]:
        call, given = self._call_parts(node, where)
        # Functions return None for "nothing".
        done = ["    value = MISSING if result is None else result"]
        if given is None:
            return ["if value is not MISSING:", f"    result = {call}(value)", *done]
        return ["if True:", "    cur = value", f"    result = {call}({given})", *done]

    def _finish(self, node: dict) -> list[str]:
        """`map`, `default` and `required`, on `value`."""
        table = node.get("map")
        has_default = "default" in node
        source = node.get("from")
        label = repr((source,) if isinstance(source, str) and _PLAIN_PATH.match(source) else ())
        lines: list[str] = []
        default = self.module.literal(node["default"]) if has_default else "MISSING"
        if table is not None:
            known = self.module.const(table, "table")
            lines += ["if value is not MISSING:", "    key = value if value.__class__ is str else _key(value)",
                      f"    if key in {known}:",
                      f"        value = {known}[key]", "    else:"]
            lines += ([f"        value = {default}"] if has_default else
                      [f"        raise TransformError(f'{{value!r}} is not one of {{sorted({known})}}', {label})"])
        if node.get("required"):  # `required: <text>` says why, in the spec's words
            why = node["required"] if isinstance(node["required"], str) else "required value is missing"
            lines += ["if value is MISSING:", f"    raise TransformError({why!r}, {label})"]
        elif has_default:
            lines += ["if value is MISSING:", f"    value = {default}"]
        return lines
