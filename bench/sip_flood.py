"""A legitimate caller's answer time while one address floods INVITEs, and the server's memory.

    .venv/bin/python bench/sip_flood.py --rate 500 --seconds 20
    .venv/bin/python bench/sip_flood.py --rate 500 --seconds 20 --sources 2000   # spread out
    .venv/bin/python bench/sip_flood.py --security-off ...                     # the A side

Starts `vaxel serve` on the demo configuration (free ports, its own data dir). Phase 1
(baseline): the caller at 127.0.0.1 places --calls calls, one after another (INVITE to
queue number 100, 200, ACK, BYE). Phase 2: a flooder sends --rate INVITEs a second, never
ACKed, from 127.0.0.2 (or round-robin from --sources addresses 127.1.x.y, each under the
per-source limit: the guard's tables under a spoofed-looking flood), while the caller
keeps calling. Prints the answer times (median, 95th percentile, max, unanswered) of both
phases, the server's RSS (VmRSS, VmHWM from /proc) before and after, and `uptime`.
Run it in a loopback namespace to keep ports private:
``unshare -rn sh -c 'ip link set lo up; .venv/bin/python bench/sip_flood.py'``.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.peers.sipclient import SDP, UdpClient, request  # noqa: E402
from tests.support import demo_toml_with, free_port_range  # noqa: E402


def _mem(pid: int) -> dict[str, int]:
    text = Path(f"/proc/{pid}/status").read_text()
    return {k: int(v) for k, v in re.findall(r"^(VmRSS|VmHWM):\s+(\d+) kB", text, re.M)}


def _summary(samples: list[tuple[int | None, float]]) -> str:
    answered = sorted(t * 1000 for s, t in samples if s == 200)
    others = Counter("timeout" if s is None else str(s) for s, _ in samples if s != 200)
    lost = ", ".join(f"{n} {what}" for what, n in sorted(others.items())) or "0"
    if not answered:
        return f"none answered with 200 of {len(samples)} ({lost})"
    p95 = answered[min(len(answered) - 1, int(len(answered) * 0.95))]
    return (
        f"{len(answered)}/{len(samples)} answered, median {statistics.median(answered):.1f} ms, "
        f"p95 {p95:.1f} ms, max {answered[-1]:.1f} ms, not 200: {lost}"
    )


async def _caller(target: tuple[str, int], stop: asyncio.Event, gap: float) -> list:
    client = await UdpClient(target, "127.0.0.1").open()
    samples = []
    try:
        while not stop.is_set():
            samples.append(await client.call("100", timeout=5))
            await asyncio.sleep(gap)
    finally:
        client.close()
    return samples


async def _flood(target: tuple[str, int], rate: float, seconds: float, sources: int) -> int:
    if sources <= 1:
        client = await UdpClient(target, "127.0.0.2").open()
        try:
            return await client.flood_invites(rate, seconds)
        finally:
            client.close()
    clients = [
        await UdpClient(target, f"127.1.{i // 250}.{1 + i % 250}").open() for i in range(sources)
    ]
    sent = 0
    start = time.monotonic()
    try:
        while (elapsed := time.monotonic() - start) < seconds:
            due = int(elapsed * rate) + 1
            while sent < due:
                c = clients[sent % sources]
                c.send(request("INVITE", target, c.local, body=SDP.format(host=c.local[0], port=4)))
                sent += 1
            await asyncio.sleep(0.002)
    finally:
        for c in clients:
            c.close()
    return sent


async def run(args: argparse.Namespace) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="vaxel-flood-"))
    extra = "[security]\nenabled = false\n" if args.security_off else ""
    cfg = tmp / "cfg.toml"
    text = demo_toml_with(tmp, extra=extra).replace('log_level = "info"', 'log_level = "warning"')
    # The RTP range: --rtp-pairs pairs (the demo's 20000-20999 is 500), free right now.
    low, _ = free_port_range(2 * args.rtp_pairs)
    text = re.sub(r"(?m)^port_min = \d+$", f"port_min = {low}", text)
    text = re.sub(r"(?m)^port_max = \d+$", f"port_max = {low + 2 * args.rtp_pairs - 1}", text)
    if args.ack_timeout is not None:  # A/B of the ACK release (the default is 8 s)
        text = text.replace("[sip]\n", f"[sip]\nack_timeout = {args.ack_timeout}\n", 1)
    cfg.write_text(text)
    port = int(re.search(r"\[sip\][^\[]*?port = (\d+)", cfg.read_text(), re.S).group(1))  # type: ignore[union-attr]
    log = open(tmp / "server.log", "wb")  # noqa: SIM115
    proc = subprocess.Popen(
        [sys.executable, "-m", "vaxel.cli", "serve", "--config", str(cfg)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=log,
    )
    try:
        assert proc.stdout is not None
        proc.stdout.readline()
        await asyncio.sleep(0.5)
        target = ("127.0.0.1", port)
        before = _mem(proc.pid)
        stop = asyncio.Event()
        task = asyncio.create_task(_caller(target, stop, args.gap))
        await asyncio.sleep(args.baseline)
        stop.set()
        baseline = await task
        stop = asyncio.Event()
        task = asyncio.create_task(_caller(target, stop, args.gap))
        t0 = time.monotonic()
        sent = await _flood(target, args.rate, args.seconds, args.sources)
        took = time.monotonic() - t0
        stop.set()
        during = await task
        after = _mem(proc.pid)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
        log.close()
    lines = (tmp / "server.log").read_text().splitlines()
    print(
        f"flood: {sent} INVITEs in {took:.1f} s ({sent / took:.0f}/s) from "
        f"{args.sources} address(es), security {'off' if args.security_off else 'on'}, "
        f"{args.rtp_pairs} RTP port pairs, ACK timeout {args.ack_timeout or 8:g} s"
    )
    print(f"baseline: {_summary(baseline)}")
    print(f"during flood: {_summary(during)}")
    print(
        f"server RSS: {before['VmRSS'] / 1024:.1f} MB before, {after['VmRSS'] / 1024:.1f} MB "
        f"after, peak {after['VmHWM'] / 1024:.1f} MB"
    )
    print(f"server log: {len(lines)} lines ({sum('sip.ban' in line for line in lines)} ban lines)")
    events = Counter(m.group(1) for line in lines if (m := re.search(r"event=(\S+)", line)))
    print("log events:", ", ".join(f"{e} {n}" for e, n in events.most_common(5)))
    print("uptime:", subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rate", type=float, default=500)
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--baseline", type=float, default=5, help="seconds of calls before")
    ap.add_argument("--gap", type=float, default=0.2, help="seconds between the caller's calls")
    ap.add_argument("--sources", type=int, default=1, help="flood from this many addresses")
    ap.add_argument("--rtp-pairs", type=int, default=500, help="RTP port pairs in the range")
    ap.add_argument("--ack-timeout", type=float, help="[sip] ack_timeout (default 8 s)")
    ap.add_argument("--security-off", action="store_true", help="[security] enabled = false")
    asyncio.run(run(ap.parse_args()))


if __name__ == "__main__":
    main()
