"""Vaxel registers itself to a SIP trunk and answers the trunk's digest challenge."""

from __future__ import annotations

import asyncio
from pathlib import Path

from tests.peers.sipp import Sipp
from tests.support import free_port

from .conftest import start_vaxel


async def test_vaxel_registers_to_the_trunk_with_its_credentials(tmp_path: Path) -> None:
    trunk_port = free_port()
    registrar = Sipp(
        tmp_path / "trunk", scenario="trunk_registrar.xml", port=trunk_port, timeout=15
    )
    await registrar.start()
    vaxel = await start_vaxel(
        tmp_path,
        replace={
            'port = 5080\ntransport = "udp"': (
                f'port = {trunk_port}\ntransport = "udp"\nusername = "vaxeltrunk"\n'
                'password = "trunk-secret"\nregister = true'
            )
        },
    )
    try:
        res = await registrar.wait()
        assert res.returncode == 0, res.explain()
        msgs = res.messages()
        assert 'Authorization: Digest username="vaxeltrunk"' in msgs
        assert "SIP/2.0 200 OK" in msgs and "SIP/2.0 403" not in msgs
        (reg,) = vaxel.stack.trunk_registrations
        for _ in range(50):
            if reg.registered:
                break
            await asyncio.sleep(0.05)
        assert reg.registered
    finally:
        await vaxel.server.stop()
