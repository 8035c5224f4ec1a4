"""The ACD takes a changed configuration while calls run (administration at run time)."""

from __future__ import annotations

import dataclasses

import pytest

from acd import (
    AcdConfigError,
    AgentConfig,
    AgentState,
    AnswerGroup,
    Call,
    GroupMembership,
    QueueConfig,
)
from tests.acd.helpers import logs, make_acd, offers


def _queue(acd, **kw) -> QueueConfig:  # noqa: ANN001
    return dataclasses.replace(acd.queue_config("q"), **kw)


def test_a_ringing_offer_keeps_its_deadline_the_next_offer_takes_the_new_timeout() -> None:
    acd = make_acd(2, ring_timeout=20)
    (offer,) = offers(acd.call_arrived(Call("c1", "q"), now=100))
    assert offer.ring_timeout == 20
    acd.reconfigure([_queue(acd, ring_timeout=5)], [AnswerGroup("g")], acd.agent_configs())
    assert acd.next_deadline() == 120  # the live offer: still 20 s
    cmds = acd.tick(now=120)
    (again,) = offers(cmds)
    assert again.ring_timeout == 5 and again.agent != offer.agent
    (second,) = offers(acd.call_arrived(Call("c2", "q"), now=121))
    assert second.ring_timeout == 5


def test_a_queue_in_use_is_not_removed_and_nothing_changes() -> None:
    acd = make_acd(1)
    acd.call_arrived(Call("c1", "q"), now=1)
    other = QueueConfig(id="r", answer_groups=("g",))
    assert acd.in_use(queue_id="q") == ["call c1 (ringing)"]
    with pytest.raises(AcdConfigError, match="still in use: call c1"):
        acd.reconfigure([other], [AnswerGroup("g")], acd.agent_configs())
    assert acd.queue_config("q").id == "q"
    acd.call_abandoned("c1", now=2)
    assert acd.in_use(queue_id="q") == []
    acd.reconfigure([other], [AnswerGroup("g")], acd.agent_configs())
    assert [c.id for c in acd.agent_configs()] == ["a0"]
    assert acd.queue_config("r").id == "r"


def test_a_logged_in_agent_is_not_removed_a_new_one_is_added_offline() -> None:
    acd = make_acd(1)
    queues = [acd.queue_config("q")]
    new = AgentConfig(id="b", memberships=(GroupMembership("g"),))
    with pytest.raises(AcdConfigError, match="agent a0 \\(ready\\)"):
        acd.reconfigure(queues, [AnswerGroup("g")], [new])
    acd.reconfigure(queues, [AnswerGroup("g")], [*acd.agent_configs(), new])
    assert acd.agent_view("b").state is AgentState.OFFLINE


def test_a_group_taken_from_an_agent_leaves_its_login() -> None:
    groups = [AnswerGroup("g"), AnswerGroup("h")]
    q = QueueConfig(id="q", answer_groups=("g",))
    a = AgentConfig(id="a", memberships=(GroupMembership("g"), GroupMembership("h")))
    from acd import Acd

    acd = Acd([q], groups, [a])
    acd.agent_login("a", "sip:a", now=1)
    assert acd.agent_view("a").groups == {"g", "h"}
    acd.reconfigure([q], groups, [dataclasses.replace(a, memberships=(GroupMembership("h"),))])
    assert acd.agent_view("a").groups == {"h"}
    assert not offers(acd.call_arrived(Call("c1", "q"), now=2))  # no longer serves q


def test_a_queue_limit_of_unanswered_offers_pauses_instead_of_logging_out() -> None:
    acd = make_acd(1, ring_timeout=5, max_unanswered=2, unanswered_action="pause")
    acd.call_arrived(Call("c1", "q"), now=0)
    acd.tick(now=5)
    cmds = acd.tick(now=10)
    assert acd.agent_view("a0").state is AgentState.PAUSED
    assert logs(cmds, "pause")[0].data == {"reason": "2 unanswered offers in a row"}
