"""DeepInfra: `: ping` SSE comment lines inside streams, tool_choice limited to auto/none, `reasoning_content`,
FastAPI-style `{"detail": ...}` errors."""
from __future__ import annotations

import httpx
import orjson
from openai.types.chat import ChatCompletion, ChatCompletionChunk

from conftest import WEATHER, chunk_payloads, finish_reasons, stream_args, stream_text, user

URL = "/deepinfra/v1/openai/chat/completions"
H = {"Authorization": "Bearer di-key"}
MODEL = "meta-llama/Meta-Llama-3.1-8B-Instruct"


def _chat(client: httpx.Client, **body: object) -> httpx.Response:
    return client.post(URL, headers=H, json={"model": MODEL, "messages": user("hello deepinfra"), **body})


def test_text_and_tools(client: httpx.Client) -> None:
    c = ChatCompletion.model_validate(_chat(client).json())
    assert c.choices[0].message.content == "You said: hello deepinfra"
    r = _chat(client, tools=[WEATHER], tool_choice="auto")
    assert r.json()["choices"][0]["finish_reason"] == "tool_calls"


def test_stream_pings(client: httpx.Client) -> None:
    r = _chat(client, stream=True, tools=[WEATHER])
    assert r.text.count("\n: ping - ") + r.text.startswith(": ping - ") >= 1
    chunks = chunk_payloads(r.text)
    for ch in chunks:
        ChatCompletionChunk.model_validate(ch)
    assert orjson.loads(stream_args(chunks)) and finish_reasons(chunks) == ["tool_calls"]


def test_reasoning_content(client: httpx.Client) -> None:
    msg = _chat(client, model="deepseek-ai/DeepSeek-R1-0528").json()["choices"][0]["message"]
    assert msg["reasoning_content"] and msg["content"] == "You said: hello deepinfra"
    chunks = chunk_payloads(_chat(client, model="deepseek-ai/DeepSeek-R1-0528", stream=True).text)
    assert stream_text(chunks, "reasoning_content")
    msg = _chat(client, model="deepseek-ai/DeepSeek-R1-0528", reasoning_effort="none").json()
    assert "reasoning_content" not in msg["choices"][0]["message"]


def test_detail_errors(client: httpx.Client) -> None:
    r = _chat(client, tools=[WEATHER], tool_choice="required")
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "tool_choice"]
    r = client.post(URL, json={"model": MODEL, "messages": user("x")})
    assert r.status_code == 401 and isinstance(r.json()["detail"], str)
    r = client.post(URL, headers={**H, "x-emulator-fault": "500"}, json={"model": MODEL, "messages": user("x")})
    assert r.status_code == 500 and "detail" in r.json()
