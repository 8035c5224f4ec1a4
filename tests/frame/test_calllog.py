"""The call log: events are committed before append() returns and survive a restart."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from vaxel.storage import CallLog, CallLogEvent, CallSummary, create_engine, migrate


async def open_log(path: Path) -> tuple[CallLog, object]:
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    await migrate(engine)
    log = CallLog(engine)
    log.start()
    return log, engine


async def test_events_survive_a_restart(tmp_path: Path) -> None:
    db = tmp_path / "calls.db"
    t0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    log, engine = await open_log(db)
    await log.append(
        CallLogEvent("call-1", "arrived", at=t0, queue="support", a_number="0701", b_number="100"),
        CallLogEvent(
            "call-1", "answered", at=t0 + timedelta(seconds=12), queue="support", agent="1001"
        ),
    )
    await log.append(
        CallLogEvent(
            "call-1", "ended", at=t0 + timedelta(seconds=70), queue="support", agent="1001"
        ),
        CallSummary(
            "call-1",
            t0,
            t0 + timedelta(seconds=70),
            "answered",
            queue="support",
            agent="1001",
            wait_seconds=12.0,
            talk_seconds=58.0,
        ),
    )
    await log.close()
    await engine.dispose()

    log2, engine2 = await open_log(db)  # a new process would do the same: migrate, then read
    try:
        events = await log2.events(call_id="call-1")
        assert [e.kind for e in events] == ["arrived", "answered", "ended"]
        assert events[0].at == t0 and events[1].agent == "1001"
        (summary,) = await log2.calls(queue="support")
        assert summary.outcome == "answered" and summary.talk_seconds == 58.0
    finally:
        await log2.close()
        await engine2.dispose()


async def test_concurrent_appends_are_all_committed_in_order_per_call(tmp_path: Path) -> None:
    log, engine = await open_log(tmp_path / "c.db")
    t0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    try:

        async def one_call(n: int) -> None:
            for step, kind in enumerate(("arrived", "queued", "ended")):
                await log.append(
                    CallLogEvent(f"c{n}", kind, at=t0 + timedelta(seconds=n + step / 10))
                )

        await asyncio.gather(*(one_call(n) for n in range(200)))
        events = await log.events(limit=10000)
        assert len(events) == 600
        for n in (0, 77, 199):
            assert [e.kind for e in events if e.call_id == f"c{n}"] == [
                "arrived",
                "queued",
                "ended",
            ]
    finally:
        await log.close()
        await engine.dispose()


async def test_time_range_and_agent_filters(tmp_path: Path) -> None:
    log, engine = await open_log(tmp_path / "f.db")
    t0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    try:
        await log.append(
            CallLogEvent("a", "answered", at=t0, agent="1001"),
            CallLogEvent("b", "answered", at=t0 + timedelta(hours=1), agent="1002"),
        )
        assert [e.call_id for e in await log.events(agent="1002")] == ["b"]
        assert [e.call_id for e in await log.events(until=t0 + timedelta(minutes=30))] == ["a"]
        assert [e.call_id for e in await log.events(since=t0 + timedelta(minutes=30))] == ["b"]
    finally:
        await log.close()
        await engine.dispose()


async def test_append_after_close_is_refused(tmp_path: Path) -> None:
    log, engine = await open_log(tmp_path / "x.db")
    await log.close()
    with pytest.raises(RuntimeError, match="not running"):
        await log.append(CallLogEvent("a", "arrived"))
    await engine.dispose()


async def test_calls_left_live_by_a_dead_process_are_closed_at_the_next_start(
    tmp_path: Path,
) -> None:
    db = tmp_path / "calls.db"
    t0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    log, engine = await open_log(db)
    await log.append(
        CallLogEvent("live-1", "incoming", at=t0, queue="support", a_number="0701"),
        CallLogEvent("live-1", "arrived", at=t0 + timedelta(seconds=1), queue="support"),
        CallLogEvent(
            "live-1", "answered", at=t0 + timedelta(seconds=9), queue="support", agent="1001"
        ),
        CallLogEvent("done-1", "incoming", at=t0, queue="support"),
        CallLogEvent("done-1", "hangup", at=t0 + timedelta(seconds=3), queue="support"),
        CallLogEvent("-", "login", at=t0, agent="1001"),
    )
    # The process dies here: no hang-up for live-1 (nothing else is written).
    await log.close()
    await engine.dispose()

    log2, engine2 = await open_log(db)
    try:
        assert await log2.close_interrupted() == ["live-1"]
        rows = {s.call_id: s for s in await log2.calls()}
        assert set(rows) == {"live-1", "done-1"}
        live = rows["live-1"]
        assert (live.outcome, live.ended_by, live.agent) == ("server_stopped", "server", "1001")
        assert live.ended_at == t0 + timedelta(seconds=9)  # the last thing known of it
        assert live.wait_seconds == 8.0
        assert await log2.close_interrupted() == []  # once closed, never again
    finally:
        await log2.close()
        await engine2.dispose()
