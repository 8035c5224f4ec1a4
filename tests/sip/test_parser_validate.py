"""Semantic checks a UAS makes on parsed requests (sip.validate.check_request)."""

from __future__ import annotations

import pytest

from sip.message import SipRequest
from sip.parser import parse_message
from sip.validate import check_request, unsupported_options


def request(
    method: str = "INVITE",
    uri: str = "sip:q@example.com",
    extra: str = "",
    body: bytes = b"",
    max_forwards: str | None = "70",
    branch: str = "z9hG4bKx1",
) -> SipRequest:
    lines = [
        f"{method} {uri} SIP/2.0",
        f"Via: SIP/2.0/UDP 192.0.2.1;branch={branch}",
        "From: <sip:a@example.com>;tag=1",
        "To: <sip:q@example.com>",
        "Call-ID: c1",
        f"CSeq: 1 {method}",
    ]
    if max_forwards is not None:
        lines.append(f"Max-Forwards: {max_forwards}")
    lines += [line for line in extra.split("\n") if line]
    if body:
        lines.append("Content-Type: application/sdp")
    lines.append(f"Content-Length: {len(body)}")
    msg = parse_message(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
    assert isinstance(msg, SipRequest)
    return msg


def test_well_formed_invite_is_accepted() -> None:
    assert check_request(request(body=b"v=0\r\n")) is None


@pytest.mark.parametrize(
    ("req", "expected"),
    [
        (request(max_forwards=None), (400, "Missing Max-Forwards")),
        (request(max_forwards="256"), (400, "Bad Max-Forwards")),
        (request(max_forwards="0"), (483, "Too Many Hops")),
        (request("OPTIONS", max_forwards="0"), None),
        (request(uri="tel:+15551234"), (416, "Unsupported URI Scheme")),
        (request(extra="Require: 100rel, foo"), (420, "Bad Extension")),
        (
            request(extra="Contact: sip:a@b?x=y"),
            (400, "Bad Contact: URI with ',' or '?' must be enclosed in <>"),
        ),
        (request(extra="Content-Encoding: gzip", body=b"x"), (415, "Unsupported Media Type")),
        (request(extra="Accept: text/plain", body=b"x"), (406, "Not Acceptable")),
        (request(extra="Accept: application/*", body=b"x"), None),
        (request(branch="z9hG4bK"), (400, "Bad Via: branch has only the magic cookie")),
    ],
)
def test_check_request_answers(req: SipRequest, expected: tuple[int, str] | None) -> None:
    assert check_request(req) == expected


def test_rfc2543_request_without_max_forwards_is_accepted() -> None:
    assert check_request(request(max_forwards=None, branch="1234")) is None


def test_supported_option_passes_and_420_lists_the_rest() -> None:
    req = request(extra="Require: 100rel, foo")
    assert unsupported_options(req, frozenset({"100rel"})) == ["foo"]
    assert check_request(req, supported=frozenset({"100rel", "foo"})) is None


def test_unimplemented_method_is_501_when_methods_given() -> None:
    req = request("SUBSCRIBE")
    assert check_request(req) is None
    assert check_request(req, methods=frozenset({"INVITE"})) == (501, "Not Implemented")


def test_version_and_content_length_mismatch() -> None:
    req = request()
    req.version = "SIP/3.0"
    assert check_request(req) == (505, "Version Not Supported")
    req = request()
    req.body = b"extra"
    assert check_request(req, media_types=None) == (400, "Content-Length does not match body")
