"""The transform vocabulary, one data file per form (tests/forms/*.yaml), found by
glob and run by one parametrized test (JSON-Schema-Test-Suite style)."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from engine.dialect import _JINJA
from engine.errors import SpecError, TransformError
from engine.forms import MISSING, Compiler
from engine.functions import FUNCTIONS
from engine.templates import compile_template

HERE = Path(__file__).parent / "forms"


def compiler(defines: dict | None = None) -> Compiler:
    return Compiler(FUNCTIONS, defines or {}, lambda t, w: compile_template(_JINJA, t, "test", w), "test")


def _cases():
    for path in sorted(HERE.glob("*.yaml")):
        for case in yaml.safe_load(path.read_text()):
            yield pytest.param(case, id=f"{path.stem}: {case['description']}")


@pytest.mark.parametrize("case", list(_cases()))
def test_form_case(case: dict) -> None:
    node = compiler().compile(case["spec"], "spec")
    env = {"request": case["input"], **case.get("env", {})}
    if "error" in case:
        with pytest.raises(TransformError) as caught:
            node(case["input"], env)
        assert case["error"] in str(caught.value)
        return
    got = node(case["input"], env)
    assert (None if got is MISSING else got) == case["output"]


@pytest.mark.parametrize("spec,message", [
    ({"from": "a", "map": {"x": 1}}, "needs a `default`"),
    ({"each": 1, "object": {}}, "one of"),
    ({"from": "a", "const": 1}, "one source"),
    ({"at": "x", "from": "a"}, "`at` needs `each`"),
    ({"switch": "a"}, "needs `cases`"),
    ({"call": "no_such_fn"}, "unknown function"),
    ({"apply": "nowhere"}, "unknown define"),
    ({"from": "a[?"}, "invalid expression"),
    ({"when": "a"}, "needs something to produce"),
    ({"when": "a", "unless": "b", "const": 1}, "not both"),
    ({"else": 1, "const": 2}, "`else` needs"),
    ({"template": "{{ a }"}, "does not compile"),
])
def test_malformed_forms_fail_at_load_with_their_location(spec: dict, message: str) -> None:
    with pytest.raises(SpecError) as caught:
        compiler().compile({"outer": {"field": spec}}, "request.body")
    assert message in str(caught.value)
    assert "request.body.outer.field" in str(caught.value)


def test_defines_may_recurse() -> None:
    defines = {"tree": {"v": {"from": "v"}, "kids": {"from": "kids", "each": {"apply": "tree"}}}}
    node = compiler(defines).compile({"apply": "tree"}, "x")
    data = {"v": 1, "kids": [{"v": 2, "kids": [{"v": 3}]}]}
    assert node(data, {}) == {"v": 1, "kids": [{"v": 2, "kids": [{"v": 3}]}]}


@pytest.mark.parametrize("template", [
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ cycler.__init__.__globals__ }}",
    "{{ x.__globals__ }}",
    "{% set y = 1 %}{{ ().__class__.__base__ }}",
])
def test_templates_cannot_reach_python_objects(template: str) -> None:
    node = compiler().compile({"template": template}, "t")
    with pytest.raises(TransformError):
        node({}, {"x": len})


@pytest.mark.parametrize("key", ["a\nimport os\nos.exit(3)", "b\r\n    raise SystemExit", "c\u2028x = 1", "d' + '"])
def test_spec_keys_stay_data_in_the_generated_source(key: str) -> None:
    c = compiler({f"def\n{key}": {"const": 2}})
    node = c.compile({key: {"const": 1}, "nested": {key: {"from": "a"}}, "via": {"apply": f"def\n{key}"}}, "t")
    assert node({"a": 3}, {}) == {key: 1, "nested": {key: 3}, "via": 2}
    lines = c.module.source().splitlines()
    assert all(line.startswith(("def ", "    ")) or not line for line in lines), lines


@pytest.mark.parametrize("value", [0, "", False, [], {}, 0.0])
def test_an_expression_field_drops_only_null_and_keeps_every_falsy_value(value) -> None:
    c = compiler()
    node = c.compile({"obj": {"kept": {"from": "a.b"}, "gone": {"from": "a.c"}, "fn": {"from": "to_string(a.b)"}},
                      "list": [{"from": "a.b"}, {"from": "a.c"}]}, "t")
    assert node({"a": {"b": value, "c": None}}, {}) == {
        "obj": {"kept": value, "fn": __import__("json").dumps(value) if not isinstance(value, str) else value},
        "list": [value]}
    # written from the raw expression and tested against None once, without the MISSING round trip
    source = c.module.source()
    assert "if value is not None:" in source and "(MISSING if (" not in source, source
