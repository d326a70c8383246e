"""`switchboard serve`: run the gateway under uvicorn (optionally against the emulator).

uvicorn is the ASGI server: well kept, small, and fast with httptools and uvloop;
`--workers N` runs N processes sharing the port, forked from one that built the app
(engine/prefork.py) where that is safe, spawned by uvicorn otherwise.
"""
from __future__ import annotations

import argparse
import contextlib
import os
import socket
import sys
from typing import Any

from .errors import SwitchboardError

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
        if not app.config.key_digests:
            print("no client keys: set SWITCHBOARD_API_KEYS, add `keys:` to the config, or use --emulate",
                  file=sys.stderr)
            return 2
        import uvicorn
        options = dict(host=args.host, port=args.port, log_level="warning", access_log=False, lifespan="on",
                       timeout_graceful_shutdown=10)
        from . import prefork
        if args.workers > 1 and not prefork.available():
            config = uvicorn.Config("engine.gateway.factory:create_app", factory=True, workers=args.workers,
                                    **options)
            sock = _listen(config)
            _announce(app, args)
            del app     # spawned workers build their own
            _run_spawned(config, sock)
            return 0
        config = uvicorn.Config(app, workers=args.workers, **options)
        sock = _listen(config)
        _announce(app, args)
        if args.workers == 1:
            # uvicorn re-raises the signal it drained on; Ctrl-C's KeyboardInterrupt ends quietly
            with contextlib.suppress(KeyboardInterrupt):
                uvicorn.Server(config).run(sockets=[sock])
            return 0
        app.warm()  # compiled before the fork, so every worker shares it
        return prefork.serve(config, sock, args.workers)
    return 0


def _create_app() -> Any:
    from .gateway.factory import create_app
    return create_app()


def _listen(config: Any) -> socket.socket:
    """The listening socket, bound before anything is announced; a port in use or an address
    this host does not have is a clear error naming it (uvicorn's own check logs and exits)."""
    try:
        return config.bind_socket()
    except SystemExit as exc:
        cause = exc.__context__      # the OSError uvicorn caught before exiting
        why = getattr(cause, "strerror", None) or str(cause or "the address could not be bound")
        raise SwitchboardError(f"cannot listen on {config.host}:{config.port}: {why}",
                               code="cannot_listen") from None


def _announce(app: Any, args: argparse.Namespace) -> None:
    """Print where the gateway listens (and, with --emulate, how to call it)."""
    base = f"http://{args.host}:{args.port}/v1"
    print(f"Switchboard gateway on {base}", flush=True)
    if args.emulate:
        print(f"Emulated providers; development key: {os.environ['SWITCHBOARD_DEV_KEY']}", flush=True)
        example = next((m["id"] for m in app.models()["data"]), "<account>/<model>")
        print(f'  OpenAI(base_url="{base}", api_key="{os.environ["SWITCHBOARD_DEV_KEY"]}") '
              f'with model="{example}"', flush=True)


def _run_spawned(config: Any, sock: socket.socket) -> None:
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

    Draining(config, sockets=[sock]).run()
