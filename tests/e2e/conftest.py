"""End-to-end fixtures: the emulator and the gateway as real servers on 127.0.0.1, and
the official OpenAI client (sync and async) pointed at the gateway."""
from __future__ import annotations

from pathlib import Path

import openai
import pytest
import yaml

from emulator import serve_in_thread
from emulator.gateway import account_overrides
from tests.support.servers import KEY, gateway_app, run_app

# One target per provider family: (provider, model). Vertex serves two families.
PROVIDERS = {
    "openai": "openai-main/gpt-4o-mini",
    "azure-openai": "azure-openai-main/gpt-4o",
    "anthropic": "anthropic-main/claude-sonnet-4-5",
    "bedrock": "bedrock-main/anthropic.claude-sonnet-4-5-20250929-v1:0",
    "vertex-claude": "vertex-main/claude-sonnet-4-5@20250929",
    "vertex-gemini": "vertex-main/gemini-2.5-flash",
    "cohere": "cohere-main/command-a-03-2025",
    "gemini": "gemini-main/gemini-2.5-flash",
    "groq": "groq-main/llama-3.3-70b-versatile",
    "ai21": "ai21-main/jamba-large",
    "cerebras": "cerebras-main/llama-3.3-70b",
    "sambanova": "sambanova-main/Meta-Llama-3.3-70B-Instruct",
    "perplexity-ai": "perplexity-ai-main/sonar",
    "together-ai": "together-ai-main/meta-llama/Llama-3.3-70B-Instruct-Turbo",
    "xai": "xai-main/grok-4",
    "deepinfra": "deepinfra-main/meta-llama/Llama-3.3-70B-Instruct-Turbo",
}
# A model that reasons, where the provider has one (the matrix decides; ai21 has none).
REASONING = {
    "openai": "openai-main/o4-mini",
    "azure-openai": "azure-openai-main/o4-mini",
    "anthropic": "anthropic-main/claude-sonnet-4-5",
    "bedrock": "bedrock-main/anthropic.claude-sonnet-4-5-20250929-v1:0",
    "vertex-claude": "vertex-main/claude-sonnet-4-5@20250929",
    "vertex-gemini": "vertex-main/gemini-2.5-flash",
    "cohere": "cohere-main/command-a-reasoning-08-2025",
    "gemini": "gemini-main/gemini-2.5-flash",
    "groq": "groq-main/openai/gpt-oss-120b",
    "ai21": "ai21-main/jamba-large",
    "cerebras": "cerebras-main/gpt-oss-120b",
    "sambanova": "sambanova-main/gpt-oss-120b",
    "perplexity-ai": "perplexity-ai-main/sonar-deep-research",
    "together-ai": "together-ai-main/openai/gpt-oss-120b",
    "xai": "xai-main/grok-3-mini",
    "deepinfra": "deepinfra-main/openai/gpt-oss-120b",
}


def supports(model: str, feature: str) -> bool:
    """What the matrix says for this account/model (the tests follow it both ways)."""
    import engine
    account, _, model_id = model.partition("/")
    provider = account.rsplit("-main", 1)[0]
    return engine.load().matrix.resolve(provider, model_id).features[feature].state == "supported"


def _fault(account: dict, fault: str, key: str | None = None, times: int | None = None) -> dict:
    headers = {"x-emulator-fault": fault}
    if key:
        headers["x-emulator-fault-key"] = key
    if times is not None:
        headers["x-emulator-fault-times"] = str(times)
    return {**account, "headers": headers}


@pytest.fixture(scope="session")
def emulator_url():
    with serve_in_thread() as url:
        yield url


@pytest.fixture(scope="session")
def config_path(emulator_url: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    main = account_overrides(emulator_url)
    accounts = dict(main)
    accounts["anthropic-retry"] = _fault(main["anthropic-main"], "429", key="retry-429", times=1)
    accounts["openai-retry"] = _fault(main["openai-main"], "500", key="retry-500", times=2)
    accounts["anthropic-limited"] = _fault(main["anthropic-main"], "429")
    accounts["openai-down"] = _fault(main["openai-main"], "503")
    accounts["anthropic-cut"] = _fault(main["anthropic-main"], "cut")
    accounts["bedrock-badcrc"] = _fault(main["bedrock-main"], "badcrc")
    accounts["openai-badjson"] = _fault(main["openai-main"], "badjson")
    accounts["gemini-hang"] = _fault(main["gemini-main"], "hang")
    accounts["groq-only-llama"] = {**main["groq-main"], "models": ["llama-3.3-70b-versatile"]}
    accounts["anthropic-drop"] = {**main["anthropic-main"], "policy": "drop"}
    accounts["anthropic-slow"] = {**main["anthropic-main"], "headers": {"x-emulator-token-delay-ms": "100"}}
    accounts["nowhere"] = {"provider": "openai", "base_url": "http://127.0.0.1:9", "key": "x-unused-key"}
    config = {"accounts": accounts, "limits": {"max_body_bytes": 256 * 1024},
              "upstream": {"read_timeout": 3, "retries": 2, "backoff_base": 0.01, "backoff_max": 0.05,
                           "retry_after_max": 5}}
    path = tmp_path_factory.mktemp("gw") / "gateway.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


@pytest.fixture(scope="session")
def gateway_url(emulator_url: str, config_path: Path):
    app = gateway_app(emulator_url, str(config_path))
    with run_app(app) as url:
        yield url


@pytest.fixture
def client(gateway_url: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=gateway_url + "/v1", api_key=KEY, max_retries=0, timeout=20)


@pytest.fixture
def aclient(gateway_url: str) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(base_url=gateway_url + "/v1", api_key=KEY, max_retries=0, timeout=20)
