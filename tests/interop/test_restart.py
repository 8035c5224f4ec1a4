"""State that survives a restart, with real peers: a SIPp phone registered as agent 1001 and
logged in keeps getting calls after the server is killed (kill -9) and started again on the
same database, without a new REGISTER or login; the same after a clean SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from tests.peers.sipp import Sipp, SippResult
from tests.support import demo_toml_with, free_port

from .conftest import TEST_NUMBERS, sipp_register

REPO = Path(__file__).resolve().parents[2]  # this checkout, not the installed one
ADMIN = {"Authorization": "Bearer demo-admin-token"}


@dataclass
class ServeProcess:
    """``vaxel serve`` as a child process (so that it can be killed like in production)."""

    config: Path
    http: str
    sip_target: str
    log: Path
    proc: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        out = self.log.open("ab")
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "vaxel.cli", "serve", "--config", str(self.config),
            cwd=self.config.parent, stdout=out, stderr=out, stdin=asyncio.subprocess.DEVNULL,
            env={**os.environ, "PYTHONPATH": str(REPO)},
        )  # fmt: skip
        out.close()
        deadline = time.monotonic() + 30
        async with aiohttp.ClientSession() as http:
            while time.monotonic() < deadline:
                assert self.proc.returncode is None, self.tail()
                try:
                    async with http.get(f"{self.http}/api/health") as resp:
                        if resp.status == 200:
                            return
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.1)
        raise AssertionError(f"vaxel serve did not come up:\n{self.tail()}")

    async def stop(self, sig: signal.Signals) -> int:
        assert self.proc is not None
        self.proc.send_signal(sig)
        code = await asyncio.wait_for(self.proc.wait(), 20)
        self.proc = None
        return code

    def tail(self, lines: int = 40) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


async def agent_1001(server: ServeProcess) -> dict:
    async with (
        aiohttp.ClientSession(headers=ADMIN) as http,
        http.get(f"{server.http}/api/agents/1001") as resp,
    ):
        return (await resp.json())["agent"]


async def call_100(tmp: Path, name: str, server: ServeProcess) -> SippResult:
    caller = Sipp(tmp / name, builtin="uac_pcap", target=server.sip_target, timeout=30)
    (tmp / name / "pcap").symlink_to("/usr/share/sip-tester")
    return await caller.run_with("-s", "100")


async def test_registered_logged_in_agent_gets_calls_after_kill_9_and_after_sigterm(
    tmp_path: Path,
) -> None:
    text = demo_toml_with(tmp_path, replace={'"101" = { queue = "sales" }': TEST_NUMBERS})
    config = tmp_path / "vaxel.toml"
    config.write_text(text)
    sip_port = int(text.split("[sip]")[1].split("port = ")[1].split("\n")[0])
    http_port = int(text.split("[http]")[1].split("port = ")[1].split("\n")[0])
    server = ServeProcess(
        config, f"http://127.0.0.1:{http_port}", f"127.0.0.1:{sip_port}", tmp_path / "serve.log"
    )
    uas_port, echo_port = free_port(), free_port(both=False)
    uas = Sipp(
        tmp_path / "uas", "-rtp_echo", builtin="uas", port=uas_port, calls=2, timeout=120,
        media_port=echo_port,
    )  # fmt: skip
    await server.start()
    await uas.start()
    try:
        reg = await sipp_register(server, tmp_path / "reg", "1001", "secret1001", uas_port)  # type: ignore[arg-type]
        assert reg.returncode == 0, reg.explain()
        async with (
            aiohttp.ClientSession(headers=ADMIN) as http,
            http.post(f"{server.http}/api/agents/1001/login", json={"device": "sip"}) as resp,
        ):
            assert resp.status == 200, await resp.text()

        # kill -9: no clean shutdown, nothing flushed at exit.
        assert await server.stop(signal.SIGKILL) == -signal.SIGKILL
        await server.start()
        agent = await agent_1001(server)
        assert agent["state"] == "ready" and agent["device"] == "sip:1001", agent
        assert [c["contact"] for c in agent["registered_contacts"]], agent
        first = await call_100(tmp_path, "uac1", server)
        assert first.returncode == 0, first.explain() + "\n" + server.tail()

        # A clean stop (SIGTERM) and start again: still registered and logged in.
        assert await server.stop(signal.SIGTERM) == 0, server.tail()
        await server.start()
        agent = await agent_1001(server)
        assert agent["device"] == "sip:1001" and agent["registered_contacts"], agent
        deadline = time.monotonic() + 10  # the first call's wrap-up may still be running
        while agent["state"] != "ready" and time.monotonic() < deadline:
            await asyncio.sleep(0.2)
            agent = await agent_1001(server)
        second = await call_100(tmp_path, "uac2", server)
        assert second.returncode == 0, second.explain() + "\n" + server.tail()
    finally:
        if server.proc is not None:
            await server.stop(signal.SIGKILL)
        uas_result = await uas.wait() if uas.proc and uas.proc.returncode is not None else None
        await uas.stop()
    if uas_result is not None:
        assert uas_result.messages().count("INVITE sip:1001@127.0.0.1") >= 2
    # Each start after the first restored the phone's binding and the login; no REGISTER
    # (it would log sip.binding_*) came after the first start.
    starts = server.log.read_text().split("event=state.restored")
    assert len(starts) == 4, server.tail()
    assert all(s.startswith(" bindings=1 agents=1") for s in starts[2:]), starts
    assert "sip.binding_" in starts[0] + starts[1] and "sip.binding_" not in "".join(starts[2:])
