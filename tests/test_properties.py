"""Property: any valid OpenAI request gives, for every provider with a spec, either a
provider request that passes that provider's own SDK types, or a clean refusal
(an OpenAI-shaped 4xx error) — never another exception."""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import engine
from tests.oracles import anthropic_types, bedrock_model, cohere_types, gemini_types, openai_types

SB = engine.load()
# Each provider's well-known models (providers.yaml), plus models whose rules differ.
EXTRA_MODELS = {
    "openai": ["o3-mini", "gpt-5", "gpt-4o-audio-preview"],
    "anthropic": ["claude-opus-4-7", "claude-3-7-sonnet-20250219", "claude-3-5-haiku-20241022"],
    "gemini": ["gemini-2.0-flash"],
    "vertex": ["claude-sonnet-4-5@20250929", "gemini-2.5-flash"],
}
MODELS = {p: SB.providers[p].get("models", []) + EXTRA_MODELS.get(p, []) for p in SB.dialects}
OPTIONS = {"region": "us-east-1", "resource": "acme", "project": "acme-project"}


def _openai(body: dict) -> None:
    openai_types.check_create_params(body)


def _vertex(body: dict, model: str) -> None:
    if model.startswith("claude"):
        assert body.pop("anthropic_version") == "vertex-2023-10-16"
        anthropic_types.check_request({"model": model, **body})
    else:
        gemini_types.check_request(body)


def _check_body(provider: str, model: str, req: engine.HttpRequest) -> None:
    """The provider body against the provider's own SDK types (OpenAI's where the provider
    documents OpenAI's body as its own)."""
    from tests import test_compatible_oracles as compatible
    body = req.json
    if provider == "anthropic":
        anthropic_types.check_request(body)
    elif provider == "gemini":
        gemini_types.check_request(body)
    elif provider == "bedrock":
        bedrock_model.check_converse_body(body, model, stream=req.stream)
    elif provider == "vertex":
        _vertex(dict(body), model)
    elif provider == "cohere":
        cohere_types.check_request(body)
    elif provider == "ai21":
        from tests.test_cohere_ai21_oracles import AI21ChatRequest
        AI21ChatRequest.model_validate(body)
    elif provider in compatible.SDK_PARAMS and compatible.SDK_PARAMS[provider] is not None:
        if provider == "together-ai" and isinstance(body.get("tool_choice"), dict):
            # together's SDK types a named tool_choice as a tool *call* (id, index, arguments),
            # against its own OpenAPI document; the named form is checked as OpenAI's instead.
            body = {k: v for k, v in body.items() if k != "tool_choice"}
        compatible._check_sdk(provider, body)
    else:
        _openai({k: v for k, v in body.items() if not (provider == "groq" and k == "service_tier")})


text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=20)
cache = st.one_of(st.none(), st.just({"type": "ephemeral"}))
PNG = "data:image/png;base64,iVBORw0KGgo="


@st.composite
def parts(draw: st.DrawFn, media: bool = True) -> list[dict]:
    kinds = ["text"] + (["image", "audio", "pdf"] if media else [])
    out = []
    for kind in draw(st.lists(st.sampled_from(kinds), min_size=1, max_size=3)):
        if kind == "text":
            part = {"type": "text", "text": draw(text)}
            marker = draw(cache)
            if marker:
                part["cache_control"] = marker
        elif kind == "image":
            part = {"type": "image_url", "image_url": {"url": draw(st.sampled_from([PNG, "https://example.com/x.jpg"]))}}
        elif kind == "audio":
            part = {"type": "input_audio", "input_audio": {"data": "UklGRg==", "format": "wav"}}
        else:
            part = {"type": "file", "file": {"filename": "a.pdf", "file_data": "data:application/pdf;base64,JVBERi0="}}
        out.append(part)
    return out


@st.composite
def conversations(draw: st.DrawFn) -> list[dict]:
    messages: list[dict] = []
    if draw(st.booleans()):
        messages.append({"role": draw(st.sampled_from(["system", "developer"])), "content": draw(text)})
    for turn in range(draw(st.integers(1, 3))):
        content = draw(st.one_of(text, parts()))
        messages.append({"role": "user", "content": content})
        if draw(st.booleans()):
            calls = [{"id": f"call_{turn}_{i}", "type": "function",
                      "function": {"name": "lookup", "arguments": draw(st.sampled_from(['{"q":"x"}', "{}", ""]))}}
                     for i in range(draw(st.integers(1, 2)))]
            messages.append({"role": "assistant", "content": draw(st.sampled_from([None, "", "ok"])),
                             "tool_calls": calls})
            for call in calls:
                messages.append({"role": "tool", "tool_call_id": call["id"], "content": draw(text)})
        elif turn < 2 and draw(st.booleans()):
            messages.append({"role": "assistant", "content": draw(text)})
            messages.append({"role": "user", "content": draw(text)})
    return messages


TOOL = {"type": "function", "function": {"name": "lookup", "description": "Look up",
        "parameters": {"type": "object", "properties": {"q": {"type": "string"}}}}}
SCHEMA = {"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"]}


@st.composite
def requests(draw: st.DrawFn) -> dict:
    req: dict = {"messages": draw(conversations())}
    has_calls = any(m.get("tool_calls") for m in req["messages"])
    if has_calls or draw(st.booleans()):
        req["tools"] = [TOOL]
        if draw(st.booleans()):
            req["tool_choice"] = draw(st.sampled_from(
                ["auto", "none", "required", {"type": "function", "function": {"name": "lookup"}}]))
    optional = {
        "temperature": st.floats(0, 2), "top_p": st.floats(0, 1), "max_tokens": st.integers(1, 8000),
        "max_completion_tokens": st.integers(1, 8000), "stop": st.one_of(text, st.lists(text, min_size=1, max_size=3)),
        "n": st.integers(1, 3), "seed": st.integers(0, 10), "presence_penalty": st.floats(-2, 2),
        "reasoning_effort": st.sampled_from(["none", "minimal", "low", "medium", "high"]),
        "stream": st.booleans(), "user": text, "parallel_tool_calls": st.booleans(),
        "response_format": st.sampled_from([{"type": "text"}, {"type": "json_object"},
                                            {"type": "json_schema", "json_schema": {"name": "s", "schema": SCHEMA}},
                                            {"type": "json_schema", "json_schema": {"name": "s", "strict": True, "schema": SCHEMA}}]),
        "logit_bias": st.just({"42": 1}),
    }
    for key, strategy in optional.items():
        if draw(st.integers(0, 4)) == 0:
            req[key] = draw(strategy)
    if req.get("stream") and draw(st.booleans()):
        req["stream_options"] = {"include_usage": True}
    return req


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(request=requests(), data=st.data())
@pytest.mark.parametrize("provider", sorted(SB.dialects))
def test_any_valid_request_is_translated_or_refused_cleanly(provider: str, request: dict,
                                                            data: st.DataObject) -> None:
    model = data.draw(st.sampled_from(MODELS[provider]))
    body = {"model": model, **request}
    try:
        req = SB.translate_request(provider, body, options=OPTIONS)
    except (engine.UnsupportedFeature, engine.RequestError, engine.TransformError) as exc:
        error = exc.to_openai()["error"]
        assert error["type"] == "invalid_request_error" and error["message"]
        assert exc.status in (400, 404)
        return
    _check_body(provider, model, req)


def _outcome(provider: str, body: dict, policy: str) -> tuple:
    try:
        checked = SB.check(provider, body, policy=policy)
    except engine.UnsupportedFeature as exc:
        return ("refused", exc.code, exc.param, str(exc))
    return ("ok", checked.request, checked.reports, checked.traits)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(request=requests(), data=st.data(), policy=st.sampled_from(["refuse", "drop"]))
@pytest.mark.parametrize("provider", sorted(SB.dialects))
def test_the_planned_check_decides_as_checking_everything(provider: str, request: dict,
                                                          data: st.DataObject, policy: str) -> None:
    """The check detects only the features that can matter for the (provider, model) row and
    passes plain supported parameters and numbers within plain bounds by; checking every feature and
    cell decides the same."""
    from engine.capabilities import Plan
    body = {"model": data.draw(st.sampled_from(MODELS[provider])), **request}
    planned = _outcome(provider, body, policy)
    row = SB.matrix.resolve(provider, body["model"])
    everything = Plan(SB.matrix._detect_all, frozenset(), SB.matrix._detecting(list(SB.matrix._detected_params)), {})
    plan, row.plan = row.plan, everything
    try:
        assert _outcome(provider, body, policy) == planned
    finally:
        row.plan = plan


@settings(max_examples=200, deadline=None)
@given(request=requests())
def test_the_shape_check_gathers_the_request_facts_detection_reads(request: dict) -> None:
    from engine.capabilities import request_facts
    from engine.request_check import check_request
    body = {"model": "m", **request}
    assert check_request(body) == request_facts(body)
