"""Gemini generateContent / streamGenerateContent on the wire: GenerateContentResponse JSON, SSE with CRLF
separators (alt=sse) or a streamed JSON array, thought parts and thought signatures, Google error bodies."""
from __future__ import annotations

import dataclasses
from typing import Any

import orjson

from emulator import fake_model as fm
from emulator import signatures
from emulator.asgi import Context, Request, Response, json_response, parse_json_object, received_header
from emulator.dialects import web_search
from emulator.dialects.gemini_request import Parsed, parse
from emulator.errors import ApiError

_STATUS = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED", 404: "NOT_FOUND",
           429: "RESOURCE_EXHAUSTED", 500: "INTERNAL", 503: "UNAVAILABLE", 529: "UNAVAILABLE"}
_FINISH = {"end": "STOP", "tool": "STOP", "stop_sequence": "STOP", "length": "MAX_TOKENS"}


def _error_body(err: ApiError) -> dict[str, Any]:
    return {"error": {"code": err.status, "message": err.message, "status": _STATUS.get(err.status, "UNKNOWN")}}


def render_error(err: ApiError, params: dict[str, Any]) -> Response:
    return json_response(err.status, _error_body(err))


def _parts(parsed: Parsed, reply: fm.Reply) -> list[dict[str, Any]]:
    """Thought summary first, then text or function calls; signature on the first call or the last text."""
    parts: list[dict[str, Any]] = []
    if parsed.include_thoughts and reply.thinking:
        parts.append({"text": reply.thinking, "thought": True})
    signed = parsed.prompt.thinking
    for k, call in enumerate(reply.tool_calls):
        part: dict[str, Any] = {"functionCall": {"name": call.name, "args": call.args}}
        if signed and k == 0:
            part["thoughtSignature"] = signatures.gemini_call_signature(call.name, call.args)
        parts.append(part)
    if not reply.tool_calls:
        part = {"text": reply.text}
        if signed:
            part["thoughtSignature"] = signatures.gemini_text_signature(reply.text)
        parts.append(part)
    return parts


def _grounding(found: web_search.Grounded, vertex: bool) -> dict[str, Any]:
    """groundingMetadata: the query, one web chunk per source (Vertex adds `domain`), one support per sentence
    with UTF-8 BYTE offsets into the part (startIndex 0 is left out, as proto3 JSON does)."""
    chunks = []
    for src in found.sources:
        web = {"uri": "https://vertexaisearch.cloud.google.com/grounding-api-redirect/" +
                      fm.stable_id("AUZIYQ", src.url, length=28), "title": src.domain}
        if vertex:
            web["domain"] = src.domain
        chunks.append({"web": web})
    supports = []
    for n, sentence in enumerate(found.sentences):
        start, end = found.byte_span(n)
        segment: dict[str, Any] = {"startIndex": start, "endIndex": end, "text": sentence}
        if not start:
            del segment["startIndex"]
        supports.append({"segment": segment, "groundingChunkIndices": [0] if n == 0 else [0, 1]})
    return {"webSearchQueries": [found.query],
            "searchEntryPoint": {"renderedContent": f"<div class=\"chip\">{found.query}</div>"},
            "groundingChunks": chunks, "groundingSupports": supports}


def _ground(parsed: Parsed, replies: list[fm.Reply], vertex: bool) -> tuple[list[fm.Reply], dict[int, Any]]:
    """With a googleSearch tool, plain answers become grounded ones (tool calls and cut answers stay as they are)."""
    if not parsed.google_search:
        return replies, {}
    out, meta = [], {}
    for i, reply in enumerate(replies):
        if reply.tool_calls or reply.stop_reason != "end" or parsed.prompt.json_mode or parsed.prompt.json_schema:
            out.append(reply)
            continue
        found = web_search.search(parsed.prompt.last_user_text)
        out.append(dataclasses.replace(reply, text=found.text, output_tokens=fm.count_tokens(found.text)))
        meta[i] = _grounding(found, vertex)
    return out, meta


def _usage(parsed: Parsed, replies: list[fm.Reply]) -> dict[str, Any]:
    prompt = replies[0].input_tokens + parsed.cached_tokens
    candidates = sum(r.output_tokens for r in replies)
    thoughts = sum(r.reasoning_tokens for r in replies)
    usage: dict[str, Any] = {"promptTokenCount": prompt, "candidatesTokenCount": candidates,
                             "totalTokenCount": prompt + candidates + thoughts,
                             "promptTokensDetails": [{"modality": "TEXT", "tokenCount": prompt}]}
    if thoughts:
        usage["thoughtsTokenCount"] = thoughts
    if parsed.cached_tokens:
        usage["cachedContentTokenCount"] = parsed.cached_tokens
        usage["cacheTokensDetails"] = [{"modality": "TEXT", "tokenCount": parsed.cached_tokens}]
    return usage


def _response(candidates: list[dict[str, Any]], usage: dict[str, Any], model: str, rid: str) -> dict[str, Any]:
    return {"candidates": candidates, "usageMetadata": usage, "modelVersion": model, "responseId": rid}


def _stream_chunks(parsed: Parsed, replies: list[fm.Reply], model: str, rid: str,
                   grounding: dict[int, Any] | None = None) -> list[dict[str, Any]]:
    """Each chunk holds only new parts; the last chunk of a candidate carries finishReason (and its
    groundingMetadata)."""
    grounding = grounding or {}
    partial = {"promptTokenCount": replies[0].input_tokens + parsed.cached_tokens}
    partial["totalTokenCount"] = partial["promptTokenCount"]
    chunks: list[dict[str, Any]] = []
    for index, reply in enumerate(replies):
        split: list[dict[str, Any]] = []
        for part in _parts(parsed, reply):
            if "text" in part and part["text"]:
                pieces = fm.pieces(part["text"], 3)
                for n, piece in enumerate(pieces):
                    bit: dict[str, Any] = {"text": piece}
                    if part.get("thought"):
                        bit["thought"] = True
                    if n == len(pieces) - 1 and "thoughtSignature" in part:
                        bit["thoughtSignature"] = part["thoughtSignature"]
                    split.append(bit)
            else:
                split.append(part)
        for n, part in enumerate(split):
            cand: dict[str, Any] = {"content": {"role": "model", "parts": [part]}, "index": index}
            if n == len(split) - 1:
                cand["finishReason"] = _FINISH[reply.stop_reason]
                if index in grounding:
                    cand["groundingMetadata"] = grounding[index]
            chunks.append(_response([cand], dict(partial), model, rid))
    chunks[-1]["usageMetadata"] = _usage(parsed, replies)
    return chunks


def _auth_ok(req: Request) -> bool:
    auth = req.headers.get("authorization", "")
    return bool(req.headers.get("x-goog-api-key") or req.query.get("key") or
                (auth.startswith("Bearer ") and auth[7:].strip()))


def handle(req: Request, ctx: Context, params: dict[str, Any]) -> Response:
    if not _auth_ok(req):
        return render_error(ApiError(403, "Method doesn't allow unregistered callers (callers without established "
                                          "identity). Please use API Key or other form of API consumer identity "
                                          "to call this API.", "permission"), params)
    model = params["model"]
    body = parse_json_object(req.body)
    try:
        parsed = parse(body, model)
    except ApiError as err:
        return render_error(err, params)
    replies = [fm.generate(parsed.prompt, i) for i in range(parsed.prompt.n)]
    replies, grounding = _ground(parsed, replies, params.get("publisher") == "google")
    rid = fm.stable_id("", req.body.decode("utf-8", "replace"), length=22)
    summary = received_header(dialect="gemini", model=model, stream=params["stream"],
                              tools=len(parsed.prompt.tools), tool_choice=parsed.prompt.tool_choice,
                              thinking=parsed.prompt.thinking, contents=len(body.get("contents", [])))
    if not params["stream"]:
        cands = [{"content": {"role": "model", "parts": _parts(parsed, r)}, "finishReason": _FINISH[r.stop_reason],
                  "index": i} for i, r in enumerate(replies)]
        for i, meta in grounding.items():
            cands[i]["groundingMetadata"] = meta
        return json_response(200, _response(cands, _usage(parsed, replies), model, rid), [summary])
    chunks = [orjson.dumps(c) for c in _stream_chunks(parsed, replies, model, rid, grounding)]
    err = orjson.dumps(_error_body(ApiError(500, "An internal error has occurred. Please retry or report in "
                                                 "https://developers.generativeai.google/guide/troubleshooting",
                                            "server")))
    if req.query.get("alt") == "sse":
        return Response(200, [("content-type", "text/event-stream"), summary],
                        events=[b"data: " + c + b"\r\n\r\n" for c in chunks], framing="sse-crlf",
                        error_event=b"data: " + err + b"\r\n\r\n")
    events = [b"[" + chunks[0]] + [b",\r\n" + c for c in chunks[1:]] + [b"]"]
    return Response(200, [("content-type", "application/json"), summary], events=events, framing="json-array",
                    error_event=b",\r\n" + err + b"]")
