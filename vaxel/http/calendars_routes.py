"""The calendars and their explanation at a moment (SPEC S6); the explanation itself is
``vaxel/services/calendars.py``, shared with the SSH console and ``vaxel calendar``."""

from __future__ import annotations

from datetime import UTC, datetime

from aiohttp import web

from vaxel.services.calendars import UnknownCalendar, calendar_ids, explain, find_calendar

from .context import server_of
from .errors import ApiError
from .openapi import operation, path_param
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


@routes.get("/api/calendars/{id}/deviations")
async def list_deviations(request: web.Request) -> web.Response:
    """A calendar's deviations in the order they are tried (``id``: the position the
    DELETE takes; ``number``: as explanations count them)."""
    config = server_of(request).config
    cid = request.match_info["id"]
    if cid not in config.calendars:
        known = ", ".join(sorted(config.calendars))
        raise ApiError(404, f"no calendar {cid!r} (known: {known})")
    return web.json_response(
        {
            "calendar": cid,
            "deviations": [
                {
                    "id": i,
                    "number": i + 1,
                    "status": d.status,
                    "name": d.name or None,
                    "when": d.describe(),
                    "spec": d.model_dump(mode="json", exclude_none=True),
                }
                for i, d in enumerate(config.calendars[cid].deviations)
            ],
        }
    )


OPENAPI_PATHS = {
    "/api/calendars/{id}/deviations": {
        "get": operation(
            "A calendar's deviations in the order they are tried",
            tag="calendars",
            params=[path_param("id", "the calendar")],
            ok={"type": "object", "properties": {"deviations": {"type": "array"}}},
            errors={404: "no such calendar"},
        )
    }
}
