"""2,000 idle TCP connections against a server limited to 1,024 file descriptors.

The server runs in a subprocess with ``RLIMIT_NOFILE`` lowered, so the test itself
keeps enough descriptors for its 2,000 sockets. Run in a loopback namespace (see
test_security.py); the checks: a UDP call is still answered, the refused connections
are closed (not left hanging in the backlog), and the log stays bounded.
"""

from __future__ import annotations

import asyncio
import re
import resource
import signal
import socket
import sys
import textwrap
import time
from pathlib import Path

import pytest

from tests.peers.sipclient import UdpClient
from tests.support import demo_toml_with

ROOT = Path(__file__).resolve().parents[2]
LIMIT = 1024


def _lower_fd_limit() -> None:
    resource.setrlimit(resource.RLIMIT_NOFILE, (LIMIT, LIMIT))


pytestmark = pytest.mark.skipif(
    resource.getrlimit(resource.RLIMIT_NOFILE)[0] < 2300,
    reason="the test needs 2,300 file descriptors for its own sockets",
)


def _open_many(
    target: tuple[str, int], count: int, offset: int = 0
) -> tuple[list[socket.socket], int]:
    """Open ``count`` connections (non-blocking connect); (sockets, refused at connect)."""
    socks: list[socket.socket] = []
    failed = 0
    for i in range(offset, offset + count):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.bind((f"127.0.{1 + i // 200}.{2 + i % 200}", 0))  # many sources: the total cap
        s.setblocking(False)
        try:
            s.connect(target)
        except BlockingIOError:
            pass
        except OSError:
            failed += 1
            s.close()
            continue
        socks.append(s)
    return socks, failed


def _closed_by_peer(sock: socket.socket) -> bool:
    try:
        return sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b""
    except BlockingIOError:
        return False
    except OSError:
        return True


async def _serve(tmp_path: Path, extra: str = "") -> tuple[asyncio.subprocess.Process, int]:
    cfg = tmp_path / "cfg.toml"
    cfg.write_text(demo_toml_with(tmp_path, extra=extra))
    port = int(re.search(r"\[sip\][^\[]*?port = (\d+)", cfg.read_text(), re.S).group(1))  # type: ignore[union-attr]
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "vaxel.cli",
        "serve",
        "--config",
        str(cfg),
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        preexec_fn=_lower_fd_limit,
    )
    assert proc.stdout is not None
    line = await asyncio.wait_for(proc.stdout.readline(), 30)
    assert b"Vaxel" in line, line
    await asyncio.sleep(0.3)
    return proc, port


async def _stop(proc: asyncio.subprocess.Process) -> str:
    proc.send_signal(signal.SIGTERM)
    _, err = await asyncio.wait_for(proc.communicate(), 30)
    return err.decode()


async def test_2000_idle_tcp_connections_under_a_1024_fd_limit_leave_udp_calls_answered(
    tmp_path: Path,
) -> None:
    proc, port = await _serve(tmp_path)
    target = ("127.0.0.1", port)
    socks: list[socket.socket] = []
    try:
        socks, failed = [], 0
        for _ in range(20):  # 2,000 in batches, as fast as the server takes them
            batch, lost = _open_many(target, 100, offset=len(socks) + failed)
            socks += batch
            failed += lost
            await asyncio.sleep(0.05)
        # The server takes the backlog in bursts: wait (on a busy machine) until it has.
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            await asyncio.sleep(0.5)
            if sum(_closed_by_peer(s) for s in socks) + failed >= 2000 - LIMIT // 2 - 5:
                break
        caller = await UdpClient(target).open()
        try:
            answers = [await caller.call("100", timeout=5) for _ in range(3)]
        finally:
            caller.close()
        refused = sum(_closed_by_peer(s) for s in socks)
        print(f"connect failures {failed}, closed by the server {refused}, answers {answers}")
        assert all(status == 200 for status, _ in answers), answers
        # The cap is half the descriptors (512): the rest were accepted and closed.
        assert refused + failed >= 2000 - LIMIT // 2 - 5
    finally:
        for s in socks:
            s.close()
        err = await _stop(proc)
    lines = err.splitlines()
    print("\n".join(lines[-15:]))
    assert "Traceback" not in err
    assert len([line for line in lines if "sip.tcp_refused" in line]) <= 3
    assert len(lines) < 60, len(lines)


ENDPOINT_SCRIPT = textwrap.dedent(
    """
    import asyncio, logging, resource, socket, sys
    sys.path.insert(0, {root!r})
    from sip.guard import GuardPolicy, SourceGuard, TcpPolicy
    from sip.transport import SipEndpoint
    from vaxel.logs import setup_logging

    resource.setrlimit(resource.RLIMIT_NOFILE, (128, 128))
    setup_logging("info")

    async def main():
        async def on_event(ev):
            pass
        # No cap below the descriptor limit: accept() itself runs out (EMFILE).
        ep = SipEndpoint(on_event, guard=SourceGuard(GuardPolicy(enabled=False)),
                         tcp=TcpPolicy(max_connections=10_000, max_per_source=10_000))
        host, port = await ep.start("127.0.0.1", 0)
        print(port, flush=True)
        await asyncio.sleep(float(sys.argv[1]))
        print("refused", ep.refused_connections, flush=True)
        await ep.close()

    asyncio.run(main())
    """
)


async def test_running_out_of_descriptors_refuses_connections_and_udp_still_answers(
    tmp_path: Path,
) -> None:
    script = tmp_path / "endpoint.py"
    script.write_text(ENDPOINT_SCRIPT.format(root=str(ROOT)))
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        str(script),
        "5",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert proc.stdout is not None
    port = int(await asyncio.wait_for(proc.stdout.readline(), 10))
    target = ("127.0.0.1", port)
    socks: list[socket.socket] = []
    try:
        socks, _ = _open_many(target, 400)
        await asyncio.sleep(1.0)
        client = await UdpClient(target).open()
        try:
            start = time.monotonic()
            assert await client.options(timeout=2) == 200  # UDP is still served
            print(f"OPTIONS answered in {time.monotonic() - start:.3f}s")
        finally:
            client.close()
        refused = sum(_closed_by_peer(s) for s in socks)
        assert refused >= 200, refused  # accepted on the spare descriptor and closed
    finally:
        for s in socks:
            s.close()
    out, err = await asyncio.wait_for(proc.communicate(), 20)
    text = err.decode()
    print(out.decode(), text[-2000:])
    assert "Traceback" not in text
    lines = [line for line in text.splitlines() if line.strip()]
    assert 1 <= len([line for line in lines if "out of file descriptors" in line]) <= 2
    assert len(lines) <= 5, lines
