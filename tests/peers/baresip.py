"""baresip (a real softphone) run headless from tests and driven over its ctrl_tcp socket."""

from __future__ import annotations

import asyncio
import contextlib
import json
from pathlib import Path

import numpy as np
import soundfile as sf

from tests.peers import quit_console
from tests.support import free_port, free_port_range, free_port_with_next, require_tool


def _config(
    listen: int, ctrl: int, cons: int, rtp: tuple[int, int], source: Path, snd: Path
) -> str:
    return f"""poll_method\t\tepoll
sip_listen\t\t127.0.0.1:{listen}
net_interface\t\t127.0.0.1
rtp_ports\t\t{rtp[0]}-{rtp[0] + 19}
call_max_calls\t\t4
audio_player\t\talsa,null
audio_source\t\taufile,{source}
audio_alert\t\talsa,null
ausrc_format\t\ts16
auplay_format\t\ts16
audio_buffer\t\t20-160
jitter_buffer_delay\t5-10
rtp_stats\t\tyes
module_path\t\t/usr/lib/baresip/modules
module\t\t\tg711.so
module\t\t\taufile.so
module\t\t\talsa.so
module\t\t\tsndfile.so
module_tmp\t\tuuid.so
module_tmp\t\taccount.so
module_app\t\tmenu.so
module_app\t\tctrl_tcp.so
module\t\t\tcons.so
ctrl_tcp_listen\t\t127.0.0.1:{ctrl}
cons_listen\t\t127.0.0.1:{cons}
snd_path\t\t{snd}
"""


class Baresip:
    """One baresip process with its own config folder; ``account`` is its accounts line;
    ``extra_config``: more config lines (``module srtp.so``, ``sip_cafile ...``)."""

    def __init__(
        self, workdir: Path, account: str, extra_config: str = "", tone_hz: float = 440.0
    ) -> None:
        self.exe = require_tool("baresip")
        self.dir = workdir
        workdir.mkdir(parents=True, exist_ok=True)
        self.listen, self.ctrl, self.cons = (
            free_port_with_next(),
            free_port(both=False),
            free_port(both=False),
        )
        tone = workdir / "source.wav"
        t = np.arange(8000 * 10) / 8000
        sf.write(
            tone,
            (0.3 * np.sin(2 * np.pi * tone_hz * t) * 32767).astype(np.int16),
            8000,
            subtype="PCM_16",
        )
        (workdir / "snd").mkdir(exist_ok=True)
        rtp = free_port_range(40)
        (workdir / "config").write_text(
            _config(self.listen, self.ctrl, self.cons, rtp, tone, workdir / "snd") + extra_config
        )
        (workdir / "accounts").write_text(account.replace("{listen}", str(self.listen)) + "\n")
        self.proc: asyncio.subprocess.Process | None = None
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self.events: list[dict] = []

    async def start(self) -> None:
        self.proc = await asyncio.create_subprocess_exec(
            self.exe,
            "-f",
            str(self.dir),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        for _ in range(100):
            try:
                self._reader, self._writer = await asyncio.open_connection("127.0.0.1", self.ctrl)
                return
            except OSError:
                await asyncio.sleep(0.1)
        raise RuntimeError(f"baresip ctrl_tcp did not open:\n{await self.output()}")

    def command(self, cmd: str, params: str | None = None) -> None:
        assert self._writer is not None
        msg = {"command": cmd, "token": cmd}
        if params is not None:
            msg["params"] = params
        data = json.dumps(msg).encode()
        self._writer.write(b"%d:%s," % (len(data), data))

    async def _read(self) -> dict:
        assert self._reader is not None
        size = await self._reader.readuntil(b":")
        data = await self._reader.readexactly(int(size[:-1]))
        await self._reader.readexactly(1)
        msg = json.loads(data)
        self.events.append(msg)
        return msg

    async def wait_for(self, event_type: str, timeout: float) -> dict:
        async with asyncio.timeout(timeout):
            while True:
                msg = await self._read()
                if msg.get("type") == event_type:
                    return msg

    async def output(self) -> str:
        if self.proc is None or self.proc.stdout is None:
            return ""
        with contextlib.suppress(TimeoutError):
            data = await asyncio.wait_for(self.proc.stdout.read(20000), 2)
            return data.decode(errors="replace")
        return ""

    async def stop(self) -> str:
        if self.proc is None:
            return ""
        out = await quit_console(self.proc, lambda: self.command("quit"))
        return out.decode(errors="replace")
