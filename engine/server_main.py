"""`switchboard serve`: run the gateway under uvicorn (optionally against the emulator).

uvicorn is the ASGI server: well kept, small, and fast with httptools and uvloop;
`--workers N` runs N processes sharing the port, forked from one that built the app
(engine/prefork.py) where that is safe, spawned by uvicorn otherwise.
"""
from __future__ import annotations

import argparse
import contextlib
import os
import sys
from typing import Any

DEV_KEY = "sk-switchboard-dev"


def serve(args: argparse.Namespace) -> int:
    with contextlib.ExitStack() as stack:
        if args.emulate:
            from emulator import serve_in_thread
            os.environ["SWITCHBOARD_EMULATOR"] = stack.enter_context(serve_in_thread())
            os.environ.setdefault("SWITCHBOARD_DEV_KEY", DEV_KEY)
        if args.config:
            os.environ["SWITCHBOARD_CONFIG"] = args.config
        if args.root:
            os.environ["SWITCHBOARD_ROOT"] = args.root
        if args.workers > 1 and "PROMETHEUS_MULTIPROC_DIR" not in os.environ:
            # set before the app is built: prometheus-client picks its storage when imported
            import tempfile
            os.environ["PROMETHEUS_MULTIPROC_DIR"] = stack.enter_context(tempfile.TemporaryDirectory())
        app = _create_app()  # fail fast on a bad config (logging set up there)
        code = _announce(app, args)
        if code:
            return code
        import uvicorn
        options = dict(host=args.host, port=args.port, log_level="warning", access_log=False, lifespan="on",
                       timeout_graceful_shutdown=10)
        if args.workers == 1:
            uvicorn.run(app, **options)
            return 0
        from . import prefork
        if prefork.available():
            app.warm()  # compiled before the fork, so every worker shares it
            return prefork.serve(uvicorn.Config(app, workers=args.workers, **options), args.workers)
        del app     # spawned workers build their own
        _run_spawned(args.workers, options)
    return 0


def _create_app() -> Any:
    from .gateway.factory import create_app
    return create_app()


def _announce(app: Any, args: argparse.Namespace) -> int:
    """Refuse to serve without client keys; otherwise print where the gateway listens."""
    if not app.config.key_digests:
        print("no client keys: set SWITCHBOARD_API_KEYS, add `keys:` to the config, or use --emulate",
              file=sys.stderr)
        return 2
    base = f"http://{args.host}:{args.port}/v1"
    print(f"Switchboard gateway on {base}", flush=True)
    if args.emulate:
        print(f"Emulated providers; development key: {os.environ['SWITCHBOARD_DEV_KEY']}", flush=True)
        example = next((m["id"] for m in app.models()["data"]), "<account>/<model>")
        print(f'  OpenAI(base_url="{base}", api_key="{os.environ["SWITCHBOARD_DEV_KEY"]}") '
              f'with model="{example}"', flush=True)
    return 0


def _run_spawned(workers: int, options: dict[str, Any]) -> None:
    """N spawned worker processes sharing one listening socket, where forking is not safe (no
    fork, or another thread runs here: --emulate's emulator). On SIGTERM the supervisor closes its
    own copy of the socket at once, so with the workers draining (theirs closed too) new
    connections are refused instead of queueing in a backlog nobody serves."""
    import uvicorn
    from uvicorn.supervisors import Multiprocess

    class Draining(Multiprocess):
        def terminate_all(self) -> None:
            for sock in self.sockets:
                sock.close()
            super().terminate_all()

    config = uvicorn.Config("engine.gateway.factory:create_app", factory=True, workers=workers, **options)
    Draining(config, sockets=[config.bind_socket()]).run()
