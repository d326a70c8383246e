"""Run the emulator under uvicorn in a background thread, for tests and benchmarks."""
from __future__ import annotations

import contextlib
import socket
import threading
import time
from typing import Iterator

import uvicorn

from emulator.app import EmulatorApp
from emulator.asgi import Context


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def make_server(host: str, port: int, latency_ms: int = 0, token_delay_ms: int = 0,
                log_level: str = "warning") -> uvicorn.Server:
    app = EmulatorApp(Context(latency_ms=latency_ms, token_delay_ms=token_delay_ms))
    config = uvicorn.Config(app, host=host, port=port, log_level=log_level, access_log=False,
                            lifespan="on", timeout_graceful_shutdown=1, timeout_keep_alive=5)
    return uvicorn.Server(config)


@contextlib.contextmanager
def run_in_thread(server: uvicorn.Server, host: str, port: int) -> Iterator[str]:
    """Run a configured uvicorn server in a daemon thread until the block ends."""
    thread = threading.Thread(target=server.run, name=f"uvicorn-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"the server on port {port} failed to start")
        time.sleep(0.01)
    try:
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=5)


@contextlib.contextmanager
def serve_in_thread(host: str = "127.0.0.1", port: int | None = None, latency_ms: int = 0,
                    token_delay_ms: int = 0, log_level: str = "critical") -> Iterator[str]:
    """`with serve_in_thread() as base_url:` starts a fresh emulator and stops it on exit."""
    port = port or free_port(host)
    with run_in_thread(make_server(host, port, latency_ms, token_delay_ms, log_level), host, port) as url:
        yield url
