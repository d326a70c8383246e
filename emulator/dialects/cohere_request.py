"""Cohere v2 chat request validation: Cohere's own field names (p, k, stop_sequences, thinking, documents),
uppercase tool_choice, message ordering and tool_call_id rules, and refusal of any unknown key."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from emulator import fake_model as fm
from emulator.errors import ApiError

_TOP = {"model", "messages", "stream", "tools", "strict_tools", "documents", "citation_options", "response_format",
        "safety_mode", "max_tokens", "stop_sequences", "temperature", "seed", "frequency_penalty",
        "presence_penalty", "k", "p", "logprobs", "tool_choice", "thinking", "priority"}
_REASONING = re.compile(r"reasoning")
_TOOL_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")


def bad(message: str, status: int = 400) -> ApiError:
    return ApiError(status, f"invalid request: {message}", "invalid_request")


@dataclass
class Parsed:
    prompt: fm.Prompt
    documents: list[dict[str, Any]] = field(default_factory=list)  # {id, title, url, snippet}
    billed_input: int = 1  # Cohere bills user-visible text only, not system/tool scaffolding
    want_citation: bool = False


def _range(body: dict[str, Any], key: str, low: float, high: float) -> None:
    value = body.get(key)
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
        raise bad(f"'{key}' must be between {low} and {high}, got {value}")


def _content_text(content: Any, role: str, i: int) -> str:
    """User/system/assistant/tool content: a string or a list of typed items."""
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        raise bad(f"messages[{i}].content must be a string or a list of content items")
    allowed = {"user": {"text", "image_url"}, "system": {"text"}, "assistant": {"text", "thinking"},
               "tool": {"text", "document"}}[role]
    texts = []
    for j, item in enumerate(content):
        itype = item.get("type") if isinstance(item, dict) else None
        if itype not in allowed:
            raise bad(f"messages[{i}].content[{j}]: invalid content type '{itype}' for role '{role}'; expected "
                      f"one of {sorted(allowed)}")
        if itype == "text":
            if not isinstance(item.get("text"), str):
                raise bad(f"messages[{i}].content[{j}].text is required")
            texts.append(item["text"])
        elif itype == "image_url" and not isinstance((item.get("image_url") or {}).get("url"), str):
            raise bad(f"messages[{i}].content[{j}].image_url.url is required")
        elif itype == "document":
            texts.append(str((item.get("document") or {}).get("data", "")))
    return "\n".join(texts)


def _messages(messages: Any, p: Parsed) -> None:
    if not isinstance(messages, list) or not messages:
        raise bad("messages must not be empty")
    known_calls: set[str] = set()
    billed: list[str] = []
    seen_other = False
    for i, msg in enumerate(messages):
        role = msg.get("role") if isinstance(msg, dict) else None
        if role not in ("system", "user", "assistant", "tool"):
            raise bad(f"messages[{i}].role: invalid role '{role}'; expected one of system, user, assistant, tool")
        if role == "system" and seen_other:
            raise bad("system turn must be the first in the list")
        seen_other = seen_other or role != "system"
        if role == "tool":
            call_id = msg.get("tool_call_id")
            if not call_id:
                raise bad("tool call id must be provided with tool message")
            if call_id not in known_calls:
                raise bad(f"tool call id not found in previous tool calls: {call_id}")
        text = "" if role == "assistant" and msg.get("content") is None else _content_text(msg.get("content"), role, i)
        p.prompt.texts.append(text)
        if role == "user":
            p.prompt.last_user_text = text
            billed.append(text)
        for j, call in enumerate(msg.get("tool_calls") or [] if role == "assistant" else []):
            fn = call.get("function") if isinstance(call, dict) else None
            if not call.get("id") or not isinstance(fn, dict) or not isinstance(fn.get("arguments"), str):
                raise bad(f"messages[{i}].tool_calls[{j}] must have id and function.arguments")
            known_calls.add(call["id"])
            p.prompt.texts.append(fn["arguments"])
        if role == "assistant" and isinstance(msg.get("tool_plan"), str):
            p.prompt.texts.append(msg["tool_plan"])
    tail = []
    for msg in reversed(messages):
        if msg.get("role") != "tool":
            break
        tail.append(_content_text(msg.get("content"), "tool", 0))
    if tail:
        p.prompt.tool_result = "\n".join(reversed(tail))
    p.billed_input = fm.count_all(billed)


def _tools(body: dict[str, Any], p: Parsed) -> None:
    for i, tool in enumerate(body.get("tools") or []):
        fn = tool.get("function") if isinstance(tool, dict) and tool.get("type") == "function" else None
        if not isinstance(fn, dict) or not isinstance(fn.get("name"), str) or not _TOOL_NAME.match(fn["name"]):
            raise bad(f"tools[{i}]: expected {{type: function, function: {{name, description, parameters}}}}")
        p.prompt.tools.append(fm.Tool(fn["name"], fn.get("parameters") or {"type": "object", "properties": {}}))
    choice = body.get("tool_choice")
    if choice is not None:
        if choice not in ("REQUIRED", "NONE"):
            raise bad(f"tool_choice must be one of REQUIRED, NONE; got {choice!r}")
        if not p.prompt.tools:
            raise bad("tool_choice requires tools to be specified")
        p.prompt.tool_choice = choice.lower()


def _documents(body: dict[str, Any], p: Parsed) -> None:
    docs = body.get("documents")
    if docs is None:
        return
    if not isinstance(docs, list):
        raise bad("documents must be a list")
    for i, doc in enumerate(docs):
        if isinstance(doc, str):
            p.documents.append({"id": f"doc:{i}", "title": f"Document {i}", "url": "", "snippet": doc[:200]})
            p.prompt.texts.append(doc)
        elif isinstance(doc, dict) and isinstance(doc.get("data"), dict):
            data = doc["data"]
            snippet = str(data.get("snippet") or data.get("text") or data.get("content") or "")
            p.documents.append({"id": str(doc.get("id") or f"doc:{i}"), "title": str(data.get("title", "")),
                                "url": str(data.get("url", "")), "snippet": snippet[:200]})
            p.prompt.texts.append(" ".join(str(v) for v in data.values()))
        else:
            raise bad(f"documents[{i}] must be a string or an object with 'data'")


def parse(body: Any) -> Parsed:
    """Validate a /v2/chat body and build the neutral prompt."""
    if not isinstance(body, dict):
        raise bad("the request body must be a JSON object")
    for key in body:
        if key not in _TOP:
            raise bad(f"unknown field: parameter '{key}' is not a valid field")
    if not isinstance(body.get("model"), str) or not body["model"]:
        raise bad("model is required")
    stops = body.get("stop_sequences")
    if stops is not None and (not isinstance(stops, list) or len(stops) > 5):
        raise bad("stop_sequences must be a list of at most 5 strings")
    max_tokens = body.get("max_tokens")
    if max_tokens is not None and (not isinstance(max_tokens, int) or max_tokens < 1):
        raise bad("max_tokens must be a positive integer")
    _range(body, "temperature", 0, 5)
    _range(body, "p", 0.01, 0.99)
    _range(body, "k", 0, 500)
    _range(body, "frequency_penalty", 0, 1)
    _range(body, "presence_penalty", 0, 1)
    p = Parsed(fm.Prompt(model=body["model"], max_tokens=max_tokens, stop=list(stops or [])))
    _messages(body.get("messages"), p)
    _tools(body, p)
    _documents(body, p)
    fmt = body.get("response_format")
    if fmt is not None:
        ftype = fmt.get("type") if isinstance(fmt, dict) else None
        if ftype not in ("text", "json_object"):
            raise bad(f"response_format.type must be one of text, json_object; got {ftype!r}")
        if ftype == "json_object":
            if p.prompt.tools or p.documents:
                raise bad("response_format is not supported in combination with the documents or tools parameters")
            schema = fmt.get("json_schema")
            if schema is not None:
                p.prompt.json_schema = schema
            else:
                p.prompt.json_mode = True
    thinking = body.get("thinking")
    enabled = bool(_REASONING.search(p.prompt.model))
    if thinking is not None:
        ttype = thinking.get("type") if isinstance(thinking, dict) else None
        if ttype not in ("enabled", "disabled"):
            raise bad("thinking.type must be one of enabled, disabled")
        budget = thinking.get("token_budget")
        if budget is not None and (not isinstance(budget, int) or budget < 1):
            raise bad("thinking.token_budget must be a positive integer")
        enabled = ttype == "enabled"
    p.prompt.thinking = enabled
    p.want_citation = bool(p.documents) or bool(re.search(r"\bcite\b", p.prompt.last_user_text, re.IGNORECASE))
    return p
