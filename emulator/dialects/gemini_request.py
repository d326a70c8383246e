"""Gemini generateContent request validation: proto-style unknown-field refusals, roles, one data field
per part, function call/response turn rules, schema subset, thinking config, thought signatures."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import orjson

from emulator import fake_model as fm
from emulator import signatures
from emulator.errors import ApiError

THINKING_MODEL = re.compile(r"gemini-(2\.5|3)|thinking")
_NO_THINKING = re.compile(r"gemini-(1\.|2\.0)")
_FN_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_.:-]{0,127}$")
_TOP = {"contents", "systemInstruction", "tools", "toolConfig", "safetySettings", "generationConfig",
        "cachedContent", "labels", "serviceTier", "model"}
_GEN = {"temperature", "topP", "topK", "candidateCount", "maxOutputTokens", "stopSequences", "presencePenalty",
        "frequencyPenalty", "seed", "responseMimeType", "responseSchema", "responseJsonSchema", "responseLogprobs",
        "logprobs", "responseModalities", "mediaResolution", "speechConfig", "thinkingConfig", "imageConfig",
        "enableEnhancedCivicAnswers", "responseFormat"}
_PART = {"text", "inlineData", "fileData", "functionCall", "functionResponse", "thought", "thoughtSignature",
         "executableCode", "codeExecutionResult", "videoMetadata", "mediaResolution", "toolCall", "toolResponse",
         "partMetadata"}
_DATA = ("text", "inlineData", "fileData", "functionCall", "functionResponse", "executableCode",
         "codeExecutionResult", "toolCall", "toolResponse")
_DECL = {"name", "description", "parameters", "parametersJsonSchema", "response", "responseJsonSchema", "behavior"}
_THINK = {"thinkingBudget", "includeThoughts", "thinkingLevel"}
_SCHEMA = {"type", "format", "title", "description", "nullable", "enum", "items", "minItems", "maxItems",
           "properties", "required", "minProperties", "maxProperties", "minLength", "maxLength", "pattern",
           "minimum", "maximum", "example", "default", "anyOf", "propertyOrdering"}


def bad(message: str) -> ApiError:
    return ApiError(400, message, "invalid_request")


def _snake(name: str) -> str:
    return re.sub(r"([A-Z])", lambda m: "_" + m.group(1).lower(), name)


def _camel(name: str) -> str:
    return re.sub(r"_([a-z])", lambda m: m.group(1).upper(), name)


def get(obj: Any, name: str, default: Any = None) -> Any:
    """Proto JSON accepts both lowerCamelCase and the original snake_case field names."""
    if not isinstance(obj, dict):
        return default
    return obj[name] if name in obj else obj.get(_snake(name), default)


def _known(obj: Any, allowed: set[str], where: str) -> dict[str, Any]:
    if not isinstance(obj, dict):
        raise bad(f"Invalid value at '{where}': expected an object.")
    for key in obj:
        if _camel(key) not in allowed:
            raise bad(f'Invalid JSON payload received. Unknown name "{key}" at \'{where}\': Cannot find field.')
    return obj


def _check_schema(schema: Any, where: str, for_tools: bool) -> None:
    """Gemini's OpenAPI Schema subset is a proto message: unknown keys and list-valued types are refused."""
    allowed = _SCHEMA if for_tools else _SCHEMA | {"additionalProperties"}
    _known(schema, allowed, where)
    if isinstance(schema.get("type"), list):
        raise bad(f"Invalid JSON payload received. Proto field is not repeating, cannot start list at "
                  f"'{where}.type'.")
    if for_tools and str(schema.get("type", "")).upper() == "OBJECT" and schema.get("properties") == {}:
        raise bad(f"* GenerateContentRequest.{where}.properties: should be non-empty for OBJECT type")
    for name, sub in (schema.get("properties") or {}).items():
        _check_schema(sub, f"{where}.properties[{name}].value", for_tools)
    if isinstance(schema.get("items"), dict):
        _check_schema(schema["items"], f"{where}.items", for_tools)
    for k, sub in enumerate(schema.get("anyOf") or []):
        _check_schema(sub, f"{where}.any_of[{k}]", for_tools)


@dataclass
class Parsed:
    prompt: fm.Prompt
    include_thoughts: bool
    cached_tokens: int
    google_search: bool = False   # a googleSearch tool: the answer is grounded (emulator/dialects/web_search.py)


def _check_parts(content: dict[str, Any], i: int, p: fm.Prompt) -> list[dict[str, Any]]:
    parts = get(content, "parts")
    if not isinstance(parts, list) or not parts:
        raise bad(f"* GenerateContentRequest.contents[{i}].parts: contents.parts must not be empty.")
    for j, part in enumerate(parts):
        where = f"contents[{i}].parts[{j}]"
        _known(part, _PART, where)
        present = [k for k in _DATA if get(part, k) is not None]
        if not present:
            raise bad(f"* GenerateContentRequest.{where}.data: required oneof field 'data' must have one "
                      "initialized field")
        if len(present) > 1:
            raise bad(f"Invalid value at '{where}' (oneof field 'data' is already set. Cannot set "
                      f"'{_snake(present[1])}')")
        text = get(part, "text")
        if text == "" and not get(part, "thoughtSignature"):
            raise bad(f"* GenerateContentRequest.{where}.data: required oneof field 'data' must have one "
                      "initialized field")
        call, resp = get(part, "functionCall"), get(part, "functionResponse")
        if call is not None:
            if not isinstance(get(call, "name"), str) or not isinstance(get(call, "args", {}), dict):
                raise bad(f"Invalid value at '{where}.function_call.args' (type.googleapis.com/google.protobuf.Struct)")
            p.texts.append(orjson.dumps(get(call, "args", {})).decode())
        if resp is not None:
            if not isinstance(get(resp, "name"), str) or not get(resp, "name"):
                raise bad(f"* GenerateContentRequest.{where}.function_response.name: Name cannot be empty.")
            if not isinstance(get(resp, "response"), dict):
                raise bad(f"Invalid value at '{where}.function_response.response' "
                          "(type.googleapis.com/google.protobuf.Struct)")
            p.texts.append(orjson.dumps(get(resp, "response")).decode())
        if isinstance(text, str) and not get(part, "thought"):
            p.texts.append(text)
    return parts


def _kind(parts: list[dict[str, Any]]) -> str:
    if any(get(x, "functionCall") for x in parts):
        return "call"
    if any(get(x, "functionResponse") for x in parts):
        return "response"
    return "plain"


def _check_contents(contents: Any, p: fm.Prompt, model: str) -> None:
    if not isinstance(contents, list) or not contents:
        raise bad("* GenerateContentRequest.contents: contents is not specified")
    prev_kind, prev_calls = "none", 0
    for i, content in enumerate(contents):
        _known(content, {"role", "parts"}, f"contents[{i}]")
        role = get(content, "role") or "user"
        if role not in ("user", "model"):
            raise bad("Please use a valid role: user, model.")
        parts = _check_parts(content, i, p)
        kind = _kind(parts)
        if kind == "call" and (role != "model" or prev_kind not in ("user-plain", "user-response", "none")):
            raise bad("Please ensure that function call turn comes immediately after a user turn or after a "
                      "function response turn.")
        if kind == "response":
            if prev_kind != "model-call":
                raise bad("Please ensure that function response turn comes immediately after a function call turn.")
            count = sum(1 for x in parts if get(x, "functionResponse"))
            if count != prev_calls:
                raise bad("Please ensure that the number of function response parts is equal to the number of "
                          "function call parts of the function call turn.")
        prev_kind = f"{role}-{kind}"
        prev_calls = sum(1 for x in parts if get(x, "functionCall"))
        if role == "user" and kind == "plain":
            texts = [get(x, "text") for x in parts if isinstance(get(x, "text"), str)]
            if texts:
                p.last_user_text = "\n".join(texts)
    last = contents[-1]
    if _kind(get(last, "parts")) == "response":
        p.tool_result = "\n".join(orjson.dumps(get(get(x, "functionResponse"), "response")).decode()
                                  for x in get(last, "parts") if get(x, "functionResponse"))
    if THINKING_MODEL.search(model):
        _check_signatures(contents)


def _check_signatures(contents: list[dict[str, Any]]) -> None:
    """Current turn only: each model function-call step after the last plain user turn must be signed."""
    start = 0
    for i, content in enumerate(contents):
        if (get(content, "role") or "user") == "user" and _kind(get(content, "parts")) == "plain":
            start = i
    for i in range(start, len(contents)):
        calls = [x for x in get(contents[i], "parts") if get(x, "functionCall")]
        if not calls:
            continue
        first = calls[0]
        sig = get(first, "thoughtSignature")
        name = get(get(first, "functionCall"), "name")
        if not sig:
            raise bad("Function call is missing a thought_signature in functionCall parts. This is required for "
                      "tools to work correctly, and missing thought_signature may lead to degraded model "
                      f"performance. Additional data, function call `default_api:{name}` , position {i + 1}. "
                      "Please refer to https://ai.google.dev/gemini-api/docs/thought-signatures for more details.")
        expected = signatures.gemini_call_signature(name, get(get(first, "functionCall"), "args", {}))
        if sig not in signatures.GEMINI_PLACEHOLDERS and sig != expected:
            raise bad("Corrupted thought signature.")


def _check_tools(body: dict[str, Any], p: fm.Prompt) -> None:
    for t, tool in enumerate(get(body, "tools") or []):
        for d, decl in enumerate(get(tool, "functionDeclarations") or []):
            where = f"tools[{t}].function_declarations[{d}]"
            _known(decl, _DECL, where)
            name = get(decl, "name")
            if not isinstance(name, str) or not _FN_NAME.match(name):
                raise bad(f"* GenerateContentRequest.{where}.name: Invalid function name. Must start with a letter "
                          "or an underscore. Must be a-z, A-Z, 0-9, or contain underscores, dots, colons and "
                          "dashes, with a maximum length of 128.")
            params, json_params = get(decl, "parameters"), get(decl, "parametersJsonSchema")
            if params is not None and json_params is not None:
                raise bad(f"* GenerateContentRequest.{where}: parameters and parameters_json_schema are mutually "
                          "exclusive")
            if params is not None:
                _check_schema(params, f"{where}.parameters", True)
            p.tools.append(fm.Tool(name, params or json_params or {}))
    fcc = get(get(body, "toolConfig") or {}, "functionCallingConfig") or {}
    mode = get(fcc, "mode", "AUTO")
    if mode not in ("AUTO", "ANY", "NONE", "VALIDATED", "MODE_UNSPECIFIED"):
        raise bad(f"Invalid value at 'tool_config.function_calling_config.mode' (type.googleapis.com/"
                  f"google.ai.generativelanguage.v1beta.FunctionCallingConfig.Mode), \"{mode}\"")
    allowed = get(fcc, "allowedFunctionNames") or []
    if allowed and mode != "ANY":
        raise bad("* GenerateContentRequest.tool_config.function_calling_config.allowed_function_names: "
                  "allowed_function_names can only be set when mode is ANY.")
    p.tool_choice = {"ANY": "required", "NONE": "none"}.get(mode, "auto")
    if allowed:
        p.tools = [x for x in p.tools if x.name in allowed]
        p.tool_choice, p.forced_tool = "tool", allowed[0]


def _check_generation(gen: dict[str, Any], p: fm.Prompt, model: str) -> bool:
    """Validate generationConfig; return includeThoughts."""
    _known(gen, _GEN, "generation_config")
    schema, json_schema = get(gen, "responseSchema"), get(gen, "responseJsonSchema")
    mime = get(gen, "responseMimeType", "text/plain")
    if schema is not None and json_schema is not None:
        raise bad("response_schema and response_json_schema are mutually exclusive.")
    if (schema is not None or json_schema is not None) and mime not in ("application/json", "text/x.enum"):
        raise bad("* GenerateContentRequest.generation_config.response_mime_type: response_mime_type must be "
                  "application/json or text/x.enum when response_schema is set.")
    if schema is not None:
        _check_schema(schema, "generation_config.response_schema", False)
    p.json_mode = mime == "application/json"
    p.json_schema = schema if schema is not None else json_schema
    temp = get(gen, "temperature")
    if temp is not None and not 0 <= temp <= 2:
        raise bad("* GenerateContentRequest.generation_config.temperature: must be in [0.0, 2.0]")
    stops = get(gen, "stopSequences") or []
    if len(stops) > 5:
        raise bad("* GenerateContentRequest.generation_config.stop_sequences: at most 5 stop sequences allowed")
    p.stop = list(stops)
    n = get(gen, "candidateCount", 1)
    if not isinstance(n, int) or n < 1 or n > 8 or (n > 1 and "gemini-3" in model):
        raise bad("* GenerateContentRequest.generation_config.candidate_count: candidate_count is out of range")
    p.n = n
    p.max_tokens = get(gen, "maxOutputTokens")
    think = get(gen, "thinkingConfig")
    thinking_model = bool(THINKING_MODEL.search(model))
    p.thinking = thinking_model
    if think is None:
        return False
    _known(think, _THINK, "generation_config.thinking_config")
    if _NO_THINKING.search(model) or not thinking_model:
        raise bad("Thinking is not supported for this model.")
    budget, level = get(think, "thinkingBudget"), get(think, "thinkingLevel")
    if budget is not None and level is not None:
        raise bad("You can only set only one of thinking budget and thinking level.")
    if level is not None and "2.5" in model:
        raise bad("Thinking level is not supported for this model.")
    if budget == 0:
        if "pro" in model:
            raise bad("Budget 0 is invalid. This model only works in thinking mode.")
        p.thinking = False
    return bool(get(think, "includeThoughts"))


def parse(body: Any, model: str) -> Parsed:
    if not isinstance(body, dict):
        raise bad("Invalid JSON payload received. Expected an object.")
    _known(body, _TOP, "")
    p = fm.Prompt(model=model)
    if get(body, "cachedContent") and any(get(body, k) for k in ("systemInstruction", "tools", "toolConfig")):
        raise bad("CachedContent can not be used with GenerateContent request setting system_instruction, tools "
                  "or tool_config.\n\nProposed fix: move those values to CachedContent from GenerateContent "
                  "request.")
    system = get(body, "systemInstruction")
    if system is not None:
        for part in get(_known(system, {"role", "parts"}, "system_instruction"), "parts") or []:
            if isinstance(get(part, "text"), str):
                p.texts.append(get(part, "text"))
    _check_tools(body, p)
    search = _search_tool(body, p)
    include = _check_generation(get(body, "generationConfig") or {}, p, model)
    _check_contents(get(body, "contents"), p, model)
    return Parsed(p, include and p.thinking, 64 if get(body, "cachedContent") else 0, search)


def _search_tool(body: dict[str, Any], p: fm.Prompt) -> bool:
    """A `googleSearch` Tool. Next to function declarations it is refused (Vertex: "Multiple tools are supported
    only when they are all search tools"; the Gemini API wants includeServerSideToolInvocations, not emulated)."""
    search = any(isinstance(t, dict) and get(t, "googleSearch") is not None for t in get(body, "tools") or [])
    if search and p.tools:
        raise bad("Multiple tools are supported only when they are all search tools.")
    return search
