"""Pre-forked workers: build the ASGI app once, then fork N processes that serve it on one socket.

Spawned workers (uvicorn's `--workers`) each start a fresh interpreter and import and build
everything again, so N workers cost N full copies plus a supervisor and multiprocessing's
resource tracker. Forked after the build, the workers share the interpreter, the libraries
and the compiled app with the supervisor, copy-on-write; `gc.freeze()` first keeps the
collector from writing to those pages. Each worker then runs its own event loop, and anything
bound to a loop (the upstream pool) is made in the worker's lifespan start-up.

The supervisor waits for signals synchronously (`sigtimedwait`, with the signals blocked), so
it runs no Python between events: on SIGTERM/SIGINT/SIGQUIT it closes its copy of the socket
(new connections are refused once the workers close theirs), sends SIGTERM to every worker to
drain, and SIGKILLs what is left after the grace period (at once on a second signal). A worker
that dies on its own is replaced, unless workers keep dying within seconds of their start.
"""
from __future__ import annotations

import gc
import logging
import os
import signal
import socket
import sys
import threading
import time
from typing import Any, Callable, NoReturn

log = logging.getLogger("switchboard.workers")

_STOP = {signal.SIGTERM, signal.SIGINT, signal.SIGQUIT}
_WATCHED = _STOP | {signal.SIGCHLD}
_EARLY_S = 5.0          # a worker that dies sooner than this after its start died early
_EARLY_LIMIT = 3        # this many early deaths in a row: give up rather than fork in a loop


def available() -> bool:
    """Forking is safe here: the platform has fork and sigtimedwait, and no other thread runs
    (a thread holding a lock at the fork leaves it held forever in the child)."""
    return hasattr(os, "fork") and hasattr(signal, "sigtimedwait") and threading.active_count() == 1


def serve(config: Any, sock: socket.socket, workers: int) -> int:
    """Serve `config` (a `uvicorn.Config` holding an app instance) on the bound `sock` in
    `workers` forked processes; returns the supervisor's exit code once they have all stopped."""
    import ctypes  # noqa: F401 - imported once here for every worker's _exit_with
    import uvicorn
    # Everything a worker would otherwise import or build as it starts is done here, once, and
    # shared: the app wrapped in its middleware, the protocol classes, the event loop's module.
    config.load()
    (getattr(config, "get_loop_factory", None) or config.setup_event_loop)()
    gc.collect()
    gc.freeze()

    def target() -> None:
        uvicorn.Server(config).run(sockets=[sock])

    return Supervisor(target, sock, workers, grace=(config.timeout_graceful_shutdown or 0) + 5).run()


class Supervisor:
    def __init__(self, target: Callable[[], None], sock: socket.socket, workers: int, grace: float):
        self.target, self.sock, self.workers, self.grace = target, sock, workers, grace
        self.children: dict[int, float] = {}        # pid -> when it started (monotonic)
        self.stopping_since: float | None = None
        self.early_deaths = 0
        self.code = 0
        self.pid = os.getpid()
        self._mask: set[signal.Signals] = set()

    def run(self) -> int:
        self._mask = signal.pthread_sigmask(signal.SIG_BLOCK, _WATCHED)
        try:
            for _ in range(self.workers):
                self._fork()
            while self.children:
                info = signal.sigtimedwait(_WATCHED, 1.0 if self.stopping_since is not None else 60.0)
                if info is not None and info.si_signo in _STOP:
                    self._stop(force=self.stopping_since is not None)
                self._reap()
                if self.stopping_since is not None and time.monotonic() - self.stopping_since > self.grace:
                    self._signal_all(signal.SIGKILL)
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, self._mask)
            self.sock.close()
        return self.code

    def _fork(self) -> None:
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child leaves through os._exit; the e2e tests run it
            _worker(self.target, self._mask, self.pid)
        self.children[pid] = time.monotonic()

    def _stop(self, force: bool = False) -> None:
        if self.stopping_since is None:
            self.stopping_since = time.monotonic()
            self.sock.close()
        self._signal_all(signal.SIGKILL if force else signal.SIGTERM)

    def _signal_all(self, sig: int) -> None:
        for pid in self.children:
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass

    def _reap(self) -> None:
        while self.children:
            pid, status = os.waitpid(-1, os.WNOHANG)
            if pid == 0:
                return
            started = self.children.pop(pid, None)
            if started is None or self.stopping_since is not None:
                continue
            self._replace(pid, os.waitstatus_to_exitcode(status), time.monotonic() - started)

    def _replace(self, pid: int, code: int, lived: float) -> None:
        """A worker died while serving: fork another, unless workers die as soon as they start
        (a start-up failure would otherwise fork forever)."""
        self.early_deaths = self.early_deaths + 1 if lived < _EARLY_S else 0
        if self.early_deaths >= _EARLY_LIMIT:
            log.error("worker %d exited with %d %.1f s after its start; %d workers in a row did: "
                      "stopping", pid, code, lived, self.early_deaths)
            self.code = 1
            self._stop()
            return
        log.warning("worker %d exited with %d after %.1f s; starting another", pid, code, lived)
        self._fork()


def _worker(target: Callable[[], None], mask: set[signal.Signals], parent: int) -> NoReturn:
    code = 1
    try:
        _exit_with(parent)
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)
        target()
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except KeyboardInterrupt:
        code = 0
    except BaseException:  # noqa: BLE001 - logged; the supervisor sees the exit code
        log.exception("worker %d failed", os.getpid())
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def _exit_with(parent: int) -> None:
    """Ask the kernel for SIGTERM when the supervisor dies (Linux), so workers left behind by a
    killed supervisor drain and exit instead of holding the port; if it already died, exit now."""
    try:
        import ctypes
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)    # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:
        os.kill(os.getpid(), signal.SIGTERM)
