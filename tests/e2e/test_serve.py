"""Operations through the real CLI: `switchboard serve` as a subprocess (one worker and two),
against an emulator this test runs: health, both workers answering, metrics aggregated
across workers, the JSON access log on stderr, secrets kept out of every log line and
response, graceful shutdown on SIGTERM with a stream in flight, and config errors at load."""
from __future__ import annotations

import asyncio
import hashlib
import json
import os
import signal
import threading
import time
from pathlib import Path

import httpx
import pytest
import yaml

from emulator.gateway import account_overrides
from tests.support.procs import run_cli, serve_cli

HI = [{"role": "user", "content": "Hi"}]
# Known fake secrets, each distinctive enough that finding it anywhere is a leak.
INLINE_KEY = "sk-gw-inline-7Qz9XkLmN3pR5tV8"
ENV_KEY = "sk-gw-fromenv-4Hc2WbYd6FgJ1sA0"
HASHED_KEY = "sk-gw-hashed-9Ue3TiOo5PaSd7Fk"   # configured only as its SHA-256
PROVIDER_SECRET = "prov-secret-{provider}-Zx81Qw27"
AWS_KEY_ID = "AKIDSERVETEST9X8Y7Z6W"
AWS_SECRET = "aws-secret-serve-test-Lp0Ok9Ij8Uh7"
SECRETS = [INLINE_KEY, ENV_KEY, HASHED_KEY, AWS_SECRET, "Zx81Qw27"]


def _config(emulator_url: str, slow_delay_ms: int = 30) -> dict:
    main = account_overrides(emulator_url)
    accounts = {}
    for name, account in main.items():
        account = dict(account)
        if account.get("aws"):
            account["aws"] = {"access_key_id_env": "SERVE_TEST_AWS_KEY_ID",
                              "secret_access_key_env": "SERVE_TEST_AWS_SECRET"}
        else:
            account["key"] = PROVIDER_SECRET.format(provider=account["provider"])
        accounts[name] = account

    def fault(base: str, kind: str) -> dict:
        return {**accounts[base], "headers": {"x-emulator-fault": kind}}
    accounts.update({
        "anthropic-slow": {**accounts["anthropic-main"], "headers": {"x-emulator-token-delay-ms": str(slow_delay_ms)}},
        "anthropic-limited": fault("anthropic-main", "429"),
        "openai-down": fault("openai-main", "503"),
        "openai-badjson": fault("openai-main", "badjson"),
        "anthropic-cut": fault("anthropic-main", "cut"),
        "gemini-hang": fault("gemini-main", "hang"),
        "nowhere": {"provider": "openai", "base_url": "http://127.0.0.1:9",
                    "key": PROVIDER_SECRET.format(provider="nowhere")},
    })
    return {"keys": [{"name": "inline", "key": INLINE_KEY},
                     {"name": "env", "key_env": "SERVE_TEST_GATEWAY_KEY"},
                     {"name": "hashed", "sha256": hashlib.sha256(HASHED_KEY.encode()).hexdigest()}],
            "accounts": accounts,
            "upstream": {"read_timeout": 1.5, "retries": 1, "backoff_base": 0.01, "backoff_max": 0.02,
                         "retry_after_max": 0.5}}


def _env(prom_dir: Path | None = None) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SWITCHBOARD_", "PROMETHEUS_"))}
    env.update(SERVE_TEST_GATEWAY_KEY=ENV_KEY, SERVE_TEST_AWS_KEY_ID=AWS_KEY_ID, SERVE_TEST_AWS_SECRET=AWS_SECRET)
    if prom_dir is not None:
        env["PROMETHEUS_MULTIPROC_DIR"] = str(prom_dir)
    return env


def _auth(key: str = INLINE_KEY, **extra: str) -> dict:
    return {"authorization": f"Bearer {key}", "content-type": "application/json", **extra}


def _chat(url: str, model: str, stream: bool = False, key: str = INLINE_KEY, rid: str | None = None,
          timeout: float = 20) -> httpx.Response:
    body = {"model": model, "messages": HI, **({"stream": True} if stream else {})}
    headers = _auth(key, **({"x-request-id": rid} if rid else {}))
    return httpx.post(url + "/v1/chat/completions", headers=headers, content=json.dumps(body), timeout=timeout)


@pytest.fixture(scope="module")
def serve_config(emulator_url: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("serve") / "gateway.yaml"
    path.write_text(yaml.safe_dump(_config(emulator_url)))
    return path


@pytest.fixture(scope="module")
def served1(serve_config: Path, tmp_path_factory: pytest.TempPathFactory):
    with serve_cli("--config", str(serve_config), workdir=tmp_path_factory.mktemp("serve1"), env=_env()) as served:
        yield served


@pytest.fixture(scope="module")
def served2(serve_config: Path, tmp_path_factory: pytest.TempPathFactory):
    work = tmp_path_factory.mktemp("serve2")
    prom = work / "prometheus"
    prom.mkdir()
    with serve_cli("--config", str(serve_config), "--workers", "2", workdir=work, env=_env(prom)) as served:
        served.prom_dir = prom  # type: ignore[attr-defined]
        yield served


# -- workers and metrics ------------------------------------------------------------------------
def _metric_total(text: str, name: str, *labels: str) -> float:
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
               if line.startswith(name + "{") and all(label in line for label in labels))


def test_two_workers_answer_and_metrics_aggregate_across_them(served2) -> None:
    async def burst(n: int) -> list[int]:
        # no keep-alive: every request is a new connection, which either worker may accept
        limits = httpx.Limits(max_keepalive_connections=0, max_connections=n)
        async with httpx.AsyncClient(timeout=20, limits=limits) as c:
            body = json.dumps({"model": "groq-main/llama-3.3-70b-versatile", "messages": HI})
            rs = await asyncio.gather(*(c.post(served2.url + "/v1/chat/completions", headers=_auth(), content=body)
                                        for _ in range(n)))
        return [r.status_code for r in rs]

    sent = 0
    pids: set[str] = set()
    for _ in range(6):   # bounded: the kernel spreads new connections over both workers' accepts
        statuses = asyncio.run(burst(24))
        assert statuses == [200] * 24
        sent += 24
        pids = {p.stem.rsplit("_", 1)[1] for p in served2.prom_dir.glob("counter_*.db")}
        if len(pids) >= 2:
            break
    assert len(pids) == 2, f"requests were answered by worker(s) {pids} only"
    # whichever worker answers /metrics, it reports every worker's requests
    for _ in range(4):
        text = httpx.get(served2.url + "/metrics", headers={"connection": "close"}).text
        labels = ('account="groq-main"', 'model="llama-3.3-70b-versatile"', 'status="200"')
        assert _metric_total(text, "switchboard_requests_total", *labels) == sent
        assert _metric_total(text, "switchboard_request_seconds_count", 'account="groq-main"') == sent
    for secret in SECRETS:
        assert secret not in text


def _children(pid: int) -> list[int]:
    return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def _rollup(pid: int) -> dict[str, int]:
    lines = Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]
    return {line.split(":")[0]: int(line.split()[1]) for line in lines}


def test_two_workers_are_forks_that_share_what_the_supervisor_built(served2) -> None:
    """The supervisor builds the app once and forks the workers: they are not fresh interpreters,
    and most of their private memory (the heap the imports and the compiled specs filled) is
    shared with the supervisor, so each counts for far less than it holds (spawned workers share
    no heap at all: there Pss_Anon equals Anonymous)."""
    workers = _children(served2.proc.pid)
    assert len(workers) == 2
    supervisor_cmdline = Path(f"/proc/{served2.proc.pid}/cmdline").read_bytes()
    for pid in workers:
        assert Path(f"/proc/{pid}/cmdline").read_bytes() == supervisor_cmdline   # forked, not spawned
        rollup = _rollup(pid)
        if "Pss_Anon" not in rollup:
            pytest.skip("this kernel's smaps_rollup has no Pss_Anon (Linux 5.9+)")
        assert rollup["Anonymous"] > 20_000, rollup
        assert rollup["Pss_Anon"] < 0.75 * rollup["Anonymous"], rollup
    assert "Switchboard gateway on" in served2.stdout()


def test_a_worker_that_dies_is_replaced(serve_config: Path, tmp_path: Path) -> None:
    with serve_cli("--config", str(serve_config), "--workers", "2", workdir=tmp_path, env=_env()) as served:
        first = _children(served.proc.pid)
        assert len(first) == 2
        os.kill(first[0], signal.SIGKILL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not (len(now := _children(served.proc.pid)) == 2 and first[0] not in now):
            time.sleep(0.05)
        now = _children(served.proc.pid)
        assert len(now) == 2 and first[0] not in now and first[1] in now, (first, now)
        for _ in range(8):   # new connections: either worker may take them, the new one included
            r = httpx.post(served.url + "/v1/chat/completions", headers={**_auth(), "connection": "close"},
                           content=json.dumps({"model": "openai-main/gpt-4o-mini", "messages": HI}), timeout=20)
            assert r.status_code == 200
        assert f"worker {first[0]} exited with -9" in served.stderr()
        assert "Traceback" not in served.stderr()


def test_a_bad_config_is_refused_by_a_two_worker_server_too(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump({"keys": [{"name": "k", "key": "sk-gateway-1234"}],
                                    "accounts": {"acme": {"provider": "no-such-provider"}}}))
    done = run_cli("serve", "--config", str(path), "--port", "9", "--workers", "2", env=_env(), timeout=30)
    assert done.returncode == 2
    error = json.loads(done.stderr.strip().splitlines()[-1])["error"]
    assert str(path) in error["message"] and "no-such-provider" in error["message"]
    assert "Traceback" not in done.stderr + done.stdout
    assert "Switchboard gateway on" not in done.stdout


def test_access_log_with_two_workers_has_every_request_once(served2) -> None:
    # every worker writes the access log (a forked worker inherits the supervisor's handler)
    async def burst() -> None:
        limits = httpx.Limits(max_keepalive_connections=0, max_connections=16)
        async with httpx.AsyncClient(timeout=20, limits=limits) as c:
            body = json.dumps({"model": "openai-main/gpt-4o-mini", "messages": HI})
            rs = await asyncio.gather(*(c.post(served2.url + "/v1/chat/completions", content=body,
                                               headers=_auth(**{"x-request-id": f"two-workers-{n}"}))
                                        for n in range(16)))
        assert [r.status_code for r in rs] == [200] * 16
    asyncio.run(burst())
    wanted = {f"two-workers-{n}" for n in range(16)}
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and not wanted <= {r.get("request_id") for r in served2.log_records()}:
        time.sleep(0.05)
    ids = [r.get("request_id") for r in served2.log_records() if r.get("request_id", "").startswith("two-workers-")]
    assert sorted(ids) == sorted(wanted), "one access line per request, whichever worker served it"


# -- access log ---------------------------------------------------------------------------------
def test_access_log_is_one_json_line_per_request(served1) -> None:
    cases = [("openai-main/gpt-4o-mini", False, 200), ("anthropic-main/claude-haiku-4-5", True, 200),
             ("anthropic-limited/claude-sonnet-4-5", False, 429), ("nobody/x", False, 404)]
    for n, (model, stream, status) in enumerate(cases):
        r = _chat(served1.url, model, stream=stream, rid=f"log-test-{n}")
        assert r.status_code == status and r.headers["x-request-id"] == f"log-test-{n}"
    unnamed = _chat(served1.url, "openai-main/gpt-4o-mini")
    # a line is written once its response is sent: wait (bounded) until every one is there
    wanted = {f"log-test-{n}" for n in range(len(cases))} | {unnamed.headers["x-request-id"]}
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and not wanted <= {r.get("request_id") for r in served1.log_records()}:
        time.sleep(0.05)
    records = served1.log_records()
    for n, (model, stream, status) in enumerate(cases):
        mine = [r for r in records if r.get("request_id") == f"log-test-{n}"]
        assert len(mine) == 1, (n, mine)
        record = mine[0]
        assert record["status"] == status and isinstance(record["ms"], (int, float)) and record["ms"] >= 0
        assert record["path"] == "/v1/chat/completions" and record["method"] == "POST"
        if status != 404:
            account, model_id = model.split("/", 1)
            assert (record["account"], record["model"], record["stream"]) == (account, model_id, stream)
            assert record["provider"] == account.split("-")[0]
    assert [r for r in records if r.get("request_id") == unnamed.headers["x-request-id"]], "a generated id is logged"
    limited = [r for r in records if r.get("request_id") == "log-test-2"][0]
    assert limited["error"] and limited["error_type"] == "rate_limit_error"
    for line in served1.stderr().splitlines():
        assert "Traceback" not in line
        for secret in SECRETS:
            assert secret not in line


def test_keys_stored_as_sha256_and_from_env_work(served1) -> None:
    for key in (INLINE_KEY, ENV_KEY, HASHED_KEY):
        assert _chat(served1.url, "openai-main/gpt-4o-mini", key=key).status_code == 200, key
    digest = hashlib.sha256(HASHED_KEY.encode()).hexdigest()
    for wrong in (digest, HASHED_KEY[:-1], HASHED_KEY + "x"):
        r = _chat(served1.url, "openai-main/gpt-4o-mini", key=wrong)
        assert r.status_code == 401 and r.json()["error"]["code"] == "invalid_api_key"


# -- secrets: a slice of the e2e traffic, then every log line and response searched -------------
TRAFFIC = [
    ("openai-main/gpt-4o-mini", False), ("openai-main/gpt-4o-mini", True),
    ("anthropic-main/claude-sonnet-4-5", False), ("anthropic-main/claude-sonnet-4-5", True),
    ("bedrock-main/anthropic.claude-sonnet-4-5-20250929-v1:0", False),
    ("bedrock-main/anthropic.claude-sonnet-4-5-20250929-v1:0", True),
    ("vertex-main/gemini-2.5-flash", True), ("gemini-main/gemini-2.5-flash", False),
    ("azure-openai-main/gpt-4o", False), ("cohere-main/command-a-03-2025", True),
    ("anthropic-limited/claude-sonnet-4-5", False), ("openai-down/gpt-4o", False),
    ("openai-badjson/gpt-4o", False), ("openai-badjson/gpt-4o", True), ("anthropic-cut/claude-sonnet-4-5", True),
    ("gemini-hang/gemini-2.5-flash", False), ("nowhere/gpt-4o", False), ("nobody/gpt-4o", False),
]


@pytest.mark.parametrize("which", ["served1", "served2"])
def test_no_key_material_in_logs_or_responses(which: str, request: pytest.FixtureRequest) -> None:
    served = request.getfixturevalue(which)
    seen: list[str] = []
    statuses = []
    for model, stream in TRAFFIC:
        r = _chat(served.url, model, stream=stream, rid=f"secret-{which}")
        statuses.append(r.status_code)
        seen.append(r.text + json.dumps(dict(r.headers)))
    bad = httpx.post(served.url + "/v1/chat/completions", headers=_auth(INLINE_KEY + "-wrong"),
                     content=json.dumps({"model": "openai-main/gpt-4o", "messages": HI}))
    assert bad.status_code == 401
    seen.append(bad.text + json.dumps(dict(bad.headers)))
    seen.append(httpx.post(served.url + "/v1/chat/completions", headers=_auth(),
                           content=b'{"model": "openai-main/gpt-4o", "messages": "x"}').text)
    seen += [httpx.get(served.url + path, headers=_auth()).text for path in ("/v1/models", "/metrics", "/health")]
    assert 200 in statuses and {429, 502, 503, 504, 404} <= set(statuses), statuses
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and \
            sum(r.get("request_id") == f"secret-{which}" for r in served.log_records()) < len(TRAFFIC):
        time.sleep(0.05)
    seen += served.stderr().splitlines() + served.stdout().splitlines()
    for secret in SECRETS:
        leaks = [text[:300] for text in seen if secret in text]
        assert not leaks, (secret, leaks)


# -- graceful shutdown --------------------------------------------------------------------------
def test_sigterm_drains_the_stream_in_flight_then_exits_0(emulator_url: str, tmp_path: Path) -> None:
    # ~50 events at 60 ms: a stream of about 3 s, well inside the 10 s graceful deadline
    path = tmp_path / "gateway.yaml"
    path.write_text(yaml.safe_dump(_config(emulator_url, slow_delay_ms=60)))
    with serve_cli("--config", str(path), "--workers", "2", workdir=tmp_path, env=_env()) as served:
        first_event = threading.Event()
        lines: list[str] = []
        failure: list[BaseException] = []

        def read_stream() -> None:
            body = {"model": "anthropic-slow/claude-sonnet-4-5", "stream": True,
                    "messages": [{"role": "user", "content": " ".join(f"w{i}" for i in range(90))}]}
            try:
                with httpx.stream("POST", served.url + "/v1/chat/completions", headers=_auth(),
                                  content=json.dumps(body), timeout=30) as r:
                    assert r.status_code == 200
                    for line in r.iter_lines():
                        if line:
                            lines.append(line)
                            first_event.set()
            except BaseException as exc:  # noqa: BLE001 - reported by the main thread
                failure.append(exc)
                first_event.set()

        reader = threading.Thread(target=read_stream, daemon=True)
        reader.start()
        assert first_event.wait(15), "the stream never started"
        assert not failure, failure
        sent = time.monotonic()
        served.proc.send_signal(signal.SIGTERM)
        reader.join(15)
        stream_done = time.monotonic() - sent
        code = served.proc.wait(timeout=20)
        exited = time.monotonic() - sent

        assert not reader.is_alive() and not failure, failure
        assert stream_done < 11, f"the stream took {stream_done:.1f} s after SIGTERM (graceful deadline 10 s)"
        last = lines[-1]
        if last != "data: [DONE]":
            error = json.loads(last.removeprefix("data: "))["error"]
            assert error["code"] == "gateway_shutdown" and set(error) == {"message", "type", "param", "code"}
        chunks = [json.loads(line[6:]) for line in lines if line.startswith("data: {")]
        assert all(c.get("object") == "chat.completion.chunk" for c in chunks if "error" not in c)
        assert code == 0 and exited < 15, (code, exited)
        with pytest.raises(httpx.ConnectError):
            httpx.get(served.url + "/health", timeout=2)
        assert "Traceback" not in served.stderr()


def test_new_connections_during_the_drain_are_refused(emulator_url: str, tmp_path: Path) -> None:
    path = tmp_path / "gateway.yaml"
    path.write_text(yaml.safe_dump(_config(emulator_url, slow_delay_ms=60)))
    with serve_cli("--config", str(path), "--workers", "2", workdir=tmp_path, env=_env()) as served:
        started = threading.Event()

        def read_stream() -> None:
            body = {"model": "anthropic-slow/claude-sonnet-4-5", "stream": True,
                    "messages": [{"role": "user", "content": " ".join(f"w{i}" for i in range(60))}]}
            with httpx.stream("POST", served.url + "/v1/chat/completions", headers=_auth(),
                              content=json.dumps(body), timeout=30) as r:
                for _ in r.iter_lines():
                    started.set()

        reader = threading.Thread(target=read_stream, daemon=True)
        reader.start()
        assert started.wait(15)
        served.proc.send_signal(signal.SIGTERM)
        time.sleep(0.8)   # the workers have stopped accepting; the stream is still draining
        assert served.proc.poll() is None and reader.is_alive()
        try:
            r = httpx.get(served.url + "/health", timeout=1.0)
            refused_or_unready = r.status_code == 503
        except httpx.ConnectError:
            refused_or_unready = True
        except httpx.TimeoutException:
            refused_or_unready = False
        reader.join(15)
        assert refused_or_unready, "a new connection during the drain was left hanging"


# -- config errors at load ----------------------------------------------------------------------
BAD = {
    "header value": ({"accounts": {"acme": {"provider": "openai", "key": "k-1234",
                                            "headers": {"x-tag": "a\r\nX-Evil: 1"}}}},
                     "accounts.acme.headers.x-tag"),
    "provider key": ({"accounts": {"acme": {"provider": "openai", "key": "k-1234\nX-Evil: 1"}}}, "accounts.acme"),
    "gateway key": ({"keys": [{"name": "k", "key": "sk-gateway-1234\r\n"}],
                     "accounts": {"acme": {"provider": "openai", "key": "k-1234"}}}, "keys[0]"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_crlf_in_config_is_refused_at_load(case: str, tmp_path: Path) -> None:
    config, where = BAD[case]
    config = {"keys": [{"name": "k", "key": "sk-gateway-1234"}], **config}
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(config))
    done = run_cli("serve", "--config", str(path), "--port", "9", env=_env(), timeout=30)
    assert done.returncode != 0
    assert str(path) in done.stderr and where in done.stderr and "CR or LF" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    assert "X-Evil" not in done.stderr and "sk-gateway-1234" not in done.stderr


@pytest.mark.parametrize("account", [
    {"provider": "openai", "key": "k-1234", "headers": {"x-tag\r\nX-Evil": "1"}},
    {"provider": "openai", "key": "k-1234", "auth": {"kind": "header", "header": "x-key\r\nX-Evil: 1"}},
], ids=["header name", "auth header name"])
def test_crlf_in_a_header_name_is_refused_at_load(account: dict, tmp_path: Path) -> None:
    import engine
    from engine.errors import SpecError
    from engine.gateway.config import load_config
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump({"keys": [{"name": "k", "key": "sk-gateway-1234"}],
                                    "accounts": {"acme": account}}))
    with pytest.raises(SpecError, match="not a valid HTTP header name"):
        load_config(path, engine.load().providers)


def test_an_account_missing_a_required_option_is_refused_at_load(tmp_path: Path) -> None:
    import engine
    from engine.errors import SpecError
    from engine.gateway.config import load_config
    path = tmp_path / "gw.yaml"
    path.write_text(yaml.safe_dump({"accounts": {"az": {"provider": "azure-openai", "key": "k-123456"}}}))
    with pytest.raises(SpecError, match=r"needs the option\(s\) \['resource'\]") as caught:
        load_config(path, engine.load().providers)
    assert "accounts.az.options" in str(caught.value)
    default = load_config(None, engine.load().providers)
    assert "azure-openai-main" not in default.accounts and "openai-main" in default.accounts


def test_a_config_that_passed_its_schema_is_not_checked_again_and_nothing_of_it_is_stored(tmp_path: Path) -> None:
    """Every worker loads the config: once a file's bytes passed the schema, later loads skip
    jsonschema (and its import); the cache keeps the verdict only, never the file's secrets."""
    import subprocess
    import sys
    path = tmp_path / "gw.yaml"
    path.write_text(yaml.safe_dump({"keys": [{"name": "k", "key": INLINE_KEY}],
                                    "accounts": {"acme": {"provider": "openai", "key": "sk-prov-Qm83Lx"}}}))
    probe = ("import sys, engine; from engine.gateway.config import load_config; "
             f"c = load_config({str(path)!r}, engine.load().providers); "
             "print(sorted(c.accounts), 'jsonschema' in sys.modules)")
    env = {**_env(), "SWITCHBOARD_CACHE_DIR": str(tmp_path / "cache")}
    runs = [subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, timeout=60)
            for _ in range(2)]
    assert [r.stdout.split() for r in runs] == [["['acme']", "True"], ["['acme']", "False"]], runs
    stored = b"".join(p.read_bytes() for p in (tmp_path / "cache").rglob("*") if p.is_file())
    assert INLINE_KEY.encode() not in stored and b"sk-prov-Qm83Lx" not in stored
    # a failing file is checked (and refused) every time
    path.write_text(yaml.safe_dump({"accounts": {"acme": {"provider": "openai", "keyy": "x"}}}))
    for _ in range(2):
        done = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, timeout=60)
        assert done.returncode != 0 and "keyy" in done.stderr


def test_emulate_with_two_workers_spawns_them_and_serves(tmp_path: Path) -> None:
    """--emulate runs the emulator in a thread of the supervisor, where forking is not safe (a lock
    the thread holds at the fork stays held in the child): the workers are spawned interpreters
    there, and still serve the emulated providers."""
    env = {**_env(), "SWITCHBOARD_DEV_KEY": "sk-dev-two-workers-0001"}
    with serve_cli("--emulate", "--workers", "2", workdir=tmp_path, env=env) as served:
        r = _chat(served.url, "openai-main/gpt-4o-mini", key="sk-dev-two-workers-0001")
        assert r.status_code == 200 and r.json()["object"] == "chat.completion"
        assert served.stdout().count("Switchboard gateway on") == 1
        workers = [pid for pid in _children(served.proc.pid)
                   if b"multiprocessing.spawn" in Path(f"/proc/{pid}/cmdline").read_bytes()]
        assert len(workers) == 2


@pytest.mark.parametrize("content,why", [(b"keys: [\xff\xfe]\n", "not valid UTF-8"), (None, "cannot read")],
                         ids=["not utf-8", "missing file"])
def test_an_unreadable_config_is_a_clear_error_naming_the_file(content: bytes | None, why: str,
                                                               tmp_path: Path) -> None:
    path = tmp_path / "gw.yaml"
    if content is not None:
        path.write_bytes(content)
    done = run_cli("serve", "--config", str(path), "--port", "9", env=_env(), timeout=30)
    assert done.returncode == 2
    error = json.loads(done.stderr.strip().splitlines()[-1])["error"]
    assert why in error["message"] and str(path) in error["message"]
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("workers", ["1", "2"])
def test_a_port_in_use_is_a_clear_error_and_nothing_is_announced(workers: str, serve_config: Path) -> None:
    import socket
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = run_cli("serve", "--config", str(serve_config), "--host", "127.0.0.1", "--port", str(port),
                       "--workers", workers, env=_env(), timeout=30)
    assert done.returncode == 2
    error = json.loads(done.stderr.strip().splitlines()[-1])["error"]
    assert error["code"] == "cannot_listen" and f"127.0.0.1:{port}" in error["message"]
    assert "in use" in error["message"]
    assert "Switchboard gateway on" not in done.stdout and "Traceback" not in done.stderr
