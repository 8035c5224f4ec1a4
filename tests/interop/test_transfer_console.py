"""Transfers from the SSH console (docs/transfers.md), with the real OpenSSH client: a SIPp
caller is answered by agent 1001 (an echoing SIPp phone); the admin finds the call in
``calls``, puts it on hold and back, is told why a consult to a queue and a bad target are
refused, and transfers it blind to queue 101, where agent 1003 answers. The same service
layer as the API decides: the call log has the same events, the audit names the console."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.ssh.conftest import ADMIN_PASSWORD, Console

from .conftest import start_vaxel
from .test_transfer import caller
from .test_transfer_api import echoing_phone

pytestmark = pytest.mark.interop


async def test_a_supervisor_transfers_a_live_call_from_the_console(tmp_path: Path) -> None:
    vaxel = await start_vaxel(tmp_path)
    console = Console(vaxel.server, vaxel.config.ssh.port, tmp_path / "no-key")
    try:
        a = await echoing_phone(vaxel, tmp_path / "a", "1001")
        b = await echoing_phone(vaxel, tmp_path / "b", "1003")
        stack = vaxel.stack
        await stack.runner.apply(stack.acd.agent_login, "1001", "sip:1001", ["support"])
        await stack.runner.apply(stack.acd.agent_login, "1003", "sip:1003", ["sales"])
        sipp = caller(vaxel, tmp_path / "caller", 9000)
        await sipp.start()
        core = stack.controller.core
        for _ in range(200):
            key = next((k for k, c in core.calls.items() if c.agent == "1001"), None)
            if key is not None and core.calls[key].phase == "connected":
                break
            await asyncio.sleep(0.05)
        else:
            raise AssertionError("1001 never got the call")

        async def ssh(command: str) -> tuple[int, str]:
            res = await console.run("admin", command, password=ADMIN_PASSWORD)
            return res.rc, res.out + res.err

        rc, out = await ssh("calls")
        assert rc == 0 and key[:16] in out, out
        short = key[:16]  # as the list shows it
        rc, out = await ssh(f"call {short} hold")
        assert rc == 0 and f"call {key} (agent 1001): on hold" in out, out
        await asyncio.sleep(0.5)
        rc, out = await ssh(f"call {short} resume")
        assert rc == 0 and "resumed" in out, out
        rc, out = await ssh(f"call {short} consult 101")
        assert rc == 1 and "101 is a queue" in out, out
        rc, out = await ssh(f"call {short} transfer nowhere")
        assert rc == 1 and "nowhere" in out, out
        rc, out = await ssh(f"call {short} transfer")
        assert rc == 1 and "give one target" in out, out
        rc, out = await ssh(f"call {short} toggle")
        assert rc == 1 and "no consulted party" in out, out
        rc, out = await ssh("call zz-nope transfer 101")
        assert rc == 1 and "no such live call" in out, out
        await asyncio.sleep(1.0)
        rc, out = await ssh(f"call {short} transfer 101")
        assert rc == 0 and "transferring to 101" in out, out

        res = await sipp.wait()
        assert res.returncode == 0, res.explain()
        await a.wait()
        await b.wait()
        await asyncio.sleep(0.5)
        events = [e for e in await vaxel.server.calllog.events() if e.call_id == key]
        audit = await vaxel.server.audit.entries(target=f"call {key}")
    finally:
        await vaxel.server.stop()
    kinds = [e.kind for e in events]
    assert kinds.index("hold") < kinds.index("resume") < kinds.index("transfer_requested")
    assert [(e.agent, e.queue) for e in events if e.kind == "answered"] == [
        ("1001", "support"),
        ("1003", "sales"),
    ], kinds
    assert "transfer_completed" in kinds
    # The admin acted for agent 1001: audited, through the console.
    assert [e.action for e in audit] == ["call.transfer", "call.resume", "call.hold"], audit
    assert all(e.via == "ssh" and e.actor == "admin" for e in audit), audit
