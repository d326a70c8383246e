"""Operations and hostile input through the real gateway: metrics, readiness, the OpenAPI
document and a fuzzer driven by it, client disconnects, and secrets kept out of logs."""
from __future__ import annotations

import asyncio
import json
import logging
import os
import time

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.servers import KEY

HI = [{"role": "user", "content": "Hi"}]
AUTH = {"authorization": f"Bearer {KEY}", "content-type": "application/json"}


def test_metrics_count_requests_tokens_and_errors(client, gateway_url: str) -> None:
    client.chat.completions.create(model="anthropic-main/claude-haiku-4-5", messages=HI)
    httpx.post(gateway_url + "/v1/chat/completions", headers=AUTH,
               content=json.dumps({"model": "anthropic-main/claude-haiku-4-5", "messages": HI, "logit_bias": {"1": 1}}))
    text = httpx.get(gateway_url + "/metrics").text
    def sample(name: str, *labels: str) -> float:
        for line in text.splitlines():
            if line.startswith(name + "{") and all(label in line for label in labels):
                return float(line.rsplit(" ", 1)[1])
        raise AssertionError(f"no {name} sample with {labels}")
    ours = ('account="anthropic-main"', 'provider="anthropic"', 'model="claude-haiku-4-5"')
    assert sample("switchboard_requests_total", *ours, 'status="200"', 'stream="false"') >= 1
    assert sample("switchboard_tokens_total", *ours, 'direction="completion"') > 0
    assert sample("switchboard_errors_total", *ours, 'code="unsupported_parameter"') >= 1
    assert "switchboard_upstream_seconds_bucket" in text
    assert KEY not in text


def _sample(text: str, name: str, *labels: str) -> float:
    for line in text.splitlines():
        if line.startswith(name + "{") and all(label in line for label in labels):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_metrics_count_a_streams_tokens_and_its_error(client, gateway_url: str) -> None:
    """A stream's usage chunk comes with the provider's last events, not after them; a stream that
    breaks after its first byte is an error of its own (upstream_stream_error)."""
    ours = ('account="cerebras-main"', 'provider="cerebras"', 'model="llama-3.3-70b"')
    before = httpx.get(gateway_url + "/metrics").text
    chunks = list(client.chat.completions.create(model="cerebras-main/llama-3.3-70b", messages=HI, stream=True,
                                                 stream_options={"include_usage": True}))
    usage = chunks[-1].usage
    broken = httpx.post(gateway_url + "/v1/chat/completions", headers=AUTH, content=json.dumps(
        {"model": "anthropic-cut/claude-sonnet-4-5", "messages": HI, "stream": True}))
    assert broken.status_code == 200 and "upstream_stream_error" in broken.text
    after = httpx.get(gateway_url + "/metrics").text
    for direction, count in (("prompt", usage.prompt_tokens), ("completion", usage.completion_tokens)):
        grew = (_sample(after, "switchboard_tokens_total", *ours, f'direction="{direction}"')
                - _sample(before, "switchboard_tokens_total", *ours, f'direction="{direction}"'))
        assert grew == count > 0, direction
    cut = ('account="anthropic-cut"', 'code="upstream_stream_error"')
    assert _sample(after, "switchboard_errors_total", *cut) == _sample(before, "switchboard_errors_total", *cut) + 1


def test_ready_and_openapi(gateway_url: str) -> None:
    assert httpx.get(gateway_url + "/ready").status_code == 200
    doc = httpx.get(gateway_url + "/openapi.json").json()
    assert "/v1/chat/completions" in doc["paths"] and doc["openapi"].startswith("3.")


# -- fuzzing from the OpenAPI document: wrong types at every field, junk bodies ----------------
json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False)
                           | st.text(max_size=10),
                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner,
                                                                                       max_size=3),
                           max_leaves=8)


@st.composite
def mutated_requests(draw: st.DrawFn) -> dict:
    from engine.gateway.openapi import OPENAPI
    schema = OPENAPI["paths"]["/v1/chat/completions"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    body: dict = {"model": draw(st.sampled_from(["openai-main/gpt-4o-mini", "anthropic-main/claude-sonnet-4-5",
                                                 "gemini-main/gemini-2.5-flash", "groq-main/llama-3.3-70b-versatile",
                                                 "bedrock-main/amazon.nova-pro-v1:0"])),
                  "messages": [{"role": "user", "content": "hi"}]}
    for key in draw(st.lists(st.sampled_from(sorted(schema["properties"])), max_size=4, unique=True)):
        body[key] = draw(json_values)
    if draw(st.booleans()):
        body["messages"] = draw(st.lists(st.dictionaries(st.sampled_from(
            ["role", "content", "tool_calls", "tool_call_id", "name"]), json_values, max_size=3), max_size=3))
    return body


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                   HealthCheck.function_scoped_fixture])
@given(body=mutated_requests())
def test_fuzzed_bodies_never_get_a_5xx(gateway_url: str, body: dict) -> None:
    body.pop("stream", None)  # streams answer 200 then speak SSE; covered elsewhere
    r = httpx.post(gateway_url + "/v1/chat/completions", headers=AUTH, content=json.dumps(body), timeout=20)
    assert r.status_code < 500, r.text
    if r.status_code >= 400:
        err = r.json()["error"]
        assert err["message"] and err["type"] and "Traceback" not in err["message"]


@pytest.mark.parametrize("raw,code", [
    (b'{"model": "openai-main/gpt-4o", "messages": [{"role": "user", "content": "\xff\xfe"}]}', "invalid_json"),
    (b"[" * 5000 + b"]" * 5000, "invalid_json"),
    (json.dumps({"model": "openai-main/gpt-4o", "messages": HI,
                 "response_format": {"type": "json_schema", "json_schema": {"name": "n", "schema": {}}},
                 "tools": [{"type": "function", "function": {"name": "f", "parameters": {
                     "type": "object", "properties": {"x": {"a": None}}}}}]}).encode(), None),
])
def test_hostile_bodies_get_clean_answers(gateway_url: str, raw: bytes, code: str | None) -> None:
    r = httpx.post(gateway_url + "/v1/chat/completions", headers=AUTH, content=raw)
    assert r.status_code < 500
    if code:
        assert r.json()["error"]["code"] == code


def test_duplicate_keys_take_the_last_value(gateway_url: str) -> None:
    raw = b'{"model": "nobody/x", "model": "openai-main/gpt-4o", "messages": [{"role": "user", "content": "hi"}]}'
    assert httpx.post(gateway_url + "/v1/chat/completions", headers=AUTH, content=raw).status_code == 200


def test_deeply_nested_tool_schema_is_a_4xx_not_a_crash(gateway_url: str) -> None:
    depth = 900   # past what orjson parses: nested that deep, JSON text is refused outright
    schema = '{"type":"object","properties":{"x":' * depth + '{"type":"string"}' + "}}" * depth
    raw = ('{"model":"gemini-main/gemini-2.5-flash","messages":[{"role":"user","content":"hi"}],'
           '"tools":[{"type":"function","function":{"name":"f","parameters":' + schema + '}}]}')
    r = httpx.post(gateway_url + "/v1/chat/completions", headers=AUTH, content=raw)
    assert r.status_code < 500


def test_client_disconnect_mid_stream_cancels_the_upstream(gateway_url: str, emulator_url: str) -> None:
    from tests.support.servers import running_gateways
    gateway = running_gateways[gateway_url]
    fds_before = len(os.listdir("/proc/self/fd"))

    async def go() -> None:
        async with httpx.AsyncClient(timeout=10) as c:
            for _ in range(5):
                body = {"model": "anthropic-slow/claude-sonnet-4-5", "stream": True,
                        "messages": [{"role": "user", "content": "a long story " * 20}]}
                async with c.stream("POST", gateway_url + "/v1/chat/completions", headers=AUTH,
                                    content=json.dumps(body)) as r:
                    async for _ in r.aiter_bytes():
                        break  # read one piece, then hang up
        for _ in range(50):
            if not gateway.streams:
                break
            await asyncio.sleep(0.05)
    asyncio.run(go())
    assert not gateway.streams, "every upstream stream was cancelled"
    from tests.support.pool import upstream_connections_settled
    assert upstream_connections_settled(gateway)
    assert len(os.listdir("/proc/self/fd")) <= fds_before + 2


def test_provider_keys_never_reach_responses_or_logs(client, gateway_url: str, caplog) -> None:
    from emulator.gateway import FAKE_KEY
    caplog.set_level(logging.DEBUG)
    seen = []
    for model in ["openai-main/gpt-4o", "nowhere/gpt-4o", "openai-badjson/gpt-4o", "anthropic-limited/claude-sonnet-4-5"]:
        r = httpx.post(gateway_url + "/v1/chat/completions", headers=AUTH,
                       content=json.dumps({"model": model, "messages": HI}))
        seen.append(r.text + json.dumps(dict(r.headers)))
    seen.append(httpx.get(gateway_url + "/v1/models", headers=AUTH).text)
    seen.append(httpx.get(gateway_url + "/metrics").text)
    seen += [record.getMessage() for record in caplog.records]
    for secret in (FAKE_KEY, KEY, os.environ.get("SWITCHBOARD_EMULATOR_AWS_SECRET", "emulator-secret-key")):
        assert not any(secret in text for text in seen), secret
    assert any('"request_id"' in m for m in seen), "access log lines were captured"


# -- client disconnect, seen from the provider's side ------------------------------------------
@pytest.fixture
def recorded_gateway(tmp_path):
    """A recording emulator and a fresh gateway in front of it (its own pool, nothing shared)."""
    import time

    import yaml

    from emulator.gateway import account_overrides
    from tests.support.recording import RecordingEmulator
    from tests.support.servers import gateway_app, run_app, running_gateways
    recorder = RecordingEmulator()
    with run_app(recorder) as emulator:
        main = account_overrides(emulator)
        slow = {**main["anthropic-main"], "headers": {"x-emulator-token-delay-ms": "30"}}
        late = {**main["anthropic-main"], "headers": {"x-emulator-latency-ms": "3000"}}
        flaky = {**main["openai-main"], "headers": {"x-emulator-fault": "503", "x-emulator-latency-ms": "400"}}
        path = tmp_path / "gateway.yaml"
        path.write_text(yaml.safe_dump({"accounts": {**main, "anthropic-slow": slow, "anthropic-late": late,
                                                     "openai-flaky": flaky}}))
        with run_app(gateway_app(emulator, str(path))) as url:
            deadline = time.monotonic() + 5
            while running_gateways[url].upstream is None and time.monotonic() < deadline:
                time.sleep(0.01)
            yield recorder, running_gateways[url], url


def wait_for(check, seconds: float = 3.0) -> bool:
    deadline = time.monotonic() + seconds
    while not check() and time.monotonic() < deadline:
        time.sleep(0.01)
    return check()


def test_client_disconnect_stops_the_provider_stream_promptly_and_frees_the_pool(recorded_gateway, caplog) -> None:
    recorder, gateway, url = recorded_gateway
    caplog.set_level(logging.INFO)
    from tests.support.pool import upstream_connections
    start = upstream_connections(gateway)
    body = json.dumps({"model": "anthropic-slow/claude-sonnet-4-5", "stream": True,
                       "messages": [{"role": "user", "content": " ".join(f"word{i}" for i in range(80))}]})

    gaps = []
    for _ in range(3):
        with httpx.Client(timeout=10) as c:
            with c.stream("POST", url + "/v1/chat/completions", headers=AUTH, content=body) as r:
                assert r.status_code == 200
                next(r.iter_bytes())          # the stream has started; now hang up
            hung_up = time.monotonic()
        seen = recorder.seen[-1]
        assert wait_for(lambda: seen.disconnected is not None), "the gateway never hung up on the provider"
        gaps.append(seen.disconnected - hung_up)
        assert wait_for(lambda: not gateway.streams), "the pump was not cancelled"
        sent_early = seen.sent_before(seen.disconnected)
    assert max(gaps) < 0.5, f"the provider saw the hang-up {max(gaps):.3f} s after the client left"
    assert wait_for(lambda: upstream_connections(gateway) == start), \
        f"upstream pool has {upstream_connections(gateway)} connections, started with {start}"

    # the same stream read to its end, for scale: the cancelled ones stopped well before it
    t = time.monotonic()
    with httpx.Client(timeout=20) as c:
        r = c.post(url + "/v1/chat/completions", headers={**AUTH, "x-request-id": "full-stream"}, content=body)
    full_seconds, full = time.monotonic() - t, recorder.seen[-1]
    assert r.text.rstrip().endswith("data: [DONE]")
    assert len(full.sends) > 20 and full_seconds > 0.5
    assert sent_early < len(full.sends) / 2, (sent_early, len(full.sends))
    # the provider ends its body 30 ms after its last event: the gateway reads that end once the
    # client has [DONE], so the connection goes back to the pool instead of being closed unread
    from tests.support.pool import idle_upstream_connections
    assert wait_for(lambda: idle_upstream_connections(gateway) == 1, 1.0), "the connection was not pooled"
    assert upstream_connections(gateway) == 1
    logged = [json.loads(r.getMessage()) for r in caplog.records if '"request_id":"full-stream"' in r.getMessage()]
    assert [line["status"] for line in logged] == [200] and "client_gone" not in logged[0]


@pytest.mark.parametrize("stream", [False, True])
def test_a_client_leaving_before_the_answer_cancels_the_provider_call(recorded_gateway, caplog, stream) -> None:
    """The provider takes 3 s; the client gives up after 0.3 s. The gateway must hang up on the
    provider then (a generation nobody waits for is still billed), and log the request as 499."""
    recorder, gateway, url = recorded_gateway
    caplog.set_level(logging.INFO)
    before = len(recorder.seen)
    body = json.dumps({"model": "anthropic-late/claude-sonnet-4-5", "stream": stream, "messages": HI})
    with pytest.raises(httpx.ReadTimeout):
        httpx.post(url + "/v1/chat/completions", headers=AUTH, content=body, timeout=httpx.Timeout(5, read=0.3))
    hung_up = time.monotonic()
    assert wait_for(lambda: len(recorder.seen) > before)
    seen = recorder.seen[before]
    assert wait_for(lambda: seen.disconnected is not None, 2.0), "the gateway kept waiting on the provider"
    assert seen.disconnected - hung_up < 0.5 and not seen.sends
    assert wait_for(lambda: any('"status":499' in r.getMessage() and '"client_gone":true' in r.getMessage()
                                for r in caplog.records), 1.0)


def test_a_client_leaving_stops_the_retries(recorded_gateway, caplog) -> None:
    """Every attempt fails after 0.4 s with a retryable 503; the client leaves during the first.
    Without the watch the gateway would go on to its two retries for nobody. The log still says
    what the provider had: one attempt, and for how long."""
    recorder, gateway, url = recorded_gateway
    caplog.set_level(logging.INFO)
    before = len(recorder.seen)
    body = json.dumps({"model": "openai-flaky/gpt-4o-mini", "messages": HI})
    with pytest.raises(httpx.ReadTimeout):
        httpx.post(url + "/v1/chat/completions", headers=AUTH, content=body, timeout=httpx.Timeout(5, read=0.2))
    time.sleep(2.2)   # three attempts (0.4 s each) and two backoffs (at most 0.25 and 0.5 s) fit in this
    attempts = recorder.seen[before:]
    assert len(attempts) == 1, f"{len(attempts)} attempts reached the provider after the client left"
    assert attempts[0].disconnected is not None
    (line,) = [json.loads(r.getMessage()) for r in caplog.records if '"account":"openai-flaky"' in r.getMessage()]
    assert line["status"] == 499 and line["client_gone"] is True and line["attempts"] == 1
    assert 100 < line["upstream_ms"] < 1000


def test_a_client_leaving_on_the_httpx_transport_is_not_cancelled_midway(tmp_path, caplog) -> None:
    """httpcore's pool keeps a connection whose request is cancelled while it is handed out
    (encode/httpcore#1093), so on `transport: httpx` the gateway lets the call end, then drops
    it: logged 499, and the pool is left with no connection stuck half-used."""
    import yaml

    from emulator.gateway import account_overrides
    from tests.support.pool import upstream_connections_settled
    from tests.support.recording import RecordingEmulator
    from tests.support.servers import gateway_app, run_app, running_gateways
    caplog.set_level(logging.INFO)
    recorder = RecordingEmulator()
    with run_app(recorder) as emulator:
        late = {**account_overrides(emulator)["anthropic-main"], "headers": {"x-emulator-latency-ms": "800"}}
        (tmp_path / "gw.yaml").write_text(yaml.safe_dump({"accounts": {"late": late}}))
        with run_app(gateway_app(emulator, str(tmp_path / "gw.yaml"), transport="httpx")) as url:
            body = json.dumps({"model": "late/claude-sonnet-4-5", "messages": HI})
            with pytest.raises(httpx.ReadTimeout):
                httpx.post(url + "/v1/chat/completions", headers=AUTH, content=body,
                           timeout=httpx.Timeout(5, read=0.2))
            logged = lambda: [json.loads(r.getMessage()) for r in caplog.records  # noqa: E731
                              if '"account":"late"' in r.getMessage()]
            assert wait_for(lambda: logged(), 3.0)
            assert logged()[0]["status"] == 499 and logged()[0]["client_gone"] is True
            assert recorder.seen[0].sends, "the call was left to end, not cut while the pool handed it out"
            assert upstream_connections_settled(running_gateways[url])


# -- upstream cookies ----------------------------------------------------------------------------
class CookieSettingEmulator:
    """The emulator, but every answer sets a cookie; records the Cookie header of each request."""

    def __init__(self) -> None:
        from emulator.app import EmulatorApp
        from emulator.asgi import Context
        self.app = EmulatorApp(Context())
        self.cookies: list[str | None] = []

    async def __call__(self, scope: dict, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        self.cookies.append(dict(scope["headers"]).get(b"cookie", b"").decode() or None)

        async def with_cookie(message: dict) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []),
                                                  (b"set-cookie", b"session=first-caller; Path=/")]}
            await send(message)
        await self.app(scope, receive, with_cookie)


def test_a_cookie_set_by_an_upstream_never_reaches_the_next_request() -> None:
    from openai import OpenAI

    from tests.support.servers import KEY, gateway_app, run_app
    upstream = CookieSettingEmulator()
    with run_app(upstream) as emulator, run_app(gateway_app(emulator)) as url:
        client = OpenAI(base_url=url + "/v1", api_key=KEY, max_retries=0)
        for model in ("openai-main/gpt-4o-mini", "openai-main/gpt-4o-mini", "anthropic-main/claude-sonnet-4-5"):
            reply = client.chat.completions.create(model=model, messages=[{"role": "user", "content": "hi"}])
            assert reply.choices[0].message.content
    assert len(upstream.cookies) == 3
    assert upstream.cookies == [None, None, None]


@pytest.mark.parametrize("runtime,expected", [({}, (20000, 20, 50)), ({"gc_threshold": [1000, 5, 5]}, (1000, 5, 5)),
                                              ({"gc_threshold": None}, None)])
def test_start_up_compiles_the_specs_and_sets_the_configured_gc_threshold(tmp_path, runtime, expected) -> None:
    import gc

    import engine
    from engine.gateway.app import Gateway
    from engine.gateway.config import load_config
    config = tmp_path / "gateway.yaml"
    config.write_text(json.dumps({"keys": [{"name": "k", "key": "sk-test-key-0001"}], "runtime": runtime}))
    sb = engine.load()
    gateway = Gateway(sb, load_config(config, sb.providers))
    before = gc.get_threshold()
    sent: list[dict] = []

    async def lifespan() -> None:
        messages = iter([{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}])

        async def receive() -> dict:
            return next(messages)

        async def send(message: dict) -> None:
            sent.append(message)
        await gateway(({"type": "lifespan"}), receive, send)
    try:
        asyncio.run(lifespan())
        assert gc.get_threshold() == (expected or before)
    finally:
        gc.set_threshold(*before)
        gc.unfreeze()
    assert [m["type"] for m in sent] == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
    # the dialects the accounts reach are compiled; one no account names (azure-openai needs an
    # option, so it has no default account) waits for a first request that cannot come
    reached = {a.provider for a in gateway.config.accounts.values()}
    ready = {p for p, routes in sb.dialects.items() if all(d._ready for _, d in routes.routes)}
    assert ready == reached & set(sb.dialects) and "azure-openai" not in ready


def test_warm_builds_the_upstream_client_outside_any_event_loop(tmp_path) -> None:
    """What `serve --workers N` calls before forking: the workers then share the upstream client's
    code and objects instead of each importing and building them (about 13 MB per worker); the
    client must hold no connection or loop yet, as each worker's first request opens its own."""
    import engine
    from engine.gateway.app import Gateway
    from engine.gateway.config import load_config
    config = tmp_path / "gateway.yaml"
    config.write_text(json.dumps({"keys": [{"name": "k", "key": "sk-test-key-0001"}]}))
    sb = engine.load()
    gateway = Gateway(sb, load_config(config, sb.providers))
    gateway.warm()
    upstream = gateway.upstream
    assert upstream is not None and upstream.connections_in_use() == 0
    assert getattr(upstream.transport, "_session", None) is None     # no pool, no loop bound yet
    asyncio.run(_refused_then_closed(upstream))


async def _refused_then_closed(upstream) -> None:
    """The client built outside any loop sends from this one (nothing listens on port 9)."""
    from engine.errors import UpstreamError
    with pytest.raises(UpstreamError, match="connection refused"):
        await upstream.send("POST", "http://127.0.0.1:9/v1/chat/completions", {}, b"{}")
    assert upstream.transport._session is not None
    await upstream.aclose()


def test_made_up_model_ids_do_not_become_metric_series(client, gateway_url: str) -> None:
    for i in range(3):   # ids the account does not list, each refused (here by the matrix, before any call)
        r = httpx.post(gateway_url + "/v1/chat/completions", headers=AUTH, content=json.dumps(
            {"model": f"anthropic-main/made-up-{i}-{'x' * 300}", "messages": HI, "logit_bias": {"1": 1}}))
        assert r.status_code == 400, r.text
    client.chat.completions.create(model="anthropic-main/claude-haiku-4-5", messages=HI)
    text = httpx.get(gateway_url + "/metrics").text
    assert "made-up-" not in text
    assert 'account="anthropic-main",code="unsupported_parameter",model="(other)"' in text
    assert 'model="claude-haiku-4-5"' in text


def test_a_streams_time_ends_at_its_done_not_after_the_drain(tmp_path, caplog) -> None:
    """The provider ends its body 1 s after [DONE]: the client has its answer at once, the gateway
    reads on for at most 0.2 s to keep the connection, and the access log times the answer."""
    import asyncio

    from tests.support.servers import gateway_app, run_app
    caplog.set_level(logging.INFO)
    chunk = {"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "gpt-4o-mini",
             "choices": [{"index": 0, "delta": {"role": "assistant", "content": "hi"}, "finish_reason": "stop"}]}

    async def upstream(scope, receive, send) -> None:
        if scope["type"] != "http":
            return
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/event-stream")]})
        await send({"type": "http.response.body", "body": b"data: " + json.dumps(chunk).encode()
                    + b"\n\ndata: [DONE]\n\n", "more_body": True})
        await asyncio.sleep(1.0)
        await send({"type": "http.response.body", "body": b""})

    with run_app(upstream) as up:
        (tmp_path / "gw.json").write_text(json.dumps({"accounts": {"tail": {"provider": "openai", "base_url": up + "/v1",
                                                                            "key": "sk-x"}}}))
        with run_app(gateway_app(up, str(tmp_path / "gw.json"))) as url:
            r = httpx.post(url + "/v1/chat/completions", headers={**AUTH, "x-request-id": "tail"}, timeout=5,
                           content=json.dumps({"model": "tail/gpt-4o-mini", "messages": HI, "stream": True}))
            assert r.text.endswith("data: [DONE]\n\n")
            assert wait_for(lambda: any('"request_id":"tail"' in x.getMessage() for x in caplog.records), 2.0)
    (line,) = [json.loads(x.getMessage()) for x in caplog.records if '"request_id":"tail"' in x.getMessage()]
    assert line["status"] == 200 and line["ms"] < 150, line
