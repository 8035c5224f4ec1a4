"""The calendars and their explanation at a moment (SPEC S6); the explanation itself is
``vaxel/services/calendars.py``, shared with the SSH console and ``vaxel calendar``."""

from __future__ import annotations

from datetime import UTC, datetime

from aiohttp import web

from vaxel.services.calendars import UnknownCalendar, calendar_ids, explain, find_calendar

from .context import server_of
from .errors import ApiError
from .params import iso_time

routes = web.RouteTableDef()


@routes.get("/api/calendars")
async def list_calendars(request: web.Request) -> web.Response:
    config = server_of(request).config
    return web.json_response(
        {
            "calendars": calendar_ids(config),
            "queues": {qid: q.calendar or "base" for qid, q in config.queues.items()},
        }
    )


@routes.get("/api/calendars/{id}/status")
async def calendar_status(request: web.Request) -> web.Response:
    config = server_of(request).config
    try:
        calendar, queue = find_calendar(config, request.match_info["id"])
    except UnknownCalendar as exc:
        raise ApiError(404, str(exc)) from None
    at = iso_time(request, "at") or datetime.now(UTC)
    return web.json_response(explain(calendar, at, queue))
