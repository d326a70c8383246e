"""Bedrock Converse request validation (camelCase members, unions with exactly one member, role order,
blank text, toolUse/toolResult pairing, cachePoint rules, Claude thinking rules and signatures)."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import orjson

from emulator import fake_model as fm
from emulator import signatures
from emulator.errors import ApiError

_TOP = {"messages", "system", "inferenceConfig", "toolConfig", "guardrailConfig", "additionalModelRequestFields",
        "additionalModelResponseFieldPaths", "promptVariables", "requestMetadata", "performanceConfig",
        "serviceTier", "outputConfig", "projectIdentifier"}
_INFERENCE = {"maxTokens", "temperature", "topP", "stopSequences"}
_BLOCKS = {"text", "image", "document", "video", "audio", "toolUse", "toolResult", "guardContent", "cachePoint",
           "reasoningContent", "citationsContent", "searchResult"}
_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
_TOOL_ID = re.compile(r"^[a-zA-Z0-9_.:-]{1,64}$")
_DOC_NAME = re.compile(r"^[A-Za-z0-9_()\[\]-]+( [A-Za-z0-9_()\[\]-]+)*$")
_MODEL_ERR = "The model returned the following errors: "


def bad(message: str) -> ApiError:
    return ApiError(400, message, "invalid_request")


@dataclass
class Parsed:
    prompt: fm.Prompt
    segments: list[tuple[Any, str, bool]] = field(default_factory=list)  # (raw, text, cache point after it)
    response_paths: list[str] = field(default_factory=list)


def _known(obj: Any, allowed: set[str], where: str) -> dict[str, Any]:
    if not isinstance(obj, dict):
        raise bad(f"1 validation error detected: Value at '{where}' failed to satisfy constraint: Member must be "
                  "a structure")
    for key in obj:
        if key not in allowed:
            raise bad(f"Malformed input request: extraneous key [{key}] is not permitted at '{where}', please "
                      "reformat your input and try again.")
    return obj


def _union(block: Any, allowed: set[str], where: str) -> str:
    _known(block, allowed, where)
    if len(block) != 1:
        raise bad(f"1 validation error detected: Value at '{where}' failed to satisfy constraint: Member must "
                  "have exactly one member set")
    return next(iter(block))


def _mark_cache(p: Parsed, where: str) -> None:
    if not p.segments:
        raise bad(f"{where}: cachePoint must follow other content")
    raw, text, _ = p.segments[-1]
    if isinstance(raw, dict) and "reasoningContent" in raw:
        raise bad("Cache point cannot be inserted after reasoning block")
    p.segments[-1] = (raw, text, True)


def _tool_result_text(result: dict[str, Any]) -> str:
    out = []
    for item in result.get("content") or []:
        if isinstance(item, dict) and "text" in item:
            out.append(str(item["text"]))
        elif isinstance(item, dict) and "json" in item:
            out.append(orjson.dumps(item["json"]).decode())
    return "\n".join(out)


def _check_block(block: Any, role: str, where: str, p: Parsed) -> str:
    kind = _union(block, _BLOCKS, where)
    value = block[kind]
    if kind == "text":
        if not isinstance(value, str) or not value.strip():
            raise bad(f"The text field in the ContentBlock object at {where} is blank. Add text to the text field, "
                      "and try again.")
        return value
    if kind == "toolUse":
        if role != "assistant":
            raise bad(f"{where}: toolUse blocks are only allowed in assistant messages.")
        _known(value, {"toolUseId", "name", "input", "type"}, f"{where}.toolUse")
        if not _TOOL_ID.match(str(value.get("toolUseId", ""))) or not _NAME.match(str(value.get("name", ""))):
            raise bad(f"1 validation error detected: Value at '{where}.toolUse' failed to satisfy constraint: "
                      "toolUseId and name must match their patterns")
        if not isinstance(value.get("input"), dict):
            raise bad(f"{where}.toolUse.input: the input must be a JSON object")
        return orjson.dumps(value["input"]).decode()
    if kind == "toolResult":
        if role != "user":
            raise bad(f"{where}: toolResult blocks are only allowed in user messages.")
        _known(value, {"toolUseId", "content", "status", "type"}, f"{where}.toolResult")
        if not isinstance(value.get("content"), list):
            raise bad(f"1 validation error detected: Value null at '{where}.toolResult.content' failed to satisfy "
                      "constraint: Member must not be null")
        for k, item in enumerate(value["content"]):
            _union(item, {"text", "json", "image", "document", "video", "searchResult"},
                   f"{where}.toolResult.content.{k}")
        return _tool_result_text(value)
    if kind == "reasoningContent":
        sub = _union(value, {"reasoningText", "redactedContent"}, f"{where}.reasoningContent")
        if sub == "reasoningText":
            text = str(value[sub].get("text", ""))
            if not signatures.verify("thinking", text, value[sub].get("signature")):
                raise bad(f"{_MODEL_ERR}{where}: Invalid `signature` in `thinking` block")
            return text
        return ""
    if kind == "document":
        name = value.get("name") if isinstance(value, dict) else None
        if not isinstance(name, str) or not _DOC_NAME.match(name) or len(name) > 200:
            raise bad("The document file name can only contain alphanumeric characters, whitespace characters, "
                      "hyphens, parentheses, and square brackets. The name can't contain more than one "
                      "consecutive whitespace character.")
    if kind == "image":
        if not isinstance(value, dict) or value.get("format") not in ("png", "jpeg", "gif", "webp"):
            raise bad(f"1 validation error detected: Value at '{where}.image.format' failed to satisfy "
                      "constraint: Member must satisfy enum value set: [png, jpeg, gif, webp]")
        _union(value.get("source"), {"bytes", "s3Location"}, f"{where}.image.source")
    return ""


def _check_messages(messages: Any, p: Parsed) -> None:
    if not isinstance(messages, list) or not messages:
        raise bad("A conversation must start with a user message. Try again with a conversation that starts with "
                  "a user message.")
    prev_role, prev_ids = None, []
    for i, msg in enumerate(messages):
        _known(msg, {"role", "content"}, f"messages.{i}")
        role = msg.get("role")
        if role not in ("user", "assistant"):
            raise bad(f"1 validation error detected: Value '{role}' at 'messages.{i}.member.role' failed to "
                      "satisfy constraint: Member must satisfy enum value set: [user, assistant]")
        if i == 0 and role != "user":
            raise bad("A conversation must start with a user message. Try again with a conversation that starts "
                      "with a user message.")
        if role == prev_role:
            raise bad("A conversation must alternate between user and assistant roles. Make sure the conversation "
                      "alternates between user and assistant roles and try again.")
        content = msg.get("content")
        if not isinstance(content, list) or not content:
            raise bad(f"The content field in the Message object at messages.{i} is empty. Add a ContentBlock object "
                      "to the content field and try again.")
        ids, results, texts = [], [], []
        for j, block in enumerate(content):
            where = f"messages.{i}.content.{j}"
            if isinstance(block, dict) and set(block) == {"cachePoint"}:
                _mark_cache(p, where)
                continue
            text = _check_block(block, role, where, p)
            p.segments.append((block, text, False))
            p.prompt.texts.append(text)
            if "toolUse" in block:
                ids.append(block["toolUse"]["toolUseId"])
            elif "toolResult" in block:
                results.append(block["toolResult"].get("toolUseId"))
            elif "text" in block:
                texts.append(block["text"])
        if any(b.get("document") for b in content if isinstance(b, dict)) and not texts:
            raise bad(f"messages.{i}: A message with a document must also include a text block.")
        if prev_ids and [x for x in prev_ids if x not in results]:
            raise bad(f"Expected toolResult blocks at messages.{i}.content for the following Ids: "
                      f"{', '.join(x for x in prev_ids if x not in results)}")
        if len(results) > len(prev_ids) or [x for x in results if x not in prev_ids]:
            raise bad(f"The number of toolResult blocks at messages.{i}.content exceeds the number of toolUse "
                      "blocks of previous turn.")
        if role == "user" and texts:
            p.prompt.last_user_text = "\n".join(texts)
        prev_role, prev_ids = role, ids
    last = messages[-1]["content"]
    if messages[-1]["role"] == "user" and any("toolResult" in b for b in last if isinstance(b, dict)):
        p.prompt.tool_result = "\n".join(_tool_result_text(b["toolResult"]) for b in last
                                         if isinstance(b, dict) and "toolResult" in b)


def _check_tools(cfg: Any, p: Parsed) -> str | None:
    """Validate toolConfig; return the toolChoice member name."""
    if cfg is None:
        return None
    _known(cfg, {"tools", "toolChoice"}, "toolConfig")
    tools = cfg.get("tools")
    if not isinstance(tools, list) or not tools:
        raise bad("1 validation error detected: Value at 'toolConfig.tools' failed to satisfy constraint: Member "
                  "must have length greater than or equal to 1")
    for i, tool in enumerate(tools):
        kind = _union(tool, {"toolSpec", "systemTool", "cachePoint"}, f"toolConfig.tools.{i}")
        if kind == "cachePoint":
            _mark_cache(p, f"toolConfig.tools.{i}")
            continue
        spec = _known(tool[kind], {"name", "description", "inputSchema", "strict"}, f"toolConfig.tools.{i}.{kind}")
        if not _NAME.match(str(spec.get("name", ""))):
            raise bad(f"1 validation error detected: Value at 'toolConfig.tools.{i}.member.toolSpec.name' failed "
                      "to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_-]+")
        if "description" in spec and not spec["description"]:
            raise bad(f"1 validation error detected: Value at 'toolConfig.tools.{i}.member.toolSpec.description' "
                      "failed to satisfy constraint: Member must have length greater than or equal to 1")
        if kind == "toolSpec":
            schema = _union(spec.get("inputSchema"), {"json"}, f"toolConfig.tools.{i}.toolSpec.inputSchema")
            if not isinstance(spec["inputSchema"][schema], dict):
                raise bad(f"toolConfig.tools.{i}.toolSpec.inputSchema.json must be a JSON object")
            p.prompt.tools.append(fm.Tool(spec["name"], spec["inputSchema"]["json"]))
            p.segments.append((tool, f"{spec['name']} {spec.get('description', '')}", False))
    choice = cfg.get("toolChoice")
    if choice is None:
        return None
    kind = _union(choice, {"auto", "any", "tool"}, "toolConfig.toolChoice")
    if kind == "tool":
        name = (choice["tool"] or {}).get("name")
        if name not in [t.name for t in p.prompt.tools]:
            raise bad(f"toolConfig.toolChoice.tool.name: tool '{name}' is not defined in toolConfig.tools")
        p.prompt.forced_tool = name
    p.prompt.tool_choice = {"any": "required"}.get(kind, kind)
    return kind


def _check_inference(cfg: dict[str, Any], p: Parsed) -> None:
    _known(cfg, _INFERENCE, "inferenceConfig")
    for key in ("temperature", "topP"):
        value = cfg.get(key)
        if value is not None and (not isinstance(value, (int, float)) or not 0 <= value <= 1):
            raise bad(f"1 validation error detected: Value '{value}' at 'inferenceConfig.{key}' failed to satisfy "
                      "constraint: Member must have value less than or equal to 1")
    max_tokens = cfg.get("maxTokens")
    if max_tokens is not None and (not isinstance(max_tokens, int) or max_tokens < 1):
        raise bad(f"1 validation error detected: Value '{max_tokens}' at 'inferenceConfig.maxTokens' failed to "
                  "satisfy constraint: Member must have value greater than or equal to 1")
    stops = cfg.get("stopSequences") or []
    if not isinstance(stops, list) or any(not isinstance(s, str) or not s for s in stops):
        raise bad("1 validation error detected: Value at 'inferenceConfig.stopSequences' failed to satisfy "
                  "constraint: Member must satisfy constraint: [Member must have length greater than or equal to 1]")
    p.prompt.max_tokens, p.prompt.stop = max_tokens, list(stops)


def _check_thinking(body: dict[str, Any], p: Parsed, choice: str | None) -> None:
    extra = body.get("additionalModelRequestFields") or {}
    thinking = extra.get("thinking") if isinstance(extra, dict) else None
    if not isinstance(thinking, dict) or thinking.get("type") not in ("enabled", "adaptive"):
        return
    cfg = body.get("inferenceConfig") or {}
    if thinking["type"] == "enabled":
        budget = thinking.get("budget_tokens")
        if not isinstance(budget, int) or budget < 1024:
            raise bad(f"{_MODEL_ERR}thinking.enabled.budget_tokens: Input should be greater than or equal to 1024")
        if budget >= cfg.get("maxTokens", 4096):
            raise bad(f"{_MODEL_ERR}`max_tokens` must be greater than `thinking.budget_tokens`.")
    if cfg.get("temperature") not in (None, 1) or cfg.get("topP") is not None or extra.get("top_k") is not None:
        raise bad(f"{_MODEL_ERR}temperature may only be set to 1 when thinking is enabled. top_p and top_k must "
                  "be unset.")
    if choice in ("any", "tool"):
        raise bad(f"{_MODEL_ERR}Thinking may not be enabled when tool_choice forces tool use.")
    messages = body["messages"]
    if p.prompt.tool_result is not None and len(messages) >= 2:
        first = messages[-2]["content"][0]
        if "reasoningContent" not in first:
            found = {"toolUse": "tool_use", "text": "text"}.get(next(iter(first)), next(iter(first)))
            raise bad(f"{_MODEL_ERR}messages.{len(messages) - 2}.content.0.type: Expected `thinking` or "
                      f"`redacted_thinking`, but found `{found}`. When `thinking` is enabled, a final `assistant` "
                      "message must start with a thinking block (preceeding the lastmost set of `tool_use` and "
                      "`tool_result` blocks). We recommend you include thinking blocks from previous turns.")
    p.prompt.thinking = True


def parse(body: Any) -> Parsed:
    if not isinstance(body, dict):
        raise bad("Malformed input request, please reformat your input and try again.")
    _known(body, _TOP, "#")
    p = Parsed(fm.Prompt(model=""))
    choice = _check_tools(body.get("toolConfig"), p)
    for j, block in enumerate(body.get("system") or []):
        kind = _union(block, {"text", "guardContent", "cachePoint"}, f"system.{j}")
        if kind == "cachePoint":
            _mark_cache(p, f"system.{j}")
        elif kind == "text":
            if not isinstance(block["text"], str) or not block["text"].strip():
                raise bad(f"The text field in the SystemContentBlock object at system.{j} is blank. Add text to the "
                          "text field, and try again.")
            p.segments.append((block, block["text"], False))
            p.prompt.texts.append(block["text"])
    _check_inference(body.get("inferenceConfig") or {}, p)
    _check_messages(body.get("messages"), p)
    if body.get("toolConfig") is None and any(isinstance(r, dict) and ("toolUse" in r or "toolResult" in r)
                                              for r, _, _ in p.segments):
        raise bad("The toolConfig field must be defined when using toolUse and toolResult content blocks.")
    points = sum(1 for _, _, m in p.segments if m)
    if points > 4:
        raise bad(f"The number of cache points exceeds the maximum of 4. Found {points}.")
    _check_thinking(body, p, choice)
    fmt = ((body.get("outputConfig") or {}).get("textFormat") or {})
    schema = ((fmt.get("structure") or {}).get("jsonSchema") or {}).get("schema")
    if isinstance(schema, str):
        try:
            p.prompt.json_schema = orjson.loads(schema)
        except orjson.JSONDecodeError:
            raise bad("outputConfig.textFormat.structure.jsonSchema.schema must be a JSON string") from None
    p.response_paths = list(body.get("additionalModelResponseFieldPaths") or [])
    return p
