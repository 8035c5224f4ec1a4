"""A report put together from pieces: each day computed on its own (and kept, once no
event can change it any more), the days' rows summed into the report's intervals.

Why: a month of a busy centre is millions of call-log events; recounting them for every
monthly report takes minutes. A day's figures never change once the day and its calls
are over, so the storage keeps each finished day's rows and a month report sums 31 of
them. The sum equals the recount because every figure belongs to one instant (the call's
arrival for the call's figures, the event's time for an agent's offers, state time cut at
interval bounds) and every figure is a sum, a count or a maximum
(``tests/reports/test_assembled.py`` proves it on random logs).

Pure: the pieces come from ``Rollup``/``NkiRollup`` runs over ``[start, end)`` (see
``Piece.from_rollup``) and go to and from JSON for the store.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from .centre import NkiFigures, NkiRollup
from .figures import AgentFigures, QueueFigures
from .periods import Interval, Periods, interval_of, zone_of
from .rollup import Rollup

__all__ = ["Assembled", "Piece", "day_pieces", "piece_interval"]

# The intervals a day piece can be cut in: a longer report sums days.
_PIECE_INTERVALS = (Interval.QUARTER, Interval.HOUR, Interval.DAY)


def piece_interval(interval: str | Interval) -> Interval:
    """The interval the pieces of a report in ``interval`` are computed in."""
    iv = interval_of(interval)
    return iv if iv in _PIECE_INTERVALS else Interval.DAY


def day_pieces(
    start: datetime, end: datetime, zone: str | ZoneInfo
) -> Iterator[tuple[datetime, datetime, date | None]]:
    """``[start, end)`` cut at the zone's midnights: ``(lo, hi, day)``, ``day`` set when
    the piece is that whole local day (a piece worth keeping)."""
    tz = zone_of(zone)
    lo = start
    while lo < end:
        d = lo.astimezone(tz).date()
        midnight = _midnight(d, tz)
        nxt = _midnight(d + timedelta(days=1), tz)
        hi = min(nxt, end)
        whole = lo == midnight and hi == nxt
        yield lo, hi, (d if whole else None)
        lo = hi


def _midnight(d: date, tz: ZoneInfo) -> datetime:
    # As Periods: a midnight that does not exist (a DST jump at 00:00) maps to the jump.
    return datetime.fromtimestamp(datetime.combine(d, time(0), tzinfo=tz).timestamp(), tz)


@dataclass(slots=True)
class Piece:
    """The rows of ``[start, end)`` in one interval length: those whose interval starts
    inside (rows of the lead-in before ``start`` belong to the piece before)."""

    start: datetime
    end: datetime
    queues: list[QueueFigures] = field(default_factory=list)
    agents: list[AgentFigures] = field(default_factory=list)
    nki: list[NkiFigures] = field(default_factory=list)

    @classmethod
    def from_rollup(cls, rollup: Rollup, nki: NkiRollup, start: datetime, end: datetime) -> Piece:
        def inside(row_start: datetime) -> bool:
            return start <= row_start < end

        return cls(
            start,
            end,
            [q for q in rollup.queue_figures() if inside(q.start)],
            [a for a in rollup.agent_figures() if inside(a.start)],
            [n for n in nki.figures() if inside(n.start)],
        )

    # ------------------------------------------------------------------ JSON

    def to_json(self) -> dict[str, Any]:
        return {
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "queues": [_row_json(q) for q in self.queues],
            "agents": [_row_json(a) for a in self.agents],
            "nki": [_row_json(n) for n in self.nki],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Piece:
        return cls(
            datetime.fromisoformat(data["start"]),
            datetime.fromisoformat(data["end"]),
            [_row(QueueFigures, r) for r in data["queues"]],
            [_row(AgentFigures, r) for r in data["agents"]],
            [_row(NkiFigures, r) for r in data["nki"]],
        )


def _row_json(row: Any) -> dict[str, Any]:
    out = {f.name: getattr(row, f.name) for f in fields(row)}
    out["start"], out["end"] = row.start.isoformat(), row.end.isoformat()
    return out


def _row(cls: Any, data: Mapping[str, Any]) -> Any:
    values = dict(data)
    values["start"] = datetime.fromisoformat(values["start"])
    values["end"] = datetime.fromisoformat(values["end"])
    if "paused_by_reason" in values:
        values["paused_by_reason"] = dict(values["paused_by_reason"])
    if "counts" in values:
        values["counts"] = list(values["counts"])
    return cls(**values)


class Assembled:
    """Pieces summed into the intervals of one length: read like a ``Rollup``."""

    def __init__(self, zone: str | ZoneInfo, interval: str | Interval) -> None:
        self.periods = Periods(zone, interval)
        self._queues: dict[tuple[str, float], QueueFigures] = {}
        self._agents: dict[tuple[str, float], AgentFigures] = {}
        self._nki: dict[tuple[float, str, str, int, str], NkiFigures] = {}
        self.now: float | None = None

    def add(self, piece: Piece) -> None:
        for q in piece.queues:
            lo, start, end = self._bucket(q.start)
            have = self._queues.get((q.queue, lo))
            if have is None:
                self._queues[(q.queue, lo)] = replace(q, start=start, end=end)
            else:
                have.add(q)
        for a in piece.agents:
            lo, start, end = self._bucket(a.start)
            have_a = self._agents.get((a.agent, lo))
            if have_a is None:
                self._agents[(a.agent, lo)] = replace(
                    a, start=start, end=end, paused_by_reason=dict(a.paused_by_reason)
                )
            else:
                have_a.add(a)
        for n in piece.nki:
            lo, start, end = self._bucket(n.start)
            key = (lo, n.queue or "", n.agent or "", n.position, n.question)
            have_n = self._nki.get(key)
            if have_n is None:
                self._nki[key] = replace(n, start=start, end=end, counts=list(n.counts))
            else:
                have_n.answers += n.answers
                have_n.skipped += n.skipped
                have_n.total += n.total
                have_n.counts = [x + y for x, y in zip(have_n.counts, n.counts, strict=True)]
        end_ts = piece.end.timestamp()
        self.now = end_ts if self.now is None else max(self.now, end_ts)

    def _bucket(self, row_start: datetime) -> tuple[float, datetime, datetime]:
        lo, hi = self.periods.bounds(row_start.timestamp())
        return lo, self.periods.local(lo), self.periods.local(hi)

    # ------------------------------------------------------------------ reading (as Rollup)

    def queue_figures(
        self, queues: Iterable[str] | None = None, *, group_by: Mapping[str, str] | None = None
    ) -> list[QueueFigures]:
        wanted = None if queues is None else set(queues)
        out: dict[tuple[str, float], QueueFigures] = {}
        for (queue, lo), acc in self._queues.items():
            if wanted is not None and queue not in wanted:
                continue
            if group_by is None:
                out[(queue, lo)] = replace(acc)
                continue
            group = group_by.get(queue)
            if group is None:
                continue
            have = out.get((group, lo))
            if have is None:
                out[(group, lo)] = replace(acc, queue=group)
            else:
                have.add(acc)
        return [out[k] for k in sorted(out)]

    def agent_figures(self, agents: Iterable[str] | None = None) -> list[AgentFigures]:
        wanted = None if agents is None else set(agents)
        return [
            replace(acc, paused_by_reason=dict(acc.paused_by_reason))
            for key, acc in sorted(self._agents.items())
            if wanted is None or key[0] in wanted
        ]

    def figures(self) -> list[NkiFigures]:
        """The NKI rows (as ``NkiRollup.figures``)."""
        return [self._nki[k] for k in sorted(self._nki)]
