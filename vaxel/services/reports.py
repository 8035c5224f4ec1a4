"""Running the standard reports (SPEC S12) over the stored call log: the service every front
door (HTTP routes, the mail scheduler) shares.

The figures are the pure ``reports`` package's; this module reads the call log for them in
time order and in batches (``CallLog.stream``: memory stays at one batch and the open
calls, whatever the period) and renders the tables as JSON, CSV or XLSX.
"""

from __future__ import annotations

import io
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from config import VaxelConfig
from reports import (
    NkiRollup,
    ParamError,
    PeriodFeed,
    QueueRules,
    ReportKind,
    ReportParams,
    Rollup,
    Table,
    build_table,
    parse_params,
    to_csv,
)
from vaxel.storage import CallLog

# How far before a report's start reading begins at least (calls waiting at the start),
# and at most (an agent logged in for weeks without a logout is read from here).
LEAD = timedelta(hours=1)
MAX_LEAD = timedelta(days=31)
# How far past a report's end reading goes at most for the calls that arrived in it.
TAIL = timedelta(hours=6)

FORMATS = ("json", "csv", "xlsx")
CONTENT_TYPES = {
    "json": "application/json",
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@dataclass(frozen=True, slots=True)
class Rendered:
    body: bytes
    content_type: str
    filename: str


@dataclass(slots=True)
class ReportRun:
    """A report's table and the rollup it came from (the mail's charts use it)."""

    params: ReportParams
    table: Table
    rollup: Rollup | None


class ReportService:
    """Reports over the call log of one server."""

    def __init__(
        self, calllog: CallLog, config: VaxelConfig, *, clock: Callable[[], float] = time.time
    ) -> None:
        self.calllog = calllog
        self.config = config
        self.clock = clock

    # ------------------------------------------------------------------ parameters

    def rules(self) -> dict[str, QueueRules]:
        return {
            qid: QueueRules(service_level_seconds=q.service_level_seconds)
            for qid, q in self.config.queues.items()
        }

    def params(self, values: Mapping[str, Any], report: str | None = None) -> ReportParams:
        """Parse report parameters (raises ``reports.ParamError`` naming the parameter)."""
        return parse_params(
            values,
            now=self.clock(),
            default_zone=self.config.server.time_zone,
            report=report,
            known_queues=self.config.queues.keys(),
            known_agents=self.config.agents.keys(),
        )

    @staticmethod
    def format_of(values: Mapping[str, Any]) -> str:
        fmt = str(values.get("format") or "json").lower()
        if fmt not in FORMATS:
            raise ParamError("format", f"expected one of {', '.join(FORMATS)}, got {fmt!r}")
        return fmt

    # ------------------------------------------------------------------ running

    async def run(self, params: ReportParams, *, rollup_for_charts: bool = False) -> ReportRun:
        """The report's table; with ``rollup_for_charts`` the queue/agent rollup too."""
        if params.report is ReportKind.CALLS:
            calls = [
                c async for c in self.calllog.stream_calls(since=params.start, until=params.end)
            ]
            table = build_table(params, calls=calls)
            rollup = await self.rollup(params) if rollup_for_charts else None
            return ReportRun(params, table, rollup)
        rollup, nki = await self._feed(params)
        return ReportRun(params, build_table(params, rollup, nki), rollup)

    async def rollup(self, params: ReportParams) -> Rollup:
        return (await self._feed(params))[0]

    async def _feed(self, params: ReportParams) -> tuple[Rollup, NkiRollup]:
        rollup = Rollup(params.zone, params.interval, rules=self.rules())
        nki = NkiRollup(params.zone, params.interval)
        logins = await self.calllog.last_logins(params.start)
        lead = params.start - LEAD
        if logins:
            lead = max(min(lead, *logins.values()), params.start - MAX_LEAD)
        now = datetime.fromtimestamp(self.clock(), params.start.tzinfo)
        feed = PeriodFeed(params.start, params.end, until=now)
        async for event in self.calllog.stream(since=lead, until=params.end + TAIL):
            taken = feed.take(event, rollup)
            if taken is None:
                break
            for e in taken:
                rollup.add(e)
                nki.add(e)
        for e in feed.finish(rollup):
            rollup.add(e)
        return rollup, nki

    # ------------------------------------------------------------------ formats

    def render(self, run: ReportRun, fmt: str) -> Rendered:
        p = run.params
        stem = f"{p.report.value}-{p.start.strftime('%Y%m%dT%H%M')}-{p.end.strftime('%Y%m%dT%H%M')}"
        if fmt == "csv":
            return Rendered(to_csv(run.table).encode(), CONTENT_TYPES["csv"], f"{stem}.csv")
        if fmt == "xlsx":
            return Rendered(to_xlsx(run), CONTENT_TYPES["xlsx"], f"{stem}.xlsx")
        body = {
            "report": p.report.value,
            "title": run.table.title,
            "params": p.as_dict(),
            "columns": list(run.table.columns),
            "rows": run.table.records(),
        }
        return Rendered(
            json.dumps(body, default=str).encode(), CONTENT_TYPES["json"], f"{stem}.json"
        )


def to_xlsx(run: ReportRun) -> bytes:
    """The table as an Excel workbook: the rows on the first sheet (numbers as numbers),
    the parameters on a second."""
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(run.params.report.value[:31])
    ws.append(list(run.table.columns))
    for row in run.table.rows:
        ws.append([v if v is None or isinstance(v, int | float | str) else str(v) for v in row])
    meta = wb.create_sheet("parameters")
    for key, value in run.params.as_dict().items():
        meta.append([key, ", ".join(value) if isinstance(value, list) else value])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
