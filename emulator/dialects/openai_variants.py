"""The OpenAI-compatible providers as data: each `Variant` lists where a provider departs from OpenAI's
Chat Completions (refused parameters, reasoning output, finish reasons, usage placement, error bodies),
so one parser and one renderer serve them all."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from emulator.errors import ApiError

ALL_FORMATS = frozenset({"text", "json_object", "json_schema"})


@dataclass(frozen=True)
class Variant:
    name: str
    errors: str = "openai"                      # openai | azure | detail | xai | perplexity | cerebras
    reasoning: re.Pattern[str] | None = None   # models that think
    reasoning_out: str = "hidden"              # hidden | reasoning | reasoning_content
    inline_think: re.Pattern[str] | None = None  # models whose thinking is `<think>...</think>` in content
    visible: re.Pattern[str] | None = None     # when set, only these reasoning models show their text
    openai_reasoning_rules: bool = False       # o-series refusals (temperature, max_tokens, penalties...)
    refuse_on_reasoning: tuple[str, ...] = ()  # params a reasoning model refuses (xAI)
    refuse: tuple[str, ...] = ()               # params refused whenever set to a truthy value
    max_n: int = 128
    n_with_tools: bool = True                  # False: n > 1 together with tools is refused (SambaNova)
    extra_parts: frozenset[str] = frozenset()  # content part types taken beside OpenAI's (Perplexity file_url)
    no_message_name: bool = False
    string_content_only: bool = False
    formats: frozenset[str] = ALL_FORMATS
    json_word_required: bool = False           # OpenAI's "messages must contain the word json"
    schema_name_required: bool = True
    tool_choices: frozenset[str] | None = None  # allowed string tool_choice values (None: all incl. named)
    logprobs_int: bool = False
    finish: dict[str, str] = field(default_factory=dict)  # neutral stop reason -> provider finish_reason
    stream_usage: str = "include"              # include | x_groq | finish_chunk | last_chunk
    reasoning_excluded_from_completion: bool = False
    timings: str = ""                           # groq | cerebras | sambanova
    openai_envelope_fields: bool = True        # object/created/system_fingerprint present
    ping: bool = False                          # SSE comment lines between chunks
    auth_message: str = ("You didn't provide an API key. You need to provide your API key in an Authorization "
                         "header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).")


_O_SERIES = re.compile(r"^(o1|o3|o4|gpt-5)")

VARIANTS: dict[str, Variant] = {v.name: v for v in [
    Variant("openai", reasoning=_O_SERIES, openai_reasoning_rules=True, json_word_required=True),
    Variant("azure", errors="azure", reasoning=_O_SERIES, openai_reasoning_rules=True, json_word_required=True,
            auth_message="Access denied due to invalid subscription key or wrong API endpoint. Make sure to "
                         "provide a valid key for an active subscription and use a correct regional API endpoint "
                         "for your resource."),
    Variant("groq", reasoning=re.compile(r"^(openai/gpt-oss|qwen/qwen3|deepseek-r1)"), reasoning_out="reasoning",
            refuse=("logprobs", "top_logprobs", "logit_bias"), max_n=1, no_message_name=True,
            stream_usage="x_groq", timings="groq"),
    Variant("cerebras", errors="cerebras", reasoning=re.compile(r"^(gpt-oss|qwen-3-.*thinking)"),
            reasoning_out="reasoning", refuse=("logit_bias",), stream_usage="finish_chunk", timings="cerebras",
            auth_message="Wrong API Key"),
    Variant("sambanova", reasoning=re.compile(r"^(DeepSeek-R1|gpt-oss)"), inline_think=re.compile(r"^DeepSeek-R1"),
            reasoning_out="reasoning",
            refuse=("logit_bias",), max_n=8, n_with_tools=False, stream_usage="last_chunk", timings="sambanova",
            auth_message="Invalid API key"),
    Variant("perplexity", errors="perplexity", reasoning=re.compile(r"^sonar-(reasoning|deep-research)"),
            inline_think=re.compile(r"^sonar-(reasoning|deep-research)"), formats=frozenset({"text", "json_schema", "regex"}),
            schema_name_required=False, tool_choices=frozenset({"none", "auto", "required"}),
            extra_parts=frozenset({"file_url"}), stream_usage="finish_chunk", auth_message="Invalid API key"),
    Variant("together", reasoning=re.compile(r"^deepseek-ai/DeepSeek-R1|(?i:qwen3.*thinking)|gpt-oss"),
            inline_think=re.compile(r"^deepseek-ai/DeepSeek-R1"), reasoning_out="reasoning", logprobs_int=True,
            finish={"end": "eos"}, stream_usage="finish_chunk",
            auth_message="Invalid API key provided. You can find your API key at "
                         "https://api.together.xyz/settings/api-keys."),
    Variant("xai", errors="xai", reasoning=re.compile(r"^(grok-3-mini|grok-4|grok-code-fast)"),
            visible=re.compile(r"^grok-3-mini"), reasoning_out="reasoning_content",
            refuse_on_reasoning=("presence_penalty", "frequency_penalty", "stop"), finish={"tool": ""},
            reasoning_excluded_from_completion=True,
            auth_message="Incorrect API key provided: ***. You can obtain an API key from https://console.x.ai."),
    Variant("deepinfra", errors="detail", reasoning=re.compile(r"(?i)deepseek-r1|qwen3|gpt-oss"),
            reasoning_out="reasoning_content", tool_choices=frozenset({"auto", "none"}), ping=True,
            auth_message="Authorization header is missing or invalid"),
    Variant("ai21", errors="detail", max_n=16, string_content_only=True, formats=frozenset({"text", "json_object"}),
            openai_envelope_fields=False, auth_message="Forbidden: Bad or missing API token."),
]}

_OPENAI_TYPES = {"invalid_request": "invalid_request_error", "auth": "invalid_request_error",
                 "permission": "permission_error", "not_found": "invalid_request_error",
                 "rate_limit": "rate_limit_error", "server": "server_error",
                 "unavailable": "service_unavailable_error", "overloaded": "server_error", "cancelled": "server_error"}
_XAI_CODES = {400: "Client specified an invalid argument", 401: "Request had invalid authentication credentials",
              403: "The caller does not have permission to execute the specified operation",
              404: "Some requested entity was not found", 422: "Client specified an invalid argument",
              429: "Some resource has been exhausted", 500: "Internal error",
              503: "The service is currently unavailable"}


def error_body(v: Variant, err: ApiError) -> Any:
    """The provider's own error body for a refusal or a status fault."""
    if "body" in err.extra:
        return err.extra["body"]
    if v.errors == "detail":
        return {"detail": err.extra.get("detail", err.message)}
    if v.errors == "xai":
        return {"code": _XAI_CODES.get(err.status, "Unknown error"), "error": err.message}
    etype = _OPENAI_TYPES.get(err.kind, "invalid_request_error")
    if v.errors == "azure" and (err.kind != "invalid_request" or err.status != 400):
        return {"error": {"code": str(err.status), "message": err.message}}
    if v.errors == "perplexity":
        return {"error": {"message": err.message, "type": etype, "code": err.status}}
    return {"error": {"message": err.message, "type": etype, "param": err.extra.get("param"),
                      "code": err.extra.get("code")}}


def stream_error_body(v: Variant) -> Any:
    """What a mid-stream failure looks like for this provider (`data:` payload)."""
    err = ApiError(500, "The server had an error while processing your request.", "server")
    body = error_body(v, err)
    if v.errors == "cerebras":
        body = dict(body, status_code=500)
    return body


def camel(name: str) -> str:
    """xAI's messages name request fields in lowerCamelCase (its backend is gRPC)."""
    return re.sub(r"_([a-z])", lambda m: m.group(1).upper(), name)
