"""SambaNova: n 1-8 (not with tools), logit_bias refused, `<think>` inline for DeepSeek-R1, usage (with speed
metrics) in a final `choices: []` chunk of every stream."""
from __future__ import annotations

import httpx
import pytest
from openai.types.chat import ChatCompletion, ChatCompletionChunk

from conftest import WEATHER, chunk_payloads, finish_reasons, stream_args, stream_text, user

URL = "/sambanova/v1/chat/completions"
H = {"Authorization": "Bearer sn-key"}


def _chat(client: httpx.Client, **body: object) -> httpx.Response:
    return client.post(URL, headers=H, json={"model": "Meta-Llama-3.3-70B-Instruct", "messages": user("hi sn"),
                                             **body})


def test_text_and_usage_metrics(client: httpx.Client) -> None:
    r = _chat(client)
    assert ChatCompletion.model_validate(r.json()).choices[0].message.content == "You said: hi sn"
    assert r.json()["usage"]["time_to_first_token"] > 0


def test_think_inline(client: httpx.Client) -> None:
    content = _chat(client, model="DeepSeek-R1-0528").json()["choices"][0]["message"]["content"]
    assert content.startswith("<think>\n") and content.endswith("</think>\n\nYou said: hi sn")
    chunks = chunk_payloads(_chat(client, model="DeepSeek-R1", stream=True).text)
    assert stream_text(chunks).startswith("<think>")


def test_stream_usage_last_chunk(client: httpx.Client) -> None:
    chunks = chunk_payloads(_chat(client, stream=True, tools=[WEATHER]).text)
    for c in chunks:
        ChatCompletionChunk.model_validate(c)
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["is_last_response"] is True
    assert stream_args(chunks) and finish_reasons(chunks) == ["tool_calls"]
    assert stream_text(chunk_payloads(_chat(client, stream=True).text)) == "You said: hi sn"


def test_n_up_to_8_without_tools(client: httpx.Client) -> None:
    body = _chat(client, n=8).json()
    assert [c["index"] for c in body["choices"]] == list(range(8))
    assert body["choices"][7]["message"]["content"] == "[7] You said: hi sn"


def test_refusals(client: httpx.Client) -> None:
    assert _chat(client, n=9).status_code == 400
    assert _chat(client, n=2, tools=[WEATHER]).status_code == 400
    assert _chat(client, logit_bias={"5": 1}).status_code == 400
    assert "error" in _chat(client, n=9).json()


def test_sdk_types(client: httpx.Client) -> None:
    types = pytest.importorskip("sambanova.types.chat")
    types.ChatCompletionResponse.model_validate(_chat(client).json())
    for c in chunk_payloads(_chat(client, stream=True, tools=[WEATHER]).text):
        types.ChatCompletionStreamResponse.model_validate(c)
