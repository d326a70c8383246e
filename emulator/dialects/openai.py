"""OpenAI Chat Completions (and the Groq variant) on the wire: validation like the real API,
chat.completion / chat.completion.chunk bodies, `data: ... [DONE]` streaming."""
from __future__ import annotations

import re
import time
from typing import Any

import orjson

from emulator import fake_model as fm
from emulator.asgi import Context, Request, Response, json_response, parse_json_object, received_header
from emulator.errors import ApiError

_REASONING = re.compile(r"^(o1|o3|o4|gpt-5)")
_GROQ_REASONING = re.compile(r"^(openai/gpt-oss|qwen/qwen3|deepseek-r1)")  # Groq returns their text in `reasoning`
_TOOL_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
_PART_TYPES = {"text", "image_url", "input_audio", "file", "refusal"}
_ROLES = {"system", "developer", "user", "assistant", "tool", "function"}
_TYPES = {"invalid_request": "invalid_request_error", "auth": "invalid_request_error",
          "permission": "permission_error", "not_found": "invalid_request_error",
          "rate_limit": "rate_limit_error", "server": "server_error", "unavailable": "service_unavailable_error",
          "overloaded": "server_error"}


def _bad(message: str, param: str | None = None, code: str | None = None, status: int = 400) -> ApiError:
    return ApiError(status, message, "invalid_request", param=param, code=code)


def _error_body(err: ApiError) -> dict[str, Any]:
    return {"error": {"message": err.message, "type": _TYPES.get(err.kind, "invalid_request_error"),
                      "param": err.extra.get("param"), "code": err.extra.get("code")}}


def render_error(err: ApiError, params: dict[str, Any]) -> Response:
    return json_response(err.status, _error_body(err))


def _text_of(content: Any, where: str, allow_null: bool = False) -> str:
    if content is None:
        if allow_null:
            return ""
        raise _bad(f"Invalid value for '{where}': expected a string or array, got null.", where)
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        raise _bad(f"Invalid type for '{where}': expected one of a string or array of objects.", where)
    texts = []
    for j, part in enumerate(content):
        ptype = part.get("type") if isinstance(part, dict) else None
        if ptype not in _PART_TYPES:
            raise _bad(f"Invalid value: '{ptype}'. Supported values are: 'text', 'image_url', 'input_audio', "
                       f"'refusal', and 'file'.", f"{where}[{j}].type", "invalid_value")
        if ptype == "text":
            if not isinstance(part.get("text"), str):
                raise _bad(f"Missing required parameter: '{where}[{j}].text'.", f"{where}[{j}].text",
                           "missing_required_parameter")
            texts.append(part["text"])
        elif ptype == "image_url" and not isinstance((part.get("image_url") or {}).get("url"), str):
            raise _bad(f"Missing required parameter: '{where}[{j}].image_url.url'.", f"{where}[{j}].image_url.url")
    return "\n".join(texts)


def _check_messages(messages: Any, prompt: fm.Prompt, groq: bool) -> None:
    if not isinstance(messages, list) or not messages:
        raise _bad("Invalid 'messages': empty array. Expected an array with minimum length 1, "
                   "but got an empty array instead.", "messages", "empty_array")
    pending: set[str] = set()
    for i, msg in enumerate(messages):
        where = f"messages[{i}]"
        role = msg.get("role") if isinstance(msg, dict) else None
        if role not in _ROLES:
            raise _bad(f"Invalid value: '{role}'. Supported values are: 'system', 'assistant', 'user', "
                       f"'function', 'tool', and 'developer'.", f"{where}.role", "invalid_value")
        if groq and "name" in msg:
            raise _bad("'messages." + str(i) + ".name' : property 'name' is unsupported", f"{where}.name")
        if pending and role != "tool":
            raise _bad("An assistant message with 'tool_calls' must be followed by tool messages responding to "
                       f"each 'tool_call_id'. The following tool_call_ids did not have response messages: "
                       f"{', '.join(sorted(pending))}", f"messages.[{i}].role")
        calls = msg.get("tool_calls") if role == "assistant" else None
        text = _text_of(msg.get("content"), f"{where}.content", allow_null=role == "assistant" and bool(calls)
                        or role == "assistant" and msg.get("refusal") is not None)
        prompt.texts.append(text)
        if role == "user":
            prompt.last_user_text = text
        if calls:
            for j, call in enumerate(calls):
                fn = call.get("function") if isinstance(call, dict) else None
                if not isinstance(fn, dict) or not isinstance(fn.get("arguments"), str) or not call.get("id"):
                    raise _bad(f"Invalid '{where}.tool_calls[{j}]': expected id and function.arguments string.",
                               f"{where}.tool_calls[{j}]")
                pending.add(call["id"])
                prompt.texts.append(fn["arguments"])
        if role == "tool":
            call_id = msg.get("tool_call_id")
            if call_id not in pending:
                raise _bad("Invalid parameter: messages with role 'tool' must be a response to a preceeding "
                           "message with 'tool_calls'.", f"messages.[{i}].role")
            pending.discard(call_id)
    if pending:
        raise _bad("An assistant message with 'tool_calls' must be followed by tool messages responding to each "
                   f"'tool_call_id'. The following tool_call_ids did not have response messages: "
                   f"{', '.join(sorted(pending))}", "messages")
    tail = []
    for msg in reversed(messages):
        if msg.get("role") != "tool":
            break
        tail.append(_text_of(msg.get("content"), "content", True))
    if tail:
        prompt.tool_result = "\n".join(reversed(tail))


def _check_tools(body: dict[str, Any], prompt: fm.Prompt) -> None:
    tools = body.get("tools")
    choice = body.get("tool_choice")
    if tools is not None:
        if not isinstance(tools, list):
            raise _bad("Invalid type for 'tools': expected an array.", "tools")
        for i, tool in enumerate(tools):
            if not isinstance(tool, dict) or tool.get("type") not in ("function", "custom"):
                raise _bad(f"Invalid value for 'tools[{i}].type'.", f"tools[{i}].type", "invalid_value")
            if tool["type"] != "function":
                continue
            fn = tool.get("function") or {}
            name = fn.get("name")
            if not isinstance(name, str) or not _TOOL_NAME.match(name):
                raise _bad(f"Invalid 'tools[{i}].function.name': string does not match pattern. Expected a "
                           "string that matches the pattern '^[a-zA-Z0-9_-]+$'.", f"tools[{i}].function.name",
                           "invalid_value")
            params = fn.get("parameters", {"type": "object", "properties": {}})
            if not isinstance(params, dict):
                raise _bad(f"Invalid type for 'tools[{i}].function.parameters': expected an object.")
            prompt.tools.append(fm.Tool(name, params))
    if choice is None:
        return
    if not tools:
        raise _bad("Invalid value for 'tool_choice': 'tool_choice' is only allowed when 'tools' are specified.",
                   "tool_choice")
    if choice in ("none", "auto", "required"):
        prompt.tool_choice = choice
    elif isinstance(choice, dict) and choice.get("type") == "function":
        name = (choice.get("function") or {}).get("name")
        if name not in [t.name for t in prompt.tools]:
            raise _bad(f"Invalid value for 'tool_choice': function '{name}' not found in 'tools'.", "tool_choice")
        prompt.tool_choice, prompt.forced_tool = "tool", name
    elif isinstance(choice, dict) and choice.get("type") == "allowed_tools":
        allowed = choice.get("allowed_tools") or {}
        names = {(t.get("function") or {}).get("name") for t in allowed.get("tools", [])}
        prompt.tools = [t for t in prompt.tools if t.name in names]
        prompt.tool_choice = "required" if allowed.get("mode") == "required" else "auto"
    else:
        raise _bad("Invalid value for 'tool_choice'.", "tool_choice", "invalid_value")


def _check_params(body: dict[str, Any], model: str, groq: bool) -> None:
    if body.get("stream_options") is not None and not body.get("stream"):
        raise _bad("The 'stream_options' parameter is only allowed when 'stream' is enabled.", "stream_options")
    if groq:
        if body.get("n", 1) not in (1, None):
            raise _bad("'n' : number must be at most 1", "n")
        for key in ("logprobs", "top_logprobs", "logit_bias"):
            if body.get(key):
                raise _bad(f"'{key}' : not supported", key)
    if _REASONING.match(model):
        for key in ("top_p", "presence_penalty", "frequency_penalty", "logit_bias", "max_tokens"):
            if key in body and body[key] is not None:
                extra = " Use 'max_completion_tokens' instead." if key == "max_tokens" else ""
                raise _bad(f"Unsupported parameter: '{key}' is not supported with this model.{extra}", key,
                           "unsupported_parameter")
        temp = body.get("temperature")
        if temp is not None and temp != 1:
            raise _bad(f"Unsupported value: 'temperature' does not support {temp} with this model. Only the "
                       "default (1) value is supported.", "temperature", "unsupported_value")
    temp = body.get("temperature")
    if temp is not None and (not isinstance(temp, (int, float)) or not 0 <= temp <= 2):
        raise _bad(f"Invalid 'temperature': decimal above maximum value. Expected a value <= 2, but got {temp} "
                   "instead.", "temperature", "decimal_above_max_value")
    stop = body.get("stop")
    if isinstance(stop, list) and len(stop) > 4:
        raise _bad("Invalid 'stop': array too long. Expected an array with maximum length 4.", "stop")


def parse(body: Any, variant: str) -> fm.Prompt:
    """Validate an OpenAI request body and turn it into a neutral Prompt."""
    if not isinstance(body, dict):
        raise _bad("We could not parse the JSON body of your request. (HINT: This likely means you aren't using "
                   "your HTTP library correctly. The OpenAI API expects a JSON payload.)")
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise _bad("you must provide a model parameter", "model", "missing_required_parameter")
    groq = variant == "groq"
    _check_params(body, model, groq)
    prompt = fm.Prompt(model=model)
    _check_messages(body.get("messages"), prompt, groq)
    _check_tools(body, prompt)
    fmt = body.get("response_format") or {}
    if fmt.get("type") == "json_object":
        if "json" not in orjson.dumps(body.get("messages")).decode().lower():
            raise _bad("'messages' must contain the word 'json' in some form, to use 'response_format' of type "
                       "'json_object'.", "messages")
        prompt.json_mode = True
    elif fmt.get("type") == "json_schema":
        schema = (fmt.get("json_schema") or {})
        if not isinstance(schema.get("name"), str):
            raise _bad("Missing required parameter: 'response_format.json_schema.name'.",
                       "response_format.json_schema.name", "missing_required_parameter")
        prompt.json_schema = schema.get("schema") or {"type": "object", "properties": {}}
    pattern = _GROQ_REASONING if groq else _REASONING
    prompt.thinking = bool(pattern.match(model)) and body.get("reasoning_effort") != "none"
    limit = body.get("max_completion_tokens", body.get("max_tokens"))
    prompt.max_tokens = limit if isinstance(limit, int) else None
    stop = body.get("stop")
    prompt.stop = [stop] if isinstance(stop, str) else list(stop or [])
    prompt.n = body.get("n") or 1
    return prompt


_FINISH = {"end": "stop", "tool": "tool_calls", "length": "length", "stop_sequence": "stop"}


def _usage(replies: list[fm.Reply], groq: bool) -> dict[str, Any]:
    prompt = replies[0].input_tokens
    completion = sum(r.total_output_tokens for r in replies)
    usage: dict[str, Any] = {
        "prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion,
        "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
        "completion_tokens_details": {"reasoning_tokens": sum(r.reasoning_tokens for r in replies),
                                      "audio_tokens": 0, "accepted_prediction_tokens": 0,
                                      "rejected_prediction_tokens": 0}}
    if groq:
        usage.update({"queue_time": 0.001, "prompt_time": 0.002, "completion_time": 0.003, "total_time": 0.006})
    return usage


def _tool_calls(reply: fm.Reply) -> list[dict[str, Any]]:
    return [{"id": fm.stable_id("call_", c.seed, i), "type": "function",
             "function": {"name": c.name, "arguments": c.arguments_json}} for i, c in enumerate(reply.tool_calls)]


def _completion(cid: str, created: int, model: str, replies: list[fm.Reply], groq: bool) -> dict[str, Any]:
    choices = []
    for index, reply in enumerate(replies):
        message: dict[str, Any] = {"role": "assistant", "content": None if reply.tool_calls else reply.text,
                                   "refusal": None, "annotations": []}
        if reply.tool_calls:
            message["tool_calls"] = _tool_calls(reply)
        if groq and reply.thinking:
            message["reasoning"] = reply.thinking
        choices.append({"index": index, "message": message, "logprobs": None,
                        "finish_reason": _FINISH[reply.stop_reason]})
    out = {"id": cid, "object": "chat.completion", "created": created, "model": model, "choices": choices,
           "usage": _usage(replies, groq), "service_tier": "default", "system_fingerprint": "fp_emulator"}
    if groq:
        out["x_groq"] = {"id": cid.replace("chatcmpl-", "req_")}
    return out


def _stream(cid: str, created: int, model: str, replies: list[fm.Reply], body: dict[str, Any],
            groq: bool) -> list[bytes]:
    include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
    base = {"id": cid, "object": "chat.completion.chunk", "created": created, "model": model,
            "system_fingerprint": "fp_emulator"}
    chunks: list[dict[str, Any]] = []

    def add(index: int, delta: dict[str, Any], finish: str | None = None) -> None:
        chunk = dict(base, choices=[{"index": index, "delta": delta, "logprobs": None, "finish_reason": finish}])
        if include_usage:
            chunk["usage"] = None
        chunks.append(chunk)

    for index, reply in enumerate(replies):
        add(index, {"role": "assistant", "content": "", "refusal": None})
        if groq and reply.thinking:
            for piece in fm.pieces(reply.thinking):
                add(index, {"reasoning": piece})
        if reply.text:
            for piece in fm.pieces(reply.text):
                add(index, {"content": piece})
        for k, call in enumerate(_tool_calls(reply)):
            add(index, {"tool_calls": [{"index": k, "id": call["id"], "type": "function",
                                        "function": {"name": call["function"]["name"], "arguments": ""}}]})
            for piece in fm.json_pieces(call["function"]["arguments"]):
                add(index, {"tool_calls": [{"index": k, "function": {"arguments": piece}}]})
        add(index, {}, _FINISH[reply.stop_reason])
    if groq:
        chunks[-1]["x_groq"] = {"id": cid.replace("chatcmpl-", "req_"), "usage": _usage(replies, True)}
    if include_usage:
        chunks.append(dict(base, choices=[], usage=_usage(replies, groq)))
    return [b"data: " + orjson.dumps(c) + b"\n\n" for c in chunks] + [b"data: [DONE]\n\n"]


def handle(req: Request, ctx: Context, params: dict[str, Any]) -> Response:
    groq = params["variant"] == "groq"
    auth = req.headers.get("authorization", "")
    if not auth.startswith("Bearer ") or not auth[7:].strip():
        return render_error(ApiError(401, "You didn't provide an API key. You need to provide your API key in an "
                                          "Authorization header using Bearer auth (i.e. Authorization: Bearer "
                                          "YOUR_KEY).", "auth"), params)
    body = parse_json_object(req.body)
    try:
        prompt = parse(body, params["variant"])
    except ApiError as err:
        return render_error(err, params)
    replies = [fm.generate(prompt, i) for i in range(max(1, prompt.n))]
    cid = fm.stable_id("chatcmpl-", req.body.decode("utf-8", "replace"), length=29)
    created = int(time.time())
    summary = received_header(dialect=params["variant"], model=prompt.model, stream=bool(body.get("stream")),
                              tools=len(prompt.tools), tool_choice=prompt.tool_choice,
                              messages=len(body.get("messages", [])))
    if body.get("stream"):
        err = _error_body(ApiError(500, "The server had an error while processing your request.", "server"))
        return Response(200, [("content-type", "text/event-stream"), summary],
                        events=_stream(cid, created, prompt.model, replies, body, groq), framing="sse",
                        error_event=b"data: " + orjson.dumps(err) + b"\n\n")
    return json_response(200, _completion(cid, created, prompt.model, replies, groq), [summary])
