"""Together AI: finish_reason `eos`, integer-only logprobs, `<think>` inline for DeepSeek-R1 and `reasoning`
for Qwen3 thinking models, role on every delta, usage on the finish chunk, developer role accepted."""
from __future__ import annotations

import httpx
import orjson
import pytest
from openai.types.chat import ChatCompletion

from conftest import WEATHER, chunk_payloads, finish_reasons, stream_text, user

URL = "/together/v1/chat/completions"
H = {"Authorization": "Bearer tg-key"}
MODEL = "meta-llama/Llama-3.3-70B-Instruct-Turbo"


def _chat(client: httpx.Client, **body: object) -> httpx.Response:
    return client.post(URL, headers=H, json={"model": MODEL, "messages": user("hello together"), **body})


def test_eos_and_tools(client: httpx.Client) -> None:
    r = _chat(client, messages=[{"role": "developer", "content": "be brief"}] + user("hello together"))
    body = r.json()
    assert body["choices"][0]["finish_reason"] == "eos" and body["prompt"] == []
    assert set(body["usage"]) == {"prompt_tokens", "completion_tokens", "total_tokens"}
    r = _chat(client, tools=[WEATHER])
    assert r.json()["choices"][0]["finish_reason"] == "tool_calls"
    assert _chat(client, max_tokens=2).json()["choices"][0]["finish_reason"] == "length"


def test_stream(client: httpx.Client) -> None:
    chunks = chunk_payloads(_chat(client, stream=True).text)
    assert all(c["choices"][0]["delta"]["role"] == "assistant" for c in chunks)
    assert stream_text(chunks) == "You said: hello together" and finish_reasons(chunks) == ["eos"]
    assert all(c["usage"] is None for c in chunks[:-1]) and chunks[-1]["usage"]["total_tokens"] > 0
    chunks = chunk_payloads(_chat(client, stream=True, tools=[WEATHER]).text)
    calls = [tc for c in chunks for tc in c["choices"][0]["delta"].get("tool_calls") or []]
    assert len(calls) == 1 and orjson.loads(calls[0]["function"]["arguments"])


def test_reasoning(client: httpx.Client) -> None:
    msg = _chat(client, model="deepseek-ai/DeepSeek-R1").json()["choices"][0]["message"]
    assert msg["content"].startswith("<think>") and "reasoning" not in msg
    msg = _chat(client, model="Qwen/Qwen3-235B-A22B-Thinking-2507").json()["choices"][0]["message"]
    assert msg["reasoning"] and msg["content"] == "You said: hello together"
    chunks = chunk_payloads(_chat(client, model="Qwen/Qwen3-235B-A22B-Thinking-2507", stream=True).text)
    assert stream_text(chunks, "reasoning")


def test_logprobs_integer(client: httpx.Client) -> None:
    r = _chat(client, logprobs=True)
    assert r.status_code == 400 and r.json()["error"]["param"] == "logprobs"
    assert _chat(client, logprobs=3).status_code == 200


def test_sdk_types(client: httpx.Client) -> None:
    types = pytest.importorskip("together.types.chat")
    types.ChatCompletion.model_validate(_chat(client, tools=[WEATHER]).json())
    for c in chunk_payloads(_chat(client, stream=True, tools=[WEATHER]).text):
        types.ChatCompletionChunk.model_validate(c)
    ChatCompletion.model_validate(_chat(client, tools=[WEATHER]).json())  # `eos` is not an OpenAI finish_reason
