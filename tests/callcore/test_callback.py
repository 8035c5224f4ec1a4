"""Callback in virtual time (SPEC S8): booked while waiting, the place kept, the agent first
and then the customer, retries, failure, and the limits."""

from __future__ import annotations

from callcore import CUSTOMER, CallbackOptions, QueueOptions
from callcore import events as E
from tests.callcore.world import World, make_acd

CB = QueueOptions(callback=CallbackOptions(key="5", attempts=2, retry_interval=60, ring_timeout=20))


def booked(w: World, number: str = "0709000000") -> tuple[str, str]:
    """A caller who waits, presses 5 and books ``number``: (their call, the attempt)."""
    key = w.queued_call()
    w.feed(E.CallerKeyed(key, "5"))
    assert w.services[key].service == "callback-booking"
    w.feed(E.CallbackBooked(key, number))
    (attempt,) = [k for k, c in w.core.calls.items() if c.callback is not None and k != key]
    return key, attempt


def test_the_callback_key_books_a_callback_that_keeps_the_callers_place() -> None:
    w = World(options={"q": CB})
    first = w.queued_call()
    w.advance(30)
    second = w.queued_call()
    w.feed(E.CallerKeyed(first, "5"))
    w.feed(E.CallbackBooked(first, "0709000000"))
    attempt = next(k for k, c in w.core.calls.items() if c.callback is not None)
    waiting = [c.id for c in w.acd.waiting()]
    assert waiting == [attempt, second]  # the callback is ahead of the later caller
    assert w.services[first].service == "callback-confirm"
    w.feed(E.ServiceFinished(first))
    w.advance(1)
    s = w.summaries[first]
    assert s.outcome == "callback_requested" and "abandoned" not in w.kinds(first)
    assert "withdrawn" in w.kinds(first)


def test_other_keys_while_waiting_do_nothing() -> None:
    w = World(options={"q": CB})
    key = w.queued_call()
    w.feed(E.CallerKeyed(key, "1"))
    assert key not in w.services and w.core.calls[key].phase == "queued"


def test_the_agent_hears_the_number_first_then_the_customer_is_called_and_bridged() -> None:
    w = World(options={"q": CB})
    _, attempt = booked(w)
    w.login("a0")
    assert (attempt, "a0") in w.ringing
    w.feed(E.AgentAnswered(attempt, "a0"))
    assert w.briefed == [(attempt, "a0", "0709000000")]
    assert (attempt, CUSTOMER) not in w.ringing  # not before the agent was told
    w.feed(E.AgentBriefed(attempt, "a0"))
    assert w.ringing[(attempt, CUSTOMER)] == "tel:0709000000"
    w.feed(E.AgentAnswered(attempt, CUSTOMER))
    assert w.bridged == {attempt: "a0"}
    w.advance(90)
    w.feed(E.AgentGone(attempt, CUSTOMER, "hangup"))
    s = w.summaries[attempt]
    assert (s.outcome, s.agent, s.ended_by, s.talk_seconds) == ("answered", "a0", "caller", 90.0)
    assert "callback_connected" in w.kinds(attempt)
    assert w.acd.agent_view("a0").state.value in ("wrap_up", "ready")
    assert not w.core.pending_callbacks


def test_a_customer_who_does_not_answer_is_retried_then_the_callback_fails() -> None:
    w = World(options={"q": CB})
    w.acd = make_acd(wrap_up=0)
    origin, attempt = booked(w)
    w.login("a0")
    w.feed(E.AgentAnswered(attempt, "a0"))
    w.feed(E.AgentBriefed(attempt, "a0"))
    w.advance(21)  # the customer's phone rang out
    assert (attempt, CUSTOMER) not in w.ringing and attempt in w.summaries
    assert w.summaries[attempt].outcome == "callback"
    (retry,) = [e for e in w.log if e.kind == "callback_retry"]
    assert retry.data is not None and retry.data["attempt"] == 1
    assert w.acd.agent_view("a0").state.value == "ready"  # the agent is free meanwhile
    w.advance(58)  # the retry is due 60 s after the attempt failed (at 20 s)
    assert not [k for k, c in w.core.calls.items() if c.callback]
    w.advance(2)
    (second,) = [k for k, c in w.core.calls.items() if c.callback]
    assert second != attempt and w.core.calls[second].callback.attempt == 2  # type: ignore[union-attr]
    w.feed(E.AgentAnswered(second, "a0"))
    w.feed(E.AgentBriefed(second, "a0"))
    w.feed(E.AgentOfferFailed(second, CUSTOMER, "rejected: 486 Busy Here", rejected=True))
    (failed,) = [e for e in w.log if e.kind == "callback_failed"]
    assert failed.data is not None and failed.data["attempts"] == 2
    assert not w.core.pending_callbacks and not [k for k, c in w.core.calls.items() if c.callback]
    assert origin in w.summaries or origin in w.core.calls


def test_an_agent_who_answers_while_the_caller_books_takes_the_call() -> None:
    w = World(options={"q": CB})
    w.login("a0")
    key = w.queued_call()
    w.feed(E.CallerKeyed(key, "5"))
    w.feed(E.AgentAnswered(key, "a0"))
    assert w.bridged == {key: "a0"} and key not in w.services  # the booking was stopped
    w.feed(E.CallbackBooked(key, "0709000000"))  # too late: nothing is booked
    assert not w.core.pending_callbacks


def test_one_pending_callback_per_number_and_queue() -> None:
    w = World(options={"q": CB})
    booked(w, "0709000000")
    again = w.queued_call()
    w.feed(E.CallerKeyed(again, "5"))
    w.feed(E.CallbackBooked(again, "0709000000"))
    attempts = [k for k, c in w.core.calls.items() if c.callback is not None]
    assert len(attempts) == 1
    (dup,) = [e for e in w.log if e.call_id == again and e.kind == "callback_requested"]
    assert dup.data is not None and dup.data["duplicate"] is True


def test_nothing_booked_puts_the_caller_back_to_waiting_in_the_same_place() -> None:
    w = World(options={"q": CB})
    key = w.queued_call()
    w.feed(E.CallerKeyed(key, "5"))
    w.feed(E.CallbackBooked(key, None))
    assert w.core.calls[key].phase == "queued" and key in w.music
    assert [c.id for c in w.acd.waiting()] == [key]


def test_a_pending_callback_is_stored_updated_for_its_retry_and_dropped_when_done() -> None:
    w = World(options={"q": CB})
    w.acd = make_acd(wrap_up=0)
    origin, attempt = booked(w)
    assert w.stored[origin].next_at is None and w.stored[origin].callback.attempt == 1
    w.login("a0")
    w.feed(E.AgentAnswered(attempt, "a0"))
    w.feed(E.AgentBriefed(attempt, "a0"))
    w.advance(21)
    assert w.stored[origin].callback.attempt == 2 and w.stored[origin].next_at == w.now + 59
    w.advance(60)
    (second,) = [k for k, c in w.core.calls.items() if c.callback]
    w.feed(E.AgentAnswered(second, "a0"))
    w.feed(E.AgentBriefed(second, "a0"))
    w.feed(E.AgentAnswered(second, CUSTOMER))
    assert origin not in w.stored


def test_callbacks_restored_after_a_restart_keep_their_place_and_their_retry_time() -> None:
    before = World(options={"q": CB})
    origin, _ = booked(before)
    pending = before.stored[origin]
    later = pending.__class__(pending.callback, "q", "100", "sv", next_at=before.now + 300)

    after = World(options={"q": CB})
    after.now = before.now + 60  # the server was down a minute
    newcomer = after.queued_call()
    after.run(after.core.restore_callbacks([pending], after.now))
    (restored,) = [k for k, c in after.core.calls.items() if c.callback]
    assert restored.endswith(";cb1.1")  # a fresh id: the old one is closed in the log
    assert [c.id for c in after.acd.waiting()] == [restored, newcomer]  # its place kept

    third = World(options={"q": CB})
    third.now = before.now + 60
    third.run(third.core.restore_callbacks([later], third.now))
    assert not [k for k, c in third.core.calls.items() if c.callback]
    third.advance(241)
    assert [k for k, c in third.core.calls.items() if c.callback]


def test_an_agent_on_a_phone_number_gets_the_number_by_sms_and_goes_to_wrap_up() -> None:
    w = World(options={"q": CB})
    w.acd = make_acd(wrap_up=30)
    origin, attempt = booked(w, "0709000000")
    w.login("a0", device="tel:0700111222")
    assert w.sms == [("0700111222", "Återuppringning från kön q: ring 0709000000")]
    assert not w.ringing  # no call to the agent, none to the customer
    assert w.acd.agent_view("a0").state.value == "wrap_up"  # calling back is the agent's
    assert "callback_sms_sent" in w.kinds(attempt) and origin not in w.stored
    assert w.summaries[attempt].outcome == "answered"


def test_a_refused_sms_tries_another_agent() -> None:
    w = World(options={"q": CB})
    w.sms_error = "gateway answered 503 Service Unavailable"
    booked(w)
    w.login("a0", device="tel:0700111222")
    (failed,) = [e for e in w.log if e.kind == "offer_failed"]
    assert failed.data is not None and "SMS" in failed.data["reason"]
    assert w.acd.agent_view("a0").state.value == "ready"


def test_a_closed_queue_holds_its_callbacks_until_it_opens() -> None:
    w = World(options={"q": CB})
    origin, attempt = booked(w)
    w.closed_until["q"] = w.now + 3600  # closes (e.g. the evening) before anyone is free
    w.login("a0")
    assert not w.ringing and attempt not in w.core.calls  # not offered while closed
    assert w.stored[origin].next_at == w.now + 3600
    (held,) = [e for e in w.log if e.kind == "callback_held"]
    assert held.data is not None and held.data["until"] == w.now + 3600
    w.advance(3601)  # it opens: the callback is back, in its old place, and offered
    (again,) = [k for k, c in w.core.calls.items() if c.callback]
    assert again != attempt and (again, "a0") in w.ringing


def test_a_queue_that_cancels_on_closing_drops_its_callbacks() -> None:
    from dataclasses import replace

    opts = QueueOptions(callback=replace(CB.callback, when_closed="cancel"))  # type: ignore[arg-type]
    w = World(options={"q": opts})
    origin, _ = booked(w)
    w.closed_until["q"] = None
    w.login("a0")
    assert [e.kind for e in w.log if e.kind.startswith("callback_c")] == ["callback_cancelled"]
    assert origin not in w.stored and not w.core.pending_callbacks
