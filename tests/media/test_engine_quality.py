"""A media leg's quality statistics over real UDP: received RTP feeds ReceiveStats, peers'
RTCP report blocks and XR VoIP metrics reach RemoteStats, our RTCP carries an XR block."""

from __future__ import annotations

import asyncio
import socket
import struct

import pytest
from aiortc.rtp import RtcpReceiverInfo, RtcpRrPacket, RtpPacket

from media import MediaEngine
from media.rtpstats import (
    VoipMetrics,
    build_xr_packet,
    ntp_middle32,
    ntp_timestamp,
    parse_xr_packet,
)

SSRC = 0x1234ABCD


@pytest.fixture
async def engine(tmp_path):
    eng = MediaEngine("127.0.0.1", 33000, 33099, prompt_dir=tmp_path, no_rtp_timeout=None)
    await eng.start()
    yield eng
    await eng.close()


def _udp(port: int = 0) -> socket.socket:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", port))
    return s


async def _until(cond, what: str) -> None:
    async with asyncio.timeout(5):
        while not cond():
            await asyncio.sleep(0.01)
    assert cond(), what


async def test_received_rtp_is_counted_with_its_loss(engine) -> None:
    leg = await engine.open_leg()
    peer = _udp()
    try:
        leg.set_remote("127.0.0.1", peer.getsockname()[1])
        for i in range(200):
            if i % 10 == 5:
                continue  # 10 % loss
            pkt = RtpPacket(0, False, i, i * 160, SSRC, bytes(160)).serialize()
            peer.sendto(pkt, ("127.0.0.1", leg.local_port))
            await asyncio.sleep(0.002)
        await _until(lambda: leg.stats.packets_received >= 180, "packets arrive")
        fig = leg.rx_stats.snapshot()
        assert fig.ssrc == SSRC
        assert fig.packets_expected == 199  # the first packet is RFC 3550 probation
        assert fig.packets_lost == 20
        assert fig.lost_decided > 0 and fig.effective_loss == pytest.approx(0.1, abs=0.02)
    finally:
        peer.close()


async def test_peer_rtcp_gives_rtt_far_end_loss_and_xr_metrics(engine) -> None:
    leg = await engine.open_leg()
    peer = _udp()
    try:
        rtp_port = peer.getsockname()[1]
        leg.set_remote("127.0.0.1", rtp_port, rtcp_port=rtp_port)
        # As if we had sent an SR 50 ms ago that the peer held for 20 ms before reporting.
        now_unix = engine.loop.time() + leg.session.wall_offset
        lsr = ntp_middle32(ntp_timestamp(now_unix - 0.050))
        block = RtcpReceiverInfo(
            ssrc=leg.session.ssrc,
            fraction_lost=64,
            packets_lost=12,
            highest_sequence=500,
            jitter=80,
            lsr=lsr,
            dlsr=int(0.020 * 65536),
        )
        xr = VoipMetrics(
            ssrc=leg.session.ssrc,
            loss_rate=0.05,
            discard_rate=0.01,
            burst_density=0.0,
            gap_density=0.05,
            burst_duration_ms=0,
            gap_duration_ms=5000,
            round_trip_delay_ms=31,
            end_system_delay_ms=80,
            mos_lq=3.9,
        )
        data = bytes(RtcpRrPacket(ssrc=SSRC, reports=[block])) + build_xr_packet(SSRC, [xr])
        peer.sendto(data, ("127.0.0.1", leg.local_rtcp_port))
        remote = leg.remote_stats
        await _until(lambda: remote.voip_metrics is not None, "XR parsed")
        assert remote.fraction_lost == pytest.approx(0.25)
        assert remote.cumulative_lost == 12
        assert remote.jitter_ms == pytest.approx(10.0)
        assert remote.rtt is not None and 0.025 < remote.rtt < 0.5  # ~30 ms on a quiet machine
        assert remote.voip_metrics.mos_lq == pytest.approx(3.9)
        assert leg.stats.malformed == 0
    finally:
        peer.close()


async def test_our_rtcp_report_carries_xr_voip_metrics_about_what_we_receive(engine) -> None:
    leg = await engine.open_leg()
    peer = _udp()
    rtcp_sink = _udp(peer.getsockname()[1] + 1)
    try:
        leg.set_remote("127.0.0.1", peer.getsockname()[1])
        for i in range(120):
            if i in (40, 41, 42):
                continue
            peer.sendto(
                RtpPacket(0, False, i, i * 160, SSRC, bytes(160)).serialize(),
                ("127.0.0.1", leg.local_port),
            )
            await asyncio.sleep(0.002)
        await _until(lambda: leg.stats.packets_received >= 117, "packets arrive")
        leg.set_quality(70.0, 3.6)
        leg.session.next_rtcp = 0.0  # due now
        rtcp_sink.settimeout(3.0)
        data = await asyncio.get_running_loop().run_in_executor(None, rtcp_sink.recv, 2048)
        sender, blocks = parse_xr_packet(data)
        assert sender == leg.session.ssrc and len(blocks) == 1
        m = blocks[0]
        assert m.ssrc == SSRC
        assert m.loss_rate == pytest.approx(3 / 53, abs=0.01)  # decided: 64 behind the highest
        assert m.r_factor == 70 and m.mos_lq == pytest.approx(3.6)
        assert m.jb_nominal_ms == 60
        assert struct.unpack_from("!B", data, 1)[0] in (200, 201)  # SR/RR first
    finally:
        peer.close()
        rtcp_sink.close()
