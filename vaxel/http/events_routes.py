"""GET /api/events: a WebSocket that streams every event published on the server's EventHub.

The first message is ``{"type": "hello", "agents": [...]}`` with every agent's current state,
so a client can draw its board and then apply ``agent_state`` / ``call_event`` updates.
The subscription is opened before the hello is built: no event falls between the two.
A slow client loses the oldest events (the hub's queue is bounded), never blocks others;
a client that stops answering pings is closed by the heartbeat.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import TYPE_CHECKING

from aiohttp import WSCloseCode, WSMsgType, web

from vaxel import __version__

from .agents_routes import agent_json, call_stack, iso
from .auth import actor_of
from .context import server_of
from .openapi import operation, query_param

if TYPE_CHECKING:
    from vaxel.calls.wiring import CallStack

log = logging.getLogger("vaxel.http")

routes = web.RouteTableDef()

HEARTBEAT_SECONDS = 20.0

# Open streams, closed on shutdown: otherwise the HTTP server waits for them to end.
_SOCKETS: web.AppKey[set[web.WebSocketResponse]] = web.AppKey("vaxel_event_sockets")


def setup(app: web.Application) -> None:
    """Add the route and close open streams when the app shuts down."""
    app[_SOCKETS] = set()
    app.add_routes(routes)
    app.on_shutdown.append(_close_all)


async def _close_all(app: web.Application) -> None:
    open_sockets = app[_SOCKETS]
    sockets = list(open_sockets)
    await asyncio.gather(
        *(ws.close(code=WSCloseCode.GOING_AWAY, message=b"server stopping") for ws in sockets),
        return_exceptions=True,
    )


def _dumps(event: dict) -> str:
    return json.dumps(event, default=str, separators=(",", ":"))


async def _forward(ws: web.WebSocketResponse, queue: asyncio.Queue[dict]) -> None:
    while True:
        event = await queue.get()
        await ws.send_str(_dumps(event))


async def _drain(ws: web.WebSocketResponse) -> None:
    """Read until the client closes; clients send nothing we act on except "ping"."""
    async for msg in ws:
        if msg.type == WSMsgType.TEXT and msg.data.strip() == "ping":
            await ws.send_str(_dumps({"type": "pong", "at": iso(time.time())}))


@routes.get("/api/events")
async def events(request: web.Request) -> web.WebSocketResponse:
    stack = call_stack(request)
    ws = web.WebSocketResponse(heartbeat=HEARTBEAT_SECONDS)
    await ws.prepare(request)
    sockets = request.app.get(_SOCKETS, set())
    sockets.add(ws)
    # An agent's stream is their agent client's connection (the grace period of a lost one).
    agent = actor_of(request).principal
    watched = agent.agent if agent is not None and agent.agent is not None else None
    presence = stack.client_presence
    if watched is not None:
        presence.attached(watched)
    try:
        await _stream(request, ws, stack)
    finally:
        sockets.discard(ws)
        if watched is not None:
            presence.detached(watched)
    return ws


async def _stream(request: web.Request, ws: web.WebSocketResponse, stack: CallStack) -> None:
    server = server_of(request)
    async with server.events.subscribe() as queue:
        now = time.time()
        hello = {
            "type": "hello",
            "server": server.config.server.name,
            "version": __version__,
            "at": iso(now),
            "agents": [agent_json(stack, cfg.id, now) for cfg in stack.acd.agent_configs()],
        }
        await ws.send_str(_dumps(hello))
        tasks = [
            asyncio.create_task(_forward(ws, queue), name="ws-forward"),
            asyncio.create_task(_drain(ws), name="ws-drain"),
        ]
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                exc = task.exception()
                if exc is not None and not isinstance(exc, ConnectionError):
                    log.warning("event stream to %s ended: %r", request.remote, exc)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await ws.close()


# ---------------------------------------------------------------------- OpenAPI


OPENAPI_PATHS: dict[str, object] = {
    "/api/events": {
        "get": operation(
            "Live event stream (WebSocket)",
            tag="events",
            description="Upgrade to a WebSocket. Text messages are JSON objects with a `type`: "
            "`hello` first (`agents`: every agent as in GET /api/agents), then `agent_state` "
            "(agent, old, new, reason, at, since), `agent_logged_out`, `call_event` (kind, "
            "call_id, "
            "queue, agent, at, data), `call_quality_warning` / `call_quality_recovered` (call_id, "
            "agent, leg, mos, threshold, r, loss_pct, jitter_ms, rtt_ms, burst_ratio, at; "
            "`call_ended` on the all-clear sent when a call ends while warned), `queue_figures` "
            "(as one item of GET /api/live/queues, at most once a second per queue when it "
            "changed) and any later "
            "event types. Send `ping` to get a `pong`. "
            "Browsers may authenticate with `?token=`.",
            params=[
                query_param(
                    "token", "API token (instead of the Authorization header)", {"type": "string"}
                )
            ],
            ok_description="never sent: the connection switches protocols (101)",
            errors={400: "not a WebSocket upgrade request"},
        )
    },
}
