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
        out[f"{provider}-main"] = entry
    return out
