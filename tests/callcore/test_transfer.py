"""Transfers, consults and hold in virtual time (SPEC S13; seed 003: blind "koppla",
attended "avisera"), with the call-log events of each step and the statistics they give."""

from __future__ import annotations

from datetime import UTC, datetime

from callcore import actions as A
from callcore import events as E
from callcore import transfer as X
from calllog import summarize
from reports import Rollup
from tests.callcore.world import T0, World, make_acd


def connected(w: World, agent: str = "a0", number: str = "100") -> str:
    """A caller queued on ``number`` and answered by ``agent`` (the only one logged in)."""
    w.login(agent)
    key = w.queued_call(number)
    w.feed(E.AgentAnswered(key, agent))
    assert w.bridged[key] == agent
    return key


def transfer_kinds(w: World, key: str) -> list[str]:
    return [k for k in w.kinds(key) if k.startswith(("transfer", "consult", "hold", "resume"))]


def test_blind_transfer_to_a_queue_requeues_the_caller_in_their_old_place() -> None:
    w = World(acd=make_acd(wrap_up=30))
    key = connected(w)
    w.advance(60)
    w.login("a1")
    r = w.control(key, "a0", "transfer", "101", via=X.Via.REFER)
    assert r.status == 202
    # The agent's leg goes, their talk ends (wrap-up), the caller waits in q2 with music.
    assert key not in w.bridged and w.music[key] == "hold-music"
    assert w.acd.agent_view("a0").state == "wrap_up"
    assert w.notified == [(key, 100), (key, 200)]
    arrived = [e for e in w.log if e.call_id == key and e.kind == "arrived"]
    assert [e.queue for e in arrived] == ["q", "q2"]
    assert arrived[1].data is not None and arrived[1].data["arrived_at"] == T0  # kept place
    assert w.ringing == {(key, "a1"): "sip:a1"}
    w.feed(E.AgentAnswered(key, "a1"))
    assert w.bridged[key] == "a1"
    w.advance(90)
    w.feed(E.CallerGone(key, "hangup"))
    assert transfer_kinds(w, key) == [
        "transfer_requested",
        "transfer_started",
        "transfer_completed",
    ]
    s = w.summaries[key]
    assert (s.outcome, s.agent, s.queue) == ("answered", "a1", "q2")
    assert s.talk_seconds == 150.0  # the caller talked 60 s with a0 and 90 s with a1


def test_a_caller_transferred_to_a_queue_is_served_before_later_callers() -> None:
    w = World(acd=make_acd(wrap_up=30))
    key = connected(w)
    w.advance(10)
    later = w.queued_call("101")  # called after our caller, waits in q2
    w.control(key, "a0", "transfer", "101")
    w.login("a1")
    assert (key, "a1") in w.ringing and (later, "a1") not in w.ringing


def test_statistics_give_each_agent_their_own_talk_and_each_queue_one_offer() -> None:
    # A (a0) talks 60 s and transfers to queue 101, where B (a1) answers and talks 90 s.
    w = World(acd=make_acd(wrap_up=30))
    key = connected(w)
    w.advance(60)
    w.login("a1")
    w.control(key, "a0", "transfer", "101")
    w.advance(5)
    w.feed(E.AgentAnswered(key, "a1"))
    w.advance(90)
    w.feed(E.CallerGone(key, "hangup"))
    w.advance(60)  # wrap-ups end
    r = Rollup("UTC")
    r.add_all(sorted(w.log, key=lambda e: e.at))
    queues = {f.queue: f for f in r.queue_figures()}
    assert (queues["q"].offered, queues["q"].answered, queues["q"].talk) == (1, 1, 60.0)
    assert (queues["q2"].offered, queues["q2"].answered, queues["q2"].talk) == (1, 1, 90.0)
    assert queues["q"].transferred_out == 1 and queues["q2"].transferred_in == 1
    assert queues["q2"].answer_wait == 5.0  # the wait in q2 only, not a0's talk
    agents = {f.agent: f for f in r.agent_figures()}
    assert (agents["a0"].answered, agents["a0"].talk, agents["a0"].transferred) == (1, 60.0, 1)
    assert (agents["a1"].answered, agents["a1"].talk, agents["a1"].transferred) == (1, 90.0, 0)
    s = summarize([e for e in w.log if e.call_id == key])
    assert s.wait_seconds == 5.0 and s.talk_seconds == 150.0 and s.agent == "a1"


def test_blind_transfer_to_an_agent_rings_them_and_bridges_on_answer() -> None:
    w = World()
    key = connected(w)
    w.login("a1")
    w.advance(30)
    assert w.control(key, "a0", "transfer", "a1").status == 202
    assert w.ringing[(key, "transfer")] == "sip:a1" and w.music[key] == "hold-music"
    assert w.core.calls[key].agent == "a0"  # still a0's until the target answers
    assert w.acd.agent_view("a1").state == "busy"  # the ACD offers a1 nothing else meanwhile
    w.advance(4)
    w.feed(E.AgentAnswered(key, "transfer"))
    assert w.bridged[key] == "transfer" and key not in w.music
    assert w.core.calls[key].agent == "a1"
    w.advance(45)
    w.feed(E.AgentGone(key, "transfer", "hangup"))
    assert w.summaries[key].ended_by == "agent"
    assert w.acd.agent_view("a1").state == "ready"
    done = next(e for e in w.log if e.kind == "transfer_completed")
    assert (done.agent, done.data and done.data["to_agent"]) == ("a0", "a1")
    r = Rollup("UTC")
    r.add_all(w.log)
    agents = {f.agent: f for f in r.agent_figures()}
    assert agents["a0"].talk == 34.0 and agents["a1"].talk == 45.0
    assert agents["a1"].answered == 1 and agents["a1"].transferred_in == 1


def test_transfer_to_an_agent_who_is_not_logged_in_is_refused_and_nothing_changes() -> None:
    w = World()
    key = connected(w)
    r = w.control(key, "a0", "transfer", "a2")
    assert r.status == 404 and "not logged in" in r.reason
    assert w.bridged[key] == "a0" and transfer_kinds(w, key) == ["transfer_failed"]


def test_a_busy_target_brings_the_caller_back_to_the_agent() -> None:
    w = World()
    key = connected(w)
    w.control(key, "a0", "transfer", "0812345678", via=X.Via.REFER)
    assert w.ringing[(key, "transfer")] == "tel:0812345678"
    w.feed(E.AgentOfferFailed(key, "transfer", "rejected: 486 Busy Here", rejected=True))
    assert w.bridged[key] == "a0" and key not in w.music
    assert w.notified == [(key, 100), (key, 486)]
    assert transfer_kinds(w, key) == [
        "transfer_requested",
        "transfer_started",
        "transfer_failed",
        "transfer_returned",
    ]
    failed = next(e for e in w.log if e.kind == "transfer_failed")
    assert failed.data is not None and failed.data["status"] == 486
    assert w.acd.agent_view("a0").state == "busy"  # never left the agent


def test_no_answer_from_the_target_returns_the_caller_after_the_ring_timeout() -> None:
    w = World()
    key = connected(w)
    w.control(key, "a0", "transfer", "0812345678", via=X.Via.REFER)
    w.advance(29)
    assert (key, "transfer") in w.ringing
    w.advance(2)
    assert (key, "transfer") not in w.ringing and w.bridged[key] == "a0"
    assert w.notified[-1] == (key, 408)


def test_a_failed_transfer_rings_the_agent_again_if_their_phone_hung_up() -> None:
    w = World()
    key = connected(w)
    w.control(key, "a0", "transfer", "0812345678", via=X.Via.REFER)
    w.feed(E.AgentGone(key, "a0", "hangup"))  # phones often hang up right after 202
    assert key in w.core.calls and w.music[key] == "hold-music"
    w.feed(E.AgentOfferFailed(key, "transfer", "failed: 503 Service Unavailable"))
    assert w.ringing[(key, "a0")] == "sip:a0"
    w.feed(E.AgentAnswered(key, "a0"))
    assert w.bridged[key] == "a0"
    assert transfer_kinds(w, key)[-1] == "transfer_returned"


def test_if_even_the_agent_is_not_reached_the_caller_goes_back_to_the_queue() -> None:
    w = World()
    key = connected(w)
    w.control(key, "a0", "transfer", "0812345678")
    w.feed(E.AgentGone(key, "a0", "hangup"))
    w.feed(E.AgentOfferFailed(key, "transfer", "rejected: 486 Busy Here", rejected=True))
    w.advance(31)  # the agent's phone does not answer either
    call = w.core.calls[key]
    assert call.phase == "queued" and call.queue == "q" and w.music[key] == "hold-music"
    assert [e.queue for e in w.log if e.call_id == key and e.kind == "arrived"] == ["q", "q"]


def test_transfer_to_a_service_runs_it_for_the_caller() -> None:
    w = World()
    key = connected(w)
    assert w.control(key, "a0", "transfer", "192").status == 202
    assert w.services[key].service == "voicemail" and key not in w.bridged
    assert w.acd.agent_view("a0").state != "busy"


def test_hold_and_resume_from_the_api() -> None:
    w = World()
    key = connected(w)
    assert w.control(key, "a0", "hold").ok
    assert key not in w.bridged and w.music[key] == "hold-music"
    assert w.control(key, "a0", "resume").ok
    assert w.bridged[key] == "a0" and key not in w.music
    assert transfer_kinds(w, key) == ["hold", "resume"]


def test_only_the_calls_own_agent_may_act_on_it() -> None:
    w = World()
    key = connected(w)
    w.login("a1")
    assert w.control(key, "a1", "hold").status == 409
    assert w.control("nope", "a0", "hold").status == 404
    assert w.control(key, "a0", "toggle").status == 409  # no consult to toggle with


def test_attended_transfer_consult_toggle_and_complete() -> None:
    w = World()
    key = connected(w)
    w.login("a1")
    w.advance(20)
    assert w.control(key, "a0", "consult", "a1").status == 202
    assert w.ringing[(key, "consult")] == "sip:a1" and w.music[key] == "hold-music"
    w.advance(3)
    w.feed(E.AgentAnswered(key, "consult"))
    assert w.agents_bridged[key] == ("a0", "consult")  # the agent talks to a1
    assert w.control(key, "a0", "toggle").ok  # back to the caller, a1 hears music
    assert w.bridged[key] == "a0" and w.held_parties[(key, "consult")] == "hold-music"
    assert key not in w.music
    assert w.control(key, "a0", "toggle").ok
    assert w.agents_bridged[key] == ("a0", "consult") and w.music[key] == "hold-music"
    w.advance(10)
    assert w.control(key, "a0", "complete").ok
    assert w.bridged[key] == "consult" and key not in w.music
    assert not w.held_parties
    assert w.core.calls[key].agent == "a1"
    assert transfer_kinds(w, key) == [
        "consult_started",
        "consult_connected",
        "consult_toggled",
        "consult_toggled",
        "consult_ended",
        "transfer_completed",
    ]
    done = next(e for e in w.log if e.kind == "transfer_completed")
    assert done.data is not None and done.data["attended"] is True
    w.advance(50)
    w.feed(E.CallerGone(key, "hangup"))
    r = Rollup("UTC")
    r.add_all(w.log)
    agents = {f.agent: f for f in r.agent_figures()}
    assert agents["a0"].talk == 33.0 and agents["a1"].talk == 50.0


def test_cancelling_a_consult_returns_the_agent_to_the_caller() -> None:
    w = World()
    key = connected(w)
    w.control(key, "a0", "consult", "0812345678")
    w.feed(E.AgentAnswered(key, "consult"))
    assert w.control(key, "a0", "cancel_consult").ok
    assert w.bridged[key] == "a0" and key not in w.music and (key, "consult") not in w.ringing
    assert transfer_kinds(w, key)[-1] == "consult_ended"
    ended = [e for e in w.log if e.kind == "consult_ended"][-1]
    assert ended.data is not None and ended.data["reason"] == "cancelled"
    assert w.acd.agent_view("a0").state == "busy"


def test_a_consult_nobody_answers_returns_the_agent_to_the_caller() -> None:
    w = World()
    key = connected(w)
    w.control(key, "a0", "consult", "0812345678")
    w.advance(31)
    assert w.bridged[key] == "a0"
    assert "failed" in str((w.log[-1].data or {}).get("reason"))


def test_a_consult_to_a_queue_is_refused() -> None:
    w = World()
    key = connected(w)
    assert w.control(key, "a0", "consult", "101").status == 409
    assert w.bridged[key] == "a0"


def test_phone_consult_then_refer_with_replaces_completes_and_ends_both_agent_dialogs() -> None:
    w = World()
    key = connected(w)
    w.login("a1")
    assert w.control(key, "a0", "hold", via=X.Via.PHONE).ok  # the phone's hold re-INVITE
    # The agent's phone dials a1 through Vaxel: a consult of the held call.
    assert w.control(key, "a0", "consult", "a1", via=X.Via.PHONE).status == 202
    w.feed(E.AgentAnswered(key, "consult"))
    assert w.consult_answers == [(key, 200)]
    assert w.agents_bridged[key] == ("consult-phone", "consult")
    # REFER with Replaces on either dialog: complete.
    assert w.control(key, "a0", "complete", via=X.Via.REFER).status == 202
    assert w.bridged[key] == "consult" and w.notified == [(key, 100), (key, 200)]
    dropped = [a.agent for a in w.actions if isinstance(a, A.DropAgent) and a.key == key]
    assert "a0" in dropped and "consult-phone" in dropped


def test_a_phone_consult_to_a_busy_party_is_refused_and_the_caller_stays_on_hold() -> None:
    w = World()
    key = connected(w)
    w.control(key, "a0", "hold", via=X.Via.PHONE)
    w.control(key, "a0", "consult", "0812345678", via=X.Via.PHONE)
    w.feed(E.AgentOfferFailed(key, "consult", "rejected: 486 Busy Here", rejected=True))
    assert w.consult_answers[0] == (key, 486)
    assert w.music[key] == "hold-music" and key not in w.bridged
    assert w.control(key, "a0", "resume", via=X.Via.PHONE).ok
    assert w.bridged[key] == "a0"


def test_the_caller_hanging_up_during_a_transfer_ends_everything() -> None:
    w = World()
    key = connected(w)
    w.control(key, "a0", "transfer", "0812345678")
    w.feed(E.CallerGone(key, "hangup"))
    assert key in w.summaries and not [k for k in w.ringing if k[0] == key]
    assert w.acd.agent_view("a0").state != "busy"


def test_log_times_are_in_order() -> None:
    w = World()
    key = connected(w)
    w.control(key, "a0", "hold")
    times = [e.at for e in w.log]
    assert times == sorted(times) and all(t >= datetime.fromtimestamp(T0, UTC) for t in times)


def test_a_phone_that_hangs_up_on_the_failed_refer_is_rung_again() -> None:
    # baresip 1.0 ends its call when the REFER's NOTIFY says 486.
    w = World()
    key = connected(w)
    w.control(key, "a0", "transfer", "0812345678", via=X.Via.REFER)
    w.feed(E.AgentOfferFailed(key, "transfer", "rejected: 486 Busy Here", rejected=True))
    w.advance(0.2)
    w.feed(E.AgentGone(key, "a0", "hangup"))
    assert key in w.core.calls and w.music[key] == "hold-music"
    assert w.ringing[(key, "a0")] == "sip:a0"
    w.feed(E.AgentAnswered(key, "a0"))
    assert w.bridged[key] == "a0" and w.core.calls[key].transfer is None
    # After the grace a hang-up ends the call as usual.
    w.advance(10)
    w.feed(E.AgentGone(key, "a0", "hangup"))
    assert w.summaries[key].ended_by == "agent"


def test_refer_to_and_replaces_are_parsed_as_phones_send_them() -> None:
    from vaxel.calls.transfers import parse_refer_to, parse_replaces

    assert parse_refer_to("<sip:101@127.0.0.1:5060>") == ("101", {})
    user, headers = parse_refer_to(
        "<sip:1003@127.0.0.1:5060?Replaces=abc%40host%3Bto-tag%3Dt1%3Bfrom-tag%3Df1>"
    )
    assert user == "1003"
    assert parse_replaces(headers["replaces"]) == ("abc@host", {"t1", "f1"})


def test_transfer_to_a_busy_agent_is_refused() -> None:
    w = World()
    key = connected(w)
    w.login("a1")
    w.acd_do("agent_pause", "a1", "lunch")
    r = w.control(key, "a0", "transfer", "a1")
    assert r.status == 404 and "paused" in r.reason
    assert w.bridged[key] == "a0"


def test_a_failed_transfer_to_an_agent_frees_them_again() -> None:
    w = World()
    key = connected(w)
    w.login("a1")
    w.control(key, "a0", "consult", "a1")
    assert w.acd.agent_view("a1").state == "busy"
    w.feed(E.AgentOfferFailed(key, "consult", "rejected: 603 Decline", rejected=True))
    assert w.acd.agent_view("a1").state == "ready" and w.bridged[key] == "a0"
