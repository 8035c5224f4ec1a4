"""How handlers reach the running server (kept apart from app.py to avoid import cycles)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

if TYPE_CHECKING:
    from vaxel.server import VaxelServer

SERVER_KEY: web.AppKey[VaxelServer] = web.AppKey("vaxel_server")


def server_of(request: web.Request) -> VaxelServer:
    return request.app[SERVER_KEY]
