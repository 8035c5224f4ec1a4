"""A real Vaxel server in the test's event loop, on free ports, for real peers to call."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from config import VaxelConfig, parse_config
from tests.peers.sipp import Sipp, SippResult
from tests.support import demo_toml_with
from vaxel.server import VaxelServer

# Extra numbers the interop tests dial besides the demo's 100/101/190/191.
TEST_NUMBERS = '"102" = { queue = "support", ring_seconds = 5 }\n"101" = { queue = "sales" }'


@dataclass
class RunningVaxel:
    server: VaxelServer
    config: VaxelConfig
    tmp: Path

    @property
    def sip_port(self) -> int:
        return self.config.sip.port

    @property
    def sip_target(self) -> str:
        return f"127.0.0.1:{self.sip_port}"

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.config.http.port}"

    @property
    def stack(self):  # noqa: ANN201 - CallStack
        return self.server.calls


async def start_vaxel(
    tmp_path: Path, *, replace: dict[str, str] | None = None, extra: str = ""
) -> RunningVaxel:
    edits = {'"101" = { queue = "sales" }': TEST_NUMBERS, **(replace or {})}
    text = demo_toml_with(tmp_path, replace=edits, extra=extra)
    (tmp_path / "vaxel.toml").write_text(text)
    config = parse_config(text, source=str(tmp_path / "vaxel.toml"))
    server = VaxelServer(config, base_dir=tmp_path)
    await server.start()
    return RunningVaxel(server, config, tmp_path)


async def sipp_register(
    vaxel: RunningVaxel, workdir: Path, agent: str, password: str, contact_port: int
) -> SippResult:
    """REGISTER ``agent`` with digest through SIPp, its Contact on ``contact_port``."""
    return await Sipp(
        workdir, scenario="register.xml", target=vaxel.sip_target, timeout=10
    ).run_with(
        "-s",
        agent,
        "-au",
        agent,
        "-ap",
        password,
        "-key",
        "contact_port",
        str(contact_port),
        "-key",
        "expires",
        "600",
    )


@pytest.fixture
async def vaxel(tmp_path: Path) -> AsyncIterator[RunningVaxel]:
    running = await start_vaxel(tmp_path)
    try:
        yield running
    finally:
        await running.server.stop()
