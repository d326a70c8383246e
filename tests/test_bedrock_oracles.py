"""The Bedrock spec checked by code nobody here wrote.

- Every request example's body passes botocore's Converse / ConverseStream input shape
  (plus enums, max lengths, object-only documents: tests.oracles.bedrock_model), and the
  conversation rules no shape checks (first turn user, turns alternate, no blank text,
  no empty content, reasoning first, every toolResult answers a toolUse just before it).
- Every output / chunk passes the OpenAI SDK's strict types (our documented extensions
  set aside).
- Every recorded fixture is valid Bedrock (botocore's response shape and event shapes)
  and, replayed through the engine (the stream re-framed as aws-eventstream and fed in
  small pieces), gives the content, reasoning, tool calls, finish and usage its
  `.expect.json` states; the non-stream twin gives the same.
"""
from __future__ import annotations

import json

import pytest

import engine
from engine.loader import SpecFiles, bundled_root
from tests.oracles import bedrock_model as br
from tests.oracles.openai_types import check_chat_completion, check_chunk
from tests.support.wire import FIXTURES, aws_stream, fixture_events, fixture_expect, fixture_json

EXT = frozenset({"reasoning_content", "thinking_blocks", "extra_content", "provider_finish_reason"})
NOW = 1700000000
SB = engine.load()
EXAMPLES = SpecFiles(bundled_root()).raw("bedrock").get("examples", [])
FIXTURE_NAMES = sorted(p.name[:-len(".expect.json")] for p in (FIXTURES / "bedrock").glob("*.expect.json"))
# The thinking fixture comes from a model that reasons; the others from any Claude.
MODELS = {"thinking.1": "us.anthropic.claude-3-7-sonnet-20250219-v1:0"}
DEFAULT_MODEL = "anthropic.claude-sonnet-4-5-20250929-v1:0"


def _examples(*kinds: str):
    for ex in EXAMPLES:
        if all(k in ex for k in kinds) and "refusal" not in ex:
            yield pytest.param(ex, id=ex["name"])


def _model(ex: dict) -> str:
    return ex.get("model") or ex["request"]["model"]


def _text_blocks(content: list) -> list[str]:
    return [b["text"] for b in content if "text" in b]


def _conversation_problems(body: dict) -> list[str]:
    """Converse's rules that botocore's shapes do not state (each is a 400 upstream)."""
    problems = []
    messages = body.get("messages") or []
    if messages and messages[0]["role"] != "user":
        problems.append("the first message is not a user turn")
    pending: set[str] = set()
    for i, message in enumerate(messages):
        content = message.get("content") or []
        if not content:
            problems.append(f"messages[{i}]: empty content")
        if i and message["role"] == messages[i - 1]["role"]:
            problems.append(f"messages[{i}]: two {message['role']} turns in a row")
        for text in _text_blocks(content):
            if not text.strip():
                problems.append(f"messages[{i}]: blank text block")
        kinds = [next(iter(b)) for b in content]
        if "reasoningContent" in kinds and kinds[:kinds.count("reasoningContent")] != \
                ["reasoningContent"] * kinds.count("reasoningContent"):
            problems.append(f"messages[{i}]: reasoningContent is not first in its turn")
        for j, block in enumerate(content):
            if "cachePoint" in block and j and "reasoningContent" in content[j - 1]:
                problems.append(f"messages[{i}]: cachePoint right after a reasoning block")
        answered = {b["toolResult"]["toolUseId"] for b in content if "toolResult" in b}
        if message["role"] == "user" and answered - pending:
            problems.append(f"messages[{i}]: toolResult for unknown ids {sorted(answered - pending)}")
        pending = {b["toolUse"]["toolUseId"] for b in content if "toolUse" in b}
    uses_tools = any("toolUse" in b or "toolResult" in b for m in messages for b in m.get("content") or [])
    if uses_tools and not body.get("toolConfig"):
        problems.append("tool use in the conversation but no toolConfig")
    for block in body.get("system") or []:
        if "text" in block and not block["text"].strip():
            problems.append("blank system text block")
    return problems


# -- spec examples --------------------------------------------------------------------
@pytest.mark.parametrize("ex", list(_examples("request", "body")))
def test_request_body_passes_botocore_model(ex: dict) -> None:
    br.check_converse_body(ex["body"], _model(ex), stream=bool(ex["request"].get("stream")))
    assert _conversation_problems(ex["body"]) == []


@pytest.mark.parametrize("ex", list(_examples("response", "output")))
def test_response_example_is_valid_both_sides(ex: dict) -> None:
    br.check_converse_response(ex["response"])
    check_chat_completion(ex["output"], extra_ok=EXT)


@pytest.mark.parametrize("ex", list(_examples("events", "chunks")))
def test_stream_example_is_valid_both_sides(ex: dict) -> None:
    br.check_stream_payloads(aws_stream(ex["events"]))
    for chunk in ex["chunks"]:
        check_chunk(chunk, extra_ok=EXT)


def test_every_bedrock_example_kind_is_present() -> None:
    kinds = {k for ex in EXAMPLES for k in ("body", "refusal", "output", "chunks", "error") if k in ex}
    assert kinds == {"body", "refusal", "output", "chunks", "error"}


# -- recorded fixtures --------------------------------------------------------------------
def _stream(name: str, piece: int = 7) -> list[dict]:
    request = {"model": MODELS.get(name, DEFAULT_MODEL), "stream": True,
               "stream_options": {"include_usage": True},
               "messages": [{"role": "user", "content": "hi"}]}
    raw = aws_stream(fixture_events("bedrock", name))
    st = SB.stream("bedrock", request, now=NOW)
    chunks: list[dict] = []
    for i in range(0, len(raw), piece):   # frames split mid-prelude and mid-payload
        chunks += st.feed(raw[i:i + piece])
    return chunks + st.close()


def _fold(chunks: list[dict]) -> dict:
    """Chunks -> the fields the .expect.json files state."""
    content, reasoning, blocks, calls, finish, usage = [], [], [], {}, None, None
    for chunk in chunks:
        check_chunk(chunk, extra_ok=EXT)
        if chunk.get("usage"):
            usage = chunk["usage"]
        for choice in chunk["choices"]:
            delta = choice["delta"]
            content.append(delta.get("content") or "")
            reasoning.append(delta.get("reasoning_content") or "")
            blocks += delta.get("thinking_blocks") or []
            for call in delta.get("tool_calls") or []:
                slot = calls.setdefault(call["index"], {"id": None, "name": None, "arguments": ""})
                slot["id"] = call.get("id") or slot["id"]
                slot["name"] = call.get("function", {}).get("name") or slot["name"]
                slot["arguments"] += call.get("function", {}).get("arguments") or ""
            finish = choice.get("finish_reason") or finish
    return {"content": "".join(content) or None, "reasoning_content": "".join(reasoning) or None,
            "thinking_blocks": blocks or None,
            "tool_calls": [calls[i] for i in sorted(calls)] or None, "finish_reason": finish,
            "usage": usage}


def _expected_usage(usage: dict) -> dict:
    return {"prompt_tokens": usage["prompt_tokens"], "completion_tokens": usage["completion_tokens"],
            "total_tokens": usage["total_tokens"],
            "cached_tokens": usage["prompt_tokens_details"]["cached_tokens"],
            "reasoning_tokens": usage["completion_tokens_details"]["reasoning_tokens"]}


def _compare(got: dict, want: dict) -> None:
    assert got["content"] == want["content"]
    assert got["reasoning_content"] == want["reasoning_content"]
    assert got["thinking_blocks"] == want["thinking_blocks"]
    calls = [{"id": c["id"], "name": c["name"], "arguments": json.loads(c["arguments"])}
             for c in got["tool_calls"] or []] or None
    assert calls == want["tool_calls"]
    assert got["finish_reason"] == want["finish_reason"]
    assert _expected_usage(got["usage"]) == want["usage"]
    assert want["usage"]["total_tokens"] == want["usage"]["prompt_tokens"] + want["usage"]["completion_tokens"]


@pytest.mark.parametrize("name", FIXTURE_NAMES)
def test_fixture_stream_is_valid_bedrock(name: str) -> None:
    raw = aws_stream(fixture_events("bedrock", name))
    br.check_stream_payloads(raw)
    assert br.parse_converse_stream(raw)  # boto3's own path reads it


@pytest.mark.parametrize("name", FIXTURE_NAMES)
def test_fixture_stream_replay_matches_expectation(name: str) -> None:
    _compare(_fold(_stream(name)), fixture_expect("bedrock", name))


@pytest.mark.parametrize("name", FIXTURE_NAMES)
def test_fixture_response_matches_expectation(name: str) -> None:
    body = fixture_json("bedrock", name)
    br.check_converse_response(body)
    request = {"model": MODELS.get(name, DEFAULT_MODEL), "messages": [{"role": "user", "content": "hi"}]}
    out = SB.translate_response("bedrock", body, request=request, now=NOW)
    check_chat_completion(out, extra_ok=EXT)
    message = out["choices"][0]["message"]
    got = {"content": message.get("content"), "reasoning_content": message.get("reasoning_content"),
           "thinking_blocks": message.get("thinking_blocks"),
           "tool_calls": [{"id": c["id"], "name": c["function"]["name"], "arguments": c["function"]["arguments"]}
                          for c in message.get("tool_calls") or []] or None,
           "finish_reason": out["choices"][0]["finish_reason"], "usage": out["usage"]}
    _compare(got, fixture_expect("bedrock", name))
