"""PostgreSQL works by URL, unchanged: migrations and the call log against a real server."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.peers.postgres import postgres_server
from vaxel.storage import CallLog, CallLogEvent, CallSummary, create_engine, migrate


async def test_call_log_on_postgresql() -> None:
    with postgres_server() as url:
        engine = create_engine(url)
        await migrate(engine)
        await migrate(engine)  # idempotent at every start
        log = CallLog(engine)
        log.start()
        t0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
        try:
            await log.append(
                CallLogEvent("pg-1", "arrived", at=t0, queue="support", data={"priority": 5}),
                CallSummary("pg-1", t0, t0, "abandoned", queue="support", wait_seconds=3.5),
            )
            (event,) = await log.events(call_id="pg-1")
            assert event.kind == "arrived" and event.data == {"priority": 5} and event.at == t0
            (summary,) = await log.calls(queue="support")
            assert summary.outcome == "abandoned" and summary.wait_seconds == 3.5
        finally:
            await log.close()
            await engine.dispose()
