"""AI21 Jamba: OpenAI-like chat with string-only content, n up to 16, json_object only, documents,
FastAPI-style `{"detail": ...}` errors."""
from __future__ import annotations

import httpx
import orjson
import pytest

from conftest import WEATHER, chunk_payloads, finish_reasons, stream_text, user

URL = "/ai21/studio/v1/chat/completions"
H = {"Authorization": "Bearer ai21-key"}


def _chat(client: httpx.Client, **body: object) -> httpx.Response:
    return client.post(URL, headers=H, json={"model": "jamba-large", "messages": user("hello jamba"), **body})


def test_text_reply_shape(client: httpx.Client) -> None:
    r = _chat(client, documents=[{"content": "Some grounding text.", "metadata": {"source": "a"}}])
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["id"].startswith("chat-") and "object" not in body
    assert body["choices"][0]["message"] == {"role": "assistant", "content": "You said: hello jamba"}
    u = body["usage"]
    assert set(u) == {"prompt_tokens", "completion_tokens", "total_tokens"}


def test_n_and_json_mode(client: httpx.Client) -> None:
    assert [c["index"] for c in _chat(client, n=3).json()["choices"]] == [0, 1, 2]
    assert _chat(client, n=17).status_code == 422
    assert _chat(client, n=2, temperature=0).status_code == 422
    r = _chat(client, response_format={"type": "json_object"})
    assert orjson.loads(r.json()["choices"][0]["message"]["content"])
    r = _chat(client, response_format={"type": "json_schema", "json_schema": {"name": "s", "schema": {}}})
    assert r.status_code == 422 and isinstance(r.json()["detail"], str)


def test_string_content_only(client: httpx.Client) -> None:
    r = _chat(client, messages=[{"role": "user", "content": [{"type": "text", "text": "x"}]}])
    assert r.status_code == 422 and "detail" in r.json()
    r = client.post(URL, json={"model": "jamba-large", "messages": user("x")})
    assert r.status_code == 401 and r.json() == {"detail": "Forbidden: Bad or missing API token."}


def test_stream_and_tools(client: httpx.Client) -> None:
    chunks = chunk_payloads(_chat(client, stream=True).text)
    assert stream_text(chunks) == "You said: hello jamba"
    assert all(c["usage"] is None for c in chunks[:-1]) and chunks[-1]["usage"]["total_tokens"] > 0
    r = _chat(client, tools=[WEATHER])
    call = r.json()["choices"][0]["message"]["tool_calls"][0]
    assert r.json()["choices"][0]["finish_reason"] == "tool_calls" and orjson.loads(call["function"]["arguments"])
    chunks = chunk_payloads(_chat(client, tools=[WEATHER], stream=True).text)
    calls = [tc for c in chunks for tc in c["choices"][0]["delta"].get("tool_calls") or []]
    assert len(calls) == 1 and orjson.loads(calls[0]["function"]["arguments"])  # whole call in one delta
    assert finish_reasons(chunks) == ["tool_calls"]


def test_status_fault(client: httpx.Client) -> None:
    r = client.post(URL, headers={**H, "x-emulator-fault": "429"}, json={"model": "jamba-mini", "messages": user("x")})
    assert r.status_code == 429 and "detail" in r.json()


def test_sdk_types(client: httpx.Client) -> None:
    chat = pytest.importorskip("ai21.models.chat")
    chat.ChatCompletionResponse.model_validate(_chat(client).json())
