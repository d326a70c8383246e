"""Perplexity Sonar: citations and search_results (every chunk, final one included), `<think>` inline for
sonar-reasoning, json_object refused, json_schema without a name accepted, file_url (PDF) parts, numeric
error codes."""
from __future__ import annotations

import httpx
import jsonschema
import orjson
import pytest

from conftest import chunk_payloads, finish_reasons, stream_text, user

URL = "/perplexity/chat/completions"
H = {"Authorization": "Bearer pplx-key"}


def _chat(client: httpx.Client, **body: object) -> httpx.Response:
    return client.post(URL, headers=H, json={"model": "sonar", "messages": user("hello sonar"), **body})


def test_citations_and_search_results(client: httpx.Client) -> None:
    body = _chat(client).json()
    assert body["choices"][0]["message"]["content"] == "You said: hello sonar"
    assert body["citations"] and body["search_results"][0]["url"] == body["citations"][0]
    assert {"title", "url", "date"} <= set(body["search_results"][0])
    assert body["usage"]["num_search_queries"] == 1


def test_stream(client: httpx.Client) -> None:
    chunks = chunk_payloads(_chat(client, stream=True).text)
    assert stream_text(chunks) == "You said: hello sonar" and finish_reasons(chunks) == ["stop"]
    last = chunks[-1]
    assert last["citations"] and last["search_results"] and last["usage"]["total_tokens"] > 0
    assert last["choices"][0]["message"]["content"] == "You said: hello sonar"  # full mode accumulates


def test_reasoning_inline(client: httpx.Client) -> None:
    content = _chat(client, model="sonar-reasoning-pro").json()["choices"][0]["message"]["content"]
    assert content.startswith("<think>") and content.endswith("</think>\n\nYou said: hello sonar")


def test_response_formats(client: httpx.Client) -> None:
    r = _chat(client, response_format={"type": "json_object"})
    assert r.status_code == 400 and r.json()["error"]["code"] == 400
    schema = {"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"]}
    r = _chat(client, response_format={"type": "json_schema", "json_schema": {"schema": schema}})
    jsonschema.validate(orjson.loads(r.json()["choices"][0]["message"]["content"]), schema)


def test_file_url_part(client: httpx.Client) -> None:
    pdf = {"type": "file_url", "file_url": {"url": "JVBERi0xLjQK"}, "file_name": "report.pdf"}
    messages = [{"role": "user", "content": [{"type": "text", "text": "Summarise"}, pdf]}]
    r = client.post(URL, headers=H, json={"model": "sonar-pro", "messages": messages})
    assert r.status_code == 200 and r.json()["choices"][0]["message"]["content"] == "You said: Summarise"
    pdf["file_url"] = {}
    r = client.post(URL, headers=H, json={"model": "sonar-pro", "messages": messages})
    assert r.status_code == 400 and "file_url.url" in r.json()["error"]["message"]


def test_refusals(client: httpx.Client) -> None:
    r = _chat(client, model="gpt-4o")
    assert r.status_code == 400 and "Invalid model" in r.json()["error"]["message"]
    assert client.post(URL, json={"model": "sonar", "messages": user("x")}).status_code == 401


def test_sdk_types(client: httpx.Client) -> None:
    types = pytest.importorskip("perplexity.types")
    types.StreamChunk.model_validate(_chat(client).json())
    for c in chunk_payloads(_chat(client, model="sonar-reasoning", stream=True).text):
        types.StreamChunk.model_validate(c)
