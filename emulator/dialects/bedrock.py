"""Bedrock Converse / ConverseStream on the wire: Converse JSON, binary event-stream frames
(messageStart, contentBlockStart/Delta/Stop, messageStop, metadata), `{"message"}` errors with
x-amzn-ErrorType, SigV4-or-bearer auth presence checks."""
from __future__ import annotations

import re
from typing import Any

from emulator import fake_model as fm
from emulator import signatures
from emulator.asgi import Context, Request, Response, json_response, parse_json_object, received_header
from emulator.dialects.bedrock_request import Parsed, parse
from emulator.errors import ApiError
from emulator.eventstream import event_frame, exception_frame

_NS = ":http://internal.amazon.com/coral/com.amazon.bedrock/"
_TYPES = {400: "ValidationException", 403: "AccessDeniedException", 404: "ResourceNotFoundException",
          429: "ThrottlingException", 500: "InternalServerException", 503: "ServiceUnavailableException",
          529: "ServiceUnavailableException"}
_STOP = {"end": "end_turn", "tool": "tool_use", "length": "max_tokens", "stop_sequence": "stop_sequence"}
_SCOPE = re.compile(r"^AWS4-HMAC-SHA256 Credential=[^/,]+/\d{8}/[a-z0-9-]+/([a-z0-9-]+)/aws4_request")


def render_error(err: ApiError, params: dict[str, Any]) -> Response:
    etype = str(err.extra.get("error_type") or _TYPES.get(err.status, "InternalServerException"))
    return json_response(err.status, {"message": err.message},
                         [("x-amzn-errortype", etype + _NS), ("x-amzn-requestid", "emulator-request")])


def _auth_error(req: Request) -> ApiError | None:
    auth = req.headers.get("authorization", "")
    if auth.startswith("Bearer ") and auth[7:].strip():
        return None
    if not auth:
        return ApiError(403, "Missing Authentication Token", "permission",
                        error_type="MissingAuthenticationTokenException")
    m = _SCOPE.match(auth)
    if not m or "SignedHeaders=" not in auth or "Signature=" not in auth:
        return ApiError(403, "Authorization header requires 'Credential', 'Signature' and 'SignedHeaders' "
                             "parameters.", "permission", error_type="IncompleteSignatureException")
    if not req.headers.get("x-amz-date"):
        return ApiError(403, "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' "
                             "header.", "permission", error_type="IncompleteSignatureException")
    if m.group(1) != "bedrock":
        return ApiError(403, "Credential should be scoped to correct service: 'bedrock'. ", "permission",
                        error_type="InvalidSignatureException")
    return None


def _usage(parsed: Parsed, reply: fm.Reply, ctx: Context) -> dict[str, int]:
    """inputTokens excludes cache reads and writes; totalTokens includes everything."""
    marked = [i for i, (_, _, m) in enumerate(parsed.segments) if m]
    total = max(1, sum(fm.count_tokens(t) for _, t, _ in parsed.segments))
    write = read = 0
    if marked:
        prefix = parsed.segments[: marked[-1] + 1]
        write, read = ctx.ledger.account([raw for raw, _, _ in prefix],
                                         max(1, sum(fm.count_tokens(t) for _, t, _ in prefix)))
    uncached = max(0, total - write - read)
    out = reply.total_output_tokens
    return {"inputTokens": uncached, "outputTokens": out, "totalTokens": uncached + write + read + out,
            "cacheReadInputTokens": read, "cacheWriteInputTokens": write}


def _content(reply: fm.Reply, seed: str) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = []
    if reply.thinking is not None:
        blocks.append({"reasoningContent": {"reasoningText": {
            "text": reply.thinking, "signature": signatures.thinking_signature(reply.thinking)}}})
    if reply.text:
        blocks.append({"text": reply.text})
    for i, call in enumerate(reply.tool_calls):
        blocks.append({"toolUse": {"toolUseId": fm.stable_id("tooluse_", seed, i, length=22), "name": call.name,
                                   "input": call.args}})
    return blocks


def _stream(content: list[dict[str, Any]], reply: fm.Reply, usage: dict[str, int],
            extra: dict[str, Any] | None) -> list[bytes]:
    frames: list[tuple[str, dict[str, Any]]] = [("messageStart", {"role": "assistant"})]
    for index, block in enumerate(content):
        def delta(d: dict[str, Any], index: int = index) -> None:
            frames.append(("contentBlockDelta", {"contentBlockIndex": index, "delta": d}))

        if "reasoningContent" in block:
            text = block["reasoningContent"]["reasoningText"]
            for piece in fm.pieces(text["text"], 4):
                delta({"reasoningContent": {"text": piece}})
            delta({"reasoningContent": {"signature": text["signature"]}})
        elif "text" in block:
            for piece in fm.pieces(block["text"]):
                delta({"text": piece})
        else:
            use = block["toolUse"]
            frames.append(("contentBlockStart", {"contentBlockIndex": index, "start": {
                "toolUse": {"toolUseId": use["toolUseId"], "name": use["name"]}}}))
            for piece in fm.json_pieces(fm.ToolCall(use["name"], use["input"], "").arguments_json):
                delta({"toolUse": {"input": piece}})
        frames.append(("contentBlockStop", {"contentBlockIndex": index}))
    stop: dict[str, Any] = {"stopReason": _STOP[reply.stop_reason]}
    if extra:
        stop["additionalModelResponseFields"] = extra
    frames.append(("messageStop", stop))
    frames.append(("metadata", {"usage": usage, "metrics": {"latencyMs": 42}}))
    return [event_frame(name, payload, seed) for seed, (name, payload) in enumerate(frames)]


def _extra_fields(parsed: Parsed, reply: fm.Reply) -> dict[str, Any] | None:
    if "/stop_sequence" in parsed.response_paths:
        return {"stop_sequence": reply.stop_sequence}
    return None


def handle(req: Request, ctx: Context, params: dict[str, Any]) -> Response:
    auth_err = _auth_error(req)
    if auth_err is not None:
        return render_error(auth_err, params)
    body = parse_json_object(req.body)
    try:
        parsed = parse(body)
    except ApiError as err:
        return render_error(err, params)
    parsed.prompt.model = params["model"]
    reply = fm.generate(parsed.prompt)
    seed = req.body.decode("utf-8", "replace")
    usage = _usage(parsed, reply, ctx)
    content = _content(reply, seed)
    extra = _extra_fields(parsed, reply)
    headers = [("x-amzn-requestid", fm.stable_id("", seed, length=32)),
               received_header(dialect="bedrock", model=params["model"], stream=params["stream"],
                               tools=len(parsed.prompt.tools), tool_choice=parsed.prompt.tool_choice,
                               thinking=parsed.prompt.thinking, messages=len(body["messages"]))]
    if params["stream"]:
        return Response(200, [("content-type", "application/vnd.amazon.eventstream")] + headers,
                        events=_stream(content, reply, usage, extra), framing="eventstream",
                        error_event=exception_frame("modelStreamErrorException",
                                                    "The model stream failed (emulated)."))
    out: dict[str, Any] = {"output": {"message": {"role": "assistant", "content": content}},
                           "stopReason": _STOP[reply.stop_reason], "usage": usage, "metrics": {"latencyMs": 42}}
    if extra:
        out["additionalModelResponseFields"] = extra
    return json_response(200, out, headers)
