"""Folding chunks into one message the way a client does, extensions included.

The OpenAI SDK's accumulator (tests.oracles.openai_types.accumulate) folds the
standard fields; this one also folds our documented extensions (reasoning_content,
thinking_blocks, extra_content) so streams can be compared with their non-stream twin.
"""
from __future__ import annotations

from typing import Any


def fold(chunks: list[dict]) -> dict:
    """-> {content, reasoning_content, thinking_blocks, tool_calls, finish_reason, usage, roles}"""
    out: dict[str, Any] = {"content": None, "reasoning_content": None, "thinking_blocks": [],
                           "tool_calls": [], "finish_reason": None, "usage": None, "roles": []}
    calls: dict[int, dict] = {}
    for chunk in chunks:
        if chunk.get("usage"):
            out["usage"] = chunk["usage"]
        for choice in chunk["choices"]:
            delta = choice.get("delta") or {}
            if "role" in delta:
                out["roles"].append(delta["role"])
            for key in ("content", "reasoning_content"):
                if delta.get(key):
                    out[key] = (out[key] or "") + delta[key]
            out["thinking_blocks"].extend(delta.get("thinking_blocks") or ())
            for call in delta.get("tool_calls") or ():
                slot = calls.setdefault(call["index"], {"id": None, "name": None, "arguments": "",
                                                        "extra_content": None})
                if call.get("id"):
                    assert slot["id"] is None, "tool call id sent twice"
                    slot["id"] = call["id"]
                fn = call.get("function") or {}
                if fn.get("name"):
                    slot["name"] = fn["name"]
                slot["arguments"] += fn.get("arguments") or ""
                if call.get("extra_content"):
                    slot["extra_content"] = call["extra_content"]
            if choice.get("finish_reason"):
                assert out["finish_reason"] is None, "two finish chunks"
                out["finish_reason"] = choice["finish_reason"]
    out["tool_calls"] = [calls[i] for i in sorted(calls)]
    return out
