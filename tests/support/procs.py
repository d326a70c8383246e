"""The real `switchboard serve` CLI as a subprocess on 127.0.0.1, with its stderr captured to a
file (access log lines, errors), and a few /proc figures for leak checks."""
from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import httpx

from emulator.server import free_port

ROOT = Path(__file__).resolve().parent.parent.parent


def switchboard_command() -> list[str]:
    """The installed `switchboard` console script next to this interpreter, else `python -m engine.cli`."""
    script = Path(sys.executable).with_name("switchboard")
    return [str(script)] if script.exists() else [sys.executable, "-m", "engine.cli"]


def run_cli(*args: str, env: dict | None = None, timeout: float = 30) -> subprocess.CompletedProcess:
    """Run `switchboard <args>` to completion (for commands expected to exit by themselves)."""
    return subprocess.run([*switchboard_command(), *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=timeout)


@dataclass
class Served:
    proc: subprocess.Popen
    url: str
    port: int
    stdout_path: Path
    stderr_path: Path

    def stderr(self) -> str:
        return self.stderr_path.read_text(errors="replace")

    def stdout(self) -> str:
        return self.stdout_path.read_text(errors="replace")

    def log_records(self) -> list[dict]:
        """Every stderr line that is a JSON object (the access log)."""
        out = []
        for line in self.stderr().splitlines():
            if line.startswith("{"):
                with contextlib.suppress(ValueError):
                    record = json.loads(line)
                    if isinstance(record, dict):
                        out.append(record)
        return out

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15) -> int | None:
        """Signal the server and wait for it; the exit code, or None if it did not exit in time."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None


def wait_healthy(url: str, proc: subprocess.Popen | None = None, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode} before it was healthy")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url + "/health", timeout=1).status_code == 200:
                return
        if time.monotonic() > deadline:
            raise RuntimeError(f"{url} not healthy after {timeout} s")
        time.sleep(0.1)


@contextlib.contextmanager
def serve_cli(*args: str, workdir: Path, env: dict | None = None, ready_timeout: float = 30) -> Iterator[Served]:
    """`switchboard serve --port <free> <args>` in its own session; healthy on entry, stopped on exit
    (SIGTERM, then SIGKILL of its process group if it is still running after 15 s)."""
    port = free_port()
    out, err = workdir / f"serve-{port}.stdout", workdir / f"serve-{port}.stderr"
    with open(out, "wb") as out_f, open(err, "wb") as err_f:
        proc = subprocess.Popen([*switchboard_command(), "serve", "--host", "127.0.0.1", "--port", str(port), *args],
                                cwd=ROOT, env=env, stdout=out_f, stderr=err_f, start_new_session=True)
    served = Served(proc, f"http://127.0.0.1:{port}", port, out, err)
    try:
        try:
            wait_healthy(served.url, proc, ready_timeout)
        except RuntimeError as exc:
            raise RuntimeError(f"{exc}\n--- stderr ---\n{served.stderr()[-3000:]}") from None
        yield served
    finally:
        if proc.poll() is None and served.stop(timeout=15) is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)
