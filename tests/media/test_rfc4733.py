import struct
from pathlib import Path

import pytest

from media.rfc4733 import Rfc4733Receiver, Rfc4733Sender
from media.rtp import parse_rtp

PCAP_DIR = Path("/usr/share/sip-tester")


def run_sender(sender: Rfc4733Sender) -> list[tuple[int, tuple[bytes, bool] | None]]:
    out = []
    frame = 0
    while not sender.done:
        out.append((frame * 20, sender.step()))
        frame += 1
    return out


def test_sender_start_with_marker_updates_every_50ms_and_three_end_packets():
    steps = run_sender(Rfc4733Sender("5", 0.2))
    sent = [(ms, s) for ms, s in steps if s is not None]
    starts = [ms for ms, (_, marker) in sent if marker]
    assert starts == [0]
    fields = [(ms, struct.unpack("!BBH", p)) for ms, (p, _) in sent]
    updates = [ms for ms, (_, flags, _) in fields if not flags & 0x80]
    gaps = [b - a for a, b in zip(updates, updates[1:], strict=False)]
    assert all(40 <= g <= 60 for g in gaps) and abs(sum(gaps) / len(gaps) - 50) <= 10
    ends = [f for _, f in fields if f[1] & 0x80]
    assert len(ends) == 3 and {e[2] for e in ends} == {1600}  # 200 ms at 8 kHz
    assert all(code == 5 for _, (code, _, _) in fields)


def test_receiver_reports_each_digit_once_with_duration():
    rx = Rfc4733Receiver()
    got = []
    for i, (p, _) in enumerate(s for _, s in run_sender(Rfc4733Sender("#", 0.12)) if s):
        got += rx.receive(p, 4000, i * 0.02)
        got += rx.receive(p, 4000, i * 0.02)  # duplicated in the network
    assert [(d.digit, round(d.duration, 3)) for d in got] == [("#", 0.12)]


def test_same_digit_twice_is_two_events_by_timestamp():
    rx = Rfc4733Receiver()
    end = struct.pack("!BBH", 1, 0x80 | 10, 800)
    assert len(rx.receive(end, 1000, 0.0) + rx.receive(end, 1000, 0.01)) == 1
    assert len(rx.receive(end, 3000, 0.5)) == 1


def test_digit_whose_end_packets_were_lost_is_reported_after_updates_stop():
    rx = Rfc4733Receiver(lost_end_timeout=0.3)
    upd = struct.pack("!BBH", 7, 10, 400)
    assert rx.receive(upd, 500, 1.0) == []
    assert rx.poll(1.2) == []
    [ev] = rx.poll(1.31)
    assert ev.digit == "7" and ev.duration == pytest.approx(0.05)
    assert rx.receive(struct.pack("!BBH", 7, 0x80 | 10, 800), 500, 1.4) == []  # late end


def test_short_payload_is_counted_not_raised():
    rx = Rfc4733Receiver()
    assert rx.receive(b"\x01", 1, 0.0) == []
    assert rx.malformed == 1


def test_bad_digit_is_refused_by_name():
    with pytest.raises(ValueError, match="'x'"):
        Rfc4733Sender("x")


def read_pcap_udp_payloads(path: Path) -> list[bytes]:
    """A small pcap reader: Ethernet/Linux-cooked + IPv4 + UDP payloads."""
    data = path.read_bytes()
    magic = struct.unpack_from("<I", data)[0]
    endian = "<" if magic in (0xA1B2C3D4, 0xA1B23C4D) else ">"
    linktype = struct.unpack_from(endian + "I", data, 20)[0]
    link_len = {1: 14, 113: 16, 0: 4, 101: 0}[linktype]
    pos, out = 24, []
    while pos + 16 <= len(data):
        incl = struct.unpack_from(endian + "I", data, pos + 8)[0]
        frame = data[pos + 16 : pos + 16 + incl]
        pos += 16 + incl
        ip = frame[link_len:]
        if len(ip) < 20 or ip[0] >> 4 != 4 or ip[9] != 17:
            continue
        ihl = (ip[0] & 0x0F) * 4
        out.append(bytes(ip[ihl + 8 :]))
    return out


@pytest.mark.skipif(not PCAP_DIR.exists(), reason="sip-tester pcaps not installed")
@pytest.mark.parametrize(
    ("name", "digit"), [("0", "0"), ("5", "5"), ("9", "9"), ("star", "*"), ("pound", "#")]
)
def test_digits_from_captured_rfc2833_streams(name, digit):
    rx = Rfc4733Receiver()
    events = []
    for i, udp in enumerate(read_pcap_udp_payloads(PCAP_DIR / f"dtmf_2833_{name}.pcap")):
        pkt = parse_rtp(udp)
        events += rx.receive(pkt.payload, pkt.timestamp, i * 0.02)
    events += rx.poll(1e9)
    assert [e.digit for e in events] == [digit]
    assert events[0].duration > 0.04
