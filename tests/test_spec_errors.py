"""A broken data file gives one clear SpecError naming the file, where inside it, and
what is wrong; never a traceback from deep inside the engine."""
from __future__ import annotations

from pathlib import Path

import pytest

import engine
from tests.support.roots import copy_root


def _break(tmp_path: Path, file: str, old: str, new: str) -> Path:
    root = copy_root(tmp_path)
    path = root / file
    text = path.read_text()
    assert old in text, f"{old!r} not in {file}"
    path.write_text(text.replace(old, new, 1))
    return root


@pytest.mark.parametrize("file,old,new,expect", [
    ("specs/anthropic.yaml", "title: Anthropic Messages", "title: [unclosed", "specs/anthropic.yaml:line"),
    ("specs/anthropic.yaml", "title: Anthropic Messages", "title: Anthropic Messages\ntitle: again", "duplicate key 'title'"),
    ("specs/anthropic.yaml", "title: Anthropic Messages", "title: !!python/object:os.system {}", "not valid YAML"),
    ("specs/anthropic.yaml", "spec: 1", "spec: 2", "specs/anthropic.yaml:spec: 1 was expected"),
    ("specs/anthropic.yaml", "  url: \"{{ base_url }}/v1/messages\"", "  urll: x", "specs/anthropic.yaml:request"),
    ("specs/anthropic.yaml", "call: merge_runs", "call: merge_runz", "unknown function 'merge_runz'"),
    ("specs/anthropic.yaml", "apply: turn}", "apply: tunr}", "unknown define 'tunr'"),
    ("specs/anthropic.yaml", "            map: {minimal: low", "            map: {minimal: low, x: [", "not valid YAML"),
    ("specs/anthropic.yaml", "  end_turn: stop", "  end_turn: finished", "specs/anthropic.yaml:finish_reasons.end_turn"),
    ("specs/groq.yaml", "extends: openai-compatible", "extends: nowhere", "specs/nowhere.yaml: no such spec file"),
    ("specs/openai-compatible.yaml", "abstract: true", "abstract: true\nextends: groq", "extends cycle"),
    ("capabilities.yaml", "    title: Stream\n", "    title: Stream\n    detect2: x\n", "capabilities.yaml:features.stream"),
    ("capabilities.yaml", "      stream: supported\n      non_stream: supported\n      tools: supported\n      json_mode: supported",
     "      stream: maybe\n      non_stream: supported\n      tools: supported\n      json_mode: supported",
     "capabilities.yaml:providers.openai.features.stream"),
    ("capabilities.yaml", "detect: \"stream == `true`\"", "detect: \"stream ==\"", "capabilities.yaml:features.stream.detect"),
    ("capabilities.yaml", "        features:\n          reasoning: supported\n        params:\n          temperature",
     "        features:\n          reasonin: supported\n        params:\n          temperature", "unknown feature 'reasonin'"),
    ("providers.yaml", "    auth: {kind: bearer, env: OPENAI_API_KEY}", "    auth: {kind: magic}", "providers.yaml:providers.openai.auth.kind"),
    ("providers.yaml", "  openai:\n    title: OpenAI", "  openai2:\n    title: OpenAI", "disagree on providers"),
])
def test_broken_files_name_file_location_and_reason(tmp_path: Path, file: str, old: str, new: str,
                                                    expect: str) -> None:
    root = _break(tmp_path, file, old, new)
    with pytest.raises(engine.SpecError) as caught:
        engine.load(root)
    assert expect in str(caught.value)
    assert caught.value.to_openai()["error"]["code"] == "spec_error"


def test_cli_validate_reports_a_broken_spec_without_traceback(tmp_path: Path, capsys) -> None:
    from engine.cli import main
    root = _break(tmp_path, "specs/anthropic.yaml", "call: merge_runs", "call: merge_runz")
    assert main(["--root", str(root), "validate"]) == 2
    err = capsys.readouterr().err
    assert "merge_runz" in err and "Traceback" not in err


def test_the_schemas_themselves_are_valid_json_schema() -> None:
    import json

    from jsonschema import Draft202012Validator

    from engine.loader import bundled_root
    for path in (bundled_root() / "specs" / "_schema").glob("*.json"):
        Draft202012Validator.check_schema(json.loads(path.read_text()))


def test_examples_are_checked_when_read(tmp_path: Path) -> None:
    """Serving never parses examples (cold start); tools and tests that read them check them."""
    root = _break(tmp_path, "specs/groq.yaml", "- name: forwarded", "- name: Bad-Name")
    sb = engine.load(root)
    with pytest.raises(engine.SpecError) as caught:
        sb.files.raw("groq")
    assert "specs/groq.yaml:examples.0.name" in str(caught.value)


def test_a_bare_null_in_an_expression_is_refused_with_the_fix() -> None:
    """JMESPath reads `x != null` as a comparison with a key named "null" (always absent, so it
    seemed to work); a spec must write the literal in backticks."""
    from engine.expr import ExprError, compile_expr
    for text in ("web_search_options != null", "a == true", "[?b == false]", "null", "a.true"):
        with pytest.raises(ExprError, match="in backticks"):
            compile_expr(text)
    assert compile_expr("a != `null`")({"a": {}}, {}) is True


def test_a_bare_literal_word_as_a_from_key_is_refused_at_load() -> None:
    from engine.forms import Compiler
    from engine.functions import FUNCTIONS
    with pytest.raises(engine.SpecError, match="in backticks"):
        Compiler(FUNCTIONS, {}, lambda text, where: None, "x.yaml").compile({"from": "true"}, "w")
