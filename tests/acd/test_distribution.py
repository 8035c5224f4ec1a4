"""Who gets which call, in which order (SPEC S2 step 6, S3)."""

from __future__ import annotations

import pytest

from acd import AgentLoggedOut, AgentState, Call, QueueConfig, Strategy
from tests.acd.helpers import cancels, logs, make_acd, of_type, offers


def test_call_is_offered_to_a_ready_agent_with_the_queue_ring_timeout() -> None:
    acd = make_acd(1, ring_timeout=15)
    cmds = acd.call_arrived(Call("c1", "q", a_number="+46701"), now=10)
    (offer,) = offers(cmds)
    assert (offer.call.id, offer.agent, offer.device, offer.ring_timeout) == (
        "c1",
        "a0",
        "sip:a0@test",
        15,
    )
    assert offer.call.arrived_at == 10
    assert acd.agent_view("a0").state is AgentState.RINGING
    assert acd.next_deadline() == 25


def test_higher_priority_call_is_offered_first() -> None:
    acd = make_acd(1)
    acd.agent_pause("a0", "lunch", now=5)
    acd.call_arrived(Call("low", "q", priority=0), now=10)
    acd.call_arrived(Call("high", "q", priority=5), now=20)
    (offer,) = offers(acd.agent_ready("a0", now=30))
    assert offer.call.id == "high"


def test_equal_priority_calls_are_offered_in_arrival_order() -> None:
    acd = make_acd(1)
    acd.agent_pause("a0", "meeting", now=1)
    acd.call_arrived(Call("second", "q", arrived_at=8.0), now=12)
    acd.call_arrived(Call("first", "q", arrived_at=5.0), now=13)  # e.g. a callback
    assert [c.id for c in acd.waiting()] == ["first", "second"]
    (offer,) = offers(acd.agent_ready("a0", now=20))
    assert offer.call.id == "first"


def test_queue_priority_ranks_calls_across_queues_sharing_agents() -> None:
    queues = [
        QueueConfig(id="normal", answer_groups=("g",), priority=0),
        QueueConfig(id="vip", answer_groups=("g",), priority=10),
    ]
    acd = make_acd(1, queues=queues)
    acd.agent_pause("a0", "x", now=1)
    acd.call_arrived(Call("n", "normal"), now=2)
    acd.call_arrived(Call("v", "vip"), now=3)
    (offer,) = offers(acd.agent_ready("a0", now=4))
    assert offer.call.id == "v"


def test_longest_idle_agent_gets_the_call() -> None:
    acd = make_acd(3, strategy=Strategy.LONGEST_IDLE)
    # a0 idle since 0, but finishes a call at 50: a1 (idle since 1) is now longest idle
    acd.call_arrived(Call("c0", "q"), now=10)
    acd.offer_answered("c0", "a0", now=11)
    acd.call_ended("c0", now=50)
    (offer,) = offers(acd.call_arrived(Call("c1", "q"), now=60))
    assert offer.agent == "a1"


def test_round_robin_rotates_through_agents() -> None:
    acd = make_acd(3, strategy=Strategy.ROUND_ROBIN)
    got = []
    for i in range(4):
        (offer,) = offers(acd.call_arrived(Call(f"c{i}", "q"), now=10 + i))
        got.append(offer.agent)
        acd.offer_answered(f"c{i}", offer.agent, now=10 + i)
        acd.call_ended(f"c{i}", now=10.5 + i)
    assert got == ["a0", "a1", "a2", "a0"]


def test_fewest_calls_prefers_agent_with_fewest_answered_calls() -> None:
    acd = make_acd(2, strategy=Strategy.FEWEST_CALLS)
    for i, agent in enumerate(["a0", "a1", "a0"]):
        acd.agent_pause("a1" if agent == "a0" else "a0", "force", now=10 * i)
        (offer,) = offers(acd.call_arrived(Call(f"c{i}", "q"), now=10 * i + 1))
        assert offer.agent == agent
        acd.offer_answered(f"c{i}", agent, now=10 * i + 2)
        acd.call_ended(f"c{i}", now=10 * i + 3)
        acd.agent_ready("a1" if agent == "a0" else "a0", now=10 * i + 4)
    # a0 answered 2, a1 answered 1; a0 is also the longest idle, yet a1 gets it
    assert acd.agent_view("a0").calls_answered == 2
    (offer,) = offers(acd.call_arrived(Call("c9", "q"), now=100))
    assert offer.agent == "a1"


def test_ordered_strategy_offers_lowest_level_first() -> None:
    acd = make_acd(3, strategy=Strategy.ORDERED, levels={"a0": 3, "a1": 1, "a2": 2})
    (offer,) = offers(acd.call_arrived(Call("c1", "q"), now=10))
    assert offer.agent == "a1"
    (offer,) = offers(acd.call_arrived(Call("c2", "q"), now=11))
    assert offer.agent == "a2"


def test_ring_all_first_answer_wins_and_cancels_others() -> None:
    acd = make_acd(3, strategy=Strategy.RING_ALL)
    cmds = acd.call_arrived(Call("c1", "q"), now=10)
    assert sorted(o.agent for o in offers(cmds)) == ["a0", "a1", "a2"]
    cmds = acd.offer_answered("c1", "a2", now=12)
    assert sorted((c.call.id, c.agent) for c in cancels(cmds)) == [("c1", "a0"), ("c1", "a1")]
    states = {v.id: v.state for v in acd.agents()}
    assert states == {"a0": AgentState.READY, "a1": AgentState.READY, "a2": AgentState.BUSY}
    # losing the race is not an unanswered offer
    assert acd.agent_view("a0").unanswered_in_row == 0


def test_ring_all_late_answer_from_cancelled_agent_is_cancelled_again() -> None:
    acd = make_acd(2, strategy=Strategy.RING_ALL)
    acd.call_arrived(Call("c1", "q"), now=10)
    acd.offer_answered("c1", "a0", now=11)
    cmds = acd.offer_answered("c1", "a1", now=11.1)
    assert [(c.call.id, c.agent) for c in cancels(cmds)] == [("c1", "a1")]
    assert logs(cmds, "late_answer")
    assert acd.agent_view("a0").state is AgentState.BUSY


def test_no_answer_returns_call_to_its_place_ahead_of_later_calls() -> None:
    acd = make_acd(1, ring_timeout=20)
    acd.call_arrived(Call("c1", "q"), now=10)
    acd.call_arrived(Call("c2", "q"), now=11)  # waits behind c1
    cmds = acd.tick(now=30)  # a0 did not answer c1
    assert [(c.call.id, c.agent) for c in cancels(cmds)] == [("c1", "a0")]
    assert logs(cmds, "no_answer")[0].agent == "a0"
    # c1 is offered again before c2, which keeps waiting
    assert [(o.call.id, o.agent) for o in offers(cmds)] == [("c1", "a0")]
    assert [c.id for c in acd.waiting()] == ["c2"]


def test_no_answer_moves_call_on_to_the_next_ready_agent() -> None:
    acd = make_acd(2, ring_timeout=20)
    acd.agent_pause("a1", "x", now=3)
    acd.call_arrived(Call("c1", "q"), now=10)  # rings a0
    acd.agent_ready("a1", now=15)
    cmds = acd.tick(now=30)
    # a0 has been longest idle, yet the call moves on to a1 who has not tried it
    assert [(o.call.id, o.agent) for o in offers(cmds)] == [("c1", "a1")]


def test_no_answer_with_no_one_else_ready_comes_back_to_same_agent() -> None:
    acd = make_acd(1, ring_timeout=20)
    acd.call_arrived(Call("c1", "q"), now=10)
    (offer,) = offers(acd.tick(now=30))
    assert (offer.call.id, offer.agent) == ("c1", "a0")
    assert acd.agent_view("a0").unanswered_in_row == 1


def test_fifth_unanswered_offer_logs_agent_out() -> None:
    acd = make_acd(1, ring_timeout=10)
    acd.call_arrived(Call("c1", "q"), now=0)
    for i in range(1, 5):
        acd.tick(now=10.0 * i)
        assert acd.agent_view("a0").state is AgentState.RINGING
    cmds = acd.tick(now=50)
    (out,) = of_type(cmds, AgentLoggedOut)
    assert out.agent == "a0" and out.reason == "5 unanswered offers in a row"
    assert acd.agent_view("a0").state is AgentState.OFFLINE
    assert [c.id for c in acd.waiting()] == ["c1"]


def test_answered_offer_resets_the_unanswered_count() -> None:
    acd = make_acd(1, ring_timeout=10)
    acd.call_arrived(Call("c1", "q"), now=0)
    for i in range(1, 5):
        acd.tick(now=10.0 * i)
    acd.offer_answered("c1", "a0", now=41)
    assert acd.agent_view("a0").unanswered_in_row == 0


def test_rejected_and_failed_offers_count_as_unanswered() -> None:
    # No wait after a failure here: that wait is tests/acd/test_failed_offers.py.
    acd = make_acd(1, failed_offer_retry=0)
    acd.call_arrived(Call("c1", "q"), now=0)
    for i in range(4):
        if i % 2:
            cmds = acd.offer_rejected("c1", "a0", now=i + 1)
        else:
            cmds = acd.offer_failed("c1", "a0", now=i + 1, reason="486 busy")
        assert offers(cmds), "offered again to the only agent"
    cmds = acd.offer_failed("c1", "a0", now=6)
    assert of_type(cmds, AgentLoggedOut)


def test_unanswered_action_pause_pauses_instead_of_logout() -> None:
    from acd import Acd, AgentConfig, AnswerGroup, GroupMembership

    acd = Acd(
        [QueueConfig(id="q", answer_groups=("g",), ring_timeout=5)],
        [AnswerGroup("g")],
        [AgentConfig(id="a", memberships=(GroupMembership("g"),))],
        max_unanswered=2,
        unanswered_action="pause",
    )
    acd.agent_login("a", "sip:a@x", now=0)
    acd.call_arrived(Call("c", "q"), now=0)
    acd.tick(now=5)
    acd.tick(now=10)
    view = acd.agent_view("a")
    assert view.state is AgentState.PAUSED
    assert view.pause_reason == "2 unanswered offers in a row"
    (offer,) = offers(acd.agent_ready("a", now=11))
    assert offer.call.id == "c"


def test_busy_agent_is_never_offered_a_second_call() -> None:
    acd = make_acd(1)
    acd.call_arrived(Call("call", "q"), now=0)
    acd.offer_answered("call", "a0", now=1)
    cmds = acd.call_arrived(Call("ticket", "q", channel="ticket"), now=2)
    assert offers(cmds) == []
    (offer,) = offers(acd.call_ended("call", now=3))
    assert offer.call.id == "ticket"


def test_agent_only_gets_calls_from_queues_of_groups_logged_into() -> None:
    from acd import Acd, AgentConfig, AnswerGroup, GroupMembership

    acd = Acd(
        [
            QueueConfig(id="sales", answer_groups=("s",)),
            QueueConfig(id="support", answer_groups=("t",)),
        ],
        [AnswerGroup("s"), AnswerGroup("t")],
        [AgentConfig(id="a", memberships=(GroupMembership("s"), GroupMembership("t")))],
    )
    acd.agent_login("a", "sip:a@x", ["t"], now=0)
    assert offers(acd.call_arrived(Call("c1", "sales"), now=1)) == []
    (offer,) = offers(acd.call_arrived(Call("c2", "support"), now=2))
    assert offer.call.id == "c2"


def test_abandoned_ringing_call_frees_the_agent() -> None:
    acd = make_acd(1)
    acd.call_arrived(Call("c1", "q"), now=0)
    cmds = acd.call_abandoned("c1", now=3)
    assert [(c.call.id, c.agent) for c in cancels(cmds)] == [("c1", "a0")]
    (ev,) = logs(cmds, "abandoned")
    assert ev.data["wait"] == 3
    assert acd.agent_view("a0").state is AgentState.READY
    assert acd.agent_view("a0").unanswered_in_row == 0
    assert acd.calls() == []


@pytest.mark.parametrize("strategy", list(Strategy))
def test_every_strategy_serves_the_best_waiting_call_first(strategy: Strategy) -> None:
    acd = make_acd(2, strategy=strategy)
    for a in ("a0", "a1"):
        acd.agent_pause(a, "x", now=0)
    acd.call_arrived(Call("old", "q"), now=1)
    acd.call_arrived(Call("new", "q"), now=2)
    acd.call_arrived(Call("vip", "q", priority=3), now=3)
    offered = {o.call.id for o in offers(acd.agent_ready("a0", now=4))}
    assert offered == {"vip"}
