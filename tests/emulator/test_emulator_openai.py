"""OpenAI / Groq dialect: shapes validated with the openai SDK types, tools, streaming, refusals."""
from __future__ import annotations

import httpx
import jsonschema
import orjson
from openai.types.chat import ChatCompletion, ChatCompletionChunk

from conftest import sse_data

AUTH = {"Authorization": "Bearer sk-test"}
URL = "/openai/v1/chat/completions"
GROQ = "/groq/openai/v1/chat/completions"
WEATHER = {"type": "function", "function": {"name": "get_weather", "parameters": {
    "type": "object", "properties": {"city": {"type": "string"}, "unit": {"type": "string", "enum": ["c", "f"]},
                                     "days": {"type": "integer", "minimum": 1, "maximum": 7}},
    "required": ["city", "unit"], "additionalProperties": False}}}


def _user(text: str) -> list[dict]:
    return [{"role": "user", "content": text}]


def _chunks(resp: httpx.Response) -> list[ChatCompletionChunk]:
    data = sse_data(resp.text)
    assert data[-1] == "[DONE]"
    return [ChatCompletionChunk.model_validate_json(d) for d in data[:-1]]


def test_text_reply(client: httpx.Client) -> None:
    r = client.post(URL, headers=AUTH, json={"model": "gpt-4o", "messages": _user("hello there")})
    assert r.status_code == 200
    c = ChatCompletion.model_validate(r.json())
    assert c.choices[0].message.content == "You said: hello there"
    assert c.choices[0].finish_reason == "stop"
    assert c.usage.total_tokens == c.usage.prompt_tokens + c.usage.completion_tokens
    assert orjson.loads(r.headers["x-emulator-received"])["dialect"] == "openai"


def test_tool_call_satisfies_schema(client: httpx.Client) -> None:
    r = client.post(URL, headers=AUTH, json={"model": "gpt-4o", "messages": _user("weather?"), "tools": [WEATHER]})
    c = ChatCompletion.model_validate(r.json())
    call = c.choices[0].message.tool_calls[0]
    assert c.choices[0].finish_reason == "tool_calls" and call.id.startswith("call_")
    jsonschema.validate(orjson.loads(call.function.arguments), WEATHER["function"]["parameters"])
    follow = _user("weather?") + [
        {"role": "assistant", "content": None, "tool_calls": [call.model_dump()]},
        {"role": "tool", "tool_call_id": call.id, "content": "sunny 21C"}]
    r2 = client.post(URL, headers=AUTH, json={"model": "gpt-4o", "messages": follow, "tools": [WEATHER]})
    assert "sunny 21C" in r2.json()["choices"][0]["message"]["content"]


def test_stream_with_usage_and_tools(client: httpx.Client) -> None:
    body = {"model": "gpt-4o", "messages": _user("one two three four five"), "stream": True,
            "stream_options": {"include_usage": True}}
    chunks = _chunks(client.post(URL, headers=AUTH, json=body))
    text = "".join(ch.choices[0].delta.content or "" for ch in chunks if ch.choices)
    assert text == "You said: one two three four five" and len(chunks) > 4
    assert chunks[-1].choices == [] and chunks[-1].usage.completion_tokens > 0
    body.update(tools=[WEATHER], tool_choice={"type": "function", "function": {"name": "get_weather"}})
    chunks = _chunks(client.post(URL, headers=AUTH, json=body))
    args = "".join(tc.function.arguments or "" for ch in chunks if ch.choices
                   for tc in ch.choices[0].delta.tool_calls or [])
    assert orjson.loads(args)["unit"] == "c"
    assert [ch.choices[0].finish_reason for ch in chunks if ch.choices][-1] == "tool_calls"


def test_json_modes(client: httpx.Client) -> None:
    schema = {"type": "object", "properties": {"name": {"type": "string"}, "tags": {"type": "array", "items": {
        "type": "string"}}}, "required": ["name", "tags"], "additionalProperties": False}
    r = client.post(URL, headers=AUTH, json={"model": "gpt-4o", "messages": _user("x"), "response_format": {
        "type": "json_schema", "json_schema": {"name": "s", "schema": schema, "strict": True}}})
    jsonschema.validate(orjson.loads(r.json()["choices"][0]["message"]["content"]), schema)
    r = client.post(URL, headers=AUTH, json={"model": "gpt-4o", "messages": _user("x"),
                                             "response_format": {"type": "json_object"}})
    assert r.status_code == 400 and "json" in r.json()["error"]["message"]


def test_refusals(client: httpx.Client) -> None:
    r = client.post(URL, json={"model": "gpt-4o", "messages": _user("x")})
    assert r.status_code == 401 and r.json()["error"]["type"] == "invalid_request_error"
    r = client.post(URL, headers=AUTH, json={"model": "o3-mini", "messages": _user("x"), "max_tokens": 5})
    assert r.status_code == 400 and r.json()["error"]["code"] == "unsupported_parameter"
    r = client.post(URL, headers=AUTH, json={"model": "gpt-5", "messages": _user("x"), "temperature": 0.2})
    assert r.json()["error"]["param"] == "temperature"
    dangling = _user("x") + [{"role": "assistant", "content": None, "tool_calls": [
        {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{}"}}]}]
    r = client.post(URL, headers=AUTH, json={"model": "gpt-4o", "messages": dangling, "tools": [WEATHER]})
    assert r.status_code == 400 and "tool_call_ids" in r.json()["error"]["message"]
    r = client.post(URL, headers=AUTH, json={"model": "o4-mini", "messages": _user("x"), "max_completion_tokens": 50})
    assert r.json()["usage"]["completion_tokens_details"]["reasoning_tokens"] > 0


def test_groq_variant(client: httpx.Client) -> None:
    for extra in ({"n": 2}, {"logprobs": True}, {"logit_bias": {"1": 1}}):
        r = client.post(GROQ, headers=AUTH, json={"model": "llama-3.3-70b", "messages": _user("x"), **extra})
        assert r.status_code == 400 and "error" in r.json()
    named = [{"role": "user", "content": "x", "name": "bob"}]
    assert client.post(GROQ, headers=AUTH, json={"model": "m", "messages": named}).status_code == 400
    r = client.post(GROQ, headers=AUTH, json={"model": "m", "messages": _user("hi"), "stream": True})
    chunks = _chunks(r)
    assert all(ch.usage is None for ch in chunks)
    assert chunks[-1].model_extra["x_groq"]["usage"]["total_tokens"] > 0
    r = client.post(GROQ, headers=AUTH, json={"model": "m", "messages": _user("hi")})
    assert ChatCompletion.model_validate(r.json()).usage.prompt_tokens == 1


def test_n_choices(client: httpx.Client) -> None:
    r = client.post(URL, headers=AUTH, json={"model": "gpt-4o", "messages": _user("hi"), "n": 2})
    assert [c["index"] for c in r.json()["choices"]] == [0, 1]
