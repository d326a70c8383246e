"""The gateway with another upstream transport, for a side-by-side measurement (not a supported mode).

  python -m bench.gwalt --config gateway.yaml --port 8787 [--transport httpx-aiohttp]

Builds the app exactly as `switchboard serve` does (engine.gateway.factory.create_app, the same
uvicorn settings, the same access log on stderr) and only swaps the upstream transport of the shared
httpx.AsyncClient through `Gateway(..., transport=...)`, which the engine already accepts:

* httpx-aiohttp: `httpx_aiohttp.AiohttpTransport`, the general httpx-over-aiohttp transport the
  gateway used before engine/gateway/transport.py (same pool, same connection limit), so the
  two stay compared in one run.
One worker only. bench/gateway.py runs it as the "httpx-aiohttp transport" rows when httpx-aiohttp
is installed (bench/requirements.txt).
"""
from __future__ import annotations

import argparse
import logging
import os
import sys


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.gwalt", description=__doc__.splitlines()[0])
    ap.add_argument("--config", required=True)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=8787)
    ap.add_argument("--transport", choices=["httpx-aiohttp"], default="httpx-aiohttp")
    args = ap.parse_args(argv)

    import httpx
    import uvicorn
    from httpx_aiohttp import AiohttpTransport

    from engine.gateway.factory import create_app

    os.environ["SWITCHBOARD_CONFIG"] = args.config
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)   # as `switchboard serve`
    app = create_app()
    n = app.config.upstream["max_connections"]
    app._transport = AiohttpTransport(limits=httpx.Limits(max_connections=n, max_keepalive_connections=n),
                                      trust_env=False)
    print(f"Switchboard gateway (httpx-aiohttp transport) on http://{args.host}:{args.port}/v1", flush=True)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning", access_log=False, lifespan="on",
                timeout_graceful_shutdown=10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
