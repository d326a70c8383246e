"""A compiled spec: one provider dialect, as closures ready to run.

Built once at load (after the JSON Schema check and `extends:` merge); per request the
engine only calls these closures. Rules that are the OpenAI contract itself live
here, once, instead of in every spec: a finish reason outside the spec's table maps
to `stop` with the raw value kept as `provider_finish_reason`; a choice with tool
calls that the provider says merely stopped finishes with `tool_calls`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from .errors import SpecError, TransformError, UpstreamError
from .codegen import direct
from .forms import MISSING, Compiler, Node
from .functions import FUNCTIONS, completion_id
from .templates import compile_template, make_environment

ACTIONS = ("start", "text", "refusal", "reasoning", "signature", "redacted", "tool_call",
           "annotations", "release", "finish", "usage", "error", "end")
_JINJA = make_environment(FUNCTIONS)
_STATUS_TYPES = {400: "invalid_request_error", 401: "authentication_error", 403: "permission_error",
                 404: "not_found_error", 408: "timeout_error", 413: "invalid_request_error",
                 422: "invalid_request_error", 429: "rate_limit_error"}


@dataclass(frozen=True)
class Action:
    kind: str
    node: Node | None
    when: Callable[[Any, dict], bool] | None
    each: Node | None
    name: str | None
    do: tuple


class Dialect:
    def __init__(self, name: str, spec: dict, file: str):
        self.name, self.spec, self.file = name, spec, file
        self.title = spec.get("title", name)
        self.c = Compiler(FUNCTIONS, spec.get("define", {}),
                          lambda text, where: compile_template(_JINJA, text, file, where), file)
        req = spec.get("request") or {}
        if "body" not in req or "url" not in req:
            raise SpecError("a dialect needs request.url and request.body", file=file, where="request")
        self.method = req.get("method", "POST")
        self.url = self._string(req["url"], "request.url")
        self.stream_url = self._string(req.get("stream_url", req["url"]), "request.stream_url")
        self.headers = self.c.compile(req.get("headers", {}), "request.headers")
        self.body = self.c.compile(req["body"], "request.body")
        resp = spec.get("response") or {}
        if "body" not in resp:
            raise SpecError("a dialect needs response.body", file=file, where="response")
        self.response_body = self.c.compile(resp["body"], "response.body")
        self.finish_table: dict[str, str] = spec.get("finish_reasons", {})
        self.usage_node = self.c.define("usage", "define.usage") if "usage" in spec.get("define", {}) else None
        self._stream(spec.get("stream"))
        errors = spec.get("errors") or {}
        self.error_body = self.c.compile(errors["body"], "errors.body") if "body" in errors else None
        self.error_status = {str(k): v for k, v in (errors.get("status") or {}).items()}
        self.media_inline: tuple[str, ...] = tuple((spec.get("media") or {}).get("inline", ()))
        self._ready = False

    _CALLABLES = ("url", "stream_url", "headers", "body", "response_body", "usage_node", "error_body",
                  "event_type")

    def ready(self) -> "Dialect":
        """Compile the generated module on first use; from then on call its functions directly."""
        if not self._ready:
            self.c.module.load()
            for attr in self._CALLABLES:
                setattr(self, attr, direct(getattr(self, attr)))
            self.on = {kind: tuple(_direct_action(a) for a in acts) for kind, acts in self.on.items()}
            self._ready = True
        return self

    # -- compile helpers ---------------------------------------------------------------
    def _string(self, node: Any, where: str) -> Node:
        if isinstance(node, str):
            return self.c.template(node, where)
        return self.c.compile(node, where)

    def _stream(self, raw: dict | None) -> None:
        if raw is not None and ("framing" not in raw or "events" not in raw):
            raise SpecError("a stream needs `framing` and `events`", file=self.file, where="stream")
        self.framing = raw["framing"] if raw else None
        self.done = raw.get("done") if raw else None
        self.event_type = self.c.expr(raw["event"], "stream.event") if raw and "event" in raw else None
        self.on = {kind: self._actions(acts, f"stream.events.{kind}")
                   for kind, acts in (raw or {}).get("events", {}).items()}

    def _actions(self, raw: list, where: str) -> tuple:
        return tuple(self._action(a, f"{where}[{i}]") for i, a in enumerate(raw))

    def _action(self, raw: dict, where: str) -> Action:
        kinds = [k for k in ACTIONS if k in raw]
        test = self.c.test(raw["when"], f"{where}.when") if "when" in raw else None
        if "each" in raw:
            if kinds or "do" not in raw:
                raise SpecError("`each` takes `as` and `do`, and no action word", file=self.file, where=where)
            return Action("each", None, test, self.c.expr(raw["each"], f"{where}.each"),
                          raw.get("as"), self._actions(raw["do"], f"{where}.do"))
        if len(kinds) != 1:
            raise SpecError(f"an action has exactly one of {ACTIONS}, got {kinds}", file=self.file, where=where)
        kind = kinds[0]
        return Action(kind, self.c.compile(raw[kind], f"{where}.{kind}"), test, None, None, ())

    # -- response ----------------------------------------------------------------
    def finish_reason(self, raw: Any, has_tools: bool) -> dict:
        """OpenAI's finish_reason for the provider's `raw` one, by the spec's table: anything
        else is `stop`, with the raw value kept as `provider_finish_reason`; a choice with tool
        calls the provider says merely stopped finishes with `tool_calls` (some say nothing),
        and one without tool calls never does (a forced tool whose input became content)."""
        out: dict[str, Any] = {}
        self._finish(out, raw, has_tools)
        return out

    def usage(self, raw: Any, env: dict) -> Any:
        if self.usage_node is None or raw is MISSING or raw is None:
            return None
        usage = self.usage_node(raw, env)
        return None if usage is MISSING else _total(usage)

    def response(self, body: Any, env: dict) -> dict:
        """`env` is this call's own (Switchboard._response_env builds one per call): the body is
        bound in it as `$response` without a copy."""
        env["response"] = body
        try:
            out = self.response_body(body, env)
        except TransformError as exc:
            raise UpstreamError(f"{self.name} response could not be read: {exc}",
                                code="bad_upstream_response") from None
        if not isinstance(out, dict):
            raise UpstreamError(f"{self.name} response could not be read", code="bad_upstream_response")
        if "id" not in out:
            out["id"] = completion_id(env.get("model"), env.get("now"), env.get("fresh_ids", False))
        if "object" not in out:
            out["object"] = "chat.completion"
        if "created" not in out:
            out["created"] = env.get("now", 0)
        if "model" not in out:
            out["model"] = env.get("model") or ""
        choices = []
        for choice in out.get("choices") or ():
            choice = dict(choice)
            message = choice.get("message")
            self._finish(choice, choice.get("finish_reason"), bool(message.get("tool_calls")) if message else False)
            choices.append(choice)
        out["choices"] = choices
        usage = out.get("usage")
        if usage.__class__ is dict and "total_tokens" not in usage:
            out["usage"] = _total(usage)
        return out

    def _finish(self, into: dict, raw: Any, has_tools: bool) -> None:
        """`finish_reason` (and `provider_finish_reason`) written into a choice or chunk entry."""
        mapped = self.finish_table.get(raw) if raw.__class__ is str else None
        if mapped is None:
            if raw is not None:
                into["provider_finish_reason"] = raw
            mapped = "stop"
        if has_tools:
            into["finish_reason"] = "tool_calls" if mapped == "stop" else mapped
        else:
            into["finish_reason"] = "stop" if mapped == "tool_calls" else mapped

    # -- errors ------------------------------------------------------------------
    def error(self, status: int, body: Any, env: dict) -> UpstreamError:
        fields: dict = {}
        if self.error_body is not None and isinstance(body, dict):
            try:
                got = self.error_body(body, env)
                fields = got if isinstance(got, dict) else {}
            except TransformError:
                fields = {}
        mapped = self.error_status.get(str(status), status if 400 <= status < 600 else 502)
        message = fields.get("message") or f"{self.name} returned HTTP {status}"
        kind = fields.get("type") or _STATUS_TYPES.get(mapped, "api_error" if mapped < 500 else "server_error")
        return UpstreamError(f"{self.title}: {message}", status=mapped, type=kind,
                             code=fields.get("code"), param=fields.get("param"), raw=body)


def _direct_action(action: Action) -> Action:
    return Action(action.kind, direct(action.node), direct(action.when), direct(action.each), action.name,
                  tuple(_direct_action(a) for a in action.do))


def _total(usage: dict) -> dict:
    if "total_tokens" not in usage:
        prompt, completion = usage.get("prompt_tokens"), usage.get("completion_tokens")
        if isinstance(prompt, int) and isinstance(completion, int):
            usage = {**usage, "total_tokens": prompt + completion}
    return usage
