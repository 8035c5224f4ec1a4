"""SDP parsing/serialization and RFC 3264 offer/answer for G.711 audio."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sip.sdp import (
    NoCommonCodec,
    SdpError,
    hold_offer,
    make_offer,
    negotiate,
    parse_answer,
    parse_sdp,
    resume_offer,
)

# What SIPp's built-in "uac" scenario sends, with its keywords filled in.
SIPP_UAC = (
    "v=0\r\n"
    "o=user1 53655765 2353687637 IN IP4 127.0.0.1\r\n"
    "s=-\r\n"
    "c=IN IP4 127.0.0.1\r\n"
    "t=0 0\r\n"
    "m=audio 6000 RTP/AVP 0\r\n"
    "a=rtpmap:0 PCMU/8000\r\n"
)

# A softphone offer in the style of baresip: wideband codecs first, G.711 later.
SOFTPHONE_OFFER = (
    "v=0\r\n"
    "o=- 1195350532 3245616466 IN IP4 192.0.2.10\r\n"
    "s=-\r\n"
    "c=IN IP4 192.0.2.10\r\n"
    "t=0 0\r\n"
    "m=audio 10000 RTP/AVP 96 9 8 0 101\r\n"
    "b=AS:64\r\n"
    "a=rtpmap:96 opus/48000/2\r\n"
    "a=fmtp:96 stereo=1;sprop-stereo=1\r\n"
    "a=rtpmap:9 G722/8000\r\n"
    "a=rtpmap:8 PCMA/8000\r\n"
    "a=rtpmap:0 PCMU/8000\r\n"
    "a=rtpmap:101 telephone-event/8000\r\n"
    "a=fmtp:101 0-15\r\n"
    "a=ptime:20\r\n"
    "a=sendrecv\r\n"
    "a=label:1\r\n"
    "a=ssrc:1577338412 cname:abc@example\r\n"
    "a=rtcp-rsize\r\n"
)

# Captured from baresip 1.0.0 (g711 + g722 modules) dialling out on 127.0.0.1.
BARESIP_CAPTURED = (
    "v=0\r\n"
    "o=- 2962041243 1976321031 IN IP4 127.0.0.1\r\n"
    "s=-\r\n"
    "c=IN IP4 127.0.0.1\r\n"
    "t=0 0\r\n"
    "a=tool:baresip 1.0.0\r\n"
    "m=audio 26384 RTP/AVP 0 8 9 101\r\n"
    "a=rtpmap:0 PCMU/8000\r\n"
    "a=rtpmap:8 PCMA/8000\r\n"
    "a=rtpmap:9 G722/8000\r\n"
    "a=rtpmap:101 telephone-event/8000\r\n"
    "a=fmtp:101 0-15\r\n"
    "a=sendrecv\r\n"
    "a=label:1\r\n"
    "a=rtcp-rsize\r\n"
    "a=ssrc:3000953417 cname:sip:alice@127.0.0.1:5397\r\n"
    "a=minptime:20\r\n"
    "a=ptime:20\r\n"
)

# Captured from linphonec 5.1.65 (liblinphone) dialling out on 127.0.0.1: RTCP XR at session
# level (RFC 3611 section 5.1), wideband codecs first.
LINPHONE_CAPTURED = (
    "v=0\r\n"
    "o=0709999999 1562 819 IN IP4 127.0.0.1\r\n"
    "s=Talk\r\n"
    "c=IN IP4 127.0.0.1\r\n"
    "t=0 0\r\n"
    "a=rtcp-xr:rcvr-rtt=all:10000 stat-summary=loss,dup,jitt,TTL voip-metrics\r\n"
    "m=audio 7078 RTP/AVP 96 97 98 0 8 18 99 100 101\r\n"
    "a=rtpmap:96 opus/48000/2\r\n"
    "a=fmtp:96 useinbandfec=1\r\n"
    "a=rtpmap:97 speex/16000\r\n"
    "a=fmtp:97 vbr=on\r\n"
    "a=rtpmap:98 speex/8000\r\n"
    "a=fmtp:98 vbr=on\r\n"
    "a=fmtp:18 annexb=yes\r\n"
    "a=rtpmap:99 telephone-event/48000\r\n"
    "a=rtpmap:100 telephone-event/16000\r\n"
    "a=rtpmap:101 telephone-event/8000\r\n"
    "a=rtcp-fb:* trr-int 5000\r\n"
    "a=rtcp-fb:* ccm tmmbr\r\n"
)

# Static PCMU/PCMA without rtpmap, telephone-event 0-16 on pt 96, ptime 30, LF endings.
MINIMAL_OFFER = (
    "v=0\n"
    "o=agent 1 1 IN IP4 198.51.100.7\n"
    "s=call\n"
    "t=0 0\n"
    "m=audio 40000 RTP/AVP 0 8 96\n"
    "c=IN IP4 198.51.100.7\n"
    "a=rtpmap:96 telephone-event/8000\n"
    "a=fmtp:96 0-16\n"
    "a=ptime:30\n"
)

HOLD_OFFER = SIPP_UAC.replace("o=user1 53655765 2353687637", "o=user1 53655765 2353687638") + (
    "a=sendonly\r\n"
)

G729_ONLY = (
    "v=0\r\n"
    "o=- 7 7 IN IP4 203.0.113.5\r\n"
    "s=-\r\n"
    "c=IN IP4 203.0.113.5\r\n"
    "t=0 0\r\n"
    "m=audio 5004 RTP/AVP 18 101\r\n"
    "a=rtpmap:18 G729/8000\r\n"
    "a=fmtp:18 annexb=no\r\n"
    "a=rtpmap:101 telephone-event/8000\r\n"
)


def _answer(offer_text: str, **kw: object):
    params = dict(local_address="10.0.0.1", local_port=20000, session_id=42, session_version=1)
    params.update(kw)
    return negotiate(parse_sdp(offer_text), **params)  # type: ignore[arg-type]


def test_parses_sipp_uac_offer() -> None:
    sd = parse_sdp(SIPP_UAC.encode())
    assert sd.origin.username == "user1"
    assert sd.origin.session_version == 2353687637
    assert sd.connection is not None and sd.connection.address == "127.0.0.1"
    (m,) = sd.media
    assert (m.media, m.port, m.proto, m.formats) == ("audio", 6000, "RTP/AVP", ["0"])
    assert m.codec("0").name == "PCMU"


def test_static_payload_types_need_no_rtpmap() -> None:
    m = parse_sdp(MINIMAL_OFFER).media[0]
    assert [(c.name, c.payload_type, c.clock_rate) for c in m.codecs()] == [
        ("PCMU", 0, 8000),
        ("PCMA", 8, 8000),
        ("telephone-event", 96, 8000),
    ]
    assert m.fmtp[96] == "0-16"
    assert m.ptime == 30


@pytest.mark.parametrize(
    "text", [SIPP_UAC, SOFTPHONE_OFFER, BARESIP_CAPTURED, MINIMAL_OFFER, HOLD_OFFER]
)
def test_serialize_round_trips(text: str) -> None:
    sd = parse_sdp(text)
    again = parse_sdp(str(sd))
    assert again == sd
    assert str(sd).endswith("\r\n") and "\n" not in str(sd).replace("\r\n", "")


def test_answers_sipp_offer_with_pcmu() -> None:
    answer = _answer(SIPP_UAC)
    assert (answer.codec.name, answer.codec.payload_type, answer.codec.clock_rate) == (
        "PCMU",
        0,
        8000,
    )
    assert answer.telephone_event_pt is None
    assert (answer.remote_address, answer.remote_port) == ("127.0.0.1", 6000)
    assert answer.direction == "sendrecv" and not answer.hold
    text = str(answer.sdp)
    assert "m=audio 20000 RTP/AVP 0\r\n" in text
    assert "c=IN IP4 10.0.0.1\r\n" in text
    assert "o=- 42 1 IN IP4 10.0.0.1\r\n" in text


def test_picks_first_supported_codec_in_offer_order_and_keeps_telephone_event() -> None:
    answer = _answer(SOFTPHONE_OFFER)
    assert answer.codec.name == "PCMA" and answer.codec.payload_type == 8
    assert answer.telephone_event_pt == 101
    assert answer.ptime == 20
    m = answer.sdp.media[0]
    assert m.formats == ["8", "101"]
    assert m.rtpmap[101].name == "telephone-event" and m.fmtp[101] == "0-15"
    assert m.ptime == 20


def test_answers_captured_baresip_offer() -> None:
    answer = _answer(BARESIP_CAPTURED)
    assert (answer.codec.name, answer.telephone_event_pt, answer.ptime) == ("PCMU", 101, 20)
    assert (answer.remote_address, answer.remote_port) == ("127.0.0.1", 26384)
    assert answer.sdp.media[0].formats == ["0", "101"]


def test_answers_captured_linphone_offer_with_rtcp_xr_voip_metrics() -> None:
    answer = _answer(LINPHONE_CAPTURED)
    assert (answer.codec.name, answer.telephone_event_pt) == ("PCMU", 101)
    text = str(answer.sdp)
    # Only the block type Vaxel sends and reads; liblinphone sends what the answer lists.
    assert text.count("a=rtcp-xr") == 1
    assert "m=audio 20000 RTP/AVP 0 101\r\n" in text
    assert text.endswith("a=sendrecv\r\na=rtcp-xr:voip-metrics\r\n")


def test_media_level_rtcp_xr_is_answered_too() -> None:
    offer = SIPP_UAC + "a=rtcp-xr:rcvr-rtt=sender\r\n"
    assert _answer(offer).sdp.media[0].attributes == [("rtcp-xr", "voip-metrics")]


def test_offer_without_rtcp_xr_gets_none_in_the_answer() -> None:
    for offer in (SIPP_UAC, BARESIP_CAPTURED, MINIMAL_OFFER):
        assert "rtcp-xr" not in str(_answer(offer).sdp)


def test_supported_list_restricts_choice() -> None:
    answer = _answer(SOFTPHONE_OFFER, supported=("PCMU",))
    assert answer.codec.name == "PCMU" and answer.codec.payload_type == 0


def test_telephone_event_keeps_offerer_payload_type_and_ptime_is_mirrored() -> None:
    answer = _answer(MINIMAL_OFFER)
    assert answer.codec.name == "PCMU"
    assert answer.telephone_event_pt == 96
    assert answer.ptime == 30 and answer.sdp.media[0].ptime == 30
    # Media-level c= is used when there is no session-level one.
    assert answer.remote_address == "198.51.100.7"


def test_avpf_offer_is_answered_with_the_same_profile() -> None:
    answer = _answer(SIPP_UAC.replace("RTP/AVP", "RTP/AVPF"))
    assert answer.sdp.media[0].proto == "RTP/AVPF"


def test_media_level_connection_overrides_session_level() -> None:
    text = SIPP_UAC.replace("a=rtpmap:0", "c=IN IP4 192.0.2.99\r\na=rtpmap:0")
    assert _answer(text).remote_address == "192.0.2.99"


@pytest.mark.parametrize(
    ("offered", "answered", "hold"),
    [
        ("sendrecv", "sendrecv", False),
        ("sendonly", "recvonly", True),
        ("recvonly", "sendonly", False),
        ("inactive", "inactive", True),
    ],
)
def test_answer_direction_follows_rfc3264(offered: str, answered: str, hold: bool) -> None:
    answer = _answer(SIPP_UAC + f"a={offered}\r\n")
    assert answer.direction == answered
    assert answer.sdp.media[0].direction == answered
    assert answer.hold is hold


def test_session_level_direction_is_inherited() -> None:
    text = SIPP_UAC.replace("t=0 0\r\n", "t=0 0\r\na=sendonly\r\n")
    assert _answer(text).direction == "recvonly"


def test_old_style_hold_with_zero_address() -> None:
    answer = _answer(SIPP_UAC.replace("c=IN IP4 127.0.0.1", "c=IN IP4 0.0.0.0"))
    assert answer.hold
    assert answer.direction == "recvonly"


def test_non_audio_streams_are_declined_with_port_zero() -> None:
    text = (
        SIPP_UAC.replace("m=audio", "m=video 6002 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\nm=audio")
        + "m=audio 6004 RTP/AVP 8\r\n"
    )
    answer = _answer(text)
    assert [(m.media, m.port) for m in answer.sdp.media] == [
        ("video", 0),
        ("audio", 20000),
        ("audio", 0),
    ]
    assert answer.remote_port == 6000


def test_g729_only_offer_has_no_common_codec() -> None:
    with pytest.raises(NoCommonCodec, match="G729") as info:
        _answer(G729_ONLY)
    assert info.value.status == 488


def test_srtp_only_offer_has_no_common_codec() -> None:
    with pytest.raises(NoCommonCodec, match="RTP/SAVP"):
        _answer(SIPP_UAC.replace("RTP/AVP", "RTP/SAVP"))


def test_offer_without_audio_has_no_common_codec() -> None:
    with pytest.raises(NoCommonCodec, match="no audio"):
        _answer(SIPP_UAC.replace("m=audio", "m=video"))


def test_wideband_telephone_event_is_not_paired_with_narrowband_codec() -> None:
    text = SOFTPHONE_OFFER.replace("101 telephone-event/8000", "101 telephone-event/48000")
    assert _answer(text).telephone_event_pt is None


def test_audio_without_connection_address_is_an_error() -> None:
    with pytest.raises(SdpError, match="c="):
        _answer(SIPP_UAC.replace("c=IN IP4 127.0.0.1\r\n", ""))


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "empty"),
        ("v=1\r\no=- 1 1 IN IP4 a\r\ns=-\r\n", "v=0"),
        ("v=0\r\nthis is not sdp\r\n", "line 2"),
        ("v=0\r\no=- 1 1 IN IP4\r\ns=-\r\n", "o= needs 6"),
        ("v=0\r\no=- 1 x IN IP4 a\r\ns=-\r\n", "version"),
        ("v=0\r\ns=-\r\nt=0 0\r\n", "no o="),
        ("v=0\r\no=- 1 1 IN IP4 a\r\nt=0 0\r\n", "no s="),
        (SIPP_UAC.replace("m=audio 6000", "m=audio abc"), "port"),
        (SIPP_UAC.replace("m=audio 6000", "m=audio 70000"), "out of range"),
        (SIPP_UAC.replace("m=audio 6000 RTP/AVP 0", "m=audio 6000"), "m= needs"),
        (SIPP_UAC.replace("a=rtpmap:0 PCMU/8000", "a=rtpmap:0 PCMU"), "rtpmap"),
        (SIPP_UAC.replace("a=rtpmap:0 ", "a=rtpmap:x "), "payload type"),
        (SIPP_UAC.replace("a=rtpmap:0 ", "a=rtpmap:300 "), "0-127"),
        (SIPP_UAC.replace("c=IN IP4 127.0.0.1", "c=IN 127.0.0.1"), "c= needs"),
        (SIPP_UAC + "a=ptime:soon\r\n", "ptime"),
    ],
)
def test_malformed_sdp_raises_sdp_error_naming_problem(text: str, problem: str) -> None:
    with pytest.raises(SdpError, match=problem):
        parse_sdp(text)


def test_non_utf8_body_is_an_sdp_error() -> None:
    with pytest.raises(SdpError, match="UTF-8"):
        parse_sdp(b"v=0\r\ns=\xff\xfe\r\n")


def test_make_offer_lists_codecs_and_telephone_event() -> None:
    offer = make_offer("10.0.0.1", 30000, ("PCMA", "PCMU"), 101, session_id=9, session_version=1)
    text = str(offer)
    assert "m=audio 30000 RTP/AVP 8 0 101\r\n" in text
    assert "a=rtpmap:101 telephone-event/8000\r\n" in text
    assert "a=fmtp:101 0-15\r\n" in text
    assert "a=sendrecv\r\n" in text
    # Vaxel sends RTCP XR VoIP Metrics on every leg (RFC 3611 4.7) and says so (5.1).
    assert "a=rtcp-xr:voip-metrics\r\n" in text


def test_make_offer_refuses_unknown_codec_and_bad_payload_type() -> None:
    with pytest.raises(SdpError, match="opus"):
        make_offer("10.0.0.1", 30000, ("opus",), session_id=1, session_version=1)
    with pytest.raises(SdpError, match="96-127"):
        make_offer("10.0.0.1", 30000, telephone_event_pt=8, session_id=1, session_version=1)


def test_offer_answer_round_trip_between_two_sides() -> None:
    offer = make_offer("10.0.0.1", 30000, ("PCMA", "PCMU"), session_id=9, session_version=1)
    answer = negotiate(
        parse_sdp(str(offer)),
        local_address="10.0.0.2",
        local_port=40000,
        supported=("PCMU", "PCMA"),
        session_id=5,
        session_version=1,
    )
    agreed = parse_answer(offer, parse_sdp(str(answer.sdp)))
    assert agreed.codec.name == answer.codec.name == "PCMA"
    assert ("rtcp-xr", "voip-metrics") in answer.sdp.media[0].attributes
    assert agreed.telephone_event_pt == 101
    assert (agreed.remote_address, agreed.remote_port) == ("10.0.0.2", 40000)
    assert agreed.direction == "sendrecv" and not agreed.hold


def test_parse_answer_declined_audio_is_no_common_codec() -> None:
    offer = make_offer("10.0.0.1", 30000, session_id=9, session_version=1)
    declined = parse_sdp(SIPP_UAC.replace("m=audio 6000", "m=audio 0"))
    with pytest.raises(NoCommonCodec, match="port 0"):
        parse_answer(offer, declined)


def test_parse_answer_rejects_codec_we_did_not_offer() -> None:
    offer = make_offer("10.0.0.1", 30000, ("PCMA",), session_id=9, session_version=1)
    with pytest.raises(NoCommonCodec, match="no offered codec"):
        parse_answer(offer, parse_sdp(SIPP_UAC))


def test_parse_answer_with_wrong_stream_count_is_error() -> None:
    offer = make_offer("10.0.0.1", 30000, session_id=9, session_version=1)
    two = parse_sdp(SIPP_UAC + "m=video 0 RTP/AVP 96\r\n")
    with pytest.raises(SdpError, match="m= lines"):
        parse_answer(offer, two)


def test_parse_answer_sendonly_means_we_are_held() -> None:
    offer = make_offer("10.0.0.1", 30000, session_id=9, session_version=1)
    agreed = parse_answer(offer, parse_sdp(SIPP_UAC + "a=sendonly\r\n"))
    assert agreed.direction == "recvonly" and agreed.hold


def test_hold_and_resume_reoffers_bump_version_and_change_direction() -> None:
    first = make_offer("10.0.0.1", 30000, session_id=9, session_version=1)
    held = hold_offer(first)
    assert held.origin.session_version == 2 and held.media[0].direction == "sendonly"
    assert hold_offer(first, inactive=True).media[0].direction == "inactive"
    resumed = resume_offer(held)
    assert resumed.origin.session_version == 3 and resumed.media[0].direction == "sendrecv"
    # The earlier descriptions are not modified.
    assert first.origin.session_version == 1 and first.media[0].direction == "sendrecv"
    # The peer answering our hold re-offer answers recvonly.
    reply = negotiate(
        parse_sdp(str(held)),
        local_address="10.0.0.2",
        local_port=1,
        session_id=1,
        session_version=2,
    )
    assert reply.direction == "recvonly"


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(SOFTPHONE_OFFER.split("\r\n")) | st.text(max_size=30), max_size=12))
def test_parser_only_raises_sdp_error(lines: list[str]) -> None:
    try:
        sd = parse_sdp("\r\n".join(["v=0", *lines]))
    except SdpError:
        return
    try:
        _answer(str(sd))
    except SdpError:
        pass
