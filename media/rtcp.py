"""RTCP packets (RFC 3550 6.4) and RTCP XR VoIP metrics (RFC 3611 4.7), sans-IO.

``parse_rtcp`` walks a received compound datagram once and returns everything Vaxel uses
of it (sender reports, report blocks, XR VoIP metrics); ``RtpSession.receive_rtcp`` is
its one caller on the receive path. ``ntp_timestamp`` is the one Unix-time-to-NTP
conversion, for the SRs we send and for the arrival time in RTT = A - LSR - DLSR.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .rtpstats import ReceiveFigures

__all__ = [
    "GMIN",
    "NTP_EPOCH_OFFSET",
    "RTCP_BYE",
    "RTCP_RR",
    "RTCP_SR",
    "XR_PACKET_TYPE",
    "MalformedRtcp",
    "ReportBlock",
    "RtcpDatagram",
    "SenderReport",
    "VoipMetrics",
    "build_voip_metrics_block",
    "build_xr_packet",
    "ntp_middle32",
    "ntp_timestamp",
    "parse_rtcp",
    "parse_voip_metrics_block",
    "parse_xr_packet",
    "rtt_from_report_block",
    "voip_metrics_from_figures",
]

GMIN = 16  # RFC 3611 4.7.2 recommended minimum gap length
NTP_EPOCH_OFFSET = 2208988800  # seconds from 1900-01-01 to 1970-01-01
RTCP_SR, RTCP_RR, RTCP_BYE = 200, 201, 203


class MalformedRtcp(ValueError):
    """A datagram that is not a well-formed compound RTCP packet."""


@dataclass(frozen=True, slots=True)
class ReportBlock:
    """RTCP report block (RFC 3550 6.4.1), raw wire values."""

    ssrc: int
    fraction_lost: int  # 8-bit fixed point, /256
    cumulative_lost: int  # signed 24-bit
    highest_seq: int  # extended highest sequence number received
    jitter: int  # timestamp units
    lsr: int  # middle 32 bits of the last SR's NTP timestamp, 0 if none
    dlsr: int  # delay since last SR, 1/65536 s

    def to_bytes(self) -> bytes:
        lost = self.cumulative_lost & 0xFFFFFF
        return struct.pack(
            "!IIIIII",
            self.ssrc & 0xFFFFFFFF,
            ((self.fraction_lost & 0xFF) << 24) | lost,
            self.highest_seq & 0xFFFFFFFF,
            self.jitter & 0xFFFFFFFF,
            self.lsr & 0xFFFFFFFF,
            self.dlsr & 0xFFFFFFFF,
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> ReportBlock:
        if len(data) < 24:
            raise ValueError(f"RTCP report block: need 24 bytes, got {len(data)}")
        ssrc, word, ext, jitter, lsr, dlsr = struct.unpack("!IIIIII", data[:24])
        lost = word & 0xFFFFFF
        if lost & 0x800000:
            lost -= 0x1000000
        return cls(ssrc, word >> 24, lost, ext, jitter, lsr, dlsr)


def ntp_timestamp(unix_time: float) -> int:
    """64-bit NTP timestamp of a Unix time in seconds."""
    return int(round((unix_time + NTP_EPOCH_OFFSET) * 4294967296.0)) & 0xFFFFFFFFFFFFFFFF


def ntp_middle32(ntp_time: int) -> int:
    """The middle 32 bits of a 64-bit NTP timestamp (RTCP LSR format)."""
    return (ntp_time >> 16) & 0xFFFFFFFF


def rtt_from_report_block(block: ReportBlock, arrival_ntp: int) -> float | None:
    """Round-trip time in seconds from a received report block (RFC 3550 6.4.1).

    RTT = A - LSR - DLSR with A the arrival time's NTP middle 32 bits.
    None when the peer has not seen an SR yet (LSR = 0) or the result is
    negative (clock error).
    """
    if block.lsr == 0:
        return None
    rtt = (ntp_middle32(arrival_ntp) - block.lsr - block.dlsr) & 0xFFFFFFFF
    if rtt >= 0x80000000:
        return None
    return rtt / 65536.0


XR_PACKET_TYPE = 207
VOIP_METRICS_BLOCK_TYPE = 7
_VOIP_BLOCK_LEN = 36
_UNAVAILABLE = 127


@dataclass(frozen=True, slots=True)
class VoipMetrics:
    """RTCP XR VoIP Metrics report block (RFC 3611 4.7), in natural units.

    Rates and densities are fractions 0..1 (wire: x/256); durations and
    delays in ms; levels in dBm / dB. ``None`` means "unavailable" (127 on
    the wire). MOS values are 1.0..5.0 (wire: x10). ``rx_config`` is the
    raw byte (PLC 2 bits, JBA 2 bits, JB rate 4 bits).
    """

    ssrc: int
    loss_rate: float
    discard_rate: float
    burst_density: float
    gap_density: float
    burst_duration_ms: int
    gap_duration_ms: int
    round_trip_delay_ms: int
    end_system_delay_ms: int
    signal_level_dbm: int | None = None
    noise_level_dbm: int | None = None
    rerl_db: int | None = None
    gmin: int = GMIN
    r_factor: int | None = None
    ext_r_factor: int | None = None
    mos_lq: float | None = None
    mos_cq: float | None = None
    rx_config: int = 0
    jb_nominal_ms: int = 0
    jb_maximum_ms: int = 0
    jb_abs_max_ms: int = 0


def _fraction_byte(x: float) -> int:
    return max(0, min(255, int(x * 256.0)))


def _u16(x: float) -> int:
    return max(0, min(0xFFFF, int(round(x))))


def _opt(x: int | None, signed: bool = False) -> int:
    if x is None:
        return _UNAVAILABLE
    return (max(-128, min(126, x)) & 0xFF) if signed else max(0, min(126, x))


def _mos_byte(x: float | None) -> int:
    return _UNAVAILABLE if x is None else max(10, min(50, int(round(x * 10))))


def build_voip_metrics_block(m: VoipMetrics) -> bytes:
    """Encode a VoIP Metrics block (36 bytes, BT=7, length field 8)."""
    return struct.pack(
        "!BBHIBBBBHHHHBBBBBBBBBBHHH",
        VOIP_METRICS_BLOCK_TYPE,
        0,
        8,
        m.ssrc & 0xFFFFFFFF,
        _fraction_byte(m.loss_rate),
        _fraction_byte(m.discard_rate),
        _fraction_byte(m.burst_density),
        _fraction_byte(m.gap_density),
        _u16(m.burst_duration_ms),
        _u16(m.gap_duration_ms),
        _u16(m.round_trip_delay_ms),
        _u16(m.end_system_delay_ms),
        _opt(m.signal_level_dbm, signed=True),
        _opt(m.noise_level_dbm, signed=True),
        _opt(m.rerl_db),
        max(0, min(255, m.gmin)),
        _opt(m.r_factor),
        _opt(m.ext_r_factor),
        _mos_byte(m.mos_lq),
        _mos_byte(m.mos_cq),
        m.rx_config & 0xFF,
        0,
        _u16(m.jb_nominal_ms),
        _u16(m.jb_maximum_ms),
        _u16(m.jb_abs_max_ms),
    )


def _signed8(b: int) -> int | None:
    if b == _UNAVAILABLE:
        return None
    return b - 256 if b >= 128 else b


def parse_voip_metrics_block(data: bytes) -> VoipMetrics:
    """Decode one VoIP Metrics block (the 36 bytes starting at BT=7)."""
    if len(data) < _VOIP_BLOCK_LEN:
        raise ValueError(f"RTCP XR VoIP metrics block: need 36 bytes, got {len(data)}")
    f = struct.unpack("!BBHIBBBBHHHHBBBBBBBBBBHHH", data[:_VOIP_BLOCK_LEN])
    if f[0] != VOIP_METRICS_BLOCK_TYPE:
        raise ValueError(f"RTCP XR: block type {f[0]} is not VoIP metrics (7)")
    if f[2] != 8:
        raise ValueError(f"RTCP XR VoIP metrics block: length must be 8, got {f[2]}")

    def opt(b: int) -> int | None:
        return None if b == _UNAVAILABLE else b

    def mos(b: int) -> float | None:
        return None if b == _UNAVAILABLE or b == 0 else b / 10.0

    return VoipMetrics(
        ssrc=f[3],
        loss_rate=f[4] / 256.0,
        discard_rate=f[5] / 256.0,
        burst_density=f[6] / 256.0,
        gap_density=f[7] / 256.0,
        burst_duration_ms=f[8],
        gap_duration_ms=f[9],
        round_trip_delay_ms=f[10],
        end_system_delay_ms=f[11],
        signal_level_dbm=_signed8(f[12]),
        noise_level_dbm=_signed8(f[13]),
        rerl_db=opt(f[14]),
        gmin=f[15],
        r_factor=opt(f[16]),
        ext_r_factor=opt(f[17]),
        mos_lq=mos(f[18]),
        mos_cq=mos(f[19]),
        rx_config=f[20],
        jb_nominal_ms=f[22],
        jb_maximum_ms=f[23],
        jb_abs_max_ms=f[24],
    )


def build_xr_packet(sender_ssrc: int, blocks: list[VoipMetrics]) -> bytes:
    """An RTCP XR packet (PT=207) carrying VoIP Metrics blocks."""
    body = b"".join(build_voip_metrics_block(b) for b in blocks)
    length_words = (4 + len(body)) // 4  # packet length in words minus one
    header = struct.pack("!BBHI", 0x80, XR_PACKET_TYPE, length_words, sender_ssrc & 0xFFFFFFFF)
    return header + body


@dataclass(frozen=True, slots=True)
class SenderReport:
    """The sender info of a received SR (RFC 3550 6.4.1)."""

    ssrc: int
    ntp_timestamp: int
    rtp_timestamp: int
    packet_count: int
    octet_count: int


@dataclass(frozen=True, slots=True)
class RtcpDatagram:
    """What Vaxel uses of one received compound RTCP datagram."""

    packet_types: tuple[int, ...]
    sender_reports: tuple[SenderReport, ...] = ()
    report_blocks: tuple[ReportBlock, ...] = ()  # of SRs and RRs, in order
    voip_metrics: tuple[VoipMetrics, ...] = ()  # XR VoIP metrics blocks, in order


def _packets(data: bytes) -> Iterator[tuple[int, int, int, int]]:
    """(packet type, count/subtype field, start, end) of each packet of a compound datagram."""
    offset, n = 0, len(data)
    if n < 4:
        raise MalformedRtcp(f"RTCP datagram too short ({n} bytes)")
    while offset < n:
        if offset + 4 > n:
            raise MalformedRtcp(f"RTCP: {n - offset} stray bytes at byte {offset}")
        first, pt, length = struct.unpack_from("!BBH", data, offset)
        if first >> 6 != 2:
            raise MalformedRtcp(f"RTCP: version must be 2 at byte {offset}, got {first >> 6}")
        end = offset + (length + 1) * 4
        if end > n:
            raise MalformedRtcp(f"RTCP: packet at byte {offset} runs past the datagram end")
        yield pt, first & 0x1F, offset, end
        offset = end


def _report_blocks(data: bytes, pos: int, end: int, count: int) -> list[ReportBlock]:
    if pos + 24 * count > end:
        raise MalformedRtcp(f"RTCP: {count} report blocks do not fit in the packet")
    return [ReportBlock.from_bytes(data[p : p + 24]) for p in range(pos, pos + 24 * count, 24)]


def _voip_blocks(data: bytes, offset: int, end: int) -> list[VoipMetrics]:
    if end - offset < 8:
        raise MalformedRtcp("RTCP XR: packet too short for the sender SSRC")
    blocks: list[VoipMetrics] = []
    pos = offset + 8
    while pos + 4 <= end:
        bt, _, block_len = struct.unpack_from("!BBH", data, pos)
        block_end = pos + (block_len + 1) * 4
        if block_end > end:
            raise MalformedRtcp(f"RTCP XR: block type {bt} runs past the packet end")
        if bt == VOIP_METRICS_BLOCK_TYPE:
            blocks.append(parse_voip_metrics_block(data[pos:block_end]))
        pos = block_end
    return blocks


def parse_rtcp(data: bytes) -> RtcpDatagram:
    """Parse a received compound RTCP datagram in one walk; raises MalformedRtcp (a
    ValueError) naming the problem. Packet types Vaxel does not use (SDES, BYE, APP, other
    XR blocks) are only framed."""
    types: list[int] = []
    srs: list[SenderReport] = []
    blocks: list[ReportBlock] = []
    metrics: list[VoipMetrics] = []
    try:
        for pt, count, offset, end in _packets(data):
            types.append(pt)
            if pt == RTCP_SR:
                if end - offset < 28:
                    raise MalformedRtcp("RTCP SR: packet too short for the sender info")
                ssrc, ntp, rtp_ts, packets, octets = struct.unpack_from("!IQIII", data, offset + 4)
                srs.append(SenderReport(ssrc, ntp, rtp_ts, packets, octets))
                blocks += _report_blocks(data, offset + 28, end, count)
            elif pt == RTCP_RR:
                blocks += _report_blocks(data, offset + 8, end, count)
            elif pt == XR_PACKET_TYPE:
                metrics += _voip_blocks(data, offset, end)
    except MalformedRtcp:
        raise
    except (ValueError, struct.error) as exc:
        raise MalformedRtcp(str(exc)) from exc
    return RtcpDatagram(tuple(types), tuple(srs), tuple(blocks), tuple(metrics))


def parse_xr_packet(data: bytes) -> tuple[int, list[VoipMetrics]]:
    """VoIP Metrics blocks of the first XR packet in a (compound) RTCP datagram.

    Returns (sender SSRC, blocks); other XR block types are skipped. Raises
    ValueError naming the problem for malformed input or no XR packet.
    """
    for pt, _, offset, end in _packets(data):
        if pt == XR_PACKET_TYPE:
            blocks = _voip_blocks(data, offset, end)
            return struct.unpack_from("!I", data, offset + 4)[0], blocks
    raise MalformedRtcp("RTCP: no XR packet (PT=207) in datagram")


def voip_metrics_from_figures(
    figures: ReceiveFigures,
    *,
    ssrc: int,
    round_trip_delay_ms: float = 0.0,
    end_system_delay_ms: float = 0.0,
    jb_nominal_ms: float = 0.0,
    r_factor: float | None = None,
    mos_lq: float | None = None,
    mos_cq: float | None = None,
) -> VoipMetrics:
    """Fill a VoIP Metrics block from Vaxel's own receive figures.

    The fixed simulated buffer is reported as non-adaptive (JBA = 10) and
    PLC as unspecified.
    """
    decided = figures.decided
    return VoipMetrics(
        ssrc=ssrc,
        loss_rate=figures.lost_decided / decided if decided else 0.0,
        discard_rate=figures.discarded / decided if decided else 0.0,
        burst_density=figures.burst.burst_density,
        gap_density=figures.burst.gap_density,
        burst_duration_ms=_u16(figures.burst.burst_duration_ms),
        gap_duration_ms=_u16(figures.burst.gap_duration_ms),
        round_trip_delay_ms=_u16(round_trip_delay_ms),
        end_system_delay_ms=_u16(end_system_delay_ms),
        r_factor=None if r_factor is None else int(round(r_factor)),
        mos_lq=mos_lq,
        mos_cq=mos_cq,
        rx_config=0b0010_0000,
        jb_nominal_ms=_u16(jb_nominal_ms),
        jb_maximum_ms=_u16(jb_nominal_ms),
        jb_abs_max_ms=_u16(jb_nominal_ms),
    )
