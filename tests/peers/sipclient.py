"""A small SIP client over UDP/TCP for attack and load tests: a caller, a flooder, a guesser.

Written here on purpose (not SIPp): it binds any loopback address (127.0.0.2 is
another "host" on Linux, 127.0.0.0/8 is all loopback), sends at a fixed rate and
never ACKs when told so. Used by tests/interop/test_security.py and bench/sip_flood.py.
"""

from __future__ import annotations

import asyncio
import secrets
import socket
import time
from dataclasses import dataclass, field

from sip.digest import build_authorization, choose_challenge
from sip.message import SipResponse
from sip.parser import SipParseError, parse_message

SDP = (
    "v=0\r\no=- 1 1 IN IP4 {host}\r\ns=-\r\nc=IN IP4 {host}\r\nt=0 0\r\n"
    "m=audio {port} RTP/AVP 0 8 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\n"
    "a=rtpmap:101 telephone-event/8000\r\n"
)


def request(
    method: str,
    target: tuple[str, int],
    local: tuple[str, int],
    *,
    user: str = "100",
    from_user: str = "0700000001",
    call_id: str | None = None,
    cseq: int = 1,
    to_tag: str | None = None,
    branch: str | None = None,
    body: str = "",
    extra: list[tuple[str, str]] | None = None,
    transport: str = "UDP",
    from_tag: str = "ft",
) -> bytes:
    host, port = target
    lhost, lport = local
    ruri = f"sip:{user}@{host}:{port}"
    branch = branch or "z9hG4bK" + secrets.token_hex(6)
    lines = [
        f"{method} {ruri} SIP/2.0",
        f"Via: SIP/2.0/{transport} {lhost}:{lport};branch={branch};rport",
        "Max-Forwards: 70",
        f"From: <sip:{from_user}@{lhost}>;tag={from_tag}",
        f"To: <sip:{user}@{host}>" + (f";tag={to_tag}" if to_tag else ""),
        f"Call-ID: {call_id or secrets.token_hex(8)}",
        f"CSeq: {cseq} {'INVITE' if method == 'ACK' else method}",
        f"Contact: <sip:{from_user}@{lhost}:{lport}>",
    ]
    for name, value in extra or []:
        lines.append(f"{name}: {value}")
    if body:
        lines.append("Content-Type: application/sdp")
    lines.append(f"Content-Length: {len(body.encode())}")
    return ("\r\n".join(lines) + "\r\n\r\n" + body).encode()


class _Proto(asyncio.DatagramProtocol):
    def __init__(self, client: UdpClient) -> None:
        self.client = client

    def datagram_received(self, data: bytes, addr: object) -> None:
        try:
            msg = parse_message(data)
        except SipParseError:
            return
        if isinstance(msg, SipResponse):
            self.client._got(msg)


@dataclass
class UdpClient:
    """One UDP socket at ``local_host``; responses are routed to waiters by Call-ID."""

    target: tuple[str, int]
    local_host: str = "127.0.0.1"
    responses: dict[str, list[SipResponse]] = field(default_factory=dict)
    received: int = 0

    async def open(self) -> UdpClient:
        loop = asyncio.get_running_loop()
        self._waiters: dict[str, asyncio.Event] = {}
        self._transport, _ = await loop.create_datagram_endpoint(
            lambda: _Proto(self), local_addr=(self.local_host, 0)
        )
        self.local = self._transport.get_extra_info("sockname")[:2]
        return self

    def close(self) -> None:
        self._transport.close()

    def _got(self, msg: SipResponse) -> None:
        self.received += 1
        cid = msg.call_id or ""
        self.responses.setdefault(cid, []).append(msg)
        waiter = self._waiters.get(cid)
        if waiter is not None:
            waiter.set()

    def send(self, data: bytes) -> None:
        self._transport.sendto(data, self.target)

    async def final(self, call_id: str, timeout: float) -> SipResponse | None:
        """The first final (>= 200) response for a Call-ID, or None after ``timeout``."""
        deadline = time.monotonic() + timeout
        while True:
            for r in self.responses.get(call_id, []):
                if r.status >= 200:
                    return r
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            event = self._waiters.setdefault(call_id, asyncio.Event())
            event.clear()
            try:
                await asyncio.wait_for(event.wait(), left)
            except TimeoutError:
                return None

    async def call(self, number: str = "100", timeout: float = 5.0) -> tuple[int | None, float]:
        """INVITE, wait for the final answer, ACK it and (2xx) BYE: (status, seconds to it)."""
        cid = secrets.token_hex(8)
        body = SDP.format(host=self.local[0], port=40000)
        start = time.monotonic()
        invite = request("INVITE", self.target, self.local, user=number, call_id=cid, body=body)
        self.send(invite)
        # As a phone does (RFC 3261 timer A): the same INVITE again after 0.5, 1, 2 ... s
        # until anything answers (a datagram can be lost while the server is flooded).
        resp, wait = None, 0.5
        while resp is None and (left := timeout - (time.monotonic() - start)) > 0:
            resp = await self.final(cid, min(wait, left))
            if resp is None and not self.responses.get(cid):
                self.send(invite)
            wait *= 2
        took = time.monotonic() - start
        if resp is None:
            return None, took
        to_tag = resp.to_addr.params.get("tag")
        self.send(request("ACK", self.target, self.local, user=number, call_id=cid, to_tag=to_tag))
        if 200 <= resp.status < 300:
            self.send(
                request(
                    "BYE", self.target, self.local, user=number, call_id=cid, cseq=2, to_tag=to_tag
                )
            )
        return resp.status, took

    async def call_with_audio(
        self, number: str = "100", listen: float = 1.5, timeout: float = 5.0
    ) -> tuple[int | None, int]:
        """A call whose SDP names a real RTP socket: (final status, RTP packets with sound
        that arrived within ``listen`` seconds of the 200). ACK and BYE as :meth:`call`."""
        loop = asyncio.get_running_loop()
        rtp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        rtp.bind((self.local_host, 0))
        rtp.setblocking(False)
        try:
            cid = secrets.token_hex(8)
            body = SDP.format(host=self.local[0], port=rtp.getsockname()[1])
            invite = request("INVITE", self.target, self.local, user=number, call_id=cid, body=body)
            self.send(invite)
            resp, wait, start = None, 0.5, time.monotonic()
            while resp is None and (left := timeout - (time.monotonic() - start)) > 0:
                resp = await self.final(cid, min(wait, left))
                if resp is None and not self.responses.get(cid):
                    self.send(invite)  # timer A, as in call()
                wait *= 2
            if resp is None:
                return None, 0
            to_tag = resp.to_addr.params.get("tag")
            ack = request("ACK", self.target, self.local, user=number, call_id=cid, to_tag=to_tag)
            self.send(ack)
            if resp.status != 200:
                return resp.status, 0
            sounding = 0
            end = time.monotonic() + listen
            while (left := end - time.monotonic()) > 0:
                try:
                    data = await asyncio.wait_for(loop.sock_recv(rtp, 2048), left)
                except TimeoutError:
                    break
                # RTP version 2, PCMU/PCMA, and not digital silence (mu-law 0xFF/0x7F).
                payload = data[12:]
                if len(data) > 12 and data[0] >> 6 == 2 and data[1] & 0x7F in (0, 8):
                    sounding += len(payload.strip(b"\xff\x7f\xd5\x55")) > 20
            bye = request(
                "BYE", self.target, self.local, user=number, call_id=cid, cseq=2, to_tag=to_tag
            )
            self.send(bye)
            return resp.status, sounding
        finally:
            rtp.close()

    async def options(self, timeout: float = 1.0) -> int | None:
        cid = secrets.token_hex(8)
        self.send(request("OPTIONS", self.target, self.local, call_id=cid))
        resp = await self.final(cid, timeout)
        return None if resp is None else resp.status

    async def flood_invites(self, rate: float, seconds: float) -> int:
        """INVITEs at ``rate`` a second for ``seconds``, never ACKed; returns how many."""
        sent = 0
        start = time.monotonic()
        body = SDP.format(host=self.local[0], port=40002)
        while (elapsed := time.monotonic() - start) < seconds:
            due = int(elapsed * rate) + 1
            while sent < due:
                self.send(request("INVITE", self.target, self.local, body=body))
                sent += 1
            await asyncio.sleep(0.002)
        return sent

    async def register(
        self, user: str, password: str, *, timeout: float = 1.0, reuse: object = None
    ) -> tuple[int | None, object]:
        """REGISTER with digest (challenge first): (final status, the challenge used).

        ``reuse``: answer this earlier challenge instead of asking for a new one.
        """
        cid = secrets.token_hex(8)
        common = {"user": user, "from_user": user, "call_id": cid, "from_tag": "rt"}
        challenge = reuse
        if challenge is None:
            self.send(request("REGISTER", self.target, self.local, cseq=1, **common))  # type: ignore[arg-type]
            first = await self.final(cid, timeout)
            if first is None:
                return None, None
            if first.status != 401:
                return first.status, None
            challenge = choose_challenge(first.headers.get_all("WWW-Authenticate"))
            self.responses.pop(cid, None)
        auth = build_authorization(
            challenge,  # type: ignore[arg-type]
            method="REGISTER",
            uri=f"sip:{user}@{self.target[0]}:{self.target[1]}",
            username=user,
            password=password,
            cnonce=secrets.token_hex(4),
        )
        self.send(
            request(
                "REGISTER",
                self.target,
                self.local,
                cseq=2,
                extra=[("Authorization", auth)],
                **common,  # type: ignore[arg-type]
            )
        )
        resp = await self.final(cid, timeout)
        return (None if resp is None else resp.status), challenge


def tcp_socket(target: tuple[str, int], local_host: str = "127.0.0.1") -> socket.socket:
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind((local_host, 0))
    s.connect(target)
    return s
