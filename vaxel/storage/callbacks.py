"""Pending callbacks in the database: saved when booked and at each retry, deleted when the
customer was reached or the callback failed, read back at start."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import async_sessionmaker

from callcore import Callback, PendingCallback

from .models import CallbackRow


class CallbackStore:
    def __init__(self, sessions: async_sessionmaker[Any]) -> None:
        self._sessions = sessions
        self._lock = asyncio.Lock()  # FIFO: a callback's saves land in the order made

    async def save(self, p: PendingCallback) -> None:
        cb = p.callback
        row = CallbackRow(
            origin=cb.origin,
            queue=p.queue,
            number=cb.number,
            b_number=p.b_number,
            language=p.language,
            priority=cb.priority,
            arrived_at=cb.arrived_at,
            attempt=cb.attempt,
            next_at=p.next_at,
            updated_at=datetime.now(UTC),
        )
        async with self._lock, self._sessions() as session, session.begin():
            await session.merge(row)

    async def drop(self, origin: str) -> None:
        async with self._lock, self._sessions() as session, session.begin():
            await session.execute(delete(CallbackRow).where(CallbackRow.origin == origin))

    async def pending(self) -> list[PendingCallback]:
        async with self._sessions() as session:
            rows = (await session.scalars(select(CallbackRow))).all()
        return [
            PendingCallback(
                Callback(r.origin, r.number, r.attempt, r.arrived_at, r.priority),
                r.queue,
                r.b_number,
                r.language,
                r.next_at,
            )
            for r in sorted(rows, key=lambda r: r.arrived_at)
        ]
