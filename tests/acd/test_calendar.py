"""Calendars and deviations (SPEC S6), judged in virtual time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from acd.calendar import Calendar, CalendarConfig, CalendarConfigError, CalendarSet

STHLM = ZoneInfo("Europe/Stockholm")
WEEKDAYS_8_17 = {d: ["08:00-17:00"] for d in ("mon", "tue", "wed", "thu", "fri")}


def at(text: str, tz: ZoneInfo = STHLM) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=tz)


def cal(**overrides: object) -> Calendar:
    data: dict[str, object] = {"hours": WEEKDAYS_8_17}
    data.update(overrides)
    return Calendar.from_dict(data)


# --- base hours


def test_weekday_inside_base_hours_is_open_and_says_which_interval() -> None:
    decision = cal().status(at("2025-03-12 09:30"))  # a Wednesday
    assert decision.open
    assert decision.rule == "base"
    assert decision.detail == "base hours Wed 08:00-17:00"


def test_interval_end_is_exclusive_and_start_inclusive() -> None:
    c = cal()
    assert not c.is_open(at("2025-03-12 07:59:59"))
    assert c.is_open(at("2025-03-12 08:00"))
    assert c.is_open(at("2025-03-12 16:59:59"))
    assert not c.is_open(at("2025-03-12 17:00"))


def test_several_intervals_a_day_leave_the_gap_closed() -> None:
    c = cal(hours={"mon": ["08:00-12:00", "13:00-17:00"]})
    assert c.is_open(at("2025-03-10 11:00"))
    gap = c.status(at("2025-03-10 12:30"))
    assert not gap.open
    assert "08:00-12:00, 13:00-17:00" in gap.detail
    assert c.is_open(at("2025-03-10 13:00"))


def test_weekend_without_hours_is_closed() -> None:
    decision = cal().status(at("2025-03-15 10:00"))  # Saturday
    assert not decision.open
    assert decision.detail == "no base hours on Sat"


def test_ordinary_sunday_follows_sunday_hours_not_a_holiday() -> None:
    c = cal(hours={"sun": ["10:00-14:00"]})
    decision = c.status(at("2025-03-16 11:00"))
    assert decision.open, decision
    assert decision.holiday_name is None


def test_same_instant_given_in_utc_is_judged_in_calendar_local_time() -> None:
    # 07:30 UTC is 08:30 in Stockholm in winter.
    assert cal().is_open(datetime(2025, 3, 12, 7, 30, tzinfo=UTC))
    assert cal().is_open(datetime(2025, 3, 12, 7, 30, tzinfo=UTC).timestamp())


def test_time_zone_is_per_calendar() -> None:
    london = cal(timezone="Europe/London")
    moment = at("2025-03-12 08:30")  # 07:30 in London
    assert cal().is_open(moment)
    assert not london.is_open(moment)


# --- holidays


@pytest.mark.parametrize(
    ("day", "name"),
    [
        ("2025-04-18", "Långfredagen"),
        ("2025-04-21", "Annandag påsk"),
        ("2026-04-03", "Långfredagen"),
        ("2026-04-06", "Annandag påsk"),
    ],
)
def test_easter_holidays_are_closed_on_a_weekday(day: str, name: str) -> None:
    decision = cal().status(at(f"{day} 10:00"))
    assert not decision.open
    assert decision.rule == "holiday"
    assert decision.holiday_name == name
    assert decision.detail == f"holiday: {name}"


def test_day_after_easter_monday_is_open_again() -> None:
    assert cal().is_open(at("2025-04-22 10:00"))


def test_christmas_day_is_closed_with_its_name() -> None:
    assert cal().status(at("2025-12-25 10:00")).holiday_name == "Juldagen"


@pytest.mark.parametrize(
    ("day", "name"),
    [("2025-06-20", "Midsommarafton"), ("2025-12-24", "Julafton"), ("2025-12-31", "Nyårsafton")],
)
def test_customary_eves_are_closed_by_default(day: str, name: str) -> None:
    decision = cal().status(at(f"{day} 10:00"))
    assert not decision.open
    assert decision.holiday_name == name


@pytest.mark.parametrize("day", ["2025-06-20", "2025-12-24", "2025-12-31"])
def test_customary_eves_follow_base_hours_when_disabled(day: str) -> None:
    decision = cal(closed_on_customary_eves=False).status(at(f"{day} 10:00"))
    assert decision.open
    assert decision.rule == "base"


def test_statutory_holiday_stays_closed_when_eves_are_disabled() -> None:
    assert not cal(closed_on_customary_eves=False).is_open(at("2025-12-25 10:00"))


def test_holidays_can_be_switched_off() -> None:
    assert cal(closed_on_holidays=False).is_open(at("2025-04-18 10:00"))


def test_holiday_country_is_configurable() -> None:
    # 4 July is a US holiday, an ordinary Friday in Sweden.
    moment = at("2025-07-04 10:00")
    assert cal().is_open(moment)
    us = cal(holiday_country="US", holiday_language="en_US").status(moment)
    assert not us.open
    assert us.holiday_name is not None and "Independence" in us.holiday_name


def test_holiday_names_in_another_language() -> None:
    decision = cal(holiday_language="en_US").status(at("2025-12-25 10:00"))
    assert decision.holiday_name == "Christmas Day"


# --- DST (Europe/Stockholm: 2025-03-30 02:00->03:00, 2025-10-26 03:00->02:00)


def test_spring_forward_day_keeps_local_opening_hours() -> None:
    c = cal(hours={"sun": ["08:00-17:00"]})
    assert not c.is_open(at("2025-03-30 07:59"))
    assert c.is_open(at("2025-03-30 08:00"))
    assert c.is_open(at("2025-03-30 16:59"))
    assert not c.is_open(at("2025-03-30 17:00"))
    # 08:00 CEST is 06:00 UTC that day.
    assert c.is_open(datetime(2025, 3, 30, 6, 0, tzinfo=UTC))
    assert not c.is_open(datetime(2025, 3, 30, 5, 59, tzinfo=UTC))


def test_autumn_back_day_keeps_local_opening_hours() -> None:
    c = cal(hours={"sun": ["08:00-17:00"]})
    # 08:00 CET is 07:00 UTC after the clocks went back.
    assert c.is_open(datetime(2025, 10, 26, 7, 0, tzinfo=UTC))
    assert not c.is_open(datetime(2025, 10, 26, 6, 59, tzinfo=UTC))
    assert not c.is_open(datetime(2025, 10, 26, 16, 0, tzinfo=UTC))  # 17:00 CET


def test_boundary_inside_spring_gap_starts_at_the_jump() -> None:
    c = cal(hours={"sun": ["02:30-05:00"]})
    # 01:59:59 CET (00:59:59 UTC) is before the jump, 03:00 CEST (01:00 UTC) is after.
    assert not c.is_open(datetime(2025, 3, 30, 0, 59, 59, tzinfo=UTC))
    assert c.is_open(datetime(2025, 3, 30, 1, 0, tzinfo=UTC))
    assert c.next_change(datetime(2025, 3, 29, 23, 0, tzinfo=UTC)) == at("2025-03-30 03:00")


def test_ambiguous_autumn_boundary_means_first_occurrence() -> None:
    c = cal(hours={"sun": ["02:30-05:00"]})
    first_0230 = datetime(2025, 10, 26, 0, 30, tzinfo=UTC)  # 02:30 CEST
    assert c.is_open(first_0230)
    assert not c.is_open(first_0230 - timedelta(seconds=1))
    # The repeated hour (02:00-03:00 CET) stays open: no flip-flop.
    for minutes in range(0, 60, 5):
        assert c.is_open(datetime(2025, 10, 26, 1, minutes, tzinfo=UTC))


def test_next_change_across_spring_forward_counts_real_time() -> None:
    c = cal(hours={"sat": ["08:00-17:00"], "sun": ["08:00-17:00"]})
    change = c.next_change(at("2025-03-29 18:00"))
    assert change == at("2025-03-30 08:00")
    assert change is not None and change.utcoffset() == timedelta(hours=2)


# --- deviations


LUNCH = {"status": "closed", "name": "lunch", "time": "12:00-13:00"}
FRIDAY_15 = {"status": "closed", "name": "friday", "weekdays": ["fri"], "time": "15:00-24:00"}


def test_lunch_closed_deviation() -> None:
    c = cal(deviations=[LUNCH])
    decision = c.status(at("2025-03-12 12:15"))
    assert not decision.open
    assert decision.rule == "deviation"
    assert decision.deviation_index == 0
    assert decision.detail.startswith("deviation 1 (lunch): closed")
    assert c.is_open(at("2025-03-12 11:59"))
    assert c.is_open(at("2025-03-12 13:00"))


def test_fridays_close_at_15() -> None:
    c = cal(deviations=[FRIDAY_15])
    assert c.is_open(at("2025-03-14 14:59"))
    assert not c.is_open(at("2025-03-14 15:00"))
    assert c.is_open(at("2025-03-13 16:00"))  # Thursday unaffected


def test_extra_evening_opening() -> None:
    evening = {"status": "open", "weekdays": ["thu"], "time": "17:00-20:00"}
    c = cal(deviations=[evening])
    assert c.is_open(at("2025-03-13 19:00"))
    assert not c.is_open(at("2025-03-13 20:00"))
    assert not c.is_open(at("2025-03-12 19:00"))  # Wednesday


def test_first_matching_deviation_wins_when_two_overlap() -> None:
    closed_meeting = {"status": "closed", "name": "meeting", "date": "2025-03-14"}
    open_late = {"status": "open", "name": "late", "weekdays": ["fri"], "time": "17:00-19:00"}
    moment = at("2025-03-14 18:00")
    first = cal(deviations=[closed_meeting, open_late]).status(moment)
    assert not first.open and first.deviation_index == 0
    swapped = cal(deviations=[open_late, closed_meeting]).status(moment)
    assert swapped.open and swapped.deviation_index == 0
    assert "late" in swapped.detail


def test_every_filled_condition_must_match() -> None:
    dev = {"status": "closed", "date": "2025-03-14", "weekdays": ["mon"]}  # a Friday
    decision = cal(deviations=[dev]).status(at("2025-03-14 10:00"))
    assert decision.open
    assert decision.rule == "base"


def test_open_deviation_on_a_holiday() -> None:
    dev = {"status": "open", "name": "christmas eve", "date": "2025-12-24", "time": "09:00-12:00"}
    c = cal(deviations=[dev])
    decision = c.status(at("2025-12-24 10:00"))
    assert decision.open
    assert decision.rule == "deviation"
    assert decision.holiday_name == "Julafton"
    after = c.status(at("2025-12-24 12:30"))
    assert not after.open
    assert after.rule == "holiday"


def test_yearly_recurring_date_range_wraps_new_year() -> None:
    dev = {
        "status": "closed",
        "name": "winter break",
        "date_from": "2020-12-27",
        "date_to": "2021-01-03",
        "recurring": True,
    }
    c = cal(deviations=[dev])
    assert not c.is_open(at("2027-12-29 10:00"))
    assert not c.is_open(at("2028-01-03 10:00"))
    assert c.is_open(at("2028-01-04 10:00"))
    assert c.is_open(at("2027-12-23 10:00"))


def test_yearly_recurring_single_date() -> None:
    dev = {"status": "closed", "name": "staff day", "date": "2020-09-15", "recurring": True}
    c = cal(deviations=[dev])
    assert not c.is_open(at("2026-09-15 10:00"))  # a Tuesday
    assert c.is_open(at("2026-09-16 10:00"))


def test_non_recurring_date_range_applies_only_that_year() -> None:
    dev = {"status": "closed", "date_from": "2025-08-04", "date_to": "2025-08-08"}
    c = cal(deviations=[dev])
    assert not c.is_open(at("2025-08-06 10:00"))
    assert c.is_open(at("2026-08-06 10:00"))


def test_closed_deviation_carries_prompt_per_language() -> None:
    dev = dict(LUNCH, prompt={"sv": "lunchstangt", "en": "lunch-closed"})
    decision = cal(deviations=[dev]).status(at("2025-03-12 12:30"))
    assert decision.prompt == {"sv": "lunchstangt", "en": "lunch-closed"}
    assert cal().status(at("2025-03-12 20:00")).prompt is None


# --- next change


def test_next_change_gives_opening_time_after_a_weekend() -> None:
    c = cal(deviations=[LUNCH])
    assert c.next_change(at("2025-03-14 18:00")) == at("2025-03-17 08:00")
    assert c.next_change(at("2025-03-17 10:00")) == at("2025-03-17 12:00")
    assert c.next_change(at("2025-03-17 12:00")) == at("2025-03-17 13:00")


def test_next_change_skips_holidays() -> None:
    # Closed from Good Friday through Easter Monday 2025.
    assert cal().next_change(at("2025-04-17 17:30")) == at("2025-04-22 08:00")


def test_next_change_is_none_when_never_open_within_horizon() -> None:
    c = cal(hours={})
    assert c.next_change(at("2025-03-12 10:00"), horizon_days=30) is None


# --- queues with their own calendars


def test_queue_with_own_calendar_uses_it_other_queues_use_base() -> None:
    cals = CalendarSet.from_config(
        base={"hours": WEEKDAYS_8_17},
        queues={"support": {"hours": {"sat": ["10:00-14:00"]}}},
    )
    saturday = at("2025-03-15 11:00")
    assert cals.status("support", saturday).open
    assert not cals.status("sales", saturday).open
    assert cals.for_queue("sales") is cals.base
    assert list(cals.queues_with_own_calendar()) == ["support"]


# --- configuration errors


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        ({"hours": {"mon": ["8-17"]}}, "calendar.hours"),
        ({"hours": {"mon": ["17:00-08:00"]}}, "end must be after start"),
        ({"hours": {"funday": ["08:00-17:00"]}}, "expected a weekday"),
        ({"hours": {"mon": ["08:00-12:00", "11:00-13:00"]}}, "overlap"),
        ({"timezone": "Mars/Olympus"}, "unknown time zone"),
        ({"holiday_country": "XX"}, "holidays are not known"),
        ({"deviations": [{"status": "maybe"}]}, "calendar.deviations[0].status"),
        ({"deviations": [{"status": "open", "prompt": {"sv": "x"}}]}, "only a closed"),
        ({"deviations": [{"status": "closed", "date_from": "2025-01-02"}]}, "together"),
        ({"deviations": [{"status": "closed", "recurring": True}]}, "recurring needs"),
        ({"deviations": [{"status": "closed", "time": "25:00-26:00"}]}, "out of range"),
        ({"opening": {}}, "calendar.opening"),
    ],
)
def test_bad_config_is_refused_with_field_and_reason(data: dict, fragment: str) -> None:
    with pytest.raises(CalendarConfigError) as info:
        Calendar.from_dict(data)
    assert fragment in str(info.value)


def test_naive_datetime_is_refused_clearly() -> None:
    with pytest.raises(ValueError, match="aware datetime"):
        cal().status(datetime(2025, 3, 12, 10, 0))


# --- holidays that fall on Sundays and eves that move with the year


@pytest.mark.parametrize(
    ("day", "name"), [("2025-04-20", "Påskdagen"), ("2026-04-05", "Påskdagen")]
)
def test_easter_day_is_closed_even_with_sunday_hours(day: str, name: str) -> None:
    decision = cal(hours={"sun": ["10:00-14:00"]}).status(at(f"{day} 11:00"))
    assert not decision.open and decision.holiday_name == name


def test_customary_eves_are_closed_by_default_setting() -> None:
    assert CalendarConfig().closed_on_customary_eves is True


@pytest.mark.parametrize("day", ["2024-06-21", "2026-06-19", "2027-06-25"])
def test_midsummer_eve_is_the_friday_from_19_to_25_june_and_closed(day: str) -> None:
    decision = cal().status(at(f"{day} 10:00"))
    assert not decision.open and decision.holiday_name == "Midsommarafton"
    week_before = (datetime.fromisoformat(day) - timedelta(days=7)).date().isoformat()
    assert cal().is_open(at(f"{week_before} 10:00"))  # an ordinary Friday


def test_christmas_eve_open_morning_deviation_then_closed() -> None:
    morning = {"status": "open", "date": "2025-12-24", "recurring": True, "time": "09:00-12:00"}
    c = cal(deviations=[morning])
    assert c.is_open(at("2026-12-24 10:00"))
    afternoon = c.status(at("2026-12-24 13:00"))
    assert not afternoon.open and afternoon.holiday_name == "Julafton"


def test_lunch_closed_on_a_queues_own_calendar_only() -> None:
    cals = CalendarSet.from_config(
        base={"hours": WEEKDAYS_8_17},
        queues={"support": {"hours": WEEKDAYS_8_17, "deviations": [LUNCH]}},
    )
    noon = at("2025-03-12 12:30")
    assert not cals.status("support", noon).open
    assert cals.status("sales", noon).open


# --- weekly deviations and holidays

LATE_THURSDAY = {
    "status": "open",
    "name": "late thursday",
    "weekdays": ["thu"],
    "time": "17:00-20:00",
}


def test_weekly_open_deviation_does_not_open_a_holiday_on_that_weekday() -> None:
    c = cal(deviations=[LATE_THURSDAY])
    decision = c.status(at("2025-05-29 18:00"))  # Ascension Day, a Thursday
    assert not decision.open
    assert decision.rule == "holiday"
    assert decision.holiday_name == "Kristi himmelsfärdsdag"
    assert decision.skipped_on_holiday == (0,)
    assert decision.detail == (
        "holiday: Kristi himmelsfärdsdag (deviation 1 (late thursday) does not apply on holidays)"
    )
    assert c.is_open(at("2025-05-22 18:00"))  # an ordinary Thursday still opens late


def test_weekly_open_deviation_does_not_open_a_customary_eve() -> None:
    c = cal(deviations=[LATE_THURSDAY])
    assert not c.is_open(at("2026-12-24 18:00"))  # Christmas Eve, a Thursday
    assert c.next_change(at("2026-12-24 18:00")) == at("2026-12-28 08:00")


def test_weekly_closed_deviation_gives_way_to_the_holiday_and_its_message() -> None:
    lunch = dict(LUNCH, prompt={"sv": "lunch-sv"})
    decision = cal(deviations=[lunch]).status(at("2025-05-29 12:30"))
    assert not decision.open and decision.rule == "holiday" and decision.prompt is None


def test_deviation_with_on_holidays_applies_on_holidays_too() -> None:
    c = cal(deviations=[dict(LATE_THURSDAY, on_holidays=True)])
    decision = c.status(at("2025-05-29 18:00"))
    assert decision.open and decision.rule == "deviation"
    assert decision.holiday_name == "Kristi himmelsfärdsdag"


def test_a_deviation_that_names_the_date_applies_on_the_holiday() -> None:
    eve = {"status": "open", "date": "2024-12-24", "recurring": True, "time": "09:00-12:00"}
    assert cal(deviations=[eve]).is_open(at("2026-12-24 10:00"))
    assert not cal(deviations=[dict(eve, on_holidays=False)]).is_open(at("2026-12-24 10:00"))


def test_a_date_range_is_not_a_named_date_and_gives_way_to_holidays() -> None:
    summer = {
        "status": "open",
        "name": "summer evenings",
        "date_from": "2025-06-01",
        "date_to": "2025-08-31",
        "time": "17:00-20:00",
    }
    c = cal(deviations=[summer])
    assert c.is_open(at("2025-06-19 18:00"))
    assert not c.is_open(at("2025-06-20 18:00"))  # Midsummer Eve
    assert cal(deviations=[dict(summer, on_holidays=True)]).is_open(at("2025-06-20 18:00"))


def test_a_later_deviation_still_decides_after_one_is_skipped_on_a_holiday() -> None:
    eve = {"status": "open", "name": "eve", "date": "2026-12-24", "time": "17:00-19:00"}
    decision = cal(deviations=[LATE_THURSDAY, eve]).status(at("2026-12-24 18:00"))
    assert decision.open and decision.deviation_index == 1


def test_without_closed_holidays_weekly_deviations_apply_every_week() -> None:
    c = cal(deviations=[LATE_THURSDAY], closed_on_holidays=False)
    assert c.is_open(at("2025-05-29 18:00"))


def test_on_holidays_must_be_true_or_false() -> None:
    with pytest.raises(CalendarConfigError, match=r"deviations\[0\]\.on_holidays"):
        cal(deviations=[dict(LATE_THURSDAY, on_holidays="sometimes")])
