"""GET /api/health: liveness, version and uptime (no token needed), and the counters of
resource pressure a monitor watches: RTP port pairs and refused SIP connections."""

from __future__ import annotations

from aiohttp import web

from vaxel import __version__

from .context import server_of

routes = web.RouteTableDef()


@routes.get("/api/health")
async def health(request: web.Request) -> web.Response:
    server = server_of(request)
    body: dict[str, object] = {
        "status": "ok",
        "version": __version__,
        "uptime_seconds": round(server.uptime(), 3),
        "name": server.config.server.name,
    }
    if server.calls is not None:
        body.update(server.calls.pressure())
    return web.json_response(body)
