"""A real VaxelServer with the SSH console on a free port, and the real OpenSSH client."""

from __future__ import annotations

import asyncio
import os
import pty
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from config import parse_config
from tests.support import demo_toml_with, require_tool
from vaxel.server import VaxelServer

ADMIN_PASSWORD = "demo-admin-password"


@dataclass
class Result:
    rc: int
    out: str
    err: str

    def __str__(self) -> str:  # what a failed assertion shows
        return f"rc={self.rc}\n--- stdout\n{self.out}\n--- stderr\n{self.err}"


@dataclass
class Console:
    server: VaxelServer
    port: int
    key: Path  # private key of user "keyadmin"

    def ssh_args(self, user: str, *, key: Path | None = None) -> list[str]:
        args = [
            require_tool("ssh"),
            "-p",
            str(self.port),
            "-o",
            "StrictHostKeyChecking=no",
            "-o",
            "UserKnownHostsFile=/dev/null",
            "-o",
            "LogLevel=ERROR",
            "-o",
            "ConnectTimeout=10",
            "-F",
            "/dev/null",
        ]
        if key is None:
            args += ["-o", "PubkeyAuthentication=no", "-o", "NumberOfPasswordPrompts=1"]
        else:
            args += ["-i", str(key), "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes"]
            args += ["-o", "PasswordAuthentication=no", "-o", "KbdInteractiveAuthentication=no"]
        return [*args, f"{user}@127.0.0.1"]

    async def run(
        self, user: str, command: str, *, password: str | None = None, key: Path | None = None
    ) -> Result:
        """``ssh user@host COMMAND`` with the real client (the password through sshpass)."""
        args = [*self.ssh_args(user, key=key), command]
        if password is not None:
            args = [require_tool("sshpass"), "-p", password, *args]
        proc = await asyncio.create_subprocess_exec(
            *args,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(proc.communicate(), 30)
        result = Result(proc.returncode or 0, out.decode(), err.decode())
        print(f"$ ssh {user}@console {command}\n{result}")
        return result


class Terminal:
    """An interactive ``ssh -tt`` session on a pseudo-terminal, as a person at a keyboard."""

    def __init__(self, proc: asyncio.subprocess.Process, master: int) -> None:
        self.proc = proc
        self.master = master
        self.seen = bytearray()

    @classmethod
    async def open(cls, console: Console, user: str, password: str) -> Terminal:
        master, slave = pty.openpty()
        args = [require_tool("sshpass"), "-p", password, *console.ssh_args(user)]
        args.insert(args.index("-p", 3), "-tt")
        proc = await asyncio.create_subprocess_exec(
            *args, stdin=slave, stdout=slave, stderr=slave, start_new_session=True
        )
        os.close(slave)
        os.set_blocking(master, False)
        return cls(proc, master)

    def _drain(self) -> None:
        try:
            while chunk := os.read(self.master, 4096):
                self.seen.extend(chunk)
        except (BlockingIOError, OSError):
            pass

    async def expect(self, text: bytes, timeout: float = 15.0) -> bytes:
        """Wait until ``text`` has been shown; returns everything shown so far."""
        start = len(self.seen)
        deadline = time.monotonic() + timeout
        while text not in self.seen[start - 200 if start > 200 else 0 :]:
            if time.monotonic() > deadline:
                raise AssertionError(f"{text!r} not shown; the terminal showed:\n{self.text()}")
            await asyncio.sleep(0.05)
            self._drain()
        return bytes(self.seen)

    def type(self, keys: bytes) -> None:
        os.write(self.master, keys)

    def text(self) -> str:
        return bytes(self.seen).decode(errors="replace")

    async def close(self) -> int:
        try:
            rc = await asyncio.wait_for(self.proc.wait(), 15)
        finally:
            if self.proc.returncode is None:
                self.proc.kill()
                await self.proc.wait()
            os.close(self.master)
        print(f"--- interactive session\n{self.text()}")
        return rc


@pytest.fixture
async def console(tmp_path: Path) -> AsyncIterator[Console]:
    require_tool("ssh")
    require_tool("sshpass")
    keygen = require_tool("ssh-keygen")
    key = tmp_path / "id_ed25519"
    proc = await asyncio.create_subprocess_exec(
        keygen, "-q", "-t", "ed25519", "-N", "", "-C", "keyadmin@test", "-f", str(key)
    )
    assert await proc.wait() == 0
    public = key.with_suffix(".pub").read_text().strip()
    extra = f"""
[users.keyadmin]
role = "admin"
password = "keyadmin-password-not-used"
ssh_keys = ["{public}"]
"""
    config = parse_config(demo_toml_with(tmp_path, extra=extra), source="test.toml")
    server = VaxelServer(config, base_dir=tmp_path)
    await server.start()
    try:
        yield Console(server, config.ssh.port, key)
    finally:
        await server.stop()
