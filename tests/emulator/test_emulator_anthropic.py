"""Anthropic dialect: Message and stream events validated with the anthropic SDK types, tools, thinking
signatures, cache accounting and the API's refusals."""
from __future__ import annotations

from typing import Any

import httpx
import jsonschema
import orjson
from anthropic.types import Message, RawMessageStreamEvent
from pydantic import TypeAdapter

from conftest import sse_named

URL = "/anthropic/v1/messages"
H = {"x-api-key": "k", "anthropic-version": "2023-06-01"}
EVENT = TypeAdapter(RawMessageStreamEvent)
TOOL = {"name": "lookup", "description": "find", "input_schema": {
    "type": "object", "properties": {"q": {"type": "string"}, "limit": {"type": "integer", "minimum": 3},
                                     "filters": {"type": "object", "properties": {"lang": {"enum": ["en", "fr"]}},
                                                 "required": ["lang"]}}, "required": ["q", "filters"]}}


def _body(**kw: Any) -> dict[str, Any]:
    return {"model": "claude-sonnet-4-5", "max_tokens": 2048, "messages": [{"role": "user", "content": "hi there"}],
            **kw}


def _err(r: httpx.Response, status: int = 400) -> str:
    assert r.status_code == status, r.text
    body = r.json()
    assert body["type"] == "error" and body["error"]["type"]
    return body["error"]["message"]


def test_message_and_stream(client: httpx.Client) -> None:
    m = Message.model_validate(client.post(URL, headers=H, json=_body()).json())
    assert m.content[0].text == "You said: hi there" and m.stop_reason == "end_turn"
    r = client.post(URL, headers=H, json=_body(stream=True))
    raw = sse_named(r.text)
    assert ("ping", {"type": "ping"}) in raw  # the SDK skips pings; they are not in RawMessageStreamEvent
    events = [(name, EVENT.validate_python(data)) for name, data in raw if name != "ping"]
    assert all(name == ev.type for name, ev in events)
    kinds = [ev.type for _, ev in events]
    assert kinds[0] == "message_start" and kinds[-2:] == ["message_delta", "message_stop"]
    text = "".join(ev.delta.text for _, ev in events if ev.type == "content_block_delta")
    assert text == "You said: hi there" and kinds.count("content_block_delta") > 1


def test_tool_use_stream_and_followup(client: httpx.Client) -> None:
    r = client.post(URL, headers=H, json=_body(tools=[TOOL], stream=True))
    events = [EVENT.validate_python(d) for n, d in sse_named(r.text) if n != "ping"]
    start = next(e for e in events if e.type == "content_block_start")
    parts = [e.delta.partial_json for e in events if e.type == "content_block_delta"]
    assert start.content_block.type == "tool_use" and len(parts) > 2
    args = orjson.loads("".join(parts))
    jsonschema.validate(args, TOOL["input_schema"])
    assert next(e for e in events if e.type == "message_delta").delta.stop_reason == "tool_use"
    history = _body()["messages"] + [
        {"role": "assistant", "content": [{"type": "tool_use", "id": start.content_block.id, "name": "lookup",
                                           "input": args}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": start.content_block.id,
                                      "content": "found 3 rows"}]}]
    m = Message.model_validate(client.post(URL, headers=H, json=_body(tools=[TOOL], messages=history)).json())
    assert "found 3 rows" in m.content[0].text
    missing = history[:2] + [{"role": "user", "content": "next"}]
    assert "tool_result" in _err(client.post(URL, headers=H, json=_body(tools=[TOOL], messages=missing)))
    assert "define tools" in _err(client.post(URL, headers=H, json=_body(messages=history)))


def test_thinking_signature_roundtrip(client: httpx.Client) -> None:
    thinking = {"type": "enabled", "budget_tokens": 1024}
    m = Message.model_validate(client.post(URL, headers=H, json=_body(tools=[TOOL], thinking=thinking)).json())
    assert [b.type for b in m.content] == ["thinking", "tool_use"]
    assert m.usage.output_tokens > 1
    turn = [b.model_dump(exclude_none=True) for b in m.content]
    for b in turn:
        b.pop("caller", None)
    result = {"role": "user", "content": [{"type": "tool_result", "tool_use_id": m.content[1].id, "content": "ok"}]}
    ok = _body(tools=[TOOL], thinking=thinking, messages=_body()["messages"] + [
        {"role": "assistant", "content": turn}, result])
    assert client.post(URL, headers=H, json=ok).status_code == 200
    turn[0]["thinking"] += " (edited)"
    assert "signature" in _err(client.post(URL, headers=H, json=ok))
    ok["messages"][1]["content"] = turn[1:]
    assert "Expected `thinking`" in _err(client.post(URL, headers=H, json=ok))


def test_thinking_stream_has_signature(client: httpx.Client) -> None:
    r = client.post(URL, headers=H, json=_body(stream=True, thinking={"type": "enabled", "budget_tokens": 1500}))
    deltas = [EVENT.validate_python(d).delta for n, d in sse_named(r.text) if n == "content_block_delta"]
    kinds = [d.type for d in deltas]
    assert kinds[0] == "thinking_delta" and "signature_delta" in kinds and kinds[-1] == "text_delta"


def test_thinking_rules(client: httpx.Client) -> None:
    t = {"type": "enabled", "budget_tokens": 1024}
    assert "1024" in _err(client.post(URL, headers=H, json=_body(thinking={"type": "enabled", "budget_tokens": 500})))
    assert "max_tokens" in _err(client.post(URL, headers=H, json=_body(max_tokens=1024, thinking=t)))
    assert "temperature" in _err(client.post(URL, headers=H, json=_body(thinking=t, temperature=0.5)))
    forced = _body(thinking=t, tools=[TOOL], tool_choice={"type": "any"})
    assert "tool_choice" in _err(client.post(URL, headers=H, json=forced))


def test_validation(client: httpx.Client) -> None:
    assert client.post(URL, headers={"anthropic-version": "2023-06-01"}, json=_body()).status_code == 401
    assert "anthropic-version" in _err(client.post(URL, headers={"x-api-key": "k"}, json=_body()))
    body = _body()
    del body["max_tokens"]
    assert "max_tokens" in _err(client.post(URL, headers=H, json=body))
    sys_role = _body(messages=[{"role": "system", "content": "x"}, {"role": "user", "content": "y"}])
    assert "system" in _err(client.post(URL, headers=H, json=sys_role))
    empty = _body(messages=[{"role": "user", "content": [{"type": "text", "text": ""}]}])
    assert "non-empty" in _err(client.post(URL, headers=H, json=empty))
    assert client.post(URL, headers={**H, "x-emulator-fault": "529"}, json=_body()).json()["error"]["type"] == \
        "overloaded_error"


def test_cache_accounting(client: httpx.Client) -> None:
    system = [{"type": "text", "text": "long shared system prompt " * 20, "cache_control": {"type": "ephemeral"}}]
    first = client.post(URL, headers=H, json=_body(system=system)).json()["usage"]
    second = client.post(URL, headers=H, json=_body(system=system)).json()["usage"]
    assert first["cache_creation_input_tokens"] > 0 and first["cache_read_input_tokens"] == 0
    assert second["cache_read_input_tokens"] == first["cache_creation_input_tokens"]
    assert second["cache_creation_input_tokens"] == 0 and second["input_tokens"] == first["input_tokens"]
