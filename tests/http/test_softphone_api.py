"""The browser softphone's signalling routes: the SDP offer/answer and the call socket.

A real aiortc peer connection plays the browser (ICE with host candidates on 127.0.0.1,
DTLS-SRTP): its offer gets an answer it can use, and the connection comes up. Bad offers
are refused with a 400 naming what is wrong; an agent cannot open another agent's phone.
"""

from __future__ import annotations

import asyncio
import json

import aiohttp
import pytest
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import AudioStreamTrack

from tests.http.conftest import TOKEN, Api
from tests.http.test_access_matrix import sign_in

WAIT = 10.0


async def _offer() -> tuple[RTCPeerConnection, str]:
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    pc.addTrack(AudioStreamTrack())
    await pc.setLocalDescription(await pc.createOffer())
    assert pc.localDescription is not None
    return pc, pc.localDescription.sdp


async def _socket(api: Api, agent: str, token: str = TOKEN) -> aiohttp.ClientWebSocketResponse:
    ws = await api.session.ws_connect(api.url(f"/api/agents/{agent}/softphone?token={token}"))
    hello = json.loads((await ws.receive(timeout=WAIT)).data)
    assert hello == {"type": "hello", "agent": agent}
    return ws


async def _post(api: Api, agent: str, body: object, token: str = TOKEN) -> tuple[int, dict]:
    headers = {"Authorization": f"Bearer {token}"}
    async with api.session.post(
        api.url(f"/api/agents/{agent}/webrtc"), json=body, headers=headers
    ) as resp:
        return resp.status, await resp.json()


async def test_an_aiortc_browser_connects_and_logs_in_on_the_browser(api: Api) -> None:
    ws = await _socket(api, "1001")
    pc, offer = await _offer()
    try:
        status, body = await _post(api, "1001", {"type": "offer", "sdp": offer})
        assert status == 200, body
        answer = body["sdp"]
        assert body["type"] == "answer"
        assert "a=fingerprint:sha-256" in answer  # DTLS-SRTP
        assert "UDP/TLS/RTP/SAVPF" in answer
        # Host candidates on the configured media address only (127.0.0.1 in the demo).
        candidates = [line for line in answer.splitlines() if line.startswith("a=candidate:")]
        assert candidates and all(" 127.0.0.1 " in c and " typ host" in c for c in candidates)
        await pc.setRemoteDescription(RTCSessionDescription(answer, "answer"))
        async with asyncio.timeout(WAIT):
            while pc.connectionState != "connected":
                await asyncio.sleep(0.05)
        stack = api.server.calls
        assert stack is not None
        async with asyncio.timeout(WAIT):
            while stack.browsers.phone("1001") is None:
                await asyncio.sleep(0.05)

        status, login = await api.call("POST", "/api/agents/1001/login", {"device": "browser"})
        assert status == 200, login
        assert login["agent"]["device"] == "browser:1001"
        assert login["agent"]["device_kind"] == "browser"
        assert login["warnings"] == []

        # The page goes away: the browser is no longer a phone for the ACD.
        await ws.close()
        async with asyncio.timeout(WAIT):
            while stack.browsers.phone("1001") is not None:
                await asyncio.sleep(0.05)
    finally:
        await pc.close()


async def test_a_browser_login_without_a_connected_page_warns(api: Api) -> None:
    status, login = await api.call("POST", "/api/agents/1002/login", {"device": "browser"})
    assert status == 200, login
    assert "no browser softphone is connected" in login["warnings"][0]


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ({"type": "offer"}, "field 'sdp': expected the SDP offer"),
        ({"type": "offer", "sdp": 42}, "field 'sdp': expected the SDP offer"),
        ({"type": "answer", "sdp": "v=0\r\n"}, "field 'type': expected \"offer\""),
        ({"type": "offer", "sdp": "hello"}, "must start with v=0"),
        ({"type": "offer", "sdp": "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\n"}, "no audio stream"),
        ({"type": "offer", "sdp": "x" * 40_000}, "at most"),
        ({"type": "offer", "sdp": "v=0", "extra": 1}, "extra"),
    ],
)
async def test_a_bad_offer_is_400_naming_the_problem(api: Api, body: dict, named: str) -> None:
    status, reply = await _post(api, "1001", body)
    assert status == 400, reply
    assert named in reply["error"]["message"], reply


async def test_offers_without_dtls_ice_or_a_known_codec_are_refused(api: Api) -> None:
    pc, offer = await _offer()
    await pc.close()
    no_dtls = "\r\n".join(x for x in offer.split("\r\n") if not x.startswith("a=fingerprint:"))
    no_ice = "\r\n".join(x for x in offer.split("\r\n") if not x.startswith("a=ice-ufrag:"))
    no_codec = "\r\n".join(
        x
        for x in offer.split("\r\n")
        if not (x.startswith("a=rtpmap:") and ("opus" in x or "PCMU" in x))
    )
    for sdp, named in (
        (no_dtls, "DTLS-SRTP is required"),
        (no_ice, "ICE is required"),
        (no_codec, "no codec Vaxel speaks"),
    ):
        status, reply = await _post(api, "1001", {"type": "offer", "sdp": sdp})
        assert status == 400 and named in reply["error"]["message"], reply


async def test_a_good_offer_without_the_call_socket_is_refused(api: Api) -> None:
    pc, offer = await _offer()
    await pc.close()
    status, reply = await _post(api, "1003", {"type": "offer", "sdp": offer})
    assert status == 400, reply
    assert "open the softphone socket first" in reply["error"]["message"]


async def test_an_agent_may_not_open_another_agents_softphone(api: Api) -> None:
    token = await sign_in(api, "1001", "demo-1001-password")
    pc, offer = await _offer()
    await pc.close()
    status, reply = await _post(api, "1002", {"type": "offer", "sdp": offer}, token)
    assert status == 403, reply
    assert "1001" in reply["error"]["message"]
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await api.session.ws_connect(api.url(f"/api/agents/1002/softphone?token={token}"))
    assert refused.value.status == 403
    # Its own is fine.
    ws = await _socket(api, "1001", token)
    await ws.close()


async def test_call_commands_without_a_call_are_answered_with_an_error(api: Api) -> None:
    ws = await _socket(api, "1001")
    await ws.send_str(json.dumps({"type": "answer-call", "call_id": "nope"}))
    error = json.loads((await ws.receive(timeout=WAIT)).data)
    assert error["type"] == "error" and "send the SDP offer first" in error["message"]
    await ws.send_str("not json")
    error = json.loads((await ws.receive(timeout=WAIT)).data)
    assert error["type"] == "error" and "not JSON" in error["message"]
    await ws.close()
