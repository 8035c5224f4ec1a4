"""A/B of the media clock between two checkouts, interleaved, on a shared machine.

The measurement of bench/media_streams.py (N looping MediaLegs to one sink, send_probe:
the first and last packet of each sub-tick batch against the grid) without its memory
snapshots, imported from the checkout given, so runs of two versions can alternate within
minutes under the same background load:

    git archive OLD | tar -x -C /tmp/old
    for i in 1 2 3; do .venv/bin/python bench/media_clock_ab.py /tmp/old; \
                       .venv/bin/python bench/media_clock_ab.py .; done
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import socket
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf


async def run(n: int, seconds: float, prompt: Path, port_min: int) -> str:
    from media import MediaEngine

    sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sink.bind(("127.0.0.1", 0))
    engine = MediaEngine(
        "127.0.0.1", port_min, port_min + 2 * n + 200, prompt_dir=prompt.parent, no_rtp_timeout=None
    )
    await engine.start()
    legs = []
    for _ in range(n):
        leg = await engine.open_leg()
        leg.set_remote("127.0.0.1", sink.getsockname()[1])
        legs.append(leg)
    plays = [asyncio.create_task(leg.play([prompt], loop=True)) for leg in legs]
    await asyncio.sleep(1.0)
    batches: list[tuple[float, float, float, int]] = []
    engine.send_probe = lambda g, f, last, c: batches.append((g, f, last, c))
    cpu0, wall0 = time.process_time(), time.monotonic()
    await asyncio.sleep(seconds)
    cpu, wall = time.process_time() - cpu0, time.monotonic() - wall0
    engine.send_probe = None
    for t in plays:
        t.cancel()
    await asyncio.gather(*plays, return_exceptions=True)
    await engine.close()
    sink.close()
    a = np.array(batches)
    err = np.abs(np.concatenate([a[:, 1] - a[:, 0], a[:, 2] - a[:, 0]])) * 1000
    return (
        f"streams {n} pkt/s {a[:, 3].sum() / wall:.0f} cores {cpu / wall:.3f} "
        f"p50 {np.percentile(err, 50):.3f} p99 {np.percentile(err, 99):.3f} "
        f"max {err.max():.3f} ms load {os.getloadavg()[0]:.2f}"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("checkout", type=Path, help="repository root whose media/ is measured")
    ap.add_argument("--streams", type=int, default=1000)
    ap.add_argument("--seconds", type=float, default=8.0)
    ap.add_argument("--port-min", type=int, default=40000)
    args = ap.parse_args()
    root = args.checkout.resolve()
    sys.path.insert(0, str(root))
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < 2 * args.streams + 100:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(2 * args.streams + 100, hard), hard))
    with tempfile.TemporaryDirectory() as tmp:
        prompt = Path(tmp) / "moh.wav"
        t = np.arange(8000 * 3) / 8000
        sf.write(str(prompt), 0.3 * np.sin(2 * np.pi * 440 * t), 8000, subtype="PCM_16")
        line = asyncio.run(run(args.streams, args.seconds, prompt, args.port_min))
    print(f"{root}: {line}", flush=True)


if __name__ == "__main__":
    main()
