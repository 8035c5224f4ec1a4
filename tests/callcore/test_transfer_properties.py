"""Random transfer, consult and hold requests and leg events on connected calls through the
call core and the real ACD (hypothesis): no agent holds two calls, nobody is stuck busy once
the calls are over, every call ends with exactly one summary, and no call is lost between
the queue and the agents."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from callcore import Phase
from callcore import events as E
from callcore import transfer as X
from tests.callcore.world import World, make_acd

LEGS = ["transfer", "consult", "consult-phone", "a0", "a1", "a2", "a3"]
CONTROL = st.tuples(
    st.just("control"),
    st.integers(0, 3),
    st.sampled_from(list(X.OPS)),
    st.sampled_from(["101", "a0", "a1", "a2", "a3", "0812345678", "192", "nope"]),
    st.sampled_from(list(X.Via)),
)
LEG = st.tuples(st.sampled_from(["answer", "fail", "gone"]), st.integers(0, 3),
                st.sampled_from(LEGS))  # fmt: skip
OPS = st.lists(
    st.one_of(
        CONTROL,
        CONTROL,  # requests weigh more than the rest
        LEG,
        LEG,
        st.tuples(st.just("caller_bye"), st.integers(0, 7)),  # 0-1 hang up, others nothing
        st.tuples(st.just("advance"), st.floats(0.1, 40.0)),
    ),
    min_size=5,
    max_size=40,
)


def _check(w: World) -> None:
    busy_with: dict[str, str] = {}
    for key, call in w.core.calls.items():
        for agent in {call.agent, call.engaged} - {None}:
            if call.phase == Phase.CONNECTED or agent == call.engaged:
                assert busy_with.setdefault(str(agent), key) == key, "an agent holds two calls"
    acd_calls = {v.call.id for v in w.acd.calls()}
    in_acd = {k for k, c in w.core.calls.items() if c.in_acd}
    assert in_acd == acd_calls, "a call is lost between the queue and the agents"
    for (key, _leg), _device in w.ringing.items():
        assert key in w.core.calls, "a phone rings for a call that ended"


@settings(max_examples=300, deadline=None)
@given(OPS)
def test_random_transfers_keep_every_call_and_agent_accounted_for(ops: list) -> None:
    w = World(acd=make_acd(4, ring_timeout=15, wrap_up=5))
    keys = []
    for agent in ("a0", "a1"):  # two calls, each answered by its agent
        w.login(agent)
        key = w.queued_call("100")
        w.feed(E.AgentAnswered(key, agent))
        keys.append(key)
    w.login("a2", "a3")
    for op, *args in ops:
        if op == "control":
            i, what, target, via = args
            key = keys[i % len(keys)]
            call = w.core.calls.get(key)
            if call is not None:
                agent = call.transfer.agent if call.transfer is not None else call.agent
                w.control(key, agent or "a0", what, target, via=via)
        elif op in ("answer", "fail", "gone"):
            key, leg = keys[args[0] % len(keys)], args[1]
            if (key, leg) in w.ringing or op == "gone":
                if op == "answer":
                    w.feed(E.AgentAnswered(key, leg))
                elif op == "fail":
                    w.feed(E.AgentOfferFailed(key, leg, "rejected: 486 Busy Here", rejected=True))
                else:
                    w.feed(E.AgentGone(key, leg, "hangup"))
        elif op == "caller_bye" and args[0] < len(keys):
            w.feed(E.CallerGone(keys[args[0]], "hangup"))
        elif op == "advance":
            w.advance(args[0])
        _check(w)
    for key in list(w.core.calls):
        w.feed(E.CallerGone(key, "hangup"))
    w.advance(60)
    _check(w)
    assert not w.core.calls and not w.ringing
    assert set(keys) <= set(w.summaries), "a call without a summary"
    hangups = [e.call_id for e in w.log if e.kind == "hangup"]
    assert sorted(hangups) == sorted(set(hangups)), "a call with two summaries"
    states = {v.id: v.state.value for v in w.acd.agents()}
    assert "busy" not in states.values(), f"an agent stuck busy: {states}"
