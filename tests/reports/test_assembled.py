"""A report summed from days (each finished day kept in the database) equals the report
recounted from the call log in one go: random call logs from the real call core and ACD
spanning several days (midnights, the DST change, agents logged in overnight), random
report ranges, intervals and zones; and a kept day is read back, not recounted."""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from config import parse_config
from reports import Periods, Table, build_table
from tests.reports.test_recount import OPS, MosWorld, drive, make_acd
from tests.support import demo_toml_with
from vaxel.services import ReportService
from vaxel.storage import CallLog, create_engine, migrate, sessionmaker
from vaxel.storage.report_pieces import ReportPieceStore

STHLM = ZoneInfo("Europe/Stockholm")
STARTS = [
    datetime(2026, 10, 24, 21, 0, tzinfo=STHLM),  # over the autumn DST night (25 hours)
    datetime(2026, 11, 30, 22, 30, tzinfo=STHLM),  # a month's and a week's end
]
# Long gaps between the calls: the log spans days, agents stay logged in overnight.
DAYS_OPS = st.lists(
    st.one_of(OPS.map(tuple), st.tuples(st.just("hours"), st.floats(2.0, 14.0))),
    min_size=3,
    max_size=8,
)


def flatten(chunks: list[Any]) -> list[Any]:
    ops: list[Any] = []
    for chunk in chunks:
        if chunk and chunk[0] == "hours":
            ops.append(("advance", chunk[1] * 3600))
        else:
            ops.extend(chunk)
    return ops


async def store(tmp: Path, events: list[Any]) -> tuple[CallLog, ReportPieceStore, Any]:
    """The events through the call log's own writer (the call summaries too)."""
    engine = create_engine(f"sqlite+aiosqlite:///{tmp / 'log.db'}")
    await migrate(engine)
    calllog = CallLog(engine, batch_window=0)
    calllog.start()
    if events:
        await calllog.append(*events)
    return calllog, ReportPieceStore(sessionmaker(engine)), engine


def same(a: Table, b: Table) -> None:
    assert a.columns == b.columns
    assert len(a.rows) == len(b.rows), (a.rows, b.rows)
    for ra, rb in zip(a.rows, b.rows, strict=True):
        for col, x, y in zip(a.columns, ra, rb, strict=True):
            if isinstance(x, float) and isinstance(y, float):
                assert math.isclose(x, y, rel_tol=1e-9, abs_tol=1e-6), (col, ra, rb)
            else:
                assert x == y, (col, ra, rb)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    DAYS_OPS,
    st.sampled_from(STARTS),
    st.sampled_from(["15min", "hour", "day", "week", "month"]),
    st.sampled_from(["Europe/Stockholm", "America/New_York", "Asia/Kolkata"]),
    st.integers(-30, 30),  # the report's start, hours from the log's start
    st.integers(1, 24 * 12),  # its length in hours
    st.booleans(),  # start on an interval boundary
    st.sampled_from(["key_figures", "agents", "nki"]),
)
async def test_a_report_summed_from_days_equals_the_recount_of_the_whole_range(
    tmp_path_factory: Any,
    chunks: list[Any],
    start: datetime,
    interval: str,
    zone: str,
    offset_h: int,
    length_h: int,
    on_boundary: bool,
    report: str,
) -> None:
    w = MosWorld(acd=make_acd(), now=start.timestamp())
    drive(w, flatten(chunks))
    tmp = tmp_path_factory.mktemp("assembled")
    calllog, pieces, engine = await store(tmp, w.log)
    try:
        config = parse_config(demo_toml_with(tmp), source="test.toml")
        now = datetime(2027, 1, 1, tzinfo=STHLM).timestamp()  # every day of the log is over
        service = ReportService(calllog, config, clock=lambda: now, pieces=pieces)
        tz = ZoneInfo(zone)
        lo = start.astimezone(tz) + timedelta(hours=offset_h)
        if on_boundary:  # the report's first interval whole (else it starts inside one)
            lo = datetime.fromtimestamp(Periods(tz, interval).start(lo.timestamp()), tz)
        hi = lo + timedelta(hours=length_h)
        params = service.params(
            {
                "from": lo.isoformat(),
                "to": hi.isoformat(),
                "interval": interval,
                "time_zone": zone,
            },  # fmt: skip
            report,
        )
        rollup, nki = await service._feed(params)  # the whole range recounted at once
        want = build_table(params, rollup, nki)
        first = await service.run(params)  # days computed (and the whole ones kept)
        same(first.table, want)
        again = await service.run(params)  # the kept days read back
        same(again.table, want)
    finally:
        await calllog.close()
        await engine.dispose()


async def test_a_finished_day_is_kept_and_read_back_and_today_is_not(tmp_path: Path) -> None:
    w = MosWorld(acd=make_acd(), now=STARTS[1].timestamp())
    drive(w, flatten([[("call", "100"), ("answer", 0)], ("hours", 5.0), [("call", "100")]]))
    calllog, pieces, engine = await store(tmp_path, w.log)
    try:
        config = parse_config(demo_toml_with(tmp_path), source="test.toml")
        day = datetime(2026, 12, 1, tzinfo=STHLM)
        clock = {"now": (day + timedelta(hours=12)).timestamp()}  # Dec 1 is not over
        service = ReportService(calllog, config, clock=lambda: clock["now"], pieces=pieces)
        params = service.params(
            {"from": "2026-11-30T00:00", "to": "2026-12-02T00:00", "interval": "day"},
            "key_figures",
        )
        await service.run(params)
        rules = service.rules_key()
        assert await pieces.days("Europe/Stockholm", "day", rules) == {day.date() - timedelta(1)}
        clock["now"] = (day + timedelta(days=2)).timestamp()
        assert await service.settle("Europe/Stockholm", days=3) == 1  # Dec 1 now over
        kept = await pieces.days("Europe/Stockholm", "day", rules)
        assert kept == {day.date() - timedelta(1), day.date()}
        # Read back, not recounted: a doctored kept day shows in the report.
        piece = await pieces.get("Europe/Stockholm", "day", day.date(), rules)
        assert piece is not None and piece.queues
        piece.queues[0].offered += 1000
        await pieces.put("Europe/Stockholm", "day", day.date(), rules, piece)
        table = (await service.run(params)).table
        offered = [r[table.columns.index("offered")] for r in table.rows]
        assert max(offered) >= 1000, table.rows
        # Events written into a kept day (a crash's closing rows) drop it and the later ones.
        await pieces.forget_from(day.date())
        assert await pieces.days("Europe/Stockholm", "day", rules) == {day.date() - timedelta(1)}
    finally:
        await calllog.close()
        await engine.dispose()
