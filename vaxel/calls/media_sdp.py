"""Applying a negotiated SDP to a media leg: one call for every place that does it."""

from __future__ import annotations

from media import MediaLeg
from sip import Negotiated


def apply_sdp(leg: MediaLeg, neg: Negotiated) -> None:
    """Point ``leg`` at the far end with the negotiated codec and telephone-event type."""
    leg.set_remote(
        neg.remote_address,
        neg.remote_port,
        neg.codec.name,
        neg.codec.payload_type,
        neg.telephone_event_pt,
    )
