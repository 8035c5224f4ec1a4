"""Callbacks for supervisors (SPEC S8): pending ones and those given up after the last
attempt, with the customer's number (so: the ``view_calls`` grant)."""

from __future__ import annotations

from aiohttp import web

from vaxel.services import CallbackBoard

from .agents_routes import call_stack
from .calllog_routes import event_filters
from .context import server_of
from .errors import ApiError
from .openapi import operation, query_param, ref

routes = web.RouteTableDef()

STATUSES = ("pending", "failed", "all")


@routes.get("/api/callbacks")
async def list_callbacks(request: web.Request) -> web.Response:
    status = request.query.get("status", "all")
    if status not in STATUSES:
        raise ApiError(
            400, f"query parameter 'status': expected one of {', '.join(STATUSES)}, got {status!r}"
        )
    filters = event_filters(request)
    board = CallbackBoard(call_stack(request).controller.callbacks, server_of(request).calllog)
    out = []
    if status in ("pending", "all"):
        out += await board.pending(filters["queue"])
    if status in ("failed", "all"):
        out += await board.failed(
            since=filters["since"],
            until=filters["until"],
            queue=filters["queue"],
            limit=filters["limit"],
        )
    return web.json_response({"callbacks": out})


OPENAPI_SCHEMAS = {
    "Callback": {
        "type": "object",
        "properties": {
            "status": {"type": "string", "enum": ["pending", "failed"]},
            "id": {"type": "string", "description": "the call that booked it"},
            "queue": {"type": ["string", "null"]},
            "number": {"type": ["string", "null"], "description": "the number to call"},
            "booked_at": {"type": "string", "format": "date-time", "description": "pending"},
            "priority": {"type": "integer", "description": "pending: the booking call's"},
            "attempts": {"type": ["integer", "null"], "description": "attempts made so far"},
            "next_attempt_at": {"type": ["string", "null"], "format": "date-time"},
            "b_number": {"type": ["string", "null"], "description": "pending"},
            "failed_at": {"type": "string", "format": "date-time", "description": "failed"},
            "reason": {"type": ["string", "null"], "description": "failed: the last outcome"},
            "last_call_id": {"type": "string", "description": "failed: the last attempt"},
        },
    }
}

OPENAPI_PATHS = {
    "/api/callbacks": {
        "get": operation(
            "Pending callbacks and callbacks that failed after their last attempt",
            tag="calls",
            params=[
                query_param("status", "pending, failed or all (default)", {"type": "string"}),
                query_param("queue", "only this queue", {"type": "string"}),
                query_param("since", "failed ones: ISO 8601 time, inclusive", {"type": "string"}),
                query_param("until", "failed ones: ISO 8601 time, exclusive", {"type": "string"}),
                query_param("limit", "failed ones: at most this many", {"type": "integer"}),
            ],
            ok={
                "type": "object",
                "properties": {"callbacks": {"type": "array", "items": ref("Callback")}},
            },
            errors={400: "a query parameter is malformed (the message names it)"},
        )
    }
}
