"""The page routes: ``/`` redirects to ``/login``; each page is one static HTML file."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web
from aiohttp.typedefs import Handler

STATIC = Path(__file__).resolve().parent / "static"

# URL path -> HTML file under static/. Which page a user lands on after signing in is
# decided by the login page from the user's role (agent -> /agent, others -> /wallboard).
PAGES: dict[str, str] = {
    "/login": "login.html",
    "/agent": "agent.html",
    "/wallboard": "wallboard.html",
    "/admin": "admin.html",
}

# The pages load scripts and styles from /static/ only and connect only to this origin
# (the API and its WebSocket); nothing inline, no frames of other sites.
_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; connect-src 'self'; img-src 'self' data:; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}


def _page(filename: str) -> Handler:
    async def handler(request: web.Request) -> web.StreamResponse:
        return web.FileResponse(STATIC / filename, headers=_HEADERS)

    return handler


async def _root(request: web.Request) -> web.StreamResponse:
    # The server cannot know who is signed in (the token lives in the tab's sessionStorage):
    # the login page forwards a tab that still has a valid session to its home page.
    raise web.HTTPFound("/login")


def add_web_routes(app: web.Application) -> None:
    """Add ``/``, the pages and ``/static/`` to ``app`` (before it is started).

    None of these paths is under ``/api/``, so the API's token middleware lets them through;
    the data each page shows comes from the API, which checks the token as always.
    """
    app.router.add_get("/", _root)
    for path, filename in PAGES.items():
        app.router.add_get(path, _page(filename))
    app.router.add_static("/static/", STATIC, append_version=False)
