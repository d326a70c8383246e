"""A cache of parsed and schema-checked data files, keyed by content.

Parsing YAML and validating it with jsonschema is most of `engine.load()`; the result
depends only on the file's bytes, its schema and this engine version. So the checked
data is stored as JSON under SWITCHBOARD_CACHE_DIR (default ~/.cache/switchboard) and
reused while the inputs are byte-for-byte the same. Anything that changes a byte
changes the key; an unwritable cache directory only means no cache.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable

import orjson

try:  # CPython's built-in BLAKE2: importing hashlib would load OpenSSL (5-15 ms of cold start)
    from _blake2 import blake2b
except ImportError:  # pragma: no cover - other interpreters
    from hashlib import blake2b

VERSION = b"switchboard-spec-cache-2"


def _directory() -> Path | None:
    if os.environ.get("SWITCHBOARD_NO_CACHE"):
        return None
    base = os.environ.get("SWITCHBOARD_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "switchboard")
    return Path(base)


def cached(parts: list[bytes], build: Callable[[], Any]) -> Any:
    """`build()` once per distinct `parts`; later calls read the stored JSON instead."""
    directory = _directory()
    if directory is None:
        return build()
    digest = blake2b(VERSION + b"\0".join(parts), digest_size=32).hexdigest()
    path = directory / digest[:2] / f"{digest}.json"
    try:
        return orjson.loads(path.read_bytes())
    except (OSError, orjson.JSONDecodeError):
        pass
    data = build()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_bytes(orjson.dumps(data))
        os.replace(tmp, path)
    except OSError:
        pass
    return data
