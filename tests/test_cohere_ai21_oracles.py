"""specs/cohere.yaml and specs/ai21.yaml examples, checked against code nobody here wrote.

test_spec_examples.py proves the engine produces exactly what each example says; this file
proves what the examples say is right:
- Cohere: every provider body through the cohere SDK's request signature (V2ChatRequest,
  strict, unknown keys and off-enum values refused), every response and stream event through
  its response / event types; every OpenAI output and chunk through the openai SDK types
  (extensions allowed: reasoning_content, provider_finish_reason, provider_fields on the
  completion, annotations on stream deltas); stream / non-stream twins folded by the openai
  SDK's own accumulator must agree.
- AI21: bodies through the ai21 SDK's message / tool / response_format types (strict), and by
  hand: content is a string on every message; responses and stream chunks through the ai21 SDK
  response types.
"""
from __future__ import annotations

import typing
from typing import Any, List, Optional, Union

import pydantic
import pytest
from pydantic import ConfigDict, Field, TypeAdapter, ValidationError

import engine
from engine.loader import SpecFiles, bundled_root
from tests.oracles.cohere_types import check_event, check_request, check_response
from tests.oracles.openai_types import assert_twins_agree, check_chat_completion, check_chunk, check_create_params
from tests.support.wire import frame
from tests.test_example_oracles import without_extensions

EXT = frozenset({"reasoning_content", "thinking_blocks", "extra_content", "provider_finish_reason",
                 "provider_fields"})
CHUNK_EXT = EXT - {"provider_fields"} | {"message.annotations"}  # delta.annotations: citations as they arrive
FILES = SpecFiles(bundled_root())
SB = engine.load()
COHERE = {ex["name"]: ex for ex in FILES.raw("cohere").get("examples", [])}
AI21 = {ex["name"]: ex for ex in FILES.raw("ai21").get("examples", [])}
# stream example -> its non-stream twin (same answer, one event at a time)
TWINS = {"stream_thinking": "response_thinking", "stream_tool_calls": "response_tool_calls_with_plan"}


def _named(examples: dict, kind: str) -> list:
    return [pytest.param(ex, id=name) for name, ex in examples.items() if kind in ex]


@pytest.mark.parametrize("examples", [COHERE, AI21], ids=["cohere", "ai21"])
def test_examples_cover_every_kind(examples: dict) -> None:
    kinds = {k for ex in examples.values() for k in ("body", "refusal", "output", "chunks", "error") if k in ex}
    assert kinds == {"body", "refusal", "output", "chunks", "error"}


@pytest.mark.parametrize("example", _named(COHERE, "body") + _named(AI21, "body"))
def test_client_request_is_valid_openai(example: dict) -> None:
    check_create_params({"model": example["model"], **without_extensions(example["request"])})


# -- Cohere ---------------------------------------------------------------------------------


@pytest.mark.parametrize("example", _named(COHERE, "body"))
def test_cohere_body_passes_the_sdk_request_types(example: dict) -> None:
    body = example["body"]
    check_request(body)
    # what the types cannot see: the conversation grammar Cohere's 400s describe
    roles = [m["role"] for m in body["messages"]]
    assert "system" not in roles[roles.index("user"):] if "user" in roles else True, "system turns come first"
    called: set[str] = set()
    for i, message in enumerate(body["messages"]):
        if message["role"] == "assistant":
            assert message.get("content") or message.get("tool_calls"), f"messages[{i}] is empty"
            for item in message.get("content") or []:
                assert (item.get("text") or item.get("thinking") or "").strip(), f"messages[{i}] has blank content"
            called |= {c["id"] for c in message.get("tool_calls") or []}
            if "tool_plan" in message:
                assert message.get("tool_calls"), "a tool_plan goes with the tool calls it planned"
        if message["role"] == "tool":
            assert message["tool_call_id"] in called, "tool call id not found in previous tool calls"
    if "tool_choice" in body:
        assert body.get("tools"), "tool_choice needs tools"
    if "stop_sequences" in body:
        assert len(body["stop_sequences"]) <= 5


@pytest.mark.parametrize("example", _named(COHERE, "output"))
def test_cohere_response_example(example: dict) -> None:
    check_response(example["response"])
    check_chat_completion(example["output"], extra_ok=EXT)
    usage = example["output"]["usage"]
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
    raw = example["response"].get("usage") or {}
    counted = raw.get("tokens") or raw.get("billed_units")
    assert usage["prompt_tokens"] == counted["input_tokens"], "usage.tokens first, billed_units as a fallback"
    citations = example["response"]["message"].get("citations")
    if citations:
        assert example["output"]["provider_fields"] == {"citations": citations}, "raw citations kept whole"
        text = example["output"]["choices"][0]["message"]["content"]
        for ann in example["output"]["choices"][0]["message"]["annotations"]:
            cite = ann["url_citation"]
            assert any(text[cite["start_index"]:cite["end_index"]] == c["text"] for c in citations)


@pytest.mark.parametrize("example", _named(COHERE, "chunks"))
def test_cohere_stream_example(example: dict) -> None:
    for event in example["events"]:
        check_event(event)
    for chunk in example["chunks"]:
        check_chunk(chunk, extra_ok=CHUNK_EXT)
    finishes = [c for c in example["chunks"] for ch in c["choices"] if ch.get("finish_reason")]
    assert len(finishes) == 1, "exactly one finish chunk"
    assert example["chunks"][0]["choices"][0]["delta"] == {"role": "assistant"}, "role chunk first"
    usage_chunks = [c for c in example["chunks"] if not c["choices"]]
    asked = (example["request"].get("stream_options") or {}).get("include_usage")
    assert len(usage_chunks) == (1 if asked else 0)


@pytest.mark.parametrize("stream,single", sorted(TWINS.items()))
def test_cohere_stream_and_non_stream_twins_agree(stream: str, single: str) -> None:
    assert_twins_agree(COHERE[stream]["chunks"], COHERE[single]["output"], CHUNK_EXT, EXT)


@pytest.mark.parametrize("example", _named(COHERE, "error"))
def test_cohere_error_example(example: dict) -> None:
    assert set(example["response"]) <= {"id", "message"}, "Cohere error bodies are {id?, message}"
    error = example["error"]
    assert set(error) == {"status", "message", "type", "param", "code"}
    assert example["response"]["message"] in error["message"]
    assert 400 <= error["status"] < 600


def test_cohere_message_end_error_ends_the_stream_with_an_error() -> None:
    events = [
        {"type": "message-start", "id": "e1", "delta": {"message": {"role": "assistant"}}},
        {"type": "content-delta", "index": 0, "delta": {"message": {"content": {"text": "The"}}}},
        {"type": "message-end", "delta": {"finish_reason": "ERROR", "error": "internal model error"}},
    ]
    for event in events:
        check_event(event)
    request = {"model": "command-a-03-2025", "messages": [{"role": "user", "content": "hi"}], "stream": True}
    st = SB.stream("cohere", request, now=1700000000)
    with pytest.raises(engine.UpstreamError) as caught:
        st.feed(frame("sse", events, named=True))
        st.close()
    assert "internal model error" in caught.value.message and caught.value.type == "server_error"


def test_cohere_named_tool_choice_is_refused_not_widened() -> None:
    tool = lambda name: {"type": "function", "function": {"name": name, "parameters": {"type": "object"}}}  # noqa: E731
    body = {"model": "command-a-03-2025", "messages": [{"role": "user", "content": "hi"}],
            "tools": [tool("a"), tool("b"), tool("c")],
            "tool_choice": {"type": "function", "function": {"name": "b"}}}
    with pytest.raises(engine.UnsupportedFeature) as caught:
        SB.translate_request("cohere", body)
    assert caught.value.to_openai()["error"]["param"] == "tool_choice"


# -- AI21 -----------------------------------------------------------------------------------

ai21_chat = pytest.importorskip("ai21.models.chat", reason="the ai21 SDK is not installed")
from ai21.models.chat import ChatCompletionChunk, ChatCompletionResponse  # noqa: E402
from ai21.models.chat.chat_message import AssistantMessage, SystemMessage, ToolMessage, UserMessage  # noqa: E402
from ai21.models.chat.document_schema import DocumentSchema  # noqa: E402
from ai21.models.chat.response_format import ResponseFormat  # noqa: E402
from ai21.models.chat.tool_defintions import ToolDefinition  # noqa: E402

# The ai21 SDK has no request model: the body is `_create_body`'s keyword arguments (wire keys
# == parameter names). Its message models default their `role` tag, so the union is re-tagged.
_AI21Message = typing.Annotated[Union[UserMessage, AssistantMessage, ToolMessage, SystemMessage],
                                Field(discriminator="role")]
AI21ChatRequest = pydantic.create_model(
    "AI21ChatRequest", __config__=ConfigDict(extra="forbid"),
    model=(str, ...), messages=(List[_AI21Message], ...), max_tokens=(Optional[int], None),
    temperature=(Optional[float], None), top_p=(Optional[float], None),
    stop=(Optional[Union[str, List[str]]], None), n=(Optional[int], None), stream=(Optional[bool], None),
    tools=(Optional[List[ToolDefinition]], None), response_format=(Optional[ResponseFormat], None),
    documents=(Optional[List[DocumentSchema]], None))
_AI21_CHUNK = TypeAdapter(ChatCompletionChunk)


def _strict(model: Any, data: Any, where: str) -> None:
    try:
        model.model_validate(data, strict=True, extra="forbid")
    except ValidationError as exc:
        raise AssertionError(f"{where}: {exc}") from None


@pytest.mark.parametrize("example", _named(AI21, "body"))
def test_ai21_body_passes_the_sdk_types(example: dict) -> None:
    body = example["body"]
    _strict(AI21ChatRequest, body, "AI21ChatRequest")
    for i, message in enumerate(body["messages"]):
        if "content" in message or message["role"] != "assistant":
            assert isinstance(message.get("content"), str), f"messages[{i}].content must be a string"
        else:
            assert message.get("tool_calls"), f"messages[{i}] has neither content nor tool calls"
        assert message["role"] in ("system", "user", "assistant", "tool")


@pytest.mark.parametrize("example", _named(AI21, "output"))
def test_ai21_response_example(example: dict) -> None:
    _strict(ChatCompletionResponse, example["response"], "ChatCompletionResponse")
    check_chat_completion(example["output"], extra_ok=EXT)


@pytest.mark.parametrize("example", _named(AI21, "chunks"))
def test_ai21_stream_example(example: dict) -> None:
    for event in example["events"]:
        if isinstance(event, dict):
            _strict(ChatCompletionChunk, event, "ChatCompletionChunk")
    for chunk in example["chunks"]:
        check_chunk(chunk, extra_ok=EXT)
    finishes = [c for c in example["chunks"] for ch in c["choices"] if ch.get("finish_reason")]
    assert len(finishes) == 1, "exactly one finish chunk"
    assert example["chunks"][0]["choices"][0]["delta"] == {"role": "assistant"}, "role chunk first"


@pytest.mark.parametrize("example", _named(AI21, "error"))
def test_ai21_error_example(example: dict) -> None:
    assert set(example["response"]) == {"detail"}, "AI21 error bodies are {detail}"
    assert set(example["error"]) == {"status", "message", "type", "param", "code"}
    assert "[" not in example["error"]["message"], "a list of details is read, not printed"
