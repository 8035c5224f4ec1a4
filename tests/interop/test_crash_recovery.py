"""A server killed with SIGKILL during 20 answered calls: after the restart every one of
those calls has a closed call-log row (issue 19), saying the server stopped."""

from __future__ import annotations

import asyncio
import json
import re
import signal
import sys
import urllib.request
from pathlib import Path

from config import parse_config
from tests.peers.sipp import Sipp
from tests.support import demo_toml_with
from vaxel.server import VaxelServer

ROOT = Path(__file__).resolve().parents[2]


def _live_calls(http: str) -> int:
    req = urllib.request.Request(
        f"{http}/api/calls", headers={"Authorization": "Bearer demo-admin-token"}
    )
    with urllib.request.urlopen(req, timeout=2) as resp:
        return len(json.load(resp)["calls"])


async def test_kill_9_during_20_answered_calls_leaves_no_call_open(tmp_path: Path) -> None:
    text = demo_toml_with(tmp_path)
    cfg = tmp_path / "cfg.toml"
    cfg.write_text(text)
    sip_port = int(re.search(r"\[sip\][^\[]*?port = (\d+)", text, re.S).group(1))
    http_port = int(re.search(r"\[http\][^\[]*?port = (\d+)", text, re.S).group(1))
    http = f"http://127.0.0.1:{http_port}"
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "vaxel.cli", "serve", "--config", str(cfg),
        cwd=ROOT, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    callers = Sipp(tmp_path / "uac", builtin="uac", target=f"127.0.0.1:{sip_port}", timeout=60)
    callers.cmd += ["-s", "100", "-d", "60000", "-r", "20", "-m", "20", "-l", "20"]
    try:
        line = await asyncio.wait_for(proc.stdout.readline(), 30)  # type: ignore[union-attr]
        assert b"Vaxel" in line, line
        await asyncio.sleep(0.3)
        await callers.start()
        for _ in range(100):
            await asyncio.sleep(0.1)
            if await asyncio.to_thread(_live_calls, http) == 20:
                break
        assert await asyncio.to_thread(_live_calls, http) == 20
        await asyncio.sleep(0.2)  # past the call log's group-commit window
        proc.send_signal(signal.SIGKILL)
        await proc.wait()
    finally:
        if proc.returncode is None:
            proc.kill()
        await callers.stop()

    server = VaxelServer(parse_config(text, source=str(cfg)), base_dir=tmp_path)
    await server.start()
    try:
        rows = await server.calllog.calls()
        assert len(rows) == 20, [r.outcome for r in rows]
        assert {r.outcome for r in rows} == {"server_stopped"}
        assert all(r.ended_by == "server" and r.ended_at >= r.started_at for r in rows)
    finally:
        await server.stop()
