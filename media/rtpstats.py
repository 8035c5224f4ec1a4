"""Receive statistics of one RTP stream (one leg, one direction), sans-IO.

Fed packet by packet from the media receive path with
``ReceiveStats.on_packet(seq, rtp_timestamp, arrival, ssrc)``; keeps:

- packets expected / received / lost and fraction lost per RFC 3550
  Appendix A.1 (sequence validation) and A.3 (loss);
- interarrival jitter per RFC 3550 Appendix A.8;
- duplicates and reordered packets;
- RFC 4733 telephone-event packets (``on_event_packet``): same SSRC and sequence space as
  the audio, so they advance the sequence bookkeeping (no false loss), but each repeats its
  event's start timestamp (and the end packet is sent three times), so they are kept out of
  jitter, playout (late/discard) and burst accounting: judged as audio, a digit's updates
  look 50-100 ms late;
- a simulated fixed playout buffer: a packet arriving after its playout
  time (first packet's arrival + nominal delay + RTP time since the first
  packet) is *discarded*, and counts as lost for the E-model;
- burst/gap metrics per RFC 3611 section 4.7.2 (Gmin = 16) with the
  counting scheme of RFC 3611 Appendix A.2, and the 2-state Markov (Gilbert)
  transition probabilities p, q that give G.107's BurstR = 1 / (p + q).

Loss decisions for the burst metrics are made ``LOSS_DECISION_LAG``
sequence numbers behind the highest sequence seen, so a packet reordered by
fewer positions is not mistaken for a loss.

SSRC change: RFC 3550 keeps state per source; Vaxel keeps only the current
sender of a leg. A packet with a new SSRC (or a new clock rate) starts a new
source with probation; the RFC 3550 counters (used for RTCP report blocks)
restart, while the call-level totals (``snapshot``/``interval``) carry on
across sources. The same holds for a resynchronisation after a large
sequence jump (RFC 3550 A.1 ``bad_seq``).

Also here: our RTCP report-block values (RFC 3550 6.4) and ``RemoteStats``, what
the far end reports about our stream. Parsing and building RTCP and the XR VoIP Metrics
block (RFC 3611 4.7) live in media/rtcp.py.
"""

from __future__ import annotations

import operator
import os
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING

# RTCP and XR moved to media/rtcp.py; imported here for the stats and re-exported under
# the names media.rtpstats has always offered.
from .rtcp import (
    GMIN,
    XR_PACKET_TYPE,
    ReportBlock,
    VoipMetrics,
    build_voip_metrics_block,
    build_xr_packet,
    ntp_middle32,
    ntp_timestamp,
    parse_voip_metrics_block,
    parse_xr_packet,
    rtt_from_report_block,
    voip_metrics_from_figures,
)

__all__ = [
    "GMIN",
    "LOSS_DECISION_LAG",
    "MAX_DROPOUT",
    "MAX_MISORDER",
    "MIN_SEQUENTIAL",
    "COMPILED",
    "BurstMetrics",
    "PurePythonReceiveStats",
    "ReceiveFigures",
    "ReceiveStats",
    "StatsMark",
    "RemoteStats",
    "ReportBlock",
    "VoipMetrics",
    "XR_PACKET_TYPE",
    "build_voip_metrics_block",
    "build_xr_packet",
    "ntp_timestamp",
    "ntp_middle32",
    "parse_voip_metrics_block",
    "parse_xr_packet",
    "rtt_from_report_block",
    "voip_metrics_from_figures",
]

RTP_SEQ_MOD = 1 << 16
MAX_DROPOUT = 3000  # RFC 3550 A.1
MAX_MISORDER = 100  # RFC 3550 A.1
MIN_SEQUENTIAL = 2  # RFC 3550 A.1
LOSS_DECISION_LAG = 64  # packets; must be a power of two (ring index mask)
_MASK = LOSS_DECISION_LAG - 1

# Status of a sequence number in the decision ring; odd = nothing lost (``st & 1`` in
# on_packet's fast path).
_MISSING = 0
_ON_TIME = 1
_LATE = 2  # arrived after its playout time: discarded
_NONE = 3  # before the first packet of the source: not a packet
_EVENT = 5  # an RFC 4733 telephone-event packet: arrived, but no audio to play or lose

_TS_MOD = float(1 << 32)
_TS_HALF = float(1 << 31)


@dataclass(frozen=True, slots=True)
class BurstMetrics:
    """RFC 3611 4.7.2 burst/gap metrics and the 2-state Markov figures.

    Densities are fractions 0..1 (RFC 3611 carries them as x/256);
    durations in ms. ``p``: P(lost | previous arrived), ``q``:
    P(arrived | previous lost), ``burst_ratio`` = 1 / (p + q) (G.107).
    """

    burst_density: float
    gap_density: float
    burst_duration_ms: float
    gap_duration_ms: float
    p: float
    q: float
    burst_ratio: float


@dataclass(frozen=True, slots=True)
class ReceiveFigures:
    """Cumulative (``snapshot``) or since-last-interval (``interval``) figures.

    packets_expected/received/lost follow RFC 3550 A.3 (duplicates count as
    received, so lost can be negative). ``decided``/``lost_decided``/
    ``discarded`` come from the per-sequence playout decisions and give the
    E-model loss ``effective_loss`` = (lost + discarded) / decided.
    """

    ssrc: int | None
    packets_expected: int
    packets_received: int
    packets_lost: int
    fraction_lost: float
    duplicates: int
    reordered: int
    decided: int
    lost_decided: int
    discarded: int
    effective_loss: float
    jitter_ts: float
    jitter_ms: float
    max_jitter_ms: float
    packet_ms: float
    burst: BurstMetrics


@dataclass(slots=True)
class _Counters:
    expected: int = 0
    received: int = 0
    duplicates: int = 0
    reordered: int = 0
    found: int = 0
    lost: int = 0
    discarded: int = 0
    trans_fl: int = 0  # found -> lost transitions
    trans_lf: int = 0  # lost -> found transitions
    c11: int = 0
    c13: int = 0
    c14: int = 0
    c22: int = 0
    c23: int = 0
    c33: int = 0

    def minus(self, other: _Counters) -> _Counters:
        # Every interval of every call: attrgetter/map instead of a generator of getattr.
        return _Counters(*map(operator.sub, _counter_values(self), _counter_values(other)))


_counter_values = operator.attrgetter(*(f.name for f in fields(_Counters)))


@dataclass(frozen=True, slots=True)
class StatsMark:
    """Counters of a ``ReceiveStats`` at one moment (see ``ReceiveStats.mark``)."""

    counters: _Counters


class _PacketCore:
    """Per-packet state and fast path of ``ReceiveStats``, in Python.

    The twin of the compiled ``media._rtpstats_core.PacketCore`` (same field names, same
    arithmetic), used when the extension is not built or ``VAXEL_NO_EXTENSIONS`` is set.
    """

    __slots__ = (
        "_ext_max",
        "_vssrc",
        "_rate",
        "_received",
        "_max_ts",
        "_base_ts",
        "_pkt",
        "_tlf",
        "_transit",
        "_jitter",
        "_jitter_max",
        "_anchor",
        "_inv_rate",
        "_prev_lost",
        "_ring",
    )

    if TYPE_CHECKING:
        # Set by _ReceiveAccounting.__init__ (the other base of ReceiveStats).
        _ext_max: int
        _vssrc: int | None
        _rate: int
        _received: int
        _max_ts: int
        _base_ts: int
        _pkt: int
        _tlf: int
        _transit: float
        _jitter: float
        _jitter_max: float
        _anchor: float
        _inv_rate: float
        _prev_lost: bool

        def _account(
            self,
            seq: int,
            rtp_timestamp: int,
            arrival: float,
            ssrc: int,
            clock_rate: int,
            event: bool = False,
        ) -> bool: ...

    def __init__(self) -> None:
        # Only the ring, as the C type's tp_new; _ReceiveAccounting.__init__ sets the rest.
        self._ring = bytearray([_NONE]) * LOSS_DECISION_LAG

    def on_packet(
        self, seq: int, rtp_timestamp: int, arrival: float, ssrc: int, clock_rate: int = 8000
    ) -> bool:
        """Account one received RTP packet (arrival in seconds, any clock).

        False for a duplicate: the caller drops it (it must not play twice).
        """
        # Fast path (issue 7: the cost per packet at 1,000 streams): the next sequence number
        # of the validated source whose slot leaving the window holds no loss. Same results
        # as ``_account`` (tests/media/test_rtpstats_equivalence.py), fewer attribute loads.
        ext = self._ext_max + 1
        if ssrc == self._vssrc and seq == ext & 0xFFFF and clock_rate == self._rate:
            ring = self._ring
            idx = ext & _MASK
            st = ring[idx]
            if st & 1:  # _ON_TIME or _NONE: nothing to decide as lost
                # RFC 3550 A.8 jitter, the same float operations as in _account.
                transit = arrival * clock_rate - rtp_timestamp
                d = transit - self._transit
                self._transit = transit
                if d < 0.0:  # float literals: CPython's fast float compare
                    d = -d
                if d > _TS_HALF:  # RTP timestamp wrapped between the two packets
                    d = _TS_MOD - d
                jitter = self._jitter
                jitter = jitter + (d - jitter) * 0.0625
                self._jitter = jitter
                if jitter > self._jitter_max:
                    self._jitter_max = jitter
                self._received += 1
                self._ext_max = ext
                self._max_ts = rtp_timestamp
                if st == _ON_TIME:
                    self._pkt += 1  # found = _found_done + _pkt
                    if self._prev_lost:
                        self._tlf += 1
                        self._prev_lost = False
                dts = (rtp_timestamp - self._base_ts) & 0xFFFFFFFF
                if dts >= 0x80000000:
                    dts -= 0x100000000
                ring[idx] = _ON_TIME if arrival <= self._anchor + dts * self._inv_rate else _LATE
                return True
        return self._account(seq, rtp_timestamp, arrival, ssrc, clock_rate)


class _ReceiveAccounting:
    """Everything of ``ReceiveStats`` but the per-packet fast path (see ``_PacketCore``)."""

    if TYPE_CHECKING:
        # The slots are the subclasses' (_BODY_SLOTS and the packet core's): hidden from
        # the type checker, which would otherwise reject every assignment in __init__.
        _ring: bytearray
    else:
        __slots__ = ()

    def __init__(self, playout_delay: float = 0.060) -> None:
        if playout_delay < 0:
            raise ValueError(f"playout_delay must be >= 0 seconds, got {playout_delay}")
        super().__init__()
        self.playout_delay = playout_delay
        self._ssrc: int | None = None
        self._rate = 0
        self._inv_rate = 0.0
        self._probation = 0
        self._max_seq = 0  # during probation only; validated: the low 16 bits of _ext_max
        self._base_seq = 0
        self._bad_seq = RTP_SEQ_MOD + 1
        self._vssrc: int | None = None  # the SSRC once validated (fast path), else None
        self._timed = False  # jitter/playout anchored on an audio packet of the source
        # Telephone events replace audio frames: the (extended seq, timestamp) of the last
        # audio packet before a run of them, and the sequence/RTP-time spans of such runs,
        # which packet_ms leaves out (it is the audio's packetization, used in the E-model).
        self._ev_gap: tuple[int, int] | None = None
        self._skip_seq = self._skip_ts = 0
        self._received = 0
        self._ext_max = -1
        self._transit = 0.0
        self._jitter = 0.0
        self._jitter_max = 0.0
        self._jitter_max_call = 0.0
        self._anchor = 0.0
        self._base_ts = 0
        self._max_ts = 0
        self._dup = self._reord = 0
        # Decided on time = _found_done + _pkt (the run since the last loss).
        self._found_done = self._lostd = self._disc = 0
        self._prev_lost = False
        self._tfl = self._tlf = 0
        self._pkt = self._burst_lost = 0
        self._c11 = self._c13 = self._c14 = self._c22 = self._c23 = self._c33 = 0
        # Expected/received of earlier sources (SSRC change, resync).
        self._carried = [0, 0]
        self._interval_prev = _Counters()
        self._rtcp_expected_prior = 0
        self._rtcp_received_prior = 0
        self._lsr = 0
        self._lsr_time = 0.0

    # ------------------------------------------------------------------ per packet

    def on_event_packet(self, seq: int, arrival: float, ssrc: int, clock_rate: int = 8000) -> bool:
        """Account one RFC 4733 telephone-event packet: sequence numbers only.

        False for a duplicate. Its timestamp is the event's start, not its send time, so
        it takes no part in jitter or the playout (late) decisions.
        """
        return self._account(seq, 0, arrival, ssrc, clock_rate, True)

    def _account(
        self,
        seq: int,
        rtp_timestamp: int,
        arrival: float,
        ssrc: int,
        clock_rate: int,
        event: bool = False,
    ) -> bool:
        """Any packet: RFC 3550 A.1/A.3/A.8 and the playout decisions, case by case."""
        if ssrc != self._ssrc or clock_rate != self._rate:
            self._new_source(seq, ssrc, clock_rate)
        if self._probation:
            # RFC 3550 A.1: a source is valid after MIN_SEQUENTIAL in-order packets.
            if (seq - self._max_seq) & 0xFFFF == 1:
                self._probation -= 1
                self._max_seq = seq
                if self._probation == 0:
                    self._init_seq(seq, rtp_timestamp, arrival, event)
                    self._received += 1
            else:
                self._probation = MIN_SEQUENTIAL - 1
                self._max_seq = seq
            return True
        # A validated source keeps only the extended highest sequence number: RFC 3550's
        # max_seq is its low 16 bits and cycles the rest.
        ext_max = self._ext_max
        udelta = (seq - ext_max) & 0xFFFF

        if event:
            pass
        elif not self._timed:
            self._anchor_timing(rtp_timestamp, arrival)
            self._skip_seq = (seq - self._base_seq) & 0xFFFF  # the events before it
        else:
            # RFC 3550 A.8 interarrival jitter, in timestamp units.
            transit = arrival * self._rate - rtp_timestamp
            d = transit - self._transit
            self._transit = transit
            if d < 0:
                d = -d
            if d > _TS_HALF:  # RTP timestamp wrapped between the two packets
                d = _TS_MOD - d
            jitter = self._jitter + (d - self._jitter) * 0.0625
            self._jitter = jitter
            if jitter > self._jitter_max:
                self._jitter_max = jitter

        if udelta < MAX_DROPOUT:
            if udelta == 0:  # duplicate of the highest packet
                self._received += 1
                self._dup += 1
                return False
            ext = ext_max + udelta
        elif udelta <= RTP_SEQ_MOD - MAX_MISORDER:
            if seq != self._bad_seq:
                self._bad_seq = (seq + 1) & 0xFFFF
                return True
            # Two sequential packets after a big jump: the sender restarted.
            self._flush_ring()
            self._carry_source()
            self._init_seq(seq, rtp_timestamp, arrival, event)
            self._received += 1
            return True
        else:
            self._received += 1
            return self._old_packet(ext_max + udelta - RTP_SEQ_MOD, rtp_timestamp, arrival, event)
        self._received += 1

        # A new highest packet: decide the sequence numbers leaving the window.
        ring = self._ring
        self._ext_max = ext
        if udelta == 1:
            idx = ext & _MASK
            st = ring[idx]
            if st == _ON_TIME:
                self._pkt += 1
                if self._prev_lost:
                    self._tlf += 1
                    self._prev_lost = False
            elif not st & 1:
                self._decide_loss(st)
        else:
            for s in range(ext_max + 1, ext + 1):
                idx = s & _MASK
                self._decide(ring[idx])
                ring[idx] = _MISSING
        if event:
            ring[ext & _MASK] = _EVENT
            if self._timed:
                if self._ev_gap is None:
                    self._ev_gap = (ext_max, self._max_ts)
                self._vssrc = None  # the audio after the event comes here, to close the gap
            return True
        ring[ext & _MASK] = self._playout(rtp_timestamp, arrival)
        gap = self._ev_gap
        if gap is not None:
            self._ev_gap = None
            self._skip_seq += ext - gap[0]
            self._skip_ts += (rtp_timestamp - gap[1]) & 0xFFFFFFFF
            self._vssrc = self._ssrc
        self._max_ts = rtp_timestamp
        return True

    def _playout(self, rtp_timestamp: int, arrival: float) -> int:
        """_ON_TIME or _LATE: whether an audio packet made its playout time."""
        dts = (rtp_timestamp - self._base_ts) & 0xFFFFFFFF
        if dts >= 0x80000000:
            dts -= 0x100000000
        return _ON_TIME if arrival <= self._anchor + dts * self._inv_rate else _LATE

    def _old_packet(self, ext: int, rtp_timestamp: int, arrival: float, event: bool) -> bool:
        """A duplicate or reordered packet (extended sequence below the highest seen)."""
        if ext <= self._ext_max - LOSS_DECISION_LAG:
            # Already decided as lost; too late for any playout buffer.
            self._reord += 1
            return True
        idx = ext & _MASK
        if self._ring[idx] != _MISSING:
            self._dup += 1
            return False
        self._reord += 1
        if event:
            self._ring[idx] = _EVENT
        elif self._timed:
            self._ring[idx] = self._playout(rtp_timestamp, arrival)
        else:  # audio before the first in-order one: no playout clock to be late against
            self._ring[idx] = _ON_TIME
        return True

    def _decide(self, st: int) -> None:
        if st == _ON_TIME:
            self._pkt += 1
            if self._prev_lost:
                self._tlf += 1
                self._prev_lost = False
        elif not st & 1:  # _MISSING or _LATE (not _NONE, not _EVENT)
            self._decide_loss(st)

    def _decide_loss(self, st: int) -> None:
        if st == _LATE:
            self._disc += 1
        else:
            self._lostd += 1
        if not self._prev_lost:
            self._tfl += 1
            self._prev_lost = True
        # RFC 3611 Appendix A.2 burst/gap counting.
        pkt = self._pkt
        if pkt >= GMIN:
            if self._burst_lost == 1:
                self._c14 += 1
            elif self._burst_lost > 1:
                self._c13 += 1
            self._burst_lost = 1
            self._c11 += pkt
        else:
            self._burst_lost += 1
            if pkt == 0:
                self._c33 += 1
            else:
                self._c23 += 1
                self._c22 += pkt - 1
        self._found_done += pkt
        self._pkt = 0

    def _new_source(self, seq: int, ssrc: int, clock_rate: int) -> None:
        if clock_rate <= 0:
            raise ValueError(f"RTP clock rate must be a positive integer, got {clock_rate}")
        if self._ssrc is not None:
            self._flush_ring()
            self._carry_source()
        self._ssrc = ssrc
        self._vssrc = None
        self._rate = clock_rate
        self._inv_rate = 1.0 / clock_rate
        # RFC 3550 A.1: first packet of a source.
        self._max_seq = (seq - 1) & 0xFFFF
        self._probation = MIN_SEQUENTIAL
        self._bad_seq = RTP_SEQ_MOD + 1

    def _init_seq(self, seq: int, rtp_timestamp: int, arrival: float, event: bool) -> None:
        """RFC 3550 A.1 init_seq, plus jitter/playout anchors of the source.

        Validated by a telephone-event packet, the source waits for its first audio packet
        to anchor jitter and playout (until then the fast path is off: ``_vssrc`` None).
        """
        self._base_seq = seq
        self._max_seq = seq
        self._bad_seq = RTP_SEQ_MOD + 1
        self._received = 0
        self._rtcp_expected_prior = 0
        self._rtcp_received_prior = 0
        self._ext_max = seq
        self._ev_gap = None
        self._skip_seq = self._skip_ts = 0
        ring = self._ring
        ring[:] = bytes([_NONE]) * LOSS_DECISION_LAG
        if event:
            self._vssrc = None
            self._timed = False
            ring[seq & _MASK] = _EVENT
        else:
            self._anchor_timing(rtp_timestamp, arrival)
            ring[seq & _MASK] = _ON_TIME

    def _anchor_timing(self, rtp_timestamp: int, arrival: float) -> None:
        """The source's first audio packet: the jitter and playout references."""
        self._vssrc = self._ssrc
        self._timed = True
        self._transit = arrival * self._rate - rtp_timestamp
        self._anchor = arrival + self.playout_delay
        self._base_ts = rtp_timestamp
        self._max_ts = rtp_timestamp

    def _flush_ring(self) -> None:
        """Decide every pending sequence number (end of a source)."""
        if self._probation or self._ext_max < 0:
            return
        ring = self._ring
        for s in range(self._ext_max + 1, self._ext_max + 1 + LOSS_DECISION_LAG):
            idx = s & _MASK
            self._decide(ring[idx])
            ring[idx] = _NONE

    def _carry_source(self) -> None:
        expected, received = self._source_expected_received()
        self._carried[0] += expected
        self._carried[1] += received
        self._received = 0
        self._ext_max = -1

    def _source_expected_received(self) -> tuple[int, int]:
        if self._ssrc is None or self._probation or self._ext_max < 0:
            return 0, 0
        return self._ext_max - self._base_seq + 1, self._received

    # ------------------------------------------------------------------ figures

    def _counters(self) -> _Counters:
        expected, received = self._source_expected_received()
        return _Counters(
            expected=self._carried[0] + expected,
            received=self._carried[1] + received,
            duplicates=self._dup,
            reordered=self._reord,
            found=self._found_done + self._pkt,
            lost=self._lostd,
            discarded=self._disc,
            trans_fl=self._tfl,
            trans_lf=self._tlf,
            c11=self._c11,
            c13=self._c13,
            c14=self._c14,
            c22=self._c22,
            c23=self._c23,
            c33=self._c33,
        )

    def mark(self) -> StatsMark:
        """An opaque copy of the counters, for ``figures_since`` (sliding windows)."""
        return StatsMark(self._counters())

    def figures_since(self, mark: StatsMark) -> ReceiveFigures:
        """Figures for the packets decided since ``mark`` was taken."""
        return self._figures(self._counters().minus(mark.counters), self._jitter_max)

    def snapshot(self) -> ReceiveFigures:
        """Cumulative figures for the whole call so far."""
        return self._figures(self._counters(), max(self._jitter_max, self._jitter_max_call))

    def interval(self) -> ReceiveFigures:
        """Figures since the previous ``interval()`` call (or the start)."""
        now = self._counters()
        figures = self._figures(now.minus(self._interval_prev), self._jitter_max)
        self._interval_prev = now
        self._jitter_max_call = max(self._jitter_max_call, self._jitter_max)
        self._jitter_max = self._jitter
        return figures

    @property
    def jitter_ms(self) -> float:
        """Current RFC 3550 interarrival jitter in milliseconds."""
        return self._jitter * self._inv_rate * 1000.0 if self._rate else 0.0

    def _packet_ms(self) -> float:
        gap = self._ev_gap  # events since the last audio packet: not in its span yet
        span = (self._ext_max if gap is None else gap[0]) - self._base_seq - self._skip_seq
        if self._probation or self._ext_max < 0 or span <= 0:
            return 20.0
        dts = ((self._max_ts - self._base_ts) & 0xFFFFFFFF) - self._skip_ts
        return dts * self._inv_rate * 1000.0 / span

    def _figures(self, c: _Counters, jitter_max_ts: float) -> ReceiveFigures:
        lost = c.expected - c.received
        fraction = lost / c.expected if c.expected > 0 and lost > 0 else 0.0
        decided = c.found + c.lost + c.discarded
        bad = c.lost + c.discarded
        to_ms = self._inv_rate * 1000.0
        packet_ms = self._packet_ms()
        return ReceiveFigures(
            ssrc=self._ssrc,
            packets_expected=c.expected,
            packets_received=c.received,
            packets_lost=lost,
            fraction_lost=fraction,
            duplicates=c.duplicates,
            reordered=c.reordered,
            decided=decided,
            lost_decided=c.lost,
            discarded=c.discarded,
            effective_loss=bad / decided if decided else 0.0,
            jitter_ts=self._jitter,
            jitter_ms=self._jitter * to_ms,
            max_jitter_ms=jitter_max_ts * to_ms,
            packet_ms=packet_ms,
            burst=self._burst_metrics(c, packet_ms),
        )

    def _burst_metrics(self, c: _Counters, packet_ms: float) -> BurstMetrics:
        # Close the cluster in progress (RFC 3611 A.2 only counts a cluster
        # when the next one starts) so a burst at the end is not ignored.
        c11, c13, c14 = c.c11, c.c13, c.c14
        if self._burst_lost == 1:
            c14 += 1
            c11 += self._pkt
        elif self._burst_lost > 1:
            c13 += 1
            c11 += self._pkt
        c22, c23, c33 = c.c22, c.c23, c.c33
        c31, c32 = c13, c23
        ctotal = c11 + c14 + c13 + c22 + c23 + c31 + c32 + c33
        if c13 == 0:
            burst_density = 0.0
            burst_ms = 0.0
            gap_density = c14 / (c11 + c14) if c11 + c14 else 0.0
            gap_ms = (c11 + c14) * packet_ms
        else:
            p32 = c32 / (c31 + c32 + c33) if c31 + c32 + c33 else 0.0
            p23 = 1.0 if c22 + c23 < 1 else 1.0 - c22 / (c22 + c23)
            burst_density = p23 / (p23 + p32) if p23 + p32 else 0.0
            gap_density = c14 / (c11 + c14) if c11 + c14 else 0.0
            gap_ms = (c11 + c14 + c13) * packet_ms / c13
            burst_ms = ctotal * packet_ms / c13 - gap_ms
        lost = c.lost + c.discarded
        p = c.trans_fl / c.found if c.found else (1.0 if lost else 0.0)
        q = c.trans_lf / lost if lost else 1.0
        p, q = min(p, 1.0), min(q, 1.0)
        if p <= 0.0:
            ratio = 1.0
        elif p + q <= 0.0:
            ratio = 1.0 / p
        else:
            ratio = 1.0 / (p + q)
        return BurstMetrics(burst_density, gap_density, burst_ms, gap_ms, p, q, ratio)

    # ------------------------------------------------------------------ RTCP

    def on_sender_report(self, ntp_time: int, now: float) -> None:
        """Remember a received SR (64-bit NTP timestamp) for LSR/DLSR."""
        self._lsr = ntp_middle32(ntp_time)
        self._lsr_time = now

    def report_block(self, now: float) -> ReportBlock | None:
        """Values of an RTCP RR/SR report block for the current source.

        Fraction lost is since the previous report block (RFC 3550 A.3);
        None until the source has been validated.
        """
        if self._ssrc is None or self._probation or self._ext_max < 0:
            return None
        expected, received = self._source_expected_received()
        lost = expected - received
        lost = max(-0x800000, min(0x7FFFFF, lost))
        expected_interval = expected - self._rtcp_expected_prior
        received_interval = received - self._rtcp_received_prior
        self._rtcp_expected_prior = expected
        self._rtcp_received_prior = received
        lost_interval = expected_interval - received_interval
        if expected_interval == 0 or lost_interval <= 0:
            fraction = 0
        else:
            fraction = min(255, (lost_interval << 8) // expected_interval)
        dlsr = 0
        if self._lsr:
            dlsr = int(max(0.0, now - self._lsr_time) * 65536) & 0xFFFFFFFF
        return ReportBlock(
            ssrc=self._ssrc,
            fraction_lost=fraction,
            cumulative_lost=lost,
            highest_seq=self._ext_max & 0xFFFFFFFF,
            jitter=int(self._jitter) & 0xFFFFFFFF,
            lsr=self._lsr,
            dlsr=dlsr,
        )


_BODY_SLOTS = (
    "playout_delay",
    "_ssrc",
    "_probation",
    "_max_seq",
    "_base_seq",
    "_bad_seq",
    "_timed",
    "_ev_gap",
    "_skip_seq",
    "_skip_ts",
    "_jitter_max_call",
    "_dup",
    "_reord",
    "_found_done",
    "_lostd",
    "_disc",
    "_tfl",
    "_burst_lost",
    "_c11",
    "_c13",
    "_c14",
    "_c22",
    "_c23",
    "_c33",
    "_carried",
    "_interval_prev",
    "_rtcp_expected_prior",
    "_rtcp_received_prior",
    "_lsr",
    "_lsr_time",
)


class PurePythonReceiveStats(_ReceiveAccounting, _PacketCore):
    """Statistics of the RTP stream received on one leg.

    ``playout_delay`` is the nominal delay (seconds) of the simulated fixed
    jitter buffer. ``on_packet`` is the only per-packet call and is kept
    cheap; everything else is computed on demand. ``ReceiveStats`` is this class
    with the per-packet part compiled (``media/_rtpstats_core.c``) when it is built.
    """

    __slots__ = _BODY_SLOTS


def _compiled_core() -> type | None:
    """The C ``PacketCore`` (``media/_rtpstats_core.c``), None when not built or disabled."""
    if os.environ.get("VAXEL_NO_EXTENSIONS"):
        return None
    try:
        from media._rtpstats_core import LOSS_DECISION_LAG as lag
        from media._rtpstats_core import PacketCore
    except ImportError:
        return None
    return PacketCore if lag == LOSS_DECISION_LAG else None


_CORE = _compiled_core()
COMPILED = _CORE is not None

if TYPE_CHECKING:
    # The compiled class has the same fields and methods as the pure Python one.
    ReceiveStats = PurePythonReceiveStats
elif _CORE is not None:

    class ReceiveStats(_ReceiveAccounting, _CORE):
        __doc__ = PurePythonReceiveStats.__doc__
        __slots__ = _BODY_SLOTS

else:
    ReceiveStats = PurePythonReceiveStats


# ---------------------------------------------------------------------- RTCP


class RemoteStats:
    """What the far end reports about the stream we send on one leg."""

    def __init__(self) -> None:
        self.rtt: float | None = None  # seconds, latest
        self.fraction_lost: float | None = None
        self.cumulative_lost: int | None = None
        self.jitter_ms: float | None = None
        self.voip_metrics: VoipMetrics | None = None
        self.updated_at: float | None = None

    @property
    def rtt_ms(self) -> float | None:
        return None if self.rtt is None else self.rtt * 1000.0

    def on_report_block(
        self, block: ReportBlock, arrival_ntp: int, now: float, clock_rate: int = 8000
    ) -> None:
        """Store a report block about our stream and update the RTT."""
        rtt = rtt_from_report_block(block, arrival_ntp)
        if rtt is not None:
            self.rtt = rtt
        self.fraction_lost = block.fraction_lost / 256.0
        self.cumulative_lost = block.cumulative_lost
        self.jitter_ms = block.jitter * 1000.0 / clock_rate
        self.updated_at = now

    def on_voip_metrics(self, metrics: VoipMetrics, now: float) -> None:
        self.voip_metrics = metrics
        if metrics.round_trip_delay_ms and self.rtt is None:
            self.rtt = metrics.round_trip_delay_ms / 1000.0
        self.updated_at = now
