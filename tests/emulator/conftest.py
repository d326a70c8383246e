"""Shared fixtures: one emulator per test module on 127.0.0.1, plus small SSE helpers."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Iterator

import httpx
import orjson
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from emulator import serve_in_thread  # noqa: E402


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    with serve_in_thread() as url:
        yield url


@pytest.fixture(scope="module")
def client(base_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base_url, timeout=5) as c:
        yield c


def sse_data(text: str, sep: str = "\n\n") -> list[str]:
    """The `data:` payloads of an SSE body, in order."""
    out = []
    for event in text.split(sep):
        for line in event.splitlines():
            if line.startswith("data: "):
                out.append(line[6:])
    return out


def sse_named(text: str) -> list[tuple[str, dict[str, Any]]]:
    """(event name, parsed data) pairs of an SSE body with `event:` lines."""
    out = []
    for event in text.strip().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in event.splitlines() if ": " in line)
        out.append((lines["event"], orjson.loads(lines["data"])))
    return out


WEATHER = {"type": "function", "function": {"name": "get_weather", "description": "Weather for a city", "parameters": {
    "type": "object", "properties": {"city": {"type": "string"}, "unit": {"type": "string", "enum": ["c", "f"]}},
    "required": ["city", "unit"], "additionalProperties": False}}}


def user(text: str) -> list[dict[str, Any]]:
    return [{"role": "user", "content": text}]


def chunk_payloads(text: str) -> list[dict[str, Any]]:
    """Parsed `data:` chunks of an OpenAI-style stream, which must end with `data: [DONE]`."""
    data = sse_data(text)
    assert data[-1] == "[DONE]"
    return [orjson.loads(d) for d in data[:-1]]


def stream_text(chunks: list[dict[str, Any]], field: str = "content") -> str:
    return "".join(c["choices"][0]["delta"].get(field) or "" for c in chunks
                   if c.get("choices") and "delta" in c["choices"][0])


def stream_args(chunks: list[dict[str, Any]]) -> str:
    return "".join(tc["function"].get("arguments") or "" for c in chunks if c.get("choices")
                   for tc in c["choices"][0].get("delta", {}).get("tool_calls") or [])


def finish_reasons(chunks: list[dict[str, Any]]) -> list[Any]:
    return [c["choices"][0]["finish_reason"] for c in chunks if c.get("choices")
            and c["choices"][0].get("finish_reason") is not None]
