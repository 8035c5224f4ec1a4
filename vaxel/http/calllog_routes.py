"""Call log queries: events and per-call summaries by time range, queue and agent."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from aiohttp import web

from .context import server_of
from .params import int_param, iso_time

routes = web.RouteTableDef()


def event_filters(request: web.Request) -> dict[str, Any]:
    """The call-log filters every event query takes: time range, queue, agent, limit."""
    return {
        "since": iso_time(request, "since"),
        "until": iso_time(request, "until"),
        "queue": request.query.get("queue"),
        "agent": request.query.get("agent"),
        "limit": int_param(request, "limit", 1000, 1, 10000),
    }


@routes.get("/api/calllog/events")
async def call_events(request: web.Request) -> web.Response:
    events = await server_of(request).calllog.events(
        call_id=request.query.get("call_id"), **event_filters(request)
    )
    return web.json_response({"events": [e.as_dict() for e in events]})


@routes.get("/api/calllog/calls")
async def calls(request: web.Request) -> web.Response:
    rows = await server_of(request).calllog.calls(
        since=iso_time(request, "since"),
        until=iso_time(request, "until"),
        queue=request.query.get("queue"),
        agent=request.query.get("agent"),
        limit=int_param(request, "limit", 1000, 1, 10000),
    )
    out = []
    for row in rows:
        d = asdict(row)
        d["started_at"] = row.started_at.isoformat()
        d["ended_at"] = row.ended_at.isoformat()
        out.append(d)
    return web.json_response({"calls": out})
