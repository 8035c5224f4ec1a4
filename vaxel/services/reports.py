"""Running the standard reports (SPEC S12) over the stored call log: the service every front
door (HTTP routes, the mail scheduler) shares.

The figures are the pure ``reports`` package's; this module reads the call log for them in
time order and in batches (``CallLog.stream``: memory stays at one batch and the open
calls, whatever the period) and renders the tables as JSON, CSV or XLSX.
"""

from __future__ import annotations

import hashlib
import io
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from config import VaxelConfig
from reports import (
    Assembled,
    NkiRollup,
    ParamError,
    PeriodFeed,
    Piece,
    QueueRules,
    ReportKind,
    ReportParams,
    Rollup,
    Table,
    build_table,
    day_pieces,
    parse_params,
    piece_interval,
    to_csv,
)
from vaxel.storage import CallLog

if TYPE_CHECKING:
    from vaxel.storage.report_pieces import ReportPieceStore

# How far before a report's start reading begins at least (calls waiting at the start),
# and at most (an agent logged in for weeks without a logout is read from here).
LEAD = timedelta(hours=1)
MAX_LEAD = timedelta(days=31)
# How far past a report's end reading goes at most for the calls that arrived in it.
TAIL = timedelta(hours=6)
# A day's figures are kept once nothing can change them: its calls have been read up to
# TAIL past its end, and a late event of the day (a crash's closing rows) is rare and
# drops the kept days it touches (``forget_from``).
SETTLE = TAIL + timedelta(minutes=10)

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
    rollup: Assembled | None


class ReportService:
    """Reports over the call log of one server."""

    def __init__(
        self,
        calllog: CallLog,
        config: VaxelConfig,
        *,
        clock: Callable[[], float] = time.time,
        pieces: ReportPieceStore | None = None,
    ) -> None:
        self.calllog = calllog
        self.config = config
        self.clock = clock
        self.pieces = pieces  # finished days kept (None: every report recounts)

    # ------------------------------------------------------------------ parameters

    def rules(self) -> dict[str, QueueRules]:
        return {
            qid: QueueRules(service_level_seconds=q.service_level_seconds)
            for qid, q in self.config.queues.items()
        }

    def rules_key(self) -> str:
        """Identifies the thresholds kept days were computed with (a change: new days)."""
        text = json.dumps(
            sorted(
                (q, r.service_level_seconds, r.short_abandon_seconds)
                for q, r in self.rules().items()
            )  # fmt: skip
        )
        return hashlib.sha256(text.encode()).hexdigest()[:16]

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
        """The report's table; with ``rollup_for_charts`` the queue/agent figures too."""
        if params.report is ReportKind.CALLS:
            calls = [
                c async for c in self.calllog.stream_calls(since=params.start, until=params.end)
            ]
            table = build_table(params, calls=calls)
            figures = await self.rollup(params) if rollup_for_charts else None
            return ReportRun(params, table, figures)
        figures = await self.rollup(params)
        return ReportRun(params, build_table(params, figures, figures), figures)

    async def rollup(self, params: ReportParams) -> Assembled:
        """The report's figures: its days summed, each finished day kept once computed."""
        out = Assembled(params.zone, params.interval)
        for lo, hi, day in day_pieces(params.start, params.end, params.zone):
            out.add(await self._piece(params, lo, hi, day))
        return out

    async def _piece(
        self, params: ReportParams, lo: datetime, hi: datetime, day: date | None
    ) -> Piece:
        interval = piece_interval(params.interval)
        keep = (
            self.pieces is not None
            and day is not None
            and hi + SETTLE <= datetime.fromtimestamp(self.clock(), hi.tzinfo)
        )
        rules = self.rules_key()
        if keep:
            assert self.pieces is not None and day is not None
            kept = await self.pieces.get(params.zone, interval.value, day, rules)
            if kept is not None:
                return kept
        part = replace(params, start=lo, end=hi, interval=interval, queues=None, agents=None)
        rollup, nki = await self._feed(part)
        piece = Piece.from_rollup(rollup, nki, lo, hi)
        if keep:
            assert self.pieces is not None and day is not None
            await self.pieces.put(params.zone, interval.value, day, rules, piece)
        return piece

    async def settle(self, zone: str, *, days: int = 35, interval: str = "day") -> int:
        """Compute and keep the finished days of the last ``days`` not kept yet (run in
        the background, so that the first month report after midnight is quick)."""
        if self.pieces is None:
            return 0
        now = datetime.fromtimestamp(self.clock(), tz=None).astimezone()
        params = self.params(
            {
                "from": (now - timedelta(days=days)).isoformat(),
                "to": now.isoformat(),
                "interval": interval,
                "time_zone": zone,
            },  # fmt: skip
            ReportKind.KEY_FIGURES.value,
        )
        have = await self.pieces.days(zone, piece_interval(interval).value, self.rules_key())
        made = 0
        for lo, hi, day in day_pieces(params.start, params.end, zone):
            if day is None or day in have or hi + SETTLE > now:
                continue
            await self._piece(params, lo, hi, day)
            made += 1
        return made

    async def _feed(self, params: ReportParams) -> tuple[Rollup, NkiRollup]:
        rollup = Rollup(params.zone, params.interval, rules=self.rules())
        nki = NkiRollup(params.zone, params.interval)
        logins = await self.calllog.last_logins(params.start)
        lead = params.start - LEAD
        # A call live at the start is read from its arrival: its figures belong there
        # (a call first seen halfway would count in the wrong interval).
        live = await self.calllog.first_arrival_live_at(params.start)
        starts = [*logins.values(), *([live] if live is not None else [])]
        if starts:
            lead = max(min(lead, *starts), params.start - MAX_LEAD)
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
