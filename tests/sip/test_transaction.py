"""Transaction state machines and timers A-K, in virtual time (RFC 3261 section 17)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sip.message import SipRequest, SipResponse
from sip.parser import parse_message, serialize
from sip.timers import TimerQueue, Timers
from sip.useragent import (
    Event,
    IncomingRequest,
    RequestTimeout,
    ResponseReceived,
    UserAgent,
)

PEER = ("10.0.0.2", 5062)
Sent = tuple[SipRequest | SipResponse, tuple[str, int], str]


# ---------------------------------------------------------------- harness (shared by UA tests)


class Clock:
    """Drives one UserAgent in virtual time and records what it sends, with timestamps."""

    def __init__(self, ua: UserAgent) -> None:
        self.ua = ua
        self.now = 0.0
        self.sent: list[tuple[float, Sent]] = []

    def collect(self) -> list[Sent]:
        out = self.ua.messages_to_send()
        self.sent.extend((self.now, item) for item in out)
        return out

    def run_until(self, end: float) -> None:
        """Fire every timer up to ``end`` at its own deadline."""
        while True:
            deadline = self.ua.get_timer()
            if deadline is None or deadline > end:
                break
            self.now = max(self.now, deadline)
            self.ua.handle_timer(self.now)
            self.collect()
        self.now = end

    def feed(self, data: bytes | SipRequest | SipResponse, transport: str = "UDP") -> list[Sent]:
        if isinstance(data, bytes):
            self.ua.receive_bytes(data, PEER, transport, self.now)
        else:
            self.ua.receive(data, PEER, transport, self.now)
        return self.collect()

    def events(self) -> list[Event]:
        out = []
        while (event := self.ua.next_event()) is not None:
            out.append(event)
        return out

    def times_sent(self, match: Callable[[SipRequest | SipResponse], bool]) -> list[float]:
        return [t for t, (msg, _, _) in self.sent if match(msg)]


def is_request(method: str) -> Callable[[SipRequest | SipResponse], bool]:
    return lambda m: isinstance(m, SipRequest) and m.method == method


def is_status(status: int) -> Callable[[SipRequest | SipResponse], bool]:
    return lambda m: isinstance(m, SipResponse) and m.status == status


def make_ua(t1: float = 0.5, t2: float = 4.0, t4: float = 5.0, **kw: object) -> UserAgent:
    return UserAgent(local_host="10.0.0.1", local_port=5060, timers=Timers(t1, t2, t4), **kw)


def request_bytes(
    method: str,
    *,
    branch: str = "z9hG4bKabc1",
    call_id: str = "call-1@10.0.0.2",
    cseq: int = 1,
    cseq_method: str | None = None,
    from_tag: str = "ft1",
    to_tag: str | None = None,
    via_host: str = "10.0.0.2",
    via_port: int = 5062,
    transport: str = "UDP",
    extra: str = "",
    body: bytes = b"",
) -> bytes:
    to = "<sip:queue@10.0.0.1>" + (f";tag={to_tag}" if to_tag else "")
    head = (
        f"{method} sip:queue@10.0.0.1 SIP/2.0\r\n"
        f"Via: SIP/2.0/{transport} {via_host}:{via_port};branch={branch};rport\r\n"
        "Max-Forwards: 70\r\n"
        f"From: <sip:caller@10.0.0.2>;tag={from_tag}\r\n"
        f"To: {to}\r\n"
        f"Call-ID: {call_id}\r\n"
        f"CSeq: {cseq} {cseq_method or method}\r\n"
        "Contact: <sip:caller@10.0.0.2:5062>\r\n"
        f"{extra}"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


def response_to(request: SipRequest, status: int, to_tag: str | None = "remote1") -> bytes:
    """What a peer UAS would answer to one of our requests."""
    h = request.headers
    to = h.get("To") or ""
    if to_tag and status > 100 and ";tag=" not in to:
        to += f";tag={to_tag}"
    lines = [f"SIP/2.0 {status} Whatever"]
    lines += [f"Via: {v}" for v in h.get_all("Via")]
    lines += [f"From: {h.get('From')}", f"To: {to}", f"Call-ID: {h.get('Call-ID')}"]
    lines += [f"CSeq: {h.get('CSeq')}", "Contact: <sip:peer@10.0.0.2:5062>", "Content-Length: 0"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def start_invite(clock: Clock, transport: str = "UDP") -> tuple[str, SipRequest]:
    handle = clock.ua.invite(
        target_uri="sip:agent@10.0.0.2:5062",
        destination=PEER,
        transport=transport,
        from_uri="sip:queue@10.0.0.1",
        from_display="Support",
        to_uri="sip:agent@10.0.0.2",
        body=b"v=0\r\n",
        now=clock.now,
    )
    (msg, dest, tr), *_ = clock.collect()
    assert isinstance(msg, SipRequest) and dest == PEER and tr == transport
    return handle, msg


def start_options(clock: Clock, transport: str = "UDP") -> tuple[str, SipRequest]:
    handle = clock.ua.request(
        "OPTIONS",
        target_uri="sip:trunk@10.0.0.2",
        destination=PEER,
        transport=transport,
        from_uri="sip:vaxel@10.0.0.1",
        to_uri="sip:trunk@10.0.0.2",
        now=clock.now,
    )
    (msg, _, _), *_ = clock.collect()
    assert isinstance(msg, SipRequest)
    return handle, msg


def expected_schedule(first: float, cap: float | None, end: float) -> list[float]:
    """Send times 0, first, first+2*first... (each interval doubled, capped) strictly before end."""
    times, t, interval = [0.0], first, first
    while t < end:
        times.append(t)
        interval = interval * 2 if cap is None else min(interval * 2, cap)
        t += interval
    return times


# ---------------------------------------------------------------- timers


def test_timer_values_derive_from_t1_t2_t4() -> None:
    t = Timers()
    assert (t.a, t.b, t.e, t.f, t.g, t.h) == (0.5, 32.0, 0.5, 32.0, 0.5, 32.0)
    assert (t.d(False), t.i(False), t.j(False), t.k(False)) == (32.0, 5.0, 32.0, 5.0)
    assert (t.d(True), t.i(True), t.j(True), t.k(True)) == (0.0, 0.0, 0.0, 0.0)
    fast = Timers(t1=0.1, t2=0.4, t4=1.0)
    assert (fast.b, fast.f, fast.j(False), fast.k(False)) == (6.4, 6.4, 6.4, 1.0)


def test_timers_reject_inconsistent_values() -> None:
    with pytest.raises(ValueError, match="t1"):
        Timers(t1=5.0, t2=4.0)


def test_timer_queue_skips_cancelled_entries_and_runs_in_deadline_order() -> None:
    q = TimerQueue()
    fired: list[str] = []
    q.schedule(2.0, lambda w: fired.append("b"))
    cancelled = q.schedule(1.0, lambda w: fired.append("x"))
    q.schedule(1.5, lambda w: fired.append("a"))
    cancelled.cancel()
    assert q.next_deadline() == 1.5
    q.run_due(10.0)
    assert fired == ["a", "b"]
    assert q.next_deadline() is None


# ---------------------------------------------------------------- INVITE client


def test_invite_client_retransmits_with_doubling_until_timer_b_then_times_out() -> None:
    clock = Clock(make_ua())
    handle, _ = start_invite(clock)
    clock.run_until(100.0)
    assert clock.times_sent(is_request("INVITE")) == [0.0, 0.5, 1.5, 3.5, 7.5, 15.5, 31.5]
    assert clock.events() == [RequestTimeout(handle)]
    assert clock.ua.transaction_count == 0


def test_invite_client_over_tcp_sends_once_and_still_times_out() -> None:
    clock = Clock(make_ua())
    handle, _ = start_invite(clock, transport="TCP")
    clock.run_until(31.9)
    assert clock.events() == []
    clock.run_until(32.0)
    assert clock.times_sent(is_request("INVITE")) == [0.0]
    assert clock.events() == [RequestTimeout(handle)]


def test_provisional_response_stops_invite_retransmissions_and_timer_b() -> None:
    clock = Clock(make_ua())
    handle, invite = start_invite(clock)
    clock.run_until(0.7)
    clock.feed(response_to(invite, 180))
    clock.run_until(200.0)
    assert clock.times_sent(is_request("INVITE")) == [0.0, 0.5]
    assert [type(e) for e in clock.events()] == [ResponseReceived]


def test_failure_response_is_acked_by_the_transaction_with_same_branch() -> None:
    clock = Clock(make_ua())
    handle, invite = start_invite(clock)
    sent = clock.feed(response_to(invite, 486))
    assert len(sent) == 1
    ack = sent[0][0]
    assert isinstance(ack, SipRequest) and ack.method == "ACK"
    assert ack.uri == invite.uri
    assert ack.headers.get("Via") == invite.headers.get("Via")
    assert ack.headers.get("CSeq") == "1 ACK"
    assert ack.headers.get("To", "").endswith(";tag=remote1")
    events = clock.events()
    assert len(events) == 1 and isinstance(events[0], ResponseReceived)
    assert events[0].response.status == 486


def test_retransmitted_failure_response_is_reacked_but_not_reported_again() -> None:
    clock = Clock(make_ua())
    _, invite = start_invite(clock)
    clock.feed(response_to(invite, 486))
    clock.events()
    sent = clock.feed(response_to(invite, 486))
    assert [m.method for m, _, _ in sent if isinstance(m, SipRequest)] == ["ACK"]
    assert clock.events() == []


def test_invite_client_transaction_lingers_timer_d_on_udp_and_not_on_tcp() -> None:
    for transport, linger in (("UDP", 32.0), ("TCP", 0.0)):
        clock = Clock(make_ua())
        _, invite = start_invite(clock, transport)
        clock.feed(response_to(invite, 404), transport)
        assert clock.ua.transaction_count == (1 if linger else 0)
        clock.run_until(linger)
        assert clock.ua.transaction_count == 0


# ---------------------------------------------------------------- non-INVITE client


def test_non_invite_client_retransmits_capped_at_t2_until_timer_f() -> None:
    clock = Clock(make_ua())
    handle, _ = start_options(clock)
    clock.run_until(100.0)
    assert clock.times_sent(is_request("OPTIONS")) == expected_schedule(0.5, 4.0, 32.0)
    assert clock.events() == [RequestTimeout(handle)]


def test_non_invite_client_retransmits_every_t2_after_provisional() -> None:
    clock = Clock(make_ua())
    _, options = start_options(clock)
    clock.run_until(0.6)
    clock.feed(response_to(options, 100))
    clock.run_until(12.0)
    times = clock.times_sent(is_request("OPTIONS"))
    assert times == [0.0, 0.5, 1.5, 5.5, 9.5]


def test_non_invite_client_over_tcp_never_retransmits() -> None:
    clock = Clock(make_ua())
    handle, _ = start_options(clock, "TCP")
    clock.run_until(100.0)
    assert clock.times_sent(is_request("OPTIONS")) == [0.0]
    assert clock.events() == [RequestTimeout(handle)]


def test_non_invite_final_response_is_reported_once_and_timer_k_cleans_up() -> None:
    clock = Clock(make_ua())
    handle, options = start_options(clock)
    clock.feed(response_to(options, 200))
    clock.feed(response_to(options, 200))
    events = clock.events()
    assert len(events) == 1 and isinstance(events[0], ResponseReceived)
    assert events[0].handle == handle
    clock.run_until(4.9)
    assert clock.ua.transaction_count == 1
    clock.run_until(5.0)
    assert clock.ua.transaction_count == 0
    assert clock.times_sent(is_request("OPTIONS")) == [0.0]


@settings(max_examples=120, deadline=None)
@given(
    t1=st.sampled_from([0.05, 0.1, 0.25, 0.5, 1.0]),
    t2_factor=st.integers(min_value=1, max_value=16),
    invite=st.booleans(),
)
def test_retransmission_schedule_follows_rfc_formula_for_any_timer_values(
    t1: float, t2_factor: int, invite: bool
) -> None:
    clock = Clock(make_ua(t1=t1, t2=t1 * t2_factor))
    handle, _ = (start_invite if invite else start_options)(clock)
    clock.run_until(64 * t1 + 1)
    method = "INVITE" if invite else "OPTIONS"
    expected = expected_schedule(t1, None if invite else t1 * t2_factor, 64 * t1)
    assert clock.times_sent(is_request(method)) == pytest.approx(expected)
    assert clock.events() == [RequestTimeout(handle)]


# ---------------------------------------------------------------- INVITE server


def incoming_invite(clock: Clock, transport: str = "UDP", **kw: object) -> str:
    clock.feed(request_bytes("INVITE", transport=transport, **kw), transport)  # type: ignore[arg-type]
    (event,) = clock.events()
    assert isinstance(event, IncomingRequest)
    return event.request_id


def test_invite_server_sends_100_trying_at_once_without_to_tag() -> None:
    clock = Clock(make_ua())
    clock.feed(request_bytes("INVITE"))
    ((msg, dest, _),) = [s for _, s in clock.sent]
    assert isinstance(msg, SipResponse) and msg.status == 100
    assert ";tag=" not in (msg.headers.get("To") or "")
    assert dest == PEER


def test_invite_retransmission_is_absorbed_and_last_provisional_resent() -> None:
    clock = Clock(make_ua())
    rid = incoming_invite(clock)
    clock.ua.respond(rid, 180, now=clock.now)
    clock.collect()
    sent = clock.feed(request_bytes("INVITE"))
    assert [m.status for m, _, _ in sent if isinstance(m, SipResponse)] == [180]
    assert clock.events() == []


def test_invite_server_retransmits_failure_per_timer_g_until_ack() -> None:
    clock = Clock(make_ua())
    rid = incoming_invite(clock)
    assert clock.ua.respond(rid, 486, now=clock.now)
    clock.collect()
    clock.run_until(8.0)
    assert clock.times_sent(is_status(486)) == [0.0, 0.5, 1.5, 3.5, 7.5]
    ack = request_bytes("ACK", to_tag="whatever")  # same branch as the INVITE
    assert clock.feed(ack) == []
    clock.run_until(12.9)
    assert clock.times_sent(is_status(486))[-1] == 7.5
    assert clock.ua.transaction_count == 1  # Confirmed: timer I absorbs ACK copies
    clock.run_until(13.0)
    assert clock.ua.transaction_count == 0
    assert clock.events() == []


def test_invite_server_gives_up_failure_retransmission_at_timer_h() -> None:
    clock = Clock(make_ua())
    rid = incoming_invite(clock)
    clock.ua.respond(rid, 603, now=clock.now)
    clock.collect()
    clock.run_until(100.0)
    assert clock.times_sent(is_status(603)) == expected_schedule(0.5, 4.0, 32.0)
    assert clock.ua.transaction_count == 0


def test_invite_server_over_tcp_does_not_retransmit_and_ends_on_ack() -> None:
    clock = Clock(make_ua())
    rid = incoming_invite(clock, transport="TCP")
    clock.ua.respond(rid, 486, now=clock.now)
    clock.collect()
    clock.run_until(10.0)
    assert clock.times_sent(is_status(486)) == [0.0]
    clock.feed(request_bytes("ACK", transport="TCP", to_tag="x"), "TCP")
    assert clock.ua.transaction_count == 0


def test_failure_resent_when_invite_retransmitted_in_completed_state() -> None:
    clock = Clock(make_ua())
    rid = incoming_invite(clock)
    clock.ua.respond(rid, 480, now=clock.now)
    clock.collect()
    sent = clock.feed(request_bytes("INVITE"))
    assert [m.status for m, _, _ in sent if isinstance(m, SipResponse)] == [480]


def test_second_final_response_is_refused() -> None:
    clock = Clock(make_ua())
    rid = incoming_invite(clock)
    assert clock.ua.respond(rid, 486, now=clock.now)
    assert not clock.ua.respond(rid, 200, now=clock.now)
    assert not clock.ua.respond("no-such-id", 200, now=clock.now)


# ---------------------------------------------------------------- non-INVITE server


def test_non_invite_server_absorbs_retransmission_in_trying_then_resends_final() -> None:
    clock = Clock(make_ua())
    clock.feed(request_bytes("REGISTER"))
    (event,) = clock.events()
    assert isinstance(event, IncomingRequest)
    assert clock.feed(request_bytes("REGISTER")) == []
    assert clock.events() == []
    clock.ua.respond(event.request_id, 401, now=clock.now)
    clock.collect()
    sent = clock.feed(request_bytes("REGISTER"))
    assert [m.status for m, _, _ in sent if isinstance(m, SipResponse)] == [401]
    clock.run_until(31.9)
    assert clock.ua.transaction_count == 1
    clock.run_until(32.0)  # timer J
    assert clock.ua.transaction_count == 0


def test_non_invite_server_over_tcp_ends_at_once_after_final() -> None:
    clock = Clock(make_ua())
    clock.feed(request_bytes("REGISTER", transport="TCP"), "TCP")
    (event,) = clock.events()
    clock.ua.respond(event.request_id, 200, now=clock.now)
    assert clock.ua.transaction_count == 0


def test_transactions_with_different_branches_are_distinct() -> None:
    clock = Clock(make_ua())
    clock.feed(request_bytes("REGISTER", branch="z9hG4bKone"))
    clock.feed(request_bytes("REGISTER", branch="z9hG4bKtwo"))
    assert len(clock.events()) == 2


def test_same_branch_from_different_sent_by_is_a_different_transaction() -> None:
    clock = Clock(make_ua())
    clock.feed(request_bytes("REGISTER", via_host="10.0.0.2"))
    clock.feed(request_bytes("REGISTER", via_host="10.0.0.3"))
    assert len(clock.events()) == 2


def test_many_transactions_in_virtual_time_end_with_empty_tables() -> None:
    clock = Clock(make_ua())
    for i in range(500):
        clock.feed(request_bytes("REGISTER", branch=f"z9hG4bKmany{i}", call_id=f"c{i}"))
    events = clock.events()
    assert len(events) == 500
    for event in events:
        assert isinstance(event, IncomingRequest)
        clock.ua.respond(event.request_id, 200, now=clock.now)
    clock.run_until(40.0)
    assert clock.ua.transaction_count == 0
    assert clock.ua.get_timer() is None


def test_responses_round_trip_through_the_parser() -> None:
    clock = Clock(make_ua())
    rid = incoming_invite(clock)
    clock.ua.respond(rid, 486, now=clock.now)
    for msg, _, _ in clock.collect():
        again = parse_message(serialize(msg))
        assert isinstance(again, SipResponse) and again.status == 486
