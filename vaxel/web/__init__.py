"""Web front door: the login page, the agent client, the wallboard and the admin page.

Static HTML and small vanilla JavaScript files served by the same aiohttp app as the API
(no build step). The pages hold no server-side state: they sign in with ``POST /api/login``,
keep the session token in ``sessionStorage`` and talk only to the JSON API and
``/api/events``. This package imports no other front door (``vaxel.http``, ``vaxel.ssh``);
the composition root (``vaxel/server.py``) adds its routes to the app.
"""

from .pages import PAGES, add_web_routes

__all__ = ["PAGES", "add_web_routes"]
