"""Random event orders through the call core and the real ACD (hypothesis): every call
ends with exactly one summary, no agent holds two calls, no call is lost between the
queue and the agents."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from callcore import Phase
from callcore import events as E
from tests.callcore.world import World, make_acd

OPS = st.lists(
    st.one_of(
        st.tuples(st.just("call"), st.sampled_from(["100", "101", "102", "190"])),
        st.tuples(st.just("ack"), st.integers(0, 9)),
        st.tuples(st.just("queue"), st.integers(0, 9)),
        st.tuples(st.just("answer"), st.integers(0, 9)),
        st.tuples(st.just("fail"), st.integers(0, 9)),
        st.tuples(st.just("caller_bye"), st.integers(0, 9)),
        st.tuples(st.just("agent_bye"), st.integers(0, 9)),
        st.tuples(st.just("service_done"), st.integers(0, 9)),
        st.tuples(st.just("advance"), st.floats(0.1, 40.0)),
        st.tuples(st.just("ready"), st.integers(0, 2)),
    ),
    max_size=60,
)


def _pick(items: list, i: int):  # noqa: ANN001, ANN202
    return items[i % len(items)] if items else None


def _check(w: World) -> None:
    connected = [c.agent for c in w.core.calls.values() if c.phase == Phase.CONNECTED]
    assert len(connected) == len(set(connected)), "an agent holds two calls"
    acd_calls = {v.call.id for v in w.acd.calls()}
    in_acd = {k for k, c in w.core.calls.items() if c.in_acd}
    assert in_acd == acd_calls, "a call is lost between the queue and the agents"
    for (key, _agent), _device in w.ringing.items():
        assert key in w.core.calls, "an agent rings for a call that ended"


@settings(max_examples=300, deadline=None)
@given(OPS)
def test_random_event_orders_keep_every_call_accounted_for(ops: list) -> None:
    w = World(acd=make_acd(3, ring_timeout=15, wrap_up=5, max_wait=60, max_wait_target="q2"))
    w.login("a0", "a1", "a2")
    started: list[str] = []
    for op, arg in ops:
        live = list(w.core.calls)
        if op == "call":
            started.append(w.invite(arg))
        elif op == "ack" and (key := _pick(live, arg)):
            w.feed(E.CallerAcked(key))
        elif op == "queue" and (key := _pick(live, arg)):
            w.feed(E.FlowFinished(key, "queue", queue=w.core.calls[key].target.queue))
        elif op == "answer" and (pair := _pick(sorted(w.ringing), arg)):
            w.feed(E.AgentAnswered(*pair))
        elif op == "fail" and (pair := _pick(sorted(w.ringing), arg)):
            w.feed(E.AgentOfferFailed(*pair, "failed: 404 Not Found"))
        elif op == "caller_bye" and (key := _pick(live, arg)):
            w.feed(E.CallerGone(key, "hangup"))
        elif op == "agent_bye" and (pair := _pick(sorted(w.bridged.items()), arg)):
            w.feed(E.AgentGone(*pair, "hangup"))
        elif op == "service_done" and (key := _pick(live, arg)):
            w.feed(E.ServiceFinished(key))
        elif op == "advance":
            w.advance(arg)
        elif op == "ready":
            agent = f"a{arg}"
            if w.acd.agent_view(agent).state.value in ("paused", "offline"):
                w.acd_do("agent_ready", agent) if w.acd.is_logged_in(agent) else w.login(agent)
        _check(w)
    for key in list(w.core.calls):
        w.feed(E.CallerGone(key, "hangup"))
    w.advance(60)
    _check(w)
    assert not w.core.calls and not w.ringing and not w.bridged
    assert set(w.summaries) == set(started), "a call without (or with an extra) summary"
    hangups = [e.call_id for e in w.log if e.kind == "hangup"]
    assert sorted(hangups) == sorted(started)
