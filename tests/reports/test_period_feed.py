"""PeriodFeed: which events of the stored log go into a report of [start, end)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from calllog import AGENT_CALL_ID, CallEvent
from reports import PeriodFeed, Rollup

STHLM = ZoneInfo("Europe/Stockholm")


def at(hh: int, mm: int) -> datetime:
    return datetime(2026, 12, 1, hh, mm, tzinfo=STHLM)


def feed(events: list[CallEvent], start: datetime, end: datetime) -> Rollup:
    rollup = Rollup(STHLM, "hour")
    f = PeriodFeed(start, end)
    for event in events:
        taken = f.take(event, rollup)
        if taken is None:
            break
        for e in taken:
            rollup.add(e)
    for e in f.finish(rollup):
        rollup.add(e)
    return rollup


def test_an_idle_agent_counts_to_the_end_when_the_next_event_comes_after_it() -> None:
    # Regression: with no call live, the first event after the end stopped the feed and
    # the end marker made for it was dropped: a0's ready time from 10:00 to 11:00 was lost.
    events = [
        CallEvent(AGENT_CALL_ID, "login", at(10, 0), agent="a0", data={"device": "sip:a0"}),
        CallEvent(AGENT_CALL_ID, "login", at(11, 5), agent="a1", data={"device": "sip:a1"}),
    ]
    (fig,) = feed(events, at(10, 0), at(11, 0)).agent_figures()
    assert fig.agent == "a0" and fig.ready == 3600.0, fig


def test_the_same_when_the_log_ends_inside_the_period() -> None:
    events = [CallEvent(AGENT_CALL_ID, "login", at(10, 0), agent="a0", data={})]
    (fig,) = feed(events, at(10, 0), at(11, 0)).agent_figures()
    assert fig.ready == 3600.0, fig
