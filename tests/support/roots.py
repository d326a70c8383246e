"""A throwaway copy of the data files, for tests that break or extend them."""
from __future__ import annotations

import shutil
from pathlib import Path

from engine.loader import bundled_root


def copy_root(tmp: Path) -> Path:
    src = bundled_root()
    for name in ("providers.yaml", "capabilities.yaml"):
        shutil.copy2(src / name, tmp / name)
    shutil.copytree(src / "specs", tmp / "specs")
    return tmp
