"""Bad input and upstream faults through the real gateway: every outcome is an
OpenAI-shaped error with a fitting status (never a 500 page, a traceback or a hang)."""
from __future__ import annotations

import json

import httpx
import openai
import pytest

from tests.support.servers import KEY

HI = [{"role": "user", "content": "Hi"}]


def _post(url: str, body: bytes | str, headers: dict | None = None) -> httpx.Response:
    h = {"authorization": f"Bearer {KEY}", "content-type": "application/json", **(headers or {})}
    return httpx.post(url + "/v1/chat/completions", content=body, headers=h, timeout=20)


def _error(r: httpx.Response) -> dict:
    body = r.json()
    assert set(body) == {"error"} and set(body["error"]) == {"message", "type", "param", "code"}, body
    assert "Traceback" not in body["error"]["message"]
    return body["error"]


@pytest.mark.parametrize("body,status,code,param", [
    (b"{not json", 400, "invalid_json", None),
    (b"[1, 2]", 400, "invalid_json", None),
    (b'{"model": 5, "messages": []}', 400, "invalid_type", "model"),
    (b'{"messages": [{"role": "user", "content": "x"}]}', 400, "invalid_type", "model"),
    (b'{"model": null, "messages": [{"role": "user", "content": "x"}]}', 400, "invalid_type", "model"),
    (b'{"model": "openai-main/", "messages": [{"role": "user", "content": "x"}]}', 400, "invalid_type", "model"),
    (b'{"model": "gpt-4o", "messages": []}', 404, "model_not_found", "model"),
    (b'{"model": "nobody/gpt-4o", "messages": [{"role": "user", "content": "x"}]}', 404, "model_not_found", "model"),
    (b'{"model": "openai-main/gpt-4o", "messages": "hello"}', 400, "invalid_type", "messages"),
    (b'{"model": "openai-main/gpt-4o", "messages": [{"role": "robot", "content": "x"}]}', 400, "invalid_type",
     "messages[0].role"),
    (b'{"model": "openai-main/gpt-4o", "messages": [{"role": "user", "content": "x"}], "temperature": "hot"}', 400,
     "invalid_type", "temperature"),
    (b'{"model": "anthropic-main/claude-sonnet-4-5", "messages": [{"role": "user", "content": [{"type": "input_audio",'
     b' "input_audio": {"data": "AA==", "format": "wav"}}]}]}', 400, "unsupported_feature",
     "messages[0].content[0]"),
    (b'{"model": "groq-only-llama/other-model", "messages": [{"role": "user", "content": "x"}]}', 404,
     "model_not_found", "model"),
])
def test_bad_requests_get_clear_4xx(gateway_url: str, body: bytes, status: int, code: str, param: str) -> None:
    r = _post(gateway_url, body)
    assert r.status_code == status, r.text
    err = _error(r)
    assert err["code"] == code and err["param"] == param and err["message"]
    assert r.headers["x-request-id"]


def test_unsupported_feature_names_provider_model_and_feature(client) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(model="openai-main/o3-mini", messages=HI, temperature=0.3)
    err = caught.value.body
    assert err["code"] == "unsupported_parameter" and err["param"] == "temperature"
    assert "openai" in err["message"] and "o3-mini" in err["message"] and "temperature" in err["message"]


def test_drop_policy_per_account_and_per_request(gateway_url: str) -> None:
    body = json.dumps({"model": "anthropic-drop/claude-sonnet-4-5", "messages": HI, "seed": 3})
    r = _post(gateway_url, body)
    assert r.status_code == 200 and json.loads(r.headers["x-switchboard-reports"])[0]["type"] == "dropped"
    body = json.dumps({"model": "anthropic-main/claude-sonnet-4-5", "messages": HI, "seed": 3})
    assert _post(gateway_url, body).status_code == 400
    r = _post(gateway_url, body, {"x-switchboard-params": "drop"})
    assert r.status_code == 200 and "seed" in r.headers["x-switchboard-reports"]


def test_oversized_body_is_413(gateway_url: str) -> None:
    body = json.dumps({"model": "openai-main/gpt-4o", "messages": [{"role": "user", "content": "x" * 300_000}]})
    r = _post(gateway_url, body)
    assert r.status_code == 413 and _error(r)["code"] == "request_too_large"


def test_wrong_content_type_is_refused(gateway_url: str) -> None:
    r = _post(gateway_url, "model=x", {"content-type": "application/x-www-form-urlencoded"})
    assert r.status_code == 415 and _error(r)["code"] == "unsupported_media_type"


@pytest.mark.parametrize("auth", [None, "Bearer wrong-key", "Basic abc", f"Bearer {KEY}x"])
def test_missing_or_wrong_key_is_401(gateway_url: str, auth: str | None) -> None:
    headers = {"content-type": "application/json"} | ({"authorization": auth} if auth else {})
    r = httpx.post(gateway_url + "/v1/chat/completions", content=b"{}", headers=headers)
    assert r.status_code == 401 and _error(r)["code"] == "invalid_api_key"


def test_official_client_with_a_wrong_key_gets_authentication_error(gateway_url: str) -> None:
    bad = openai.OpenAI(base_url=gateway_url + "/v1", api_key="nope-nope", max_retries=0)
    with pytest.raises(openai.AuthenticationError):
        bad.chat.completions.create(model="openai-main/gpt-4o", messages=HI)


def test_models_and_health(client, gateway_url: str) -> None:
    ids = {m.id for m in client.models.list()}
    assert "anthropic-main/claude-sonnet-4-5" in ids and "groq-only-llama/llama-3.3-70b-versatile" in ids
    assert len({i.split("/")[0] for i in ids}) >= 15, "every provider's main account lists its models"
    assert httpx.get(gateway_url + "/health").json() == {"status": "ok"}


def test_request_id_is_honoured(gateway_url: str) -> None:
    body = json.dumps({"model": "openai-main/gpt-4o", "messages": HI})
    assert _post(gateway_url, body, {"x-request-id": "abc-123"}).headers["x-request-id"] == "abc-123"


# -- upstream faults (injected by the emulator, per account) ------------------------------------
def _seen(emulator_url: str, key: str) -> int:
    return httpx.get(emulator_url + "/emulator/seen").json()["seen"].get(key, 0)


def test_429_is_retried_honouring_retry_after(client, emulator_url: str) -> None:
    r = client.chat.completions.create(model="anthropic-retry/claude-sonnet-4-5", messages=HI)
    assert r.choices[0].message.content == "You said: Hi"
    assert _seen(emulator_url, "retry-429") == 2


def test_5xx_is_retried_with_backoff(client, emulator_url: str) -> None:
    r = client.chat.completions.create(model="openai-retry/gpt-4o", messages=HI)
    assert r.choices[0].message.content == "You said: Hi"
    assert _seen(emulator_url, "retry-500") == 3


def test_persistent_429_reaches_the_client_with_retry_after(gateway_url: str) -> None:
    r = _post(gateway_url, json.dumps({"model": "anthropic-limited/claude-sonnet-4-5", "messages": HI}))
    assert r.status_code == 429 and r.headers["retry-after"] == "1"
    assert _error(r)["type"] == "rate_limit_error"


def test_persistent_503_is_a_server_error(client) -> None:
    with pytest.raises(openai.InternalServerError) as caught:
        client.chat.completions.create(model="openai-down/gpt-4o", messages=HI)
    assert caught.value.status_code == 503


def test_unreachable_provider_is_502(gateway_url: str) -> None:
    r = _post(gateway_url, json.dumps({"model": "nowhere/gpt-4o", "messages": HI}))
    assert r.status_code == 502 and _error(r)["code"] == "upstream_unreachable"


def test_malformed_upstream_json_is_502(gateway_url: str) -> None:
    r = _post(gateway_url, json.dumps({"model": "openai-badjson/gpt-4o", "messages": HI}))
    assert r.status_code == 502 and _error(r)["code"] == "bad_upstream_response"


def test_upstream_that_never_finishes_is_504_not_a_hang(gateway_url: str) -> None:
    r = _post(gateway_url, json.dumps({"model": "gemini-hang/gemini-2.5-flash", "messages": HI}))
    assert r.status_code == 504 and _error(r)["code"] == "upstream_timeout"


@pytest.mark.parametrize("model", ["anthropic-cut/claude-sonnet-4-5",
                                   "bedrock-badcrc/anthropic.claude-sonnet-4-5-20250929-v1:0"])
def test_stream_broken_midway_ends_with_an_error_event(client, model: str) -> None:
    stream = client.chat.completions.create(model=model, messages=HI, stream=True)
    with pytest.raises(openai.APIError) as caught:
        for _ in stream:
            pass
    assert caught.value.body and caught.value.body.get("code") == "upstream_stream_error"


def test_json_nested_deeper_than_the_encoder_writes_is_a_400(gateway_url: str) -> None:
    # orjson reads 1024 levels but writes 254: the request parses, then cannot be re-encoded
    deep: object = "x"
    for _ in range(300):
        deep = [deep]
    body = json.dumps({"model": "openai-main/gpt-4o", "messages": HI, "metadata": {"a": deep}})
    r = _post(gateway_url, body)
    assert r.status_code == 400 and _error(r)["code"] == "invalid_json"
    assert "nested too deeply" in _error(r)["message"]


@pytest.mark.parametrize("stream", [False, True])
def test_a_report_quoting_text_beyond_latin_1_is_an_ascii_header(gateway_url: str, stream: bool) -> None:
    body = json.dumps({"model": "anthropic-main/claude-sonnet-4-5", "messages": HI, "stream": stream,
                       "reasoning_effort": "\U0001f525 fast €"})
    r = _post(gateway_url, body, {"x-switchboard-params": "drop"})
    assert r.status_code == 200, r.text
    raw = r.headers["x-switchboard-reports"]
    assert raw.isascii() and "\U0001f525 fast €" in json.loads(raw)[0]["message"]


@pytest.mark.parametrize("method,path,allow", [
    ("GET", "/v1/chat/completions", "POST"), ("PUT", "/chat/completions", "POST"),
    ("POST", "/v1/models", "GET"), ("POST", "/health", "GET"), ("DELETE", "/metrics", "GET"),
])
def test_a_known_path_with_the_wrong_method_is_405_with_allow(gateway_url: str, method: str, path: str,
                                                               allow: str) -> None:
    r = httpx.request(method, gateway_url + path, headers={"authorization": f"Bearer {KEY}"})
    assert r.status_code == 405 and r.headers["allow"] == allow
    err = _error(r)
    assert err["code"] == "method_not_allowed" and method in err["message"] and allow in err["message"]


def test_an_unknown_path_is_404_naming_it(gateway_url: str) -> None:
    r = httpx.get(gateway_url + "/")
    assert r.status_code == 404 and _error(r)["message"] == "no route /"


@pytest.mark.parametrize("answer", [b'{"error": {"message": "model overloaded", "type": "server_error"}}', b"{}",
                                    b"[]"])
def test_an_http_200_without_a_completion_is_a_502(tmp_path, answer: bytes) -> None:
    from tests.support.servers import gateway_app, run_app

    async def upstream(scope, receive, send) -> None:   # an OpenAI-compatible host answering 200 with no answer
        if scope["type"] != "http":
            return
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": answer})

    with run_app(upstream) as up:
        config = tmp_path / "gw.yaml"
        config.write_text(json.dumps({"accounts": {"odd": {"provider": "openai", "base_url": up + "/v1",
                                                           "key": "sk-upstream-test"}}}))
        with run_app(gateway_app(up, str(config))) as gw:
            r = _post(gw, json.dumps({"model": "odd/gpt-4o-mini", "messages": HI}))
    err = _error(r)
    assert r.status_code == 502 and err["code"] == "bad_upstream_response", r.text
    assert "no completion" in err["message"] and ("model overloaded" in err["message"]) == (b"overloaded" in answer)


@pytest.mark.parametrize("status, code", [(401, "upstream_unauthorized"), (403, "upstream_forbidden")])
def test_a_provider_refusing_the_account_key_is_not_the_callers_key_and_the_key_is_masked(tmp_path, status: int,
                                                                                          code: str) -> None:
    from tests.support.servers import gateway_app, run_app
    secret = "sk-upstream-secret-4242"

    async def upstream(scope, receive, send) -> None:   # a provider that quotes the key it was sent
        if scope["type"] != "http":
            return
        body = json.dumps({"error": {"message": f"Incorrect API key provided: {secret}", "type": "invalid_request_error",
                                     "code": "invalid_api_key"}}).encode()
        await send({"type": "http.response.start", "status": status, "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": body})

    with run_app(upstream) as up:
        config = tmp_path / "gw.yaml"
        config.write_text(json.dumps({"accounts": {"odd": {"provider": "openai", "base_url": up + "/v1", "key": secret}}}))
        with run_app(gateway_app(up, str(config))) as gw:
            r = _post(gw, json.dumps({"model": "odd/gpt-4o-mini", "messages": HI}))
    err = _error(r)
    assert r.status_code == status and secret not in r.text and "[the account's key]" in err["message"]
    # the caller's own key was accepted: the code must not tell it to fix a key it cannot change
    assert err["code"] == code and "account 'odd'" in err["message"]


def test_a_base_url_carrying_credentials_is_refused_at_load(tmp_path) -> None:
    import engine
    from engine.errors import SpecError
    from engine.gateway.config import load_config
    config = tmp_path / "gw.yaml"
    config.write_text(json.dumps({"accounts": {"odd": {"provider": "openai", "base_url": "http://u:pw@127.0.0.1:9/v1",
                                                       "key": "sk-x"}}}))
    with pytest.raises(SpecError) as info:
        load_config(str(config), engine.load().providers)
    assert "accounts.odd.base_url" in str(info.value) and "pw" not in str(info.value)


@pytest.mark.parametrize("stream", [False, True])
def test_an_upstream_redirect_is_a_502_naming_it(tmp_path, stream: bool) -> None:
    from tests.support.servers import gateway_app, run_app

    async def upstream(scope, receive, send) -> None:   # a base_url that moved
        if scope["type"] != "http":
            return
        await send({"type": "http.response.start", "status": 307, "headers": [(b"location", b"/elsewhere")]})
        await send({"type": "http.response.body", "body": b""})

    with run_app(upstream) as up:
        config = tmp_path / "gw.yaml"
        config.write_text(json.dumps({"accounts": {"odd": {"provider": "openai", "base_url": up + "/v1",
                                                           "key": "sk-upstream-test"}}}))
        with run_app(gateway_app(up, str(config))) as gw:
            r = _post(gw, json.dumps({"model": "odd/gpt-4o-mini", "messages": HI, "stream": stream}))
    assert r.status_code == 502 and "HTTP 307" in _error(r)["message"], r.text


def test_a_relayed_retry_after_rounds_up(tmp_path) -> None:
    from tests.support.servers import gateway_app, run_app

    async def upstream(scope, receive, send) -> None:   # rate-limited, come back in 0.4 s
        if scope["type"] != "http":
            return
        body = json.dumps({"error": {"message": "slow down", "type": "rate_limit_error"}}).encode()
        await send({"type": "http.response.start", "status": 429,
                    "headers": [(b"content-type", b"application/json"), (b"retry-after", b"0.4")]})
        await send({"type": "http.response.body", "body": body})

    with run_app(upstream) as up:
        config = tmp_path / "gw.yaml"
        config.write_text(json.dumps({"accounts": {"odd": {"provider": "openai", "base_url": up + "/v1",
                                                           "key": "sk-upstream-test"}}}))
        with run_app(gateway_app(up, str(config), retries=0)) as gw:
            r = _post(gw, json.dumps({"model": "odd/gpt-4o-mini", "messages": HI}))
    assert r.status_code == 429 and r.headers["retry-after"] == "1", (r.status_code, r.headers)


def test_an_unknown_account_is_named_but_cut_short(gateway_url: str) -> None:
    name = "x" * 1000
    r = _post(gateway_url, json.dumps({"model": f"{name}/gpt-4o", "messages": HI}))
    err = _error(r)
    assert r.status_code == 404 and "x" * 200 + "..." in err["message"] and name not in err["message"]


@pytest.mark.parametrize("retry_read_timeouts, attempts", [(False, 1), (True, 3)])
def test_a_read_timeout_is_not_sent_again_unless_configured(tmp_path, retry_read_timeouts: bool,
                                                            attempts: int) -> None:
    """The provider has the request and answers after 1.5 s, past a 0.3 s read timeout: it may be
    generating, so by default the gateway answers 504 without billing a second generation."""
    import time

    from emulator.gateway import account_overrides
    from tests.support.recording import RecordingEmulator
    from tests.support.servers import gateway_app, run_app
    recorder = RecordingEmulator()
    with run_app(recorder) as up:
        slow = {**account_overrides(up)["openai-main"], "headers": {"x-emulator-latency-ms": "1500"}}
        config = tmp_path / "gw.yaml"
        config.write_text(json.dumps({"accounts": {"slow": slow}}))
        app = gateway_app(up, str(config), read_timeout=0.3, retries=2, backoff_base=0.01, backoff_max=0.02,
                          retry_read_timeouts=retry_read_timeouts)
        with run_app(app) as gw:
            r = _post(gw, json.dumps({"model": "slow/gpt-4o-mini", "messages": HI}))
            time.sleep(0.3)
    assert r.status_code == 504 and _error(r)["code"] == "upstream_timeout"
    assert len([s for s in recorder.seen if s.path.endswith("/chat/completions")]) == attempts
