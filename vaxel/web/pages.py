"""The page routes: ``/`` redirects to ``/login``; each page is one static HTML file."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from urllib.parse import urlsplit

from aiohttp import web
from aiohttp.typedefs import Handler

from config import ScreenPopConfig, VaxelConfig

STATIC = Path(__file__).resolve().parent / "static"

# URL path -> HTML file under static/. Which page a user lands on after signing in is
# decided by the login page from the user's role (agent -> /agent, others -> /wallboard).
PAGES: dict[str, str] = {
    "/login": "login.html",
    "/agent": "agent.html",
    "/wallboard": "wallboard.html",
    "/admin": "admin.html",
    "/admin/prompts": "prompts.html",
    "/admin/users": "users.html",
    "/admin/reports": "reports.html",
}

# The pages load scripts and styles from /static/ only and connect only to this origin
# (the API and its WebSocket); nothing inline. Frames: only the screen pops configured to
# open in a frame (their origins), and no site may frame these pages.
_CSP = (
    "default-src 'self'; connect-src 'self'; img-src 'self' data:; media-src 'self' blob:; "
    "frame-src {frames}; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}


def frame_origins(config: VaxelConfig | None) -> list[str]:
    """The origins of every screen pop that opens in a frame (system, queues, agents)."""
    if config is None:
        return []
    pops: Iterable[ScreenPopConfig | None] = [
        config.screen_pop,
        *(q.screen_pop for q in config.queues.values()),
        *(a.screen_pop for a in config.agents.values()),
    ]
    origins = []
    for pop in pops:
        if pop is not None and pop.open == "frame":
            parts = urlsplit(pop.url)
            origins.append(f"{parts.scheme}://{parts.netloc}")
    return sorted(set(origins))


def page_headers(config: VaxelConfig | None) -> Mapping[str, str]:
    frames = " ".join(["'self'", *frame_origins(config)])
    return {"Content-Security-Policy": _CSP.format(frames=frames), **_HEADERS}


def _page(filename: str, headers: Mapping[str, str]) -> Handler:
    async def handler(request: web.Request) -> web.StreamResponse:
        return web.FileResponse(STATIC / filename, headers=headers)

    return handler


async def _root(request: web.Request) -> web.StreamResponse:
    # The server cannot know who is signed in (the token lives in the tab's sessionStorage):
    # the login page forwards a tab that still has a valid session to its home page.
    raise web.HTTPFound("/login")


def add_web_routes(app: web.Application, config: VaxelConfig | None = None) -> None:
    """Add ``/``, the pages and ``/static/`` to ``app`` (before it is started).

    None of these paths is under ``/api/``, so the API's token middleware lets them through;
    the data each page shows comes from the API, which checks the token as always.
    """
    headers = page_headers(config)
    app.router.add_get("/", _root)
    for path, filename in PAGES.items():
        app.router.add_get(path, _page(filename, headers))
    app.router.add_static("/static/", STATIC, append_version=False)
