"""A real VaxelServer on free ports, and an HTTP client for its API."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from config import parse_config
from tests.support import demo_toml_with
from vaxel.server import VaxelServer

TOKEN = "demo-admin-token"


@dataclass
class Api:
    """The running server and a client session that sends the demo token."""

    server: VaxelServer
    session: aiohttp.ClientSession
    base: str

    def url(self, path: str) -> str:
        return self.base + path

    async def call(
        self, method: str, path: str, body: Any = None, *, raw: str | None = None
    ) -> tuple[int, Any]:
        """(status, decoded JSON) of one request; ``raw`` sends a body verbatim."""
        kwargs: dict[str, Any] = {"headers": {"Authorization": f"Bearer {TOKEN}"}}
        if raw is not None:
            kwargs["data"] = raw
            kwargs["headers"]["Content-Type"] = "application/json"
        elif body is not None:
            kwargs["json"] = body
        async with self.session.request(method, self.url(path), **kwargs) as resp:
            return resp.status, await resp.json()


@pytest.fixture
async def running_server(tmp_path: Path) -> AsyncIterator[VaxelServer]:
    config = parse_config(demo_toml_with(tmp_path), source="test.toml")
    server = VaxelServer(config, base_dir=tmp_path)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


@pytest.fixture
async def api(running_server: VaxelServer) -> AsyncIterator[Api]:
    async with aiohttp.ClientSession() as session:
        yield Api(running_server, session, running_server.http_url)
