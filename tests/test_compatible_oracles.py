"""Spec examples of the OpenAI-compatible providers, checked by code nobody here wrote.

For every example of the six compatible specs (cerebras, sambanova, perplexity-ai,
together-ai, xai, deepinfra):
- the client request is a valid OpenAI request (our documented extensions set aside);
- the provider body passes the provider SDK's own request types (strict, no unknown keys,
  lazy iterables forced), where the provider publishes a Python SDK with request types:
  cerebras-cloud-sdk, sambanova, perplexityai, together. xAI's SDK is gRPC and DeepInfra
  has none; both document OpenAI's own request body, so theirs is checked against it;
- every output and chunk passes the OpenAI SDK's strict response types. Perplexity's
  completions may carry the documented extension `provider_fields` (its raw citations
  and search_results), allowed at the completion level only.
"""
from __future__ import annotations

import importlib
from typing import Any, Callable

import pytest
from pydantic import TypeAdapter, ValidationError

from engine.loader import SpecFiles, bundled_root
from tests.oracles._common import OracleError, fail, materialize
from tests.oracles.openai_types import check_chat_completion, check_chunk, check_create_params
from tests.test_example_oracles import EXT, without_extensions

FILES = SpecFiles(bundled_root())
SPECS = ("cerebras", "sambanova", "perplexity-ai", "together-ai", "xai", "deepinfra")
EXTRA_OK = {"perplexity-ai": EXT | {"provider_fields"}}  # documented in tests/oracles/openai_types.py

# Each provider SDK's request TypedDict (module, attribute); None: checked against OpenAI's.
SDK_PARAMS = {
    "cerebras": ("cerebras.cloud.sdk.types.chat.completion_create_params", "CompletionCreateParams"),
    "sambanova": ("sambanova.types.chat.completion_create_params", "CompletionCreateParams"),
    "perplexity-ai": ("perplexity.types.chat.completion_create_params", "CompletionCreateParams"),
    "together-ai": ("together.types.chat.completion_create_params", "CompletionCreateParams"),
    "xai": None,
    "deepinfra": None,
}


def _adapter(spec: str) -> TypeAdapter | None:
    where = SDK_PARAMS[spec]
    if where is None:
        return None
    try:
        module = importlib.import_module(where[0])
    except ImportError:
        return None
    return TypeAdapter(getattr(module, where[1]))


# Module level on purpose: an adapter must outlive the lazy iterators it makes (see _common).
_ADAPTERS = {spec: _adapter(spec) for spec in SPECS}


# SambaNova's TypedDicts declare `extra_items=object` (the tool message, for one, types no
# tool_call_id and takes it as an extra item): there the SDK's own extra policy is kept.
OWN_EXTRA_POLICY = {"sambanova"}


def _check_sdk(spec: str, body: dict) -> Any:
    adapter = _ADAPTERS[spec]
    name = SDK_PARAMS[spec][1]
    extra = {} if spec in OWN_EXTRA_POLICY else {"extra": "forbid"}
    try:
        out = adapter.validate_python(body, strict=True, **extra)
    except ValidationError as e:
        raise fail(f"{spec} {name}", e) from None
    return materialize(out, f"{spec} {name}")


def _examples(has: Callable[[dict], bool]):
    for spec in SPECS:
        for ex in FILES.raw(spec).get("examples", []):
            if has(ex):
                yield pytest.param(spec, ex, id=f"{spec}::{ex['name']}")


@pytest.mark.parametrize("spec,ex", list(_examples(lambda ex: "request" in ex)))
def test_client_request_is_valid_openai(spec: str, ex: dict) -> None:
    check_create_params({"model": ex.get("model", "m"), **without_extensions(ex["request"])})


@pytest.mark.parametrize("spec,ex", list(_examples(lambda ex: "body" in ex)))
def test_provider_body_passes_the_provider_sdk_types(spec: str, ex: dict) -> None:
    if SDK_PARAMS[spec] is None:
        check_create_params(ex["body"])  # the provider documents OpenAI's body as its own
        return
    if _ADAPTERS[spec] is None:
        pytest.skip(f"{SDK_PARAMS[spec][0]} is not installed")
    _check_sdk(spec, ex["body"])


@pytest.mark.parametrize("spec,ex", list(_examples(lambda ex: "output" in ex)))
def test_output_passes_strict_openai_types(spec: str, ex: dict) -> None:
    check_chat_completion(ex["output"], extra_ok=EXTRA_OK.get(spec, EXT))


@pytest.mark.parametrize("spec,ex", list(_examples(lambda ex: "chunks" in ex)))
def test_chunks_pass_strict_openai_types(spec: str, ex: dict) -> None:
    for chunk in ex["chunks"]:
        check_chunk(chunk, extra_ok=EXT | {"annotations"})
    finishes = [c for c in ex["chunks"] for ch in c["choices"] if ch.get("finish_reason")]
    assert len(finishes) == 1, "exactly one finish chunk"
    assert ex["chunks"][0]["choices"][0]["delta"].get("role") == "assistant", "role chunk first"
    asked = (ex.get("request") or {}).get("stream_options", {}).get("include_usage")
    assert bool(ex["chunks"][-1].get("usage")) == bool(asked), "a usage chunk exactly when asked"


def test_the_sdk_oracles_catch_a_wrong_body() -> None:
    """The provider oracles are not vacuous: a boolean `logprobs` is not Together's integer,
    and an unknown key is refused."""
    if _ADAPTERS["together-ai"] is None or _ADAPTERS["cerebras"] is None:
        pytest.skip("together / cerebras SDKs are not installed")
    msgs = [{"role": "user", "content": "hi"}]
    with pytest.raises(OracleError):
        _check_sdk("together-ai", {"model": "m", "messages": msgs, "logprobs": True})
    with pytest.raises(OracleError):
        _check_sdk("cerebras", {"model": "m", "messages": msgs, "no_such_field": 1})
