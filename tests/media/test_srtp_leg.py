"""SRTP/SRTCP on a media leg over real UDP sockets: a prompt arrives protected and intact,
the peer's audio is unprotected and recorded, forged packets are dropped."""

from __future__ import annotations

import asyncio
import os
import socket
from pathlib import Path

import numpy as np
import pylibsrtp
import pytest
import soundfile as sf
from aiortc.rtp import RtcpPacket, RtpPacket

from media import MediaEngine, SrtpContext, SrtpError, g711

from .test_engine_udp import best_correlation, speechlike

SUITE = "AES_CM_128_HMAC_SHA1_80"
OURS, THEIRS = os.urandom(30), os.urandom(30)


def _session(key: bytes, kind: int) -> pylibsrtp.Session:
    return pylibsrtp.Session(
        pylibsrtp.Policy(
            key=key, ssrc_type=kind, srtp_profile=pylibsrtp.Policy.SRTP_PROFILE_AES128_CM_SHA1_80
        )
    )


@pytest.fixture
async def engine(tmp_path: Path):
    eng = MediaEngine("127.0.0.1", 32000, 32999, prompt_dir=tmp_path, no_rtp_timeout=None)
    await eng.start()
    yield eng
    await eng.close()


def _drain(sock: socket.socket) -> list[bytes]:
    out = []
    while True:
        try:
            out.append(sock.recv(2048))
        except BlockingIOError:
            return out


async def test_prompt_is_sent_as_srtp_and_decrypts_to_the_prompt(
    engine: MediaEngine, tmp_path: Path
) -> None:
    src = speechlike(1.0, seed=7)
    wav = tmp_path / "p.wav"
    sf.write(str(wav), src, 8000, subtype="PCM_16")
    peer = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    peer.bind(("127.0.0.1", 0))
    peer.setblocking(False)
    try:
        leg = await engine.open_leg()
        leg.set_srtp(SUITE, OURS, THEIRS)
        leg.set_remote("127.0.0.1", peer.getsockname()[1])
        await leg.play([wav])
        await asyncio.sleep(0.05)
        wire = _drain(peer)
        assert len(wire) >= 50
        # On the wire: 10 bytes of authentication tag, and the payload is not the audio.
        assert all(len(d) == 12 + 160 + 10 for d in wire)
        plain_payload = g711.encode(src[:160], "PCMU")
        assert not any(plain_payload in d for d in wire)
        rx = _session(OURS, pylibsrtp.Policy.SSRC_ANY_INBOUND)
        pkts = [RtpPacket.parse(rx.unprotect(d)) for d in wire]
        heard = g711.decode(b"".join(p.payload for p in pkts if p.payload_type == 0), "PCMU")
        assert best_correlation(src, heard) > 0.99
    finally:
        peer.close()


async def test_srtp_from_the_peer_is_recorded_and_forgeries_are_dropped(
    engine: MediaEngine, tmp_path: Path
) -> None:
    peer = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    peer.bind(("127.0.0.1", 0))
    peer.setblocking(False)
    tx = _session(THEIRS, pylibsrtp.Policy.SSRC_ANY_OUTBOUND)
    forger = _session(THEIRS, pylibsrtp.Policy.SSRC_ANY_OUTBOUND)
    try:
        leg = await engine.open_leg()
        leg.set_srtp(SUITE, OURS, THEIRS)
        leg.set_remote("127.0.0.1", peer.getsockname()[1])
        src = speechlike(1.0, seed=9)
        enc = g711.encode(src, "PCMU")
        rec = asyncio.create_task(leg.record(tmp_path / "r.wav", max_seconds=1.0))
        await asyncio.sleep(0.01)
        forged = 0
        loop = asyncio.get_running_loop()
        start = loop.time()
        for i in range(0, len(enc), 160):
            pkt = RtpPacket(0, 0, 100 + i // 160, 5000 + i, 0x1234, enc[i : i + 160]).serialize()
            peer.sendto(tx.protect(pkt), ("127.0.0.1", leg.local_port))
            if i // 160 % 10 == 0:  # plain RTP and a bad tag: neither may be heard
                peer.sendto(pkt, ("127.0.0.1", leg.local_port))
                bad = bytearray(forger.protect(pkt[:12] + b"\x00" * 160))
                bad[-1] ^= 0xFF
                peer.sendto(bytes(bad), ("127.0.0.1", leg.local_port))
                forged += 2
            await asyncio.sleep(max(0.0, start + (i // 160 + 1) * 0.02 - loop.time()))
        res = await rec
        written, _ = sf.read(str(res.path), dtype="int16")
        assert best_correlation(src[: len(written)], written) > 0.99
        assert leg.srtp is not None and leg.srtp.rejected >= forged
        assert "rejected" in repr(leg.srtp) and OURS.hex() not in repr(leg.srtp)
        # Our RTCP goes out as SRTCP: the peer's context authenticates and reads it.
        leg.session.schedule_rtcp(0.0)
        rtcp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        rtcp.bind(("127.0.0.1", 0))
        leg.session.set_remote("127.0.0.1", peer.getsockname()[1], rtcp.getsockname()[1])
        leg._send_rtcp(leg._rtcp_report(loop.time()))
        rtcp.settimeout(2)
        data = await loop.run_in_executor(None, rtcp.recv, 2048)
        rtcp.close()
        rx = _session(OURS, pylibsrtp.Policy.SSRC_ANY_INBOUND)
        assert RtcpPacket.parse(rx.unprotect_rtcp(data))
    finally:
        peer.close()


async def test_plain_leg_keeps_the_plain_send_path(engine: MediaEngine) -> None:
    leg = await engine.open_leg()
    assert "_send" not in vars(leg) and leg.srtp is None
    leg.set_srtp(SUITE, OURS, THEIRS)
    assert vars(leg)["_send"] == leg._send_srtp
    ctx = leg.srtp
    leg.set_srtp(SUITE, OURS, THEIRS)  # a re-INVITE with the same keys keeps the context
    assert leg.srtp is ctx
    leg.set_srtp(None)
    assert "_send" not in vars(leg) and leg.srtp is None


def test_srtp_context_refuses_bad_suites_and_keys() -> None:
    with pytest.raises(SrtpError, match="suite"):
        SrtpContext("NULL_HMAC_SHA1_80", OURS, THEIRS)
    with pytest.raises(SrtpError, match="30 bytes"):
        SrtpContext(SUITE, OURS[:16], THEIRS)
    assert np is not None
