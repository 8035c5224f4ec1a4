"""Position announcements and estimated wait time (SPEC S2 step 5)."""

from __future__ import annotations

import pytest

from acd import AnnouncePosition, Call, estimated_wait
from acd.ewt import AhtTracker
from tests.acd.helpers import make_acd, of_type


def test_estimated_wait_is_position_times_aht_over_staffed_agents() -> None:
    assert estimated_wait(3, 2, 120.0) == pytest.approx(180.0)
    assert estimated_wait(1, 0, 120.0) is None
    with pytest.raises(ValueError, match="position"):
        estimated_wait(0, 1, 120.0)


def test_aht_uses_default_until_calls_are_seen_then_a_rolling_mean() -> None:
    t = AhtTracker(default_aht=180, window=2)
    assert t.aht == 180
    t.add(100)
    t.add(200)
    t.add(400)  # the first one drops out of the window
    assert t.aht == pytest.approx(300)


def test_waiting_callers_hear_position_and_wait_every_interval() -> None:
    acd = make_acd(2, announce_interval=30, default_aht=120)
    acd.call_arrived(Call("c0", "q"), now=0)
    acd.call_arrived(Call("c1", "q"), now=0)
    acd.offer_answered("c0", "a0", now=1)
    acd.offer_answered("c1", "a1", now=1)
    acd.call_arrived(Call("w1", "q"), now=10)
    acd.call_arrived(Call("w2", "q"), now=20)
    assert acd.next_deadline() == 40
    (first,) = of_type(acd.tick(now=40), AnnouncePosition)
    assert (first.call.id, first.position) == ("w1", 1)
    assert first.estimated_wait == pytest.approx(1 * 120 / 2)
    (second,) = of_type(acd.tick(now=50), AnnouncePosition)
    assert (second.call.id, second.position) == ("w2", 2)
    assert second.estimated_wait == pytest.approx(2 * 120 / 2)
    assert acd.next_deadline() == 70


def test_estimate_follows_measured_handle_times() -> None:
    acd = make_acd(1, default_aht=600, wrap_up=10)
    acd.call_arrived(Call("c0", "q"), now=0)
    acd.offer_answered("c0", "a0", now=0)
    acd.call_ended("c0", now=50)
    acd.tick(now=60)  # talk 50 + wrap-up 10
    assert acd.average_handle_time("q") == pytest.approx(60)
    acd.call_arrived(Call("c1", "q"), now=61)
    acd.offer_answered("c1", "a0", now=61)
    acd.call_arrived(Call("w", "q"), now=62)
    assert acd.estimated_wait("w") == pytest.approx(60)


def test_no_estimate_when_no_agent_is_staffed() -> None:
    acd = make_acd(1, announce_interval=10)
    acd.agent_pause("a0", "x", now=0)
    acd.call_arrived(Call("w", "q"), now=0)
    (ann,) = of_type(acd.tick(now=10), AnnouncePosition)
    assert ann.estimated_wait is None
