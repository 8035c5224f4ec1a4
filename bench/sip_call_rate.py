"""SIPp call-rate run against `vaxel serve`: call set-ups per second with < 0.1 % failed.

    .venv/bin/python bench/sip_call_rate.py --rate 200 --calls 4000

Starts `vaxel serve` on the demo configuration (free ports, its own data dir), drives
SIPp's built-in uac at the given rate to queue number 100 (answer, welcome prompt,
BYE after --duration ms), and prints SIPp's counts and the achieved rate.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support import demo_toml_with, free_port  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rate", type=int, default=200)
    ap.add_argument("--calls", type=int, default=4000)
    ap.add_argument("--limit", type=int, default=400, help="max simultaneous calls")
    ap.add_argument("--duration", type=int, default=0, help="ms between ACK and BYE")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="vaxel-bench-"))
    text = demo_toml_with(tmp).replace('log_level = "info"', 'log_level = "warning"')
    # A wide RTP range: each call in progress holds a port pair.
    text = re.sub(r"port_min = \d+", "port_min = 30000", text)
    text = re.sub(r"port_max = \d+", "port_max = 39999", text)
    cfg = tmp / "bench.toml"
    cfg.write_text(text)
    sip_port = int(re.search(r"\[sip\][^\[]*?port = (\d+)", text, re.S).group(1))
    server_log = open(tmp / "server.log", "w")  # noqa: SIM115 - lives as long as the server
    server = subprocess.Popen(
        [sys.executable, "-m", "vaxel.cli", "serve", "--config", str(cfg)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=server_log,
        text=True,
    )
    try:
        server.stdout.readline()
        time.sleep(0.5)
        started = time.monotonic()
        res = subprocess.run(
            [
                "sipp",
                f"127.0.0.1:{sip_port}",
                "-sn",
                "uac",
                "-s",
                "100",
                "-i",
                "127.0.0.1",
                "-p",
                str(free_port()),
                "-r",
                str(args.rate),
                "-m",
                str(args.calls),
                "-l",
                str(args.limit),
                "-d",
                str(args.duration),
                "-timeout",
                "600s",
                "-nostdin",
                "-trace_stat",
                "-fd",
                "1",
            ],
            cwd=tmp,
            capture_output=True,
            text=True,
        )
        elapsed = time.monotonic() - started
    finally:
        server.terminate()
        server.wait(30)
    out = res.stdout
    ok = re.findall(r"Successful call\s*\|\s*\d+\s*\|\s*(\d+)", out)
    failed = re.findall(r"Failed call\s*\|\s*\d+\s*\|\s*(\d+)", out)
    succ, fail = int(ok[-1]) if ok else 0, int(failed[-1]) if failed else 0
    print(
        f"rate asked {args.rate}/s, calls {args.calls}, limit {args.limit},"
        f" duration {args.duration} ms"
    )
    print(f"successful {succ}, failed {fail} ({100 * fail / max(1, succ + fail):.3f} %)")
    print(f"wall time {elapsed:.1f} s -> {succ / elapsed:.1f} completed calls/s")
    print(f"sipp exit code {res.returncode}; server log: {tmp / 'server.log'}")
    return 0 if fail * 1000 <= succ + fail else 1


if __name__ == "__main__":
    sys.exit(main())
