"""The call log: every step of every call, written durably before it is acknowledged.

Writes go through one writer task that commits whatever has queued up in a single
transaction (group commit): at hundreds of call steps a second that costs one fsync
per batch instead of one per event, and ``append`` still returns only after commit.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from .models import CallEvent, CallRecord

log = logging.getLogger("vaxel.calllog")

_BATCH = 500


@dataclass(frozen=True, slots=True)
class CallLogEvent:
    call_id: str
    kind: str
    at: datetime = field(default_factory=lambda: datetime.now(UTC))
    queue: str | None = None
    agent: str | None = None
    a_number: str | None = None
    b_number: str | None = None
    data: dict[str, Any] | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "call_id": self.call_id,
            "kind": self.kind,
            "at": self.at.isoformat(),
            "queue": self.queue,
            "agent": self.agent,
            "a_number": self.a_number,
            "b_number": self.b_number,
            "data": self.data,
        }


@dataclass(frozen=True, slots=True)
class CallSummary:
    call_id: str
    started_at: datetime
    ended_at: datetime
    outcome: str
    a_number: str | None = None
    b_number: str | None = None
    queue: str | None = None
    agent: str | None = None
    wait_seconds: float | None = None
    talk_seconds: float | None = None
    mos: float | None = None
    quality: dict[str, Any] | None = None


_Item = CallLogEvent | CallSummary


class CallLog:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._sessions = async_sessionmaker(engine, expire_on_commit=False)
        self._queue: asyncio.Queue[tuple[list[_Item], asyncio.Future[None]] | None] = (
            asyncio.Queue()
        )
        self._writer: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._writer = asyncio.create_task(self._run(), name="calllog-writer")

    async def append(self, *items: _Item) -> None:
        """Write events (and summaries) and return once they are committed."""
        if self._writer is None or self._writer.done():
            raise RuntimeError("call log is not running")
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait((list(items), fut))
        await fut

    async def close(self) -> None:
        """Flush everything queued so far, then stop the writer."""
        if self._writer is None:
            return
        self._queue.put_nowait(None)
        with contextlib.suppress(asyncio.CancelledError):
            await self._writer
        self._writer = None

    async def _run(self) -> None:
        stopping = False
        while not stopping:
            first = await self._queue.get()
            if first is None:
                break
            batch = [first]
            while len(batch) < _BATCH and not self._queue.empty():
                nxt = self._queue.get_nowait()
                if nxt is None:
                    stopping = True
                    break
                batch.append(nxt)
            try:
                await self._write([item for items, _ in batch for item in items])
            except Exception as exc:  # report to every waiter; keep the writer alive
                log.exception("call log write failed")
                for _, fut in batch:
                    if not fut.done():
                        fut.set_exception(exc)
            else:
                for _, fut in batch:
                    if not fut.done():
                        fut.set_result(None)

    async def _write(self, items: list[_Item]) -> None:
        # Core executemany inserts: one statement per table per batch, no ORM identity map.
        events = [_event_columns(i) for i in items if isinstance(i, CallLogEvent)]
        summaries = [_summary_columns(i) for i in items if isinstance(i, CallSummary)]
        async with self._engine.begin() as conn:
            if events:
                await conn.execute(insert(CallEvent), events)
            if summaries:
                ids = [row["call_id"] for row in summaries]
                # A summary may be rewritten (e.g. at shutdown): last one wins.
                await conn.execute(delete(CallRecord).where(CallRecord.call_id.in_(ids)))
                latest = {row["call_id"]: row for row in summaries}
                await conn.execute(insert(CallRecord), list(latest.values()))

    async def events(
        self,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        queue: str | None = None,
        agent: str | None = None,
        call_id: str | None = None,
        limit: int = 1000,
    ) -> list[CallLogEvent]:
        stmt = select(CallEvent).order_by(CallEvent.at, CallEvent.id).limit(limit)
        if since is not None:
            stmt = stmt.where(CallEvent.at >= since)
        if until is not None:
            stmt = stmt.where(CallEvent.at < until)
        if queue is not None:
            stmt = stmt.where(CallEvent.queue == queue)
        if agent is not None:
            stmt = stmt.where(CallEvent.agent == agent)
        if call_id is not None:
            stmt = stmt.where(CallEvent.call_id == call_id)
        async with self._sessions() as session:
            rows = (await session.scalars(stmt)).all()
        return [
            CallLogEvent(
                call_id=r.call_id,
                kind=r.kind,
                at=_aware(r.at),
                queue=r.queue,
                agent=r.agent,
                a_number=r.a_number,
                b_number=r.b_number,
                data=r.data,
            )
            for r in rows
        ]

    async def calls(
        self,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        queue: str | None = None,
        agent: str | None = None,
        limit: int = 1000,
    ) -> list[CallSummary]:
        stmt = select(CallRecord).order_by(CallRecord.started_at).limit(limit)
        if since is not None:
            stmt = stmt.where(CallRecord.started_at >= since)
        if until is not None:
            stmt = stmt.where(CallRecord.started_at < until)
        if queue is not None:
            stmt = stmt.where(CallRecord.queue == queue)
        if agent is not None:
            stmt = stmt.where(CallRecord.agent == agent)
        async with self._sessions() as session:
            rows = (await session.scalars(stmt)).all()
        return [
            CallSummary(
                call_id=r.call_id,
                started_at=_aware(r.started_at),
                ended_at=_aware(r.ended_at) if r.ended_at else _aware(r.started_at),
                outcome=r.outcome,
                a_number=r.a_number,
                b_number=r.b_number,
                queue=r.queue,
                agent=r.agent,
                wait_seconds=r.wait_seconds,
                talk_seconds=r.talk_seconds,
                mos=r.mos,
                quality=r.quality,
            )
            for r in rows
        ]


def _event_columns(e: CallLogEvent) -> dict[str, Any]:
    return {
        "call_id": e.call_id,
        "at": e.at,
        "kind": e.kind,
        "queue": e.queue,
        "agent": e.agent,
        "a_number": e.a_number,
        "b_number": e.b_number,
        "data": e.data,
    }


def _summary_columns(s: CallSummary) -> dict[str, Any]:
    return {
        "call_id": s.call_id,
        "started_at": s.started_at,
        "ended_at": s.ended_at,
        "outcome": s.outcome,
        "a_number": s.a_number,
        "b_number": s.b_number,
        "queue": s.queue,
        "agent": s.agent,
        "wait_seconds": s.wait_seconds,
        "talk_seconds": s.talk_seconds,
        "mos": s.mos,
        "quality": s.quality,
    }


def _aware(dt: datetime) -> datetime:
    # SQLite hands back naive datetimes; everything we store is UTC.
    return dt if dt.tzinfo is not None else dt.replace(tzinfo=UTC)
