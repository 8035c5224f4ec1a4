import random
import struct

from aiortc.rtp import RtcpPacket, RtcpRrPacket, RtcpSdesPacket, RtcpSrPacket, RtpPacket

from media.rtp import RtpSession, parse_rtp
from media.rtpstats import ReceiveStats

PEER = ("192.0.2.10", 4000)
NAT = ("198.51.100.7", 61000)


def session(**kw) -> RtpSession:
    return RtpSession(rng=random.Random(1), **kw)


def peer_packet(seq: int, ts: int, ssrc: int = 0x1234, pt: int = 0, payload=b"\xff" * 160):
    return RtpPacket(
        payload_type=pt, sequence_number=seq, timestamp=ts, ssrc=ssrc, payload=payload
    ).serialize()


def test_built_packet_parses_with_aiortc_and_sequence_advances():
    s = session(ssrc=7, sequence=65535, timestamp=100)
    first = RtpPacket.parse(s.build(b"\x01" * 160, marker=True))
    s.advance(160)
    second = RtpPacket.parse(s.build(b"\x02" * 160))
    assert (first.ssrc, first.sequence_number, first.timestamp, first.marker) == (7, 65535, 100, 1)
    assert (second.sequence_number, second.timestamp, second.marker) == (0, 260, 0)
    assert second.payload == b"\x02" * 160


def test_initial_ssrc_sequence_and_timestamp_are_random():
    a, b = RtpSession(), RtpSession()
    assert (a.ssrc, a.sequence, a.timestamp) != (b.ssrc, b.sequence, b.timestamp)


def test_parse_skips_csrcs_extension_and_padding():
    pkt = RtpPacket(payload_type=0, sequence_number=1, timestamp=2, ssrc=3, payload=b"abc")
    pkt.csrc = [9, 10]
    data = bytearray(pkt.serialize())
    data[0] |= 0x20
    data += b"\x00\x00\x03"
    assert parse_rtp(bytes(data)).payload == b"abc"


def test_latches_to_the_first_valid_packets_source_and_drops_others():
    s = session()
    s.set_remote(*PEER)
    assert s.remote_rtp == PEER
    assert s.receive(b"garbage", NAT, 0.0) is None
    assert s.remote_rtp == PEER  # a malformed packet does not move the stream
    assert s.receive(peer_packet(10, 0), NAT, 0.02) is not None
    assert s.remote_rtp == NAT and s.remote_rtcp == (NAT[0], NAT[1] + 1)
    assert s.receive(peer_packet(11, 160), PEER, 0.04) is None
    assert s.counters.foreign == 1 and s.counters.malformed == 1


def test_unexpected_payload_type_and_rtcp_on_rtp_port_are_counted_as_malformed():
    s = session()
    s.set_remote(*PEER)
    assert s.receive(peer_packet(1, 0, pt=18), PEER, 0.0) is None
    assert s.receive(b"\x80\xc8" + b"\x00" * 26, PEER, 0.0) is None
    assert s.counters.malformed == 2 and not s.latched


def test_loss_and_jitter_statistics_follow_rfc3550():
    s = session()
    s.set_remote(*PEER)
    t = 0.0
    for seq in list(range(100, 110)) + list(range(112, 120)):
        s.receive(peer_packet(seq & 0xFFFF, seq * 160), PEER, seq * 0.02)
    fig = s.stats.snapshot()
    # RFC 3550 A.1: the source is valid from its second packet (probation), so 101..119.
    assert fig.packets_expected == 19 and fig.packets_lost == 2
    assert fig.jitter_ts < 1.0  # perfectly paced arrivals
    block = s.stats.report_block(0.0)
    assert block is not None and block.cumulative_lost == 2 and block.highest_seq == 119
    s2 = session()
    s2.set_remote(*PEER)
    for i in range(50):
        t = i * 0.02 + (0.005 if i % 2 else 0.0)
        s2.receive(peer_packet(i, i * 160), PEER, t)
    # 5 ms alternating delay = 40 units, jitter converges below
    assert 20 < s2.stats.snapshot().jitter_ts < 40


def test_sequence_wraparound_counts_cycles():
    s = session()
    s.set_remote(*PEER)
    for i in range(20):
        s.receive(peer_packet((65530 + i) & 0xFFFF, i * 160), PEER, i * 0.02)
    block = s.stats.report_block(0.4)
    assert block is not None and block.highest_seq >> 16 == 1  # one cycle (65536) counted
    assert block.highest_seq == 65536 + 13 and block.cumulative_lost == 0
    assert s.stats.snapshot().packets_lost == 0


def test_sender_report_then_receiver_reply_gives_round_trip_time():
    ours = session(ssrc=111)
    theirs = session(ssrc=222)
    ours.set_remote(*PEER)
    theirs.set_remote(*NAT)
    ours.build(b"\xff" * 160)
    ours.note_send_time(10.0)
    sr = ours.build_rtcp(10.0)
    parsed = RtcpPacket.parse(sr)
    assert isinstance(parsed[0], RtcpSrPacket) and isinstance(parsed[1], RtcpSdesPacket)
    assert parsed[0].sender_info.packet_count == 1
    # The peer receives our RTP and SR, answers 0.25 s later; the network adds 0.1 s.
    # (Two packets: a source gets report blocks once validated, RFC 3550 A.1.)
    theirs.receive(peer_packet(4, 840, ssrc=111), NAT, 10.03)
    theirs.receive(peer_packet(5, 1000, ssrc=111), NAT, 10.05)
    theirs.receive_rtcp(sr, NAT, 10.05)
    rr = theirs.build_rtcp(10.30)
    assert isinstance(RtcpPacket.parse(rr)[0], RtcpRrPacket)
    ours.receive_rtcp(rr, PEER, 10.35)
    assert abs(ours.counters.rtt - 0.1) < 0.001
    # The counters read the session's RemoteStats: one walk over the peer's report blocks.
    assert ours.counters.rtt == ours.remote_stats.rtt
    assert ours.counters.remote_fraction_lost == 0.0 and ours.counters.remote_jitter == 0.0


def test_rtcp_is_scheduled_every_five_seconds_randomized():
    s = session()
    s.schedule_rtcp(0.0)
    assert 2.5 <= s.next_rtcp <= 7.5
    assert not s.rtcp_due(s.next_rtcp - 0.01) and s.rtcp_due(s.next_rtcp)


def test_malformed_rtcp_is_counted():
    s = session()
    assert s.receive_rtcp(b"\x80\xc9\x00\x09" + b"\x00" * 4, PEER, 0.0) is None
    assert s.receive_rtcp(struct.pack("!BBH", 0x40, 200, 0), PEER, 0.0) is None
    assert s.counters.malformed == 2


def test_duplicates_are_dropped_and_counted_by_the_replaceable_receive_statistics():
    # ReceiveStats does the RFC 3550 accounting; a duplicate must not reach the bridge, the
    # recorder or the DTMF detector.
    s = session()
    assert isinstance(s.stats, ReceiveStats)  # every session has one
    s.stats = ReceiveStats(playout_delay=0.1)  # and it can be replaced before the stream
    kept = [s.receive(peer_packet(seq, seq * 160), PEER, seq * 0.02) for seq in range(1, 6)]
    assert all(p is not None for p in kept)
    assert s.receive(peer_packet(5, 800), PEER, 0.11) is None  # the highest again
    assert s.receive(peer_packet(3, 480), PEER, 0.12) is None  # an older one again
    assert s.receive(peer_packet(6, 960), PEER, 0.13) is not None
    assert s.counters.duplicates == 2 and s.stats.snapshot().duplicates == 2


def test_stun_on_the_media_ports_is_counted_apart_from_malformed_packets():
    # A STUN binding request (RFC 5389: type 0x0001, magic cookie), as ICE phones send.
    stun = struct.pack("!HHI", 0x0001, 0, 0x2112A442) + bytes(12)
    s = session()
    s.set_remote(*PEER)
    assert s.receive(stun, PEER, 0.0) is None
    assert s.receive_rtcp(stun, PEER, 0.0) is None
    assert s.receive(b"\xff garbage", PEER, 0.0) is None
    assert (s.counters.stun, s.counters.malformed) == (2, 1)
    assert not s.latched  # STUN does not latch the stream either
