"""Vertex AI: Gemini through publishers/google (the gemini dialect behind OAuth bearer auth) and Claude through
publishers/anthropic :rawPredict / :streamRawPredict (the anthropic dialect, with the model in the URL and
`anthropic_version: vertex-2023-10-16` in the body instead of a header)."""
from __future__ import annotations

import dataclasses
from typing import Any

import orjson

from emulator.asgi import Context, Request, Response, parse_json_object, received_header
from emulator.dialects import anthropic, gemini
from emulator.errors import ApiError

VERTEX_ANTHROPIC_VERSION = "vertex-2023-10-16"
_GOOGLE_FRONT = {401, 403, 404, 429}  # answered by Google's front end even for Claude models


def render_error(err: ApiError, params: dict[str, Any]) -> Response:
    if params.get("publisher") == "anthropic" and err.status not in _GOOGLE_FRONT:
        return anthropic.render_error(err, params)
    return gemini.render_error(err, params)


def _relabel(resp: Response, dialect: str) -> Response:
    resp.headers = [received_header(**dict(orjson.loads(v), dialect=dialect)) if k == "x-emulator-received"
                    else (k, v) for k, v in resp.headers]
    return resp


def _claude(req: Request, ctx: Context, params: dict[str, Any]) -> Response:
    body = parse_json_object(req.body)
    if not isinstance(body, dict):
        return anthropic.render_error(ApiError(400, "There was an error parsing the body of your request"), params)
    if "model" in body:
        return anthropic.render_error(ApiError(400, "model: Extra inputs are not permitted"), params)
    version = body.get("anthropic_version")
    if version != VERTEX_ANTHROPIC_VERSION:
        message = ("anthropic_version: Field required" if version is None else
                   f"anthropic_version: Input should be '{VERTEX_ANTHROPIC_VERSION}'")
        return anthropic.render_error(ApiError(400, message), params)
    inner = {k: v for k, v in body.items() if k != "anthropic_version"}
    inner["model"] = params["model"]
    if params["stream"]:
        inner["stream"] = True
    headers = dict(req.headers, **{"anthropic-version": "2023-06-01"})
    resp = anthropic.handle(dataclasses.replace(req, body=orjson.dumps(inner), headers=headers), ctx, params)
    # Vertex ids carry a `vrtx` marker (msg_vrtx_..., req_vrtx_...)
    resp.body = resp.body.replace(b'"msg_', b'"msg_vrtx_')
    if resp.events is not None:
        resp.events = [e.replace(b'"msg_', b'"msg_vrtx_') for e in resp.events]
    resp.headers = [(k, "req_vrtx_" + v[4:] if k == "request-id" else v) for k, v in resp.headers]
    return _relabel(resp, "vertex-anthropic")


def handle(req: Request, ctx: Context, params: dict[str, Any]) -> Response:
    auth = req.headers.get("authorization", "")
    if not (auth.startswith("Bearer ") and auth[7:].strip()):
        return gemini.render_error(ApiError(
            401, "Request is missing required authentication credential. Expected OAuth 2 access token, login "
                 "cookie or other valid authentication credential. See "
                 "https://developers.google.com/identity/sign-in/web/devconsole-project.", "auth"), params)
    raw = params["method"] in ("rawPredict", "streamRawPredict")
    if (params["publisher"] == "anthropic") != raw:
        return gemini.render_error(ApiError(
            400, f"Method {params['method']} is not supported for publisher model "
                 f"publishers/{params['publisher']}/models/{params['model']}."), params)
    if raw:
        return _claude(req, ctx, params)
    return _relabel(gemini.handle(req, ctx, params), "vertex-gemini")
