"""Every provider wire fixture under tests/fixtures/ must be a body the provider could really send.

Layout (see tests/fixtures/<provider>/):
  <feature>.<n>.json         one non-stream response body
  <feature>.<n>.chunks.txt   one stream event payload per line (compact JSON)
  <feature>.<n>.expect.json  what an OpenAI client must end up with

Provider bodies are checked against the official SDK types (anthropic, google-genai,
openai) or the botocore bedrock-runtime service model. Models whose SDK base class
allows unknown keys (anthropic, openai) are additionally checked for stray keys, so a
typo in a field name fails instead of silently landing in `model_extra`.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, TypeAdapter

FIXTURES = Path(__file__).parent / "fixtures"
PROVIDERS = ("anthropic", "gemini", "bedrock", "openai", "groq")


def _files(suffix: str) -> list[Path]:
    return sorted(p for p in FIXTURES.glob(f"*/*{suffix}") if p.is_file())


def _bodies() -> list[Path]:
    return [p for p in _files(".json") if not p.name.endswith(".expect.json")]


def _ids(paths: list[Path]) -> list[str]:
    return [str(p.relative_to(FIXTURES)) for p in paths]


def _lines(path: Path) -> list[tuple[int, str]]:
    out = []
    for no, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        assert line.strip(), f"{path.name}:{no}: blank line"
        out.append((no, line))
    assert out, f"{path.name}: empty stream"
    return out


def _load_lines(path: Path) -> list[dict[str, Any]]:
    events = []
    for no, line in _lines(path):
        obj = json.loads(line)
        assert isinstance(obj, dict), f"{path.name}:{no}: not a JSON object"
        # one compact JSON object per line
        assert line == json.dumps(obj, ensure_ascii=False, separators=(",", ":")), f"{path.name}:{no}: not compact"
        events.append(obj)
    return events


def _stem(path: Path) -> str:
    for suffix in (".expect.json", ".chunks.txt", ".json"):
        if path.name.endswith(suffix):
            return path.name[: -len(suffix)]
    raise AssertionError(path)


def _extras(obj: Any, path: str = "$") -> list[str]:
    """Paths of keys a permissive SDK model accepted without knowing them."""
    found: list[str] = []
    if isinstance(obj, BaseModel):
        for key in (obj.model_extra or {}):
            found.append(f"{path}.{key}")
        for name in type(obj).model_fields:
            found += _extras(getattr(obj, name), f"{path}.{name}")
    elif isinstance(obj, (list, tuple)):
        for i, item in enumerate(obj):
            found += _extras(item, f"{path}[{i}]")
    elif isinstance(obj, dict):
        for k, v in obj.items():
            found += _extras(v, f"{path}.{k}")
    return found


# --------------------------------------------------------------------------- layout


def test_fixture_tree_present():
    for provider in PROVIDERS:
        assert (FIXTURES / provider).is_dir(), provider
        assert list((FIXTURES / provider).glob("*.expect.json")), provider


@pytest.mark.parametrize("path", _files(".expect.json"), ids=_ids(_files(".expect.json")))
def test_every_expect_has_a_provider_body(path: Path):
    stem = _stem(path)
    assert (path.parent / f"{stem}.json").exists() or (path.parent / f"{stem}.chunks.txt").exists()


@pytest.mark.parametrize("path", _bodies() + _files(".chunks.txt"), ids=_ids(_bodies() + _files(".chunks.txt")))
def test_every_provider_body_has_an_expect(path: Path):
    assert (path.parent / f"{_stem(path)}.expect.json").exists()


def test_no_stray_files():
    for p in FIXTURES.rglob("*"):
        if p.is_file():
            assert p.parent.parent == FIXTURES and p.parent.name in PROVIDERS, p
            assert p.name.endswith((".json", ".chunks.txt")), p


# --------------------------------------------------------------------------- anthropic


def _anthropic_adapters():
    from anthropic.types import Message, RawMessageStreamEvent

    return TypeAdapter(Message), TypeAdapter(RawMessageStreamEvent)


ANTH_BODIES = [p for p in _bodies() if p.parent.name == "anthropic"]
ANTH_STREAMS = [p for p in _files(".chunks.txt") if p.parent.name == "anthropic"]


@pytest.mark.parametrize("path", ANTH_BODIES, ids=_ids(ANTH_BODIES))
def test_anthropic_message(path: Path):
    message_ta, _ = _anthropic_adapters()
    body = json.loads(path.read_text(encoding="utf-8"))
    msg = message_ta.validate_python(body)
    assert _extras(msg) == []
    for block in body["content"]:
        for key in ("signature", "data"):
            if block["type"] in ("thinking", "redacted_thinking") and key in block:
                base64.b64decode(block[key], validate=True)
    assert msg.stop_reason is not None, "non-stream stop_reason is never null"


@pytest.mark.parametrize("path", ANTH_STREAMS, ids=_ids(ANTH_STREAMS))
def test_anthropic_stream(path: Path):
    _, event_ta = _anthropic_adapters()
    events = _load_lines(path)
    assert events[0]["type"] == "message_start" and events[-1]["type"] == "message_stop"
    assert any(e["type"] == "message_delta" for e in events)
    open_blocks: set[int] = set()
    for e in events:
        if e["type"] == "ping":
            assert e == {"type": "ping"}
            continue
        ev = event_ta.validate_python(e)
        assert _extras(ev) == [], e
        if e["type"] == "message_start":
            assert e["message"]["content"] == [] and e["message"]["stop_reason"] is None
        elif e["type"] == "content_block_start":
            assert e["index"] not in open_blocks
            open_blocks.add(e["index"])
        elif e["type"] == "content_block_delta":
            assert e["index"] in open_blocks
        elif e["type"] == "content_block_stop":
            open_blocks.remove(e["index"])
    assert not open_blocks


# --------------------------------------------------------------------------- gemini

GEM_BODIES = [p for p in _bodies() if p.parent.name == "gemini"]
GEM_STREAMS = [p for p in _files(".chunks.txt") if p.parent.name == "gemini"]


def _check_gemini(raw: str):
    from google.genai import types

    # google-genai models forbid unknown keys; validating from JSON also base64-decodes thoughtSignature.
    resp = types.GenerateContentResponse.model_validate_json(raw)
    for cand in resp.candidates or []:
        for part in (cand.content.parts if cand.content else None) or []:
            if part.thought_signature is not None:
                assert part.thought_signature, "empty thoughtSignature"
    for sig in _find_key(json.loads(raw), "thoughtSignature"):
        base64.b64decode(sig, validate=True)
    # The SDK also accepts snake_case field names (populate_by_name); the wire is camelCase.
    assert _snake_keys(json.loads(raw)) == [], "Gemini wire keys are camelCase"
    return resp


def _snake_keys(obj: Any, path: str = "$") -> list[str]:
    found: list[str] = []
    if isinstance(obj, dict):
        for k, v in obj.items():
            if "_" in k:
                found.append(f"{path}.{k}")
            if k not in ("args", "response"):  # functionCall.args is model-produced user data
                found += _snake_keys(v, f"{path}.{k}")
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            found += _snake_keys(v, f"{path}[{i}]")
    return found


def _find_key(obj: Any, key: str):
    if isinstance(obj, dict):
        for k, v in obj.items():
            if k == key:
                yield v
            yield from _find_key(v, key)
    elif isinstance(obj, list):
        for v in obj:
            yield from _find_key(v, key)


@pytest.mark.parametrize("path", GEM_BODIES, ids=_ids(GEM_BODIES))
def test_gemini_response(path: Path):
    resp = _check_gemini(path.read_text(encoding="utf-8"))
    assert resp.candidates and resp.candidates[0].finish_reason is not None
    assert resp.usage_metadata is not None


@pytest.mark.parametrize("path", GEM_STREAMS, ids=_ids(GEM_STREAMS))
def test_gemini_stream(path: Path):
    lines = _lines(path)
    _load_lines(path)
    resps = [_check_gemini(line) for _, line in lines]
    assert resps[-1].candidates[0].finish_reason is not None
    assert all(r.candidates[0].finish_reason is None for r in resps[:-1])
    assert len({r.response_id for r in resps}) == 1


# --------------------------------------------------------------------------- bedrock

BED_BODIES = [p for p in _bodies() if p.parent.name == "bedrock"]
BED_STREAMS = [p for p in _files(".chunks.txt") if p.parent.name == "bedrock"]


def _bedrock_model():
    import botocore.session

    return botocore.session.get_session().get_service_model("bedrock-runtime")


def _validate_shape(value: Any, shape) -> None:
    from botocore.validate import ParamValidator

    report = ParamValidator().validate(value, shape)
    assert not report.has_errors(), report.generate_report()


@pytest.mark.parametrize("path", BED_BODIES, ids=_ids(BED_BODIES))
def test_bedrock_converse_response(path: Path):
    shape = _bedrock_model().operation_model("Converse").output_shape
    body = json.loads(path.read_text(encoding="utf-8"))
    _validate_shape(body, shape)
    assert set(body) >= {"output", "stopReason", "usage", "metrics"}
    assert body["stopReason"] in shape.members["stopReason"].enum


@pytest.mark.parametrize("path", BED_STREAMS, ids=_ids(BED_STREAMS))
def test_bedrock_converse_stream(path: Path):
    stream_shape = _bedrock_model().operation_model("ConverseStream").output_shape.members["stream"]
    events = _load_lines(path)
    names = []
    for e in events:
        assert len(e) == 1, e
        (name, payload), = e.items()
        assert name in stream_shape.members, name
        assert isinstance(payload.get("p"), str) and payload["p"], "real Bedrock events carry the p padding"
        _validate_shape({k: v for k, v in payload.items() if k != "p"}, stream_shape.members[name])
        names.append(name)
    assert names[0] == "messageStart"
    assert names[-2:] == ["messageStop", "metadata"]


# --------------------------------------------------------------------------- openai / groq

OAI_BODIES = [p for p in _bodies() if p.parent.name in ("openai", "groq")]
OAI_STREAMS = [p for p in _files(".chunks.txt") if p.parent.name in ("openai", "groq")]

GROQ_SERVICE_TIERS = {"auto", "on_demand", "flex", "performance"}
GROQ_USAGE_EXTRAS = {"queue_time", "prompt_time", "completion_time", "total_time"}


def _allowed_extra(path: str, groq: bool) -> bool:
    if not groq:
        return False
    leaf = path.rsplit(".", 1)[-1]
    if path in ("$.x_groq", "$.usage_breakdown"):
        return True
    if path.startswith("$.usage.") and leaf in GROQ_USAGE_EXTRAS:
        return True
    return False


def _check_groq_extension(obj: dict[str, Any], chunk: bool) -> dict[str, Any]:
    obj = dict(obj)
    tier = obj.pop("service_tier", None)
    assert tier is None or tier in GROQ_SERVICE_TIERS
    xg = obj.get("x_groq")
    if xg is not None:
        assert set(xg) <= {"id", "seed", "debug", "usage", "usage_breakdown", "error"}, xg
        if not chunk:
            assert isinstance(xg["id"], str) and xg["id"].startswith("req_")
        if "usage" in xg and chunk:
            u = xg["usage"]
            assert set(u) <= {"prompt_tokens", "completion_tokens", "total_tokens"} | GROQ_USAGE_EXTRAS | {
                "prompt_tokens_details", "completion_tokens_details"}
            assert u["total_tokens"] == u["prompt_tokens"] + u["completion_tokens"]
    ub = obj.get("usage_breakdown", None)
    assert ub is None or isinstance(ub.get("models"), list)
    return obj


@pytest.mark.parametrize("path", OAI_BODIES, ids=_ids(OAI_BODIES))
def test_openai_chat_completion(path: Path):
    from openai.types.chat import ChatCompletion

    groq = path.parent.name == "groq"
    body = json.loads(path.read_text(encoding="utf-8"))
    if groq:
        body = _check_groq_extension(body, chunk=False)
        assert "x_groq" in body
    cc = ChatCompletion.model_validate(body)
    bad = [p for p in _extras(cc) if not _allowed_extra(p, groq)]
    assert bad == []
    assert cc.usage is not None and cc.usage.total_tokens == cc.usage.prompt_tokens + cc.usage.completion_tokens
    for tc in cc.choices[0].message.tool_calls or []:
        assert isinstance(json.loads(tc.function.arguments), dict)


@pytest.mark.parametrize("path", OAI_STREAMS, ids=_ids(OAI_STREAMS))
def test_openai_chunks(path: Path):
    from openai.types.chat import ChatCompletionChunk

    groq = path.parent.name == "groq"
    events = _load_lines(path)
    assert "[DONE]" not in path.read_text(encoding="utf-8")
    ids = set()
    for e in events:
        if groq:
            e = _check_groq_extension(e, chunk=True)
        ch = ChatCompletionChunk.model_validate(e)
        bad = [p for p in _extras(ch) if not _allowed_extra(p, groq)]
        assert bad == [], e
        ids.add((ch.id, ch.created, ch.model))
        for c in ch.choices:
            assert c.index == 0
    assert len(ids) == 1, "id/created/model repeat on every chunk"
    assert events[0]["choices"][0]["delta"].get("role") == "assistant"
    finishes = [c["finish_reason"] for e in events for c in e["choices"] if c["finish_reason"]]
    assert len(finishes) == 1
    if groq:
        assert events[0]["x_groq"]["id"].startswith("req_")
        assert any("usage" in (e.get("x_groq") or {}) for e in events), "Groq puts usage in x_groq on the last chunk"


# --------------------------------------------------------------------------- expect.json

EXPECTS = _files(".expect.json")
FINISH = {"stop", "length", "tool_calls", "content_filter"}
USAGE_KEYS = {"prompt_tokens", "completion_tokens", "total_tokens", "cached_tokens", "reasoning_tokens"}


@pytest.mark.parametrize("path", EXPECTS, ids=_ids(EXPECTS))
def test_expect_internally_consistent(path: Path):
    provider = path.parent.name
    exp = json.loads(path.read_text(encoding="utf-8"))
    assert set(exp) == {"content", "reasoning_content", "thinking_blocks", "tool_calls", "finish_reason", "usage"}
    assert exp["content"] is None or (isinstance(exp["content"], str) and exp["content"])
    assert exp["reasoning_content"] is None or (isinstance(exp["reasoning_content"], str) and exp["reasoning_content"])
    assert exp["finish_reason"] in FINISH

    u = exp["usage"]
    assert set(u) == USAGE_KEYS and all(isinstance(v, int) and v >= 0 for v in u.values())
    assert u["total_tokens"] == u["prompt_tokens"] + u["completion_tokens"]
    assert u["cached_tokens"] <= u["prompt_tokens"]
    assert u["reasoning_tokens"] <= u["completion_tokens"]

    tcs = exp["tool_calls"]
    if tcs is not None:
        assert tcs, "use null, not [], for no tool calls"
        assert exp["finish_reason"] == "tool_calls"
        for tc in tcs:
            assert set(tc) == {"id", "name", "arguments"}
            assert isinstance(tc["name"], str) and tc["name"]
            assert isinstance(tc["arguments"], dict)
            if provider == "gemini":
                assert tc["id"] is None
            else:
                assert isinstance(tc["id"], str) and tc["id"]
        assert len({tc["id"] for tc in tcs if tc["id"]}) == len([tc for tc in tcs if tc["id"]])
    else:
        assert exp["finish_reason"] != "tool_calls"

    tb = exp["thinking_blocks"]
    if tb is not None:
        assert provider in ("anthropic", "bedrock") and tb
        for b in tb:
            if b["type"] == "thinking":
                assert set(b) == {"type", "thinking", "signature"} and b["signature"]
            else:
                assert b["type"] == "redacted_thinking" and set(b) == {"type", "data"} and b["data"]
        thinking_text = "".join(b["thinking"] for b in tb if b["type"] == "thinking")
        assert (exp["reasoning_content"] or "") == thinking_text

    if exp["content"] is None and tcs is None:
        assert exp["finish_reason"] in ("content_filter", "length")


@pytest.mark.parametrize("path", EXPECTS, ids=_ids(EXPECTS))
def test_expect_usage_matches_provider_numbers(path: Path):
    """The expected usage follows the contract arithmetic from the provider's own numbers."""
    provider, stem = path.parent.name, _stem(path)
    u = json.loads(path.read_text(encoding="utf-8"))["usage"]
    body_path = path.parent / f"{stem}.json"
    chunks_path = path.parent / f"{stem}.chunks.txt"
    candidates: list[dict[str, Any]] = []  # provider usage objects that must agree with expect

    if provider == "anthropic":
        if body_path.exists():
            candidates.append(json.loads(body_path.read_text(encoding="utf-8"))["usage"])
        if chunks_path.exists():
            ev = _load_lines(chunks_path)
            final = dict(ev[0]["message"]["usage"])
            for e in ev:
                if e["type"] == "message_delta":
                    final.update({k: v for k, v in e["usage"].items() if v is not None})
            candidates.append(final)
        for a in candidates:
            cw, cr = a.get("cache_creation_input_tokens") or 0, a.get("cache_read_input_tokens") or 0
            assert u["prompt_tokens"] == a["input_tokens"] + cw + cr
            assert u["cached_tokens"] == cr
            assert u["completion_tokens"] == a["output_tokens"]
            assert u["reasoning_tokens"] == (a.get("output_tokens_details") or {}).get("thinking_tokens", 0)
    elif provider == "bedrock":
        if body_path.exists():
            candidates.append(json.loads(body_path.read_text(encoding="utf-8"))["usage"])
        if chunks_path.exists():
            candidates.append(_load_lines(chunks_path)[-1]["metadata"]["usage"])
        for b in candidates:
            cr, cw = b.get("cacheReadInputTokens", 0), b.get("cacheWriteInputTokens", 0)
            assert u["prompt_tokens"] == b["inputTokens"] + cr + cw
            assert u["cached_tokens"] == cr
            assert u["completion_tokens"] == b["outputTokens"]
            assert u["total_tokens"] == b["totalTokens"]
    elif provider == "gemini":
        if body_path.exists():
            candidates.append(json.loads(body_path.read_text(encoding="utf-8"))["usageMetadata"])
        if chunks_path.exists():
            candidates.append(_load_lines(chunks_path)[-1]["usageMetadata"])
        for g in candidates:
            thoughts = g.get("thoughtsTokenCount", 0)
            assert u["prompt_tokens"] == g["promptTokenCount"]
            assert u["completion_tokens"] == g.get("candidatesTokenCount", 0) + thoughts
            assert u["reasoning_tokens"] == thoughts
            assert u["cached_tokens"] == g.get("cachedContentTokenCount", 0)
            assert u["total_tokens"] == g["totalTokenCount"]
    else:  # openai, groq
        if body_path.exists():
            candidates.append(json.loads(body_path.read_text(encoding="utf-8"))["usage"])
        if chunks_path.exists():
            found = None
            for e in _load_lines(chunks_path):
                found = e.get("usage") or (e.get("x_groq") or {}).get("usage") or found
            assert found is not None
            candidates.append(found)
        for o in candidates:
            assert u["prompt_tokens"] == o["prompt_tokens"]
            assert u["completion_tokens"] == o["completion_tokens"]
            assert u["cached_tokens"] == ((o.get("prompt_tokens_details") or {}).get("cached_tokens") or 0)
            assert u["reasoning_tokens"] == ((o.get("completion_tokens_details") or {}).get("reasoning_tokens") or 0)
    assert candidates
