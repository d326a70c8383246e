import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import engine  # noqa: E402


@pytest.fixture(scope="session")
def sb() -> engine.Switchboard:
    return engine.load()
