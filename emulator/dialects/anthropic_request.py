"""Anthropic Messages request validation, following the real API's refusals (roles, empty text,
tool_use/tool_result pairing, thinking rules and signatures, cache_control limits)."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import orjson

from emulator import fake_model as fm
from emulator import signatures
from emulator.errors import ApiError

_TOOL_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
_SERVER_TOOL = re.compile(r"^[a-z_]+_\d{8}$")
_BLOCKS = {"text", "image", "document", "search_result", "tool_use", "tool_result", "thinking",
           "redacted_thinking", "server_tool_use", "web_search_tool_result", "web_fetch_tool_result",
           "container_upload"}
_ASSISTANT_ONLY = {"tool_use", "thinking", "redacted_thinking", "server_tool_use"}
_VERSIONS = {"2023-06-01", "2026-10-21"}


def bad(message: str, status: int = 400) -> ApiError:
    return ApiError(status, message, "invalid_request")


@dataclass
class Parsed:
    """The neutral prompt plus what rendering needs: cache segments and thinking display."""

    prompt: fm.Prompt
    segments: list[tuple[Any, str, bool]] = field(default_factory=list)  # (raw, text, has cache marker)
    cache_ttl: str = "5m"
    display_thinking: bool = True
    web_search: dict[str, Any] | None = None   # the web_search_* server tool, when given


def _text_check(block: dict[str, Any], where: str) -> str:
    text = block.get("text")
    if not isinstance(text, str):
        raise bad(f"{where}.text: Field required")
    if text == "":
        if block.get("cache_control"):
            raise bad(f"{where}: cache_control cannot be set for empty text blocks")
        raise bad(f"{where}: text content blocks must be non-empty")
    if not text.strip():
        raise bad(f"{where}: text content blocks must contain non-whitespace text")
    return text


def _tool_result_text(block: dict[str, Any], where: str) -> str:
    content = block.get("content", "")
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        raise bad(f"{where}.content: Input should be a valid list")
    texts = []
    for k, inner in enumerate(content):
        if isinstance(inner, dict) and inner.get("type") == "text":
            texts.append(_text_check(inner, f"{where}.content.{k}"))
    return "\n".join(texts)


def _blocks(msg: dict[str, Any], i: int) -> list[dict[str, Any]]:
    content = msg.get("content")
    if isinstance(content, str):
        return [{"type": "text", "text": content}]
    if not isinstance(content, list):
        raise bad(f"messages.{i}.content: Input should be a valid list")
    if not content and msg.get("role") == "user":
        raise bad(f"messages.{i}: all messages must have non-empty content except for the optional final "
                  "assistant message")
    return content


def _check_block(block: Any, role: str, where: str, p: Parsed) -> str:
    """Validate one content block; return its text for token counting."""
    btype = block.get("type") if isinstance(block, dict) else None
    if btype not in _BLOCKS:
        raise bad(f"{where}.type: Input tag '{btype}' found using 'type' does not match any of the expected tags")
    if btype in _ASSISTANT_ONLY and role != "assistant":
        raise bad(f"{where}: `{btype}` blocks can only be in `assistant` messages")
    if btype == "tool_result" and role != "user":
        raise bad(f"{where}: `tool_result` blocks can only be in `user` messages")
    if btype == "text":
        return _text_check(block, where)
    if btype == "tool_use":
        if not isinstance(block.get("id"), str) or not isinstance(block.get("name"), str):
            raise bad(f"{where}: tool_use blocks require `id` and `name`")
        if not isinstance(block.get("input"), dict):
            raise bad(f"{where}.input: Input should be a valid dictionary")
        return orjson.dumps(block["input"]).decode()
    if btype == "tool_result":
        if not isinstance(block.get("tool_use_id"), str):
            raise bad(f"{where}.tool_use_id: Field required")
        return _tool_result_text(block, where)
    if btype == "thinking":
        if block.get("cache_control"):
            raise bad(f"{where}: cache_control cannot be set on thinking blocks")
        if not signatures.verify("thinking", str(block.get("thinking", "")), block.get("signature")):
            raise bad(f"{where}: Invalid `signature` in `thinking` block")
        return str(block.get("thinking", ""))
    if btype == "redacted_thinking" and not block.get("data"):
        raise bad(f"{where}.data: Field required")
    if btype == "image" and not isinstance(block.get("source"), dict):
        raise bad(f"{where}.source: Field required")
    return ""


def _check_messages(messages: Any, p: Parsed) -> None:
    if not isinstance(messages, list):
        raise bad("messages: Field required")
    if not messages:
        raise bad("messages: at least one message is required")
    prev_tool_ids: list[str] = []
    for i, msg in enumerate(messages):
        role = msg.get("role") if isinstance(msg, dict) else None
        if role not in ("user", "assistant"):
            raise bad(f'messages: Unexpected role "{role}". The Messages API accepts a top-level `system` '
                      f'parameter, not "{role}" as an input message role.' if role == "system" else
                      f"messages.{i}.role: Input should be 'user' or 'assistant'")
        blocks = _blocks(msg, i)
        results: list[str] = []
        tool_ids: list[str] = []
        for j, block in enumerate(blocks):
            text = _check_block(block, role, f"messages.{i}.content.{j}", p)
            p.segments.append((block, text, bool(block.get("cache_control"))))
            p.prompt.texts.append(text)
            if block["type"] == "tool_result":
                if block["tool_use_id"] not in prev_tool_ids:
                    raise bad(f"messages.{i}.content.{j}: unexpected `tool_use_id` found in `tool_result` blocks: "
                              f"{block['tool_use_id']}. Each `tool_result` block must have a corresponding "
                              "`tool_use` block in the previous message.")
                results.append(block["tool_use_id"])
            elif block["type"] == "tool_use":
                tool_ids.append(block["id"])
        missing = [t for t in prev_tool_ids if t not in results]
        if missing:
            raise bad(f"messages.{i}: `tool_use` ids were found without `tool_result` blocks immediately after: "
                      f"{', '.join(missing)}. Each `tool_use` block must have a corresponding `tool_result` block "
                      "in the next message.")
        prev_tool_ids = tool_ids
        if role == "user":
            texts = [b.get("text", "") for b in blocks if b.get("type") == "text"]
            if texts:
                p.prompt.last_user_text = "\n".join(texts)
    if prev_tool_ids:
        raise bad(f"messages.{len(messages)}: `tool_use` ids were found without `tool_result` blocks immediately "
                  f"after: {', '.join(prev_tool_ids)}. Each `tool_use` block must have a corresponding "
                  "`tool_result` block in the next message.")
    last = messages[-1]
    last_blocks = _blocks(last, len(messages) - 1)
    if last["role"] == "user" and any(b.get("type") == "tool_result" for b in last_blocks):
        p.prompt.tool_result = "\n".join(_tool_result_text(b, "tool_result") for b in last_blocks
                                         if b.get("type") == "tool_result")


def _check_tools(body: dict[str, Any], p: Parsed) -> None:
    tools = body.get("tools") or []
    if not isinstance(tools, list):
        raise bad("tools: Input should be a valid list")
    for i, tool in enumerate(tools):
        if not isinstance(tool, dict):
            raise bad(f"tools.{i}: Input should be a valid dictionary")
        ttype = tool.get("type", "custom")
        if ttype not in ("custom", None) and _SERVER_TOOL.match(str(ttype)):
            if str(ttype).startswith("web_search_"):
                p.web_search = _check_web_search(tool, i)
            p.segments.append((tool, orjson.dumps(tool).decode(), bool(tool.get("cache_control"))))
            continue
        name = tool.get("name")
        if not isinstance(name, str) or not _TOOL_NAME.match(name):
            raise bad(f"tools.{i}.custom.name: String should match pattern '^[a-zA-Z0-9_-]{{1,64}}$'")
        schema = tool.get("input_schema")
        if not isinstance(schema, dict):
            raise bad(f"tools.{i}.custom.input_schema: Field required")
        if schema.get("type") != "object":
            raise bad(f"tools.{i}.custom.input_schema.type: Input should be 'object'")
        p.prompt.tools.append(fm.Tool(name, schema))
        p.segments.append((tool, f"{name} {tool.get('description', '')}", bool(tool.get("cache_control"))))
    choice = body.get("tool_choice")
    if choice is None:
        return
    ctype = choice.get("type") if isinstance(choice, dict) else None
    if ctype not in ("auto", "any", "tool", "none"):
        raise bad("tool_choice: Input tag found using 'type' does not match any of the expected tags: 'auto', "
                  "'any', 'tool', 'none'")
    if ctype == "none" and "disable_parallel_tool_use" in choice:
        raise bad("tool_choice.none.disable_parallel_tool_use: Extra inputs are not permitted")
    if ctype == "tool":
        if not isinstance(choice.get("name"), str):
            raise bad("tool_choice.tool.name: Field required")
        if choice["name"] not in [t.name for t in p.prompt.tools]:
            raise bad(f"tool_choice: Tool '{choice['name']}' not found in provided tools")
        p.prompt.forced_tool = choice["name"]
    p.prompt.tool_choice = {"any": "required"}.get(ctype, ctype)


def _check_web_search(tool: dict[str, Any], i: int) -> dict[str, Any]:
    """web_search_20250305: name `web_search`, max_uses >= 1, allowed_domains xor blocked_domains, an
    approximate user_location."""
    where = f"tools.{i}.{tool['type']}"
    if tool.get("name") != "web_search":
        raise bad(f"{where}.name: Input should be 'web_search'")
    uses = tool.get("max_uses")
    if uses is not None and (not isinstance(uses, int) or isinstance(uses, bool) or uses < 1):
        raise bad(f"{where}.max_uses: Input should be greater than or equal to 1")
    if tool.get("allowed_domains") and tool.get("blocked_domains"):
        raise bad(f"{where}: cannot specify both allowed_domains and blocked_domains")
    loc = tool.get("user_location")
    if loc is not None:
        if not isinstance(loc, dict) or loc.get("type") != "approximate":
            raise bad(f"{where}.user_location.type: Input should be 'approximate'")
        extra = set(loc) - {"type", "city", "region", "country", "timezone"}
        if extra:
            raise bad(f"{where}.user_location.{sorted(extra)[0]}: Extra inputs are not permitted")
    return tool


def _check_thinking(body: dict[str, Any], headers: dict[str, str], p: Parsed) -> None:
    thinking = body.get("thinking")
    if thinking is None:
        return
    ttype = thinking.get("type") if isinstance(thinking, dict) else None
    if ttype not in ("enabled", "adaptive", "disabled"):
        raise bad("thinking: Input tag found using 'type' does not match any of the expected tags: 'enabled', "
                  "'adaptive', 'disabled'")
    if ttype == "disabled":
        return
    if ttype == "enabled":
        budget = thinking.get("budget_tokens")
        if not isinstance(budget, int):
            raise bad("thinking.enabled.budget_tokens: Field required")
        if budget < 1024:
            raise bad("thinking.enabled.budget_tokens: Input should be greater than or equal to 1024")
        if budget >= body["max_tokens"] and "interleaved-thinking" not in headers.get("anthropic-beta", ""):
            raise bad("`max_tokens` must be greater than `thinking.budget_tokens`. Please consult our "
                      "documentation at https://docs.claude.com/en/docs/build-with-claude/extended-thinking#max-tokens-and-context-window-size")
    if body.get("temperature") not in (None, 1, 1.0):
        raise bad("`temperature` may only be set to 1 when thinking is enabled or in adaptive mode. Please consult "
                  "our documentation at https://docs.claude.com/en/docs/build-with-claude/extended-thinking#feature-compatibility")
    if body.get("top_k") is not None:
        raise bad("`top_k` must be unset when thinking is enabled.")
    top_p = body.get("top_p")
    if top_p is not None and not 0.95 <= top_p <= 1:
        raise bad("`top_p` must be greater than or equal to 0.95 or unset when thinking is enabled.")
    if p.prompt.tool_choice in ("required", "tool"):
        raise bad("Thinking may not be enabled when tool_choice forces tool use.")
    messages = body["messages"]
    if messages[-1].get("role") == "assistant":
        raise bad("This model does not support assistant message prefill. The conversation must end with a user "
                  "message.")
    if p.prompt.tool_result is not None and len(messages) >= 2:
        i = len(messages) - 2
        first = _blocks(messages[i], i)[0] if _blocks(messages[i], i) else {}
        if first.get("type") not in ("thinking", "redacted_thinking"):
            raise bad(f"messages.{i}.content.0.type: Expected `thinking` or `redacted_thinking`, but found "
                      f"`{first.get('type')}`. When `thinking` is enabled, a final `assistant` message must start "
                      "with a thinking block (preceeding the lastmost set of `tool_use` and `tool_result` blocks). "
                      "We recommend you include thinking blocks from previous turns. To avoid this requirement, "
                      "disable `thinking`. Please consult our documentation at "
                      "https://docs.claude.com/en/docs/build-with-claude/extended-thinking")
    p.prompt.thinking = True
    p.display_thinking = thinking.get("display") != "omitted"


def _check_sampling(body: dict[str, Any], version: str) -> None:
    for key in ("temperature", "top_p", "top_k"):
        if body.get(key) is not None and version == "2026-10-21":
            raise bad(f"{key}: sampling parameters are not supported in API version 2026-10-21")
    for key in ("temperature", "top_p"):
        value = body.get(key)
        if value is not None and (not isinstance(value, (int, float)) or not 0 <= value <= 1):
            raise bad(f"{key}: Input should be less than or equal to 1")
    stops = body.get("stop_sequences") or []
    if not isinstance(stops, list) or any(not isinstance(s, str) or not s.strip() for s in stops):
        raise bad("stop_sequences: each stop sequence must be a string containing non-whitespace characters")


def parse(body: Any, headers: dict[str, str]) -> Parsed:
    """Validate a Messages request and build the neutral prompt."""
    version = headers.get("anthropic-version")
    if not version:
        raise bad("anthropic-version: header is required")
    if version not in _VERSIONS:
        raise bad(f"anthropic-version: invalid value '{version}'")
    if not isinstance(body, dict):
        raise bad("There was an error parsing the body of your request: expected a JSON object")
    if not isinstance(body.get("model"), str):
        raise bad("model: Field required")
    max_tokens = body.get("max_tokens")
    if not isinstance(max_tokens, int) or isinstance(max_tokens, bool):
        raise bad("max_tokens: Field required")
    if max_tokens < 1:
        raise bad("max_tokens: Input should be greater than or equal to 1")
    _check_sampling(body, version)
    p = Parsed(fm.Prompt(model=body["model"], max_tokens=max_tokens, stop=list(body.get("stop_sequences") or [])))
    _check_tools(body, p)
    system = body.get("system")
    if isinstance(system, str) and system:
        p.segments.append((system, system, False))
        p.prompt.texts.append(system)
    elif isinstance(system, list):
        for j, block in enumerate(system):
            if not isinstance(block, dict) or block.get("type") != "text":
                raise bad(f"system.{j}.type: Input should be 'text'")
            text = _text_check(block, f"system.{j}")
            p.segments.append((block, text, bool(block.get("cache_control"))))
            p.prompt.texts.append(text)
    elif system is not None and not isinstance(system, str):
        raise bad("system: Input should be a valid string or list")
    _check_messages(body.get("messages"), p)
    has_tool_blocks = any(isinstance(raw, dict) and raw.get("type") in ("tool_use", "tool_result")
                          for raw, _, _ in p.segments)
    if has_tool_blocks and not body.get("tools"):
        raise bad("Requests which include `tool_use` or `tool_result` blocks must define tools.")
    markers = sum(1 for _, _, marked in p.segments if marked) + (1 if body.get("cache_control") else 0)
    if markers > 4:
        raise bad(f"A maximum of 4 blocks with cache_control may be provided. Found {markers}.")
    ttls = [raw.get("cache_control", {}).get("ttl") for raw, _, m in p.segments if m and isinstance(raw, dict)]
    p.cache_ttl = "1h" if "1h" in ttls else "5m"
    if body.get("cache_control") and p.segments:
        raw, text, _ = p.segments[-1]
        p.segments[-1] = (raw, text, True)
    _check_thinking(body, headers, p)
    fmt = (body.get("output_config") or {}).get("format") or body.get("output_format")
    if isinstance(fmt, dict) and fmt.get("type") == "json_schema":
        p.prompt.json_schema = fmt.get("schema") or {"type": "object"}
    return p
