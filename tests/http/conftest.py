"""A real VaxelServer on free ports, and an HTTP client for its API."""

from __future__ import annotations

import socket
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from config import parse_config
from sip.registrar import Binding
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


@pytest.fixture
def silent_phone() -> Iterator[socket.socket]:
    """A UDP socket that never answers: a registered phone that rings and rings."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    try:
        yield sock
    finally:
        sock.close()


def register_phone(api: Api, user: str, phone: socket.socket) -> None:
    """Put a binding for ``user`` at ``phone`` in the registrar, as a REGISTER would."""
    host, port = phone.getsockname()
    api.server.calls.registrar.restore(
        Binding(
            user=user,
            contact=f"<sip:{user}@{host}:{port}>",
            expires_at=time.time() + 300,
            source=(host, port),
            transport="UDP",
            call_id=f"test-{user}",
            cseq=1,
        )
    )


# The report centre's fixtures (a server with a movable clock, an aiosmtpd server).
from .report_fixtures import http_session, smtp, start_server  # noqa: E402, F401
