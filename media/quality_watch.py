"""Voice quality of one live call: interval MOS per leg, warning events, the stored summary.

``CallQualityWatch`` is pure (``now`` and wall time are passed in): it wraps a
``media.quality.QualityMonitor`` over the legs' receive statistics and turns its
warnings into event-hub dicts naming the call, the agent and the leg with the figures.
``run_watch`` is the thin asyncio loop the controller starts per call.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from media.concealment import Concealment, EndpointHints, choose_concealment, rating_codec
from media.quality import IntervalMos, QualityMonitor, QualityRecovered, QualityWarning
from media.rtpstats import ReceiveStats, RemoteStats

WARNING = "call_quality_warning"
RECOVERED = "call_quality_recovered"
MAX_SERIES = 720  # interval MOS values kept per leg on the call record (1 h at 5 s)


def quality_codec(codec: str, plc: bool | None, listener: EndpointHints | None = None) -> str:
    """The ``media.emodel.CODECS`` entry a leg is rated with.

    ``plc``: the ``[rtp] mos_plc`` override (None: decide from ``listener``, the
    endpoint that plays the leg's audio; see ``media.concealment``).
    """
    return rating_codec(codec, choose_concealment(codec, listener, override=plc))


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat()


def _r(x: float | None, digits: int = 2) -> float | None:
    return None if x is None else round(x, digits)


def _figures(m: IntervalMos) -> dict[str, Any]:
    """One interval's estimate as the live view and the events show it."""
    return {
        "mos": round(m.mos, 2),
        "r": round(m.r, 1),
        "loss_pct": round(m.loss * 100.0, 2),
        "jitter_ms": round(m.jitter_ms, 1),
        "rtt_ms": _r(m.rtt_ms, 1),
    }


class CallQualityWatch:
    """Interval MOS and warnings for the legs of one call (sans-IO)."""

    def __init__(
        self,
        call_id: str,
        *,
        interval: float = 5.0,
        warn_below: float = 3.1,
        plc: bool | None = None,
        agent: str | None = None,
    ) -> None:
        self.call_id = call_id
        self.agent = agent
        self.plc = plc
        self.monitor = QualityMonitor(
            codec=quality_codec("PCMU", plc), interval=interval, warn_below=warn_below
        )
        self._codec: dict[str, str] = {}
        self._concealment: dict[str, Concealment] = {}
        self.latest: dict[str, IntervalMos] = {}
        self.series: dict[str, list[list[float]]] = {}
        self._started: dict[str, float] = {}
        self._warned: set[str] = set()
        self._on_mos: dict[str, Callable[[float, float], None]] = {}
        self._remote: dict[str, RemoteStats] = {}

    @property
    def interval(self) -> float:
        return self.monitor.interval

    @property
    def warn_below(self) -> float:
        return self.monitor.warn_below

    def add_leg(
        self,
        leg: str,
        stats: ReceiveStats,
        now: float,
        *,
        remote: RemoteStats | None = None,
        codec: str = "PCMU",
        on_mos: Callable[[float, float], None] | None = None,
        listener: EndpointHints | None = None,
    ) -> None:
        """Start estimating a leg (the caller at once, the agent when bridged).

        ``on_mos(r, mos)`` gets each interval estimate (the leg puts it in its RTCP XR).
        ``listener``: what is known of the endpoint that plays this leg's audio (None:
        the calibrated default, a listener that conceals loss).
        """
        if leg in self.series:
            return  # one leg per name for the whole call
        if on_mos is not None:
            self._on_mos[leg] = on_mos
        if remote is not None:
            self._remote[leg] = remote
        decision = choose_concealment(codec, listener, override=self.plc)
        self._codec[leg] = codec
        self._concealment[leg] = decision
        self.monitor.add_leg(leg, stats, now, remote=remote, codec=rating_codec(codec, decision))
        self.series[leg] = []
        self._started[leg] = now

    def set_listener(self, leg: str, listener: EndpointHints | None) -> None:
        """The endpoint that plays ``leg``'s audio is now known (e.g. the agent's phone once
        bridged): later estimates and the whole-call figures use its concealment."""
        if leg not in self._codec:
            return
        decision = choose_concealment(self._codec[leg], listener, override=self.plc)
        self._concealment[leg] = decision
        self.monitor.set_codec(leg, rating_codec(self._codec[leg], decision))

    def next_deadline(self) -> float | None:
        return self.monitor.next_deadline()

    def poll(self, now: float, wall: float) -> list[dict[str, Any]]:
        """Run the intervals due at ``now``; returns the events to publish."""
        out: list[dict[str, Any]] = []
        for ev in self.monitor.update(now):
            if isinstance(ev, IntervalMos):
                self.latest[ev.leg] = ev
                series = self.series[ev.leg]
                if len(series) < MAX_SERIES:
                    series.append([round(now - self._started[ev.leg], 1), round(ev.mos, 2)])
                hook = self._on_mos.get(ev.leg)
                if hook is not None:
                    hook(ev.r, ev.mos)
            elif isinstance(ev, QualityWarning):
                self._warned.add(ev.leg)
                out.append(self._event(WARNING, ev.leg, wall))
            elif isinstance(ev, QualityRecovered):
                self._warned.discard(ev.leg)
                out.append(self._event(RECOVERED, ev.leg, wall))
        return out

    def live(self) -> dict[str, dict[str, Any]]:
        """The latest interval estimate per leg, for the live-calls view."""
        return {
            leg: {**_figures(m), "warning": leg in self._warned} for leg, m in self.latest.items()
        }

    def close(self, wall: float) -> list[dict[str, Any]]:
        """The call ended: an all-clear (``call_ended``) for each leg still warned."""
        out = [{**self._event(RECOVERED, leg, wall), "call_ended": True} for leg in self._warned]
        self._warned.clear()
        return out

    def _event(self, kind: str, leg: str, wall: float) -> dict[str, Any]:
        m = self.latest[leg]  # the interval that caused it comes first in the same update
        return {
            "type": kind,
            "call_id": self.call_id,
            "agent": self.agent,
            "leg": leg,
            **_figures(m),
            "threshold": self.warn_below,
            "burst_ratio": round(m.burst_ratio, 2),
            "evidence_mos": _r(m.evidence_mos),
            "at": _iso(wall),
        }

    def summary(self) -> tuple[float | None, dict[str, Any]]:
        """(call MOS, per-leg figures) for the call record.

        The call's MOS is the worst leg's whole-call MOS: one bad direction is a bad call.
        """
        legs = self.monitor.summary().to_dict()
        for name, fig in legs.items():
            fig["interval_mos"] = self.series.get(name, [])
            fig["far_end"] = far_end(self._remote.get(name))
            decision = self._concealment.get(name)
            if decision is not None:
                fig["concealment"] = {"conceals": decision.conceals, "reason": decision.reason}
        values = [float(f["mos"]) for f in legs.values() if f["mos"] is not None]  # type: ignore[arg-type]
        mos = min(values) if values else None
        return mos, {"legs": legs, "interval_s": self.interval, "warn_below": self.warn_below}


def far_end(remote: RemoteStats | None) -> dict[str, Any] | None:
    """What the peer's RTCP said about the stream Vaxel sends on a leg (None: no report)."""
    if remote is None or remote.updated_at is None:
        return None
    out: dict[str, Any] = {
        "loss_pct": None if remote.fraction_lost is None else round(remote.fraction_lost * 100, 2),
        "cumulative_lost": remote.cumulative_lost,
        "jitter_ms": _r(remote.jitter_ms),
        "rtt_ms": _r(remote.rtt_ms),
        "xr": None,
    }
    m = remote.voip_metrics
    if m is not None:
        out["xr"] = {
            "loss_pct": round(m.loss_rate * 100, 2),
            "discard_pct": round(m.discard_rate * 100, 2),
            "burst_density": round(m.burst_density, 3),
            "round_trip_delay_ms": m.round_trip_delay_ms,
            "end_system_delay_ms": m.end_system_delay_ms,
            "r_factor": m.r_factor,
            "mos_lq": m.mos_lq,
            "mos_cq": m.mos_cq,
        }
    return out


async def run_watch(watch: CallQualityWatch, publish: Callable[[dict], None]) -> None:
    """Wake at each interval deadline and publish warnings until cancelled."""
    loop = asyncio.get_running_loop()
    while True:
        deadline = watch.next_deadline()
        delay = watch.interval if deadline is None else deadline - loop.time()
        await asyncio.sleep(max(0.0, delay))
        for event in watch.poll(loop.time(), time.time()):
            publish(event)
