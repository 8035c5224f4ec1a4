"""Report intervals in a time zone: 15 minutes, hour, day, week, month.

Intervals are cut on the zone's wall clock: a day runs from local midnight to the next
local midnight (23 hours on the spring DST day, 25 in autumn), a week from Monday 00:00,
a month from the 1st 00:00. Quarter hours and hours are real 15/60-minute spans starting
at a local wall-clock quarter/hour: the autumn repeated hour 02:00-03:00 is two hours
(02:00+02:00 and 02:00+01:00 in Stockholm) and the skipped spring hour does not exist.

Instants are POSIX timestamps (float seconds); an instant on a boundary belongs to the
interval that starts there.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


class Interval(StrEnum):
    """The length of a report interval."""

    QUARTER = "15min"
    HOUR = "hour"
    DAY = "day"
    WEEK = "week"
    MONTH = "month"


_STEP = {Interval.QUARTER: 900.0, Interval.HOUR: 3600.0}


def zone_of(zone: str | ZoneInfo) -> ZoneInfo:
    """A ZoneInfo from a name, with an error that says what to give."""
    if isinstance(zone, ZoneInfo):
        return zone
    try:
        return ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise ValueError(
            f"reports: time zone: expected an IANA zone name such as 'Europe/Stockholm', "
            f"got {zone!r}"
        ) from None


def interval_of(interval: str | Interval) -> Interval:
    try:
        return Interval(interval)
    except ValueError:
        choices = ", ".join(i.value for i in Interval)
        raise ValueError(
            f"reports: interval: expected one of {choices}, got {interval!r}"
        ) from None


class Periods:
    """The intervals of one length in one zone: which one an instant falls in."""

    __slots__ = ("zone", "interval", "_lo", "_hi", "_cache")

    def __init__(self, zone: str | ZoneInfo, interval: str | Interval) -> None:
        self.zone = zone_of(zone)
        self.interval = interval_of(interval)
        self._lo = 0.0
        self._hi = 0.0  # the last interval looked up (events come in order: mostly a hit)
        # Intervals by the real quarter hour they were looked up in (checked on use).
        self._cache: dict[int, tuple[float, float]] = {}

    def start(self, ts: float) -> float:
        """The start of the interval that contains ``ts``."""
        if self._lo <= ts < self._hi:
            return self._lo
        return self.bounds(ts)[0]

    def bounds(self, ts: float) -> tuple[float, float]:
        """``(start, end)`` of the interval that contains ``ts``, end exclusive."""
        if self._lo <= ts < self._hi:
            return self._lo, self._hi
        q = int(ts // 900)
        hit = self._cache.get(q)
        if hit is not None and hit[0] <= ts < hit[1]:
            self._lo, self._hi = hit
            return hit
        lo = self._floor(ts)
        step = _STEP.get(self.interval)
        if step is not None:
            hi = self._floor(lo + step)
            if hi <= lo:  # an offset change off the quarter hour: fall back to real time
                hi = lo + step
        else:
            hi = self._floor_day(self._next_day(lo))
        if len(self._cache) > 100_000:
            self._cache.clear()
        self._cache[q] = (lo, hi)
        self._lo, self._hi = lo, hi
        return lo, hi

    def local(self, ts: float) -> datetime:
        """The instant as an aware datetime on the zone's wall clock."""
        return datetime.fromtimestamp(ts, self.zone)

    # ------------------------------------------------------------------ internals

    def _floor(self, ts: float) -> float:
        local = datetime.fromtimestamp(ts, self.zone)  # fold set for the repeated hour
        if self.interval is Interval.HOUR:
            return local.replace(minute=0, second=0, microsecond=0).timestamp()
        if self.interval is Interval.QUARTER:
            m = local.minute - local.minute % 15
            return local.replace(minute=m, second=0, microsecond=0).timestamp()
        return self._floor_day(local.date())

    def _floor_day(self, d: date) -> float:
        if self.interval is Interval.WEEK:
            d -= timedelta(days=d.weekday())
        elif self.interval is Interval.MONTH:
            d = d.replace(day=1)
        # A midnight that does not exist (a DST jump at 00:00) maps to the jump itself.
        return datetime.combine(d, time(0), tzinfo=self.zone).timestamp()

    def _next_day(self, lo: float) -> date:
        d = datetime.fromtimestamp(lo, self.zone).date()
        if self.interval is Interval.DAY:
            return d + timedelta(days=1)
        if self.interval is Interval.WEEK:
            return d + timedelta(days=7)
        return (d.replace(day=28) + timedelta(days=4)).replace(day=1)
