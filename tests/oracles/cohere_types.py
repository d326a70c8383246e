"""Cohere v2 /v2/chat oracles from the official `cohere` SDK (Fern-generated) types (tested: 7.3.1).

There is no request model in the SDK: the request fields are the keyword arguments of
`RawV2Client.chat(...)` (wire keys == parameter names), so V2ChatRequest is built from that
signature. Holes in the Fern types and how they are closed:
  * models are extra='allow'             -> validate with strict=True, extra='forbid'
  * union tags have defaults (`role: Literal["user"] = "user"`), so `{}` is a valid user message
    or message-start event             -> re-wrap the unions with Field(discriminator=...)
  * enums are open `Union[Literal[...], Any]` (finish_reason, tool_choice, safety_mode)
                                         -> closed_enum_errors() checks against the Literal part
"""
from __future__ import annotations

import inspect
import typing
from typing import Any, Iterator

import pydantic
from cohere.types.chat_message_v2 import ChatMessageV2
from cohere.v2.raw_client import RawV2Client
from cohere.v2.types.v2chat_response import V2ChatResponse
from cohere.v2.types.v2chat_stream_response import V2ChatStreamResponse
from pydantic import ConfigDict, Field, TypeAdapter, ValidationError

from ._common import OracleError, fmt_path, summarize

__all__ = ["OracleError", "V2ChatRequest", "check_event", "check_request", "check_response", "closed_enum_errors"]


def _tagged(annotated_union: Any, tag: str) -> Any:
    """Fern's UnionMetadata(discriminant=...) is ignored by pydantic; make the tag mandatory."""
    return typing.Annotated[typing.get_args(annotated_union)[0], Field(discriminator=tag)]


Message = _tagged(ChatMessageV2, "role")
StreamEvent = _tagged(V2ChatStreamResponse, "type")


def _request_model() -> type[pydantic.BaseModel]:
    hints = typing.get_type_hints(RawV2Client.chat)
    fields: dict[str, Any] = {}
    for name, p in inspect.signature(RawV2Client.chat).parameters.items():
        if name in ("self", "request_options"):
            continue
        ann = typing.List[Message] if name == "messages" else hints[name]
        fields[name] = (ann, ... if p.default is inspect.Parameter.empty else None)
    fields["stream"] = (typing.Optional[bool], None)  # chat() sends false, chat_stream() true
    return pydantic.create_model("V2ChatRequest", __config__=ConfigDict(extra="forbid"), **fields)


V2ChatRequest = _request_model()
_EVENT = TypeAdapter(StreamEvent)


def _open_enum_values(ann: Any) -> set | None:
    """{allowed literals} if `ann` is Fern's open enum `Union[Literal[...], Any]` (possibly Optional)."""
    args = typing.get_args(ann)
    if typing.get_origin(ann) is typing.Union and typing.Any in args:
        lits = [a for a in args if typing.get_origin(a) is typing.Literal]
        if lits:
            return {v for lit in lits for v in typing.get_args(lit)}
    if typing.get_origin(ann) is typing.Union:  # Optional[OpenEnum] nests one level
        for a in args:
            found = _open_enum_values(a)
            if found:
                return found
    return None


def closed_enum_errors(obj: Any, path: tuple = ()) -> Iterator[str]:
    """Values of open-enum fields that are not in the enum's Literal part."""
    if isinstance(obj, pydantic.BaseModel):
        for name, f in type(obj).model_fields.items():
            v = getattr(obj, name)
            allowed = _open_enum_values(f.annotation)
            if allowed is not None and v is not None and v not in allowed:
                yield f"{fmt_path(path + (name,))}: {v!r} not in {sorted(allowed)}"
            yield from closed_enum_errors(v, path + (name,))
    elif isinstance(obj, (list, tuple)):
        for i, v in enumerate(obj):
            yield from closed_enum_errors(v, path + (i,))


def _run(where: str, fn: Any, d: Any) -> Any:
    try:
        m = fn(d, strict=True, extra="forbid")
    except ValidationError as e:
        raise OracleError(f"{where}: {summarize(e)}") from None
    errs = list(closed_enum_errors(m))
    if errs:
        raise OracleError(f"{where}: " + "; ".join(errs))
    return m


def check_request(body: dict) -> pydantic.BaseModel:
    """Body of POST /v2/chat. validate_python, not _json: Fern's before-validator drops JSON mode."""
    return _run("V2ChatRequest", V2ChatRequest.model_validate, body)


def check_response(resp: dict) -> V2ChatResponse:
    return _run("V2ChatResponse", V2ChatResponse.model_validate, resp)


def check_event(ev: dict) -> Any:
    """One stream event (SSE `data:` payload); the `type` tag is mandatory."""
    return _run(f"stream event {ev.get('type') if isinstance(ev, dict) else ev!r}", _EVENT.validate_python, ev)
