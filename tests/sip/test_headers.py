"""Structured header values: Via, name-addr/addr-spec, CSeq, params, comma lists, URIs."""

from __future__ import annotations

import pytest

from sip.headers import (
    Address,
    HeaderError,
    Via,
    parse_address,
    parse_cseq,
    parse_params,
    parse_via,
    split_header_values,
)
from sip.uri import SipUri, UnsupportedScheme, parse_uri


def test_via_reads_transport_host_port_and_params() -> None:
    via = parse_via("SIP/2.0/udp 192.0.2.1:5062;branch=z9hG4bKabc;rport;received=198.51.100.1")
    assert via == Via(
        "UDP",
        "192.0.2.1",
        5062,
        {"branch": "z9hG4bKabc", "rport": None, "received": "198.51.100.1"},
    )
    assert via.branch == "z9hG4bKabc"


def test_via_serialises_back_to_canonical_form() -> None:
    via = parse_via("SIP / 2.0 / TCP  example.com ; BRANCH = z9hG4bK1 ; rport")
    assert str(via) == "SIP/2.0/TCP example.com;branch=z9hG4bK1;rport"
    via.params["rport"] = "5070"
    assert str(via) == "SIP/2.0/TCP example.com;branch=z9hG4bK1;rport=5070"


def test_via_ipv6_host_keeps_brackets() -> None:
    via = parse_via("SIP/2.0/UDP [2001:db8::1]:5060;branch=z9hG4bKx")
    assert (via.host, via.port) == ("[2001:db8::1]", 5060)


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("SIP/2.0/UDP", "missing host"),
        ("SIP/2.0/UDP ;branch=x", "missing host"),
        ("garbage", "sent-protocol"),
        ("SIP/2.0/UDP host:99999", "port"),
        ("SIP/2.0/UDP host;;", "empty parameter"),
    ],
)
def test_bad_via_names_the_problem(value: str, problem: str) -> None:
    with pytest.raises(HeaderError, match="Bad Via") as info:
        parse_via(value)
    assert problem in str(info.value)


def test_address_name_addr_with_quoted_display_and_tag() -> None:
    addr = parse_address('"Alice \\"A\\" Smith" <sip:alice@example.org>;tag=abc;x')
    assert addr == Address('Alice "A" Smith', "sip:alice@example.org", {"tag": "abc", "x": None})
    assert addr.tag == "abc"
    assert str(addr) == '"Alice \\"A\\" Smith" <sip:alice@example.org>;tag=abc;x'


def test_address_addr_spec_params_belong_to_the_header() -> None:
    addr = parse_address("sip:bob@example.com;tag=99;user=phone")
    assert addr.uri == "sip:bob@example.com"
    assert addr.params == {"tag": "99", "user": "phone"}
    assert str(addr) == "<sip:bob@example.com>;tag=99;user=phone"


def test_address_token_display_name_and_star() -> None:
    assert parse_address("Bob  Smith <sip:b@h>").display == "Bob Smith"
    assert str(parse_address("*")) == "*"


@pytest.mark.parametrize(
    "value",
    [
        '"unterminated <sip:a@b>',
        "Bell, Alexander <sip:a@b>",
        "< sip:a@b >",
        "sip:a@b?Route=x",
        "<sip:a@b",
        "<nouri>",
        "",
        "<sip:a@b> junk",
    ],
)
def test_bad_addresses_are_rejected(value: str) -> None:
    with pytest.raises(HeaderError):
        parse_address(value)


def test_cseq_number_and_method() -> None:
    assert parse_cseq(" 0009   INVITE ") == (9, "INVITE")
    assert parse_cseq("4294967295 BYE") == (4294967295, "BYE")


@pytest.mark.parametrize("value", ["4294967296 INVITE", "x INVITE", "1", "1 INVITE x", "-1 BYE"])
def test_bad_cseq_is_rejected(value: str) -> None:
    with pytest.raises(HeaderError, match="Bad CSeq"):
        parse_cseq(value)


def test_split_header_values_respects_quotes_and_angle_brackets() -> None:
    value = '"Doe, John" <sip:j@h;a=1,2>;q=1, <sip:x@y> , sip:z@w'
    assert split_header_values(value) == ['"Doe, John" <sip:j@h;a=1,2>;q=1', "<sip:x@y>", "sip:z@w"]
    assert split_header_values("INVITE,ACK , BYE") == ["INVITE", "ACK", "BYE"]
    assert split_header_values("a,,b") == ["a", "", "b"]


def test_params_lower_case_names_and_keep_quoted_values() -> None:
    assert parse_params(";A=b;c") == {"a": "b", "c": None}
    assert parse_params(' ; x = "q;v" ; Y') == {"x": '"q;v"', "y": None}
    assert parse_params("") == {}
    with pytest.raises(HeaderError):
        parse_params(";a=")


def test_sip_uri_parts_and_round_trip() -> None:
    text = "sips:alice:secret@[2001:db8::1]:5061;transport=tcp;lr?Subject=hi&Priority=urgent"
    uri = parse_uri(text)
    assert uri == SipUri(
        "sips",
        "alice",
        "secret",
        "[2001:db8::1]",
        5061,
        {"transport": "tcp", "lr": None},
        {"Subject": "hi", "Priority": "urgent"},
    )
    assert str(uri) == text
    assert str(parse_uri("sip:example.com")) == "sip:example.com"


def test_uri_with_other_scheme_raises_unsupported_scheme() -> None:
    with pytest.raises(UnsupportedScheme) as info:
        parse_uri("tel:+15551234567")
    assert info.value.scheme == "tel"


@pytest.mark.parametrize("text", ["sip:", "sip:a b@c", "sip:@host", "sip:host:port", "nouri"])
def test_bad_sip_uris_are_rejected(text: str) -> None:
    with pytest.raises(HeaderError):
        parse_uri(text)
