"""Per-call voice quality monitoring (SPEC S10), sans-IO with injected ``now``.

A ``QualityMonitor`` watches the legs of one call. Each leg has the
``ReceiveStats`` of the stream Vaxel receives on it and optionally the
``RemoteStats`` fed from RTCP (round-trip time). ``update(now)`` returns
events:

- ``IntervalMos`` every ``interval`` seconds, computed with the G.107
  E-model over the last ``window`` seconds (sliding window);
- ``QualityWarning`` once when the window gives *evidence* that the
  connection is below ``warn_below``: the MOS of the connection alone (the
  leg's codec rated without listener concealment) at the one-sided lower
  confidence bound (Wilson, ``evidence_z``) of the window's loss rate is
  below the threshold. Chance clusters of a few losses on a good call do
  not warn; a bad call does within one or two intervals (docs/mos.md);
- ``QualityRecovered`` when the connection's MOS at the measured loss is
  back at ``warn_below + recover_margin`` or above for one interval (after
  which a new warning can follow).

``summary()`` gives the whole-call figures per leg for the call record.
Inputs of the E-model per window: packet loss = lost + discarded by the
simulated playout buffer (percent), BurstR from the 2-state Markov
transition counts, one-way delay Ta = RTT/2 + nominal buffer delay +
packetization + codec look-ahead, codec Ie/Bpl from G.113 Appendix I.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import asdict, dataclass, field

from media.concealment import connection_codec
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
    connection_mos: float | None = None
    evidence_mos: float | None = None


@dataclass(frozen=True, slots=True)
class QualityWarning:
    """The window gave evidence the leg's connection is below the threshold (sent once).

    mos: the interval (listener) MOS; evidence_mos: the connection's MOS at the
    lower confidence bound of the loss rate, which was below the threshold.
    """

    leg: str
    mos: float
    at: float
    evidence_mos: float | None = None


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
    connection: CodecImpairment
    start: StatsMark
    next_at: float
    marks: deque[tuple[float, StatsMark]]
    evidence_since: float = 0.0
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
    packet burst does not flip the warning on its own); evidence_z: the
    one-sided normal quantile of the loss-rate bound a warning needs
    (2.33: 99 %); evidence_window: seconds of history the bound also looks
    at besides the window (default three windows), so a bad call that one
    short window did not prove is caught at the next interval.
    """

    def __init__(
        self,
        codec: str = "PCMU",
        interval: float = 5.0,
        warn_below: float = 3.1,
        window: float | None = None,
        recover_margin: float = 0.1,
        evidence_z: float = 2.33,
        evidence_window: float | None = None,
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
        if evidence_z < 0:
            raise ValueError(f"QualityMonitor: evidence_z must be >= 0, got {evidence_z}")
        self.evidence_z = evidence_z
        self.evidence_window = 3.0 * window if evidence_window is None else evidence_window
        if self.evidence_window < window:
            raise ValueError(
                f"QualityMonitor: evidence_window ({self.evidence_window} s) must be at least "
                f"the window ({window} s)"
            )
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
            connection=codec_impairment(connection_codec(name)),
            start=start,
            next_at=now + self.interval,
            marks=deque([(now, start)]),
            evidence_since=now,
        )

    def set_codec(self, leg: str, codec: str) -> None:
        """The leg switched codec (re-INVITE): later estimates use its values."""
        state = self._leg(leg)
        state.codec = codec_impairment(codec)
        state.connection = codec_impairment(connection_codec(codec))
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
        while len(marks) > 1 and marks[1][0] <= now - self.evidence_window:
            marks.popleft()
        figures = leg.stats.figures_since(_mark_at(marks, now - self.window))
        # The longer evidence never reaches back before the last recovery (a past episode).
        since = max(now - self.evidence_window, leg.evidence_since)
        long = (
            leg.stats.figures_since(_mark_at(marks, since)) if since < now - self.window else None
        )
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
        connection = self._estimate(leg, figures, rtt_ms, codec=leg.connection)
        lower = _wilson_lower(figures.effective_loss, figures.decided, self.evidence_z)
        evidence = self._estimate(leg, figures, rtt_ms, codec=leg.connection, loss=lower)
        if long is not None and long.decided > figures.decided:
            lower = _wilson_lower(long.effective_loss, long.decided, self.evidence_z)
            longer = self._estimate(leg, long, rtt_ms, codec=leg.connection, loss=lower)
            if longer.mos < evidence.mos:
                evidence = longer
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
                connection_mos=connection.mos,
                evidence_mos=evidence.mos,
            )
        ]
        if not leg.warned and evidence.mos < self.warn_below:
            leg.warned = True
            leg.warnings += 1
            events.append(QualityWarning(name, est.mos, now, evidence.mos))
        elif leg.warned and connection.mos >= self.warn_below + self.recover_margin:
            leg.warned = False
            leg.evidence_since = now
            events.append(QualityRecovered(name, est.mos, now))
        return events

    def _estimate(
        self,
        leg: _Leg,
        figures: ReceiveFigures,
        rtt_ms: float | None,
        *,
        codec: CodecImpairment | None = None,
        loss: float | None = None,
    ) -> _Estimate:
        """E-model R and MOS of a window: the leg's rating unless ``codec``, measured loss
        unless ``loss`` (fraction)."""
        codec = leg.codec if codec is None else codec
        loss = figures.effective_loss if loss is None else loss
        ta = one_way_delay_ms(
            rtt_ms=rtt_ms,
            jitter_buffer_ms=leg.stats.playout_delay * 1000.0,
            codec=codec,
            packet_ms=figures.packet_ms,
        )
        details = r_factor_details(
            ie=codec.ie,
            bpl=codec.bpl,
            ppl=min(100.0, max(0.0, loss) * 100.0),
            burst_r=figures.burst.burst_ratio**codec.burst_weight,
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


def _wilson_lower(rate: float, n: int, z: float) -> float:
    """One-sided Wilson score lower bound of a proportion observed as ``rate`` in ``n`` trials."""
    if n <= 0 or rate <= 0.0:
        return 0.0
    z2 = z * z
    centre = rate + z2 / (2.0 * n)
    spread = z * math.sqrt(rate * (1.0 - rate) / n + z2 / (4.0 * n * n))
    return max(0.0, (centre - spread) / (1.0 + z2 / n))


def _mark_at(marks: deque[tuple[float, StatsMark]], since: float) -> StatsMark:
    """The latest mark taken at or before ``since`` (the oldest one if none is that old)."""
    found = marks[0][1]
    for at, mark in marks:
        if at > since:
            break
        found = mark
    return found
