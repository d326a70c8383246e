"""The gateway's ASGI application: OpenAI's /v1/chat/completions in front of every account.

Request path: authenticate the client (bearer key) -> read a bounded body -> parse
JSON -> resolve `account/model` (split at the first `/`) -> engine.translate_request
(refusals happen here, before any I/O) -> sign -> send upstream with retries ->
translate the response, or pump the stream through the engine's stream machine.
Every failure is an OpenAI-shaped error with a fitting status; a stream that breaks
after it started ends with an SSE error event, never a hang or a 500 page.
"""
from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import math
import os
import time
from typing import Any

import orjson

from ..errors import NotFound, RequestError, StreamError, SwitchboardError, UpstreamError
from ..request_check import json_type_name
from ..switchboard import HttpRequest, Switchboard
from .asgi import (BodyTooLarge, ClientGone, ClientWatch, Receive, Send, error_payload, header_list, json_header,
                   read_body, send_error, send_json)
from ..media import inlined
from .config import Account, GatewayConfig
from .media import MediaFetcher
from .metrics import Metrics
from .signing import Signer, make_signer
from .upstream import Upstream, retry_after_seconds

log = logging.getLogger("switchboard.access")
_SSE_HEADERS = {"content-type": "text/event-stream", "cache-control": "no-cache", "x-accel-buffering": "no"}


class Unauthorized(SwitchboardError):
    status = 401
    type = "invalid_request_error"
    code = "invalid_api_key"


class UnsupportedMediaType(RequestError):
    status = 415
    code = "unsupported_media_type"


# path -> the one method it answers (any other gets 405 with Allow)
_ROUTES = {"/v1/chat/completions": "POST", "/chat/completions": "POST", "/v1/models": "GET", "/models": "GET",
           "/health": "GET", "/ready": "GET", "/metrics": "GET", "/openapi.json": "GET"}
_SHOWN = 200   # characters of a client's model id kept in messages, logs and metrics
_DRAIN_S = 0.2   # how long a finished stream waits for the rest of the provider's body (connection reuse)


def _short(text: str) -> str:
    return text if len(text) <= _SHOWN else text[:_SHOWN] + "..."


class Gateway:
    def __init__(self, sb: Switchboard, config: GatewayConfig, transport: Any = None):
        self.sb, self.config = sb, config
        self._transport = transport
        self._signers: dict[str, Signer] = {}
        self.upstream: Upstream | None = None
        self.media: MediaFetcher | None = None
        self.metrics = Metrics({name: frozenset(self._listed(a)) for name, a in config.accounts.items()})
        self.draining = False
        self.streams: set[asyncio.Task] = set()   # pumps in flight (graceful shutdown, leak checks)

    # -- ASGI --------------------------------------------------------------------------
    async def __call__(self, scope: dict, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        started = time.perf_counter()
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        rid = _request_id(headers.get("x-request-id"))
        info: dict[str, Any] = {"request_id": rid, "method": scope["method"], "path": scope["path"]}
        try:
            status = await self._route(scope, headers, receive, send, rid, info)
        except ClientGone:
            status, info["client_gone"] = 499, True
        except asyncio.CancelledError:  # the server stopped waiting (shutdown): answer, do not leave a 500 page
            status = 503
            with contextlib.suppress(Exception):   # fails harmlessly when a stream has already started
                await send_json(send, 503, error_payload("the gateway is shutting down; retry the request",
                                                         "server_error", "gateway_shutdown"), {"x-request-id": rid})
        except RecursionError:  # data nested deeper than the translator will walk
            status = 400
            with contextlib.suppress(Exception):
                await send_json(send, 400, error_payload("the request is nested too deeply", "invalid_request_error",
                                                         "invalid_json"), {"x-request-id": rid})
        except Exception:  # noqa: BLE001 - a bug must still answer in OpenAI's shape, without a traceback
            log.exception("unhandled error in request %s", rid)
            status = 500
            with contextlib.suppress(Exception):
                await send_json(send, 500, error_payload("internal error in the gateway; see its log for "
                                                         f"request {rid}", "server_error", "internal_error"),
                                {"x-request-id": rid})
        # a stream's time ends with its [DONE], not with the provider's last bytes read after it
        ended = info.pop("answered", None) or time.perf_counter()
        info.update(status=status, ms=round((ended - started) * 1000, 2))
        log.info(orjson.dumps(info).decode())
        self.metrics.observe(info)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self.warm()
                # What start-up built (compiled specs, modules) lives as long as the process: out of
                # the collector's way, so a full collection under load walks only request garbage.
                gc.freeze()
                threshold = self.config.runtime.get("gc_threshold")
                if threshold:
                    gc.set_threshold(*threshold)
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                self.draining = True
                if self.upstream is not None:
                    await self.upstream.aclose()
                if self.media is not None:
                    await self.media.aclose()
                await send({"type": "lifespan.shutdown.complete"})
                return

    def warm(self) -> None:
        """Compile the dialects the accounts use and build the upstream client, at start-up or
        before forking workers (which then share both; the client opens no connection and binds
        no event loop until its first request, in the process that sends it)."""
        self.sb.warm({a.provider for a in self.config.accounts.values()})
        self._ensure_upstream()

    def _ensure_upstream(self) -> Upstream:
        if self.upstream is None:
            self.upstream = Upstream(self.config.upstream, self._transport)
        return self.upstream

    async def _route(self, scope: dict, headers: dict, receive: Receive, send: Send, rid: str,
                     info: dict) -> int:
        method, path = scope["method"], scope["path"].rstrip("/")
        out = {"x-request-id": rid}
        if path == "/health" and method == "GET":
            await send_json(send, 200, {"status": "ok"}, out)
            return 200
        if path == "/ready" and method == "GET":
            ready = self.upstream is not None and not self.draining
            await send_json(send, 200 if ready else 503, {"status": "ready" if ready else "not ready"}, out)
            return 200 if ready else 503
        if path == "/metrics" and method == "GET":
            body, ctype = self.metrics.render()
            await send({"type": "http.response.start", "status": 200,
                        "headers": header_list({"content-type": ctype, **out})})
            await send({"type": "http.response.body", "body": body})
            return 200
        if path == "/openapi.json" and method == "GET":
            from .openapi import OPENAPI
            await send_json(send, 200, OPENAPI, out)
            return 200
        allowed = _ROUTES.get(path)
        if allowed is None:
            await send_json(send, 404, error_payload(f"no route {scope['path']}", "invalid_request_error",
                                                     "not_found"), out)
            return 404
        if method != allowed:
            await send_json(send, 405, error_payload(f"{method} is not allowed on {path}; use {allowed}",
                                                     "invalid_request_error", "method_not_allowed"),
                            {**out, "allow": allowed})
            return 405
        try:
            self._authenticate(headers)
            if path.endswith("/models"):
                await send_json(send, 200, self.models(), out)
                return 200
            return await self._chat(headers, receive, send, out, info)
        except SwitchboardError as exc:
            wait = getattr(exc, "retry_after", None)
            extra = {**out, "retry-after": str(math.ceil(wait))} if wait is not None else out
            await send_error(send, exc, extra)
            info.update(error=exc.code, error_type=exc.type)
            return exc.status

    def _authenticate(self, headers: dict) -> None:
        auth = headers.get("authorization", "")
        scheme, _, token = auth.partition(" ")
        if scheme.lower() != "bearer" or not self.config.client_allowed(token.strip()):
            raise Unauthorized("missing or invalid API key; send Authorization: Bearer <gateway key>")

    def _listed(self, account: Account) -> list[str]:
        return account.models or self.sb.providers[account.provider].get("models", [])

    def models(self) -> dict:
        data = []
        for name, account in self.config.accounts.items():
            if self.sb.providers[account.provider]["spec"] is None:
                continue
            data += [{"id": f"{name}/{m}", "object": "model", "created": 0, "owned_by": account.provider}
                     for m in self._listed(account)]
        return {"object": "list", "data": data}

    # -- chat ----------------------------------------------------------------------------
    def _resolve(self, body: dict) -> tuple[Account, str]:
        model = body.get("model")
        if model is None or model == "":
            raise RequestError("model is required: a string 'account/model', e.g. 'openai-main/gpt-4o-mini'",
                               param="model", code="invalid_type")
        if not isinstance(model, str):
            raise RequestError(f"model must be a string 'account/model', not {json_type_name(model)}", param="model",
                               code="invalid_type")
        name, slash, model_id = model.partition("/")
        account = self.config.accounts.get(name)
        if not slash or account is None:
            known = ", ".join(sorted(self.config.accounts))
            raise NotFound(f"model must be 'account/model' with a known account; {_short(name)!r} is not one "
                           f"(known: {known})", param="model")
        if not model_id:
            raise RequestError(f"model {model!r} names no model after the account", param="model",
                               code="invalid_type")
        if account.models is not None and model_id not in account.models:
            raise NotFound(f"model {model_id!r} is not enabled for account {name!r}", param="model")
        return account, model_id

    def _signer(self, account: Account) -> Signer:
        signer = self._signers.get(account.name)
        if signer is None:
            signer = make_signer(account.auth or self.sb.providers[account.provider]["auth"], account)
            self._signers[account.name] = signer
        return signer

    async def _chat(self, headers: dict, receive: Receive, send: Send, out: dict, info: dict) -> int:
        ctype = headers.get("content-type", "application/json").split(";")[0].strip().lower()
        if ctype not in ("application/json", ""):
            raise UnsupportedMediaType(f"content-type must be application/json, got {ctype!r}")
        declared = headers.get("content-length")
        limits = self.config.limits
        raw = await read_body(receive, limits["max_body_bytes"],
                              int(declared) if declared and declared.isdigit() else None, limits["body_timeout"])
        try:
            body = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise RequestError(f"the request body is not valid JSON: {exc}", code="invalid_json") from None
        if not isinstance(body, dict):
            raise RequestError("the request body must be a JSON object", code="invalid_json")
        account, model = self._resolve(body)
        info.update(account=account.name, provider=account.provider, model=_short(model),
                    stream=bool(body.get("stream")))
        policy = headers.get("x-switchboard-params", account.policy)
        policy = policy if policy in ("refuse", "drop") else account.policy
        watch = ClientWatch(receive)   # from here on the gateway waits on others: media, the provider
        try:
            refs = self.sb.media_to_fetch(account.provider, body, model=model)
            if refs:  # refuse what the target cannot do before fetching anything for it
                self.sb.check(account.provider, body, model=model, policy=policy)
                if self.media is None:
                    self.media = MediaFetcher(self.config.media)
                watch.guarding = False   # the fetch runs on httpcore's pool: left to end (media.timeout), not cancelled
                body = inlined(body, await self.media.fetch_all(refs))
                watch.guard()
                info["media"] = len(refs)
            req = self.sb.translate_request(account.provider, body, model=model, options=account.options,
                                            base_url=account.base_url, policy=policy)
            if req.reports:
                out["x-switchboard-reports"] = json_header(req.reports)
            payload = req.body_bytes()
            url, up_headers = self._signer(account)(req.method, req.url, {**req.headers, **account.headers}, payload)
            upstream = self._ensure_upstream()
            watch.guarding = upstream.cancel_safe
            sent = time.perf_counter()
            response = await upstream.send(req.method, url, up_headers, payload, info)   # counts info["attempts"]
            info["upstream_ms"] = round((time.perf_counter() - sent) * 1000, 2)
            try:
                watch.guard()
                if response.status_code >= 300:   # a redirect is not an answer (the client does not follow it)
                    raise await self._upstream_error(account, response, body, model)
                if req.stream:
                    watch.guarding = False   # the stream races the watcher against its pump
                    return await self._stream(account, body, model, req, response, watch.watcher, send, out, info)
                data = await _read_all(response)
            finally:
                await response.aclose()
        except asyncio.CancelledError as exc:
            if watch.cancelled and "attempts" in info:   # what the provider had of it until then
                info["upstream_ms"] = round((time.perf_counter() - sent) * 1000, 2)
            raise watch.gone_instead(exc) from None
        finally:
            watch.close()
        completion = self.sb.translate_response(account.provider, data, request=body, model=model)
        _count_tokens(info, completion.get("usage"))
        await send_json(send, 200, completion, out)
        return 200

    async def _upstream_error(self, account: Account, response: Any, body: dict, model: str) -> UpstreamError:
        try:
            raw = await _read_all(response)
        except UpstreamError as exc:
            return exc
        err = self.sb.translate_error(account.provider, response.status_code, raw, body, model=model)
        err.retry_after = retry_after_seconds(response.headers)
        if account.key and account.key in err.message:   # a provider echoing the key it was sent
            err.message = err.message.replace(account.key, "[the account's key]")
        if err.status in (401, 403):   # the gateway's own credentials: the caller's key was fine
            err.message = (f"the provider refused account {account.name!r} (HTTP {err.status}): check the "
                           f"credentials or permissions the gateway has for it. The provider said: {err.message}")
            err.code = "upstream_unauthorized" if err.status == 401 else "upstream_forbidden"
        return err

    async def _stream(self, account: Account, body: dict, model: str, req: HttpRequest, response: Any,
                      watcher: asyncio.Task, send: Send, out: dict, info: dict) -> int:
        translator = self.sb.stream(account.provider, body, model=model, reports=req.reports)
        await send({"type": "http.response.start", "status": 200, "headers": header_list({**_SSE_HEADERS, **out})})
        pump = asyncio.create_task(self._pump(translator, response, send, info))
        self.streams.add(pump)
        pump.add_done_callback(self.streams.discard)
        try:
            done, _ = await asyncio.wait({pump, watcher}, return_when=asyncio.FIRST_COMPLETED)
        except asyncio.CancelledError:  # the server is stopping: the pump ends the stream with an error
            watcher.cancel()
            pump.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await pump
            raise
        if "answered" in info and pump not in done:
            return await pump   # the answer is out; the pump reads what the provider has left
        if pump not in done:  # the client left: stop reading upstream now
            info["client_gone"] = True
            pump.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await pump
            return 499
        watcher.cancel()
        return pump.result()

    async def _pump(self, translator: Any, response: Any, send: Send, info: dict) -> int:
        pieces = response.aiter_bytes()
        try:
            async for piece in pieces:
                chunks = translator.feed(piece)
                if chunks:  # what one upstream read gave goes out in one write
                    _count_tokens(info, chunks[-1].get("usage"))   # the usage chunk is the last of its read
                    await send({"type": "http.response.body", "body": _events(chunks), "more_body": True})
                if translator.ended:  # the provider said it is done: do not wait for it to close
                    break
            chunks = translator.close()
            for chunk in chunks:
                _count_tokens(info, chunk.get("usage"))
            await send({"type": "http.response.body", "body": _events(chunks) + b"data: [DONE]\n\n"})
            # Set once the last write returned (a server drops it for a client already gone): from
            # here the disconnect the server reports is the answer's end, not the client leaving.
            info["answered"] = time.perf_counter()
            await _drain(pieces)
            return 200
        except asyncio.CancelledError:
            if not info.get("client_gone"):  # shutting down: tell the client why the stream ends
                with contextlib.suppress(Exception):
                    await _sse(send, StreamError("the gateway is shutting down", status=503,
                                                 code="gateway_shutdown").to_openai(), final=True)
            raise
        except UpstreamError as exc:   # StreamError included
            info.update(error=exc.code, error_type=exc.type)
            if isinstance(exc, StreamError) and exc.partial:   # what the events before the bad one made
                await send({"type": "http.response.body", "body": _events(exc.partial), "more_body": True})
            await _sse(send, exc.to_openai(), final=True)
            return exc.status
        except Exception as exc:  # noqa: BLE001 - a broken upstream connection, whatever its class
            error = StreamError(f"the provider's stream broke: {type(exc).__name__}")
            info.update(error=error.code, error_type=error.type)
            await _sse(send, error.to_openai(), final=True)
            return error.status


def _count_tokens(info: dict, usage: Any) -> None:
    if isinstance(usage, dict):
        info["prompt_tokens"] = usage.get("prompt_tokens")
        info["completion_tokens"] = usage.get("completion_tokens")


def _events(chunks: list[dict]) -> bytes:
    dumps = orjson.dumps
    return b"".join(b"data: " + dumps(chunk) + b"\n\n" for chunk in chunks)


async def _sse(send: Send, payload: dict, final: bool = False) -> None:
    await send({"type": "http.response.body", "body": b"data: " + orjson.dumps(payload) + b"\n\n",
                "more_body": not final})


async def _drain(pieces: Any) -> None:
    """What the provider sends after saying it is done (the end of its chunked body, as a rule),
    read for a moment once the client has its [DONE], so the connection goes back to the pool
    instead of being closed with bytes unread."""
    with contextlib.suppress(Exception):
        async with asyncio.timeout(_DRAIN_S):
            async for _ in pieces:
                pass


async def _read_all(response: Any) -> bytes:
    import httpx
    try:
        return await response.aread()
    except httpx.TimeoutException:
        raise UpstreamError("the provider stopped answering mid-response", status=504,
                            type="timeout_error", code="upstream_timeout") from None
    except httpx.TransportError as exc:
        raise UpstreamError(f"the provider's answer broke off: {type(exc).__name__}", status=502,
                            code="upstream_broken") from None


def _request_id(given: str | None) -> str:
    if given and len(given) <= 128 and given.isprintable() and " " not in given:
        return given
    return os.urandom(16).hex()  # what uuid4().hex is made of, without building a UUID
