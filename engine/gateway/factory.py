"""Build the gateway ASGI app from the environment (for `uvicorn --factory` and --workers).

SWITCHBOARD_CONFIG      gateway config file (optional)
SWITCHBOARD_ROOT        data directory (default: the bundled specs)
SWITCHBOARD_EMULATOR    base URL of a running emulator: accounts point at it (--emulate)
SWITCHBOARD_DEV_KEY     an extra client key (the development key printed by --emulate)
"""
from __future__ import annotations

import logging
import os
import sys

from ..switchboard import load
from .app import Gateway
from .config import load_config


def configure_logging() -> None:
    """One JSON access line per request on stderr (in every worker); the HTTP clients'
    own per-request lines are left out."""
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    # The access line carries what it needs; thread and process names cost every record a lookup.
    logging.logThreads = logging.logProcesses = logging.logMultiprocessing = False
    for noisy in ("httpx", "httpcore", "aiohttp"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def create_app() -> Gateway:
    if os.environ.get("SWITCHBOARD_LOG", "1") == "1":
        configure_logging()
    sb = load(os.environ.get("SWITCHBOARD_ROOT") or None)
    overrides = None
    emulator_url = os.environ.get("SWITCHBOARD_EMULATOR")
    if emulator_url:
        from emulator.gateway import account_overrides
        overrides = account_overrides(emulator_url)
    dev_key = os.environ.get("SWITCHBOARD_DEV_KEY")
    config = load_config(os.environ.get("SWITCHBOARD_CONFIG") or None, sb.providers,
                         extra_keys=[dev_key] if dev_key else [], account_overrides=overrides)
    return Gateway(sb, config)
