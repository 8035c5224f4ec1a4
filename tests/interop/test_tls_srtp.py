"""baresip calls over SIP over TLS with SRTP (SDES, ``mediaenc srtp-mand``), reaches the
queue and hears the welcome prompt; its own log says the media is SRTP, the server's leg
has an SRTP context, and the prompt is found in what baresip decrypted and decoded."""

from __future__ import annotations

import asyncio
import ssl
import time
from pathlib import Path

import aiohttp
import pytest
import soundfile as sf

from sip import SipEndpoint, TlsSettings
from sip.useragent import IncomingRequest
from tests.peers.baresip import Baresip
from tests.peers.sipclient import UdpClient
from tests.peers.tlscert import make_certificates
from tests.support import free_port

from .conftest import start_vaxel
from .test_ivr_prompts import CALLER, HEARD, locate, over_g711

pytestmark = pytest.mark.interop


async def test_baresip_over_tls_with_srtp_reaches_the_queue_and_hears_the_prompt(
    tmp_path: Path,
) -> None:
    certs = make_certificates(tmp_path / "tls")
    tls_port = free_port()
    vaxel = await start_vaxel(
        tmp_path,
        extra=(
            f"[sip.tls]\nenabled = true\nport = {tls_port}\n"
            f'certificate = "{certs.certificate}"\nkey = "{certs.key}"\n'
        ),
    )
    try:
        account = (
            f"<sip:{CALLER}@127.0.0.1;transport=tls>;regint=0;answermode=manual;"
            "audio_codecs=PCMU;mediaenc=srtp-mand"
        )
        phone = Baresip(
            tmp_path / "phone",
            account,
            extra_config=f"module\t\t\tsrtp.so\nsip_cafile\t\t{certs.ca}\n",
        )
        await phone.start()
        srtp_legs = 0
        try:
            phone.command("dial", f"sip:100@127.0.0.1:{tls_port};transport=tls")
            await phone.wait_for("CALL_ESTABLISHED", 15)
            await asyncio.sleep(1)
            srtp_legs = sum(1 for leg in vaxel.stack.media.legs if leg.srtp is not None)
            rejected = [leg.srtp.rejected for leg in vaxel.stack.media.legs if leg.srtp]
            # The connection that carries the call is a TLS one, accepted on the TLS port.
            transports = {name for name, _ in vaxel.stack.endpoint._connections}
            await asyncio.sleep(5)
            phone.command("hangup")
            await phone.wait_for("CALL_CLOSED", 10)
        finally:
            output = await phone.stop()
        assert srtp_legs == 1, output[-3000:]
        assert rejected == [0], rejected  # every packet from baresip authenticated
        assert transports == {"TLS"}, transports
        # baresip's own word: the answer keyed SRTP (RTP/SAVP with our a=crypto).
        assert "SRTP is Enabled (cryptosuite=AES_CM_128_HMAC_SHA1_80)" in output, output[-3000:]
        assert "mediaenc failed" not in output and "no match for stream" not in output
        (dec,) = list((phone.dir / "snd").glob("*-dec.wav")) or [None]
        assert dec is not None, f"baresip wrote no *-dec.wav:\n{output[-3000:]}"
        heard, rate = sf.read(dec, dtype="int16")
        assert rate == 8000
        welcome = over_g711(vaxel.stack.prompts.resolve("welcome", "sv").path)
        score, _ = locate(heard.astype("float64"), welcome)
        assert score > HEARD, f"welcome not heard over SRTP (best match {score:.2f})"
        await asyncio.sleep(0.3)
        events = await vaxel.server.calllog.events()
        kinds = [e.kind for e in events]
        assert "queued" in kinds, kinds
        hangup = next(e for e in events if e.kind == "hangup")
        assert hangup.data["rtp"]["caller"]["received"] > 50, hangup.data  # SRTP in
        assert hangup.data["rtp"]["caller"]["sent"] > 50, hangup.data
    finally:
        await vaxel.server.stop()


async def test_agent_phone_registered_over_tls_is_rung_over_its_tls_connection(
    tmp_path: Path,
) -> None:
    """baresip registers as agent 1001 over TLS; a caller on 100 is put through to it: the
    INVITE goes back over the phone's own TLS connection and the call is answered."""
    certs = make_certificates(tmp_path / "tls")
    tls_port = free_port()
    vaxel = await start_vaxel(
        tmp_path,
        extra=(
            f"[sip.tls]\nenabled = true\nport = {tls_port}\n"
            f'certificate = "{certs.certificate}"\nkey = "{certs.key}"\n'
        ),
    )
    try:
        account = (
            f"<sip:1001@127.0.0.1;transport=tls>;auth_pass=secret1001;regint=600;"
            f'outbound="sip:127.0.0.1:{tls_port};transport=tls";answermode=auto;'
            "audio_codecs=PCMU"
        )
        phone = Baresip(tmp_path / "agent", account, extra_config=f"sip_cafile\t\t{certs.ca}\n")
        await phone.start()
        caller = await UdpClient(("127.0.0.1", vaxel.sip_port)).open()
        try:
            for _ in range(100):
                if vaxel.stack.registrar.bindings("1001", time.time()):
                    break
                await asyncio.sleep(0.1)
            (binding,) = vaxel.stack.registrar.bindings("1001", time.time())
            assert binding.transport == "TLS" and "transport=tls" in binding.contact, binding
            async with (
                aiohttp.ClientSession(headers={"Authorization": "Bearer demo-admin-token"}) as s,
                s.post(f"{vaxel.http}/api/agents/1001/login", json={"device": "sip"}) as resp,
            ):
                assert resp.status == 200, await resp.text()
            status, sounding = await caller.call_with_audio("100", listen=6.0, timeout=10)
            assert status == 200
            # baresip's 440 Hz tone, bridged to the caller after the agent answered.
            assert sounding > 50, sounding
        finally:
            caller.close()
            output = await phone.stop()
        await asyncio.sleep(0.5)
        events = await vaxel.server.calllog.events()
        answered = [e for e in events if e.kind == "answered"]
        assert answered and answered[0].agent == "1001", ([e.kind for e in events], output[-2000:])
    finally:
        await vaxel.server.stop()


async def test_vaxel_registers_to_a_trunk_over_tls_checking_its_certificate(
    tmp_path: Path,
) -> None:
    """The trunk (a SIP endpoint with its own TLS listener) is configured by host name;
    Vaxel connects over TLS, checks the certificate against that name and its CA, and its
    REGISTER says TLS in Via and Contact."""
    certs = make_certificates(tmp_path / "tls")
    got: asyncio.Queue[IncomingRequest] = asyncio.Queue()

    async def on_event(ev: object) -> None:
        if isinstance(ev, IncomingRequest):
            await got.put(ev)

    server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_ctx.load_cert_chain(certs.certificate, certs.key)
    trunk = SipEndpoint(on_event, tls=TlsSettings(server_ctx, ssl.create_default_context(), 0))
    await trunk.start("127.0.0.1", 0)
    assert trunk.tls_address is not None
    tls_port = free_port()
    vaxel = await start_vaxel(
        tmp_path,
        replace={
            'host = "127.0.0.1"\nport = 5080\ntransport = "udp"': (
                f'host = "localhost"\nport = {trunk.tls_address[1]}\ntransport = "tls"\n'
                "register = true"
            )
        },
        extra=(
            f"[sip.tls]\nenabled = true\nport = {tls_port}\n"
            f'certificate = "{certs.certificate}"\nkey = "{certs.key}"\nca = "{certs.ca}"\n'
        ),
    )
    try:
        register = await asyncio.wait_for(got.get(), 15)
        assert register.request.method == "REGISTER" and register.transport == "TLS"
        via = register.request.headers.get("Via") or ""
        assert via.startswith(f"SIP/2.0/TLS 127.0.0.1:{tls_port};"), via
        contact = register.request.headers.get("Contact") or ""
        assert f":{tls_port};transport=tls>" in contact, contact
        trunk.ua.respond(register.request_id, 200, headers=[("Contact", contact)], now=trunk.now())
        trunk.transmit()
        (reg,) = vaxel.stack.trunk_registrations
        for _ in range(100):
            if reg.registered:
                break
            await asyncio.sleep(0.05)
        assert reg.registered
    finally:
        await vaxel.server.stop()
        await trunk.close()
