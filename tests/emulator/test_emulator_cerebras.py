"""Cerebras: OpenAI-compatible with logit_bias refused, top-level time_info, `reasoning` for gpt-oss and
Qwen thinking models, usage and time_info on the final stream chunk."""
from __future__ import annotations

import httpx
import pytest
from openai.types.chat import ChatCompletion, ChatCompletionChunk

from conftest import WEATHER, chunk_payloads, finish_reasons, stream_text, user

URL = "/cerebras/v1/chat/completions"
H = {"Authorization": "Bearer csk-key"}


def _chat(client: httpx.Client, **body: object) -> httpx.Response:
    return client.post(URL, headers=H, json={"model": "llama-3.3-70b", "messages": user("hello cerebras"), **body})


def test_text_and_time_info(client: httpx.Client) -> None:
    r = _chat(client)
    c = ChatCompletion.model_validate(r.json())
    assert c.choices[0].message.content == "You said: hello cerebras"
    assert r.json()["time_info"]["total_time"] > 0 and "time_info" not in r.json()["usage"]


def test_reasoning_models(client: httpx.Client) -> None:
    for model in ("gpt-oss-120b", "qwen-3-235b-a22b-thinking-2507"):
        msg = _chat(client, model=model).json()["choices"][0]["message"]
        assert msg["reasoning"] and "<think>" not in msg["content"]
    chunks = chunk_payloads(_chat(client, model="gpt-oss-120b", stream=True).text)
    assert stream_text(chunks, "reasoning") and stream_text(chunks) == "You said: hello cerebras"
    assert "reasoning" not in _chat(client).json()["choices"][0]["message"]


def test_stream_usage_on_final_chunk(client: httpx.Client) -> None:
    chunks = chunk_payloads(_chat(client, stream=True, tools=[WEATHER]).text)
    for c in chunks:
        ChatCompletionChunk.model_validate(c)
    assert chunks[-1]["usage"]["total_tokens"] > 0 and chunks[-1]["time_info"]
    assert finish_reasons(chunks) == ["tool_calls"]


def test_refusals(client: httpx.Client) -> None:
    r = _chat(client, logit_bias={"1": 2})
    assert r.status_code == 400 and r.json()["error"]["param"] == "logit_bias"
    assert client.post(URL, json={"model": "m", "messages": user("x")}).status_code == 401


def test_sdk_types(client: httpx.Client) -> None:
    types = pytest.importorskip("cerebras.cloud.sdk.types.chat.chat_completion")
    resp = types.ChatCompletionResponse.model_validate(_chat(client, model="gpt-oss-120b").json())
    assert resp.choices[0].message.reasoning and resp.time_info.total_time > 0
    for c in chunk_payloads(_chat(client, stream=True, tools=[WEATHER]).text):
        types.ChatChunkResponse.model_validate(c)
