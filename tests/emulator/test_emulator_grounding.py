"""Server-side search in the emulator, checked with the providers' own SDK types: Gemini / Vertex Gemini answer
a `googleSearch` tool with groundingMetadata (supports with UTF-8 byte offsets, which differ from character
offsets here), Anthropic / Vertex Claude answer a `web_search_20250305` tool with server_tool_use,
web_search_tool_result and cited text blocks (citations_delta in streams)."""
from __future__ import annotations

from typing import Any

import httpx
import orjson
from anthropic.types import Message, RawMessageStreamEvent
from google.genai.types import GenerateContentResponse
from pydantic import TypeAdapter

from conftest import sse_data, sse_named

GEM_H = {"x-goog-api-key": "k"}
VTX_H = {"Authorization": "Bearer ya29.emulated"}
ANT_H = {"x-api-key": "k", "anthropic-version": "2023-06-01"}
VTX = "/vertex/v1/projects/emulated-project/locations/us-central1/publishers"
SEARCH = [{"googleSearch": {}}]
WEB_SEARCH = {"type": "web_search_20250305", "name": "web_search", "max_uses": 3,
              "user_location": {"type": "approximate", "city": "Berlin", "country": "DE", "timezone": "Europe/Berlin"}}
EVENTS = TypeAdapter(RawMessageStreamEvent)


def _gem_body(**kw: Any) -> dict[str, Any]:
    return {"contents": [{"role": "user", "parts": [{"text": "Who won Euro 2024?"}]}], "tools": SEARCH, **kw}


def _check_grounding(resp: GenerateContentResponse, vertex: bool) -> None:
    cand = resp.candidates[0]
    text = "".join(p.text for p in cand.content.parts if p.text)
    meta = cand.grounding_metadata
    assert meta is not None and meta.web_search_queries
    assert len(meta.grounding_chunks) == 2
    for chunk in meta.grounding_chunks:
        assert chunk.web.uri.startswith("https://") and chunk.web.title
        assert (chunk.web.domain is not None) == vertex
    raw = text.encode()
    for support in meta.grounding_supports:
        seg = support.segment
        start, end = seg.start_index or 0, seg.end_index
        assert raw[start:end].decode() == seg.text  # byte offsets
        assert support.grounding_chunk_indices
    second = meta.grounding_supports[1].segment
    assert text[second.start_index:second.end_index] != second.text, "byte and char offsets should differ"
    assert text.find(second.text) < second.start_index


def test_gemini_google_search_grounds_the_answer(client: httpx.Client) -> None:
    r = client.post("/gemini/v1beta/models/gemini-2.5-flash:generateContent", headers=GEM_H, json=_gem_body())
    assert r.status_code == 200, r.text
    _check_grounding(GenerateContentResponse.model_validate(r.json()), vertex=False)


def test_gemini_google_search_stream_grounds_on_the_last_chunk(client: httpx.Client) -> None:
    r = client.post("/gemini/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse", headers=GEM_H,
                    json=_gem_body())
    chunks = [GenerateContentResponse.model_validate(orjson.loads(d)) for d in sse_data(r.text, "\r\n\r\n")]
    assert len(chunks) > 1
    assert all(c.candidates[0].grounding_metadata is None for c in chunks[:-1])
    last = chunks[-1].candidates[0]
    assert last.finish_reason == "STOP" and last.grounding_metadata is not None
    text = "".join(p.text for c in chunks for p in c.candidates[0].content.parts if p.text)
    whole = GenerateContentResponse.model_validate({"candidates": [{
        "content": {"role": "model", "parts": [{"text": text}]},
        "groundingMetadata": last.grounding_metadata.model_dump(mode="json", by_alias=True, exclude_none=True)}]})
    _check_grounding(whole, vertex=False)


def test_vertex_gemini_google_search_has_domains(client: httpx.Client) -> None:
    r = client.post(f"{VTX}/google/models/gemini-2.5-flash:generateContent", headers=VTX_H, json=_gem_body())
    assert r.status_code == 200, r.text
    _check_grounding(GenerateContentResponse.model_validate(r.json()), vertex=True)


def test_search_next_to_function_declarations_is_refused(client: httpx.Client) -> None:
    decl = {"functionDeclarations": [{"name": "get_weather", "parameters": {"type": "OBJECT"}}]}
    r = client.post(f"{VTX}/google/models/gemini-2.5-flash:generateContent", headers=VTX_H,
                    json=_gem_body(tools=[decl, {"googleSearch": {}}]))
    assert r.status_code == 400 and "search tools" in r.json()["error"]["message"]


def _ant_body(**kw: Any) -> dict[str, Any]:
    return {"model": "claude-sonnet-4-5", "max_tokens": 512, "tools": [WEB_SEARCH],
            "messages": [{"role": "user", "content": "Who won Euro 2024?"}], **kw}


def _check_message(m: Message) -> None:
    kinds = [b.type for b in m.content]
    assert kinds[:3] == ["text", "server_tool_use", "web_search_tool_result"], kinds
    assert "tool_use" not in kinds and m.stop_reason == "end_turn"
    use, result = m.content[1], m.content[2]
    assert use.name == "web_search" and use.input["query"] and result.tool_use_id == use.id
    urls = {r.url for r in result.content}
    cited = [c for b in m.content if b.type == "text" for c in (b.citations or [])]
    assert len(cited) == 2 and all(c.type == "web_search_result_location" and c.url in urls for c in cited)
    assert m.usage.server_tool_use.web_search_requests == 1


def test_anthropic_web_search(client: httpx.Client) -> None:
    r = client.post("/anthropic/v1/messages", headers=ANT_H, json=_ant_body())
    assert r.status_code == 200, r.text
    _check_message(Message.model_validate(r.json()))


def test_anthropic_web_search_stream(client: httpx.Client) -> None:
    r = client.post("/anthropic/v1/messages", headers=ANT_H, json=_ant_body(stream=True))
    events = [EVENTS.validate_python(data) for name, data in sse_named(r.text) if name != "ping"]
    deltas = [e.delta.type for e in events if e.type == "content_block_delta"]
    assert "citations_delta" in deltas and "input_json_delta" in deltas
    starts = [e.content_block.type for e in events if e.type == "content_block_start"]
    assert starts[:3] == ["text", "server_tool_use", "web_search_tool_result"]
    # fold the stream the way the SDK accumulator does and check it like a message
    blocks: list[dict[str, Any]] = []
    for e in events:
        if e.type == "content_block_start":
            blocks.append(e.content_block.model_dump(mode="json", exclude_none=True))
        elif e.type == "content_block_delta":
            block, d = blocks[e.index], e.delta
            if d.type == "text_delta":
                block["text"] += d.text
            elif d.type == "citations_delta":
                block.setdefault("citations", []).append(d.citation.model_dump(mode="json"))
            elif d.type == "input_json_delta":
                block["_json"] = block.get("_json", "") + d.partial_json
    for block in blocks:
        if "_json" in block:
            block["input"] = orjson.loads(block.pop("_json"))
    start = events[0].message.model_dump(mode="json")
    final = [e for e in events if e.type == "message_delta"][-1]
    usage = {**start["usage"], **final.usage.model_dump(mode="json", exclude_none=True)}
    _check_message(Message.model_validate({**start, "content": blocks, "stop_reason": final.delta.stop_reason,
                                           "usage": usage}))


def test_vertex_claude_web_search(client: httpx.Client) -> None:
    body = {k: v for k, v in _ant_body().items() if k != "model"}
    body["anthropic_version"] = "vertex-2023-10-16"
    r = client.post(f"{VTX}/anthropic/models/claude-sonnet-4-5@20250929:rawPredict", headers=VTX_H, json=body)
    assert r.status_code == 200, r.text
    _check_message(Message.model_validate(r.json()))


def test_web_search_tool_is_checked(client: httpx.Client) -> None:
    bad = dict(WEB_SEARCH, max_uses=0)
    r = client.post("/anthropic/v1/messages", headers=ANT_H, json=_ant_body(tools=[bad]))
    assert r.status_code == 400 and "max_uses" in r.json()["error"]["message"]
