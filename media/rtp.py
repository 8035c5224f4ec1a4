"""RTP/RTCP session state for one call leg (RFC 3550), without sockets or clocks.

The send path writes headers with ``struct.pack_into`` into a per-session buffer (the media
clock calls it tens of thousands of times a second); the receive path parses with
``struct.unpack_from``. RTCP packets are built with aiortc's RTCP classes; a received
datagram is parsed once, by ``media.rtcp.parse_rtcp`` (SR, report blocks and XR together).
"""

from __future__ import annotations

import random
import struct
from dataclasses import dataclass, field
from typing import NamedTuple

from aiortc.rtp import (
    RtcpByePacket,
    RtcpReceiverInfo,
    RtcpRrPacket,
    RtcpSdesPacket,
    RtcpSenderInfo,
    RtcpSourceInfo,
    RtcpSrPacket,
)

from .rtcp import NTP_EPOCH_OFFSET, MalformedRtcp, RtcpDatagram, ntp_timestamp, parse_rtcp
from .rtpstats import ReceiveStats, RemoteStats

__all__ = [
    "HEADER_SIZE",
    "NTP_EPOCH_OFFSET",  # moved to media.rtcp; kept importable from here
    "RTCP_INTERVAL",
    "MalformedPacket",
    "RtpHeader",
    "RtpSession",
    "SessionCounters",
    "parse_rtp",
]

_HEADER = struct.Struct("!BBHII")
HEADER_SIZE = 12
RTCP_INTERVAL = 5.0


class MalformedPacket(ValueError):
    """A datagram that is not a usable RTP/RTCP packet; the leg counts and drops it."""


class RtpHeader(NamedTuple):
    """The parsed fields of a received RTP packet; ``payload`` excludes padding.

    A named tuple, not a frozen dataclass: one is made per received packet, and a frozen
    dataclass's ``__init__`` (``object.__setattr__`` per field) cost about 1.5 us of the
    receive path's 2.4 us (``bench/rtpstats_cost.py``, ``RtpSession.receive``).
    """

    payload_type: int
    marker: bool
    sequence_number: int
    timestamp: int
    ssrc: int
    payload: bytes


# tuple.__new__ skips the generated __new__ (a Python-level call): the hot path of parse_rtp.
_new_header = tuple.__new__


def parse_rtp(data: bytes) -> RtpHeader:
    """Parse an RTP packet, raising MalformedPacket naming what is wrong."""
    n = len(data)
    if n < HEADER_SIZE:
        raise MalformedPacket(f"RTP packet too short ({n} bytes, header needs 12)")
    b0, b1, seq, ts, ssrc = _HEADER.unpack_from(data)
    if b0 >> 6 != 2:
        raise MalformedPacket(f"RTP version {b0 >> 6}, expected 2")
    pos = HEADER_SIZE + 4 * (b0 & 0x0F)
    if b0 & 0x10:
        if n < pos + 4:
            raise MalformedPacket("RTP header extension truncated")
        pos += 4 + 4 * struct.unpack_from("!H", data, pos + 2)[0]
    end = n
    if b0 & 0x20:
        pad = data[-1]
        if pad == 0 or pad > n - pos:
            raise MalformedPacket("RTP padding length invalid")
        end -= pad
    if pos > end:
        raise MalformedPacket("RTP header longer than packet")
    pt = b1 & 0x7F
    if 72 <= pt <= 76:
        raise MalformedPacket(f"payload type {pt} collides with RTCP (probably RTCP on RTP port)")
    return _new_header(RtpHeader, (pt, bool(b1 & 0x80), seq, ts, ssrc, bytes(data[pos:end])))


@dataclass(slots=True)
class SessionCounters:
    """Counters of one leg, read by the quality/statistics modules."""

    packets_sent: int = 0
    octets_sent: int = 0
    packets_received: int = 0
    octets_received: int = 0
    malformed: int = 0
    stun: int = 0  # STUN on the media ports (ICE keep-alives, e.g. linphone's): not RTP, not bad
    foreign: int = 0  # valid packets from an address other than the latched one
    duplicates: int = 0
    rtcp_sent: int = 0
    rtcp_received: int = 0
    frames_skipped: int = 0  # clock frames not sent because the loop was late
    extra: dict[str, float] = field(default_factory=dict)
    # What the peer reports about our stream: the session's RemoteStats, the one place the
    # far end's report blocks go; the figures below are views of it, not copies.
    remote: RemoteStats = field(default_factory=RemoteStats, repr=False, compare=False)

    @property
    def rtt(self) -> float | None:
        """Seconds, from RTCP LSR/DLSR (else the peer's XR round-trip delay)."""
        return self.remote.rtt

    @property
    def remote_fraction_lost(self) -> float | None:
        """Fraction 0..1 of our packets the peer reports lost in its last interval."""
        return self.remote.fraction_lost

    @property
    def remote_jitter(self) -> float | None:
        """Seconds, the interarrival jitter the peer reports for our stream."""
        jitter_ms = self.remote.jitter_ms
        return None if jitter_ms is None else jitter_ms / 1000.0


class RtpSession:
    """One RTP session: our outgoing stream's seq/ts/SSRC, latching, stats and RTCP.

    ``now`` is a monotonic clock in seconds; ``wall_offset`` converts it to Unix time for
    NTP timestamps in sender reports. ``stats`` (``media.rtpstats.ReceiveStats``) is the one
    RFC 3550 receiver: it decides duplicates, gives our report blocks and the MOS figures;
    ``remote_stats`` keeps what the peer's RTCP says about our stream.
    """

    def __init__(
        self,
        *,
        payload_type: int = 0,
        clock_rate: int = 8000,
        ssrc: int | None = None,
        sequence: int | None = None,
        timestamp: int | None = None,
        cname: str = "vaxel",
        wall_offset: float = 0.0,
        rng: random.Random | None = None,
    ) -> None:
        rnd = rng or random.SystemRandom()
        self.payload_type = payload_type
        self.clock_rate = clock_rate
        self.ssrc = rnd.getrandbits(32) if ssrc is None else ssrc
        self.sequence = rnd.getrandbits(16) if sequence is None else sequence
        self.timestamp = rnd.getrandbits(32) if timestamp is None else timestamp
        self.cname = cname.encode()
        self.wall_offset = wall_offset
        self.remote_stats = RemoteStats()
        self.counters = SessionCounters(remote=self.remote_stats)
        # Replaceable (e.g. another playout delay) before the first packet arrives.
        self.stats = ReceiveStats()
        self.accepted_payload_types: set[int] = {payload_type}
        # RFC 4733 packets count in the sequence space only, not as (late) audio.
        self.telephone_event_pt: int | None = None
        # Symmetric RTP: until latched, send to the signalled address.
        self.remote_rtp: tuple[str, int] | None = None
        self.remote_rtcp: tuple[str, int] | None = None
        self.latched = False
        self.rtcp_latched = False
        self.latching = True
        self._buf = bytearray(HEADER_SIZE + 1500)
        self._frame_buf = bytearray(HEADER_SIZE + 160)  # the common 20 ms G.711 packet
        self._sent_since_report = False
        self._last_send_ts = self.timestamp
        self._last_send_now: float | None = None
        self.last_received: float | None = None
        self._rtcp_rng = rnd
        self.next_rtcp: float | None = None

    # --- sending -------------------------------------------------------------------------
    def set_remote(self, host: str, port: int, rtcp_port: int | None = None) -> None:
        self.remote_rtp = (host, port)
        self.remote_rtcp = (host, rtcp_port if rtcp_port is not None else port + 1)
        self.latched = False
        self.rtcp_latched = False

    def build(
        self,
        payload: bytes,
        *,
        marker: bool = False,
        payload_type: int | None = None,
        timestamp: int | None = None,
    ) -> bytes:
        """Build the next packet of our stream (sequence number advances by one)."""
        pt = self.payload_type if payload_type is None else payload_type
        ts = self.timestamp if timestamp is None else timestamp
        n = HEADER_SIZE + len(payload)
        buf = self._frame_buf if n == 172 else self._buf
        _HEADER.pack_into(buf, 0, 0x80, pt | 0x80 if marker else pt, self.sequence, ts, self.ssrc)
        buf[HEADER_SIZE:n] = payload
        self.sequence = (self.sequence + 1) & 0xFFFF
        c = self.counters
        c.packets_sent += 1
        c.octets_sent += n - HEADER_SIZE
        self._sent_since_report = True
        self._last_send_ts = ts
        return bytes(buf) if n == 172 else bytes(memoryview(buf)[:n])

    def advance(self, samples: int) -> None:
        """Advance our stream's timestamp by one frame, whether or not a packet was sent."""
        self.timestamp = (self.timestamp + samples) & 0xFFFFFFFF

    def note_send_time(self, now: float) -> None:
        self._last_send_now = now

    # --- receiving -----------------------------------------------------------------------
    def receive(self, data: bytes, addr: tuple[str, int], now: float) -> RtpHeader | None:
        """Feed one datagram from the RTP socket.

        Returns the parsed packet, or None when it was dropped (malformed, foreign source
        after latching, duplicate); the reason is counted.
        """
        try:
            pkt = parse_rtp(data)
        except MalformedPacket:
            self._count_bad(data)
            return None
        if pkt.payload_type not in self.accepted_payload_types:
            self.counters.malformed += 1
            return None
        if self.latched:
            if addr != self.remote_rtp:
                self.counters.foreign += 1
                return None
        elif self.latching:
            # First valid packet: from now on answer where the peer really sends from (NAT).
            self.remote_rtp = (addr[0], addr[1])
            if not self.rtcp_latched:
                self.remote_rtcp = (addr[0], addr[1] + 1)
            self.latched = True
        if pkt.payload_type == self.telephone_event_pt:
            kept = self.stats.on_event_packet(pkt.sequence_number, now, pkt.ssrc, self.clock_rate)
        else:
            kept = self.stats.on_packet(
                pkt.sequence_number, pkt.timestamp, now, pkt.ssrc, self.clock_rate
            )
        if not kept:
            self.counters.duplicates += 1  # it must not play (or be relayed) twice
            return None
        c = self.counters
        c.packets_received += 1
        c.octets_received += len(pkt.payload)
        self.last_received = now
        return pkt

    # --- RTCP ----------------------------------------------------------------------------
    def schedule_rtcp(self, now: float) -> None:
        # RFC 3550 6.3.5: randomize to 0.5..1.5 times the interval to avoid synchronisation.
        self.next_rtcp = now + RTCP_INTERVAL * (0.5 + self._rtcp_rng.random())

    def rtcp_due(self, now: float) -> bool:
        return self.next_rtcp is not None and now >= self.next_rtcp

    def _ntp(self, now: float) -> int:
        return ntp_timestamp(now + self.wall_offset)

    def build_rtcp(self, now: float, *, bye: bool = False) -> bytes:
        """A compound RTCP packet: SR (if we sent since the last report) or RR, SDES CNAME."""
        reports = []
        block = self.stats.report_block(now)  # None until the source is validated (A.1)
        if block is not None:
            reports.append(
                RtcpReceiverInfo(
                    ssrc=block.ssrc,
                    fraction_lost=block.fraction_lost,
                    packets_lost=block.cumulative_lost,
                    highest_sequence=block.highest_seq,
                    jitter=block.jitter,
                    lsr=block.lsr,
                    dlsr=block.dlsr,
                )
            )
        if self._sent_since_report:
            # RTP timestamp corresponding to `now`, extrapolated from the last packet sent.
            rtp_ts = self._last_send_ts
            if self._last_send_now is not None:
                rtp_ts = (rtp_ts + int((now - self._last_send_now) * self.clock_rate)) & 0xFFFFFFFF
            info = RtcpSenderInfo(
                ntp_timestamp=self._ntp(now),
                rtp_timestamp=rtp_ts,
                packet_count=self.counters.packets_sent & 0xFFFFFFFF,
                octet_count=self.counters.octets_sent & 0xFFFFFFFF,
            )
            head: bytes = bytes(RtcpSrPacket(ssrc=self.ssrc, sender_info=info, reports=reports))
        else:
            head = bytes(RtcpRrPacket(ssrc=self.ssrc, reports=reports))
        self._sent_since_report = False
        sdes = RtcpSdesPacket(chunks=[RtcpSourceInfo(ssrc=self.ssrc, items=[(1, self.cname)])])
        out = head + bytes(sdes)
        if bye:
            out += bytes(RtcpByePacket(sources=[self.ssrc]))
        self.counters.rtcp_sent += 1
        self.schedule_rtcp(now)
        return out

    def _count_bad(self, data: bytes) -> None:
        # RFC 7983 demultiplexing: a first byte 0-3 is STUN (phones with ICE send binding
        # requests to the media ports); counted apart so "malformed" means broken packets.
        if data and data[0] < 4:
            self.counters.stun += 1
        else:
            self.counters.malformed += 1

    def receive_rtcp(self, data: bytes, addr: tuple[str, int], now: float) -> RtcpDatagram | None:
        """Feed one datagram from the RTCP socket: its one parse (SR, report blocks, XR).

        Returns what was parsed, or None when it was dropped (malformed or STUN; counted).
        """
        try:
            rtcp = parse_rtcp(data)
        except MalformedRtcp:
            self._count_bad(data)
            return None
        self.counters.rtcp_received += 1
        if self.latching and not self.rtcp_latched:
            self.remote_rtcp = (addr[0], addr[1])
            self.rtcp_latched = True
        for sr in rtcp.sender_reports:
            self.stats.on_sender_report(sr.ntp_timestamp, now)
        arrival_ntp = self._ntp(now)  # the clock our SRs carry, so LSR and A match
        remote = self.remote_stats
        for block in rtcp.report_blocks:
            if block.ssrc == self.ssrc:
                remote.on_report_block(block, arrival_ntp, now, self.clock_rate)
        for metrics in rtcp.voip_metrics:
            if metrics.ssrc == self.ssrc:
                remote.on_voip_metrics(metrics, now)
        return rtcp
