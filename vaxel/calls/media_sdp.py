"""Applying a negotiated SDP to a media leg: one call for every place that does it."""

from __future__ import annotations

from media import EndpointHints, MediaLeg
from sip import Negotiated, SessionDescription


def apply_sdp(leg: MediaLeg, neg: Negotiated) -> None:
    """Point ``leg`` at the far end with the negotiated codec and telephone-event type,
    with SRTP when the SDP keyed it (SDES)."""
    keys = neg.srtp
    if keys is None:
        leg.set_srtp(None)
    else:
        leg.set_srtp(keys.suite, keys.local_key, keys.remote_key)
    leg.set_remote(
        neg.remote_address,
        neg.remote_port,
        neg.codec.name,
        neg.codec.payload_type,
        neg.telephone_event_pt,
    )


def endpoint_hints(user_agent: str | None, sdp: SessionDescription | None) -> EndpointHints:
    """What an endpoint's signalling says about its loss concealment (media.concealment)."""
    attrs = list(sdp.attributes) if sdp is not None else []
    webrtc = False
    for m in sdp.media if sdp is not None else []:
        if m.media == "audio":
            attrs += m.attributes
            webrtc = webrtc or "SAVPF" in m.proto.upper()
    return EndpointHints(
        user_agent=user_agent, rtcp_xr=any(name == "rtcp-xr" for name, _ in attrs), webrtc=webrtc
    )
