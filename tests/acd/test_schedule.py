"""Scheduled logins in virtual time: overlaps, what may be deleted, the daily windows on
DST days, what is due next and a start missed while the server was down (SPEC S4)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from acd import (
    LoginSchedule,
    ScheduleError,
    active,
    check_delete,
    check_new,
    next_transition,
    staffing,
)

Z = "Europe/Stockholm"


def sched(sid: int = 1, agent: str = "1001", first: str = "2026-03-23", last: str = "2026-03-31",
          start: str = "08:00", end: str = "17:00") -> LoginSchedule:  # fmt: skip
    return LoginSchedule(
        sid, agent, date.fromisoformat(first), date.fromisoformat(last),
        time.fromisoformat(start), time.fromisoformat(end), Z,
    )  # fmt: skip


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def test_a_window_keeps_its_wall_clock_hours_across_the_spring_change() -> None:
    s = sched()
    assert s.window(date(2026, 3, 28)) == (utc("2026-03-28T08:00+01:00"),
                                           utc("2026-03-28T17:00+01:00"))  # fmt: skip
    # 29 March: the clocks go from 02:00 to 03:00; 08:00 is now UTC+2.
    assert s.window(date(2026, 3, 29)) == (utc("2026-03-29T08:00+02:00"),
                                           utc("2026-03-29T17:00+02:00"))  # fmt: skip


def test_a_window_across_the_changes_is_shorter_in_spring_and_longer_in_autumn() -> None:
    spring = sched(first="2026-03-29", last="2026-03-29", start="01:00", end="05:00")
    start, end = spring.window(date(2026, 3, 29))
    assert end - start == timedelta(hours=3)
    autumn = sched(first="2026-10-25", last="2026-10-25", start="01:00", end="05:00")
    start, end = autumn.window(date(2026, 10, 25))
    assert end - start == timedelta(hours=5)


def test_a_start_in_the_spring_gap_is_the_first_instant_after_it() -> None:
    s = sched(first="2026-03-29", last="2026-03-29", start="02:30", end="06:00")
    assert s.window(date(2026, 3, 29))[0] == utc("2026-03-29T03:00+02:00")


def test_overlapping_schedules_of_one_agent_are_refused() -> None:
    now = utc("2026-03-01T12:00+01:00")
    existing = [sched(1)]
    with pytest.raises(ScheduleError, match="agent: overlaps schedule 1"):
        check_new(sched(2, first="2026-03-30", last="2026-04-05", start="16:00", end="20:00"),
                  existing, now)  # fmt: skip
    check_new(
        sched(2, first="2026-03-30", last="2026-04-05", start="17:00", end="20:00"), existing, now
    )  # fmt: skip - touching windows do not overlap
    check_new(sched(2, agent="1002"), existing, now)  # another agent may
    with pytest.raises(ScheduleError, match="last_day: the schedule would be over"):
        check_new(sched(2, first="2026-02-01", last="2026-02-02"), existing, now)


def test_only_future_schedules_can_be_deleted() -> None:
    s = sched()
    check_delete(s, utc("2026-03-23T07:59+01:00"))
    with pytest.raises(ScheduleError, match="it has begun"):
        check_delete(s, utc("2026-03-23T08:00+01:00"))
    with pytest.raises(ScheduleError, match="it has begun"):
        check_delete(s, utc("2026-03-25T20:00+01:00"))  # between two days: still ongoing
    with pytest.raises(ScheduleError, match="it is over"):
        check_delete(s, utc("2026-04-01T09:00+02:00"))


def test_the_day_goes_login_then_logout_then_the_next_mornings_login() -> None:
    s = sched(first="2026-03-23", last="2026-03-24")
    now = utc("2026-03-23T06:00+01:00")
    seen = []
    while (t := next_transition([s], now)) is not None:
        seen.append((t.action, t.at))
        now = t.at
    assert seen == [
        ("login", utc("2026-03-23T08:00+01:00")),
        ("logout", utc("2026-03-23T17:00+01:00")),
        ("login", utc("2026-03-24T08:00+01:00")),
        ("logout", utc("2026-03-24T17:00+01:00")),
    ]


def test_a_start_missed_while_down_is_due_if_the_window_is_still_open() -> None:
    s = sched()
    assert active([s], utc("2026-03-25T12:00+01:00")) == [s]  # came back at noon
    assert active([s], utc("2026-03-25T18:00+01:00")) == []  # came back after the end
    assert next_transition([s], utc("2026-03-25T12:00+01:00")).action == "logout"  # type: ignore[union-attr]


def test_end_must_follow_start() -> None:
    with pytest.raises(ScheduleError, match="end: must be after start"):
        sched(start="17:00", end="08:00")


def test_the_staffing_view_lists_each_planned_day_and_agent() -> None:
    rows = staffing([sched(1), sched(2, agent="1002", start="12:00", end="20:00")],
                    date(2026, 3, 30), date(2026, 4, 2))  # fmt: skip
    assert [(r.day.isoformat(), r.agent, r.start.isoformat("minutes")) for r in rows] == [
        ("2026-03-30", "1001", "08:00"),
        ("2026-03-30", "1002", "12:00"),
        ("2026-03-31", "1001", "08:00"),
        ("2026-03-31", "1002", "12:00"),
    ]
