"""How many upstream connections a gateway holds (in use + idle keep-alive), whichever HTTP
transport its `Upstream` runs on: httpx's own pool or aiohttp's (engine.gateway.transport)."""
from __future__ import annotations

from typing import Any


def upstream_connections(gateway: Any) -> int:
    upstream = getattr(gateway, "upstream", None)
    if upstream is None:
        return 0
    transport = upstream.transport
    pool = getattr(transport, "_pool", None)
    if pool is not None:                      # httpx / httpcore
        return len(pool.connections)
    connector = getattr(transport, "connector", None)
    if connector is None:                     # aiohttp session not created yet: no connection either
        return 0
    idle = sum(len(conns) for conns in connector._conns.values())
    return idle + len(connector._acquired)


def upstream_connections_settled(gateway: Any) -> bool:
    """True when no connection is left half-used: each is idle and reusable, or gone."""
    transport = gateway.upstream.transport
    pool = getattr(transport, "_pool", None)
    if pool is not None:
        return all(conn.is_closed() or conn.is_idle() for conn in pool.connections)
    connector = getattr(transport, "connector", None)
    return connector is None or not connector._acquired


def idle_upstream_connections(gateway: Any) -> int:
    """Connections back in the pool, idle and reusable by the next request."""
    transport = gateway.upstream.transport
    pool = getattr(transport, "_pool", None)
    if pool is not None:
        return sum(1 for conn in pool.connections if conn.is_idle())
    connector = getattr(transport, "connector", None)
    return 0 if connector is None else sum(len(conns) for conns in connector._conns.values())
