"""Rendering for the OpenAI-compatible variants: chat.completion bodies and `data:` chunk streams, with each
provider's departures (reasoning placement, finish reasons, usage placement and extras, Azure filter
annotations, Perplexity citations, DeepInfra pings)."""
from __future__ import annotations

import time
from typing import Any

import orjson

from emulator import fake_model as fm
from emulator.asgi import Request, Response, json_response, received_header
from emulator.dialects import azure_filters
from emulator.dialects.openai_variants import Variant, stream_error_body

_FINISH = {"end": "stop", "tool": "tool_calls", "length": "length", "stop_sequence": "stop"}
_ID_PREFIX = {"ai21": "chat-", "perplexity": "", "together": "", "deepinfra": "chatcmpl-"}
CITATIONS = ["https://example.com/emulated/source-1", "https://example.org/emulated/source-2"]
SEARCH_RESULTS = [{"title": "Emulated source one", "url": CITATIONS[0], "date": "2025-01-15"},
                  {"title": "Emulated source two", "url": CITATIONS[1], "date": None}]


def _finish(v: Variant, reply: fm.Reply, filtered: bool = False) -> str:
    if filtered:
        return "content_filter"
    return v.finish.get(reply.stop_reason, _FINISH[reply.stop_reason])


def _reasoning(v: Variant, model: str, reply: fm.Reply) -> tuple[str, str | None]:
    """(content prefix, reasoning text for the variant's reasoning field)."""
    if reply.thinking is None:
        return "", None
    if v.inline_think and v.inline_think.search(model):
        return f"<think>\n{reply.thinking}\n</think>\n\n", None
    if v.reasoning_out != "hidden" and (v.visible is None or v.visible.search(model)):
        return "", reply.thinking
    return "", None


def _usage(v: Variant, replies: list[fm.Reply]) -> dict[str, Any]:
    prompt = replies[0].input_tokens
    reasoning = sum(r.reasoning_tokens for r in replies)
    completion = sum(r.total_output_tokens for r in replies)
    total = prompt + completion
    if v.reasoning_excluded_from_completion:
        completion -= reasoning  # xAI: reasoning counted in total_tokens only
    usage: dict[str, Any] = {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": total}
    if v.name in ("together", "ai21", "perplexity"):
        if v.name == "perplexity":
            usage.update(citation_tokens=12, num_search_queries=1, search_context_size="low",
                         cost={"input_tokens_cost": 0.0, "output_tokens_cost": 0.0, "request_cost": 0.005,
                               "total_cost": 0.005})
            if reasoning:
                usage["reasoning_tokens"] = reasoning
        return usage
    usage["prompt_tokens_details"] = {"cached_tokens": 0, "audio_tokens": 0}
    usage["completion_tokens_details"] = {"reasoning_tokens": reasoning, "audio_tokens": 0,
                                          "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0}
    if v.timings == "groq":
        usage.update({"queue_time": 0.001, "prompt_time": 0.002, "completion_time": 0.003, "total_time": 0.006})
    elif v.timings == "sambanova":
        usage.update({"time_to_first_token": 0.01, "total_latency": 0.05, "total_tokens_per_sec": 400.0,
                      "completion_tokens_per_sec": 300.0, "acceptance_rate": 1, "start_time": 1700000000.0,
                      "end_time": 1700000000.05, "is_last_response": True, "stop_reason": "stop"})
    elif v.name == "deepinfra":
        usage["estimated_cost"] = 0.0000123
    return usage


def _time_info(created: int) -> dict[str, Any]:
    return {"queue_time": 0.0001, "prompt_time": 0.002, "completion_time": 0.004, "total_time": 0.0065,
            "created": created}


def _tool_calls(reply: fm.Reply) -> list[dict[str, Any]]:
    return [{"id": fm.stable_id("call_", c.seed, i), "type": "function",
             "function": {"name": c.name, "arguments": c.arguments_json}} for i, c in enumerate(reply.tool_calls)]


def _top(v: Variant, cid: str, created: int, model: str, obj: str) -> dict[str, Any]:
    if not v.openai_envelope_fields:
        return {"id": cid, "model": model}
    out: dict[str, Any] = {"id": cid, "object": obj, "created": created, "model": model}
    if v.name in ("openai", "azure", "groq", "cerebras", "xai", "sambanova"):
        out["system_fingerprint"] = "fp_emulator"
    return out


def completion(v: Variant, cid: str, created: int, model: str, replies: list[fm.Reply],
               filtered: bool = False) -> dict[str, Any]:
    choices = []
    for index, reply in enumerate(replies):
        prefix, reasoning = _reasoning(v, model, reply)
        text = prefix + reply.text
        message: dict[str, Any] = {"role": "assistant", "content": None if filtered or not text else text}
        if v.name in ("openai", "azure", "groq"):
            message.update(refusal=None, annotations=[])
        if reply.tool_calls and not filtered:
            calls = _tool_calls(reply)
            message["tool_calls"] = [dict(c, index=k) for k, c in enumerate(calls)] if v.name == "together" else calls
        if reasoning:
            message[v.reasoning_out] = reasoning
        choice = {"index": index, "message": message, "logprobs": None,
                  "finish_reason": _finish(v, reply, filtered)}
        if v.name == "azure":
            choice["content_filter_results"] = azure_filters.choice_results(filtered)
        elif v.name == "perplexity":  # one type serves both modes: non-stream choices carry a `delta` too
            choice["delta"] = {"role": "assistant", "content": ""}
        choices.append(choice)
    out = dict(_top(v, cid, created, model, "chat.completion"), choices=choices, usage=_usage(v, replies))
    if v.name == "openai":
        out["service_tier"] = "default"
    elif v.name == "azure":
        out["prompt_filter_results"] = azure_filters.prompt_filter_results()
    elif v.name == "groq":
        out["x_groq"] = {"id": cid.replace("chatcmpl-", "req_")}
    elif v.name == "cerebras":
        out["time_info"] = _time_info(created)
    elif v.name == "perplexity":
        out.update(citations=CITATIONS, search_results=SEARCH_RESULTS)
    elif v.name == "together":
        out["prompt"] = []
    return out


class _Chunks:
    """Collects stream chunks so per-variant decorations can be applied in one place."""

    def __init__(self, v: Variant, base: dict[str, Any], include_usage: bool) -> None:
        self.v, self.base, self.include_usage = v, base, include_usage
        self.items: list[dict[str, Any]] = []
        self.accumulated: dict[int, str] = {}

    def add(self, index: int, delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        v = self.v
        if v.name in ("together", "perplexity"):  # their SDK types make `role` required on every delta
            delta = {"role": "assistant", **delta}
        choice: dict[str, Any] = {"index": index, "delta": delta, "logprobs": None, "finish_reason": finish}
        if v.name == "azure":
            choice["content_filter_results"] = azure_filters.choice_results() if delta.get("content") else {}
        if v.name == "perplexity":  # full mode: every chunk also carries the message so far
            self.accumulated[index] = self.accumulated.get(index, "") + (delta.get("content") or "")
            choice["message"] = {"role": "assistant", "content": self.accumulated[index]}
        chunk = dict(self.base, choices=[choice])
        if self.include_usage or v.name in ("together", "ai21"):
            chunk["usage"] = None
        if v.name == "perplexity":
            chunk.update(citations=CITATIONS, search_results=SEARCH_RESULTS)
        self.items.append(chunk)
        return chunk


def stream(v: Variant, cid: str, created: int, model: str, replies: list[fm.Reply], body: dict[str, Any],
           filtered: bool = False) -> list[bytes]:
    include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
    out = _Chunks(v, _top(v, cid, created, model, "chat.completion.chunk"), include_usage)
    usage = _usage(v, replies)
    if v.name == "azure":
        out.items.append(azure_filters.prompt_annotation_chunk())
    for index, reply in enumerate(replies):
        first: dict[str, Any] = {"role": "assistant", "content": ""}
        if v.name in ("openai", "azure", "groq"):
            first["refusal"] = None
        out.add(index, first)
        if filtered:
            out.items.append(azure_filters.annotation_chunk(index, "content_filter", True, 0))
            continue
        prefix, reasoning = _reasoning(v, model, reply)
        for piece in fm.pieces(reasoning) if reasoning else []:
            out.add(index, {v.reasoning_out: piece})
        text = prefix + reply.text
        for piece in fm.pieces(text, 2) if text else []:
            out.add(index, {"content": piece})
        for k, call in enumerate(_tool_calls(reply)):
            if v.name in ("ai21", "together"):  # one whole call per delta (Together's chunk type requires it)
                out.add(index, {"tool_calls": [dict(call, index=k)]})
                continue
            out.add(index, {"tool_calls": [{"index": k, "id": call["id"], "type": "function",
                                            "function": {"name": call["function"]["name"], "arguments": ""}}]})
            for piece in fm.json_pieces(call["function"]["arguments"]):
                tc: dict[str, Any] = {"index": k, "function": {"arguments": piece}}
                if v.name == "cerebras":  # Cerebras repeats `type` on every tool-call delta (its SDK requires it)
                    tc["type"] = "function"
                out.add(index, {"tool_calls": [tc]})
        out.add(index, {}, _finish(v, reply))
        if v.name == "azure":
            out.items.append(azure_filters.annotation_chunk(index, None, False, len(text)))
    last = next(c for c in reversed(out.items) if c.get("id"))
    if v.stream_usage == "x_groq":
        last["x_groq"] = {"id": cid.replace("chatcmpl-", "req_"), "usage": usage}
    elif v.stream_usage == "finish_chunk" or v.name == "ai21":
        last["usage"] = usage
        if v.name == "cerebras":
            last["time_info"] = _time_info(created)
    elif v.stream_usage == "last_chunk":
        out.items.append(dict(out.base, choices=[], usage=usage))
    if include_usage and v.stream_usage in ("include", "x_groq"):
        out.items.append(dict(out.base, choices=[], usage=usage))
    frames = [b"data: " + orjson.dumps(c) + b"\n\n" for c in out.items]
    if v.ping:
        stamp = time.strftime("%Y-%m-%d %H:%M:%S.000000", time.gmtime(created)).encode()
        for at in range(len(frames) - 1, 0, -3):
            frames.insert(at, b": ping - " + stamp + b"\n\n")
    return frames + [b"data: [DONE]\n\n"]


def respond(req: Request, v: Variant, prompt: fm.Prompt, body: dict[str, Any], params: dict[str, Any]) -> Response:
    """Run the fake model and render the reply in the variant's shape."""
    replies = [fm.generate(prompt, i) for i in range(max(1, prompt.n))]
    filtered = v.name == "azure" and params.get("fault") == "filtered-output"
    cid = fm.stable_id(_ID_PREFIX.get(v.name, "chatcmpl-"), req.body.decode("utf-8", "replace"), length=29)
    created = int(time.time())
    summary = received_header(dialect=v.name, model=prompt.model, stream=bool(body.get("stream")),
                              tools=len(prompt.tools), tool_choice=prompt.tool_choice,
                              messages=len(body.get("messages", [])))
    if body.get("stream"):
        return Response(200, [("content-type", "text/event-stream"), summary],
                        events=stream(v, cid, created, prompt.model, replies, body, filtered), framing="sse",
                        error_event=b"data: " + orjson.dumps(stream_error_body(v)) + b"\n\n")
    return json_response(200, completion(v, cid, created, prompt.model, replies, filtered), [summary])
