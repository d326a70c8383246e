"""Shape checks on the incoming OpenAI request, before the matrix and the spec see it.

OpenAI's Chat Completions contract is the public interface, so its shape lives here as
code: a few dozen type checks that name the failing path (`messages[2].content[0].type`).
A compiled JSON Schema would say the same thing ~50x slower per request.
"""
from __future__ import annotations

from typing import Any

from .cells import shown
from .errors import RequestError

ROLES = frozenset({"system", "developer", "user", "assistant", "tool", "function"})
_PLAIN_ROLES = frozenset({"system", "developer", "user", "assistant"})  # need no more than content
PART_TYPES = frozenset({"text", "image_url", "input_audio", "file", "video_url", "refusal"})
_NUMBER = (int, float)
_TYPES: dict[str, tuple[type, ...]] = {
    "temperature": _NUMBER, "top_p": _NUMBER, "presence_penalty": _NUMBER,
    "frequency_penalty": _NUMBER, "max_tokens": (int,), "max_completion_tokens": (int,),
    "n": (int,), "seed": (int,), "top_logprobs": (int,), "logprobs": (bool,),
    "stream": (bool,), "parallel_tool_calls": (bool,), "store": (bool,), "user": (str,),
    "reasoning_effort": (str,), "verbosity": (str,), "service_tier": (str,),
    "stop": (str, list), "logit_bias": (dict,), "metadata": (dict,), "stream_options": (dict,),
    "response_format": (dict,), "tools": (list,), "tool_choice": (str, dict),
    "web_search_options": (dict,), "modalities": (list,), "audio": (dict,), "prediction": (dict,),
    "cache_control": (dict,),
}
# OpenAI's own bounds: its API refuses values outside them whatever the model, so a provider
# cell's `clamp` only ever moves a value that is valid OpenAI input.
_BOUNDS: dict[str, tuple[float, float]] = {
    "temperature": (0, 2), "top_p": (0, 1), "presence_penalty": (-2, 2), "frequency_penalty": (-2, 2),
    "max_tokens": (1, float("inf")), "max_completion_tokens": (1, float("inf")), "n": (1, 128),
    "top_logprobs": (0, 20),
}
_TOOL_CHOICES = ("none", "auto", "required")


def _fail(message: str, param: str) -> RequestError:
    return RequestError(f"{param}: {message}", param=param, code="invalid_type")


_JSON_NAMES = {dict: "an object", list: "an array", str: "a string", int: "an integer", float: "a number",
               bool: "a boolean"}


def json_type_name(value: Any) -> str:
    """A value's JSON type as a message says it: 'an object', 'a string', 'null'."""
    return "null" if value is None else _JSON_NAMES.get(type(value), type(value).__name__)


def _check_controls(body: dict) -> None:
    """tool_choice, stream_options and a top-level cache_control: rules OpenAI's API enforces."""
    choice = body.get("tool_choice")
    if isinstance(choice, str) and choice not in _TOOL_CHOICES:
        raise _fail(f"must be one of 'none', 'auto', 'required' or a function object, not {shown(choice)}",
                    "tool_choice")
    if isinstance(choice, dict):
        if choice.get("type") != "function":   # allowed_tools, custom: not mapped to any provider
            raise RequestError(f"tool_choice: type {shown(choice.get('type'))} is not supported; use 'none', 'auto', "
                               "'required' or {type: function, function: {name}}", param="tool_choice.type",
                               code="unsupported_value")
        fn = choice.get("function")
        if not isinstance(fn, dict) or not isinstance(fn.get("name"), str) or not fn["name"]:
            raise _fail("a function tool_choice needs function.name", "tool_choice.function.name")
        tools = body.get("tools")
        if isinstance(tools, list) and not any(isinstance(t, dict) and isinstance(t.get("function"), dict)
                                               and t["function"].get("name") == fn["name"] for t in tools):
            raise _fail(f"names {shown(fn['name'])}, which is not one of the request's tools",
                        "tool_choice.function.name")
    if choice not in (None, "none", "auto") and not body.get("tools"):
        raise _fail("tool_choice other than 'none' or 'auto' needs tools", "tool_choice")
    options = body.get("stream_options")
    if options is not None:
        if body.get("stream") is not True:
            raise _fail("stream_options is only allowed when stream is true", "stream_options")
        if not isinstance(options.get("include_usage", False), bool):
            raise _fail(f"expected a boolean, got {json_type_name(options['include_usage'])}",
                        "stream_options.include_usage")
    if body.get("cache_control") is not None:
        _check_cache(body["cache_control"], "cache_control")


def _check_cache(marker: Any, param: str) -> None:
    """A cache marker is {type: "ephemeral"[, ttl: "5m" | "1h"]}: anything else would reach a
    provider that caches by marker as a malformed block."""
    if not isinstance(marker, dict) or marker.get("type") != "ephemeral":
        raise _fail('expected {"type": "ephemeral"} (with an optional ttl)', param)
    ttl = marker.get("ttl")
    if ttl is not None and not isinstance(ttl, str):
        raise _fail(f"expected a string such as '5m' or '1h', got {json_type_name(ttl)}", f"{param}.ttl")


def check_request(body: Any) -> dict[str, Any]:
    """Raise RequestError naming the first malformed field. A well-formed request gives its
    facts (`capabilities.request_facts`), gathered on the same walk over its messages; they are
    the detections' bindings as they are (`$request` included), so detecting copies nothing."""
    if not isinstance(body, dict):
        raise RequestError("the request body must be a JSON object", param=None, code="invalid_json")
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise _fail("a model id string is required", "model")
    for key, value in body.items():  # a request has a handful of keys; _TYPES has dozens
        kinds = _TYPES.get(key)
        if kinds is None or value is None:
            continue
        if value.__class__ not in kinds and (not isinstance(value, kinds) or isinstance(value, bool)
                                             and bool not in kinds):
            names = " or ".join(_JSON_NAMES.get(k, k.__name__) for k in kinds)
            raise _fail(f"expected {names}, got {json_type_name(value)}", key)
        bounds = _BOUNDS.get(key)
        if bounds is not None and not bounds[0] <= value <= bounds[1]:
            low, high = bounds
            raise _fail(f"{value} is out of range: must be at least {low}" if high == float("inf") else
                        f"{value} is out of range: must be between {low} and {high}", key)
    if "tool_choice" in body or "stream_options" in body or "cache_control" in body:
        _check_controls(body)
    stop = body.get("stop")
    if isinstance(stop, list) and not all(isinstance(s, str) for s in stop):
        raise _fail("stop sequences must be strings", "stop")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise _fail("a non-empty list of messages is required", "messages")
    types: set[str] = set()
    marked = bool(body.get("cache_control"))
    for i, message in enumerate(messages):  # paths are written only when something fails
        if message.__class__ is dict:
            content, role, size = message.get("content"), message.get("role"), len(message)
            if content.__class__ is str:
                if size == 2 and role.__class__ is str and role in _PLAIN_ROLES \
                        or size == 3 and role == "tool" and message.get("tool_call_id").__class__ is str:
                    continue  # {role, content: "text"} and text tool results, most turns: nothing else to check
            elif content is None and size == 3 and role == "assistant" and _plain_calls(message.get("tool_calls")):
                continue   # {role: assistant, content: null, tool_calls}: a tool-calling turn sent back
        marked = _check_message(message, i, types) or marked
    for i, tool in enumerate(body.get("tools") or ()):
        if tool.__class__ is dict and len(tool) == 2 and tool.get("type") == "function":
            fn = tool.get("function")   # {type, function: {name, description?, parameters?}}: most tools
            if fn.__class__ is dict and (name := fn.get("name")).__class__ is str and name \
                    and fn.get("parameters").__class__ in _SCHEMA_OR_NONE:
                continue
        _check_tool(tool, i)
        if tool.get("cache_control") is not None:
            _check_cache(tool["cache_control"], f"tools[{i}].cache_control")
            marked = True
    response_format = body.get("response_format")
    if response_format is not None:
        kind = response_format.get("type")
        if kind not in ("text", "json_object", "json_schema"):
            raise _fail(f"unknown type {shown(kind)}; expected text, json_object or json_schema",
                        "response_format.type")
        if kind == "json_schema" and not isinstance(response_format.get("json_schema"), dict):
            raise _fail("json_schema mode needs a json_schema object", "response_format.json_schema")
    return {"part_types": sorted(types) if types else [], "cache_marked": marked, "request": body}


_SCHEMA_OR_NONE = (dict, type(None))


def _plain_calls(calls: Any) -> bool:
    """Tool calls that need no closer look: a list of {id, type, function: {name, arguments}}."""
    if calls.__class__ is not list or not calls:
        return False
    for call in calls:
        fn = call.get("function") if call.__class__ is dict else None
        if fn.__class__ is not dict or fn.get("name").__class__ is not str or call.get("id").__class__ is not str \
                or fn.get("arguments", "").__class__ is not str:
            return False
    return True


def _check_message(message: Any, i: int, types: set[str]) -> bool:
    """Adds the message's part types to `types`; true when a part is marked for caching."""
    marked = False
    if not isinstance(message, dict):
        raise _fail(f"expected an object, got {json_type_name(message)}", f"messages[{i}]")
    role = message.get("role")
    if not isinstance(role, str) or role not in ROLES:
        raise _fail("a role is required" if role is None else
                    f"unknown role {shown(role)}; expected one of {', '.join(sorted(ROLES))}", f"messages[{i}].role")
    content = message.get("content")
    if isinstance(content, str):
        pass
    elif isinstance(content, list):
        for j, part in enumerate(content):
            kind = _check_part(part, i, j)
            types.add(kind)
            if part.get("cache_control") is not None:
                _check_cache(part["cache_control"], f"messages[{i}].content[{j}].cache_control")
                marked = True
    elif content is not None:
        raise _fail(f"content must be a string or a list of parts, got {json_type_name(content)}",
                    f"messages[{i}].content")
    elif content is None and role in ("user", "system", "developer", "tool"):
        raise _fail("content is required", f"messages[{i}].content")
    if role == "tool" and not isinstance(message.get("tool_call_id"), str):
        raise _fail("a tool message needs tool_call_id", f"messages[{i}].tool_call_id")
    calls = message.get("tool_calls")
    if calls is not None:
        if not isinstance(calls, list):
            raise _fail("expected a list", f"messages[{i}].tool_calls")
        for k, call in enumerate(calls):
            fn = call.get("function") if isinstance(call, dict) else None
            if not isinstance(fn, dict) or not isinstance(fn.get("name"), str) or not isinstance(call.get("id"), str):
                raise _fail("a tool call needs id and function.name", f"messages[{i}].tool_calls[{k}]")
            if not isinstance(fn.get("arguments", ""), str):
                raise _fail("arguments must be a JSON string", f"messages[{i}].tool_calls[{k}].function.arguments")
    return marked


# Each part type's required string fields (OpenAI's content-part contract), as key paths.
_PART_FIELDS = {kind: tuple(tuple(path.split(".")) for path in paths) for kind, paths in {
    "text": ("text",), "image_url": ("image_url.url",), "video_url": ("video_url.url",),
    "input_audio": ("input_audio.data", "input_audio.format"), "refusal": ("refusal",), "file": ()}.items()}


def _check_part(part: Any, i: int, j: int) -> str:
    """The part's type, once its required fields are checked."""
    kind = part.get("type") if isinstance(part, dict) else None
    paths = _PART_FIELDS.get(kind) if isinstance(kind, str) else None
    if paths is None:
        raise _fail(f"expected a content part object, got {json_type_name(part)}" if not isinstance(part, dict) else
                    "a content part needs a type" if kind is None else
                    f"unknown content part type {shown(kind)}", f"messages[{i}].content[{j}]")
    for path in paths:
        value: Any = part
        for depth, key in enumerate(path):
            if not isinstance(value, dict):   # e.g. image_url given as a string instead of {url}
                where = ".".join(path[:depth])
                raise _fail(f"expected an object with {'.'.join(path[depth:])}, got {json_type_name(value)}",
                            f"messages[{i}].content[{j}].{where}")
            value = value.get(key)
        if not isinstance(value, str):
            raise _fail(f"expected a string, got {json_type_name(value)}", f"messages[{i}].content[{j}].{'.'.join(path)}")
    if kind == "file":
        file = part.get("file")
        if not isinstance(file, dict) or not any(isinstance(file.get(k), str) for k in ("file_data", "file_id")):
            raise _fail("a file part needs file.file_data (a data: URL) or file.file_id", f"messages[{i}].content[{j}].file")
    return kind


def _check_tool(tool: Any, i: int) -> None:
    fn = tool.get("function") if isinstance(tool, dict) else None
    if not isinstance(tool, dict) or tool.get("type") != "function" or not isinstance(fn, dict):
        raise _fail("a tool must be {type: function, function: {...}}", f"tools[{i}]")
    if not isinstance(fn.get("name"), str) or not fn["name"]:
        raise _fail("a function tool needs a name", f"tools[{i}].function.name")
    params = fn.get("parameters")
    if params is not None and not isinstance(params, dict):
        raise _fail("parameters must be a JSON Schema object", f"tools[{i}].function.parameters")
