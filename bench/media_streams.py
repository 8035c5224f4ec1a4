"""Benchmark: N concurrent outgoing G.711 streams from one process, one media clock.

Each stream is a real MediaLeg (own even RTP port + RTCP port) playing a looped prompt
(music on hold) to one sink UDP socket on 127.0.0.1 that nobody reads (the kernel drops
overflow). Reports CPU seconds per stream-second, the p50/p99/max error of send times
against each stream's 20 ms grid, and memory per call (RSS and tracemalloc deltas).

    .venv/bin/python bench/media_streams.py --streams 100 500 1000 --seconds 10
"""

from __future__ import annotations

import argparse
import asyncio
import math
import resource
import socket
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np
import soundfile as sf

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from media import MediaEngine  # noqa: E402


def rss_kib() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def raise_fd_limit(streams: int) -> None:
    """Two sockets per stream, plus room for the rest of the process."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    need = 2 * streams + 100
    if soft < need:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(need, hard), hard))


def write_prompt(directory: Path) -> Path:
    """A 3 s 440 Hz tone as the looped prompt (music on hold)."""
    prompt = directory / "moh.wav"
    t = np.arange(8000 * 3) / 8000
    sf.write(str(prompt), 0.3 * np.sin(2 * np.pi * 440 * t), 8000, subtype="PCM_16")
    return prompt


async def run(
    n: int, seconds: float, prompt: Path, port_min: int, *, memory: bool = True
) -> dict[str, float]:
    """Measure ``n`` streams; ``memory=False`` skips the RSS and tracemalloc figures (NaN)."""
    sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sink.bind(("127.0.0.1", 0))
    sink_port = sink.getsockname()[1]
    engine = MediaEngine(
        "127.0.0.1", port_min, port_min + 2 * n + 200, prompt_dir=prompt.parent, no_rtp_timeout=None
    )
    await engine.start()
    engine.prompt_cache.get(prompt, "PCMU")  # warm the cache: measure calls, not decoding
    rss0 = rss_kib()
    if memory:
        tracemalloc.start()
        snap0 = tracemalloc.take_snapshot()
    legs = []
    for _ in range(n):
        leg = await engine.open_leg()
        leg.set_remote("127.0.0.1", sink_port)
        legs.append(leg)
    mem_traced = math.nan
    if memory:
        snap1 = tracemalloc.take_snapshot()
        tracemalloc.stop()
        mem_traced = sum(s.size_diff for s in snap1.compare_to(snap0, "filename"))
    plays = [asyncio.create_task(leg.play([prompt], loop=True)) for leg in legs]
    await asyncio.sleep(1.0)  # settle
    rss1 = rss_kib() if memory else math.nan
    errors: list[float] = []
    packets = 0

    def probe(grid: float, first: float, last: float, count: int) -> None:
        # The first and the last packet of each sub-tick batch: the extremes of its errors.
        nonlocal packets
        packets += count
        errors.append(first - grid)
        errors.append(last - grid)

    engine.send_probe = probe
    skipped0 = sum(leg.stats.frames_skipped for leg in legs)
    cpu0 = time.process_time()
    wall0 = time.monotonic()
    await asyncio.sleep(seconds)
    cpu = time.process_time() - cpu0
    wall = time.monotonic() - wall0
    engine.send_probe = None
    for t in plays:
        t.cancel()
    await asyncio.gather(*plays, return_exceptions=True)
    await engine.close()
    sink.close()
    err = np.abs(np.array(errors)) * 1000
    return {
        "streams": n,
        "packets_per_s": packets / wall,
        "expected_per_s": n * 50.0,
        "cpu_per_stream_s": cpu / (n * wall),
        "cpu_cores": cpu / wall,
        "err_p50_ms": float(np.percentile(err, 50)),
        "err_p99_ms": float(np.percentile(err, 99)),
        "err_max_ms": float(err.max()),
        "rss_per_call_kib": (rss1 - rss0) / n,
        "traced_per_call_kib": mem_traced / n / 1024,
        "skipped_frames": sum(leg.stats.frames_skipped for leg in legs) - skipped0,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--streams", type=int, nargs="+", default=[100, 500, 1000])
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--port-min", type=int, default=40000)
    args = ap.parse_args()
    raise_fd_limit(max(args.streams))
    with tempfile.TemporaryDirectory() as tmp:
        prompt = write_prompt(Path(tmp))
        head = f"{'streams':>8} {'pkt/s':>9} {'cpu/stream-s':>13} {'cores':>6} {'p50 ms':>7} "
        head += f"{'p99 ms':>7} {'max ms':>7} {'RSS KiB/call':>13} {'traced KiB/call':>16}"
        print(head + f" {'skipped':>8}")
        for n in args.streams:
            r = asyncio.run(run(n, args.seconds, prompt, args.port_min))
            print(
                f"{r['streams']:>8} {r['packets_per_s']:>9.0f} {r['cpu_per_stream_s']:>13.6f} "
                f"{r['cpu_cores']:>6.3f} {r['err_p50_ms']:>7.3f} {r['err_p99_ms']:>7.3f} "
                f"{r['err_max_ms']:>7.3f} {r['rss_per_call_kib']:>13.1f} "
                f"{r['traced_per_call_kib']:>16.1f} {r['skipped_frames']:>8}",
                flush=True,
            )


if __name__ == "__main__":
    main()
