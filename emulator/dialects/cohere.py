"""Cohere v2 chat on the wire: V2ChatResponse bodies (typed content items, tool_plan, citations, billed vs
processed token usage), named SSE events (message-start ... message-end) and `{id, message}` errors."""
from __future__ import annotations

import re
from typing import Any

import orjson

from emulator import fake_model as fm
from emulator.asgi import Context, Request, Response, json_response, parse_json_object, received_header
from emulator.dialects.cohere_request import Parsed, parse
from emulator.errors import ApiError

_FINISH = {"end": "COMPLETE", "tool": "TOOL_CALL", "length": "MAX_TOKENS", "stop_sequence": "STOP_SEQUENCE"}
_SCAFFOLD_TOKENS = 16  # Cohere's processed input counts its own prompt template; billed units do not
_FAKE_DOC = {"id": "emulated:0", "title": "Emulated source", "url": "https://example.com/emulated",
             "snippet": "An emulated document used for citations."}


def _error_body(err: ApiError) -> dict[str, Any]:
    return {"id": fm.stable_id("", err.status, err.message, length=32), "message": err.message}


def render_error(err: ApiError, params: dict[str, Any]) -> Response:
    return json_response(err.status, _error_body(err))


def _citation(parsed: Parsed, text: str, content_index: int) -> dict[str, Any] | None:
    """One citation over the reply's last word, sourced from the first document (or a stand-in)."""
    words = list(re.finditer(r"[A-Za-z0-9]+", text))
    if not parsed.want_citation or not words or parsed.prompt.json_mode or parsed.prompt.json_schema:
        return None
    word = words[-1]
    doc = parsed.documents[0] if parsed.documents else _FAKE_DOC
    return {"start": word.start(), "end": word.end(), "text": word.group(0), "type": "TEXT_CONTENT",
            "content_index": content_index,
            "sources": [{"type": "document", "id": doc["id"], "document": dict(doc)}]}


def _message(parsed: Parsed, reply: fm.Reply, msg_id: str) -> dict[str, Any]:
    content: list[dict[str, Any]] = []
    if reply.thinking:
        content.append({"type": "thinking", "thinking": reply.thinking})
    if not reply.tool_calls:
        content.append({"type": "text", "text": reply.text})
    message: dict[str, Any] = {"role": "assistant"}
    if content:
        message["content"] = content
    if reply.tool_calls:
        if not reply.thinking:  # newer models put the plan in a thinking item instead of tool_plan
            message["tool_plan"] = f"I will use the {reply.tool_calls[0].name} tool to answer this request."
        message["tool_calls"] = [{"id": f"{c.name}_{fm.stable_id('', msg_id, i, length=12)}", "type": "function",
                                  "function": {"name": c.name, "arguments": c.arguments_json}}
                                 for i, c in enumerate(reply.tool_calls)]
    citation = _citation(parsed, reply.text, len(content) - 1) if not reply.tool_calls else None
    if citation:
        message["citations"] = [citation]
    return message


def _usage(parsed: Parsed, reply: fm.Reply) -> dict[str, Any]:
    out = reply.total_output_tokens
    return {"billed_units": {"input_tokens": parsed.billed_input, "output_tokens": out},
            "tokens": {"input_tokens": reply.input_tokens + _SCAFFOLD_TOKENS, "output_tokens": out},
            "cached_tokens": 0}


def _sse(event: dict[str, Any]) -> bytes:
    return b"event: " + event["type"].encode() + b"\ndata: " + orjson.dumps(event) + b"\n\n"


def _msg(**fields: Any) -> dict[str, Any]:
    return {"message": fields}


def _stream(msg_id: str, message: dict[str, Any], finish: str, usage: dict[str, Any]) -> list[bytes]:
    events: list[dict[str, Any]] = [{"type": "message-start", "id": msg_id, "delta": _msg(
        role="assistant", content=[], tool_plan="", tool_calls=[], citations=[])}]
    citations = message.get("citations", [])
    for index, item in enumerate(message.get("content", [])):
        kind = item["type"]
        events.append({"type": "content-start", "index": index, "delta": _msg(content={"type": kind, kind: ""})})
        for piece in fm.pieces(item[kind], 3):
            events.append({"type": "content-delta", "index": index, "delta": _msg(content={kind: piece})})
        for n, cit in enumerate(c for c in citations if c["content_index"] == index):
            events.append({"type": "citation-start", "index": n, "delta": _msg(citations=cit)})
            events.append({"type": "citation-end", "index": n})
        events.append({"type": "content-end", "index": index})
    for piece in fm.pieces(message.get("tool_plan", ""), 3) if message.get("tool_plan") else []:
        events.append({"type": "tool-plan-delta", "delta": _msg(tool_plan=piece)})
    for k, call in enumerate(message.get("tool_calls", [])):
        start = {"id": call["id"], "type": "function", "function": {"name": call["function"]["name"], "arguments": ""}}
        events.append({"type": "tool-call-start", "index": k, "delta": _msg(tool_calls=start)})
        for piece in fm.json_pieces(call["function"]["arguments"]):
            events.append({"type": "tool-call-delta", "index": k,
                           "delta": _msg(tool_calls={"function": {"arguments": piece}})})
        events.append({"type": "tool-call-end", "index": k})
    events.append({"type": "message-end", "id": msg_id, "delta": {"finish_reason": finish, "usage": usage}})
    return [_sse(e) for e in events]


def handle(req: Request, ctx: Context, params: dict[str, Any]) -> Response:
    auth = req.headers.get("authorization", "")
    if not auth.startswith("Bearer ") or not auth[7:].strip():
        return render_error(ApiError(401, "no api key supplied", "auth"), params)
    body = parse_json_object(req.body)
    try:
        parsed = parse(body)
    except ApiError as err:
        return render_error(err, params)
    reply = fm.generate(parsed.prompt)
    msg_id = fm.stable_id("", req.body.decode("utf-8", "replace"), length=32)
    msg_id = f"{msg_id[:8]}-{msg_id[8:12]}-{msg_id[12:16]}-{msg_id[16:20]}-{msg_id[20:]}"
    message = _message(parsed, reply, msg_id)
    usage = _usage(parsed, reply)
    finish = _FINISH[reply.stop_reason]
    summary = received_header(dialect="cohere", model=parsed.prompt.model, stream=bool(body.get("stream")),
                              tools=len(parsed.prompt.tools), tool_choice=parsed.prompt.tool_choice,
                              thinking=parsed.prompt.thinking, messages=len(body["messages"]),
                              documents=len(parsed.documents))
    if body.get("stream"):
        error = {"type": "message-end", "id": msg_id, "delta": {"finish_reason": "ERROR",
                                                               "error": "internal server error (emulated)"}}
        return Response(200, [("content-type", "text/event-stream"), summary],
                        events=_stream(msg_id, message, finish, usage), framing="sse-cohere",
                        error_event=_sse(error))
    return json_response(200, {"id": msg_id, "finish_reason": finish, "message": message, "usage": usage},
                         [summary])
