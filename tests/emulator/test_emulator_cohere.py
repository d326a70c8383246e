"""Cohere v2 chat: V2ChatResponse and stream event types from the cohere SDK, thinking, tool_plan and
tool calls, citations, Cohere's refusals and `{id, message}` errors (incl. 498/499)."""
from __future__ import annotations

from typing import Any

import httpx
import jsonschema
import orjson
import pydantic
from cohere.v2.types import V2ChatResponse, V2ChatStreamResponse

from conftest import WEATHER, sse_named, user

URL = "/cohere/v2/chat"
H = {"Authorization": "Bearer co-key"}
STREAM = pydantic.TypeAdapter(V2ChatStreamResponse)


def _chat(client: httpx.Client, **body: Any) -> httpx.Response:
    return client.post(URL, headers=H, json={"model": "command-a-03-2025", "messages": user("hello cohere"), **body})


def _events(r: httpx.Response) -> list[tuple[str, dict[str, Any]]]:
    events = sse_named(r.text)
    for name, data in events:
        assert name == data["type"]
        STREAM.validate_python(data)
    return events


def test_text_reply(client: httpx.Client) -> None:
    r = _chat(client)
    assert r.status_code == 200, r.text
    resp = V2ChatResponse.model_validate(r.json())
    assert resp.finish_reason == "COMPLETE" and resp.message.content[0].type == "text"
    assert resp.message.content[0].text == "You said: hello cohere"
    u = r.json()["usage"]
    assert u["tokens"]["input_tokens"] > u["billed_units"]["input_tokens"] and u["cached_tokens"] == 0


def test_thinking_and_limits(client: httpx.Client) -> None:
    r = _chat(client, model="command-a-reasoning-08-2025")
    content = r.json()["message"]["content"]
    assert [c["type"] for c in content] == ["thinking", "text"]
    r = _chat(client, model="command-a-reasoning-08-2025", thinking={"type": "disabled"})
    assert [c["type"] for c in r.json()["message"]["content"]] == ["text"]
    r = _chat(client, messages=user("one two three four five"), max_tokens=3)
    assert r.json()["finish_reason"] == "MAX_TOKENS"
    r = _chat(client, stop_sequences=["said"])
    assert r.json()["finish_reason"] == "STOP_SEQUENCE"


def test_tool_call_round_trip(client: httpx.Client) -> None:
    r = _chat(client, tools=[WEATHER], tool_choice="REQUIRED")
    body = r.json()
    assert body["finish_reason"] == "TOOL_CALL" and body["message"]["tool_plan"]
    call = body["message"]["tool_calls"][0]
    jsonschema.validate(orjson.loads(call["function"]["arguments"]), WEATHER["function"]["parameters"])
    follow = user("hello cohere") + [
        {"role": "assistant", "tool_plan": body["message"]["tool_plan"], "tool_calls": [call]},
        {"role": "tool", "tool_call_id": call["id"], "content": [{"type": "text", "text": "sunny 21C"}]}]
    r = _chat(client, messages=follow, tools=[WEATHER])
    assert "sunny 21C" in r.json()["message"]["content"][0]["text"]
    r = _chat(client, messages=user("x") + [{"role": "tool", "tool_call_id": "nope", "content": "y"}])
    assert r.status_code == 400 and "tool call id" in r.json()["message"]


def test_stream_events(client: httpx.Client) -> None:
    events = _events(_chat(client, model="command-a-reasoning-08-2025", stream=True))
    names = [n for n, _ in events]
    assert names[0] == "message-start" and names[-1] == "message-end"
    starts = [d["delta"]["message"]["content"]["type"] for n, d in events if n == "content-start"]
    assert starts == ["thinking", "text"]
    text = "".join(d["delta"]["message"]["content"].get("text", "") for n, d in events if n == "content-delta")
    assert text == "You said: hello cohere"
    end = events[-1][1]["delta"]
    assert end["finish_reason"] == "COMPLETE" and end["usage"]["tokens"]["output_tokens"] > 0
    events = _events(_chat(client, tools=[WEATHER], stream=True))
    names = [n for n, _ in events]
    assert "tool-plan-delta" in names and names.index("tool-call-start") < names.index("tool-call-end")
    start = next(d for n, d in events if n == "tool-call-start")["delta"]["message"]["tool_calls"]
    assert isinstance(start, dict) and start["function"]["arguments"] == ""
    args = "".join(d["delta"]["message"]["tool_calls"]["function"]["arguments"]
                   for n, d in events if n == "tool-call-delta")
    assert orjson.loads(args)["unit"] in ("c", "f") and events[-1][1]["delta"]["finish_reason"] == "TOOL_CALL"


def test_citations(client: httpx.Client) -> None:
    docs = [{"id": "d1", "data": {"title": "Weather", "url": "https://w.example", "snippet": "It is sunny."}}]
    r = _chat(client, documents=docs)
    cit = r.json()["message"]["citations"][0]
    text = r.json()["message"]["content"][0]["text"]
    assert text[cit["start"]:cit["end"]] == cit["text"] and cit["type"] == "TEXT_CONTENT"
    assert cit["sources"][0]["type"] == "document" and cit["sources"][0]["document"]["title"] == "Weather"
    V2ChatResponse.model_validate(r.json())
    events = _events(_chat(client, messages=user("please cite it"), stream=True))
    assert [n for n, _ in events].count("citation-start") == 1
    assert "citations" not in _chat(client).json()["message"]


def test_refusals(client: httpx.Client) -> None:
    for extra in ({"top_p": 0.5}, {"n": 2}, {"tool_choice": "required", "tools": [WEATHER]},
                  {"stop_sequences": list("abcdef")}, {"presence_penalty": 1.5},
                  {"response_format": {"type": "json_schema"}},
                  {"response_format": {"type": "json_object"}, "tools": [WEATHER]}):
        r = _chat(client, **extra)
        assert r.status_code == 400, extra
        assert set(r.json()) == {"id", "message"}
    system_late = user("x") + [{"role": "system", "content": "late"}]
    assert _chat(client, messages=system_late).status_code == 400
    r = client.post(URL, json={"model": "m", "messages": user("x")})
    assert r.status_code == 401 and r.json()["message"]


def test_json_schema(client: httpx.Client) -> None:
    schema = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
    r = _chat(client, response_format={"type": "json_object", "json_schema": schema})
    jsonschema.validate(orjson.loads(r.json()["message"]["content"][0]["text"]), schema)


def test_status_faults_and_stream_error(client: httpx.Client) -> None:
    for status in ("429", "498", "499"):
        r = client.post(URL, headers={**H, "x-emulator-fault": status}, json={"model": "m", "messages": user("x")})
        assert r.status_code == int(status) and set(r.json()) == {"id", "message"}
    r = client.post(URL, headers={**H, "x-emulator-fault": "stream-error"},
                    json={"model": "m", "messages": user("a b c d e f g"), "stream": True})
    last = sse_named(r.text)[-1][1]
    assert last["type"] == "message-end" and last["delta"]["finish_reason"] == "ERROR" and last["delta"]["error"]
