"""How handlers reach the running server (kept apart from app.py to avoid import cycles)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

if TYPE_CHECKING:
    from vaxel.host import ServerView

SERVER_KEY: web.AppKey[ServerView] = web.AppKey("vaxel_server")


def server_of(request: web.Request) -> ServerView:
    return request.app[SERVER_KEY]
