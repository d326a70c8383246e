"""Gemini API / Vertex AI generateContent oracles from the official `google-genai` types (tested: 3.6.1).

The SDK has no model for the REST body (it builds it with converters), so GenerateContentRequest
below is composed from the SDK's own part models. Why the recipe looks the way it does:
  * by_alias=True, by_name=False: camelCase only (genai models set populate_by_name=True).
    `Part` has a custom __init__ that ignores by_name, so the round-trip diff catches it there.
  * extra='forbid' is inherited from genai's BaseModel: unknown keys at any depth are errors.
  * warnings -> errors: genai enums are case-insensitive and an unknown value only *warns*.
  * NOT strict=True: genai models have a mode='before' validator, so strict rejects every datetime
    string and base64 bytes field. Instead a round-trip diff (exclude_unset) catches coercion
    ("0.2" -> 0.2) and enum case normalization ("auto" -> "AUTO").
  * the diff compares numbers numerically (40 == 40.0) and base64 after decoding (pydantic
    re-encodes bytes with the URL-safe alphabet).
Misses (check by hand): `role` is a plain str ("assistant" passes), Part one-of, empty parts.
"""
from __future__ import annotations

import base64
import binascii
import json
import warnings
from typing import Any, Iterator, Optional

from google.genai import _common, types
from pydantic import ValidationError

from ._common import OracleError, summarize

__all__ = ["GenerateContentRequest", "OracleError", "check_request", "check_response"]


class GenerateContentRequest(_common.BaseModel):
    """Body of POST .../models/{model}:generateContent (and :streamGenerateContent)."""

    contents: list[types.Content]
    system_instruction: Optional[types.Content] = None
    generation_config: Optional[types.GenerationConfig] = None
    tools: Optional[list[types.Tool]] = None
    tool_config: Optional[types.ToolConfig] = None
    safety_settings: Optional[list[types.SafetySetting]] = None
    cached_content: Optional[str] = None
    labels: Optional[dict[str, str]] = None  # Vertex AI only


def _b64(s: str) -> bytes:
    s = s.replace("+", "-").replace("/", "_")
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def _same_b64(a: str, b: str) -> bool:
    try:
        return _b64(a) == _b64(b)
    except (binascii.Error, ValueError):
        return False


def _diff(a: Any, b: Any, path: str = "") -> Iterator[str]:
    """Differences between what we sent (a) and the SDK model's re-dump (b)."""
    if isinstance(a, dict) and isinstance(b, dict):
        for k in a:
            if k not in b:
                yield f"{path}.{k}: dropped or renamed by the SDK model (snake_case? null?)"
            else:
                yield from _diff(a[k], b[k], f"{path}.{k}")
        for k in b.keys() - a.keys():
            yield f"{path}.{k}: added by the SDK model"
    elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            yield from _diff(x, y, f"{path}[{i}]")
    elif isinstance(a, bool) or isinstance(b, bool):
        if a is not b:
            yield f"{path}: {a!r} -> {b!r}"
    elif isinstance(a, (int, float)) and isinstance(b, (int, float)):
        if a != b:
            yield f"{path}: {a!r} -> {b!r}"
    elif isinstance(a, str) and isinstance(b, str):
        if a != b and not _same_b64(a, b):
            yield f"{path}: {a!r} -> {b!r}"
    elif a != b or type(a) is not type(b):
        yield f"{path}: {a!r} -> {b!r} (coerced)"


def _check(model: type, d: dict, where: str):
    if not isinstance(d, dict):
        raise OracleError(f"{where}: expected a JSON object, got {type(d).__name__}")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            m = model.model_validate_json(json.dumps(d), by_alias=True, by_name=False)
    except ValidationError as e:
        raise OracleError(f"{where}: {summarize(e)}") from None
    except Warning as w:  # unknown enum value: the SDK only warns and keeps it
        raise OracleError(f"{where}: {w}") from None
    back = json.loads(m.model_dump_json(by_alias=True, exclude_unset=True))
    problems = list(_diff(d, back))
    if problems:
        raise OracleError(f"{where}: not wire-exact: " + "; ".join(problems[:6]))
    return m


def check_request(body: dict) -> GenerateContentRequest:
    """A generateContent request body in canonical form: camelCase keys, exact enum case."""
    return _check(GenerateContentRequest, body, "GenerateContentRequest")


def check_response(resp: dict) -> types.GenerateContentResponse:
    """A response body, or one streamGenerateContent?alt=sse event's data. Stricter than the SDK
    at run time (which strips unknown fields): unknown fields and bad finishReason are errors."""
    return _check(types.GenerateContentResponse, resp, "GenerateContentResponse")
