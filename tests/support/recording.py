"""An emulator that records, per request, when it started, how many response pieces it handed to
the server and when the client (the gateway) hung up: to check that a gateway stops reading
upstream promptly when its own client goes away."""
from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any

from emulator.app import EmulatorApp
from emulator.asgi import Context


@dataclass
class Seen:
    path: str
    started: float
    sends: list[float] = field(default_factory=list)   # times of body pieces handed to the server
    disconnected: float | None = None                   # when the server reported http.disconnect
    finished: float | None = None                       # when the app returned

    def sent_before(self, t: float) -> int:
        return sum(1 for s in self.sends if s <= t)


class RecordingEmulator:
    """ASGI wrapper around EmulatorApp; `self.seen` lists every HTTP request it served."""

    def __init__(self, **context: Any):
        self.app = EmulatorApp(Context(**context))
        self.seen: list[Seen] = []

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        record = Seen(scope["path"], time.monotonic())
        self.seen.append(record)
        gone = asyncio.Event()
        watcher: asyncio.Task | None = None

        async def watch() -> None:
            while (await receive())["type"] != "http.disconnect":
                pass
            record.disconnected = time.monotonic()
            gone.set()

        async def recv() -> dict:
            nonlocal watcher
            if watcher is not None:  # the body is read: the watcher owns receive() now
                await gone.wait()
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.disconnect":
                record.disconnected = time.monotonic()
                gone.set()
            elif not message.get("more_body"):
                watcher = asyncio.create_task(watch())
            return message

        async def snd(message: dict) -> None:
            if message["type"] == "http.response.body" and message.get("body"):
                if record.disconnected is None:
                    record.sends.append(time.monotonic())
            await send(message)

        try:
            await self.app(scope, recv, snd)
        finally:
            record.finished = time.monotonic()
            if watcher is not None and not watcher.done():
                watcher.cancel()
