"""The call log's one writer: every step of every call, in order, durably.

Writes go through one writer task that commits whatever has queued up in a single
transaction (group commit): at hundreds of call steps a second that costs one fsync
per batch instead of one per event. ``append`` returns once its events are committed;
``submit`` queues them without waiting (the call path never waits for the disk). Every
event passes the domain's ``SummaryFold``: a call's summary row is computed from its
events and written in the same transaction as its last one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import and_, delete, func, insert, or_, select
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from calllog import AGENT_CALL_ID, CallEvent, CallSummary, SummaryFold, close_interrupted

from .models import CallEvent as CallEventRow
from .models import CallRecord, as_utc

log = logging.getLogger("vaxel.calllog")

_BATCH = 500
# How long the writer gathers events before a commit: the most a crash can lose of what the
# call path submitted (docs/architecture.md, "The call log").
BATCH_WINDOW = 0.02


# The event type and the summary are the call-log domain's (``calllog``); the old names
# stay importable from here.
CallLogEvent = CallEvent


_Item = CallLogEvent | CallSummary

# Called with each committed batch of events, in the order written (see ``add_listener``).
Listener = Callable[[Sequence[CallEvent]], None]

# Rows per query of a streaming read: memory stays at one batch whatever the period.
STREAM_BATCH = 5000


class CallLog:
    def __init__(self, engine: AsyncEngine, *, batch_window: float = BATCH_WINDOW) -> None:
        self._engine = engine
        self._sessions = async_sessionmaker(engine, expire_on_commit=False)
        self._queue: asyncio.Queue[tuple[list[_Item], asyncio.Future[None]] | None] = (
            asyncio.Queue()
        )
        self._writer: asyncio.Task[None] | None = None
        self._fold = SummaryFold()
        self._listeners: list[Listener] = []
        self.batch_window = batch_window

    def add_listener(self, listener: Listener) -> Callable[[], None]:
        """Call ``listener`` with every batch of events once it is committed, in order,
        synchronously in the writer (keep it quick; it must not raise). Returns a function
        that removes it. Live figures follow the log this way without reading it back."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    def start(self) -> None:
        self._writer = asyncio.create_task(self._run(), name="calllog-writer")

    async def append(self, *items: _Item) -> None:
        """Write events (and summaries) and return once they are committed."""
        if self._writer is None or self._writer.done():
            raise RuntimeError("call log is not running")
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait((list(items), fut))
        await fut

    def submit(self, *items: _Item) -> asyncio.Future[None]:
        """Queue events for the writer without waiting; they are written in order."""
        if self._writer is None or self._writer.done():
            raise RuntimeError("call log is not running")
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        fut.add_done_callback(_report_failure)
        self._queue.put_nowait((list(items), fut))
        return fut

    async def close_interrupted(self) -> list[str]:
        """Close the calls an earlier process left live (at start, before new calls)."""
        open_ids = (
            select(CallEventRow.call_id)
            .where(CallEventRow.call_id != AGENT_CALL_ID)
            .where(CallEventRow.call_id.not_in(select(CallRecord.call_id)))
            .distinct()
        )
        async with self._sessions() as session:
            ids = list((await session.scalars(open_ids)).all())
        for call_id in ids:
            events = await self.events(call_id=call_id, limit=100_000)
            hangup, summary = close_interrupted(events)
            await self.append(hangup, summary)
            log.warning("call %s was live when the server stopped: closed as such", call_id)
        return ids

    def live_calls(self) -> list[str]:
        """Calls whose events were written but whose last event was not (yet)."""
        return self._fold.live_calls()

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
            if self._queue.empty() and self.batch_window > 0:
                # Group commit: a call's steps come a few ms apart; gathering them costs
                # one transaction instead of one each (the call path does not wait).
                await asyncio.sleep(self.batch_window)
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
        events = [_event_columns(i) for i in items if isinstance(i, CallEvent)]
        made = self._fold.add_all(i for i in items if isinstance(i, CallEvent))
        given = [i for i in items if isinstance(i, CallSummary)]
        summaries = [_summary_columns(i) for i in made + given]
        async with self._engine.begin() as conn:
            if events:
                await conn.execute(insert(CallEventRow), events)
            if summaries:
                ids = [row["call_id"] for row in summaries]
                # A summary may be rewritten (e.g. at shutdown): last one wins.
                await conn.execute(delete(CallRecord).where(CallRecord.call_id.in_(ids)))
                latest = {row["call_id"]: row for row in summaries}
                await conn.execute(insert(CallRecord), list(latest.values()))
        committed = [i for i in items if isinstance(i, CallEvent)]
        if committed:
            for listener in list(self._listeners):
                try:
                    listener(committed)
                except Exception:  # a listener never stops the log
                    log.exception("call log listener %r failed", listener)

    async def events(
        self,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        queue: str | None = None,
        agent: str | None = None,
        call_id: str | None = None,
        kind: str | None = None,
        limit: int = 1000,
    ) -> list[CallLogEvent]:
        since, until = _utc(since), _utc(until)
        stmt = select(CallEventRow).order_by(CallEventRow.at, CallEventRow.id).limit(limit)
        if since is not None:
            stmt = stmt.where(CallEventRow.at >= since)
        if until is not None:
            stmt = stmt.where(CallEventRow.at < until)
        if queue is not None:
            stmt = stmt.where(CallEventRow.queue == queue)
        if agent is not None:
            stmt = stmt.where(CallEventRow.agent == agent)
        if call_id is not None:
            stmt = stmt.where(CallEventRow.call_id == call_id)
        if kind is not None:
            stmt = stmt.where(CallEventRow.kind == kind)
        async with self._sessions() as session:
            rows = (await session.scalars(stmt)).all()
        return [
            CallLogEvent(
                call_id=r.call_id,
                kind=r.kind,
                at=as_utc(r.at),
                queue=r.queue,
                agent=r.agent,
                a_number=r.a_number,
                b_number=r.b_number,
                data=r.data,
            )
            for r in rows
        ]

    async def stream(
        self,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        batch: int = STREAM_BATCH,
    ) -> AsyncIterator[CallLogEvent]:
        """Every event from ``since`` (inclusive) to ``until`` (exclusive) in time order
        (then write order), read ``batch`` rows per query (keyset on (at, id), the ``at``
        index): a month of events never is in memory at once. Stop iterating to stop
        reading."""
        cols = (
            CallEventRow.id, CallEventRow.call_id, CallEventRow.kind, CallEventRow.at,
            CallEventRow.queue, CallEventRow.agent, CallEventRow.a_number,
            CallEventRow.b_number, CallEventRow.data,
        )  # fmt: skip
        since, until = _utc(since), _utc(until)
        last: tuple[datetime, int] | None = None
        while True:
            stmt = select(*cols).order_by(CallEventRow.at, CallEventRow.id).limit(batch)
            if since is not None:
                stmt = stmt.where(CallEventRow.at >= since)
            if until is not None:
                stmt = stmt.where(CallEventRow.at < until)
            if last is not None:
                stmt = stmt.where(
                    or_(
                        CallEventRow.at > last[0],
                        and_(CallEventRow.at == last[0], CallEventRow.id > last[1]),
                    )
                )
            async with self._engine.connect() as conn:
                rows = (await conn.execute(stmt)).all()
            for r in rows:
                yield CallLogEvent(
                    call_id=r.call_id,
                    kind=r.kind,
                    at=as_utc(r.at),
                    queue=r.queue,
                    agent=r.agent,
                    a_number=r.a_number,
                    b_number=r.b_number,
                    data=r.data,
                )
            if len(rows) < batch:
                return
            last = (rows[-1].at, rows[-1].id)

    async def stream_calls(
        self,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        batch: int = STREAM_BATCH,
    ) -> AsyncIterator[CallSummary]:
        """Every ``calls`` row that started in ``[since, until)``, by start time, in
        batches (keyset on (started_at, call_id))."""
        since, until = _utc(since), _utc(until)
        last: tuple[datetime, str] | None = None
        while True:
            stmt = (
                select(CallRecord).order_by(CallRecord.started_at, CallRecord.call_id).limit(batch)
            )
            if since is not None:
                stmt = stmt.where(CallRecord.started_at >= since)
            if until is not None:
                stmt = stmt.where(CallRecord.started_at < until)
            if last is not None:
                stmt = stmt.where(
                    or_(
                        CallRecord.started_at > last[0],
                        and_(CallRecord.started_at == last[0], CallRecord.call_id > last[1]),
                    )
                )
            async with self._sessions() as session:
                rows = (await session.scalars(stmt)).all()
            for r in rows:
                yield _summary_of(r)
            if len(rows) < batch:
                return
            last = (rows[-1].started_at, rows[-1].call_id)

    async def first_arrival_live_at(self, at: datetime) -> datetime | None:
        """The arrival of the earliest call that began before ``at`` and ended after it."""
        at = at.astimezone(UTC)
        stmt = (
            select(func.min(CallRecord.started_at))
            .where(CallRecord.started_at < at)
            .where(CallRecord.ended_at > at)
        )
        async with self._engine.connect() as conn:
            first = (await conn.execute(stmt)).scalar()
        return as_utc(first) if first is not None else None

    async def last_logins(self, before: datetime) -> dict[str, datetime]:
        """Per agent, the last ``login`` before ``before`` if no ``logout`` followed it
        (before ``before``): where a report must start reading to know the agent's state."""
        out: dict[str, datetime] = {}
        before = before.astimezone(UTC)
        for kind in ("login", "logout"):
            stmt = (
                select(CallEventRow.agent, func.max(CallEventRow.at))
                .where(CallEventRow.call_id == AGENT_CALL_ID)
                .where(CallEventRow.kind == kind)
                .where(CallEventRow.at < before)
                .group_by(CallEventRow.agent)
            )
            async with self._engine.connect() as conn:
                rows = (await conn.execute(stmt)).all()
            for agent, at in rows:
                if agent is None:
                    continue
                at = as_utc(at)
                if kind == "login":
                    out[agent] = at
                elif agent in out and at >= out[agent]:
                    del out[agent]
        return out

    async def calls(
        self,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        queue: str | None = None,
        agent: str | None = None,
        limit: int = 1000,
    ) -> list[CallSummary]:
        since, until = _utc(since), _utc(until)
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
        return [_summary_of(r) for r in rows]


def _utc(at: datetime | None) -> datetime | None:
    # SQLite compares timestamps as text: a bound must be UTC like every stored time.
    return at.astimezone(UTC) if at is not None and at.tzinfo is not None else at


def _summary_of(r: CallRecord) -> CallSummary:
    return CallSummary(
        call_id=r.call_id,
        started_at=as_utc(r.started_at),
        ended_at=as_utc(r.ended_at) if r.ended_at else as_utc(r.started_at),
        outcome=r.outcome,
        a_number=r.a_number,
        b_number=r.b_number,
        queue=r.queue,
        agent=r.agent,
        wait_seconds=r.wait_seconds,
        talk_seconds=r.talk_seconds,
        mos=r.mos,
        quality=r.quality,
        ended_by=r.ended_by,
    )


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
        "ended_by": s.ended_by,
    }


def _report_failure(fut: asyncio.Future[None]) -> None:
    # Nobody awaits a submitted write: its failure is logged here (the writer goes on).
    if not fut.cancelled() and fut.exception() is not None:
        log.error("call log write failed: %s", fut.exception())
