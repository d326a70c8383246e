"""Azure OpenAI: both URL styles, api-key auth, content-filter annotations (body and stream), the
filtered-prompt 400 and filtered-output faults, reasoning-model refusals."""
from __future__ import annotations

import httpx
import orjson
from openai.types.chat import ChatCompletion, ChatCompletionChunk

from conftest import WEATHER, chunk_payloads, finish_reasons, stream_args, stream_text, user

DEP = "/azure/openai/deployments/{}/chat/completions?api-version=2024-10-21"
V1 = "/azure/openai/v1/chat/completions"
KEY = {"api-key": "azure-key"}


def test_deployment_style_text(client: httpx.Client) -> None:
    r = client.post(DEP.format("my-gpt4o"), headers=KEY, json={"messages": user("hello azure"), "model": "ignored"})
    assert r.status_code == 200, r.text
    c = ChatCompletion.model_validate(r.json())
    assert c.model == "my-gpt4o" and c.choices[0].message.content == "You said: hello azure"
    body = r.json()
    assert body["prompt_filter_results"][0]["content_filter_results"]["hate"] == {"filtered": False,
                                                                                  "severity": "safe"}
    assert body["choices"][0]["content_filter_results"]["violence"]["filtered"] is False


def test_v1_style_and_bearer(client: httpx.Client) -> None:
    r = client.post(V1, headers={"Authorization": "Bearer entra-token"}, json={"model": "dep-1",
                                                                              "messages": user("x")})
    assert r.status_code == 200 and r.json()["model"] == "dep-1"
    assert client.post(V1, headers=KEY, json={"messages": user("x")}).status_code == 400  # v1 needs model


def test_auth_and_api_version(client: httpx.Client) -> None:
    r = client.post(DEP.format("d"), json={"messages": user("x")})
    assert r.status_code == 401 and r.json()["error"]["code"] == "401"
    r = client.post("/azure/openai/deployments/d/chat/completions", headers=KEY, json={"messages": user("x")})
    assert r.status_code == 404 and r.json()["error"]["message"] == "Resource not found"


def test_stream_annotations(client: httpx.Client) -> None:
    body = {"messages": user("one two three"), "stream": True, "stream_options": {"include_usage": True}}
    chunks = chunk_payloads(client.post(DEP.format("d"), headers=KEY, json=body).text)
    first = chunks[0]
    assert first["id"] == "" and first["object"] == "" and first["choices"] == [] and first["prompt_filter_results"]
    annotation_only = [c for c in chunks if c["choices"] and "delta" not in c["choices"][0]]
    assert annotation_only and "content_filter_results" in annotation_only[0]["choices"][0]
    for c in chunks:
        if c["id"] and c["choices"] and "delta" in c["choices"][0]:
            ChatCompletionChunk.model_validate(c)
    assert stream_text(chunks) == "You said: one two three"
    assert finish_reasons(chunks) == ["stop"] and chunks[-1]["usage"]["total_tokens"] > 0
    body.update(tools=[WEATHER])
    chunks = chunk_payloads(client.post(DEP.format("d"), headers=KEY, json=body).text)
    assert orjson.loads(stream_args(chunks))["unit"] in ("c", "f")
    assert finish_reasons(chunks) == ["tool_calls"]


def test_content_filter_faults(client: httpx.Client) -> None:
    h = {**KEY, "x-emulator-fault": "content-filter"}
    r = client.post(DEP.format("d"), headers=h, json={"messages": user("x")})
    err = r.json()["error"]
    assert r.status_code == 400 and err["code"] == "content_filter" and err["param"] == "prompt"
    assert err["status"] == 400 and err["type"] is None
    assert err["innererror"]["code"] == "ResponsibleAIPolicyViolation"
    assert err["innererror"]["content_filter_result"]["violence"]["filtered"] is True
    h = {**KEY, "x-emulator-fault": "filtered-output"}
    r = client.post(DEP.format("d"), headers=h, json={"messages": user("x")})
    choice = r.json()["choices"][0]
    assert r.status_code == 200 and choice["finish_reason"] == "content_filter" and choice["message"]["content"] is None
    chunks = chunk_payloads(client.post(DEP.format("d"), headers=h, json={"messages": user("x"), "stream": True}).text)
    assert finish_reasons(chunks) == ["content_filter"] and "delta" not in chunks[-1]["choices"][0]


def test_reasoning_and_status_faults(client: httpx.Client) -> None:
    r = client.post(DEP.format("o3-mini"), headers=KEY, json={"messages": user("x"), "temperature": 0.5})
    assert r.status_code == 400 and r.json()["error"]["param"] == "temperature"
    r = client.post(DEP.format("gpt-5"), headers=KEY, json={"messages": user("x"), "max_completion_tokens": 90})
    assert r.json()["usage"]["completion_tokens_details"]["reasoning_tokens"] > 0
    r = client.post(DEP.format("d"), headers={**KEY, "x-emulator-fault": "429"}, json={"messages": user("x")})
    assert r.status_code == 429 and r.json()["error"]["code"] == "429" and r.headers["retry-after"] == "1"
