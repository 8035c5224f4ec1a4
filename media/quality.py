"""Per-call voice quality monitoring (SPEC S10), sans-IO with injected ``now``.

A ``QualityMonitor`` watches the legs of one call. Each leg has the
``ReceiveStats`` of the stream Vaxel receives on it and optionally the
``RemoteStats`` fed from RTCP (round-trip time). ``update(now)`` returns
events:

- ``IntervalMos`` every ``interval`` seconds, computed with the G.107
  E-model over the last ``window`` seconds (sliding window);
- ``QualityWarning`` once when that MOS falls below ``warn_below``;
- ``QualityRecovered`` when it is back at ``warn_below + recover_margin`` or
  above for one interval (after which a new warning can follow).

``summary()`` gives the whole-call figures per leg for the call record.
Inputs of the E-model per window: packet loss = lost + discarded by the
simulated playout buffer (percent), BurstR from the 2-state Markov
transition counts, one-way delay Ta = RTT/2 + nominal buffer delay +
packetization + codec look-ahead, codec Ie/Bpl from G.113 Appendix I.
"""

from __future__ import annotations

from collections import deque
from dataclasses import asdict, dataclass, field

from media.emodel import (
    CodecImpairment,
    codec_impairment,
    mos_from_r,
    one_way_delay_ms,
    r_factor_details,
)
from media.rtpstats import ReceiveFigures, ReceiveStats, RemoteStats, StatsMark

__all__ = [
    "CallQuality",
    "IntervalMos",
    "LegQuality",
    "QualityEvent",
    "QualityMonitor",
    "QualityRecovered",
    "QualityWarning",
]


@dataclass(frozen=True, slots=True)
class IntervalMos:
    """E-model estimate for one leg over the last window.

    loss: fraction 0..1 of packets lost or discarded; jitter_ms: RFC 3550
    jitter at the end of the interval; rtt_ms: latest RTCP round trip
    (None if unknown); at: the ``now`` of the update that produced it.
    """

    leg: str
    mos: float
    r: float
    loss: float
    jitter_ms: float
    rtt_ms: float | None
    burst_ratio: float
    at: float


@dataclass(frozen=True, slots=True)
class QualityWarning:
    """The leg's interval MOS fell below the threshold (sent once)."""

    leg: str
    mos: float
    at: float


@dataclass(frozen=True, slots=True)
class QualityRecovered:
    """The leg's interval MOS is back above threshold + margin."""

    leg: str
    mos: float
    at: float


QualityEvent = IntervalMos | QualityWarning | QualityRecovered


@dataclass(frozen=True, slots=True)
class LegQuality:
    """Whole-call quality of one leg (plain values, for the call record)."""

    codec: str
    mos: float | None
    r: float | None
    loss_pct: float
    rfc3550_loss_pct: float
    max_jitter_ms: float
    avg_jitter_ms: float
    rtt_ms: float | None
    avg_rtt_ms: float | None
    burst_ratio: float
    packets_expected: int
    packets_received: int
    packets_lost: int
    packets_discarded: int
    duplicates: int
    reordered: int
    intervals: int
    min_interval_mos: float | None
    warnings: int


@dataclass(frozen=True, slots=True)
class CallQuality:
    """Quality of the whole call, one ``LegQuality`` per leg name."""

    legs: dict[str, LegQuality] = field(default_factory=dict)

    def to_dict(self) -> dict[str, dict[str, object]]:
        return {name: asdict(leg) for name, leg in self.legs.items()}


@dataclass(slots=True)
class _Leg:
    stats: ReceiveStats
    remote: RemoteStats | None
    codec_name: str
    codec: CodecImpairment
    start: StatsMark
    next_at: float
    marks: deque[tuple[float, StatsMark]]
    warned: bool = False
    warnings: int = 0
    intervals: int = 0
    min_mos: float | None = None
    jitter_sum: float = 0.0
    jitter_max: float = 0.0
    rtt_sum: float = 0.0
    rtt_count: int = 0


@dataclass(frozen=True, slots=True)
class _Estimate:
    r: float
    mos: float


class QualityMonitor:
    """MOS per interval and per call for the legs of one call.

    codec: RTP encoding name with G.113 values (see ``media.emodel.CODECS``);
    interval: seconds between ``IntervalMos`` events; warn_below: MOS
    threshold of ``QualityWarning`` (SPEC S10: 3.1); window: seconds of
    history each interval MOS covers (default: two intervals, so one bad
    packet burst does not flip the warning on its own).
    """

    def __init__(
        self,
        codec: str = "PCMU",
        interval: float = 5.0,
        warn_below: float = 3.1,
        window: float | None = None,
        recover_margin: float = 0.1,
    ) -> None:
        if interval <= 0:
            raise ValueError(f"QualityMonitor: interval must be > 0 seconds, got {interval}")
        window = 2.0 * interval if window is None else window
        if window < interval:
            raise ValueError(
                f"QualityMonitor: window ({window} s) must be at least the interval ({interval} s)"
            )
        if not 1.0 <= warn_below <= 4.5:
            raise ValueError(
                f"QualityMonitor: warn_below must be a MOS in 1..4.5, got {warn_below}"
            )
        self.codec = codec
        self._default_codec = codec_impairment(codec)
        self.interval = interval
        self.window = window
        self.warn_below = warn_below
        self.recover_margin = recover_margin
        self._legs: dict[str, _Leg] = {}

    def add_leg(
        self,
        leg: str,
        stats: ReceiveStats,
        now: float,
        *,
        remote: RemoteStats | None = None,
        codec: str | None = None,
    ) -> None:
        """Start watching a leg; its first interval ends at ``now + interval``."""
        if leg in self._legs:
            raise ValueError(f"QualityMonitor: leg {leg!r} is already monitored")
        name = codec or self.codec
        impairment = codec_impairment(name) if codec else self._default_codec
        start = stats.mark()
        self._legs[leg] = _Leg(
            stats=stats,
            remote=remote,
            codec_name=name,
            codec=impairment,
            start=start,
            next_at=now + self.interval,
            marks=deque([(now, start)]),
        )

    def set_codec(self, leg: str, codec: str) -> None:
        """The leg switched codec (re-INVITE): later estimates use its values."""
        state = self._leg(leg)
        state.codec = codec_impairment(codec)
        state.codec_name = codec

    def next_deadline(self) -> float | None:
        """When ``update`` next has something to do (for the caller's timer)."""
        return min((s.next_at for s in self._legs.values()), default=None)

    def update(self, now: float) -> list[QualityEvent]:
        """Emit the events due at ``now`` (at most one interval per leg per call)."""
        events: list[QualityEvent] = []
        for name, leg in self._legs.items():
            if now < leg.next_at:
                continue
            while leg.next_at <= now:
                leg.next_at += self.interval
            events.extend(self._interval(name, leg, now))
        return events

    def _interval(self, name: str, leg: _Leg, now: float) -> list[QualityEvent]:
        marks = leg.marks
        while len(marks) > 1 and marks[1][0] <= now - self.window:
            marks.popleft()
        figures = leg.stats.figures_since(marks[0][1])
        marks.append((now, leg.stats.mark()))
        jitter_ms = leg.stats.jitter_ms
        leg.jitter_sum += jitter_ms
        leg.jitter_max = max(leg.jitter_max, jitter_ms)
        rtt_ms = leg.remote.rtt_ms if leg.remote else None
        if rtt_ms is not None:
            leg.rtt_sum += rtt_ms
            leg.rtt_count += 1
        leg.intervals += 1
        if figures.decided == 0:
            return []  # nothing received in the window (hold, silence suppression)
        est = self._estimate(leg, figures, rtt_ms)
        leg.min_mos = est.mos if leg.min_mos is None else min(leg.min_mos, est.mos)
        events: list[QualityEvent] = [
            IntervalMos(
                leg=name,
                mos=est.mos,
                r=est.r,
                loss=figures.effective_loss,
                jitter_ms=jitter_ms,
                rtt_ms=rtt_ms,
                burst_ratio=figures.burst.burst_ratio,
                at=now,
            )
        ]
        if not leg.warned and est.mos < self.warn_below:
            leg.warned = True
            leg.warnings += 1
            events.append(QualityWarning(name, est.mos, now))
        elif leg.warned and est.mos >= self.warn_below + self.recover_margin:
            leg.warned = False
            events.append(QualityRecovered(name, est.mos, now))
        return events

    def _estimate(self, leg: _Leg, figures: ReceiveFigures, rtt_ms: float | None) -> _Estimate:
        ta = one_way_delay_ms(
            rtt_ms=rtt_ms,
            jitter_buffer_ms=leg.stats.playout_delay * 1000.0,
            codec=leg.codec,
            packet_ms=figures.packet_ms,
        )
        details = r_factor_details(
            ie=leg.codec.ie,
            bpl=leg.codec.bpl,
            ppl=min(100.0, figures.effective_loss * 100.0),
            burst_r=figures.burst.burst_ratio,
            ta=ta,
        )
        return _Estimate(details.r, mos_from_r(details.r))

    def summary(self) -> CallQuality:
        """Whole-call figures per leg (for storing on the call record)."""
        legs: dict[str, LegQuality] = {}
        for name, leg in self._legs.items():
            fig = leg.stats.figures_since(leg.start)
            rtt_ms = leg.remote.rtt_ms if leg.remote else None
            est = self._estimate(leg, fig, rtt_ms) if fig.decided else None
            expected = fig.packets_expected
            legs[name] = LegQuality(
                codec=leg.codec_name,
                mos=None if est is None else round(est.mos, 3),
                r=None if est is None else round(est.r, 2),
                loss_pct=round(fig.effective_loss * 100.0, 3),
                rfc3550_loss_pct=round(max(0, fig.packets_lost) * 100.0 / expected, 3)
                if expected
                else 0.0,
                max_jitter_ms=round(max(fig.max_jitter_ms, leg.jitter_max), 3),
                avg_jitter_ms=round(leg.jitter_sum / leg.intervals, 3)
                if leg.intervals
                else round(fig.jitter_ms, 3),
                rtt_ms=None if rtt_ms is None else round(rtt_ms, 3),
                avg_rtt_ms=round(leg.rtt_sum / leg.rtt_count, 3) if leg.rtt_count else None,
                burst_ratio=round(fig.burst.burst_ratio, 3),
                packets_expected=expected,
                packets_received=fig.packets_received,
                packets_lost=fig.packets_lost,
                packets_discarded=fig.discarded,
                duplicates=fig.duplicates,
                reordered=fig.reordered,
                intervals=leg.intervals,
                min_interval_mos=None if leg.min_mos is None else round(leg.min_mos, 3),
                warnings=leg.warnings,
            )
        return CallQuality(legs)

    def _leg(self, leg: str) -> _Leg:
        try:
            return self._legs[leg]
        except KeyError:
            raise ValueError(f"QualityMonitor: no leg named {leg!r}") from None
