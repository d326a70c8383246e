"""Spec examples checked by code nobody here wrote: the official SDKs' own types.

For every example of the openai-family and anthropic specs: the client request is a
valid OpenAI request (once our documented extensions are set aside), the provider
body passes the provider SDK's request types, and every output / chunk passes the
OpenAI SDK's strict response types. Anthropic bodies also get the conversation
grammar no SDK type checks (alternation, first turn, tool_use -> tool_result).
Gemini and Bedrock have files of their own (test_gemini_oracles, test_bedrock_oracles).
"""
from __future__ import annotations

import copy

import pytest

from engine.loader import SpecFiles, bundled_root
from tests.oracles.anthropic_types import check_request as check_anthropic
from tests.oracles.openai_types import check_chat_completion, check_chunk, check_create_params

EXT = frozenset({"reasoning_content", "thinking_blocks", "extra_content", "provider_finish_reason",
                 "provider_fields", "annotations"})
FILES = SpecFiles(bundled_root())
SPECS = ("openai", "groq", "anthropic")


def _examples(kinds: tuple[str, ...]):
    for spec in SPECS:
        for ex in FILES.raw(spec).get("examples", []):
            if all(k in ex for k in kinds):
                yield pytest.param(spec, ex, id=f"{spec}::{ex['name']}")


def without_extensions(request: dict) -> dict:
    """The request as plain OpenAI: our extension fields removed."""
    out = copy.deepcopy(request)
    for message in out.get("messages", []):
        message.pop("thinking_blocks", None)
        message.pop("reasoning_content", None)
        if isinstance(message.get("content"), list):
            # video_url parts are our documented extension (OpenAI has no video part)
            message["content"] = [p for p in message["content"] if p.get("type") != "video_url"] or "(video)"
            for part in message["content"] if isinstance(message["content"], list) else ():
                part.pop("cache_control", None)
        for call in message.get("tool_calls") or ():
            call.pop("extra_content", None)
    for tool in out.get("tools") or ():
        tool.pop("cache_control", None)
    return out


@pytest.mark.parametrize("spec,ex", list(_examples(("request", "body"))))
def test_client_request_is_valid_openai(spec: str, ex: dict) -> None:
    check_create_params({"model": ex.get("model", "m"), **without_extensions(ex["request"])})


@pytest.mark.parametrize("spec,ex", list(_examples(("request", "body"))))
def test_provider_body_passes_the_provider_sdk_types(spec: str, ex: dict) -> None:
    body = ex["body"]
    if spec == "anthropic":
        check_anthropic(body)
        check_anthropic_grammar(body)
    else:
        plain = {k: v for k, v in body.items() if not (spec == "groq" and k == "service_tier")}
        check_create_params(plain)


@pytest.mark.parametrize("spec,ex", list(_examples(("output",))))
def test_output_passes_strict_openai_types(spec: str, ex: dict) -> None:
    check_chat_completion(ex["output"], extra_ok=EXT)


@pytest.mark.parametrize("spec,ex", list(_examples(("chunks",))))
def test_chunks_pass_strict_openai_types(spec: str, ex: dict) -> None:
    for chunk in ex["chunks"]:
        check_chunk(chunk, extra_ok=EXT)
    finishes = [c for c in ex["chunks"] for ch in c["choices"] if ch.get("finish_reason")]
    assert len(finishes) == 1, "exactly one finish chunk"
    assert ex["chunks"][0]["choices"][0]["delta"].get("role") == "assistant", "role chunk first"


def check_anthropic_grammar(body: dict) -> None:
    messages = body["messages"]
    assert messages and messages[0]["role"] == "user", "the first turn is the user's"
    for a, b in zip(messages, messages[1:]):
        assert a["role"] != b["role"], "roles alternate"
    for i, message in enumerate(messages):
        assert message["content"], f"messages[{i}] has content"
        for block in message["content"]:
            if block["type"] == "text":
                assert block["text"].strip(), f"messages[{i}] has an empty text block"
        uses = [b["id"] for b in message["content"] if b["type"] == "tool_use"]
        if uses:
            nxt = messages[i + 1]["content"] if i + 1 < len(messages) else []
            results = [b["tool_use_id"] for b in nxt if b["type"] == "tool_result"]
            assert results == uses, f"tool_use at messages[{i}] answered in the next user turn"
        if message["role"] == "assistant":
            kinds = [b["type"] for b in message["content"]]
            thinking = [k for k in kinds if k in ("thinking", "redacted_thinking")]
            assert kinds[: len(thinking)] == thinking, "thinking blocks come first"
