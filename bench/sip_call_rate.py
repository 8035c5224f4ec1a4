"""SIPp call-rate run against `vaxel serve`: call set-ups per second with < 0.1 % failed,
and the server's CPU time per call (user + system, from /proc, INVITE to BYE).

    .venv/bin/python bench/sip_call_rate.py --rate 200 --calls 4000
    .venv/bin/python bench/sip_call_rate.py --ab OTHER_CHECKOUT --repeat 3   # interleaved A/B

Starts `vaxel serve` on the demo configuration (free ports, its own data dir), drives
SIPp's built-in uac at the given rate to queue number 100 (answer, welcome prompt,
BYE after --duration ms), and prints SIPp's counts and the achieved rate.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
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
    ap.add_argument("--root", type=Path, default=ROOT, help="checkout whose server to run")
    ap.add_argument("--ab", type=Path, help="another checkout: runs both, interleaved")
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--profile", type=Path, help="record the server with py-spy (raw stacks)")
    args = ap.parse_args()
    if args.ab is None:
        return max(run_once(args, args.root)[2] for _ in range(args.repeat))
    per_call: dict[str, list[float]] = {"this": [], "other": []}
    for _ in range(args.repeat):
        for name, root in (("other", args.ab), ("this", ROOT)):
            cpu_ms, rate, _ = run_once(args, root)
            per_call[name].append(cpu_ms)
    for name, values in per_call.items():
        values.sort()
        print(f"{name}: CPU per call, median of {len(values)}: {values[len(values) // 2]:.2f} ms")
    return 0


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_once(args: argparse.Namespace, root: Path) -> tuple[float, float, int]:
    """(server CPU ms per successful call, completed calls/s, exit code)."""
    tmp = Path(tempfile.mkdtemp(prefix="vaxel-bench-"))
    text = demo_toml_with(tmp).replace('log_level = "info"', 'log_level = "warning"')
    # SIPp on 127.0.0.1 is the load, not an attacker: exempt from the per-source limits
    # (for a checkout that has them; an older one would refuse the table).
    if "class SecurityConfig" in (root / "config" / "schema.py").read_text():
        text += '\n[security]\ntrusted = ["127.0.0.1"]\n'
    # A wide RTP range: each call in progress holds a port pair.
    text = re.sub(r"port_min = \d+", "port_min = 30000", text)
    text = re.sub(r"port_max = \d+", "port_max = 39999", text)
    cfg = tmp / "bench.toml"
    cfg.write_text(text)
    sip_port = int(re.search(r"\[sip\][^\[]*?port = (\d+)", text, re.S).group(1))
    server_log = open(tmp / "server.log", "w")  # noqa: SIM115 - lives as long as the server
    cmd = [sys.executable, "-m", "vaxel.cli", "serve", "--config", str(cfg)]
    if args.profile is not None:  # CPU figures then include py-spy's own (its child's pid)
        spy = Path(sys.executable).parent / "py-spy"
        cmd = [str(spy), "record", "-r", "250", "-f", "raw", "-o", str(args.profile), "--", *cmd]
    server = subprocess.Popen(
        cmd,
        cwd=root,
        stdout=subprocess.PIPE,
        stderr=server_log,
        text=True,
    )
    try:
        server.stdout.readline()
        time.sleep(0.5)
        cpu_before = _cpu_seconds(server.pid)
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
        cpu = _cpu_seconds(server.pid) - cpu_before
    finally:
        server.send_signal(signal.SIGINT)  # py-spy writes its profile on SIGINT
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
    cpu_ms = 1000 * cpu / max(1, succ)
    print(f"server CPU {cpu:.2f} s -> {cpu_ms:.2f} ms per call ({root})")
    print(f"sipp exit code {res.returncode}; server log: {tmp / 'server.log'}")
    return cpu_ms, succ / elapsed, 0 if fail * 1000 <= succ + fail else 1


if __name__ == "__main__":
    sys.exit(main())
