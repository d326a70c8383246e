"""OpenAI Chat Completions on the wire, and the OpenAI-compatible providers (Groq, Azure, Cerebras,
SambaNova, Perplexity, Together, xAI, DeepInfra, AI21) as `Variant`s of it: request validation like each
real API; rendering lives in openai_render."""
from __future__ import annotations

import re
from typing import Any

import orjson

from emulator import fake_model as fm
from emulator.asgi import Context, Request, Response, json_response, parse_json_object
from emulator.dialects import azure_filters, openai_render
from emulator.dialects.openai_variants import VARIANTS, Variant, camel, error_body
from emulator.errors import ApiError

_TOOL_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
_PART_TYPES = {"text", "image_url", "input_audio", "file", "refusal"}
_ROLES = {"system", "developer", "user", "assistant", "tool", "function"}
_API_VERSION = re.compile(r"^\d{4}-\d{2}-\d{2}(-preview)?$")


def _bad(message: str, param: str | None = None, code: str | None = None, status: int = 400) -> ApiError:
    return ApiError(status, message, "invalid_request", param=param, code=code)


def _unprocessable(v: Variant, message: str, param: str) -> ApiError:
    """FastAPI-style providers (AI21, DeepInfra) refuse schema violations with 422."""
    return ApiError(422, message, "invalid_request", param=param,
                    detail=[{"loc": ["body", *param.split(".")], "msg": message, "type": "value_error"}]
                    if v.name == "deepinfra" else message)


def render_error(err: ApiError, params: dict[str, Any]) -> Response:
    return json_response(err.status, error_body(VARIANTS[params["variant"]], err))


def _text_of(content: Any, where: str, v: Variant, allow_null: bool = False) -> str:
    if content is None:
        if allow_null:
            return ""
        raise _bad(f"Invalid value for '{where}': expected a string or array, got null.", where)
    if isinstance(content, str):
        return content
    if v.string_content_only:
        raise _unprocessable(v, f"{where}: Input should be a valid string", where)
    if not isinstance(content, list):
        raise _bad(f"Invalid type for '{where}': expected one of a string or array of objects.", where)
    texts = []
    for j, part in enumerate(content):
        ptype = part.get("type") if isinstance(part, dict) else None
        if ptype not in _PART_TYPES and ptype not in v.extra_parts:
            raise _bad(f"Invalid value: '{ptype}'. Supported values are: 'text', 'image_url', 'input_audio', "
                       f"'refusal', and 'file'.", f"{where}[{j}].type", "invalid_value")
        if ptype == "text":
            if not isinstance(part.get("text"), str):
                raise _bad(f"Missing required parameter: '{where}[{j}].text'.", f"{where}[{j}].text",
                           "missing_required_parameter")
            texts.append(part["text"])
        elif ptype in ("image_url", "file_url") and not isinstance((part.get(ptype) or {}).get("url"), str):
            raise _bad(f"Missing required parameter: '{where}[{j}].{ptype}.url'.", f"{where}[{j}].{ptype}.url")
    return "\n".join(texts)


def _check_messages(messages: Any, prompt: fm.Prompt, v: Variant) -> None:
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
        if v.no_message_name and "name" in msg:
            raise _bad("'messages." + str(i) + ".name' : property 'name' is unsupported", f"{where}.name")
        if pending and role != "tool":
            raise _bad("An assistant message with 'tool_calls' must be followed by tool messages responding to "
                       f"each 'tool_call_id'. The following tool_call_ids did not have response messages: "
                       f"{', '.join(sorted(pending))}", f"messages.[{i}].role")
        calls = msg.get("tool_calls") if role == "assistant" else None
        text = _text_of(msg.get("content"), f"{where}.content", v, allow_null=role == "assistant" and bool(calls)
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
        tail.append(_text_of(msg.get("content"), "content", v, True))
    if tail:
        prompt.tool_result = "\n".join(reversed(tail))


def _check_tools(body: dict[str, Any], prompt: fm.Prompt, v: Variant) -> None:
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
    if v.tool_choices is not None and choice not in v.tool_choices:
        allowed = ", ".join(sorted(v.tool_choices))
        if v.errors == "detail":
            raise _unprocessable(v, f"tool_choice: only {allowed} are supported", "tool_choice")
        raise _bad(f"Invalid value for 'tool_choice': supported values are {allowed}.", "tool_choice")
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
        allowed_tools = choice.get("allowed_tools") or {}
        names = {(t.get("function") or {}).get("name") for t in allowed_tools.get("tools", [])}
        prompt.tools = [t for t in prompt.tools if t.name in names]
        prompt.tool_choice = "required" if allowed_tools.get("mode") == "required" else "auto"
    else:
        raise _bad("Invalid value for 'tool_choice'.", "tool_choice", "invalid_value")


def _check_params(body: dict[str, Any], model: str, v: Variant) -> None:
    if body.get("stream_options") is not None and not body.get("stream"):
        raise _bad("The 'stream_options' parameter is only allowed when 'stream' is enabled.", "stream_options")
    n = body.get("n", 1)
    if n is not None and (not isinstance(n, int) or n > v.max_n or n < 1):
        if v.string_content_only:
            raise _unprocessable(v, f"n: Input should be less than or equal to {v.max_n}", "n")
        raise _bad(f"'n' : number must be at most {v.max_n}", "n")
    if not v.n_with_tools and (n or 1) > 1 and body.get("tools"):
        raise _bad("'n' : number must be 1 when 'tools' are given", "n")
    if v.string_content_only and (n or 1) > 1 and body.get("temperature") == 0:
        raise _unprocessable(v, "n > 1 is not supported with temperature 0", "n")
    for key in v.refuse:
        if body.get(key):
            raise _bad(f"'{key}' : not supported", key, "unsupported_parameter")
    if v.logprobs_int and "logprobs" in body and body["logprobs"] is not None and (
            isinstance(body["logprobs"], bool) or not isinstance(body["logprobs"], int)):
        raise _bad("logprobs: value must be an integer between 0 and 20 (the number of top logprobs).", "logprobs")
    reasoning = bool(v.reasoning and v.reasoning.search(model))
    if reasoning:
        for key in v.refuse_on_reasoning:
            if body.get(key) is not None:
                raise _bad(f"Argument not supported on this model: {camel(key)}", key)
    if v.name == "xai" and body.get("reasoning_effort") is not None:
        if not model.startswith("grok-3-mini"):
            raise _bad(f"Model {model} does not support parameter reasoningEffort.", "reasoning_effort")
        if body["reasoning_effort"] not in ("low", "high"):
            raise _bad("reasoning_effort must be one of: low, high", "reasoning_effort")
    if v.openai_reasoning_rules and reasoning:
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


def _check_format(body: dict[str, Any], prompt: fm.Prompt, v: Variant) -> None:
    fmt = body.get("response_format") or {}
    ftype = fmt.get("type") if isinstance(fmt, dict) else None
    if ftype is not None and ftype not in v.formats:
        message = f"response_format: type '{ftype}' is not supported; supported: {', '.join(sorted(v.formats))}"
        if v.string_content_only:
            raise _unprocessable(v, message, "response_format")
        raise _bad(message, "response_format")
    if ftype == "json_object":
        if v.json_word_required and "json" not in orjson.dumps(body.get("messages")).decode().lower():
            raise _bad("'messages' must contain the word 'json' in some form, to use 'response_format' of type "
                       "'json_object'.", "messages")
        prompt.json_mode = True
    elif ftype == "json_schema":
        schema = fmt.get("json_schema") or {}
        if v.schema_name_required and not isinstance(schema.get("name"), str):
            raise _bad("Missing required parameter: 'response_format.json_schema.name'.",
                       "response_format.json_schema.name", "missing_required_parameter")
        prompt.json_schema = schema.get("schema") or {"type": "object", "properties": {}}


def parse(body: Any, variant: str, model: str | None = None) -> fm.Prompt:
    """Validate a request body for one variant and turn it into a neutral Prompt (`model` from the URL
    for Azure deployments, where the body's model is ignored)."""
    v = VARIANTS[variant]
    if not isinstance(body, dict):
        raise _bad("We could not parse the JSON body of your request. (HINT: This likely means you aren't using "
                   "your HTTP library correctly. The OpenAI API expects a JSON payload.)")
    model = model or body.get("model")
    if not isinstance(model, str) or not model:
        raise _bad("you must provide a model parameter", "model", "missing_required_parameter")
    if v.name == "perplexity" and not model.startswith("sonar"):
        raise _bad(f"Invalid model '{model}'. Permitted models can be found in the documentation at "
                   "https://docs.perplexity.ai/guides/model-cards.", "model")
    _check_params(body, model, v)
    prompt = fm.Prompt(model=model)
    _check_messages(body.get("messages"), prompt, v)
    _check_tools(body, prompt, v)
    _check_format(body, prompt, v)
    prompt.thinking = bool(v.reasoning and v.reasoning.search(model)) and body.get("reasoning_effort") != "none"
    limit = body.get("max_completion_tokens", body.get("max_tokens"))
    prompt.max_tokens = limit if isinstance(limit, int) else None
    stop = body.get("stop")
    prompt.stop = [stop] if isinstance(stop, str) else list(stop or [])
    prompt.n = body.get("n") or 1
    return prompt


def _auth(req: Request, v: Variant) -> ApiError | None:
    auth = req.headers.get("authorization", "")
    if auth.startswith("Bearer ") and auth[7:].strip():
        return None
    if v.name == "azure" and req.headers.get("api-key"):
        return None
    return ApiError(401, v.auth_message, "auth")


def _azure_route(req: Request, params: dict[str, Any]) -> ApiError | None:
    """Deployment URLs need a dated `api-version`; Azure answers a missing one with a bare 404."""
    if params.get("deployment") is None:
        return None
    version = req.query.get("api-version")
    if not version or not _API_VERSION.match(version):
        return ApiError(404, "Resource not found", "not_found")
    return None


def handle(req: Request, ctx: Context, params: dict[str, Any]) -> Response:
    v = VARIANTS[params["variant"]]
    err = _auth(req, v) or (_azure_route(req, params) if v.name == "azure" else None)
    if err is not None:
        return render_error(err, params)
    if v.name == "azure" and params.get("fault") == "content-filter":
        return json_response(400, azure_filters.prompt_filtered_error())
    body = parse_json_object(req.body)
    try:
        prompt = parse(body, v.name, params.get("deployment"))
    except ApiError as err:
        return render_error(err, params)
    return openai_render.respond(req, v, prompt, body, params)
