"""Bedrock dialect: Converse JSON, ConverseStream frames decoded (CRC-checked) with botocore's
EventStreamBuffer, reasoning signatures, cachePoint accounting, ValidationException shape."""
from __future__ import annotations

from typing import Any

import httpx
import jsonschema
import orjson
from botocore.eventstream import EventStreamBuffer

MODEL = "anthropic.claude-3-7-sonnet-20250219-v1%3A0"
H = {"Authorization": "Bearer bedrock-key"}
SIGV4 = {"Authorization": "AWS4-HMAC-SHA256 Credential=AKID/20250101/us-east-1/bedrock/aws4_request, "
                          "SignedHeaders=content-type;host;x-amz-date, Signature=abc", "x-amz-date": "20250101T000000Z"}
TOOL = {"toolSpec": {"name": "search", "description": "s", "inputSchema": {"json": {
    "type": "object", "properties": {"query": {"type": "string", "minLength": 12}, "n": {"type": "number"}},
    "required": ["query"]}}}}


def _url(stream: bool = False) -> str:
    return f"/bedrock/model/{MODEL}/" + ("converse-stream" if stream else "converse")


def _body(text: str = "hello rock", **kw: Any) -> dict[str, Any]:
    return {"messages": [{"role": "user", "content": [{"text": text}]}], **kw}


def _frames(content: bytes) -> list[tuple[str, dict[str, Any]]]:
    buf = EventStreamBuffer()
    buf.add_data(content)
    out = []
    for msg in buf:  # raises ChecksumMismatch on a bad CRC
        assert msg.headers[":message-type"] == "event" and msg.headers[":content-type"] == "application/json"
        payload = orjson.loads(msg.payload)
        assert isinstance(payload.pop("p"), str)
        out.append((msg.headers[":event-type"], payload))
    return out


def _err(r: httpx.Response, status: int = 400) -> str:
    assert r.status_code == status, r.text
    assert r.headers["x-amzn-errortype"].split(":")[0].endswith("Exception")
    return r.json()["message"]


def test_converse_text(client: httpx.Client) -> None:
    r = client.post(_url(), headers=SIGV4, json=_body())
    out = r.json()
    assert out["output"]["message"]["content"] == [{"text": "You said: hello rock"}]
    assert out["stopReason"] == "end_turn" and out["metrics"]["latencyMs"] >= 0
    assert orjson.loads(r.headers["x-emulator-received"])["model"] == "anthropic.claude-3-7-sonnet-20250219-v1:0"


def test_stream_frames_and_tool(client: httpx.Client) -> None:
    frames = _frames(client.post(_url(True), headers=H, json=_body("a b c d e")).content)
    names = [n for n, _ in frames]
    assert names[0] == "messageStart" and names[-2:] == ["messageStop", "metadata"]
    assert "".join(p["delta"]["text"] for n, p in frames if n == "contentBlockDelta") == "You said: a b c d e"
    body = _body(toolConfig={"tools": [TOOL], "toolChoice": {"tool": {"name": "search"}}})
    frames = _frames(client.post(_url(True), headers=H, json=body).content)
    start = next(p for n, p in frames if n == "contentBlockStart")["start"]["toolUse"]
    pieces = [p["delta"]["toolUse"]["input"] for n, p in frames if n == "contentBlockDelta"]
    args = orjson.loads("".join(pieces))
    jsonschema.validate(args, TOOL["toolSpec"]["inputSchema"]["json"])
    assert len(pieces) > 1 and frames[-2][1]["stopReason"] == "tool_use"
    assert frames[-1][1]["usage"]["totalTokens"] > 0
    history = body["messages"] + [
        {"role": "assistant", "content": [{"toolUse": {**start, "input": args}}]},
        {"role": "user", "content": [{"toolResult": {"toolUseId": start["toolUseId"],
                                                     "content": [{"json": {"hits": 7}}]}}]}]
    r = client.post(_url(), headers=H, json={"messages": history, "toolConfig": {"tools": [TOOL]}})
    assert "hits" in r.json()["output"]["message"]["content"][0]["text"]
    assert "toolConfig" in _err(client.post(_url(), headers=H, json={"messages": history}))
    assert "Expected toolResult" in _err(client.post(_url(), headers=H, json={
        "messages": history[:2] + [{"role": "user", "content": [{"text": "x"}]}], "toolConfig": {"tools": [TOOL]}}))


def test_reasoning_roundtrip(client: httpx.Client) -> None:
    extra = {"thinking": {"type": "enabled", "budget_tokens": 1024}}
    body = _body(inferenceConfig={"maxTokens": 2000}, additionalModelRequestFields=extra,
                 toolConfig={"tools": [TOOL]})
    frames = _frames(client.post(_url(True), headers=H, json=body).content)
    deltas = [p["delta"] for n, p in frames if n == "contentBlockDelta" and p["contentBlockIndex"] == 0]
    assert "text" in deltas[0]["reasoningContent"] and "signature" in deltas[-1]["reasoningContent"]
    out = client.post(_url(), headers=H, json=body).json()["output"]["message"]
    tool_id = out["content"][1]["toolUse"]["toolUseId"]
    result = {"role": "user", "content": [{"toolResult": {"toolUseId": tool_id, "content": [{"text": "r"}]}}]}
    body["messages"] += [out, result]
    assert client.post(_url(), headers=H, json=body).status_code == 200
    body["messages"][1]["content"][0]["reasoningContent"]["reasoningText"]["signature"] = "forged"
    assert "signature" in _err(client.post(_url(), headers=H, json=body))
    body["messages"][1]["content"] = body["messages"][1]["content"][1:]
    assert "Expected `thinking`" in _err(client.post(_url(), headers=H, json=body))
    forced = _body(additionalModelRequestFields=extra, toolConfig={"tools": [TOOL], "toolChoice": {"any": {}}})
    assert "forces tool use" in _err(client.post(_url(), headers=H, json=forced))


def test_cache_points(client: httpx.Client) -> None:
    body = _body(system=[{"text": "big system prompt " * 30}, {"cachePoint": {"type": "default"}}])
    first = client.post(_url(), headers=H, json=body).json()["usage"]
    second = client.post(_url(), headers=H, json=body).json()["usage"]
    assert first["cacheWriteInputTokens"] > 0 and second["cacheReadInputTokens"] == first["cacheWriteInputTokens"]
    assert second["totalTokens"] == (second["inputTokens"] + second["outputTokens"] +
                                     second["cacheReadInputTokens"] + second["cacheWriteInputTokens"])


def test_validation(client: httpx.Client) -> None:
    assert _err(client.post(_url(), json=_body()), 403) == "Missing Authentication Token"
    wrong = {**SIGV4, "Authorization": SIGV4["Authorization"].replace("/bedrock/", "/bedrock-runtime/")}
    assert "bedrock" in _err(client.post(_url(), headers=wrong, json=_body()), 403)
    r = client.post(_url(), headers=H, json=_body(inferenceConfig={"temperature": 1.5}))
    assert r.headers["x-amzn-errortype"] == "ValidationException:http://internal.amazon.com/coral/com.amazon.bedrock/"
    assert "blank" in _err(client.post(_url(), headers=H, json=_body(" ")))
    assert "extraneous" in _err(client.post(_url(), headers=H, json=_body(inferenceConfig={"max_tokens": 5})))
    two_users = {"messages": _body()["messages"] * 2}
    assert "alternate" in _err(client.post(_url(), headers=H, json=two_users))
    doc = {"document": {"format": "pdf", "name": "report.pdf", "source": {"bytes": "aGk="}}}
    r = client.post(_url(), headers=H, json={"messages": [{"role": "user", "content": [doc, {"text": "x"}]}]})
    assert "document file name" in _err(r)
