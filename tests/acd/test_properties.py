"""Invariants of the ACD over random event sequences (hypothesis).

- no agent ever holds two calls; agent states match the calls they hold;
- every call is in exactly one place (waiting, ringing, connected, or gone)
  and keeps its original arrival time;
- distribution is work-conserving and ordered: nothing waits while a ready
  agent could take it, and the call offered is never behind a waiting call
  the same agent could have taken (except an agent held back from a call
  after its device failed on it);
- agents are never stuck: wrap-up and ringing always have a deadline, and
  once time moves on nobody is left in wrap-up;
- refused events (AcdError) change nothing.
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from acd import (
    Acd,
    AcdError,
    AgentConfig,
    AgentState,
    AnswerGroup,
    Call,
    GroupMembership,
    OfferCall,
    Overflow,
    QueueConfig,
    Strategy,
)

AGENTS = ("a0", "a1", "a2", "a3")
GROUPS = ("g1", "g2")

_arrive = st.tuples(st.just("arrive"), st.integers(0, 2), st.integers(0, 2))
op = st.one_of(
    _arrive,
    _arrive,  # listed twice: arrivals are the most common event
    st.tuples(st.just("answer"), st.integers(0, 20)),
    st.tuples(st.just("abandon"), st.integers(0, 20)),
    st.tuples(st.just("answer"), st.integers(0, 20)),
    st.tuples(st.just("reject"), st.integers(0, 20)),
    st.tuples(st.just("fail"), st.integers(0, 20)),
    st.tuples(st.just("end"), st.integers(0, 20)),
    st.tuples(st.just("login"), st.sampled_from(AGENTS), st.integers(0, 3)),
    st.tuples(st.just("logout"), st.sampled_from(AGENTS)),
    st.tuples(st.just("pause"), st.sampled_from(AGENTS)),
    st.tuples(st.just("ready"), st.sampled_from(AGENTS)),
    st.tuples(st.just("wrapdone"), st.sampled_from(AGENTS)),
    st.tuples(st.just("classify"), st.sampled_from(AGENTS)),
    st.tuples(
        st.just("tick"),
    ),
)


def _build(strategy: Strategy, wrap_up: int, classify: bool, max_wait: bool) -> Acd:
    queues = [
        QueueConfig(
            id="q0",
            answer_groups=("g1",),
            strategy=strategy,
            ring_timeout=10,
            wrap_up=wrap_up,
            max_wait=30 if max_wait else None,
            max_wait_target="q1" if max_wait else None,
            announce_interval=15,
        ),
        QueueConfig(
            id="q1",
            answer_groups=("g1", "g2"),
            priority=1,
            strategy=strategy,
            ring_timeout=8,
            wrap_up=wrap_up,
            classification_profile="p" if classify else None,
            classification_timeout=20,
            max_queue_length=3,
            queue_full_target="voicemail",
        ),
        QueueConfig(
            id="q2",
            answer_groups=("g2",),
            strategy=strategy,
            no_agent_target="q0",
            max_wait=20 if max_wait else None,
            max_wait_target="q2-voicemail" if max_wait else None,
        ),
    ]
    agents = [
        AgentConfig(id="a0", memberships=(GroupMembership("g1", 2),)),
        AgentConfig(id="a1", memberships=(GroupMembership("g1", 1), GroupMembership("g2", 3))),
        AgentConfig(id="a2", memberships=(GroupMembership("g2", 0),)),
        AgentConfig(
            id="a3",
            memberships=(GroupMembership("g1", 0), GroupMembership("g2", 0)),
            preselected_groups=("g2",),
        ),
    ]
    return Acd(queues, [AnswerGroup(g) for g in GROUPS], agents, max_unanswered=3)


def _snapshot(acd: Acd) -> tuple[Any, ...]:
    return (tuple(acd.agents()), tuple(acd.calls()), acd.next_deadline())


def _order_key(acd: Acd, call: Call) -> tuple[int, float]:
    assert call.arrived_at is not None
    return (-(acd.queue_config(call.queue).priority + call.priority), call.arrived_at)


def _check(acd: Acd, live: dict[str, float], cmds: list[Any], now: float) -> None:
    calls = acd.calls()
    # every call in exactly one place, with its original arrival
    assert sorted(c.call.id for c in calls) == sorted(live)
    for c in calls:
        assert c.state in ("waiting", "ringing", "connected")
        assert c.call.arrived_at == live[c.call.id]
    assert [c.call.id for c in calls if c.state == "waiting"] == [c.id for c in acd.waiting()]
    # no agent with two calls; agent state matches the calls
    holders = [a for c in calls for a in c.agents]
    assert len(holders) == len(set(holders))
    held = {a: c for c in calls for a in c.agents}
    for view in acd.agents():
        c = held.get(view.id)
        if view.state is AgentState.RINGING:
            assert c is not None and c.state == "ringing" and view.call_id == c.call.id
        elif view.state is AgentState.BUSY:
            assert c is not None and c.state == "connected" and view.call_id == c.call.id
        else:
            assert c is None and view.call_id is None
        if view.state is AgentState.WRAP_UP:
            assert view.wrap_up_until is not None
        if view.state is AgentState.OFFLINE:
            assert view.groups == frozenset()
    for c in calls:
        if c.state == "ringing":
            assert c.agents and c.ring_deadline is not None and c.ring_deadline > now
        if c.state == "connected":
            assert len(c.agents) == 1
    deadline = acd.next_deadline()
    pending = [c.ring_deadline for c in calls if c.ring_deadline is not None]
    pending += [v.wrap_up_until for v in acd.agents() if v.wrap_up_until is not None]
    pending += [until for c in calls if c.state == "waiting" for _, until in c.held_back]
    if pending:
        assert deadline is not None and deadline <= min(pending)
    # work-conserving: no waiting call that a ready agent could take (an agent whose
    # device just failed on the call is held back from it for a while)
    held = {c.call.id: {a for a, _ in c.held_back} for c in calls}
    ready = [v for v in acd.agents() if v.state is AgentState.READY]
    for w in acd.waiting():
        groups = set(acd.queue_config(w.queue).answer_groups)
        takers = [v.id for v in ready if v.groups & groups and v.id not in held[w.id]]
        assert not takers, f"{w.id} waits beside ready agent"
    # ordered: an offered call is never behind a waiting call the agent could take
    for offer in (c for c in cmds if isinstance(c, OfferCall)):
        agent_groups = acd.agent_view(offer.agent).groups
        for w in acd.waiting():
            if _order_key(acd, w) < _order_key(acd, offer.call) and offer.agent not in held[w.id]:
                groups = set(acd.queue_config(w.queue).answer_groups)
                assert not (agent_groups & groups), f"{offer.call.id} offered before {w.id}"


def _pick(calls: list[Any], k: int) -> Any:
    return calls[k % len(calls)] if calls else None


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    strategy=st.sampled_from(list(Strategy)),
    wrap_up=st.sampled_from([0, 5]),
    classify=st.booleans(),
    max_wait=st.booleans(),
    logged_in=st.sets(st.sampled_from(AGENTS)),
    steps=st.lists(st.tuples(op, st.integers(0, 12)), max_size=60),
)
def test_random_event_sequences_keep_invariants(
    strategy: Strategy,
    wrap_up: int,
    classify: bool,
    max_wait: bool,
    logged_in: set[str],
    steps: list[tuple[tuple[Any, ...], int]],
) -> None:
    acd = _build(strategy, wrap_up, classify, max_wait)
    for agent in sorted(logged_in):
        acd.agent_login(agent, f"dev-{agent}", now=0)
    live: dict[str, float] = {}
    now = 0.0
    n = 0
    for (name, *args), dt in steps:
        now += dt
        # timers first, as the composition root does when a deadline passes
        deadline = acd.next_deadline()
        while deadline is not None and deadline <= now:
            cmds = acd.tick(now=deadline)
            _track_gone(cmds, live)
            _check(acd, live, cmds, deadline)
            deadline = acd.next_deadline()
        calls = acd.calls()
        ringing = [(c.call.id, a) for c in calls if c.state == "ringing" for a in c.agents]
        before = _snapshot(acd)
        try:
            if name == "arrive":
                n += 1
                cmds = acd.call_arrived(Call(f"c{n}", f"q{args[0]}", priority=args[1]), now=now)
                live[f"c{n}"] = now
            elif name == "abandon":
                c = _pick(calls, args[0])
                if c is None:
                    continue
                cmds = acd.call_abandoned(c.call.id, now=now)
                del live[c.call.id]
            elif name in ("answer", "reject", "fail"):
                pair = _pick(ringing, args[0])
                if pair is None:
                    continue
                method = {
                    "answer": acd.offer_answered,
                    "reject": acd.offer_rejected,
                    "fail": acd.offer_failed,
                }[name]
                cmds = method(*pair, now=now)
            elif name == "end":
                c = _pick([c for c in calls if c.state == "connected"], args[0])
                if c is None:
                    continue
                cmds = acd.call_ended(c.call.id, now=now)
                del live[c.call.id]
            elif name == "login":
                mask = args[1]
                groups = None if mask == 0 else [g for i, g in enumerate(GROUPS) if mask >> i & 1]
                cmds = acd.agent_login(args[0], f"dev-{args[0]}-{now}", groups, now=now)
            elif name == "logout":
                cmds = acd.agent_logout(args[0], now=now)
            elif name == "pause":
                cmds = acd.agent_pause(args[0], "reason", now=now)
            elif name == "ready":
                cmds = acd.agent_ready(args[0], now=now)
            elif name == "wrapdone":
                cmds = acd.wrap_up_done(args[0], now=now, classification="code")
            elif name == "classify":
                cmds = acd.classification_given(args[0], "code", now=now)
            else:
                cmds = acd.tick(now=now)
        except AcdError:
            assert _snapshot(acd) == before, f"refused {name} changed the state"
            continue
        _track_gone(cmds, live)
        _check(acd, live, cmds, now)
    # never stuck: once every timer has run, nobody is left in wrap-up
    for _ in range(10):
        now += 1000
        cmds = acd.tick(now=now)
        _track_gone(cmds, live)
        _check(acd, live, cmds, now)
    assert not [v.id for v in acd.agents() if v.state is AgentState.WRAP_UP]


def _track_gone(cmds: list[Any], live: dict[str, float]) -> None:
    for c in cmds:
        if isinstance(c, Overflow) and not c.internal:
            del live[c.call.id]
