"""Frozen copy of ``media.rtpstats.ReceiveStats`` as it was before its fast path (issue 7).

The per-packet reference for ``test_rtpstats_equivalence.py`` and ``bench/rtpstats_cost.py``:
the optimised ``ReceiveStats`` must give exactly the same figures on any packet sequence.
Do not edit except to follow a deliberate change of the algorithm.
"""

from __future__ import annotations

from media.rtpstats import (
    _LATE,
    _MASK,
    _MISSING,
    _NONE,
    _ON_TIME,
    _TS_HALF,
    _TS_MOD,
    GMIN,
    LOSS_DECISION_LAG,
    MAX_DROPOUT,
    MAX_MISORDER,
    MIN_SEQUENTIAL,
    RTP_SEQ_MOD,
    BurstMetrics,
    ReceiveFigures,
    ReportBlock,
    StatsMark,
    _Counters,
)


class ReferenceReceiveStats:
    """Statistics of the RTP stream received on one leg.

    ``playout_delay`` is the nominal delay (seconds) of the simulated fixed
    jitter buffer. ``on_packet`` is the only per-packet call and is kept
    cheap; everything else is computed on demand.
    """

    __slots__ = (
        "playout_delay",
        "_ssrc",
        "_rate",
        "_inv_rate",
        "_probation",
        "_max_seq",
        "_base_seq",
        "_bad_seq",
        "_cycles",
        "_received",
        "_ext_max",
        "_transit",
        "_jitter",
        "_jitter_max",
        "_jitter_max_call",
        "_anchor",
        "_base_ts",
        "_max_ts",
        "_ring",
        "_dup",
        "_reord",
        "_found",
        "_lostd",
        "_disc",
        "_prev_lost",
        "_tfl",
        "_tlf",
        "_pkt",
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

    def __init__(self, playout_delay: float = 0.060) -> None:
        if playout_delay < 0:
            raise ValueError(f"playout_delay must be >= 0 seconds, got {playout_delay}")
        self.playout_delay = playout_delay
        self._ssrc: int | None = None
        self._rate = 0
        self._inv_rate = 0.0
        self._probation = 0
        self._max_seq = 0
        self._base_seq = 0
        self._bad_seq = RTP_SEQ_MOD + 1
        self._cycles = 0
        self._received = 0
        self._ext_max = -1
        self._transit = 0.0
        self._jitter = 0.0
        self._jitter_max = 0.0
        self._jitter_max_call = 0.0
        self._anchor = 0.0
        self._base_ts = 0
        self._max_ts = 0
        self._ring = bytearray([_NONE]) * LOSS_DECISION_LAG
        self._dup = self._reord = 0
        self._found = self._lostd = self._disc = 0
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

    def on_packet(
        self, seq: int, rtp_timestamp: int, arrival: float, ssrc: int, clock_rate: int = 8000
    ) -> None:
        """Account one received RTP packet (arrival in seconds, any clock)."""
        if ssrc != self._ssrc or clock_rate != self._rate:
            self._new_source(seq, ssrc, clock_rate)
        max_seq = self._max_seq
        udelta = (seq - max_seq) & 0xFFFF
        if self._probation:
            # RFC 3550 A.1: a source is valid after MIN_SEQUENTIAL in-order packets.
            if udelta == 1:
                self._probation -= 1
                self._max_seq = seq
                if self._probation == 0:
                    self._init_seq(seq, rtp_timestamp, arrival)
                    self._received += 1
            else:
                self._probation = MIN_SEQUENTIAL - 1
                self._max_seq = seq
            return

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
                return
            if seq < max_seq:
                self._cycles += RTP_SEQ_MOD
            self._max_seq = seq
            ext = self._cycles + seq
        elif udelta <= RTP_SEQ_MOD - MAX_MISORDER:
            if seq != self._bad_seq:
                self._bad_seq = (seq + 1) & 0xFFFF
                return
            # Two sequential packets after a big jump: the sender restarted.
            self._flush_ring()
            self._carry_source()
            self._init_seq(seq, rtp_timestamp, arrival)
            self._received += 1
            return
        else:
            self._received += 1
            self._old_packet(seq, rtp_timestamp, arrival)
            return
        self._received += 1

        # A new highest packet: decide the sequence numbers leaving the window.
        ring = self._ring
        prev = self._ext_max
        self._ext_max = ext
        self._max_ts = rtp_timestamp
        if ext - prev == 1:
            idx = ext & _MASK
            st = ring[idx]
            if st == _ON_TIME:
                self._pkt += 1
                self._found += 1
                if self._prev_lost:
                    self._tlf += 1
                    self._prev_lost = False
            elif st != _NONE:
                self._decide_loss(st)
        else:
            for s in range(prev + 1, ext + 1):
                idx = s & _MASK
                self._decide(ring[idx])
                ring[idx] = _MISSING
        dts = (rtp_timestamp - self._base_ts) & 0xFFFFFFFF
        if dts >= 0x80000000:
            dts -= 0x100000000
        ring[ext & _MASK] = _ON_TIME if arrival <= self._anchor + dts * self._inv_rate else _LATE

    def _old_packet(self, seq: int, rtp_timestamp: int, arrival: float) -> None:
        """A duplicate or reordered packet (older than the highest seen)."""
        max_seq = self._max_seq
        ext = self._cycles + seq - (RTP_SEQ_MOD if seq > max_seq else 0)
        if ext <= self._ext_max - LOSS_DECISION_LAG:
            # Already decided as lost; too late for any playout buffer.
            self._reord += 1
            return
        idx = ext & _MASK
        if self._ring[idx] != _MISSING:
            self._dup += 1
            return
        self._reord += 1
        dts = (rtp_timestamp - self._base_ts) & 0xFFFFFFFF
        if dts >= 0x80000000:
            dts -= 0x100000000
        on_time = arrival <= self._anchor + dts * self._inv_rate
        self._ring[idx] = _ON_TIME if on_time else _LATE

    def _decide(self, st: int) -> None:
        if st == _ON_TIME:
            self._pkt += 1
            self._found += 1
            if self._prev_lost:
                self._tlf += 1
                self._prev_lost = False
        elif st != _NONE:
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
        self._pkt = 0

    def _new_source(self, seq: int, ssrc: int, clock_rate: int) -> None:
        if clock_rate <= 0:
            raise ValueError(f"RTP clock rate must be a positive integer, got {clock_rate}")
        if self._ssrc is not None:
            self._flush_ring()
            self._carry_source()
        self._ssrc = ssrc
        self._rate = clock_rate
        self._inv_rate = 1.0 / clock_rate
        # RFC 3550 A.1: first packet of a source.
        self._max_seq = (seq - 1) & 0xFFFF
        self._probation = MIN_SEQUENTIAL
        self._bad_seq = RTP_SEQ_MOD + 1

    def _init_seq(self, seq: int, rtp_timestamp: int, arrival: float) -> None:
        """RFC 3550 A.1 init_seq, plus jitter/playout anchors of the source."""
        self._base_seq = seq
        self._max_seq = seq
        self._bad_seq = RTP_SEQ_MOD + 1
        self._cycles = 0
        self._received = 0
        self._rtcp_expected_prior = 0
        self._rtcp_received_prior = 0
        self._ext_max = seq
        self._transit = arrival * self._rate - rtp_timestamp
        self._anchor = arrival + self.playout_delay
        self._base_ts = rtp_timestamp
        self._max_ts = rtp_timestamp
        ring = self._ring
        ring[:] = bytes([_NONE]) * LOSS_DECISION_LAG
        ring[seq & _MASK] = _ON_TIME

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
        return self._cycles + self._max_seq - self._base_seq + 1, self._received

    # ------------------------------------------------------------------ figures

    def _counters(self) -> _Counters:
        expected, received = self._source_expected_received()
        return _Counters(
            expected=self._carried[0] + expected,
            received=self._carried[1] + received,
            duplicates=self._dup,
            reordered=self._reord,
            found=self._found,
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
        span = self._ext_max - self._base_seq
        if self._probation or self._ext_max < 0 or span <= 0:
            return 20.0
        dts = (self._max_ts - self._base_ts) & 0xFFFFFFFF
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
        self._lsr = (ntp_time >> 16) & 0xFFFFFFFF
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
            highest_seq=(self._cycles + self._max_seq) & 0xFFFFFFFF,
            jitter=int(self._jitter) & 0xFFFFFFFF,
            lsr=self._lsr,
            dlsr=dlsr,
        )
