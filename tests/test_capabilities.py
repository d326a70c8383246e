"""The matrix: shape, per-model and per-request rules, refusal before I/O, drop policy."""
from __future__ import annotations

import pytest

import engine
from engine.capabilities import STATES, drop_path

SB = engine.load()
MISSION = {"openai", "azure-openai", "anthropic", "bedrock", "vertex", "cohere", "gemini", "groq", "ai21",
           "cerebras", "sambanova", "perplexity-ai", "together-ai", "xai", "deepinfra"}
SEED_FEATURES = ["Stream", "Non Stream", "Tools", "JSON Mode", "Schema Mode", "Prompt Caching", "Reasoning",
                 "Structured Output"]


def test_all_fifteen_providers_and_the_seed_features_are_in_the_matrix() -> None:
    assert set(SB.providers) == MISSION == set(SB.matrix.rows)
    titles = [f.title for f in SB.matrix.features.values()]
    assert titles[:8] == SEED_FEATURES
    assert {"Image Input", "Audio Input", "Video Input", "PDF Input"} <= set(titles)


def test_every_cell_is_one_of_three_states() -> None:
    for row in SB.matrix.rows.values():
        for cell in list(row.features.values()) + list(row.params.values()):
            assert cell.state in STATES


def test_providers_without_a_spec_support_nothing() -> None:
    for name, entry in SB.providers.items():
        if entry["spec"] is None:
            states = {c.state for c in SB.matrix.rows[name].features.values()}
            assert "supported" not in states, name


def test_calling_a_provider_without_a_spec_is_a_clear_4xx(tmp_path) -> None:
    from tests.support.roots import copy_root
    root = copy_root(tmp_path)
    text = (root / "providers.yaml").read_text()
    start = text.index("  ai21:\n")
    end = text.index("\n  ", text.index("spec:", start))
    (root / "providers.yaml").write_text(text[:start] + text[start:end].replace(
        text[text.index("spec:", start):end], "spec: null") + text[end:])
    sb = engine.load(root)
    with pytest.raises(engine.RequestError) as caught:
        sb.translate_request("ai21", {"model": "jamba-large", "messages": [{"role": "user", "content": "hi"}]})
    assert caught.value.code == "provider_not_implemented" and caught.value.status == 400


@pytest.mark.parametrize("model", ["o1", "o3-mini", "o4-mini-2025-04-16", "gpt-5", "gpt-5-nano"])
@pytest.mark.parametrize("param,value", [("temperature", 0.2), ("top_p", 0.5), ("presence_penalty", 0.1),
                                         ("frequency_penalty", 0.1), ("logit_bias", {"1": 1})])
def test_reasoning_models_refuse_sampling_controls(model: str, param: str, value: object) -> None:
    body = {"model": model, "messages": [{"role": "user", "content": "hi"}], param: value}
    with pytest.raises(engine.UnsupportedFeature) as caught:
        SB.check("openai", body)
    err = caught.value.to_openai()["error"]
    assert err == {"message": err["message"], "type": "invalid_request_error", "param": param,
                   "code": "unsupported_parameter"}
    assert "openai" in err["message"] and model in err["message"] and param in err["message"]


def test_chat_variants_of_gpt_5_keep_temperature() -> None:
    SB.check("openai", {"model": "gpt-5-chat-latest", "messages": [{"role": "user", "content": "hi"}],
                        "temperature": 0.2})


def test_request_gated_rules_apply_only_when_the_feature_is_used() -> None:
    base = {"model": "claude-sonnet-4-5", "messages": [{"role": "user", "content": "hi"}], "temperature": 0.5}
    SB.check("anthropic", base)
    with pytest.raises(engine.UnsupportedFeature):
        SB.check("anthropic", {**base, "reasoning_effort": "low"})
    SB.check("anthropic", {**base, "reasoning_effort": "none"})


def test_refusal_happens_before_any_translation_or_io() -> None:
    body = {"model": "claude-sonnet-4-5", "messages": [{"role": "user", "content": "hi"}], "logit_bias": {"1": 1}}
    with pytest.raises(engine.UnsupportedFeature):
        SB.translate_request("anthropic", body)


def test_drop_policy_removes_nested_params_and_reports_them() -> None:
    body = {"model": "llama-3.3-70b-versatile", "messages": [{"role": "user", "name": "x", "content": "hi"}]}
    checked = SB.check("groq", body, policy="drop")
    assert checked.request["messages"] == [{"role": "user", "content": "hi"}]
    assert body["messages"][0]["name"] == "x", "the caller's request is not mutated"
    assert checked.reports[0]["type"] == "dropped" and checked.reports[0]["param"] == "messages[].name"


def test_drop_policy_never_drops_features() -> None:
    body = {"model": "claude-sonnet-4-5", "messages": [{"role": "user", "content": [
        {"type": "input_audio", "input_audio": {"data": "AA==", "format": "wav"}}]}]}
    with pytest.raises(engine.UnsupportedFeature) as caught:
        SB.check("anthropic", body, policy="drop")
    assert caught.value.code == "unsupported_feature"


def test_drop_path_copies() -> None:
    data = {"a": [{"b": 1, "c": 2}], "d": {"e": 1}}
    assert drop_path(data, ("a[]", "b")) == {"a": [{"c": 2}], "d": {"e": 1}}
    assert drop_path(data, ("d", "e")) == {"a": [{"b": 1, "c": 2}], "d": {}}
    assert data == {"a": [{"b": 1, "c": 2}], "d": {"e": 1}}


def test_value_limits_refuse_or_clamp() -> None:
    body = {"model": "claude-sonnet-4-5", "messages": [{"role": "user", "content": "hi"}]}
    with pytest.raises(engine.UnsupportedFeature) as caught:
        SB.check("anthropic", {**body, "n": 3})
    assert caught.value.code == "unsupported_value"
    checked = SB.check("anthropic", {**body, "temperature": 2})
    assert checked.request["temperature"] == 1 and checked.reports[0]["type"] == "clamped"


def test_resolution_is_cached_per_model() -> None:
    assert SB.matrix.resolve("openai", "o3-mini") is SB.matrix.resolve("openai", "o3-mini")


def test_capabilities_api_returns_the_matrix_as_data() -> None:
    data = SB.capabilities()
    assert [p["id"] for p in data["providers"]] == list(SB.providers)
    cell = next(p for p in data["providers"] if p["id"] == "openai")["features"]["reasoning"]
    assert cell == {"state": "supported", "by_model": True, "notes": []}


def test_model_globs_match_whole_ids_whichever_pattern_of_a_rule_matches() -> None:
    """A rule's patterns are one regex, compiled on first use: each alternative stays anchored."""
    from engine.cells import Globs
    globs = Globs(["gpt-5", "o[134]*"])
    assert globs.match("gpt-5") and globs.match("o3-mini") and globs.match("o1")
    assert not globs.match("gpt-5-mini") and not globs.match("xo3") and not globs.match("o2")
    assert not Globs(None) and not Globs([])


def test_a_refused_object_value_is_shown_as_json() -> None:
    from engine.cells import Cell, out_of_range, shown
    assert shown({"type": "function", "function": {"name": "f"}}) == '{"type":"function","function":{"name":"f"}}'
    assert shown("high") == "'high'" and shown(2) == "2"
    assert shown(["x" * 100]).endswith("...") and len(shown(["x" * 100])) == 80
    cell = Cell("supported", None, None, ("auto", "none"), False, None)
    assert out_of_range(cell, "required") == "must be one of auto, none, not 'required'"
