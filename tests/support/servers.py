"""Real servers on 127.0.0.1 for end-to-end tests: the emulator and the gateway, each
under uvicorn in a background thread."""
from __future__ import annotations

import contextlib
from typing import Any, Iterator

import uvicorn

import engine
from emulator.gateway import account_overrides
from emulator.server import free_port, run_in_thread
from engine.gateway.app import Gateway
from engine.gateway.config import load_config

KEY = "sk-test-gateway-key-0001"
running_gateways: dict[str, Any] = {}   # base URL -> app, for tests that inspect gateway state


@contextlib.contextmanager
def run_app(app: Any) -> Iterator[str]:
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="critical",
                                           access_log=False, lifespan="on", timeout_graceful_shutdown=2))
    with run_in_thread(server, "127.0.0.1", port) as url:
        running_gateways[url] = app
        try:
            yield url
        finally:
            running_gateways.pop(url, None)


def gateway_app(emulator_url: str, config_path: str | None = None, **upstream: Any) -> Gateway:
    sb = engine.load()
    config = load_config(config_path, sb.providers, extra_keys=[KEY],
                         account_overrides=account_overrides(emulator_url))
    config.upstream.update(upstream)
    return Gateway(sb, config)
