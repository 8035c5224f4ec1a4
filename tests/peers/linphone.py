"""linphone-cli (``linphonec``, a real softphone on liblinphone) driven over its stdin.

linphonec puts the machine's primary address in its SDP whatever it listens on, so it only
works against a 127.0.0.1 server inside a loopback-only network namespace
(``unshare -rn``), where 127.0.0.1 is the only address: :func:`netns_command` wraps a
command for that, and Vaxel has to run in the same namespace (``linphone_driver``).
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import re
import socket
import struct
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.peers import quit_console
from tests.support import IN_CI, require_tool

# No jitter buffer (audio_jitt_comp=0): loopback needs none, and the default adaptive one
# moves the playout whenever it adapts; what remains is one move of 10-20 ms about 1 s into
# a stream (fixed buffer or none alike; see test_linphone.piece_offsets). The rtcp_xr keys
# are liblinphone's defaults, written out so the test does not depend on them: announce XR
# with VoIP Metrics, statistics summary and receiver RTT; it sends only what the other
# side's SDP lists in a=rtcp-xr. register_only_when_network_is_up=0: liblinphone takes a
# network whose only address is 127.0.0.1 for "down" and would never send REGISTER.
_RC = """[sip]
contact="{user}" <sip:{user}@127.0.0.1>
guess_hostname=0
use_ipv6=0
register_only_when_network_is_up=0

[rtp]
audio_rtp_port={rtp_port}
audio_adaptive_jitt_comp_enabled=0
audio_jitt_comp=0
rtcp_xr_enabled=1
rtcp_xr_voip_metrics_enabled=1
rtcp_xr_stat_summary_enabled=1
rtcp_xr_rcvr_rtt_mode=all

[sound]
echocancellation=0
"""

# A message in liblinphone's log (-d 6): belle-sip's line, then the message until the next
# timestamped log line.
_LOGGED_MESSAGE = re.compile(
    r"(?P<dir>message sent to|new bytes from) \[[^\]]*\][^\n]*\n(?P<msg>.*?)"
    r"(?=^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d:\d{3} |\Z)",
    re.S | re.M,
)


@dataclass(frozen=True)
class LoggedSip:
    """One SIP message linphonec sent or received, from its log."""

    sent: bool
    start_line: str
    cseq: str
    body: str
    head: str  # start line and headers

    def as_dict(self) -> dict[str, object]:
        return {
            "sent": self.sent,
            "start": self.start_line,
            "cseq": self.cseq,
            "body": self.body,
            "head": self.head,
        }


_LOGGED_STARTS = ("SIP/2.0 ", "INVITE ", "ACK ", "BYE ", "CANCEL ", "OPTIONS ", "REGISTER ",
                  "REFER ", "NOTIFY ")  # fmt: skip


def sip_messages(log: str) -> list[LoggedSip]:
    """The SIP messages in a linphonec log, in order."""
    out = []
    for m in _LOGGED_MESSAGE.finditer(log):
        head, _, body = m["msg"].replace("\r\n", "\n").partition("\n\n")
        lines = head.split("\n")
        cseq = next((v.strip() for k, _, v in (x.partition(":") for x in lines) if k == "CSeq"), "")
        if lines[0].startswith(_LOGGED_STARTS):
            out.append(LoggedSip(m["dir"] == "message sent to", lines[0], cseq, body.strip(), head))
    return out


def netns_command(*argv: str) -> list[str]:
    """``argv`` in a new user and network namespace: only a loopback, down until
    :func:`loopback_up`."""
    return ["unshare", "-rn", *argv]


def require_netns() -> None:
    """``unshare -rn`` must work (user namespaces); skip locally when not, fail in CI."""
    require_tool("unshare")
    probe = subprocess.run(
        netns_command("true"), capture_output=True, text=True, timeout=10, check=False
    )
    if probe.returncode != 0:
        msg = f"unshare -rn does not work here (user namespaces?): {probe.stderr.strip()}"
        if IN_CI:
            pytest.fail(msg)
        pytest.skip(msg)


def loopback_up() -> None:
    """``ip link set lo up`` without iproute2, for a process in a new network namespace."""
    siocgifflags, siocsifflags, iff_up = 0x8913, 0x8914, 0x1  # linux/sockios.h, linux/if.h
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        name, flags = struct.unpack(
            "16sh", fcntl.ioctl(s, siocgifflags, struct.pack("16sh", b"lo", 0))
        )
        fcntl.ioctl(s, siocsifflags, struct.pack("16sh", name, flags | iff_up))


class Linphonec:
    """One linphonec with its own HOME and configuration, using WAV files as sound card."""

    def __init__(self, workdir: Path, *, user: str, sip_port: int, rtp_port: int) -> None:
        self.exe = require_tool("linphonec")
        self.dir = workdir
        workdir.mkdir(parents=True, exist_ok=True)
        # Without its database directory liblinphone's core never reaches "on" and answers
        # every incoming INVITE 503 (outgoing calls work regardless).
        (workdir / ".local/share/linphone").mkdir(parents=True, exist_ok=True)
        self.sip_port = sip_port
        self.rc = workdir / "linphonerc"
        self.rc.write_text(_RC.format(user=user, rtp_port=rtp_port))
        self.log = workdir / "linphone.log"
        self.proc: asyncio.subprocess.Process | None = None
        self.transcript: list[str] = []

    async def start(self) -> None:
        self.proc = await asyncio.create_subprocess_exec(
            self.exe,
            "-c",
            str(self.rc),
            "-d",
            "6",
            "-l",
            str(self.log),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            env={**os.environ, "HOME": str(self.dir)},  # it writes its database and caches there
        )
        self.command("soundcard use files")
        self.command(f"ports sip {self.sip_port}")  # [sip] sip_port in the rc is ignored
        await self.wait_for(f"Setting sip port to {self.sip_port}", 10)

    def command(self, line: str) -> None:
        assert self.proc is not None and self.proc.stdin is not None
        self.proc.stdin.write(line.encode() + b"\n")

    async def wait_for(self, text: str, timeout: float) -> str:
        """The next output line containing ``text``."""
        assert self.proc is not None and self.proc.stdout is not None
        async with asyncio.timeout(timeout):
            while True:
                raw = await self.proc.stdout.readline()
                if not raw:
                    raise RuntimeError(f"linphonec exited while waiting for {text!r}")
                line = raw.decode(errors="replace").rstrip()
                self.transcript.append(line)
                if text in line:
                    return line

    async def register(self, identity: str, proxy: str, password: str, timeout: float) -> None:
        """Register ``identity`` at ``proxy`` and wait until the registration is accepted.

        linphonec's own "Registration ... successful" line stays in its stdout buffer (a
        pipe), so this asks ``status register`` until it says so.
        """
        self.command(f"register {identity} {proxy} {password}")
        async with asyncio.timeout(timeout):
            while True:
                self.command("status register")
                if (await self.wait_for("registered", timeout)).startswith("registered,"):
                    return
                await asyncio.sleep(0.2)

    async def stop(self) -> str:
        """Quit linphonec; its whole console output."""
        if self.proc is None:
            return ""
        out = await quit_console(self.proc, lambda: self.command("quit"))
        self.transcript += out.decode(errors="replace").splitlines()
        return "\n".join(self.transcript)

    def sip_messages(self) -> list[LoggedSip]:
        return sip_messages(self.log.read_text(errors="replace")) if self.log.exists() else []
