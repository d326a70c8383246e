"""The embedding API: pure, thread-safe, usable with a data directory of one's own."""
from __future__ import annotations

import json
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

import engine
from tests.support.roots import copy_root
from tests.support.wire import fixture_events, sse

SB = engine.load()
BODY = {"model": "claude-sonnet-4-5", "messages": [{"role": "system", "content": "s"},
                                                  {"role": "user", "content": "hi"}], "stream": True,
        "stream_options": {"include_usage": True}}


def test_translate_request_is_pure_and_does_not_touch_its_input() -> None:
    before = json.dumps(BODY, sort_keys=True)
    first = SB.translate_request("anthropic", BODY)
    second = SB.translate_request("anthropic", BODY)
    assert json.dumps(BODY, sort_keys=True) == before
    assert first.json == second.json and first.url == second.url
    assert first.method == "POST" and first.stream is True


def test_one_loaded_engine_serves_many_threads() -> None:
    raw = sse(fixture_events("anthropic", "tools.1"), named=True)
    want = SB.stream("anthropic", BODY, now=1).feed(raw)

    def work(i: int) -> bool:
        req = SB.translate_request("anthropic", {**BODY, "messages": [{"role": "user", "content": f"m{i}"}]})
        st = SB.stream("anthropic", BODY, now=1)
        return req.json["messages"][0]["content"][0]["text"] == f"m{i}" and st.feed(raw) == want

    with ThreadPoolExecutor(8) as pool:
        assert all(pool.map(work, range(200)))


def test_errors_carry_openai_objects() -> None:
    with pytest.raises(engine.NotFound) as caught:
        SB.translate_request("no-such-provider", BODY)
    assert caught.value.to_openai()["error"]["code"] == "model_not_found"
    with pytest.raises(engine.UpstreamError) as caught2:
        SB.translate_response("anthropic", b"{broken", request=BODY)
    assert caught2.value.status == 502


def test_translate_error_reads_provider_error_bodies_and_tolerates_garbage() -> None:
    err = SB.translate_error("anthropic", 429, b'{"type":"error","error":{"type":"rate_limit_error","message":"slow"}}')
    assert err.status == 429 and err.type == "rate_limit_error" and "slow" in err.message
    err = SB.translate_error("anthropic", 500, b"<html>oops</html>")
    assert err.status == 500 and err.to_openai()["error"]["type"] == "server_error"


def test_a_throwaway_provider_loads_from_a_directory_of_its_own(tmp_path: Path) -> None:
    """The adding-a-provider walk-through, in small: YAML only, no Python."""
    root = copy_root(tmp_path)
    (root / "specs" / "acme.yaml").write_text(
        "spec: 1\ntitle: Acme (OpenAI-compatible)\nextends: openai-compatible\n"
        "finish_reasons:\n  eos: stop\n")
    with (root / "providers.yaml").open("a") as f:
        f.write("  acme:\n    title: Acme\n    spec: acme\n    base_url: https://api.acme.test/v1\n"
                "    auth: {kind: bearer, env: ACME_API_KEY}\n")
    caps = (root / "capabilities.yaml").read_text()
    row = caps[caps.index("  groq:\n"):caps.index("  ai21:\n")].replace("  groq:\n", "  acme:\n", 1)
    (root / "capabilities.yaml").write_text(caps + "\n" + row)
    sb = engine.load(root)
    req = sb.translate_request("acme", {"model": "acme-1", "messages": [{"role": "user", "content": "hi"}]})
    assert req.url == "https://api.acme.test/v1/chat/completions"
    out = sb.translate_response("acme", {"id": "x", "created": 1, "model": "acme-1", "choices": [
        {"index": 0, "message": {"role": "assistant", "content": "yo"}, "finish_reason": "eos"}]})
    assert out["choices"][0]["finish_reason"] == "stop"


@pytest.mark.slow
def test_the_wheel_ships_the_data_files(tmp_path: Path) -> None:
    import subprocess
    import sys
    root = Path(__file__).resolve().parent.parent
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w",
                    str(tmp_path), str(root)], check=True, capture_output=True)
    (wheel,) = tmp_path.glob("*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for spec in (root / "specs").glob("*.yaml"):
        assert f"engine/_data/specs/{spec.name}" in names
    assert {"engine/_data/providers.yaml", "engine/_data/capabilities.yaml",
            "engine/_data/specs/_schema/spec.schema.json"} <= names


def test_mapping_subclasses_are_read_like_dicts() -> None:
    """Embedders may hand over dict subclasses (OrderedDict, a framework's JSON type)."""
    from collections import OrderedDict
    body = OrderedDict(model="claude-sonnet-4-5", messages=[OrderedDict(role="user", content="hi")],
                       temperature=0.2)
    req = SB.translate_request("anthropic", body)
    assert req.json["temperature"] == 0.2 and req.json["messages"][0]["content"][0]["text"] == "hi"


def test_warm_compiles_every_generated_module_and_changes_no_answer() -> None:
    sb = engine.load()
    body = {"model": "claude-sonnet-4-5", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 5}
    cold = sb.translate_request("anthropic", body).json
    sb.warm()
    modules = [d.c.module for routes in sb.dialects.values() for _, d in routes.routes] + [sb.matrix.module]
    assert all(not m._pending for m in modules)
    assert all(d._ready for routes in sb.dialects.values() for _, d in routes.routes)
    assert sb.translate_request("anthropic", body).json == cold


def test_warm_can_be_limited_to_the_providers_a_server_reaches() -> None:
    sb = engine.load()
    sb.warm(["anthropic", "no-such-provider"])
    ready = {p for p, routes in sb.dialects.items() if all(d._ready for _, d in routes.routes)}
    assert ready == {"anthropic"}
    assert not sb.matrix.module._pending


def test_made_up_completion_ids_are_fresh_on_live_calls_and_reproducible_with_a_fixed_clock() -> None:
    """Bedrock gives no completion id: two live answers in the same second must not share one
    (they did: the id was a digest of model and second), and tool calls made up inside a
    stream are named after it; a caller that fixes the clock gets the same ids every time."""
    from tests.support.wire import FIXTURES, aws_stream
    body = json.loads((FIXTURES / "bedrock" / "tools.1.json").read_text())
    request = {"model": "anthropic.claude-sonnet-4-5-20250929-v1:0", "messages": [{"role": "user", "content": "hi"}]}
    live = {SB.translate_response("bedrock", body, request=request)["id"] for _ in range(20)}
    fixed = {SB.translate_response("bedrock", body, request=request, now=1700000000)["id"] for _ in range(3)}
    assert len(live) == 20 and all(i.startswith("chatcmpl-") for i in live) and len(fixed) == 1

    frames = aws_stream(fixture_events("bedrock", "tools.1"))

    def ids(now: int | None) -> tuple[str, str]:
        st = SB.stream("bedrock", {**request, "stream": True}, now=now)
        chunks = st.feed(frames) + st.close()
        calls = [c for ch in chunks for choice in ch["choices"] for c in choice["delta"].get("tool_calls", ())]
        return chunks[0]["id"], ",".join(str(c.get("id")) for c in calls if c.get("id"))
    assert ids(None) != ids(None) and ids(5) == ids(5)


def test_stream_each_scopes_leave_no_binding_behind() -> None:
    """`each` binds its item in the stream's env and restores it: a later event cannot read a
    previous event's `$candidate` or `$part`."""
    st = SB.stream("gemini", {"model": "gemini-2.5-flash", "messages": [{"role": "user", "content": "hi"}]},
                   now=1)
    chunks = st.feed(sse(fixture_events("gemini", "tools.1")))
    assert chunks and "candidate" not in st.env and "part" not in st.env


def test_a_body_that_never_arrives_whole_is_refused_after_the_timeout() -> None:
    import asyncio

    from engine.gateway.asgi import BodyTimeout, read_body

    async def trickle() -> dict:          # 8 bytes, then nothing more, ever
        if not sent:
            sent.append(1)
            return {"type": "http.request", "body": b'{"model"', "more_body": True}
        await asyncio.sleep(3600)
        raise AssertionError("unreachable")

    sent: list[int] = []
    with pytest.raises(BodyTimeout) as info:
        asyncio.run(read_body(trickle, 1024, 100, 0.05))
    assert info.value.status == 408 and info.value.to_openai()["error"]["code"] == "request_timeout"


@pytest.mark.parametrize("value,seconds", [
    ("2", 2.0), ("0.4", 0.4), ("-3", 0.0), ("inf", 86400.0), ("1e400", 86400.0),
    ("soon", None), ("Wed, 99 Foo 2015 07:28:00 GMT", None), ("nan", None), ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0),
])
def test_an_upstream_retry_after_is_read_or_ignored_never_raised(value: str, seconds: float | None) -> None:
    import httpx

    from engine.gateway.upstream import retry_after_seconds
    assert retry_after_seconds(httpx.Headers({"retry-after": value})) == seconds


def test_upstream_errors_without_a_code_are_counted() -> None:
    from engine.gateway.metrics import Metrics
    m = Metrics()
    m.observe({"account": "a", "provider": "p", "model": "m", "status": 503, "ms": 1.0,
               "error": None, "error_type": "api_error"})
    text = m.render()[0].decode()
    assert 'switchboard_errors_total{account="a",code="",model="(other)",provider="p",type="api_error"} 1.0' in text


def _openai_events(*payloads: str) -> bytes:
    return b"".join(b"data: " + p.encode() + b"\n\n" for p in payloads)


_CHUNK = ('{"id":"c1","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini","choices":[{"index":0,'
          '"delta":{"role":"assistant","content":"hi"},"finish_reason":null}]}')
_FINISH = ('{"id":"c1","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini","choices":[{"index":0,'
           '"delta":{},"finish_reason":"stop"}]}')


def test_chunks_before_a_bad_event_in_the_same_read_are_kept() -> None:
    from engine.errors import StreamError
    sb = engine.load()
    st = sb.stream("openai", {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "x"}], "stream": True})
    with pytest.raises(StreamError) as info:
        st.feed(_openai_events(_CHUNK, "{not json"))
    assert any(c["choices"][0]["delta"].get("content") == "hi" for c in info.value.partial)


def test_the_gateway_stops_reading_a_stream_the_provider_has_ended() -> None:
    import asyncio

    from engine.gateway.app import Gateway

    class Upstream:   # sends a whole stream with [DONE], then keeps the connection open
        async def aiter_bytes(self):
            yield _openai_events(_CHUNK, _FINISH, "[DONE]")
            await asyncio.sleep(3600)
            yield b""

    sb = engine.load()
    st = sb.stream("openai", {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "x"}], "stream": True})
    sent: list[dict] = []

    async def send(message: dict) -> None:
        sent.append(message)

    status = asyncio.run(asyncio.wait_for(Gateway._pump(None, st, Upstream(), send, {}), 5))
    body = b"".join(m["body"] for m in sent)
    assert status == 200 and body.endswith(b"data: [DONE]\n\n") and b'"hi"' in body


def test_a_request_cancelled_by_shutdown_gets_an_openai_shaped_503() -> None:
    import asyncio

    from engine.gateway.app import Gateway
    from engine.gateway.config import load_config

    sb = engine.load()
    gw = Gateway(sb, load_config(None, sb.providers, extra_keys=["k"]))

    async def cancelled(*args: object) -> int:   # what uvicorn does to a request still waiting at the end of the drain
        raise asyncio.CancelledError

    gw._route = cancelled  # type: ignore[method-assign]
    sent: list[dict] = []

    async def send(message: dict) -> None:
        sent.append(message)

    async def receive() -> dict:
        return {"type": "http.request", "body": b"", "more_body": False}

    asyncio.run(gw({"type": "http", "method": "POST", "path": "/v1/chat/completions", "headers": []}, receive, send))
    assert sent[0]["status"] == 503
    assert json.loads(sent[1]["body"])["error"]["code"] == "gateway_shutdown"


@pytest.mark.parametrize("body", [b'{"error": {"message": "model overloaded", "type": "server_error"}}', b"{}", b"[]"])
def test_translate_response_refuses_a_body_with_no_completion(body: bytes) -> None:
    from engine.errors import UpstreamError
    sb = engine.load()
    with pytest.raises(UpstreamError) as info:
        sb.translate_response("openai", body, request={"model": "gpt-4o-mini", "messages": []})
    assert info.value.status == 502 and info.value.code == "bad_upstream_response"
    assert ("model overloaded" in info.value.message) == (b"overloaded" in body)


def test_held_citations_cover_their_blocks_text_and_are_never_lost() -> None:
    """Anthropic sends a text block's citations before its text: `until`/`release` hold them and
    give them the block's span. Two citations on one block share it; a block the stream never
    stops (no content_block_stop) still gets its citations, spanning to the end."""
    cite = {"type": "web_search_result_location", "url": "https://a.example/", "title": "A", "cited_text": "x"}
    events = [
        {"type": "message_start", "message": {"id": "msg_1", "model": "claude-sonnet-4-5", "usage": {"input_tokens": 3}}},
        {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
        {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Intro. "}},
        {"type": "content_block_stop", "index": 0},
        {"type": "content_block_start", "index": 1, "content_block": {"type": "text", "text": "", "citations": [cite]}},
        {"type": "content_block_delta", "index": 1, "delta": {"type": "citations_delta",
                                                              "citation": {**cite, "url": "https://b.example/"}}},
        {"type": "content_block_delta", "index": 1, "delta": {"type": "text_delta", "text": "Cited "}},
        {"type": "content_block_delta", "index": 1, "delta": {"type": "text_delta", "text": "claim."}},
        {"type": "content_block_stop", "index": 1},
        {"type": "content_block_start", "index": 2, "content_block": {"type": "text", "text": ""}},
        {"type": "content_block_delta", "index": 2, "delta": {"type": "citations_delta", "citation": cite}},
        {"type": "content_block_delta", "index": 2, "delta": {"type": "text_delta", "text": " Tail"}},
        {"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 9}},
        {"type": "message_stop"},
    ]
    st = SB.stream("anthropic", BODY, now=1)
    chunks = st.feed(sse(events, named=True)) + st.close()
    content, spans = "", []
    for chunk in chunks:
        for choice in chunk["choices"]:
            content += choice["delta"].get("content") or ""
            for note in choice["delta"].get("annotations", ()):
                spans.append((note["url_citation"]["url"], content[note["url_citation"]["start_index"]:
                                                                   note["url_citation"]["end_index"]]))
                assert note["url_citation"]["end_index"] == len(content), "sent once its block's text is out"
    assert content == "Intro. Cited claim. Tail"
    assert spans == [("https://a.example/", "Cited claim."), ("https://b.example/", "Cited claim."),
                     ("https://a.example/", " Tail")]


@pytest.mark.parametrize("stream", [False, True])
def test_a_served_request_leaves_nothing_for_the_garbage_collector(stream: bool) -> None:
    """Every object a request makes is freed by reference counting when it ends. A reference cycle
    (a cancelled task's traceback holding the frame that holds the task, say) keeps a request's
    objects until a collection, which with hundreds in flight is tens of MB and the p99 tail."""
    import asyncio
    import gc

    import httpx

    from engine.gateway.app import Gateway
    from engine.gateway.config import load_config
    from tests.support.wire import fixture_events, sse

    sb = engine.load()
    completion = {"id": "c", "object": "chat.completion", "created": 1, "model": "gpt-4o-mini",
                  "choices": [{"index": 0, "message": {"role": "assistant", "content": "hi"}, "finish_reason": "stop"}]}
    answer = sse(fixture_events("openai", "tools.1")) + b"data: [DONE]\n\n" if stream else json.dumps(completion).encode()

    async def upstream(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(0.001)   # the answer comes later: the watch on the client is live meanwhile
        return httpx.Response(200, content=answer)

    config = load_config(None, sb.providers, extra_keys=["k"],
                         account_overrides={"openai-main": {"provider": "openai", "key": "sk-x"}})
    gw = Gateway(sb, config, transport=httpx.MockTransport(upstream))
    body = json.dumps({"model": "openai-main/gpt-4o-mini", "stream": stream,
                       "messages": [{"role": "user", "content": "hi"}]}).encode()
    scope = {"type": "http", "method": "POST", "path": "/v1/chat/completions",
             "headers": [(b"authorization", b"Bearer k"), (b"content-type", b"application/json")]}
    statuses: list[int] = []

    async def one() -> None:
        done = asyncio.Event()
        messages = [{"type": "http.request", "body": body, "more_body": False}]

        async def receive() -> dict:
            if messages:
                return messages.pop()
            await done.wait()   # as a server does: http.disconnect once the answer is complete
            return {"type": "http.disconnect"}

        async def send(message: dict) -> None:
            if message["type"] == "http.response.start":
                statuses.append(message["status"])
            elif not message.get("more_body"):
                done.set()
        await gw(scope, receive, send)

    async def main() -> int:
        for _ in range(5):     # first-use caches and pools
            await one()
        gc.collect()
        gc.disable()
        try:
            for _ in range(20):
                await asyncio.create_task(one())
            await asyncio.sleep(0.01)
            return gc.collect()
        finally:
            gc.enable()
    assert asyncio.run(main()) == 0
    assert statuses == [200] * 25


@pytest.mark.parametrize("inputs, content", [
    (['{"city": "Paris"}', '{"city": "Rome"}'], '{"city": "Paris"}'),   # the first answer only, as non-stream
    ([""], "{}"),                                                          # called with no input: {}
])
def test_a_streamed_json_mode_answer_is_one_json_document(inputs: list[str], content: str) -> None:
    """JSON mode's answer is the first json_response call's input, streamed or not: a second call
    would make the content two documents, and a call with no input is {} (the non-stream answer)."""
    events = [{"type": "message_start", "message": {"id": "msg_j", "model": "claude-sonnet-4-5",
                                                    "usage": {"input_tokens": 3}}}]
    for i, text in enumerate(inputs):
        events.append({"type": "content_block_start", "index": i,
                       "content_block": {"type": "tool_use", "id": f"toolu_{i}", "name": "json_response", "input": {}}})
        if text:
            events.append({"type": "content_block_delta", "index": i,
                           "delta": {"type": "input_json_delta", "partial_json": text}})
        events.append({"type": "content_block_stop", "index": i})
    events += [{"type": "message_delta", "delta": {"stop_reason": "tool_use"}, "usage": {"output_tokens": 9}},
               {"type": "message_stop"}]
    request = {**BODY, "response_format": {"type": "json_object"}}
    st = SB.stream("anthropic", request, now=1)
    chunks = st.feed(sse(events, named=True)) + st.close()
    deltas = [c["choices"][0]["delta"] for c in chunks if c["choices"]]
    assert "".join(d.get("content") or "" for d in deltas) == content
    assert not any("tool_calls" in d for d in deltas)
    assert [c["choices"][0]["finish_reason"] for c in chunks if c["choices"]][-1] == "stop"


def test_a_client_gone_during_the_last_write_of_a_stream_is_499_not_200() -> None:
    """The server reports http.disconnect both when the answer is complete and when the client
    leaves. A client that leaves while the last write waits on it (its buffer full) must be
    logged 499: the stream counts as answered only once that write has returned."""
    import asyncio

    from engine.gateway.app import Gateway
    from engine.gateway.config import load_config

    class Upstream:
        async def aiter_bytes(self):
            yield _openai_events(_CHUNK, _FINISH, "[DONE]")

    sb = engine.load()
    config = load_config(None, sb.providers, extra_keys=["k"],
                         account_overrides={"openai-main": {"provider": "openai", "key": "sk-x"}})
    gw = Gateway(sb, config)
    body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "x"}], "stream": True}
    req = sb.translate_request("openai", body)
    info: dict = {}

    async def main() -> int:
        gone = asyncio.Event()

        async def send(message: dict) -> None:
            if message["type"] == "http.response.body" and not message.get("more_body"):
                gone.set()                  # the client hangs up while this write waits on it
                await asyncio.sleep(0.05)   # and the server returns from it without writing

        watcher = asyncio.create_task(gone.wait())
        return await gw._stream(config.accounts["openai-main"], body, "gpt-4o-mini", req, Upstream(), watcher,
                                send, {}, info)
    assert asyncio.run(asyncio.wait_for(main(), 5)) == 499 and info.get("client_gone") is True


def test_json_mode_content_drops_citations_that_point_into_text_it_no_longer_has() -> None:
    cite = {"type": "web_search_result_location", "url": "https://a.example/", "title": "A", "cited_text": "x"}
    response = {"id": "msg_c", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5",
                "content": [{"type": "text", "text": "Paris is 21C and sunny.", "citations": [cite]},
                            {"type": "tool_use", "id": "toolu_j", "name": "json_response", "input": {"temp": 21}}],
                "stop_reason": "tool_use", "usage": {"input_tokens": 5, "output_tokens": 5}}
    request = {"model": "claude-sonnet-4-5", "messages": [{"role": "user", "content": "x"}]}
    plain = SB.translate_response("anthropic", response, request=request)["choices"][0]["message"]
    assert plain["annotations"][0]["url_citation"]["end_index"] == len("Paris is 21C and sunny.")
    json_mode = SB.translate_response("anthropic", response, request={**request, "response_format": {"type": "json_object"}})
    message = json_mode["choices"][0]["message"]
    assert message["content"] == '{"temp":21}' and "annotations" not in message
