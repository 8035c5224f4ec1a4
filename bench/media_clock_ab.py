"""A/B of the media clock between two checkouts, interleaved, on a shared machine.

The measurement of bench/media_streams.py (N looping MediaLegs to one sink, send_probe:
the first and last packet of each sub-tick batch against the grid) without its memory
snapshots, with ``media`` imported from the checkout given, so runs of two versions can
alternate within minutes under the same background load:

    git archive OLD | tar -x -C /tmp/old
    for i in 1 2 3; do .venv/bin/python bench/media_clock_ab.py /tmp/old; \
                       .venv/bin/python bench/media_clock_ab.py .; done
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import os
import sys
import tempfile
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("checkout", type=Path, help="repository root whose media/ is measured")
    ap.add_argument("--streams", type=int, default=1000)
    ap.add_argument("--seconds", type=float, default=8.0)
    ap.add_argument("--port-min", type=int, default=40000)
    args = ap.parse_args()
    root = args.checkout.resolve()
    sys.path.insert(0, str(root))
    importlib.import_module("media")  # the checkout's, before media_streams imports it
    from media_streams import raise_fd_limit, run, write_prompt

    raise_fd_limit(args.streams)
    with tempfile.TemporaryDirectory() as tmp:
        prompt = write_prompt(Path(tmp))
        r = asyncio.run(run(args.streams, args.seconds, prompt, args.port_min, memory=False))
    print(
        f"{root}: streams {args.streams} pkt/s {r['packets_per_s']:.0f} "
        f"cores {r['cpu_cores']:.3f} p50 {r['err_p50_ms']:.3f} p99 {r['err_p99_ms']:.3f} "
        f"max {r['err_max_ms']:.3f} ms load {os.getloadavg()[0]:.2f}",
        flush=True,
    )


if __name__ == "__main__":
    main()
