"""Live event stream: agent states, call steps and quality warnings for WebSocket clients."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

_QUEUE_LIMIT = 1000


class EventHub:
    """Fan-out of JSON-able events to subscribers; a slow subscriber loses old events only."""

    def __init__(self) -> None:
        self._subscribers: set[asyncio.Queue[dict]] = set()

    def publish(self, event: dict) -> None:
        for q in self._subscribers:
            if q.full():
                with contextlib.suppress(asyncio.QueueEmpty):
                    q.get_nowait()
            q.put_nowait(event)

    @contextlib.asynccontextmanager
    async def subscribe(self) -> AsyncIterator[asyncio.Queue[dict]]:
        q: asyncio.Queue[dict] = asyncio.Queue(_QUEUE_LIMIT)
        self._subscribers.add(q)
        try:
            yield q
        finally:
            self._subscribers.discard(q)
