"""Probe for issue 7: would batching the receive statistics with numpy get them under 2 %?

A lower bound, not an implementation: per packet only queue (seq, timestamp, arrival, ssrc,
clock rate), and at the consumers' cadence (the RTCP report, the quality watch: about two
reads per leg per 5 s) do the vectorised work of the easiest case only - every packet the
next one, one source, jitter by ``scipy.signal.lfilter`` (not bit-exact), playout check and
on-time count - with none of the exact fallbacks a real version needs. Same 1,000
interleaved streams x 50 packets/s, 1 % loss, as ``bench/rtpstats_cost.py``; CPU time, best
of ``--repeat``, minus the benchmark's own loop.

Run: .venv/bin/python bench/rtpstats_batch_probe.py [--streams 1000] [--seconds 10]
"""

from __future__ import annotations

import argparse
import time
from array import array
from collections.abc import Callable

import numpy as np
from scipy.signal import lfilter

from bench.rtpstats_cost import PPS, make_packets, run_baseline

_B = np.array([1.0 / 16.0])
_A = np.array([1.0, -15.0 / 16.0])


class ListQueue:
    """The cheapest per-packet step in CPython: a tuple appended to a list."""

    __slots__ = ("pending",)

    def __init__(self) -> None:
        self.pending: list[tuple[int, int, float, int, int]] = []

    def on_packet(
        self, seq: int, ts: int, arrival: float, ssrc: int, clock_rate: int = 8000
    ) -> None:
        self.pending.append((seq, ts, arrival, ssrc, clock_rate))

    def drain(self) -> None:
        self.pending = []


class NumpyBatch:
    """Queue into an ``array('d')`` (numpy reads it without a copy), vectorise on drain."""

    __slots__ = ("buf", "ext", "jitter", "jitter_max", "found", "transit")

    def __init__(self) -> None:
        self.buf = array("d")
        self.ext = 0
        self.jitter = self.jitter_max = self.transit = 0.0
        self.found = 0

    def on_packet(
        self, seq: int, ts: int, arrival: float, ssrc: int, clock_rate: int = 8000
    ) -> None:
        self.buf.extend((seq, ts, arrival, ssrc, clock_rate))

    def drain(self) -> None:
        if not self.buf:
            return
        a = np.frombuffer(self.buf, dtype=np.float64).reshape(-1, 5)
        seq = a[:, 0].astype(np.int64)
        ts, arr, ssrc, rate = a[:, 1], a[:, 2], a[:, 3], a[:, 4]
        n = len(seq)
        # The checks that decide whether the easy case applies.
        np.array_equal(seq, (self.ext + 1 + np.arange(n)) & 0xFFFF)
        bool(ssrc.min() == ssrc.max()) and bool(rate.min() == rate.max())
        transit = arr * rate - ts
        d = np.abs(np.diff(transit, prepend=self.transit))
        d = np.where(d > 2147483648.0, 4294967296.0 - d, d)
        j, _ = lfilter(_B, _A, d, zi=np.array([self.jitter * 15.0 / 16.0]))
        dts = ts.astype(np.int64) & 0xFFFFFFFF
        dts = np.where(dts >= 0x80000000, dts - 0x100000000, dts)
        on_time = arr <= 0.06 + dts * (1.0 / 8000.0)
        self.found += int(np.count_nonzero(on_time))
        self.ext += n
        self.jitter = float(j[-1])
        self.jitter_max = max(self.jitter_max, float(j.max()))
        self.transit = float(transit[-1])
        del a
        self.buf = array("d")


def run(steps: list[list[tuple]], streams: int, cls: type, drain_every: int) -> float:
    legs = [cls() for _ in range(streams)]
    calls = [leg.on_packet for leg in legs]
    due: list[list[Callable[[], None]]] = [[] for _ in range(drain_every)]
    for s, leg in enumerate(legs):
        due[s % drain_every].append(leg.drain)  # staggered, as the legs' timers are
    t0 = time.process_time()
    for i, row in enumerate(steps):
        for s, seq, ts, arr in row:
            calls[s](seq, ts, arr, 1000 + s)
        for drain in due[i % drain_every]:
            drain()
    for leg in legs:
        leg.drain()
    return time.process_time() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--streams", type=int, default=1000)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    steps = make_packets(args.streams, args.seconds)
    n = sum(len(r) for r in steps)
    rate = args.streams * PPS
    base = min(run_baseline(steps, args.streams) for _ in range(args.repeat))
    print(f"{args.streams} streams x {PPS} packets/s, {n} packets, best of {args.repeat}")
    print("| case | us per packet | share of one core at this load |")
    print("|---|---:|---:|")
    for name, cls, every in (
        ("queue only: list.append of a tuple", ListQueue, 125),
        ("numpy batch, drained every 2.5 s", NumpyBatch, 125),
        ("numpy batch, drained every 5 s", NumpyBatch, 250),
    ):
        best = min(run(steps, args.streams, cls, every) for _ in range(args.repeat))
        per = (best - base) / n
        print(f"| {name} | {per * 1e6:.3f} | {per * rate * 100:.2f} % |")


if __name__ == "__main__":
    main()
