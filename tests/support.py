"""Helpers shared by the test suite: free ports, test configurations, real-peer lookup."""

from __future__ import annotations

import os
import shutil
import socket
from pathlib import Path

import pytest

from config import DEMO_CONFIG

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def free_port(kind: int = socket.SOCK_STREAM, *, both: bool = True) -> int:
    """A port free for TCP and UDP on 127.0.0.1 (SIP listens on both)."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, kind) as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if not both:
            return port
        other = socket.SOCK_DGRAM if kind == socket.SOCK_STREAM else socket.SOCK_STREAM
        try:
            with socket.socket(socket.AF_INET, other) as s:
                s.bind(("127.0.0.1", port))
        except OSError:
            continue
        return port
    raise RuntimeError("no free port")


def free_port_with_next() -> int:
    """A port free for TCP and UDP whose next port is free for TCP too: baresip listens
    for SIP over TLS on the port after its sip_listen one."""
    for _ in range(50):
        port = free_port()
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
                s.bind(("127.0.0.1", port + 1))
        except OSError:
            continue
        return port
    raise RuntimeError("no free port pair")


def free_port_range(size: int = 200) -> tuple[int, int]:
    """A block of UDP ports that is free right now (for an RTP range)."""
    for _ in range(50):
        base = free_port(socket.SOCK_DGRAM, both=False) & ~1
        if base + size > 65000:
            continue
        socks = []
        try:
            for p in range(base, base + size, 37):
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                socks.append(s)
                s.bind(("127.0.0.1", p))
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
        return base, base + size - 1
    raise RuntimeError("no free port range")


def demo_toml_with(
    tmp_path: Path, *, replace: dict[str, str] | None = None, extra: str = ""
) -> str:
    """The demo configuration with free ports, a data dir under tmp_path and edits applied."""
    sip_port, http_port, ssh_port = free_port(), free_port(), free_port()
    rtp_min, rtp_max = free_port_range()
    text = DEMO_CONFIG.read_text()
    text = text.replace("port = 5060", f"port = {sip_port}")
    text = text.replace("port = 8080", f"port = {http_port}")
    text = text.replace("port = 2222", f"port = {ssh_port}")
    text = text.replace("port_min = 20000", f"port_min = {rtp_min}")
    text = text.replace("port_max = 20999", f"port_max = {rtp_max}")
    text = text.replace('data_dir = "var"', f'data_dir = "{tmp_path / "var"}"')
    text = text.replace(
        'url = "sqlite+aiosqlite:///var/vaxel.db"',
        f'url = "sqlite+aiosqlite:///{tmp_path / "var" / "vaxel.db"}"',
    )
    for old, new in (replace or {}).items():
        assert old in text, f"test config edit: {old!r} not in demo config"
        text = text.replace(old, new)
    return text + "\n" + extra


def require_tool(name: str) -> str:
    """Path of a real peer program; skip locally when missing, fail in CI."""
    path = shutil.which(name)
    if path is None:
        msg = f"{name} is not installed (make test installs it with apt-get)"
        if IN_CI:
            pytest.fail(msg)
        pytest.skip(msg)
    return path
