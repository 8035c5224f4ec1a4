"""When a report subscription is due (SPEC S12): pure, ``now`` in, the send that is due out.

A subscription has a periodicity (daily, weekly, monthly) in a time zone. Each send covers
one whole period on that zone's wall clock — the previous local day (23 or 25 hours on a
DST day), the previous Monday-to-Monday week, the previous calendar month — and is due
``SETTLE_SECONDS`` after the period ends, so that calls still live at midnight have
ended and their talk and wrap-up are in the report.

The first send is the period in which the subscription was created (its end is the first
due time after the creation). A send missed while the server was down is due when the
server is back, once: when several periods were missed only the latest is sent (a
subscriber wants the current report, not a backlog of stale ones); ``Due.skipped`` says
how many were passed over.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from .periods import Interval, Periods

# Seconds after a period's end before its report is sent.
SETTLE_SECONDS = 600.0


class Periodicity(StrEnum):
    DAILY = "daily"
    WEEKLY = "weekly"
    MONTHLY = "monthly"


_INTERVAL = {
    Periodicity.DAILY: Interval.DAY,
    Periodicity.WEEKLY: Interval.WEEK,
    Periodicity.MONTHLY: Interval.MONTH,
}
# The interval of the figures inside one send: hours of a day, days of a week or month.
DETAIL = {
    Periodicity.DAILY: Interval.HOUR,
    Periodicity.WEEKLY: Interval.DAY,
    Periodicity.MONTHLY: Interval.DAY,
}


def periodicity_of(value: str) -> Periodicity:
    try:
        return Periodicity(value)
    except ValueError:
        choices = ", ".join(p.value for p in Periodicity)
        raise ValueError(f"periodicity: expected one of {choices}, got {value!r}") from None


@dataclass(frozen=True, slots=True)
class Due:
    """One send that is due: the period ``[start, end)`` (POSIX seconds) it reports."""

    start: float
    end: float
    due_at: float
    skipped: int = 0  # earlier periods missed (server down) and not sent


class Schedule:
    """The send times of one periodicity in one zone."""

    __slots__ = ("periodicity", "periods", "settle")

    def __init__(self, periodicity: str, zone: str, *, settle: float = SETTLE_SECONDS) -> None:
        self.periodicity = periodicity_of(periodicity)
        self.periods = Periods(zone, _INTERVAL[self.periodicity])
        self.settle = settle

    def period(self, ts: float) -> tuple[float, float]:
        """The period that contains ``ts``."""
        return self.periods.bounds(ts)

    def first_due(self, created_at: float) -> float:
        """When the first report of a subscription created at ``created_at`` is due."""
        return self.period(created_at)[1] + self.settle

    def latest_complete(self, now: float) -> tuple[float, float] | None:
        """The latest period whose report is due at ``now`` (its end + settle <= now)."""
        start, _ = self.period(now - self.settle)
        if start <= -1e12:  # pragma: no cover - before any representable period
            return None
        return self.period(start - 1e-3)

    def due(self, *, created_at: float, last_end: float | None, now: float) -> Due | None:
        """The send due at ``now``, given the end of the last period sent (or being sent).

        ``None``: nothing is due yet (``next_due`` says when).
        """
        latest = self.latest_complete(now)
        if latest is None:
            return None
        start, end = latest
        first_end = self.period(created_at)[1]
        if end < first_end:  # the subscription did not exist yet
            return None
        if last_end is not None and end <= last_end:
            return None
        # Periods that ended after the last one sent (or the first) and before this one.
        skipped = 0
        t = start
        floor = last_end if last_end is not None else first_end - 1e-3
        while True:
            prev_start, prev_end = self.period(t - 1e-3)
            if prev_end <= floor or prev_end < first_end:
                break
            skipped += 1
            t = prev_start
        return Due(start, end, end + self.settle, skipped)

    def next_due(self, *, created_at: float, last_end: float | None, now: float) -> float:
        """The earliest time after ``now`` at which ``due`` gives a send (or ``now`` if one
        is due already)."""
        if self.due(created_at=created_at, last_end=last_end, now=now) is not None:
            return now
        _, end = self.period(now - self.settle)
        return max(end + self.settle, self.first_due(created_at))
