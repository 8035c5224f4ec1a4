"""SIP over TLS on real sockets (127.0.0.1): calls both ways, Via/Contact, handshake failures,
garbage and the TCP limits (caps, read timeout) on the TLS listener."""

from __future__ import annotations

import asyncio
import logging
import socket
import ssl
from pathlib import Path

import pytest

from sip.guard import TcpPolicy
from sip.parser import parse_message
from sip.transport import SipEndpoint, TlsSettings
from sip.useragent import (
    AckReceived,
    ByeReceived,
    DialogEstablished,
    IncomingRequest,
    ResponseReceived,
    TransportError,
)
from tests.peers.tlscert import TlsFiles, make_certificates

from .test_transport import FAST, Recorder


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    return make_certificates(tmp_path_factory.mktemp("tls"))


def _settings(certs: TlsFiles, *, verify: bool = True, timeout: float = 5.0) -> TlsSettings:
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(certs.certificate, certs.key)
    client = ssl.create_default_context(cafile=str(certs.ca) if verify else None)
    return TlsSettings(server, client, port=0, handshake_timeout=timeout)


async def _endpoint(settings: TlsSettings, **kw: object) -> tuple[SipEndpoint, Recorder]:
    rec = Recorder()
    ep = SipEndpoint(rec, timers=FAST, tls=settings, **kw)  # type: ignore[arg-type]
    await ep.start("127.0.0.1", 0)
    return ep, rec


def _options(port: int, branch: str = "z9hG4bKtls1") -> bytes:
    return (
        f"OPTIONS sip:127.0.0.1:{port} SIP/2.0\r\n"
        f"Via: SIP/2.0/TLS 127.0.0.1:1;branch={branch};rport\r\n"
        "Max-Forwards: 70\r\nFrom: <sip:probe@127.0.0.1>;tag=1\r\nTo: <sip:vaxel@127.0.0.1>\r\n"
        "Call-ID: tls-options-1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
    ).encode()


async def test_invite_200_ack_bye_over_tls_with_tls_via_and_contact(
    certs: TlsFiles,
) -> None:
    a, rec_a = await _endpoint(_settings(certs))
    b, rec_b = await _endpoint(_settings(certs))
    try:
        assert b.tls_address is not None and b.tls_address[1] != b.address[1]
        host, port = b.tls_address
        handle = a.ua.invite(
            target_uri=f"sip:agent@{host}:{port};transport=tls",
            destination=b.tls_address,
            transport="TLS",
            from_uri="sip:queue@127.0.0.1",
            from_display=None,
            to_uri="sip:agent@127.0.0.1",
            body=b"v=0\r\n",
            now=a.now(),
        )
        a.transmit()
        incoming = await rec_b.next(IncomingRequest)
        assert isinstance(incoming, IncomingRequest) and incoming.transport == "TLS"
        assert a.tls_address is not None
        via = incoming.request.headers.get("Via") or ""
        assert via.startswith(f"SIP/2.0/TLS 127.0.0.1:{a.tls_address[1]};"), via
        contact = incoming.request.headers.get("Contact")
        assert contact == f"<sip:127.0.0.1:{a.tls_address[1]};transport=tls>"
        b.ua.respond(incoming.request_id, 200, body=b"v=0\r\n", now=b.now())
        b.transmit()
        established = await rec_a.next(DialogEstablished)
        assert isinstance(established, DialogEstablished) and established.handle == handle
        ack = await rec_b.next(AckReceived)
        assert isinstance(ack, AckReceived)
        a.ua.bye(established.dialog_id, a.now())
        a.transmit()
        assert await rec_b.next(ByeReceived) == ByeReceived(ack.dialog_id)
        ok = await rec_a.next(ResponseReceived)
        assert isinstance(ok, ResponseReceived) and ok.response.status == 200
        # One TLS connection carried it all, and no plain TCP one was opened.
        assert [k[0] for k in a._connections] == ["TLS"]
    finally:
        await a.close()
        await b.close()


async def test_response_goes_back_on_the_tls_connection_of_the_request(
    certs: TlsFiles,
) -> None:
    ep, _ = await _endpoint(_settings(certs))
    try:
        assert ep.tls_address is not None
        client = ssl.create_default_context(cafile=str(certs.ca))
        reader, writer = await asyncio.open_connection(*ep.tls_address, ssl=client)
        writer.write(_options(ep.tls_address[1]))
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
        response = parse_message(head)
        assert getattr(response, "status", None) == 200, head
        assert (response.headers.get("Via") or "").startswith("SIP/2.0/TLS 127.0.0.1:1;")
        writer.close()
    finally:
        await ep.close()


async def test_untrusted_certificate_is_a_transport_error_and_one_line(
    certs: TlsFiles, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # The far end's certificate comes from another CA than the one the client trusts.
    other = make_certificates(tmp_path / "other")
    server, rec_b = await _endpoint(_settings(other))
    client, rec_a = await _endpoint(_settings(certs))
    try:
        assert server.tls_address is not None
        caplog.set_level(logging.DEBUG)
        client.ua.request(
            "OPTIONS",
            target_uri="sip:127.0.0.1",
            destination=server.tls_address,
            transport="TLS",
            from_uri="sip:a@127.0.0.1",
            to_uri="sip:b@127.0.0.1",
            now=client.now(),
        )
        client.transmit()
        err = await rec_a.next(TransportError, timeout=10)
        assert isinstance(err, TransportError) and "certificate" in err.reason
        assert [r for r in caplog.records if r.message == "sip.tls_connect_failed"]
        assert not [r for r in caplog.records if r.exc_info], "no traceback"
        assert rec_b.events.empty()
    finally:
        await client.close()
        await server.close()


async def test_garbage_and_stalled_handshakes_on_the_tls_port_are_one_line_each(
    certs: TlsFiles, caplog: pytest.LogCaptureFixture
) -> None:
    ep, _ = await _endpoint(_settings(certs, timeout=1.0))
    caplog.set_level(logging.DEBUG)
    try:
        assert ep.tls_address is not None
        # Plain SIP (not TLS) to the TLS port: the handshake fails, the connection closes.
        r1, w1 = await asyncio.open_connection(*ep.tls_address)
        w1.write(_options(ep.tls_address[1]))
        assert await asyncio.wait_for(r1.read(), 5) == b""
        # A connection that never starts its handshake is closed by the handshake timeout.
        r2, w2 = await asyncio.open_connection(*ep.tls_address)
        assert await asyncio.wait_for(r2.read(), 8) == b""
        for w in (w1, w2):
            w.close()
        await asyncio.sleep(0.2)
        problems = [r for r in caplog.records if r.message == "sip.protocol_error"]
        assert len(problems) == 2, [r.__dict__.get("what") for r in problems]
        assert all(r.__dict__["transport"] == "TLS" for r in problems)
        assert all("handshake failed" in r.__dict__["what"] for r in problems)
        assert not [r for r in caplog.records if r.exc_info], "no traceback"
        # The endpoint still answers over UDP.
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.setblocking(False)
        sock.sendto(_options(ep.address[1]).replace(b"SIP/2.0/TLS", b"SIP/2.0/UDP"), ep.address)
        loop = asyncio.get_running_loop()
        data = await asyncio.wait_for(loop.sock_recv(sock, 65535), 5)
        sock.close()
        assert data.startswith(b"SIP/2.0 200")
    finally:
        await ep.close()


async def test_tcp_limits_hold_on_the_tls_listener(certs: TlsFiles) -> None:
    """The per-source cap and the read timeout of a started message apply to TLS too."""
    policy = TcpPolicy(max_connections=100, max_per_source=2, idle_timeout=30, read_timeout=1.0)
    ep, _ = await _endpoint(_settings(certs), tcp=policy)
    client = ssl.create_default_context(cafile=str(certs.ca))
    try:
        assert ep.tls_address is not None
        conns = [await asyncio.open_connection(*ep.tls_address, ssl=client) for _ in range(2)]
        # A third connection from the same address while two are open is refused.
        with pytest.raises((ConnectionError, ssl.SSLError, asyncio.IncompleteReadError)):
            r3, w3 = await asyncio.open_connection(*ep.tls_address, ssl=client)
            try:
                w3.write(_options(ep.tls_address[1]))
                if await asyncio.wait_for(r3.read(), 5) == b"":
                    raise ConnectionResetError("closed at once")
            finally:
                w3.close()
        # Half a message (slowloris): closed once the read timeout passes.
        conns[0][1].write(_options(ep.tls_address[1])[:40])
        assert await asyncio.wait_for(conns[0][0].read(), 6) == b""
        for _, w in conns:
            w.close()
    finally:
        await ep.close()


async def test_trunk_certificate_is_checked_against_its_configured_host_name(
    certs: TlsFiles,
) -> None:
    """The certificate names 127.0.0.1 and localhost: a trunk configured as "localhost"
    is accepted, one configured under another name is refused (host name check)."""
    server, rec_b = await _endpoint(_settings(certs))
    client, rec_a = await _endpoint(_settings(certs))
    try:
        assert server.tls_address is not None
        for name, accepted in (("localhost", True), ("trunk.example.com", False)):
            client.set_tls_name(server.tls_address, name)
            client.ua.request(
                "OPTIONS",
                target_uri=f"sip:{name}",
                destination=server.tls_address,
                transport="TLS",
                from_uri="sip:a@127.0.0.1",
                to_uri="sip:b@127.0.0.1",
                now=client.now(),
            )
            client.transmit()
            if accepted:
                ok = await rec_a.next(ResponseReceived, timeout=10)
                assert isinstance(ok, ResponseReceived) and ok.response.status == 200
                for conn in list(client._connections.values()):
                    assert conn.transport is not None
                    conn.transport.close()  # the next name needs a new handshake
                await asyncio.sleep(0.1)
            else:
                err = await rec_a.next(TransportError, timeout=10)
                assert isinstance(err, TransportError) and "certificate" in err.reason
                assert "trunk.example.com" in err.reason or "match" in err.reason, err.reason
    finally:
        await client.close()
        await server.close()


async def test_an_oversized_message_over_tls_gets_513_before_the_close(
    certs: TlsFiles,
) -> None:
    ep, _ = await _endpoint(_settings(certs))
    try:
        assert ep.tls_address is not None
        client = ssl.create_default_context(cafile=str(certs.ca))
        reader, writer = await asyncio.open_connection(*ep.tls_address, ssl=client)
        body = b"a=x-padding:" + b"y" * 70_000 + b"\r\n"  # as the TCP test's 70 KB
        big = _options(ep.tls_address[1]).replace(
            b"Content-Length: 0\r\n\r\n", b"Content-Length: %d\r\n\r\n" % len(body)
        )
        big += body
        writer.write(big)
        data = await asyncio.wait_for(reader.read(), 10)  # until the server closes
        assert data.startswith(b"SIP/2.0 513"), data[:80]
        writer.close()
    finally:
        await ep.close()
