"""Fault injection and timing controls, across dialects."""
from __future__ import annotations

import time

import httpx
import orjson
import pytest
from botocore.eventstream import ChecksumMismatch, EventStreamBuffer

from conftest import sse_data

OPENAI = ("/openai/v1/chat/completions", {"Authorization": "Bearer k"},
          {"model": "gpt-4o", "messages": [{"role": "user", "content": "a b c d e f g h"}]})
ANTHROPIC = ("/anthropic/v1/messages", {"x-api-key": "k", "anthropic-version": "2023-06-01"},
             {"model": "claude-sonnet-4-5", "max_tokens": 100, "messages": [{"role": "user", "content": "a b c d"}]})
GEMINI = ("/gemini/v1beta/models/gemini-2.0-flash:generateContent", {"x-goog-api-key": "k"},
          {"contents": [{"role": "user", "parts": [{"text": "a b c d"}]}]})
BEDROCK = ("/bedrock/model/amazon.nova-pro-v1%3A0/converse", {"Authorization": "Bearer k"},
           {"messages": [{"role": "user", "content": [{"text": "a b c d e f"}]}]})
ALL = [OPENAI, ANTHROPIC, GEMINI, BEDROCK]


def _stream(dialect: tuple) -> tuple[str, dict, dict]:
    url, headers, body = dialect
    if "gemini" in url:
        return url.replace(":generateContent", ":streamGenerateContent?alt=sse"), headers, body
    if "bedrock" in url:
        return url.replace("/converse", "/converse-stream"), headers, body
    return url, headers, {**body, "stream": True}


@pytest.mark.parametrize("dialect", ALL, ids=["openai", "anthropic", "gemini", "bedrock"])
def test_status_faults(client: httpx.Client, dialect: tuple) -> None:
    url, headers, body = dialect
    r = client.post(url, headers={**headers, "x-emulator-fault": "429"}, json=body)
    assert r.status_code == 429 and r.headers["retry-after"] == "1"
    for status in (500, 503):
        r = client.post(url, headers={**headers, "x-emulator-fault": str(status)}, json=body)
        assert r.status_code == status and r.json()
    r = client.post(url + ("&" if "?" in url else "?") + "emulator_fault=500", headers=headers, json=body)
    assert r.status_code == 500


@pytest.mark.parametrize("dialect", ALL, ids=["openai", "anthropic", "gemini", "bedrock"])
def test_cut_and_badjson(client: httpx.Client, dialect: tuple) -> None:
    url, headers, body = _stream(dialect)
    with pytest.raises(httpx.RemoteProtocolError):
        client.post(url, headers={**headers, "x-emulator-fault": "cut"}, json=body)
    url, headers, body = dialect
    with pytest.raises(httpx.RemoteProtocolError):
        client.post(url, headers={**headers, "x-emulator-fault": "cut"}, json=body)
    r = client.post(url, headers={**headers, "x-emulator-fault": "badjson"}, json=body)
    assert r.status_code == 200
    with pytest.raises(orjson.JSONDecodeError):
        orjson.loads(r.content)


def test_badjson_stream_event(client: httpx.Client) -> None:
    url, headers, body = _stream(OPENAI)
    r = client.post(url, headers={**headers, "x-emulator-fault": "badjson"}, json=body)
    bad = 0
    for data in sse_data(r.text)[:-1]:
        try:
            orjson.loads(data)
        except orjson.JSONDecodeError:
            bad += 1
    assert bad == 1 and r.text.endswith("data: [DONE]\n\n")


def test_bedrock_badcrc(client: httpx.Client) -> None:
    url, headers, body = _stream(BEDROCK)
    r = client.post(url, headers={**headers, "x-emulator-fault": "badcrc"}, json=body)
    buf = EventStreamBuffer()
    buf.add_data(r.content)
    with pytest.raises(ChecksumMismatch):
        list(buf)


def test_stream_error_events(client: httpx.Client) -> None:
    url, headers, body = _stream(ANTHROPIC)
    text = client.post(url, headers={**headers, "x-emulator-fault": "stream-error"}, json=body).text
    assert 'event: error\ndata: {"type":"error","error":{"type":"overloaded_error"' in text
    assert "message_stop" not in text
    url, headers, body = _stream(OPENAI)
    last = sse_data(client.post(url, headers={**headers, "x-emulator-fault": "stream-error"}, json=body).text)[-1]
    assert "error" in orjson.loads(last)
    url, headers, body = _stream(BEDROCK)
    buf = EventStreamBuffer()
    buf.add_data(client.post(url, headers={**headers, "x-emulator-fault": "stream-error"}, json=body).content)
    last = list(buf)[-1]
    assert last.headers[":message-type"] == "exception" and last.to_response_dict()["status_code"] == 400


def test_hang_and_latency(base_url: str) -> None:
    url, headers, body = OPENAI
    with httpx.Client(base_url=base_url, timeout=0.5) as c:
        with pytest.raises(httpx.ReadTimeout):
            c.post(url, headers={**headers, "x-emulator-fault": "hang"}, json=body)
        s_url, s_headers, s_body = _stream(OPENAI)
        with pytest.raises(httpx.ReadTimeout):
            c.post(s_url, headers={**s_headers, "x-emulator-fault": "hang"}, json=s_body)
        start = time.monotonic()
        assert c.post(url, headers={**headers, "x-emulator-latency-ms": "200"}, json=body).status_code == 200
        assert time.monotonic() - start >= 0.2
        start = time.monotonic()
        c.post(s_url, headers={**s_headers, "x-emulator-token-delay-ms": "20"}, json=s_body)
        assert time.monotonic() - start >= 0.1


def test_unknown_route(client: httpx.Client) -> None:
    assert client.post("/nope").status_code == 404
    assert client.get("/health").json() == {"ok": True}


COHERE = ("/cohere/v2/chat", {"Authorization": "Bearer k"},
          {"model": "command-a-03-2025", "messages": [{"role": "user", "content": "a b c d e f g h"}]})
AZURE = ("/azure/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21", {"api-key": "k"},
         {"messages": [{"role": "user", "content": "a b c d e f g h"}]})
XAI = ("/xai/v1/chat/completions", {"Authorization": "Bearer k"},
       {"model": "grok-3", "messages": [{"role": "user", "content": "a b c d e f g h"}]})
VERTEX_CLAUDE = ("/vertex/v1/projects/p/locations/us-east5/publishers/anthropic/models/claude-sonnet-4-5:rawPredict",
                 {"Authorization": "Bearer t"}, {"anthropic_version": "vertex-2023-10-16", "max_tokens": 50,
                                                 "messages": [{"role": "user", "content": "a b c d"}]})
NEW = [COHERE, AZURE, XAI, VERTEX_CLAUDE]
NEW_IDS = ["cohere", "azure", "xai", "vertex-claude"]


@pytest.mark.parametrize("dialect", NEW, ids=NEW_IDS)
def test_new_dialects_status_faults(client: httpx.Client, dialect: tuple) -> None:
    url, headers, body = dialect
    r = client.post(url, headers={**headers, "x-emulator-fault": "429"}, json=body)
    assert r.status_code == 429 and r.headers["retry-after"] == "1" and r.json()
    r = client.post(url, headers={**headers, "x-emulator-fault": "500"}, json=body)
    assert r.status_code == 500 and r.json()


@pytest.mark.parametrize("dialect", NEW, ids=NEW_IDS)
def test_new_dialects_cut_and_badjson(client: httpx.Client, dialect: tuple) -> None:
    url, headers, body = dialect
    with pytest.raises(httpx.RemoteProtocolError):
        client.post(url, headers={**headers, "x-emulator-fault": "cut"}, json={**body, "stream": True})
    r = client.post(url, headers={**headers, "x-emulator-fault": "badjson"}, json={**body, "stream": True})
    bad = 0
    for data in sse_data(r.text):
        try:
            orjson.loads(data)
        except orjson.JSONDecodeError:
            bad += data != "[DONE]"
    assert r.status_code == 200 and bad == 1


def test_fault_times_with_cohere(client: httpx.Client) -> None:
    url, headers, body = COHERE
    h = {**headers, "x-emulator-fault": "498", "x-emulator-fault-key": "co-498", "x-emulator-fault-times": "1"}
    assert client.post(url, headers=h, json=body).status_code == 498
    assert client.post(url, headers=h, json=body).status_code == 200
