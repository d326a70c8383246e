"""A bounded soak (bench/soak.py at a small size): ~1500 mixed requests over every provider's main
account, a few percent through fault accounts; every request ends in exactly one well-formed
outcome, and memory, file descriptors, asyncio tasks and the upstream pool stay flat."""
from __future__ import annotations

import pytest

from bench import soak


@pytest.mark.slow
def test_soak_every_request_has_one_well_formed_outcome_and_resources_stay_flat() -> None:
    report = soak.run(requests=1500, concurrency=50, seed=7, read_timeout=1.5)
    print("\n" + report.text())
    assert report.requests == 1500
    assert not report.problems(), "\n".join(report.problems())
    # every fault kind was exercised, and each ended the way it should (checked per request)
    assert set(report.by_kind) == {"main", *soak.FAULTS}
    assert {"completion", "stream", "stream_error", "http_error"} <= set(report.outcomes)
    assert sum(report.outcomes.values()) == report.requests
    assert report.seconds < 60
