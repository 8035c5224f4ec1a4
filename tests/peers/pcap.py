"""RTP captures for SIPp's ``play_pcap_audio``: G.711 frames written as a pcap file
(Ethernet + IPv4 + UDP, as the captures Debian ships with SIPp), e.g. in-band DTMF tones
made with ``media.dtmf_tone``."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np

from media import g711

RATE = 8000
FRAME = 160  # 20 ms at 8 kHz


def write_rtp_pcap(path: Path, samples: np.ndarray, payload_type: int = 0) -> None:
    """``samples`` as PCMU (payload type 0) RTP packets, 20 ms apart, in a pcap file."""
    pcmu = g711.encode(samples, "PCMU")
    out = bytearray(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
    for i in range(0, len(pcmu) - FRAME + 1, FRAME):
        rtp = struct.pack("!BBHII", 0x80, payload_type | (0x80 if i == 0 else 0), i // FRAME,
                          i, 0x5EED)  # fmt: skip
        rtp += bytes(pcmu[i : i + FRAME])
        udp = struct.pack("!HHHH", 6000, 6002, 8 + len(rtp), 0) + rtp
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0,
                         bytes([192, 168, 0, 3]), bytes([192, 168, 0, 1])) + udp  # fmt: skip
        frame = b"\x00" * 12 + b"\x08\x00" + ip
        ts = i / RATE
        out += struct.pack("<IIII", int(ts), int((ts % 1) * 1e6), len(frame), len(frame))
        out += frame
    path.write_bytes(bytes(out))
