"""Callbacks for supervisors (SPEC S8): those still pending and those that failed.

Pending ones are read from the callback store (what survives a restart: the attempt, when
the next one is due); failed ones from the call log, which is the record of what happened
(a failed callback is dropped from the store, its ``callback_failed`` event stays).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from calllog import EventKind

if TYPE_CHECKING:
    from vaxel.storage.callbacks import CallbackStore
    from vaxel.storage.calllog import CallLog


def _iso(ts: float | None) -> str | None:
    return None if ts is None else datetime.fromtimestamp(ts, UTC).isoformat()


class CallbackBoard:
    def __init__(self, store: CallbackStore, calllog: CallLog) -> None:
        self._store = store
        self._calllog = calllog

    async def pending(self, queue: str | None = None) -> list[dict[str, Any]]:
        """Pending callbacks, oldest booking first (the order they are served in a queue
        of equal priority)."""
        return [
            {
                "status": "pending",
                "id": p.callback.origin,
                "queue": p.queue,
                "number": p.callback.number,
                "booked_at": _iso(p.callback.arrived_at),
                "priority": p.callback.priority,
                "attempts": p.callback.attempt - 1,
                "next_attempt_at": _iso(p.next_at),
                "b_number": p.b_number,
            }
            for p in await self._store.pending()
            if queue is None or p.queue == queue
        ]

    async def failed(
        self,
        *,
        since: datetime | None,
        until: datetime | None,
        queue: str | None,
        limit: int,
    ) -> list[dict[str, Any]]:
        """Callbacks given up after their last attempt, newest last."""
        events = await self._calllog.events(
            kind=EventKind.CALLBACK_FAILED, since=since, until=until, queue=queue, limit=limit
        )
        out = []
        for e in events:
            data = e.data or {}
            out.append(
                {
                    "status": "failed",
                    "id": data.get("origin") or e.call_id,
                    "queue": e.queue,
                    "number": e.a_number,
                    "failed_at": e.at.isoformat(),
                    "attempts": data.get("attempts"),
                    "reason": data.get("reason"),
                    "last_call_id": e.call_id,
                }
            )
        return out
