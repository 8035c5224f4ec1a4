"""A VaxelServer with a movable clock and an SMTP server (aiosmtpd) beside it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiosmtpd.controller import Controller

from config import parse_config
from tests.support import demo_toml_with, free_port
from vaxel.server import VaxelServer

TOKEN = "demo-admin-token"
HEADERS = {"Authorization": f"Bearer {TOKEN}"}


class Clock:
    """The report centre's clock, moved by the test."""

    def __init__(self, t: float) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


@dataclass
class Mailbox:
    """What an aiosmtpd server received; ``fail_next`` answers the next DATA with 451."""

    messages: list[EmailMessage] = field(default_factory=list)
    fail_next: int = 0
    attempts: int = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.attempts += 1
        if self.fail_next > 0:
            self.fail_next -= 1
            return "451 4.3.0 try again later (test)"
        msg = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(msg, EmailMessage)
        self.messages.append(msg)
        return "250 OK"

    async def wait_for(self, count: int, timeout: float = 20) -> list[EmailMessage]:
        async with asyncio.timeout(timeout):
            while len(self.messages) < count:
                await asyncio.sleep(0.05)
        return self.messages


@pytest.fixture
def smtp() -> AsyncIterator[tuple[Mailbox, int]]:
    box = Mailbox()
    port = free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield box, port
    finally:
        controller.stop()


def server_config(tmp_path: Path, smtp_port: int) -> Any:
    text = demo_toml_with(tmp_path, replace={"port = 8025": f"port = {smtp_port}"})
    return parse_config(text, source="test.toml")


StartServer = Callable[..., Any]


@pytest.fixture
async def start_server(tmp_path: Path, smtp: tuple[Mailbox, int]) -> AsyncIterator[StartServer]:
    """``await start_server(clock)``: a server on the same database each time (a restart)."""
    config = server_config(tmp_path, smtp[1])
    running: list[VaxelServer] = []

    async def start(clock: Clock) -> VaxelServer:
        server = VaxelServer(config, base_dir=tmp_path)
        server.clock = clock
        await server.start()
        running.append(server)
        return server

    try:
        yield start
    finally:
        for s in running:
            await s.stop()


@dataclass
class RawApi:
    """The running server and a client session that sends the demo token."""

    server: VaxelServer
    session: aiohttp.ClientSession
    base: str

    def url(self, path: str) -> str:
        return self.base + path

    async def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        kwargs: dict[str, Any] = {"headers": HEADERS}
        if body is not None:
            kwargs["json"] = body
        async with self.session.request(method, self.url(path), **kwargs) as resp:
            return resp.status, await resp.json()

    async def raw(self, path: str) -> tuple[int, str, bytes]:
        async with self.session.get(self.url(path), headers=HEADERS) as resp:
            return resp.status, resp.content_type, await resp.read()


@pytest.fixture
async def http_session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s
