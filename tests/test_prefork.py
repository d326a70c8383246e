"""engine.prefork's supervisor, driven in fresh interpreters (forking this test process, which
may run server threads of other tests, would not be safe): start-up failures end it instead of
forking forever, SIGTERM drains the workers and SIGKILLs the ones past the grace period, and a
second signal does not wait."""
from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Iterator

ROOT = Path(__file__).resolve().parents[1]

PRELUDE = """
import logging, os, signal, socket, sys, time
from engine import prefork
logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
sock = socket.socket()
"""


def _run(body: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", PRELUDE + body], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout)


def _start(body: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", PRELUDE + body], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"


def test_workers_that_die_at_start_up_stop_the_supervisor_instead_of_forking_forever() -> None:
    done = _run("""
def target():
    os.write(1, f"started {os.getpid()}\\n".encode())
    sys.exit(3)
print("code", prefork.Supervisor(target, sock, 2, grace=1).run(), flush=True)
""")
    lines = done.stdout.split("\n")
    assert "code 1" in lines, done.stdout + done.stderr
    started = [line for line in lines if line.startswith("started")]
    assert 3 <= len(started) <= 4, started          # two, then one replacement per early death, then stop
    assert "exited with 3" in done.stderr and "in a row did: stopping" in done.stderr
    assert "Traceback" not in done.stderr


def _supervising(setup: str, grace: float) -> str:
    """A supervisor of two workers that run `setup`, say their pid and sleep; it prints its exit
    code and how long it ran."""
    return f"""
def target():
{textwrap.indent(setup, "    ")}
    os.write(1, f"worker {{os.getpid()}}\\n".encode())   # one write: the workers print at once
    while True:
        time.sleep(1)
started = time.monotonic()
code = prefork.Supervisor(target, sock, 2, grace={grace}).run()
print("code", code, round(time.monotonic() - started, 1), flush=True)
"""


@contextlib.contextmanager
def _running(script: str) -> Iterator[tuple[subprocess.Popen, list[int]]]:
    proc = _start(script)
    try:
        yield proc, _worker_pids(proc)
    finally:
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)


def test_sigterm_drains_the_workers_and_kills_those_past_the_grace_period() -> None:
    stubborn = """if os.environ.get("STUBBORN") is None:       # the first worker ignores SIGTERM
    os.environ["STUBBORN"] = "1"
    signal.signal(signal.SIGTERM, signal.SIG_IGN)"""
    with _running(_supervising(stubborn, grace=1.5)) as (proc, workers):
        time.sleep(0.2)
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=20)
    assert out.startswith("code 0"), out + err
    waited = float(out.split()[2])
    assert 1.5 <= waited < 5, waited                 # the stubborn worker was killed after the grace period
    assert not any(_alive(pid) for pid in workers)
    assert "Traceback" not in err


def test_a_second_stop_signal_kills_the_workers_at_once() -> None:
    with _running(_supervising("signal.signal(signal.SIGTERM, signal.SIG_IGN)", grace=30)) as (proc, workers):
        proc.send_signal(signal.SIGTERM)
        time.sleep(0.3)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=20)
    assert out.startswith("code 0"), out + err
    assert float(out.split()[2]) < 5
    assert not any(_alive(pid) for pid in workers)


def test_forking_is_chosen_only_when_no_other_thread_runs() -> None:
    done = _run("""
import threading
print(prefork.available())
stop = threading.Event(); t = threading.Thread(target=stop.wait); t.start()
print(prefork.available())
stop.set(); t.join()
""")
    assert done.stdout.split() == ["True", "False"], done.stdout + done.stderr


def test_workers_stop_when_the_supervisor_is_killed() -> None:
    with _running(_supervising("pass", grace=1)) as (proc, workers):
        proc.kill()
        proc.wait(timeout=10)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(_alive(pid) for pid in workers):
            time.sleep(0.05)
        assert not any(_alive(pid) for pid in workers), "orphaned workers kept running"


def _worker_pids(proc: subprocess.Popen) -> list[int]:
    lines = [proc.stdout.readline() for _ in range(2)]
    assert all(line.startswith("worker ") for line in lines), (lines, proc.stderr.read() if proc.poll() else "")
    return [int(line.split()[1]) for line in lines]
