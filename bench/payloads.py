"""The inputs every translation row is timed on, per provider dialect.

* request: one "typical" chat request (system + user, an assistant tool call, its tool
  result; 2 tools; max_tokens, temperature), as the JSON bytes a gateway receives;
* response: the recorded non-stream body `tests/fixtures/<provider>/tools.1.json` (compact bytes);
* stream: the recorded events `tests/fixtures/<provider>/tools.1.chunks.txt`, re-framed as the
  provider sends them (SSE, named SSE, or AWS event-stream frames) by tests/support/wire.py.
"""
from __future__ import annotations

from dataclasses import dataclass

import orjson

from tests.support.wire import FIXTURES, fixture_events, frame

CASE = "tools.1"
MODELS = {"openai": "gpt-4.1",
          "groq": "llama-3.3-70b-versatile",
          "anthropic": "claude-sonnet-4-5-20250929",
          "gemini": "gemini-2.5-flash",
          "bedrock": "anthropic.claude-3-5-sonnet-20240620-v1:0"}
DIALECTS = tuple(MODELS)

_ARGS = {"type": "object", "required": ["city"],
         "properties": {"city": {"type": "string"}, "unit": {"type": "string", "enum": ["c", "f"]}}}
TYPICAL = {
    "model": "",
    "messages": [
        {"role": "system", "content": "You are a concise travel assistant."},
        {"role": "user", "content": "Is it warm in Lisbon right now, and what time is it there?"},
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "call_01", "type": "function",
             "function": {"name": "get_weather", "arguments": "{\"city\":\"Lisbon\",\"unit\":\"c\"}"}}]},
        {"role": "tool", "tool_call_id": "call_01", "content": "{\"temp\":24,\"sky\":\"sunny\"}"},
    ],
    "tools": [
        {"type": "function", "function": {"name": "get_weather", "description": "Current weather in a city",
                                          "parameters": _ARGS}},
        {"type": "function", "function": {"name": "get_local_time", "description": "Local time in a city",
                                          "parameters": {**_ARGS, "properties": {"city": {"type": "string"}}}}},
    ],
    "max_tokens": 512,
    "temperature": 0.3,
}


@dataclass(frozen=True)
class Payload:
    provider: str
    model: str
    request: dict            # the OpenAI body (read-only: copy before handing it to litellm)
    request_bytes: bytes
    stream_request: dict     # the same body with stream + include_usage
    response_bytes: bytes
    stream_bytes: bytes      # the whole recorded stream, framed as on the wire
    event_bytes: tuple       # each recorded event's JSON payload (the stream floor's input)


def build(sb) -> dict[str, Payload]:
    """`sb` is a loaded engine: its dialects say how each provider frames a stream."""
    out = {}
    for provider, model in MODELS.items():
        dialect = sb.dialect(provider)
        request = {**TYPICAL, "model": model}
        events = fixture_events(provider, CASE)
        raw = frame(dialect.framing, events, named=dialect.event_type is not None)
        if dialect.done:
            raw += f"data: {dialect.done}\n\n".encode()
        response = orjson.dumps(orjson.loads((FIXTURES / provider / f"{CASE}.json").read_bytes()))
        out[provider] = Payload(
            provider, model, request, orjson.dumps(request),
            {**request, "stream": True, "stream_options": {"include_usage": True}},
            response, raw, tuple(orjson.dumps(e) for e in events))
    return out
