"""Port pressure: a tiny RTP range (two pairs) is exhausted by two answered calls; the
third caller gets 503 with Retry-After, and the failure is counted in /api/health and
shown by the console's ``security`` command."""

from __future__ import annotations

import logging
import re
import secrets
from pathlib import Path

import aiohttp
import pytest

from access import Principal, Role
from config import parse_config
from tests.peers.sipclient import SDP, UdpClient, request
from tests.support import demo_toml_with, free_port_range
from vaxel.server import VaxelServer
from vaxel.services import Actor
from vaxel.ssh.commands import Console, ConsoleError

from .conftest import RunningVaxel


async def test_exhausted_rtp_range_is_503_and_counted(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    low, _ = free_port_range(8)
    # Two RTP/RTCP pairs only: low, low+1 and low+2, low+3.
    text = demo_toml_with(tmp_path)
    text = re.sub(r"(?m)^port_min = \d+$", f"port_min = {low}", text)
    text = re.sub(r"(?m)^port_max = \d+$", f"port_max = {low + 3}", text)
    config = parse_config(text)
    vaxel = RunningVaxel(VaxelServer(config, base_dir=tmp_path), config, tmp_path)
    await vaxel.server.start()
    client = await UdpClient(("127.0.0.1", vaxel.sip_port)).open()
    try:
        caplog.set_level(logging.INFO)
        statuses = []
        for _ in range(10):
            cid = secrets.token_hex(8)
            body = SDP.format(host="127.0.0.1", port=40000)
            client.send(request("INVITE", client.target, client.local, call_id=cid, body=body))
            final = await client.final(cid, 10)
            assert final is not None
            statuses.append(final.status)
            to_tag = final.to_addr.params.get("tag")
            client.send(request("ACK", client.target, client.local, call_id=cid, to_tag=to_tag))
            if final.status == 503:
                assert final.headers.get("Retry-After"), final
        assert statuses == [200, 200] + [503] * 8, statuses
        # Eight refusals, five log lines: the budget holds the rest (quiet under a flood).
        lines = [r for r in caplog.records if r.getMessage() == "call.no_media_port"]
        assert len(lines) == 5, len(lines)
        async with aiohttp.ClientSession() as http, http.get(vaxel.http + "/api/health") as r:
            health = await r.json()
        assert health["rtp_ports"] == {"pairs": 2, "in_use": 2, "allocation_failures": 8}
        assert health["sip_connections"]["refused"] == 0
        admin = Actor(Principal.of("admin", Role.ADMIN), "ssh", "127.0.0.1")
        shown = await Console(vaxel.server, admin).run("security")
        assert "RTP port pairs: 2 of 2 in use, 8 calls found none free" in shown, shown
        assert "no bans" in shown
        # Bans are seen and lifted from the console too (audited like the API's DELETE).
        stack = vaxel.stack
        stack.guard.request_ban("127.0.0.9", "test ban")
        stack.endpoint.transmit()
        console = Console(vaxel.server, admin)
        assert "127.0.0.9  test ban" in await console.run("security")
        assert "lifted" in await console.run("unban 127.0.0.9")
        with pytest.raises(ConsoleError, match="neither banned nor locked"):
            await console.run("unban 127.0.0.9")
        with pytest.raises(ConsoleError, match="expected an IP address"):
            await console.run("unban nonsense")
        (entry,) = await vaxel.server.audit.entries(target="127.0.0.9")
        assert (entry.action, entry.via) == ("security.unbanned", "ssh")
    finally:
        client.close()
        await vaxel.server.stop()
