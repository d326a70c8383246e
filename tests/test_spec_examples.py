"""Every spec's `examples:` run as tests (Jolt's data-driven habit): found by glob,
one pytest id per `<spec>::<example>`, compared exactly.

Example kinds, by the keys present:
- request + body (+ http, reports): the provider request the engine must build;
- request + refusal: the request must be refused before I/O with that code and param;
- response + output: a provider response and the chat.completion it becomes;
- events + chunks: a provider stream (decoded events) and the chunks it becomes;
- status + response + error: a provider error body and the OpenAI error it becomes.
"""
from __future__ import annotations

import pytest

import engine
from engine.loader import SpecFiles, bundled_root
from tests.support.wire import frame

NOW = 1700000000
_SB = engine.load()
_FILES = SpecFiles(bundled_root())


def _cases():
    by_spec = {spec: name for name in _SB.providers for spec in _SB.spec_names(name)}
    for spec in _FILES.names():
        provider = by_spec.get(spec)
        for example in _FILES.raw(spec).get("examples", []):
            yield pytest.param(spec, provider, example, id=f"{spec}::{example['name']}")


def _request(example: dict) -> dict:
    request = dict(example.get("request") or {"messages": [{"role": "user", "content": "hi"}]})
    request.setdefault("model", example.get("model", "test-model"))
    return request


@pytest.mark.parametrize("spec,provider,example", list(_cases()))
def test_spec_example(spec: str, provider: str | None, example: dict) -> None:
    assert provider is not None, f"spec {spec} serves no provider in providers.yaml"
    request = _request(example)
    model = example.get("model")
    if "refusal" in example:
        with pytest.raises((engine.UnsupportedFeature, engine.TransformError)) as caught:
            _SB.translate_request(provider, request, model=model, options=example.get("options"))
        err = caught.value.to_openai()["error"]
        want = example["refusal"]
        assert err["code"] == want["code"] and err["param"] == want.get("param"), err
        assert want.get("message", "") in err["message"], err
        return
    if "body" in example:
        got = _SB.translate_request(provider, request, model=model, options=example.get("options"),
                                    policy=example.get("policy", "refuse"))
        assert got.json == example["body"]
        for key, value in (example.get("http") or {}).items():
            actual = getattr(got, key) if key != "headers" else {
                k: got.headers.get(k) for k in value}
            assert actual == value, key
        assert got.reports == example.get("reports", [])
        return
    if "events" in example:
        dialect = _SB.dialect(provider, model or request["model"])
        raw = frame(dialect.framing, example["events"], named=dialect.event_type is not None)
        st = _SB.stream(provider, request, model=model, now=NOW)
        chunks = st.feed(raw) + st.close()
        assert chunks == example["chunks"]
        return
    if "error" in example:
        err = _SB.translate_error(provider, example["status"], example["response"], request)
        assert {"status": err.status, **err.to_openai()["error"]} == example["error"]
        return
    got = _SB.translate_response(provider, example["response"], request=request, model=model, now=NOW)
    assert got == example["output"]
