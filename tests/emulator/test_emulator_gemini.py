"""Gemini dialect: responses validated with google.genai types, thought parts and signatures, function
calling turn rules, SSE with CRLF and the JSON-array stream, Google error bodies."""
from __future__ import annotations

from typing import Any

import httpx
import jsonschema
import orjson
from google.genai.types import GenerateContentResponse

from conftest import sse_data

H = {"x-goog-api-key": "k"}
TOOLS = [{"functionDeclarations": [{"name": "get_weather", "description": "w", "parameters": {
    "type": "OBJECT", "properties": {"city": {"type": "STRING"}, "days": {"type": "INTEGER", "minimum": 2}},
    "required": ["city"]}}]}]


def _url(model: str, stream: bool = False) -> str:
    return f"/gemini/v1beta/models/{model}:" + ("streamGenerateContent?alt=sse" if stream else "generateContent")


def _body(text: str = "hello gem", **kw: Any) -> dict[str, Any]:
    return {"contents": [{"role": "user", "parts": [{"text": text}]}], **kw}


def _err(r: httpx.Response, status: int = 400) -> str:
    assert r.status_code == status, r.text
    err = r.json()["error"]
    assert err["code"] == status and err["status"]
    return err["message"]


def test_text_and_usage(client: httpx.Client) -> None:
    r = client.post(_url("gemini-2.0-flash"), headers=H, json=_body())
    resp = GenerateContentResponse.model_validate(r.json())
    assert resp.text == "You said: hello gem"
    u = resp.usage_metadata
    assert u.total_token_count == u.prompt_token_count + u.candidates_token_count
    r = client.post(_url("gemini-2.0-flash") + "?key=k", json=_body())
    assert r.status_code == 200


def test_thinking_and_signature(client: httpx.Client) -> None:
    gen = {"thinkingConfig": {"includeThoughts": True, "thinkingBudget": 1024}}
    resp = GenerateContentResponse.model_validate(
        client.post(_url("gemini-2.5-flash"), headers=H, json=_body(generationConfig=gen)).json())
    parts = resp.candidates[0].content.parts
    assert parts[0].thought is True and parts[-1].thought_signature
    assert resp.usage_metadata.thoughts_token_count > 0


def test_function_call_signature_rules(client: httpx.Client) -> None:
    r = client.post(_url("gemini-3-pro-preview"), headers=H, json=_body(tools=TOOLS))
    raw = r.json()
    part = raw["candidates"][0]["content"]["parts"][0]
    assert "id" not in part["functionCall"] and part["thoughtSignature"]
    assert part["functionCall"]["args"]["days"] >= 2
    reply = {"role": "user", "parts": [{"functionResponse": {"name": "get_weather", "response": {"t": "21C"}}}]}
    history = _body(tools=TOOLS)["contents"] + [raw["candidates"][0]["content"], reply]
    ok = client.post(_url("gemini-3-pro-preview"), headers=H, json={"contents": history, "tools": TOOLS})
    assert "21C" in GenerateContentResponse.model_validate(ok.json()).text
    del history[1]["parts"][0]["thoughtSignature"]
    msg = _err(client.post(_url("gemini-3-pro-preview"), headers=H, json={"contents": history, "tools": TOOLS}))
    assert "missing a thought_signature" in msg
    history[1]["parts"][0]["thoughtSignature"] = "skip_thought_signature_validator"
    assert client.post(_url("gemini-3-pro-preview"), headers=H,
                       json={"contents": history, "tools": TOOLS}).status_code == 200
    assert client.post(_url("gemini-2.0-flash"), headers=H,
                       json={"contents": history[:2] + [reply, reply], "tools": TOOLS}).status_code == 400


def test_stream_sse_and_array(client: httpx.Client) -> None:
    r = client.post(_url("gemini-2.5-flash", True), headers=H, json=_body("a b c d e f g"))
    assert "\r\n\r\n" in r.text and "[DONE]" not in r.text
    chunks = [GenerateContentResponse.model_validate_json(d) for d in sse_data(r.text, "\r\n\r\n")]
    assert len(chunks) > 2 and "".join(c.text or "" for c in chunks) == "You said: a b c d e f g"
    assert chunks[-1].candidates[0].finish_reason == "STOP" and chunks[-1].usage_metadata.thoughts_token_count
    r = client.post("/gemini/v1beta/models/gemini-2.0-flash:streamGenerateContent", headers=H,
                    json=_body(tools=TOOLS, toolConfig={"functionCallingConfig": {"mode": "ANY"}}))
    array = orjson.loads(r.content)
    assert isinstance(array, list) and array[-1]["candidates"][0]["content"]["parts"][0]["functionCall"]


def test_json_schema_output(client: httpx.Client) -> None:
    schema = {"type": "object", "properties": {"n": {"type": "integer"}, "xs": {"type": "array", "items": {
        "type": "string"}, "minItems": 2}}, "required": ["n", "xs"]}
    gen = {"responseMimeType": "application/json", "responseJsonSchema": schema}
    r = client.post(_url("gemini-2.0-flash"), headers=H, json=_body(generationConfig=gen))
    jsonschema.validate(orjson.loads(GenerateContentResponse.model_validate(r.json()).text), schema)


def test_refusals(client: httpx.Client) -> None:
    assert _err(client.post(_url("gemini-2.0-flash"), json=_body()), 403)
    assert "Unknown name" in _err(client.post(_url("gemini-2.0-flash"), headers=H,
                                              json=_body(generationConfig={"max_tokens": 5})))
    bad_role = {"contents": [{"role": "assistant", "parts": [{"text": "x"}]}]}
    assert "valid role" in _err(client.post(_url("gemini-2.0-flash"), headers=H, json=bad_role))
    assert "empty" in _err(client.post(_url("gemini-2.0-flash"), headers=H,
                                       json={"contents": [{"role": "user", "parts": []}]}))
    extra = [{"functionDeclarations": [{"name": "f", "parameters": {
        "type": "object", "properties": {"a": {"type": "string"}}, "additionalProperties": False}}]}]
    assert "additionalProperties" in _err(client.post(_url("gemini-2.0-flash"), headers=H, json=_body(tools=extra)))
    cached = _body(cachedContent="cachedContents/x", systemInstruction={"parts": [{"text": "s"}]})
    assert "CachedContent" in _err(client.post(_url("gemini-2.0-flash"), headers=H, json=cached))
    snake = {"contents": [{"role": "user", "parts": [{"text": "x"}]}], "generation_config": {"max_output_tokens": 2}}
    r = client.post(_url("gemini-2.0-flash"), headers=H, json=snake)
    assert r.json()["candidates"][0]["finishReason"] == "MAX_TOKENS"
