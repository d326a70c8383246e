"""Anthropic Messages API on the wire: Message JSON, named SSE events (message_start, content blocks with
text/input_json/thinking/signature deltas, message_delta, message_stop, ping), Anthropic error bodies."""
from __future__ import annotations

import dataclasses
from typing import Any

import orjson

from emulator import fake_model as fm
from emulator import signatures
from emulator.asgi import Context, Request, Response, json_response, parse_json_object, received_header
from emulator.dialects import web_search
from emulator.dialects.anthropic_request import Parsed, parse
from emulator.errors import ApiError

_TYPES = {"invalid_request": "invalid_request_error", "auth": "authentication_error",
          "permission": "permission_error", "not_found": "not_found_error", "rate_limit": "rate_limit_error",
          "server": "api_error", "unavailable": "api_error", "overloaded": "overloaded_error"}
_STOP = {"end": "end_turn", "tool": "tool_use", "length": "max_tokens", "stop_sequence": "stop_sequence"}


def _error_body(err: ApiError, request_id: str = "req_emulator") -> dict[str, Any]:
    return {"type": "error", "error": {"type": _TYPES.get(err.kind, "api_error"), "message": err.message},
            "request_id": request_id}


def render_error(err: ApiError, params: dict[str, Any]) -> Response:
    return json_response(err.status, _error_body(err), [("request-id", "req_emulator")])


def _usage(parsed: Parsed, reply: fm.Reply, ctx: Context) -> dict[str, Any]:
    """Cache accounting: the prefix up to the last cache_control marker is written once, then read."""
    marked = [i for i, (_, _, m) in enumerate(parsed.segments) if m]
    total = sum(fm.count_tokens(text) for _, text, _ in parsed.segments)
    write = read = 0
    if marked:
        prefix = parsed.segments[: marked[-1] + 1]
        write, read = ctx.ledger.account([raw for raw, _, _ in prefix],
                                         max(1, sum(fm.count_tokens(t) for _, t, _ in prefix)))
    uncached = max(0, max(1, total) - write - read)
    return {"input_tokens": uncached, "output_tokens": reply.total_output_tokens,
            "cache_creation_input_tokens": write, "cache_read_input_tokens": read,
            "cache_creation": {"ephemeral_5m_input_tokens": write if parsed.cache_ttl == "5m" else 0,
                               "ephemeral_1h_input_tokens": write if parsed.cache_ttl == "1h" else 0},
            "service_tier": "standard"}


def _content(parsed: Parsed, reply: fm.Reply, msg_id: str) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = []
    if reply.thinking is not None:
        shown = reply.thinking if parsed.display_thinking else ""
        blocks.append({"type": "thinking", "thinking": shown, "signature": signatures.thinking_signature(shown)})
    if reply.text:
        blocks.append({"type": "text", "text": reply.text, "citations": None})
    for i, call in enumerate(reply.tool_calls):
        blocks.append({"type": "tool_use", "id": fm.stable_id("toolu_", msg_id, i), "name": call.name,
                       "input": call.args})
    return blocks


def _searched(parsed: Parsed, reply: fm.Reply, msg_id: str) -> list[dict[str, Any]] | None:
    """With the web_search server tool and a plain answer: server_tool_use, web_search_tool_result, then text
    blocks whose sentences carry web_search_result_location citations (None: no search happened)."""
    if (parsed.web_search is None or reply.tool_calls or reply.stop_reason != "end"
            or parsed.prompt.json_schema is not None):
        return None
    found = web_search.search(parsed.prompt.last_user_text)
    use_id = fm.stable_id("srvtoolu_", msg_id)
    results = [{"type": "web_search_result", "url": s.url, "title": s.title,
                "encrypted_content": fm.stable_id("Eq", s.url, length=40), "page_age": "April 30, 2025"}
               for s in found.sources]
    blocks: list[dict[str, Any]] = []
    if reply.thinking is not None:
        blocks += _content(parsed, dataclasses.replace(reply, text=""), msg_id)
    blocks += [{"type": "text", "text": "I'll search for that. ", "citations": None},
               {"type": "server_tool_use", "id": use_id, "name": "web_search", "input": {"query": found.query}},
               {"type": "web_search_tool_result", "tool_use_id": use_id, "content": results}]
    for n, sentence in enumerate(found.sentences):
        src = found.sources[n]
        cite = {"type": "web_search_result_location", "url": src.url, "title": src.title,
                "encrypted_index": fm.stable_id("Eo", src.url, n, length=32), "cited_text": src.snippet}
        if n:
            blocks.append({"type": "text", "text": " ", "citations": None})
        blocks.append({"type": "text", "text": sentence, "citations": [cite]})
    return blocks


def _message(model: str, msg_id: str, content: list[dict[str, Any]], reply: fm.Reply | None,
             usage: dict[str, Any]) -> dict[str, Any]:
    return {"id": msg_id, "type": "message", "role": "assistant", "model": model, "content": content,
            "stop_reason": _STOP[reply.stop_reason] if reply else None,
            "stop_sequence": reply.stop_sequence if reply else None, "usage": usage}


def _sse(event: dict[str, Any]) -> bytes:
    return b"event: " + event["type"].encode() + b"\ndata: " + orjson.dumps(event) + b"\n\n"


def _block_events(index: int, block: dict[str, Any]) -> list[dict[str, Any]]:
    """content_block_start / deltas / stop for one finished block."""
    btype = block["type"]
    out: list[dict[str, Any]] = []

    def delta(d: dict[str, Any]) -> None:
        out.append({"type": "content_block_delta", "index": index, "delta": d})

    if btype == "thinking":
        out.append({"type": "content_block_start", "index": index,
                    "content_block": {"type": "thinking", "thinking": "", "signature": ""}})
        if block["thinking"]:
            for piece in fm.pieces(block["thinking"], 4):
                delta({"type": "thinking_delta", "thinking": piece})
        delta({"type": "signature_delta", "signature": block["signature"]})
    elif btype == "text":
        out.append({"type": "content_block_start", "index": index,
                    "content_block": {"type": "text", "text": "", "citations": None}})
        for citation in block.get("citations") or ():
            delta({"type": "citations_delta", "citation": citation})
        for piece in fm.pieces(block["text"]):
            delta({"type": "text_delta", "text": piece})
    elif btype == "server_tool_use":
        out.append({"type": "content_block_start", "index": index,
                    "content_block": {"type": "server_tool_use", "id": block["id"], "name": block["name"], "input": {}}})
        delta({"type": "input_json_delta", "partial_json": orjson.dumps(block["input"]).decode()})
    elif btype.endswith("_tool_result"):
        out.append({"type": "content_block_start", "index": index, "content_block": block})
    else:
        out.append({"type": "content_block_start", "index": index,
                    "content_block": {"type": "tool_use", "id": block["id"], "name": block["name"], "input": {}}})
        delta({"type": "input_json_delta", "partial_json": ""})
        for piece in fm.json_pieces(orjson.dumps(block["input"]).decode()):
            delta({"type": "input_json_delta", "partial_json": piece})
    out.append({"type": "content_block_stop", "index": index})
    return out


def _stream(model: str, msg_id: str, content: list[dict[str, Any]], reply: fm.Reply,
            usage: dict[str, Any]) -> list[bytes]:
    start_usage = dict(usage, output_tokens=1)
    events: list[dict[str, Any]] = [
        {"type": "message_start", "message": _message(model, msg_id, [], None, start_usage)}, {"type": "ping"}]
    for index, block in enumerate(content):
        events += _block_events(index, block)
    final_usage = {k: usage[k] for k in ("input_tokens", "output_tokens", "cache_creation_input_tokens",
                                         "cache_read_input_tokens", "server_tool_use") if k in usage}
    events.append({"type": "message_delta", "delta": {"stop_reason": _STOP[reply.stop_reason],
                                                      "stop_sequence": reply.stop_sequence},
                   "usage": final_usage})
    events.append({"type": "message_stop"})
    return [_sse(e) for e in events]


def handle(req: Request, ctx: Context, params: dict[str, Any]) -> Response:
    auth = req.headers.get("authorization", "")
    if not req.headers.get("x-api-key") and not (auth.startswith("Bearer ") and auth[7:].strip()):
        return render_error(ApiError(401, "x-api-key header is required", "auth"), params)
    body = parse_json_object(req.body)
    try:
        parsed = parse(body, req.headers)
    except ApiError as err:
        return render_error(err, params)
    reply = fm.generate(parsed.prompt)
    msg_id = fm.stable_id("msg_", req.body.decode("utf-8", "replace"))
    usage = _usage(parsed, reply, ctx)
    content = _content(parsed, reply, msg_id)
    searched = _searched(parsed, reply, msg_id)
    if searched is not None:
        content = searched
        usage["server_tool_use"] = {"web_search_requests": 1, "web_fetch_requests": 0}
    model = parsed.prompt.model
    headers = [("request-id", fm.stable_id("req_", msg_id)),
               received_header(dialect="anthropic", model=model, stream=bool(body.get("stream")),
                               tools=len(parsed.prompt.tools), tool_choice=parsed.prompt.tool_choice,
                               thinking=parsed.prompt.thinking, messages=len(body["messages"]))]
    if body.get("stream"):
        err = _error_body(ApiError(529, "Overloaded", "overloaded"))
        err.pop("request_id")
        return Response(200, [("content-type", "text/event-stream"), ("cache-control", "no-cache")] + headers,
                        events=_stream(model, msg_id, content, reply, usage), framing="sse-named",
                        error_event=_sse(err))
    return json_response(200, _message(model, msg_id, content, reply, usage), headers)
