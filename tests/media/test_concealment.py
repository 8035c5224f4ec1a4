"""Which loss concealment a leg is rated with: configuration, codec, User-Agent, SDP, default."""

from __future__ import annotations

import pytest

from media import EndpointHints, choose_concealment
from media.concealment import connection_codec, rating_codec
from media.emodel import codec_impairment


@pytest.mark.parametrize(
    "user_agent",
    [
        "baresip v3.10.1 (x86_64/linux)",
        "Linphone Desktop/5.2.6 (belle-sip/5.3.0)",
        "Yealink SIP-T46U 108.86.0.45",
        "PolycomVVX-VVX_411-UA/6.4.3.5018",
        "Cisco-CP8841/11.7.1",
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/131.0 JsSIP/3.10.1",
    ],
)
def test_known_phones_and_browsers_conceal(user_agent: str) -> None:
    decision = choose_concealment("PCMU", EndpointHints(user_agent=user_agent))
    assert decision.conceals and user_agent in decision.reason


def test_a_test_tool_that_plays_nothing_does_not_conceal() -> None:
    decision = choose_concealment("PCMA", EndpointHints(user_agent="SIPp/v3.7.3-TLS-PCAP"))
    assert not decision.conceals


def test_sdp_evidence_and_the_calibrated_default() -> None:
    assert choose_concealment("PCMU", EndpointHints(rtcp_xr=True)).reason.startswith("SDP")
    assert choose_concealment("PCMU", EndpointHints(webrtc=True)).conceals
    unknown = choose_concealment("PCMU", EndpointHints(user_agent="SomeTrunk/1.0"))
    assert unknown.conceals and unknown.reason.startswith("default")
    assert choose_concealment("PCMU", None) == unknown


def test_configuration_wins_over_everything() -> None:
    yealink = EndpointHints(user_agent="Yealink SIP-T54W", rtcp_xr=True)
    assert not choose_concealment("PCMU", yealink, override=False).conceals
    sipp = EndpointHints(user_agent="SIPp")
    assert choose_concealment("PCMU", sipp, override=True).reason == "[rtp] mos_plc = true"


def test_other_codecs_use_their_own_entry_and_g711_the_calibrated_one() -> None:
    assert rating_codec("G729", choose_concealment("G729", None)) == "G729"
    assert rating_codec("pcmu", choose_concealment("pcmu", None)) == "PCMU-CONCEAL"
    calibrated = codec_impairment("PCMU-CONCEAL")
    assert (calibrated.bpl, calibrated.burst_weight) == (12.0, 0.1)
    assert codec_impairment("PCMU").burst_weight == 1.0  # G.113 entries: G.107 as written
    assert connection_codec("PCMU-CONCEAL") == "PCMU-NOPLC"
    assert connection_codec("PCMA") == "PCMA-NOPLC" and connection_codec("G729") == "G729"
