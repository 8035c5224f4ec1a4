"""Run the benchmarks with the commands ``bench/RESULTS.md`` reports (``make bench``).

    .venv/bin/python bench/run_all.py             # all, one after the other
    .venv/bin/python bench/run_all.py --list      # names and commands
    .venv/bin/python bench/run_all.py rtpstats_cost sip_parse

Each benchmark runs as its own process with the arguments of its RESULTS.md section and
prints its own table; nothing here writes RESULTS.md (a person reads the numbers, the load
of the machine and the run-to-run spread before they go there). The exit code is the
number of benchmarks that failed. Slow ones (``moh_load``, ``sip_call_rate``: SIPp, minutes)
run last; ``mos_validation`` needs the bench extra (``pip install -e .[bench]``).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# name -> arguments, as in the headings of bench/RESULTS.md; quick ones first.
BENCHMARKS: dict[str, list[str]] = {
    "sip_parse": [],
    "rtpstats_cost": ["--repeat", "5"],
    "acd_sim": [],
    "media_streams": ["--streams", "100", "500", "1000", "--seconds", "10"],
    "mos_validation": [],
    "sip_call_rate": ["--rate", "200", "--calls", "4000"],
    "moh_load": ["--steps", "100,250,500,750"],
}


def command(name: str) -> list[str]:
    return [sys.executable, f"bench/{name}.py", *BENCHMARKS[name]]  # run from ROOT


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("names", nargs="*", help=f"some of: {', '.join(BENCHMARKS)}")
    ap.add_argument("--list", action="store_true", help="print the commands and stop")
    args = ap.parse_args()
    unknown = [n for n in args.names if n not in BENCHMARKS]
    if unknown:
        ap.error(f"unknown benchmark {', '.join(unknown)}; known: {', '.join(BENCHMARKS)}")
    names = args.names or list(BENCHMARKS)
    if args.list:
        for name in names:
            print(f"{name}: {' '.join(command(name)[1:])}")
        return 0
    failed = []
    for name in names:
        print(f"\n## {name}: {' '.join(command(name)[1:])}", flush=True)
        start = time.monotonic()
        rc = subprocess.run(command(name), cwd=ROOT).returncode
        print(f"-- {name}: exit {rc} after {time.monotonic() - start:.0f} s", flush=True)
        if rc:
            failed.append(name)
    if failed:
        print(f"\nfailed: {', '.join(failed)}", file=sys.stderr)
    return len(failed)


if __name__ == "__main__":
    sys.exit(main())
