"""Typed header values: parsed once per message, kept until the header changes."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest

import sip.dialog
import sip.headers
import sip.message
import sip.parser
import sip.registrar
import sip.transaction
import sip.useragent
import sip.validate
from sip.events import DialogEstablished, IncomingRequest
from sip.headers import CSeq, HeaderError
from sip.message import Headers, SipRequest
from sip.parser import parse_message
from sip.useragent import UserAgent
from tests.sip.test_transaction import request_bytes

PARSERS = ("parse_via", "parse_cseq", "parse_address")
MODULES = (
    sip.dialog,
    sip.headers,
    sip.message,
    sip.parser,
    sip.registrar,
    sip.transaction,
    sip.useragent,
    sip.validate,
)


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> Counter[tuple[str, str]]:
    """Counts (parser, value) calls wherever sip/ imported the header parsers."""
    counts: Counter[tuple[str, str]] = Counter()

    def counting(name: str, real: Callable[[str], Any]) -> Callable[[str], Any]:
        def parse(value: str) -> Any:
            counts[(name, value)] += 1
            return real(value)

        return parse

    for name in PARSERS:
        wrapper = counting(name, getattr(sip.headers, name))
        for module in MODULES:
            if hasattr(module, name):
                monkeypatch.setattr(module, name, wrapper)
    return counts


def test_an_answered_invite_and_its_ack_parse_each_header_value_once(
    parses: Counter[tuple[str, str]],
) -> None:
    ua = UserAgent(local_host="10.0.0.1", local_port=5060)
    invite = request_bytes("INVITE", body=b"v=0\r\n", extra="Content-Type: application/sdp\r\n")
    ua.receive_bytes(invite, ("10.0.0.2", 5062), "UDP", 0.0)
    incoming = ua.next_event()
    assert isinstance(incoming, IncomingRequest)
    ua.respond(incoming.request_id, 180, now=0.0)
    ua.respond(incoming.request_id, 200, body=b"v=0\r\n", content_type="application/sdp", now=0.0)
    established = ua.next_event()
    assert isinstance(established, DialogEstablished)
    assert {key: n for key, n in parses.items() if n > 1} == {}
    assert parses[("parse_via", "SIP/2.0/UDP 10.0.0.2:5062;branch=z9hG4bKabc1;rport")] == 1
    assert parses[("parse_cseq", "1 INVITE")] == 1
    assert parses[("parse_address", "<sip:caller@10.0.0.2>;tag=ft1")] == 1  # INVITE's From

    parses.clear()  # the ACK repeats the From and To values: its own message, parsed once too
    to_tag = established.dialog_id.split("|")[1]
    ack = request_bytes("ACK", branch="z9hG4bKack1", to_tag=to_tag)
    ua.receive_bytes(ack, ("10.0.0.2", 5062), "UDP", 0.0)
    assert ua.next_event() is not None  # AckReceived
    assert {key: n for key, n in parses.items() if n > 1} == {}


def test_typed_values_of_a_parsed_request() -> None:
    msg = parse_message(request_bytes("INVITE", to_tag="tt"))
    assert isinstance(msg, SipRequest)
    assert msg.cseq == CSeq(1, "INVITE") and str(msg.cseq) == "1 INVITE"
    via = msg.top_via
    assert (via.sent_by, via.branch, via.rport, via.received) == (
        ("10.0.0.2", 5062),
        "z9hG4bKabc1",
        None,
        None,
    )
    assert msg.vias == (via,)
    assert (msg.from_addr.uri, msg.from_tag, msg.to_tag) == ("sip:caller@10.0.0.2", "ft1", "tt")
    assert [c.uri for c in msg.contacts] == ["sip:caller@10.0.0.2:5062"]
    assert msg.call_id == "call-1@10.0.0.2"


def test_a_changed_header_is_parsed_again_and_a_stamped_via_is_kept() -> None:
    msg = parse_message(request_bytes("OPTIONS"))
    assert msg.cseq.number == 1
    msg.headers.set("CSeq", "7 OPTIONS")
    assert msg.cseq == (7, "OPTIONS")
    stamped = sip.headers.Via("UDP", "10.0.0.2", 5062, {"branch": "z9hG4bKabc1", "rport": "9"})
    msg.set_top_via(stamped)
    assert msg.top_via is stamped and msg.top_via.rport == 9
    assert msg.headers.get("Via") == "SIP/2.0/UDP 10.0.0.2:5062;branch=z9hG4bKabc1;rport=9"
    copy = msg.headers.copy()
    copy.add("Via", "SIP/2.0/TCP 10.0.0.3")
    assert len(SipRequest("OPTIONS", "sip:x@y", copy).vias) == 2 and len(msg.vias) == 1


def test_malformed_or_missing_values_raise_a_named_error_every_time() -> None:
    msg = SipRequest("OPTIONS", "sip:x@y", Headers([("From", "<sip:a@b"), ("To", "sip:b@c")]))
    for _ in range(2):
        with pytest.raises(HeaderError, match="^Bad From: missing '>'$"):
            _ = msg.from_addr
        with pytest.raises(HeaderError, match="^Missing CSeq$"):
            _ = msg.cseq
    assert msg.from_tag is None and msg.to_tag is None
    assert msg.contacts == ()
