"""Calls outside the queues in virtual time: outbound calls from an agent's phone,
click-to-call, and direct numbers (callcore.outbound), with the real ACD beside them."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from acd import AcdError
from callcore import CUSTOMER, Placement, Refusal, decide
from callcore import events as E
from tests.callcore.world import OUTBOUND, World, make_acd

NUMBER = "0701234567"


def state(w: World, agent: str) -> str:
    return w.acd.agent_view(agent).state.value


def placed(w: World, agent: str = "a0", dialled: str = NUMBER) -> str:
    key = w.place(agent, dialled)
    assert key in w.core.calls, w.responses
    return key


# ---------------------------------------------------------------------- the policy


def test_the_policy_names_why_a_number_is_refused() -> None:
    assert decide(OUTBOUND, "a0", "0900123456") == Refusal(
        403, "Forbidden: numbers starting 0900 are blocked"
    )
    assert decide(OUTBOUND, "a0", "4670123").status == 403  # type: ignore[union-attr]
    assert "only numbers starting 0" in decide(OUTBOUND, "a0", "4670123").reason  # type: ignore[union-attr]
    assert decide(OUTBOUND, "a0", "07x1").status == 484  # type: ignore[union-attr]
    assert decide(OUTBOUND, "a0", NUMBER, "nope").status == 404  # type: ignore[union-attr]
    off = replace(OUTBOUND, enabled=False)
    assert decide(off, "a0", NUMBER) == Refusal(403, "Forbidden: outbound calls are not enabled")


def test_emergency_numbers_are_placed_whatever_the_prefixes_unless_refused() -> None:
    ok = decide(replace(OUTBOUND, enabled=False), "a0", "112")
    assert isinstance(ok, Placement) and ok.emergency and ok.number == "112"
    refused = decide(replace(OUTBOUND, emergency="refuse"), "a0", "112")
    assert isinstance(refused, Refusal) and refused.status == 403


def test_the_caller_id_follows_prefix_then_header_then_the_agents_queue_then_the_company() -> None:
    assert decide(OUTBOUND, "a0", "*1" + NUMBER) == Placement(NUMBER, "q2", "0812342222")
    assert decide(OUTBOUND, "a1", NUMBER, "q") == Placement(NUMBER, "q", "0812341111")
    assert decide(OUTBOUND, "a0", NUMBER) == Placement(NUMBER, "q", "0812341111")
    assert decide(OUTBOUND, "a1", NUMBER) == Placement(NUMBER, None, "0812340000")


# ---------------------------------------------------------------------- from the phone


def test_the_agents_phone_dials_out_through_the_trunk_and_is_bridged_on_the_answer() -> None:
    w = World()
    w.login("a0")
    key = placed(w)
    rid = w.core.calls[key].request_id
    assert w.ringing[(key, CUSTOMER)] == f"tel:{NUMBER}"
    assert w.ring_caller_ids[(key, CUSTOMER)] == "0812341111"  # queue q's caller id
    assert state(w, "a0") == "busy" and w.responses[rid] == []  # no 200 before the answer
    w.feed(E.AgentRinging(key, CUSTOMER))
    w.feed(E.AgentRinging(key, CUSTOMER))  # 180 then 183: the phone is told once
    w.feed(E.AgentAnswered(key, CUSTOMER))
    assert w.responses[rid] == [180, 200] and w.bridged == {key: CUSTOMER}
    w.feed(E.CallerAcked(key))
    w.advance(60)
    w.feed(E.CallerGone(key, "hangup"))  # the agent hangs up: BYE to the customer
    assert (key, CUSTOMER) not in w.ringing and key not in w.bridged
    s = w.summaries[key]
    assert (s.outcome, s.agent, s.talk_seconds, s.ended_by) == ("outbound", "a0", 60.0, "agent")
    assert (s.a_number, s.b_number, s.queue) == ("0812341111", NUMBER, "q")
    kinds = w.kinds(key)
    assert kinds[:2] == ["outbound_placed", "outbound_answered"]
    assert "outbound_ended" in kinds and "arrived" not in kinds and "offered" not in kinds
    assert state(w, "a0") == "wrap_up"  # queue q wraps up 15 s after an outbound call
    w.advance(16)
    assert state(w, "a0") == "ready"


def test_no_inbound_offer_reaches_an_agent_on_an_outbound_call() -> None:
    w = World()
    w.login("a0")
    key = placed(w, dialled="*1" + NUMBER)  # queue q2: no wrap-up after outbound calls
    inbound = w.queued_call()
    assert (inbound, "a0") not in w.ringing
    w.feed(E.AgentAnswered(key, CUSTOMER))
    w.advance(20)
    assert (inbound, "a0") not in w.ringing
    w.feed(E.AgentGone(key, CUSTOMER, "hangup"))  # the customer hangs up
    assert key in w.hung_up and w.summaries[key].ended_by == "customer"
    assert (inbound, "a0") in w.ringing  # free again: the waiting caller is offered


def test_a_busy_customer_is_relayed_to_the_agents_phone() -> None:
    w = World()
    w.login("a0")
    key = placed(w)
    rid = w.core.calls[key].request_id
    w.feed(E.AgentOfferFailed(key, CUSTOMER, "rejected: 486 Busy Here", True, 486))
    assert w.responses[rid] == [486] and key not in w.hung_up
    s = w.summaries[key]
    assert (s.outcome, s.agent, s.talk_seconds) == ("outbound_failed", "a0", None)
    assert state(w, "a0") == "ready"  # no wrap-up after a call that never connected


def test_a_customer_who_does_not_answer_ends_with_480() -> None:
    w = World()
    key = placed(w)
    rid = w.core.calls[key].request_id
    w.advance(OUTBOUND.ring_timeout + 1)
    assert w.responses[rid] == [480] and (key, CUSTOMER) not in w.ringing
    (failed,) = [e for e in w.log if e.kind == "outbound_failed"]
    assert failed.data is not None and "did not answer" in failed.data["reason"]


def test_the_agent_cancelling_cancels_the_customers_leg() -> None:
    w = World()
    key = placed(w)
    w.feed(E.CallerGone(key, "cancelled"))
    assert (key, CUSTOMER) not in w.ringing
    assert w.summaries[key].outcome == "cancelled"


def test_a_refused_number_gets_403_with_the_reason_and_a_log_event() -> None:
    w = World()
    rid = w.place("a0", "0900123456")
    assert w.responses[rid] == [403] and not w.core.calls
    (ev,) = [e for e in w.log if e.kind == "outbound_refused"]
    assert ev.agent == "a0" and ev.data is not None and "0900" in ev.data["reason"]
    assert ev.call_id == "-" and not w.fold.live_calls()  # the agent's event: no call


# ---------------------------------------------------------------------- click-to-call


def test_click_to_call_rings_the_agent_first_then_the_customer() -> None:
    w = World()
    w.login("a0")
    refusal, actions = w.core.dial(E.Dial("c2c-1", "a0", "sip:a0", NUMBER), w.now)
    assert refusal is None
    w.run(actions)
    assert w.ringing == {("c2c-1", "a0"): "sip:a0"}  # not the customer yet
    assert w.ring_caller_ids[("c2c-1", "a0")] == NUMBER  # the agent sees whom they call
    assert state(w, "a0") == "busy"
    w.feed(E.AgentAnswered("c2c-1", "a0"))
    assert w.ringing[("c2c-1", CUSTOMER)] == f"tel:{NUMBER}"
    assert w.ring_caller_ids[("c2c-1", CUSTOMER)] == "0812341111"
    w.feed(E.AgentAnswered("c2c-1", CUSTOMER))
    assert w.bridged == {"c2c-1": "a0"}
    w.advance(30)
    w.feed(E.AgentGone("c2c-1", "a0", "hangup"))
    s = w.summaries["c2c-1"]
    assert (s.outcome, s.agent, s.talk_seconds, s.ended_by) == ("outbound", "a0", 30.0, "agent")
    placed_ev = next(e for e in w.log if e.kind == "outbound_placed")
    assert placed_ev.data is not None and placed_ev.data["via"] == "api"


def test_click_to_call_to_an_agent_on_a_phone_number_shows_the_companys_number() -> None:
    w = World()
    _, actions = w.core.dial(E.Dial("c2c-1", "a0", "tel:0709000000", NUMBER), w.now)
    w.run(actions)
    assert w.ring_caller_ids[("c2c-1", "a0")] == "0812341111"


def test_click_to_call_whose_agent_does_not_answer_never_calls_the_customer() -> None:
    w = World()
    w.login("a0")
    _, actions = w.core.dial(E.Dial("c2c-1", "a0", "sip:a0", NUMBER), w.now)
    w.run(actions)
    w.advance(OUTBOUND.agent_ring_timeout + 1)
    assert not w.ringing and "c2c-1" in w.summaries
    assert not any(k == ("c2c-1", CUSTOMER) for k in w.ring_caller_ids)
    assert w.summaries["c2c-1"].outcome == "outbound_failed"
    assert state(w, "a0") == "ready"


def test_click_to_call_to_a_busy_customer_hangs_up_the_agent() -> None:
    w = World()
    _, actions = w.core.dial(E.Dial("c2c-1", "a0", "sip:a0", NUMBER), w.now)
    w.run(actions)
    w.feed(E.AgentAnswered("c2c-1", "a0"))
    w.feed(E.AgentOfferFailed("c2c-1", CUSTOMER, "rejected: 486 Busy Here", True, 486))
    assert not w.ringing and w.summaries["c2c-1"].outcome == "outbound_failed"


def test_click_to_call_refuses_numbers_and_agents_without_a_device() -> None:
    w = World()
    refusal, _ = w.core.dial(E.Dial("c2c-1", "a0", "sip:a0", "0900111"), w.now)
    assert refusal is not None and refusal.status == 403
    refusal, _ = w.core.dial(E.Dial("c2c-2", "a0", None, NUMBER), w.now)
    assert refusal is not None and refusal.status == 409 and not w.core.calls


# ---------------------------------------------------------------------- direct numbers


def test_a_direct_number_rings_its_agent_and_counts_as_a_direct_call() -> None:
    w = World()
    w.login("a1")
    key = w.invite("150")
    rid = w.core.calls[key].request_id
    assert w.responses[rid] == [180] and w.ringing == {(key, "a1"): "sip:a1"}
    inbound = w.queued_call()
    assert (inbound, "a1") not in w.ringing  # ringing for a direct call: no queue offer
    w.feed(E.AgentAnswered(key, "a1"))
    assert w.responses[rid] == [180, 200] and w.bridged[key] == "a1"
    w.feed(E.CallerAcked(key))
    w.advance(45)
    w.feed(E.CallerGone(key, "hangup"))
    s = w.summaries[key]
    assert (s.outcome, s.agent, s.talk_seconds, s.queue) == ("direct", "a1", 45.0, None)
    assert "arrived" not in w.kinds(key) and "direct_answered" in w.kinds(key)


def test_every_device_of_the_agent_rings_and_the_first_to_answer_wins() -> None:
    w = World()
    w.presence.devices_of["a1"] = ("sip:a1", "tel:0709000001")
    key = w.invite("150")
    assert w.ringing == {(key, "a1"): "sip:a1", (key, "a1/2"): "tel:0709000001"}
    w.feed(E.AgentAnswered(key, "a1/2"))
    assert (key, "a1") not in w.ringing and w.bridged[key] == "a1/2"


def test_no_answer_on_a_direct_number_leads_to_the_agents_voicemail() -> None:
    w = World()
    key = w.invite("150")
    w.advance(21)
    assert not w.ringing
    w.feed(E.CallerAcked(key))
    svc = w.services[key]
    assert (svc.service, svc.agent) == ("voicemail", "a1")
    w.feed(E.Note(key, "voicemail_stored", {"seconds": 4}))
    w.feed(E.ServiceFinished(key))
    w.advance(1)
    assert w.summaries[key].outcome == "voicemail"
    missed = next(e for e in w.log if e.kind == "direct_missed")
    assert missed.agent == "a1" and missed.data == {"why": "no answer"}


def test_a_busy_agent_sends_the_direct_caller_to_voicemail_without_ringing() -> None:
    w = World()
    w.presence.busy.add("a1")
    key = w.invite("150")
    assert not w.ringing
    w.feed(E.CallerAcked(key))
    assert w.services[key].service == "voicemail"


def test_an_agent_on_an_outbound_call_is_busy_for_their_direct_number() -> None:
    w = World()  # a1 is not logged in to the ACD: only the call core knows of the call
    key = placed(w, agent="a1")
    w.feed(E.AgentAnswered(key, CUSTOMER))
    direct = w.invite("150")
    assert (direct, "a1") not in w.ringing
    missed = next(e for e in w.log if e.kind == "direct_missed")
    assert missed.data == {"why": "busy"}
    w.feed(E.CallerGone(key, "hangup"))
    again = w.invite("150")
    assert (again, "a1") in w.ringing  # free again: the direct number rings


def test_a_declined_direct_call_goes_to_voicemail_once_every_device_said_no() -> None:
    w = World()
    w.presence.devices_of["a1"] = ("sip:a1", "tel:0709000001")
    key = w.invite("150")
    w.feed(E.AgentOfferFailed(key, "a1", "rejected: 486 Busy Here", True, 486))
    assert (key, "a1/2") in w.ringing
    w.feed(E.AgentOfferFailed(key, "a1/2", "failed: 404", False, 404))
    w.feed(E.CallerAcked(key))
    assert w.services[key].service == "voicemail"


def test_a_closed_direct_number_plays_its_closed_service() -> None:
    w = World(closed_calendars={"office"})
    key = w.invite("150")
    assert not w.ringing
    w.feed(E.CallerAcked(key))
    assert (w.services[key].service, w.services[key].agent) == ("direct-closed", "a1")


def test_a_direct_number_without_voicemail_says_goodbye() -> None:
    w = World()
    key = w.invite("151")
    w.advance(21)
    w.feed(E.CallerAcked(key))
    assert w.services[key].service == "goodbye"


def test_the_caller_hanging_up_while_the_agent_rings_stops_the_ringing() -> None:
    w = World()
    w.login("a1")
    key = w.invite("150")
    w.feed(E.CallerGone(key, "cancelled"))
    assert not w.ringing and w.summaries[key].outcome == "cancelled"
    assert state(w, "a1") == "ready"


# ---------------------------------------------------------------------- the ACD beside them


def test_dialling_out_withdraws_a_ringing_offer_and_a_paused_agent_stays_paused() -> None:
    w = World()
    w.login("a0")
    inbound = w.queued_call()
    assert (inbound, "a0") in w.ringing
    key = placed(w)
    assert (inbound, "a0") not in w.ringing and state(w, "a0") == "busy"
    assert inbound in {c.id for c in w.acd.waiting()}  # the caller keeps waiting
    w.feed(E.CallerGone(key, "cancelled"))
    w.acd_do("agent_pause", "a0", "lunch")
    paused = placed(w)
    assert state(w, "a0") == "busy"
    w.feed(E.AgentOfferFailed(paused, CUSTOMER, "failed: 404 Not Found", False, 404))
    view = w.acd.agent_view("a0")
    assert (view.state.value, view.pause_reason) == ("paused", "lunch")


OUT_OPS = st.lists(
    st.one_of(
        st.tuples(st.just("place"), st.sampled_from(["a0", "a1", "a2"])),
        st.tuples(st.just("dial"), st.sampled_from(["a0", "a1", "a2"])),
        st.tuples(st.just("direct"), st.sampled_from(["150", "151"])),
        st.tuples(st.just("inbound"), st.just("100")),
        st.tuples(st.just("ack"), st.integers(0, 9)),
        st.tuples(st.just("answer"), st.integers(0, 9)),
        st.tuples(st.just("fail"), st.integers(0, 9)),
        st.tuples(st.just("caller_bye"), st.integers(0, 9)),
        st.tuples(st.just("far_bye"), st.integers(0, 9)),
        st.tuples(st.just("service_done"), st.integers(0, 9)),
        st.tuples(st.just("advance"), st.floats(0.1, 40.0)),
    ),
    max_size=50,
)


@settings(max_examples=200, deadline=None)
@given(OUT_OPS)
def test_random_orders_of_calls_outside_the_queues_never_leave_an_agent_busy(ops: list) -> None:
    w = World(acd=make_acd(3, ring_timeout=15, wrap_up=5))
    w.login("a0", "a1", "a2")
    started: list[str] = []
    n = 0

    def pick(items: list, i: int):  # noqa: ANN202
        return items[i % len(items)] if items else None

    for op, arg in ops:
        live = sorted(w.core.calls)
        if op == "place":
            key = w.place(arg, NUMBER)
            if key in w.core.calls:
                started.append(key)
        elif op == "dial":
            n += 1
            refusal, actions = w.core.dial(E.Dial(f"d{n}", arg, f"sip:{arg}", NUMBER), w.now)
            w.run(actions)
            if refusal is None:
                started.append(f"d{n}")
        elif op in ("direct", "inbound"):
            started.append(w.invite(arg))
        elif op == "ack" and (key := pick(live, arg)):
            w.feed(E.CallerAcked(key))
        elif op == "answer" and (pair := pick(sorted(w.ringing), arg)):
            w.feed(E.AgentAnswered(*pair))
        elif op == "fail" and (pair := pick(sorted(w.ringing), arg)):
            w.feed(E.AgentOfferFailed(*pair, "rejected: 486 Busy Here", True, 486))
        elif op == "caller_bye" and (key := pick(live, arg)):
            w.feed(E.CallerGone(key, "hangup"))
        elif op == "far_bye" and (pair := pick(sorted(w.bridged.items()), arg)):
            w.feed(E.AgentGone(*pair, "hangup"))
        elif op == "service_done" and (key := pick(live, arg)):
            w.feed(E.ServiceFinished(key))
        elif op == "advance":
            w.advance(arg)
        for (key, _), _device in w.ringing.items():
            assert key in w.core.calls, "a device rings for a call that ended"
    for key in list(w.core.calls):
        w.feed(E.CallerGone(key, "hangup"))
        call = w.core.calls.get(key)
        if call is not None:  # a click-to-call has no caller leg: its agent hangs up
            for agent in list(call.offers):
                w.feed(E.AgentGone(key, agent, "hangup"))
    w.advance(120)
    assert not w.core.calls and not w.ringing and not w.bridged
    assert set(w.summaries) == set(started), "a call without (or with an extra) summary"
    for agent in ("a0", "a1", "a2"):
        assert state(w, agent) == "ready", f"{agent} stuck in {state(w, agent)}"


def test_the_acd_refuses_to_engage_an_agent_who_is_not_ready_when_asked_to() -> None:
    w = World()
    with pytest.raises(AcdError, match="offline, not ready"):
        w.acd.agent_engaged("a0", "x", now=w.now, only_ready=True)
    w.login("a0")
    assert w.acd.agent_engaged("a0", "x", now=w.now, only_ready=True)
    assert state(w, "a0") == "busy"
