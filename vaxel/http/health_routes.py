"""GET /api/health: liveness, version and uptime (no token needed)."""

from __future__ import annotations

from aiohttp import web

from vaxel import __version__

from .context import server_of

routes = web.RouteTableDef()


@routes.get("/api/health")
async def health(request: web.Request) -> web.Response:
    server = server_of(request)
    return web.json_response(
        {
            "status": "ok",
            "version": __version__,
            "uptime_seconds": round(server.uptime(), 3),
            "name": server.config.server.name,
        }
    )
