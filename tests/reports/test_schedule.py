"""Subscription due times in virtual time: DST days, month ends, missed sends."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from reports import SETTLE_SECONDS, Schedule

STHLM = ZoneInfo("Europe/Stockholm")


def ts(*args: int, zone: ZoneInfo = STHLM) -> float:
    return datetime(*args, tzinfo=zone).timestamp()


def local(t: float, zone: ZoneInfo = STHLM) -> datetime:
    return datetime.fromtimestamp(t, zone)


def test_a_daily_subscription_first_sends_the_day_it_was_created_ten_minutes_after_midnight():
    s = Schedule("daily", "Europe/Stockholm")
    created = ts(2026, 3, 10, 14, 30)
    assert local(s.first_due(created)) == datetime(2026, 3, 11, 0, 10, tzinfo=STHLM)
    assert s.due(created_at=created, last_end=None, now=ts(2026, 3, 11, 0, 9)) is None
    due = s.due(created_at=created, last_end=None, now=ts(2026, 3, 11, 0, 10))
    assert due is not None and due.skipped == 0
    assert (local(due.start), local(due.end)) == (
        datetime(2026, 3, 10, tzinfo=STHLM),
        datetime(2026, 3, 11, tzinfo=STHLM),
    )
    # Once sent, nothing until the next day's report.
    assert s.due(created_at=created, last_end=due.end, now=ts(2026, 3, 11, 23, 0)) is None
    nxt = s.next_due(created_at=created, last_end=due.end, now=ts(2026, 3, 11, 8, 0))
    assert local(nxt) == datetime(2026, 3, 12, 0, 10, tzinfo=STHLM)


def test_the_spring_dst_day_report_covers_23_hours_and_the_autumn_one_25():
    s = Schedule("daily", "Europe/Stockholm")
    created = ts(2026, 3, 1)
    spring = s.due(created_at=created, last_end=None, now=ts(2026, 3, 30, 0, 10))
    assert spring is not None and spring.end - spring.start == 23 * 3600
    assert local(spring.start) == datetime(2026, 3, 29, tzinfo=STHLM)
    autumn = s.due(created_at=created, last_end=None, now=ts(2026, 10, 26, 0, 10))
    assert autumn is not None and autumn.end - autumn.start == 25 * 3600
    # Due 10 minutes after local midnight whatever the offset.
    assert autumn.due_at == ts(2026, 10, 26) + SETTLE_SECONDS


def test_monthly_reports_follow_month_ends_february_in_a_leap_year_included():
    s = Schedule("monthly", "Europe/Stockholm")
    created = ts(2028, 1, 31, 23, 59)
    due = s.due(created_at=created, last_end=None, now=ts(2028, 2, 1, 0, 10))
    assert due is not None and local(due.start).date().isoformat() == "2028-01-01"
    feb = s.due(created_at=created, last_end=due.end, now=ts(2028, 3, 1, 0, 10))
    assert feb is not None and (feb.end - feb.start) / 86400 == 29  # leap February
    assert local(feb.end) == datetime(2028, 3, 1, tzinfo=STHLM)
    # March's report: 31 days less the DST hour; not due on 31 March or at 1 April 00:09.
    assert s.due(created_at=created, last_end=feb.end, now=ts(2028, 4, 1, 0, 9)) is None
    march = s.due(created_at=created, last_end=feb.end, now=ts(2028, 4, 1, 0, 10))
    assert march is not None and march.end - march.start == 31 * 86400 - 3600


def test_weekly_reports_run_monday_to_monday():
    s = Schedule("weekly", "Europe/Stockholm")
    created = ts(2026, 3, 25, 12)  # a Wednesday
    due = s.due(created_at=created, last_end=None, now=ts(2026, 3, 30, 0, 10))
    assert due is not None
    assert local(due.start) == datetime(2026, 3, 23, tzinfo=STHLM)  # Monday
    assert due.end - due.start == 7 * 86400 - 3600  # the DST week


def test_a_send_missed_while_down_goes_out_once_and_only_the_latest_period():
    s = Schedule("daily", "Europe/Stockholm")
    created = ts(2026, 5, 1, 9)
    first = s.due(created_at=created, last_end=None, now=ts(2026, 5, 2, 0, 10))
    assert first is not None
    # Down from 2 May 00:15 to 5 May 08:00: the 2nd, 3rd and 4th were due; one send, the 4th.
    back = ts(2026, 5, 5, 8)
    missed = s.due(created_at=created, last_end=first.end, now=back)
    assert missed is not None and missed.skipped == 2
    assert local(missed.start) == datetime(2026, 5, 4, tzinfo=STHLM)
    assert s.due(created_at=created, last_end=missed.end, now=back) is None
    assert s.due(created_at=created, last_end=missed.end, now=back + 3600) is None


def test_a_zone_without_dst_and_one_whose_midnight_jumps():
    utc = Schedule("daily", "UTC")
    due = utc.due(created_at=0.0, last_end=None, now=86400 * 3 + 601)
    assert due is not None and (due.start, due.end) == (86400 * 2, 86400 * 3)
    # Santiago: clocks go 00:00 -> 01:00 on 2026-09-06; that day starts at the jump.
    scl = ZoneInfo("America/Santiago")
    s = Schedule("daily", "America/Santiago")
    d = s.due(created_at=ts(2026, 9, 6, 12, zone=scl), last_end=None,
              now=ts(2026, 9, 7, 0, 10, zone=scl))  # fmt: skip
    assert d is not None and d.end - d.start == 23 * 3600


def test_an_unknown_periodicity_or_zone_is_refused_naming_it():
    with pytest.raises(ValueError, match="periodicity: expected one of daily, weekly, monthly"):
        Schedule("hourly", "UTC")
    with pytest.raises(ValueError, match="time zone"):
        Schedule("daily", "Mars/Olympus")
