"""The gateway bench's 'inside' figure: Switchboard's own time per request, read from its access log."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.gateway import Run, own_time_ms


def _line(**entry: object) -> str:
    return json.dumps(entry) + "\n"


def test_own_time_is_ms_minus_upstream_ms_over_answered_non_stream_lines_after_the_offset(tmp_path: Path) -> None:
    log = tmp_path / "switchboard.log"
    before = _line(status=200, ms=50.0, upstream_ms=1.0, stream=False)     # an earlier run's line
    log.write_text(before)
    start = log.stat().st_size
    with open(log, "a") as fh:
        fh.write("INFO: uvicorn's own line, not JSON\n")
        fh.write(_line(status=200, ms=1.5, upstream_ms=1.0, stream=False))
        fh.write(_line(status=200, ms=2.0, upstream_ms=1.0, stream=False))
        fh.write(_line(status=200, ms=3.5, upstream_ms=1.0, stream=False))
        fh.write(_line(status=200, ms=90.0, upstream_ms=1.0, stream=True))   # a stream's ms spans its body
        fh.write(_line(status=400, ms=0.2, stream=False))                     # refused before any upstream call
        fh.write(_line(status=502, ms=9.0, upstream_ms=8.0, stream=False))
        fh.write("{broken json\n")
    got = own_time_ms(log, start)
    assert got is not None
    assert got["n"] == 3
    assert got["mean_ms"] == pytest.approx((0.5 + 1.0 + 2.5) / 3)
    assert got["p50_ms"] == pytest.approx(1.0)
    assert got["p99_ms"] == pytest.approx(2.5)


def test_no_answered_line_gives_no_figure(tmp_path: Path) -> None:
    log = tmp_path / "switchboard.log"
    log.write_text(_line(status=400, ms=0.2, stream=False))
    assert own_time_ms(log, 0) is None


def test_one_process_is_judged_by_its_own_vmhwm_and_several_by_pages_counted_once() -> None:
    from bench.gateway import _judged_memory
    assert _judged_memory((87.0, 80.0, 87.0), {"once": 60.0, "pss": 70.0}) == (87.0, "VmHWM")
    assert _judged_memory((170.0, 150.0, 62.0), {"once": 106.0, "pss": 98.0}) == (106.0, "pagemap")
    assert _judged_memory((170.0, 150.0, 62.0), {"once": None, "pss": 98.0}) == (98.0, "PSS")


def test_pages_a_forked_child_shares_are_counted_once() -> None:
    import os
    import signal

    from bench.gateway import _memory_mb, _resident_once_mb
    if _resident_once_mb([os.getpid()]) is None:
        pytest.skip("physical frame numbers are not readable here (needs CAP_SYS_ADMIN)")
    ballast = bytearray(os.urandom(32 * 2**20))       # 32 MB both processes map, shared copy-on-write
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child only waits to be killed
        signal.pause()
        os._exit(0)
    try:
        pids = [os.getpid(), pid]
        once = _resident_once_mb(pids)
        _, rss_sum, _ = _memory_mb(pids)
        _, own_rss, _ = _memory_mb([os.getpid()])
        assert once is not None
        assert own_rss * 0.9 <= once < rss_sum - 25   # the child's copy of the ballast is not counted again
    finally:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        del ballast


def _run(server: str, p50: float, stream: bool = False) -> Run:
    return Run(server, stream, {"ttlb": {"p50_ms": p50, "p99_ms": p50 + 2}, "errors": {}, "unfinished": 0})


def test_the_in_flight_table_judges_switchboard_against_the_direct_path_of_its_own_upstream_latency() -> None:
    from bench.gateway import _paced_table
    runs = [_run("direct to emulator", 250.6), _run("pass-through proxy floor (aiohttp)", 251.1),
            _run("switchboard, 1 worker", 251.4), _run("switchboard, 2 workers", 251.9)]
    t = _paced_table(runs, 400, 250)
    assert t.title.startswith("Added latency: 400 req/s with about 100 requests in flight, upstream answers after 250 ms")
    added = {row[0]: row[5] for row in t.rows}
    assert added["switchboard, 1 worker"] == pytest.approx(0.8)
    assert added["pass-through proxy floor (aiohttp)"] == pytest.approx(0.5)
    assert [row[-1] for row in t.rows if row[0].startswith("switchboard")] == ["yes", "**no**"]
    assert t.misses == [("gateway", "switchboard, 2 workers non-stream: added p50 1.30 ms at 400 req/s "
                                    "with 100 requests in flight (target < 1 ms)")]
    assert any("Little's law" in note for note in t.notes)
