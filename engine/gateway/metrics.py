"""Prometheus metrics through prometheus-client (multi-process safe under --workers).

With PROMETHEUS_MULTIPROC_DIR set (the server sets it for --workers > 1), every worker
writes its samples there and /metrics aggregates them. Labels are account, provider
and model (never keys). The model label is the caller's model id when the account lists
that model or the provider answered it; any other id (a typo, a client looping over made-up
names, all refused) is counted as `(other)`, so the series stay bounded by real models.
"""
from __future__ import annotations

import os
from typing import Any

from prometheus_client import (CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest,
                               multiprocess)

_LABELS = ("account", "provider", "model")
OTHER = "(other)"
_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)


class Metrics:
    def __init__(self, listed: dict[str, frozenset[str]] | None = None) -> None:
        self.listed = listed or {}      # account -> the models it lists
        self.registry = CollectorRegistry(auto_describe=True)
        self._children: dict[tuple, Any] = {}
        reg = self.registry
        self.requests = Counter("switchboard_requests", "Chat completion requests by outcome",
                                (*_LABELS, "status", "stream"), registry=reg)
        self.latency = Histogram("switchboard_request_seconds", "Time to the full answer (or stream end)",
                                 (*_LABELS, "stream"), buckets=_BUCKETS, registry=reg)
        self.upstream = Histogram("switchboard_upstream_seconds", "Time until the provider answered (headers)",
                                  _LABELS, buckets=_BUCKETS, registry=reg)
        self.tokens = Counter("switchboard_tokens", "Tokens in and out, as the providers reported them",
                              (*_LABELS, "direction"), registry=reg)
        self.errors = Counter("switchboard_errors", "Errors by OpenAI error type and code",
                              (*_LABELS, "type", "code"), registry=reg)

    def _child(self, metric: Any, *labels: str) -> Any:
        """prometheus-client's labels() takes a lock and validates on every call; the labelled
        children are cached here by their label values (bounded: accounts x models x outcomes)."""
        key = (id(metric), labels)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = metric.labels(*labels)
        return child

    def render(self) -> tuple[bytes, str]:
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)
            return generate_latest(registry), CONTENT_TYPE_LATEST
        return generate_latest(self.registry), CONTENT_TYPE_LATEST

    def observe(self, info: dict) -> None:
        """Record one finished request from its access-log record."""
        if "provider" not in info:
            return
        account, model = info.get("account", ""), info.get("model", "")
        if info["status"] != 200 and model not in self.listed.get(account, ()):
            model = OTHER
        labels = (account, info["provider"], model)
        stream = "true" if info.get("stream") else "false"
        self._child(self.requests, *labels, str(info["status"]), stream).inc()
        self._child(self.latency, *labels, stream).observe(info["ms"] / 1000)
        if "upstream_ms" in info:
            self._child(self.upstream, *labels).observe(info["upstream_ms"] / 1000)
        for direction in ("prompt", "completion"):
            if info.get(f"{direction}_tokens"):
                self._child(self.tokens, *labels, direction).inc(info[f"{direction}_tokens"])
        if info.get("error_type"):   # an upstream error may carry no code: counted all the same
            self._child(self.errors, *labels, info["error_type"], info.get("error") or "").inc()
