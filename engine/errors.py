"""Errors as values with a location, each convertible to OpenAI's error object.

Two times, two kinds (as Jolt does): `SpecError` happens when specs load (file and
YAML path); everything else happens per request and carries a JSON path into the
data (`messages[2].content[0]`) as OpenAI's `param`.
"""
from __future__ import annotations

from typing import Any


class SwitchboardError(Exception):
    """Base class. `status` is the HTTP status a gateway should answer with."""

    status = 500
    type = "server_error"
    code: str | None = None

    def __init__(self, message: str, *, param: str | None = None, code: str | None = None):
        super().__init__(message)
        self.message = message
        self.param = param
        if code is not None:
            self.code = code

    def to_openai(self) -> dict[str, Any]:
        """OpenAI's error envelope: {"error": {message, type, param, code}}."""
        return {"error": {"message": self.message, "type": self.type,
                          "param": self.param, "code": self.code}}


class SpecError(SwitchboardError):
    """A spec, providers.yaml or capabilities.yaml that is malformed: file, location, reason."""

    code = "spec_error"

    def __init__(self, message: str, *, file: str | None = None, where: str | None = None):
        self.file, self.where = file, where
        loc = ":".join(part for part in (file, where) if part)
        super().__init__(f"{loc}: {message}" if loc else message)


class RequestError(SwitchboardError):
    """The client's request is malformed or names something that does not exist."""

    status = 400
    type = "invalid_request_error"
    code = "invalid_request"


class NotFound(RequestError):
    """Unknown provider, account or model."""

    status = 404
    code = "model_not_found"


class UnsupportedFeature(RequestError):
    """A feature or parameter the target (provider, model) does not support; raised before I/O."""

    code = "unsupported_feature"

    def __init__(self, message: str, *, param: str | None, code: str = "unsupported_feature",
                 provider: str = "", model: str = "", feature: str = ""):
        super().__init__(message, param=param, code=code)
        self.provider, self.model, self.feature = provider, model, feature


class TransformError(SwitchboardError):
    """A transform could not run on this data; `path` says where in the data."""

    status = 400
    type = "invalid_request_error"
    code = "invalid_value"

    def __init__(self, message: str, path: tuple = ()):
        self.path = tuple(path)
        super().__init__(message, param=render_path(self.path) or None)

    def within(self, *prefix: Any) -> "TransformError":
        """The same error, located one level further out."""
        err = type(self)(self.message, prefix + self.path)
        err.status, err.type, err.code = self.status, self.type, self.code
        return err

    def __str__(self) -> str:
        where = render_path(self.path)
        return f"{where}: {self.message}" if where else self.message

    def to_openai(self) -> dict[str, Any]:
        out = super().to_openai()
        out["error"]["message"] = str(self)
        return out


class UpstreamError(SwitchboardError):
    """The provider answered with an error; mapped to OpenAI's shape and a fitting status."""

    def __init__(self, message: str, *, status: int = 502, type: str = "api_error",
                 code: str | None = None, param: str | None = None, raw: Any = None,
                 retry_after: float | None = None):
        super().__init__(message, param=param, code=code)
        self.status, self.type, self.raw, self.retry_after = status, type, raw, retry_after


class StreamError(UpstreamError):
    """An upstream stream that broke: bad framing, an error event, or no end. `partial`: the
    chunks the events before the bad one made (StreamTranslator.feed fills it)."""

    partial: list | tuple = ()

    def __init__(self, message: str, **kw: Any):
        kw.setdefault("status", 502)
        kw.setdefault("code", "upstream_stream_error")
        super().__init__(message, **kw)


def render_path(path: tuple) -> str:
    """('messages', 2, 'content', 0) -> 'messages[2].content[0]'."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out
