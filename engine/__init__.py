"""Switchboard's engine: OpenAI Chat Completions <-> provider dialects, driven by YAML specs.

    import engine
    sb = engine.load()
    req = sb.translate_request(provider, openai_body)
"""
from .capabilities import Checked
from .errors import (NotFound, RequestError, SpecError, StreamError, SwitchboardError,
                     TransformError, UnsupportedFeature, UpstreamError)
from .switchboard import HttpRequest, Switchboard, load

__all__ = ["load", "Switchboard", "HttpRequest", "Checked", "SwitchboardError", "SpecError",
           "RequestError", "NotFound", "UnsupportedFeature", "TransformError", "UpstreamError",
           "StreamError"]
