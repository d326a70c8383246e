"""Recorded-style provider traffic (tests/fixtures/<provider>/) replayed through the
engine: the stream and the non-stream body of each case must both give what the
case's `expect.json` says an OpenAI client ends up with, every chunk must pass the
OpenAI SDK's strict types, and the stream's output must not depend on how the
bytes were split."""
from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import engine
from tests.oracles.openai_types import check_chat_completion, check_chunk
from tests.support.accumulate import fold
from tests.support.wire import FIXTURES, fixture_events, fixture_expect, fixture_json, frame

EXTENSIONS = frozenset({"reasoning_content", "thinking_blocks", "extra_content", "provider_finish_reason"})
SB = engine.load()
REQUEST = {"model": "fixture-model", "messages": [{"role": "user", "content": "hi"}], "stream": True,
           "stream_options": {"include_usage": True}}


def _cases():
    for path in sorted(FIXTURES.glob("*/*.expect.json")):
        provider, name = path.parent.name, path.name[: -len(".expect.json")]
        marks = [] if provider in SB.dialects else [pytest.mark.skip(reason=f"{provider} has no spec yet")]
        yield pytest.param(provider, name, id=f"{provider}/{name}", marks=marks)


CASES = list(_cases())


def _raw(provider: str, name: str) -> bytes:
    dialect = SB.dialect(provider)
    events = fixture_events(provider, name)
    raw = frame(dialect.framing, events, named=dialect.event_type is not None)
    if dialect.done:
        raw += f"data: {dialect.done}\n\n".encode()
    return raw


def _run(provider: str, pieces: list[bytes]) -> list[dict]:
    st_ = SB.stream(provider, REQUEST, now=1700000000)
    out: list[dict] = []
    for piece in pieces:
        out += st_.feed(piece)
    return out + st_.close()


def _usage_numbers(usage: dict) -> dict:
    return {"prompt_tokens": usage["prompt_tokens"], "completion_tokens": usage["completion_tokens"],
            "total_tokens": usage["total_tokens"],
            "cached_tokens": usage["prompt_tokens_details"]["cached_tokens"],
            "reasoning_tokens": usage["completion_tokens_details"]["reasoning_tokens"]}


def _calls(calls: list[dict], ids: bool) -> list[dict]:
    return [{"id": c["id"] if ids else None, "name": c["name"], "arguments": json.loads(c["arguments"])}
            for c in calls]


@pytest.mark.parametrize("provider,name", CASES)
def test_stream_gives_what_the_client_expects(provider: str, name: str) -> None:
    want = fixture_expect(provider, name)
    chunks = _run(provider, [_raw(provider, name)])
    for chunk in chunks:
        check_chunk(chunk, extra_ok=EXTENSIONS)
    got = fold(chunks)
    assert got["roles"] == ["assistant"]
    assert got["content"] == want["content"]
    assert got["reasoning_content"] == want.get("reasoning_content")
    assert (got["thinking_blocks"] or None) == want.get("thinking_blocks")
    has_ids = all(c.get("id") for c in want["tool_calls"] or ())
    assert _calls(got["tool_calls"], has_ids) == (want["tool_calls"] or [])
    assert all(c["id"] for c in got["tool_calls"]), "every tool call gets an id"
    assert got["finish_reason"] == want["finish_reason"]
    assert _usage_numbers(got["usage"]) == want["usage"]
    assert chunks[-1]["choices"] == [] and chunks[-2]["choices"][0]["finish_reason"]


@pytest.mark.parametrize("provider,name", CASES)
def test_response_gives_what_the_client_expects(provider: str, name: str) -> None:
    want = fixture_expect(provider, name)
    out = SB.translate_response(provider, fixture_json(provider, name), request=REQUEST, now=1700000000)
    check_chat_completion(out, extra_ok=EXTENSIONS)
    message = out["choices"][0]["message"]
    assert message["content"] == want["content"]
    assert message.get("reasoning_content") == want.get("reasoning_content")
    assert message.get("thinking_blocks") == want.get("thinking_blocks")
    has_ids = all(c.get("id") for c in want["tool_calls"] or ())
    calls = [{"id": c["id"], "name": c["function"]["name"], "arguments": c["function"]["arguments"]}
             for c in message.get("tool_calls") or ()]
    assert _calls(calls, has_ids) == (want["tool_calls"] or [])
    assert out["choices"][0]["finish_reason"] == want["finish_reason"]
    assert _usage_numbers(out["usage"]) == want["usage"]


@pytest.mark.parametrize("provider,name", CASES)
def test_stream_and_response_agree_on_tool_call_ids(provider: str, name: str) -> None:
    """Ids the engine invents (Gemini gives none) must match between the two paths."""
    chunks = fold(_run(provider, [_raw(provider, name)]))
    out = SB.translate_response(provider, fixture_json(provider, name), request=REQUEST, now=1700000000)
    ids = [c["id"] for c in out["choices"][0]["message"].get("tool_calls") or ()]
    assert [c["id"] for c in chunks["tool_calls"]] == ids


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
@pytest.mark.parametrize("provider,name", CASES)
def test_stream_output_does_not_depend_on_byte_splits(provider: str, name: str, data: st.DataObject) -> None:
    raw = _raw(provider, name)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(raw)), max_size=12)))
    pieces = [raw[a:b] for a, b in zip([0] + cuts, cuts + [len(raw)])]
    assert _run(provider, pieces) == _run(provider, [raw])


@pytest.mark.parametrize("provider,name", CASES)
def test_stream_cut_before_its_end_is_an_error(provider: str, name: str) -> None:
    raw = _raw(provider, name)
    with pytest.raises(engine.StreamError):
        _run(provider, [raw[: len(raw) * 2 // 3]])


def test_every_stream_action_word_has_a_handler() -> None:
    from engine.dialect import ACTIONS
    from engine.stream import _HANDLERS
    assert set(ACTIONS) <= set(_HANDLERS), set(ACTIONS) - set(_HANDLERS)
