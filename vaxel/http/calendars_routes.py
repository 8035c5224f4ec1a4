"""The calendars, their explanation at a moment (SPEC S6) and deviations added at runtime;
the explanation itself is ``vaxel/services/calendars.py``, shared with the SSH console and
``vaxel calendar``, the deviations ``vaxel/services/calendar_deviations.py``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from vaxel.services.calendar_deviations import DEVIATION_FIELDS, CalendarDeviations
from vaxel.services.calendars import UnknownCalendar, calendar_ids, explain, find_calendar

from .agents_routes import call_stack
from .auth import actor_of
from .body import int_id, json_object
from .context import server_of
from .errors import ApiError
from .openapi import operation, path_param
from .params import iso_time

routes = web.RouteTableDef()


def _deviations(request: web.Request) -> CalendarDeviations:
    return call_stack(request).calendar_deviations


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
    in_force = _deviations(request).effective_all()
    try:
        calendar, queue = find_calendar(config, request.match_info["id"], in_force)
    except UnknownCalendar as exc:
        raise ApiError(404, str(exc)) from None
    at = iso_time(request, "at") or datetime.now(UTC)
    return web.json_response(explain(calendar, at, queue))


@routes.get("/api/calendars/{id}/deviations")
async def list_deviations(request: web.Request) -> web.Response:
    cid = request.match_info["id"]
    return web.json_response({"calendar": cid, "deviations": _deviations(request).listing(cid)})


@routes.post("/api/calendars/{id}/deviations")
async def add_deviation(request: web.Request) -> web.Response:
    deviations = _deviations(request)
    cid = request.match_info["id"]
    deviations.check_calendar(cid)
    body = await json_object(request, DEVIATION_FIELDS)
    added = await deviations.add(actor_of(request), server_of(request).audit, cid, body)
    return web.json_response({"deviation": added}, status=201)


@routes.delete("/api/calendars/{id}/deviations/{deviation_id}")
async def remove_deviation(request: web.Request) -> web.Response:
    deviations = _deviations(request)
    cid = request.match_info["id"]
    deviations.check_calendar(cid)
    dev_id = int_id(request.match_info["deviation_id"], "deviation")
    await deviations.remove(actor_of(request), server_of(request).audit, cid, dev_id)
    return web.json_response({"deleted": dev_id})


# ---------------------------------------------------------------------- OpenAPI

_CAL = path_param("id", "calendar id (base or [calendars.ID])")
_DEVIATION: dict[str, Any] = {
    "type": "object",
    "properties": {
        "id": {"type": ["integer", "null"], "description": "null: from the configuration"},
        "number": {"type": "integer", "description": "position, as explanations count"},
        "source": {"enum": ["api", "config"]},
        "status": {"enum": ["open", "closed"]},
        "name": {"type": ["string", "null"]},
        "when": {"type": "string"},
        "spec": {"type": ["object", "null"]},
    },
}

OPENAPI_PATHS: dict[str, Any] = {
    "/api/calendars/{id}/deviations": {
        "get": operation(
            "A calendar's deviations in the order they are tried",
            tag="calendars",
            params=[_CAL],
            ok={"type": "object", "properties": {"deviations": {"type": "array"}}},
            errors={404: "unknown calendar"},
        ),
        "post": operation(
            "Add a deviation (in force at once, before the configured ones; audited)",
            tag="calendars",
            description="Fields as in the TOML (docs/calendars.md): status (open/closed), "
            "name, date, date_from + date_to, weekdays, time (HH:MM-HH:MM), recurring, "
            "prompt ({lang: prompt}), on_holidays.",
            params=[_CAL],
            body={
                "type": "object",
                "required": ["status"],
                "additionalProperties": False,
                "properties": {
                    "status": {"enum": ["open", "closed"]},
                    "name": {"type": "string"},
                    "date": {"type": "string", "format": "date"},
                    "date_from": {"type": "string", "format": "date"},
                    "date_to": {"type": "string", "format": "date"},
                    "weekdays": {"type": "array", "items": {"type": "string"}},
                    "time": {"type": "string", "example": "12:00-13:00"},
                    "recurring": {"type": "boolean"},
                    "prompt": {"type": "object", "additionalProperties": {"type": "string"}},
                    "on_holidays": {"type": "boolean"},
                },
            },
            body_required=True,
            ok={"type": "object", "properties": {"deviation": _DEVIATION}},
            ok_status=201,
            errors={400: "invalid deviation (the message names the field)", 404: "unknown"},
        ),
    },
    "/api/calendars/{id}/deviations/{deviation_id}": {
        "delete": operation(
            "Remove a deviation added through the API (audited)",
            tag="calendars",
            params=[_CAL, path_param("deviation_id", "the deviation's id (a number)")],
            ok={"type": "object", "properties": {"deleted": {"type": "integer"}}},
            errors={404: "unknown calendar or deviation"},
        )
    },
}
