"""UA core behaviour: automatic answers, CANCEL, dialogs, 2xx retransmission, calls between UAs."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from sip.message import SipRequest, SipResponse
from sip.parser import parse_message, serialize
from sip.timers import Timers
from sip.useragent import (
    AckReceived,
    ByeReceived,
    CallCancelled,
    DialogEstablished,
    DialogTerminated,
    Event,
    IncomingRequest,
    InDialogRequest,
    ReInvite,
    ResponseReceived,
    TransportError,
    UserAgent,
)
from tests.sip.test_transaction import PEER, Clock, is_request, is_status, make_ua, request_bytes

Msg = SipRequest | SipResponse


class Net:
    """Several UAs on one virtual network: every message goes through serialize/parse."""

    def __init__(self, t1: float = 0.5) -> None:
        self.now = 0.0
        self.timers = Timers(t1=t1, t2=8 * t1)
        self.uas: dict[tuple[str, int], UserAgent] = {}
        self.drop: Callable[[Msg, tuple[str, int], tuple[str, int]], bool] = lambda m, s, d: False
        self.log: list[tuple[float, tuple[str, int], Msg]] = []
        self.events: dict[tuple[str, int], list[Event]] = {}

    def add(self, host: str, port: int, **kw: object) -> UserAgent:
        ua = UserAgent(local_host=host, local_port=port, timers=self.timers, **kw)  # type: ignore[arg-type]
        self.uas[(host, port)] = ua
        self.events[(host, port)] = []
        return ua

    def pump(self) -> None:
        moved = True
        while moved:
            moved = False
            for addr, ua in self.uas.items():
                for msg, dest, transport in ua.messages_to_send():
                    moved = True
                    self.log.append((self.now, addr, msg))
                    if self.drop(msg, addr, dest) or dest not in self.uas:
                        continue
                    self.uas[dest].receive_bytes(serialize(msg), addr, transport, self.now)
                while (event := ua.next_event()) is not None:
                    self.events[addr].append(event)

    def run_until(self, end: float) -> None:
        self.pump()
        while True:
            deadlines = [(ua.get_timer(), ua) for ua in self.uas.values()]
            due = [(t, ua) for t, ua in deadlines if t is not None and t <= end]
            if not due:
                break
            t, ua = min(due, key=lambda x: x[0])
            self.now = max(self.now, t)
            ua.handle_timer(self.now)
            self.pump()
        self.now = end

    def take(self, addr: tuple[str, int]) -> list[Event]:
        out, self.events[addr] = self.events[addr], []
        return out

    def sent(self, sender: tuple[str, int], match: Callable[[Msg], bool]) -> list[float]:
        return [t for t, src, m in self.log if src == sender and match(m)]


A = ("10.0.0.1", 5060)  # the B2BUA side under test (caller)
B = ("10.0.0.2", 5070)  # the agent phone


def call(net: Net, transport: str = "UDP") -> tuple[str, str]:
    """A places a call to B, B answers; returns (dialog id at A, dialog id at B)."""
    a, b = net.uas[A], net.uas[B]
    handle = a.invite(
        target_uri=f"sip:agent@{B[0]}:{B[1]}",
        destination=B,
        transport=transport,
        from_uri="sip:queue@10.0.0.1",
        from_display="Support Queue",
        to_uri="sip:agent@10.0.0.2",
        body=b"v=0\r\n",
        now=net.now,
    )
    net.pump()
    (incoming,) = net.take(B)
    assert isinstance(incoming, IncomingRequest)
    assert incoming.request.body == b"v=0\r\n"
    b.respond(incoming.request_id, 180, now=net.now)
    b.respond(
        incoming.request_id, 200, body=b"v=0\r\n", content_type="application/sdp", now=net.now
    )
    net.pump()
    a_events = net.take(A)
    assert [type(e) for e in a_events] == [
        ResponseReceived,
        ResponseReceived,
        ResponseReceived,
        DialogEstablished,
    ]
    assert [e.response.status for e in a_events[:3]] == [100, 180, 200]  # type: ignore[union-attr]
    assert a_events[3] == DialogEstablished(a_events[2].dialog_id, "uac", handle)  # type: ignore[union-attr]
    b_events = net.take(B)
    assert [type(e) for e in b_events] == [DialogEstablished, AckReceived]
    return a_events[3].dialog_id, b_events[0].dialog_id  # type: ignore[union-attr]


def two_uas(t1: float = 0.5) -> Net:
    net = Net(t1)
    net.add(*A)
    net.add(*B)
    return net


# ---------------------------------------------------------------- whole calls


def test_call_setup_and_bye_between_two_user_agents() -> None:
    net = two_uas()
    did_a, did_b = call(net)
    assert net.uas[A].dialog(did_a) is not None and net.uas[B].dialog(did_b) is not None
    net.uas[A].bye(did_a, net.now)
    net.pump()
    assert net.take(B) == [ByeReceived(did_b)]
    (resp,) = net.take(A)
    assert isinstance(resp, ResponseReceived) and resp.response.status == 200
    assert net.uas[A].dialog_count == net.uas[B].dialog_count == 0
    net.run_until(100.0)
    assert net.uas[A].transaction_count == net.uas[B].transaction_count == 0
    assert net.uas[A].get_timer() is None and net.uas[B].get_timer() is None


def test_callee_hangs_up_with_bye_to_caller_contact() -> None:
    net = two_uas()
    did_a, did_b = call(net)
    net.uas[B].bye(did_b, net.now)
    net.pump()
    assert net.take(A) == [ByeReceived(did_a)]
    bye = [m for _, src, m in net.log if src == B and isinstance(m, SipRequest)][-1]
    assert bye.method == "BYE" and bye.uri == "sip:10.0.0.1:5060"


def test_call_survives_loss_of_invite_200_and_ack() -> None:
    net = two_uas()
    dropped: set[str] = set()

    def lose_first(msg: Msg, src: tuple[str, int], dest: tuple[str, int]) -> bool:
        name = msg.method if isinstance(msg, SipRequest) else str(msg.status)
        if name in ("INVITE", "200", "ACK") and name not in dropped:
            dropped.add(name)
            return True
        return False

    net.drop = lose_first
    a, b = net.uas[A], net.uas[B]
    a.invite(
        target_uri="sip:agent@10.0.0.2:5070",
        destination=B,
        transport="UDP",
        from_uri="sip:q@10.0.0.1",
        from_display=None,
        to_uri="sip:agent@10.0.0.2",
        body=b"",
        now=net.now,
    )
    net.run_until(0.5)  # timer A resends the INVITE
    (incoming,) = net.take(B)
    b.respond(
        incoming.request_id, 200, body=b"v=0\r\n", content_type="application/sdp", now=net.now
    )
    net.run_until(5.0)
    assert dropped == {"INVITE", "200", "ACK"}
    assert [type(e) for e in net.take(B)] == [DialogEstablished, AckReceived]
    a_types = [type(e) for e in net.take(A)]
    assert a_types.count(DialogEstablished) == 1
    assert a.dialog_count == b.dialog_count == 1


def test_tcp_call_sends_no_retransmissions() -> None:
    net = two_uas()
    net.drop = lambda m, s, d: isinstance(m, SipRequest) and m.method == "ACK"
    did_a, did_b = call_without_ack_check(net, "TCP")
    net.run_until(31.0)
    assert len(net.sent(B, is_status(200))) == 1
    assert len(net.sent(A, is_request("INVITE"))) == 1
    net.run_until(33.0)  # no ACK ever: B gives up after 64*T1 and hangs up
    assert DialogTerminated(did_b, "no ACK received") in net.take(B)


def call_without_ack_check(net: Net, transport: str) -> tuple[str, str]:
    a, b = net.uas[A], net.uas[B]
    a.invite(
        target_uri="sip:agent@10.0.0.2:5070",
        destination=B,
        transport=transport,
        from_uri="sip:q@10.0.0.1",
        from_display=None,
        to_uri="sip:agent@10.0.0.2",
        body=b"",
        now=net.now,
    )
    net.pump()
    (incoming,) = net.take(B)
    b.respond(incoming.request_id, 200, now=net.now)
    net.pump()
    did_a = next(e.dialog_id for e in net.take(A) if isinstance(e, DialogEstablished))
    did_b = next(e.dialog_id for e in net.take(B) if isinstance(e, DialogEstablished))
    return did_a, did_b


def test_2xx_is_retransmitted_until_ack_then_bye_after_64_t1() -> None:
    net = two_uas()
    net.drop = lambda m, s, d: isinstance(m, SipRequest) and m.method == "ACK"
    _, did_b = call_without_ack_check(net, "UDP")
    net.run_until(40.0)
    times = net.sent(B, is_status(200))
    # 0 (answer), then T1 doubling capped at T2 (4 s) until 64*T1 = 32 s.
    assert times[:7] == [0.0, 0.5, 1.5, 3.5, 7.5, 11.5, 15.5]
    assert max(times) < 32.0
    assert DialogTerminated(did_b, "no ACK received") in net.take(B)
    assert len(net.sent(B, is_request("BYE"))) >= 1
    assert net.uas[B].dialog_count == 0


def test_ack_stops_2xx_retransmission() -> None:
    net = two_uas()
    call(net)
    net.run_until(40.0)
    assert net.sent(B, is_status(200)) == [0.0]


def test_reinvite_in_both_directions_and_refreshed_target() -> None:
    net = two_uas()
    did_a, did_b = call(net)
    handle = net.uas[A].reinvite(did_a, b"v=0\r\nhold\r\n", net.now)
    assert handle is not None
    net.pump()
    (reinvite,) = net.take(B)
    assert isinstance(reinvite, ReInvite) and reinvite.dialog_id == did_b
    assert reinvite.request.headers.get("CSeq") == "2 INVITE"
    net.uas[B].respond(reinvite.request_id, 200, body=b"v=0\r\n", now=net.now)
    net.pump()
    assert AckReceived(did_b, b"") in net.take(B)
    a_events = net.take(A)
    assert [e.response.status for e in a_events if isinstance(e, ResponseReceived)] == [100, 200]
    assert not any(isinstance(e, DialogEstablished) for e in a_events)
    net.run_until(40.0)
    assert net.uas[A].dialog_count == net.uas[B].dialog_count == 1


def test_in_dialog_info_is_passed_up_and_answered_by_the_layer_above() -> None:
    net = two_uas()
    did_a, did_b = call(net)
    net.uas[A].dialog_request(
        did_a, "INFO", body=b"Signal=5\r\n", content_type="application/dtmf-relay", now=net.now
    )
    net.pump()
    (info,) = net.take(B)
    assert isinstance(info, InDialogRequest) and info.request.body == b"Signal=5\r\n"
    net.uas[B].respond(info.request_id, 200, now=net.now)
    net.pump()
    (resp,) = net.take(A)
    assert isinstance(resp, ResponseReceived) and resp.response.status == 200


def test_caller_cancel_before_answer_gives_487_and_no_dialog() -> None:
    net = two_uas()
    a, b = net.uas[A], net.uas[B]
    handle = a.invite(
        target_uri="sip:agent@10.0.0.2:5070",
        destination=B,
        transport="UDP",
        from_uri="sip:q@10.0.0.1",
        from_display=None,
        to_uri="sip:agent@10.0.0.2",
        body=b"",
        now=net.now,
    )
    net.pump()
    (incoming,) = net.take(B)
    b.respond(incoming.request_id, 180, now=net.now)
    net.pump()
    a.cancel(handle, net.now)
    net.pump()
    assert net.take(B) == [CallCancelled(incoming.request_id)]
    statuses = [e.response.status for e in net.take(A) if isinstance(e, ResponseReceived)]
    assert statuses == [100, 180, 487]
    assert not b.respond(incoming.request_id, 200, now=net.now)  # too late: cancelled
    net.run_until(60.0)
    assert a.dialog_count == b.dialog_count == 0
    assert a.transaction_count == b.transaction_count == 0


def test_cancel_before_any_provisional_waits_for_one() -> None:
    net = two_uas()
    net.drop = lambda m, s, d: isinstance(m, SipResponse) and m.status == 100
    a, b = net.uas[A], net.uas[B]
    handle = a.invite(
        target_uri="sip:agent@10.0.0.2:5070",
        destination=B,
        transport="UDP",
        from_uri="sip:q@10.0.0.1",
        from_display=None,
        to_uri="sip:agent@10.0.0.2",
        body=b"",
        now=net.now,
    )
    net.pump()
    (incoming,) = net.take(B)
    a.cancel(handle, net.now)
    net.pump()
    assert not net.sent(A, is_request("CANCEL"))
    b.respond(incoming.request_id, 180, now=net.now)
    net.pump()
    assert len(net.sent(A, is_request("CANCEL"))) == 1
    assert net.take(B) == [CallCancelled(incoming.request_id)]


def test_answer_racing_cancel_is_acked_then_hung_up() -> None:
    net = two_uas()
    a, b = net.uas[A], net.uas[B]
    net.drop = lambda m, s, d: isinstance(m, SipRequest) and m.method == "CANCEL"
    handle = a.invite(
        target_uri="sip:agent@10.0.0.2:5070",
        destination=B,
        transport="UDP",
        from_uri="sip:q@10.0.0.1",
        from_display=None,
        to_uri="sip:agent@10.0.0.2",
        body=b"",
        now=net.now,
    )
    net.pump()
    (incoming,) = net.take(B)
    b.respond(incoming.request_id, 180, now=net.now)
    net.pump()
    a.cancel(handle, net.now)
    b.respond(incoming.request_id, 200, now=net.now)
    net.pump()
    a_events = net.take(A)
    assert any(isinstance(e, DialogTerminated) and "CANCEL" in e.reason for e in a_events)
    assert not any(isinstance(e, DialogEstablished) for e in a_events)
    assert [type(e) for e in net.take(B)] == [DialogEstablished, AckReceived, ByeReceived]


def test_second_forked_2xx_is_acked_and_released() -> None:
    clock = Clock(make_ua())
    ua = clock.ua
    ua.invite(
        target_uri="sip:agent@10.0.0.2",
        destination=PEER,
        transport="UDP",
        from_uri="sip:q@10.0.0.1",
        from_display=None,
        to_uri="sip:agent@10.0.0.2",
        body=b"",
        now=0.0,
    )
    ((invite, _, _),) = clock.collect()
    from tests.sip.test_transaction import response_to

    clock.feed(response_to(invite, 200, to_tag="fork1"))
    sent = clock.feed(response_to(invite, 200, to_tag="fork2"))
    assert [m.method for m, _, _ in sent if isinstance(m, SipRequest)] == ["ACK", "BYE"]
    events = clock.events()
    assert sum(isinstance(e, DialogEstablished) for e in events) == 1
    assert any(isinstance(e, DialogTerminated) and "fork" in e.reason for e in events)
    # A retransmitted 2xx of the kept fork is re-ACKed, not reported as a new dialog.
    sent = clock.feed(response_to(invite, 200, to_tag="fork1"))
    assert [m.method for m, _, _ in sent if isinstance(m, SipRequest)] == ["ACK"]
    assert ua.dialog_count == 1


# ---------------------------------------------------------------- automatic answers


def only_response(sent: list[tuple[Msg, tuple[str, int], str]]) -> SipResponse:
    responses = [m for m, _, _ in sent if isinstance(m, SipResponse)]
    assert len(responses) == 1, responses
    return responses[0]


def test_options_is_answered_200_with_allow() -> None:
    clock = Clock(make_ua())
    resp = only_response(clock.feed(request_bytes("OPTIONS")))
    assert resp.status == 200
    assert "INVITE" in ",".join(resp.headers.get_all("Allow"))
    assert clock.events() == []


def test_options_can_be_left_to_the_layer_above() -> None:
    clock = Clock(make_ua(auto_options=False))
    assert clock.feed(request_bytes("OPTIONS")) == []
    assert isinstance(clock.events()[0], IncomingRequest)


def test_unknown_method_gets_501() -> None:
    clock = Clock(make_ua())
    resp = only_response(clock.feed(request_bytes("FROBNICATE")))
    assert resp.status == 501


def test_known_but_not_allowed_method_gets_405_with_allow() -> None:
    clock = Clock(make_ua(allow=("INVITE", "ACK", "BYE", "CANCEL", "OPTIONS")))
    resp = only_response(clock.feed(request_bytes("SUBSCRIBE", extra="Event: presence\r\n")))
    assert resp.status == 405
    assert "REGISTER" not in ",".join(resp.headers.get_all("Allow"))
    assert "BYE" in ",".join(resp.headers.get_all("Allow"))


def test_bye_for_unknown_dialog_gets_481() -> None:
    clock = Clock(make_ua())
    resp = only_response(clock.feed(request_bytes("BYE", to_tag="nosuch")))
    assert resp.status == 481
    assert clock.events() == []


def test_in_dialog_request_with_unknown_tags_gets_481() -> None:
    clock = Clock(make_ua())
    sent = clock.feed(request_bytes("INVITE", to_tag="nosuch"))
    assert [m.status for m, _, _ in sent if isinstance(m, SipResponse)] == [100, 481]
    assert clock.events() == []


def test_cancel_for_unknown_invite_gets_481() -> None:
    clock = Clock(make_ua())
    resp = only_response(clock.feed(request_bytes("CANCEL", branch="z9hG4bKnone")))
    assert resp.status == 481


def test_cancel_before_answer_sends_200_and_487_and_reports() -> None:
    clock = Clock(make_ua())
    clock.feed(request_bytes("INVITE"))
    (incoming,) = clock.events()
    sent = clock.feed(request_bytes("CANCEL"))
    statuses = sorted(
        (m.headers.get("CSeq"), m.status) for m, _, _ in sent if isinstance(m, SipResponse)
    )
    assert statuses == [("1 CANCEL", 200), ("1 INVITE", 487)]
    assert clock.events() == [CallCancelled(incoming.request_id)]  # type: ignore[union-attr]


def test_cancel_after_final_answer_changes_nothing() -> None:
    clock = Clock(make_ua())
    clock.feed(request_bytes("INVITE"))
    (incoming,) = clock.events()
    clock.ua.respond(incoming.request_id, 486, now=0.0)  # type: ignore[union-attr]
    clock.collect()
    resp = only_response(clock.feed(request_bytes("CANCEL")))
    assert (resp.status, resp.headers.get("CSeq")) == (200, "1 CANCEL")
    assert clock.events() == []


def test_unparseable_but_routable_request_gets_400_with_parser_reason() -> None:
    clock = Clock(make_ua())
    data = request_bytes("OPTIONS", body=b"v=0\r\n")[:-3]  # body shorter than Content-Length
    resp = only_response(clock.feed(data))
    assert (resp.status, resp.reason) == (400, "Content-Length exceeds message")
    assert resp.headers.get("CSeq") == "1 OPTIONS"
    assert clock.ua.stats.parse_errors == 1


@pytest.mark.parametrize(
    ("old", "new", "reason"),
    [
        (b"Call-ID: call-1@10.0.0.2\r\n", b"", "Missing Call-ID"),
        (b"From: <sip:caller@10.0.0.2>;tag=ft1\r\n", b"", "Missing From"),
        (b"To: <sip:queue@10.0.0.1>\r\n", b"", "Missing To"),
        (b"CSeq: 1 OPTIONS", b"CSeq: first OPTIONS", "Bad CSeq"),
        (b"CSeq: 1 OPTIONS", b"CSeq: 4294967296 OPTIONS", "Bad CSeq"),
        (b"Content-Length: 0", b"Content-Length: -1", "Bad Content-Length"),
        (b"Content-Length: 0", b"Content-Length: none", "Bad Content-Length"),
    ],
)
def test_request_with_usable_via_but_broken_identity_gets_400_naming_the_problem(
    old: bytes, new: bytes, reason: str
) -> None:
    clock = Clock(make_ua())
    data = request_bytes("OPTIONS")
    assert old in data
    resp = only_response(clock.feed(data.replace(old, new)))
    assert (resp.status, resp.reason) == (400, reason)
    assert resp.headers.get("Via") == ("SIP/2.0/UDP 10.0.0.2:5062;branch=z9hG4bKabc1;rport=5062")
    assert clock.events() == []
    assert clock.ua.stats.parse_errors == 1


def test_malformed_ack_or_request_without_via_gets_nothing() -> None:
    clock = Clock(make_ua())
    ack = request_bytes("ACK").replace(b"Call-ID: call-1@10.0.0.2\r\n", b"")
    no_via = request_bytes("OPTIONS").replace(b"CSeq: 1", b"CSeq: x")
    no_via = b"\r\n".join(line for line in no_via.split(b"\r\n") if not line.startswith(b"Via"))
    assert clock.feed(ack) == [] and clock.feed(no_via) == []
    assert clock.ua.stats.parse_errors == 2


def test_request_failing_validation_gets_the_validator_answer() -> None:
    clock = Clock(make_ua())
    data = request_bytes("REGISTER").replace(b"Max-Forwards: 70", b"Max-Forwards: 0")
    assert only_response(clock.feed(data)).status == 483
    data = request_bytes("REGISTER", branch="z9hG4bK2").replace(
        b"Max-Forwards: 70", b"Max-Forwards: x"
    )
    resp = only_response(clock.feed(data))
    assert (resp.status, resp.reason) == (400, "Bad Max-Forwards")
    assert clock.events() == []


def test_unsupported_required_extension_gets_420_with_unsupported() -> None:
    clock = Clock(make_ua())
    resp = only_response(clock.feed(request_bytes("OPTIONS", extra="Require: foo\r\n")))
    assert resp.status == 420
    assert resp.headers.get("Unsupported") == "foo"


def test_garbage_is_dropped_and_counted_never_raised() -> None:
    clock = Clock(make_ua())
    for junk in (b"\x00\xff garbage", b"INVITE\r\n\r\n", b"SIP/2.0 200\r\n\r\n", b"\r\n\r\n"):
        clock.feed(junk)
    assert clock.sent == []
    assert clock.ua.stats.parse_errors == 3


def test_responses_carry_received_and_rport_and_go_to_the_source() -> None:
    clock = Clock(make_ua())
    data = request_bytes("OPTIONS", via_host="192.168.1.20", via_port=5060)
    clock.ua.receive_bytes(data, ("203.0.113.7", 40001), "UDP", 0.0)
    ((resp, dest, transport),) = clock.collect()
    assert dest == ("203.0.113.7", 40001) and transport == "UDP"
    via = resp.headers.get("Via") or ""
    assert "received=203.0.113.7" in via and "rport=40001" in via


def test_response_copies_request_identity_and_adds_to_tag() -> None:
    clock = Clock(make_ua())
    clock.feed(request_bytes("INVITE", cseq=7))
    (incoming,) = clock.events()
    clock.ua.respond(incoming.request_id, 180, now=0.0)  # type: ignore[union-attr]
    clock.ua.respond(incoming.request_id, 200, now=0.0)  # type: ignore[union-attr]
    sent = [m for m, _, _ in clock.collect()]
    ringing, ok = sent
    assert isinstance(ringing, SipResponse) and isinstance(ok, SipResponse)
    for resp in (ringing, ok):
        assert resp.headers.get("Call-ID") == "call-1@10.0.0.2"
        assert resp.headers.get("CSeq") == "7 INVITE"
        assert resp.headers.get("From") == "<sip:caller@10.0.0.2>;tag=ft1"
    assert ringing.headers.get("To") == ok.headers.get("To")
    assert ";tag=" in (ok.headers.get("To") or "")
    assert ok.headers.get("Contact") == "<sip:10.0.0.1:5060>"


def test_a_2xx_to_invite_carries_one_contact_even_when_the_application_gives_one() -> None:
    # RFC 3261 12.1.1: one Contact. linphone saw two (the UA's and the controller's).
    clock = Clock(make_ua())
    clock.feed(request_bytes("INVITE"))
    (incoming,) = clock.events()
    rid = incoming.request_id  # type: ignore[union-attr]
    clock.ua.respond(rid, 180, now=0.0)
    clock.ua.respond(rid, 200, now=0.0, headers=[("Contact", "<sip:vaxel@10.0.0.1:5060>")])
    ringing, ok = [m for m, _, _ in clock.collect()]
    assert ringing.headers.get_all("Contact") == ["<sip:10.0.0.1:5060>"]
    assert ok.headers.get_all("Contact") == ["<sip:vaxel@10.0.0.1:5060>"]


def test_an_invite_or_register_carries_the_applications_contact_only() -> None:
    # RFC 3261 8.1.1.8: one Contact. linphone saw two in Vaxel's INVITE to an agent.
    from tests.sip.test_transaction import response_to

    clock = Clock(make_ua())
    mine = "<sip:vaxel@10.0.0.1:5060;transport=udp>"
    common = {
        "target_uri": "sip:agent@10.0.0.2",
        "destination": PEER,
        "transport": "UDP",
        "from_uri": "sip:q@10.0.0.1",
        "to_uri": "sip:agent@10.0.0.2",
        "headers": [("Contact", mine)],
        "now": 0.0,
    }
    clock.ua.invite(from_display=None, body=b"", **common)  # type: ignore[arg-type]
    clock.ua.request("REGISTER", **common)  # type: ignore[arg-type]
    invite, register = [m for m, _, _ in clock.collect()]
    assert invite.headers.get_all("Contact") == [mine]
    assert register.headers.get_all("Contact") == [mine]
    # The dialog keeps that Contact for its own target refreshes.
    clock.feed(response_to(invite, 200, to_tag="t"))
    (did,) = [e.dialog_id for e in clock.events() if isinstance(e, DialogEstablished)]
    clock.ua.reinvite(did, b"v=0\r\n", 1.0)
    (reinvite,) = [m for m, _, _ in clock.collect() if is_request("INVITE")(m)]
    assert reinvite.headers.get_all("Contact") == [mine]


def test_uas_dialog_requests_go_to_the_source_address_not_the_contact() -> None:
    clock = Clock(make_ua())
    clock.ua.receive_bytes(request_bytes("INVITE"), ("198.51.100.9", 31000), "UDP", 0.0)
    (incoming,) = clock.events()
    clock.ua.respond(incoming.request_id, 200, now=0.0)  # type: ignore[union-attr]
    (established,) = clock.events()
    assert isinstance(established, DialogEstablished)
    clock.collect()
    clock.ua.bye(established.dialog_id, 0.0)
    ((bye, dest, _),) = clock.collect()
    assert isinstance(bye, SipRequest) and bye.method == "BYE"
    assert dest == ("198.51.100.9", 31000)
    assert bye.uri == "sip:caller@10.0.0.2:5062"  # Request-URI is still the Contact


def test_in_dialog_request_with_old_cseq_gets_500() -> None:
    clock = Clock(make_ua())
    clock.feed(request_bytes("INVITE", cseq=10))
    (incoming,) = clock.events()
    clock.ua.respond(incoming.request_id, 200, now=0.0)  # type: ignore[union-attr]
    ok = [m for m, _, _ in clock.collect() if isinstance(m, SipResponse) and m.status == 200][0]
    local_tag = (ok.headers.get("To") or "").rsplit("tag=", 1)[1]
    clock.events()
    old = request_bytes("INFO", branch="z9hG4bKold", cseq=9, to_tag=local_tag)
    assert only_response(clock.feed(old)).status == 500


def test_reinvite_glare_gets_491() -> None:
    net = two_uas()
    did_a, did_b = call(net)
    net.drop = lambda m, s, d: isinstance(m, SipRequest) and m.method == "INVITE" and s == A
    net.uas[A].reinvite(did_a, b"v=0\r\n", net.now)
    net.pump()
    net.drop = lambda m, s, d: False
    net.uas[B].reinvite(did_b, b"v=0\r\n", net.now)
    net.pump()
    statuses = [e.response.status for e in net.take(B) if isinstance(e, ResponseReceived)]
    assert 491 in statuses


def test_transport_error_ends_the_request_with_an_event() -> None:
    clock = Clock(make_ua())
    ua = clock.ua
    handle = ua.invite(
        target_uri="sip:agent@10.0.0.2",
        destination=PEER,
        transport="TCP",
        from_uri="sip:q@10.0.0.1",
        from_display=None,
        to_uri="sip:agent@10.0.0.2",
        body=b"",
        now=0.0,
    )
    ((invite, dest, transport),) = clock.collect()
    ua.report_transport_error(invite, dest, transport, "connection refused", 0.0)
    assert clock.events() == [TransportError(handle, PEER, "TCP", "connection refused")]
    assert ua.transaction_count == 0
    clock.run_until(100.0)
    assert clock.events() == []


def test_register_is_passed_up_for_the_auth_hook() -> None:
    clock = Clock(make_ua())
    clock.feed(request_bytes("REGISTER"))
    (event,) = clock.events()
    assert isinstance(event, IncomingRequest) and event.request.method == "REGISTER"
    clock.ua.respond(
        event.request_id,
        401,
        headers=(("WWW-Authenticate", 'Digest realm="vaxel", nonce="abc"'),),
        now=0.0,
    )
    resp = only_response(clock.collect())
    assert resp.status == 401 and resp.headers.get("WWW-Authenticate", "").startswith("Digest")


def test_two_hundred_call_setups_are_fast() -> None:
    net = two_uas()
    start = time.perf_counter()
    for _ in range(200):
        did_a, _ = call(net)
        net.uas[A].bye(did_a, net.now)
        net.pump()
        net.take(A)
        net.take(B)
    elapsed = time.perf_counter() - start
    print(f"200 call set-ups + teardowns through two UA cores: {elapsed * 1000:.0f} ms")
    assert elapsed < 5.0
    net.run_until(100.0)
    assert net.uas[A].transaction_count == net.uas[B].transaction_count == 0


def test_every_message_the_core_builds_parses_back() -> None:
    net = two_uas()
    call(net)
    for _, _, msg in net.log:
        again = parse_message(serialize(msg))
        assert type(again) is type(msg)


def test_malformed_header_after_transaction_start_is_answered_400_in_the_transaction() -> None:
    clock = Clock(make_ua())
    request = parse_message(request_bytes("INFO"))
    request.headers.set("To", "<sip:queue@10.0.0.1;tag=x")  # built by code, not by the parser
    sent = clock.feed(request)
    statuses = [m.status for m, _, _ in sent if isinstance(m, SipResponse)]
    assert len(statuses) == 1 and statuses[0] == 400
    assert clock.events() == []
    clock.run_until(40.0)
    assert clock.ua.transaction_count == 0
