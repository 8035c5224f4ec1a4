"""What the signalling tells the MOS rating about an endpoint's loss concealment."""

from __future__ import annotations

from sip import parse_sdp
from vaxel.calls.media_sdp import endpoint_hints

_SDP = (
    "v=0\r\no=- 1 1 IN IP4 192.0.2.7\r\ns=-\r\nc=IN IP4 192.0.2.7\r\nt=0 0\r\n"
    "m=audio 4000 {proto} 0 101\r\na=rtpmap:0 PCMU/8000\r\n{extra}"
)


def test_rtcp_xr_and_webrtc_offers_are_recognised() -> None:
    xr = parse_sdp(_SDP.format(proto="RTP/AVP", extra="a=rtcp-xr:voip-metrics\r\n").encode())
    hints = endpoint_hints("Linphone/5.2", xr)
    assert hints.user_agent == "Linphone/5.2" and hints.rtcp_xr and not hints.webrtc
    web = parse_sdp(_SDP.format(proto="UDP/TLS/RTP/SAVPF", extra="").encode())
    assert endpoint_hints(None, web).webrtc
    plain = endpoint_hints(None, parse_sdp(_SDP.format(proto="RTP/AVP", extra="").encode()))
    assert not plain.rtcp_xr and not plain.webrtc
    assert endpoint_hints("SIPp", None).user_agent == "SIPp"
