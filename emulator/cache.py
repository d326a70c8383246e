"""Prompt-cache bookkeeping: the first request with a given cached prefix writes it, later ones read it,
so gateways can check both cache_creation and cache_read accounting."""
from __future__ import annotations

import hashlib
import threading

import orjson


class CacheLedger:
    """Per-server set of prefix hashes that have been 'written' to the cache."""

    def __init__(self) -> None:
        self._seen: set[str] = set()
        self._lock = threading.Lock()

    def account(self, prefix: object, prefix_tokens: int) -> tuple[int, int]:
        """Return (write_tokens, read_tokens) for a cached prefix of `prefix_tokens` tokens."""
        if prefix_tokens <= 0:
            return 0, 0
        key = hashlib.sha256(orjson.dumps(prefix, option=orjson.OPT_SORT_KEYS)).hexdigest()
        with self._lock:
            if key in self._seen:
                return 0, prefix_tokens
            self._seen.add(key)
            return prefix_tokens, 0
