"""xAI Grok: empty-string finish_reason with tool calls, grok-3-mini `reasoning_content` and reasoning tokens
outside completion_tokens, reasoning-model refusals, `{"code", "error"}` string errors."""
from __future__ import annotations

import httpx
from openai.types.chat import ChatCompletion, ChatCompletionChunk

from conftest import WEATHER, chunk_payloads, finish_reasons, stream_args, stream_text, user

URL = "/xai/v1/chat/completions"
H = {"Authorization": "Bearer xai-key"}


def _chat(client: httpx.Client, **body: object) -> httpx.Response:
    return client.post(URL, headers=H, json={"model": "grok-3", "messages": user("hello grok"), **body})


def test_tool_calls_empty_finish_reason(client: httpx.Client) -> None:
    body = _chat(client, tools=[WEATHER]).json()
    assert body["choices"][0]["finish_reason"] == "" and body["choices"][0]["message"]["tool_calls"]
    chunks = chunk_payloads(_chat(client, tools=[WEATHER], stream=True).text)
    assert stream_args(chunks)
    assert [c["choices"][0]["finish_reason"] for c in chunks][-1] == ""
    assert _chat(client).json()["choices"][0]["finish_reason"] == "stop"


def test_grok3_mini_reasoning_usage(client: httpx.Client) -> None:
    r = _chat(client, model="grok-3-mini", reasoning_effort="high")
    c = ChatCompletion.model_validate(r.json())
    assert r.json()["choices"][0]["message"]["reasoning_content"]
    u = c.usage
    reasoning = u.completion_tokens_details.reasoning_tokens
    assert reasoning > 0 and u.total_tokens == u.prompt_tokens + u.completion_tokens + reasoning
    chunks = chunk_payloads(_chat(client, model="grok-3-mini", stream=True,
                                  stream_options={"include_usage": True}).text)
    for ch in chunks:
        ChatCompletionChunk.model_validate(ch)
    assert stream_text(chunks, "reasoning_content") and stream_text(chunks) == "You said: hello grok"
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["total_tokens"] > 0
    assert "reasoning_content" not in _chat(client, model="grok-4").json()["choices"][0]["message"]
    assert finish_reasons(chunks) == ["stop"]


def test_reasoning_refusals_and_error_shape(client: httpx.Client) -> None:
    for model, extra in (("grok-3-mini", {"presence_penalty": 0.5}), ("grok-4", {"stop": ["x"]}),
                         ("grok-4", {"frequency_penalty": 0.1}), ("grok-4", {"reasoning_effort": "high"}),
                         ("grok-3-mini", {"reasoning_effort": "medium"})):
        r = _chat(client, model=model, **extra)
        assert r.status_code == 400, (model, extra)
        assert isinstance(r.json()["error"], str) and isinstance(r.json()["code"], str)
    assert _chat(client, presence_penalty=0.5).status_code == 200
    r = client.post(URL, json={"model": "grok-3", "messages": user("x")})
    assert r.status_code == 401 and isinstance(r.json()["error"], str)
