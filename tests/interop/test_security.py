"""Under attack, over real sockets: floods get banned, guessers locked, TCP abuse closed.

Run inside a private network namespace so that 127.0.0.2 and 127.0.0.3 are other
"hosts" (127.0.0.0/8 is all loopback) and ports never collide:
``unshare -rn sh -c 'ip link set lo up; python -m pytest tests/interop/test_security.py'``.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from tests.peers.sipclient import UdpClient, request, tcp_socket

from .conftest import RunningVaxel, start_vaxel

SECURITY = """
[security]
ban_seconds = 2
ban_max_seconds = 4

[security.auth]
user_failures = 5
source_failures = 10
lock_seconds = 2
source_lock_seconds = 2
max_lock_seconds = 8

[security.tcp]
idle_timeout = 3
read_timeout = 1
"""


def _usable(host: str) -> bool:
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.bind((host, 0))
    except OSError:
        return False
    return True


pytestmark = pytest.mark.skipif(
    not _usable("127.0.0.2"), reason="127.0.0.2 not bindable (run in a loopback namespace)"
)


@pytest.fixture
async def vaxel(tmp_path: Path) -> AsyncIterator[RunningVaxel]:
    running = await start_vaxel(tmp_path, extra=SECURITY)
    try:
        yield running
    finally:
        await running.server.stop()


def _target(vaxel: RunningVaxel) -> tuple[str, int]:
    return ("127.0.0.1", vaxel.sip_port)


async def _bans(vaxel: RunningVaxel) -> dict:
    async with (
        aiohttp.ClientSession() as http,
        http.get(
            vaxel.http + "/api/security/bans",
            headers={"Authorization": "Bearer demo-admin-token"},
        ) as resp,
    ):
        assert resp.status == 200
        return await resp.json()


def _lines(caplog: pytest.LogCaptureFixture, event: str) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.getMessage() == event]


async def test_500_invites_a_second_ban_the_flooder_a_caller_elsewhere_is_answered(
    vaxel: RunningVaxel, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    flooder = await UdpClient(_target(vaxel), "127.0.0.2").open()
    caller = await UdpClient(_target(vaxel), "127.0.0.1").open()
    try:
        flood = asyncio.create_task(flooder.flood_invites(rate=500, seconds=1.5))
        await asyncio.sleep(0.3)
        answers = [await caller.call("100") for _ in range(3)]
        # And with audio: the welcome prompt's RTP reaches the caller during the flood.
        status, sounding = await caller.call_with_audio("100", listen=1.5)
        sent = await flood
        print("flood sent", sent, "answers", answers, "audio packets", sounding)
        assert all(status == 200 for status, _ in answers), answers
        assert max(took for _, took in answers) < 1.0, answers
        assert status == 200 and sounding >= 30, (status, sounding)
        (ban,) = (await _bans(vaxel))["bans"]
        # Banned for its rate, or (on a loaded machine, the burst's INVITEs still unanswered)
        # for holding more than 20 early dialogs: either strike is the flood's.
        assert ban["address"] == "127.0.0.2", ban
        assert "INVITE rate" in ban["reason"] or "early dialogs" in ban["reason"], ban
        # Answered only within the burst; after the ban nothing at all comes back.
        # (about 30 INVITEs of the burst, each answered 100 and 200 with its retransmissions)
        assert flooder.received < 400, flooder.received
        assert await flooder.options(timeout=0.5) is None
        # One log line for the ban, however many packets were dropped.
        assert len(_lines(caplog, "sip.ban")) == 1
        await asyncio.sleep(2.2)  # the ban expires
        assert await flooder.options(timeout=1.0) == 200
        (unban,) = _lines(caplog, "sip.unban")
        assert unban.reason == "expired" and unban.dropped > 100  # type: ignore[attr-defined]
        assert (await _bans(vaxel))["bans"] == []
    finally:
        flooder.close()
        caller.close()


async def test_a_trickle_of_never_acked_invites_is_capped_then_banned(
    vaxel: RunningVaxel,
) -> None:
    """20/s, under the rate limit: the early-dialog cap (20) answers 503, then bans."""
    trickler = await UdpClient(_target(vaxel), "127.0.0.2").open()
    caller = await UdpClient(_target(vaxel), "127.0.0.1").open()
    try:
        trickle = asyncio.create_task(trickler.flood_invites(rate=20, seconds=4))
        await asyncio.sleep(2.0)
        status, took = await caller.call("100")
        audio_status, sounding = await caller.call_with_audio("100", listen=1.5)
        await trickle
        assert status == 200 and took < 1.0
        assert audio_status == 200 and sounding >= 30, (audio_status, sounding)
        # Per INVITE (the 200s are retransmitted until the ACK that never comes).
        answered = sum(any(r.status == 200 for r in rs) for rs in trickler.responses.values())
        refused = sum(any(r.status == 503 for r in rs) for rs in trickler.responses.values())
        print(f"trickle: {answered} answered, {refused} refused 503")
        assert answered <= 20 and refused >= 1
        (ban,) = (await _bans(vaxel))["bans"]
        assert ban["address"] == "127.0.0.2" and "early dialogs" in ban["reason"]
        # The ban expires (ban_seconds = 2 here): the trickler is answered again.
        await asyncio.sleep(max(0.0, ban["remaining_seconds"]) + 0.5)
        assert await trickler.options(timeout=1.0) == 200
        assert (await _bans(vaxel))["bans"] == []
    finally:
        trickler.close()
        caller.close()


async def test_a_ban_is_listed_and_lifted_through_the_api(vaxel: RunningVaxel) -> None:
    flooder = await UdpClient(_target(vaxel), "127.0.0.2").open()
    try:
        await flooder.flood_invites(rate=500, seconds=0.3)
        assert [b["address"] for b in (await _bans(vaxel))["bans"]] == ["127.0.0.2"]
        headers = {"Authorization": "Bearer demo-admin-token"}
        async with aiohttp.ClientSession() as http:
            async with http.delete(
                vaxel.http + "/api/security/bans/127.0.0.2", headers=headers
            ) as resp:
                assert resp.status == 200
            async with http.delete(
                vaxel.http + "/api/security/bans/127.0.0.2", headers=headers
            ) as resp:
                assert resp.status == 404
            async with http.delete(
                vaxel.http + "/api/security/bans/not-an-ip", headers=headers
            ) as resp:
                assert resp.status == 400
        assert await flooder.options() == 200
    finally:
        flooder.close()


async def test_500_wrong_passwords_lock_source_and_user_a_reused_nonce_is_refused(
    vaxel: RunningVaxel, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    guesser = await UdpClient(_target(vaxel), "127.0.0.2").open()
    phone = await UdpClient(_target(vaxel), "127.0.0.3").open()
    try:
        status, challenge = await phone.register("1002", "wrong-password")
        assert status == 403
        # The nonce that failed buys no second try, not even with the right password.
        again, _ = await phone.register("1002", "secret1002", reuse=challenge)
        assert again == 401
        statuses = []
        for i in range(500):
            status, _ = await guesser.register("1001", f"guess-{i}", timeout=0.3)
            statuses.append(status)
            if status is None:
                break  # banned: nothing comes back any more
        print("guesses answered", len([s for s in statuses if s is not None]))
        assert set(statuses[:10]) == {403} and statuses[-1] is None
        locks = {(lock["kind"], lock["key"]) for lock in (await _bans(vaxel))["locks"]}
        assert locks == {("user", "1001"), ("source", "127.0.0.2")}
        # The right password from another address is refused while 1001 is locked.
        assert (await phone.register("1001", "secret1001"))[0] == 403
        assert (await phone.register("1004", "secret1004"))[0] == 200  # others unaffected
        await asyncio.sleep(2.2)
        assert (await phone.register("1001", "secret1001"))[0] == 200
        assert (await guesser.register("1003", "secret1003"))[0] == 200  # ban over too
        locked = _lines(caplog, "sip.auth_locked")
        assert {(r.kind, r.key) for r in locked} == locks  # type: ignore[attr-defined]
        failed = _lines(caplog, "sip.auth_failed")
        assert 10 <= len(failed) <= 30, len(failed)  # bounded: the ban stops the rest
    finally:
        guesser.close()
        phone.close()


# ------------------------------------------------------------------ TCP


def _read_all(sock: socket.socket, timeout: float) -> tuple[bytes, bool]:
    """What the server sends until it closes (True) or ``timeout`` passes (False)."""
    sock.settimeout(0.2)
    data = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            continue
        except ConnectionResetError:
            return data, True
        if not chunk:
            return data, True
        data += chunk
    return data, False


def _closed_by_peer(sock: socket.socket) -> bool:
    try:
        return sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b""
    except BlockingIOError:
        return False
    except ConnectionResetError:
        return True


async def test_slowloris_and_short_body_connections_are_closed_by_the_read_timeout(
    vaxel: RunningVaxel,
) -> None:
    target = _target(vaxel)
    slow = tcp_socket(target)
    short = tcp_socket(target)
    idle = tcp_socket(target)
    try:
        body_promised = request(
            "OPTIONS", target, short.getsockname(), transport="TCP", body="v=0\r\n"
        ).replace(b"Content-Length: 5", b"Content-Length: 500")
        short.send(body_promised)  # 495 bytes short, forever
        message = request("OPTIONS", target, slow.getsockname(), transport="TCP")
        start = time.monotonic()
        closed_after = None
        for byte in message:  # a byte every 0.2 s: always active, never finished
            try:
                slow.send(bytes([byte]))
            except (BrokenPipeError, ConnectionResetError):
                closed_after = time.monotonic() - start
                break
            await asyncio.sleep(0.2)
        # read_timeout = 1: closed about a second after the message began (the close is
        # seen at the next send or two).
        assert closed_after is not None and closed_after < 2.5, closed_after
        data, closed = await asyncio.to_thread(_read_all, short, 2.5)
        assert closed and data == b""  # nothing to answer: the request never completed
        data, closed = await asyncio.to_thread(_read_all, idle, 4.0)  # idle_timeout = 3
        assert closed
    finally:
        for s in (slow, short, idle):
            s.close()


async def test_a_70_kb_message_gets_513_before_the_close(vaxel: RunningVaxel) -> None:
    target = _target(vaxel)
    sock = tcp_socket(target)
    try:
        body = "a=x-padding:" + "y" * 70_000 + "\r\n"
        sock.sendall(request("OPTIONS", target, sock.getsockname(), transport="TCP", body=body))
        data, closed = await asyncio.to_thread(_read_all, sock, 3.0)
        assert data.startswith(b"SIP/2.0 513 Message Too Large\r\n"), data[:200]
        assert closed
    finally:
        sock.close()


async def test_tcp_connections_over_the_per_source_cap_are_refused_with_one_line(
    vaxel: RunningVaxel, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    target = _target(vaxel)
    socks = []
    try:
        for _ in range(40):  # the cap is 32 per source
            socks.append(tcp_socket(target, "127.0.0.2"))
        await asyncio.sleep(0.3)
        closed = sum(_closed_by_peer(s) for s in socks)
        assert closed == 8
        assert len(_lines(caplog, "sip.tcp_refused")) == 1
        caller = await UdpClient(target).open()
        try:
            assert (await caller.call("100"))[0] == 200
        finally:
            caller.close()
    finally:
        for s in socks:
            s.close()


async def test_a_banned_address_loses_its_tcp_connections_and_cannot_open_new_ones(
    vaxel: RunningVaxel,
) -> None:
    target = _target(vaxel)
    conn = tcp_socket(target, "127.0.0.2")
    try:
        await asyncio.sleep(0.2)
        vaxel.stack.guard.ban("127.0.0.2", vaxel.stack.endpoint.now(), "test")
        vaxel.stack.endpoint.transmit()
        await asyncio.sleep(0.2)
        assert _closed_by_peer(conn)
        again = tcp_socket(target, "127.0.0.2")
        await asyncio.sleep(0.2)
        assert _closed_by_peer(again)
        again.close()
    finally:
        conn.close()
