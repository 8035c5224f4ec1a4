"""Agent states, login, pause, wrap-up and classification (SPEC S4)."""

from __future__ import annotations

import pytest

from acd import AcdError, AgentLoggedOut, AgentState, AgentStateChanged, Call
from tests.acd.helpers import cancels, logs, make_acd, of_type, offers


def _answer(acd, call_id: str, agent: str, now: float) -> None:
    acd.call_arrived(Call(call_id, "q"), now=now)
    acd.offer_answered(call_id, agent, now=now + 1)


def test_login_makes_agent_ready_and_reports_the_state_change() -> None:
    acd = make_acd(1, login=False)
    cmds = acd.agent_login("a0", "sip:a0@desk", now=5)
    (change,) = of_type(cmds, AgentStateChanged)
    assert (change.old, change.new, change.at) == (AgentState.OFFLINE, AgentState.READY, 5)
    assert acd.agent_view("a0").groups == frozenset({"g"})


def test_login_elsewhere_replaces_previous_login() -> None:
    acd = make_acd(1)
    acd.call_arrived(Call("c1", "q"), now=10)  # ringing on the desk phone
    cmds = acd.agent_login("a0", "+46701234567", now=11)
    (old,) = of_type(cmds, AgentLoggedOut)
    assert old.agent == "a0" and "+46701234567" in old.reason
    # the desk phone stops ringing and the call is offered on the new device
    assert [(c.call.id, c.agent) for c in cancels(cmds)] == [("c1", "a0")]
    (offer,) = offers(cmds)
    assert offer.device == "+46701234567"
    assert acd.agent_view("a0").device == "+46701234567"


def test_login_elsewhere_during_a_call_keeps_the_call() -> None:
    acd = make_acd(1)
    _answer(acd, "c1", "a0", 10)
    acd.agent_login("a0", "webrtc:a0", now=20)
    view = acd.agent_view("a0")
    assert (view.state, view.call_id, view.device) == (AgentState.BUSY, "c1", "webrtc:a0")


def test_login_to_a_group_the_agent_is_not_member_of_is_refused() -> None:
    acd = make_acd(1, login=False)
    with pytest.raises(AcdError, match="not a member of answer groups"):
        acd.agent_login("a0", "sip:x", ["other"], now=0)
    assert acd.agent_view("a0").state is AgentState.OFFLINE


def test_unknown_agent_is_a_clear_error() -> None:
    acd = make_acd(1)
    with pytest.raises(AcdError, match="unknown agent 'zz'"):
        acd.agent_ready("zz", now=0)


def test_pause_while_ringing_puts_the_call_back_without_counting_no_answer() -> None:
    acd = make_acd(1)
    acd.call_arrived(Call("c1", "q"), now=0)
    cmds = acd.agent_pause("a0", "coffee", now=2)
    assert cancels(cmds) and not offers(cmds)
    view = acd.agent_view("a0")
    assert (view.state, view.pause_reason, view.unanswered_in_row) == (
        AgentState.PAUSED,
        "coffee",
        0,
    )
    assert [c.id for c in acd.waiting()] == ["c1"]


def test_pause_during_a_call_starts_after_wrap_up() -> None:
    acd = make_acd(1, wrap_up=30)
    _answer(acd, "c1", "a0", 0)
    acd.agent_pause("a0", "lunch", now=5)
    assert acd.agent_view("a0").state is AgentState.BUSY
    acd.call_ended("c1", now=10)
    assert acd.agent_view("a0").state is AgentState.WRAP_UP
    acd.tick(now=40)
    view = acd.agent_view("a0")
    assert (view.state, view.pause_reason) == (AgentState.PAUSED, "lunch")


def test_logout_during_a_call_takes_effect_when_the_call_ends() -> None:
    acd = make_acd(1, wrap_up=30)
    _answer(acd, "c1", "a0", 0)
    acd.agent_logout("a0", now=5)
    assert acd.agent_view("a0").state is AgentState.BUSY
    acd.call_ended("c1", now=10)
    assert acd.agent_view("a0").state is AgentState.OFFLINE


def test_wrap_up_lasts_the_queue_wrap_up_time_then_ready() -> None:
    acd = make_acd(1, wrap_up=30)
    _answer(acd, "c1", "a0", 0)
    cmds = acd.call_ended("c1", now=100)
    assert logs(cmds, "wrap_up_started")[0].data["until"] == 130
    acd.call_arrived(Call("c2", "q"), now=110)
    assert acd.next_deadline() == 130
    (offer,) = offers(acd.tick(now=130))
    assert (offer.call.id, offer.agent) == ("c2", "a0")


def test_agent_can_end_wrap_up_early() -> None:
    acd = make_acd(1, wrap_up=30)
    _answer(acd, "c1", "a0", 0)
    acd.call_ended("c1", now=10)
    acd.wrap_up_done("a0", now=12)
    assert acd.agent_view("a0").state is AgentState.READY


def test_classification_required_keeps_agent_in_wrap_up_until_given() -> None:
    acd = make_acd(1, wrap_up=10, classification_profile="support", classification_timeout=60)
    _answer(acd, "c1", "a0", 0)
    acd.call_ended("c1", now=10)
    acd.tick(now=25)  # wrap-up time over, but no code yet
    assert acd.agent_view("a0").state is AgentState.WRAP_UP
    with pytest.raises(AcdError, match="needs a classification"):
        acd.agent_ready("a0", now=26)
    cmds = acd.classification_given("a0", "invoice", now=27)
    (ev,) = logs(cmds, "classified")
    assert (ev.call_id, ev.data["code"]) == ("c1", "invoice")
    assert acd.agent_view("a0").state is AgentState.READY


def test_classification_before_wrap_up_time_waits_for_wrap_up_end() -> None:
    acd = make_acd(1, wrap_up=10, classification_profile="p")
    _answer(acd, "c1", "a0", 0)
    acd.call_ended("c1", now=10)
    acd.classification_given("a0", "order", now=12)
    assert acd.agent_view("a0").state is AgentState.WRAP_UP
    assert acd.next_deadline() == 20
    acd.tick(now=20)
    assert acd.agent_view("a0").state is AgentState.READY


def test_unclassified_call_ends_wrap_up_after_classification_timeout() -> None:
    acd = make_acd(1, wrap_up=10, classification_profile="p", classification_timeout=50)
    _answer(acd, "c1", "a0", 0)
    acd.call_ended("c1", now=10)
    assert acd.next_deadline() == 70
    cmds = acd.tick(now=70)
    assert logs(cmds, "classification_missing")
    assert acd.agent_view("a0").state is AgentState.READY


def test_ready_from_pause_resets_unanswered_count() -> None:
    acd = make_acd(1, ring_timeout=5)
    acd.call_arrived(Call("c1", "q"), now=0)
    acd.tick(now=5)
    acd.agent_pause("a0", "x", now=6)
    acd.agent_ready("a0", now=7)
    assert acd.agent_view("a0").unanswered_in_row == 0


def test_pause_while_logged_out_is_refused() -> None:
    acd = make_acd(1, login=False)
    with pytest.raises(AcdError, match="logged out"):
        acd.agent_pause("a0", "x", now=0)


def test_scheduled_login_and_logout_happen_at_their_times() -> None:
    acd = make_acd(1, login=False)
    acd.schedule_login("a0", at=8 * 3600)  # default device: the remote-login number
    acd.schedule_logout("a0", at=17 * 3600)
    assert acd.next_deadline() == 8 * 3600
    acd.tick(now=8 * 3600)
    view = acd.agent_view("a0")
    assert (view.state, view.device) == (AgentState.READY, "+46700000000")
    acd.tick(now=17 * 3600)
    assert acd.agent_view("a0").state is AgentState.OFFLINE
    assert acd.next_deadline() is None


def test_every_state_change_carries_old_new_and_time() -> None:
    acd = make_acd(1, wrap_up=5)
    seen = []
    seen += acd.call_arrived(Call("c1", "q"), now=10)
    seen += acd.offer_answered("c1", "a0", now=12)
    seen += acd.call_ended("c1", now=20)
    seen += acd.tick(now=25)
    chain = [(c.old, c.new, c.at) for c in of_type(seen, AgentStateChanged)]
    assert chain == [
        (AgentState.READY, AgentState.RINGING, 10),
        (AgentState.RINGING, AgentState.BUSY, 12),
        (AgentState.BUSY, AgentState.WRAP_UP, 20),
        (AgentState.WRAP_UP, AgentState.READY, 25),
    ]


def _wrapped(**queue_kw: object):  # noqa: ANN202 - (acd, call id) with a0 in wrap-up
    from acd import Acd, AgentConfig, AnswerGroup, Call, GroupMembership, QueueConfig

    q = QueueConfig(id="q", answer_groups=("g",), wrap_up=10, **queue_kw)  # type: ignore[arg-type]
    acd = Acd([q], [AnswerGroup("g")], [AgentConfig("a0", memberships=(GroupMembership("g"),))])
    acd.agent_login("a0", "sip:a0", now=0.0)
    acd.call_arrived(Call("c1", "q"), now=1.0)
    acd.offer_answered("c1", "a0", now=2.0)
    acd.call_ended("c1", now=30.0, reason="caller hung up")
    return acd


def test_a_code_outside_the_queues_profile_is_refused_naming_the_codes() -> None:
    from acd import AcdError

    acd = _wrapped(classification_profile="p", classification_codes=("order", "complaint"))
    with pytest.raises(AcdError, match=r"'refund' is not a code of queue 'q' \(codes: order, "):
        acd.wrap_up_done("a0", now=31.0, classification="refund")
    with pytest.raises(AcdError, match="is not a code"):
        acd.classification_given("a0", "refund", now=31.0)
    assert acd.agent_view("a0").state.value == "wrap_up"  # nothing changed
    acd.wrap_up_done("a0", now=32.0, classification="order")
    assert acd.agent_view("a0").state.value == "ready"


def test_an_optional_code_does_not_hold_the_wrap_up_past_its_time() -> None:
    acd = _wrapped(classification_profile="p", classification_codes=("a",),
                   classification_required=False)  # fmt: skip
    acd.tick(now=41.0)  # wrap-up of 10 s from 30 s
    assert acd.agent_view("a0").state.value == "ready"
    required = _wrapped(classification_profile="p", classification_codes=("a",))
    required.tick(now=41.0)
    assert required.agent_view("a0").state.value == "wrap_up"  # waits for the code
