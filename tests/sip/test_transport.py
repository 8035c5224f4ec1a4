"""Real sockets on 127.0.0.1: two SipEndpoints set up and tear down calls over UDP and TCP."""

from __future__ import annotations

import asyncio
import socket

import pytest

from sip.parser import parse_message
from sip.timers import Timers
from sip.transport import SipEndpoint
from sip.useragent import (
    AckReceived,
    ByeReceived,
    DialogEstablished,
    Event,
    IncomingRequest,
    ResponseReceived,
    TransportError,
)

FAST = Timers(t1=0.05, t2=0.4, t4=0.5)


class Recorder:
    def __init__(self) -> None:
        self.events: asyncio.Queue[Event] = asyncio.Queue()

    async def __call__(self, event: Event) -> None:
        await self.events.put(event)

    async def next(self, kind: type, timeout: float = 3.0) -> Event:
        """Next event of ``kind`` (others before it are skipped)."""
        async with asyncio.timeout(timeout):
            while True:
                event = await self.events.get()
                if isinstance(event, kind):
                    return event


async def endpoints() -> tuple[SipEndpoint, Recorder, SipEndpoint, Recorder]:
    rec_a, rec_b = Recorder(), Recorder()
    a, b = SipEndpoint(rec_a, timers=FAST), SipEndpoint(rec_b, timers=FAST)
    await a.start("127.0.0.1", 0)
    await b.start("127.0.0.1", 0)
    return a, rec_a, b, rec_b


@pytest.mark.parametrize("transport", ["UDP", "TCP"])
async def test_invite_200_ack_bye_over_real_sockets(transport: str) -> None:
    a, rec_a, b, rec_b = await endpoints()
    try:
        host, port = b.address
        handle = a.ua.invite(
            target_uri=f"sip:agent@{host}:{port}",
            destination=b.address,
            transport=transport,
            from_uri="sip:queue@127.0.0.1",
            from_display="Queue",
            to_uri="sip:agent@127.0.0.1",
            body=b"v=0\r\n",
            now=a.now(),
        )
        a.transmit()
        incoming = await rec_b.next(IncomingRequest)
        assert isinstance(incoming, IncomingRequest) and incoming.transport == transport
        b.ua.respond(
            incoming.request_id, 200, body=b"v=0\r\n", content_type="application/sdp", now=b.now()
        )
        b.transmit()
        established = await rec_a.next(DialogEstablished)
        assert isinstance(established, DialogEstablished) and established.handle == handle
        ack = await rec_b.next(AckReceived)
        assert isinstance(ack, AckReceived)
        a.ua.bye(established.dialog_id, a.now())
        a.transmit()
        bye = await rec_b.next(ByeReceived)
        assert bye == ByeReceived(ack.dialog_id)
        ok = await rec_a.next(ResponseReceived)
        assert isinstance(ok, ResponseReceived) and ok.response.status == 200
        assert a.ua.dialog_count == b.ua.dialog_count == 0
    finally:
        await a.close()
        await b.close()


async def test_malformed_datagrams_are_answered_or_dropped_and_endpoint_keeps_working() -> None:
    a, rec_a, b, rec_b = await endpoints()
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setblocking(False)
    sock.bind(("127.0.0.1", 0))
    loop = asyncio.get_running_loop()
    try:
        await loop.sock_sendto(sock, b"\xff\xfe not sip at all", b.address)
        options = (
            b"OPTIONS sip:b@127.0.0.1 SIP/2.0\r\n"
            b"Via: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKprobe;rport\r\n"
            b"Max-Forwards: 70\r\nFrom: <sip:probe@127.0.0.1>;tag=1\r\n"
            b"To: <sip:b@127.0.0.1>\r\nCall-ID: probe-1\r\nCSeq: 1 OPTIONS\r\n"
            b"Content-Length: 0\r\n\r\n"
        )
        await loop.sock_sendto(sock, options, b.address)
        async with asyncio.timeout(3):
            data, _ = await loop.sock_recvfrom(sock, 65536)
        reply = parse_message(data)
        assert getattr(reply, "status", None) == 200
        assert b.ua.stats.parse_errors == 1
    finally:
        sock.close()
        await a.close()
        await b.close()


async def test_tcp_connect_failure_becomes_a_transport_error_event() -> None:
    a, rec_a, b, rec_b = await endpoints()
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    dead = closed.getsockname()
    closed.close()  # nothing listens there now
    try:
        handle = a.ua.request(
            "OPTIONS",
            target_uri=f"sip:x@127.0.0.1:{dead[1]}",
            destination=dead,
            transport="TCP",
            from_uri="sip:a@127.0.0.1",
            to_uri="sip:x@127.0.0.1",
            now=a.now(),
        )
        a.transmit()
        event = await rec_a.next(TransportError)
        assert isinstance(event, TransportError) and event.handle == handle
    finally:
        await a.close()
        await b.close()


INSUF_LIKE = (
    b"OPTIONS sip:b@127.0.0.1 SIP/2.0\r\n"
    b"Via: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKinsuf;rport\r\n"
    b"Max-Forwards: 70\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
)


async def test_udp_request_without_call_id_from_to_is_answered_400_naming_them() -> None:
    a, _, b, _ = await endpoints()
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setblocking(False)
    sock.bind(("127.0.0.1", 0))
    loop = asyncio.get_running_loop()
    try:
        await loop.sock_sendto(sock, INSUF_LIKE, b.address)
        async with asyncio.timeout(3):
            data, _ = await loop.sock_recvfrom(sock, 65536)
        # The answer copies what the request had: no Call-ID, From, To (RFC 3261 8.2.6.2).
        head = data.split(b"\r\n\r\n")[0].split(b"\r\n")
        assert head[0] == b"SIP/2.0 400 Missing Call-ID, From, To"
        assert b"CSeq: 1 OPTIONS" in head
        assert head[1].startswith(b"Via: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKinsuf;rport=")
    finally:
        sock.close()
        await a.close()
        await b.close()


async def test_tcp_request_with_negative_content_length_is_answered_400_then_closed() -> None:
    a, _, b, _ = await endpoints()
    request = INSUF_LIKE.replace(b"UDP", b"TCP").replace(
        b"CSeq: 1 OPTIONS\r\nContent-Length: 0",
        b"From: <sip:p@127.0.0.1>;tag=1\r\nTo: <sip:b@127.0.0.1>\r\nCall-ID: ncl-1\r\n"
        b"CSeq: 1 OPTIONS\r\nContent-Length: -5",
    )
    reader, writer = await asyncio.open_connection(*b.address)
    try:
        writer.write(request)
        await writer.drain()
        async with asyncio.timeout(3):
            data = await reader.read()  # until the endpoint closes the connection
        reply = parse_message(data)
        assert (getattr(reply, "status", None), getattr(reply, "reason", None)) == (
            400,
            "Bad Content-Length",
        )
        assert reply.headers.get("Call-ID") == "ncl-1"
    finally:
        writer.close()
        await a.close()
        await b.close()
