"""Whether the endpoint that plays a leg's audio conceals lost packets (pure).

The E-model's packet-loss robustness (Bpl) depends on what the *listener*
does with a lost packet: G.711 played by a phone that repeats and fades the
last frame loses much less quality than G.711 played with silence in the
gap. Vaxel cannot hear the far phone, so it decides from what it can know,
first match wins (docs/mos.md "Which concealment a leg is rated with"):

1. ``[rtp] mos_plc = true / false`` in the configuration: always / never;
2. a codec other than G.711: its own G.113 entry (those codecs conceal);
3. a User-Agent (or Server) header naming a known test tool that plays
   nothing (SIPp): no concealment;
4. a User-Agent naming a known phone, softphone or browser stack (baresip,
   linphone, Yealink, Polycom, Cisco, ...), a WebRTC offer, or an SDP
   with ``a=rtcp-xr`` (an endpoint that computes its own VoIP metrics has
   a jitter buffer with concealment): concealment;
5. otherwise the calibrated default: concealment, because nearly every
   phone and browser conceals loss today.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "CONCEALING_USER_AGENTS",
    "SILENT_USER_AGENTS",
    "Concealment",
    "EndpointHints",
    "choose_concealment",
    "connection_codec",
    "rating_codec",
]

# Lower-case substrings of User-Agent / Server headers.
CONCEALING_USER_AGENTS: tuple[str, ...] = (
    "baresip",
    "linphone",
    "belle-sip",
    "yealink",
    "polycom",
    "poly ",
    "cisco",
    "grandstream",
    "snom",
    "fanvil",
    "gigaset",
    "avaya",
    "mitel",
    "aastra",
    "obihai",
    "zoiper",
    "microsip",
    "pjsip",
    "jssip",
    "sip.js",
    "chrome",
    "firefox",
    "safari",
    "webrtc",
)
# Tools that send or echo RTP but play nothing to a listener.
SILENT_USER_AGENTS: tuple[str, ...] = ("sipp",)

_G711 = ("PCMU", "PCMA")


@dataclass(frozen=True, slots=True)
class EndpointHints:
    """What the signalling told about one endpoint (caller's INVITE, agent's 200 OK).

    user_agent: its User-Agent (or Server) header; rtcp_xr: its SDP carried
    ``a=rtcp-xr``; webrtc: its SDP offered a WebRTC profile (UDP/TLS/RTP/SAVPF).
    """

    user_agent: str | None = None
    rtcp_xr: bool = False
    webrtc: bool = False


@dataclass(frozen=True, slots=True)
class Concealment:
    """The decision for one listener: ``conceals`` and why (shown on the call record)."""

    conceals: bool
    reason: str


DEFAULT = Concealment(True, "default: phones and browsers conceal loss")


def choose_concealment(
    codec: str, hints: EndpointHints | None = None, *, override: bool | None = None
) -> Concealment:
    """Decide whether the listener of a ``codec`` stream conceals lost packets."""
    if override is not None:
        return Concealment(override, f"[rtp] mos_plc = {str(override).lower()}")
    if codec.upper() not in _G711:
        return Concealment(True, f"{codec.upper()}: the codec's own concealment")
    if hints is None:
        return DEFAULT
    ua = (hints.user_agent or "").lower()
    for token in SILENT_USER_AGENTS:
        if token in ua:
            return Concealment(False, f"User-Agent {hints.user_agent!r}: plays nothing")
    for token in CONCEALING_USER_AGENTS:
        if token in ua:
            return Concealment(True, f"User-Agent {hints.user_agent!r}")
    if hints.webrtc:
        return Concealment(True, "WebRTC offer (browser jitter buffer conceals)")
    if hints.rtcp_xr:
        return Concealment(True, "SDP a=rtcp-xr (an endpoint with its own VoIP metrics)")
    return DEFAULT


def rating_codec(codec: str, concealment: Concealment) -> str:
    """The ``media.emodel.CODECS`` key a leg is rated with."""
    codec = codec.upper()
    if codec not in _G711:
        return codec
    return f"{codec}-CONCEAL" if concealment.conceals else f"{codec}-NOPLC"


def connection_codec(codec: str) -> str:
    """The ``CODECS`` key of a rating without listener concealment (warnings judge the
    connection alone): G.711 entries map to ``-NOPLC``, other codecs keep their own."""
    base = codec.upper().split("-", 1)[0]
    return f"{base}-NOPLC" if base in _G711 else codec
