"""RTCP XR VoIP Metrics block (RFC 3611 4.7): build, parse, fill from receive stats."""

import struct

import pytest

from media.rtpstats import (
    ReceiveStats,
    RemoteStats,
    VoipMetrics,
    build_voip_metrics_block,
    build_xr_packet,
    parse_voip_metrics_block,
    parse_xr_packet,
    voip_metrics_from_figures,
)


def sample() -> VoipMetrics:
    return VoipMetrics(
        ssrc=0x01020304,
        loss_rate=0.05,
        discard_rate=0.01,
        burst_density=0.5,
        gap_density=0.02,
        burst_duration_ms=120,
        gap_duration_ms=4000,
        round_trip_delay_ms=80,
        end_system_delay_ms=70,
        signal_level_dbm=-20,
        noise_level_dbm=-60,
        rerl_db=None,
        r_factor=78,
        mos_lq=3.9,
        mos_cq=3.8,
        rx_config=0b1110_0000,
        jb_nominal_ms=60,
        jb_maximum_ms=60,
        jb_abs_max_ms=60,
    )


def test_block_is_36_bytes_with_type_7_and_length_8() -> None:
    data = build_voip_metrics_block(sample())
    assert len(data) == 36
    assert data[0] == 7
    assert struct.unpack("!H", data[2:4])[0] == 8
    assert data[8] == int(0.05 * 256)  # loss rate, 8-bit fixed point


def test_block_round_trips_within_wire_resolution() -> None:
    parsed = parse_voip_metrics_block(build_voip_metrics_block(sample()))
    s = sample()
    assert parsed.ssrc == s.ssrc
    assert parsed.loss_rate == pytest.approx(s.loss_rate, abs=1 / 256)
    assert parsed.burst_duration_ms == 120
    assert parsed.round_trip_delay_ms == 80
    assert parsed.signal_level_dbm == -20
    assert parsed.noise_level_dbm == -60
    assert parsed.rerl_db is None  # 127 = unavailable
    assert parsed.ext_r_factor is None
    assert parsed.r_factor == 78
    assert parsed.mos_lq == pytest.approx(3.9)
    assert parsed.jb_nominal_ms == 60


def test_xr_packet_is_found_inside_a_compound_datagram() -> None:
    rr = struct.pack("!BBHI", 0x80, 201, 1, 99)  # empty receiver report
    datagram = rr + build_xr_packet(0xAABBCCDD, [sample()])
    sender, blocks = parse_xr_packet(datagram)
    assert sender == 0xAABBCCDD
    assert len(blocks) == 1 and blocks[0].r_factor == 78


def test_other_xr_block_types_are_skipped() -> None:
    other = struct.pack("!BBH", 4, 0, 2) + b"\x00" * 8  # receiver reference time block
    voip = build_voip_metrics_block(sample())
    body = other + voip
    packet = struct.pack("!BBHI", 0x80, 207, (4 + len(body)) // 4, 5) + body
    assert len(parse_xr_packet(packet)[1]) == 1


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (b"\x07\x00\x00\x08" + b"\x00" * 10, "36 bytes"),
        (b"\x05\x00\x00\x08" + b"\x00" * 32, "block type 5"),
        (b"\x80\xc9\x00\x01", "past the datagram end"),
        (b"\x40\xcf\x00\x01\x00\x00\x00\x00", "version"),
        (struct.pack("!BBHI", 0x80, 201, 1, 99), "no XR packet"),
    ],
)
def test_malformed_input_raises_a_named_error(data: bytes, problem: str) -> None:
    parse = parse_voip_metrics_block if data[0] in (5, 7) else parse_xr_packet
    with pytest.raises(ValueError, match=problem):
        parse(data)


def test_metrics_filled_from_receive_figures_describe_the_stream() -> None:
    stats = ReceiveStats()
    for i in range(500):
        if i not in (100, 101, 102):
            stats.on_packet(i, i * 160, i * 0.02, 7)
    m = voip_metrics_from_figures(stats.snapshot(), ssrc=7, round_trip_delay_ms=90)
    assert m.loss_rate == pytest.approx(3 / stats.snapshot().decided)
    assert m.burst_density == pytest.approx(1.0)
    parsed = parse_voip_metrics_block(build_voip_metrics_block(m))
    assert parsed.round_trip_delay_ms == 90


def test_remote_stats_take_rtt_from_xr_when_rtcp_gave_none() -> None:
    remote = RemoteStats()
    remote.on_voip_metrics(sample(), now=3.0)
    assert remote.rtt_ms == pytest.approx(80.0)
    assert remote.voip_metrics is not None
