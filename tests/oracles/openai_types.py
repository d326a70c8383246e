"""OpenAI Chat Completions oracles built from the official `openai` SDK types (tested: openai 3.57).

Why strict: the SDK's BaseModel is `extra="allow"` and lax (``"created": "1700000000"`` passes),
so typos land in `model_extra` and pass. pydantic >= 2.12 per-call overrides
``strict=True, extra="forbid"`` reach every nested model and close both holes.

Our documented extensions are tolerated only when named in `extra_ok` and only at their known
location; their values are then shape-checked by hand (the SDK has no type for them):

  ====================== =============================================================
  key                    location
  ====================== =============================================================
  reasoning_content      choices[].message / choices[].delta          (str)
  thinking_blocks        choices[].message / choices[].delta          (list of blocks)
  extra_content          choices[].message.tool_calls[] / delta.tool_calls[]  (object)
  provider_finish_reason choices[]                                    (str | null)
  prompt_filter_results  <root> (Azure OpenAI content filter)         (list of objects)
  content_filter_results choices[] (Azure OpenAI content filter)      (object)
  provider_fields        <root> (raw provider extras kept whole, e.g.  (object)
                         Cohere / Perplexity citations)
  ====================== =============================================================

Any other key may be allowed with an explicit location prefix: ``"completion.x"``,
``"choice.x"``, ``"message.x"`` (message and delta) or ``"tool_call.x"`` (value not checked).
"""
from __future__ import annotations

import copy
import json
from typing import Any, Iterable

from openai._streaming import SSEDecoder  # private but long-lived; the SDK is pinned in tests
from openai.lib.streaming.chat import ChatCompletionStreamState
from openai.types.chat import ChatCompletion, ChatCompletionChunk
from openai.types.chat.completion_create_params import CompletionCreateParams
from pydantic import TypeAdapter, ValidationError

from ._common import OracleError, fail, materialize

__all__ = [
    "DOCUMENTED_EXTENSIONS", "OracleError", "accumulate", "check_chat_completion", "check_chunk",
    "check_create_params", "decode_sse", "required_nullable_present",
]

# Module level on purpose: an adapter collected before its lazy iterators are consumed
# makes pydantic-core 2.50 panic (PanicException, a BaseException).
_CREATE = TypeAdapter(CompletionCreateParams)

LOCATIONS = ("completion", "choice", "message", "tool_call", "delta")
EXTENSION_LOCATION = {
    "reasoning_content": "message",
    "thinking_blocks": "message",
    "extra_content": "tool_call",
    "provider_finish_reason": "choice",
    "prompt_filter_results": "completion",
    "content_filter_results": "choice",
    "provider_fields": "completion",
    "annotations": "delta",   # streamed citations (message.annotations is standard; delta has no such field)
}
DOCUMENTED_EXTENSIONS: frozenset[str] = frozenset(EXTENSION_LOCATION)


def _by_location(extra_ok: Iterable[str]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {loc: set() for loc in LOCATIONS}
    for name in extra_ok:
        loc, dot, key = name.partition(".")
        if dot and loc in out:
            out[loc].add(key)
        elif name in EXTENSION_LOCATION:
            out[EXTENSION_LOCATION[name]].add(name)
        else:
            raise ValueError(f"extra_ok: {name!r} is not a documented extension; use '<location>.{name}' "
                             f"with location in {LOCATIONS}")
    return out


def _check_extension(key: str, value: Any, where: str) -> None:
    """Hand-written shape checks for the extension values (no SDK type exists for them)."""
    if key == "reasoning_content":
        if not isinstance(value, str):
            raise OracleError(f"{where}.reasoning_content: expected str, got {type(value).__name__}")
    elif key == "thinking_blocks":
        if not isinstance(value, list):
            raise OracleError(f"{where}.thinking_blocks: expected list, got {type(value).__name__}")
        for i, b in enumerate(value):
            p = f"{where}.thinking_blocks.{i}"
            want = {"thinking": ("thinking", "signature"), "redacted_thinking": ("data",)}
            if not isinstance(b, dict) or b.get("type") not in want:
                raise OracleError(f"{p}: expected {{type: thinking|redacted_thinking, ...}}, got {b!r}")
            keys = {"type", *want[b["type"]]}
            if set(b) != keys:
                raise OracleError(f"{p}: keys {sorted(b)} != {sorted(keys)}")
            for k in keys - {"type"}:
                if not isinstance(b[k], str):
                    raise OracleError(f"{p}.{k}: expected str, got {type(b[k]).__name__}")
    elif key == "extra_content":
        if not isinstance(value, dict):
            raise OracleError(f"{where}.extra_content: expected object, got {type(value).__name__}")
    elif key == "provider_finish_reason":
        if value is not None and not isinstance(value, str):
            raise OracleError(f"{where}.provider_finish_reason: expected str|null, got {type(value).__name__}")
    elif key == "prompt_filter_results":
        if not isinstance(value, list) or not all(isinstance(r, dict) for r in value):
            raise OracleError(f"{where}.prompt_filter_results: expected a list of objects, got {value!r}")
    elif key == "content_filter_results":
        if not isinstance(value, dict):
            raise OracleError(f"{where}.content_filter_results: expected object, got {type(value).__name__}")
    elif key == "annotations":
        if not isinstance(value, list) or not all(
                isinstance(a, dict) and a.get("type") == "url_citation" and isinstance(a.get("url_citation"), dict)
                for a in value):
            raise OracleError(f"{where}.annotations: expected url_citation entries, got {value!r}")
    elif key == "provider_fields":
        if not isinstance(value, dict) or not value:
            raise OracleError(f"{where}.provider_fields: expected a non-empty object, got {value!r}")


def _strip(obj: Any, allowed: set[str], where: str) -> None:
    if not isinstance(obj, dict):
        return
    for key in allowed & obj.keys():
        _check_extension(key, obj.pop(key), where)


def _strip_extensions(d: dict, extra_ok: Iterable[str], inner: str) -> dict:
    """Copy `d` with the allowed extension keys removed at their known locations (and checked)."""
    locs = _by_location(extra_ok)
    d = copy.deepcopy(d)
    _strip(d, locs["completion"], "<root>")
    for i, ch in enumerate(d.get("choices") or [] if isinstance(d, dict) else []):
        _strip(ch, locs["choice"], f"choices.{i}")
        msg = ch.get(inner) if isinstance(ch, dict) else None
        _strip(msg, locs["message"], f"choices.{i}.{inner}")
        if inner == "delta":
            _strip(msg, locs["delta"], f"choices.{i}.delta")
        tcs = msg.get("tool_calls") if isinstance(msg, dict) else None
        for j, tc in enumerate(tcs if isinstance(tcs, list) else []):
            _strip(tc, locs["tool_call"], f"choices.{i}.{inner}.tool_calls.{j}")
    return d


def required_nullable_present(d: dict) -> list[str]:
    """Fields the wire always carries (possibly null) but the SDK defaults, so a missing key
    validates: message `content` (completion) and choice `finish_reason` (chunk)."""
    problems = []
    for i, ch in enumerate(d.get("choices") or []):
        if not isinstance(ch, dict):
            continue
        if "message" in ch and isinstance(ch["message"], dict) and "content" not in ch["message"]:
            problems.append(f"choices.{i}.message.content: key missing (send null)")
        if "delta" in ch and "finish_reason" not in ch:
            problems.append(f"choices.{i}.finish_reason: key missing (send null)")
    return problems


def _validate(model: type, d: dict, where: str):
    if not isinstance(d, dict):
        raise OracleError(f"{where}: expected a JSON object, got {type(d).__name__}")
    try:
        return model.model_validate(d, strict=True, extra="forbid")
    except ValidationError as e:
        raise fail(where, e) from None


def check_chat_completion(d: dict, extra_ok: Iterable[str] = frozenset()) -> ChatCompletion:
    """A non-streaming response body. Returns the validated SDK object (extensions stripped)."""
    out = _validate(ChatCompletion, _strip_extensions(d, extra_ok, "message"), "ChatCompletion")
    missing = required_nullable_present(d)
    if missing:
        raise OracleError("ChatCompletion: " + "; ".join(missing))
    return out


def check_chunk(d: dict, extra_ok: Iterable[str] = frozenset()) -> ChatCompletionChunk:
    """One `data:` payload of a stream. Returns the validated SDK object (extensions stripped)."""
    out = _validate(ChatCompletionChunk, _strip_extensions(d, extra_ok, "delta"), "ChatCompletionChunk")
    missing = required_nullable_present(d)
    if missing:
        raise OracleError("ChatCompletionChunk: " + "; ".join(missing))
    return out


def check_create_params(req: dict) -> dict:
    """An incoming request vs CompletionCreateParams (Union of the streaming / non-streaming
    TypedDicts), strict, no unknown keys, with every lazy Iterable forced."""
    try:
        out = _CREATE.validate_python(req, strict=True, extra="forbid")
    except ValidationError as e:
        raise fail("CompletionCreateParams", e) from None
    return materialize(out, "CompletionCreateParams")


def accumulate(chunks: Iterable[dict], extra_ok: Iterable[str] = frozenset()) -> ChatCompletion:
    """Fold chunks with the SDK's own accumulator (what `client.chat.completions.stream()` uses),
    so a test can compare the result with the non-streaming translation."""
    state = ChatCompletionStreamState()
    for c in chunks:
        for _ in state.handle_chunk(check_chunk(c, extra_ok)):
            pass
    d = state.get_final_completion().model_dump(mode="json")
    # ParsedChatCompletion -> plain ChatCompletion: drop the parse helpers and the stream-only
    # tool_calls[].index, so `==` against the non-streaming result is meaningful.
    for ch in d["choices"]:
        ch["message"].pop("parsed", None)
        for tc in ch["message"].get("tool_calls") or []:
            tc.pop("index", None)
            tc.get("function", {}).pop("parsed_arguments", None)
    return _validate(ChatCompletion, d, "accumulated ChatCompletion")


def assert_twins_agree(chunks: list[dict], output: dict, chunk_extra: Iterable[str] = frozenset(),
                       extra: Iterable[str] = frozenset(), same_model: bool = False) -> None:
    """A stream and the non-streaming answer to the same request say the same thing: id, finish
    reasons, text and tool calls (ids included), and usage when the stream reports it."""
    folded = accumulate([c for c in chunks if c["choices"]], extra_ok=chunk_extra).model_dump(mode="json")
    single = check_chat_completion(output, extra_ok=extra).model_dump(mode="json")
    assert folded["id"] == single["id"]
    if same_model:
        assert folded["model"] == single["model"]
    for got, want in zip(folded["choices"], single["choices"], strict=True):
        assert got["finish_reason"] == want["finish_reason"]
        assert (got["message"]["content"] or None) == want["message"]["content"]
        assert got["message"]["tool_calls"] == want["message"]["tool_calls"]
    usage = [c["usage"] for c in chunks if not c["choices"]]
    if usage:
        assert usage == [output["usage"]]


def decode_sse(raw: bytes, piece: int = 7) -> list[dict]:
    """`data: {...}` lines up to `data: [DONE]`, via the SDK's SSE decoder fed in small pieces."""
    out: list[dict] = []
    done = False
    for sse in SSEDecoder().iter_bytes(raw[i:i + piece] for i in range(0, len(raw), piece)):
        if done:
            raise OracleError(f"SSE: data after [DONE]: {sse.data[:80]!r}")
        if sse.data == "[DONE]":
            done = True
            continue
        try:
            out.append(json.loads(sse.data))
        except json.JSONDecodeError as e:
            raise OracleError(f"SSE event {len(out)}: data is not JSON: {e}") from None
    if not done:
        raise OracleError("SSE: stream did not end with `data: [DONE]`")
    return out
