"""Deterministic fake model shared by all dialects: each dialect parses its wire request into a
`Prompt`, the model answers with a `Reply`, and the dialect renders that in its own wire shape."""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Any

import orjson

from emulator.schema_gen import generate as generate_instance


@dataclass
class Tool:
    name: str
    schema: dict[str, Any]


@dataclass
class Prompt:
    """What the model needs to know, independent of the wire dialect."""

    model: str
    texts: list[str] = field(default_factory=list)  # every input text, for token counting
    last_user_text: str = ""
    tool_result: str | None = None  # set when the conversation ends with tool result(s)
    tools: list[Tool] = field(default_factory=list)
    tool_choice: str = "auto"  # auto | none | required | tool
    forced_tool: str | None = None
    json_mode: bool = False
    json_schema: dict[str, Any] | None = None
    thinking: bool = False
    max_tokens: int | None = None
    stop: list[str] = field(default_factory=list)
    n: int = 1


@dataclass
class ToolCall:
    name: str
    args: dict[str, Any]
    seed: str  # stable input for ids

    @property
    def arguments_json(self) -> str:
        return orjson.dumps(self.args).decode()


@dataclass
class Reply:
    text: str
    thinking: str | None
    tool_calls: list[ToolCall]
    stop_reason: str  # end | tool | length | stop_sequence
    stop_sequence: str | None
    input_tokens: int
    output_tokens: int  # visible output (text + tool args)
    reasoning_tokens: int

    @property
    def total_output_tokens(self) -> int:
        return self.output_tokens + self.reasoning_tokens


_WORD = re.compile(r"\S+")


def count_tokens(text: str) -> int:
    """Deterministic 'tokenizer': whitespace-separated words."""
    return len(_WORD.findall(text))


def count_all(texts: list[str]) -> int:
    return max(1, sum(count_tokens(t) for t in texts))


def stable_id(prefix: str, *parts: object, length: int = 24) -> str:
    digest = hashlib.sha256(orjson.dumps([str(p) for p in parts])).hexdigest()
    return prefix + digest[:length]


def pieces(text: str, words: int = 2) -> list[str]:
    """Split text into stream deltas of a few words each; joining them gives back the text exactly."""
    parts = re.findall(r"\S+\s*|\s+", text)
    out = ["".join(parts[i:i + words]) for i in range(0, len(parts), words)]
    return out or [""]


def json_pieces(text: str, size: int = 7) -> list[str]:
    """Split a JSON string into fragments that are not valid JSON on their own."""
    return [text[i:i + size] for i in range(0, len(text), size)] or [""]


def _choose_tool(p: Prompt) -> Tool | None:
    if not p.tools or p.tool_choice == "none":
        return None
    if p.tool_choice == "tool" and p.forced_tool:
        return next((t for t in p.tools if t.name == p.forced_tool), None)
    if p.tool_result is not None:
        # after a tool result the model answers; when it must call a tool (any / required), it
        # calls the last one offered (a gateway's JSON-mode tool comes after the client's)
        return p.tools[-1] if p.tool_choice == "required" else None
    return p.tools[0]


def _answer_text(p: Prompt, index: int) -> str:
    base = p.last_user_text.strip() or "(no text)"
    if p.tool_result is not None:
        sentence = f"The tool returned: {p.tool_result.strip()[:300]}"
    else:
        sentence = f"You said: {base}"
    if index:
        sentence = f"[{index}] {sentence}"
    if p.json_schema is not None:
        return orjson.dumps(generate_instance(p.json_schema)).decode()
    if p.json_mode:
        return orjson.dumps({"reply": sentence}).decode()
    return sentence


def _truncate(text: str, max_words: int) -> str:
    parts = re.findall(r"\S+\s*", text)
    return "".join(parts[:max_words]).rstrip()


def generate(p: Prompt, index: int = 0) -> Reply:
    """The whole model: pick a tool call or an echo answer, apply stops and limits, count tokens."""
    thinking = None
    if p.thinking:
        thinking = (f"The user wrote {count_tokens(p.last_user_text)} words. "
                    f"I should {'use a tool' if _choose_tool(p) else 'answer directly'} and keep it short.")
    reasoning_tokens = count_tokens(thinking) if thinking else 0
    input_tokens = count_all(p.texts)
    tool = _choose_tool(p)
    if tool is not None:
        args = generate_instance(tool.schema) if tool.schema else {}
        if not isinstance(args, dict):
            args = {}
        call = ToolCall(tool.name, args, f"{p.model}|{p.last_user_text}|{index}")
        out = max(1, count_tokens(call.arguments_json.replace(",", " ")))
        return Reply("", thinking, [call], "tool", None, input_tokens, out, reasoning_tokens)
    text = _answer_text(p, index)
    stop_reason, matched = "end", None
    for seq in p.stop:
        if seq and seq in text:
            text, stop_reason, matched = text[:text.index(seq)], "stop_sequence", seq
            break
    if p.max_tokens is not None and count_tokens(text) > p.max_tokens:
        text, stop_reason, matched = _truncate(text, p.max_tokens), "length", None
    return Reply(text, thinking, [], stop_reason, matched, input_tokens, max(1, count_tokens(text)), reasoning_tokens)
