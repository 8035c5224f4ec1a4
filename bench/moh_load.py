"""ACD load: callers waiting with music on hold plus a stream of answered calls, per step.

    .venv/bin/python bench/moh_load.py --steps 100,250,500,750

For each step N a fresh `vaxel serve` (its own configuration, RTP range --rtp-ports) gets:
- N SIPp callers on queue number 100, whose answer group has no agent: they hear the
  welcome prompt, then hold music and position announcements (every 30 s) until the
  bench stops the server (which hangs them up with BYE);
- once all N wait: a stream of SIPp callers on 101 (--answer-rate per second, each
  hanging up --hold seconds after Vaxel answers), answered by --agents agents whose
  phone is one SIPp UAS (registered with digest, logged in through the HTTP API),
  RTP both ways through the bridge.

Measured during the --seconds window:
- send-time error of Vaxel's hold-music streams: the callers' SDP points at a UDP
  socket of this process (up to --measure of the N callers; the rest go to a sink
  nobody reads). The kernel stamps each packet on arrival (SO_TIMESTAMPNS; on loopback
  that is within microseconds of Vaxel's sendto, and independent of when this process
  reads it). A packet's ideal send time is the stream's phase plus its RTP timestamp /
  8000 (Vaxel advances the timestamp by one 20 ms frame per frame of its media clock,
  sent or skipped); the phase is the stream's median offset, so the error is the
  deviation from that stream's own 20 ms grid. Frames the clock skipped (timestamp
  jumps without a sequence gap) and packets lost on the way (sequence gaps) are counted.
- CPU of the Vaxel process (utime + stime from /proc) per wall second = cores used.
- answered-call failures: SIPp's failed calls plus calls on 101 whose call-log summary
  (HTTP API) is not "answered".
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import os
import socket
import struct
import sys
import tempfile
import threading
import time
from array import array
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import numpy as np
import soundfile as sf

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support import free_port  # noqa: E402

SCENARIOS = Path(__file__).with_name("scenarios")
REGISTER = ROOT / "tests" / "peers" / "scenarios" / "register.xml"
TOKEN = "bench-admin-token"
SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)  # Linux values
SO_RXQ_OVFL = getattr(socket, "SO_RXQ_OVFL", 40)
CLK_TCK = os.sysconf("SC_CLK_TCK")
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


# --------------------------------------------------------------------------- configuration


def bench_config(
    tmp: Path, sip: int, http: int, rtp: tuple[int, int], agents: int, announce: float = 30
) -> str:
    """Queue support (number 100) has nobody; sales (101) has the bench agents."""
    week = ", ".join(f'{d} = ["00:00-24:00"]' for d in DAYS)
    text = f"""
[server]
name = "Vaxel MOH bench"
log_level = "warning"
data_dir = "{tmp / "var"}"

[database]
url = "sqlite+aiosqlite:///{tmp / "var" / "vaxel.db"}"

[sip]
port = {sip}
transports = ["udp"]

[rtp]
port_min = {rtp[0]}
port_max = {rtp[1]}

[http]
port = {http}

[api]
tokens = ["{TOKEN}"]

[numbers]
"100" = {{ queue = "support" }}
"101" = {{ queue = "sales" }}

[calendars.base]
timezone = "Europe/Stockholm"
closed_on_holidays = false
closed_on_customary_eves = false
hours = {{ {week} }}

[answer_groups.support]
[answer_groups.sales]

[queues.support]
answer_groups = ["support"]
announce_interval = {announce}

[queues.sales]
answer_groups = ["sales"]
ring_timeout = 10
wrap_up = 0
announce_interval = 0

# SIPp on 127.0.0.1 is the load, not an attacker: exempt from the per-source limits.
[security]
trusted = ["127.0.0.1"]
"""
    for i in range(agents):
        aid = 2001 + i
        text += f'\n[agents.{aid}]\nname = "Bench {aid}"\nsip_password = "bench{aid}"\n'
        text += 'answer_groups = ["sales"]\n'
    return text


# --------------------------------------------------------------------------- RTP receiver


def bind_pair() -> tuple[socket.socket, socket.socket]:
    """Sockets on an even port and port + 1 (Vaxel sends RTCP there)."""
    for _ in range(100):
        port = free_port(socket.SOCK_DGRAM, both=False) & ~1
        rtp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        rtcp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            rtp.bind(("127.0.0.1", port))
            rtcp.bind(("127.0.0.1", port + 1))
        except OSError:
            rtp.close()
            rtcp.close()
            continue
        return rtp, rtcp
    raise RuntimeError("no free UDP port pair")


class RtpProbe:
    """Receives RTP in a thread, keeping (ssrc, seq, timestamp, kernel arrival ns) while on."""

    def __init__(self) -> None:
        self.sock, self._rtcp = bind_pair()
        self.port = self.sock.getsockname()[1]
        self.sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
        self.sock.setsockopt(socket.SOL_SOCKET, SO_RXQ_OVFL, 1)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        self.sock.settimeout(0.2)
        self.recording = False
        self.kernel_drops = 0
        self.ssrc, self.seq, self.ts, self.at = array("q"), array("q"), array("q"), array("q")
        self._stop = False
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        unpack = struct.unpack_from
        while not self._stop:
            try:
                data, anc, _flags, _addr = self.sock.recvmsg(2048, 256)
            except TimeoutError:
                continue
            except OSError:
                return
            if not self.recording or len(data) < 12:
                continue
            at = None
            for _level, kind, cdata in anc:
                if kind == SO_TIMESTAMPNS:
                    sec, nsec = unpack("qq", cdata)
                    at = sec * 1_000_000_000 + nsec
                elif kind == SO_RXQ_OVFL:
                    self.kernel_drops = unpack("I", cdata)[0]
            if at is None:
                continue
            _b0, _b1, seq, ts, ssrc = unpack("!BBHII", data)
            self.ssrc.append(ssrc)
            self.seq.append(seq)
            self.ts.append(ts)
            self.at.append(at)

    def columns(self) -> tuple[array, array, array, array]:
        return self.ssrc, self.seq, self.ts, self.at

    def close(self) -> None:
        self._stop = True
        self._thread.join(2)
        self.sock.close()
        self._rtcp.close()


@dataclass
class Timing:
    streams: int = 0
    packets: int = 0
    p50_ms: float = math.nan
    p99_ms: float = math.nan
    max_ms: float = math.nan
    skipped_frames: int = 0
    lost_packets: int = 0


def send_time_errors(
    ssrc: np.ndarray, seq: np.ndarray, ts: np.ndarray, at_ns: np.ndarray, rate: int = 8000
) -> Timing:
    """Errors of arrival times against each stream's own RTP-timestamp grid (see module doc)."""
    out = Timing()
    errors = []
    for s in np.unique(ssrc):
        m = ssrc == s
        if m.sum() < 50:  # a stream that started or ended in the window: too short to phase
            continue
        order = np.argsort(at_ns[m], kind="stable")
        t = (at_ns[m][order] - at_ns[m][order][0]) / 1e9
        ts_rel = (ts[m][order] - ts[m][order][0]) % (1 << 32)
        ts_rel = np.where(ts_rel >= 1 << 31, ts_rel - (1 << 32), ts_rel)
        offset = t - ts_rel / rate
        errors.append(offset - np.median(offset))
        seq_rel = (seq[m][order] - seq[m][order][0]) % (1 << 16)
        frames = int((ts_rel.max() - ts_rel.min()) // 160) + 1
        sent = int(seq_rel.max() - seq_rel.min()) + 1
        out.skipped_frames += max(0, frames - sent)
        out.lost_packets += max(0, sent - int(m.sum()))
        out.streams += 1
        out.packets += int(m.sum())
    if errors:
        err = np.abs(np.concatenate(errors)) * 1000
        out.p50_ms = float(np.percentile(err, 50))
        out.p99_ms = float(np.percentile(err, 99))
        out.max_ms = float(err.max())
    return out


# --------------------------------------------------------------------------- processes


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime, stime


@dataclass
class SippRun:
    proc: asyncio.subprocess.Process
    output: Path


async def sipp(workdir: Path, *args: str, port: int | None = None) -> SippRun:
    workdir.mkdir(parents=True, exist_ok=True)
    port = port or free_port(socket.SOCK_DGRAM, both=False)
    cmd = ["sipp", *args, "-i", "127.0.0.1", "-p", str(port), "-mp", str(free_media_port())]
    cmd += ["-nostdin", "-trace_err"]
    # A file, not a pipe: a long run must never block on output nobody reads yet.
    with open(workdir / f"sipp-{port}.out", "w") as out:
        proc = await asyncio.create_subprocess_exec(
            *cmd, cwd=workdir, stdin=asyncio.subprocess.DEVNULL, stdout=out, stderr=out
        )
    return SippRun(proc, workdir / f"sipp-{port}.out")


def free_media_port() -> int:
    """SIPp binds its -mp port and -mp + 2 even when unused: give it a free pair."""
    a, b = bind_pair()
    port = a.getsockname()[1]
    a.close()
    b.close()
    return port


async def finish(run: SippRun, timeout: float) -> str:
    """Wait for SIPp to end (killed after ``timeout``); its output."""
    try:
        await asyncio.wait_for(run.proc.wait(), timeout)
    except TimeoutError:
        run.proc.kill()
        await run.proc.wait()
    return run.output.read_text(errors="replace")


def sipp_counts(output: str) -> tuple[int, int]:
    """(successful, failed) from SIPp's final statistics screen."""
    import re

    ok = re.findall(r"Successful call\s*\|\s*\d+\s*\|\s*(\d+)", output)
    bad = re.findall(r"Failed call\s*\|\s*\d+\s*\|\s*(\d+)", output)
    return (int(ok[-1]) if ok else 0, int(bad[-1]) if bad else 0)


@dataclass
class StepResult:
    callers: int
    waiting: int = 0
    timing: Timing = field(default_factory=Timing)
    cores: float = math.nan
    bench_cores: float = math.nan  # this process and its SIPp peers: the load bench's share
    answered_placed: int = 0
    answered_ok: int = 0
    answered_failed: int = 0
    load: str = ""
    notes: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------- one step


async def run_step(n: int, args: argparse.Namespace, tmp: Path) -> StepResult:
    res = StepResult(n)
    sip_port, http_port, uas_port = free_port(), free_port(), free_port()
    (tmp / "bench.toml").write_text(
        bench_config(tmp, sip_port, http_port, args.rtp_ports, args.agents, args.announce)
    )
    t = np.arange(8000 * 4) / 8000
    for sub in ("agents", "answered"):  # SIPp's rtp_stream reads it from its working dir
        (tmp / sub).mkdir()
        sf.write(str(tmp / sub / "tone_ulaw.wav"), 0.3 * np.sin(2 * np.pi * 440 * t), 8000,
                 subtype="ULAW")  # fmt: skip
    probe = RtpProbe()
    probe.start()
    sink, sink_rtcp = bind_pair()  # bound, never read: the kernel drops what overflows
    stride = max(1, math.ceil(n / args.measure))
    lines = ["SEQUENTIAL"] + [
        f"{probe.port if i % stride == 0 else sink.getsockname()[1]};07{i:08d}" for i in range(n)
    ]
    (tmp / "callers.csv").write_text("\n".join(lines) + "\n")
    target = f"127.0.0.1:{sip_port}"
    api = f"http://127.0.0.1:{http_port}"
    with open(tmp / "server.log", "w") as server_log:  # the child keeps its own copy
        server = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "vaxel.cli", "serve", "--config", str(tmp / "bench.toml"),
            cwd=ROOT, stdout=asyncio.subprocess.PIPE, stderr=server_log,
        )  # fmt: skip
    agents_uas = waiting = answered = None
    try:
        assert server.stdout is not None
        await asyncio.wait_for(server.stdout.readline(), 60)
        agents_uas = await sipp(
            tmp / "agents", "-sf", str(SCENARIOS / "agent_uas.xml"), "-m", "1000000",
            port=uas_port,
        )  # fmt: skip
        async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {TOKEN}"}) as http:
            await register_and_login(http, api, target, tmp / "reg", args.agents, uas_port)

            budget = n / args.ramp + args.seconds + args.hold + 300
            waiting = await sipp(
                tmp / "moh", target, "-sf", str(SCENARIOS / "moh_caller.xml"), "-s", "100",
                "-inf", str(tmp / "callers.csv"), "-r", str(args.ramp), "-l", str(n),
                "-m", str(n), "-timeout", f"{int(budget)}s",
            )  # fmt: skip
            deadline = time.monotonic() + n / args.ramp + 60
            while time.monotonic() < deadline:
                async with http.get(f"{api}/api/queues/support") as r:
                    res.waiting = (await r.json())["queue"]["live"]["waiting_count"]
                if res.waiting >= n:
                    break
                await asyncio.sleep(1)
            if res.waiting < n:
                res.notes.append(f"only {res.waiting}/{n} callers reached the queue")
            await asyncio.sleep(2)  # let the last welcome prompts end

            since = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 1))
            res.answered_placed = max(1, round(args.answer_rate * args.seconds))
            answered = await sipp(
                tmp / "answered", target, "-sf", str(SCENARIOS / "answered_caller.xml"),
                "-s", "101", "-r", str(args.answer_rate), "-m", str(res.answered_placed),
                "-l", "1000", "-d", str(int(args.hold * 1000)), "-timeout",
                f"{int(args.seconds + args.hold + 60)}s",
            )  # fmt: skip
            peers = [os.getpid()] + [r.proc.pid for r in (agents_uas, waiting, answered)]
            cpu0, wall0 = cpu_seconds(server.pid), time.monotonic()
            peers0 = sum(cpu_seconds(p) for p in peers)
            probe.recording = True
            await asyncio.sleep(args.seconds)
            probe.recording = False
            wall = time.monotonic() - wall0
            res.cores = (cpu_seconds(server.pid) - cpu0) / wall
            res.bench_cores = (sum(cpu_seconds(p) for p in peers) - peers0) / wall
            res.load = " ".join(f"{x:.2f}" for x in os.getloadavg())
            ok, failed = sipp_counts(await finish(answered, args.hold + 90))
            await asyncio.sleep(1)  # the last summaries are written after the BYE
            async with http.get(
                f"{api}/api/calllog/calls", params={"since": since, "queue": "sales"}
            ) as r:
                rows = (await r.json())["calls"]
            res.answered_ok = sum(1 for c in rows if c["outcome"] == "answered")
            res.answered_failed = max(failed, res.answered_placed - res.answered_ok)
            if ok + failed != res.answered_placed:
                res.notes.append(f"SIPp completed {ok + failed}/{res.answered_placed} calls")
        cols = [np.frombuffer(a, dtype=np.int64) for a in probe.columns()]
        res.timing = send_time_errors(*cols)
        if args.dump:
            Path(args.dump).mkdir(parents=True, exist_ok=True)
            np.savez(Path(args.dump) / f"moh-{n}.npz", ssrc=cols[0], seq=cols[1], ts=cols[2],
                     at_ns=cols[3])  # fmt: skip
        if probe.kernel_drops:
            res.notes.append(f"receiver socket dropped {probe.kernel_drops} packets")
    finally:
        if server.returncode is None:
            server.terminate()  # ends every call with BYE and flushes the call log
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(server.wait(), 120)
        if waiting is not None:
            await finish(waiting, 30)  # its callers got their BYE: it ends by itself
        procs = [r.proc for r in (answered, agents_uas) if r is not None] + [server]
        for proc in procs:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
        probe.close()
        sink.close()
        sink_rtcp.close()
    return res


async def register_and_login(
    http: aiohttp.ClientSession, api: str, target: str, workdir: Path, agents: int, contact: int
) -> None:
    """Every bench agent registers (digest) with the one UAS as Contact and logs in (API)."""
    for i in range(agents):
        aid = str(2001 + i)
        reg = await sipp(
            workdir, target, "-sf", str(REGISTER), "-s", aid, "-au", aid, "-ap", f"bench{aid}",
            "-key", "contact_port", str(contact), "-key", "expires", "3600", "-m", "1",
            "-timeout", "10s",
        )  # fmt: skip
        out = await finish(reg, 20)
        if reg.proc.returncode != 0:
            raise RuntimeError(f"agent {aid} did not register:\n{out[-2000:]}")
        async with http.post(f"{api}/api/agents/{aid}/login", json={"device": "sip"}) as r:
            if r.status != 200:
                raise RuntimeError(f"login {aid}: {r.status} {await r.text()}")


# --------------------------------------------------------------------------- main


def port_range(text: str) -> tuple[int, int]:
    lo, hi = (int(x) for x in text.split("-"))
    return lo, hi


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--steps", default="100,250,500,750", help="waiting callers per step")
    ap.add_argument("--seconds", type=float, default=20.0, help="measurement window per step")
    ap.add_argument("--answer-rate", type=float, default=2.0, help="answered calls per second")
    ap.add_argument("--hold", type=float, default=6.0, help="s from Vaxel's answer to hang-up")
    ap.add_argument("--agents", type=int, default=20)
    ap.add_argument("--announce", type=float, default=30, help="announcement interval, 0 = off")
    ap.add_argument("--ramp", type=float, default=50.0, help="waiting callers set up per second")
    ap.add_argument("--measure", type=int, default=200, help="streams received and timed")
    ap.add_argument("--rtp-ports", type=port_range, default=(30000, 39999))
    ap.add_argument("--dump", help="folder for the raw arrivals of each step (moh-N.npz)")
    ap.add_argument("--keep", action="store_true", help="keep each step's folder (logs)")
    args = ap.parse_args()
    steps = [int(s) for s in args.steps.split(",")]
    print(f"# {' '.join(sys.argv)}")
    head = f"{'callers':>7} {'waiting':>7} {'timed':>5} {'p50 ms':>7} {'p99 ms':>7} "
    head += f"{'max ms':>7} {'skipped':>7} {'lost':>5} {'cores':>5} {'bench':>5} {'answered':>9} "
    print(head + f"{'failed':>6}  load 1/5/15 min")
    worst = 0
    for n in steps:
        if args.keep:  # server log, SIPp output and traces of every step stay for a look
            d = tempfile.mkdtemp(prefix=f"vaxel-moh-{n}-")
            print(f"        step folder: {d}", flush=True)
            r = asyncio.run(run_step(n, args, Path(d)))
        else:
            with tempfile.TemporaryDirectory(prefix=f"vaxel-moh-{n}-") as d:
                r = asyncio.run(run_step(n, args, Path(d)))
        t = r.timing
        print(
            f"{r.callers:>7} {r.waiting:>7} {t.streams:>5} {t.p50_ms:>7.3f} {t.p99_ms:>7.3f} "
            f"{t.max_ms:>7.2f} {t.skipped_frames:>7} {t.lost_packets:>5} {r.cores:>5.2f} "
            f"{r.bench_cores:>5.2f} {r.answered_ok:>4}/{r.answered_placed:<4} "
            f"{r.answered_failed:>6}  {r.load}",
            flush=True,
        )
        for note in r.notes:
            print(f"        note: {note}", flush=True)
        if t.p99_ms < 2.0 and r.waiting >= n:
            worst = max(worst, n)
    print(f"largest step with p99 < 2 ms: {worst or 'none'} waiting callers")
    return 0


if __name__ == "__main__":
    sys.exit(main())
