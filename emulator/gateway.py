"""How a gateway reaches this emulator: per-provider base URLs and fake credentials.

This is the emulator's own knowledge of its routes (see app.route), kept here so the
gateway's `--emulate` mode needs no provider names of its own.
"""
from __future__ import annotations

import os

ROUTES = {
    "openai": "/openai/v1",
    "groq": "/groq/openai/v1",
    "anthropic": "/anthropic",
    "gemini": "/gemini",
    "bedrock": "/bedrock",
    "azure-openai": "/azure/openai",
    "vertex": "/vertex",
    "cohere": "/cohere",
    "ai21": "/ai21/studio/v1",
    "cerebras": "/cerebras/v1",
    "sambanova": "/sambanova/v1",
    "perplexity-ai": "/perplexity",
    "together-ai": "/together/v1",
    "xai": "/xai/v1",
    "deepinfra": "/deepinfra/v1/openai",
}
# Non-URL account hints some providers need (Vertex's project/location; Azure's URL style and API version).
OPTIONS = {
    "vertex": {"project": "emulated-project", "location": "us-central1"},
    "azure-openai": {"api_style": "deployment", "api_version": "2024-10-21"},
}
FAKE_KEY = "emulator-key"
_AWS_ENV = {"SWITCHBOARD_EMULATOR_AWS_KEY_ID": "AKIDEMULATOR00000000",
            "SWITCHBOARD_EMULATOR_AWS_SECRET": "emulator-secret-key"}


def account_overrides(base_url: str) -> dict[str, dict]:
    """Overrides for the default `<provider>-main` accounts, pointing them at the emulator."""
    os.environ.update({k: v for k, v in _AWS_ENV.items() if k not in os.environ})
    out = {}
    for provider, path in ROUTES.items():
        entry: dict = {"provider": provider, "base_url": base_url.rstrip("/") + path, "key": FAKE_KEY}
        if provider == "bedrock":
            entry["aws"] = {"access_key_id_env": "SWITCHBOARD_EMULATOR_AWS_KEY_ID",
                            "secret_access_key_env": "SWITCHBOARD_EMULATOR_AWS_SECRET"}
        if provider in OPTIONS:
            entry["options"] = dict(OPTIONS[provider])
        if provider == "vertex":
            entry["auth"] = {"kind": "bearer"}  # the emulator takes the fake key as its OAuth token
        out[f"{provider}-main"] = entry
    return out
