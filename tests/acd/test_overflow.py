"""Overflow rules and call lifecycle logging (SPEC S2 step 5, S3)."""

from __future__ import annotations

from acd import Acd, AgentConfig, AnswerGroup, Call, GroupMembership, Overflow, QueueConfig
from tests.acd.helpers import logs, make_acd, of_type, offers


def _two_queues(**first_kw) -> Acd:
    return Acd(
        [
            QueueConfig(id="first", answer_groups=("g1",), **first_kw),
            QueueConfig(id="backup", answer_groups=("g2",)),
        ],
        [AnswerGroup("g1"), AnswerGroup("g2")],
        [
            AgentConfig(id="a1", memberships=(GroupMembership("g1"),)),
            AgentConfig(id="a2", memberships=(GroupMembership("g2"),)),
        ],
    )


def test_overflow_after_max_wait_keeps_original_arrival() -> None:
    acd = _two_queues(max_wait=60, max_wait_target="backup")
    acd.agent_login("a1", "sip:a1", now=0)
    acd.agent_pause("a1", "busy elsewhere", now=0)
    acd.agent_login("a2", "sip:a2", now=0)
    acd.agent_pause("a2", "x", now=0)
    acd.call_arrived(Call("c1", "first", arrived_at=5.0), now=10)
    acd.call_arrived(Call("c2", "backup"), now=30)
    assert acd.next_deadline() == 70
    cmds = acd.tick(now=70)
    (ov,) = of_type(cmds, Overflow)
    assert (ov.call.id, ov.to_queue, ov.reason, ov.internal) == ("c1", "backup", "max wait", True)
    assert ov.call.arrived_at == 5.0
    # in the backup queue c1 is ahead of c2, which arrived later
    assert [c.id for c in acd.waiting()] == ["c1", "c2"]
    (offer,) = offers(acd.agent_ready("a2", now=71))
    assert offer.call.id == "c1"
    (ev,) = logs(cmds, "overflowed")
    assert ev.data["wait"] == 65 and ev.data["queue_wait"] == 60


def test_overflow_on_queue_length_at_arrival() -> None:
    acd = make_acd(1, max_queue_length=1, queue_full_target="voicemail")
    acd.agent_pause("a0", "x", now=0)
    assert not of_type(acd.call_arrived(Call("c1", "q"), now=1), Overflow)
    (ov,) = of_type(acd.call_arrived(Call("c2", "q"), now=2), Overflow)
    assert (ov.call.id, ov.to_queue, ov.reason, ov.internal) == (
        "c2",
        "voicemail",
        "queue full",
        False,
    )
    assert [c.id for c in acd.waiting()] == ["c1"]


def test_overflow_when_no_agent_logged_in() -> None:
    acd = _two_queues(no_agent_target="backup")
    acd.agent_login("a2", "sip:a2", now=0)
    cmds = acd.call_arrived(Call("c1", "first"), now=1)
    (ov,) = of_type(cmds, Overflow)
    assert ov.reason == "no agent logged in"
    (offer,) = offers(cmds)
    assert (offer.call.queue, offer.agent) == ("backup", "a2")


def test_paused_agent_counts_as_logged_in_for_no_agent_overflow() -> None:
    acd = _two_queues(no_agent_target="backup")
    acd.agent_login("a1", "sip:a1", now=0)
    acd.agent_pause("a1", "x", now=0)
    assert not of_type(acd.call_arrived(Call("c1", "first"), now=1), Overflow)


def test_waiting_calls_overflow_when_the_last_agent_logs_out() -> None:
    acd = _two_queues(no_agent_target="elsewhere")
    acd.agent_login("a1", "sip:a1", now=0)
    acd.agent_pause("a1", "x", now=0)
    acd.call_arrived(Call("c1", "first"), now=1)
    (ov,) = of_type(acd.agent_logout("a1", now=2), Overflow)
    assert (ov.call.id, ov.internal) == ("c1", False)
    assert acd.calls() == []


def test_overflow_loop_is_not_followed() -> None:
    acd = Acd(
        [
            QueueConfig(id="a", answer_groups=("g",), no_agent_target="b"),
            QueueConfig(id="b", answer_groups=("g",), no_agent_target="a"),
        ],
        [AnswerGroup("g")],
        [],
    )
    cmds = acd.call_arrived(Call("c1", "a"), now=0)
    assert len(of_type(cmds, Overflow)) == 1
    assert logs(cmds, "overflow_skipped")
    assert [c.queue for c in acd.waiting()] == ["b"]
    assert acd.tick(now=1) == []  # no repeated skips


def test_call_log_covers_the_whole_call() -> None:
    acd = make_acd(1, wrap_up=5)
    cmds = acd.call_arrived(Call("c1", "q"), now=0)
    cmds += acd.offer_answered("c1", "a0", now=4)
    cmds += acd.call_ended("c1", now=64)
    cmds += acd.tick(now=69)
    kinds = [c.kind for c in cmds if hasattr(c, "kind") and c.call_id == "c1"]
    assert kinds == [
        "arrived",
        "queued",
        "offered",
        "answered",
        "ended",
        "wrap_up_started",
        "wrap_up_ended",
    ]
    (answered,) = logs(cmds, "answered")
    assert answered.data["wait"] == 4
    (ended,) = logs(cmds, "ended")
    assert ended.data["talk"] == 60


def test_events_for_calls_already_gone_are_harmless() -> None:
    acd = make_acd(1)
    acd.call_arrived(Call("c1", "q"), now=0)
    acd.call_abandoned("c1", now=1)
    assert acd.call_abandoned("c1", now=2) == []
    assert acd.call_ended("c1", now=2) == []
