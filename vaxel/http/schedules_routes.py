"""Scheduled logins (SPEC S4): list, create, delete, and the staffing view by day."""

from __future__ import annotations

from datetime import date
from typing import Any

from aiohttp import web

from vaxel.services.schedules import (
    SCHEDULE_FIELDS,
    ScheduleService,
    schedule_json,
    staffing_json,
)

from .auth import actor_of
from .body import int_id, json_object
from .context import server_of
from .errors import ApiError
from .openapi import operation, path_param, query_param, ref

routes = web.RouteTableDef()


def _service(request: web.Request) -> ScheduleService:
    calls = server_of(request).calls
    if calls is None:
        raise ApiError(503, "the call stack is not running")
    return calls.schedules


def _day(request: web.Request, key: str) -> date:
    value = request.query.get(key)
    try:
        return date.fromisoformat(value or "")
    except ValueError:
        raise ApiError(400, f"{key}: expected a date YYYY-MM-DD, got {value!r}") from None


@routes.get("/api/schedules")
async def list_schedules(request: web.Request) -> web.Response:
    return web.json_response({"schedules": [schedule_json(s) for s in _service(request).schedules]})


@routes.post("/api/schedules")
async def create_schedule(request: web.Request) -> web.Response:
    body = await json_object(request, SCHEDULE_FIELDS)
    created = await _service(request).create(actor_of(request), body)
    return web.json_response({"schedule": schedule_json(created)}, status=201)


@routes.delete("/api/schedules/{schedule_id}")
async def delete_schedule(request: web.Request) -> web.Response:
    schedule_id = int_id(request.match_info["schedule_id"], "schedule")
    await _service(request).delete(actor_of(request), schedule_id)
    return web.json_response({"deleted": schedule_id})


@routes.get("/api/staffing")
async def staffing_view(request: web.Request) -> web.Response:
    first, last = _day(request, "from"), _day(request, "to")
    rows = _service(request).staffing(first, last)
    return web.json_response({"from": first.isoformat(), "to": last.isoformat(),
                              "planned": [staffing_json(r) for r in rows]})  # fmt: skip


_DAY = {"type": "string", "format": "date"}
_HHMM = {"type": "string", "pattern": "^[0-2][0-9]:[0-5][0-9]$"}
OPENAPI_SCHEMAS: dict[str, Any] = {
    "LoginSchedule": {
        "type": "object",
        "description": "The agent is logged in every day first_day..last_day from start to "
        "end (wall clock in zone, the server's time zone), on number (default: the agent's "
        "remote-login number).",
        "properties": {
            "id": {"type": "integer"},
            "agent": {"type": "string"},
            "first_day": _DAY,
            "last_day": _DAY,
            "start": _HHMM,
            "end": _HHMM,
            "zone": {"type": "string"},
            "number": {"type": ["string", "null"]},
        },
    },
    "StaffingRow": {
        "type": "object",
        "properties": {
            "day": _DAY,
            "agent": {"type": "string"},
            "start": _HHMM,
            "end": _HHMM,
            "number": {"type": ["string", "null"]},
            "schedule": {"type": "integer"},
        },
    },
}
_ONE = {"type": "object", "properties": {"schedule": ref("LoginSchedule")}}
OPENAPI_PATHS: dict[str, Any] = {
    "/api/schedules": {
        "get": operation(
            "Scheduled logins",
            tag="agents",
            ok={
                "type": "object",
                "properties": {"schedules": {"type": "array", "items": ref("LoginSchedule")}},
            },
        ),
        "post": operation(
            "Schedule an agent's logins for a date interval (daily start and end)",
            tag="agents",
            body={
                "type": "object",
                "required": ["agent", "first_day", "last_day", "start", "end"],
                "properties": {
                    "agent": {"type": "string"},
                    "first_day": _DAY,
                    "last_day": _DAY,
                    "start": _HHMM,
                    "end": _HHMM,
                    "number": {"type": "string"},
                },
            },
            ok=_ONE,
            ok_status=201,
            errors={
                400: "a field is missing or malformed, or the schedule would be over already",
                404: "unknown agent",
                409: "it overlaps another schedule of the agent",
            },
        ),
    },
    "/api/schedules/{schedule_id}": {
        "delete": operation(
            "Delete a schedule that has not begun",
            tag="agents",
            params=[path_param("schedule_id", "schedule id")],
            ok={"type": "object", "properties": {"deleted": {"type": "integer"}}},
            errors={404: "no such schedule", 409: "it has begun or is over"},
        )
    },
    "/api/staffing": {
        "get": operation(
            "The planned logins per day and agent",
            tag="agents",
            params=[
                query_param("from", "first day, YYYY-MM-DD", _DAY),
                query_param("to", "last day, YYYY-MM-DD (at most a year on)", _DAY),
            ],
            ok={
                "type": "object",
                "properties": {"planned": {"type": "array", "items": ref("StaffingRow")}},
            },
            errors={400: "from/to missing or malformed"},
        )
    },
}
