"""An agent page's softphone played by aiortc in the test process (no browser needed).

It does what softphone.js does: opens the call socket, sends its SDP offer to
``POST /api/agents/ID/webrtc``, waits for the connection and logs in with device
``browser``; ``next_message`` reads what Vaxel sends on the socket.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import AudioStreamTrack


class AiortcPage:
    def __init__(self, base: str, agent: str, token: str) -> None:
        self.base, self.agent, self.token = base, agent, token
        self.pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        self.session = aiohttp.ClientSession(headers={"Authorization": f"Bearer {token}"})
        self.ws: aiohttp.ClientWebSocketResponse | None = None

    async def api(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        async with self.session.request(method, self.base + path, json=body) as resp:
            return resp.status, await resp.json()

    async def log_in_on_the_browser(self, timeout: float = 15.0) -> None:
        path = f"/api/agents/{self.agent}"
        self.ws = await self.session.ws_connect(f"{self.base}{path}/softphone?token={self.token}")
        hello = await self.next_message(timeout)
        assert hello["type"] == "hello", hello
        self.pc.addTrack(AudioStreamTrack())  # silence, paced like a microphone
        await self.pc.setLocalDescription(await self.pc.createOffer())
        assert self.pc.localDescription is not None
        status, answer = await self.api(
            "POST", f"{path}/webrtc", {"type": "offer", "sdp": self.pc.localDescription.sdp}
        )
        assert status == 200, answer
        await self.pc.setRemoteDescription(RTCSessionDescription(answer["sdp"], "answer"))
        async with asyncio.timeout(timeout):
            while self.pc.connectionState != "connected":
                await asyncio.sleep(0.05)
        status, login = await self.api("POST", f"{path}/login", {"device": "browser"})
        assert status == 200 and not login["warnings"], login

    async def next_message(self, timeout: float) -> dict[str, Any]:
        assert self.ws is not None
        msg = await self.ws.receive(timeout=timeout)
        assert msg.type == aiohttp.WSMsgType.TEXT, msg
        data: dict[str, Any] = json.loads(msg.data)
        return data

    async def wait_for(self, kind: str, timeout: float) -> dict[str, Any]:
        async with asyncio.timeout(timeout):
            while True:
                msg = await self.next_message(timeout)
                if msg["type"] == kind:
                    return msg

    async def send(self, msg: dict[str, Any]) -> None:
        assert self.ws is not None
        await self.ws.send_str(json.dumps(msg))

    async def close_socket(self) -> None:
        if self.ws is not None:
            await self.ws.close()

    async def close(self) -> None:
        await self.close_socket()
        await self.pc.close()
        await self.session.close()
