"""An offer that fails at once (the trunk says 404) must not spin on one agent.

Before the fix the ACD re-offered the call to the same agent in the same
event, so five immediate failures logged the agent out within milliseconds.
"""

from __future__ import annotations

import pytest

from acd import AcdConfigError, AgentLoggedOut, AgentState, Call, QueueConfig
from tests.acd.helpers import logs, make_acd, of_type, offers


def test_failed_offer_waits_before_the_same_agent_is_tried_again() -> None:
    acd = make_acd(1, failed_offer_retry=5)
    (first,) = offers(acd.call_arrived(Call("c1", "q"), now=10))
    cmds = acd.offer_failed("c1", "a0", now=10.005, reason="failed: 404 Not Found")
    assert not offers(cmds), "re-offered to the agent whose device just failed"
    (failed,) = logs(cmds, "offer_failed")
    assert failed.data["reason"] == "failed: 404 Not Found"
    assert failed.data["retry_at"] == pytest.approx(15.005)
    assert acd.agent_view("a0").state is AgentState.READY
    assert [c.id for c in acd.waiting()] == ["c1"]
    assert acd.next_deadline() == pytest.approx(15.005)
    assert not offers(acd.tick(now=15.0))
    (again,) = offers(acd.tick(now=15.005))
    assert (again.call.id, again.agent) == ("c1", "a0")


def test_other_agents_are_tried_while_the_failed_one_waits() -> None:
    acd = make_acd(2, failed_offer_retry=5)
    (first,) = offers(acd.call_arrived(Call("c1", "q"), now=10))
    cmds = acd.offer_failed("c1", first.agent, now=10.01, reason="failed: 404 Not Found")
    (second,) = offers(cmds)
    assert second.agent != first.agent


def test_failed_agent_still_takes_other_calls_meanwhile() -> None:
    acd = make_acd(1, failed_offer_retry=5)
    acd.call_arrived(Call("c1", "q"), now=10)
    acd.offer_failed("c1", "a0", now=10.01, reason="failed: 404 Not Found")
    (offer,) = offers(acd.call_arrived(Call("c2", "q"), now=11))
    assert offer.call.id == "c2"


def test_immediate_failures_do_not_log_the_agent_out_in_milliseconds() -> None:
    acd = make_acd(1, failed_offer_retry=5)
    acd.call_arrived(Call("c1", "q"), now=0)
    now = 0.0
    while True:
        now += 0.005  # the trunk answers every INVITE with 404 within milliseconds
        cmds = acd.offer_failed("c1", "a0", now=now, reason="failed: 404 Not Found")
        if of_type(cmds, AgentLoggedOut):
            break
        if not offers(cmds):
            deadline = acd.next_deadline()
            assert deadline is not None
            now = deadline
            assert offers(acd.tick(now=now))
    assert now >= 20  # four waits of 5 s between the five failures


def test_rejected_offer_is_not_held_back() -> None:
    acd = make_acd(1, failed_offer_retry=5)
    acd.call_arrived(Call("c1", "q"), now=0)
    assert offers(acd.offer_rejected("c1", "a0", now=1))


def test_zero_failed_offer_retry_retries_at_once() -> None:
    acd = make_acd(1, failed_offer_retry=0)
    acd.call_arrived(Call("c1", "q"), now=0)
    assert offers(acd.offer_failed("c1", "a0", now=0.01))


def test_a_new_login_on_another_device_lifts_the_wait() -> None:
    acd = make_acd(1, failed_offer_retry=5)
    acd.call_arrived(Call("c1", "q"), now=0)
    acd.offer_failed("c1", "a0", now=0.01, reason="failed: 404 Not Found")
    (offer,) = offers(acd.agent_login("a0", "sip:a0@desk", now=1))
    assert offer.device == "sip:a0@desk"


@pytest.mark.parametrize("bad", [-1, "five", float("inf"), True])
def test_failed_offer_retry_must_be_seconds(bad: object) -> None:
    with pytest.raises(AcdConfigError, match="failed_offer_retry: expected seconds"):
        QueueConfig(id="q", answer_groups=("g",), failed_offer_retry=bad)  # type: ignore[arg-type]
