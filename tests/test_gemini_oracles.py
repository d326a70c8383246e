"""specs/gemini.yaml examples, checked against code nobody here wrote.

test_spec_examples.py proves the engine produces exactly what each example says; this file
proves what the examples say is right: every provider body, response and stream event through
the google-genai types (camelCase only, unknown keys and bad enums rejected), every OpenAI
output and chunk through the openai SDK types, and stream/non-stream twins folded by the
SDK's own accumulator must agree (same tool-call ids, content, finish reason).
"""
from __future__ import annotations

import pytest

from engine.loader import SpecFiles, bundled_root
from tests.oracles.gemini_types import check_request, check_response
from tests.oracles.openai_types import assert_twins_agree, check_chat_completion, check_chunk

EXTRA_OK = frozenset({"reasoning_content", "thinking_blocks", "extra_content", "provider_finish_reason",
                      "provider_fields", "annotations"})
EXAMPLES = {ex["name"]: ex for ex in SpecFiles(bundled_root()).raw("gemini").get("examples", [])}
# stream example -> its non-stream twin (same provider payload, one event at a time); the
# SDK's accumulator raises on content_filter, so the safety pair is not folded here
TWINS = {"stream_text": "response_text", "stream_two_function_calls": "response_two_function_calls",
         "stream_thinking": "response_thinking", "stream_cached_no_usage_asked": "response_cached_usage"}
# provider payloads that step outside google-genai's enums on purpose
OFF_ENUM = {"response_unknown_finish_reason"}


def _named(kind: str) -> list:
    return [pytest.param(ex, id=name) for name, ex in EXAMPLES.items() if kind in ex]


def test_examples_cover_every_kind() -> None:
    kinds = {k for ex in EXAMPLES.values() for k in ("body", "refusal", "output", "chunks", "error") if k in ex}
    assert kinds == {"body", "refusal", "output", "chunks", "error"}


@pytest.mark.parametrize("example", _named("body"))
def test_request_body_is_a_valid_generate_content_request(example: dict) -> None:
    body = example["body"]
    check_request(body)
    # what the type oracle cannot see (its own docstring): roles, empty parts, one data field per part
    for content in body["contents"] + ([body["systemInstruction"]] if "systemInstruction" in body else []):
        assert content.get("role", "user") in ("user", "model")
        assert content["parts"], "empty parts list"
        for part in content["parts"]:
            data = {"text", "inlineData", "fileData", "functionCall", "functionResponse"} & part.keys()
            assert len(data) == 1, part
            assert part.get("text", "x") != "", "empty text part"
    roles = [c["role"] for c in body["contents"]]
    assert all(a != b for a, b in zip(roles, roles[1:])), f"same-role turns not merged: {roles}"


@pytest.mark.parametrize("example", _named("output"))
def test_response_example(example: dict) -> None:
    if example["name"] not in OFF_ENUM:
        check_response(example["response"])
    check_chat_completion(example["output"], extra_ok=EXTRA_OK)
    usage = example["output"].get("usage")
    if usage:
        assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
        assert usage["total_tokens"] == example["response"]["usageMetadata"]["totalTokenCount"]


@pytest.mark.parametrize("example", _named("chunks"))
def test_stream_example(example: dict) -> None:
    for event in example["events"]:
        check_response(event)
    for chunk in example["chunks"]:
        check_chunk(chunk, extra_ok=EXTRA_OK)
    finishes = [c for c in example["chunks"] if c["choices"] and c["choices"][0]["finish_reason"]]
    assert len(finishes) == 1, "one finish chunk per choice"


@pytest.mark.parametrize("stream,single", sorted(TWINS.items()))
def test_stream_and_non_stream_twins_agree(stream: str, single: str) -> None:
    assert_twins_agree(EXAMPLES[stream]["chunks"], EXAMPLES[single]["output"], EXTRA_OK, EXTRA_OK, same_model=True)


@pytest.mark.parametrize("example", _named("error"))
def test_error_example(example: dict) -> None:
    error = example["error"]
    assert set(error) == {"status", "message", "type", "param", "code"}
    assert error["code"] == example["response"]["error"]["status"]
