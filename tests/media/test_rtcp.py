"""Each received RTCP datagram is parsed once (media/rtcp.py), SR, report blocks and XR
together, in the session; the NTP clock of our SRs is the one of the RTT arithmetic."""

from __future__ import annotations

import random

import pytest
from aiortc.rtp import RtcpReceiverInfo, RtcpRrPacket, RtcpSdesPacket, RtcpSourceInfo

import media.rtcp
import media.rtp
from media.rtcp import (
    MalformedRtcp,
    VoipMetrics,
    build_xr_packet,
    ntp_middle32,
    ntp_timestamp,
    parse_rtcp,
)
from media.rtp import RtpSession

PEER = ("192.0.2.20", 7001)
OURS, THEIRS = 0x0A0A0A0A, 0x0B0B0B0B
WALL = 1_700_000_000.0  # Unix time at our monotonic 0.0


def compound(lsr: int, dlsr: int) -> bytes:
    """The peer's RR about our stream + SDES + XR VoIP metrics about our stream."""
    block = RtcpReceiverInfo(OURS, 26, 40, 900, 160, lsr, dlsr)
    rr = bytes(RtcpRrPacket(ssrc=THEIRS, reports=[block]))
    sdes = bytes(RtcpSdesPacket(chunks=[RtcpSourceInfo(ssrc=THEIRS, items=[(1, b"peer")])]))
    xr = VoipMetrics(OURS, 0.02, 0.0, 0.0, 0.02, 0, 0, 0, 40, mos_lq=4.1)
    return rr + sdes + build_xr_packet(THEIRS, [xr])


def test_a_compound_datagram_is_parsed_once_and_fills_report_block_rtt_and_xr(monkeypatch):
    calls: list[bytes] = []

    def counting(data: bytes):
        calls.append(data)
        return parse_rtcp(data)

    monkeypatch.setattr(media.rtp, "parse_rtcp", counting)
    monkeypatch.setattr(media.rtcp, "parse_xr_packet", lambda data: pytest.fail("XR parsed twice"))
    s = RtpSession(ssrc=OURS, rng=random.Random(1), wall_offset=WALL)
    s.set_remote(*PEER)
    # Our SR left at t=10.0; the peer held it 0.25 s; the network adds 0.1 s in total.
    lsr = ntp_middle32(ntp_timestamp(WALL + 10.0))
    data = compound(lsr, int(0.25 * 65536))
    assert s.receive_rtcp(data, PEER, 10.35) is not None
    assert calls == [data]
    remote = s.remote_stats
    assert remote.rtt == pytest.approx(0.1, abs=1e-4)
    assert remote.fraction_lost == pytest.approx(26 / 256) and remote.cumulative_lost == 40
    assert remote.voip_metrics is not None and remote.voip_metrics.mos_lq == pytest.approx(4.1)


def test_our_sender_reports_use_the_one_ntp_conversion():
    s = RtpSession(ssrc=OURS, rng=random.Random(1), wall_offset=WALL)
    s.set_remote(*PEER)
    s.build(b"\xff" * 160)
    sr = parse_rtcp(s.build_rtcp(12.5)).sender_reports[0]
    assert sr.ntp_timestamp == ntp_timestamp(WALL + 12.5)


@pytest.mark.parametrize(
    "data",
    [b"\x80\xc9\x00\x09" + b"\x00" * 4, b"\x40\xc8\x00\x00", b"\x81\xc9\x00\x01" + b"\x00" * 4],
    ids=["runs-past-end", "version-1", "report-block-does-not-fit"],
)
def test_malformed_compound_packets_are_rejected_naming_the_problem(data):
    with pytest.raises(MalformedRtcp, match="RTCP"):
        parse_rtcp(data)
