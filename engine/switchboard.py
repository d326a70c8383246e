"""The public engine object: load once, then translate with pure functions.

`Switchboard` holds only immutable compiled data after `load()`; every call builds
its own state, so one instance serves many threads. No I/O happens here: requests
come back as data (`HttpRequest`) for a gateway, or any other client, to send.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

import orjson

from .capabilities import Checked, Matrix
from .cells import Globs
from .dialect import Dialect
from .errors import NotFound, RequestError, SpecError, UpstreamError
from .loader import SpecFiles, bundled_root, load_tables
from .request_check import check_request
from .stream import StreamTranslator


@dataclass(slots=True)
class HttpRequest:
    """What would be sent upstream, before auth is added (botocore's request dict habit)."""
    method: str
    url: str
    headers: dict[str, str]
    json: Any
    stream: bool
    provider: str
    model: str
    reports: list[dict] = field(default_factory=list)

    def body_bytes(self) -> bytes:
        try:
            return orjson.dumps(self.json)
        except TypeError as exc:  # orjson writes at most 254 levels of nesting (it reads 1024)
            if "Recursion limit" not in str(exc):
                raise
            raise RequestError("the request is nested too deeply to send (more than 254 levels of JSON)",
                               code="invalid_json") from None


class Routes:
    """Which dialect serves which model: the first route whose patterns match (a route
    without patterns matches every model)."""

    def __init__(self, routes: list[tuple[Globs, Dialect]]):
        self.routes = [(patterns or None, dialect) for patterns, dialect in routes]

    def for_model(self, model: str) -> Dialect:
        for patterns, dialect in self.routes:
            if patterns is None or patterns.match(model):
                return dialect
        raise NotFound(f"no spec of this provider serves model {model!r}", param="model")


class Switchboard:
    def __init__(self, root: Path):
        self.root = root
        self.providers, raw_caps = load_tables(root)
        self.matrix = Matrix(raw_caps)
        self._raw_capabilities = raw_caps
        self.files = SpecFiles(root)
        self._option_defaults = {p: {k: v for k, v in entry.get("options", {}).items() if v is not None}
                                 for p, entry in self.providers.items()}
        self._base_env = {p: env for p in self.providers if (env := self._default_env(p)) is not None}
        self.dialects: dict[str, Routes] = {}
        for provider, entry in self.providers.items():
            if entry["spec"] is not None:
                self.dialects[provider] = self._routes(provider, entry["spec"])

    def _routes(self, provider: str, spec: Any) -> "Routes":
        """A provider's spec, or its model-routed specs (one account, several families)."""
        routes = spec if isinstance(spec, list) else [{"spec": spec}]
        compiled = []
        for route in routes:
            resolved = self.files.resolved(route["spec"])
            if resolved.get("abstract"):
                raise SpecError("an abstract spec cannot serve a provider",
                                file="providers.yaml", where=f"providers.{provider}.spec")
            dialect = Dialect(provider, resolved, f"specs/{route['spec']}.yaml")
            compiled.append((Globs(route.get("models")), dialect))
        return Routes(compiled)

    def warm(self, providers: Iterable[str] | None = None) -> "Switchboard":
        """Compile the generated modules of `providers` (default: every spec) now instead of on
        their first request (a server calls this at start-up with the providers its accounts
        use: ~130 ms for all, so no first request pays ~8 ms for its dialect, and a dialect no
        account can reach costs no memory)."""
        wanted = self.dialects if providers is None else [p for p in providers if p in self.dialects]
        for provider in wanted:
            for _, dialect in self.dialects[provider].routes:
                dialect.ready()
        self.matrix.module.load()
        return self

    # -- lookup ------------------------------------------------------------------
    def dialect(self, provider: str, model: str = "") -> Dialect:
        found = self.dialects.get(provider)
        if found is not None:
            return found.for_model(model).ready()
        if provider in self.providers:
            raise RequestError(f"provider {provider!r} has no spec yet; it cannot be called",
                               param="model", code="provider_not_implemented")
        raise NotFound(f"unknown provider {provider!r}", param="model")

    def spec_names(self, provider: str) -> list[str]:
        spec = self.providers[provider]["spec"]
        return [] if spec is None else [spec] if isinstance(spec, str) else [r["spec"] for r in spec]

    def _env(self, provider: str, request: dict, model: str, options: dict | None,
             base_url: str | None) -> dict:
        base = None if options or base_url else self._base_env.get(provider)
        if base is not None:  # the provider's own defaults: bound once, at load
            env = base.copy()
        else:
            opts = {**self._option_defaults[provider], **(options or {})}
            env = {**opts, "options": opts, "provider": provider,
                   "base_url": _base_url(base_url or self.providers[provider]["base_url"], opts)}
        env["request"], env["model"], env["stream"] = request, model, bool(request.get("stream"))
        return env

    def _default_env(self, provider: str) -> dict | None:
        """The bindings of a call with no options of its own, or None when the base URL needs an
        option that has no default (a resource name, say): such calls bring theirs."""
        opts = self._option_defaults[provider]
        try:
            url = _base_url(self.providers[provider]["base_url"], opts)
        except SpecError:
            return None
        return {**opts, "options": opts, "provider": provider, "base_url": url}

    # -- public API --------------------------------------------------------------
    def check(self, provider: str, body: Any, *, model: str | None = None,
              policy: str = "refuse") -> Checked:
        """Refuse what the target does not support, before any I/O (raises UnsupportedFeature)."""
        return self._checked(provider, body, model, policy)[0]

    def _checked(self, provider: str, body: Any, model: str | None, policy: str) -> tuple[Checked, Dialect]:
        facts = check_request(body)
        model = model or body["model"]
        dialect = self.dialect(provider, model)
        return self.matrix.check(provider, model, body, policy, facts), dialect

    def translate_request(self, provider: str, body: Any, *, model: str | None = None,
                          options: dict | None = None, base_url: str | None = None,
                          policy: str = "refuse") -> HttpRequest:
        checked, dialect = self._checked(provider, body, model, policy)
        model = model or body["model"]
        env = self._env(provider, checked.request, model, options, base_url)
        env["traits"] = checked.traits
        request, stream = env["request"], env["stream"]
        return HttpRequest(dialect.method, (dialect.stream_url if stream else dialect.url)(request, env),
                           dialect.headers(request, env), dialect.body(request, env), stream, provider, model,
                           checked.reports)

    def translate_response(self, provider: str, body: Any, *, request: dict | None = None,
                           model: str | None = None, now: int | None = None) -> dict:
        """The provider's answer as a chat.completion. A body with no completion in it (an error
        object sent with HTTP 200, {} or []) raises UpstreamError (502) with the provider's message."""
        env = self._response_env(provider, request, model, now)
        dialect = self.dialect(provider, env["model"])
        data = _json(body)
        completion = dialect.response(data, env)
        if not completion.get("choices"):
            err = dialect.error(200, data, env)
            raise UpstreamError(f"{err.message} (an HTTP 200 answer with no completion in it)", status=502,
                                code="bad_upstream_response")
        return completion

    def stream(self, provider: str, request: dict, *, model: str | None = None,
               now: int | None = None, reports: list[dict] | None = None) -> StreamTranslator:
        env = self._response_env(provider, request, model, now)
        dialect = self.dialect(provider, env["model"])
        if dialect.framing is None:
            raise RequestError(f"provider {provider!r} has no stream mapping", param="stream",
                               code="unsupported_feature")
        env["reports"] = list(reports or ())
        include = bool((request.get("stream_options") or {}).get("include_usage"))
        return StreamTranslator(dialect, env, include, env["now"])

    def translate_error(self, provider: str, status: int, body: Any,
                        request: dict | None = None, model: str | None = None) -> UpstreamError:
        env = self._response_env(provider, request, model, None)
        try:
            data = _json(body)
        except UpstreamError:
            data = None
        return self.dialect(provider, env["model"]).error(status, data, env)

    def media_to_fetch(self, provider: str, body: dict, *, model: str | None = None) -> list:
        """The media URLs this target needs as bytes (engine.media.MediaRef list); the caller
        fetches them and passes the request through `engine.media.inlined` before translating."""
        from .media import to_fetch
        kinds = self.dialect(provider, model or _model_of(body)).media_inline
        refs = to_fetch(body, kinds) if kinds else []  # to_fetch reads malformed data safely
        if refs:
            check_request(body)  # malformed requests are refused before anything is fetched for them
        return refs

    def capabilities(self) -> dict:
        """The matrix as data (what `switchboard table --format json` prints)."""
        from .table import matrix_data
        return matrix_data(self)

    def _response_env(self, provider: str, request: dict | None, model: str | None,
                      now: int | None) -> dict:
        request = request or {}
        model = model or request.get("model") or ""
        traits = self.matrix.resolve(provider, model).traits if model else {}
        return {"request": request, "model": model, "provider": provider, "traits": traits,
                "now": int(time.time()) if now is None else now,
                "fresh_ids": now is None}  # a fixed clock makes made-up ids reproducible too


def _base_url(template: str, opts: dict) -> str:
    if "{" not in template:  # most base URLs name no option
        return template
    return template.format_map(_Strict(opts))


def _model_of(body: Any) -> str:
    model = body.get("model") if isinstance(body, dict) else None
    return model if isinstance(model, str) else ""


class _Strict(dict):
    def __missing__(self, key: str) -> str:
        raise SpecError(f"base_url needs option {key!r}", file="providers.yaml")


def _json(body: Any) -> Any:
    if isinstance(body, (bytes, bytearray, str)):
        try:
            return orjson.loads(body)
        except orjson.JSONDecodeError:
            raise UpstreamError("upstream answered with malformed JSON", status=502,
                                code="bad_upstream_response") from None
    return body


def load(root: str | Path | None = None) -> Switchboard:
    """Load and compile everything under `root` (default: the bundled data)."""
    return Switchboard(Path(root) if root is not None else bundled_root())
