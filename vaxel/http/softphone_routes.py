"""The browser softphone's signalling: the SDP offer/answer and the call-control socket.

``POST /api/agents/{agent_id}/webrtc`` takes the page's SDP offer and returns Vaxel's
answer (aiortc on the server: ICE host candidates, DTLS-SRTP, Opus or PCMU).
``GET /api/agents/{agent_id}/softphone`` is a WebSocket that must stay open while the page
is the agent's phone: Vaxel sends ``ringing`` / ``connected`` / ``ended``, the page sends
``answer-call`` / ``hang-up``. Agents may open only their own (docs/access.md).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any

from aiohttp import WSCloseCode, WSMsgType, web

from vaxel.services.softphone import SoftphoneService

from .agents_routes import call_stack, iso, json_object
from .auth import actor_of
from .context import server_of
from .openapi import operation, path_param, query_param

log = logging.getLogger("vaxel.http")

routes = web.RouteTableDef()

HEARTBEAT_SECONDS = 10.0  # a page that stops answering pings is a phone that went away

# Open softphone sockets, closed on shutdown (the HTTP server waits for open sockets).
_SOCKETS: web.AppKey[set[web.WebSocketResponse]] = web.AppKey("vaxel_softphone_sockets")


def setup(app: web.Application) -> None:
    app[_SOCKETS] = set()
    app.add_routes(routes)
    app.on_shutdown.append(_close_all)


async def _close_all(app: web.Application) -> None:
    await asyncio.gather(
        *(
            ws.close(code=WSCloseCode.GOING_AWAY, message=b"server stopping")
            for ws in app[_SOCKETS]
        ),
        return_exceptions=True,
    )


def _service(request: web.Request) -> SoftphoneService:
    return SoftphoneService(call_stack(request), server_of(request).audit)


@routes.post("/api/agents/{agent_id}/webrtc")
async def webrtc_offer(request: web.Request) -> web.Response:
    service = _service(request)
    agent_id = request.match_info["agent_id"]
    service.check(actor_of(request), agent_id)
    body = await json_object(request, frozenset({"type", "sdp"}))
    answer = await service.answer(actor_of(request), agent_id, body.get("type"), body.get("sdp"))
    return web.json_response({"type": "answer", "sdp": answer})


def _dumps(msg: dict[str, Any]) -> str:
    return json.dumps(msg, default=str, separators=(",", ":"))


@routes.get("/api/agents/{agent_id}/softphone")
async def softphone(request: web.Request) -> web.WebSocketResponse:
    service = _service(request)
    agent_id = request.match_info["agent_id"]
    service.check(actor_of(request), agent_id)
    ws = web.WebSocketResponse(heartbeat=HEARTBEAT_SECONDS)
    await ws.prepare(request)
    sockets = request.app.get(_SOCKETS, set())
    sockets.add(ws)
    # Messages leave in order through one writer; the call path only queues them.
    outbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

    async def forward() -> None:
        while True:
            msg = await outbox.get()
            await ws.send_str(_dumps(msg))

    writer = asyncio.create_task(forward(), name=f"softphone-{agent_id}")
    send = service.attach(agent_id, outbox.put_nowait)
    try:
        async for msg in ws:
            if msg.type != WSMsgType.TEXT:
                continue
            if msg.data.strip() == "ping":
                outbox.put_nowait({"type": "pong", "at": iso(time.time())})
                continue
            try:
                data = json.loads(msg.data)
            except json.JSONDecodeError as exc:
                outbox.put_nowait({"type": "error", "message": f"not JSON: {exc.msg}"})
                continue
            if not isinstance(data, dict):
                outbox.put_nowait({"type": "error", "message": "expected a JSON object"})
                continue
            error = service.command(agent_id, data)
            if error is not None:
                outbox.put_nowait({"type": "error", "message": error})
    finally:
        service.detach(agent_id, send)
        # What is queued (the "ended" of a call the page's leaving ended) goes if it can.
        while not outbox.empty() and not ws.closed:
            try:
                await asyncio.wait_for(ws.send_str(_dumps(outbox.get_nowait())), 1)
            except (ConnectionError, TimeoutError, RuntimeError):
                break
        writer.cancel()
        await asyncio.gather(writer, return_exceptions=True)
        sockets.discard(ws)
        await ws.close()
    return ws


# ---------------------------------------------------------------------- OpenAPI

_AGENT_PARAM = path_param("agent_id", "the agent's user id, e.g. 1001")

OPENAPI_PATHS: dict[str, object] = {
    "/api/agents/{agent_id}/webrtc": {
        "post": operation(
            "The browser softphone's WebRTC connection: SDP offer in, answer out",
            tag="agents",
            description="The page's SDP offer (complete, ICE candidates gathered: no trickle) "
            "with an audio stream, DTLS fingerprint and ICE credentials; Vaxel answers with "
            "host candidates on its media address, DTLS-SRTP and Opus or PCMU. The softphone "
            "socket (GET /api/agents/{agent_id}/softphone) must be open first. A new offer "
            "replaces the agent's earlier connection.",
            params=[_AGENT_PARAM],
            body={
                "type": "object",
                "required": ["type", "sdp"],
                "additionalProperties": False,
                "properties": {"type": {"enum": ["offer"]}, "sdp": {"type": "string"}},
            },
            body_required=True,
            ok={
                "type": "object",
                "properties": {"type": {"enum": ["answer"]}, "sdp": {"type": "string"}},
            },
            errors={400: "bad offer (the message names the problem)", 404: "unknown agent"},
        )
    },
    "/api/agents/{agent_id}/softphone": {
        "get": operation(
            "The browser softphone's call control (WebSocket)",
            tag="agents",
            description="Upgrade to a WebSocket; open while the page is the agent's phone "
            "(closing it fails a ringing offer and ends a call). Vaxel sends JSON objects "
            "with a `type`: `hello`, `ringing` (call_id, queue, caller), `connected`, "
            "`ended` (call_id, reason), `error` (message); the page sends `answer-call` "
            "and `hang-up` (optional call_id), or `ping`. Browsers authenticate with "
            "`?token=`.",
            params=[
                _AGENT_PARAM,
                query_param(
                    "token", "API token (instead of the Authorization header)", {"type": "string"}
                ),
            ],
            ok_description="never sent: the connection switches protocols (101)",
            errors={400: "not a WebSocket upgrade request", 404: "unknown agent"},
        )
    },
}
