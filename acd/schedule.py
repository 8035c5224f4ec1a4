"""Scheduled logins (SPEC S4): an agent logged in every day of a date interval from a start
to an end time (wall clock in the centre's time zone), on a given number.

Pure: the rules (overlap, what may be deleted, which day windows exist, what is due next)
with ``now`` passed in; storage and the timer that logs agents in and out live in
``vaxel/``. A day's window is its start and end as wall-clock times of that day in the
zone, so a DST day keeps the same wall-clock hours (and is one hour shorter or longer if
the window spans the change). A start time that does not exist that day (skipped by the
spring change) means the first instant after the gap.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo


class ScheduleError(ValueError):
    """A schedule the rules refuse; the message names the field and the reason."""


@dataclass(frozen=True, slots=True)
class LoginSchedule:
    id: int
    agent: str
    first_day: date
    last_day: date
    start: time  # daily, wall clock in ``zone``
    end: time
    zone: str
    number: str | None = None  # None: the agent's remote-login number

    def __post_init__(self) -> None:
        if self.last_day < self.first_day:
            raise ScheduleError("last_day: before first_day")
        if self.end <= self.start:
            raise ScheduleError("end: must be after start (the same day)")
        try:
            ZoneInfo(self.zone)
        except Exception:
            raise ScheduleError(f"zone: unknown time zone {self.zone!r}") from None

    def days(self) -> Iterator[date]:
        day = self.first_day
        while day <= self.last_day:
            yield day
            day += timedelta(days=1)

    def window(self, day: date) -> tuple[datetime, datetime]:
        """The day's login window as UTC instants."""
        return _instant(day, self.start, self.zone), _instant(day, self.end, self.zone)

    def windows(self) -> Iterator[tuple[datetime, datetime]]:
        return (self.window(day) for day in self.days())

    @property
    def begins(self) -> datetime:
        return self.window(self.first_day)[0]

    @property
    def finishes(self) -> datetime:
        return self.window(self.last_day)[1]

    def active_at(self, at: datetime) -> bool:
        local = at.astimezone(ZoneInfo(self.zone)).date()
        for day in (local - timedelta(days=1), local):
            if self.first_day <= day <= self.last_day:
                start, end = self.window(day)
                if start <= at < end:
                    return True
        return False


def _instant(day: date, at: time, zone: str) -> datetime:
    tz = ZoneInfo(zone)
    wall = datetime.combine(day, at, tzinfo=tz)
    # A wall time in the spring gap does not exist: the first minute after the gap.
    for _ in range(24 * 60):
        utc = wall.astimezone(UTC)
        if utc.astimezone(tz).replace(tzinfo=None) == wall.replace(tzinfo=None):
            return utc
        wall = (wall.replace(tzinfo=None) + timedelta(minutes=1)).replace(
            second=0, microsecond=0, tzinfo=tz
        )
    raise ScheduleError(f"start: no such time on {day} in {zone}")  # pragma: no cover


def overlaps(a: LoginSchedule, b: LoginSchedule) -> bool:
    """Two schedules of one agent that would log it in at the same time."""
    if a.agent != b.agent or a.id == b.id:
        return False
    if a.last_day < b.first_day or b.last_day < a.first_day:
        return False
    return a.start < b.end and b.start < a.end


def check_new(new: LoginSchedule, existing: Iterable[LoginSchedule], now: datetime) -> None:
    """Refuse a schedule that starts in the past or overlaps one of the same agent."""
    if new.finishes <= now:
        raise ScheduleError("last_day: the schedule would be over already")
    for other in existing:
        if overlaps(new, other):
            raise ScheduleError(
                f"agent: overlaps schedule {other.id} of agent {other.agent!r} "
                f"({other.first_day}..{other.last_day} {other.start:%H:%M}-{other.end:%H:%M})"
            )


def check_delete(schedule: LoginSchedule, now: datetime) -> None:
    """Only a schedule that has not begun may be deleted (ongoing and past ones stay)."""
    if schedule.begins <= now:
        state = "is over" if schedule.finishes <= now else "has begun"
        raise ScheduleError(
            f"schedule {schedule.id}: it {state} ({schedule.begins.isoformat()}); "
            "only future schedules can be deleted"
        )


@dataclass(frozen=True, slots=True)
class Transition:
    at: datetime
    action: str  # "login" or "logout"
    schedule: LoginSchedule


def next_transition(schedules: Iterable[LoginSchedule], now: datetime) -> Transition | None:
    """The first login or logout strictly after ``now``."""
    best: Transition | None = None
    for s in schedules:
        if s.finishes <= now:
            continue
        for start, end in s.windows():
            if end <= now:
                continue
            t = Transition(start, "login", s) if start > now else Transition(end, "logout", s)
            if best is None or t.at < best.at:
                best = t
            break
    return best


def active(schedules: Iterable[LoginSchedule], now: datetime) -> list[LoginSchedule]:
    """Schedules whose window is open at ``now`` (a start missed while down is due)."""
    return [s for s in schedules if s.active_at(now)]


@dataclass(frozen=True, slots=True)
class StaffingRow:
    day: date
    agent: str
    start: time
    end: time
    number: str | None
    schedule: int


def staffing(schedules: Iterable[LoginSchedule], first: date, last: date) -> list[StaffingRow]:
    """The planned logins per day and agent for ``first``..``last`` (a staffing view)."""
    rows = [
        StaffingRow(day, s.agent, s.start, s.end, s.number, s.id)
        for s in schedules
        for day in s.days()
        if first <= day <= last
    ]
    return sorted(rows, key=lambda r: (r.day, r.start, r.agent))
