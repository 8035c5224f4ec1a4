"""Cost of the voice-quality statistics on the media path at N streams (issue 7 aim: < 2 %
of one media thread at 1,000 streams of 50 packets/s).

Measures, per received packet, on interleaved streams (every stream gets its next packet in
turn, as the receive path sees them) with 1 % random loss and 0-20 ms jitter, minus the
benchmark's own loop:

- ``on_packet``: ``ReceiveStats.on_packet``, which ``MediaLeg`` calls for every packet
  (accounts it completely: nothing is deferred), with its per-packet part compiled
  (``media/_rtpstats_core.c``), beside its pure Python twin and the per-packet reference
  all must equal (the code before the fast path, ``tests/media/rtpstats_reference.py``);
- ``+ quality monitor``: plus the per-call ``CallQualityWatch.poll`` every interval
  (E-model over the sliding window), spread over the packets of the interval;
- ``RtpSession.receive``: the whole receive path of a datagram (parse, checks, latching,
  statistics) with either implementation, to show the statistics' share of it.

Run: .venv/bin/python bench/rtpstats_cost.py [--streams 1000] [--seconds 10] [--interval 5]
"""

from __future__ import annotations

import argparse
import random
import struct
import sys
import time
from pathlib import Path

from media.quality_watch import CallQualityWatch
from media.rtp import RtpSession
from media.rtpstats import COMPILED, PurePythonReceiveStats, ReceiveStats

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.media.rtpstats_reference import ReferenceReceiveStats  # noqa: E402

PPS = 50  # 20 ms G.711 packets


def make_packets(streams: int, seconds: float, seed: int = 1) -> list[list[tuple]]:
    """Per time step, one (stream, seq, ts, arrival) per stream (lost ones left out)."""
    rng = random.Random(seed)
    steps = []
    for i in range(int(seconds * PPS)):
        t = i / PPS
        row = []
        for s in range(streams):
            if i > 2 and rng.random() < 0.01:
                continue
            row.append(
                (s, ((s * 7919 + i) & 0xFFFF), (i * 160) & 0xFFFFFFFF, t + rng.uniform(0, 0.02))
            )
        steps.append(row)
    return steps


def run_baseline(steps: list[list[tuple]], streams: int) -> float:
    """The benchmark's own loop (iterate, unpack), subtracted from every case."""
    sink = [0] * streams
    t0 = time.process_time()
    for row in steps:
        for s, _seq, _ts, _arr in row:
            sink[s]
    return time.process_time() - t0


def run_on_packet(steps: list[list[tuple]], streams: int, cls: type = ReceiveStats) -> float:
    stats = [cls() for _ in range(streams)]
    calls = [st.on_packet for st in stats]
    t0 = time.process_time()
    for row in steps:
        for s, seq, ts, arr in row:
            calls[s](seq, ts, arr, 1000 + s)
    return time.process_time() - t0


def run_with_monitor(
    steps: list[list[tuple]], streams: int, interval: float, cls: type = ReceiveStats
) -> float:
    stats = [cls() for _ in range(streams)]
    calls = [st.on_packet for st in stats]
    watches = []
    for s, st in enumerate(stats):
        w = CallQualityWatch(f"c{s}", interval=interval)
        w.add_leg("caller", st, 0.0)
        watches.append(w)
    every = int(interval * PPS)
    t0 = time.process_time()
    for i, row in enumerate(steps):
        for s, seq, ts, arr in row:
            calls[s](seq, ts, arr, 1000 + s)
        if (i + 1) % every == 0:
            now = (i + 1) / PPS
            for w in watches:
                w.poll(now, now)
    return time.process_time() - t0


def run_session(steps: list[list[tuple]], streams: int, cls: type = ReceiveStats) -> float:
    """``RtpSession.receive`` (parse, checks, latching, statistics) on real datagrams."""
    sessions = []
    for _ in range(streams):
        sess = RtpSession()
        sess.set_remote("127.0.0.1", 4000)
        sess.stats = cls()
        sessions.append(sess.receive)
    addr = ("127.0.0.1", 4000)
    payload = bytes(160)
    pack = struct.Struct("!BBHII").pack
    datagrams = [
        [(s, pack(0x80, 0, seq, ts, 1000 + s) + payload, arr) for s, seq, ts, arr in row]
        for row in steps
    ]
    t0 = time.process_time()
    for row in datagrams:
        for s, data, arr in row:
            sessions[s](data, addr, arr)
    return time.process_time() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--streams", type=int, default=1000)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--interval", type=float, default=5.0)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--no-session", action="store_true", help="skip the RtpSession cases")
    args = ap.parse_args()
    steps = make_packets(args.streams, args.seconds)
    n = sum(len(r) for r in steps)
    rate = args.streams * PPS  # packets per second received at this many streams
    ref, py = ReferenceReceiveStats, PurePythonReceiveStats
    cases = {
        "on_packet, per-packet reference": lambda: run_on_packet(steps, args.streams, ref),
        "on_packet, pure Python": lambda: run_on_packet(steps, args.streams, py),
        "on_packet, compiled core": lambda: run_on_packet(steps, args.streams),
        "+ quality monitor, pure Python": lambda: run_with_monitor(
            steps, args.streams, args.interval, py
        ),
        "+ quality monitor, compiled core": lambda: run_with_monitor(
            steps, args.streams, args.interval
        ),
    }
    if not COMPILED:
        sys.exit("media._rtpstats_core is not built: run `make test` (needs a C compiler)")
    print(f"{args.streams} streams x {PPS} packets/s, {n} packets, best of {args.repeat}")
    print("| case | us per packet | share of one core at this load |")
    print("|---|---:|---:|")
    base = min(run_baseline(steps, args.streams) for _ in range(args.repeat))
    for name, fn in cases.items():
        best = min(fn() for _ in range(args.repeat))
        per = (best - base) / n
        print(f"| {name} | {per * 1e6:.3f} | {per * rate * 100:.2f} % |")
    if args.no_session:
        return
    # Whole receive path of a datagram (2 s of packets: memory).
    steps.clear()  # free the memory before the datagram benchmark
    short = make_packets(args.streams, 2.0)
    m = sum(len(r) for r in short)
    base = min(run_baseline(short, args.streams) for _ in range(args.repeat))
    for name, cls in (
        ("RtpSession.receive, pure Python statistics", py),
        ("RtpSession.receive, compiled core", ReceiveStats),
    ):
        best = min(run_session(short, args.streams, cls) for _ in range(args.repeat))
        per = (best - base) / m
        print(f"| {name} | {per * 1e6:.3f} | {per * rate * 100:.2f} % |")


if __name__ == "__main__":
    main()
