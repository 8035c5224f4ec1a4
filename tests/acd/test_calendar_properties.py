"""Properties of `Calendar.next_change` over random moments (virtual time)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from acd.calendar import Calendar

CAL = Calendar.from_dict(
    {
        "hours": {
            "mon": ["08:00-12:00", "13:00-17:00"],
            "wed": ["08:00-17:00"],
            "fri": ["08:00-17:00"],
            "sun": ["02:30-05:00"],  # touches the DST change hours
        },
        "deviations": [
            {"status": "closed", "weekdays": ["fri"], "time": "15:00-24:00"},
            {"status": "open", "weekdays": ["wed"], "time": "17:00-20:00"},
            {"status": "open", "date": "2025-12-24", "recurring": True, "time": "09:00-12:00"},
        ],
    }
)
START = datetime(2025, 1, 1, tzinfo=UTC)
moments = st.integers(min_value=0, max_value=2 * 366 * 24 * 3600).map(
    lambda s: START + timedelta(seconds=s)
)


@settings(max_examples=60, deadline=None)
@given(at=moments, fractions=st.lists(st.floats(0, 1, exclude_max=True), max_size=5))
def test_status_holds_until_next_change_and_flips_there(
    at: datetime, fractions: list[float]
) -> None:
    now = CAL.status(at).open
    change = CAL.next_change(at, horizon_days=30)
    assert change is not None  # this calendar opens and closes every week
    assert change > at
    assert CAL.status(change).open != now
    span_us = (change - at) // timedelta(microseconds=1)
    for f in fractions:
        between = at + timedelta(microseconds=min(int(span_us * f), span_us - 1))
        assert CAL.status(between).open == now
    # Just before the change the old status still holds.
    before = change - timedelta(seconds=1)
    if before > at:
        assert CAL.status(before).open == now
