"""No RTP reaches the caller before the 200 OK (defect 6: a call-log write sat between
pointing the leg at the caller and answering, so media went out unannounced)."""

from __future__ import annotations

import asyncio
import secrets
from pathlib import Path

from .conftest import start_vaxel


class _Recorder(asyncio.DatagramProtocol):
    def __init__(self, arrivals: list[tuple[float, bytes]]) -> None:
        self.arrivals = arrivals

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.arrivals.append((asyncio.get_running_loop().time(), data))


def _request(method: str, target: str, port: int, call_id: str, tag: str, cseq: int,
             to_tag: str = "", body: bytes = b"") -> bytes:  # fmt: skip
    to = f"<sip:100@{target}>" + (f";tag={to_tag}" if to_tag else "")
    head = (
        f"{method} sip:100@{target} SIP/2.0\r\n"
        f"Via: SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bK{secrets.token_hex(6)};rport\r\n"
        f"Max-Forwards: 70\r\nFrom: <sip:0701@127.0.0.1>;tag={tag}\r\nTo: {to}\r\n"
        f"Call-ID: {call_id}\r\nCSeq: {cseq} {method}\r\n"
        f"Contact: <sip:0701@127.0.0.1:{port}>\r\n"
    )
    if body:
        head += "Content-Type: application/sdp\r\n"
    return (head + f"Content-Length: {len(body)}\r\n\r\n").encode() + body


async def test_the_200_ok_goes_out_before_the_first_rtp_packet(tmp_path: Path) -> None:
    vaxel = await start_vaxel(tmp_path)
    loop = asyncio.get_running_loop()
    sip_in: list[tuple[float, bytes]] = []
    rtp_in: list[tuple[float, bytes]] = []
    sip, _ = await loop.create_datagram_endpoint(
        lambda: _Recorder(sip_in), local_addr=("127.0.0.1", 0)
    )
    rtp, _ = await loop.create_datagram_endpoint(
        lambda: _Recorder(rtp_in), local_addr=("127.0.0.1", 0)
    )
    try:
        sip_port = sip.get_extra_info("sockname")[1]
        rtp_port = rtp.get_extra_info("sockname")[1]
        sdp = (
            "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
            f"m=audio {rtp_port} RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\n"
            "a=rtpmap:101 telephone-event/8000\r\n"
        ).encode()
        target, call_id, tag = vaxel.sip_target, f"{secrets.token_hex(8)}@t", "ft1"
        sip.sendto(_request("INVITE", target, sip_port, call_id, tag, 1, body=sdp),
                   ("127.0.0.1", vaxel.sip_port))  # fmt: skip
        for _ in range(100):
            await asyncio.sleep(0.02)
            if any(d.startswith(b"SIP/2.0 200") for _, d in sip_in):
                break
        ok = next((t, d) for t, d in sip_in if d.startswith(b"SIP/2.0 200"))
        to_tag = ok[1].split(b"To:")[1].split(b"tag=")[1].split(b"\r\n")[0].decode()
        sip.sendto(_request("ACK", target, sip_port, call_id, tag, 1, to_tag),
                   ("127.0.0.1", vaxel.sip_port))  # fmt: skip
        await asyncio.sleep(0.5)  # the welcome prompt streams
        assert rtp_in, "no RTP after the answer"
        first_rtp = rtp_in[0][0]
        assert ok[0] <= first_rtp, f"RTP arrived {ok[0] - first_rtp:.3f} s before the 200 OK"
        sip.sendto(_request("BYE", target, sip_port, call_id, tag, 2, to_tag),
                   ("127.0.0.1", vaxel.sip_port))  # fmt: skip
        await asyncio.sleep(0.3)
    finally:
        sip.close()
        rtp.close()
        await vaxel.server.stop()
