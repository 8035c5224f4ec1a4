"""Dialog state and in-dialog request construction (RFC 3261 section 12)."""

from __future__ import annotations

from sip.dialog import Dialog, dialog_id, incoming_dialog_id, uri_destination
from sip.message import Headers, SipRequest, SipResponse


def invite(record_route: list[str]) -> SipRequest:
    h = Headers(
        [
            ("Via", "SIP/2.0/UDP 10.0.0.2:5062;branch=z9hG4bKx"),
            ("From", '"Caller" <sip:caller@10.0.0.2>;tag=rt'),
            ("To", "<sip:queue@10.0.0.1>"),
            ("Call-ID", "cid-1"),
            ("CSeq", "5 INVITE"),
            ("Contact", "<sip:caller@192.168.1.5:5062>"),
        ]
    )
    for rr in record_route:
        h.add("Record-Route", rr)
    return SipRequest("INVITE", "sip:queue@10.0.0.1", h)


def ok_for(request: SipRequest, to_tag: str, record_route: tuple[str, ...] = ()) -> SipResponse:
    h = Headers(
        [
            ("From", request.headers["From"]),
            ("To", request.headers["To"] + f";tag={to_tag}"),
            ("Call-ID", request.headers["Call-ID"]),
            ("CSeq", request.headers["CSeq"]),
            ("Contact", "<sip:agent@10.0.0.9:5070>"),
        ]
    )
    for rr in record_route:
        h.add("Record-Route", rr)
    return SipResponse(200, "OK", h)


def test_uas_dialog_takes_identity_from_request_and_answer() -> None:
    req = invite(["<sip:p1.example.net;lr>", "<sip:p2.example.net;lr>"])
    d = Dialog.from_uas(
        req,
        ok_for(req, "lt"),
        source=("203.0.113.5", 40000),
        transport="UDP",
        local_contact="<sip:10.0.0.1:5060>",
    )
    assert d.id == dialog_id("cid-1", "lt", "rt")
    assert (d.local_tag, d.remote_tag, d.remote_seq, d.local_seq) == ("lt", "rt", 5, 0)
    assert d.remote_target == "sip:caller@192.168.1.5:5062"
    assert d.route_set == ["<sip:p1.example.net;lr>", "<sip:p2.example.net;lr>"]
    assert d.destination == ("203.0.113.5", 40000)


def test_uac_dialog_reverses_record_route_and_sends_to_first_hop() -> None:
    req = invite([])
    req.headers.set("From", "<sip:queue@10.0.0.1>;tag=mine")
    resp = ok_for(req, "theirs", ("<sip:p2.example.net;lr>", "<sip:p1.example.net:5080;lr>"))
    d = Dialog.from_uac(
        req, resp, destination=("10.0.0.2", 5062), transport="UDP", local_contact="<sip:a>"
    )
    assert d.route_set == ["<sip:p1.example.net:5080;lr>", "<sip:p2.example.net;lr>"]
    assert d.destination == ("p1.example.net", 5080)
    assert (d.local_tag, d.remote_tag, d.local_seq, d.remote_seq) == ("mine", "theirs", 5, None)
    bye = d.new_request("BYE", via="SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKb")
    assert bye.uri == "sip:agent@10.0.0.9:5070"
    assert bye.headers.get_all("Route") == d.route_set
    assert bye.headers.get("CSeq") == "6 BYE"
    assert bye.headers.get("From") == "<sip:queue@10.0.0.1>;tag=mine"
    assert bye.headers.get("To") == "<sip:queue@10.0.0.1>;tag=theirs"


def test_strict_router_becomes_request_uri_and_target_goes_last() -> None:
    req = invite(["<sip:strict.example.net>", "<sip:p2.example.net;lr>"])
    d = Dialog.from_uas(
        req, ok_for(req, "lt"), source=("10.0.0.2", 5062), transport="UDP", local_contact="<c>"
    )
    bye = d.new_request("BYE", via="SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKs")
    assert bye.uri == "sip:strict.example.net"
    assert bye.headers.get_all("Route") == [
        "<sip:p2.example.net;lr>",
        "<sip:caller@192.168.1.5:5062>",
    ]


def test_local_cseq_increments_and_ack_reuses_invite_number() -> None:
    req = invite([])
    d = Dialog.from_uas(
        req, ok_for(req, "lt"), source=("10.0.0.2", 5062), transport="UDP", local_contact="<c>"
    )
    first = d.new_request("INVITE", via="v1")
    second = d.new_request("BYE", via="v2")
    ack = d.new_request("ACK", via="v3", cseq=1)
    assert [m.headers.get("CSeq") for m in (first, second, ack)] == [
        "1 INVITE",
        "2 BYE",
        "1 ACK",
    ]
    assert first.headers.get("Contact") == "<c>"
    assert second.headers.get("Contact") is None


def test_remote_cseq_must_increase() -> None:
    req = invite([])
    d = Dialog.from_uas(
        req, ok_for(req, "lt"), source=("10.0.0.2", 5062), transport="UDP", local_contact="<c>"
    )
    assert not d.accept_remote_cseq(5)
    assert not d.accept_remote_cseq(4)
    assert d.accept_remote_cseq(6)
    assert not d.accept_remote_cseq(6)


def test_target_refresh_adopts_new_contact() -> None:
    req = invite([])
    d = Dialog.from_uas(
        req, ok_for(req, "lt"), source=("10.0.0.2", 5062), transport="UDP", local_contact="<c>"
    )
    refresh = invite([])
    refresh.headers.set("Contact", "<sip:caller@192.168.1.77>")
    d.refresh_target(refresh)
    assert d.remote_target == "sip:caller@192.168.1.77"


def test_incoming_dialog_id_needs_a_to_tag() -> None:
    req = invite([])
    assert incoming_dialog_id(req) is None
    req.headers.set("To", "<sip:queue@10.0.0.1>;tag=lt")
    assert incoming_dialog_id(req) == dialog_id("cid-1", "lt", "rt")


def test_uri_destination_defaults_ports_by_scheme() -> None:
    assert uri_destination("sip:a@10.0.0.1") == ("10.0.0.1", 5060)
    assert uri_destination("sips:a@example.net") == ("example.net", 5061)
    assert uri_destination("sip:[2001:db8::1]:5070") == ("2001:db8::1", 5070)
