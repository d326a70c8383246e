"""litellm's own transformations, called offline, as the peer baseline (bench-only dependency).

The same inputs as ours: request JSON bytes, recorded response bytes, recorded stream bytes.
litellm mutates its inputs, so every request call parses a fresh copy from the bytes (the same
parse ours pays). Nothing here serializes litellm's output, which favours litellm slightly.
"""
from __future__ import annotations

import copy
import datetime
import logging
import os

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")   # else `import litellm` fetches a price map

import httpx                                                      # noqa: E402
import litellm                                                    # noqa: E402
import orjson                                                     # noqa: E402
from litellm.litellm_core_utils.litellm_logging import Logging    # noqa: E402
from litellm.types.utils import LlmProviders, ModelResponse       # noqa: E402
from litellm.utils import ProviderConfigManager, get_optional_params  # noqa: E402

litellm.suppress_debug_info = True
logging.getLogger("LiteLLM").setLevel(logging.CRITICAL)

PROVIDERS = ("openai", "anthropic", "gemini", "bedrock")
VERSION = litellm.version if isinstance(getattr(litellm, "version", None), str) else None
_PARAMS = ("tools", "tool_choice", "max_tokens", "max_completion_tokens", "temperature", "top_p", "stop")
_URL = httpx.Request("POST", "https://upstream.invalid/")


def _config(p):
    return ProviderConfigManager.get_provider_chat_config(model=p.model, provider=LlmProviders(p.provider))


def _logging(p, stream: bool) -> Logging:
    lg = Logging(model=p.model, messages=[{"role": "user", "content": "hi"}], stream=stream,
                 call_type="completion", start_time=datetime.datetime.now(), litellm_call_id="bench",
                 function_id="bench")
    lg.update_environment_variables(model=p.model, user=None, optional_params={},
                                    litellm_params={"litellm_call_id": "bench"}, custom_llm_provider=p.provider)
    return lg


def request(p):
    """OpenAI body bytes -> provider body: get_optional_params + the config's transform_request."""
    cfg, model, provider = _config(p), p.model, p.provider
    if provider == "gemini":   # VertexGeminiConfig.transform_request is not implemented; the body builder is this
        from litellm.llms.vertex_ai.gemini.transformation import transform_request_body

        def body(messages, opt):
            return transform_request_body(messages=messages, model=model, optional_params=opt,
                                          custom_llm_provider=provider, litellm_params={}, cached_content=None)
    else:
        def body(messages, opt):
            return cfg.transform_request(model=model, messages=messages, optional_params=opt,
                                         litellm_params={}, headers={})

    def run():
        req = orjson.loads(p.request_bytes)
        opt = get_optional_params(model=model, custom_llm_provider=provider, messages=req["messages"],
                                  **{k: req[k] for k in _PARAMS if k in req})
        opt.pop("stream", None)
        return body(req["messages"], opt)
    return run


def response(p):
    """Provider body bytes -> ModelResponse: the config's transform_response on an httpx.Response."""
    cfg, lg = _config(p), _logging(p, False)
    messages = copy.deepcopy(p.request["messages"])

    def run():
        raw = httpx.Response(200, content=p.response_bytes, headers={"content-type": "application/json"},
                             request=_URL)
        return cfg.transform_response(model=p.model, raw_response=raw, model_response=ModelResponse(),
                                      logging_obj=lg, request_data={}, messages=messages, optional_params={},
                                      litellm_params={}, encoding=None, api_key=None, json_mode=False)
    return run


def _parser(p, lg):
    """litellm's per-provider stream parser over the raw bytes (what its handlers build)."""
    if p.provider == "bedrock":
        from litellm.llms.bedrock.chat.invoke_handler import AWSEventStreamDecoder
        return AWSEventStreamDecoder(model=p.model).iter_bytes(iter([p.stream_bytes]))
    lines = httpx.Response(200, content=p.stream_bytes).iter_lines()
    if p.provider == "anthropic":
        from litellm.llms.anthropic.chat.handler import ModelResponseIterator
        return ModelResponseIterator(streaming_response=lines, sync_stream=True, json_mode=False)
    if p.provider == "gemini":
        from litellm.llms.vertex_ai.gemini.vertex_and_google_ai_studio_gemini import ModelResponseIterator
        return iter(ModelResponseIterator(streaming_response=lines, sync_stream=True, logging_obj=lg))
    return _config(p).get_model_response_iterator(streaming_response=lines, sync_stream=True, json_mode=False)


def stream(p):
    """Stream bytes -> OpenAI chunks: the parser wrapped in CustomStreamWrapper, as litellm.completion does."""
    def run():
        lg = _logging(p, True)
        wrapper = litellm.CustomStreamWrapper(completion_stream=_parser(p, lg), model=p.model,
                                              custom_llm_provider=p.provider, logging_obj=lg,
                                              stream_options={"include_usage": True})
        return list(wrapper)
    return run


def stream_parser(p):
    """The parser alone: provider-shaped pieces, not yet OpenAI chunks (informational)."""
    def run():
        return list(_parser(p, _logging(p, True)))
    return run
