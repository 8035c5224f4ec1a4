"""The report centre's standard reports as tables (SPEC S12): parameters in, rows out.

Pure like the rest of ``reports``: the parameters are parsed from strings with errors that
name the parameter, the figures come from a ``Rollup`` (and an ``NkiRollup``) the caller
fed, and the tables render to CSV text. Reading the database, XLSX, charts and mail live in
``vaxel/services``.

Reports:

- ``key_figures``: per queue and interval, the queue figures (``docs/statistics.md``);
- ``agents``: per agent and interval, the agent figures and the agent's NKI;
- ``nki``: per interval, queue, agent and question, the survey answers (1-5);
- ``calls``: one row per call (the ``calls`` summary rows), by start time.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from calllog import AGENT_CALL_ID, CallEvent, CallSummary, EventKind

from .figures import AgentFigures, QueueFigures
from .periods import Interval, Periods, interval_of, zone_of
from .rollup import Rollup


class ReportKind(StrEnum):
    KEY_FIGURES = "key_figures"
    AGENTS = "agents"
    NKI = "nki"
    CALLS = "calls"


class ParamError(ValueError):
    """A report parameter that cannot be used: ``param`` names it, ``reason`` says why."""

    def __init__(self, param: str, reason: str) -> None:
        super().__init__(f"{param}: {reason}")
        self.param = param
        self.reason = reason


# The longest period one report may cover (a year and a bit: a yearly comparison).
MAX_PERIOD = timedelta(days=400)


@dataclass(frozen=True, slots=True)
class ReportParams:
    """What a report covers: ``[start, end)``, cut in ``interval`` in ``zone``."""

    report: ReportKind
    start: datetime
    end: datetime
    interval: Interval = Interval.HOUR
    zone: str = "Europe/Stockholm"
    queues: tuple[str, ...] | None = None  # None: every queue
    agents: tuple[str, ...] | None = None  # None: every agent

    def as_dict(self) -> dict[str, Any]:
        return {
            "report": self.report.value,
            "from": self.start.isoformat(),
            "to": self.end.isoformat(),
            "interval": self.interval.value,
            "time_zone": self.zone,
            "queues": list(self.queues) if self.queues is not None else None,
            "agents": list(self.agents) if self.agents is not None else None,
        }


def _names(raw: object, param: str, known: Iterable[str] | None) -> tuple[str, ...] | None:
    if raw is None or raw == "" or raw == []:
        return None
    if isinstance(raw, str):
        items = [s.strip() for s in raw.split(",") if s.strip()]
    elif isinstance(raw, list | tuple) and all(isinstance(s, str) for s in raw):
        items = [s.strip() for s in raw if s.strip()]
    else:
        raise ParamError(param, f"expected a comma-separated list of ids, got {raw!r}")
    if known is not None:
        known_set = set(known)
        unknown = [s for s in items if s not in known_set]
        if unknown:
            raise ParamError(
                param, f"unknown {unknown}; known: {', '.join(sorted(known_set)) or 'none'}"
            )
    return tuple(dict.fromkeys(items)) or None


def _time(raw: object, param: str, zone: ZoneInfo) -> datetime | None:
    if raw is None or raw == "":
        return None
    if isinstance(raw, datetime):
        value = raw
    elif isinstance(raw, str):
        try:
            value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        except ValueError:
            raise ParamError(
                param,
                f"expected an ISO 8601 date or time (2026-03-01, 2026-03-01T08:00), got {raw!r}",
            ) from None
    else:
        raise ParamError(param, f"expected an ISO 8601 date or time, got {raw!r}")
    # A time without an offset is wall-clock time in the report's zone.
    return value if value.tzinfo is not None else value.replace(tzinfo=zone)


def parse_params(
    values: Mapping[str, Any],
    *,
    now: float,
    default_zone: str,
    report: str | None = None,
    known_queues: Iterable[str] | None = None,
    known_agents: Iterable[str] | None = None,
) -> ReportParams:
    """Report parameters from a query string or a JSON object.

    ``from``/``to`` (ISO 8601; without an offset: wall-clock time in ``time_zone``;
    default: today so far), ``interval`` (15min, hour, day, week, month; default hour),
    ``time_zone`` (IANA; default the server's), ``queues``/``agents`` (comma-separated
    ids; default all). Raises ``ParamError`` naming the first bad parameter.
    """
    raw_report = report if report is not None else values.get("report")
    try:
        kind = ReportKind(str(raw_report))
    except ValueError:
        choices = ", ".join(k.value for k in ReportKind)
        raise ParamError("report", f"expected one of {choices}, got {raw_report!r}") from None
    zone_name = values.get("time_zone") or default_zone
    try:
        zone = zone_of(str(zone_name))
    except ValueError:
        raise ParamError(
            "time_zone", f"expected an IANA zone name such as 'Europe/Stockholm', got {zone_name!r}"
        ) from None
    try:
        interval = interval_of(str(values.get("interval") or Interval.HOUR))
    except ValueError:
        choices = ", ".join(i.value for i in Interval)
        raise ParamError(
            "interval", f"expected one of {choices}, got {values.get('interval')!r}"
        ) from None
    start = _time(values.get("from"), "from", zone)
    end = _time(values.get("to"), "to", zone)
    now_dt = datetime.fromtimestamp(now, zone)
    if start is None:
        start = now_dt.replace(hour=0, minute=0, second=0, microsecond=0)
    if end is None:
        end = max(now_dt, start + timedelta(seconds=1))
    if end <= start:
        raise ParamError("to", f"must be after from ({start.isoformat()}), got {end.isoformat()}")
    if end - start > MAX_PERIOD:
        raise ParamError("to", f"a report covers at most {MAX_PERIOD.days} days")
    return ReportParams(
        report=kind,
        start=start,
        end=end,
        interval=interval,
        zone=zone.key,
        queues=_names(values.get("queues"), "queues", known_queues),
        agents=_names(values.get("agents"), "agents", known_agents),
    )


# ---------------------------------------------------------------------- feeding


REPORT_END = "report_end"  # the kind of the marker event fed at the end of the period


class PeriodFeed:
    """Which events of a time-ordered stream go into a report of ``[start, end)``.

    The stream starts before ``start`` (each agent's state at ``start`` must be known) and
    goes on past ``end`` until the calls that arrived before ``end`` have ended (their
    answer, talk and wrap-up count in the interval they arrived in). After ``end`` only
    those calls' events are taken; ``take`` returns ``None`` when nothing more is needed.
    """

    def __init__(self, start: datetime, end: datetime, *, until: datetime | None = None) -> None:
        self.start = start
        self.end = end
        # Agent time is counted up to here (``end``, or now for a period not over yet).
        self.until = min(end, until) if until is not None else end
        self._marked = False
        self._calls: set[str] = set()

    def take(self, event: CallEvent, rollup: Rollup) -> list[CallEvent] | None:
        out: list[CallEvent] = []
        if event.at >= self.end and not self._marked:
            out.append(self.marker(rollup))
        if event.at < self.end:
            if event.call_id != AGENT_CALL_ID:
                self._calls.add(event.call_id)
            out.append(event)
            return out
        if rollup.live_calls() == 0 and self._marked:
            # Nothing more is needed; but a marker made just now must still be fed (else
            # the agents' time from their last event to the end would be lost).
            return out or None
        if event.call_id in self._calls:
            out.append(event)
        return out

    def marker(self, rollup: Rollup) -> CallEvent:
        """The event that moves the rollup's clock to the end of the period (or now)."""
        self._marked = True
        at = self.until
        if rollup.now is not None and rollup.now > at.timestamp():
            at = datetime.fromtimestamp(rollup.now, UTC)
        return CallEvent(AGENT_CALL_ID, REPORT_END, at=at)

    def finish(self, rollup: Rollup) -> list[CallEvent]:
        """What to feed when the stream ended."""
        return [] if self._marked else [self.marker(rollup)]


# ---------------------------------------------------------------------- NKI


@dataclass(slots=True)
class NkiFigures:
    """Survey answers of one (interval, queue, agent, question)."""

    start: datetime
    end: datetime
    queue: str | None
    agent: str | None
    position: int
    question: str
    answers: int = 0
    skipped: int = 0
    total: int = 0  # sum of the answers (1-5)
    counts: list[int] = field(default_factory=lambda: [0] * 5)  # answers 1..5

    @property
    def mean(self) -> float | None:
        return self.total / self.answers if self.answers else None


class NkiRollup:
    """NKI survey answers (``survey_answer`` events) per interval, queue, agent, question.

    A question belongs to the interval the call arrived in, like the call's other figures.
    """

    def __init__(self, zone: str | ZoneInfo, interval: str | Interval) -> None:
        self.periods = Periods(zone, interval)
        self._first: dict[str, float] = {}
        self._acc: dict[tuple[float, str, str, int, str], NkiFigures] = {}

    def add(self, event: CallEvent) -> None:
        if event.call_id == AGENT_CALL_ID:
            return
        ts = event.at.timestamp()
        lo = self._first.setdefault(event.call_id, self.periods.start(ts))
        if event.kind == EventKind.HANGUP:
            self._first.pop(event.call_id, None)
        if event.kind != EventKind.SURVEY_ANSWER:
            return
        data = event.data or {}
        position = data.get("position")
        pos = position if isinstance(position, int) else 0
        question = str(data.get("question") or "")
        key = (lo, event.queue or "", event.agent or "", pos, question)
        acc = self._acc.get(key)
        if acc is None:
            start, end = self.periods.bounds(lo)
            acc = self._acc[key] = NkiFigures(
                self.periods.local(start), self.periods.local(end), event.queue, event.agent,
                pos, question,
            )  # fmt: skip
        answer = data.get("answer")
        if isinstance(answer, int) and 1 <= answer <= 5:
            acc.answers += 1
            acc.total += answer
            acc.counts[answer - 1] += 1
        else:
            acc.skipped += 1

    def figures(self) -> list[NkiFigures]:
        return [self._acc[k] for k in sorted(self._acc)]


# ---------------------------------------------------------------------- tables


@dataclass(frozen=True, slots=True)
class Table:
    """A report as columns and rows (values: str, int, float or None)."""

    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]

    def records(self) -> list[dict[str, Any]]:
        return [dict(zip(self.columns, row, strict=True)) for row in self.rows]


KEY_FIGURE_COLUMNS = (
    "queue", "start", "end", "offered", "answered", "answered_within", "abandoned",
    "abandoned_short", "abandoned_within", "overflow_out", "overflow_in", "closed",
    "voicemails", "service_level", "service_level_offered", "service_level_answered", "asa",
    "average_wait", "longest_wait", "average_abandon_wait", "abandon_rate", "talk",
    "average_talk", "wrap_up", "average_wrap_up", "average_handle_time", "mos_mean",
    "mos_low_share", "service_level_seconds", "short_abandon_seconds", "transferred_out",
    "transferred_in",
)  # fmt: skip
AGENT_COLUMNS = (
    "agent", "start", "end", "logged_in", "ready", "ringing", "busy", "wrap_up", "paused",
    "paused_by_reason", "occupancy", "offers", "answered", "no_answers", "declined", "talk",
    "average_talk", "unanswered_logouts", "nki_answers", "nki_mean", "transferred",
    "transferred_in",
)  # fmt: skip
NKI_COLUMNS = (
    "start", "end", "queue", "agent", "position", "question", "answers", "skipped", "mean",
    "answers_1", "answers_2", "answers_3", "answers_4", "answers_5",
)  # fmt: skip
CALL_COLUMNS = (
    "call_id", "started_at", "ended_at", "outcome", "a_number", "b_number", "queue", "agent",
    "wait_seconds", "talk_seconds", "mos", "ended_by",
)  # fmt: skip


def _in_period(start: datetime, params: ReportParams) -> bool:
    return params.start <= start < params.end


def key_figures_table(figures: Iterable[QueueFigures], params: ReportParams) -> Table:
    rows = []
    for f in figures:
        if not _in_period(f.start, params):
            continue
        d = f.as_dict()
        rows.append(tuple(d[c] for c in KEY_FIGURE_COLUMNS))
    return Table("Key figures per queue", KEY_FIGURE_COLUMNS, tuple(rows))


def agent_table(
    figures: Iterable[AgentFigures], nki: Iterable[NkiFigures], params: ReportParams
) -> Table:
    scores: dict[tuple[str, datetime], list[int]] = {}
    for n in nki:
        if n.agent:
            s = scores.setdefault((n.agent, n.start), [0, 0])
            s[0] += n.answers
            s[1] += n.total
    rows = []
    for f in figures:
        if not _in_period(f.start, params):
            continue
        d = f.as_dict()
        answers, total = scores.get((f.agent, f.start), (0, 0))
        d["paused_by_reason"] = "; ".join(
            f"{reason}={seconds:.0f}" for reason, seconds in sorted(f.paused_by_reason.items())
        )
        d["nki_answers"] = answers
        d["nki_mean"] = total / answers if answers else None
        rows.append(tuple(d[c] for c in AGENT_COLUMNS))
    return Table("Agent statistics", AGENT_COLUMNS, tuple(rows))


def nki_table(figures: Iterable[NkiFigures], params: ReportParams) -> Table:
    rows = []
    for n in figures:
        if not _in_period(n.start, params):
            continue
        if params.queues is not None and n.queue not in params.queues:
            continue
        if params.agents is not None and n.agent not in params.agents:
            continue
        rows.append(
            (
                n.start.isoformat(),
                n.end.isoformat(),
                n.queue,
                n.agent,
                n.position,
                n.question,
                n.answers,
                n.skipped,
                n.mean,
                *n.counts,
            )  # fmt: skip
        )
    return Table("NKI survey", NKI_COLUMNS, tuple(rows))


def calls_table(calls: Iterable[CallSummary], params: ReportParams) -> Table:
    zone = ZoneInfo(params.zone)
    rows = []
    for c in calls:
        if not params.start <= c.started_at < params.end:
            continue
        if params.queues is not None and c.queue not in params.queues:
            continue
        if params.agents is not None and c.agent not in params.agents:
            continue
        rows.append(
            (
                c.call_id,
                c.started_at.astimezone(zone).isoformat(),
                c.ended_at.astimezone(zone).isoformat(),
                c.outcome,
                c.a_number,
                c.b_number,
                c.queue,
                c.agent,
                c.wait_seconds,
                c.talk_seconds,
                c.mos,
                c.ended_by,
            )  # fmt: skip
        )
    return Table("Call detail", CALL_COLUMNS, tuple(rows))


class FigureSource(Protocol):
    """What a table is built from: a ``Rollup``, or days summed (``Assembled``)."""

    def queue_figures(
        self, queues: Iterable[str] | None = None, *, group_by: Mapping[str, str] | None = None
    ) -> list[QueueFigures]: ...

    def agent_figures(self, agents: Iterable[str] | None = None) -> list[AgentFigures]: ...


class NkiSource(Protocol):
    def figures(self) -> list[NkiFigures]: ...


def build_table(
    params: ReportParams,
    rollup: FigureSource | None = None,
    nki: NkiSource | None = None,
    calls: Sequence[CallSummary] = (),
) -> Table:
    """The table of ``params.report`` from what the caller fed."""
    nki_figs = nki.figures() if nki is not None else []
    if params.report is ReportKind.CALLS:
        return calls_table(calls, params)
    if params.report is ReportKind.NKI:
        return nki_table(nki_figs, params)
    assert rollup is not None
    if params.report is ReportKind.AGENTS:
        return agent_table(rollup.agent_figures(params.agents), nki_figs, params)
    return key_figures_table(rollup.queue_figures(params.queues), params)


# ---------------------------------------------------------------------- CSV


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:.3f}".rstrip("0").rstrip(".") if value == value else ""
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def to_csv(table: Table) -> str:
    """The table as CSV (RFC 4180: comma, CRLF, a header row; floats to 3 decimals)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(table.columns)
    for row in table.rows:
        writer.writerow([_cell(v) for v in row])
    return out.getvalue()


def utc(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)
