"""Vertex AI: Gemini via publishers/google (bearer auth, CRLF SSE) and Claude via rawPredict /
streamRawPredict (model in the URL, anthropic_version in the body)."""
from __future__ import annotations

import httpx
from anthropic.types import Message
from google.genai.types import GenerateContentResponse

from conftest import sse_data, sse_named

H = {"Authorization": "Bearer ya29.emulated"}
ROOT = "/vertex/v1/projects/emulated-project/locations/us-central1/publishers"
GEM = ROOT + "/google/models/gemini-2.5-flash:"
CLAUDE = ROOT + "/anthropic/models/claude-sonnet-4-5@20250929:"
CLAUDE_BODY = {"anthropic_version": "vertex-2023-10-16", "max_tokens": 100,
               "messages": [{"role": "user", "content": "hello vertex"}]}
GEM_BODY = {"contents": [{"role": "user", "parts": [{"text": "hello vertex"}]}]}


def test_gemini_unary_and_stream(client: httpx.Client) -> None:
    r = client.post(GEM + "generateContent", headers=H, json=GEM_BODY)
    assert r.status_code == 200, r.text
    assert GenerateContentResponse.model_validate(r.json()).text == "You said: hello vertex"
    r = client.post(GEM + "streamGenerateContent?alt=sse", headers=H, json=GEM_BODY)
    assert "\r\n\r\n" in r.text and "\n\n" not in r.text.replace("\r\n\r\n", "")
    parts = [GenerateContentResponse.model_validate_json(d) for d in sse_data(r.text, "\r\n\r\n")]
    assert "".join(p.text or "" for p in parts) == "You said: hello vertex"


def test_auth_is_oauth_only(client: httpx.Client) -> None:
    for headers in ({}, {"x-goog-api-key": "k"}):
        r = client.post(GEM + "generateContent", headers=headers, json=GEM_BODY)
        assert r.status_code == 401 and r.json()["error"]["status"] == "UNAUTHENTICATED"
    r = client.post(CLAUDE + "rawPredict", json=CLAUDE_BODY)
    assert r.status_code == 401 and r.json()["error"]["code"] == 401


def test_claude_raw_predict(client: httpx.Client) -> None:
    r = client.post(CLAUDE + "rawPredict", headers=H, json=CLAUDE_BODY)
    assert r.status_code == 200, r.text
    msg = Message.model_validate(r.json())
    assert msg.model == "claude-sonnet-4-5@20250929" and msg.content[0].text == "You said: hello vertex"
    assert msg.id.startswith("msg_vrtx_") and r.headers["request-id"].startswith("req_vrtx_")


def test_claude_stream_raw_predict(client: httpx.Client) -> None:
    r = client.post(CLAUDE + "streamRawPredict", headers=H, json={**CLAUDE_BODY, "stream": True})
    events = sse_named(r.text)
    assert events[0][0] == "message_start" and events[-1][0] == "message_stop"
    text = "".join(d["delta"].get("text", "") for name, d in events if name == "content_block_delta")
    assert text == "You said: hello vertex"


def test_claude_body_rules(client: httpx.Client) -> None:
    r = client.post(CLAUDE + "rawPredict", headers=H, json={**CLAUDE_BODY, "model": "claude-sonnet-4-5"})
    assert r.status_code == 400 and r.json()["type"] == "error" and "model" in r.json()["error"]["message"]
    no_version = {k: v for k, v in CLAUDE_BODY.items() if k != "anthropic_version"}
    r = client.post(CLAUDE + "rawPredict", headers={**H, "anthropic-version": "2023-06-01"}, json=no_version)
    assert r.status_code == 400 and "anthropic_version" in r.json()["error"]["message"]
    r = client.post(CLAUDE + "rawPredict", headers=H, json={**CLAUDE_BODY, "anthropic_version": "2023-06-01"})
    assert r.status_code == 400
    assert client.post(CLAUDE + "generateContent", headers=H, json=GEM_BODY).status_code == 400


def test_faults_per_front(client: httpx.Client) -> None:
    r = client.post(CLAUDE + "rawPredict", headers={**H, "x-emulator-fault": "429"}, json=CLAUDE_BODY)
    assert r.status_code == 429 and r.json()["error"]["status"] == "RESOURCE_EXHAUSTED"
    r = client.post(CLAUDE + "rawPredict", headers={**H, "x-emulator-fault": "529"}, json=CLAUDE_BODY)
    assert r.status_code == 529 and r.json()["error"]["type"] == "overloaded_error"
    r = client.post(GEM + "generateContent", headers={**H, "x-emulator-fault": "503"}, json=GEM_BODY)
    assert r.status_code == 503 and r.json()["error"]["status"] == "UNAVAILABLE"
