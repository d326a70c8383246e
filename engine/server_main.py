"""`switchboard serve`: run the gateway under uvicorn (optionally against the emulator).

uvicorn is the ASGI server: well kept, small, and fast with httptools and uvloop;
`--workers N` runs N processes sharing the port.
"""
from __future__ import annotations

import argparse
import contextlib
import os
import sys
from typing import Any, Callable

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
        if args.workers > 1:
            # The supervisor only watches the workers: the app it would build to check the config
            # (~40 MB) is built in a short-lived child instead, and the workers build their own.
            code = _apart(lambda: _announce(_create_app(), args))
            if code:
                return code
        else:
            app = _create_app()  # fail fast on a bad config (logging set up there)
            code = _announce(app, args)
            if code:
                return code
        if args.workers > 1 and "PROMETHEUS_MULTIPROC_DIR" not in os.environ:
            import tempfile
            os.environ["PROMETHEUS_MULTIPROC_DIR"] = stack.enter_context(tempfile.TemporaryDirectory())
        if args.workers > 1:
            _run_workers(args)
        else:
            import uvicorn
            uvicorn.run(app, host=args.host, port=args.port, log_level="warning", access_log=False,
                        lifespan="on", timeout_graceful_shutdown=10)
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


def _apart(check: Callable[[], int]) -> int:
    """Run `check` in a forked child and return its exit code, so what it builds never stays in
    this process; where there is no fork, or other threads run here (--emulate's emulator; forking
    a threaded process may deadlock the child), run it here."""
    import threading
    if not hasattr(os, "fork") or threading.active_count() > 1:
        return check()
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child leaves through os._exit; the e2e tests run it
        code = 1
        try:
            code = check()
        except SwitchboardError as exc:
            from .cli import report
            code = report(exc)
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
    return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])


def _run_workers(args: argparse.Namespace) -> None:
    """N worker processes sharing one listening socket. On SIGTERM the supervisor closes its
    own copy of the socket at once, so with the workers draining (theirs closed too) new
    connections are refused instead of queueing in a backlog nobody serves."""
    import uvicorn
    from uvicorn.supervisors import Multiprocess

    class Draining(Multiprocess):
        def terminate_all(self) -> None:
            for sock in self.sockets:
                sock.close()
            super().terminate_all()

    config = uvicorn.Config("engine.gateway.factory:create_app", factory=True, host=args.host, port=args.port,
                            workers=args.workers, log_level="warning", access_log=False, lifespan="on",
                            timeout_graceful_shutdown=10)
    Draining(config, sockets=[config.bind_socket()]).run()
