"""RFC 4475 torture tests, graded against the expected-behaviour column of index.tsv.

Every row of /work/shared/rfc4475/index.tsv is a test case. A request must be
rejected by ``parse_message`` or by ``check_request`` with a status the
behaviour column names, or be accepted by both when the row says to process
it; responses must parse or be dropped as the row says, never crash.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest

from sip.headers import parse_address, parse_cseq, parse_via
from sip.message import SipRequest, SipResponse
from sip.parser import SipParseError, parse_message
from sip.uri import parse_uri, unescape
from sip.useragent import UserAgent
from sip.validate import check_request, unsupported_options

CORPUS = Path("/work/shared/rfc4475")
ROWS = list(csv.DictReader((CORPUS / "index.tsv").open(encoding="utf-8"), delimiter="\t"))

# A UAS that implements the usual methods and is also the registrar.
METHODS = frozenset({"INVITE", "ACK", "BYE", "CANCEL", "OPTIONS", "REGISTER", "MESSAGE"})

ACCEPT = ("accept",)
RESPONSE = ("response",)


def parse_reject(status: int, reason_part: str) -> tuple[str, int, str]:
    return ("parse", status, reason_part)


def check_reject(status: int, reason_part: str) -> tuple[str, int, str]:
    return ("check", status, reason_part)


def dropped(reason_part: str) -> tuple[str, int, str]:
    """A response the parser refuses; the transport drops it silently."""
    return ("dropped", 400, reason_part)


# Our outcome per message; each status is checked against the behaviour column below.
EXPECTED: dict[str, tuple] = {
    "wsinv": ACCEPT,
    "intmeth": check_reject(501, "Not Implemented"),
    "esc01": ACCEPT,
    "escnull": ACCEPT,
    "esc02": check_reject(501, "Not Implemented"),
    "lwsdisp": ACCEPT,
    "longreq": ACCEPT,
    "dblreq": ACCEPT,
    "semiuri": ACCEPT,
    "transports": ACCEPT,
    "mpart01": ACCEPT,
    "unreason": RESPONSE,
    "noreason": RESPONSE,
    "badinv01": parse_reject(400, "Via"),
    "clerr": parse_reject(400, "Content-Length"),
    "ncl": parse_reject(400, "Content-Length"),
    "scalar02": parse_reject(400, "CSeq"),
    "scalarlg": dropped("CSeq"),
    "quotbal": check_reject(400, "quoted string"),
    "ltgtruri": parse_reject(400, "Request-URI"),
    "lwsruri": parse_reject(400, "Request-Line"),
    "lwsstart": parse_reject(400, "Request-Line"),
    "trws": parse_reject(400, "Request-Line"),
    "escruri": check_reject(400, "Request-URI"),
    "baddate": ACCEPT,
    "regbadct": check_reject(400, "Contact"),
    "badaspec": check_reject(400, "To"),
    "baddn": check_reject(400, "display name"),
    "badvers": check_reject(505, "Version Not Supported"),
    "mismatch01": check_reject(400, "CSeq method mismatch"),
    "mismatch02": check_reject(400, "CSeq method mismatch"),
    "bigcode": dropped("status code"),
    "badbranch": check_reject(400, "branch"),
    "insuf": parse_reject(400, "Missing Call-ID"),
    "unkscm": check_reject(416, "Unsupported URI Scheme"),
    "novelsc": check_reject(416, "Unsupported URI Scheme"),
    "unksm2": check_reject(400, "To"),
    "bext01": check_reject(420, "Bad Extension"),
    "invut": check_reject(415, "Unsupported Media Type"),
    "regaut01": ACCEPT,
    "multi01": parse_reject(400, "Multiple"),
    "mcl01": parse_reject(400, "Content-Length"),
    "bcast": RESPONSE,
    "zeromf": ACCEPT,
    "cparam01": ACCEPT,
    "cparam02": ACCEPT,
    "regescrt": ACCEPT,
    "sdp01": check_reject(406, "Not Acceptable"),
    "inv2543": ACCEPT,
}


def load(name: str) -> bytes:
    return (CORPUS / f"{name}.dat").read_bytes()


def parse(name: str) -> SipRequest | SipResponse:
    return parse_message(load(name))


def test_index_lists_all_49_messages_and_each_has_an_expectation() -> None:
    names = [row["name"] for row in ROWS]
    assert len(names) == 49
    assert set(names) == set(EXPECTED)


@pytest.mark.parametrize("row", ROWS, ids=[row["name"] for row in ROWS])
def test_message_is_handled_as_the_behaviour_column_says(row: dict[str, str]) -> None:
    name, behaviour = row["name"], row["expected_uas_behaviour"]
    expected = EXPECTED[name]
    kind = expected[0]
    if kind in ("parse", "dropped"):
        _, status, reason_part = expected
        with pytest.raises(SipParseError) as info:
            parse(name)
        assert info.value.status == status
        assert reason_part in info.value.reason
        if kind == "dropped":
            assert behaviour.startswith("response:")
            assert "discard" in behaviour or "drop" in behaviour
        else:
            assert re.search(rf"\b{status}\b", behaviour), behaviour
        return
    msg = parse(name)
    if kind == "response":
        assert isinstance(msg, SipResponse)
        assert behaviour.startswith("response:") and "parse" in behaviour
        return
    assert isinstance(msg, SipRequest)
    result = check_request(msg, methods=METHODS)
    if kind == "accept":
        assert result is None
        assert not behaviour.startswith(("reject", "respond 4", "respond 5"))
        assert not re.match(r"(must not crash; )?(reject|respond [45]\d\d)", behaviour)
    else:
        _, status, reason_part = expected
        assert result is not None
        assert result[0] == status
        assert reason_part in result[1]
        assert re.search(rf"\b{status}\b", behaviour), behaviour


def test_baddn_fixed_variant_is_rejected_for_its_display_name_too() -> None:
    msg = parse_message((CORPUS / "variants" / "baddn_with_final_crlf.dat").read_bytes())
    assert isinstance(msg, SipRequest)
    assert check_request(msg) == (
        400,
        "Bad From: display name must be a token list or quoted string",
    )


# --- field-level checks of the messages that must parse -------------------------------


def test_wsinv_unfolds_lines_and_reads_odd_whitespace() -> None:
    msg = parse("wsinv")
    h = msg.headers
    assert h["Call-ID"] == "wsinv.ndaksdj@192.0.2.1"
    assert parse_cseq(h["CSeq"]) == (9, "INVITE")
    assert int(h["Max-Forwards"]) == 68
    assert len(msg.body) == 150 and msg.body.startswith(b"v=0\r\n")
    to = parse_address(h["To"])
    assert (to.display, to.uri, to.tag) == (
        None,
        "sip:vivekg@chair-dnrc.example.com",
        "1918181833n",
    )
    frm = parse_address(h["From"])
    assert frm.display == 'J Rosenberg \\"'
    assert frm.tag == "98asjd8"
    vias = [parse_via(v) for v in h.get_all("v")]
    assert [(v.transport, v.host, v.branch) for v in vias] == [
        ("UDP", "192.0.2.2", "390skdjuw"),
        ("TCP", "spindle.example.com", "z9hG4bK9ikj8"),
        ("UDP", "192.168.255.111", "z9hG4bK30239"),
    ]
    contact = parse_address(h["m"])
    assert contact.display == 'Quoted string ""'
    assert contact.params == {"newparam": "newvalue", "secondparam": None, "q": "0.33"}
    assert h["NewFangledHeader"] == "newfangled value continued newfangled value"
    assert h["UnknownHeaderWithUnusualValue"] == ";;,,;;,;"
    assert h["Subject"] == ""
    route = parse_address(h["Route"])
    assert route.uri == "sip:services.example.com;lr;unknownwith=value;unknown-no-value"


def test_intmeth_keeps_odd_token_characters_and_quoted_control_bytes() -> None:
    msg = parse("intmeth")
    assert isinstance(msg, SipRequest)
    assert msg.method == "!interesting-Method0123456789_*+`.%indeed'~"
    assert parse_cseq(msg.headers["CSeq"]) == (139122385, msg.method)
    assert parse_address(msg.headers["To"]).display == "BEL:\x07 NUL:\x00 DEL:\x7f"
    frm = parse_address(msg.headers["From"])
    assert frm.display == "token1~` token2'+_ token3*%!.-"
    assert frm.tag == "_token~1'+`*%!-."
    assert frm.params["fromparam''~+*_!.-%"] == '"работающий"'
    assert parse_via(msg.headers["Via"]).branch == "z9hG4bK-.!%66*_+`'~"
    assert msg.headers["Call-ID"] == "intmeth.word%ZK-!.*_+'@word`~)(><:\\/\"][?}{"
    assert msg.headers["extensionHeader-!.%*+_`'~"] == "\ufeff大停電"
    uri = parse_uri(msg.uri)
    assert uri.user == "1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*"
    assert uri.password == "&it+has=1,weird!*pas$wo~d_too.(doesn't-it)"
    assert uri.host == "example.com"


def test_esc01_decodes_escapes_once() -> None:
    msg = parse("esc01")
    uri = parse_uri(msg.uri)
    assert unescape(uri.user or "") == "sips:user@example.com"
    assert uri.host == "example.net"
    contact = parse_uri(parse_address(msg.headers["Contact"]).uri)
    assert unescape(contact.user or "") == "caller"
    assert unescape(contact.params["n%61me"] or "") == "value%41"
    assert len(msg.body) == 150


def test_escnull_keeps_escaped_nulls_and_two_distinct_contacts() -> None:
    msg = parse("escnull")
    contacts = [parse_uri(parse_address(v).uri).user for v in msg.headers.get_all("Contact")]
    assert contacts == ["%00", "%00%00"]
    to_user = parse_uri(parse_address(msg.headers["To"]).uri).user
    assert unescape(to_user or "") == "null-\x00-null"


def test_esc02_escaped_method_and_header_name_are_not_decoded() -> None:
    msg = parse("esc02")
    assert isinstance(msg, SipRequest)
    assert msg.method == "RE%47IST%45R"
    assert len(msg.headers.get_all("Contact")) == 2
    assert msg.headers["C%6Fntact"] == "<sip:alias2@host2.example.com>"
    assert parse_address(msg.headers["To"]).display == "%Z%45"


def test_lwsdisp_display_name_without_space_before_angle() -> None:
    frm = parse_address(parse("lwsdisp").headers["From"])
    assert (frm.display, frm.uri, frm.tag) == ("caller", "sip:caller@example.com", "323")


def test_longreq_reads_34_vias_and_long_values() -> None:
    msg = parse("longreq")
    vias = [parse_via(v) for v in msg.headers.get_all("Via")]
    assert len(vias) == 34
    assert vias[0].host == "sip33.example.com"
    assert vias[-1].params["received"] == "192.0.2.5"
    assert (vias[-1].branch or "").startswith("verylonglong")
    to = parse_address(msg.headers["To"])
    assert to.display is not None and to.display.endswith("extreme proportion")
    assert len(msg.body) == 150


def test_dblreq_ignores_octets_after_content_length() -> None:
    msg = parse("dblreq")
    assert isinstance(msg, SipRequest)
    assert msg.method == "REGISTER"
    assert msg.body == b""
    assert msg.call_id == "dblreq.0ha0isndaksdj99sdfafnl3lk233412"


def test_semiuri_user_part_contains_semicolon() -> None:
    msg = parse("semiuri")
    uri = parse_uri(msg.uri)
    assert (uri.user, uri.host, uri.params) == ("user;par=u%40example.net", "example.com", {})
    assert len(msg.headers.get_all("Accept")) == 6


def test_transports_reads_every_via_transport() -> None:
    vias = [parse_via(v) for v in parse("transports").headers.get_all("Via")]
    assert [v.transport for v in vias] == ["UDP", "SCTP", "TLS", "UNKNOWN", "TCP"]


def test_mpart01_binary_body_framed_by_content_length() -> None:
    msg = parse("mpart01")
    assert len(msg.body) == 553
    assert b"\x00" in msg.body
    via = parse_via(msg.headers["Via"])
    assert via.port == 5070 and "rport" in via.params and via.params["rport"] is None


def test_unusual_and_empty_reason_phrases() -> None:
    unreason = parse("unreason")
    assert isinstance(unreason, SipResponse)
    assert unreason.status == 200
    assert unreason.reason == "= 2**3 * 5**2 но сто девяносто девять - простое"
    assert len(unreason.body) == 154
    noreason = parse("noreason")
    assert isinstance(noreason, SipResponse)
    assert (noreason.status, noreason.reason) == (100, "")


def test_bcast_second_via_is_the_broadcast_address() -> None:
    vias = [parse_via(v) for v in parse("bcast").headers.get_all("Via")]
    assert vias[1].host == "255.255.255.255"


def test_contact_params_versus_uri_params() -> None:
    cp1 = parse_address(parse("cparam01").headers["Contact"])
    assert cp1.uri == "sip:+19725552222@gw1.example.net"
    assert cp1.params == {"unknownparam": None}
    cp2 = parse_address(parse("cparam02").headers["Contact"])
    assert cp2.params == {}
    assert parse_uri(cp2.uri).params == {"unknownparam": None}


def test_regescrt_contact_keeps_escaped_route_header() -> None:
    contact = parse_address(parse("regescrt").headers["m"])
    assert parse_uri(contact.uri).headers == {"Route": "%3Csip:sip.example.com%3E"}


def test_bext01_names_every_unknown_required_option() -> None:
    msg = parse("bext01")
    assert isinstance(msg, SipRequest)
    assert unsupported_options(msg, frozenset()) == [
        "nothingSupportsThis",
        "nothingSupportsThisEither",
    ]
    assert check_request(msg, supported=frozenset(unsupported_options(msg, frozenset()))) is None


def test_inv2543_body_is_rest_of_datagram_without_content_length() -> None:
    msg = parse("inv2543")
    data = load("inv2543")
    assert msg.body == data[data.index(b"\r\n\r\n") + 4 :]
    assert len(msg.body) == 105
    assert parse_via(msg.headers["Via"]).branch is None
    assert "Max-Forwards" not in msg.headers


def test_zeromf_max_forwards_zero_is_483_for_other_methods() -> None:
    msg = parse("zeromf")
    assert isinstance(msg, SipRequest)
    assert check_request(msg) is None
    invite = parse_message(load("zeromf").replace(b"OPTIONS", b"INVITE"))
    assert isinstance(invite, SipRequest)
    assert check_request(invite) == (483, "Too Many Hops")


def test_clerr_request_error_still_carries_the_routable_request() -> None:
    with pytest.raises(SipParseError) as info:
        parse("clerr")
    assert isinstance(info.value.message, SipRequest)
    assert info.value.message.call_id == "clerr.0ha0isndaksdjweiafasdk3"


# --- the same messages through the UA core, as a transport delivers them ---------------

UNROUTABLE = {"badinv01": "its only Via is malformed: nowhere to send a 400"}


@pytest.mark.parametrize("row", ROWS, ids=[row["name"] for row in ROWS])
def test_each_request_gets_over_the_ua_the_answer_its_row_expects(row: dict[str, str]) -> None:
    name = row["name"]
    expected = EXPECTED[name]
    ua = UserAgent(local_host="192.0.2.200", local_port=5060, allow=tuple(sorted(METHODS)))
    ua.receive_bytes(load(name), ("192.0.2.9", 5060), "UDP", 0.0)
    sent = [m for m, _, _ in ua.messages_to_send()]
    if expected[0] in ("response", "dropped"):
        # A stray response, or a response too broken to match: nothing is ever sent back
        # (a response is never answered; RFC 3261 8.1.3.3 drops a malformed one).
        assert sent == [], sent
        return
    answers = [m for m in sent if isinstance(m, SipResponse) and m.status != 100]
    if name in UNROUTABLE or expected == ACCEPT:
        # 481: an in-dialog request (wsinv has a To tag) for a dialog this UA never made.
        assert [a.status for a in answers if a.status >= 300 and a.status != 481] == []
        return
    _, status, reason_part = expected
    assert [a.status for a in answers] == [status]
    assert reason_part in answers[0].reason
