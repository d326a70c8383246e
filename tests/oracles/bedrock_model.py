"""Bedrock Converse / ConverseStream oracles from botocore's own service model (tested: botocore
1.44.8, bedrock-runtime API 2023-09-30). No credentials, no network.

Why the extras: botocore's ParamValidator checks types, required members, unknown keys, `min`,
tagged-union arity and documents, but NOT enums, `max` or patterns (the service does). So enum
and max are added here, blobs must be valid base64 on the wire, and document members that must be
objects (`toolUse.input`, `json`) are checked (a document accepts a JSON *string* too).
Stream frames: botocore has a CRC-checked decoder but no encoder; `encode_frame` writes one.
Real Bedrock adds a random `p` padding key to event payloads; the parser drops unknown keys, so
`check_stream_payloads` validates raw payloads and allows only `p`.
"""
from __future__ import annotations

import base64
import binascii
import json
import struct
from typing import Any, Iterator

import botocore.session
from botocore.eventstream import EventStreamBuffer, ParserError
from botocore.exceptions import EventStreamError
from botocore.parsers import create_parser
from botocore.validate import ParamValidator

from ._common import OracleError

__all__ = [
    "EventStreamError", "OracleError", "check_converse_body", "check_converse_response",
    "check_stream_payloads", "decode_frames", "encode_frame", "parse_converse_stream",
]

_SM = botocore.session.get_session().get_service_model("bedrock-runtime")
CONVERSE = _SM.operation_model("Converse")
CONVERSE_STREAM = _SM.operation_model("ConverseStream")
STREAM_SHAPE = CONVERSE_STREAM.output_shape.members["stream"]  # ConverseStreamOutput (eventstream union)


def _to_params(shape: Any, v: Any, path: str = "") -> Any:
    """Wire JSON -> the Python value botocore expects (blob: base64 text -> bytes, strictly)."""
    t = shape.type_name
    if t == "structure" and not shape.is_document_type and isinstance(v, dict):
        return {k: (_to_params(shape.members[k], x, f"{path}.{k}") if k in shape.members else x) for k, x in v.items()}
    if t == "list" and isinstance(v, list):
        return [_to_params(shape.member, x, f"{path}[{i}]") for i, x in enumerate(v)]
    if t == "map" and isinstance(v, dict):
        return {k: _to_params(shape.value, x, f"{path}.{k}") for k, x in v.items()}
    if t == "blob" and isinstance(v, str):
        try:
            return base64.b64decode(v, validate=True)
        except (binascii.Error, ValueError) as e:
            raise OracleError(f"{path.lstrip('.')}: blob is not valid base64: {e}") from None
    return v


def _extra_checks(shape: Any, v: Any, path: str = "") -> Iterator[str]:
    """Enum, max, and object-only documents: what ParamValidator leaves to the service."""
    t = shape.type_name
    if t == "structure" and shape.is_document_type:
        if path.rsplit(".", 1)[-1] in ("input", "json") and not isinstance(v, dict):
            yield f"{path}: document must be a JSON object here, got {type(v).__name__}"
        return
    if t == "structure" and isinstance(v, dict):
        for k, x in v.items():
            if k in shape.members:
                yield from _extra_checks(shape.members[k], x, f"{path}.{k}")
        return
    if t == "list" and isinstance(v, list):
        for i, x in enumerate(v):
            yield from _extra_checks(shape.member, x, f"{path}[{i}]")
    if t == "map" and isinstance(v, dict):
        for k, x in v.items():
            yield from _extra_checks(shape.value, x, f"{path}.{k}")
    if t == "string" and shape.enum and isinstance(v, str) and v not in shape.enum:
        yield f"{path}: {v!r} not in enum {shape.enum}"
    mx = shape.metadata.get("max")
    if mx is not None:
        size = len(v) if t in ("string", "list", "blob", "map") and hasattr(v, "__len__") else v
        if isinstance(size, (int, float)) and not isinstance(size, bool) and size > mx:
            yield f"{path}: {v!r} above max {mx}"


def _validate(params: Any, shape: Any, where: str) -> None:
    report = ParamValidator().validate(params, shape).generate_report()
    errs = [ln.strip() for ln in report.splitlines() if ln.strip()]
    errs += list(_extra_checks(shape, params, ""))
    if errs:
        raise OracleError(f"{where}: " + "; ".join(errs[:8]))


def check_converse_body(body: dict, model_id: str = "anthropic.claude-3-5-sonnet-20240620-v1:0",
                        *, stream: bool = False) -> dict:
    """The JSON we POST to /model/{modelId}/converse[-stream]. The input shape wants modelId as a
    member (it travels in the URL), so it is added back. Returns botocore params (blobs as bytes)."""
    if not isinstance(body, dict):
        raise OracleError(f"Converse request: expected a JSON object, got {type(body).__name__}")
    if "modelId" in body:
        raise OracleError("Converse request: modelId belongs in the URL, not the body")
    op = CONVERSE_STREAM if stream else CONVERSE
    params = _to_params(op.input_shape, {**body, "modelId": model_id})
    _validate(params, op.input_shape, f"{op.name} request")
    return params


def check_converse_response(resp: dict) -> dict:
    """Validate the raw JSON against the Converse output shape (unknown keys, required members,
    types, enums), then parse it exactly as boto3 does. Returns the parsed dict."""
    if not isinstance(resp, dict):
        raise OracleError(f"Converse response: expected a JSON object, got {type(resp).__name__}")
    _validate(_to_params(CONVERSE.output_shape, resp), CONVERSE.output_shape, "Converse response")
    parsed = create_parser("rest-json").parse(
        {"status_code": 200, "headers": {"content-type": "application/json"},
         "body": json.dumps(resp).encode(), "context": {"operation_name": "Converse"}}, CONVERSE.output_shape)
    parsed.pop("ResponseMetadata", None)
    return parsed


# ---------------------------------------------------------------- event-stream frames
def _header(name: str, value: str) -> bytes:
    n, v = name.encode(), value.encode()
    return struct.pack("!B", len(n)) + n + b"\x07" + struct.pack("!H", len(v)) + v  # 7 = string


def encode_frame(event_type: str, payload_dict: dict, message_type: str = "event") -> bytes:
    """application/vnd.amazon.eventstream frame: prelude (total_len, headers_len, CRC32 of those
    8 bytes) | headers | JSON payload | CRC32 of everything before it. All big-endian."""
    type_key = {"event": ":event-type", "exception": ":exception-type"}[message_type]
    headers = {type_key: event_type, ":content-type": "application/json", ":message-type": message_type}
    hb = b"".join(_header(k, v) for k, v in headers.items())
    payload = json.dumps(payload_dict).encode()
    prelude = struct.pack("!II", 12 + len(hb) + len(payload) + 4, len(hb))
    msg = prelude + struct.pack("!I", binascii.crc32(prelude)) + hb + payload
    return msg + struct.pack("!I", binascii.crc32(msg))


def decode_frames(raw: bytes) -> list[tuple[dict, dict]]:
    """botocore's EventStreamBuffer (checks both CRCs; raises ChecksumMismatch) -> [(headers,
    payload)]. Also refuses trailing bytes that do not make a whole frame."""
    buf = EventStreamBuffer()
    buf.add_data(raw)
    out, used = [], 0
    it = iter(buf)
    while True:
        try:
            m = next(it)
        except StopIteration:
            break
        except ParserError as e:  # ChecksumMismatch, InvalidHeadersLength, InvalidPayloadLength
            raise OracleError(f"frame {len(out)}: {type(e).__name__}: {e}") from None
        used += m.prelude.total_length
        try:
            out.append((m.headers, json.loads(m.payload) if m.payload else {}))
        except json.JSONDecodeError as e:
            raise OracleError(f"frame {len(out)}: payload is not JSON: {e}") from None
    if used != len(raw):
        raise OracleError(f"event stream: {len(raw) - used} trailing bytes do not form a whole frame")
    return out


def check_stream_payloads(raw: bytes) -> list[tuple[str, dict]]:
    """Validate each event payload against its ConverseStreamOutput member shape, allowing only
    the `p` padding key beyond the model. Returns [(event_type, payload)]."""
    errs, out = [], []
    for i, (headers, payload) in enumerate(decode_frames(raw)):
        if headers.get(":message-type") != "event":
            out.append((headers.get(":exception-type", "?"), payload))
            continue
        et = headers.get(":event-type")
        if headers.get(":content-type") != "application/json":
            errs.append(f"frame {i}: :content-type {headers.get(':content-type')!r}")
        if et not in STREAM_SHAPE.members:
            errs.append(f"frame {i}: unknown event type {et!r}")
            continue
        payload = {k: v for k, v in payload.items() if k != "p"}
        shape = STREAM_SHAPE.members[et]
        rep = ParamValidator().validate(_to_params(shape, payload), shape).generate_report()
        errs += [f"frame {i} {et}: {ln.strip()}" for ln in rep.splitlines() if ln.strip()]
        errs += [f"frame {i} {et}{e}" for e in _extra_checks(shape, payload, "")]
        out.append((et, payload))
    if errs:
        raise OracleError("ConverseStream: " + "; ".join(errs[:8]))
    return out


class _Body:
    """What botocore's parser wants as a streaming body: .stream() of small pieces and .close()."""

    def __init__(self, raw: bytes, step: int) -> None:
        self.raw, self.step = raw, step

    def stream(self) -> Iterator[bytes]:
        for i in range(0, len(self.raw), self.step):
            yield self.raw[i:i + self.step]

    def close(self) -> None:
        pass


def parse_converse_stream(raw: bytes, step: int = 13) -> list[dict]:
    """boto3's exact path -> [{'messageStart': {...}}, {'contentBlockDelta': {...}}, ...].
    An exception frame raises botocore.exceptions.EventStreamError."""
    out = create_parser("rest-json").parse(
        {"status_code": 200, "headers": {"content-type": "application/vnd.amazon.eventstream"},
         "body": _Body(raw, step), "context": {"operation_name": "ConverseStream"}}, CONVERSE_STREAM.output_shape)
    return list(out["stream"])
