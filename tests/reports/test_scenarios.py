"""Hand-made call logs with known figures: DST days, a call across midnight, short
abandons, overflows, closed calls, MOS, pauses and wrap-up (docs/statistics.md)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from calllog import AGENT_CALL_ID, CallEvent
from reports import Periods, QueueRules, Rollup

STHLM = ZoneInfo("Europe/Stockholm")


def local(text: str, fold: int = 0) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=STHLM, fold=fold)


def ev(at: datetime, call: str, kind: str, queue: str | None = None, agent: str | None = None,
       **data: Any) -> CallEvent:  # fmt: skip
    return CallEvent(call, kind, at=at, queue=queue, agent=agent, data=data or None)


def agent_ev(at: datetime, kind: str, agent: str, **data: Any) -> CallEvent:
    return ev(at, AGENT_CALL_ID, kind, agent=agent, **data)


def answered_call(
    call: str, at: datetime, wait: float, talk: float, agent: str = "a0", queue: str = "q",
    wrap: float = 0.0, mos: float | None = 4.2,
) -> list[CallEvent]:  # fmt: skip
    """The events of a call that waits ``wait`` s, talks ``talk`` s, then ``wrap`` s wrap-up."""
    at = at.astimezone(UTC)  # real seconds (aware arithmetic in a zone is wall-clock)
    ans = at + timedelta(seconds=wait)
    end = ans + timedelta(seconds=talk)
    out = [
        ev(at, call, "incoming", queue),
        ev(at, call, "arrived", queue),
        ev(at, call, "queued", queue),
        ev(at, call, "offered", queue, agent),
        ev(ans, call, "answered", queue, agent),
        ev(ans, call, "bridged", queue, agent),
        ev(end, call, "ended", queue, agent, talk=talk, reason="caller hung up"),
    ]
    if wrap:
        out.append(ev(end, call, "wrap_up_started", queue, agent))
    out.append(ev(end, call, "hangup", queue, agent, mos=mos))
    if wrap:
        out.append(ev(end + timedelta(seconds=wrap), call, "wrap_up_ended", queue, agent))
    return out


def abandoned_call(call: str, at: datetime, wait: float, queue: str = "q") -> list[CallEvent]:
    at = at.astimezone(UTC)
    gone = at + timedelta(seconds=wait)
    return [
        ev(at, call, "incoming", queue),
        ev(at, call, "arrived", queue),
        ev(at, call, "queued", queue),
        ev(gone, call, "abandoned", queue, wait=wait, queue_wait=wait),
        ev(gone, call, "hangup", queue, mos=4.4),
    ]


def rollup(events: list[CallEvent], interval: str = "hour", **kw: Any) -> Rollup:
    r = Rollup("Europe/Stockholm", interval, **kw)
    r.add_all(sorted(events, key=lambda e: e.at.timestamp()))
    return r


def one(figures: list) -> Any:  # noqa: ANN401
    assert len(figures) == 1, figures
    return figures[0]


# --- intervals ------------------------------------------------------------------------------


def test_the_spring_dst_day_has_23_hours_and_no_hour_two() -> None:
    p = Periods("Europe/Stockholm", "day")
    lo, hi = p.bounds(local("2026-03-29T12:00").timestamp())
    assert (hi - lo) / 3600 == 23
    hours = Periods("Europe/Stockholm", "hour")
    lo, hi = hours.bounds(local("2026-03-29T01:30").timestamp())
    assert hours.local(hi).isoformat() == "2026-03-29T03:00:00+02:00"
    assert hi - lo == 3600


def test_the_autumn_dst_day_has_25_hours_and_hour_two_twice() -> None:
    p = Periods("Europe/Stockholm", "day")
    lo, hi = p.bounds(local("2026-10-25T12:00").timestamp())
    assert (hi - lo) / 3600 == 25
    hours = Periods("Europe/Stockholm", "hour")
    first = hours.bounds(local("2026-10-25T02:30", fold=0).timestamp())
    second = hours.bounds(local("2026-10-25T02:30", fold=1).timestamp())
    assert first[1] == second[0] and second[1] - second[0] == 3600
    assert hours.local(first[0]).isoformat() == "2026-10-25T02:00:00+02:00"
    assert hours.local(second[0]).isoformat() == "2026-10-25T02:00:00+01:00"


def test_weeks_start_on_monday_and_months_on_the_first_in_local_time() -> None:
    w = Periods("Europe/Stockholm", "week")
    lo, hi = w.bounds(local("2026-10-28T10:00").timestamp())  # a Wednesday
    assert w.local(lo).isoformat() == "2026-10-26T00:00:00+01:00"
    m = Periods("Europe/Stockholm", "month")
    lo, hi = m.bounds(local("2026-10-31T23:59").timestamp())
    assert m.local(lo).isoformat() == "2026-10-01T00:00:00+02:00"
    assert m.local(hi).isoformat() == "2026-11-01T00:00:00+01:00"
    assert (hi - lo) / 3600 == 31 * 24 + 1
    q = Periods("Europe/Stockholm", "15min")
    lo, hi = q.bounds(local("2026-10-28T10:44:59").timestamp())
    assert q.local(lo).isoformat() == "2026-10-28T10:30:00+01:00" and hi - lo == 900


def test_calls_in_the_repeated_autumn_hour_land_in_two_hours_and_one_25_hour_day() -> None:
    events = answered_call("c1", local("2026-10-25T02:10", fold=0), 5, 60) + answered_call(
        "c2", local("2026-10-25T02:10", fold=1), 30, 60, agent="a1"
    )
    hours = rollup(events).queue_figures()
    assert [(f.start.isoformat(), f.offered, f.answered_within) for f in hours] == [
        ("2026-10-25T02:00:00+02:00", 1, 1),
        ("2026-10-25T02:00:00+01:00", 1, 0),
    ]
    day = one(rollup(events, "day").queue_figures())
    assert (day.offered, day.answered, day.answered_within) == (2, 2, 1)
    assert day.end.timestamp() - day.start.timestamp() == 25 * 3600  # not wall-clock -


def test_a_call_across_the_spring_jump_belongs_to_the_hour_of_its_arrival() -> None:
    # Arrives 01:59:50 (+01:00), answered 10 s later at 03:00:00 (+02:00): within 20 s.
    events = answered_call("c1", local("2026-03-29T01:59:50"), 10, 120)
    f = one(rollup(events).queue_figures())
    assert f.start.isoformat() == "2026-03-29T01:00:00+01:00"
    assert f.end.isoformat() == "2026-03-29T03:00:00+02:00"
    assert (f.offered, f.answered_within, f.asa, f.talk) == (1, 1, 10.0, 120.0)


def test_an_agent_logged_in_the_whole_spring_day_has_23_hours() -> None:
    events = [
        agent_ev(local("2026-03-29T00:00"), "login", "a0"),
        agent_ev(local("2026-03-30T00:00"), "logout", "a0", reason="logged out"),
    ]
    days = rollup(events, "day").agent_figures()
    assert [(d.start.date().isoformat(), d.logged_in / 3600) for d in days] == [
        ("2026-03-29", 23.0)
    ]
    hours = rollup(events, "hour").agent_figures()
    assert len(hours) == 23 and all(h.ready == 3600 for h in hours)


# --- midnight -------------------------------------------------------------------------------


def test_a_call_across_midnight_counts_on_its_arrival_day_and_the_agent_time_is_cut() -> None:
    events = [agent_ev(local("2026-11-10T23:00"), "login", "a0")]
    events += answered_call("c1", local("2026-11-10T23:59:50"), 5, 305, wrap=30)
    events.append(agent_ev(local("2026-11-11T01:00"), "logout", "a0", reason="logged out"))
    q1, *rest = rollup(events, "day").queue_figures()
    assert not rest and q1.start.isoformat() == "2026-11-10T00:00:00+01:00"
    assert (q1.offered, q1.answered, q1.talk, q1.wrap_up, q1.average_handle_time) == (
        1, 1, 305.0, 30.0, 335.0,
    )  # fmt: skip
    d1, d2 = rollup(events, "day").agent_figures()
    assert (d1.ringing, d1.busy, d1.answered, d1.talk) == (5.0, 5.0, 1, 305.0)
    assert (d2.busy, d2.wrap_up, d2.answered) == (300.0, 30.0, 0)
    assert d1.logged_in == 3600 and d2.logged_in == 3600


# --- abandons and service level -------------------------------------------------------------


def test_a_short_abandon_is_counted_apart_and_left_out_of_the_default_service_level() -> None:
    t = local("2026-11-10T10:00")
    events = answered_call("c1", t, 10, 60)
    events += abandoned_call("c2", t + timedelta(minutes=1), 3)  # short (< 5 s)
    events += abandoned_call("c3", t + timedelta(minutes=2), 30)
    f = one(rollup(events).queue_figures())
    assert (f.offered, f.abandoned, f.abandoned_short, f.abandoned_within) == (3, 2, 1, 1)
    assert f.service_level == 1 / 2  # answered within / (offered - short abandons)
    assert f.service_level_offered == 1 / 3
    assert f.service_level_answered == 1.0
    assert f.service_level_excluding_abandoned_within == 1 / 2
    assert f.abandon_rate == 1 / 2
    assert f.average_abandon_wait == 16.5
    assert (f.average_wait, f.longest_wait) == (pytest.approx(43 / 3), 30.0)


def test_the_thresholds_are_per_queue() -> None:
    t = local("2026-11-10T10:00")
    events = answered_call("c1", t, 25, 60) + abandoned_call("c2", t, 7)
    rules = {"q": QueueRules(service_level_seconds=30, short_abandon_seconds=10)}
    f = one(rollup(events, rules=rules).queue_figures())
    assert (f.answered_within, f.abandoned_short, f.service_level) == (1, 1, 1.0)
    f = one(rollup(events).queue_figures())
    assert (f.answered_within, f.abandoned_short, f.service_level) == (0, 0, 0.0)


def test_an_answer_exactly_at_the_threshold_is_within_it() -> None:
    f = one(rollup(answered_call("c1", local("2026-11-10T10:00"), 20, 60)).queue_figures())
    assert f.answered_within == 1


# --- overflows, closed, voicemail, MOS ----------------------------------------------------


def test_an_overflow_counts_out_in_the_first_queue_and_in_in_the_second() -> None:
    t = local("2026-11-10T10:59:30")
    t2 = t + timedelta(seconds=60)
    t3 = t2 + timedelta(seconds=10)
    events = [
        ev(t, "c1", "incoming", "q"),
        ev(t, "c1", "arrived", "q"),
        ev(t, "c1", "queued", "q"),
        ev(t2, "c1", "overflowed", "q", reason="max wait", to="q2", wait=60.0, queue_wait=60.0),
        ev(t2, "c1", "queued", "q2"),
        ev(t2, "c1", "offered", "q2", "a0"),
        ev(t3, "c1", "answered", "q2", "a0"),
        ev(t3 + timedelta(seconds=90), "c1", "ended", "q2", "a0"),
        ev(t3 + timedelta(seconds=90), "c1", "hangup", "q2", "a0", mos=4.0),
    ]
    q, q2 = rollup(events).queue_figures()
    assert q.queue == "q" and q.start.hour == 10
    assert (q.offered, q.overflow_out, q.answered, q.longest_wait, q.service_level) == (
        1, 1, 0, 60.0, 0.0,
    )  # fmt: skip
    assert q2.queue == "q2" and q2.start.hour == 11  # it entered q2 at 11:00:30
    assert (q2.offered, q2.overflow_in, q2.answered_within, q2.asa, q2.talk) == (
        1, 1, 1, 10.0, 90.0,
    )  # fmt: skip
    assert q2.mos_mean == 4.0 and q.mos_calls == 0


def test_an_overflow_to_voicemail_counts_out_and_the_voicemail_in_the_queue() -> None:
    t = local("2026-11-10T10:00")
    t2 = t + timedelta(seconds=120)
    events = [
        ev(t, "c1", "incoming", "q"),
        ev(t, "c1", "arrived", "q"),
        ev(t, "c1", "queued", "q"),
        ev(t2, "c1", "overflowed", "q", reason="max wait", to="voicemail"),
        ev(t2, "c1", "overflow_routed", "q", reason="max wait", to="voicemail"),
        ev(t2 + timedelta(seconds=40), "c1", "voicemail_stored", "q"),
        ev(t2 + timedelta(seconds=41), "c1", "hangup", "q", mos=4.3),
    ]
    f = one(rollup(events).queue_figures())
    assert (f.offered, f.overflow_out, f.voicemails, f.overflow_in) == (1, 1, 1, 0)


def test_a_closed_call_counts_in_the_interval_of_its_arrival() -> None:
    t = local("2026-11-10T17:59:59")
    events = [
        ev(t, "c1", "incoming", "q"),
        ev(t + timedelta(seconds=2), "c1", "closed", "q", rule="weekly"),
        ev(t + timedelta(seconds=9), "c1", "hangup", "q"),
    ]
    r = rollup(events)
    f = one(r.queue_figures())
    assert (f.start.hour, f.closed, f.offered) == (17, 1, 0)
    assert r.live_calls() == 0


def test_mos_mean_and_share_below_3_1_over_answered_calls() -> None:
    t = local("2026-11-10T10:00")
    events = answered_call("c1", t, 5, 60, mos=2.9) + answered_call(
        "c2", t + timedelta(minutes=5), 5, 60, mos=4.2
    )
    events += answered_call("c3", t + timedelta(minutes=10), 5, 60, mos=None)
    events += abandoned_call("c4", t, 9)  # its MOS is not a conversation's
    f = one(rollup(events).queue_figures())
    assert (f.mos_calls, f.mos_low) == (2, 1)
    assert f.mos_mean == pytest.approx(3.55) and f.mos_low_share == 0.5


# --- agents ---------------------------------------------------------------------------------


def test_pause_time_by_reason_is_cut_at_the_hour() -> None:
    events = [
        agent_ev(local("2026-11-10T09:50"), "login", "a0"),
        agent_ev(local("2026-11-10T09:55"), "pause", "a0", reason="lunch"),
        agent_ev(local("2026-11-10T10:25"), "ready", "a0"),
        agent_ev(local("2026-11-10T10:30"), "pause", "a0", reason="meeting"),
        agent_ev(local("2026-11-10T10:40"), "logout", "a0", reason="logged out"),
    ]
    h9, h10 = rollup(events).agent_figures()
    assert (h9.ready, h9.paused, h9.paused_by_reason) == (300.0, 300.0, {"lunch": 300.0})
    assert h10.paused_by_reason == {"lunch": 1500.0, "meeting": 600.0}
    assert (h10.ready, h10.logged_in, h10.occupancy) == (300.0, 2400.0, 0.0)


def test_logging_out_in_wrap_up_ends_the_wrap_up() -> None:
    t = local("2026-11-10T10:00")
    events = [agent_ev(t, "login", "a0")]
    events += answered_call("c1", t, 5, 60, wrap=600)[:-1]  # no wrap_up_ended ...
    out = t + timedelta(seconds=65 + 20)
    events.append(agent_ev(out, "logout", "a0", reason="logged out"))  # ... a logout
    r = rollup(events)
    f = one(r.queue_figures())
    assert (f.wrap_up, f.wrap_ups, f.average_handle_time) == (20.0, 1, 80.0)
    a = one(r.agent_figures())
    assert (a.ringing, a.busy, a.wrap_up, a.logged_in) == (5.0, 60.0, 20.0, 85.0)
    assert r.live_calls() == 0


def test_offers_no_answers_declines_and_the_unanswered_logout() -> None:
    t = local("2026-11-10T10:00")
    s = timedelta(seconds=1)
    events = [
        agent_ev(t, "login", "a0"),
        ev(t, "c1", "incoming", "q"),
        ev(t, "c1", "arrived", "q"),
        ev(t, "c1", "offered", "q", "a0"),
        ev(t + 20 * s, "c1", "no_answer", "q", "a0"),
        ev(t + 20 * s, "c1", "offered", "q", "a0"),
        ev(t + 22 * s, "c1", "rejected", "q", "a0", reason="rejected: 486 Busy Here"),
        agent_ev(t + 22 * s, "logout", "a0", reason="5 unanswered offers in a row"),
        ev(t + 30 * s, "c1", "abandoned", "q"),
        ev(t + 30 * s, "c1", "hangup", "q"),
    ]
    a = one(rollup(events).agent_figures())
    assert (a.offers, a.no_answers, a.declined, a.unanswered_logouts) == (2, 1, 1, 1)
    assert (a.ringing, a.ready, a.logged_in) == (22.0, 0.0, 22.0)


def test_an_agent_still_logged_in_counts_up_to_the_last_event() -> None:
    t = local("2026-11-10T10:00")
    events = [agent_ev(t, "login", "a0"), agent_ev(t + timedelta(seconds=90), "login", "a1")]
    r = rollup(events)
    assert [a.ready for a in r.agent_figures()] == [90.0]  # a1 has no time yet
    r.add(agent_ev(t + timedelta(seconds=100), "logout", "a1", reason="logged out"))
    assert [a.ready for a in r.agent_figures()] == [100.0, 10.0]


# --- answering points and errors ------------------------------------------------------------


def test_queues_sum_up_to_an_answering_point() -> None:
    t = local("2026-11-10T10:00")
    events = answered_call("c1", t, 5, 60) + answered_call("c2", t, 40, 60, queue="q2",
                                                            agent="a1")  # fmt: skip
    events += abandoned_call("c3", t, 50, queue="other")
    point = one(rollup(events).queue_figures(group_by={"q": "north", "q2": "north"}))
    assert (point.queue, point.offered, point.answered_within, point.longest_wait) == (
        "north", 2, 1, 40.0,
    )  # fmt: skip
    assert point.service_level == 0.5


def test_events_out_of_order_are_refused_naming_the_event() -> None:
    r = Rollup("Europe/Stockholm")
    r.add(agent_ev(local("2026-11-10T10:00"), "login", "a0"))
    with pytest.raises(ValueError, match="time order: login of -"):
        r.add(agent_ev(local("2026-11-10T09:00"), "login", "a0"))


def test_bad_settings_say_what_to_give() -> None:
    with pytest.raises(ValueError, match="IANA zone name"):
        Rollup("Mars/Olympus")
    with pytest.raises(ValueError, match="expected one of 15min, hour, day, week, month"):
        Rollup("UTC", "fortnight")
    with pytest.raises(ValueError, match="service_level_seconds: expected seconds"):
        QueueRules(service_level_seconds=-1)


def test_logging_in_again_during_wrap_up_keeps_the_wrap_up() -> None:
    t = local("2026-11-10T10:00")
    events = [agent_ev(t, "login", "a0")]
    events += answered_call("c1", t, 5, 60, wrap=30)
    events.append(agent_ev(t + timedelta(seconds=75), "login", "a0", replaced=True))
    events.sort(key=lambda e: e.at.timestamp())
    a = one(rollup(events).agent_figures())
    assert (a.busy, a.wrap_up, a.ready) == (60.0, 30.0, 0.0)
