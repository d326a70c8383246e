"""The gateway around the engine: config, upstream auth, the shared HTTP client, the ASGI app.

All I/O lives here; the engine's translation core (engine/*.py) stays pure.
"""
