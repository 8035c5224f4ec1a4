"""Outbound and direct calls in the figures (docs/statistics.md): counted per agent (and
per queue for outbound ones), never as a queue's offered calls; the agent is busy during
them, then in the queue's outbound wrap-up."""

from __future__ import annotations

from callcore import CUSTOMER
from callcore import events as E
from reports import Rollup
from tests.callcore.world import World

NUMBER = "0701234567"


def _sum(figs: list, name: str) -> float:
    return sum(getattr(f, name) for f in figs)


def test_outbound_and_direct_calls_count_per_agent_and_not_as_offered() -> None:
    w = World()
    w.login("a0", "a1")
    # a0: one answered outbound call (60 s talk, 15 s wrap-up of queue q), one refused.
    key = w.place("a0", NUMBER)
    w.feed(E.AgentAnswered(key, CUSTOMER))
    w.advance(60)
    w.feed(E.CallerGone(key, "hangup"))
    w.advance(20)
    w.place("a0", "0900111")
    # a0: a click-to-call whose customer is busy.
    _, actions = w.core.dial(E.Dial("c2c", "a0", "sip:a0", NUMBER), w.now)
    w.run(actions)
    w.advance(3)
    w.feed(E.AgentAnswered("c2c", "a0"))
    w.feed(E.AgentOfferFailed("c2c", CUSTOMER, "rejected: 486 Busy Here", True, 486))
    # a1: a direct call answered for 45 s, one that rang out to voicemail.
    d1 = w.invite("150")
    w.advance(5)
    w.feed(E.AgentAnswered(d1, "a1"))
    w.advance(45)
    w.feed(E.CallerGone(d1, "hangup"))
    d2 = w.invite("150")
    w.advance(21)
    w.feed(E.CallerAcked(d2))
    w.feed(E.ServiceFinished(d2))
    w.advance(2)

    rollup = Rollup("Europe/Stockholm")
    rollup.add_all(w.log)
    a0 = rollup.agent_figures(["a0"])
    assert _sum(a0, "outbound") == 2 and _sum(a0, "outbound_answered") == 1
    assert _sum(a0, "outbound_talk") == 60.0
    assert _sum(a0, "offers") == 0 and _sum(a0, "answered") == 0 and _sum(a0, "talk") == 0
    assert _sum(a0, "busy") >= 60.0 + 3.0  # the outbound talk and the click-to-call
    assert _sum(a0, "wrap_up") == 15.0  # queue q's outbound wrap-up
    a1 = rollup.agent_figures(["a1"])
    assert (_sum(a1, "direct"), _sum(a1, "direct_answered")) == (2, 1)
    assert _sum(a1, "direct_talk") == 45.0 and _sum(a1, "offers") == 0
    assert _sum(a1, "ringing") == 5.0 + 20.0 and _sum(a1, "busy") == 45.0
    queues = rollup.queue_figures()
    assert _sum(queues, "offered") == 0  # not one of them was offered by a queue
    q = rollup.queue_figures(["q"])
    assert (_sum(q, "outbound"), _sum(q, "outbound_answered"), _sum(q, "outbound_talk")) == (
        2,
        1,
        60.0,
    )
