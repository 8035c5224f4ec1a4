"""SDP (RFC 4566) and the offer/answer model (RFC 3264) for G.711 audio calls.

Pure data and decisions: parse a body, pick a codec, build the answer or the
offer. Vaxel only speaks PCMU/PCMA at 8 kHz plus RFC 4733 telephone-events,
so anything else (video, other codecs) is declined, never fatal. SRTP is taken
when it is keyed in the SDP (SDES ``a=crypto``, ``sip.sdes``): an ``RTP/SAVP``
offer without a usable crypto line (DTLS-SRTP only, say) is declined.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from .sdes import CRYPTO, SrtpKeys, choose_crypto, crypto_line

__all__ = [
    "Codec",
    "Connection",
    "MediaDescription",
    "Negotiated",
    "Answer",
    "NoCommonCodec",
    "Origin",
    "SdpError",
    "SessionDescription",
    "DIRECTIONS",
    "hold_offer",
    "make_offer",
    "offered_codec_names",
    "negotiate",
    "parse_answer",
    "parse_sdp",
    "reoffer",
    "resume_offer",
]


class SdpError(ValueError):
    """A session description is malformed or unusable; the message names the problem."""


class NoCommonCodec(SdpError):
    """No offered codec is one we support: answer the INVITE with 488 Not Acceptable Here."""

    status = 488


DIRECTIONS = ("sendrecv", "sendonly", "recvonly", "inactive")
# RFC 3264 section 6.1: the answer's direction for each offered direction.
_ANSWER_DIRECTION = {
    "sendrecv": "sendrecv",
    "sendonly": "recvonly",
    "recvonly": "sendonly",
    "inactive": "inactive",
}
# Static payload types (RFC 3551 table 4) that need no rtpmap.
_STATIC: dict[int, tuple[str, int]] = {
    0: ("PCMU", 8000),
    3: ("GSM", 8000),
    4: ("G723", 8000),
    8: ("PCMA", 8000),
    9: ("G722", 8000),
    18: ("G729", 8000),
}
_STATIC_PT = {name: pt for pt, (name, _) in _STATIC.items()}
_RTP_PROTOS = ("RTP/AVP", "RTP/AVPF", "RTP/SAVP", "RTP/SAVPF")
TELEPHONE_EVENT = "telephone-event"
_TE_EVENTS = "0-15"  # DTMF digits 0-9 * # A-D (RFC 4733 section 3.2)
# RFC 3611 section 5.1: the XR block types in use. Vaxel sends (and reads) VoIP Metrics only;
# peers such as liblinphone send XR only when the other side's SDP lists it.
RTCP_XR = "rtcp-xr"
RTCP_XR_FORMATS = "voip-metrics"


@dataclass
class Origin:
    username: str = "-"
    session_id: str = "0"
    session_version: int = 0
    address: str = "127.0.0.1"
    addrtype: str = "IP4"
    nettype: str = "IN"

    def __str__(self) -> str:
        return (
            f"{self.username} {self.session_id} {self.session_version} "
            f"{self.nettype} {self.addrtype} {self.address}"
        )


@dataclass
class Connection:
    address: str
    addrtype: str = "IP4"
    nettype: str = "IN"

    def __str__(self) -> str:
        return f"{self.nettype} {self.addrtype} {self.address}"

    @classmethod
    def for_address(cls, address: str) -> Connection:
        return cls(address, "IP6" if ":" in address else "IP4")


@dataclass(frozen=True)
class Codec:
    name: str
    payload_type: int
    clock_rate: int
    channels: int = 1


@dataclass
class MediaDescription:
    """One m= section. ``direction``/``connection`` None means: inherit from the session."""

    media: str
    port: int
    proto: str
    formats: list[str]
    rtpmap: dict[int, Codec] = field(default_factory=dict)
    fmtp: dict[int, str] = field(default_factory=dict)
    ptime: int | None = None
    direction: str | None = None
    connection: Connection | None = None
    port_count: int | None = None
    bandwidth: list[str] = field(default_factory=list)
    # Attributes we do not interpret, kept in order: (name, value or None).
    attributes: list[tuple[str, str | None]] = field(default_factory=list)

    def codec(self, fmt: str | int) -> Codec | None:
        """Codec for a payload type: its rtpmap, else the static table (RFC 3551)."""
        try:
            pt = int(fmt)
        except ValueError:
            return None
        if pt in self.rtpmap:
            return self.rtpmap[pt]
        if pt in _STATIC:
            name, rate = _STATIC[pt]
            return Codec(name, pt, rate)
        return None

    def codecs(self) -> list[Codec]:
        return [c for c in map(self.codec, self.formats) if c is not None]


@dataclass
class SessionDescription:
    origin: Origin = field(default_factory=Origin)
    session_name: str = "-"
    connection: Connection | None = None
    media: list[MediaDescription] = field(default_factory=list)
    direction: str | None = None
    timing: str = "0 0"
    bandwidth: list[str] = field(default_factory=list)
    attributes: list[tuple[str, str | None]] = field(default_factory=list)
    version: int = 0

    def media_connection(self, media: MediaDescription) -> Connection | None:
        return media.connection or self.connection

    def media_direction(self, media: MediaDescription) -> str:
        return media.direction or self.direction or "sendrecv"

    def serialize(self) -> str:
        return serialize(self)

    def __str__(self) -> str:
        return serialize(self)

    def to_bytes(self) -> bytes:
        return serialize(self).encode("utf-8")


# --- parsing ----------------------------------------------------------------------------------


def _parse_connection(value: str, lineno: int) -> Connection:
    parts = value.split()
    if len(parts) != 3:
        raise SdpError(f"line {lineno}: c= needs '<nettype> <addrtype> <address>', got {value!r}")
    # Multicast TTL / count suffixes ("224.2.1.1/127") are not part of the address.
    return Connection(parts[2].split("/")[0], parts[1].upper(), parts[0].upper())


def _parse_origin(value: str, lineno: int) -> Origin:
    parts = value.split()
    if len(parts) != 6:
        raise SdpError(f"line {lineno}: o= needs 6 fields, got {len(parts)}")
    try:
        version = int(parts[2])
    except ValueError:
        raise SdpError(f"line {lineno}: o= session version {parts[2]!r} is not a number") from None
    return Origin(parts[0], parts[1], version, parts[5], parts[4].upper(), parts[3].upper())


def _parse_media(value: str, lineno: int) -> MediaDescription:
    parts = value.split()
    if len(parts) < 4:
        raise SdpError(f"line {lineno}: m= needs '<media> <port> <proto> <fmt> ...', got {value!r}")
    port_text, _, count_text = parts[1].partition("/")
    try:
        port = int(port_text)
        count = int(count_text) if count_text else None
    except ValueError:
        raise SdpError(f"line {lineno}: m= port {parts[1]!r} is not a number") from None
    if not 0 <= port <= 65535:
        raise SdpError(f"line {lineno}: m= port {port} out of range")
    return MediaDescription(parts[0].lower(), port, parts[2], parts[3:], port_count=count)


def _parse_payload_type(text: str, lineno: int, what: str) -> int:
    try:
        pt = int(text)
    except ValueError:
        raise SdpError(f"line {lineno}: {what} payload type {text!r} is not a number") from None
    if not 0 <= pt <= 127:
        raise SdpError(f"line {lineno}: {what} payload type {pt} out of range 0-127")
    return pt


def _apply_media_attribute(m: MediaDescription, name: str, value: str | None, lineno: int) -> None:
    if name == "rtpmap" and value is not None:
        pt_text, _, spec = value.partition(" ")
        pt = _parse_payload_type(pt_text, lineno, "rtpmap")
        fields = spec.strip().split("/")
        try:
            rate = int(fields[1])
            channels = int(fields[2]) if len(fields) > 2 else 1
        except (IndexError, ValueError):
            raise SdpError(f"line {lineno}: rtpmap {value!r} is not '<pt> <name>/<rate>'") from None
        m.rtpmap[pt] = Codec(fields[0], pt, rate, channels)
    elif name == "fmtp" and value is not None:
        pt_text, _, params = value.partition(" ")
        m.fmtp[_parse_payload_type(pt_text, lineno, "fmtp")] = params.strip()
    elif name == "ptime" and value is not None:
        try:
            m.ptime = int(float(value))
        except ValueError:
            raise SdpError(f"line {lineno}: ptime {value!r} is not a number") from None
    elif name in DIRECTIONS and value is None:
        m.direction = name
    else:
        m.attributes.append((name, value))


def parse_sdp(body: bytes | str) -> SessionDescription:
    """Parse an SDP body; raises :class:`SdpError` naming the line and the problem."""
    if isinstance(body, bytes):
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise SdpError(f"SDP is not UTF-8 (byte {exc.start})") from None
    else:
        text = body
    lines = [line for line in text.replace("\r\n", "\n").split("\n") if line.strip()]
    if not lines:
        raise SdpError("empty SDP")
    sd = SessionDescription()
    seen_origin = seen_name = False
    current: MediaDescription | None = None
    for lineno, raw in enumerate(lines, start=1):
        line = raw.rstrip("\r")
        if len(line) < 2 or line[1] != "=" or not line[0].isalpha():
            raise SdpError(f"line {lineno}: expected '<type>=<value>', got {line[:40]!r}")
        kind, value = line[0], line[2:]
        if lineno == 1:
            if kind != "v" or value.strip() != "0":
                raise SdpError("SDP must start with v=0")
            continue
        if kind == "m":
            current = _parse_media(value, lineno)
            sd.media.append(current)
        elif kind == "c":
            conn = _parse_connection(value, lineno)
            if current is None:
                sd.connection = conn
            else:
                current.connection = conn
        elif kind == "a":
            name, sep, attr_value = value.partition(":")
            attr: str | None = attr_value if sep else None
            name = name.strip()
            if current is not None:
                _apply_media_attribute(current, name, attr, lineno)
            elif name in DIRECTIONS and attr is None:
                sd.direction = name
            else:
                sd.attributes.append((name, attr))
        elif kind == "b":
            (current.bandwidth if current is not None else sd.bandwidth).append(value)
        elif current is not None:
            continue  # i=, k= inside a media section: not used for audio offer/answer
        elif kind == "o":
            sd.origin = _parse_origin(value, lineno)
            seen_origin = True
        elif kind == "s":
            sd.session_name = value
            seen_name = True
        elif kind == "t":
            sd.timing = value
        elif kind == "v":
            raise SdpError(f"line {lineno}: second v= line")
        # Other session-level lines (i=, u=, e=, p=, r=, z=, k=) do not affect media.
    if not seen_origin:
        raise SdpError("SDP has no o= line")
    if not seen_name:
        raise SdpError("SDP has no s= line")
    return sd


# --- serialization ----------------------------------------------------------------------------


def _attr_line(name: str, value: str | None) -> str:
    return f"a={name}" if value is None else f"a={name}:{value}"


def serialize(sd: SessionDescription) -> str:
    """The SDP text, CRLF line endings."""
    out = [
        f"v={sd.version}",
        f"o={sd.origin}",
        f"s={sd.session_name or '-'}",
    ]
    if sd.connection is not None:
        out.append(f"c={sd.connection}")
    out += [f"b={b}" for b in sd.bandwidth]
    out.append(f"t={sd.timing}")
    if sd.direction is not None:
        out.append(f"a={sd.direction}")
    out += [_attr_line(n, v) for n, v in sd.attributes]
    for m in sd.media:
        port = f"{m.port}/{m.port_count}" if m.port_count else str(m.port)
        out.append(f"m={m.media} {port} {m.proto} {' '.join(m.formats)}")
        if m.connection is not None:
            out.append(f"c={m.connection}")
        out += [f"b={b}" for b in m.bandwidth]
        for fmt in m.formats:
            pt = int(fmt) if fmt.isdigit() else None
            if pt is None:
                continue
            if pt in m.rtpmap:
                c = m.rtpmap[pt]
                chans = f"/{c.channels}" if c.channels != 1 else ""
                out.append(f"a=rtpmap:{pt} {c.name}/{c.clock_rate}{chans}")
            if pt in m.fmtp:
                out.append(f"a=fmtp:{pt} {m.fmtp[pt]}")
        if m.ptime is not None:
            out.append(f"a=ptime:{m.ptime}")
        if m.direction is not None:
            out.append(f"a={m.direction}")
        out += [_attr_line(n, v) for n, v in m.attributes]
    return "\r\n".join(out) + "\r\n"


# --- offer / answer ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Negotiated:
    """What both sides agreed for the audio stream, seen from the local side.

    ``direction`` is what the local side may do (e.g. "recvonly" while the
    peer holds us). ``hold`` is true when the peer will not receive our media
    (sendonly/inactive from the peer, or the old c=0.0.0.0 convention).
    """

    codec: Codec
    telephone_event_pt: int | None
    remote_address: str
    remote_port: int
    direction: str
    ptime: int
    hold: bool
    srtp: SrtpKeys | None = None  # SRTP keyed by SDES; None: plain RTP


@dataclass(frozen=True)
class Answer(Negotiated):
    """The result of :func:`negotiate`: the agreement plus the answer SDP to send."""

    # Out of repr: it holds our SRTP key when SDES was negotiated.
    sdp: SessionDescription = field(default_factory=SessionDescription, repr=False)


def _is_usable_audio(m: MediaDescription) -> bool:
    return m.media == "audio" and m.port != 0 and m.proto.upper() in _RTP_PROTOS


def _find_telephone_event(m: MediaDescription, clock_rate: int) -> Codec | None:
    for c in m.codecs():
        if c.name.lower() == TELEPHONE_EVENT and c.clock_rate == clock_rate:
            return c
    return None


def _remote_endpoint(sd: SessionDescription, m: MediaDescription) -> tuple[str, bool]:
    conn = sd.media_connection(m)
    if conn is None:
        raise SdpError("audio stream has no c= connection address")
    # RFC 2543 style hold: the peer wants no media sent to it.
    old_hold = conn.address in ("0.0.0.0", "::")
    return conn.address, old_hold


def _narrow_for_old_hold(direction: str) -> str:
    return {"sendrecv": "recvonly", "sendonly": "inactive"}.get(direction, direction)


def _offers_rtcp_xr(sd: SessionDescription, m: MediaDescription) -> bool:
    """The offer signals RTCP XR (RFC 3611 section 5.1) at session or media level."""
    return any(name == RTCP_XR for name, _ in (*sd.attributes, *m.attributes))


def _rejected(m: MediaDescription) -> MediaDescription:
    # RFC 3264 section 6: a declined stream keeps its m= line with port 0.
    return MediaDescription(m.media, 0, m.proto, list(m.formats[:1]) or ["0"])


def _new_session(
    local_address: str, session_id: int | str, session_version: int
) -> SessionDescription:
    conn = Connection.for_address(local_address)
    return SessionDescription(
        origin=Origin("-", str(session_id), session_version, local_address, conn.addrtype),
        session_name="vaxel",
        connection=conn,
    )


def negotiate(
    offer: SessionDescription,
    *,
    local_address: str,
    local_port: int,
    supported: Sequence[str] = ("PCMU", "PCMA"),
    session_id: int | str,
    session_version: int,
    srtp_key: bytes | None = None,
) -> Answer:
    """Answer an offer (UAS side, RFC 3264 section 6).

    Accepts the first usable audio stream with the first offered codec we
    support (offer order wins), keeps telephone-event with the offerer's
    payload type, mirrors ptime, lists RTCP XR VoIP Metrics when the offer uses XR and
    declines every other stream with port 0.
    ``srtp_key`` (30 random bytes, ``sip.sdes.MASTER_LENGTH``): our SRTP master key,
    answered to an offer keyed with SDES (RFC 4568: ``RTP/SAVP``, or best-effort SRTP
    on ``RTP/AVP``); without one such offers are plain RTP or declined.
    Raises :class:`NoCommonCodec` (488) when no audio stream can be accepted.
    """
    wanted = [s.upper() for s in supported]
    answer_sd = _new_session(local_address, session_id, session_version)
    chosen: Negotiated | None = None
    problems: list[str] = []
    for m in offer.media:
        if chosen is not None or not _is_usable_audio(m):
            if m.media == "audio" and m.port != 0 and chosen is None:
                problems.append(f"unsupported audio profile {m.proto}")
            answer_sd.media.append(_rejected(m))
            continue
        codec = next(
            (c for c in m.codecs() if c.name.upper() in wanted and c.clock_rate == 8000), None
        )
        if codec is None:
            names = ", ".join(c.name for c in m.codecs()) or " ".join(m.formats)
            problems.append(f"no supported codec among {names}")
            answer_sd.media.append(_rejected(m))
            continue
        secure = m.proto.upper().startswith("RTP/SAVP")
        crypto = choose_crypto(m.attributes) if srtp_key is not None else None
        if secure and crypto is None:
            why = "no SDES crypto suite we support" if srtp_key else "SRTP is not enabled"
            problems.append(f"{m.proto} offered with {why}")
            answer_sd.media.append(_rejected(m))
            continue
        address, old_hold = _remote_endpoint(offer, m)
        te = _find_telephone_event(m, codec.clock_rate)
        offered_dir = offer.media_direction(m)
        direction = _ANSWER_DIRECTION[offered_dir]
        if old_hold:
            direction = _narrow_for_old_hold(direction)
        answer_m = MediaDescription(
            "audio",
            local_port,
            m.proto,  # RFC 3264 6: same transport; with AVPF we simply send no feedback
            [str(codec.payload_type)],
            rtpmap={codec.payload_type: Codec(codec.name, codec.payload_type, codec.clock_rate)},
            ptime=m.ptime,
            direction=direction,
        )
        if te is not None:
            answer_m.formats.append(str(te.payload_type))
            answer_m.rtpmap[te.payload_type] = Codec(TELEPHONE_EVENT, te.payload_type, 8000)
            answer_m.fmtp[te.payload_type] = _TE_EVENTS
        if _offers_rtcp_xr(offer, m):
            answer_m.attributes.append((RTCP_XR, RTCP_XR_FORMATS))
        srtp = None
        if crypto is not None and srtp_key is not None:
            answer_m.attributes.append((CRYPTO, crypto_line(crypto.tag, crypto.suite, srtp_key)))
            srtp = SrtpKeys(crypto.suite, srtp_key, crypto.key)
        answer_sd.media.append(answer_m)
        chosen = Negotiated(
            codec=codec,
            telephone_event_pt=te.payload_type if te else None,
            remote_address=address,
            remote_port=m.port,
            direction=direction,
            ptime=m.ptime or 20,
            hold=old_hold or offered_dir in ("sendonly", "inactive"),
            srtp=srtp,
        )
    if chosen is None:
        detail = "; ".join(problems) or "no audio stream offered"
        raise NoCommonCodec(f"Not Acceptable Here: {detail}")
    return Answer(**vars(chosen), sdp=answer_sd)


def make_offer(
    local_address: str,
    local_port: int,
    codecs: Sequence[str] = ("PCMU", "PCMA"),
    telephone_event_pt: int | None = 101,
    *,
    session_id: int | str,
    session_version: int,
    direction: str = "sendrecv",
    ptime: int | None = 20,
) -> SessionDescription:
    """An audio offer (UAC side) listing ``codecs`` in preference order and RTCP XR."""
    if direction not in DIRECTIONS:
        raise SdpError(f"direction must be one of {', '.join(DIRECTIONS)}, got {direction!r}")
    sd = _new_session(local_address, session_id, session_version)
    m = MediaDescription("audio", local_port, "RTP/AVP", [], ptime=ptime, direction=direction)
    for name in codecs:
        pt = _STATIC_PT.get(name.upper())
        if pt is None:
            raise SdpError(f"cannot offer codec {name!r}: only static payload types are known")
        m.formats.append(str(pt))
        m.rtpmap[pt] = Codec(_STATIC[pt][0], pt, _STATIC[pt][1])
    if telephone_event_pt is not None:
        if not 96 <= telephone_event_pt <= 127:
            raise SdpError(f"telephone-event payload type must be 96-127, not {telephone_event_pt}")
        m.formats.append(str(telephone_event_pt))
        m.rtpmap[telephone_event_pt] = Codec(TELEPHONE_EVENT, telephone_event_pt, 8000)
        m.fmtp[telephone_event_pt] = _TE_EVENTS
    m.attributes.append((RTCP_XR, RTCP_XR_FORMATS))
    sd.media.append(m)
    return sd


def parse_answer(offer: SessionDescription, answer: SessionDescription) -> Negotiated:
    """Check a peer's answer to our offer (UAC side) and extract what was agreed.

    Raises :class:`NoCommonCodec` when the audio stream was declined or the
    answer picked a codec we did not offer, :class:`SdpError` when the answer
    does not match the offer's shape.
    """
    if len(answer.media) != len(offer.media):
        raise SdpError(
            f"answer has {len(answer.media)} m= lines, offer had {len(offer.media)} (RFC 3264)"
        )
    for ours, theirs in zip(offer.media, answer.media, strict=True):
        if not _is_usable_audio(ours):
            continue
        if theirs.port == 0:
            raise NoCommonCodec("answer declined the audio stream (port 0)")
        offered = {c.name.upper() for c in ours.codecs() if c.name.lower() != TELEPHONE_EVENT}
        codec = next(
            (c for c in theirs.codecs() if c.name.upper() in offered and c.clock_rate == 8000),
            None,
        )
        if codec is None:
            raise NoCommonCodec(
                "answer selected no offered codec: " + (" ".join(theirs.formats) or "none")
            )
        address, old_hold = _remote_endpoint(answer, theirs)
        te = _find_telephone_event(theirs, codec.clock_rate)
        if te is not None and _find_telephone_event(ours, codec.clock_rate) is None:
            te = None  # we never offered it, so we will not send it
        their_dir = answer.media_direction(theirs)
        local_dir = _ANSWER_DIRECTION[their_dir]  # their sendonly is our recvonly, etc.
        if old_hold:
            local_dir = _narrow_for_old_hold(local_dir)
        srtp = _answered_srtp(ours, theirs)
        return Negotiated(
            codec=codec,
            telephone_event_pt=te.payload_type if te else None,
            remote_address=address,
            remote_port=theirs.port,
            direction=local_dir,
            ptime=theirs.ptime or ours.ptime or 20,
            hold=old_hold or their_dir in ("sendonly", "inactive"),
            srtp=srtp,
        )
    raise SdpError("offer has no audio stream")


def _answered_srtp(ours: MediaDescription, theirs: MediaDescription) -> SrtpKeys | None:
    """The SRTP keys of an answer to our SDES-keyed offer (RFC 4568 section 7.1.3)."""
    mine = choose_crypto(ours.attributes)
    if mine is None:
        return None
    answered = choose_crypto(theirs.attributes)
    if answered is None or answered.suite != mine.suite:
        if ours.proto.upper().startswith("RTP/SAVP"):
            raise NoCommonCodec("answer to our SRTP offer has no matching a=crypto")
        return None  # best-effort SRTP declined: plain RTP
    return SrtpKeys(mine.suite, mine.key, answered.key)


# --- hold / resume ----------------------------------------------------------------------------


def reoffer(previous: SessionDescription, direction: str) -> SessionDescription:
    """A copy of our last SDP with the audio direction changed and the version bumped."""
    if direction not in DIRECTIONS:
        raise SdpError(f"direction must be one of {', '.join(DIRECTIONS)}, got {direction!r}")
    sd = copy.deepcopy(previous)
    sd.origin.session_version += 1
    sd.direction = None
    for m in sd.media:
        if _is_usable_audio(m):
            m.direction = direction
    return sd


def hold_offer(previous: SessionDescription, *, inactive: bool = False) -> SessionDescription:
    """Re-offer putting the peer on hold (RFC 3264 section 8.4): sendonly, or inactive."""
    return reoffer(previous, "inactive" if inactive else "sendonly")


def resume_offer(previous: SessionDescription) -> SessionDescription:
    """Re-offer taking the peer off hold."""
    return reoffer(previous, "sendrecv")


def offered_codec_names(sd: SessionDescription) -> Iterable[str]:
    """Codec names offered in the audio streams (for logs and 488 diagnostics)."""
    for m in sd.media:
        if m.media == "audio":
            yield from (c.name for c in m.codecs())
